"""Events around any scoring form (前提、清零、免检): the IR the checker builds,
composition (`extends`, `override`), the explanation in words (zh and en),
the gap analysis and the formatter. The evaluation semantics (precedence,
unknown conditions, both backends) are in tests/semantics/events.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zhili.dsl.checker import check
from zhili.dsl.formatter import format_source
from zhili.dsl.i18n import set_language
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.eval.vectorized import VectorModel, frame_from_records
from zhili.engine.plugins import FileResolver
from zhili.engine.trace.explain import explain_text
from zhili.engine.trace.results import build_result

CASES = Path(__file__).resolve().parent / "cases"

SHEET = """\
model 活动考核 "活动考核"
version "1"
issuer "测试"
source "测试"
total 15

input 活动次数: int label "全年活动次数" range 0..1000
input 闲置月数: int range 0..12
input 责任事故: bool
input 重大事故: bool
input 平安单位: bool
input 达标: bool

indicator 活动 "活动开展" points 5 {
    requires 活动次数 >= 58 "全年活动不少于58次"
    deduct 1 per 闲置月数 max 5
    zero when 责任事故 "发生有责安全事故"
}
dimension 安全 "安全生产" points 10 {
    zero when 重大事故 "发生重大安全事故"
    indicator 项17 points 5 { pass when 达标 }
    indicator 项18 points 5 { pass when 达标 }
}
exempt 平安 "市级平安单位免检" from 安全 when 平安单位

grades { "达标" when total >= 12  "未达标" otherwise }
"""

BASE = dict(活动次数=60, 闲置月数=0, 责任事故=False, 重大事故=False, 平安单位=False, 达标=True)


def _model(text: str = SHEET):
    parsed = parse(text, "sheet.gov")
    assert parsed.ok, parsed.diagnostics
    result = check(parsed.tree, text)
    assert result.model is not None, result.diagnostics
    return result.model


def _indicator_reason(model, record: dict, ind_id: str) -> str:
    result = compile_model(model).evaluate(record).to_result()
    return next(i.reason for i in result.indicators if i.id == ind_id)


def test_the_ir_carries_gates_zero_events_and_resolved_exemptions():
    model = _model()
    act = model.indicator("活动")
    assert act.requires is not None and act.requires.label == "全年活动不少于58次"
    assert act.requires.condition.text == "活动次数 >= 58"
    assert [z.label for z in act.zero] == ["发生有责安全事故"]
    assert [z.label for z in model.dimension("安全").zero] == ["发生重大安全事故"]
    [ex] = model.exemptions
    # a dimension named in `from` stands for every indicator in it
    assert (ex.id, ex.names, ex.indicators) == ("平安", ["安全"], ["项17", "项18"])
    # the IR round-trips through its JSON form (the run store keeps models)
    assert type(model).model_validate_json(model.model_dump_json()) == model


@pytest.mark.parametrize(
    ("lang", "change", "ind", "reason"),
    [
        ("zh", {"平安单位": True, "达标": False}, "项17", "免检（市级平安单位免检）：得满分 5"),
        (
            "en",
            {"平安单位": True, "达标": False},
            "项17",
            "exempt (市级平安单位免检): full 5 points",
        ),
        ("zh", {"责任事故": True}, "活动", "清零：发生有责安全事故"),
        ("en", {"责任事故": True}, "活动", "zeroed: 发生有责安全事故"),
        ("zh", {"重大事故": True}, "项18", "清零：发生重大安全事故"),
        ("zh", {"活动次数": 40}, "活动", "未达到前提：全年活动不少于58次（活动次数 40）"),
        ("en", {"活动次数": 40}, "活动", "requirement not met: 全年活动不少于58次 (活动次数 40)"),
        (
            "zh",
            {"责任事故": None},
            "活动",
            "缺失：无法判断是否清零（发生有责安全事故）：`责任事故` 没有数值",
        ),
        (
            "en",
            {"活动次数": None},
            "活动",
            "missing: cannot tell whether the requirement holds (全年活动不少于58次): "
            "no value for `活动次数`",
        ),
    ],
)
def test_reasons_in_words(lang, change, ind, reason):
    model = _model()
    set_language(lang)
    try:
        assert _indicator_reason(model, {**BASE, **change}, ind) == reason
    finally:
        set_language("en")


def test_an_exemption_that_cannot_be_decided_is_said_and_the_item_scored_normally():
    model = _model()
    reason = _indicator_reason(model, {**BASE, "平安单位": None, "达标": False}, "项17")
    assert reason == (
        "达标 does not hold; exemption 市级平安单位免检 could not be decided "
        "(no value for `平安单位`): scored normally"
    )


def test_the_explanation_shows_the_values_of_the_deciding_condition():
    model = _model()
    raw = compile_model(model).evaluate({**BASE, "活动次数": 40, "闲置月数": 2})
    text = explain_text(raw)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "[活动]" in line)
    assert lines[at + 1].strip() == "requirement not met: 全年活动不少于58次 (活动次数 40)"
    assert lines[at + 2].strip() == "活动次数 「全年活动次数」 = 40"


def test_gap_says_a_zeroed_item_cannot_be_regained_by_its_value():
    model = _model()
    result = compile_model(model).evaluate({**BASE, "责任事故": True}).to_result()
    assert result.grade == "未达标" and result.gap is not None
    texts = [i.text for i in result.gap.items if i.id == "活动"]
    assert texts == [
        "活动开展: zeroed by 发生有责安全事故; its points cannot be regained by its value "
        "(the event must not happen)"
    ]


def test_exempt_items_have_no_gap_and_an_unmet_gate_says_what_it_takes():
    model = _model()
    record = {**BASE, "平安单位": True, "达标": False, "活动次数": 10}
    result = compile_model(model).evaluate(record).to_result()
    assert result.total == 10 and result.grade == "未达标"
    ids = [i.id for i in result.gap.items if i.kind == "indicator"]
    assert ids == ["活动"]  # 项17 and 项18 are exempt: full, nothing to gain
    [item] = [i for i in result.gap.items if i.kind == "indicator"]
    assert item.text == (
        "活动开展: the requirement 全年活动不少于58次 is not met; up to 5 points once it is"
    )


def test_gap_search_finds_the_event_inputs():
    model = _model()
    result = build_result(compile_model(model).evaluate({**BASE, "活动次数": 40}), search=True)
    changes = [i for i in result.gap.items if i.kind == "change"]
    assert {c.id for c in changes} >= {"活动次数"}
    found = next(c for c in changes if c.id == "活动次数")
    assert found.needed == 58  # the gate's threshold, found by bisection


def test_formatter_round_trip_keeps_the_events():
    messy = SHEET.replace(
        '    requires 活动次数 >= 58 "全年活动不少于58次"\n    deduct 1 per 闲置月数 max 5\n',
        "    deduct 1 per 闲置月数 max 5   # 每闲置一个月扣1分\n"
        '    requires 活动次数>=58 "全年活动不少于58次"\n',
    ).replace("from 安全 when", "from 安全,项17 when")
    once, diags = format_source(messy, "m.gov")
    assert once is not None, diags
    twice, _ = format_source(once, "m.gov")
    assert once == twice
    assert parse(once).tree == parse(messy).tree
    # the canonical order: the gate first, then the form, then zero events
    block = once[once.index("indicator 活动") :]
    assert (
        block.index("requires 活动次数 >= 58")
        < block.index("deduct 1 per")
        < block.index("zero when 责任事故")
    )
    assert "# 每闲置一个月扣1分" in once
    assert 'exempt 平安 "市级平安单位免检" from 安全, 项17 when 平安单位' in once


def _composed(name: str):
    folder = CASES / "override_with_events"
    files = sorted(folder.glob("*.gov"))
    resolver = FileResolver(files, display=lambda p: p.name)
    parsed = resolver.parsed(folder / name)
    result = check(parsed.tree, parsed.text, resolve=resolver)
    assert result.model is not None, result.diagnostics
    return result.model


def test_extends_keeps_base_events_adds_exemptions_and_override_replaces_the_gate():
    model = _composed("child.gov")
    act = model.indicator("活动")
    # `override 活动 requires …` replaced the gate, and kept the zero event
    assert act.requires.condition.text == "活动次数 >= 40"
    assert [z.label for z in act.zero] == ["发生有责安全事故"]
    # the child's `dimension 安全 { zero when … }` joined the base dimension
    assert [z.label for z in model.dimension("安全").zero] == ["发生重大安全事故"]
    # the base exemption lost the dropped 项18; the child added its own
    assert [(e.id, e.indicators) for e in model.exemptions] == [
        ("平安", ["项17"]),
        ("示范", ["活动"]),
    ]
    base = dict(活动次数=45, 闲置月数=1, 责任事故=False, 平安单位=False, 达标=True)
    base |= dict(示范单位=False, 重大事故=False)
    records = [
        base,
        {**base, "活动次数": 30},
        {**base, "活动次数": 30, "示范单位": True},
        {**base, "重大事故": True, "平安单位": True},
    ]
    compiled = compile_model(model)
    want = [(4.0, 10.0), (0.0, 10.0), (5.0, 10.0), (4.0, 0.0)]
    got = [(r.points[0], r.points[1]) for r in map(compiled.evaluate, records)]
    assert got == want
    table = VectorModel(model).evaluate(frame_from_records(model, records))
    assert list(zip(table["ind.活动.points"], table["ind.项17.points"], strict=True)) == want


def test_diff_model_names_changed_gates_zero_events_and_exemptions():
    from zhili.engine.runs.modeldiff import diff_models, render_diff

    old = _model()
    new = _model(
        SHEET.replace("活动次数 >= 58", "活动次数 >= 40")
        .replace('    zero when 重大事故 "发生重大安全事故"\n', "")
        .replace("from 安全 when", "from 项17 when")
    )
    changes = {(c["what"], c["id"], c["kind"]): (c["old"], c["new"]) for c in diff_models(old, new)}
    assert changes == {
        ("indicator", "活动", "events"): (
            "requires 活动次数 >= 58  zero when 责任事故",
            "requires 活动次数 >= 40  zero when 责任事故",
        ),
        ("dimension", "安全", "events"): ("zero when 重大事故", ""),
        ("exemption", "平安", "scoring"): ("from 安全 when 平安单位", "from 项17 when 平安单位"),
    }
    text = render_diff(old, new, diff_models(old, new), None)
    assert "~ exemption 平安 scoring: from 安全 when 平安单位 → from 项17 when 平安单位" in text


def test_sample_data_treat_zero_events_as_bad_and_gates_as_good():
    from zhili.engine.sample import polarity

    signs = polarity(_model())
    assert signs["责任事故"] == -1 and signs["重大事故"] == -1
    assert signs["活动次数"] == 1 and signs["平安单位"] == 1
