"""The DSL's functions: one table, `BUILTIN_FUNCTIONS`, where each built-in
is declared once with its signature and documentation (`zhili.dsl.functions`,
all the checker needs), its Python implementation (the reference
interpreter) and its Polars implementation (the vectorized backend), exactly
as a plugin declares its own `Function`.

Python implementations get evaluated arguments; unless a signature says
`handles_missing`, the interpreter returns the first missing argument before
calling the function, so implementations see real values. A division by zero
returns `Missing` with a reason. Polars implementations get and return
expressions, nulls being missing values; unless the signature says
`handles_missing`, the backend makes the result null where any argument is.
Polars is imported when an expression is built, never when this module is
(plugins and the command line import it at start-up).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from zhili.dsl.functions import BUILTINS, Signature
from zhili.dsl.i18n import N_, _


class Missing:
    """A missing value, with the reason it is missing: `message` is an English
    catalog message (marked with `N_`) whose `{placeholders}` are filled from
    `args`. `reason` is the English text, `text()` the current language's."""

    __slots__ = ("message", "args")

    def __init__(self, message: str, **args: str):
        self.message = message
        self.args = args

    @property
    def reason(self) -> str:
        return self.message.format(**self.args) if self.args else self.message

    def text(self) -> str:
        message = _(self.message)
        return message.format(**self.args) if self.args else message

    def __repr__(self) -> str:
        return f"Missing({self.reason!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Missing)

    def __hash__(self) -> int:
        return 0


DIV_ZERO = N_("division by zero")
NO_VALUE = N_("no value for `{name}`")
NO_DIMENSION_SCORE = N_("dimension has no scored indicators")
NO_DIMENSION = N_("no dimension was scored")


@dataclass(frozen=True)
class Function:
    """A DSL function: its signature for the checker and its implementations.
    `python` is used by the reference interpreter; `polars` (an expression
    builder) by the vectorized backend when present."""

    signature: Signature
    python: Callable
    polars: Callable | None = None

    @property
    def name(self) -> str:
        return self.signature.name

    @property
    def doc(self) -> str:
        return self.signature.doc


def _ratio(a, b):
    if b == 0:
        return Missing(DIV_ZERO)
    return a / b


def _per_10k(count, population):
    if population == 0:
        return Missing(DIV_ZERO)
    return count * 10000 / population


def _min(*xs):
    return min(xs)  # min(x) of one argument is x (Python's min(x) wants an iterable)


def _max(*xs):
    return max(xs)


def _clamp(x, lo, hi):
    return min(max(x, lo), hi)


def _round_half_away(x: float) -> float:
    """To the nearest integer, halves away from zero (Rust's `f64::round`,
    which Polars uses). `x - trunc(x)` is exact, so the half test is too."""
    t = math.trunc(x)
    if abs(x - t) >= 0.5:
        t += 1 if x > 0 else -1
    return float(t)


def _round(x, digits=0):
    """四舍五入: halves away from zero (round(2.5) = 3, round(-2.5) = -3),
    exactly as the vectorized backend (Polars' `half_away_from_zero`): to
    `digits` places, x × 10^digits is rounded and divided back."""
    digits = int(digits)
    if isinstance(x, int) and digits >= 0:
        return x
    if not math.isfinite(x):
        return x
    if digits == 0:
        r = _round_half_away(x)
    else:
        m = 10.0**digits
        y = x * m
        # past the float range Polars gives x back unchanged; so do we
        r = _round_half_away(y) / m if math.isfinite(y) else float(x)
        if not math.isfinite(r):
            r = float(x)
    return int(r) if isinstance(x, int) else r


def _coalesce(*args):
    for a in args:
        if a.__class__ is not Missing:
            return a
    return args[-1]


def _between(x, lo, hi):
    return lo <= x <= hi


def _count(*conds):
    return sum(1 for c in conds if c is True)


def _is_missing(x):
    return x.__class__ is Missing


# ---------------------------------------------------------------- Polars


def polars_div(a, b):
    """`a / b` as a Polars expression, null (missing) where `b` is 0."""
    import polars as pl

    return pl.when(b == 0).then(None).otherwise(a / b)


def _pl_min(*xs):
    import polars as pl

    return pl.min_horizontal(xs)


def _pl_max(*xs):
    import polars as pl

    return pl.max_horizontal(xs)


def _pl_clamp(x, lo, hi):
    import polars as pl

    return pl.min_horizontal(pl.max_horizontal(x, lo), hi)


def _pl_round(x, digits: int = 0):
    """Halves away from zero, as `_round`. The backend passes a constant
    number of digits as an int (it refuses a computed one)."""
    if not isinstance(digits, int):
        raise TypeError("round() needs a constant number of digits")
    return x.round(digits, mode="half_away_from_zero")


def _pl_coalesce(*xs):
    import polars as pl

    return pl.coalesce(xs)


def _pl_count(*conds):
    """How many conditions are true (missing ones count 0), as Int64.
    `when(c).then(1).otherwise(0)` is several times faster than casting a
    boolean to an integer."""
    import polars as pl

    one, zero = pl.lit(1, pl.Int64), pl.lit(0, pl.Int64)
    return pl.sum_horizontal([pl.when(c).then(one).otherwise(zero) for c in conds])


def _builtin(name: str, python: Callable, polars: Callable) -> Function:
    return Function(BUILTINS[name], python, polars)


BUILTIN_FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        _builtin("ratio", _ratio, polars_div),
        _builtin("per_10k", _per_10k, lambda c, p: polars_div(c * 10000, p)),
        _builtin("min", _min, _pl_min),
        _builtin("max", _max, _pl_max),
        _builtin("clamp", _clamp, _pl_clamp),
        _builtin("abs", abs, lambda x: x.abs()),
        _builtin("round", _round, _pl_round),
        _builtin("coalesce", _coalesce, _pl_coalesce),
        _builtin("default", _coalesce, _pl_coalesce),
        _builtin("between", _between, lambda x, lo, hi: (lo <= x) & (x <= hi)),
        _builtin("count", _count, _pl_count),
        _builtin("is_missing", _is_missing, lambda x: x.is_null()),
    ]
}
