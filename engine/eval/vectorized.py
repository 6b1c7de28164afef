"""The vectorized backend: a checked model compiled into one lazy Polars query
that evaluates every community at once.

It must give the same results as the reference interpreter
(`zhili.engine.eval.interpreter`): both consume the same `Plan` (aggregation,
rescaling, veto effects, next grade, names for grades), and the differential
tests compare them record by record. Polars' nulls are zhili's missing
values: arithmetic and comparisons with null give null, `&`/`|` are Kleene
(three-valued) exactly like the interpreter's `and`/`or`, and division by zero
is turned into null explicitly.

The columns of the evaluated frame are named by `zhili.engine.eval.columns`;
outcome columns hold `Outcome` labels (`OutcomeEnum`), as the results table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, assert_never

import polars as pl

from zhili.dsl import model as ir
from zhili.engine.eval import columns
from zhili.engine.eval.bounds import Bounds, points_bound
from zhili.engine.eval.chains import LinearPoints, LinearQuotient, normal_form
from zhili.engine.eval.columns import input_col  # noqa: F401 - re-exported
from zhili.engine.eval.plan import EPS, Group, Plan, count_comparison
from zhili.engine.functions import (
    BUILTIN_FUNCTIONS,
    INT_LIMIT,
    SET_FUNCTIONS,
    SMALL_DECIMAL_LIMIT,
    SMALL_SNAP_LIMIT,
    Function,
    pl_finite,
    pl_round_decimal,
    pl_round_decimal_small,
    pl_snap,
    pl_snap_small,
    polars_div,
)
from zhili.engine.functions import (
    lookup as lookup_function,
)

OUTCOMES = [o.value for o in ir.Outcome]  # index = `Outcome.code`
PASS, PARTIAL, FAIL, MISSING = (
    ir.Outcome.PASS.code,
    ir.Outcome.PARTIAL.code,
    ir.Outcome.FAIL.code,
    ir.Outcome.MISSING.code,
)
OutcomeEnum = pl.Enum(OUTCOMES)

POLARS_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64,
    "number": pl.Float64,
    "percent": pl.Float64,
    "bool": pl.Boolean,
    "text": pl.String,
    "enum": pl.String,
    "date": pl.Date,
    "set": pl.Int64,  # a bitmask of the listed values (`zhili.dsl.sets`)
    "any": pl.Float64,
}


class VectorUnsupported(Exception):
    """The model uses a function with no vectorized implementation."""


@dataclass(frozen=True)
class Publish:
    """A stage of the plan rounding the columns `names` in place, as
    `Plan.publish` (`precision N`). In a lazy plan (`VectorModel.apply`) it
    is `pl_round_decimal`; `VectorModel.evaluate` first looks at the columns
    and rounds each whose values all lie in 0..`SMALL_DECIMAL_LIMIT` (points
    and scores, nearly always) with `pl_round_decimal_small`: the same bits in
    a third of the operations."""

    names: tuple[str, ...]


Stage = list[pl.Expr] | Publish

# The detail levels of a results table (`detail=`): False the summary, POINTS
# also each indicator's points and outcome (what the run store and the
# csv/parquet output read), True also each indicator's value and each veto.
POINTS = "points"
Detail = bool | Literal["points"]


COUNT_TABLE_LIMIT = 64  # `VectorModel._count_table`: counts tabulated at most
INT64_LIMIT = 2**63
INPUT_LIMIT = 10**15  # the data contract: no input reaches this magnitude (engine/io/data.py)


def _lit(value: Any, type_name: str) -> pl.Expr:
    if value is None:
        return pl.lit(None, dtype=POLARS_TYPES.get(type_name, pl.Float64))
    dtype = POLARS_TYPES.get(type_name)
    if type_name == "int" and isinstance(value, int) and abs(value) >= INT64_LIMIT - 1:
        dtype = pl.Int128
    if (
        type_name in ("number", "percent")
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        value = float(value)
    return pl.lit(value, dtype=dtype)


def _code(outcome: int) -> pl.Expr:
    """An outcome (by `Outcome.code`) as a literal of the outcome columns'
    type, the `OutcomeEnum` label: the when/then chains that choose an
    outcome write the table's type directly (no pass relabelling codes)."""
    return pl.lit(OUTCOMES[outcome], OutcomeEnum)


def _deduct_outcome(missing: pl.Expr, taken: pl.Expr, left: pl.Expr) -> pl.Expr:
    """A deduction's outcome: missing, pass when nothing was taken, fail at 0
    points left, partial between."""
    return (
        pl.when(missing)
        .then(_code(MISSING))
        .when(taken <= EPS)
        .then(_code(PASS))
        .when(left <= EPS)
        .then(_code(FAIL))
        .otherwise(_code(PARTIAL))
    )


def _null_if_any(args: list[pl.Expr], result: pl.Expr) -> pl.Expr:
    """Strict functions: missing when any argument is missing (the
    interpreter returns the first missing argument)."""
    cond = pl.any_horizontal([a.is_null() for a in args])
    return pl.when(cond).then(None).otherwise(result)


_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def _int_arith(op: str, a: pl.Expr, b: pl.Expr, bound: int) -> pl.Expr:
    """Integer `a op b`, exact: Int64 when no result can reach 2^63 (by the
    operands' static `bound`), else Int128; and where a result could reach
    2^126 (`INT_LIMIT`), null where its float shadow (the operation on the
    operands as doubles) does, as the interpreter's `arith`: below that the
    exact result is below 2^127 and Int128 holds it."""
    f = _ARITH[op]
    if bound < INT64_LIMIT:
        return f(a, b)
    r = f(a.cast(pl.Int128), b.cast(pl.Int128))
    if bound < INT_LIMIT:
        return r
    shadow = f(a.cast(pl.Float64), b.cast(pl.Float64)).abs()
    return pl.when(shadow >= float(INT_LIMIT)).then(None).otherwise(r)


# `and`/`or` are Polars' Kleene `&`/`|`, as in the interpreter
_BINARY: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "/": polars_div,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class VectorModel:
    """A model compiled to Polars expressions."""

    def __init__(
        self,
        model: ir.Model,
        functions: dict[str, Function] | None = None,
        plan: Plan | None = None,
    ):
        self.model = model
        self.functions = functions or BUILTIN_FUNCTIONS
        self.grade_enum = pl.Enum([g.name for g in model.grades]) if model.grades else pl.String
        self.plan = plan or Plan(model)
        self._points = [columns.ind_points(i.id) for i in model.indicators]
        self._missing = [columns.ind_missing(i.id) for i in model.indicators]
        self._stages: dict[Detail, list[Stage]] = {}
        # where values are bounded below 2^22, snapping is one operation
        # (`pl_snap_small`): by the expressions' shapes (`Bounds`), and for
        # points and scores when every points figure of the model is small
        # (`points_bound`)
        self._bounds = Bounds(model)
        self._small_points = points_bound(model) < SMALL_SNAP_LIMIT / 2
        self._whole: set[str] | None = None
        # dimension index → its available points where no row can change them
        # (no `missing skip` below it), filled as the plan is built, deepest first
        self._static_max: dict[int, float] = {}
        # indicator id → its `_count_table` (None: none), as `scoring` builds them
        self._tables: dict[str, pl.DataFrame | None] = {}
        # `linear` of a quotient: its partial points from the quotient's figures
        self._linear_points = LinearPoints(model, self._builtin)
        self._check_functions()

    def _check_functions(self) -> None:
        for e in self._all_exprs():
            for node in ir.walk(e):
                if isinstance(node, ir.Call):
                    fn = self.functions.get(node.func) or SET_FUNCTIONS.get(node.func)
                    if fn is None or fn.polars is None:
                        raise VectorUnsupported(
                            f"function `{node.func}` has no vectorized implementation"
                        )
                    if (
                        node.func == "round"
                        and len(node.args) == 2
                        and _const_int(node.args[1]) is None
                    ):
                        raise VectorUnsupported("round() with a computed number of digits")

    def _all_exprs(self):
        m = self.model
        for d in m.lets:
            yield d.expr
        for ind in m.indicators:
            yield from ind.scoring.exprs()
        yield from ir.event_exprs(m)
        for v in m.vetoes:
            yield v.condition
        for g in m.grades:
            if g.condition is not None:
                yield g.condition
        for o in m.outputs:
            yield o.expr

    # ------------------------------------------------------------ expressions
    def expr(self, e: ir.Expr, results: dict[str, pl.Expr] | None = None) -> pl.Expr:
        """The Polars expression of a model expression; `results` maps the
        names grade conditions may use to their expressions."""
        match e:
            case ir.Const():
                return _lit(e.value, e.type)
            case ir.Ref():
                if e.scope == "input":
                    return pl.col(input_col(e.name))
                if e.scope == "let":
                    return pl.col(columns.let_col(e.name))
                return results[e.key]
            case ir.Unary():
                x = self.expr(e.operand, results)
                if e.op == "not":
                    return ~x
                # Polars cannot negate an Int128: 0 - x
                return pl.lit(0, pl.Int64) - x if e.type == "int" else -x
            case ir.Binary():
                normal = normal_form(e, self._builtin)
                if normal is not None:  # a product after a division: the division last
                    return self.expr(normal, results)
                return self._binary(e, results)
            case ir.InList():
                x = self.value(e.operand, results)
                eqs = [x == self.value(o, results) for o in e.options]
                if not eqs:  # `x in []`: false, but missing when x is (as in the interpreter)
                    hit = pl.when(x.is_null()).then(None).otherwise(pl.lit(False))
                else:
                    hit = pl.any_horizontal(eqs)
                # any_horizontal is Kleene: true if any true, null if none true but some null
                return ~hit if e.negated else hit
            case ir.Cond():
                c = self.expr(e.cond, results)
                a = self.expr(e.then, results)
                b = self.expr(e.orelse, results)
                return pl.when(c.is_null()).then(None).when(c).then(a).otherwise(b)
            case ir.Call():
                normal = normal_form(e, self._builtin)
                if normal is not None:
                    return self.expr(normal, results)
                return self._call(e, results)
            case _:
                assert_never(e)

    def _builtin(self, name: str) -> bool:
        """Whether `name` is the built-in function here (`chains.normal_form`)."""
        return self.functions.get(name) is BUILTIN_FUNCTIONS.get(name)

    def _binary(self, e: ir.Binary, results: dict[str, pl.Expr] | None) -> pl.Expr:
        """Arithmetic as the interpreter's `number`: an int result exact (or
        null on overflow), a float result snapped (`pl_snap`); division by
        a nonzero constant multiplies by its reciprocal, in both backends."""
        shape = count_comparison(e)
        if shape is not None:
            return self._count_compare(*shape, results)
        if e.op in _CMP_OPS:
            a, b = self.value(e.left, results), self.value(e.right, results)
            return _BINARY[e.op](a, b)
        a = self.expr(e.left, results)
        b = self.value(e.right, results) if e.op == "/" else self.expr(e.right, results)
        if e.op == "/":
            b = _divisor(e.right, b)
        if e.op in _ARITH:
            if e.type == "int":
                return _int_arith(e.op, a, b, self._int_bound(e))
            return self._snap(e, _ARITH[e.op](a, b))
        if e.op == "/" and _nonzero_const(e.right):
            return self._snap(e, a.cast(pl.Float64) * pl.lit(1.0 / e.right.value))
        if e.op == "/" and self._bounds.of(e) < SMALL_SNAP_LIMIT:
            return pl_snap_small(a.cast(pl.Float64) / b.cast(pl.Float64))
        return _BINARY[e.op](a, b)

    def _snap(self, e: ir.Expr, x: pl.Expr) -> pl.Expr:
        """`x`, the arithmetic of `e`, snapped: in one operation where `e`
        is bounded below 2^22 (`Bounds`), else exactly at every magnitude."""
        return pl_snap_small(x) if self._bounds.of(e) < SMALL_SNAP_LIMIT else pl_snap(x)

    def _snap_points(self, x: pl.Expr) -> pl.Expr:
        """`x`, points or a score (or a sum of them), snapped: in one
        operation when every points figure of the model is small."""
        return pl_snap_small(x) if self._small_points else pl_snap(x)

    def _count_compare(
        self, count: ir.Call, op: str, other: ir.Expr, results: dict[str, pl.Expr] | None
    ) -> pl.Expr:
        """`count(…) OP n`, decided when the known terms decide: the plan's
        `count_decides` over k (terms true) … k+u (terms unknown)."""
        terms = [self.value(a, results) for a in count.args]
        one, zero = pl.lit(1, pl.Int64), pl.lit(0, pl.Int64)
        known = pl.sum_horizontal([pl.when(t).then(one).otherwise(zero) for t in terms])
        unknown = pl.sum_horizontal([pl.when(t.is_null()).then(one).otherwise(zero) for t in terms])
        high = known + unknown
        n = self.value(other, results)
        if op in ("==", "!="):
            whole = (
                pl.lit(True)
                if other.type == "int"
                else n.cast(pl.Float64).floor() == n.cast(pl.Float64)
            )
            equal = (
                pl.when(unknown == 0)
                .then(known == n)
                .when((n < known) | (n > high) | ~whole)
                .then(pl.lit(False))
                .otherwise(pl.lit(None, pl.Boolean))
            )
            return equal if op == "==" else ~equal
        low_says, high_says = _BINARY[op](known, n), _BINARY[op](high, n)
        return pl.when(low_says == high_says).then(low_says).otherwise(pl.lit(None, pl.Boolean))

    def value(self, e: ir.Expr, results: dict[str, pl.Expr] | None = None) -> pl.Expr:
        """`expr`, made null where a float result is not finite: where a value
        is used (compared, passed to a function, scored, stored), not inside
        arithmetic, which carries an infinity or NaN on as the interpreter
        carries its `Missing` (see `pl_snap`)."""
        x = self.expr(e, results)
        if e.type in ("int", "bool", "text", "enum", "date", "set") or _finite_shape(e):
            return x
        return pl_finite(x)

    def _int_bound(self, e: ir.Expr) -> int:
        """An upper bound of |value| of an int expression, from its shape
        (inputs are below `INPUT_LIMIT`): decides where the exact integer arithmetic
        needs Int128 and an overflow test. Unknown shapes: 2^127."""
        unknown = 2**127
        match e:
            case ir.Const():
                return abs(e.value) if isinstance(e.value, int) else unknown
            case ir.Ref():
                if e.scope == "input":
                    return INPUT_LIMIT
                if e.scope == "let":
                    d = next((d for d in self.model.lets if d.id == e.name), None)
                    return self._int_bound(d.expr) if d is not None else unknown
                return INT64_LIMIT if e.name == "missing_count" else unknown
            case ir.Unary():
                return self._int_bound(e.operand) + 1
            case ir.Binary() if e.op in ("+", "-"):
                return self._int_bound(e.left) + self._int_bound(e.right)
            case ir.Binary() if e.op == "*":
                return self._int_bound(e.left) * self._int_bound(e.right)
            case ir.Cond():
                return max(self._int_bound(e.then), self._int_bound(e.orelse))
            case ir.Call() if e.func in ("min", "max", "clamp", "abs", "coalesce", "default"):
                return max(self._int_bound(a) for a in e.args)
            case ir.Call() if e.func == "count":
                return len(e.args)
            case _:
                return unknown

    def _call(self, e: ir.Call, results: dict[str, pl.Expr] | None) -> pl.Expr:
        args = [self.value(a, results) for a in e.args]
        # `_check_functions`: each has a Polars implementation
        fn = lookup_function(self.functions, e.func)
        if e.func == "round":
            # the number of digits is a constant (checked): Polars wants an int
            digits = _const_int(e.args[1]) if len(e.args) == 2 else 0
            result = fn.polars(args[0], digits, e.args[0].type == "int")
            args = args[:1]
        elif e.func in ("floor", "ceil") and fn is BUILTIN_FUNCTIONS.get(e.func):
            result = fn.polars(args[0], e.args[0].type == "int")
        elif (
            e.func in ("ratio", "per_10k")
            and fn is BUILTIN_FUNCTIONS.get(e.func)
            and self._bounds.of(e) < SMALL_SNAP_LIMIT
        ):
            a = args[0].cast(pl.Float64) * (10000.0 if e.func == "per_10k" else 1.0)
            result = pl_snap_small(a / _divisor(e.args[1], args[1]))
        elif e.func in ("ratio", "per_10k") and fn is BUILTIN_FUNCTIONS.get(e.func):
            result = fn.polars(args[0], _divisor(e.args[1], args[1]))
        else:
            result = fn.polars(*args)
        if fn.signature.handles_missing:
            return result
        return _null_if_any(args, result)

    # ------------------------------------------------------------ scoring
    def scoring(self, ind: ir.Indicator) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
        """(value, points, missing flag, outcome code) for one indicator.
        Points are written so that a null value gives 0 without an explicit
        test where the form allows it (the summary plan computes only points
        and missing flags; outcomes are for the detailed table)."""
        s = ind.scoring
        full = float(ind.points)
        v = self.value(s.value)
        missing = v.is_null()
        match s:
            case ir.PassWhen() | ir.BonusWhen():
                points = pl.when(v).then(full).otherwise(0.0)
                outcome = (
                    pl.when(missing)
                    .then(_code(MISSING))
                    .when(v)
                    .then(_code(PASS))
                    .otherwise(_code(FAIL))
                )
                return v, points, missing, outcome
            case ir.Linear():
                return self._linear(s, full, v, missing)
            case ir.Tiers():
                return self._tiers(s, full, v, missing)
            case ir.Deduct():
                return self._by_count(ind, self._deduct(ind, s, full, v, missing))
            case ir.Penalty():
                return self._penalty(ind)
            case ir.Deductions():
                return self._deductions(ind, full)
            case ir.BonusPer():
                cap = float(s.cap if s.cap is not None else full)
                earned = self._per_count(s.value, v, s.per).clip(upper_bound=cap)
                points = earned.fill_null(0.0)
                if _may_overflow(s.value):
                    missing = earned.is_null()
                outcome = (
                    pl.when(missing)
                    .then(_code(MISSING))
                    .when(earned > EPS)
                    .then(_code(PASS))
                    .otherwise(_code(FAIL))
                )
                return self._by_count(ind, (v, points, missing, outcome))
            case ir.Score():
                # as the interpreter: at most 0 (-0 too) is 0, else at most the points
                given = v.cast(pl.Float64)
                points = pl.when(given <= 0).then(0.0).otherwise(given.clip(upper_bound=full))
                points = points.fill_null(0.0)
                return v, points, missing, self._outcome_from_points(points, missing, full)
            case _:
                assert_never(s)

    def _by_count(
        self, ind: ir.Indicator, scored: tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]
    ) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
        """A `per` form's (value, points, missing, outcome), the points and
        outcome looked up in its `_count_table` where it has one (one gather
        each instead of the form's arithmetic)."""
        table = self._tables[ind.id] = self._count_table(ind, scored)
        if table is None:
            return scored
        v, _points, missing, _outcome = scored
        last = table.height - 1  # the row of a missing count
        index = v.clip(0, last - 1).fill_null(last)
        points = pl.lit(table.get_column("p")).gather(index)
        return v, points, missing, pl.lit(table.get_column("o")).gather(index)

    def _count_table(
        self, ind: ir.Indicator, scored: tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]
    ) -> pl.DataFrame | None:
        """`deduct`/`bonus P per N` on an int input N (P > 0): the points
        (`p`) and outcome (`o`) the form's own expressions give for N = 0, 1,
        …, K and for a missing N (the last row), K the first count at which
        the cap holds the product. Any larger N has K's: the product grows
        with N (N below 0 counts as 0) and the capped product is then the
        same. None for another count, or a K past `COUNT_TABLE_LIMIT`."""
        s = ind.scoring
        count = s.value
        if not (
            isinstance(count, ir.Ref) and count.scope == "input" and count.type == "int"
        ) or not (s.per > EPS):
            return None
        v, points, _missing, outcome = scored
        cap = float(s.cap if s.cap is not None else ind.points)
        product = self._per_count(count, v, s.per)
        counts = pl.Series(
            input_col(count.name), [*range(COUNT_TABLE_LIMIT + 1), None], dtype=pl.Int64
        )
        try:
            t = counts.to_frame().select(
                p=points, o=outcome, product=product, taken=product.clip(upper_bound=cap)
            )
        except pl.exceptions.PolarsError:
            return None
        for k, (prod, taken) in enumerate(zip(t["product"], t["taken"], strict=False)):
            if k > COUNT_TABLE_LIMIT:
                break
            if taken < prod or prod == cap:  # held by the cap from here on
                return pl.concat([t.slice(0, k + 1), t.tail(1)]).select("p", "o")
        return None

    def with_events(
        self, ind: ir.Indicator, value: pl.Expr, points: pl.Expr, missing: pl.Expr, outcome: pl.Expr
    ) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
        """The scoring form's (value, points, missing, outcome) wrapped in the
        indicator's events, as the interpreter's `_with_events` (the order
        of `Events`): a zero event that holds, one unknown, an exemption that
        holds, the gate unknown, the gate unmet, then the form."""
        ev = self.plan.events[self.plan.ind_index[ind.id]]
        if ev is None:
            return value, points, missing, outcome
        full = float(ind.points)
        zero = self._event_any([z.condition for z in ev.zero]) if ev.zero else None
        exempt = None
        if ev.exemptions:
            conds = [self.model.exemptions[k].condition for k in ev.exemptions]
            exempt = self._event_any(conds).fill_null(False)
        gate = self.value(ev.requires.condition) if ev.requires is not None else None
        # (when, value or None for missing, missing, outcome code): the first that holds wins
        cases: list[tuple[pl.Expr, pl.Expr | None, bool, int]] = []
        # the points need fewer tests: every case but an exemption gives 0
        zero_points: list[pl.Expr] = []
        if zero is not None:
            cases.append((zero.fill_null(False), value, False, FAIL))
            cases.append((zero.is_null(), None, True, MISSING))
            zero_points.append(zero.fill_null(True))
        if exempt is not None:
            cases.append((exempt, value, False, PASS))
        if gate is not None:
            cases.append((gate.is_null(), None, True, MISSING))
            cases.append((~gate, value, False, FAIL))
        p_out = None
        if zero_points:
            p_out = pl.when(zero_points[0]).then(pl.lit(0.0))
        if exempt is not None:
            p_out = (pl.when(exempt) if p_out is None else p_out.when(exempt)).then(pl.lit(full))
        if gate is not None:
            unmet = ~gate.fill_null(False)
            p_out = (pl.when(unmet) if p_out is None else p_out.when(unmet)).then(pl.lit(0.0))
        # the missing flag as boolean algebra (cheaper than a when-chain):
        # zero unknown, or no zero holds and not exempt and (gate unknown or met and the form missing)
        m_out = missing
        if gate is not None:
            m_out = gate.is_null() | (gate.fill_null(False) & m_out)
        if exempt is not None:
            m_out = ~exempt & m_out
        if zero is not None:
            m_out = zero.is_null() | (~zero.fill_null(True) & m_out)
        v_out = o_out = None
        for when, v, _flag, code in cases:
            v_new = pl.lit(None) if v is None else v
            if v_out is None:
                v_out = pl.when(when).then(v_new)
                o_out = pl.when(when).then(_code(code))
            else:
                v_out = v_out.when(when).then(v_new)
                o_out = o_out.when(when).then(_code(code))
        return v_out.otherwise(value), p_out.otherwise(points), m_out, o_out.otherwise(outcome)

    def _event_any(self, conds: list[ir.Expr]) -> pl.Expr:
        """`c1 or c2 or …` (Kleene, as the interpreter's first-true-else-unknown)."""
        acc = self.value(conds[0])
        for c in conds[1:]:
            acc = acc | self.value(c)
        return acc

    def _linear(self, s: ir.Linear, full: float, v: pl.Expr, missing: pl.Expr):
        """As the interpreter's `_linear_scorer`: d = v - low snapped, the
        outcome from t = d / span, partial points snap(d × full / span)."""
        lo = self.value(s.low)
        hi = self.value(s.high)
        const = _const_linear(s)
        # between constant bounds less than 2^21 apart, d past 2^22 is past
        # the span whichever way it is rounded: only d below 2^22 is read
        near = const and abs(float(s.high.value - s.low.value)) < SMALL_SNAP_LIMIT / 2
        d = self._minus(s.value, s.low, v, lo, small=near)
        if const:
            span = pl.lit(float(s.high.value - s.low.value))  # a scalar: its reciprocal
            t = d / span
            if _may_overflow(s.value):
                missing = missing | d.is_null()
        else:
            span = self._minus(s.high, s.low, hi, lo)
            missing = missing | lo.is_null() | hi.is_null() | d.is_null() | span.is_null()
            missing = missing | (span == 0)
            t = d / span
        # chosen only where 0 < d / span < 1: below the points
        partial = (pl_snap_small if full < SMALL_SNAP_LIMIT / 2 else pl_snap)(d * full / span)
        exact = self._linear_points.of(s, full) if const else None
        if exact is not None:
            # from the quotient's own figures, rounded once (`chains.LinearQuotient`)
            snap = pl_snap_small if full < SMALL_SNAP_LIMIT / 2 else pl_snap
            partial = snap(self._quotient_points(exact)).clip(0.0, full)
        points = pl.when(t >= 1.0 - EPS).then(full).when(t <= EPS).then(0.0).otherwise(partial)
        if const and not _may_overflow(s.value):
            points = points.fill_null(0.0)
        else:
            points = pl.when(missing).then(0.0).otherwise(points)
        outcome = (
            pl.when(missing)
            .then(_code(MISSING))
            .when(t >= 1.0 - EPS)
            .then(_code(PASS))
            .when(t <= EPS)
            .then(_code(FAIL))
            .otherwise(_code(PARTIAL))
        )
        # a missing bound (or lo == hi) makes the indicator missing: its
        # value is missing too, as in the interpreter (which reports why)
        value = v if const else pl.when(missing).then(None).otherwise(v)
        return value, points, missing, outcome

    def _quotient_points(self, q: LinearQuotient) -> pl.Expr:
        """(x − A) · k of a `LinearQuotient`, the interpreter's operations
        (read only where the value is present, so where the figures are)."""
        x = self.expr(q.num[0]).cast(pl.Float64)
        for e in q.num[1:]:
            x = x * self.expr(e).cast(pl.Float64)
        for e in q.den:
            if _nonzero_const(e):
                x = x * pl.lit(1.0 / float(e.value))
            else:
                x = x / self.expr(e).cast(pl.Float64)
        return (x - q.low) * q.k

    def _minus(
        self, ea: ir.Expr, eb: ir.Expr, a: pl.Expr, b: pl.Expr, small: bool = False
    ) -> pl.Expr:
        """`a - b` of two model values as the language computes it (`small`:
        only a difference below 2^22 is read, see `pl_snap_small`)."""
        if ea.type == "int" and eb.type == "int":
            return _int_arith("-", a, b, self._int_bound(ea) + self._int_bound(eb))
        small = small or self._bounds.of(ea) + self._bounds.of(eb) < SMALL_SNAP_LIMIT
        d = (pl_snap_small if small else pl_snap)(a - b)
        return d if _finite_shape(ea) and _finite_shape(eb) else pl_finite(d)

    def _per_count(self, e: ir.Expr, v: pl.Expr, per: float) -> pl.Expr:
        """`per × max(v, 0)` of `deduct`/`bonus … per` as the interpreter's
        `number(per * max(n, 0))`."""
        n = v.clip(lower_bound=0)
        if e.type == "int" and isinstance(per, int) and not isinstance(per, bool):
            return _int_arith("*", n, pl.lit(per), self._int_bound(e) * abs(per))
        # read only capped by points (`_deduct`, `bonus … per`): one past 2^22
        # is past the cap, rounded either way
        product = (self._snap_points if per >= 0 else pl_snap)(n * per)
        return pl_finite(product) if _may_overflow(e) else product

    def _tiers(self, s: ir.Tiers, full: float, v: pl.Expr, missing: pl.Expr):
        thresholds = [self.value(t.threshold) for t in s.tiers]
        for t, th in zip(s.tiers, thresholds, strict=True):
            if not isinstance(t.threshold, ir.Const):
                missing = missing | th.is_null()
        chain = pl.when(missing).then(0.0)
        for t, th in zip(s.tiers, thresholds, strict=True):
            chain = chain.when(_BINARY[t.op](v, th)).then(float(t.points))
        points = chain.otherwise(float(s.else_points))
        outcome = self._outcome_from_points(points, missing, full)
        # a missing threshold makes the value missing (as in the interpreter)
        value = (
            v
            if all(isinstance(t.threshold, ir.Const) for t in s.tiers)
            else (pl.when(missing).then(None).otherwise(v))
        )
        return value, points, missing, outcome

    def _deduct(self, ind: ir.Indicator, s: ir.Deduct, full: float, v: pl.Expr, missing: pl.Expr):
        cap = float(s.cap if s.cap is not None else full)
        product = self._per_count(s.value, v, s.per)
        taken = product.clip(upper_bound=cap)
        if _may_overflow(s.value):
            missing = missing | product.is_null()
        left = self._snap_points(full - taken)
        if s.per > EPS and cap > EPS and ind.id in self._whole_counts():
            # a whole count: `taken` is 0 or at least min(per, cap) > EPS,
            # so the `taken <= EPS` snap to full points changes nothing
            points = left.fill_null(0.0)
        else:
            points = pl.when(taken <= EPS).then(full).when(missing).then(0.0).otherwise(left)
        return v, points, missing, _deduct_outcome(missing, taken, left)

    def _deducted(self, s: ir.Deductions, full: float) -> pl.Expr:
        """As the interpreter's `_deductions_scorer`: each cause's deduction
        (the same snapped operations), their sum, capped; null when any cause
        cannot be known."""
        total = missing = None
        nonnegative = all(
            c.amount >= 0 and c.else_points >= 0 and all(t.points >= 0 for t in c.tiers)
            for c in s.causes
        )
        add = self._snap_points if nonnegative else pl_snap
        for c in s.causes:  # the sum as the interpreter adds: the first as it is
            d, known = self._cause(c)
            missing = ~known if missing is None else missing | ~known
            # causes deduct at least 0, and their sum is capped by points: one
            # past 2^22 is past the cap, rounded either way
            total = d if total is None else add(total + d)
        cap = float(s.cap if s.cap is not None else full)
        return pl.when(missing).then(None).otherwise(total.clip(upper_bound=cap))

    def _taken(self, ind: ir.Indicator) -> pl.Expr:
        """The points a deduction block (`_deducted`) or a penalty
        (`_penalty_taken`) takes."""
        if isinstance(ind.scoring, ir.Penalty):
            return self._penalty_taken(ind.scoring)
        return self._deducted(ind.scoring, float(ind.points))

    def _penalty_taken(self, s: ir.Penalty) -> pl.Expr:
        """As the interpreter's `_penalty_scorer`: the causes' deductions
        summed as a block sums them (exactly: no cap bounds the sum below
        2^22 when `cap` is None), at most `cap`; null when a cause cannot be
        known."""
        total = missing = None
        for c in s.causes:
            d, known = self._cause(c)
            missing = ~known if missing is None else missing | ~known
            total = d if total is None else pl_snap(total + d)
        if s.cap is not None:
            total = total.clip(upper_bound=float(s.cap))
        return pl.when(missing).then(None).otherwise(total)

    def _penalty(self, ind: ir.Indicator):
        """Points (−taken), outcome (pass when nothing is taken, else fail)
        and value (the points taken) of a penalty (减分) item."""
        taken = pl.col(columns.deducted_col(ind.id))
        missing = taken.is_null()
        points = pl.when(missing | (taken <= EPS)).then(0.0).otherwise(-taken)
        outcome = (
            pl.when(missing)
            .then(_code(MISSING))
            .when(taken <= EPS)
            .then(_code(PASS))
            .otherwise(_code(FAIL))
        )
        return taken, points, missing, outcome

    def _section_capped(self, group: Group, bonus: pl.Expr) -> pl.Expr:
        """A section's bonus (penalty) sum held to its `max C`, as `plan.capped`."""
        if group.cap is None:
            return bonus
        return bonus.clip(lower_bound=-float(group.cap), upper_bound=float(group.cap))

    @staticmethod
    def _floored(group: Group, score: pl.Expr) -> pl.Expr:
        """A score penalties can take below 0 is 0, as `plan.floored`."""
        if not group.floor:
            return score
        return pl.when(score > 0).then(score).otherwise(0.0)

    def _deductions(self, ind: ir.Indicator, full: float):
        """Points, outcome and value (the points deducted) of a deduction
        block from its `_deducted` column."""
        taken = pl.col(columns.deducted_col(ind.id))
        missing = taken.is_null()
        left = self._snap_points(full - taken).clip(lower_bound=0.0)
        points = pl.when(missing).then(0.0).when(taken <= EPS).then(full).otherwise(left)
        return taken, points, missing, _deduct_outcome(missing, taken, left)

    def _cause(self, c: ir.DeductCause) -> tuple[pl.Expr, pl.Expr]:
        """(points deducted, known) of one deduction cause; `known` is false
        where its value (or a threshold) is missing or the arithmetic left
        the number range."""
        v = self.value(c.value)
        known = v.is_not_null()
        if c.kind == "when":
            return pl.when(v).then(c.amount).otherwise(0.0), known
        if c.kind == "tiers":
            chain = None
            for t in c.tiers:
                th = self.value(t.threshold)
                if not isinstance(t.threshold, ir.Const):
                    known = known & th.is_not_null()
                cond = _BINARY[t.op](v, th)
                chain = (pl.when(cond) if chain is None else chain.when(cond)).then(float(t.points))
            d = chain.otherwise(float(c.else_points)) if chain is not None else pl.lit(0.0)
            return d, known
        x = v.cast(pl.Float64)
        if c.kind == "per":
            raw = (self._snap_points if c.amount >= 0 else pl_snap)(
                x.clip(lower_bound=0.0) * c.amount
            )
        else:
            th = self.value(c.threshold).cast(pl.Float64)
            known = known & th.is_not_null()
            bound = self._bounds.of(c.value) + self._bounds.of(c.threshold)
            snap = pl_snap_small if bound < SMALL_SNAP_LIMIT else pl_snap
            short = snap(th - x) if c.kind == "below" else snap(x - th)
            q = (pl_snap_small if bound / abs(c.step) < SMALL_SNAP_LIMIT else pl_snap)(
                short * (1.0 / c.step)
            )
            steps = q.ceil() if c.part else q.floor()
            steps = pl.when(short <= 0).then(0.0).otherwise(steps)
            raw = (self._snap_points if c.amount >= 0 else pl_snap)(steps * c.amount)
        # `raw` is null only where `known` is already false
        known = known & raw.is_finite()
        d = raw.clip(upper_bound=float(c.cap)) if c.cap is not None else raw
        return d, known

    def _whole_counts(self) -> set[str]:
        """The `deduct` indicators whose count Polars types as an integer
        (over the model's inputs and definitions), i.e. whose values are
        whole numbers. Worked out once, from the plan's schema."""
        if self._whole is None:
            counts = {
                ind.id: self.expr(ind.scoring.value)
                for ind in self.model.indicators
                if isinstance(ind.scoring, ir.Deduct)
            }
            self._whole = set()
            if counts:
                lf = frame_from_records(self.model, []).lazy()
                for stage in self._let_stages():
                    lf = lf.with_columns(stage)
                try:
                    schema = lf.select([e.alias(k) for k, e in counts.items()]).collect_schema()
                except pl.exceptions.PolarsError:
                    return self._whole
                self._whole = {k for k, dtype in schema.items() if dtype.is_integer()}
        return self._whole

    @staticmethod
    def _outcome_from_points(points: pl.Expr, missing: pl.Expr, full: float) -> pl.Expr:
        return (
            pl.when(missing)
            .then(_code(MISSING))
            .when(points >= full - EPS)
            .then(_code(PASS))
            .when(points <= EPS)
            .then(_code(FAIL))
            .otherwise(_code(PARTIAL))
        )

    # ------------------------------------------------------------ plan
    def apply(self, lf: pl.LazyFrame, detail: Detail = True) -> pl.LazyFrame:
        """Add the result columns to a frame of `in.<input>` columns."""
        for stage in self.stages(detail):
            lf = lf.with_columns(self.published(stage) if isinstance(stage, Publish) else stage)
        return lf

    def stages(self, detail: Detail) -> list[Stage]:
        """The plan as `with_columns` stages, built once per model and mode."""
        cached = self._stages.get(detail)
        if cached is None:
            cached = self._stages[detail] = self._build_stages(detail)
        return cached

    def _build_stages(self, detail: Detail) -> list[Stage]:
        model = self.model
        stages = self._let_stages()
        # the points each deduction block takes, once (its points, value and
        # outcome all read it)
        taken = [
            self._taken(ind).alias(columns.deducted_col(ind.id))
            for ind in model.indicators
            if isinstance(ind.scoring, ir.Deductions)
        ]
        if taken:
            stages.append(taken)

        # indicators and vetoes
        cols = []
        for ind in model.indicators:
            value, points, missing, outcome = self.with_events(ind, *self.scoring(ind))
            cols.append(points.alias(columns.ind_points(ind.id)))
            cols.append(missing.alias(columns.ind_missing(ind.id)))
            if detail:
                cols.append(outcome.alias(columns.ind_outcome(ind.id)))
            if detail is True:
                cols.append(value.alias(columns.ind_value(ind.id)))
        for v in model.vetoes:
            cols.append(self.expr(v.condition).alias(columns.veto_col(v.id)))
        stages.append(cols)
        rounded = [ind for ind in model.indicators if not self._published_as_is(ind)]
        self._publish_stage(stages, [columns.ind_points(ind.id) for ind in rounded])
        if detail and rounded:
            # points published as they are settle nothing: their outcome is
            # partial only strictly between 0 and the full points already
            stages.append([self._settled(ind) for ind in rounded])

        # dimensions by the plan's layers, deepest first; rescaling as `Plan` says
        plan = self.plan
        for layer in plan.layers:
            stages.append([e for di in layer for e in self._dimension(di)])
            self._publish_stage(
                stages, [columns.dim_score(model.dimensions[di].id) for di in layer]
            )
        total = self._total().alias(columns.TOTAL)
        stages.append([total, self._missing_count().alias(columns.MISSING)])
        self._publish_stage(stages, [columns.TOTAL])
        stages.extend(self._grade_stages())
        # a dimension not scored is published as null (its bonus, carried in
        # `dim.<id>` until now, has gone into its parent already); so is an
        # indicator that `missing skip` left out
        stages.append(
            [
                self._if_present(k, pl.col(columns.dim_score(d.id)), None).alias(
                    columns.dim_score(d.id)
                )
                for k, d in enumerate(model.dimensions)
                # (one with points available in every row is as it is)
                if plan.scorable[k] and self._static_max.get(k, 0.0) <= 0
            ]
            + [
                self._shown_points(i).alias(self._points[i])
                for i in range(len(model.indicators))
                if plan.skip[i]
            ]
        )
        return stages

    def _dimension(self, di: int) -> list[pl.Expr]:
        """Dimension di's score (its bonus when nothing in it is available)
        and available points, rescaled as `Plan` says."""
        d = self.model.dimensions[di]
        group = self.plan.dims[di]
        scored, bonus, avail = self._aggregate(group)
        bonus = self._section_capped(group, bonus)  # a section's `max C`
        declared = float(d.points)
        floor = self._floored
        if isinstance(avail, float):  # the same branch for every row
            self._static_max[di] = 0.0 if avail <= EPS else declared
            if avail <= EPS:  # not scored: its bonus, a penalty taking nothing below 0
                score = floor(group, bonus)
            elif avail < declared - EPS:
                score = self._snap_points(self._snap_points(scored * declared / avail) + bonus)
                score = floor(group, score)
            else:
                score = floor(group, self._snap_points(scored + bonus))
            available = pl.lit(self._static_max[di])
        else:
            dim_missing = avail <= EPS
            score = (
                pl.when(dim_missing)
                .then(floor(group, bonus))
                .when(avail < declared - EPS)
                .then(
                    floor(
                        group,
                        self._snap_points(self._snap_points(scored * declared / avail) + bonus),
                    )
                )
                .otherwise(floor(group, self._snap_points(scored + bonus)))
            )
            available = pl.when(dim_missing).then(0.0).otherwise(declared)
        return [score.alias(columns.dim_score(d.id)), available.alias(columns.dim_max(d.id))]

    def _total(self) -> pl.Expr:
        """The total: the top level's points, rescaled as `Plan` says, plus its
        bonus; null when nothing was available and the plan says so."""
        plan = self.plan
        scored, bonus, avail = self._aggregate(plan.top)
        declared_total = float(plan.top.declared)
        if isinstance(avail, float):  # the same branch for every row
            rescaled = declared_total - EPS > avail > EPS
            if plan.total_scorable and not avail > EPS:
                return pl.lit(None, pl.Float64)
            return self._floored(
                plan.top,
                self._snap_points(
                    (self._snap_points(scored * declared_total / avail) if rescaled else scored)
                    + bonus
                ),
            )
        total = self._snap_points(
            pl.when((avail < declared_total - EPS) & (avail > EPS))
            .then(self._snap_points(scored * declared_total / avail))
            .otherwise(scored)
            + bonus
        )
        total = self._floored(plan.top, total)
        if plan.total_scorable:  # not scored (see `Plan`): null, never 0
            total = pl.when(avail > EPS).then(total).otherwise(None)
        return total

    def _shown_points(self, i: int) -> pl.Expr:
        """Indicator i's points as published (`RawResult.shown_points`): null
        when its value is missing and `missing skip` left it out."""
        points = pl.col(self._points[i])
        if not self.plan.skip[i]:
            return points
        return pl.when(pl.col(self._missing[i])).then(None).otherwise(points)

    def _settled(self, ind: ir.Indicator) -> pl.Expr:
        """A partial outcome whose published (rounded) points are the full
        points or 0 is pass or fail: the outcome agrees with the points shown
        (`precision 0`: 9.6 of 10 is 10, pass). As `Plan.settle`."""
        o, p = pl.col(columns.ind_outcome(ind.id)), pl.col(columns.ind_points(ind.id))
        full = float(ind.points)
        return (
            pl.when((o == _code(PARTIAL)) & (p >= full - EPS))
            .then(_code(PASS))
            .when((o == _code(PARTIAL)) & (p <= EPS))
            .then(_code(FAIL))
            .otherwise(o)
            .alias(columns.ind_outcome(ind.id))
        )

    def _publish_stage(self, stages: list[Stage], names: list[str]) -> None:
        """With `precision N`, a stage rounding the columns `names` in place.
        Rounding reads its operand several times; on a column that costs
        nothing, on the scoring expression it would be computed again each
        time (a stage of its own made four_type 3× faster with precision 2)."""
        if self.plan.precision is not None and names:
            stages.append(Publish(tuple(names)))

    def _published_as_is(self, ind: ir.Indicator) -> bool:
        """Whether every value an indicator's points can take is its own
        published value (`pass when` on 3 points, `tiers` of 2, 1 and 0.5
        with `precision 2`), so that rounding the column changes no bit: the
        values a form and its events choose from are constants (see `scoring`,
        `_count_table` and `with_events`), each rounded here by the publishing
        expression."""
        if self.plan.precision is None:
            return True
        s = ind.scoring
        full = float(ind.points)
        match s:
            case ir.PassWhen() | ir.BonusWhen():
                values = {full, 0.0}
            case ir.Tiers():
                values = {0.0, float(s.else_points), *(float(t.points) for t in s.tiers)}
            case ir.Deduct() | ir.BonusPer() if self._tables.get(ind.id) is not None:
                values = set(self._tables[ind.id].get_column("p"))
            case _:
                return False
        if self.plan.events[self.plan.ind_index[ind.id]] is not None:
            values |= {0.0, full}
        col = pl.Series("p", sorted(values), dtype=pl.Float64)
        rounded = col.to_frame().select(pl_round_decimal(pl.col("p"), self.plan.precision))
        return rounded.to_series().reinterpret(signed=True).equals(col.reinterpret(signed=True))

    def published(self, stage: Publish, frame: pl.DataFrame | None = None) -> list[pl.Expr]:
        """The expressions of a `Publish` stage: `Plan.publish` of each column;
        given the `frame` so far, the columns whose values (nulls aside) all
        lie in 0..`SMALL_DECIMAL_LIMIT` by `pl_round_decimal_small`."""
        digits = self.plan.precision
        small = [False] * len(stage.names)
        if frame is not None and frame.height:
            small = frame.select(
                ((pl.col(n) >= 0.0) & (pl.col(n) <= SMALL_DECIMAL_LIMIT)).all().alias(str(k))
                for k, n in enumerate(stage.names)
            ).row(0)
        return [
            (pl_round_decimal_small if fits else pl_round_decimal)(pl.col(n), digits).alias(n)
            for n, fits in zip(stage.names, small, strict=True)
        ]

    def _missing_count(self) -> pl.Expr:
        """The number of missing indicators and vetoes whose condition is
        missing. Where a flag is just "one of these inputs or definitions is
        missing" (see `_null_atoms`), equal flags are counted together, read
        straight from those columns; the others are the indicators' `.missing`
        columns.

        Each flag becomes `when(flag).then(weight).otherwise(0)` in the
        smallest unsigned type that holds the largest possible count, and those
        are summed: casting a boolean to an integer is several times slower
        than that `when`, and narrow integers add faster."""
        model = self.model
        groups: dict[frozenset[str], int] = {}
        other: list[pl.Expr] = []
        for ind in model.indicators:
            atoms = self._indicator_null_atoms(ind)
            if atoms is None:
                other.append(pl.col(columns.ind_missing(ind.id)))
            elif atoms:
                groups[atoms] = groups.get(atoms, 0) + 1
        for v in model.vetoes:
            atoms = self._null_atoms(v.condition)
            if atoms is None:
                other.append(pl.col(columns.veto_col(v.id)).is_null())
            elif atoms:
                groups[atoms] = groups.get(atoms, 0) + 1
        flags = [
            (pl.any_horizontal([pl.col(a).is_null() for a in sorted(atoms)]), count)
            for atoms, count in groups.items()
        ] + [(flag, 1) for flag in other]
        if not flags:
            return pl.lit(0, pl.Int64)
        most = sum(count for _, count in flags)
        dtype = pl.UInt8 if most <= 0xFF else pl.UInt16 if most <= 0xFFFF else pl.UInt32
        zero = pl.lit(0, dtype)
        terms = [pl.when(flag).then(pl.lit(count, dtype)).otherwise(zero) for flag, count in flags]
        return pl.sum_horizontal(terms).cast(pl.Int64)

    def _indicator_null_atoms(self, ind: ir.Indicator) -> frozenset[str] | None:
        """`_null_atoms` of an indicator's missing flag (see `scoring`)."""
        if self.plan.events[self.plan.ind_index[ind.id]] is not None:
            return None  # events decide before the form: the `.missing` column says
        s = ind.scoring
        atoms = self._null_atoms(s.value)
        if atoms is None:
            return None
        match s:
            case ir.Linear():
                return atoms if _const_linear(s) and not _may_overflow(s.value) else None
            case ir.Tiers():
                for t in s.tiers:
                    if not isinstance(t.threshold, ir.Const):
                        more = self._null_atoms(t.threshold)
                        if more is None:
                            return None
                        atoms |= more
                return atoms
            case ir.Deduct() | ir.BonusPer():
                return None if _may_overflow(s.value) else atoms
            case ir.Deductions():
                return None
            case ir.PassWhen() | ir.BonusWhen() | ir.Score():
                return atoms
            case _:
                assert_never(s)

    def _null_atoms(self, e: ir.Expr) -> frozenset[str] | None:
        """The columns (inputs, definitions) such that the compiled `e` is null
        exactly when one of them is; None when that is not so simple (`and`
        and `or` are three-valued, a division by zero is missing, functions
        may handle missing arguments)."""
        match e:
            case ir.Const():
                return frozenset() if e.value is not None else None
            case ir.Ref():
                if e.scope == "input":
                    return frozenset([input_col(e.name)])
                if e.scope == "let":
                    return frozenset([columns.let_col(e.name)])
                return None
            case ir.Unary():
                return self._null_atoms(e.operand)
            case ir.Binary():
                if e.op in ("and", "or", "/"):
                    return None
                left, right = self._null_atoms(e.left), self._null_atoms(e.right)
                return None if left is None or right is None else left | right
            case ir.InList():
                if all(isinstance(o, ir.Const) and o.value is not None for o in e.options):
                    return self._null_atoms(e.operand)
                return None
            case ir.Cond() | ir.Call():
                return None
            case _:
                assert_never(e)

    def _let_stages(self) -> list[list[pl.Expr]]:
        """The definitions, in dependency layers."""
        model = self.model
        level: dict[str, int] = {}
        for d in model.lets:  # already in dependency order
            deps = [n.name for n in ir.walk(d.expr) if isinstance(n, ir.Ref) and n.scope == "let"]
            level[d.id] = 1 + max((level[x] for x in deps), default=-1)
        return [
            [
                self.value(d.expr).alias(columns.let_col(d.id))
                for d in model.lets
                if level[d.id] == lv
            ]
            for lv in range(max(level.values(), default=-1) + 1)
        ]

    def _aggregate(self, group: Group) -> tuple[pl.Expr, pl.Expr, pl.Expr | float]:
        """(scored, bonus, available) of a group, term by term in the plan's
        order (see `Group`), so the floating-point sums agree with the
        interpreter's. The available points are a float where no row can
        change them (no `missing skip`, sub-dimensions' known): the same
        additions in Python, snapped by Polars."""
        max_points = self.plan.max_points
        scored = _ordered_sum([pl.col(self._points[i]) for i in group.scored])
        bonus = _ordered_sum([pl.col(self._points[i]) for i in group.bonus])
        avail: pl.Expr = pl.lit(float(group.available))
        static: float | None = None if group.skips else float(group.available)
        for i in group.skips:
            avail = avail - pl.when(pl.col(self._missing[i])).then(float(max_points[i])).otherwise(
                0.0
            )
        for j in group.dims:
            d = self.model.dimensions[j].id
            score = pl.col(columns.dim_score(d))
            scored = scored + self._if_present(j, score, 0.0)
            bonus = bonus + self._if_present(j, 0.0, score)
            avail = avail + self._if_present(j, pl.col(columns.dim_max(d)), 0.0)
            known = self._static_max.get(j)
            static = (
                None if static is None or known is None else static + (known if known > 0 else 0.0)
            )
        # each sum snapped once, as the interpreter's `_aggregate`
        if static is not None:
            snap = self._snap_points
            return snap(scored), snap(bonus), pl.select(pl_snap(pl.lit(static))).item()
        snap = self._snap_points
        return snap(scored), snap(bonus), snap(avail)

    def _if_present(
        self, j: int, then: pl.Expr | float | None, otherwise: pl.Expr | float | None
    ) -> pl.Expr:
        """`then` where dimension j has points available (`dim.<id>.max` > 0),
        else `otherwise`; decided here where `_static_max` knows."""

        def lit(x):
            return x if isinstance(x, pl.Expr) else pl.lit(x, pl.Float64)

        known = self._static_max.get(j)
        if known is not None:
            return lit(then if known > 0 else otherwise)
        present = pl.col(columns.dim_max(self.model.dimensions[j].id)) > 0
        return pl.when(present).then(lit(then)).otherwise(lit(otherwise))

    def _result_exprs(self) -> dict[str, pl.Expr]:
        """The names grade conditions may use (the plan's `result_names`)."""
        model = self.model
        results: dict[str, pl.Expr] = {}
        shares = []
        for rn in self.plan.result_names:
            match rn.kind:
                case "total":
                    x = pl.col(columns.TOTAL)
                case "share":
                    x = (
                        polars_div(pl.col(columns.TOTAL), pl.lit(float(model.total)))
                        if model.total
                        else pl.lit(None, pl.Float64)  # typed: `-share` must still work
                    )
                case "dimension":
                    d = model.dimensions[rn.index]
                    x = (
                        self._if_present(
                            rn.index,
                            self._snap_points(
                                pl.col(columns.dim_score(d.id)) * (1.0 / float(d.points))
                            ),
                            None,
                        )
                        if d.points
                        else pl.lit(None, pl.Float64)
                    )
                    if rn.index in self.plan.min_dims:
                        shares.append(x)
                case "min_dimension":
                    # missing when any top-level dimension is not scored (see `Plan`)
                    x = (
                        pl.when(pl.any_horizontal([s.is_null() for s in shares]))
                        .then(None)
                        .otherwise(pl.min_horizontal(shares))
                        if shares
                        else pl.lit(None, pl.Float64)
                    )
                case "vetoed":
                    x = pl.any_horizontal(
                        [self._triggered(j) for j in range(len(model.vetoes))] or [pl.lit(False)]
                    )
                case "missing_count":
                    x = pl.col(columns.MISSING)
                case "indicator":
                    x = self._shown_points(rn.index)
                case "veto":
                    x = self._triggered(rn.index)
                case "dimension_points":
                    # published: null when not scored (as the final stage writes it)
                    d = model.dimensions[rn.index]
                    x = pl.col(columns.dim_score(d.id))
                    if self.plan.scorable[rn.index]:
                        x = self._if_present(rn.index, x, None)
                case _:
                    raise AssertionError(rn.kind)
            results[rn.name] = x
        return results

    def _triggered(self, j: int) -> pl.Expr:
        """Veto j triggered (a missing condition does not trigger it)."""
        return pl.col(columns.veto_col(self.model.vetoes[j].id)).fill_null(False)

    def _grade_stages(self) -> list[list[pl.Expr]]:
        model = self.model
        results = self._result_exprs()
        outputs = self._output_exprs(results)
        n = len(model.grades)
        chain = None
        for i, g in enumerate(model.grades):
            cond = (
                pl.lit(True)
                if g.condition is None
                else self.expr(g.condition, results).fill_null(False)
            )
            forbid = [self._triggered(j) for j in self.plan.forbidden[i]]
            if forbid:
                cond = cond & ~pl.any_horizontal(forbid)
            chain = (pl.when(cond) if chain is None else chain.when(cond)).then(pl.lit(i, pl.Int32))
        grade_index = chain.otherwise(None) if chain is not None else pl.lit(None, pl.Int32)
        vetoes = pl.concat_str(
            [pl.when(self._triggered(j)).then(pl.lit(v.id)) for j, v in enumerate(model.vetoes)]
            or [pl.lit("")],
            separator=",",
            ignore_nulls=True,
        )
        first = [grade_index.alias(columns.GRADE_INDEX), vetoes.alias(columns.VETOES)]
        stages = [outputs] if outputs else []
        if not n:
            none = pl.lit(None, self.grade_enum)
            return [*stages, first, [none.alias(columns.GRADE), none.alias(columns.NEXT_GRADE)]]
        return [*stages, first, self._grade_names()]

    def _output_exprs(self, results: dict[str, pl.Expr]) -> list[pl.Expr]:
        """The outputs' columns, in dependency order, each typed as the
        interpreter's table types it; `results` then maps each output to its
        column, for the grades."""
        exprs = []
        for o in self.model.outputs:
            x = self.value(o.expr, results).cast(POLARS_TYPES[o.type], strict=False)
            results[o.id] = x  # a later output reads it inline (same stage)
            exprs.append(x.alias(columns.output_col(o.id)))
        for o in self.model.outputs:
            results[o.id] = pl.col(columns.output_col(o.id))
        return exprs

    def _grade_names(self) -> list[pl.Expr]:
        """The grade and the next grade (the plan's `next_grades`) by name.
        Index → name as a when/then chain of literals: far cheaper than
        `replace_strict` (a hash lookup per row) for a handful of grades."""
        names = [g.name for g in self.model.grades]
        idx = pl.col(columns.GRADE_INDEX)

        def name(i: int) -> pl.Expr:
            return pl.lit(names[i], self.grade_enum)

        def at(i: int | None) -> pl.Expr:
            return idx.is_null() if i is None else idx == i

        grade = pl.when(idx == 0).then(name(0))
        for i in range(1, len(names)):
            grade = grade.when(idx == i).then(name(i))
        pairs = self.plan.next_grades
        next_grade = pl.when(at(pairs[0][0])).then(name(pairs[0][1]))
        for i, nx in pairs[1:]:
            next_grade = next_grade.when(at(i)).then(name(nx))
        return [
            grade.otherwise(None).alias(columns.GRADE),
            next_grade.otherwise(None).alias(columns.NEXT_GRADE),
        ]

    # ------------------------------------------------------------ entry
    def evaluate(
        self,
        frame: pl.DataFrame | pl.LazyFrame,
        detail: Detail = True,
        keep: list[str] | None = None,
    ) -> pl.DataFrame:
        """Evaluate a frame of `in.<input>` columns (plus any meta columns,
        kept as they are). Returns the results table: with `keep`, those
        columns and the results (`result_columns`), else every column."""
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        wanted = None if keep is None else [*keep, *self.result_columns(detail)]
        live = None if wanted is None else self._live(detail, set(wanted))
        for k, stage in enumerate(self.stages(detail)):
            if isinstance(stage, Publish):  # what is to be rounded, computed: see `Publish`
                if live is not None:  # only what is still to be read (less memory)
                    lf = lf.select(c for c in lf.collect_schema().names() if c in live[k])
                done = lf.collect()
                lf = done.lazy().with_columns(self.published(stage, done))
            else:
                lf = lf.with_columns(stage)
        if wanted is not None:
            lf = lf.select(wanted)
        return lf.collect()

    def _live(self, detail: Detail, wanted: set[str]) -> list[set[str]]:
        """For each stage, the columns it or a later stage reads, and `wanted`."""
        live, reads = [], set(wanted)
        for stage in reversed(self.stages(detail)):
            if isinstance(stage, Publish):
                reads |= set(stage.names)
            else:
                reads |= {name for e in stage for name in e.meta.root_names()}
            live.append(set(reads))
        return live[::-1]

    def value_dtypes(self) -> dict[str, pl.DataType]:
        """The dtype of every indicator's `.value` column (what Polars makes
        of its expression), so the reference backend's table matches."""
        empty = frame_from_records(self.model, [])
        schema = self.apply(empty.lazy(), detail=True).collect_schema()
        return {ind.id: schema[columns.ind_value(ind.id)] for ind in self.model.indicators}

    def result_columns(self, detail: Detail = True) -> list[str]:
        """Summary columns; with `detail=True`, every indicator's points,
        outcome and value and every veto too (a wide table: 3 columns per
        indicator); with `POINTS`, every indicator's points and outcome."""
        m = self.model
        cols = list(columns.SUMMARY)
        cols += [columns.dim_score(d.id) for d in m.dimensions]
        cols += [columns.output_col(o.id) for o in m.outputs]
        if detail is True:
            cols += columns.indicator_detail(ind.id for ind in m.indicators)
            cols += [columns.veto_col(v.id) for v in m.vetoes]
        elif detail:
            cols += columns.indicator_points(ind.id for ind in m.indicators)
        return cols


def _may_overflow(e: ir.Expr) -> bool:
    """Whether a scoring form's arithmetic on `e` could leave the number range
    (and so make the indicator missing): not for an input, which the data
    contract keeps below 10^15 in magnitude, nor for a small constant."""
    if isinstance(e, ir.Ref) and e.scope == "input":
        return False
    return not (
        isinstance(e, ir.Const) and isinstance(e.value, (int, float)) and abs(e.value) < 1e15
    )


_CMP_OPS = frozenset(("==", "!=", "<", "<=", ">", ">="))


def _finite_shape(e: ir.Expr) -> bool:
    """An expression that is always finite: a constant, a name (inputs are
    finite by the data contract, definitions are stored through
    `VectorModel.value`, results are sums of finite points), or minus one."""
    if isinstance(e, ir.Unary):
        return _finite_shape(e.operand)
    return isinstance(e, ir.Const | ir.Ref)


def _divisor(e: ir.Expr, b: pl.Expr) -> pl.Expr:
    """A divisor as a column where it is a constant (no input or name in it):
    Polars divides a column by a scalar as a product with its reciprocal,
    which can differ from the quotient in the last bit (5287178878294.01 /
    0.215), while the interpreter divides by a computed constant (0.5 -
    0.285). A constant written as the divisor (of `/`, `ratio`, `per_10k`)
    takes the reciprocal in both backends."""
    if isinstance(e, ir.Const) or any(isinstance(n, ir.Ref) for n in ir.walk(e)):
        return b
    return pl.int_range(pl.len(), dtype=pl.Int32).cast(pl.Float64) * 0.0 + b.cast(pl.Float64)


def _nonzero_const(e: ir.Expr) -> bool:
    """A constant number other than 0 (the interpreter's `_nonzero_number`)."""
    return (
        isinstance(e, ir.Const)
        and isinstance(e.value, (int, float))
        and not isinstance(e.value, bool)
        and e.value != 0
    )


def _const_int(e: ir.Expr) -> int | None:
    """A constant number of digits (`2`, `-2`), or None."""
    if isinstance(e, ir.Unary) and e.op == "-":
        inner = _const_int(e.operand)
        return None if inner is None else -inner
    if isinstance(e, ir.Const) and isinstance(e.value, (int, float)):
        return int(e.value)
    return None


def _const_linear(s: ir.Linear) -> bool:
    """Constant, distinct bounds: the span is a scalar and never zero."""
    return (
        isinstance(s.low, ir.Const) and isinstance(s.high, ir.Const) and s.low.value != s.high.value
    )


def _ordered_sum(terms: list[pl.Expr]) -> pl.Expr:
    """Left-to-right sum (the interpreter's order), so floating-point results
    agree to the last bit where possible."""
    if not terms:
        return pl.lit(0.0)
    acc = terms[0]
    for t in terms[1:]:
        acc = acc + t
    return acc


def frame_from_records(
    model: ir.Model, records: list[dict[str, Any]], meta: list[dict[str, Any]] | None = None
) -> pl.DataFrame:
    """A typed input frame from interpreter-style records (input id → value)."""
    data: dict[str, pl.Series] = {}
    for f in model.inputs:
        dtype = POLARS_TYPES[f.type]
        values = [r.get(f.id) for r in records]
        if f.type in ("number", "percent"):
            values = [float(v) if v is not None else None for v in values]
        data[input_col(f.id)] = pl.Series(input_col(f.id), values, dtype=dtype)
    if meta is not None:
        for key in ("community_id", "community", "district", "street", "grid", "period"):
            if any(key in m for m in meta):
                data[key] = pl.Series(key, [m.get(key) for m in meta], dtype=pl.String)
    return pl.DataFrame(data, height=len(records))
