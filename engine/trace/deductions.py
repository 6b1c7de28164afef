"""Deductions (扣分) in words: what each cause of a `Deductions` form took,
for the reason line of results, `zhili explain` and the gap analysis.

The causes are recomputed with the interpreter's own closures
(`CompiledModel.causes`) on the community's environment, so the words say
what was scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing, snap
from zhili.engine.trace.model import fmt_points, fmt_value


@dataclass
class CauseRow:
    """One cause of a deduction for one community."""

    cause: ir.DeductCause
    label: str
    value: Any
    unit: str | None
    steps: Any  # the count or whole steps charged; None for `when` / `tiers`
    deducted: Any  # points, after the cause's own cap; a Missing when unknown
    # a step cause's threshold when it is computed (`below 应配网格员`): its
    # value for this community, shown beside its name; None for a constant
    threshold: Any = None


def cause_label(c: ir.DeductCause, model: ir.Model) -> str:
    """The cause's label; the input's (or definition's) label when omitted."""
    if c.label:
        return c.label
    v = c.value
    if isinstance(v, ir.Ref):
        for f in (*model.inputs, *model.lets):
            if f.id == v.name:
                return f.label or f.id
    return v.text or v.kind


def _unit(c: ir.DeductCause, model: ir.Model) -> str | None:
    v = c.value
    if isinstance(v, ir.Ref) and v.scope == "input":
        f = next((f for f in model.inputs if f.id == v.name), None)
        return f.unit if f is not None else None
    return None


def cause_rows(ind: ir.Indicator, env: dict[str, Any], compiled) -> list[CauseRow]:
    s = ind.scoring
    assert isinstance(s, ir.Deductions)
    rows = []
    for c, fn in zip(s.causes, compiled.causes(s), strict=True):
        value, steps, deducted = fn(env)
        label = cause_label(c, compiled.model)
        row = CauseRow(c, label, value, _unit(c, compiled.model), steps, deducted)
        if c.threshold is not None and not isinstance(c.threshold, ir.Const):
            row.threshold = compiled.fn(c.threshold)(env)
        rows.append(row)
    return rows


def _threshold_text(row: CauseRow) -> str:
    """`95%`, or a computed threshold with its value: `应配网格员 (8)`."""
    c = row.cause
    if row.threshold is None:
        return c.threshold.text
    return f"{c.threshold.text} ({fmt_value(row.threshold, c.threshold.type)})"


def cause_text(row: CauseRow) -> str:
    """`−10: 重大恶性案件 1 × 10` / `扣10分：重大恶性案件 1 起（每起扣10分）`."""
    c = row.cause
    if isinstance(row.deducted, Missing):  # its data are missing: nothing can be said of it
        return _("{label}: cannot be decided ({reason})").format(
            label=row.label, reason=row.deducted.text()
        )
    d = fmt_points(row.deducted)
    shown = fmt_value(row.value, c.value.type)
    if c.kind == "per":
        if row.unit and not isinstance(row.value, Missing):
            shown = f"{shown} {row.unit}"
        return _("−{deducted}: {label} {count} × {amount}").format(
            deducted=d, label=row.label, count=shown, amount=fmt_points(c.amount)
        )
    if c.kind == "when":
        if row.value is True:
            return _("−{deducted}: {label}").format(deducted=d, label=row.label)
        return _("−{deducted}: {label} does not hold").format(deducted=d, label=row.label)
    if c.kind == "tiers":
        for t in c.tiers:
            if t.points == row.deducted:
                return _("−{deducted}: {label} {value} {op} {threshold}").format(
                    deducted=d, label=row.label, value=shown, op=t.op, threshold=t.threshold.text
                )
        return _("−{deducted}: {label} {value}, no tier holds").format(
            deducted=d, label=row.label, value=shown
        )
    steps = "?" if row.steps is None else fmt_points(row.steps)
    step = fmt_value(c.step, c.value.type)
    threshold = _threshold_text(row)
    if c.kind == "below":
        text = _("−{deducted}: {label} {value}, {steps} step(s) of {step} below {threshold}")
    else:
        text = _("−{deducted}: {label} {value}, {steps} step(s) of {step} above {threshold}")
    return text.format(
        deducted=d, label=row.label, value=shown, steps=steps, step=step, threshold=threshold
    )


def summary(ind: ir.Indicator, rows: list[CauseRow], points: float) -> str:
    """The reason line: the causes that deducted something, the cap, the points."""
    s = ind.scoring
    assert isinstance(s, ir.Deductions)
    taken = [r for r in rows if isinstance(r.deducted, (int, float)) and r.deducted > 0]
    parts = [cause_text(r) for r in taken] or [_("nothing deducted")]
    cap = s.cap if s.cap is not None else ind.points
    total = sum(r.deducted for r in taken)
    if s.cap is not None or total > cap:
        parts.append(_("at most {cap} deducted").format(cap=fmt_points(cap)))
    text = _("; ").join(parts)
    return _("{causes} → {points} of {full}").format(
        causes=text, points=fmt_points(points), full=fmt_points(ind.points)
    )


def penalty_summary(ind: ir.Indicator, rows: list[CauseRow], points: float, where: str) -> str:
    """The reason line of a penalty (减分) item: the causes that took
    something, its own cap, and what it takes from its parent's score."""
    s = ind.scoring
    assert isinstance(s, ir.Penalty)
    taken = [r for r in rows if isinstance(r.deducted, (int, float)) and r.deducted > 0]
    if not taken:
        return _("nothing deducted")
    parts = [cause_text(r) for r in taken]
    if s.cap is not None:
        parts.append(_("at most {cap} deducted").format(cap=fmt_points(s.cap)))
    text = _("; ").join(parts)
    return _("{causes} → {points} taken from {where}").format(
        causes=text, points=fmt_points(-points), where=where
    )


def detail_lines(rows: list[CauseRow]) -> list[str]:
    """Every cause, the ones that deducted nothing too (for `zhili explain`)."""
    return [cause_text(r) for r in rows]


def cause_needs(rows: list[CauseRow]) -> list[str]:
    """For every cause that deducted something, what would take its
    deduction away (gap analysis): fewer occurrences, more (or less) value,
    the event not happening, no tier holding."""
    out = []
    for r in rows:
        if not isinstance(r.deducted, (int, float)) or r.deducted <= 0:
            continue
        c = r.cause
        t = c.value.type
        shown = fmt_value(r.value, t)
        d = fmt_points(r.deducted)
        if c.kind == "per":
            out.append(
                _("{label} {count} → 0 (regains {points})").format(
                    label=r.label, count=shown, points=d
                )
            )
        elif c.kind == "when":
            out.append(
                _("{label} must not hold (regains {points})").format(label=r.label, points=d)
            )
        elif c.kind == "tiers":
            last = c.tiers[-1]
            out.append(
                _(
                    "{label} {value}: no tier may hold, the last is {op} {threshold} (regains {points})"
                ).format(
                    label=r.label, value=shown, op=last.op, threshold=last.threshold.text, points=d
                )
            )
        else:
            out.append(_step_need(r, shown, d))
    return out


def _step_need(r: CauseRow, shown: str, d: str) -> str:
    c = r.cause
    limit = _threshold_text(r)
    known = r.threshold if isinstance(r.threshold, (int, float)) else None
    if isinstance(c.threshold, ir.Const) and isinstance(c.threshold.value, (int, float)):
        known = c.threshold.value
    if known is not None and not isinstance(known, bool):
        limit = fmt_value(known, c.value.type)
    if not c.part:
        # whole steps: a shortfall (excess) under one step costs nothing
        sign = -1.0 if c.kind == "below" else 1.0
        if known is not None and not isinstance(known, bool):
            limit = fmt_value(snap(known + sign * c.step), c.value.type)
        else:
            step = fmt_value(c.step, c.value.type)
            limit = f"{limit} {'−' if sign < 0 else '+'} {step}"
    if c.kind == "below":
        if c.part:
            text = _("{label} {value}: needs at least {limit} (regains {points})")
        else:
            text = _("{label} {value}: needs more than {limit} (regains {points})")
    elif c.part:
        text = _("{label} {value}: needs at most {limit} (regains {points})")
    else:
        text = _("{label} {value}: needs less than {limit} (regains {points})")
    return text.format(label=r.label, value=shown, limit=limit, points=d)


def taken_from(model: ir.Model, ind: ir.Indicator) -> str:
    """Whose score a penalty item takes from: the nearest enclosing
    dimension with points (a section of 0 points passes it on), else the
    total."""
    dims = {d.id: d for d in model.dimensions}
    d = dims.get(ind.dimension) if ind.dimension else None
    while d is not None and d.points <= 0:
        d = dims.get(d.parent) if d.parent else None
    return _("the total") if d is None else d.name
