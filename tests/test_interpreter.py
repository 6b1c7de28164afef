"""Evaluation semantics of the reference interpreter (docs/language.md).

Every model here is a small `.gov` source string, parsed, checked, compiled and
evaluated for real; the assertions are the exact numbers and outcomes the
language reference prescribes. The tables of expression values, scoring-form
points and outcomes, missing-data policies and grades are data in
`tests/semantics/` and run on both backends (`tests/test_semantics.py`); what
stays here is what only the interpreter gives: reasons, traces, the result
form, gap analysis, resolved policies and properties.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import CompiledModel, compile_model
from zhili.engine.functions import DIV_ZERO, Missing
from zhili.engine.trace.results import CommunityResult


def build(src: str) -> CompiledModel:
    parsed = parse(src)
    assert parsed.ok, [str(d) for d in parsed.diagnostics]
    checked = check(parsed.tree, src)
    errors = [d for d in checked.diagnostics if d.is_error]
    assert not errors, [d.message for d in errors]
    return compile_model(checked.model)


def one(scoring: str, inputs: str, points: float = 10) -> CompiledModel:
    """A model with a single top-level indicator `x` worth `points`."""
    return build(
        f"""model m "M"
total {points}
{inputs}
indicator x "X" points {points} {{ {scoring} }}
grades {{ "ok" otherwise }}
"""
    )


def score(model: CompiledModel, **record) -> tuple[float, str]:
    """(points, outcome) of the model's first indicator."""
    r = model.evaluate(record)
    return r.points[0], r.outcomes[0]


def approx(points: float) -> pytest.approx:
    return pytest.approx(points, abs=1e-9)


# ---------------------------------------------------------------- scoring forms


class TestPassWhen:
    model = one("pass when flag", "input flag: bool", points=5)

    def test_reason(self):
        r = self.model.evaluate({"flag": False}).to_result()
        assert r.indicators[0].reason == "flag does not hold"
        assert self.model.evaluate({"flag": True}).to_result().indicators[0].reason == "flag holds"


class TestLinear:
    up = one("linear a from 10 to 20", "input a: number")

    def test_reason(self):
        r = self.up.evaluate({"a": 15}).to_result()
        assert r.indicators[0].reason == "a = 15; 0 points at 10, full at 20"


class TestTiers:
    ge = one(
        "tiers rate { >= 98% : 10  >= 95% : 6  >= 90% : 3 }",
        "input rate: percent",
    )

    def test_reason_names_the_tier(self):
        r = self.ge.evaluate({"rate": 0.96}).to_result()
        assert r.indicators[0].reason == "rate = 96% >= 95% → 6 points"
        r = self.ge.evaluate({"rate": 0.5}).to_result()
        assert r.indicators[0].reason == "rate = 50%: no tier reached → 0 points"


class TestDeduct:
    capped = one("deduct 2 per n max 6", "input n: int")

    def test_reason(self):
        r = self.capped.evaluate({"n": 1}).to_result()
        assert r.indicators[0].reason == "n = 1; 2 deducted per occurrence → 8 of 10"


BONUS_MODEL = build(
    """model m "M"
total 10
input flag: bool
input k: int
input award: bool
indicator base "基础" points 10 { pass when flag }
indicator extra "加分" points 5 { bonus 2 per k max 4 }
indicator extra2 "加分二" points 3 { bonus 1 per k }
indicator prize "获奖" points 2 { bonus when award }
grades { "ok" otherwise }
"""
)


class TestBonus:
    def test_added_on_top_of_the_declared_total(self):
        r = BONUS_MODEL.evaluate({"flag": True, "k": 3, "award": True})
        assert r.total == 10 + 4 + 3 + 2
        res = r.to_result()
        assert res.max_total == 10  # bonus points are not part of the declared total
        assert res.share == pytest.approx(1.9)
        flags = {i.id: i.bonus for i in res.indicators}
        assert flags == {"base": False, "extra": True, "extra2": True, "prize": True}


# ---------------------------------------------------------------- missing data


class TestMissingZero:
    @pytest.mark.parametrize(
        ("scoring", "inputs"),
        [
            ("pass when flag", "input flag: bool"),
            ("linear v from 0 to 10", "input v: number"),
            ("linear v from 10 to 0", "input v: number"),
            ("tiers v { >= 5 : 10  else : 3 }", "input v: number"),
            ("deduct 2 per v", "input v: int"),
            ("pass when not flag", "input flag: bool"),
        ],
    )
    def test_missing_input_in_the_result(self, scoring, inputs):
        # points, outcome and counts: tests/semantics/missing_policy.toml
        res = one(scoring, inputs).evaluate({}).to_result()
        assert res.indicators[0].outcome == "missing"
        assert res.indicators[0].value is None
        assert res.indicators[0].reason.startswith("missing: no value for `")

    def test_none_is_missing_not_zero(self):
        m = one("deduct 2 per n", "input n: int")
        assert score(m, n=None) == (0, "missing")  # 0 occurrences would be a pass
        assert score(m, n=0) == (10, "pass")

    def test_missing_reason_in_result(self):
        m = one("pass when flag", "input flag: bool")
        res = m.evaluate({}).to_result()
        assert res.indicators[0].reason == "missing: no value for `flag`"
        assert res.missing_reasons == {"flag": "no value for `flag`"}
        assert res.trace == {"flag": None}

    def test_dimension_counts_its_missing_indicators(self):
        m = build(
            """model m "M"
total 20
input a: bool
input b: bool
dimension outer "外" points 20 {
    dimension inner "内" points 10 {
        indicator x "X" points 10 { pass when a }
    }
    indicator y "Y" points 10 { pass when b }
}
grades { "ok" otherwise }
"""
        )
        res = m.evaluate({"b": True}).to_result()
        dims = {d.id: (d.score, d.missing, d.share) for d in res.dimensions}
        assert dims == {"outer": (10, 1, 0.5), "inner": (0, 1, 0.0)}
        assert res.missing_count == 1


SKIP_SRC = """model m "M"
total 100
input a: number
input b: bool
input c: bool
dimension s "S" points 60 missing skip {
    indicator p1 "P1" points 20 { linear a from 0 to 10 }
    indicator p2 "P2" points 40 { pass when b }
}
dimension u "U" points 40 {
    indicator q "Q" points 40 { pass when c }
}
grades {
    "A" when min_dimension >= 80%
    "C" otherwise
}
"""


class TestMissingSkip:
    model = build(SKIP_SRC)
    zero = build(SKIP_SRC.replace(" missing skip", ""))

    def test_skip_rescales_the_dimension(self):
        r = self.model.evaluate({"a": 5, "c": True})
        # p1 earns 10 of 20; p2 is left out: 10 / 20 × 60 = 30
        assert r.outcomes == ["partial", "missing", "pass"]
        assert r.dim_scores == [approx(30), 40]
        assert r.total == approx(70)
        assert r.missing_count == 1  # skipped indicators still count as missing
        res = r.to_result()
        assert res.dimensions[0].share == pytest.approx(0.5)
        assert res.indicators[1].points is None  # left out: not scored, not 0

    def test_all_skipped_dimension_is_excluded_and_total_rescaled(self):
        r = self.model.evaluate({"c": True})
        assert r.outcomes == ["missing", "missing", "pass"]
        # s is left out entirely; u earns 40 of the 40 available → 100 of 100
        assert r.total == approx(100)
        res = r.to_result()
        s = res.dimensions[0]
        # not scored: no score at all, not 0
        assert (s.score, s.share, s.missing) == (None, None, 2)
        # min_dimension is unknown while a dimension is not scored: "A" does not hold
        assert res.grade == "C"


class TestPolicyInheritance:
    model = build(
        """model m "M"
total 100
missing skip
input a: bool
input b: bool
input c: bool
input d: bool
dimension s "S" points 60 {
    indicator p1 "P1" points 20 { pass when a }
    indicator p2 "P2" points 40 { pass when b }
}
dimension u "U" points 40 missing zero {
    indicator q1 "Q1" points 10 { pass when c }
    indicator q2 "Q2" points 30 { pass when d  missing skip }
}
grades {
    "A" when min_dimension >= 80%
    "C" otherwise
}
"""
    )

    def test_resolved_policies(self):
        m = self.model.model
        assert {i.id: i.missing for i in m.indicators} == {
            "p1": "skip",  # from the model
            "p2": "skip",
            "q1": "zero",  # from its dimension
            "q2": "skip",  # its own
        }
        assert {d.id: d.missing for d in m.dimensions} == {"s": "skip", "u": "zero"}


# ---------------------------------------------------------------- expressions

EXPR_HEADER = """model m "M"
total 1
input x: number
input y: number
input i: int
input p: bool
input q: bool
input r: percent
input k: enum("甲", "乙", "丙")
input d: date
input s: text
indicator dummy "D" points 1 { pass when p }
grades { "ok" otherwise }
"""


# ---------------------------------------------------------------- division by zero


@pytest.mark.parametrize(
    "expr",
    ["workers / population", "per_10k(workers, population)", "ratio(workers, population) * 100"],
)
def test_division_by_zero_is_missing_with_a_reason(expr):
    m = build(
        f"""model m "M"
total 10
input workers: int
input population: int
let density "密度" = {expr}
indicator staff "配备" points 10 {{ linear density from 0 to 10 }}
grades {{ "ok" otherwise }}
"""
    )
    r = m.evaluate({"workers": 5, "population": 0})
    assert isinstance(r.env["density"], Missing)
    assert r.env["density"].reason == DIV_ZERO == "division by zero"
    assert (r.points[0], r.outcomes[0]) == (0, "missing")
    res = r.to_result()
    assert res.indicators[0].reason == "missing: division by zero"
    assert res.missing_reasons == {"density": "division by zero"}
    assert res.trace["density"] is None
    # with a population it is a value
    r = m.evaluate({"workers": 5, "population": 10000})
    assert r.outcomes[0] in ("partial", "pass")


def test_division_by_zero_inline_in_a_condition():
    m = one("pass when a / b >= 2", "input a: number\ninput b: number")
    res = m.evaluate({"a": 3, "b": 0}).to_result()
    assert (res.indicators[0].outcome, res.indicators[0].reason) == (
        "missing",
        "missing: division by zero",
    )
    assert res.missing_count == 1


# ---------------------------------------------------------------- vetoes

VETO_MODEL = build(
    """model m "M"
total 100
input rating: number
input accidents: int
input petitions: int
input complaints: int
dimension d "D" points 100 {
    indicator base "基础" points 100 { linear rating from 0 to 100 }
    veto accident "重大安全事故" when accidents > 0 caps "良好"
}
veto petition "越级上访" when petitions > 2 blocks "优秀"
veto other "其他" when complaints > 5
grades {
    "优秀" when total >= 90
    "良好" when total >= 75
    "合格" when total >= 60
    "不合格" otherwise
}
"""
)

CLEAN = {"rating": 95, "accidents": 0, "petitions": 0, "complaints": 0}


class TestVetoes:
    def grade(self, **changes):
        r = VETO_MODEL.evaluate(CLEAN | changes)
        return r.grade, r.vetoed

    def test_default_caps_at_the_lowest(self):
        assert self.grade(complaints=6) == ("不合格", ["other"])
        v = VETO_MODEL.model.vetoes[2]
        assert (v.effect, v.grade) == ("caps", "不合格")

    def test_missing_condition_is_not_triggered_but_counted(self):
        r = VETO_MODEL.evaluate({"rating": 95, "petitions": 0, "complaints": 0})
        assert r.grade == "优秀"
        assert r.vetoed == []
        assert r.missing_count == 1  # the veto's condition, not an indicator
        res = r.to_result()
        v = res.vetoes[0]
        assert (v.id, v.triggered) == ("accident", None)
        assert v.reason == "missing: no value for `accidents`"
        assert res.missing_count == 1

    def test_veto_results(self):
        res = VETO_MODEL.evaluate(CLEAN | {"accidents": 1}).to_result()
        assert [(v.id, v.dimension, v.triggered, v.effect, v.grade) for v in res.vetoes] == [
            ("accident", "d", True, "caps", "良好"),
            ("petition", None, False, "blocks", "优秀"),
            ("other", None, False, "caps", "不合格"),
        ]
        assert res.vetoes[0].reason == "accidents > 0 holds: veto triggered"
        assert res.vetoes[1].reason == "petitions > 2 does not hold"
        assert res.vetoes_triggered == ["accident"]


# ---------------------------------------------------------------- grades

GRADE_MODEL = build(
    """model m "M"
total 100
input a: number
input b: number
input n: int
dimension s "S" points 50 {
    indicator p1 "P1" points 20 { linear a from 0 to 10 }
    indicator p2 "P2" points 30 { linear b from 0 to 10 }
}
dimension u "U" points 50 {
    indicator q "Q" points 50 { deduct 10 per n }
}
veto v "V" when n > 4 caps "合格"
grades {
    "优秀" when not vetoed and min_dimension >= 80% and missing_count == 0
    "良好" when s >= 90% or p1 >= 20 and u >= 60%
    "合格" when total >= 50
    "不合格" otherwise
}
"""
)


class TestGrades:
    def test_first_matching_wins(self):
        m = build(
            """model m "M"
total 10
input a: number
indicator x "X" points 10 { linear a from 0 to 10 }
grades {
    "甲" when total >= 5
    "乙" when total >= 8
    "丙" otherwise
}
"""
        )
        assert m.evaluate({"a": 9}).grade == "甲"
        assert m.evaluate({"a": 4}).grade == "丙"
        assert m.evaluate({"a": 9}).grade_index == 0

    def test_result_env_names(self):
        r = GRADE_MODEL.evaluate({"a": 10, "b": 4, "n": 2})
        env = GRADE_MODEL.result_env(r)
        assert env["total"] == approx(62)
        assert env["share"] == approx(0.62)
        assert env["s"] == approx(0.64) and env["u"] == approx(0.6)
        assert env["min_dimension"] == approx(0.6)
        assert env["vetoed"] is False
        assert env["missing_count"] == 0
        assert (env["p1"], env["p2"], env["q"]) == (20, approx(12), 30)


# ---------------------------------------------------------------- gap to the next grade


class TestGap:
    def test_no_gap_at_the_best_grade(self):
        res = GRADE_MODEL.evaluate({"a": 10, "b": 10, "n": 0}).to_result()
        assert res.grade == "优秀"
        assert res.gap is None

    def test_total_condition_with_indicator_items(self):
        # total 30 → 不合格; next is 合格 (total >= 50)
        res = GRADE_MODEL.evaluate({"a": 0, "b": 5, "n": 3}).to_result()
        assert (res.total, res.grade) == (35, "不合格")
        gap = res.gap
        assert gap.next_grade == "合格"
        cond = gap.items[0]
        assert (cond.kind, cond.id, cond.current, cond.needed) == ("condition", "total", 35, 50)
        assert cond.text == "total is 35, needs >= 50"
        inds = [(g.id, g.current, g.needed, g.points_available) for g in gap.items[1:]]
        # most points to gain first
        assert inds == [("q", 20, 50, 30), ("p1", 0, 20, 20), ("p2", 15, 30, 15)]
        assert all(g.kind == "indicator" for g in gap.items[1:])
        assert gap.items[1].text == "Q: 30 more points possible (the total needs 15)"

    def test_dimension_condition(self):
        m = build(
            """model m "M"
total 100
input a: number
input b: number
dimension s "S" points 60 {
    indicator p1 "P1" points 20 { linear a from 0 to 10 }
    indicator p2 "P2" points 40 { linear b from 0 to 10 }
}
dimension u "U" points 40 {
    indicator q "Q" points 40 { pass when true }
}
grades {
    "优秀" when min_dimension >= 80%
    "合格" otherwise
}
"""
        )
        res = m.evaluate({"a": 5, "b": 5}).to_result()  # s = 10 + 20 = 30 of 60 (50%)
        assert res.grade == "合格"
        items = res.gap.items
        assert (items[0].kind, items[0].id, items[0].current, items[0].needed) == (
            "condition",
            "min_dimension",
            0.5,
            0.8,
        )
        assert items[0].text == "min_dimension is 50%, needs >= 80%"
        rest = [(g.kind, g.id, g.points_available) for g in items[1:]]
        assert rest == [("indicator", "p2", 20), ("indicator", "p1", 10)]
        assert items[1].text == "P2: 20 more points possible (S needs 18)"

    def test_veto_items(self):
        res = VETO_MODEL.evaluate(CLEAN | {"accidents": 1}).to_result()
        assert res.grade == "良好"
        assert res.gap.next_grade == "优秀"
        assert [(g.kind, g.id, g.text) for g in res.gap.items] == [
            ("veto", "accident", "veto 重大安全事故 forbids 优秀")
        ]

    def test_veto_and_condition_items(self):
        res = GRADE_MODEL.evaluate({"a": 10, "b": 10, "n": 5}).to_result()
        assert res.grade == "合格"
        assert res.gap.next_grade == "良好"
        kinds = [(g.kind, g.id) for g in res.gap.items]
        assert kinds[0] == ("veto", "v")
        assert res.gap.items[0].text == "veto V forbids 良好"

    def test_not_vetoed_condition(self):
        m = build(
            """model m "M"
total 10
input a: number
input n: int
indicator x "X" points 10 { linear a from 0 to 10 }
veto v "V" when n > 0 blocks "甲"
grades {
    "甲" when not vetoed and total >= 5
    "乙" otherwise
}
"""
        )
        res = m.evaluate({"a": 8, "n": 1}).to_result()
        assert res.grade == "乙"
        assert [(g.kind, g.id, g.text) for g in res.gap.items] == [
            ("veto", "v", "veto V forbids 甲"),
            ("condition", "vetoed", "a veto is triggered"),
        ]

    def test_missing_indicator_item(self):
        res = GRADE_MODEL.evaluate({"a": 0, "b": 0}).to_result()  # q missing
        q = next(g for g in res.gap.items if g.id == "q")
        assert (q.current, q.points_available) == (0, 50)
        assert q.text.startswith("Q: ")


# ---------------------------------------------------------------- result form

TOP_KEYS = {
    "schema_version",
    "model",
    "model_version",
    "community_id",
    "community",
    "district",
    "street",
    "total",
    "max_total",
    "share",
    "grade",
    "vetoes_triggered",
    "missing_count",
    "dimensions",
    "indicators",
    "vetoes",
    "outputs",
    "gap",
    "trace",
    "missing_reasons",
}


class TestCommunityResult:
    def result(self):
        meta = {"community_id": "JT-001", "community": "金台社区", "district": "金台区"}
        return VETO_MODEL.evaluate({"rating": 70, "accidents": 1, "petitions": 0}, meta).to_result()

    def test_json_round_trip(self):
        r = self.result()
        assert CommunityResult.model_validate_json(r.model_dump_json()) == r

    def test_round_trip_with_dates_and_missing(self):
        m = build(EXPR_HEADER + "let out = d >= 2024-01-01\n")
        r = m.evaluate({"d": dt.date(2024, 5, 1), "k": "甲", "x": 1.5}).to_result()
        assert r.trace["d"] == "2024-05-01"
        assert CommunityResult.model_validate_json(r.model_dump_json()) == r

    def test_stable_field_names(self):
        data = json.loads(self.result().model_dump_json())
        assert set(data) == TOP_KEYS
        assert set(data["indicators"][0]) == {
            "id",
            "label",
            "dimension",
            "value",
            "points",
            "max_points",
            "bonus",
            "penalty",  # added for 减分项 (`penalty` items): points ≤ 0, taken from the parent
            "outcome",
            "reason",
        }
        assert set(data["dimensions"][0]) == {
            "id",
            "label",
            "parent",
            "depth",
            "score",
            "max_points",
            "share",
            "missing",
            "cap",  # added for sections (`max C`): the cap, and what the items earned before it
            "earned",
        }
        assert set(data["vetoes"][0]) == {
            "id",
            "label",
            "dimension",
            "triggered",
            "effect",
            "grade",
            "reason",
        }
        assert set(data["gap"]) == {"next_grade", "items"}
        assert set(data["gap"]["items"][0]) == {
            "kind",
            "id",
            "label",
            "current",
            "needed",
            "points_available",
            "text",
            "indicators",  # added for gap analysis by search (kind "change")
        }

    def test_values(self):
        r = self.result()
        assert (r.schema_version, r.model, r.community_id, r.community, r.district, r.street) == (
            3,
            "m",
            "JT-001",
            "金台社区",
            "金台区",
            None,
        )
        assert (r.total, r.max_total, r.share, r.grade) == (70, 100, 0.7, "合格")
        assert r.vetoes_triggered == ["accident"]
        assert r.missing_count == 1  # the `other` veto: complaints not given
        assert r.missing_reasons == {"complaints": "no value for `complaints`"}

    def test_extra_fields_are_rejected(self):
        data = json.loads(self.result().model_dump_json())
        data["surprise"] = 1
        with pytest.raises(ValueError):
            CommunityResult.model_validate(data)


# ---------------------------------------------------------------- properties

PROPERTY_MODEL = build(
    """model prop "性质"
total 100
input flag: bool
input a: number range 0..100
input b: number range 0..100
input rate: percent range 0%..100%
input n: int range 0..20
input k: int range 0..20
input kind: enum("甲", "乙")
dimension s "S" points 60 {
    indicator p "P" points 10 { pass when flag }
    indicator up "Up" points 15 { linear a from 20 to 80 }
    dimension inner "Inner" points 25 {
        indicator down "Down" points 10 { linear b from 80 to 20 }
        indicator t "T" points 15 { tiers rate { >= 90% : 15  >= 70% : 8  else : 2 } }
    }
    indicator bonus1 "B1" points 4 { bonus 1.5 per k max 4 }
    indicator d1 "D1" points 10 { deduct 3 per n max 8 }
}
dimension u "U" points 30 {
    indicator tl "TL" points 20 { tiers n { <= 0 : 20  <= 3 : 10 } }
    indicator d2 "D2" points 10 { deduct 2.5 per n }
    indicator bw "BW" points 2 { bonus when kind == "甲" }
}
indicator top "Top" points 10 { pass when rate >= 50% }
grades {
    "A" when min_dimension >= 80%
    "B" when total >= 60
    "C" otherwise
}
"""
)

# indicator id → the inputs it depends on
DEPENDS = {
    "p": {"flag"},
    "up": {"a"},
    "down": {"b"},
    "t": {"rate"},
    "bonus1": {"k"},
    "d1": {"n"},
    "tl": {"n"},
    "d2": {"n"},
    "bw": {"kind"},
    "top": {"rate"},
}

RECORDS = st.fixed_dictionaries(
    {
        "flag": st.none() | st.booleans(),
        "a": st.none() | st.floats(0, 100, allow_nan=False) | st.integers(0, 100),
        "b": st.none() | st.floats(0, 100, allow_nan=False),
        "rate": st.none() | st.floats(0, 1, allow_nan=False),
        "n": st.none() | st.integers(0, 20),
        "k": st.none() | st.integers(0, 20),
        "kind": st.none() | st.sampled_from(["甲", "乙"]),
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RECORDS)
def test_property_points_outcomes_and_totals(record):
    m = PROPERTY_MODEL
    r = m.evaluate(record)
    model = m.model
    for i, ind in enumerate(model.indicators):
        p, o = r.points[i], r.outcomes[i]
        assert -1e-9 <= p <= ind.points + 1e-9, (ind.id, p)
        if o == "missing":
            assert p == 0
        elif o == "fail":
            assert p == 0
        elif o == "pass":
            if ind.scoring.form == "bonus_per":
                assert p > 0
            else:
                assert p == pytest.approx(ind.points)
        else:
            assert o == "partial", o
            assert 0 < p < ind.points
        absent = any(record[name] is None for name in DEPENDS[ind.id])
        if absent:
            assert o == "missing", (ind.id, o)  # never "fail"
        else:
            assert o != "missing"
    assert r.missing_count == r.outcomes.count("missing")
    # sums (policy zero: nothing is skipped)
    pts = dict(zip([i.id for i in model.indicators], r.points, strict=True))
    dims = dict(zip([d.id for d in model.dimensions], r.dim_scores, strict=True))
    assert dims["inner"] == pytest.approx(pts["down"] + pts["t"])
    assert dims["s"] == pytest.approx(
        pts["p"] + pts["up"] + dims["inner"] + pts["bonus1"] + pts["d1"]
    )
    assert dims["u"] == pytest.approx(pts["tl"] + pts["d2"] + pts["bw"])
    assert r.total == pytest.approx(dims["s"] + dims["u"] + pts["top"])
    assert 0 <= r.total <= 100 + 4 + 2 + 1e-9
    assert r.grade in ("A", "B", "C")
    res = r.to_result()
    assert CommunityResult.model_validate_json(res.model_dump_json()) == res
    assert not math.isnan(res.share)
