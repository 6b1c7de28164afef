"""Benchmark: `zhili check` over 100 model files (target: < 2 s).

    python benchmarks/bench_check.py [--files 100] [--repeat 5]

Generates FILES model files into a temporary folder: copies of the built-in
models (renamed, each a ~50-indicator model), district models that `extend`
one of them with overrides, a library and models importing it. Runs the
installed `zhili check FOLDER` command (a new process each time, so start-up
and plugin loading are included) and prints the median wall and CPU time.
Profile (2026-11): about half of it is parsing (Lark LALR), a quarter
checking, a quarter start-up; checking files in parallel processes did not
pay on two cores, and unpickling cached syntax trees saves little.

It first times `zhili check` of one model with and without the per-user
grammar cache (`zhili.dsl.grammar_cache`), the cost of start-up either way.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZHILI = Path(sys.executable).with_name("zhili")

LIBRARY = """\
library shared "共享口径"
input population: int label "常住人口" range 0..200000
input workers: int label "社区工作者人数" range 0..500
let workers_per_10k "每万人社区工作者数" = per_10k(workers, population)
"""

IMPORTING = """\
import "shared.gov"

model imp_{n} "引用共享口径 {n}"
version "1"
issuer "测试"
source "测试"

indicator staff "社区工作者配备" points 10 {{
    linear workers_per_10k from 9 to 18
}}

grades {{
    "达标" when total >= 6
    "未达标" otherwise
}}
"""

EXTENDING = """\
model ext_{n} "区模型 {n}" extends {base}

version "1"
override grid_branches points 1 tiers grid_branch_coverage {{
    >= 100% : 1
    >= 80% : 0.5
}}
dimension safe_grid {{
    indicator extra_{n} "特色" points 1 {{
        pass when grid_merged
    }}
}}
"""


def generate(folder: Path, files: int) -> None:
    base_models = {}
    for p in sorted((ROOT / "plugins").glob("*/model.gov")):
        text = p.read_text(encoding="utf-8")
        if not re.search(r"^model \w+ .*extends", text, re.M):
            base_models[p.parent.name] = text
    (folder / "shared.gov").write_text(LIBRARY, encoding="utf-8")
    written = 1
    n = 0
    while written < files:
        n += 1
        kind = n % 4
        if kind == 0:
            (folder / f"imp_{n}.gov").write_text(IMPORTING.format(n=n), encoding="utf-8")
        elif kind == 1:
            (folder / f"ext_{n}.gov").write_text(
                EXTENDING.format(n=n, base="four_type"), encoding="utf-8"
            )
        else:
            text = list(base_models.values())[n % len(base_models)]
            text = re.sub(r"^model (\w+)", rf"model \1_copy{n}", text, count=1, flags=re.M)
            (folder / f"copy_{n}.gov").write_text(text, encoding="utf-8")
        written += 1


def _run_cpu(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        raise SystemExit(f"{' '.join(argv)} failed")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def startup(repeat: int) -> None:
    """`zhili check` of one model, with the per-user grammar cache and without
    it (the parser tables built in every process), side by side."""
    import os

    model = str(ROOT / "plugins" / "four_type" / "model.gov")
    argv = [str(ZHILI), "check", model]
    plain = dict(os.environ)
    plain.pop("ZHILI_NO_GRAMMAR_CACHE", None)
    _run_cpu(argv, plain)  # fills the cache
    rows = {}
    for name, env in (("cached", plain), ("no cache", {**plain, "ZHILI_NO_GRAMMAR_CACHE": "1"})):
        runs = [_run_cpu(argv, env) for _ in range(repeat)]
        rows[name] = (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
    for name, (wall, cpu) in rows.items():
        print(
            f"zhili check four_type, start-up {name:>8}: median {wall:.3f} s wall, {cpu:.3f} s CPU"
        )
    ratio = rows["no cache"][1] / rows["cached"][1]
    print(f"  without the cache: {ratio:.2f}× the CPU time ({repeat} runs each)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    startup(args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "models"
        folder.mkdir()
        generate(folder, args.files)
        count = len(list(folder.glob("*.gov")))
        lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.gov"))
        times = []
        cpu = []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            proc = subprocess.run(
                [str(ZHILI), "check", str(folder)], capture_output=True, text=True, check=False
            )
            times.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if proc.returncode != 0:
                print(proc.stdout[-2000:], proc.stderr[-2000:])
                raise SystemExit("zhili check found problems in the generated files")
        print(
            f"zhili check: {count} files ({lines} lines): median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}, {args.repeat} runs); "
            f"CPU time median {statistics.median(cpu):.2f} s (wall time includes waiting "
            "for a busy machine's CPUs)"
        )


if __name__ == "__main__":
    main()
