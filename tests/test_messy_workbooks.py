"""Workbooks as district offices make them (issue 13 item 7), written with
openpyxl: merged title rows, a 合计 row, a hidden sheet, percent formats,
numbers stored as text with full-width digits, trailing spaces in headers,
a header over two rows (groups above, or units below), dates as 考核期.
Each is read through the real reader and CLI with its expected outcome."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from tests.cli_helpers import zhili
from zhili.engine.io.data import load
from zhili.engine.io.excel import read_excel

MODEL = Path(__file__).parent / "data_cases" / "csvread_model.gov"
HEADER = ["社区编码", "社区", "街道", "常住人口", "调解成功率", "是否实现多网合一"]
ROWS = [
    ["JT-001", "长青社区", "群众路街道", 9017, 0.977, "是"],
    ["JT-002", "新福社区", "群众路街道", "１０３０２", "85%", "否"],  # text, full-width digits
    ["JT-003", "福臻社区", "东风路街道", "8,283 ", 0.953, "是"],
]


def _percent(ws, first_row: int) -> None:
    for row in ws.iter_rows(min_row=first_row):
        if isinstance(row[4].value, float):
            row[4].number_format = "0.0%"


def _model():
    from zhili.dsl.checker import check
    from zhili.dsl.parser import parse

    text = MODEL.read_text(encoding="utf-8")
    return check(parse(text).tree, text).model


def _eval(path: Path) -> dict:
    import json

    result = zhili("eval", MODEL, path, "--no-record", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_district_workbook_with_title_totals_hidden_sheet_and_formats(tmp_path):
    path = tmp_path / "金台区.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["2026年度社区治理考核数据汇总表"])
    ws.merge_cells("A1:F1")
    ws.append(["填报单位：金台区", None, None, None, "填报日期：2026-11-30"])
    ws.merge_cells("A2:C2")
    ws.append([h + " " for h in HEADER])  # trailing spaces
    for r in ROWS:
        ws.append(r)
    ws.append(["合  计", None, None, 27602, None, None])
    _percent(ws, 4)
    old = wb.create_sheet("旧数据")
    old.append(HEADER)
    old.append(["JT-009", "旧社区", "x", 1, "1%", "否"])
    old.sheet_state = "hidden"
    wb.save(path)
    table = read_excel(path)
    assert table.lines == [4, 5, 6]
    assert [(p.code, p.row) for p in table.problems] == [
        ("data-totals-row", 7),
        ("data-other-sheets", None),
    ]
    frame = load(path, _model()).frame
    assert frame.get_column("in.population").to_list() == [9017, 10302, 8283]
    assert frame.get_column("in.rate").to_list() == [0.977, 0.85, 0.953]
    assert [c["community_id"] for c in _eval(path)["communities"]] == ["JT-001", "JT-002", "JT-003"]


def test_a_header_with_group_cells_above_it(tmp_path):
    path = tmp_path / "groups.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["基本信息", None, None, "考核指标", None, None])
    ws.merge_cells("A1:C1")
    ws.merge_cells("D1:F1")
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    _percent(ws, 3)
    wb.save(path)
    table = read_excel(path)
    assert table.headers == HEADER and table.lines == [3, 4, 5]


def test_a_header_with_its_units_in_the_row_below(tmp_path):
    """The row of units was a community `#2` scored 0 with every input missing."""
    path = tmp_path / "units.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([None, None, None, "（人）", "(%)", None])
    for r in ROWS:
        ws.append(r)
    _percent(ws, 3)
    wb.save(path)
    table = read_excel(path)
    assert table.lines == [3, 4, 5]
    [p] = table.problems
    assert (p.code, p.row, p.raw, p.sheet) == ("data-units-row", 2, "（人）", "Sheet")
    assert [c["community_id"] for c in _eval(path)["communities"]] == ["JT-001", "JT-002", "JT-003"]


def test_dates_as_the_period_read_as_excel_shows_them(tmp_path):
    path = tmp_path / "periods.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["社区编码", "社区", "考核期", *HEADER[3:]])
    ws.append(["JT-001", "长青社区", dt.datetime(2024, 12, 31), 9000, "90%", "是"])
    ws.append(["JT-001", "长青社区", dt.datetime(2025, 12, 31), 9017, "97.7%", "是"])
    wb.save(path)
    assert read_excel(path).frame.get_column("c2").to_list() == ["2024-12-31", "2025-12-31"]
    result = zhili("eval", MODEL, path, "--no-record")
    assert result.exit_code == 1
    assert (
        "duplicate community id (first on row 2, 考核期 2024-12-31): the data holds more than "
        "one 考核期 (2024-12-31、2025-12-31)"
    ) in result.stderr
    assert "00:00:00" not in result.stderr
