"""Static bounds on the magnitude of a model's numbers, for the vectorized
backend's choice of snapping (docs/language.md, "Numbers").

Snapping a value below 2^22 in magnitude is one Polars operation
(`pl_snap_small`); the form exact at every magnitude (`pl_snap`) costs about
three times as much. Both give the same bits where the value is below that,
so the backend uses the short one wherever a bound proves it:

- `Bounds.of(e)`: a bound on |e| from its shape: a constant is its own
  bound, `count` its number of terms, an input its declared `range` (the
  data contract, docs/data.md: a value outside it is a data problem and
  missing, as the backend already relies on no input reaching 10^15 for its
  integer types); an input without a range, and anything divided by a
  number that may be tiny, is unbounded. (Checking each frame's columns
  against the ranges instead cost more than the exact form saves.)
- `points_bound(model)`: a bound on every indicator's points, dimension
  score, bonus and total: the sum of every points figure the model declares.
"""

from __future__ import annotations

import math

from zhili.dsl import model as ir

INF = math.inf
_SAME_AS_ARGS = ("min", "max", "clamp", "abs", "coalesce", "default")


def _mul(a: float, b: float) -> float:
    return INF if INF in (a, b) else a * b


class Bounds:
    """`of(e)`: an upper bound on |e| for a model's expressions (see the
    module's docstring)."""

    def __init__(self, model: ir.Model):
        self._inputs = {f.id: f for f in model.inputs}
        self._lets = {d.id: d for d in model.lets}
        self._let_bounds: dict[str, float] = {}

    def of(self, e: ir.Expr) -> float:
        match e:
            case ir.Const():
                v = e.value
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    return abs(float(v))
                return INF
            case ir.Ref():
                return self._ref(e)
            case ir.Unary():
                return self.of(e.operand)
            case ir.Binary():
                return self._binary(e)
            case ir.Cond():
                return max(self.of(e.then), self.of(e.orelse))
            case ir.Call():
                return self._call(e)
            case _:
                return INF

    def _ref(self, e: ir.Ref) -> float:
        if e.scope == "input":
            f = self._inputs.get(e.name)
            if f is None or f.min is None or f.max is None:
                return INF
            return max(abs(float(f.min)), abs(float(f.max))) + 1.0  # (readers allow 1e-12)
        if e.scope == "let" and e.name in self._lets:
            if e.name not in self._let_bounds:
                self._let_bounds[e.name] = INF  # (no cycles: checked)
                self._let_bounds[e.name] = self.of(self._lets[e.name].expr)
            return self._let_bounds[e.name]
        return INF

    def _binary(self, e: ir.Binary) -> float:
        if e.op in ("+", "-"):
            return self.of(e.left) + self.of(e.right)
        if e.op == "*":
            return _mul(self.of(e.left), self.of(e.right))
        if e.op == "/":
            return self._quotient(self.of(e.left), e.right)
        return INF

    def _quotient(self, numerator: float, divisor: ir.Expr) -> float:
        """|a / b|: at most |a| / |b| for a nonzero constant b, at most |a|
        for an int b (a nonzero int is at least 1; by 0 it is not finite,
        and missing either way)."""
        if isinstance(divisor, ir.Const) and isinstance(divisor.value, (int, float)):
            return numerator / abs(divisor.value) if divisor.value else INF
        return numerator if divisor.type == "int" else INF

    def _call(self, e: ir.Call) -> float:
        if e.func in _SAME_AS_ARGS:
            return max(self.of(a) for a in e.args)
        if e.func in ("round", "floor", "ceil"):
            return self.of(e.args[0]) + 1.0
        if e.func == "count":
            return float(max(len(e.args), 64))
        if e.func == "ratio":
            return self._quotient(self.of(e.args[0]), e.args[1])
        if e.func == "per_10k":
            return self._quotient(_mul(self.of(e.args[0]), 10000.0), e.args[1])
        return INF


def points_bound(model: ir.Model) -> float:
    """A bound on every indicator's points, bonus, dimension score and the
    total: the sum of every points figure (indicators' points and caps,
    dimensions' points, the model's total), each of which bounds its part."""
    total = abs(float(model.total or 0))
    bounds = None
    for ind in model.indicators:
        total += abs(float(ind.points))
        cap = getattr(ind.scoring, "cap", None)
        if isinstance(cap, (int, float)):
            total += abs(float(cap))
        elif isinstance(ind.scoring, ir.Penalty):  # no cap: what its causes can take
            bounds = bounds or Bounds(model)
            total += penalty_bound(ind.scoring, bounds)
    for d in model.dimensions:
        if d.cap is not None:
            total += abs(float(d.cap))
    for d in model.dimensions:
        total += abs(float(d.points or 0))
    return total


def penalty_bound(s: ir.Penalty, bounds: Bounds) -> float:
    """A bound on what a `penalty` without a cap of its own can take: the
    sum of its causes' bounds (their own `max`, else the amount times the
    count's bound, or the steps the value's and threshold's bounds allow)."""
    total = 0.0
    for c in s.causes:
        if c.kind == "when":
            total += abs(c.amount)
        elif c.kind == "tiers":
            total += max([abs(t.points) for t in c.tiers] + [abs(c.else_points)])
        elif c.cap is not None:
            total += abs(float(c.cap))
        elif c.kind == "per":
            total += _mul(abs(c.amount), bounds.of(c.value))
        else:
            span = bounds.of(c.value) + bounds.of(c.threshold)
            total += _mul(abs(c.amount), span / abs(c.step or 1.0) + 1.0)
    return total
