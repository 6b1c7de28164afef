"""Implementations of the DSL's functions for the reference interpreter.

Signatures (for the checker) live in `zhili.dsl.functions`; this module
gives each one a Python implementation. Arguments arrive evaluated; unless a
signature says `handles_missing`, the interpreter returns the first missing
argument before calling the function, so implementations see real values.
A division by zero returns `Missing` with a reason.
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


_PY: dict[str, Callable] = {
    "ratio": _ratio,
    "per_10k": _per_10k,
    "min": _min,
    "max": _max,
    "clamp": _clamp,
    "abs": abs,
    "round": _round,
    "coalesce": _coalesce,
    "default": _coalesce,
    "between": _between,
    "count": _count,
    "is_missing": _is_missing,
}

BUILTIN_FUNCTIONS: dict[str, Function] = {
    name: Function(sig, _PY[name]) for name, sig in BUILTINS.items()
}
