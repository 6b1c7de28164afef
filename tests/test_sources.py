"""Inputs from elsewhere (issue 14, D1): last period's value (`previous`),
points given by another body (`score … by`) and the checking method
(`method`), through the CLI as a user meets them: check, eval on both
backends, explain in both languages, the gap, the template and the reports."""

from __future__ import annotations

import json
import math
from pathlib import Path

import openpyxl
import pytest
from cli_helpers import zhili

from zhili.dsl import codes
from zhili.dsl import model as ir
from zhili.dsl.checker import check
from zhili.dsl.formatter import format_source
from zhili.dsl.parser import parse
from zhili.engine.eval import columns
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.io.data import load

MODEL = """\
model 平安 "平安社区考核"
version "1"
issuer "区委政法委"
source "平安社区创建评分表"

input 党建评分: number label "社区党建得分"
input 案件数: int label "一般案件数" range 0..10000
input 上年案件数: int label "上年一般案件数" range 0..10000 previous 案件数
input 走访率: percent label "入户走访率"

# 社区党建10分，由区委组织部评分
indicator 党建 "社区党建" points 10 {
    score 党建评分 by "区委组织部"
    method "查资料"
}
# 一般刑事案件发案数同比上升的不得分
indicator 发案 "发案情况" points 5 {
    pass when 案件数 <= 上年案件数
    method "查资料、看现场"
}
indicator 走访 "入户走访" points 5 {
    linear 走访率 from 60% to 100%
    method "随机调查"
}

grades {
    "达标" when total >= 16
    "未达标" otherwise
}
"""

DATA = """\
社区编码,社区,社区党建得分,一般案件数,上年一般案件数,入户走访率
A1,金台,8,3,5,100%
A2,渭滨,12,6,5,80%
A3,陈仓,-1,2,,90%
A4,高新,7.5,4,4,60%
"""


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    model = tmp_path / "ping_an.gov"
    model.write_text(MODEL, encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text(DATA, encoding="utf-8")
    return model, data


def checked(text: str = MODEL) -> ir.Model:
    result = check(parse(text, "m.gov").tree, text)
    assert result.model is not None, [str(d) for d in result.diagnostics]
    assert [d for d in result.diagnostics if d.severity != "info"] == []
    return result.model


def test_ir_records_previous_score_and_method():
    model = checked()
    assert model.input("上年案件数").previous == "案件数"
    assert model.input("案件数").previous is None
    party = model.indicator("党建")
    assert isinstance(party.scoring, ir.Score) and party.scoring.by == "区委组织部"
    assert party.method == "查资料"
    # the IR survives its JSON form (the run store and caches keep it so)
    again = ir.Model.model_validate_json(model.model_dump_json())
    assert again.input("上年案件数").previous == "案件数"
    assert again.indicator("党建").scoring == party.scoring
    assert again.indicator("走访").method == "随机调查"


def test_formatter_keeps_the_new_forms():
    out, diags = format_source(MODEL, "m.gov")
    assert out is not None, diags
    assert 'score 党建评分 by "区委组织部"' in out
    assert "previous 案件数" in out and 'method "查资料、看现场"' in out
    assert format_source(out, "m.gov")[0] == out
    assert parse(out, "m.gov").tree == parse(MODEL, "m.gov").tree


def test_eval_clamps_a_score_and_says_so_on_both_backends(files):
    model, data = files
    runs = {}
    for backend in ("vectorized", "reference"):
        result = zhili("eval", model, data, "--format", "json", "--no-record", "--backend", backend)
        assert result.exit_code == 0, result.output
        runs[backend] = json.loads(result.stdout)
    got = runs["vectorized"]
    assert got == runs["reference"] or _same_results(got, runs["reference"])
    by_id = {c["community_id"]: c for c in got["communities"]}
    assert by_id["A1"]["total"] == 8 + 5 + 5
    assert by_id["A2"]["total"] == 10 + 0 + 2.5  # 12 given, the item has 10 points
    assert by_id["A3"]["total"] == 0 + 0 + 3.75  # -1 counts 0; last year missing
    assert by_id["A4"]["total"] == 7.5 + 5 + 0
    clamped = [p for p in got["data_problems"] if p["code"] == "data-score-clamped"]
    assert [(p["row"], p["column"], p["raw"]) for p in clamped] == [
        (3, "社区党建得分", "12"),
        (4, "社区党建得分", "-1"),
    ]
    assert all(p["severity"] == "warning" for p in clamped)


def _same_results(a: dict, b: dict) -> bool:
    keys = ("community_id", "total", "grade", "missing_count")
    return [[c.get(k) for k in keys] for c in a["communities"]] == [
        [c.get(k) for k in keys] for c in b["communities"]
    ]


def test_backends_agree_to_the_bit_on_scores(tmp_path):
    """Scores of an expression and of decimals, clamped or not: the points
    of both backends are the same doubles."""
    text = MODEL.replace("score 党建评分 by", "score 党建评分 * 2 / 3 by")
    model = checked(text)
    rows = ["社区编码,社区党建得分,一般案件数,上年一般案件数,入户走访率"]
    values = [0, 0.1, 0.2, 1 / 3, 2.5, 7.35, 9.999, 14.9999, 15, 15.1, -0.5, 100, "", "-0"]
    for i, v in enumerate(values):
        rows.append(f"C{i},{v},1,1,70%")
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ds = load(data, model)
    vec = evaluate_dataset(model, ds, backend="vectorized").table
    compiled = compile_model(model)
    points = vec.get_column(columns.ind_points("党建")).to_list()
    assert len(points) == len(values)
    for i, record in enumerate(ds.records):
        want = float(compiled.evaluate(record, {}).points[0])
        assert points[i].hex() == want.hex(), (values[i], points[i], want)
        assert math.copysign(1, points[i]) == math.copysign(1, want)  # no -0.0 on one side
    assert points[1] == 0.066666667 and points[8] == 10.0 and points[10] == 0.0
    assert points[13].hex() == "0x0.0p+0"  # "-0" scores 0, not -0


def test_explain_in_words_in_chinese_and_english(files):
    model, data = files
    zh = zhili("explain", model, data, "-c", "A2", lang="zh")
    assert zh.exit_code == 0, zh.output
    assert "由区委组织部评分：10 分（满分 10）（填报 12，按 0..10 计）" in zh.stdout
    assert "考核方式：查资料、看现场" in zh.stdout
    assert "（案件数的上期值）" in zh.stdout
    en = zhili("explain", model, data, "-c", "A1")
    assert "scored by 区委组织部: 8 points (of 10)" in en.stdout
    assert "(given" not in en.stdout.split("社区党建")[1].split("\n")[1]
    assert "checking method: 随机调查" in en.stdout
    assert "(last period's 案件数)" in en.stdout


def test_gap_names_the_body_that_gives_the_points(files):
    model, data = files
    result = zhili("explain", model, data, "-c", "A4", "--json")
    gap = json.loads(result.stdout)["gap"]
    texts = [i["text"] for i in gap["items"]]
    party = [t for t in texts if t.startswith("社区党建")]
    assert party == ["社区党建: needs 2.5 more points from 区委组织部 (the total needs 3.5)"], texts
    zh = zhili("explain", model, data, "-c", "A4", lang="zh")
    assert "社区党建：还需区委组织部多评 2.5 分" in zh.stdout


def test_gap_never_suggests_changing_last_periods_value(files):
    """A2 rose from 5 to 6 cases: the gap may say 6 → 5, never last year 5 → 6."""
    model, data = files
    result = zhili("explain", model, data, "-c", "A2", "--json")
    gap = json.loads(result.stdout)["gap"]
    changed = [i["id"] for i in gap["items"] if i["kind"] == "change"]
    assert "案件数" in changed and "上年案件数" not in changed, gap["items"]


def test_template_shows_method_scorer_and_last_period(files, tmp_path):
    model, _ = files
    out = tmp_path / "t.xlsx"
    assert zhili("template", model, "-o", out).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["数据"]
    comments = {c.value: c.comment.text for c in ws[1] if c.comment}
    assert "由区委组织部评分" in comments["社区党建得分"]
    assert "考核方式：查资料" in comments["社区党建得分"]
    assert "上期：填 案件数 的上期数值" in comments["上年一般案件数"]
    assert (
        "由" not in comments["入户走访率（%）"]
        and "考核方式：随机调查" in comments["入户走访率（%）"]
    )
    info = list(wb["填表说明"].iter_rows(values_only=True))
    head = next(r for r in info if r and r[0] == "列名")
    assert head[-2:] == ("考核方式", "评分单位")
    rows = {r[1]: dict(zip(head, r, strict=False)) for r in info if r and r[1]}
    assert rows["党建评分"]["考核方式"] == "查资料" and rows["党建评分"]["评分单位"] == "区委组织部"
    assert rows["案件数"]["考核方式"] == "查资料、看现场" and not rows["案件数"]["评分单位"]
    assert "上期" in rows["上年案件数"]["说明"]


def test_template_without_methods_keeps_its_columns(tmp_path):
    out = tmp_path / "t.xlsx"
    assert zhili("template", "four_type", "-o", out).exit_code == 0
    info = list(openpyxl.load_workbook(out)["填表说明"].iter_rows(values_only=True))
    head = next(r for r in info if r and r[0] == "列名")
    assert "考核方式" not in head and "评分单位" not in head


@pytest.mark.parametrize("fmt", ["md", "html", "xlsx"])
def test_reports_show_method_and_scorer(files, tmp_path, fmt):
    model, data = files
    out = tmp_path / f"r.{fmt}"
    result = zhili("report", model, data, "-o", out, "--no-record", lang="zh")
    assert result.exit_code == 0, result.output
    if fmt == "xlsx":
        wb = openpyxl.load_workbook(out)
        ws = wb.worksheets[2]
        rows = list(ws.iter_rows(values_only=True))
        head = rows[0]
        assert "考核方式" in head and "评分单位" in head
        by_id = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
        assert by_id["党建"]["考核方式"] == "查资料" and by_id["党建"]["评分单位"] == "区委组织部"
        assert by_id["走访"]["考核方式"] == "随机调查" and not by_id["走访"]["评分单位"]
    else:
        text = out.read_text(encoding="utf-8")
        assert "考核方式" in text and "评分单位" in text
        assert "区委组织部" in text and "随机调查" in text


def test_reports_without_methods_have_no_such_columns(tmp_path):
    out = tmp_path / "r.md"
    sample = Path(__file__).resolve().parent.parent / "plugins" / "four_type" / "sample.csv"
    assert zhili("report", "four_type", sample, "-o", out, "--no-record").exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "checking method" not in text and "scored by" not in text


def test_a_declared_range_is_checked_before_clamping(tmp_path):
    """With `range 0..10` on the scored input, 12 is outside the input's
    range: missing, as for any input (data-invalid-value), not clamped."""
    text = MODEL.replace(
        'input 党建评分: number label "社区党建得分"',
        'input 党建评分: number label "社区党建得分" range 0..10',
    )
    model = checked(text)
    data = tmp_path / "d.csv"
    data.write_text(DATA, encoding="utf-8")
    ds = load(data, model)
    got = {(p.row, p.code) for p in ds.problems if p.column == "社区党建得分"}
    assert got == {(3, codes.DATA_INVALID_VALUE.code), (4, codes.DATA_INVALID_VALUE.code)}


DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"
SECTIONS = (
    "### Last period's values (previous)",
    "### Scores given by another body, checking method (score … by, method)",
)


def _doc_models(heading: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    body = text.split(heading, 1)[1].split("\n#", 1)[0]
    return [b.split("```", 1)[0] for b in body.split("```gov\n")[1:]]


@pytest.mark.parametrize("heading", SECTIONS)
def test_the_documented_examples_check_and_evaluate(heading, tmp_path):
    """The worked examples of docs/language.md are whole models that check
    without a warning, are formatted, and evaluate."""
    examples = _doc_models(heading)
    assert examples, heading
    for source in examples:
        model = checked(source)
        assert format_source(source, "doc.gov")[0] == source
        record = {}
        for f in model.inputs:
            record[f.id] = {"int": 3, "number": 8.0, "percent": 0.8}[f.type]
        raw = compile_model(model).evaluate(record, {})
        assert raw.total is not None and raw.grade is not None
