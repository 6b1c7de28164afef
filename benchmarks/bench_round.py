"""Benchmark: an assessment round of a province — 3,000 communities in 300
street workbooks of the built-in `four_type` model (66 inputs).

    python benchmarks/bench_round.py [--units 300] [--per 10] [--repeat 3]

Times, as medians of REPEAT runs: writing the 300 forms (`template
--roster --by 街道`), reading the folder of 300 filled returns with
completeness (`eval --roster`'s reading, evaluation aside), and writing the
feedback (a commented copy of every return with a problem, and the summary:
every fifth return holds a bad value, and some of the sample rows leave a
required cell empty, so most returns get a copy: the slow case). The returns are filled once, untimed, with openpyxl the
way Excel stores typed values (percent cells as fractions with a percent
format), from the model's bundled sample rows.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

from timing import median_time

from zhili.engine.plugins import Registry
from zhili.engine.round.feedback import write_feedback
from zhili.engine.round.forms import write_forms
from zhili.engine.round.returns import read_returns
from zhili.engine.round.roster import Community, Roster

ROOT = Path(__file__).resolve().parent.parent


def _roster(units: int, per: int) -> Roster:
    communities = [
        Community(f"{u:03d}{k:02d}", f"第{u // 30 + 1}区", f"第{u + 1}街道", f"社区{u}-{k}")
        for u in range(units)
        for k in range(per)
    ]
    return Roster("roster.csv", communities)


def _sample_rows(model) -> list[dict[str, str]]:
    with open(ROOT / "plugins" / "four_type" / "sample.csv", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _cell_value(f, text: str):
    if text == "":
        return None, None
    if f.type == "percent":
        return float(text.rstrip("%")) / 100, "0.0%"
    if f.type in ("int", "number"):
        return (int(text) if f.type == "int" else float(text)), None
    return text, None


def _fill_returns(forms, model, returns: Path) -> None:
    from openpyxl import load_workbook

    from zhili.engine.report.template import header

    rows = _sample_rows(model)
    labels = [(f, f.label or f.id) for f in model.inputs]
    for i, form in enumerate(forms):
        wb = load_workbook(form.path)
        ws = wb["数据"]
        columns = {str(c.value): c.column for c in ws[1] if c.value}
        for k in range(len(form.communities)):
            sample = rows[(i + k) % len(rows)]
            for f, label in labels:
                value, fmt = _cell_value(f, sample.get(label, ""))
                cell = ws.cell(row=2 + k, column=columns[header(f)])
                cell.value = value
                if fmt:
                    cell.number_format = fmt
        if i % 5 == 0:  # a bad value: feedback sends this one back
            ws.cell(row=2, column=columns[header(model.inputs[0])]).value = "约一万"
        wb.save(returns / form.path.name)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--per", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    model = Registry(extra_dirs=[]).get("four_type").model
    roster = _roster(args.units, args.per)
    n = len(roster.communities)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        forms_dir, returns, out = tmp_path / "forms", tmp_path / "returns", tmp_path / "fb"
        returns.mkdir()
        t_forms = median_time(lambda: write_forms(model, roster, "街道", forms_dir), args.repeat)
        forms = write_forms(model, roster, "街道", forms_dir)
        t = time.perf_counter()
        _fill_returns(forms, model, returns)
        t_fill = time.perf_counter() - t
        result = {}

        def read():
            result["rd"] = read_returns(returns, model, roster)

        t_read = median_time(read, args.repeat)
        rd = result["rd"]
        assert len(rd.reported) == n, (len(rd.reported), n)
        t_feedback = median_time(lambda: write_feedback(rd, model, out), args.repeat)
        copies = len(list(out.glob("*.xlsx"))) - 1
    print(
        f"round: {n:,} communities in {len(forms)} workbooks of {model.id} ({len(model.inputs)} inputs)"
    )
    print(
        f"  template --roster (write the forms)   {t_forms:7.2f} s  ({t_forms / len(forms) * 1000:.0f} ms a form)"
    )
    print(f"  filling the returns (setup, untimed)  {t_fill:7.2f} s")
    print(
        f"  reading the returns, completeness     {t_read:7.2f} s  ({t_read / len(forms) * 1000:.0f} ms a return)"
    )
    print(f"  feedback ({copies} copies + summary)     {t_feedback:7.2f} s")
    print(f"  medians of {args.repeat} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
