"""The one percent rule (docs/data.md) where no data case can show it: a
workbook over 4 MB written with `0.0%` cells, number format codes, the exact
percentage a formatted cell shows, a percent format in a count column, a
test's `given`, and the template, filled in the way Excel stores typed values,
against the CSV of the same values."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import polars as pl
import pytest
from cli_helpers import zhili

from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.io import xlsxscan
from zhili.engine.io.data import load
from zhili.engine.io.excel import percent_texts
from zhili.engine.report.template import PERCENT_FORMAT, TEMPLATE_ROWS

MODEL_SRC = """model pct "百分比"
version "1"
issuer "tests"
source "tests"
total 30
input population: int label "常住人口" unit "人" range 0..200000
input rate: percent label "调解成功率" range 0%..100%
input cover: percent label "覆盖率" range 50%..100% optional
input merged: bool label "是否实现多网合一"
input kind: enum("老旧小区", "商品房小区") label "社区类型"
input founded: date label "成立日期" optional
indicator r "调解" points 10 { linear rate from 50% to 100% }
indicator c "覆盖" points 10 { pass when cover >= 90% }
indicator m "多网合一" points 5 { pass when merged and kind == "老旧小区" }
indicator f "成立" points 5 { pass when founded >= 2020-01-01 }
grades { "优秀" when total >= 25  "达标" when total >= 15  "未达标" otherwise }
"""


def _model():
    checked = check(parse(MODEL_SRC).tree, MODEL_SRC)
    assert checked.ok, [d.message for d in checked.diagnostics if d.is_error]
    return checked.model


MODEL = _model()


# ---------------------------------------------------------------- workbooks


def _big_workbook(path, rows: int) -> None:
    """A workbook of `rows` communities whose 调解成功率 cells are numbers
    formatted `0.0%`: openpyxl writes the styles and one row, the rows are
    written into the sheet XML directly and stored uncompressed (over 4 MB
    in a moment)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["社区编码", "常住人口", "调解成功率", "是否实现多网合一", "社区类型", "备注"])
    ws.append(["C1", 8000, 0.24, "是", "老旧小区", "x"])
    ws["C2"].number_format = "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    sheet = src.read("xl/worksheets/sheet1.xml").decode()
    style = re.search(r'<c r="C2" s="([0-9]+)"', sheet)[1]
    body = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>C{r}</t></is></c>'
        f'<c r="B{r}" t="n"><v>8000</v></c><c r="C{r}" s="{style}" t="n"><v>0.24</v></c>'
        f'<c r="D{r}" t="inlineStr"><is><t>是</t></is></c>'
        f'<c r="E{r}" t="inlineStr"><is><t>老旧小区</t></is></c>'
        f'<c r="F{r}" t="inlineStr"><is><t>{"备注" * 20}</t></is></c></row>'
        for r in range(2, rows + 2)
    )
    sheet = re.sub(r"<row r=\"2\".*?</row>", body, sheet, flags=re.S)
    sheet = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:F{rows + 1}"', sheet)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            out.writestr(info.filename, data)


def test_a_workbook_over_4_mb_reads_its_percent_cells(tmp_path):
    """20,000 rows of 24% (0.24 formatted 0.0%): every one is 24%, as in a
    small file — before, above 4 MB formats were not looked at and each read
    as 0.24%."""
    path = tmp_path / "big.xlsx"
    _big_workbook(path, 20_000)
    assert path.stat().st_size > 4_000_000
    ds = load(path, MODEL)
    rates = ds.frame.get_column("in.rate")
    assert rates.len() == 20_000
    assert rates.to_list() == [0.24] * 20_000
    assert [p for p in ds.problems if p.code == "data-fraction-shares"] == []


def test_a_percent_format_in_a_count_column_is_a_problem(tmp_path):
    """A number formatted as a percentage shows a percentage: in a count
    column it is the cell's problem, as `85%` typed there is."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["社区编码", "常住人口", "调解成功率", "是否实现多网合一", "社区类型"])
    ws.append(["A1", 0.5, "90%", "是", "老旧小区"])
    ws.append(["A2", 8000, "90%", "是", "老旧小区"])
    ws["B2"].number_format = "0%"
    path = tmp_path / "count.xlsx"
    wb.save(path)
    ds = load(path, MODEL)
    assert ds.frame.get_column("in.population").to_list() == [None, 8000]
    (bad,) = [p for p in ds.problems if p.column == "常住人口"]
    assert (bad.code, bad.row, bad.raw) == ("data-invalid-value", 2, "50%")
    assert "a percentage where a count or number is expected" in bad.message


@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0%", True),
        ("0.0%", True),
        ("#,##0.00%", True),
        ("[Red]0.00%", True),
        ("0.0%;[Red]-0.0%", True),
        ('0.0"%"', False),
        ("0.0\\%", False),
        ('"完成率"0.0', False),
        ("0.00", False),
        ("[$-804]yyyy-mm-dd", False),
        ("General", False),
    ],
)
def test_percent_format_codes(code, percent):
    assert xlsxscan.is_percent_format(code) is percent


def test_built_in_percent_formats_are_found_through_cell_xfs(tmp_path):
    """Built-in ids 9 (0%) and 10 (0.00%) have no numFmt entry: the cellXfs
    position (a cell's `s`) is what marks them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, fmt in enumerate(["0%", "0.00%", "0.00", "0.0%"], start=1):
        ws.cell(row=r, column=1, value=0.5).number_format = fmt
    path = tmp_path / "styles.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        styles = xlsxscan.percent_styles(zf)
        cells = xlsxscan.percent_cells(zf, "xl/worksheets/sheet1.xml", styles)
    assert len(styles) == 3
    assert sorted(cells.get_column("row").to_list()) == [0, 1, 3]


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("0.85", "85%"),
        ("0.857", "85.7%"),
        ("1", "100%"),
        ("1.2", "120%"),
        ("-0.5", "-50%"),
        ("0.0000001", "0.00001%"),
        ("0.07", "7%"),
        ("0", "0%"),
        ("12345678.9", "1234567890%"),
        ("1e-7", "1e-5%"),
        ("是", "是"),
    ],
)
def test_a_formatted_number_shows_its_percentage_exactly(cell, shown):
    got = percent_texts(pl.DataFrame({"c": [cell]}), {"c": None}).item()
    assert got == shown


# ---------------------------------------------------------------- given


def test_given_plain_numbers_say_what_they_would_mean(tmp_path):
    src = MODEL_SRC + (
        'test "小数" {\n  given { population = 8000  rate = 0.9  merged = true  kind = "老旧小区" }\n'
        '  expect grade "达标"\n}\n'
        'test "整数" {\n  given { population = 8000  rate = 90  merged = true  kind = "老旧小区" }\n'
        '  expect grade "达标"\n}\n'
        'test "百分数" {\n  given { population = 8000  rate = 90%  merged = true  kind = "老旧小区" }\n'
        "  expect indicator r partial points 8\n}\n"
    )
    checked = check(parse(src).tree, src)
    errors = [d for d in checked.diagnostics if d.is_error]
    first = src.count("\n", 0, src.index("rate = 0.9")) + 1
    assert [(d.code, d.span.line, d.span.column) for d in errors] == [
        ("unit-mismatch", first, src.splitlines()[first - 1].index("0.9") + 1),
        ("unit-mismatch", first + 4, src.splitlines()[first + 3].index("90") + 1),
    ]
    assert "0.9 is a plain fraction, which could mean 90% or 0.9%" in errors[0].message
    assert "write 90% for 90%" in errors[0].message
    assert "90 would mean 90% in a data file; in a test write 90%" in errors[1].message
    path = tmp_path / "model.gov"
    path.write_text(src.replace(src[src.index('test "小数"') : src.index('test "百分数"')], ""))
    result = zhili("test", path)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- template

# what a person types into each column (a CSV of the same text is the reference)
TYPED = [
    ("001", "8000", "85", "95", "是", "老旧小区", "2021-03-01"),
    ("002", "12000", "85.5", "", "否", "商品房小区", "2019-12-31"),
    ("010", "9000", "100", "90", "是", "商品房小区", ""),
    ("011", "7000", "50", "89.9", "是", "老旧小区", "2024-06-30"),
]
COLUMNS = ["population", "rate", "cover", "merged", "kind", "founded"]


def test_the_template_formats_and_validates_percent_cells_as_stored(tmp_path):
    model = tmp_path / "model.gov"
    model.write_text(MODEL_SRC, encoding="utf-8")
    tpl = tmp_path / "t.xlsx"
    assert zhili("template", model, "-o", tpl).exit_code == 0
    ws = openpyxl.load_workbook(tpl).worksheets[0]
    headers = {c.value: c.column_letter for c in ws[1]}
    rate, cover = headers["调解成功率（%）"], headers["覆盖率（%）"]
    for col in (rate, cover):
        assert ws[f"{col}2"].number_format == PERCENT_FORMAT
        assert ws[f"{col}{TEMPLATE_ROWS + 1}"].number_format == PERCENT_FORMAT
    assert ws["A2"].number_format == "@", "ids typed 001 stay text"
    assert "填 85 即 85%" in ws[f"{rate}1"].comment.text
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            rules[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    # validation is on the stored value: 85 typed in a 0.0% cell is 0.85
    assert (rules[rate].type, rules[rate].formula1, rules[rate].formula2) == ("decimal", "0", "1")
    assert (rules[cover].formula1, rules[cover].formula2) == ("0.5", "1")


def test_a_filled_template_evaluates_like_the_csv_of_the_same_values(tmp_path):
    """The template filled with openpyxl the way Excel stores what a person
    types: 85 in a percent cell is 0.85 keeping the cell's `0.0%` format, an
    id 001 is text (the column's `@` format), a date is a datetime cell. It
    reads to the same values as the CSV of the typed text, with no problem,
    and evaluates to the same results."""
    model = tmp_path / "model.gov"
    model.write_text(MODEL_SRC, encoding="utf-8")
    tpl = tmp_path / "t.xlsx"
    assert zhili("template", model, "-o", tpl).exit_code == 0
    wb = openpyxl.load_workbook(tpl)
    ws = wb.worksheets[0]
    col_of = {c.value: c.column for c in ws[1]}
    by_input = {f.id: f for f in MODEL.inputs}
    from zhili.engine.report.template import header

    for r, (cid, *cells) in enumerate(TYPED, start=2):
        ws.cell(row=r, column=1, value=cid)
        for fid, typed in zip(COLUMNS, cells, strict=True):
            if typed == "":
                continue
            f = by_input[fid]
            cell = ws.cell(row=r, column=col_of[header(f)])
            if f.type == "percent":
                assert cell.number_format == PERCENT_FORMAT
                cell.value = float(typed) / 100  # what Excel stores for 85 typed
            elif f.type == "int":
                cell.value = int(typed)
            elif f.type == "date":
                cell.value = dt.datetime.fromisoformat(typed)
            else:
                cell.value = typed
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    csv_path = tmp_path / "same.csv"
    csv_head = ["社区编码"] + [header(by_input[fid]) for fid in COLUMNS]
    csv_path.write_text(
        "\n".join([",".join(csv_head)] + [",".join(row) for row in TYPED]) + "\n",
        encoding="utf-8",
    )
    from_xlsx, from_csv = load(filled, MODEL), load(csv_path, MODEL)
    assert [p for p in from_xlsx.problems if p.severity != "info"] == []
    assert [p for p in from_csv.problems if p.severity != "info"] == []
    cols = ["community_id", *[f"in.{fid}" for fid in COLUMNS]]
    assert from_xlsx.frame.select(cols).to_dicts() == from_csv.frame.select(cols).to_dicts()
    assert from_csv.frame.get_column("community_id").to_list() == ["001", "002", "010", "011"]
    assert from_csv.frame.get_column("in.rate").to_list() == [0.85, 0.855, 1.0, 0.5]

    def results(path):
        out = zhili("eval", model, path, "--format", "json", "--strict", "--no-record")
        assert out.exit_code == 0, out.output
        return [
            (c["community_id"], c["total"], c["grade"])
            for c in json.loads(out.stdout)["communities"]
        ]

    assert results(filled) == results(csv_path)
    assert [g for _, _, g in results(csv_path)] == ["优秀", "未达标", "达标", "未达标"]


# ---------------------------------------------------------------- `fractions`

FRACTIONS_SRC = MODEL_SRC.replace(
    'input cover: percent label "覆盖率" range 50%..100% optional',
    'input cover: percent label "覆盖率" range 50%..100% fractions optional',
)


def test_an_input_declared_fractions_reads_plain_numbers_as_fractions(tmp_path):
    """`fractions`: plain 0.95 is 95% and 1 is 100%; a plain number above 1
    is the problem instead (it would mean 9500%); 95% is 95% either way. The
    other percent input keeps the rule: its 0.85 is a problem."""
    checked = check(parse(FRACTIONS_SRC).tree, FRACTIONS_SRC)
    assert checked.ok
    model = checked.model
    assert [f.id for f in model.inputs if f.fractions] == ["cover"]
    path = tmp_path / "f.csv"
    path.write_text(
        "社区编码,常住人口,调解成功率,覆盖率,是否实现多网合一,社区类型\n"
        "A1,8000,85,0.95,是,老旧小区\n"
        "A2,8000,0.85,1,是,老旧小区\n"
        "A3,8000,85%,95,是,老旧小区\n"
        "A4,8000,85%,95%,是,老旧小区\n"
        "A5,8000,85%,0.5,是,老旧小区\n",
        encoding="utf-8",
    )
    ds = load(path, model)
    assert ds.frame.get_column("in.cover").to_list() == [0.95, 1.0, None, 0.95, 0.5]
    assert ds.frame.get_column("in.rate").to_list() == [0.85, None, 0.85, 0.85, 0.85]
    got = [(p.code, p.row, p.column, p.raw) for p in ds.problems if p.row is not None]
    assert got == [
        ("data-fraction-shares", 3, "调解成功率", "0.85"),
        ("data-fraction-shares", 4, "覆盖率", "95"),
    ]
    (over,) = [p for p in ds.problems if p.raw == "95"]
    assert over.message.startswith("95 would mean 9500% (plain numbers here are fractions)")
    assert "write 95% or 0.95 for 95%" in over.message


def test_fractions_is_formatted_and_checked():
    from zhili.dsl.formatter import format_source

    out, diags = format_source(FRACTIONS_SRC)
    assert out is not None, diags
    assert 'input cover: percent label "覆盖率" range 50%..100% fractions optional' in out
    assert format_source(out)[0] == out
    assert parse(out).tree == parse(FRACTIONS_SRC).tree
    bad = MODEL_SRC.replace('unit "人" range 0..200000', 'unit "人" range 0..200000 fractions')
    errors = [d for d in check(parse(bad).tree, bad).diagnostics if d.is_error]
    assert [(d.code, d.span.line) for d in errors] == [("type-mismatch", 6)]
    assert "`fractions` applies to percent inputs only" in errors[0].message


def test_given_for_an_input_of_fractions_says_what_it_would_mean():
    src = FRACTIONS_SRC + (
        'test "a" {\n  given { population = 8000  rate = 90%  cover = 0.9  merged = true'
        '  kind = "老旧小区" }\n  expect grade "达标"\n}\n'
        'test "b" {\n  given { population = 8000  rate = 90%  cover = 90  merged = true'
        '  kind = "老旧小区" }\n  expect grade "达标"\n}\n'
    )
    errors = [d for d in check(parse(src).tree, src).diagnostics if d.is_error]
    assert [d.code for d in errors] == ["unit-mismatch", "unit-mismatch"]
    assert "0.9 would mean 90% in a data file; in a test write 90%" in errors[0].message
    assert "90 is above 1, which a data file does not read for it" in errors[1].message
