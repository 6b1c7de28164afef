"""Multi-select inputs (`set(…)`) end to end, and a test suite's shared
baseline `given`: the worked examples of docs/language.md, every data
format, both backends, explanations, the template, sample data, the
formatter (docs/language.md "Inputs" and "Tests", docs/data.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from zhili.dsl import sets
from zhili.dsl.checker import check, check_suite
from zhili.dsl.formatter import format_source as _format_source
from zhili.dsl.parser import parse
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.io import data
from zhili.engine.testing import run_case
from zhili.engine.trace.explain import explain_text
from zhili.engine.trace.results import build_result

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")

HEAD = 'model fields "服务与活动"\nversion "1"\nissuer "测试"\nsource "测试"\n'

FIELDS = (
    HEAD
    + """
input 服务领域: set("养老", "托幼", "就业", "助残") label "已开展服务领域"
input 活动次数: int label "全年活动次数" range 0..1000
input 满意率: percent label "群众满意率" range 0%..100%

indicator 领域 "服务领域" points 4 { linear count(服务领域) from 0 to 4 }
indicator 活动 "活动开展" points 3 { pass when 活动次数 >= 58 }
indicator 满意 "群众满意度" points 3 { pass when 满意率 >= 90% }

grades { "达标" when total >= 8  "未达标" otherwise }
"""
)


def _doc_block(after: str, lang: str = "gov") -> str:
    """The first fenced block of `lang` after the heading or text `after`."""
    start = LANGUAGE.index(after)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(LANGUAGE, start)
    assert m is not None, after
    return m.group(1)


def _model(source: str, file: str = "m.gov"):
    parsed = parse(source, file)
    assert parsed.ok, [str(d) for d in parsed.diagnostics]
    result = check(parsed.tree, source)
    errors = [str(d) for d in result.diagnostics if d.is_error]
    assert not errors, errors
    return result.model


def _both(model, ds) -> list[list[float]]:
    """Each backend's indicator points, row by row (they must agree)."""
    out = []
    for backend in ("reference", "vectorized"):
        ev = evaluate_dataset(model, ds, backend=backend, detail=True)
        assert ev.backend == backend
        out.append(
            [[row[f"ind.{i.id}.points"] for i in model.indicators] for row in ev.table.to_dicts()]
        )
    assert out[0] == out[1]
    return out[0]


def format_source(text: str, file: str) -> str:
    out, diags = _format_source(text, file)
    assert out is not None, [str(d) for d in diags]
    return out


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the worked example


def test_the_documented_example_scores_as_the_sheet_says(tmp_path):
    """已开展养老、托幼、就业、助残等服务领域，每个领域得1分，最多4分；开展养老服务的另得2分。"""
    block = _doc_block("### Multi-select inputs")
    model = _model(HEAD + block + '\ngrades { "全" when total >= 2  "缺" otherwise }\n')
    csv = _write_csv(
        tmp_path / "d.csv",
        [
            ["社区", "已开展服务领域"],
            ["甲", "养老、托幼"],
            ["乙", '"就业,助残，托幼;养老"'],
            ["丙", "无"],
            ["丁", ""],
        ],
    )
    ds = data.load(csv, model)
    assert not ds.problems
    assert _both(model, ds) == [[2.0, 2.0], [4.0, 2.0], [0.0, 0.0], [0.0, 0.0]]
    raw = compile_model(model).evaluate(ds.records[0], ds.meta[0])
    text = explain_text(raw, build_result(raw))
    assert "服务领域 「已开展服务领域」 = 「养老、托幼」" in text


def test_the_documented_baseline_suite_runs_as_written():
    model = _model(FIELDS)
    suite_text = _doc_block("**A shared baseline.**")
    parsed = parse(suite_text, "fields_tests.gov")
    assert parsed.ok, [str(d) for d in parsed.diagnostics]
    checked = check(parsed.tree, suite_text)
    assert not checked.diagnostics
    assert not check_suite(parsed.tree, model)
    compiled = compile_model(model)
    results = [
        run_case(c.model_copy(update={"file": "fields_tests.gov"}), compiled) for c in checked.tests
    ]
    assert [(r.case.name, r.failures, r.error) for r in results] == [
        (r.case.name, [], None) for r in results
    ]
    assert len(results) == 3


# ---------------------------------------------------------------- baseline given


SUITE = """tests for fields

given {
    服务领域 = ["养老", "托幼", "就业", "助残"]
    活动次数 = 60
    满意率 = 95%
}

test "基线" {
    expect total 10
}

test "覆盖一项" {
    given { 活动次数 = 10 }
    expect total 7
}

test "设为缺失" {
    given { 满意率 = missing }
    expect indicator 满意 missing
    expect total 7
}

test "字符串形式" {
    given { 服务领域 = "养老、 托幼" }
    expect indicator 领域 partial points 2
}

test "一项都没有" {
    given { 服务领域 = [] }
    expect indicator 领域 fail points 0
    expect missing 0
}
"""


def _suite(text: str):
    parsed = parse(text, "t.gov")
    assert parsed.ok, [str(d) for d in parsed.diagnostics]
    return parsed.tree, check(parsed.tree, text)


def test_each_test_overrides_the_baseline_one_input_at_a_time():
    tree, checked = _suite(SUITE)
    assert not checked.diagnostics
    assert tree.baseline is not None and len(tree.baseline) == 3
    given = {c.name: c.given for c in checked.tests}
    assert given["基线"] == {
        "服务领域": ["养老", "托幼", "就业", "助残"],
        "活动次数": 60,
        "满意率": 0.95,
    }
    assert given["覆盖一项"]["活动次数"] == 10 and given["覆盖一项"]["满意率"] == 0.95
    assert given["设为缺失"]["满意率"] is None
    compiled = compile_model(_model(FIELDS))
    for case in checked.tests:
        res = run_case(case.model_copy(update={"file": "t.gov"}), compiled)
        assert res.passed, (case.name, res.failures, res.error)


def test_a_wrong_expectation_on_the_baseline_fails():
    tree, checked = _suite(SUITE.replace("expect total 10", "expect total 9"))
    compiled = compile_model(_model(FIELDS))
    res = run_case(checked.tests[0].model_copy(update={"file": "t.gov"}), compiled)
    assert not res.passed and "got 10" in res.failures[0]


def test_given_values_are_checked_like_data():
    text = SUITE.replace("活动次数 = 60", "活动次数 = -1").replace(
        'given { 服务领域 = "养老、 托幼" }', 'given { 服务领域 = "养老、托育"  满意率 = 120% }'
    )
    tree, _checked = _suite(text)
    diags = check_suite(tree, _model(FIELDS))
    got = [(d.code, d.span.line, d.span.column) for d in diags]
    assert got == [
        ("given-out-of-range", 5, 12),
        ("unknown-enum-value", 25, 20),
        ("given-out-of-range", 25, 35),
    ]
    unknown = next(d for d in diags if d.code == "unknown-enum-value")
    assert "托育" in unknown.message and any("托幼" in n for n in unknown.notes)
    assert next(d for d in diags if d.code == "given-out-of-range").severity == "warning"


def test_a_list_for_an_input_that_is_not_a_set_is_a_type_error():
    tree, _ = _suite(SUITE.replace("活动次数 = 60", '活动次数 = ["养老"]'))
    assert [d.code for d in check_suite(tree, _model(FIELDS))] == ["type-mismatch"]


def test_formatter_keeps_the_baseline_and_the_lists():
    messy = SUITE.replace("given {\n    服务领域", "# 基线\ngiven {   服务领域").replace(
        "    活动次数 = 60\n", "  活动次数 = 60   # 次\n"
    )
    once = format_source(messy, "t.gov")
    assert format_source(once, "t.gov") == once
    assert '# 基线\ngiven {\n    服务领域 = ["养老", "托幼", "就业", "助残"]\n' in once
    assert "活动次数 = 60  # 次" in once
    assert parse(once, "t.gov").tree == parse(messy, "t.gov").tree


def test_formatter_round_trips_set_types_and_membership():
    src = FIELDS.replace(
        "pass when 满意率 >= 90%", 'pass when "养老" not in 服务领域 or("托幼" in 服务领域)'
    )
    once = format_source(src, "m.gov")
    assert 'input 服务领域: set("养老", "托幼", "就业", "助残") label "已开展服务领域"' in once
    assert '"养老" not in 服务领域 or ("托幼" in 服务领域)' in once
    assert format_source(once, "m.gov") == once
    assert parse(once, "m.gov").tree == parse(src, "m.gov").tree


# ---------------------------------------------------------------- data readers


def _cells_model():
    return _model(
        HEAD
        + """
input 服务领域: set("养老", "托幼", "就业", "助残", "AB") label "已开展服务领域"
indicator 领域 "服务领域" points 5 { linear count(服务领域) from 0 to 5 }
indicator 养老 "养老" points 1 { pass when "养老" in 服务领域 }
grades { "达标" otherwise }
"""
    )


CELLS = [
    ("养老、托幼", ["养老", "托幼"]),
    ("养老，托幼,就业；助残", ["养老", "托幼", "就业", "助残"]),
    ("就业 / 养老", ["养老", "就业"]),
    ("托幼\n托幼", ["托幼"]),
    (" ａｂ ; 养 老 ", ["养老", "AB"]),
    ("无", []),
    ('["就业", null]', ["就业"]),
]


@pytest.mark.parametrize(("cell", "values"), CELLS)
def test_a_cell_reads_as_its_selection(cell, values):
    f = _cells_model().input("服务领域")
    mask, problem = data.convert(cell, f)
    assert problem is None
    assert sets.decode(mask, f.values) == values


@pytest.mark.parametrize("cell", ["", "  ", "-", "/", "null"])
def test_an_empty_cell_is_missing_not_empty(cell):
    assert data.convert(cell, _cells_model().input("服务领域")) == (None, None)


@pytest.mark.parametrize("cell", ["、", ",;", "；、，", '[" ", ""]'])
def test_a_cell_of_separators_only_is_a_problem_not_none_selected(cell):
    """Only 无, 没有 and [] say that none is selected; a cell that lists no value is a problem."""
    f = _cells_model().input("服务领域")
    assert data.convert(cell, f) == (None, "lists no value (write 无 if none is selected)")
    assert data.convert("[]", f) == data.convert("[ ]", f) == (0, None)


def test_an_unlisted_value_is_a_problem_with_the_closest_value():
    f = _cells_model().input("服务领域")
    value, problem = data.convert("养老、托育", f)
    assert value is None
    assert "'托育'" in problem and "'托幼'" in problem
    assert data.convert("[1, 2]", f) == (None, "not a list of values")


@pytest.mark.parametrize("fast_from", [None, 1])
def test_the_column_conversion_matches_the_cell_conversion(fast_from):
    """The staged (and the large-table) column conversion give the reference's
    values and messages, cell for cell."""
    f = _cells_model().input("服务领域")
    cells = [c for c, _ in CELLS] + ["", None, "养老、托育", "就业", "养老、托幼"]
    frame = pl.DataFrame({"c": pl.Series(cells, dtype=pl.String)})
    out = data.convert_columns(frame, {"k": ("c", f)}, fast_from=fast_from)
    want = [data.convert(c, f) for c in cells]
    assert list(zip(out["in.k"].to_list(), out["p.k"].to_list(), strict=True)) == want


def _rows():
    return [
        ("甲", ["养老", "托幼"]),
        ("乙", []),
        ("丙", None),
        ("丁", ["托育"]),
        ("戊", ["助残", "养老", "就业"]),
    ]


def _expected_points():
    return [[2.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [3.0, 1.0]]


def _check_loaded(ds, file: str, column: str, row: int, sheet: str | None = None):
    problems = [p for p in ds.problems if p.severity != "info"]
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert (Path(p.file).name, p.row, p.column) == (file, row, column)
    assert "托育" in p.message and "托幼" in p.message
    assert p.code == "data-invalid-value"
    if sheet is not None:
        assert sheet in str(p)
    assert _both(_cells_model(), ds) == _expected_points()


def test_csv(tmp_path):
    lines = [["社区", "已开展服务领域"]]
    for name, values in _rows():
        lines.append([name, "" if values is None else ('"' + ("、".join(values) or "无") + '"')])
    path = _write_csv(tmp_path / "d.csv", lines)
    _check_loaded(data.load(path, _cells_model()), "d.csv", "已开展服务领域", 5)


def test_xlsx_with_line_breaks_in_a_cell(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["社区", "已开展服务领域"])
    for name, values in _rows():
        ws.append([name, None if values is None else ("\n".join(values) or "无")])
    path = tmp_path / "d.xlsx"
    wb.save(path)
    _check_loaded(data.load(path, _cells_model()), "d.xlsx", "已开展服务领域", 5, sheet="数据")


def _write_ods(path: Path, rows: list[list]) -> None:
    """A minimal OpenDocument spreadsheet: one sheet 数据, a line break in a
    cell written as two paragraphs (as LibreOffice writes it)."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(v) -> str:
        if v is None:
            return "<table:table-cell/>"
        paras = "".join(f"<text:p>{escape(p)}</text:p>" for p in str(v).split("\n"))
        return f'<table:table-cell office:value-type="string">{paras}</table:table-cell>'

    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = "".join(
        "<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="数据">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)


def test_ods_with_paragraphs_in_a_cell(tmp_path):
    rows = [["社区", "已开展服务领域"]]
    for name, values in _rows():
        rows.append([name, None if values is None else ("\n".join(values) or "无")])
    path = tmp_path / "d.ods"
    _write_ods(path, rows)
    _check_loaded(data.load(path, _cells_model()), "d.ods", "已开展服务领域", 5, sheet="数据")


def test_json_lists_and_strings(tmp_path):
    records = []
    for k, (name, values) in enumerate(_rows()):
        # a list, or (every other row) the string a cell would hold
        v = values if values is None or k % 2 == 0 else "、".join(values) or "无"
        records.append({"社区": name, "服务领域": v})
    path = tmp_path / "d.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    _check_loaded(data.load(path, _cells_model()), "d.json", "服务领域", 4)


def test_parquet_list_column(tmp_path):
    path = tmp_path / "d.parquet"
    pl.DataFrame(
        {
            "社区": [n for n, _ in _rows()],
            "服务领域": pl.Series([v for _, v in _rows()], dtype=pl.List(pl.String)),
        }
    ).write_parquet(path)
    _check_loaded(data.load(path, _cells_model()), "d.parquet", "服务领域", 4)


# ---------------------------------------------------------------- template and sample


def test_the_template_note_lists_the_values_and_the_separator(tmp_path):
    from zhili.engine.report.template import write_template

    path = tmp_path / "t.xlsx"
    write_template(_cells_model(), path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    header = next(c for c in ws[1] if c.value == "已开展服务领域")
    note = header.comment.text
    assert "可多选：养老、托幼、就业、助残、AB" in note
    assert "顿号“、”分隔" in note and "无" in note
    assert "只能单选" in note  # why there is no dropdown
    covered = {str(r) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    assert not any(r.startswith(header.column_letter) for r in covered)


def test_sample_data_reads_back_without_problems(tmp_path):
    from zhili.engine.sample import write_sample

    model = _cells_model()
    path = tmp_path / "s.csv"
    write_sample(model, path, rows=60, seed=3)
    ds = data.load(path, model)
    assert not [p for p in ds.problems if p.severity != "info"]
    masks = [r["服务领域"] for r in ds.records if r["服务领域"] is not None]
    assert len({m for m in masks}) > 5  # varied selections, not one value
    assert _both(model, ds)


def test_explanations_and_the_gap_print_selections_through_definitions(tmp_path):
    model = _model(
        HEAD
        + """
input 服务领域: set("养老", "托幼", "就业", "助残") label "已开展服务领域"
let 领域集 = 服务领域
indicator 领域 "服务领域" points 4 { tiers count(领域集) { >= 4: 4  >= 2: 2  else: 0 } }
indicator 养老 "养老" points 2 { pass when "养老" in 领域集 }
grades { "达标" when total >= 6  "未达标" otherwise }
"""
    )
    path = _write_csv(tmp_path / "d.csv", [["社区", "已开展服务领域"], ["甲", '"托幼,就业,助残"']])
    ds = data.load(path, model)
    raw = compile_model(model).evaluate(ds.records[0], ds.meta[0])
    result = build_result(raw, search=True)
    text = explain_text(raw, result)
    assert "领域集 = 服务领域 = 「托幼、就业、助残」" in text
    change = next(g for g in result.gap.items if g.kind == "change")
    assert change.id == "服务领域" and change.needed == ["养老", "托幼", "就业", "助残"]
    assert "also select 养老" in change.text


def test_a_models_own_tests_share_a_baseline_given():
    src = (
        FIELDS
        + """
# 共用的基准记录
given {
    服务领域 = ["养老", "托幼", "就业", "助残"]  # 全部
    活动次数 = 60
    满意率 = 95%
}

test "基线" {
    expect total 10
}

test "少一项" {
    given {
        服务领域 = "养老、托幼、就业"
        满意率 = 101%
    }
    expect total 9
}
"""
    )
    parsed = parse(src, "m.gov")
    assert parsed.ok
    checked = check(parsed.tree, src)
    assert [(d.code, d.span.line) for d in checked.diagnostics] == [("given-out-of-range", 30)]
    compiled = compile_model(checked.model)
    for case in checked.model.tests:
        res = run_case(case, compiled)
        assert res.passed, (case.name, res.failures)
    once = format_source(src, "m.gov")
    assert format_source(once, "m.gov") == once
    assert parse(once, "m.gov").tree == parsed.tree
    block = '# 共用的基准记录\ngiven {\n    服务领域 = ["养老", "托幼", "就业", "助残"]  # 全部\n'
    assert once.index(block) < once.index('test "基线"')  # before the tests, with its comments
