"""Random `.gov` models and records for the differential tests, and the
record-by-record comparison of the two evaluation backends.

The generator writes model SOURCE text (so the parser and checker are in the
loop) over a fixed palette of inputs, typed by construction so almost every
model checks cleanly: expression families are N (a count or number), I (an
int only), P (a percent), B (bool), E (enum), D (date), T (text) and S (a
multi-select `set`, used through `"甲" in s0` and `count(s0)`).
Literals come from small sets that the data generator also uses, so records
hit thresholds exactly, zeros and halves (rounding) often.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from hypothesis import strategies as st

from zhili.dsl import model as ir
from zhili.dsl import sets
from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.eval.vectorized import VectorModel, frame_from_records
from zhili.engine.functions import Missing

# ---------------------------------------------------------------- inputs and literals

INPUTS: list[tuple[str, str, str]] = [
    ("n0", "I", "int"),
    ("n1", "I", "int"),
    ("pop", "I", "int"),
    ("x0", "N", "number"),
    ("x1", "N", "number"),
    ("r0", "P", "percent"),
    ("r1", "P", "percent"),
    ("b0", "B", "bool"),
    ("b1", "B", "bool"),
    ("k0", "E", 'enum("甲", "乙", "丙")'),
    ("k1", "E", 'enum("甲", "乙", "丙")'),
    ("d0", "D", "date"),
    ("t0", "T", "text"),
    ("s0", "S", 'set("甲", "乙", "丙", "丁")'),
]
INPUT_KIND = {name: kind for name, _, kind in INPUTS}

INT_LITS = ["0", "1", "2", "3", "5", "10", "100"]
NUM_LITS = ["0.5", "1.5", "2.5", "0.1", "0.3", "12.5", "0.285", "0.6", "0.2"]
# large magnitudes (docs/language.md, "Numbers"): round(x × 10^9) / 10^9 is
# not exact from 2^22 (4194304) on, and from 2^23 a double is its own snap
LARGE_LITS = ["4298137.15", "6816137166.78", "8388607.5"]
# decimals whose binary doubles are not what they say: subtracting one from a
# neighbour (0.6 - 0.5) is where binary arithmetic leaves 0.09999999999999998
NEAR_LITS = ["0.1", "0.2", "0.3", "0.5", "0.6", "0.7", "0.285", "0.125"]
PCT_LITS = ["0%", "12.5%", "50%", "80%", "95%", "100%", "0.5%", "1.5%"]
ENUM_LITS = ['"甲"', '"乙"', '"丙"']
DATE_LITS = ["2024-01-01", "2024-06-30", "2024-07-01"]
TEXT_LITS = ['""', '"张三"']

INT_VALUES = [0, 1, 2, 3, 5, 10, 15, 25, 100, -5]
NUM_VALUES = [0.0, 0.5, 1.5, 2.5, -2.5, 0.1, 0.3, 12.5, 10.0, 0.125, 1e-10, 0.285, 0.6, 0.7, 0.2]
LARGE_VALUES = [4298137.15, -4298137.15, 6816137166.78, 926506623859359.4, 1e14, 4194304.25]
LARGE_VALUES += [8388607.5, -8388608.0, 6816137166.785, 4298137.155]
PCT_VALUES = [0.0, 0.125, 0.5, 0.8, 0.95, 1.0, 0.005, 0.015, 0.025, 0.805, 0.6, 0.285, 0.7]
DATE_VALUES = [dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 7, 1)]

GRADE_NAMES = ["优秀", "良好", "合格", "不合格"]


def value_strategy(kind: str) -> st.SearchStrategy:
    """Values of one input: missing often, boundary values mostly."""
    if kind == "int":
        v = st.one_of(st.sampled_from(INT_VALUES), st.integers(-3, 300))
    elif kind == "number":
        v = st.one_of(
            st.sampled_from(NUM_VALUES),
            st.floats(-50, 500, allow_nan=False, allow_infinity=False),
            st.sampled_from(LARGE_VALUES),
            st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False),
        )
    elif kind == "percent":
        v = st.one_of(st.sampled_from(PCT_VALUES), st.floats(0, 1.2, allow_nan=False))
    elif kind == "bool":
        v = st.booleans()
    elif kind.startswith("enum"):
        v = st.sampled_from(["甲", "乙", "丙"])
    elif kind == "date":
        v = st.sampled_from(DATE_VALUES)
    elif kind.startswith("set"):
        v = st.integers(0, 15)  # the bitmask of the selected values
    else:
        v = st.sampled_from(["", "张三", "李四"])
    return st.one_of(st.none(), v, v)


# ---------------------------------------------------------------- expressions


class ExprGen:
    """Typed random expressions as source text (always parenthesised)."""

    def __init__(self, draw, lets: dict[str, list[str]], grade: dict[str, list[str]] | None = None):
        self.draw = draw
        self.pool: dict[str, list[str]] = {f: [] for f in "NIPBEDTS"}
        for name, fam, _ in INPUTS:
            self.pool[fam].append(name)
        for fam, names in lets.items():
            self.pool[fam].extend(names)
        if grade:
            for fam, names in grade.items():
                self.pool[fam].extend(names)
        self.pool["N"].extend(self.pool["I"])

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def leaf(self, fam: str) -> str:
        lits = {
            "N": INT_LITS + NUM_LITS + LARGE_LITS,
            "I": INT_LITS,
            "P": PCT_LITS,
            "B": ["true", "false"],
            "E": [],
            "D": DATE_LITS,
            "T": TEXT_LITS,
            "S": [],
        }[fam]
        names = self.pool[fam]
        if lits and (not names or self.draw(st.integers(0, 2)) == 0):
            return self.pick(lits)
        return self.pick(names)

    def gen(self, fam: str, depth: int = 2, compound: bool = False) -> str:
        if depth <= 0 or (not compound and self.draw(st.integers(0, 3)) == 0):
            return self.leaf(fam)
        g = getattr(self, "_" + fam)
        return g(depth - 1)

    def _args(self, fam: str, depth: int, n: int) -> str:
        return ", ".join(self.gen(fam, depth) for _ in range(n))

    def _common(self, fam: str, depth: int) -> str | None:
        """Forms every value family has: if, coalesce, default."""
        k = self.draw(st.integers(0, 2))
        if k == 0:
            return f"(if {self.gen('B', depth)} then {self.gen(fam, depth)} else {self.gen(fam, depth)})"
        if k == 1:
            return f"coalesce({self._args(fam, depth, self.draw(st.integers(1, 3)))})"
        return f"default({self.gen(fam, depth)}, {self.gen(fam, depth)})"

    def _divisor(self, fam: str, depth: int) -> str:
        """A divisor that reads an input: a divisor of literals only may be a
        constant 0, which the checker rightly refuses (constant-division-by-
        zero), and a rejected model tests nothing. Division by a zero value
        at run time (missing, with its reason) is still generated."""
        names = [n for pool in self.pool.values() for n in pool]
        text = self.gen(fam, depth)
        if any(re.search(rf"\b{re.escape(n)}\b", text) for n in names) or not self.pool[fam]:
            return text
        return self.pick(self.pool[fam])

    def _numeric(self, fam: str, depth: int) -> str:
        d = depth
        choice = self.pick(
            ["arith", "arith", "neg", "common", "minmax", "clamp", "abs", "round", "special"]
            + (["whole"] if fam != "P" else [])
            + (["near", "chain"] if fam == "N" else [])
        )
        if choice == "chain":
            return self._chain(d)
        if choice == "near":
            return f"({self.gen('N', d)} - {self.pick(NEAR_LITS)})"
        if choice == "arith":
            op = self.pick(["+", "-", "*"] if fam != "N" else ["+", "-", "*", "/", "/"])
            if op == "/":
                f = "P" if self.draw(st.booleans()) else "N"
                return f"({self.gen(f, d)} / {self._divisor(f, d)})"
            if fam == "N" and op == "*" and self.draw(st.integers(0, 3)) == 0:
                return f"({self.gen('P', d)} * {self.gen('N', d)})"
            return f"({self.gen(fam, d)} {op} {self.gen(fam, d)})"
        if choice == "neg":
            return f"(-{self.gen(fam, d)})"
        if choice == "common":
            return self._common(fam, d)
        if choice == "minmax":
            return (
                f"{self.pick(['min', 'max'])}({self._args(fam, d, self.draw(st.integers(1, 3)))})"
            )
        if choice == "clamp":
            return f"clamp({self._args(fam, d, 3)})"
        if choice == "abs":
            return f"abs({self.gen(fam, d)})"
        if choice == "round":
            if self.draw(st.booleans()):
                return f"round({self.gen(fam, d)})"
            return f"round({self.gen(fam, d)}, {self.pick(['0', '1', '2'])})"
        if choice == "whole":  # floor / ceil: not of a percentage (the checker refuses it)
            return f"{self.pick(['floor', 'ceil'])}({self.gen(fam, d)})"
        # special: functions whose result family differs from their arguments
        if fam == "I":
            if self.draw(st.integers(0, 2)) == 0:
                return f"count({self.gen('S', d)})"
            return f"count({self._args('B', d, self.draw(st.integers(1, 3)))})"
        if fam == "N":
            k = self.draw(st.integers(0, 1))
            if k == 0:
                return f"per_10k({self.gen('N', d)}, {self.gen('N', d)})"
            return f"count({self._args('B', d, self.draw(st.integers(1, 3)))})"
        return f"ratio({self.gen('N', d)}, {self.gen('N', d)})"

    def _chain(self, d: int) -> str:
        """A product after a division (docs/language.md, "Proportions"): the
        shapes both backends compute with the division last."""
        a, c = self.gen("N", d), self.gen(self.pick(["N", "P", "I"]), d)
        b, e = self._divisor("N", d), self._divisor(self.pick(["N", "I"]), d)
        n = self.gen(self.pick(["N", "I"]), d)  # ratio(…) is a percentage: times a number
        return self.pick(
            [
                f"({a} / {b} * {c})",
                f"(({a} / {b}) * {c})",
                f"({c} * ({a} / {b}))",
                f"({a} / {b} * {c} / {e})",
                f"(({a} / {b}) * ({c} / {e}))",
                f"({a} / ({b} / {e}) * {c})",
                f"(ratio({a}, {b}) * {n})",
                f"(per_10k({a}, {b}) * {c})",
                f"(ratio({a} / {b}, {e}) * {n})",
            ]
        )

    def _N(self, depth: int) -> str:
        return self._numeric("N", depth)

    def _I(self, depth: int) -> str:
        return self._numeric("I", depth)

    def _P(self, depth: int) -> str:
        return self._numeric("P", depth)

    def _B(self, depth: int) -> str:
        d = depth
        choice = self.pick(
            ["cmpN", "cmpN", "cmpP", "cmpP", "enum", "date", "text", "logic", "logic", "not",
             "between", "is_missing", "in_num", "eqB", "common", "set", "count"]
        )  # fmt: skip
        cmp = ["==", "!=", "<", "<=", ">", ">="]
        if choice == "count":  # decides when the known terms decide, on either side
            terms = f"count({self._args('B', d, self.draw(st.integers(1, 4)))})"
            n = self.gen("N", d)
            op = self.pick(cmp)
            return f"({terms} {op} {n})" if self.draw(st.booleans()) else f"({n} {op} {terms})"
        if choice == "cmpN":
            return f"({self.gen('N', d)} {self.pick(cmp)} {self.gen('N', d)})"
        if choice == "cmpP":
            return f"({self.gen('P', d)} {self.pick(cmp)} {self.gen('P', d)})"
        if choice == "enum":
            e = self.gen("E", d)
            k = self.draw(st.integers(0, 3))
            if k == 0:
                return f"({e} {self.pick(['==', '!='])} {self.pick(ENUM_LITS)})"
            if k == 1:
                return f"({e} {self.pick(['==', '!='])} {self.gen('E', d)})"
            opts = self.draw(st.lists(st.sampled_from(ENUM_LITS + ["k1"]), max_size=3))
            return f"({e} {self.pick(['in', 'not in'])} [{', '.join(opts)}])"
        if choice == "date":
            return f"({self.gen('D', d)} {self.pick(cmp)} {self.gen('D', d)})"
        if choice == "text":
            return f"({self.gen('T', d)} {self.pick(['==', '!='])} {self.gen('T', d)})"
        if choice == "logic":
            return f"({self.gen('B', d)} {self.pick(['and', 'or'])} {self.gen('B', d)})"
        if choice == "not":
            return f"(not {self.gen('B', d)})"
        if choice == "between":
            fam = self.pick(["N", "P"])
            return f"between({self._args(fam, d, 3)})"
        if choice == "is_missing":
            return f"is_missing({self.gen(self.pick(['N', 'P', 'B', 'E', 'D', 'T']), d)})"
        if choice == "in_num":
            opts = self.draw(st.lists(st.sampled_from(INT_LITS + ["n1"]), max_size=3))
            return f"({self.gen('N', d)} {self.pick(['in', 'not in'])} [{', '.join(opts)}])"
        if choice == "set":
            value = self.pick(['"甲"', '"乙"', '"丙"', '"丁"'])
            return f"({value} {self.pick(['in', 'not in'])} {self.gen('S', d)})"
        if choice == "eqB":
            return f"({self.gen('B', d)} {self.pick(['==', '!='])} {self.gen('B', d)})"
        return self._common("B", d)

    def _E(self, depth: int) -> str:
        return self._common("E", depth)

    def _D(self, depth: int) -> str:
        return self._common("D", depth)

    def _T(self, depth: int) -> str:
        return self._common("T", depth)

    def _S(self, depth: int) -> str:
        return self.leaf("S")  # a set is only ever an input


# ---------------------------------------------------------------- models


@dataclass
class _Ids:
    ind: int = 0
    dim: int = 0
    veto: int = 0
    indicators: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    vetoes: list[str] = field(default_factory=list)
    # what an `exempt` may name: indicators that are not bonus, dimensions holding one
    exemptable: list[str] = field(default_factory=list)


POINTS = [1, 2, 2.5, 3, 5, 10, 0]


def _fmt(p: float) -> str:
    return f"{p:g}"


def _ordered_thresholds(draw, fam: str, n: int, descending: bool) -> list[str]:
    lits = {"N": INT_LITS + NUM_LITS, "I": INT_LITS, "P": PCT_LITS}[fam]

    def val(s):
        return float(s.rstrip("%"))

    uniq = {}
    for s in lits:
        uniq.setdefault(val(s), s)
    chosen = draw(st.lists(st.sampled_from(sorted(uniq)), min_size=1, max_size=n, unique=True))
    chosen.sort(reverse=descending)
    return [uniq[v] for v in chosen]


def _scoring(draw, g: ExprGen, points: float) -> tuple[str, bool]:
    """(scoring source, is bonus)."""
    form = draw(
        st.sampled_from(
            ["pass", "linear", "linear_var", "tiers", "tiers", "tiers_var", "tiers_enum",
             "deduct", "bonus_per", "bonus_when", "score", "deductions", "deductions", "deduct_one",
             "linear_quotient", "linear_quotient", "penalty"]
        )
    )  # fmt: skip
    tier_points = sorted({0.0, points, points / 2, min(1.0, points)}, reverse=True)
    if form == "penalty":
        return _penalty(draw, g), True
    if form == "deductions":
        causes = [_cause(draw, g, tier_points) for _ in range(draw(st.integers(1, 4)))]
        cap = ""
        if draw(st.booleans()):
            cap = " max " + _fmt(draw(st.sampled_from(tier_points)))
        return f"deduct{cap} {{ {'  '.join(causes)} }}", False
    if form == "deduct_one":
        kind = draw(st.sampled_from(["when", "below", "above", "tiers"]))
        return "deduct " + _cause(draw, g, tier_points, kind), False
    if form == "pass":
        return f"pass when {g.gen('B', 3)}", False
    if form == "bonus_when":
        return f"bonus when {g.gen('B', 2)}", True
    if form == "score":
        # points given by another body: clamped to 0..points (values run past both ends)
        by = draw(st.sampled_from(["", ' by "区委组织部"']))
        return f"score {g.gen('N', 2)}{by}", False
    if form in ("deduct", "bonus_per"):
        per = draw(st.sampled_from(["0.5", "1", "2", "2.5", "0.3"]))
        cap = ""
        if draw(st.booleans()):
            cap = " max " + _fmt(draw(st.sampled_from(tier_points)))
        kw = "deduct" if form == "deduct" else "bonus"
        return f"{kw} {per} per {g.gen('N', 2)}{cap}", form == "bonus_per"
    if form == "linear_quotient":  # partial points from the quotient's figures
        ths = _ordered_thresholds(draw, "P", 2, draw(st.booleans()))
        lo, hi = ths if len(ths) == 2 else ["0%", "100%"]
        quotients = [n for n in g.pool["P"] if n.startswith("l")]  # a definition: looked through
        a, b = g.gen("N", 1), g._divisor("N", 1)
        value = draw(st.sampled_from([f"ratio({a}, {b})", *quotients]))
        return f"linear {value} from {lo} to {hi}", False
    fam = draw(st.sampled_from(["N", "P"]))
    if form == "linear":
        ths = _ordered_thresholds(draw, fam, 2, draw(st.booleans()))
        if len(ths) < 2:
            ths = ["0%", "100%"] if fam == "P" else ["0", "10"]
        lo, hi = ths
        return f"linear {g.gen(fam, 3)} from {lo} to {hi}", False
    if form == "linear_var":
        return (
            f"linear {g.gen(fam, 2)} from {g.gen(fam, 1, compound=draw(st.booleans()))}"
            f" to {g.gen(fam, 1, compound=True)}",
            False,
        )
    if form == "tiers_enum":
        rows = []
        for lit in draw(st.lists(st.sampled_from(ENUM_LITS), min_size=1, max_size=3)):
            rows.append(f"{draw(st.sampled_from(['==', '!=']))} {lit} : "
                        f"{_fmt(draw(st.sampled_from(tier_points)))}")  # fmt: skip
        if draw(st.booleans()):
            rows.append(f"else : {_fmt(draw(st.sampled_from(tier_points)))}")
        return f"tiers {g.gen('E', 1)} {{ {'  '.join(rows)} }}", False
    rows = []
    if form == "tiers":
        descending = draw(st.booleans())
        ops = [">=", ">"] if descending else ["<=", "<"]
        for th in _ordered_thresholds(draw, fam, 3, descending):
            rows.append(f"{draw(st.sampled_from(ops))} {th} : "
                        f"{_fmt(draw(st.sampled_from(tier_points)))}")  # fmt: skip
    else:
        for _ in range(draw(st.integers(1, 3))):
            rows.append(
                f"{draw(st.sampled_from(['>=', '>', '<=', '<', '==', '!=']))} "
                f"{g.gen(fam, 1, compound=True)} : {_fmt(draw(st.sampled_from(tier_points)))}"
            )
    if draw(st.booleans()):
        rows.append(f"else : {_fmt(draw(st.sampled_from(tier_points)))}")
    return f"tiers {g.gen(fam, 2)} {{ {'  '.join(rows)} }}", False


STEP_LITS = {"N": ["0.1", "0.5", "1", "2", "0.3", "0.2"], "P": ["1%", "10%", "0.5%", "12.5%", "5%"]}


def _cause(draw, g: ExprGen, tier_points: list[float], kind: str | None = None) -> str:
    """One deduction cause (`deduct { … }`, or after `deduct` on one line)."""
    kind = kind or draw(st.sampled_from(["per", "when", "below", "above", "tiers"]))
    amount = draw(st.sampled_from(["0.5", "1", "2", "2.5", "0.3", "10"]))
    cap = ""
    if kind in ("per", "below", "above") and draw(st.booleans()):
        cap = " max " + _fmt(draw(st.sampled_from(tier_points)))
    label = ' "原因"' if draw(st.booleans()) else ""
    if kind == "per":
        return f"{amount} per {g.gen('N', 2)}{label}{cap}"
    if kind == "when":
        return f"{amount} when {g.gen('B', 2)}{label}"
    fam = draw(st.sampled_from(["N", "P"]))
    if kind == "tiers":
        rows = []
        ascending = draw(st.booleans())
        ops = ["<", "<="] if ascending else [">", ">="]
        for th in _ordered_thresholds(draw, fam, 3, not ascending):
            rows.append(f"{draw(st.sampled_from(ops))} {th} : "
                        f"{_fmt(draw(st.sampled_from(tier_points)))}")  # fmt: skip
        if draw(st.booleans()):
            rows.append(f"else : {_fmt(draw(st.sampled_from(tier_points)))}")
        return f"tiers {g.gen(fam, 2)} {{ {'  '.join(rows)} }}"
    step = draw(st.sampled_from(STEP_LITS[fam]))
    part = " or part" if draw(st.booleans()) else ""
    lits = PCT_LITS if fam == "P" else INT_LITS + NUM_LITS
    threshold = draw(st.sampled_from(lits)) if draw(st.booleans()) else g.gen(fam, 1)
    return f"{amount} per {step}{part} of {g.gen(fam, 2)} {kind} {threshold}{label}{cap}"


def _penalty(draw, g: ExprGen) -> str:
    """A penalty (减分) item's form: one cause, or a block with or without a cap."""
    amounts = [1.0, 2.0, 2.5, 0.5, 3.0]
    if draw(st.booleans()):
        return "penalty " + _cause(draw, g, amounts)
    causes = [_cause(draw, g, amounts) for _ in range(draw(st.integers(1, 3)))]
    cap = " max " + _fmt(draw(st.sampled_from([1.5, 3, 5, 10]))) if draw(st.booleans()) else ""
    return f"penalty{cap} {{ {'  '.join(causes)} }}"


def _section(
    draw, g, ids: _Ids, depth: int, penalty: bool | None = None
) -> tuple[list[str], float]:
    """A section (加分项 / 减分项): a dimension without points holding only
    bonus or only penalty items (and maybe a sub-section), with or without a
    shared `max C`."""
    did = f"dm{ids.dim}"
    ids.dim += 1
    ids.dimensions.append(did)
    indent = "    " * (depth + 1)
    penalty = draw(st.booleans()) if penalty is None else penalty
    body: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            lines, _p = _section(draw, g, ids, depth + 1, penalty)
            body.extend(lines)
            continue
        iid = f"i{ids.ind}"
        ids.ind += 1
        ids.indicators.append(iid)
        if penalty:
            head, scoring = f'{indent}indicator {iid} "减分{iid}" {{', _penalty(draw, g)
        else:
            points = float(draw(st.sampled_from([1, 2, 2.5, 3, 5])))
            scoring, _b = _scoring_bonus(draw, g, points)
            head = f'{indent}indicator {iid} "加分{iid}" points {_fmt(points)} {{'
        lines = [head, f"{indent}    {scoring}"]
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"{indent}    {draw(st.sampled_from(['missing skip', 'missing zero']))}")
        body.extend([*lines, f"{indent}}}"])
    outer = "    " * depth
    cap = " max " + _fmt(draw(st.sampled_from([1, 2.5, 4, 6]))) if draw(st.booleans()) else ""
    head = f'{outer}dimension {did} "{"减分项" if penalty else "加分项"}{did}"{cap} {{'
    return [head, *body, f"{outer}}}"], 0.0


def _scoring_bonus(draw, g: ExprGen, points: float) -> tuple[str, bool]:
    if draw(st.booleans()):
        return f"bonus when {g.gen('B', 2)}", True
    per = draw(st.sampled_from(["0.5", "1", "2", "2.5"]))
    cap = " max " + _fmt(points) if draw(st.booleans()) else ""
    return f"bonus {per} per {g.gen('N', 2)}{cap}", True


def _policy(draw) -> str:
    return draw(st.sampled_from(["", "", " missing skip", " missing zero"]))


def _indicator(draw, g: ExprGen, ids: _Ids, indent: str) -> tuple[list[str], float]:
    points = float(draw(st.sampled_from(POINTS)))
    scoring, bonus = _scoring(draw, g, points)
    iid = f"i{ids.ind}"
    ids.ind += 1
    ids.indicators.append(iid)
    pol = draw(st.sampled_from(["", "", "missing skip", "missing zero"]))
    head = f'{indent}indicator {iid} "指标{iid}"'
    if not scoring.startswith("penalty"):  # a penalty (减分) item has no points
        head += f" points {_fmt(points)}"
    lines = [head + " {", f"{indent}    {scoring}"]
    # events around the form (前提、清零): a gate, zero events
    if draw(st.integers(0, 3)) == 0:
        lines.insert(1, f"{indent}    requires {g.gen('B', 2)}")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        lines.append(f'{indent}    zero when {g.gen("B", 2)} "清零"')
    if not bonus:
        ids.exemptable.append(iid)
    if pol:
        lines.append(f"{indent}    {pol}")
    if draw(st.integers(0, 3)) == 0:
        lines.append(f'{indent}    method "{draw(st.sampled_from(["查资料", "看现场"]))}"')
    lines.append(f"{indent}}}")
    return lines, 0.0 if bonus else points


def _veto(draw, g: ExprGen, ids: _Ids, indent: str, grades: list[str]) -> list[str]:
    vid = f"v{ids.veto}"
    ids.veto += 1
    ids.vetoes.append(vid)
    effect = draw(st.sampled_from(["", "caps", "blocks", "caps"]))
    eff = f' {effect} "{draw(st.sampled_from(grades))}"' if effect else ""
    return [f'{indent}veto {vid} "否决{vid}" when {g.gen("B", 2)}{eff}']


def _dimension(draw, g, ids: _Ids, depth: int, grades) -> tuple[list[str], float]:
    did = f"dm{ids.dim}"
    ids.dim += 1
    ids.dimensions.append(did)
    indent = "    " * (depth + 1)
    body: list[str] = []
    budget = 0.0
    exemptable = len(ids.exemptable)
    if draw(st.integers(0, 4)) == 0:  # a dimension's zero event (nested, bonus too)
        body.append(f"{indent}zero when {g.gen('B', 2)}")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["indicator", "indicator", "dimension", "veto", "section"]))
        if kind == "section" and depth < 2:
            lines, p = _section(draw, g, ids, depth + 1)
        elif kind == "dimension" and depth < 2:
            lines, p = _dimension(draw, g, ids, depth + 1, grades)
        elif kind == "veto":
            body.extend(_veto(draw, g, ids, indent, grades))
            continue
        else:
            lines, p = _indicator(draw, g, ids, indent)
        body.extend(lines)
        budget += p
    if not any(line.lstrip().startswith(("indicator", "dimension")) for line in body):
        lines, p = _indicator(draw, g, ids, indent)
        body.extend(lines)
        budget += p
    outer = "    " * depth
    if len(ids.exemptable) > exemptable:
        ids.exemptable.append(did)
    head = f'{outer}dimension {did} "维度{did}" points {_fmt(budget)}{_policy(draw)} {{'
    return [head, *body, f"{outer}}}"], budget


@st.composite
def model_sources(draw, max_top: int = 3) -> str:
    """The source text of a random model."""
    grades = GRADE_NAMES[: draw(st.integers(1, 4))]
    lines = ['model gen "随机模型"']
    for name, _, kind in INPUTS:
        # n1 is last period's n0 (`previous`): an input like any other when evaluated
        previous = " previous n0" if name == "n1" else ""
        lines.append(f"input {name}: {kind} optional{previous}")
    lets: dict[str, list[str]] = {f: [] for f in "NIPBEDT"}
    for j in range(draw(st.integers(0, 3))):
        fam = draw(st.sampled_from(["N", "I", "P", "B", "E", "ratio"]))
        g = ExprGen(draw, lets)
        if fam == "ratio":  # a rate, as sheets define them: `linear` looks through it
            fam = "P"
            lines.append(f"let l{j} = ratio({g.gen('N', 1)}, {g._divisor('N', 1)})")
        else:
            lines.append(f"let l{j} = {g.gen(fam, 2, compound=True)}")
        lets[fam].append(f"l{j}")
    g = ExprGen(draw, lets)
    ids = _Ids()
    body: list[str] = []
    total = 0.0
    for _ in range(draw(st.integers(1, max_top))):
        kind = draw(st.sampled_from(["dimension", "dimension", "indicator", "veto", "section"]))
        if kind == "section":
            dl, p = _section(draw, g, ids, 0)
        elif kind == "dimension":
            dl, p = _dimension(draw, g, ids, 0, grades)
        elif kind == "indicator":
            dl, p = _indicator(draw, g, ids, "")
        else:
            body.extend(_veto(draw, g, ids, "", grades))
            continue
        body.extend(dl)
        total += p
    if total <= 0:
        dl, p = _indicator(draw, g, ids, "")
        body.extend(dl)
        total += p
    lines.append(f"total {_fmt(total)}")
    pol = draw(st.sampled_from(["", "missing skip", "missing zero"]))
    if pol:
        lines.append(pol)
    # published scores rounded (`precision N`): both backends round points,
    # dimensions and the total the same way before grades and outputs read them
    digits = draw(st.sampled_from([None, None, 0, 1, 2, 6]))
    if digits is not None:
        lines.append(f"precision {digits}")
    lines.extend(body)
    # exemptions (免检): indicators or dimensions, one item may be named by two
    for k in range(draw(st.sampled_from([0, 0, 1, 2]))):
        if ids.exemptable:
            named = draw(st.lists(st.sampled_from(ids.exemptable), min_size=1, max_size=3))
            lines.append(f'exempt x{k} "免检" from {", ".join(named)} when {g.gen("B", 2)}')
    # grades: results may appear in their conditions (and in outputs)
    gg = ExprGen(
        draw,
        lets,
        grade={
            "N": ["total", *ids.indicators, *(f"points({d})" for d in ids.dimensions)],
            "I": ["missing_count"],
            "P": ["share", "min_dimension", *ids.dimensions],
            "B": ["vetoed", *ids.vetoes],
        },
    )
    for j in range(draw(st.integers(0, 2))):  # outputs: later outputs and grades use them
        fam = draw(st.sampled_from(["N", "I", "P", "B"]))
        lines.append(f'output o{j} "输出{j}" = {gg.gen(fam, 2, compound=True)}')
        gg.pool[fam].append(f"o{j}")
        if fam == "I":
            gg.pool["N"].append(f"o{j}")
    lines.append("grades {")
    otherwise = draw(st.integers(0, 5)) > 0
    for i, name in enumerate(grades):
        if otherwise and i == len(grades) - 1:
            lines.append(f'    "{name}" otherwise')
        else:
            lines.append(f'    "{name}" when {gg.gen("B", 3)}')
    lines.append("}")
    return "\n".join(lines) + "\n"


@st.composite
def records_for(draw, min_size: int = 1, max_size: int = 6) -> list[dict[str, Any]]:
    n = draw(st.integers(min_size, max_size))
    out = []
    for _ in range(n):
        out.append({name: draw(value_strategy(kind)) for name, _, kind in INPUTS})
    return out


# ---------------------------------------------------------------- checking


def check_source(source: str, file: str = "<generated>") -> tuple[ir.Model | None, list[str]]:
    """Parse and check model source: (model or None, error messages)."""
    pr = parse(source, file)
    if not pr.ok:
        return None, [str(d) for d in pr.diagnostics if d.is_error]
    cr = check(pr.tree, source)
    errors = [f"{d.code}: {d.message}" for d in cr.diagnostics if d.is_error]
    return (cr.model if not errors else None), errors


# ---------------------------------------------------------------- comparison


def _close(a: float, b: float) -> bool:
    """Bit equality (docs/language.md, "Numbers"): both backends compute the
    same IEEE operations on the same snapped decimals."""
    return a == b


def _same_score(ref: float | None, vec: float | None) -> bool:
    """Points, a dimension score or a total from each backend: both not scored (None),
    or both scored and close."""
    if ref is None or vec is None:
        return ref is None and vec is None
    return _close(ref, vec)


def same_value(ref: Any, vec: Any) -> bool:
    """An interpreter value (Missing for missing) against a Polars one (None)."""
    if isinstance(ref, Missing):
        return vec is None
    if vec is None or ref is None:
        return ref is None and vec is None
    if isinstance(ref, bool) or isinstance(vec, bool):
        return isinstance(ref, bool) and isinstance(vec, bool) and ref == vec
    if isinstance(ref, (int, float)) and isinstance(vec, (int, float)):
        return _close(float(ref), float(vec))
    return ref == vec


def _show(v: Any) -> str:
    if isinstance(v, Missing):
        return f"missing({v.reason})"
    return repr(v)


def compare_backends(
    model: ir.Model,
    records: list[dict[str, Any]],
    frame: pl.DataFrame | None = None,
    values: bool = True,
) -> list[str]:
    """Evaluate `records` with both backends and list every difference, one
    readable line each (record, what, reference value, vectorized value).
    `frame` is the typed input frame (`in.<id>` columns); built from the
    records when not given."""
    compiled = compile_model(model)
    vm = VectorModel(model)
    if frame is None:
        frame = frame_from_records(model, records)
    rows = vm.evaluate(frame, detail=True).to_dicts()
    names = [g.name for g in model.grades]
    diffs: list[str] = []
    for k, (rec, row) in enumerate(zip(records, rows, strict=True)):
        r = compiled.evaluate(rec)
        where = f"record {k}"

        def diff(what: str, ref: Any, vec: Any, where=where) -> None:
            diffs.append(f"{where}: {what}: reference {_show(ref)} != vectorized {_show(vec)}")

        for d in model.lets:
            if not same_value(r.env[d.id], row[f"let.{d.id}"]):
                diff(f"let {d.id} `{d.expr.text}`", r.env[d.id], row[f"let.{d.id}"])
        for j, ind in enumerate(model.indicators):
            p = f"ind.{ind.id}"
            outcome = row[f"{p}.outcome"]  # an `Outcome` label (None: none)
            if outcome != r.outcomes[j]:
                diff(f"indicator {ind.id} outcome", r.outcomes[j], outcome)
            vp = row[f"{p}.points"]
            if not _same_score(r.shown_points(j), vp):
                diff(f"indicator {ind.id} points", r.shown_points(j), vp)
            if values and not same_value(r.values[j], row[f"{p}.value"]):
                diff(f"indicator {ind.id} value", r.values[j], row[f"{p}.value"])
        for j, v in enumerate(model.vetoes):
            if not same_value(r.vetoes[j], row[f"veto.{v.id}"]):
                diff(f"veto {v.id}", r.vetoes[j], row[f"veto.{v.id}"])
        for i, d in enumerate(model.dimensions):
            if not _same_score(r.dim_scores[i], row[f"dim.{d.id}"]):
                diff(f"dimension {d.id} score", r.dim_scores[i], row[f"dim.{d.id}"])
            if not _close(r.dim_max[i], row[f"dim.{d.id}.max"]):
                diff(f"dimension {d.id} available points", r.dim_max[i], row[f"dim.{d.id}.max"])
        if not _same_score(r.total, row["total"]):
            diff("total", r.total, row["total"])
        for j, o in enumerate(model.outputs):
            if not same_value(r.outputs[j], row[f"out.{o.id}"]):
                diff(f"output {o.id} `{o.expr.text}`", r.outputs[j], row[f"out.{o.id}"])
        if r.grade != row["grade"]:
            diff("grade", r.grade, row["grade"])
        gi = r.grade_index if r.grade_index is not None else len(names)
        next_grade = names[gi - 1] if gi > 0 else None
        if next_grade != row["next_grade"]:
            diff("next_grade", next_grade, row["next_grade"])
        if r.missing_count != row["missing"]:
            diff("missing count", r.missing_count, row["missing"])
        if ",".join(r.vetoed) != row["vetoes"]:
            diff("vetoes", ",".join(r.vetoed), row["vetoes"])
    return diffs


def format_diffs(diffs: list[str], limit: int = 30) -> str:
    more = f"\n… and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return "\n".join(diffs[:limit]) + more


def records_to_csv(model: ir.Model, records: list[dict[str, Any]]) -> str:
    """A data file (headers = input ids) for a regression case."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    ids = [f.id for f in model.inputs]
    w.writerow(["community_id", *ids])
    types = {f.id: f.type for f in model.inputs}
    for k, rec in enumerate(records):
        row = [f"C{k + 1}"]
        for i in ids:
            v = rec.get(i)
            if v is None:
                row.append("")
            elif types[i] == "percent":
                row.append(f"{v * 100!r}%")
            elif isinstance(v, bool):
                row.append("true" if v else "false")
            elif isinstance(v, dt.date):
                row.append(v.isoformat())
            elif types[i] == "set":
                row.append(sets.text(v, model.input(i).values))
            else:
                row.append(str(v))
        w.writerow(row)
    return out.getvalue()
