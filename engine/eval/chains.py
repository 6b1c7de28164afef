"""Chains of products and quotients, computed with their division last
(docs/language.md, "Numbers": "Proportions").

Every arithmetic result is snapped to 9 places, so `x / y * 30` rounded the
quotient 300 / 450 = 0.666666667 before the product that would have made it
whole again: 20.00000001 where the scoring sheet (实际/标准 × 分值) prints 20.
Both backends therefore compile such a chain in one normal form, worked out
here once, as IR that they already know how to compute alike:

    N / d1 / d2 / … / dk

N is the product of the chain's numerator factors, in the order written
(snapped after each product, as any product; an int product exact), and the
d are its divisors: first those that may not be whole numbers, then the
integers (int-typed values and whole constants), each in the order written.
A quotient of few-place decimals whose exact value has at most 9 places is
then that decimal: N is exact, the first division is the correctly rounded
quotient snapped, and dividing by an integer later cannot need places the
final result does not have (a value of at most 9 places times an integer has
at most 9 places). The divisors are divided one by one, not multiplied into
one: their product is snapped like any product, and two small divisors
(0.00001 × 0.00001) would snap to 0 and make a value missing ("division by
zero") that the chain as written computes.

A chain is rewritten only where some product comes after a division
(`a / b * c`, `(a / b) * c`, `(a / b) * (c / d)`, `ratio(a, b) * 30`,
`per_10k(a, b) * 2`); `c * a / b`, `a / b / c` and a lone `ratio(a, b)` are
already in the form and are compiled as written. A divisor stays the factor
it is written as: `a / (b / c)` and `a / (b * c)` keep their divisor whole,
since c = 0, or a product b·c that snaps to 0, makes them missing.

A chain is rewritten only when N cannot overflow where the chain as written
would not: every numerator factor is bounded (`magnitude`: an input by the
data contract's 10^15, a constant by itself) and the partial products stay
below 2^126 for integers (no int product can be missing "overflow") and
10^300 for numbers. So a rewritten chain is missing when the written one is
(a missing factor, a zero divisor), with the same reason unless two causes
meet; the one exception is a divisor so small (an input below about
10^-278) that the written chain's first quotient overflowed, where a factor
of N below 1 (0 · 1/5e-324) now gives a number.

`linear Q from A to B` on P points, where Q is such a quotient N / d (also a
`ratio`, a `per_10k`, or a definition whose expression is one: the
indicator's value is the definition, the points are the sheet's arithmetic
on the same figures), earns the partial points P·(N/d − A)/(B − A) computed
from the figures with one rounding at the end (`LinearQuotient`), instead
of from the rounded Q. The outcome still comes from Q as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from zhili.dsl import model as ir

INPUT_LIMIT = 1e15
"""No input reaches this magnitude: the data contract (engine/io/data.py
refuses 10^15 and more, as "too large")."""
INT_PRODUCT_LIMIT = 2.0**126  # an int product below it is never missing ("overflow")
NUMBER_PRODUCT_LIMIT = 1e300  # a float product below it is finite
INF = float("inf")

_SAME_AS_ARGS = ("min", "max", "clamp", "abs", "coalesce", "default")


def magnitude(e: ir.Expr) -> float:
    """A bound on |e| from its shape alone (no model needed, so both backends
    decide alike): an input by the data contract, a constant by itself;
    a definition, a result or a quotient is unbounded here."""
    match e:
        case ir.Const():
            v = e.value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return abs(float(v))
            return INF
        case ir.Ref():
            return INPUT_LIMIT if e.scope == "input" else INF
        case ir.Unary():
            return magnitude(e.operand)
        case ir.Binary() if e.op in ("+", "-"):
            return magnitude(e.left) + magnitude(e.right)
        case ir.Binary() if e.op == "*":
            a, b = magnitude(e.left), magnitude(e.right)
            return INF if INF in (a, b) else a * b
        case ir.Cond():
            return max(magnitude(e.then), magnitude(e.orelse))
        case ir.Call() if e.func in _SAME_AS_ARGS:
            return max(magnitude(a) for a in e.args)
        case ir.Call() if e.func in ("round", "floor", "ceil"):
            return magnitude(e.args[0]) + 1.0
        case ir.Call() if e.func == "count":
            return float(len(e.args))
        case _:
            return INF


def _numeric(e: ir.Expr) -> bool:
    return e.type in ("int", "number", "percent")


class Chain:
    """A chain flattened: numerator factors and divisors, in written order."""

    __slots__ = ("num", "den")

    def __init__(self, num: list[ir.Expr], den: list[ir.Expr]):
        self.num = num
        self.den = den


def _is_division(e: ir.Expr, builtin) -> bool:
    if isinstance(e, ir.Binary):
        return e.op == "/"
    return isinstance(e, ir.Call) and e.func in ("ratio", "per_10k") and builtin(e.func)


def _operands(e: ir.Expr) -> tuple[ir.Expr, ir.Expr]:
    """Numerator and divisor of a division node (`/`, `ratio`, `per_10k`)."""
    if isinstance(e, ir.Binary):
        return e.left, e.right
    return e.args[0], e.args[1]


def flatten(e: ir.Expr, builtin, lets: dict[str, ir.Expr] | None = None) -> Chain:
    """`e` as numerator factors and divisors. Products and divisions of
    numbers are opened (`per_10k(a, b)` is a · 10000 / b), a divisor is
    one factor as written; with `lets`, a definition whose expression has a
    division in its chain is opened too. Anything else is a factor."""
    if _numeric(e) and e.type != "int":
        if isinstance(e, ir.Binary) and e.op == "*":
            a, b = flatten(e.left, builtin, lets), flatten(e.right, builtin, lets)
            return Chain(a.num + b.num, a.den + b.den)
        if _is_division(e, builtin):
            left, right = _operands(e)
            a = flatten(left, builtin, lets)
            num = list(a.num)
            if isinstance(e, ir.Call) and e.func == "per_10k":
                num.append(ir.Const(value=10000.0, type="number", text="10000"))
            # the divisor as written, one factor: `b / c` or `b * c` opened would
            # not be missing where c is 0 or b·c snaps to 0, as the written one is
            return Chain(num, [*a.den, right])
        if lets is not None and isinstance(e, ir.Ref) and e.scope == "let" and e.name in lets:
            inner = flatten(lets[e.name], builtin, lets)
            if inner.den:
                return inner
    return Chain([e], [])


def _product_only(e: ir.Expr, builtin) -> bool:
    """No division in `e`'s chain (its products opened)."""
    return not flatten(e, builtin).den


def is_normal(e: ir.Expr, builtin) -> bool:
    """`e` is already products first, then divisions one by one."""
    if _is_division(e, builtin) and _numeric(e):
        left, _ = _operands(e)
        if isinstance(e, ir.Call) and e.func == "per_10k":
            return _product_only(left, builtin)
        return is_normal(left, builtin)
    return _product_only(e, builtin)


def _whole(e: ir.Expr) -> bool:
    if e.type == "int":
        return True
    return (
        isinstance(e, ir.Const)
        and isinstance(e.value, (int, float))
        and not isinstance(e.value, bool)
        and float(e.value).is_integer()
    )


def _product(factors: list[ir.Expr], text: str) -> ir.Expr | None:
    """The product of `factors` left to right as IR, or None when a partial
    product may overflow (see the module docstring)."""
    acc, bound = factors[0], magnitude(factors[0])
    for f in factors[1:]:
        bound *= magnitude(f)
        typ = "int" if acc.type == "int" and f.type == "int" else "number"
        limit = INT_PRODUCT_LIMIT if typ == "int" else NUMBER_PRODUCT_LIMIT
        if not bound < limit:
            return None
        acc = ir.Binary(op="*", left=acc, right=f, type=typ, text=text)
    return acc


def _divide(acc: ir.Expr, divisors: list[ir.Expr], typ: str, text: str, span) -> ir.Expr:
    ordered = [d for d in divisors if not _whole(d)] + [d for d in divisors if _whole(d)]
    for k, d in enumerate(ordered):
        last = k == len(ordered) - 1
        acc = ir.Binary(
            op="/",
            left=acc,
            right=d,
            type=typ if last else "number",
            text=text,
            span=span if last else None,
        )
    return acc


def normal_form(e: ir.Expr, builtin) -> ir.Expr | None:
    """The normal form of the chain rooted at `e` (see the module docstring),
    or None where `e` is compiled as written: not a chain with a product
    after a division, or one whose products could overflow. `builtin(name)`
    says whether `ratio`/`per_10k` are the built-in functions."""
    if not (isinstance(e, (ir.Binary, ir.Call)) and _numeric(e) and e.type != "int"):
        return None
    if isinstance(e, ir.Binary) and e.op not in ("*", "/"):
        return None
    if isinstance(e, ir.Call) and not _is_division(e, builtin):
        return None
    if is_normal(e, builtin):
        return None
    chain = flatten(e, builtin)
    n = _product(chain.num, e.text)
    if n is None:
        return None
    return _divide(n, chain.den, e.type, e.text, e.span)


def _decimal(v) -> Decimal:
    return Decimal(repr(float(v)))


@dataclass(frozen=True)
class LinearQuotient:
    """The partial points of `linear N/d1/…/dk from A to B` on P points, as
    both backends compute them, one rounding at the end:

        x = n1 · n2 · … (the numerator factors as doubles, left to right)
        x = x / d1 / … / dk (a constant divisor: times its reciprocal)
        points = snap((x − A) · k), k = P / (B − A), within 0 … P

    Every operation is one IEEE operation in both backends, so they agree to
    the bit; the figures are not rounded on the way, so a result that is a
    decimal of at most 9 places (30 · (2/3 − 1/2) / (1/2) = 10) comes out
    as it."""

    num: tuple[ir.Expr, ...]
    den: tuple[ir.Expr, ...]
    low: float
    k: float


class LinearPoints:
    """The partial points of `linear` forms whose value is a quotient (see
    the module docstring), for one model: `of(s, full)`."""

    def __init__(self, model: ir.Model, builtin):
        self._lets = {d.id: d.expr for d in model.lets}
        self._builtin = builtin

    def of(self, s: ir.Linear, full: float) -> LinearQuotient | None:
        """The `LinearQuotient` of `linear N/d from A to B` on `full` points
        with constant A != B, or None: the form computes its points as
        before (bounds that are not constants, a value that is not a
        quotient, a numerator that could overflow)."""
        lo, hi = s.low, s.high
        if not (_number_const(lo) and _number_const(hi)) or lo.value == hi.value:
            return None
        chain = flatten(s.value, self._builtin, self._lets)
        if not chain.den:
            return None
        bound = 1.0
        for f in chain.num:
            bound *= magnitude(f)
        if not bound < NUMBER_PRODUCT_LIMIT:
            return None
        span = float(_decimal(hi.value) - _decimal(lo.value))
        return LinearQuotient(tuple(chain.num), tuple(chain.den), float(lo.value), full / span)


def _number_const(e: ir.Expr) -> bool:
    return (
        isinstance(e, ir.Const)
        and isinstance(e.value, (int, float))
        and not isinstance(e.value, bool)
    )
