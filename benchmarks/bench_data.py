"""Data in, runs kept: benchmarks (not part of the test suite).

    python benchmarks/bench_data.py [--rows 100000] [--repeat 3]

Writes `--rows` synthetic four_type communities with `zhili sample` (CSV),
copies them into an .xlsx workbook (openpyxl, write-only), then prints the
median of `--repeat` runs of:
- reading the CSV and the XLSX into text cells (`data.read_raw`; the XLSX
  through calamine/fastexcel), and converting them (`data.convert_table`);
- evaluating (vectorized, with indicator detail);
- recording the run in a fresh SQLite run store (one transaction);
- building and writing the HTML and XLSX reports (gap search off).

With `--percent`, also a workbook of 20 columns (the ids, the 13 percent
inputs and 5 more) whose percent cells are numbers formatted `0.0%`, as
Excel stores a typed 85%: reading it looks at every cell's format.
"""

from __future__ import annotations

import argparse
import csv
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reports", action="store_true", help="also time the reports")
    ap.add_argument("--percent", action="store_true", help="also a percent-formatted workbook")
    args = ap.parse_args()
    reg = Registry()
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
