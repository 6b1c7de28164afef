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
outcome columns hold `Outcome.code` (0..4) until `evaluate_dataset` labels them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_never

import polars as pl

from zhili.dsl import model as ir
from zhili.engine.eval import columns
from zhili.engine.eval.columns import input_col  # noqa: F401 - re-exported
from zhili.engine.eval.plan import EPS, Group, Plan
from zhili.engine.functions import BUILTIN_FUNCTIONS, Function, polars_div

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
    "any": pl.Float64,
}


class VectorUnsupported(Exception):
    """The model uses a function with no vectorized implementation."""


def _lit(value: Any, type_name: str) -> pl.Expr:
    if value is None:
        return pl.lit(None, dtype=POLARS_TYPES.get(type_name, pl.Float64))
    dtype = POLARS_TYPES.get(type_name)
    if (
        type_name in ("number", "percent")
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        value = float(value)
    return pl.lit(value, dtype=dtype)


def _code(outcome: int) -> pl.Expr:
    """An outcome code (`Outcome.code`) as a literal of the outcome columns' type."""
    return pl.lit(outcome, pl.UInt8)


def _null_if_any(args: list[pl.Expr], result: pl.Expr) -> pl.Expr:
    """Strict functions: missing when any argument is missing (the
    interpreter returns the first missing argument)."""
    cond = pl.any_horizontal([a.is_null() for a in args])
    return pl.when(cond).then(None).otherwise(result)


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
        self._stages: dict[bool, list[list[pl.Expr]]] = {}
        self._whole: set[str] | None = None
        self._check_functions()

    def _check_functions(self) -> None:
        for e in self._all_exprs():
            for node in ir.walk(e):
                if isinstance(node, ir.Call):
                    fn = self.functions.get(node.func)
                    if fn is None or fn.polars is None:
                        raise VectorUnsupported(
                            f"function `{node.func}` has no vectorized implementation"
                        )
                    if (
                        node.func == "round"
                        and len(node.args) == 2
                        and not isinstance(node.args[1], ir.Const)
                    ):
                        raise VectorUnsupported("round() with a computed number of digits")

    def _all_exprs(self):
        m = self.model
        for d in m.lets:
            yield d.expr
        for ind in m.indicators:
            yield from ind.scoring.exprs()
        for v in m.vetoes:
            yield v.condition
        for g in m.grades:
            if g.condition is not None:
                yield g.condition

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
                return results[e.name]
            case ir.Unary():
                x = self.expr(e.operand, results)
                return ~x if e.op == "not" else -x
            case ir.Binary():
                return _BINARY[e.op](self.expr(e.left, results), self.expr(e.right, results))
            case ir.InList():
                x = self.expr(e.operand, results)
                eqs = [x == self.expr(o, results) for o in e.options]
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
                return self._call(e, results)
            case _:
                assert_never(e)

    def _call(self, e: ir.Call, results: dict[str, pl.Expr] | None) -> pl.Expr:
        args = [self.expr(a, results) for a in e.args]
        fn = self.functions[e.func]  # `_check_functions`: each has a Polars implementation
        if e.func == "round" and len(e.args) == 2:
            # the number of digits is a constant (checked): Polars wants an int
            result = fn.polars(args[0], int(e.args[1].value))
            args = args[:1]
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
        v = self.expr(s.value)
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
                return self._deduct(ind, s, full, v, missing)
            case ir.BonusPer():
                cap = float(s.cap if s.cap is not None else full)
                earned = (v.clip(lower_bound=0) * s.per).clip(upper_bound=cap)
                points = earned.fill_null(0.0)
                outcome = (
                    pl.when(missing)
                    .then(_code(MISSING))
                    .when(earned > EPS)
                    .then(_code(PASS))
                    .otherwise(_code(FAIL))
                )
                return v, points, missing, outcome
            case _:
                assert_never(s)

    def _linear(self, s: ir.Linear, full: float, v: pl.Expr, missing: pl.Expr):
        lo = self.expr(s.low)
        hi = self.expr(s.high)
        const = _const_linear(s)
        if const:
            t = (v - lo) / pl.lit(float(s.high.value - s.low.value))  # scalar: reciprocal
        else:
            missing = missing | lo.is_null() | hi.is_null() | (hi == lo)
            t = (v - lo) / (hi - lo)
        points = pl.when(t >= 1.0 - EPS).then(full).when(t <= EPS).then(0.0).otherwise(full * t)
        points = points.fill_null(0.0) if const else pl.when(missing).then(0.0).otherwise(points)
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

    def _tiers(self, s: ir.Tiers, full: float, v: pl.Expr, missing: pl.Expr):
        thresholds = [self.expr(t.threshold) for t in s.tiers]
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
        taken = (v.clip(lower_bound=0) * s.per).clip(upper_bound=cap)
        if s.per > EPS and cap > EPS and ind.id in self._whole_counts():
            # a whole count: `taken` is 0 or at least min(per, cap) > EPS,
            # so the `taken <= EPS` snap to full points changes nothing
            points = (full - taken).fill_null(0.0)
        else:
            points = (
                pl.when(taken <= EPS).then(full).when(missing).then(0.0).otherwise(full - taken)
            )
        outcome = (
            pl.when(missing)
            .then(_code(MISSING))
            .when(taken <= EPS)
            .then(_code(PASS))
            .when(full - taken <= EPS)
            .then(_code(FAIL))
            .otherwise(_code(PARTIAL))
        )
        return v, points, missing, outcome

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
    def apply(self, lf: pl.LazyFrame, detail: bool = True) -> pl.LazyFrame:
        """Add the result columns to a frame of `in.<input>` columns."""
        for stage in self.stages(detail):
            lf = lf.with_columns(stage)
        return lf

    def stages(self, detail: bool) -> list[list[pl.Expr]]:
        """The plan as `with_columns` stages, built once per model and mode."""
        cached = self._stages.get(detail)
        if cached is None:
            cached = self._stages[detail] = self._build_stages(detail)
        return cached

    def _build_stages(self, detail: bool) -> list[list[pl.Expr]]:
        model = self.model
        stages = self._let_stages()

        # indicators and vetoes
        cols = []
        for ind in model.indicators:
            value, points, missing, outcome = self.scoring(ind)
            cols.append(points.alias(columns.ind_points(ind.id)))
            cols.append(missing.alias(columns.ind_missing(ind.id)))
            if detail:
                cols.append(outcome.alias(columns.ind_outcome(ind.id)))
                cols.append(value.alias(columns.ind_value(ind.id)))
        for v in model.vetoes:
            cols.append(self.expr(v.condition).alias(columns.veto_col(v.id)))
        stages.append(cols)

        # dimensions by the plan's layers, deepest first; rescaling as `Plan` says
        plan = self.plan
        for layer in plan.layers:
            exprs = []
            for di in layer:
                d = model.dimensions[di]
                scored, bonus, avail = self._aggregate(plan.dims[di])
                declared = float(d.points)
                dim_missing = avail <= EPS
                score = (
                    pl.when(dim_missing)
                    .then(bonus)
                    .when(avail < declared - EPS)
                    .then(scored * declared / avail + bonus)
                    .otherwise(scored + bonus)
                )
                exprs.append(score.alias(columns.dim_score(d.id)))
                exprs.append(
                    pl.when(dim_missing).then(0.0).otherwise(declared).alias(columns.dim_max(d.id))
                )
            stages.append(exprs)

        scored, bonus, avail = self._aggregate(plan.top)
        declared_total = float(plan.top.declared)
        total = (
            pl.when((avail < declared_total - EPS) & (avail > EPS))
            .then(scored * declared_total / avail)
            .otherwise(scored)
            + bonus
        )
        if plan.total_scorable:  # not scored (see `Plan`): null, never 0
            total = pl.when(avail > EPS).then(total).otherwise(None)
        stages.append([total.alias(columns.TOTAL), self._missing_count().alias(columns.MISSING)])
        stages.extend(self._grade_stages())
        # a dimension not scored is published as null (its bonus, carried in
        # `dim.<id>` until now, has gone into its parent already); so is an
        # indicator that `missing skip` left out
        stages.append(
            [
                pl.when(pl.col(columns.dim_max(d.id)) > 0)
                .then(pl.col(columns.dim_score(d.id)))
                .otherwise(None)
                .alias(columns.dim_score(d.id))
                for k, d in enumerate(model.dimensions)
                if plan.scorable[k]
            ]
            + [
                self._shown_points(i).alias(self._points[i])
                for i in range(len(model.indicators))
                if plan.skip[i]
            ]
        )
        return stages

    def _shown_points(self, i: int) -> pl.Expr:
        """Indicator i's points as published (`RawResult.shown_points`): null
        when its value is missing and `missing skip` left it out."""
        points = pl.col(self._points[i])
        if not self.plan.skip[i]:
            return points
        return pl.when(pl.col(self._missing[i])).then(None).otherwise(points)

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
        s = ind.scoring
        atoms = self._null_atoms(s.value)
        if atoms is None:
            return None
        match s:
            case ir.Linear():
                return atoms if _const_linear(s) else None
            case ir.Tiers():
                for t in s.tiers:
                    if not isinstance(t.threshold, ir.Const):
                        more = self._null_atoms(t.threshold)
                        if more is None:
                            return None
                        atoms |= more
                return atoms
            case ir.PassWhen() | ir.BonusWhen() | ir.Deduct() | ir.BonusPer():
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
                self.expr(d.expr).alias(columns.let_col(d.id))
                for d in model.lets
                if level[d.id] == lv
            ]
            for lv in range(max(level.values(), default=-1) + 1)
        ]

    def _aggregate(self, group: Group) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        """(scored, bonus, available) of a group, term by term in the plan's
        order (see `Group`), so the floating-point sums agree with the
        interpreter's."""
        max_points = self.plan.max_points
        scored = _ordered_sum([pl.col(self._points[i]) for i in group.scored])
        bonus = _ordered_sum([pl.col(self._points[i]) for i in group.bonus])
        avail: pl.Expr = pl.lit(float(group.available))
        for i in group.skips:
            avail = avail - pl.when(pl.col(self._missing[i])).then(float(max_points[i])).otherwise(
                0.0
            )
        for j in group.dims:
            d = self.model.dimensions[j].id
            present = pl.col(columns.dim_max(d)) > 0
            score = pl.col(columns.dim_score(d))
            scored = scored + pl.when(present).then(score).otherwise(0.0)
            bonus = bonus + pl.when(present).then(0.0).otherwise(score)
            avail = avail + pl.when(present).then(pl.col(columns.dim_max(d))).otherwise(0.0)
        return scored, bonus, avail

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
                        pl.when(pl.col(columns.dim_max(d.id)) > 0)
                        .then(pl.col(columns.dim_score(d.id)) / float(d.points))
                        .otherwise(None)
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
        if not n:
            none = pl.lit(None, self.grade_enum)
            return [first, [none.alias(columns.GRADE), none.alias(columns.NEXT_GRADE)]]
        return [first, self._grade_names()]

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
        self, frame: pl.DataFrame | pl.LazyFrame, detail: bool = True, keep: list[str] | None = None
    ) -> pl.DataFrame:
        """Evaluate a frame of `in.<input>` columns (plus any meta columns,
        kept as they are). Returns the results table."""
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        lf = self.apply(lf, detail=detail)
        if keep is not None:
            lf = lf.select(keep + self.result_columns(detail))
        return lf.collect()

    def value_dtypes(self) -> dict[str, pl.DataType]:
        """The dtype of every indicator's `.value` column (what Polars makes
        of its expression), so the reference backend's table matches."""
        empty = frame_from_records(self.model, [])
        schema = self.apply(empty.lazy(), detail=True).collect_schema()
        return {ind.id: schema[columns.ind_value(ind.id)] for ind in self.model.indicators}

    def result_columns(self, detail: bool = True) -> list[str]:
        """Summary columns; with `detail`, every indicator's points, outcome
        and value and every veto too (a wide table: 3 columns per indicator)."""
        m = self.model
        cols = list(columns.SUMMARY)
        cols += [columns.dim_score(d.id) for d in m.dimensions]
        if detail:
            cols += columns.indicator_detail(ind.id for ind in m.indicators)
            cols += [columns.veto_col(v.id) for v in m.vetoes]
        return cols


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
