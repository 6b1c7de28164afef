"""Vectorized backend benchmark (not part of the test suite).

    python benchmarks/bench_vectorized.py [--sizes 10000,100000,1000000] [--repeat 3]
    python benchmarks/bench_vectorized.py --evaluate [--rows 1000000] [--baseline /work/main]

For `four_type` and a generated 133-criteria model (60 numeric inputs, 3%
missing), at each size: the reference interpreter (10k records, per record,
extrapolated), the vectorized backend (summary table; evaluation only, the
input frame already in memory), and for the generated model a hand-written
Polars query of the same model (the floor), with the ratios. Peak memory of
one evaluation is measured in a fresh process (ru_maxrss growth over the
loaded input) and reported as a multiple of the input table's size.
Medians of --repeat runs.

`--evaluate`: `evaluate_dataset` of four_type on `--rows` synthetic
communities (the input frame already in memory), at each detail level (True,
"points" as `zhili eval` asks, False), each run in a fresh process, the
cases interleaved `--repeat` times: median wall and CPU time (process time,
less affected by a busy machine), the peak memory the evaluation adds
(VmHWM growth) and the table's size. With `--baseline PATH` (another zhili
source tree, e.g. the main checkout), the same runs of that tree's
`evaluate_dataset` in the same benchmark, the ratios to it, and whether both
full tables are identical bit for bit. The baseline's "points" row is its
`detail=True` (what `zhili eval` asked for before there were levels).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from genmodel import generate_model  # noqa: E402
from handwritten import handwritten_query  # noqa: E402
from timing import median_time  # noqa: E402

from zhili.dsl.checker import check  # noqa: E402
from zhili.dsl.parser import parse  # noqa: E402
from zhili.engine.eval.interpreter import compile_model  # noqa: E402
from zhili.engine.eval.vectorized import VectorModel, input_col  # noqa: E402
from zhili.engine.plugins import Registry  # noqa: E402


def synthetic_frame(model, n: int, seed: int = 0, missing: float = 0.03) -> pl.DataFrame:
    """A typed input frame for `model`, values within each input's range."""
    rng = np.random.default_rng(seed)
    cols = {}
    for f in model.inputs:
        lo = f.min if f.min is not None else 0.0
        if f.type == "bool":
            s = pl.Series(rng.random(n) < 0.8)
        elif f.type == "enum":
            s = pl.Series(np.array(f.values or [""])[rng.integers(0, max(len(f.values), 1), n)])
        elif f.type == "percent":
            hi = f.max if f.max is not None else 1.0
            lo2 = lo if f.min is not None else max(lo, hi - 0.5)
            s = pl.Series(lo2 + (hi - lo2) * (1 - rng.random(n) ** 2))
        elif f.type == "int":
            hi = f.max if f.max is not None else (lo + 50)
            s = pl.Series((lo + (hi - lo) * rng.random(n) ** 2).round().astype(np.int64))
        elif f.type == "number":
            hi = f.max if f.max is not None else lo + 50
            s = pl.Series(lo + (hi - lo) * rng.random(n))
        elif f.type == "date":
            s = pl.Series(np.full(n, np.datetime64("2020-01-01"))).cast(pl.Date)
        else:
            s = pl.Series(["x"] * n)
        mask = rng.random(n) < missing
        s = s.scatter(np.nonzero(mask)[0], None)
        cols[input_col(f.id)] = s
    return pl.DataFrame(cols)


MEMORY_PROBE = """
import sys, json, gc
sys.path.insert(0, {bench!r})
import polars as pl
from zhili.dsl.parser import parse
from zhili.dsl.checker import check
from zhili.engine.eval.vectorized import VectorModel
from handwritten import handwritten_query

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

text = open({model_path!r}, encoding="utf-8").read()
model = check(parse(text).tree, text).model
vm = VectorModel(model)
df = pl.read_parquet({data!r})
size = df.estimated_size()
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) to the current RSS
before = rss("VmRSS:")
if {which!r} == "vectorized":
    out = vm.evaluate(df, detail=False, keep=[])
else:
    out = handwritten_query(model, df.lazy()).collect()
peak = rss("VmHWM:")
print(json.dumps({{"input": size, "extra": peak - before}}))
"""


def peak_memory(model_text: str, frame: pl.DataFrame, which: str, tmp: Path) -> dict:
    model_path = tmp / "model.gov"
    model_path.write_text(model_text, encoding="utf-8")
    data = tmp / "data.parquet"
    frame.write_parquet(data)
    code = MEMORY_PROBE.format(
        bench=str(Path(__file__).parent), model_path=str(model_path), data=str(data), which=which
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


EVALUATE_PROBE = """
import gc, json, sys, time
if {tree!r}:
    sys.path.insert(0, {tree!r})  # a folder whose `zhili` is the baseline's source tree
import polars as pl
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.io.data import Dataset
from zhili.engine.plugins import Registry

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

reg = Registry()
model = reg.models["four_type"].model
ds = Dataset(file="bench", model=model).with_frame(pl.read_parquet({data!r}))
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) to the current RSS
before = rss("VmRSS:")
wall, cpu = time.perf_counter(), time.process_time()
ev = evaluate_dataset(model, ds, reg, detail={level!r})
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = rss("VmHWM:")
if {out!r}:
    ev.table.write_parquet({out!r})
print(json.dumps(dict(wall=wall, cpu=cpu, extra=peak - before, width=ev.table.width,
                      size=ev.table.estimated_size(), input=ds.frame.estimated_size())))
"""

LEVELS = (("True", True), ("points", "points"), ("False", False))


def _evaluate_once(tree: str, data: Path, level, out: str = "") -> dict:
    code = EVALUATE_PROBE.format(tree=tree, data=str(data), level=level, out=out)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_bits(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """Same columns, types and cells; floats compared by their bits (-0.0 is not 0.0)."""
    if a.schema != b.schema:
        return False
    floats = [c for c, t in a.schema.items() if t == pl.Float64]

    def bits(f: pl.DataFrame) -> pl.DataFrame:
        return f.with_columns(pl.col(c).reinterpret(signed=True) for c in floats)

    return bits(a).equals(bits(b))


def bench_evaluate(rows: int, repeat: int, baseline: str | None) -> None:
    """`--evaluate`: see the module docstring."""
    from statistics import median

    model = Registry().models["four_type"].model
    frame = synthetic_frame(model, rows, seed=2)
    frame = frame.with_columns(
        row=pl.int_range(2, rows + 2, dtype=pl.Int64),
        community_id=pl.format("S-{}", pl.int_range(1, rows + 1)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "frame.parquet"
        frame.write_parquet(data)
        trees = {"this": ""}
        if baseline:
            (Path(tmp) / "base").mkdir()
            (Path(tmp) / "base" / "zhili").symlink_to(Path(baseline).resolve())
            trees["baseline"] = str(Path(tmp) / "base")
        runs: dict[tuple[str, str], list[dict]] = {}
        for r in range(repeat):
            for name, level in LEVELS:
                for which, tree in trees.items():
                    # the baseline has no "points" level: its eval asked for everything
                    lv = True if which == "baseline" and level == "points" else level
                    out = str(Path(tmp) / f"{which}.parquet") if r == 0 and lv is True else ""
                    runs.setdefault((which, name), []).append(_evaluate_once(tree, data, lv, out))
        same = None
        if baseline:
            same = _same_bits(
                pl.read_parquet(Path(tmp) / "this.parquet"),
                pl.read_parquet(Path(tmp) / "baseline.parquet"),
            )
    size = runs["this", "True"][0]["input"]
    print(
        f"\nevaluate_dataset, four_type, {rows:,} communities (input frame {size / 1e6:.0f} MB),"
        f" a fresh process each, medians of {repeat}"
    )
    for name, _level in LEVELS:
        for which in trees:
            rs = runs[which, name]
            wall, cpu = median(x["wall"] for x in rs), median(x["cpu"] for x in rs)
            extra = median(x["extra"] for x in rs)
            line = (
                f"  detail={name:6s} {which:8s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak adds "
                f"{extra / 1e6:6.0f} MB ({extra / size:4.2f}x input)  table {rs[0]['width']:3d} "
                f"columns, {rs[0]['size'] / 1e6:5.0f} MB"
            )
            if which == "baseline":
                this = runs["this", name]
                line += (
                    f"\n  {'':13s} this / baseline: wall "
                    f"{median(x['wall'] for x in this) / wall:4.2f}x, cpu "
                    f"{median(x['cpu'] for x in this) / cpu:4.2f}x, peak "
                    f"{median(x['extra'] for x in this) / max(extra, 1):4.2f}x"
                )
            print(line)
    if same is not None:
        print(f"  full tables (detail=True) identical to the baseline's, bit for bit: {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--evaluate", action="store_true", help="evaluate_dataset by detail level")
    ap.add_argument("--rows", type=int, default=1_000_000, help="--evaluate: communities")
    ap.add_argument("--baseline", help="--evaluate: also this zhili source tree (e.g. /work/main)")
    args = ap.parse_args()
    if args.evaluate:
        bench_evaluate(args.rows, args.repeat, args.baseline)
        return
    sizes = [int(x) for x in args.sizes.split(",")]

    reg = Registry()
    four = reg.models["four_type"]
    gen_text = generate_model()
    gen = check(parse(gen_text, "bench133.gov").tree, gen_text).model
    models = [("four_type", four.model, four.source), ("generated-133", gen, gen_text)]
    print(
        f"polars {pl.__version__}, threads {pl.thread_pool_size()}; medians of {args.repeat} runs"
    )
    for name, model, text in models:
        vm = VectorModel(model)
        compiled = compile_model(model)
        # reference interpreter on 10k records, per record
        small = synthetic_frame(model, 10_000, seed=1)
        records = [{k[3:]: v for k, v in row.items()} for row in small.iter_rows(named=True)]
        t_ref = median_time(
            lambda c=compiled, rs=records: [c.evaluate(r) for r in rs], args.repeat
        ) / len(records)
        print(f"\n{name}: {len(model.indicators)} indicators, {len(model.inputs)} inputs")
        print(f"  reference interpreter: {t_ref * 1e6:8.1f} µs/record (10k records)")
        for n in sizes:
            frame = synthetic_frame(model, n, seed=2)
            t_vec = median_time(
                lambda v=vm, f=frame: v.evaluate(f, detail=False, keep=[]), args.repeat
            )
            line = (
                f"  {n:>9,} records  vectorized {t_vec:7.3f} s ({t_vec / n * 1e6:6.2f} µs/record, "
                f"{t_ref * n / t_vec:6.0f}x the interpreter)"
            )
            if name == "generated-133":
                t_floor = median_time(
                    lambda m=model, f=frame: handwritten_query(m, f.lazy()).collect(), args.repeat
                )
                line += f"  hand-written Polars {t_floor:7.3f} s  ratio {t_vec / t_floor:4.2f}"
            print(line)
            if not args.no_memory and n == sizes[-1]:
                with tempfile.TemporaryDirectory() as tmp:
                    mem = peak_memory(text, frame, "vectorized", Path(tmp))
                    msg = (
                        f"  peak memory at {n:,}: input {mem['input'] / 1e6:7.1f} MB, evaluation's peak adds "
                        f"{mem['extra'] / 1e6:7.1f} MB ({mem['extra'] / mem['input']:.2f}x input)"
                    )
                    if name == "generated-133":
                        floor = peak_memory(text, frame, "handwritten", Path(tmp))
                        msg += f"; hand-written adds {floor['extra'] / 1e6:7.1f} MB"
                    print(msg)


if __name__ == "__main__":
    main()
