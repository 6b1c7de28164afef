"""The reference interpreter: evaluates one community record against a model.

The checked model is compiled once into Python closures (`compile_model`);
`CompiledModel.evaluate(record)` then scores one record and returns a
`RawResult`: arrays of values, points and outcomes plus the environment of
input and definition values (the trace). `RawResult.to_result()` builds the
full pydantic `CommunityResult` (reasons, dimension tree, gap to the next
grade) only when somebody asks: explanations and JSON, not bulk runs.

What it shares with the vectorized backend (which points add up where,
rescaling, veto effects, the next grade, the names grade conditions may use)
comes from the model's `Plan` (`zhili.engine.eval.plan`).

Semantics (docs/language.md): a missing value propagates through arithmetic
and comparisons; `and`/`or` use three-valued logic; division by zero is
missing with a reason; an indicator whose value is missing scores 0 and is
flagged `missing` (policy `zero`) or is left out and its dimension rescaled
(policy `skip`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, assert_never

from zhili.dsl import model as ir
from zhili.dsl.i18n import N_
from zhili.engine.eval.chains import LinearPoints, LinearQuotient, normal_form
from zhili.engine.eval.plan import (
    EPS,
    Events,
    Group,
    Plan,
    capped,
    count_comparison,
    count_decides,
    floored,
    outcome_of_points,
    settle,
)
from zhili.engine.functions import (
    BUILTIN_FUNCTIONS,
    DIV_ZERO,
    NO_DIMENSION,
    NO_DIMENSION_SCORE,
    NO_VALUE,
    Function,
    Missing,
    arith,
    divide,
    snap,
)
from zhili.engine.functions import (
    lookup as lookup_function,
)

Env = dict[str, Any]

NOT_SCORED = N_("nothing was scored")
DIMENSION_NOT_SCORED = N_("dimension `{name}` is not scored")
Fn = Callable[[Env], Any]

PASS, PARTIAL, FAIL, MISSING = (
    ir.Outcome.PASS,
    ir.Outcome.PARTIAL,
    ir.Outcome.FAIL,
    ir.Outcome.MISSING,
)

_CMP = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH = {
    "+": lambda a, b: arith(operator.add, a, b),
    "-": lambda a, b: arith(operator.sub, a, b),
    "*": lambda a, b: arith(operator.mul, a, b),
}


def is_missing(v: Any) -> bool:
    return v.__class__ is Missing


# ---------------------------------------------------------------- expressions


def compile_expr(e: ir.Expr, functions: dict[str, Function]) -> Fn:
    """Compile an expression to a closure `f(env) -> value | Missing`."""
    match e:
        case ir.Const():
            value = e.value
            return lambda env: value
        case ir.Ref():
            name = e.key
            return lambda env: env[name]
        case ir.Unary():
            return _compile_unary(e, functions)
        case ir.Binary():
            normal = normal_form(e, _builtin(functions))
            if normal is not None:  # a product after a division: the division last
                return compile_expr(normal, functions)
            return _compile_binary(e, functions)
        case ir.InList():
            return _compile_in(e, functions)
        case ir.Cond():
            return _compile_if(e, functions)
        case ir.Call():
            normal = normal_form(e, _builtin(functions))
            if normal is not None:
                return compile_expr(normal, functions)
            return _compile_call(e, functions)
        case _:
            assert_never(e)


def _builtin(functions: dict[str, Function]) -> Callable[[str], bool]:
    """Whether `name` is the built-in function in `functions` (a chain opens
    `ratio` and `per_10k` only then)."""
    return lambda name: functions.get(name) is BUILTIN_FUNCTIONS.get(name)


def _compile_unary(e: ir.Unary, functions) -> Fn:
    f = compile_expr(e.operand, functions)
    if e.op == "not":

        def f_not(env):
            v = f(env)
            return v if v.__class__ is Missing else not v

        return f_not

    def f_neg(env):
        v = f(env)
        if v.__class__ is float:  # 0.0 - v: the negation of a zero is 0.0, not -0.0
            return 0.0 - v
        return v if v.__class__ is Missing else -v

    return f_neg


def _compile_in(e: ir.InList, functions) -> Fn:
    f = compile_expr(e.operand, functions)
    opts = [compile_expr(o, functions) for o in e.options]
    negated = e.negated

    def f_in(env):
        # Kleene: true if any option equals, else missing if any option
        # is missing, else false (like an `or` of equalities)
        v = f(env)
        if v.__class__ is Missing:
            return v
        missing = None
        for o in opts:
            ov = o(env)
            if ov.__class__ is Missing:
                missing = missing or ov
            elif v == ov:
                return not negated
        return missing if missing is not None else negated

    return f_in


def _compile_if(e: ir.Cond, functions) -> Fn:
    c = compile_expr(e.cond, functions)
    a = compile_expr(e.then, functions)
    b = compile_expr(e.orelse, functions)

    def f_if(env):
        cv = c(env)
        if cv.__class__ is Missing:
            return cv
        return a(env) if cv else b(env)

    return f_if


def _nonzero_number(e: ir.Expr) -> bool:
    """A constant number other than 0: a divisor that cannot be zero."""
    return isinstance(e, ir.Const) and isinstance(e.value, (int, float)) and e.value != 0


def _compile_call(e: ir.Call, functions) -> Fn:
    fn = lookup_function(functions, e.func)
    impl = fn.python
    args = [compile_expr(a, functions) for a in e.args]
    if e.func in ("ratio", "per_10k") and _nonzero_number(e.args[1]):
        # constant divisor: reciprocal, like the vectorized backend
        inv = 1.0 / e.args[1].value
        scale = 10000.0 if e.func == "per_10k" else 1.0
        a0 = args[0]

        def f_div_call(env):
            x = a0(env)
            if x.__class__ is Missing:
                return x
            return snap(float(x) * scale * inv)

        return f_div_call
    if fn.signature.handles_missing:
        return lambda env: impl(*[a(env) for a in args])
    if len(args) == 2:
        a0, a1 = args

        def f_call2(env):
            x = a0(env)
            if x.__class__ is Missing:
                return x
            y = a1(env)
            if y.__class__ is Missing:
                return y
            return impl(x, y)

        return f_call2

    def f_call(env):
        vals = []
        for a in args:
            v = a(env)
            if v.__class__ is Missing:
                return v
            vals.append(v)
        return impl(*vals)

    return f_call


def _compile_count_compare(count: ir.Call, op: str, other: ir.Expr, functions) -> Fn:
    """`count(…) OP n`, decided when the known terms decide (`count_decides`)."""
    terms = [compile_expr(a, functions) for a in count.args]
    fn = compile_expr(other, functions)
    no_count = Missing(NO_VALUE, name="count")

    def f_count_cmp(env):
        n = fn(env)
        if n.__class__ is Missing:
            return n
        known = unknown = 0
        first = None
        for t in terms:
            v = t(env)
            if v is True:
                known += 1
            elif v.__class__ is Missing:
                unknown += 1
                first = first or v
        decided = count_decides(op, known, unknown, n)
        return (first or no_count) if decided is None else decided

    return f_count_cmp


def _compile_binary(e: ir.Binary, functions) -> Fn:
    shape = count_comparison(e)
    if shape is not None:
        return _compile_count_compare(*shape, functions)
    fa = compile_expr(e.left, functions)
    fb = compile_expr(e.right, functions)
    if e.op in ("and", "or"):
        return _compile_logic(e.op, fa, fb)
    if e.op == "/":
        return _compile_div(e, fa, fb)
    py = _CMP.get(e.op) or _ARITH[e.op]
    left, right = e.left, e.right
    # Fast paths for the common `name OP constant` shape.
    if isinstance(right, ir.Const) and right.value is not None:
        c = right.value
        if isinstance(left, ir.Ref):
            name = left.key

            def f_ref_const(env):
                a = env[name]
                if a.__class__ is Missing:
                    return a
                return py(a, c)

            return f_ref_const

        def f_any_const(env):
            a = fa(env)
            if a.__class__ is Missing:
                return a
            return py(a, c)

        return f_any_const

    def f_bin(env):
        a = fa(env)
        if a.__class__ is Missing:
            return a
        b = fb(env)
        if b.__class__ is Missing:
            return b
        return py(a, b)

    return f_bin


def _compile_logic(op: str, fa: Fn, fb: Fn) -> Fn:
    """`and` / `or` in three-valued (Kleene) logic: a decided side wins over
    a missing one."""
    if op == "and":

        def f_and(env):
            a = fa(env)
            if a is False:
                return False
            b = fb(env)
            if b is False:
                return False
            if a.__class__ is Missing:
                return a
            if b.__class__ is Missing:
                return b
            return True

        return f_and

    def f_or(env):
        a = fa(env)
        if a is True:
            return True
        b = fb(env)
        if b is True:
            return True
        if a.__class__ is Missing:
            return a
        if b.__class__ is Missing:
            return b
        return False

    return f_or


def _compile_div(e: ir.Binary, fa: Fn, fb: Fn) -> Fn:
    if _nonzero_number(e.right):
        # Division by a constant multiplies by its reciprocal, exactly as
        # Polars does for a scalar divisor, so both backends agree to the bit.
        inv = 1.0 / e.right.value

        def f_div_const(env):
            a = fa(env)
            if a.__class__ is Missing:
                return a
            return snap(float(a) * inv)

        return f_div_const

    def f_div(env):
        a = fa(env)
        if a.__class__ is Missing:
            return a
        b = fb(env)
        if b.__class__ is Missing:
            return b
        return divide(a, b)

    return f_div


# ---------------------------------------------------------------- scoring


Scorer = Callable[[Env], tuple[Any, float, ir.Outcome]]


def _compile_scoring(
    ind: ir.Indicator, functions, linear_points: LinearPoints | None = None
) -> Scorer:
    """A closure `env -> (value, points, outcome)` for one indicator
    (`linear_points`: the model's, see `zhili.engine.eval.chains`)."""
    s = ind.scoring
    full = ind.points
    f = compile_expr(s.value, functions)
    match s:
        case ir.PassWhen() | ir.BonusWhen():

            def score_pass(env):
                v = f(env)
                if v.__class__ is Missing:
                    return v, 0.0, MISSING
                return (v, full, PASS) if v else (v, 0.0, FAIL)

            return score_pass
        case ir.Linear():
            exact = linear_points.of(s, full) if linear_points is not None else None
            return _linear_scorer(s, full, f, functions, exact)
        case ir.Tiers():
            return _tiers_scorer(s, full, f, functions)
        case ir.Deduct():
            return _deduct_scorer(s, full, f)
        case ir.BonusPer():
            return _bonus_per_scorer(s, full, f)
        case ir.Score():
            return _score_scorer(full, f)
        case ir.Penalty():
            return _penalty_scorer(s, functions)
        case ir.Deductions():
            return _deductions_scorer(s, full, functions)
        case _:
            assert_never(s)


def _with_events(
    scorer: Scorer, ev: Events | None, full: float, model: ir.Model, functions
) -> Scorer:
    """The scoring form wrapped in its indicator's events, decided in the
    order `Events` gives (zero, exemption, requires, the form)."""
    if ev is None:
        return scorer
    zeros = [compile_expr(z.condition, functions) for z in ev.zero]
    exempts = [compile_expr(model.exemptions[k].condition, functions) for k in ev.exemptions]
    gate = compile_expr(ev.requires.condition, functions) if ev.requires is not None else None

    def score_events(env):
        v, points, outcome = scorer(env)
        unknown = None
        for z in zeros:
            t = z(env)
            if t is True:
                return v, 0.0, FAIL
            if unknown is None and t.__class__ is Missing:
                unknown = t
        if unknown is not None:
            return unknown, 0.0, MISSING
        for e in exempts:
            if e(env) is True:
                return v, full, PASS
        if gate is not None:
            g = gate(env)
            if g.__class__ is Missing:
                return g, 0.0, MISSING
            if g is not True:
                return v, 0.0, FAIL
        return v, points, outcome

    return score_events


def _linear_scorer(
    s: ir.Linear, full: float, f: Fn, functions, exact: LinearQuotient | None = None
) -> Scorer:
    """`linear`: d = v - low (snapped); the outcome from t = d / span (pass
    at t >= 1 - EPS, fail at t <= EPS), partial points snap(d × full / span).
    A constant span is multiplied by its reciprocal, as Polars does. `exact`:
    the partial points of a quotient's figures (`LinearPoints`), within 0 …
    full, instead (where they are missing, as said)."""
    if isinstance(s.low, ir.Const) and isinstance(s.high, ir.Const) and s.low.value != s.high.value:
        lo_c, inv_span = s.low.value, 1.0 / (s.high.value - s.low.value)
        if exact is not None:
            return _exact_linear_scorer(f, lo_c, inv_span, full, _quotient_points(exact, functions))

        def score_const_linear(env):
            v = f(env)
            if v.__class__ is Missing:
                return v, 0.0, MISSING
            d = arith(operator.sub, v, lo_c)
            if d.__class__ is Missing:
                return d, 0.0, MISSING
            t = d * inv_span
            if t >= 1.0 - EPS:
                return v, full, PASS
            if t <= EPS:
                return v, 0.0, FAIL
            return v, snap(d * full * inv_span), PARTIAL

        return score_const_linear

    flo = compile_expr(s.low, functions)
    fhi = compile_expr(s.high, functions)

    def score_linear(env):
        v = f(env)
        if v.__class__ is Missing:
            return v, 0.0, MISSING
        lo, hi = flo(env), fhi(env)
        if lo.__class__ is Missing:
            return lo, 0.0, MISSING
        if hi.__class__ is Missing:
            return hi, 0.0, MISSING
        span = arith(operator.sub, hi, lo)
        d = arith(operator.sub, v, lo)
        for x in (span, d):
            if x.__class__ is Missing:
                return x, 0.0, MISSING
        if span == 0:
            return Missing(DIV_ZERO), 0.0, MISSING
        t = d / span
        if t >= 1.0 - EPS:
            return v, full, PASS
        if t <= EPS:
            return v, 0.0, FAIL
        return v, snap(d * full / span), PARTIAL

    return score_linear


def _exact_linear_scorer(f: Fn, lo_c, inv_span: float, full: float, fp: Fn) -> Scorer:
    """`_linear_scorer` between constant bounds with the partial points `fp`
    of the quotient's own figures, clipped to 0 … full (the outcome still
    from the value); the points as before where `fp` is missing."""

    def score_exact_linear(env):
        v = f(env)
        if v.__class__ is Missing:
            return v, 0.0, MISSING
        d = arith(operator.sub, v, lo_c)
        if d.__class__ is Missing:
            return d, 0.0, MISSING
        t = d * inv_span
        if t >= 1.0 - EPS:
            return v, full, PASS
        if t <= EPS:
            return v, 0.0, FAIL
        p = snap(fp(env))
        if p.__class__ is Missing:  # (not reached: a finite value has finite figures)
            return v, snap(d * full * inv_span), PARTIAL
        return v, min(max(p, 0.0), full), PARTIAL

    return score_exact_linear


def _quotient_points(q: LinearQuotient, functions) -> Fn:
    """(x − A) · k of a `LinearQuotient`, before its one rounding: the
    figures as doubles, one IEEE operation each, as the vectorized backend."""
    num = [compile_expr(e, functions) for e in q.num]
    den = [
        (None, 1.0 / float(e.value)) if _nonzero_number(e) else (compile_expr(e, functions), None)
        for e in q.den
    ]
    low, k = q.low, q.k

    def points(env):
        x = float(num[0](env))
        for fn in num[1:]:
            x = x * float(fn(env))
        for fn, inv in den:
            x = x * inv if fn is None else x / float(fn(env))
        return (x - low) * k

    return points


def _tiers_scorer(s: ir.Tiers, full: float, f: Fn, functions) -> Scorer:
    else_points = s.else_points
    if all(isinstance(t.threshold, ir.Const) and t.threshold.value is not None for t in s.tiers):
        const_tiers = [(_CMP[t.op], t.threshold.value, t.points) for t in s.tiers]

        def score_const_tiers(env):
            v = f(env)
            if v.__class__ is Missing:
                return v, 0.0, MISSING
            points = else_points
            for cmp, th, p in const_tiers:
                if cmp(v, th):
                    points = p
                    break
            if points >= full - EPS:
                return v, points, PASS
            return v, points, FAIL if points <= EPS else PARTIAL

        return score_const_tiers

    tiers = [(_CMP[t.op], compile_expr(t.threshold, functions), t.points) for t in s.tiers]

    def score_tiers(env):
        v = f(env)
        if v.__class__ is Missing:
            return v, 0.0, MISSING
        ths = [th(env) for _, th, _ in tiers]
        for tv in ths:
            if tv.__class__ is Missing:
                return tv, 0.0, MISSING
        points = else_points
        for (cmp, _, p), tv in zip(tiers, ths, strict=True):
            if cmp(v, tv):
                points = p
                break
        return v, points, outcome_of_points(points, full)

    return score_tiers


def _deduct_scorer(s: ir.Deduct, full: float, f: Fn) -> Scorer:
    per = s.per
    cap = s.cap if s.cap is not None else full

    def score_deduct(env):
        n = f(env)
        if n.__class__ is Missing:
            return n, 0.0, MISSING
        taken = arith(operator.mul, per, max(n, 0))
        if taken.__class__ is Missing:
            return taken, 0.0, MISSING
        taken = min(taken, cap)
        points = snap(full - taken)
        if taken <= EPS:
            return n, full, PASS
        return n, points, FAIL if points <= EPS else PARTIAL

    return score_deduct


def _bonus_per_scorer(s: ir.BonusPer, full: float, f: Fn) -> Scorer:
    per = s.per
    cap = s.cap if s.cap is not None else full

    def score_bonus(env):
        n = f(env)
        if n.__class__ is Missing:
            return n, 0.0, MISSING
        points = arith(operator.mul, per, max(n, 0))
        if points.__class__ is Missing:
            return points, 0.0, MISSING
        points = min(points, cap)
        return n, points, PASS if points > EPS else FAIL

    return score_bonus


def _score_scorer(full: float, f: Fn) -> Scorer:
    """`score v by …`: points v clamped to [0, full]; the value stays as
    given (the explanation and the data problems say it was clamped)."""

    def score_given(env):
        v = f(env)
        if v.__class__ is Missing:
            return v, 0.0, MISSING
        points = 0.0 if v <= 0 else min(float(v), full)  # a score of -0 is 0 too
        return v, points, outcome_of_points(points, full)

    return score_given


# ---------------------------------------------------------------- model


# ---------------------------------------------------------------- deductions

CauseFn = Callable[[Env], tuple[Any, Any, Any]]


def deduction_causes(s: ir.Deductions, functions) -> list[CauseFn]:
    """One closure per cause of a `Deductions` form: `env -> (value, steps,
    deducted)`: the cause's value, the count or whole steps it is charged
    for (None for `when` and `tiers`) and the points it deducts (after its
    own cap), a `Missing` when they cannot be known. The scorer and the
    explanation share these, so the words say what was computed."""
    return [_cause_fn(c, functions) for c in s.causes]


def _cause_fn(c: ir.DeductCause, functions) -> CauseFn:
    f = compile_expr(c.value, functions)
    amount, cap = c.amount, c.cap
    if c.kind == "when":

        def cause_when(env):
            v = f(env)
            if v.__class__ is Missing:
                return v, None, v
            return v, None, (amount if v else 0.0)

        return cause_when
    if c.kind == "tiers":
        tiers = [(_CMP[t.op], compile_expr(t.threshold, functions), t.points) for t in c.tiers]
        else_points = c.else_points

        def cause_tiers(env):
            v = f(env)
            if v.__class__ is Missing:
                return v, None, v
            ths = [th(env) for _, th, _ in tiers]
            for tv in ths:
                if tv.__class__ is Missing:
                    return v, None, tv
            for (cmp, _, p), tv in zip(tiers, ths, strict=True):
                if cmp(v, tv):
                    return v, None, p
            return v, None, else_points

        return cause_tiers
    if c.kind == "per":

        def cause_per(env):
            v = f(env)
            if v.__class__ is Missing:
                return v, None, v
            n = max(float(v), 0.0)
            d = snap(amount * n)
            if d.__class__ is not Missing and cap is not None:
                d = min(d, cap)
            return v, v, d

        return cause_per
    return _step_cause_fn(c, f, compile_expr(c.threshold, functions))


def _step_cause_fn(c: ir.DeductCause, f: Fn, fth: Fn) -> CauseFn:
    """`D per S [or part] of V below|above T`: whole steps = floor(shortfall
    × (1/S)) on snapped numbers (ceil with `or part`); none when the
    shortfall is 0 or less. The vectorized backend does the same operations."""
    amount, cap, inv = c.amount, c.cap, 1.0 / c.step
    below, part = c.kind == "below", c.part

    def cause_step(env):
        v = f(env)
        if v.__class__ is Missing:
            return v, None, v
        th = fth(env)
        if th.__class__ is Missing:
            return v, None, th
        short = snap(float(th) - float(v)) if below else snap(float(v) - float(th))
        if short.__class__ is Missing:
            return v, None, short
        if short <= 0:
            return v, 0.0, 0.0
        q = snap(short * inv)
        if q.__class__ is Missing:
            return v, None, q
        steps = float(math.ceil(q) if part else math.floor(q))
        d = snap(amount * steps)
        if d.__class__ is not Missing and cap is not None:
            d = min(d, cap)
        return v, steps, d

    return cause_step


def _deductions_scorer(s: ir.Deductions, full: float, functions) -> Scorer:
    """Full points less min(sum of the causes, cap), never below 0; the value
    is the points deducted. A cause that cannot be known makes it missing."""
    causes = deduction_causes(s, functions)
    cap = s.cap if s.cap is not None else full

    def score_deductions(env):
        total = None
        for fn in causes:  # the first as it is, then snap(total + d)
            d = fn(env)[2]
            if d.__class__ is Missing:
                return d, 0.0, MISSING
            total = d if total is None else snap(total + d)
            if total.__class__ is Missing:
                return total, 0.0, MISSING
        taken = min(total, cap)
        if taken <= EPS:
            return taken, full, PASS
        points = max(snap(full - taken), 0.0)
        return taken, points, FAIL if points <= EPS else PARTIAL

    return score_deductions


def _penalty_scorer(s: ir.Penalty, functions) -> Scorer:
    """A 减分 item: what its causes take, min(sum, cap) (no limit without a
    cap), as negative points; the value is the points taken. Pass when
    nothing is taken, else fail; a cause that cannot be known makes it
    missing (0 points, its missing policy applies)."""
    causes = deduction_causes(s, functions)
    cap = s.cap

    def score_penalty(env):
        total = None
        for fn in causes:  # summed as a deduction block sums
            d = fn(env)[2]
            if d.__class__ is Missing:
                return d, 0.0, MISSING
            total = d if total is None else snap(total + d)
            if total.__class__ is Missing:
                return total, 0.0, MISSING
        taken = total if cap is None else min(total, cap)
        if taken <= EPS:
            return taken, 0.0, PASS
        return taken, -taken, FAIL

    return score_penalty


class RawResult:
    """One record's evaluation in compact form. Index i of `values`,
    `points`, `outcomes` is `model.indicators[i]`; `vetoes[j]` is True,
    False or a Missing for `model.vetoes[j]`."""

    __slots__ = (
        "compiled",
        "env",
        "values",
        "points",
        "outcomes",
        "vetoes",
        "dim_scores",
        "dim_max",
        "total",
        "grade",
        "grade_index",
        "missing_count",
        "meta",
        "outputs",
    )

    def __init__(self, compiled: CompiledModel):
        self.compiled = compiled

    @property
    def model(self) -> ir.Model:
        return self.compiled.model

    @property
    def vetoed(self) -> list[str]:
        return [
            v.id for v, t in zip(self.compiled.model.vetoes, self.vetoes, strict=True) if t is True
        ]

    def shown_points(self, i: int) -> float | None:
        """Indicator i's points as every output shows them: None (not
        scored) when its value is missing and `missing skip` left it out;
        `points[i]` (0 for a skipped one) is what aggregation adds up."""
        if self.outcomes[i] == MISSING and self.compiled.plan.skip[i]:
            return None
        return self.points[i]

    def to_result(self):
        from zhili.engine.trace.results import build_result

        return build_result(self)


class CompiledModel:
    """A model compiled for the reference interpreter."""

    def __init__(
        self,
        model: ir.Model,
        functions: dict[str, Function] | None = None,
        plan: Plan | None = None,
    ):
        functions = functions or BUILTIN_FUNCTIONS
        self.model = model
        self.plan = plan or Plan(model)
        self._memo: dict[Any, Any] = {}
        self.functions = functions
        self.input_ids = [f.id for f in model.inputs]
        self.lets = [(d.id, compile_expr(d.expr, functions)) for d in model.lets]
        linear = LinearPoints(model, _builtin(functions))
        self.scorers = [
            _with_events(_compile_scoring(i, functions, linear), ev, i.points, model, functions)
            for i, ev in zip(model.indicators, self.plan.events, strict=True)
        ]
        self.veto_fns = [compile_expr(v.condition, functions) for v in model.vetoes]
        self.grade_fns = [
            (g.name, compile_expr(g.condition, functions) if g.condition is not None else None)
            for g in model.grades
        ]
        self.output_fns = [(o.id, compile_expr(o.expr, functions)) for o in model.outputs]
        self._publish = self.plan.publish
        self._fulls = [float(i.points) for i in model.indicators]
        self.ind_index = self.plan.ind_index
        self.dim_index = self.plan.dim_index
        need = self.plan.grade_results
        # grading computes only the names its conditions read (and every
        # dimension's share when one of them or `min_dimension` is read)
        dims = "min_dimension" in need or any(d.id in need for d in model.dimensions)
        self._grade_names = [
            rn
            for rn in self.plan.result_names
            if rn.name in need or (dims and rn.kind == "dimension")
        ]

    def fn(self, expr: ir.Expr) -> Fn:
        """The compiled closure of any expression of this model (memoised),
        for explanations and gap analysis."""
        key = id(expr)
        f = self._memo.get(key)
        if f is None:
            f = self._memo[key] = compile_expr(expr, self.functions)
        return f

    def causes(self, s: ir.Deductions) -> list[CauseFn]:
        """The compiled causes of a `Deductions` form (`deduction_causes`),
        memoised, for explanations and gap analysis."""
        key = ("causes", id(s))
        f = self._memo.get(key)
        if f is None:
            f = self._memo[key] = deduction_causes(s, self.functions)
        return f

    # ------------------------------------------------------------ records
    def env_for(self, record: dict[str, Any]) -> Env:
        """The starting environment: every input, missing when absent/None."""
        env: Env = {}
        for name in self.input_ids:
            v = record.get(name)
            env[name] = Missing(NO_VALUE, name=name) if v is None else v
        return env

    def evaluate(self, record: dict[str, Any], meta: dict[str, Any] | None = None) -> RawResult:
        """Score one record (input id → value; None or absent: missing)."""
        env = self.env_for(record)
        for name, fn in self.lets:
            env[name] = fn(env)
        scored = [scorer(env) for scorer in self.scorers]
        if self.plan.precision is not None:
            publish = self._publish
            scored = [(v, publish(p), o) for v, p, o in scored]
            scored = [
                (v, p, settle(o, p, full))
                for (v, p, o), full in zip(scored, self._fulls, strict=True)
            ]
        if scored:
            values, points, outcomes = (list(x) for x in zip(*scored, strict=True))
        else:
            values, points, outcomes = [], [], []
        missing_count = outcomes.count(MISSING)
        vetoes = [fn(env) for fn in self.veto_fns]
        for t in vetoes:
            if t.__class__ is Missing:
                missing_count += 1

        r = RawResult(self)
        r.env = env
        r.values = values
        r.points = points
        r.outcomes = outcomes
        r.vetoes = vetoes
        r.dim_scores, r.dim_max, r.total = self._aggregate_all(points, outcomes)
        r.missing_count = missing_count
        r.meta = meta or {}
        self._grade(r)
        return r

    def _aggregate_all(
        self, points, outcomes
    ) -> tuple[list[float | None], list[float], float | None]:
        """Dimension scores, their available points, and the total, by the
        plan's rescaling rules (see `Plan`), snapped and (with `precision`)
        rounded as `Plan.publish` says; None for what is not scored."""
        plan = self.plan
        publish = self._publish
        nd = len(plan.dims)
        dim_scores: list[float] = [0.0] * nd
        dim_max: list[float] = [0.0] * nd  # points actually available (after skips)
        dim_missing = [False] * nd
        for layer in plan.layers:
            for di in layer:
                group = plan.dims[di]
                scored, bonus, avail = self._aggregate(
                    group, points, outcomes, dim_scores, dim_max, dim_missing
                )
                bonus = capped(group, bonus)  # a section's `max C`
                declared = group.declared
                if avail <= EPS:
                    # nothing in it could be scored: the dimension is left out
                    # (its bonus points, if any, still count; a penalty takes
                    # nothing below 0: there is no score to take from)
                    dim_missing[di] = True
                    dim_scores[di] = publish(floored(group, bonus))
                    continue
                if avail < declared - EPS:
                    # some children were skipped: rescale to the declared points
                    scored = snap(scored * declared / avail)
                dim_scores[di] = publish(floored(group, snap(scored + bonus)))
                dim_max[di] = declared
        top = plan.top
        scored, bonus, avail = self._aggregate(
            top, points, outcomes, dim_scores, dim_max, dim_missing
        )
        # not scored (see `Plan`): None, never 0
        published = [
            None if dim_missing[k] and plan.scorable[k] else s for k, s in enumerate(dim_scores)
        ]
        if avail <= EPS and plan.total_scorable:
            return published, dim_max, None
        if avail < top.declared - EPS and avail > EPS:
            scored = snap(scored * top.declared / avail)
        return published, dim_max, publish(floored(top, snap(scored + bonus)))

    def _aggregate(self, group: Group, points, outcomes, dim_scores, dim_max, dim_missing):
        """(scored points, bonus points, available points) of a group, term
        by term as `Group` says, each sum snapped once. A missing indicator
        has 0 points, so summing all of them is right."""
        scored = sum([points[i] for i in group.scored])
        bonus = sum([points[i] for i in group.bonus])
        avail = group.available
        max_points = self.plan.max_points
        for i in group.skips:
            if outcomes[i] == MISSING:
                avail -= max_points[i]
        for j in group.dims:
            if dim_missing[j]:
                bonus += dim_scores[j]
            else:
                scored += dim_scores[j]
                avail += dim_max[j]
        return snap(scored), snap(bonus), snap(avail)

    def result_env(self, r: RawResult, full: bool = True) -> Env:
        """Names available to grade conditions (the plan's `result_names`);
        with `full=False`, only those some grade condition uses."""
        env = dict(r.env)
        model = self.model
        shares: list[Any] = []
        for rn in self.plan.result_names if full else self._grade_names:
            match rn.kind:
                case "total":
                    env[rn.name] = Missing(NOT_SCORED) if r.total is None else r.total
                case "share":
                    if r.total is None:
                        env[rn.name] = Missing(NOT_SCORED)
                    else:
                        env[rn.name] = (
                            snap(r.total * (1.0 / model.total))
                            if model.total
                            else Missing(DIV_ZERO)
                        )
                case "dimension":
                    d = model.dimensions[rn.index]
                    if d.points and r.dim_max[rn.index] > 0:
                        share = snap(r.dim_scores[rn.index] * (1.0 / d.points))
                    else:
                        share = Missing(NO_DIMENSION_SCORE)
                    if rn.index in self.plan.min_dims:
                        shares.append((d.id, share))
                    env[rn.name] = share
                case "min_dimension":
                    env[rn.name] = _min_dimension(shares)
                case "vetoed":
                    env[rn.name] = any(t is True for t in r.vetoes)
                case "missing_count":
                    env[rn.name] = r.missing_count
                case "indicator":
                    p = r.shown_points(rn.index)
                    env[rn.name] = Missing(NOT_SCORED) if p is None else p
                case "veto":
                    env[rn.name] = r.vetoes[rn.index] is True
                case "dimension_points":
                    p = r.dim_scores[rn.index]
                    env[rn.name] = Missing(NO_DIMENSION_SCORE) if p is None else p
                case _:
                    raise AssertionError(rn.kind)
        outputs = getattr(r, "outputs", None)
        if outputs is not None:
            for (oid, _fn), v in zip(self.output_fns, outputs, strict=True):
                env[oid] = v
        return env

    def allowed_grades(self, r: RawResult) -> list[bool]:
        """Which grades the triggered vetoes still allow."""
        return self.plan.allowed([t is True for t in r.vetoes])

    def _outputs(self, r: RawResult, env: Env) -> None:
        """The outputs, in dependency order, each into `env` for the next
        ones and the grades (docs/language.md, "Values from results")."""
        values = []
        for oid, fn in self.output_fns:
            env[oid] = v = fn(env)
            values.append(v)
        r.outputs = values

    def _grade(self, r: RawResult) -> None:
        r.outputs = None
        env = self.result_env(r, full=False)
        self._outputs(r, env)
        allowed = self.allowed_grades(r)
        r.grade = None
        r.grade_index = None
        for i, (name, fn) in enumerate(self.grade_fns):
            if not allowed[i]:
                continue
            if fn is None or fn(env) is True:
                r.grade = name
                r.grade_index = i
                return


def _min_dimension(shares: list[tuple[str, Any]]) -> Any:
    """The lowest share of the top-level dimensions with points; missing
    when one of them is not scored (three-valued: the lowest is unknown)."""
    for name, share in shares:
        if share.__class__ is Missing:
            return Missing(DIMENSION_NOT_SCORED, name=name)
    return min(s for _, s in shares) if shares else Missing(NO_DIMENSION)


def compile_model(
    model: ir.Model, functions: dict[str, Function] | None = None, plan: Plan | None = None
) -> CompiledModel:
    """Compile `model` for the reference interpreter (with the model's `plan`
    when the caller has built it already)."""
    return CompiledModel(model, functions, plan)
