"""Data in, runs kept: benchmarks (not part of the test suite).

    python benchmarks/bench_data.py [--rows 100000] [--repeat 3]
    python benchmarks/bench_data.py --e2e --rows 1000000 [--csv data.csv]
        [--no-record-case] [--other-zhili /path/to/an/older/zhili]
        [--parquet-input] [--xlsx data.xlsx]
    python benchmarks/bench_data.py --batches --csv data.csv [--repeat 3]

`--batches`: `data.load` of the CSV read whole and in row batches
(`formats.BATCH_BYTES`), each in its own process: wall time, CPU time and
peak memory side by side.

`--e2e` is what a user waits for (DESIGN.md, "Targets"), side by side in one
run, each in its own process, the cases interleaved `--repeat` times:
Polars reading the CSV and writing Parquet (the floor), and
`zhili eval four_type DATA -o out.parquet` with the run recorded in a fresh
run store (and, with `--no-record-case`, without; with `--other-zhili`, the
same command of another zhili, e.g. the main checkout's, for a before/after).
It prints each case's median wall time, its ratio to the Polars median and
its peak memory (the process's max RSS) as a multiple of the CSV's size.
`--csv` reuses a CSV written before (writing 1M rows takes minutes).
`--parquet-input` adds the same eval of the CSV saved as typed Parquet;
`--xlsx` adds calamine's own read of that workbook (fastexcel, every cell)
and `zhili eval` of it. The ratios are all to the first case's median.

Without `--e2e`:

Writes `--rows` synthetic four_type communities with `zhili sample` (CSV),
copies them into an .xlsx workbook (openpyxl, write-only), then prints the
median of `--repeat` runs of:
- reading the CSV and the XLSX into text cells (`data.read_raw`; the XLSX
  through calamine/fastexcel), and converting them (`data.convert_table`);
- evaluating (vectorized, with indicator detail);
- recording the run in a fresh SQLite run store (one transaction);
- building and writing the HTML and XLSX reports (gap search off).

`--write-record` (with `--csv`, or a new sample of `--rows`) times only what
follows the evaluation of `eval DATA -o out.parquet`, in one process, medians
of `--repeat` with the process's CPU time beside the wall time: writing the
output Parquet, recording the run, and both as `eval` did before (one after
the other, a run store of 4 KB pages: the baseline) and as it does now (the
run's parts built in a thread while the output is written, 16 KB pages);
ratios to the baseline.

With `--percent`, also a workbook of 20 columns (the ids, the 13 percent
inputs and 5 more) whose percent cells are numbers formatted `0.0%`, as
Excel stores a typed 85%: reading it looks at every cell's format.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.io import data as data_mod
from zhili.engine.plugins import Registry
from zhili.engine.report.build import build_report, write_report
from zhili.engine.runs.store import RunStore
from zhili.engine.sample import write_sample

sys.path.insert(0, str(Path(__file__).parent))
from timing import median_time  # noqa: E402

POLARS = "import sys, polars as pl; pl.read_csv(sys.argv[1]).write_parquet(sys.argv[2])"
# calamine's own read of a workbook's first sheet (through fastexcel), every cell
CALAMINE = (
    "import sys, fastexcel; "
    "fastexcel.read_excel(sys.argv[1]).load_sheet(0, header_row=None).to_polars()"
)


# GNU time: a child's peak RSS as Linux reports it to its parent starts at
# the parent's own at the fork (this process holds a gigabyte after writing
# the typed Parquet input), so each case runs under a small process of its own
GNU_TIME = "/usr/bin/time"


def _run(cmd: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) and CPU seconds (user + system) of
    one process; it must succeed."""
    env = {**os.environ, "ZHILI_NO_PROGRESS": "1"}
    timed = os.access(GNU_TIME, os.X_OK)
    if timed:
        cmd = [GNU_TIME, "-f", "zhili-bench-peak-kb %M", *cmd]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{err}")
    peak = usage.ru_maxrss  # Linux: kilobytes
    if timed:
        marks = [ln for ln in err.splitlines() if ln.startswith("zhili-bench-peak-kb ")]
        peak = int(marks[-1].split()[1]) if marks else peak
    return elapsed, peak * 1024, usage.ru_utime + usage.ru_stime


LOAD = (
    "import sys, resource; from pathlib import Path; "
    "from zhili.engine.plugins import Registry; from zhili.engine.io.data import load; "
    "m = Registry().get('four_type').model; "
    "ds = load(Path(sys.argv[1]), m, batch_bytes=int(sys.argv[2])); "
    "r = resource.getrusage(resource.RUSAGE_SELF); print(r.ru_utime + r.ru_stime)"
)


def batches(csv_path: Path, repeat: int) -> None:
    """`data.load` of the CSV read whole and in batches (the default size),
    each in its own process, interleaved: wall, CPU and peak memory."""
    from zhili.engine.io.formats import BATCH_BYTES

    cases = {"whole": 10**15, f"batches of {BATCH_BYTES // 2**20} MB": BATCH_BYTES}
    times: dict[str, list[float]] = {k: [] for k in cases}
    cpus: dict[str, list[float]] = {k: [] for k in cases}
    peaks: dict[str, list[int]] = {k: [] for k in cases}
    for _ in range(repeat):
        for name, size in cases.items():
            cmd = [sys.executable, "-c", LOAD, str(csv_path), str(size)]
            env = {**os.environ, "ZHILI_NO_PROGRESS": "1"}
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
            _pid, status, usage = os.wait4(proc.pid, 0)
            times[name].append(time.perf_counter() - t)
            cpus[name].append(float(proc.stdout.read()))
            proc.stdout.close()
            peaks[name].append(usage.ru_maxrss * 1024)
    size = csv_path.stat().st_size
    base = statistics.median(times["whole"])
    print(f"load {csv_path.name} ({size / 1e6:.0f} MB), medians of {repeat}:")
    for name in cases:
        med = statistics.median(times[name])
        print(
            f"  {name}: {med:.1f} s = {med / base:.2f}× whole; CPU "
            f"{statistics.median(cpus[name]):.1f} s; peak {max(peaks[name]) / 1e6:.0f} MB "
            f"= {max(peaks[name]) / size:.2f}× the CSV"
        )


def end_to_end(
    csv_path: Path,
    tmp: Path,
    repeat: int,
    no_record: bool,
    other: str | None,
    xlsx: Path | None = None,
    parquet: Path | None = None,
) -> None:
    """The end-to-end cases side by side (see the module's docstring)."""
    zhili = shutil.which("zhili", path=str(Path(sys.executable).parent)) or "zhili"
    out = tmp / "out.parquet"

    def eval_cmd(exe: str, record: bool, data: Path | None = None) -> list[str]:
        db = tmp / f"runs-{time.perf_counter_ns()}.sqlite"
        cmd = [exe, "eval", "four_type", str(data or csv_path), "-o", str(out)]
        return cmd + (["--db", str(db)] if record else ["--no-record"])

    cases: dict[str, object] = {
        "polars read_csv → write_parquet": lambda: [
            sys.executable,
            "-c",
            POLARS,
            str(csv_path),
            str(out),
        ],
        "zhili eval -o out.parquet, recorded": lambda: eval_cmd(zhili, True),
    }
    if no_record:
        cases["zhili eval -o out.parquet, --no-record"] = lambda: eval_cmd(zhili, False)
    if other:
        cases[f"{other} eval, recorded"] = lambda: eval_cmd(other, True)
    if parquet is not None:
        cases["zhili eval typed Parquet input, recorded"] = lambda: eval_cmd(zhili, True, parquet)
        if other:
            cases[f"{other} eval typed Parquet input, recorded"] = lambda: eval_cmd(
                other, True, parquet
            )
    if xlsx is not None:
        cases["calamine (fastexcel) read of the xlsx"] = lambda: [
            sys.executable,
            "-c",
            CALAMINE,
            str(xlsx),
        ]
        cases["zhili eval xlsx, recorded"] = lambda: eval_cmd(zhili, True, xlsx)
    times: dict[str, list[float]] = {k: [] for k in cases}
    peaks: dict[str, list[int]] = {k: [] for k in cases}
    cpus: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):
        for name, cmd in cases.items():
            t, rss, cpu = _run(cmd())
            times[name].append(t)
            peaks[name].append(rss)
            cpus[name].append(cpu)
            for f in tmp.glob("runs-*.sqlite*"):
                f.unlink()
    size = csv_path.stat().st_size
    floor = statistics.median(times[next(iter(cases))])
    print(f"end to end, {csv_path.name} ({size / 1e6:.0f} MB), medians of {repeat}, one run:")
    for name in cases:
        med = statistics.median(times[name])
        peak = max(peaks[name])
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        print(
            f"  {name}: {med:.1f} s ({runs}) = {med / floor:.2f}× Polars; "
            f"CPU {statistics.median(cpus[name]):.1f} s; "
            f"peak {peak / 1e6:.0f} MB = {peak / size:.2f}× the CSV "
            f"(median {statistics.median(peaks[name]) / 1e6:.0f} MB)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reports", action="store_true", help="also time the reports")
    ap.add_argument("--e2e", action="store_true", help="only the end-to-end cases")
    ap.add_argument("--csv", type=Path, help="--e2e: this CSV instead of a new sample")
    ap.add_argument("--no-record-case", action="store_true", help="--e2e: also --no-record")
    ap.add_argument("--other-zhili", help="--e2e: also this zhili executable")
    ap.add_argument(
        "--xlsx", type=Path, help="--e2e: also calamine's read of this workbook, and eval of it"
    )
    ap.add_argument(
        "--parquet-input", action="store_true", help="--e2e: also eval of the CSV as typed Parquet"
    )
    ap.add_argument("--percent", action="store_true", help="also a percent-formatted workbook")
    ap.add_argument("--batches", action="store_true", help="only: load --csv whole and in batches")
    ap.add_argument(
        "--write-record", action="store_true", help="only writing the output and recording"
    )
    args = ap.parse_args()
    reg = Registry()
    if args.batches:
        if args.csv is None:
            raise SystemExit("--batches needs --csv FILE")
        batches(args.csv.resolve(), args.repeat)
        return

    def given_csv(tmp: str) -> Path:  # --csv, or a new sample of --rows
        if args.csv is not None:
            return args.csv
        path = Path(tmp) / "data.csv"
        write_sample(reg.get("four_type").model, path, args.rows, 7, 0.03)
        return path

    if args.write_record:
        with tempfile.TemporaryDirectory() as tmp:
            write_and_record(reg, given_csv(tmp).resolve(), Path(tmp), args.repeat)
        return
    if args.e2e:
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = given_csv(tmp)
            parquet = None
            if args.parquet_input:  # the CSV as Polars types it: numbers, text, booleans
                import polars as pl

                parquet = Path(tmp) / "typed.parquet"
                pl.read_csv(csv_path).write_parquet(parquet)
            end_to_end(
                csv_path.resolve(),
                Path(tmp),
                args.repeat,
                args.no_record_case,
                args.other_zhili,
                args.xlsx.resolve() if args.xlsx else None,
                parquet,
            )
        return
    lm = reg.get("four_type")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "data.csv"
        write_sample(lm.model, csv_path, args.rows, 7, 0.03)
        xlsx_path = tmp / "data.xlsx"
        t = time.perf_counter()
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("数据")
        ws.append(["四型社区考核数据（合成）"])
        with csv_path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.reader(f):
                ws.append(row)
        wb.save(xlsx_path)
        print(
            f"(writing the {args.rows:,}-row xlsx with openpyxl: {time.perf_counter() - t:.1f} s)"
        )
        print(f"{args.rows:,} communities, {len(lm.model.inputs)} inputs, four_type")
        paths = [("CSV ", csv_path), ("XLSX", xlsx_path)]
        if args.percent:
            pct_path = tmp / "percent.xlsx"
            _percent_workbook(lm.model, csv_path, pct_path)
            paths.append(("XLSX 20 columns, 0.0% cells", pct_path))
        for name, path in paths:
            t_read = median_time(lambda p=path: data_mod.read_raw(p, model=lm.model), args.repeat)
            raw = data_mod.read_raw(path, model=lm.model)
            t_conv = median_time(lambda r=raw: data_mod.convert_table(r, lm.model), args.repeat)
            print(f"{name}: read {t_read:.2f} s + convert {t_conv:.2f} s")
        ds = data_mod.load(csv_path, lm.model)
        ev = evaluate_dataset(lm.model, ds, reg, detail=True)
        t_eval = median_time(lambda: evaluate_dataset(lm.model, ds, reg, detail=True), args.repeat)
        print(f"evaluate (vectorized, detail): {t_eval:.2f} s")

        def record():
            db = tmp / f"runs-{time.perf_counter_ns()}.sqlite"
            with RunStore(db) as store:
                store.record(ev, command="eval", data_path=csv_path)

        t_rec = median_time(record, args.repeat)
        print(f"record the run ({args.rows:,} communities): {t_rec:.2f} s")
        if args.reports:
            for fmt in ("html", "xlsx"):
                out = tmp / f"report.{fmt}"
                t_rep = median_time(
                    lambda out=out: write_report(build_report(ev, gap_limit=0), out), 1
                )
                print(f"report .{fmt}: {t_rep:.1f} s ({out.stat().st_size / 1e6:.1f} MB)")


def _timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall and median CPU seconds (this process, all threads) of
    `repeat` calls of `fn`."""
    walls, cpus = [], []
    for _ in range(repeat):
        c, t = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def write_and_record(reg, csv_path: Path, tmp: Path, repeat: int) -> None:
    """The `--write-record` cases (see the module's docstring)."""
    import resource
    import sqlite3

    from zhili.cli.output import output_table, write_parquet
    from zhili.engine.runs.record import PendingRun

    lm = reg.get("four_type")
    ds = data_mod.load(csv_path, lm.model)
    ev = evaluate_dataset(lm.model, ds, reg, detail=True)
    out = str(tmp / "out.parquet")

    def store(page_size: int | None = None) -> RunStore:
        db = tmp / f"runs-{time.perf_counter_ns()}.sqlite"
        if page_size is not None:  # a file made as before (SQLite's default pages)
            conn = sqlite3.connect(db)
            conn.execute(f"PRAGMA page_size = {page_size}")
            conn.execute("CREATE TABLE made (x)")  # the page size is set by the first write
            conn.close()
        return RunStore(db)

    def write():
        write_parquet(output_table(ev, False), out)

    def record(page_size=None):
        with store(page_size) as s:
            s.record(ev, command="eval", data_path=csv_path)

    def before():  # as `eval` did: write, then build the parts and record
        write()
        record(4096)

    def now():  # as `eval` does: the parts built while the output is written
        pending = PendingRun(ev, "eval", {})
        write()
        with store() as s:
            s.record(ev, command="eval", data_path=csv_path, prepared=pending.take())

    cases = {
        "write the output Parquet": write,
        "record the run (4 KB pages)": lambda: record(4096),
        "record the run": record,
        "write + record, as before (baseline)": before,
        "write + record, now (parts built while writing)": now,
    }
    print(
        f"{ev.table.height:,} communities, {ev.table.width} result columns, "
        f"medians of {repeat}, one process (wall / CPU):"
    )
    results = {}
    for name, fn in cases.items():
        results[name] = _timed(fn, repeat)
        for f in tmp.glob("runs-*.sqlite*"):
            f.unlink()
    base = results["write + record, as before (baseline)"]
    for name, (wall, cpu) in results.items():
        print(
            f"  {name}: {wall:.2f} s wall ({wall / base[0]:.2f}× baseline), "
            f"{cpu:.2f} s CPU ({cpu / base[1]:.2f}×)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  peak memory of the process: {peak / 1e6:.0f} MB")


def _percent_workbook(model, csv_path: Path, out: Path) -> None:
    """The CSV's id and name, its percent inputs and the first other inputs
    (20 columns), percent cells as numbers formatted `0.0%`."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    from zhili.engine.report.template import header

    percent = [f for f in model.inputs if f.type == "percent"]
    other = [f for f in model.inputs if f.type != "percent"][: 18 - len(percent)]
    labels = {(f.label or f.id): f for f in [*percent, *other]}
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        head = next(rows)
        keep = [0, 3] + [j for j, h in enumerate(head) if h in labels]
        ws.append(["社区编码", "社区"] + [header(labels[head[j]]) for j in keep[2:]])
        for row in rows:
            cells = []
            for j in keep:
                v = row[j]
                if v.endswith("%"):
                    c = WriteOnlyCell(ws, value=float(v[:-1]) / 100)
                    c.number_format = "0.0%"
                    cells.append(c)
                else:
                    cells.append(v)
            ws.append(cells)
    wb.save(out)


if __name__ == "__main__":
    main()
