"""Deductions (扣分) in words and in the gap analysis, and the formatter's
layout of them (docs/language.md, "Deductions (扣分)"). The points of every
form on both backends are in tests/semantics/deductions.toml."""

from __future__ import annotations

import pytest

from zhili.dsl.checker import check
from zhili.dsl.formatter import format_source
from zhili.dsl.i18n import set_language
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.trace.explain import explain_text
from zhili.engine.trace.results import build_result

SHEET = """model ping "平安社区"
total 40
input 重大案件: int label "重大恶性案件数" unit "起" range 0..100
input 治安案件: int label "治安案件数" unit "起" range 0..100
input 群体事件: bool label "发生群体性事件"
input 调处率: percent label "矛盾纠纷调处率"
input 满意度: percent label "群众满意度"
indicator 治安 "社会治安" points 20 {
    deduct max 20 {
        10 per 重大案件 "重大恶性案件"
        5 per 治安案件
        10 when 群体事件
        10 per 10% of 调处率 below 95%
    }
}
indicator 满意 "群众满意度" points 20 {
    deduct tiers 满意度 { < 80% : 5  < 90% : 1 }
}
grades { "优秀" when total >= 35  "合格" when total >= 20  "不合格" otherwise }
"""


@pytest.fixture
def compiled():
    parsed = parse(SHEET, "sheet.gov")
    checked = check(parsed.tree, SHEET)
    assert not [d for d in checked.diagnostics if d.is_error]
    return compile_model(checked.model)


@pytest.fixture
def zh():
    set_language("zh")
    yield
    set_language("en")


RECORD = {"重大案件": 1, "治安案件": 2, "群体事件": False, "调处率": 0.85, "满意度": 0.85}


def _reason(compiled, record, ind="治安"):
    result = build_result(compiled.evaluate(record))
    return next(i for i in result.indicators if i.id == ind)


def test_reason_lists_the_causes_that_deducted_in_english(compiled):
    r = _reason(compiled, RECORD)
    assert r.points == 0
    assert r.value == 20
    assert r.reason == (
        "−10: 重大恶性案件 1 起 × 10; −10: 治安案件数 2 起 × 5; "
        "−10: 矛盾纠纷调处率 85%, 1 step(s) of 10% below 95%; at most 20 deducted → 0 of 20"
    )
    # a cause that took nothing is not in the summary line
    assert "群体性事件" not in r.reason


def test_reason_in_chinese(compiled, zh):
    r = _reason(compiled, {**RECORD, "重大案件": 0, "治安案件": 1})
    assert r.reason == (
        "扣5分：治安案件数 1 起（每个扣5分）；扣10分：矛盾纠纷调处率 85%，低于 95% 1 档（每档 10%）；"
        "本项最多扣20分 → 得 5 分（满分 20）"
    )


def test_nothing_deducted(compiled, zh):
    clean = {**RECORD, "重大案件": 0, "治安案件": 0, "调处率": 0.95, "满意度": 0.9}
    assert _reason(compiled, clean).reason.startswith("未扣分；本项最多扣20分 → 得 20 分")
    assert _reason(compiled, clean, "满意").reason == "未扣分 → 得 20 分（满分 20）"


def test_tiers_reason(compiled):
    assert _reason(compiled, RECORD, "满意").reason == "−1: 群众满意度 85% < 90% → 19 of 20"


def test_missing_cause_names_the_input(compiled):
    r = _reason(compiled, {**RECORD, "群体事件": None})
    assert r.outcome == "missing"
    assert r.points == 0
    assert "群体事件" in r.reason


def test_explain_lists_every_cause_in_the_detail(compiled, zh):
    text = explain_text(compiled.evaluate(RECORD))
    assert "· 扣0分：未发生群体性事件" in text
    assert "· 扣10分：重大恶性案件 1 起（每个扣10分）" in text
    assert "调处率 「矛盾纠纷调处率」 = 85%" in text


def test_explain_says_a_cause_with_missing_data_cannot_be_decided(compiled, zh):
    """Not "未发生群体性事件" (does not hold) nor a tier that does not hold: unknown."""
    text = explain_text(compiled.evaluate({**RECORD, "群体事件": None, "满意度": None}))
    assert "· 发生群体性事件：无法判定（`群体事件` 没有数值）" in text
    assert "未发生群体性事件" not in text


def test_gap_names_what_each_cause_needs(compiled, zh):
    result = build_result(compiled.evaluate(RECORD))
    assert result.gap is not None and result.gap.next_grade == "合格"
    item = next(i for i in result.gap.items if i.id == "治安")
    assert "重大恶性案件 1 → 0（可挽回 10 分）" in item.text
    assert "治安案件数 2 → 0（可挽回 10 分）" in item.text
    # a shortfall under one whole step of 10% costs nothing: more than 85% is enough
    assert "矛盾纠纷调处率 85%：须高于 85%（可挽回 10 分）" in item.text


def test_gap_search_finds_fewer_occurrences(compiled):
    record = {**RECORD, "治安案件": 0, "调处率": 0.95}
    result = build_result(compiled.evaluate(record), search=True)
    # 10 (one serious case) deducted: 10 + 19 = 29 < 35; none → 39
    changes = [i for i in result.gap.items if i.kind == "change"]
    assert any(i.id == "重大案件" and i.needed == 0 for i in changes), changes


CANONICAL = """model m "M"

input a: int
input b: bool
input r: percent

indicator i "I" points 20 {
    deduct max 20 {
        10 per a "重大恶性案件" max 10  # 每起扣10分
        10 when b
        1 per 1% or part of r below 90%
        tiers r "满意度" {
            < 80% : 5
            < 90% : 1
        }
    }
}

indicator j points 5 {
    deduct 5 when b "发生"
}

indicator k points 5 {
    deduct tiers r {
        < 80% : 5
    }
}

grades {
    "ok" otherwise
}
"""

MESSY = """model m "M"
input a: int
input b: bool
input r: percent
indicator i "I" points 20 { deduct max 20 { 10 per a "重大恶性案件" max 10  # 每起扣10分
  10 when b    1 per 1%   or   part of r below 90%
  tiers r "满意度" { < 80% : 5  < 90% : 1 } } }
indicator j points 5 { deduct 5 when b "发生" }
indicator k points 5 { deduct tiers r { < 80% : 5 } }
grades { "ok" otherwise }
"""


def test_formatter_lays_out_deductions_and_keeps_the_tree():
    out, diags = format_source(MESSY, "m.gov")
    assert out == CANONICAL, diags
    assert format_source(out, "m.gov")[0] == out
    assert parse(out).tree == parse(MESSY).tree


def test_or_part_is_one_word_and_part_stays_a_name():
    src = "model m\ninput part: int\nlet x = part + 1\n"
    assert parse(src).ok


def test_the_documented_example_scores_and_reads_as_documented(zh):
    """docs/language.md, "Deductions (扣分)": the worked example checks, and
    the explanation quoted there is what `zhili explain` prints."""
    import pathlib
    import re

    doc = (pathlib.Path(__file__).parent.parent / "docs" / "language.md").read_text("utf-8")
    section = doc[doc.index("### Deductions (扣分)") :]
    block = re.search(r"```gov\n(.*?)```", section, re.S).group(1)
    src = f'model doc "例"\ntotal 20\n{block}\ngrades {{ "ok" otherwise }}\n'
    checked = check(parse(src, "doc.gov").tree, src)
    assert not [d for d in checked.diagnostics if d.is_error]
    compiled = compile_model(checked.model)
    record = {"重大案件": 1, "治安案件": 2, "群体事件": 0, "调处率": 0.85}
    reason = build_result(compiled.evaluate(record)).indicators[0].reason
    quoted = re.search(r"`zhili explain` says\n`([^`]*)`", section).group(1)
    assert reason == quoted


def test_a_threshold_outside_the_declared_range_is_reported():
    src = (
        "model m\ninput r: percent range 0%..100%\ninput n: int range 0..10\n"
        "indicator i points 10 { deduct max 10 {\n"
        "    1 per 10% of r below 120%\n    1 per 1 of n above 5\n    tiers r { < 150% : 2 }\n} }\n"
        'grades { "ok" otherwise }\n'
    )
    diags = check(parse(src, "m.gov").tree, src).diagnostics
    found = [(d.span.line, d.span.column) for d in diags if d.code == "threshold-out-of-range"]
    assert found == [(5, 26), (7, 17)]  # 120% and 150%; `above 5` is in 0..10


BILLIONTH = """model m "M"
total 10
input n: int range 0..10
indicator a "A" points 5 { deduct 0.000000001 per n }
indicator b "B" points 5 { score 5 }
grades { "满分" when total >= 10  "未满" otherwise }
"""


def test_gap_says_a_total_a_billionth_short_exactly():
    """9.999999999 is not 10: "total is 10, needs >= 10" (4 digits) said the
    grade was missed by nothing; the indicator a billionth short is the way."""
    checked = check(parse(BILLIONTH, "m.gov").tree, BILLIONTH)
    result = build_result(compile_model(checked.model).evaluate({"n": 1}), search=True)
    texts = [i.text for i in result.gap.items]
    assert "total is 9.999999999, needs >= 10" in texts, texts
    assert any(t.startswith("A: 0.000000001 more points possible") for t in texts), texts
