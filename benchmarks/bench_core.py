"""Benchmarks of the core (not part of the test suite).

    python benchmarks/bench_core.py [--rows 10000] [--repeat 3]

Prints medians of `--repeat` runs:
- the reference interpreter's time per record on `four_type` sample data
  generated with `zhili sample`, and on a generated 133-criteria model;
  also per record with the full explained result (`to_result()`);
- `zhili test`-style case throughput (1,000 cases);
- check time (parse + check) of each built-in model and of the 133-criteria
  model, in process, and the wall time of the `zhili check plugins/` command.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zhili.dsl.checker import check
from zhili.dsl.parser import lark_parser, parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.io import data as data_mod
from zhili.engine.plugins import Registry
from zhili.engine.sample import write_sample

sys.path.insert(0, str(Path(__file__).parent))
from genmodel import generate_model  # noqa: E402
from timing import median_time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def bench_interpreter(name: str, model, path: Path, rows: int, repeat: int) -> None:
    write_sample(model, path, rows, seed=1)
    ds = data_mod.load(path, model)
    compiled = compile_model(model)
    records = list(zip(ds.records, ds.meta, strict=True))

    def run():
        ev = compiled.evaluate
        for rec, meta in records:
            ev(rec, meta)

    t = median_time(run, repeat)
    n_full = min(1000, rows)

    def run_full():
        ev = compiled.evaluate
        for rec, meta in records[:n_full]:
            ev(rec, meta).to_result()

    tf = median_time(run_full, repeat)
    print(
        f"interpreter  {name:<22} {len(model.indicators):>4} indicators  {rows:>7} records  "
        f"{t:7.3f} s  {t / rows * 1e6:8.1f} µs/record   with full result: {tf / n_full * 1e6:8.1f} µs/record"
    )


def bench_check(name: str, text: str, repeat: int) -> None:
    def run():
        r = parse(text, name)
        check(r.tree, text)

    t = median_time(run, max(repeat, 5))
    print(f"check        {name:<22} {len(text):>7} chars  {t * 1000:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t = time.perf_counter()
    lark_parser()
    print(f"grammar load (once per process): {(time.perf_counter() - t) * 1000:.1f} ms")
    reg = Registry()
    gen_text = generate_model()
    gen = check(parse(gen_text, "bench133.gov").tree, gen_text).model
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bench_interpreter(
            "four_type", reg.models["four_type"].model, tmp / "four.csv", args.rows, args.repeat
        )
        bench_interpreter("generated-133", gen, tmp / "gen.csv", args.rows, args.repeat)

        # zhili test throughput: 1,000 given-record cases
        from zhili.engine.testing import run_cases

        lm = reg.models["four_type"]
        cases = [c for c in lm.tests if c.given is not None]
        many = (cases * (1000 // max(len(cases), 1) + 1))[:1000]
        compiled = compile_model(lm.model)
        tt = median_time(lambda: run_cases(many, compiled), args.repeat)
        print(f"zhili test   four_type 1,000 cases            {tt * 1000:7.1f} ms")

    for mid in sorted(reg.models):
        bench_check(mid, reg.models[mid].source, args.repeat)
    bench_check("generated-133", gen_text, args.repeat)

    exe = Path(sys.executable).with_name("zhili")
    cmd = [str(exe), "check", str(ROOT / "plugins")]
    wall = median_time(lambda: subprocess.run(cmd, capture_output=True, check=False), args.repeat)
    print(f"command      zhili check plugins/ (wall, incl. start-up)   {wall * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
