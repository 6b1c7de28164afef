"""Community data loading: real files in tmp_path, matched to a model's inputs.

Columns match by id or Chinese label; cells are converted by the input's type;
every unreadable or out-of-range cell becomes a `DataProblem` naming file,
line, column and raw value, counts as missing, and the row is kept.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from zhili.dsl.checker import check
from zhili.dsl.diagnostics import Severity
from zhili.dsl.model import Model
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.io.data import DataError, DataProblem, load

MODEL_SRC = """model m "M"
total 10
input population: int label "常住人口" unit "人" range 0..200000
input area: number label "办公用房面积" unit "平方米"
input rate: percent label "调解成功率" range 0%..100%
input grid: bool label "是否实现多网合一"
input kind: enum("老旧小区", "商品房小区", "单位型社区") label "社区类型" optional
input founded: date label "成立日期" optional
input budget: number label "经费" unit "万元" optional
input remark: text label "备注" optional
indicator x "多网合一" points 10 { pass when grid }
grades { "达标" when total >= 10  "未达标" otherwise }
"""


def _model() -> Model:
    parsed = parse(MODEL_SRC)
    checked = check(parsed.tree, MODEL_SRC)
    assert checked.ok, [d.message for d in checked.diagnostics if d.is_error]
    return checked.model


MODEL = _model()
FULL_HEADER = "社区编码,区,街道,社区,常住人口,办公用房面积,调解成功率,是否实现多网合一,社区类型,成立日期,经费,备注"


def write(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load_text(tmp_path: Path, text: str, name: str = "data.csv", **kw):
    return load(write(tmp_path, text, name), MODEL, **kw)


def cell(tmp_path: Path, column: str, raw: str):
    """Load a one-row file with just `column` (and grid); return (value, problems)."""
    header = "社区编码,是否实现多网合一" + ("" if column == "是否实现多网合一" else f",{column}")
    row = "A," + ("" if column == "是否实现多网合一" else "是,") + _csv_quote(raw)
    ds = load_text(tmp_path, f"{header}\n{row}\n")
    fid = next(k for k, h in ds.columns.items() if h == column)
    cell_problems = [p for p in ds.problems if p.row is not None]
    return ds.records[0][fid], cell_problems


def _csv_quote(raw: str) -> str:
    return '"' + raw.replace('"', '""') + '"' if any(c in raw for c in ',"\n') else raw


def messages(ds) -> list[str]:
    return [str(p) for p in ds.problems]


# ---------------------------------------------------------------- columns


class TestColumns:
    def test_by_id(self, tmp_path):
        ds = load_text(tmp_path, "community_id,population,grid,rate\nA,100,是,90%\n")
        assert ds.columns["population"] == "population"
        assert ds.records[0]["population"] == 100
        assert ds.records[0]["rate"] == pytest.approx(0.9)

    def test_by_label(self, tmp_path):
        ds = load_text(tmp_path, "社区编码,常住人口,是否实现多网合一\nA,8000,是\n")
        assert ds.columns == {"population": "常住人口", "grid": "是否实现多网合一"}
        assert ds.records[0]["population"] == 8000

    @pytest.mark.parametrize(
        "header",
        [
            " 常住人口 ",
            "常 住 人 口",
            "常住人口\u3000",  # full-width space
            "ＰＯＰＵＬＡＴＩＯＮ",  # full-width letters of the id
            "Population",
        ],
    )
    def test_spaces_full_width_and_case_ignored(self, tmp_path, header):
        ds = load_text(tmp_path, f"社区编码,{header},是否实现多网合一\nA,8000,是\n")
        assert ds.columns["population"] == header.strip()
        assert ds.records[0]["population"] == 8000

    @pytest.mark.parametrize(
        "header",
        ["常住人口（人）", "常住人口(人)", "常住人口 （人）", "常住人口【人】", "常住人口[人]"],
    )
    def test_label_with_unit_in_brackets(self, tmp_path, header):
        ds = load_text(tmp_path, f"社区编码,{header},是否实现多网合一\nA,8000,是\n")
        assert ds.columns["population"] == header
        assert ds.records[0]["population"] == 8000

    def test_hierarchy_columns(self, tmp_path):
        ds = load_text(
            tmp_path,
            "社区编码,区,街道,社区,是否实现多网合一\nJT-001,金台区,东风路街道,金台社区,是\n",
        )
        assert ds.meta == [
            {
                "community_id": "JT-001",
                "district": "金台区",
                "street": "东风路街道",
                "community": "金台社区",
            }
        ]
        assert not [p for p in ds.problems if p.severity == "info"]

    def test_community_id_falls_back_to_the_name_then_the_row(self, tmp_path):
        ds = load_text(tmp_path, "社区,是否实现多网合一\n金台社区,是\n,否\n")
        assert [m["community_id"] for m in ds.meta] == ["金台社区", "#3"]

    def test_unmatched_column_is_reported_as_info(self, tmp_path):
        ds = load_text(tmp_path, "社区编码,是否实现多网合一,无关列\nA,是,1\n")
        info = [p for p in ds.problems if p.severity == "info"]
        assert [(p.row, p.column) for p in info] == [(1, "无关列")]
        assert info[0].message == "column matches no input and is ignored"

    def test_required_input_without_column_is_an_error(self, tmp_path):
        ds = load_text(tmp_path, "社区编码,是否实现多网合一\nA,是\n")
        by_col = {p.column: p for p in ds.problems}
        p = by_col["常住人口 / population"]
        assert (p.severity, p.row, p.raw) == ("error", None, None)
        assert p.message == "no column for input (every value counts as missing)"
        assert by_col["调解成功率 / rate"].severity == "error"
        assert by_col["办公用房面积 / area"].severity == "error"

    def test_optional_input_without_column_is_a_warning(self, tmp_path):
        ds = load_text(tmp_path, "社区编码,是否实现多网合一\nA,是\n")
        by_col = {p.column: p for p in ds.problems}
        for col in ("社区类型 / kind", "成立日期 / founded", "经费 / budget", "备注 / remark"):
            assert by_col[col].severity == "warning"
        assert len(ds.errors) == 3
        assert "population" not in ds.records[0]  # evaluation reads it as missing


# ---------------------------------------------------------------- encodings

CSV_TEXT = f"{FULL_HEADER}\nJT-001,金台区,东风路街道,金台社区,8000,120,98.5%,是,老旧小区,2020-05-01,1.5,无\n"


class TestEncodings:
    def expect(self, ds):
        assert ds.meta[0]["community"] == "金台社区"
        assert ds.records[0]["population"] == 8000
        assert ds.records[0]["kind"] == "老旧小区"
        assert ds.errors == []

    def test_utf8(self, tmp_path):
        self.expect(load(write(tmp_path, CSV_TEXT), MODEL))

    def test_utf8_with_bom(self, tmp_path):
        path = write(tmp_path, CSV_TEXT, encoding="utf-8-sig")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        ds = load(path, MODEL)
        self.expect(ds)
        assert ds.meta[0]["community_id"] == "JT-001"  # the BOM is not part of the header

    def test_gbk_detected(self, tmp_path):
        path = write(tmp_path, CSV_TEXT, encoding="gbk")
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
        self.expect(load(path, MODEL))

    def test_encoding_forced(self, tmp_path):
        path = write(tmp_path, CSV_TEXT, encoding="gbk")
        self.expect(load(path, MODEL, encoding="gbk"))

    def test_wrong_forced_encoding_is_a_data_error(self, tmp_path):
        path = write(tmp_path, CSV_TEXT, encoding="gbk")
        with pytest.raises(DataError, match="cannot decode as utf-8"):
            load(path, MODEL, encoding="utf-8")

    def test_unknown_encoding_name(self, tmp_path):
        path = write(tmp_path, CSV_TEXT)
        with pytest.raises(DataError, match="cannot decode as klingon"):
            load(path, MODEL, encoding="klingon")

    def test_tab_separated(self, tmp_path):
        ds = load_text(tmp_path, CSV_TEXT.replace(",", "\t"), name="data.tsv")
        self.expect(ds)


# ---------------------------------------------------------------- cell values


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        ("常住人口", "8000", 8000),
        ("常住人口", "1,234", 1234),  # thousands separator
        ("常住人口", "12,345,678", None),  # above the range: reported below
        ("常住人口", "１２３", 123),  # full-width digits
        ("常住人口", "１，２３４", 1234),
        ("常住人口", "18人", 18),  # unit after the number
        ("常住人口", " 18 人 ", 18),
        ("常住人口", "1.2万", 12000),  # 万 is a multiplier
        ("常住人口", "1.23万人", 12300),
        ("常住人口", "8000.0", 8000),
        ("办公用房面积", "120平方米", 120.0),
        ("办公用房面积", "120.5 平方米", 120.5),
        ("办公用房面积", "1,200.5", 1200.5),
        ("经费", "1.5万元", 1.5),  # the input itself counts in 万元
        ("经费", "3", 3.0),
        ("调解成功率", "85%", 0.85),
        ("调解成功率", "85.5％", 0.855),  # full-width percent sign
        ("调解成功率", "85", 0.85),  # a bare number for a percent input
        ("调解成功率", "100", 1.0),
        ("调解成功率", "0", 0.0),
    ],
)
def test_numbers(tmp_path, column, raw, expected):
    value, problems = cell(tmp_path, column, raw)
    if expected is None:
        assert value is None and problems
    else:
        assert value == pytest.approx(expected)
        assert type(value) is type(expected)
        assert problems == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("有", True),
        ("无", False),
        ("√", True),
        ("×", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        ("1", True),
        ("0", False),
    ],
)
def test_booleans(tmp_path, raw, expected):
    ds = load_text(tmp_path, f"社区编码,是否实现多网合一\nA,{raw}\n")
    assert ds.records[0]["grid"] is expected
    assert [p for p in ds.problems if p.row is not None] == []


@pytest.mark.parametrize("raw", ["", "空", "—", "-", "/", "N/A", "n/a", "#N/A", "  "])
@pytest.mark.parametrize(
    "column", ["常住人口", "调解成功率", "是否实现多网合一", "社区类型", "成立日期"]
)
def test_missing_placeholders(tmp_path, column, raw):
    value, problems = cell(tmp_path, column, raw)
    assert value is None
    assert problems == []  # a placeholder is missing data, not a problem


def test_missing_values_are_missing_in_evaluation(tmp_path):
    ds = load_text(tmp_path, "社区编码,是否实现多网合一\nA,—\nB,是\n")
    compiled = compile_model(MODEL)
    results = [compiled.evaluate(rec, meta) for rec, meta in zip(ds.records, ds.meta, strict=True)]
    assert [r.outcomes for r in results] == [["missing"], ["pass"]]
    assert [r.grade for r in results] == ["未达标", "达标"]
    assert [r.missing_count for r in results] == [1, 0]
    assert results[0].to_result().community_id == "A"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("老旧小区", "老旧小区"), (" 商品房小区 ", "商品房小区"), ("单位型社区", "单位型社区")],
)
def test_enum_values(tmp_path, raw, expected):
    value, problems = cell(tmp_path, "社区类型", raw)
    assert (value, problems) == (expected, [])


@pytest.mark.parametrize(
    "raw", ["2020-05-01", "2020/5/1", "2020.05.01", "2020年5月1日", "２０２０-０５-０１"]
)
def test_dates(tmp_path, raw):
    value, problems = cell(tmp_path, "成立日期", raw)
    assert (value, problems) == (dt.date(2020, 5, 1), [])


def test_text_is_kept(tmp_path):
    value, problems = cell(tmp_path, "备注", "无")
    assert (value, problems) == ("无", [])


# ---------------------------------------------------------------- problems


@pytest.mark.parametrize(
    ("column", "raw", "message"),
    [
        ("常住人口", "-5", "below the allowed range 0..200000"),
        ("常住人口", "300000", "above the allowed range 0..200000"),
        ("常住人口", "abc", "not a number"),
        ("常住人口", "12.5", "not a whole number"),
        ("常住人口", "50%", "a percentage where a count or number is expected"),
        ("调解成功率", "120%", "above the allowed range 0%..100%"),
        ("调解成功率", "101", "above the allowed range 0%..100%"),
        ("调解成功率", "很高", "not a number"),
        ("是否实现多网合一", "maybe", "not a yes/no value"),
        ("社区类型", "别墅区", "not one of: 老旧小区, 商品房小区, 单位型社区"),
        ("成立日期", "2020-13-01", "not a date (YYYY-MM-DD)"),
        ("成立日期", "去年", "not a date (YYYY-MM-DD)"),
    ],
)
def test_bad_cells_are_problems(tmp_path, column, raw, message):
    value, problems = cell(tmp_path, column, raw)
    assert value is None
    assert len(problems) == 1
    p = problems[0]
    assert p == DataProblem(
        str(tmp_path / "data.csv"), 2, column, raw, message, "warning", code="data-invalid-value"
    )
    assert p.severity is Severity.WARNING


def test_problem_names_file_line_column_and_raw_value(tmp_path):
    text = (
        "社区编码,社区,常住人口,是否实现多网合一\n"
        "A,一社区,100,是\n"
        "\n"  # a blank line: skipped, but the line numbers stay those of the file
        "B,二社区,abc,是\n"
        '"C","三\n社区",-1,是\n'  # a quoted cell spanning two lines
        "D,四社区,200,也许\n"
    )
    path = write(tmp_path, text)
    ds = load(path, MODEL)
    assert len(ds.records) == len(ds) == 4  # every data row kept, the blank line skipped
    assert ds.rows == [2, 4, 5, 7]
    cells = [p for p in ds.problems if p.row is not None]
    assert [(p.row, p.column, p.raw, p.message) for p in cells] == [
        (4, "常住人口", "abc", "not a number"),
        (5, "常住人口", "-1", "below the allowed range 0..200000"),
        (7, "是否实现多网合一", "也许", "not a yes/no value"),
    ]
    assert str(cells[0]) == f"{path}:4 [常住人口]: not a number ('abc')"
    assert ds.records[1] == {"population": None, "grid": True}  # the bad value is missing
    assert ds.records[2]["population"] is None
    assert ds.records[3] == {"population": 200, "grid": None}
    assert ds.meta[2]["community"] == "三\n社区"


def test_row_with_extra_cells(tmp_path):
    ds = load_text(tmp_path, "社区编码,是否实现多网合一\nA,是\nB,否,多余\nC,是,\n")
    extra = [p for p in ds.problems if p.row is not None]
    assert [(p.row, p.message, p.severity) for p in extra] == [
        (3, "the row has more cells than the header", "warning")
    ]
    assert len(ds.records) == 3
    assert ds.records[1]["grid"] is False


def test_row_with_fewer_cells_is_missing(tmp_path):
    ds = load_text(tmp_path, "社区编码,是否实现多网合一,常住人口\nA,是\n")
    assert ds.records == [{"grid": True, "population": None}]


def test_duplicate_community_ids(tmp_path):
    ds = load_text(tmp_path, "社区编码,社区,是否实现多网合一\nA,一,是\nB,二,是\nA,三,否\n")
    dup = [p for p in ds.problems if p.severity == "error" and p.row is not None]
    assert [(p.row, p.column, p.raw, p.message) for p in dup] == [
        (4, "社区编码", "A", "duplicate community id (first on row 2)")
    ]
    assert len(ds.records) == 3  # the row is kept


def test_duplicate_community_names_without_codes(tmp_path):
    ds = load_text(tmp_path, "社区,是否实现多网合一\n一社区,是\n一社区,否\n")
    dup = [p for p in ds.problems if p.severity == "error" and p.row is not None]
    assert [(p.row, p.column, p.raw) for p in dup] == [(3, "社区", "一社区")]


# ---------------------------------------------------------------- JSON


def test_json_list_of_objects(tmp_path):
    items = [
        {
            "社区编码": "A",
            "社区": "一社区",
            "常住人口": 8000,
            "调解成功率": 85,
            "是否实现多网合一": True,
            "办公用房面积": "1,200",
            "成立日期": "2020-05-01",
        },
        {"社区编码": "B", "常住人口": None, "调解成功率": "90%", "是否实现多网合一": "否"},
        {"社区编码": "C", "常住人口": 12.5, "调解成功率": 1.5, "是否实现多网合一": "否"},
    ]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    ds = load(path, MODEL)
    assert ds.records[0] == {
        "population": 8000,
        "area": 1200.0,
        "rate": pytest.approx(0.85),  # a number for a percent input means 85%
        "grid": True,
        "founded": dt.date(2020, 5, 1),
    }
    assert ds.records[1]["population"] is None
    assert ds.records[1]["rate"] == pytest.approx(0.9)
    assert ds.records[1]["grid"] is False
    assert ds.rows == [1, 2, 3]  # record numbers
    assert [m["community_id"] for m in ds.meta] == ["A", "B", "C"]
    bad = [(p.row, p.column, p.raw, p.message) for p in ds.problems if p.row is not None]
    assert bad == [(3, "常住人口", "12.5", "not a whole number")]


def test_json_object_with_a_list(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(
        json.dumps({"communities": [{"community_id": "A", "grid": "是"}]}), encoding="utf-8"
    )
    ds = load(path, MODEL)
    assert ds.records[0]["grid"] is True


def test_jsonl(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(
        '{"community_id": "A", "population": 5, "grid": true}\n'
        "\n"
        '{"community_id": "B", "population": "六", "grid": false}\n',
        encoding="utf-8",
    )
    ds = load(path, MODEL)
    assert [r["population"] for r in ds.records] == [5, None]
    assert [r["grid"] for r in ds.records] == [True, False]
    assert ds.rows == [1, 3]  # lines in the file
    bad = [(p.row, p.raw) for p in ds.problems if p.row is not None]
    assert bad == [(3, "六")]


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[\n  {"community_id": "A"},\n  {"grid": }\n]\n', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load(path, MODEL)
    assert str(exc.value) == f"{path}:3:12: not valid JSON: Expecting value"


def test_invalid_jsonl_names_the_line_in_the_file(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"community_id": "A"}\n\n{"grid": }\n', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load(path, MODEL)
    assert str(exc.value) == f"{path}:3:10: not valid JSON: Expecting value"


def test_json_that_is_not_a_list_of_objects(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(DataError, match="expected a list of objects"):
        load(path, MODEL)


# ---------------------------------------------------------------- unreadable files


def test_unsupported_extension(tmp_path):
    path = tmp_path / "data.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError) as exc:
        load(path, MODEL)
    assert (
        str(exc.value)
        == f"{path}: unsupported data format .docx (use .csv, .xlsx, .json, .jsonl or .parquet)"
    )


def test_binary_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)))
    with pytest.raises(DataError) as exc:
        load(path, MODEL)
    assert str(exc.value) == f"{path}: a binary file, not CSV"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError) as exc:
        load(path, MODEL)
    assert str(exc.value) == f"{path}: no such file"


def test_folder(tmp_path):
    # a folder is DATA (its files, tests/test_data_cases_multi.py); an
    # empty one is an error, and a reader is never given a folder
    with pytest.raises(DataError, match="the folder holds no data file"):
        load(tmp_path, MODEL)
    from zhili.engine.io.readers import read_raw

    with pytest.raises(DataError, match="is a folder"):
        read_raw(tmp_path)


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match="the file is empty"):
        load(write(tmp_path, ""), MODEL)


def test_a_problem_quotes_a_long_cell_cut_but_keeps_it_whole():
    from zhili.engine.io.table import RAW_SHOWN, DataProblem

    p = DataProblem("a.csv", 2, "常住人口", "x" * 40_000, "not a number")
    assert p.raw == "x" * 40_000
    text = str(p)
    assert len(text) < RAW_SHOWN + 60 and text.endswith("…')")
    assert str(DataProblem("a.csv", 2, "常住人口", "12abc", "not a number")).endswith("('12abc')")


def test_a_header_below_many_blank_rows_is_found_in_csv_and_xlsx(tmp_path):
    """More blank rows above the header than the header search looks at
    (30): a CSV was an internal error (its first, empty line taken for the
    header), a workbook "sheet is empty"; the search skips blank rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(2, 41):
        ws.cell(row=r, column=2, value=" ")  # blank, but written
    ws.cell(row=44, column=1, value="2026年评估")  # a title, not right above the header
    ws.cell(row=44, column=2, value="数据")
    for j, h in enumerate(["社区编码", "社区", "", "是否实现多网合一"], start=1):
        ws.cell(row=46, column=j, value=h or None)
    for j, v in enumerate(["A1", "长青", None, "是"], start=1):
        ws.cell(row=47, column=j, value=v)
    wb.save(tmp_path / "b.xlsx")
    ds = load(tmp_path / "b.xlsx", MODEL)
    assert ds.frame.get_column("community").to_list() == ["长青"]
    assert ds.frame.get_column("row").to_list() == [47]
    assert ds.frame.get_column("in.grid").to_list() == [True]
    # the title two rows up does not name the empty header cell
    assert not [p for p in ds.problems if "数据" in (p.message or "")]
    ds = load_text(
        tmp_path, "\n" * 45 + ",,,\n" * 5 + FULL_HEADER + "\nA1,金台区,,长青,,,,是,,,,\n"
    )
    assert ds.frame.get_column("community").to_list() == ["长青"]
    assert ds.frame.get_column("row").to_list() == [52]
