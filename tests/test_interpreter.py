"""Evaluation semantics of the reference interpreter (docs/language.md).

Every model here is a small `.gov` source string, parsed, checked, compiled and
evaluated for real; the assertions are the exact numbers and outcomes the
language reference prescribes.
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

MISSING = object()  # expected value: a Missing


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

    def test_holds(self):
        assert score(self.model, flag=True) == (5, "pass")

    def test_does_not_hold(self):
        assert score(self.model, flag=False) == (0, "fail")

    def test_condition_expression(self):
        m = one("pass when rate >= 90% and n <= 3", "input rate: percent\ninput n: int")
        assert score(m, rate=0.9, n=3) == (10, "pass")
        assert score(m, rate=0.89, n=0) == (0, "fail")

    def test_reason(self):
        r = self.model.evaluate({"flag": False}).to_result()
        assert r.indicators[0].reason == "flag does not hold"
        assert self.model.evaluate({"flag": True}).to_result().indicators[0].reason == "flag holds"


class TestLinear:
    up = one("linear a from 10 to 20", "input a: number")
    down = one("linear b from 20 to 10", "input b: number")  # lower is better

    @pytest.mark.parametrize(
        ("a", "points", "outcome"),
        [
            (5, 0, "fail"),  # below the bound
            (10, 0, "fail"),  # at A
            (12.5, 2.5, "partial"),
            (17, 7, "partial"),
            (20, 10, "pass"),  # at B
            (25, 10, "pass"),  # above: never more than the points
        ],
    )
    def test_ascending(self, a, points, outcome):
        p, o = score(self.up, a=a)
        assert (p, o) == (approx(points), outcome)

    @pytest.mark.parametrize(
        ("b", "points", "outcome"),
        [
            (30, 0, "fail"),
            (20, 0, "fail"),
            (18, 2, "partial"),
            (12, 8, "partial"),
            (10, 10, "pass"),
            (0, 10, "pass"),
        ],
    )
    def test_descending_lower_is_better(self, b, points, outcome):
        p, o = score(self.down, b=b)
        assert (p, o) == (approx(points), outcome)

    def test_percent_bounds_and_fractional_points(self):
        m = one("linear rate from 60% to 90%", "input rate: percent", points=6)
        assert score(m, rate=0.75) == (approx(3), "partial")
        assert score(m, rate=0.7) == (approx(2), "partial")

    def test_bounds_from_inputs(self):
        m = one("linear a from lo to hi", "input a: number\ninput lo: number\ninput hi: number")
        assert score(m, a=15, lo=10, hi=30) == (approx(2.5), "partial")
        assert score(m, a=15, lo=10) == (0, "missing")  # a missing bound

    def test_bound_on_a_definition(self):
        m = build(
            """model m "M"
total 10
input workers: int
input population: int
let staffing "每万人社区工作者数" = per_10k(workers, population)
indicator staff "配备" points 10 { linear staffing from 9 to 18 }
grades { "ok" otherwise }
"""
        )
        # 12 workers for 8000 people = 15 per 10k → (15 - 9) / 9 of 10 points
        assert score(m, workers=12, population=8000) == (approx(10 * 6 / 9), "partial")

    def test_reason(self):
        r = self.up.evaluate({"a": 15}).to_result()
        assert r.indicators[0].reason == "a = 15; 0 points at 10, full at 20"


class TestTiers:
    ge = one(
        "tiers rate { >= 98% : 10  >= 95% : 6  >= 90% : 3 }",
        "input rate: percent",
    )
    le = one("tiers n { <= 0 : 10  <= 2 : 5  else : 1 }", "input n: int")

    @pytest.mark.parametrize(
        ("rate", "points", "outcome"),
        [
            (1.0, 10, "pass"),
            (0.98, 10, "pass"),  # the threshold itself
            (0.979, 6, "partial"),
            (0.95, 6, "partial"),
            (0.9, 3, "partial"),
            (0.899, 0, "fail"),  # no tier, no else
            (0.0, 0, "fail"),
        ],
    )
    def test_greater_or_equal(self, rate, points, outcome):
        assert score(self.ge, rate=rate) == (points, outcome)

    @pytest.mark.parametrize(
        ("n", "points", "outcome"),
        [
            (0, 10, "pass"),
            (1, 5, "partial"),
            (2, 5, "partial"),
            (3, 1, "partial"),
            (99, 1, "partial"),
        ],
    )
    def test_less_or_equal_with_else(self, n, points, outcome):
        assert score(self.le, n=n) == (points, outcome)

    def test_else_zero_is_fail(self):
        m = one("tiers a { > 5 : 10  else : 0 }", "input a: number")
        assert score(m, a=6) == (10, "pass")
        assert score(m, a=5) == (0, "fail")

    def test_reason_names_the_tier(self):
        r = self.ge.evaluate({"rate": 0.96}).to_result()
        assert r.indicators[0].reason == "rate = 96% >= 95% → 6 points"
        r = self.ge.evaluate({"rate": 0.5}).to_result()
        assert r.indicators[0].reason == "rate = 50%: no tier reached → 0 points"


class TestDeduct:
    capped = one("deduct 2 per n max 6", "input n: int")
    uncapped = one("deduct 3 per n", "input n: int")

    @pytest.mark.parametrize(
        ("n", "points", "outcome"),
        [
            (0, 10, "pass"),
            (1, 8, "partial"),
            (3, 4, "partial"),
            (4, 4, "partial"),  # 8 would be deducted, at most 6
            (100, 4, "partial"),
            (-3, 10, "pass"),  # a negative count deducts nothing
        ],
    )
    def test_with_max(self, n, points, outcome):
        assert score(self.capped, n=n) == (points, outcome)

    @pytest.mark.parametrize(
        ("n", "points", "outcome"),
        [(0, 10, "pass"), (1, 7, "partial"), (3, 1, "partial"), (4, 0, "fail"), (50, 0, "fail")],
    )
    def test_without_max_deducts_at_most_all(self, n, points, outcome):
        assert score(self.uncapped, n=n) == (points, outcome)

    def test_fractional_deduction(self):
        m = one("deduct 0.5 per n", "input n: int", points=2)
        assert score(m, n=3) == (0.5, "partial")

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
    def test_per_with_cap(self):
        r = BONUS_MODEL.evaluate({"k": 1})
        assert (r.points[1], r.outcomes[1]) == (2, "pass")
        r = BONUS_MODEL.evaluate({"k": 3})
        assert (r.points[1], r.outcomes[1]) == (4, "pass")  # 6 earned, cap 4

    def test_per_without_cap_is_capped_at_the_points(self):
        r = BONUS_MODEL.evaluate({"k": 2})
        assert (r.points[2], r.outcomes[2]) == (2, "pass")
        r = BONUS_MODEL.evaluate({"k": 10})
        assert (r.points[2], r.outcomes[2]) == (3, "pass")

    def test_nothing_earned_is_fail(self):
        r = BONUS_MODEL.evaluate({"k": 0, "award": False})
        assert r.outcomes[1:] == ["fail", "fail", "fail"]
        assert r.points[1:] == [0, 0, 0]
        r = BONUS_MODEL.evaluate({"k": -2})
        assert (r.points[1], r.outcomes[1]) == (0, "fail")

    def test_bonus_when(self):
        r = BONUS_MODEL.evaluate({"award": True})
        assert (r.points[3], r.outcomes[3]) == (2, "pass")

    def test_added_on_top_of_the_declared_total(self):
        r = BONUS_MODEL.evaluate({"flag": True, "k": 3, "award": True})
        assert r.total == 10 + 4 + 3 + 2
        res = r.to_result()
        assert res.max_total == 10  # bonus points are not part of the declared total
        assert res.share == pytest.approx(1.9)
        flags = {i.id: i.bonus for i in res.indicators}
        assert flags == {"base": False, "extra": True, "extra2": True, "prize": True}

    def test_bonus_inside_a_dimension(self):
        m = build(
            """model m "M"
total 10
input flag: bool
input k: int
dimension d "D" points 10 {
    indicator base "基础" points 10 { pass when flag }
    indicator extra "加分" points 3 { bonus 1 per k }
}
grades { "ok" otherwise }
"""
        )
        r = m.evaluate({"flag": True, "k": 2})
        assert r.dim_scores == [12]
        assert r.total == 12


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
    def test_missing_input_is_missing_never_fail(self, scoring, inputs):
        m = one(scoring, inputs)
        r = m.evaluate({})
        assert (r.points[0], r.outcomes[0]) == (0, "missing")
        assert r.missing_count == 1
        assert r.total == 0
        res = r.to_result()
        assert res.indicators[0].outcome == "missing"
        assert res.indicators[0].value is None
        assert res.indicators[0].reason.startswith("missing: no value for `")

    def test_none_is_missing_not_zero(self):
        m = one("deduct 2 per n", "input n: int")
        assert score(m, n=None) == (0, "missing")  # 0 occurrences would be a pass
        assert score(m, n=0) == (10, "pass")

    def test_missing_bonus(self):
        r = BONUS_MODEL.evaluate({"flag": True})
        assert r.outcomes == ["pass", "missing", "missing", "missing"]
        assert r.missing_count == 3
        assert r.total == 10

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
        assert res.indicators[1].points == 0

    def test_zero_policy_for_comparison(self):
        r = self.zero.evaluate({"a": 5, "c": True})
        assert r.dim_scores == [10, 40]
        assert r.total == 50

    def test_nothing_skipped_nothing_rescaled(self):
        r = self.model.evaluate({"a": 5, "b": True, "c": True})
        assert r.dim_scores == [50, 40]
        assert r.total == 90

    def test_full_marks_after_rescaling(self):
        r = self.model.evaluate({"a": 10, "c": True})
        assert r.dim_scores == [60, 40]
        assert r.grade == "A"

    def test_all_skipped_dimension_is_excluded_and_total_rescaled(self):
        r = self.model.evaluate({"c": True})
        assert r.outcomes == ["missing", "missing", "pass"]
        # s is left out entirely; u earns 40 of the 40 available → 100 of 100
        assert r.total == approx(100)
        res = r.to_result()
        s = res.dimensions[0]
        assert (s.score, s.share, s.missing) == (0, None, 2)
        # min_dimension ignores the dimension nothing could be scored in
        assert res.grade == "A"

    def test_all_skipped_with_a_partial_rest(self):
        m = build(
            """model m "M"
total 100
input a: number
input b: bool
input c: bool
dimension s "S" points 60 missing skip {
    indicator p1 "P1" points 20 { pass when b }
    indicator p2 "P2" points 40 { pass when c }
}
dimension u "U" points 40 {
    indicator q "Q" points 40 { linear a from 0 to 10 }
}
grades { "ok" otherwise }
"""
        )
        r = m.evaluate({"a": 7.5})
        # s is excluded; u = 30 of 40 → 75 of 100
        assert r.dim_scores == [0, approx(30)]
        assert r.total == approx(75)


def test_skip_rescaling_leaves_bonus_points_alone():
    m = build(
        """model m "M"
total 10
missing skip
input a: bool
input b: bool
input k: int
dimension s "S" points 10 {
    indicator p1 "P1" points 5 { pass when a }
    indicator p2 "P2" points 5 { pass when b }
    indicator extra "加分" points 2 { bonus 1 per k }
}
grades { "ok" otherwise }
"""
    )
    r = m.evaluate({"a": True, "k": 2})
    # p1 earns 5 of the 5 scored points → 10 of 10, plus 2 bonus points on top
    assert r.dim_scores == [12]
    assert r.total == 12


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

    @pytest.mark.parametrize(
        ("record", "dims", "total", "grade"),
        [
            # s: p2 skipped → 20/20×60; u: q1 zero (0 of 10), q2 skipped → 0/10×40
            ({"a": True}, [60, 0], 60, "C"),
            # s excluded (both skipped) → total = 40 of 40 rescaled to 100
            ({"c": True, "d": True}, [0, 40], 100, "A"),
            # u: q2 skipped → 10/10×40
            ({"a": True, "b": True, "c": True}, [60, 40], 100, "A"),
            # s excluded; u: q1 counts 0 of 10 (zero), q2 30 → 30 of 40 → 75 of 100
            ({"d": True}, [0, 30], 75, "C"),
        ],
    )
    def test_numbers(self, record, dims, total, grade):
        r = self.model.evaluate(record)
        assert r.dim_scores == [approx(x) for x in dims]
        assert r.total == approx(total)
        assert r.grade == grade
        assert all(o in ("pass", "missing") for o in r.outcomes)


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


def let_value(expr: str, **record):
    """The value of `let out = EXPR` for a record."""
    m = build(EXPR_HEADER + f"let out = {expr}\n")
    return m.evaluate(record).env["out"]


def check_value(got, expected):
    if expected is MISSING:
        assert isinstance(got, Missing), got
    elif isinstance(expected, bool):
        assert got is expected
    elif isinstance(expected, float):
        assert got == pytest.approx(expected)
    else:
        assert got == expected and type(got) is type(expected)


THREE_VALUED = [
    ("p and q", {"p": False}, False),  # false and missing
    ("q and p", {"p": False}, False),  # missing and false
    ("p and q", {"p": True}, MISSING),  # true and missing
    ("p and q", {"p": True, "q": True}, True),
    ("p or q", {"p": True}, True),  # true or missing
    ("q or p", {"p": True}, True),  # missing or true
    ("p or q", {"p": False}, MISSING),  # false or missing
    ("p or q", {"p": False, "q": False}, False),
    ("not p", {}, MISSING),  # not missing
    ("not p", {"p": False}, True),
    ("p and q or x > 1", {"x": 2}, True),
    ("(p or q) and x > 1", {"x": 0}, False),
]


@pytest.mark.parametrize(("expr", "record", "expected"), THREE_VALUED)
def test_three_valued_logic(expr, record, expected):
    check_value(let_value(expr, **record), expected)


def test_missing_propagates_through_arithmetic_and_comparison():
    for expr in ("x + 1", "x * y", "-x", "x - y", "x > 1", "x == y", "x / 2"):
        check_value(let_value(expr, y=2), MISSING)
    got = let_value("x + y * 2", x=1)
    assert isinstance(got, Missing) and got.reason == "no value for `y`"


FUNCTIONS = [
    ("ratio(x, y)", {"x": 1, "y": 4}, 0.25),
    ("ratio(x, y)", {"x": 1}, MISSING),
    ("per_10k(i, x)", {"i": 3, "x": 6000}, 5.0),
    ("per_10k(i, x)", {"x": 6000}, MISSING),
    ("min(x, y, 3)", {"x": 5, "y": 4}, 3),
    ("min(x, y)", {"x": 5, "y": 4.5}, 4.5),
    ("min(x, y)", {"x": 5}, MISSING),
    ("clamp(x, 0, 10)", {"x": 15}, 10),
    ("clamp(x, 0, 10)", {"x": -2}, 0),
    ("clamp(x, 0, 10)", {"x": 2.5}, 2.5),
    ("clamp(x, 0, 10)", {}, MISSING),
    ("abs(x)", {"x": -2.5}, 2.5),
    ("abs(i)", {"i": -3}, 3),
    ("abs(x)", {}, MISSING),
    ("round(x)", {"x": 3.5}, 4.0),
    ("round(x)", {"x": 3.4}, 3.0),
    ("round(x, 1)", {"x": 2.34}, 2.3),
    ("round(i)", {"i": 7}, 7),
    ("round(r, 2)", {"r": 0.8567}, 0.86),
    # halves away from zero (四舍五入), as the vectorized backend rounds
    ("round(x)", {"x": 2.5}, 3.0),
    ("round(x)", {"x": 0.5}, 1.0),
    ("round(x)", {"x": -2.5}, -3.0),
    ("round(r, 2)", {"r": 0.125}, 0.13),
    ("min(x)", {"x": 2.5}, 2.5),
    ("max(i)", {"i": 3}, 3),
    ("round(x)", {}, MISSING),
    ("coalesce(x, y, 7)", {"y": 3}, 3),
    ("coalesce(x, y, 7)", {"x": 0, "y": 3}, 0),  # 0 is a value, not missing
    ("coalesce(x, y, 7)", {}, 7),
    ("coalesce(x, y)", {}, MISSING),
    ("default(x, 5)", {}, 5),
    ("default(x, 5)", {"x": 2}, 2),
    ("default(p, false)", {}, False),
    ("between(x, 1, 5)", {"x": 1}, True),
    ("between(x, 1, 5)", {"x": 5}, True),
    ("between(x, 1, 5)", {"x": 5.01}, False),
    ("between(x, 1, 5)", {}, MISSING),
    ("count(p, q, x > 1)", {"p": True, "q": False, "x": 2}, 2),
    ("count(p, q)", {"p": False, "q": False}, 0),
    ("count(p, q)", {"p": True}, MISSING),  # only coalesce/default/is_missing see missing
    ("is_missing(x)", {}, True),
    ("is_missing(x)", {"x": 0}, False),
    ("is_missing(x / y)", {"x": 1, "y": 0}, True),
    ("default(ratio(x, y), 0%)", {"x": 1, "y": 0}, 0.0),
]


@pytest.mark.parametrize(("expr", "record", "expected"), FUNCTIONS)
def test_builtin_functions(expr, record, expected):
    check_value(let_value(expr, **record), expected)


@pytest.mark.parametrize(
    ("expr", "record", "expected"),
    [
        ("max(x, y, i)", {"x": 5, "y": 4, "i": 9}, 9),
        ("max(x, 2.5)", {"x": 1}, 2.5),
        ("max(x, y)", {"x": 5}, MISSING),
    ],
)
def test_builtin_max(expr, record, expected):
    # `max` is also a keyword (`deduct … max C`) but callable as a function
    check_value(let_value(expr, **record), expected)


def test_max_in_a_deduct_next_to_max_keyword():
    m = one("deduct 2 per max(n, k) max 6", "input n: int\ninput k: int")
    assert score(m, n=1, k=2) == (6, "partial")
    assert score(m, n=9, k=0) == (4, "partial")


OTHER_EXPRESSIONS = [
    ('k in ["甲", "乙"]', {"k": "乙"}, True),
    ('k in ["甲", "乙"]', {"k": "丙"}, False),
    ('k not in ["甲", "乙"]', {"k": "乙"}, False),
    ('k not in ["甲", "乙"]', {"k": "丙"}, True),
    ('k in ["甲"]', {}, MISSING),
    ('k not in ["甲"]', {}, MISSING),
    ("i in [1, 2, 3]", {"i": 2}, True),
    ('k == "甲"', {"k": "甲"}, True),
    ('k != "甲"', {"k": "甲"}, False),
    ('s == "是"', {"s": "是"}, True),
    ("if p then x else y", {"p": True, "x": 1, "y": 2}, 1),
    ("if p then x else y", {"p": False, "x": 1, "y": 2}, 2),
    ("if p then x else y", {"x": 1, "y": 2}, MISSING),  # missing condition
    ("if p then x else y", {"p": True, "x": 1}, 1),  # the other branch may be missing
    ("if p then x else y", {"p": False, "x": 1}, MISSING),
    ("d >= 2024-01-01", {"d": dt.date(2024, 1, 1)}, True),
    ("d < 2024-01-01", {"d": dt.date(2023, 12, 31)}, True),
    ("d > 2024-06-30", {"d": dt.date(2024, 6, 30)}, False),
    ("d > 2024-01-01", {}, MISSING),
    ("r >= 85%", {"r": 0.85}, True),
    ("r >= 85.5%", {"r": 0.85}, False),
    ("x - -y", {"x": 1, "y": 2}, 3),
    ("x * y + i", {"x": 2, "y": 3, "i": 1}, 7),
    ("x / 2", {"x": 3}, 1.5),
    ("i / 2", {"i": 3}, 1.5),
]


@pytest.mark.parametrize(("expr", "record", "expected"), OTHER_EXPRESSIONS)
def test_in_if_dates_enums(expr, record, expected):
    check_value(let_value(expr, **record), expected)


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
input score: number
input accidents: int
input petitions: int
input complaints: int
dimension d "D" points 100 {
    indicator base "基础" points 100 { linear score from 0 to 100 }
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

CLEAN = {"score": 95, "accidents": 0, "petitions": 0, "complaints": 0}


class TestVetoes:
    def grade(self, **changes):
        r = VETO_MODEL.evaluate(CLEAN | changes)
        return r.grade, r.vetoed

    def test_none_triggered(self):
        assert self.grade() == ("优秀", [])

    def test_caps_at_a_grade(self):
        assert self.grade(accidents=1) == ("良好", ["accident"])

    def test_caps_is_only_an_upper_bound(self):
        assert self.grade(accidents=1, score=65) == ("合格", ["accident"])
        assert self.grade(accidents=1, score=10) == ("不合格", ["accident"])

    def test_blocks_a_grade_falls_to_the_next(self):
        assert self.grade(petitions=3) == ("良好", ["petition"])
        assert self.grade(petitions=3, score=80) == ("良好", ["petition"])
        assert self.grade(petitions=3, score=70) == ("合格", ["petition"])

    def test_default_caps_at_the_lowest(self):
        assert self.grade(complaints=6) == ("不合格", ["other"])
        v = VETO_MODEL.model.vetoes[2]
        assert (v.effect, v.grade) == ("caps", "不合格")

    def test_several_vetoes(self):
        assert self.grade(accidents=2, petitions=3) == ("良好", ["accident", "petition"])

    def test_vetoes_do_not_change_points(self):
        r = VETO_MODEL.evaluate(CLEAN | {"complaints": 9})
        assert r.total == 95

    def test_missing_condition_is_not_triggered_but_counted(self):
        r = VETO_MODEL.evaluate({"score": 95, "petitions": 0, "complaints": 0})
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

    def test_min_dimension(self):
        r = GRADE_MODEL.evaluate({"a": 10, "b": 10, "n": 1})  # s 100%, u 80%
        assert r.grade == "优秀"
        r = GRADE_MODEL.evaluate({"a": 10, "b": 10, "n": 3})  # u 40%
        assert r.grade == "良好"  # s >= 90%

    def test_missing_count(self):
        r = GRADE_MODEL.evaluate({"a": 10, "b": 10})  # q and the veto on n are missing
        assert r.missing_count == 2
        assert r.grade == "良好"

    def test_vetoed(self):
        r = GRADE_MODEL.evaluate({"a": 10, "b": 10, "n": 5})  # u 0%, veto caps at 合格
        assert (r.vetoed, r.grade) == (["v"], "合格")

    def test_dimension_share_and_indicator_points(self):
        # s = 20 + 12 = 32 of 50 (64%), p1 full, u = 30 of 50 (60%)
        r = GRADE_MODEL.evaluate({"a": 10, "b": 4, "n": 2})
        assert r.total == approx(62)
        assert r.grade == "良好"
        # p1 not full: 合格 by the total
        r = GRADE_MODEL.evaluate({"a": 9, "b": 5, "n": 2})
        assert r.grade == "合格"

    def test_otherwise(self):
        r = GRADE_MODEL.evaluate({"a": 0, "b": 0, "n": 2})
        assert (r.total, r.grade) == (30, "不合格")

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

    def test_share_in_a_grade_condition(self):
        m = build(
            """model m "M"
total 10
input a: number
indicator x "X" points 10 { linear a from 0 to 10 }
grades {
    "甲" when share >= 60%
    "乙" otherwise
}
"""
        )
        assert m.evaluate({"a": 6}).grade == "甲"
        assert m.evaluate({"a": 5}).grade == "乙"


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
    "gap",
    "trace",
    "missing_reasons",
}


class TestCommunityResult:
    def result(self):
        meta = {"community_id": "JT-001", "community": "金台社区", "district": "金台区"}
        return VETO_MODEL.evaluate({"score": 70, "accidents": 1, "petitions": 0}, meta).to_result()

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
            1,
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
