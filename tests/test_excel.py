"""Excel workbooks as staff keep them: real .xlsx files written with openpyxl
in tmp_path (title row, merged header, several sheets, blank rows, a totals
row, percent-formatted cells), and GBK CSV exports."""

from __future__ import annotations

import openpyxl
import pytest
from test_data import MODEL

from zhili.engine.io.data import DataError, load

HEADER = ["社区编码", "区", "街道", "社区", "常住人口（人）", "调解成功率", "是否实现多网合一"]


def workbook(tmp_path, build, name="data.xlsx"):
    wb = openpyxl.Workbook()
    build(wb)
    path = tmp_path / name
    wb.save(path)
    return path


def messy(wb):
    ws = wb.active
    ws.title = "社区数据"
    ws["A1"] = "2024年第二季度社区治理考核数据"
    ws.merge_cells("A1:G1")
    # a two-level header: 基本情况 over 区/街道/社区, 社区编码 merged vertically
    ws["A2"] = "社区编码"
    ws.merge_cells("A2:A3")
    ws["B2"] = "基本情况"
    ws.merge_cells("B2:D2")
    ws["E2"] = "考核指标"
    ws.merge_cells("E2:G2")
    for j, h in enumerate(HEADER[1:], start=2):
        ws.cell(row=3, column=j, value=h)
    ws.append(["A-1", "金台区", "群众路街道", "长青社区", 9017, "97.5%", "是"])
    ws.append([])  # blank row 5
    ws.append(["A-2", "金台区", "群众路街道", "新福社区", "1,234", 0.95, "否"])
    ws["F6"].number_format = "0.0%"
    ws.append(["A-3", "金台区", None, "福臻社区", "很多", "90", "√"])
    ws.merge_cells("C4:C7")  # the street merged over its communities
    ws.append(["合计", None, None, None, 10251, None, None])
    other = wb.create_sheet("说明")
    other["A1"] = "填表说明"


class TestMessyWorkbook:
    def test_rows_values_and_problems(self, tmp_path):
        path = workbook(tmp_path, messy)
        ds = load(path, MODEL)
        assert ds.rows == [4, 6, 7], "Excel row numbers; blank and totals rows skipped"
        assert [r["population"] for r in ds.records] == [9017, 1234, None]
        assert [r["rate"] for r in ds.records] == pytest.approx([0.975, 0.95, 0.90])
        assert [r["grid"] for r in ds.records] == [True, False, True]
        assert [m["street"] for m in ds.meta] == ["群众路街道"] * 3, "merged cells fill down"
        assert [m["community_id"] for m in ds.meta] == ["A-1", "A-2", "A-3"]
        bad = [p for p in ds.problems if p.row == 7]
        assert len(bad) == 1
        p = bad[0]
        assert (p.sheet, p.row, p.column, p.raw) == ("社区数据", 7, "常住人口（人）", "很多")
        assert str(p).startswith(f"{path}[社区数据]:7 [常住人口（人）]: not a number")
        totals = [p for p in ds.problems if "totals row" in p.message]
        assert [(t.row, t.severity, t.raw, t.sheet) for t in totals] == [
            (8, "info", "合计", "社区数据")
        ]

    def test_sheet_by_name_and_position(self, tmp_path):
        def two(wb):
            wb.active.title = "封面"
            wb.active["A1"] = "封面"
            ws = wb.create_sheet("二季度")
            ws.append(["社区编码", "是否实现多网合一"])
            ws.append(["B-1", "是"])

        path = workbook(tmp_path, two)
        for sheet in ("二季度", "2", " 二季度 "):
            ds = load(path, MODEL, sheet=sheet)
            assert [m["community_id"] for m in ds.meta] == ["B-1"]
            assert ds.records[0]["grid"] is True
        with pytest.raises(DataError, match=r"no sheet '三季度' \(sheets: 封面, 二季度\)"):
            load(path, MODEL, sheet="三季度")

    def test_data_starting_at_a_later_column(self, tmp_path):
        def offset(wb):
            ws = wb.active
            ws["C5"] = "社区编码"
            ws["D5"] = "常住人口"
            ws["C6"] = "X"
            ws["D6"] = "abc"

        ds = load(workbook(tmp_path, offset), MODEL)
        p = next(p for p in ds.problems if p.raw == "abc")
        assert (p.row, p.column) == (6, "常住人口")

    def test_numbers_and_booleans_from_cells(self, tmp_path):
        def typed(wb):
            ws = wb.active
            ws.append(["社区编码", "常住人口", "办公用房面积", "是否实现多网合一", "成立日期"])
            import datetime as dt

            ws.append(["A", 12000, 350.5, True, dt.date(2020, 5, 1)])
            ws.append(["B", "１２３", "120平方米", "有", "2020年5月1日"])

        ds = load(workbook(tmp_path, typed), MODEL)
        assert [r["population"] for r in ds.records] == [12000, 123]
        assert [r["area"] for r in ds.records] == [350.5, 120.0]
        assert [r["grid"] for r in ds.records] == [True, True]
        assert str(ds.records[0]["founded"]) == "2020-05-01"
        assert not [p for p in ds.problems if p.row is not None]

    def test_duplicate_ids_are_errors(self, tmp_path):
        def dup(wb):
            ws = wb.active
            ws.append(["社区编码", "是否实现多网合一"])
            ws.append(["A", "是"])
            ws.append(["A", "否"])

        ds = load(workbook(tmp_path, dup), MODEL)
        assert [(p.row, p.severity) for p in ds.errors if p.row] == [(3, "error")]
        assert len(ds) == 2, "nothing dropped"


class TestBadWorkbooks:
    def test_corrupt(self, tmp_path):
        path = tmp_path / "bad.xlsx"
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
        with pytest.raises(DataError, match="not a readable Excel workbook"):
            load(path, MODEL)

    def test_not_a_zip(self, tmp_path):
        path = tmp_path / "bad.xlsx"
        path.write_bytes(b"hello, world\n")
        with pytest.raises(DataError, match="not a readable Excel workbook"):
            load(path, MODEL)

    def test_password_protected(self, tmp_path):
        path = tmp_path / "secret.xlsx"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
        with pytest.raises(DataError, match="password-protected"):
            load(path, MODEL)

    def test_empty_sheet(self, tmp_path):
        path = workbook(tmp_path, lambda wb: None)
        with pytest.raises(DataError, match="is empty"):
            load(path, MODEL)


def test_gbk_csv_with_totals_row(tmp_path):
    path = tmp_path / "export.csv"
    text = "社区编码,社区,常住人口,是否实现多网合一\nA,长青社区,100,是\nB,新福社区,200,否\n合计,,300,\n"
    path.write_bytes(text.encode("gbk"))
    ds = load(path, MODEL)
    assert [m["community"] for m in ds.meta] == ["长青社区", "新福社区"]
    totals = [p for p in ds.problems if "totals row" in p.message]
    assert [(p.row, p.severity) for p in totals] == [(4, "info")]


def test_cli_eval_xlsx_with_sheet_matches_the_csv(tmp_path):
    """The bundled sample as a workbook (cover sheet first, a title row above
    the header) evaluates exactly like the CSV."""
    import csv
    import json
    from pathlib import Path

    from click.testing import CliRunner

    from zhili.cli.app import cli

    sample = Path(__file__).resolve().parent.parent / "plugins" / "four_type" / "sample.csv"
    with sample.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))

    def build(wb):
        wb.active.title = "封面"
        wb.active["A1"] = "四型社区数据"
        ws = wb.create_sheet("数据")
        ws.append(["宝鸡市四型社区考核数据（合成）"])
        for r in rows:
            ws.append(r)

    path = workbook(tmp_path, build)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(
            cli,
            [
                "--lang",
                "en",
                "eval",
                "four_type",
                *map(str, args),
                "--format",
                "json",
                "--no-record",
            ],
        )

    from_xlsx = run(path, "--sheet", "数据")
    assert from_xlsx.exit_code == 0, from_xlsx.output
    from_csv = run(sample)
    got = [
        (c["community_id"], c["total"], c["grade"])
        for c in json.loads(from_xlsx.stdout)["communities"]
    ]
    want = [
        (c["community_id"], c["total"], c["grade"])
        for c in json.loads(from_csv.stdout)["communities"]
    ]
    assert got == want and len(got) == len(rows) - 1
    bad = runner.invoke(
        cli, ["--lang", "en", "eval", "four_type", str(path), "--sheet", "nope", "--no-record"]
    )
    assert bad.exit_code == 1
    assert "no sheet 'nope' (sheets: 封面, 数据)" in bad.stderr and "Traceback" not in bad.output


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_totals_rows_are_reported_never_silently_dropped(tmp_path, encoding):
    """UTF-8 goes through Polars' reader, GBK through Python's csv module:
    both skip the same totals rows, each with a note naming its line."""
    path = tmp_path / "export.csv"
    text = (
        "社区编码,社区,常住人口\n"
        "A,长青社区,100\n"
        "B,合计社区服务站,200\n"  # a name containing 合计 is not a totals row
        " 全区合计 ,,300\n"
        "Total,,300\n"
        "C,新福社区,5\n"
        "小计,,5\n"
    )
    path.write_bytes(text.encode(encoding))
    ds = load(path, MODEL)
    assert [m["community_id"] for m in ds.meta] == ["A", "B", "C"]
    assert ds.rows == [2, 3, 6]
    totals = [p for p in ds.problems if "totals row" in p.message]
    assert [p.row for p in totals] == [4, 5, 7]
    assert len(ds) + len(totals) == text.count("\n") - 1  # every data line accounted for
