"""Static analysis of a checked model (warnings a compiler would give).

Runs on the typed model IR after checking, using the inputs' declared ranges:

- `threshold-out-of-range`: a comparison, tier or linear bound whose constant
  lies outside the compared input's declared `range`;
- `grade-shadowed`: a grade whose condition implies an earlier grade's, so
  every community that meets it gets the earlier grade;
- `grade-unreachable`: a grade whose `total`/`share` bar is above the maximum;
- `veto-never-triggers`: a veto whose condition the input's range rules out;
- `indicator-constant`: an indicator whose outcome is the same for every
  community (no input involved, a condition the range decides, or tiers that
  all give the same points);
- `precision-past-total`: with `precision N`, the full points of a
  dimension's (or the model's) parts, each published to N places, add up to
  more than its points: 3.335 + 3.335 + 3.33 publish as 3.34 + 3.34 + 3.33 =
  10.01 of 10. (Checked on the declared points, the most each part can
  publish; the total itself is not capped.)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import assert_never

from zhili.dsl import messages as m
from zhili.dsl import model as ir
from zhili.dsl.ast import Span
from zhili.dsl.diagnostics import Diagnostic
from zhili.dsl.i18n import _

_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_ORDER = (">", ">=", "<", "<=")


def _span(s: ir.SrcSpan | None) -> Span | None:
    return s


def _num(x: float, percent: bool) -> str:
    if percent:
        v = round(x * 100, 6)
        return (str(int(v)) if float(v).is_integer() else f"{v:g}") + "%"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _const(e) -> float | None:
    if (
        isinstance(e, ir.Const)
        and isinstance(e.value, (int, float))
        and not isinstance(e.value, bool)
    ):
        return float(e.value)
    if isinstance(e, ir.Unary) and e.op == "-":
        v = _const(e.operand)
        return -v if v is not None else None
    return None


def _compare(e) -> tuple[ir.Ref, str, float] | None:
    """`input OP constant` (either way round), normalised to input first."""
    if not isinstance(e, ir.Binary) or e.op not in (*_ORDER, "==", "!="):
        return None
    if isinstance(e.left, ir.Ref) and _const(e.right) is not None:
        return e.left, e.op, _const(e.right)
    if isinstance(e.right, ir.Ref) and _const(e.left) is not None:
        return e.right, _FLIP[e.op], _const(e.left)
    return None


def _decided(op: str, c: float, lo: float | None, hi: float | None) -> bool | None:
    """True/False when `x OP c` holds for every / no x in [lo, hi]; else None."""
    lo = float("-inf") if lo is None else lo
    hi = float("inf") if hi is None else hi
    if op == ">":
        return True if lo > c else False if hi <= c else None
    if op == ">=":
        return True if lo >= c else False if hi < c else None
    if op == "<":
        return True if hi < c else False if lo >= c else None
    if op == "<=":
        return True if hi <= c else False if lo > c else None
    if op == "==":
        return False if (c < lo or c > hi) else (True if lo == hi == c else None)
    if op == "!=":
        return True if (c < lo or c > hi) else None
    return None


class _Analysis:
    def __init__(self, model: ir.Model, main: str | None):
        self.model = model
        self.main = main
        self.inputs = {f.id: f for f in model.inputs}
        self.out: list[Diagnostic] = []
        self.reported: set[tuple[int, int]] = set()

    def add(self, d: Diagnostic | None) -> None:
        if d is None or d.span is None:
            return
        if self.main is not None and d.span.file != self.main:
            return  # the other file's business
        self.out.append(d)

    def ranged(self, ref) -> ir.InputField | None:
        if not isinstance(ref, ir.Ref) or ref.scope != "input":
            return None
        f = self.inputs.get(ref.name)
        if (
            f is None
            or (f.min is None and f.max is None)
            or f.type not in ("int", "number", "percent")
        ):
            return None
        return f

    def out_of_range(self, f: ir.InputField, c: float, node) -> None:
        span = _span(node.span)
        if span is None or (span.start, span.end) in self.reported:
            return
        if (f.min is not None and c < f.min) or (f.max is not None and c > f.max):
            self.reported.add((span.start, span.end))
            pct = f.type == "percent"
            lo = _num(f.min, pct) if f.min is not None else "-∞"
            hi = _num(f.max, pct) if f.max is not None else "∞"
            self.add(m.threshold_out_of_range(span, f.id, _num(c, pct), lo, hi))

    def comparisons(self, expr, skip=None) -> None:
        for node in ir.walk(expr):
            if node is skip:
                continue
            cmp = _compare(node)
            if cmp is None:
                continue
            f = self.ranged(cmp[0])
            if f is not None and cmp[1] in _ORDER:
                # `x >= 0` on a 0..N input is a plain presence test, not a threshold
                const_node = node.right if node.left is cmp[0] else node.left
                self.out_of_range(f, cmp[2], const_node)

    def decided(self, expr) -> tuple[bool, str] | None:
        cmp = _compare(expr)
        if cmp is None:
            return None
        f = self.ranged(cmp[0])
        if f is None:
            return None
        verdict = _decided(cmp[1], cmp[2], f.min, f.max)
        if verdict is None:
            return None
        pct = f.type == "percent"
        lo = _num(f.min, pct) if f.min is not None else "-∞"
        hi = _num(f.max, pct) if f.max is not None else "∞"
        return verdict, _("`{input}` lies in {lo}..{hi}").format(input=f.id, lo=lo, hi=hi)

    # ------------------------------------------------------------ parts
    def indicators(self) -> None:
        evented = self.evented()
        for cond in ir.event_exprs(self.model):
            self.comparisons(cond)
        for ind in self.model.indicators:
            s = ind.scoring
            span = _span(ind.span)
            exprs = s.exprs()
            if ind.id in evented:
                # a gate, zero event or exemption can change the outcome of a
                # constant form: only its thresholds are looked at
                for e in exprs:
                    self.comparisons(e)
                continue
            if not any(isinstance(n, ir.Ref) for e in exprs for n in ir.walk(e)):
                self.add(m.indicator_constant(span, ind.id, _("it uses no input")))
                continue
            match s:
                case ir.PassWhen() | ir.BonusWhen():
                    self.condition_scoring(ind.id, span, s.value)
                case ir.Tiers():
                    self.tiers_scoring(ind.id, span, s)
                case ir.Linear():
                    f = self.ranged(s.value)
                    if f is not None:
                        for bound in (s.low, s.high):
                            c = _const(bound)
                            if c is not None:
                                self.out_of_range(f, c, bound)
                    self.comparisons(s.value)
                case ir.Deduct() | ir.BonusPer() | ir.Score():
                    self.comparisons(s.value)
                case ir.Deductions():
                    for c in s.causes:
                        self.cause_thresholds(c)
                        self.comparisons(c.value)
                case _:
                    assert_never(s)

    def evented(self) -> set[str]:
        """The indicators with events around their form (前提、清零、免检)."""
        m = self.model
        zeroed = {d.id for d in m.dimensions if d.zero}
        parents = {d.id: d.parent for d in m.dimensions}
        out = {i for ex in m.exemptions for i in ex.indicators}
        for ind in m.indicators:
            d, seen = ind.dimension, set()
            while d is not None and d not in seen:
                seen.add(d)
                if d in zeroed:
                    out.add(ind.id)
                d = parents.get(d)
            if ind.requires is not None or ind.zero:
                out.add(ind.id)
        return out

    def cause_thresholds(self, c: ir.DeductCause) -> None:
        """A deduction's threshold (`below 120%`) or tier cut point outside
        its value's declared range."""
        f = self.ranged(c.value)
        if f is None:
            return
        for th in [c.threshold, *(t.threshold for t in c.tiers)]:
            v = _const(th) if th is not None else None
            if v is not None:
                self.out_of_range(f, v, th)

    def condition_scoring(self, ind_id: str, span, cond: ir.Expr) -> None:
        verdict = self.decided(cond)
        if verdict is None:
            self.comparisons(cond)
            return
        word = _("always holds") if verdict[0] else _("never holds")
        self.add(
            m.indicator_constant(
                span, ind_id, _("its condition {word}: {why}").format(word=word, why=verdict[1])
            )
        )
        self.comparisons(cond, skip=cond)

    def tiers_scoring(self, ind_id: str, span, s: ir.Tiers) -> None:
        f = self.ranged(s.value)
        if f is not None:
            for t in s.tiers:
                c = _const(t.threshold)
                if c is not None and t.op in _ORDER:
                    self.out_of_range(f, c, t.threshold)
        points = {t.points for t in s.tiers} | {s.else_points}
        if len(points) == 1:
            self.add(
                m.indicator_constant(
                    span,
                    ind_id,
                    _("every tier gives {points} points").format(points=_num(points.pop(), False)),
                )
            )
        self.comparisons(s.value)

    def precision(self) -> None:
        n = self.model.precision
        if n is None:
            return
        for span, where, declared, parts in _precision_groups(self.model):
            fine = [p for p in parts if _published(p.points, n) != Decimal(repr(float(p.points)))]
            published = sum((_published(p.points, n) for p in parts), Decimal(0))
            if not fine or published <= Decimal(repr(float(declared))):
                continue
            shown = " + ".join(_num(float(_published(p.points, n)), False) for p in parts)
            self.add(
                m.precision_past_total(
                    span or _span(fine[0].span),
                    where,
                    n,
                    shown,
                    _num(float(published), False),
                    _num(float(declared), False),
                )
            )

    def vetoes(self) -> None:
        for v in self.model.vetoes:
            verdict = self.decided(v.condition)
            if verdict is not None and verdict[0] is False:
                self.add(m.veto_never(_span(v.span), v.id, verdict[1]))
                continue
            self.comparisons(v.condition)

    def grades(self) -> None:
        total = self.model.total
        bars: list[tuple[str, str, float, ir.Grade]] = []  # (subject, op, value, grade)
        for g in self.model.grades:
            if g.condition is None:
                break  # grades after `otherwise` are reported by the checker
            span = _span(g.span)
            self.comparisons(g.condition)
            cmp = _compare(g.condition)
            if cmp is not None and cmp[0].scope == "result" and cmp[1] in (">=", ">"):
                subject, op, value = cmp[0].name, cmp[1], cmp[2]
                limit = {"total": total, "share": 1.0, "min_dimension": 1.0}.get(subject)
                if limit is None and self.model.dimension(subject) is not None:
                    limit = 1.0
                if limit is not None and (value > limit or (op == ">" and value >= limit)):
                    pct = subject != "total"
                    self.add(
                        m.grade_never(
                            span,
                            g.name,
                            _("`{subject}` is at most {limit}").format(
                                subject=subject, limit=_num(limit, pct)
                            ),
                        )
                    )
                    continue
                for earlier_subject, earlier_op, earlier_value, earlier in bars:
                    if earlier_subject != subject:
                        continue
                    # x >= b implies x >= a when b >= a (and `>` likewise)
                    if value > earlier_value or (
                        value == earlier_value and (earlier_op == ">=" or op == ">")
                    ):
                        self.add(m.grade_shadowed(span, g.name, earlier.name))
                        break
                bars.append((subject, op, value, g))
            else:
                text = g.condition.text
                for earlier in self.model.grades:
                    if earlier is g:
                        break
                    if earlier.condition is not None and text and earlier.condition.text == text:
                        self.add(m.grade_shadowed(span, g.name, earlier.name))
                        break


def _published(points: float, places: int) -> Decimal:
    """Declared points as `precision` publishes them (halves away from zero)."""
    return Decimal(repr(float(points))).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _precision_groups(model: ir.Model):
    """(span, name, declared points, parts' points) of every dimension and of
    the top level: the parts are the dimensions and indicators that are not
    bonus, whose points add up to the group's."""
    indicators = {i.id: i for i in model.indicators}
    dims = {d.id: d for d in model.dimensions}

    def parts(children):
        out = []
        for c in children:
            if c.kind == "indicator" and not indicators[c.id].is_bonus:
                out.append(indicators[c.id])
            elif c.kind == "dimension":
                out.append(dims[c.id])
        return out

    for d in model.dimensions:
        yield d.span, f"`{d.id}`", d.points, parts(d.children)
    yield None, _("the model"), model.total, parts(model.top)


def analyse(model: ir.Model, main: str | None = None) -> list[Diagnostic]:
    """Warnings about a checked model; only those located in `main` (when
    given) are returned."""
    a = _Analysis(model, main)
    a.indicators()
    a.vetoes()
    a.grades()
    a.precision()
    return a.out
