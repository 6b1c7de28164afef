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
from decimal import Decimal
from fractions import Fraction

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
OVERFLOW = N_("overflow")
NOT_A_NUMBER = N_("not a number")
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


def divide(a, b):
    """`a / b` as the language defines it: missing when `b` is 0, else the
    snapped quotient of the two as doubles (an int is converted first, as
    Polars does, so both backends divide the same doubles)."""
    if b == 0:
        return Missing(DIV_ZERO)
    return snap(float(a) / float(b))


def _ratio(a, b):
    return divide(a, b)


def _per_10k(count, population):
    return divide(float(count) * 10000.0, population)


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


# ---------------------------------------------------------------- numbers
#
# The number semantics of docs/language.md ("Numbers"), one definition for
# both backends. A computed number is the double nearest to a decimal of at
# most SNAP_DIGITS places: every non-integer arithmetic result is snapped
# (`snap`). An integer result is exact; one of magnitude 2^126 or more is
# missing ("overflow"). A result that is not finite is missing ("overflow",
# "not a number").
#
# Snapping by magnitude (the same IEEE operations in both backends):
# - below SNAP_SPLIT (2^22): round(x × 10^9) / 10^9, halves away from zero,
#   which is bit for bit Polars' `round(9, mode="half_away_from_zero")`. x ×
#   10^9 is below 2^52, and for a double that is the nearest to a decimal of
#   at most 9 places its error and the product's together stay below 1/2:
#   the rounded integer is that decimal's, and the quotient of two exact
#   doubles is the double nearest to it.
# - from SNAP_WHOLE (2^23) on: x itself. A double's spacing there is more
#   than 10^-9, so the 9-place decimal nearest to x is within half a spacing
#   of x, and x is the double nearest to it (round(x × 10^9) / 10^9 was not:
#   4298137.15 became 4298137.150000001, 1e14 99999999999999.98).
# - between: x = t + f with t = trunc(x), exact; f is a multiple of 2^-30
#   below 1, so f × 10^9 is exact and rounds to the decimal's billionths n;
#   then t + n / 10^9. That sum rounds once more, and gives the double
#   nearest to t + n/10^9 all the same: n / 10^9 is within 2^-54 of its
#   double, while t + n/10^9 is at least 2^-22/10^9 (more than 2^-54) from
#   any midpoint of the doubles there (odd multiples of 2^-31: n·2^22 is
#   even, (2j+1)·5^9 odd, so n/10^9 - (2j+1)/2^31 = 2^9·(n·2^22 -
#   (2j+1)·5^9)/(10^9·2^31) is never below that).
# - the same split gives x itself from 2^23 on (the vectorized backend takes
#   it there too: one test instead of two). With spacing 2^-k (k <= 29), f
#   has at most k bits and f × 10^9 is exact; for k > 8 the same parity
#   argument keeps t + n/10^9 more than 2^-54 from every midpoint, so the
#   sum rounds to the double nearest to it, which is x; for k <= 8, f × 10^9
#   is a whole number and n / 10^9 is f itself.

SNAP_DIGITS = 9
SNAP_SCALE = 1e9
SNAP_SPLIT = 2.0**22
SNAP_WHOLE = 2.0**23
INT_LIMIT = 2**126
_INF = math.inf
_fmod = math.fmod
_trunc = math.trunc


def snap(x: float):
    """The double nearest to `x` rounded to 9 decimal places (halves away
    from zero), or `Missing` when `x` is not finite: by magnitude, as the
    comment above says."""
    if -SNAP_SPLIT < x < SNAP_SPLIT:
        # fmod(y, 1) is exact, and so is y - fmod(y, 1) = trunc(y): all in
        # floats, which is what makes this fast (an int from math.trunc is not)
        y = x * SNAP_SCALE
        d = _fmod(y, 1.0)
        if d >= 0.5:
            return (y - d + 1.0) / SNAP_SCALE
        if d <= -0.5:
            return (y - d - 1.0) / SNAP_SCALE
        return (y - d) / SNAP_SCALE
    return _snap_large(x)


def _snap_large(x: float):
    """`snap` from 2^22 on (and of an infinity or NaN)."""
    if x != x:
        return Missing(NOT_A_NUMBER)
    if x == _INF or x == -_INF:
        return Missing(OVERFLOW)
    if not -SNAP_WHOLE < x < SNAP_WHOLE:
        return float(x)
    t = float(_trunc(x))
    return t + _round_half_away((x - t) * SNAP_SCALE) / SNAP_SCALE


def decimal_text(x: float) -> str:
    """A computed number as the decimal it is, every place it has (at most
    9), trailing zeros trimmed, never in exponent form: 8, 17.92,
    3.333333333, 4298137.15. Below 2^22 the 9 places of its binary value;
    from there on, where a double's spacing nears 10^-9, the shortest
    decimal that reads back as it (what Python and Polars print): the 9
    places of 6816137166.78's binary value are 6816137166.779999733."""
    if -SNAP_SPLIT < x < SNAP_SPLIT:
        text = f"{x:.9f}".rstrip("0").rstrip(".")
    else:
        text = format(Decimal(repr(float(x))), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_INT_SAFE = 2**125  # below this an int result's float shadow is below INT_LIMIT


def arith(op, a, b):
    """`op(a, b)` (add, sub, mul) as the language defines it: a float result
    snapped (`snap`); an int result exact, unless its float shadow — the
    operation on the operands as doubles, which the vectorized backend
    computes beside its Int128 result — reaches 2^126: then missing
    ("overflow")."""
    r = op(a, b)
    if r.__class__ is int:
        if -_INT_SAFE < r < _INT_SAFE or abs(op(float(a), float(b))) < INT_LIMIT:
            return r
        return Missing(OVERFLOW)
    return snap(r)


def number(r):
    """A float result snapped (`snap`); an int is returned as it is."""
    if r.__class__ is int:
        return r
    return snap(r)


def round_decimal(x: float, digits: int) -> float:
    """`x` rounded to `digits` places (-15..9), halves away from zero, as a
    decimal: on the scaled integer n = round(x × 10^9), never on the binary
    float (0.285 is stored as 0.28499999999999998 and still rounds to 0.29).
    Every step is an IEEE operation the vectorized backend repeats
    (`pl_round_decimal`): fmod is exact, and the final division by 10^digits
    is Polars' own `round(digits)`. From 2^22 on (`SNAP_SPLIT`) x × 10^9 is
    not exact: `_round_decimal_large`."""
    if not -SNAP_SPLIT < x < SNAP_SPLIT:
        return _round_decimal_large(x, digits)
    n = _round_half_away(x * SNAP_SCALE)
    if digits >= SNAP_DIGITS:
        return n / SNAP_SCALE
    m = 10.0 ** (SNAP_DIGITS - digits)
    a = abs(n)
    rem = math.fmod(a, m)
    q = _round_half_away((a - rem) * (1.0 / m))
    if rem + rem >= m:
        q += 1.0
    if digits > 0:
        p = 10.0**digits
        q = _round_half_away(q * (1.0 / p) * p) / p
    elif digits < 0:
        q = q * 10.0 ** (-digits)
    return -q if n < 0 and q else q  # a negative rounded to zero is 0.0


_INT128_SAFE = 2.0**126


def _tie_limit(places: int) -> float:
    """The largest power of two below which doubles are spaced more finely
    than 10^-(places + 1)."""
    e = 53
    while Fraction(2) ** (e - 53) >= Fraction(1, 10 ** (places + 1)):
        e -= 1
    return 2.0**e


TIE_LIMIT = [_tie_limit(n) for n in range(SNAP_DIGITS)]


def _round_decimal_large(x: float, digits: int) -> float:
    """`round_decimal` from 2^22 on, where a double's spacing nears or
    passes 10^-9, on the split x = t + f of `snap` (t = trunc(x); f × 10^N
    is exact). A value is rounded as the decimal it prints as (its shortest
    decimal that reads back as it: 6816137166.785, whose binary value is
    6816137166.78499984…). Every real nearer to x than to its neighbours
    rounds to the same N places unless the half h between two roundings is
    one of them; then, while the doubles' spacing is below 10^-(N+1)
    (`TIE_LIMIT`), h is the only decimal of N+1 places among them, x prints
    as h, and h goes away from zero: "at least the half, or x the double
    nearest to it" (t + h == |x|, the sum correctly rounded for the reason
    `snap` gives). Where the spacing is coarser (past 5.6e14 for 0 places,
    8.8e12 for 2, 8.4e6 for 8), x's binary value decides. To tens and more
    the half is a whole number and only t matters, rounded as an integer,
    exactly (Polars' modulo of doubles is not fmod past 2^52), its nearest
    double returned; from 2^126, x itself. An infinity or NaN is returned
    as it is."""
    if not math.isfinite(x):
        return x
    ax = abs(x)
    if digits >= SNAP_DIGITS:
        return snap(x)
    if digits < 0:
        if ax >= _INT128_SAFE:
            return x
        t, m = int(ax), 10 ** (-digits)
        r = t % m
        q = float(t - r + (m if r + r >= m else 0))
    else:
        t = float(_trunc(ax))
        p = 10.0**digits
        u = (ax - t) * p  # exact: ax - t has at most 30 bits, 10^digits at most 27
        k = u - math.fmod(u, 1.0)
        if u - k >= 0.5 or (ax < TIE_LIMIT[digits] and t + (k + 0.5) / p == ax):
            k += 1.0
        q = t + k / p
    return -q if x < 0 else q


def round_int(x: int, digits: int) -> int:
    """An int rounded to `digits` places: itself for digits >= 0, else to a
    multiple of 10^-digits, halves away from zero (exact integers)."""
    if digits >= 0:
        return x
    m = 10 ** min(-digits, 38)
    q, r = divmod(abs(x), m)
    q += r + r >= m
    return q * m if x >= 0 else -q * m


MAX_DIGITS = 9
MIN_DIGITS = -15


def _round(x, digits=0):
    """四舍五入: halves away from zero (round(2.5) = 3, round(-2.5) = -3,
    round(0.285, 2) = 0.29), on the decimal (`round_decimal`); an int stays
    an int. The number of digits is limited to -15..9 (the checker says so
    for a constant; a computed one is clamped)."""
    digits = max(MIN_DIGITS, min(MAX_DIGITS, int(digits)))
    if isinstance(x, int):
        return round_int(x, digits)
    return number(round_decimal(x, digits))


def _floor(x):
    """向下取整: the largest whole number not above x, on the snapped decimal
    (a snapped value is the double of its decimal, so floor(2.999999999) is
    2 and floor(3.000000000) is 3); an int stays an int."""
    if isinstance(x, int):
        return x
    return float(math.floor(x))


def _ceil(x):
    """向上取整 (不足1按1计): the smallest whole number not below x; an int
    stays an int."""
    if isinstance(x, int):
        return x
    return float(math.ceil(x))


def _pl_floor(x, is_int: bool = False):
    """`_floor` as a Polars expression: an int column is itself; `+ 0.0`
    makes a -0.0 (floor of -0.0) 0.0, as `_floor` gives."""
    return x if is_int else x.floor() + 0.0


def _pl_ceil(x, is_int: bool = False):
    """`_ceil` as a Polars expression: ceil(-0.5) is -0.0 in Polars, 0.0
    in Python, and `+ 0.0` makes it 0.0."""
    return x if is_int else x.ceil() + 0.0


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
    """`a / b` as a Polars expression, the quotient snapped (`divide`). A
    division by zero gives an infinity or NaN, which `pl_finite` makes null
    where the value is used, as any non-finite result (Polars has no reasons
    to give; the interpreter says "division by zero"). The divisor must be
    finite (the backend passes it through `pl_finite`): x / inf would be 0."""
    import polars as pl

    return pl_snap(a.cast(pl.Float64) / b.cast(pl.Float64))


def pl_snap(e):
    """`snap` as a Polars expression, bit for bit the interpreter's, at every
    magnitude: Polars' `round(9)` below 2^22, the split t + f above, which
    is `e` itself from 2^23 (see the "numbers" comment). An infinity or NaN
    stays not finite (an infinity becomes NaN) and propagates through
    further arithmetic, as `Missing` does in the interpreter, until
    `pl_finite` makes it null where the value is used.

    The three cases read the value several times. Naming `e` itself that
    often would grow the expression tree exponentially with nested
    arithmetic (each level copies the one below it), so `e` is named once,
    as the one field of a struct, and the cases read the field. Where the
    value is known to stay below 2^22, `pl_snap_small` is one operation."""
    import polars as pl

    if e.meta.is_column() or e.meta.is_literal(allow_aliasing=True):
        return _pl_snap_of(e.cast(pl.Float64))
    x = pl.field("x")
    return (
        pl.struct(e.cast(pl.Float64).alias("x"))
        .struct.with_fields(_pl_snap_of(x).alias("y"))
        .struct.field("y")
    )


def _pl_snap_of(x):
    """Below 2^22 Polars' round(9); from there on the split t + round9(x -
    t), which from 2^23 on gives x itself (the "numbers" comment: x - t has
    at most 29 bits there, and t + n/10^9 rounds back to x), so one test
    does: two thirds of the cost of three cases. An infinity becomes NaN
    (inf - inf), not finite either way."""
    import polars as pl

    t = x.truncate()
    return (
        pl.when(x.abs() < SNAP_SPLIT)
        .then(x.round(SNAP_DIGITS, mode="half_away_from_zero"))
        .otherwise(t + (x - t).round(SNAP_DIGITS, mode="half_away_from_zero"))
    )


# `pl_snap_small` is `pl_snap` for values of magnitude below this (a margin
# under 2^22 for the rounding of the operation whose result it snaps)
SMALL_SNAP_LIMIT = 4e6


def pl_snap_small(e):
    """`pl_snap` of a value whose magnitude is known to be below
    `SMALL_SNAP_LIMIT` where it matters (the caller's bound): Polars' own
    `round(9)`, one operation."""
    return e.round(SNAP_DIGITS, mode="half_away_from_zero")


def positive_zeros(frame):
    """`frame` with every -0.0 of its Float64 columns made 0.0 (docs/language.md,
    "Numbers": a zero is +0.0). The interpreter's `snap` never gives -0.0,
    while Polars computes `0 - x` as the negation of x, keeps the sign of a
    product or quotient of zero and rounds a tiny negative to -0.0; the sign
    changes nothing the model compares, but CSV and Parquet outputs showed it
    ("-0.0"). Only a column with a sign bit set is rewritten: finding none
    costs a pass over the values (numpy's signbit, under a nanosecond each)."""
    import numpy as np
    import polars as pl

    fixed = []
    for name, dtype in frame.schema.items():
        if dtype != pl.Float64:
            continue
        column = frame.get_column(name)
        # without nulls, numpy reads the column's own buffer (no copy)
        values = (column.fill_null(0.0) if column.null_count() else column).to_numpy()
        if np.signbit(values).any() and ((values == 0) & np.signbit(values)).any():
            col = pl.col(name)
            fixed.append(pl.when(col == 0).then(pl.lit(0.0)).otherwise(col).alias(name))
    return frame.with_columns(fixed) if fixed else frame


def pl_finite(e):
    """Null where a float expression is infinite or NaN (the interpreter's
    `Missing("overflow")` / `Missing("not a number")`)."""
    import polars as pl

    return pl.when(e.is_finite()).then(e).otherwise(None)


def pl_round_decimal(x, digits: int):
    """`round_decimal` as a Polars expression, the same IEEE operations in
    the same order (Polars' modulo of positive doubles is fmod, exact); from
    2^22 on those of `_round_decimal_large`. The value is read several
    times: a struct field, as in `pl_snap`, unless it is a column."""
    import polars as pl

    digits = max(MIN_DIGITS, min(MAX_DIGITS, digits))
    x = x.cast(pl.Float64)
    if digits >= SNAP_DIGITS:
        return pl_snap(x)
    if x.meta.is_column():
        return _pl_round_decimal_of(x, digits)
    return (
        pl.struct(x.alias("x"))
        .struct.with_fields(_pl_round_decimal_of(pl.field("x"), digits).alias("y"))
        .struct.field("y")
    )


def _pl_round_decimal_of(x, digits: int):
    import polars as pl

    n = (x * SNAP_SCALE).round(0, mode="half_away_from_zero")
    m = 10.0 ** (SNAP_DIGITS - digits)
    a = n.abs()
    rem = a % m
    q = ((a - rem) * (1.0 / m)).round(0, mode="half_away_from_zero")
    q = q + pl.when(rem + rem >= m).then(1.0).otherwise(0.0)
    if digits > 0:
        q = (q * (1.0 / 10.0**digits)).round(digits, mode="half_away_from_zero")
    elif digits < 0:
        q = q * 10.0 ** (-digits)
    r = pl.when(n < 0).then(-q).otherwise(q)
    small = pl.when(r.is_finite()).then(r).otherwise(None)
    return pl.when(x.abs() < SNAP_SPLIT).then(small).otherwise(_pl_round_large(x, digits))


def _pl_round_large(x, digits: int):
    """`_round_decimal_large` as a Polars expression, the same operations."""
    import polars as pl

    ax = x.abs()
    if digits < 0:
        t = ax.truncate().cast(pl.Int128, strict=False)
        m = pl.lit(10 ** (-digits), pl.Int128)
        r = t % m
        whole = (t - r + pl.when(r + r >= m).then(m).otherwise(0)).cast(pl.Float64)
        q = pl.when(ax < _INT128_SAFE).then(whole).otherwise(ax)
    else:
        t = ax.truncate()
        p = 10.0**digits
        u = (ax - t) * p
        k = u - u % 1.0
        up = (u - k >= 0.5) | ((ax < TIE_LIMIT[digits]) & (t + (k + 0.5) / p == ax))
        q = t + (k + pl.when(up).then(1.0).otherwise(0.0)) / p
    r = pl.when(x < 0).then(-q).otherwise(q)
    return pl.when(x.is_finite()).then(r).otherwise(None)


# `pl_round_decimal_small` holds for 0 <= x <= this (n = x × 10^9 below 2^50)
SMALL_DECIMAL_LIMIT = 1e6


def pl_round_decimal_small(x, digits: int):
    """`pl_round_decimal` in a third of the operations, the same bits, for
    values with 0 <= x <= `SMALL_DECIMAL_LIMIT` (-0.0 too; nulls stay null):
    the caller checks the column (`VectorModel` does, before it publishes
    points and scores with `precision N`). Other digits: `pl_round_decimal`.

    Why the same: with n = round(x × 10^9) = k·m + r (0 <= r < m = 10^(9-d),
    integers, n <= 10^15), `pl_round_decimal` takes q = k + (1 if 2r >= m).
    Here q = floor((n + m/2 + 1/2) × (1/m)): the sum is exact, and its
    quotient is k + 1/2 + (r + 1/2)/m, at least 1/(2m) away from an integer;
    the product's error, below (k + 2)·2^-52, is less than that while
    (k + 2)·m < 2^51. Then as `pl_round_decimal`: q / 10^d by Polars' round,
    and the sign step leaves a q of a nonnegative n as it is (+0.0 too)."""
    import polars as pl

    digits = max(MIN_DIGITS, min(MAX_DIGITS, digits))
    if not 0 <= digits < SNAP_DIGITS:
        return pl_round_decimal(x, digits)
    m = 10.0 ** (SNAP_DIGITS - digits)
    n = (x.cast(pl.Float64) * SNAP_SCALE).round(0, mode="half_away_from_zero")
    q = ((n + (m / 2 + 0.5)) * (1.0 / m)).floor()
    if digits > 0:
        q = (q * (1.0 / 10.0**digits)).round(digits, mode="half_away_from_zero")
    return q


def pl_round_int(x, digits: int):
    """`round_int` as a Polars expression (Int64 or Int128 arithmetic)."""
    import polars as pl

    digits = max(MIN_DIGITS, min(MAX_DIGITS, digits))
    if digits >= 0:
        return x
    m = 10 ** min(-digits, 38)
    a = x.cast(pl.Int128).abs()
    lm = pl.lit(m, pl.Int128)
    q = a // lm + pl.when((a % lm) * 2 >= lm).then(pl.lit(1, pl.Int128)).otherwise(0)
    # Polars cannot negate an Int128: 0 - x
    return pl.when(x >= 0).then(q * lm).otherwise(pl.lit(0, pl.Int128) - q * lm)


def _pl_min(*xs):
    import polars as pl

    return pl.min_horizontal(xs)


def _pl_max(*xs):
    import polars as pl

    return pl.max_horizontal(xs)


def _pl_clamp(x, lo, hi):
    import polars as pl

    return pl.min_horizontal(pl.max_horizontal(x, lo), hi)


def _pl_round(x, digits: int = 0, is_int: bool = False):
    """Halves away from zero on the decimal, as `_round`. The backend passes
    a constant number of digits as an int (it refuses a computed one) and
    says whether `x` is an int."""
    if not isinstance(digits, int):
        raise TypeError("round() needs a constant number of digits")
    return pl_round_int(x, digits) if is_int else pl_round_decimal(x, digits)


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
        _builtin("per_10k", _per_10k, lambda c, p: polars_div(c * 10000.0, p)),
        _builtin("min", _min, _pl_min),
        _builtin("max", _max, _pl_max),
        _builtin("clamp", _clamp, _pl_clamp),
        _builtin("abs", abs, lambda x: x.abs()),
        _builtin("round", _round, _pl_round),
        _builtin("floor", _floor, _pl_floor),
        _builtin("ceil", _ceil, _pl_ceil),
        _builtin("coalesce", _coalesce, _pl_coalesce),
        _builtin("default", _coalesce, _pl_coalesce),
        _builtin("between", _between, lambda x, lo, hi: (lo <= x) & (x <= hi)),
        _builtin("count", _count, _pl_count),
        _builtin("is_missing", _is_missing, lambda x: x.is_null()),
    ]
}


# ---------------------------------------------------------------- sets
#
# The checker lowers `"养老" in S` to `set_has(S, mask)` and `count(S)` of a
# set to `set_count(S)`: a set input's value is an integer bitmask in both
# backends (`zhili.dsl.sets`). Not in the table a model's calls are checked
# against (no model writes these names); both backends look them up here.


def _set_has(s, mask):
    return s & mask != 0


def _set_count(s):
    return s.bit_count()


def _pl_set_has(s, mask):
    return (s & mask) != 0


def _pl_set_count(s):
    import polars as pl

    return s.bitwise_count_ones().cast(pl.Int64)


SET_FUNCTIONS: dict[str, Function] = {
    "set_has": Function(
        Signature("set_has", ("any", "int"), "bool", doc="a set holds a value"),
        _set_has,
        _pl_set_has,
    ),
    "set_count": Function(
        Signature("set_count", ("any",), "int", doc="how many values a set holds"),
        _set_count,
        _pl_set_count,
    ),
}


def lookup(functions: dict[str, Function], name: str) -> Function:
    """The function a checked call names: the model's table, else a set
    operation the checker lowered."""
    fn = functions.get(name)
    return fn if fn is not None else SET_FUNCTIONS[name]
