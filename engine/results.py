"""Evaluation results: one community's result (pydantic, stable JSON form),
built from the interpreter's compact `RawResult`, with reasons and the gap to
the next grade; and the flat row form used for tables of many communities.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing

RESULT_SCHEMA_VERSION = 1


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorResult(_Result):
    id: str
    label: str | None = None
    dimension: str | None = None
    value: Any = None  # null when missing
    points: float
    max_points: float
    bonus: bool = False
    outcome: ir.Outcome
    reason: str


class VetoResult(_Result):
    id: str
    label: str | None = None
    dimension: str | None = None
    triggered: bool | None  # None: its condition could not be evaluated
    effect: str
    grade: str
    reason: str


class DimensionResult(_Result):
    id: str
    label: str | None = None
    parent: str | None = None
    depth: int = 0
    score: float
    max_points: float
    share: float | None  # None when nothing in it could be scored
    missing: int = 0  # indicators with missing values inside it


class GapItem(_Result):
    """One way towards the next grade."""

    kind: str  # "veto" | "condition" | "indicator" | "change" (one input changed)
    id: str | None = None  # the veto, indicator or (for "change") input
    label: str | None = None
    current: Any = None
    needed: Any = None
    points_available: float | None = None
    text: str
    indicators: list[str] = Field(default_factory=list)  # "change": indicators it moves


class Gap(_Result):
    next_grade: str
    items: list[GapItem] = Field(default_factory=list)


class CommunityResult(_Result):
    schema_version: int = RESULT_SCHEMA_VERSION
    model: str
    model_version: str | None = None
    community_id: str | None = None
    community: str | None = None
    district: str | None = None
    street: str | None = None
    total: float
    max_total: float
    share: float
    grade: str | None
    vetoes_triggered: list[str] = Field(default_factory=list)
    missing_count: int = 0
    dimensions: list[DimensionResult] = Field(default_factory=list)
    indicators: list[IndicatorResult] = Field(default_factory=list)
    vetoes: list[VetoResult] = Field(default_factory=list)
    gap: Gap | None = None
    trace: dict[str, Any] = Field(default_factory=dict)  # inputs and definitions
    missing_reasons: dict[str, str] = Field(default_factory=dict)


def jsonable(v: Any) -> Any:
    if v.__class__ is Missing or v is None:
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 12)
    return v


def fmt_value(v: Any, type_name: str | None = None) -> str:
    """A value as staff read it: 95.5%, 是/否, 12, 3.25."""
    if v.__class__ is Missing or v is None:
        return _("missing")
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if type_name == "percent" and isinstance(v, (int, float)):
        return f"{v * 100:.4g}%"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.4g}" if abs(v) < 1e6 else f"{v:.0f}"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def fmt_points(p: float) -> str:
    return f"{p:.2f}".rstrip("0").rstrip(".") if p != int(p) else str(int(p))


def _reason(ind: ir.Indicator, value: Any, points: float, outcome: str) -> str:
    s = ind.scoring
    vt = s.value.type
    shown = fmt_value(value, vt)
    expr = s.value.text or ind.id
    if outcome == "missing":
        reason = value.text() if isinstance(value, Missing) else _("no value")
        return _("missing: {reason}").format(reason=reason)
    if s.form in ("pass", "bonus_when"):
        if outcome == "pass":
            return _("{expr} holds").format(expr=expr)
        return _("{expr} does not hold").format(expr=expr)
    if s.form == "linear":
        lo = s.low.text if s.low is not None else ""
        hi = s.high.text if s.high is not None else ""
        return _("{expr} = {value}; 0 points at {lo}, full at {hi}").format(
            expr=expr, value=shown, lo=lo, hi=hi
        )
    if s.form == "tiers":
        for t in s.tiers:
            if t.points == points and t.op is not None:
                return _("{expr} = {value} {op} {threshold} → {points} points").format(
                    expr=expr,
                    value=shown,
                    op=t.op,
                    threshold=t.threshold.text,
                    points=fmt_points(points),
                )
        return _("{expr} = {value}: no tier reached → {points} points").format(
            expr=expr, value=shown, points=fmt_points(points)
        )
    if s.form == "deduct":
        return _("{expr} = {value}; {per} deducted per occurrence → {points} of {full}").format(
            expr=expr,
            value=shown,
            per=fmt_points(s.per),
            points=fmt_points(points),
            full=fmt_points(ind.points),
        )
    if s.form == "bonus_per":
        return _("{expr} = {value}; {per} bonus per occurrence → {points}").format(
            expr=expr, value=shown, per=fmt_points(s.per), points=fmt_points(points)
        )
    return ""


def build_result(raw, search: bool = False) -> CommunityResult:
    """RawResult → CommunityResult (reasons, dimensions, vetoes, gap). With
    `search`, the gap also lists the smallest single-input changes that
    reach the next grade (`zhili.engine.gap`; a few ms per community)."""
    compiled = raw.compiled
    model: ir.Model = compiled.model
    meta = raw.meta or {}
    indicators = []
    dim_missing = {d.id: 0 for d in model.dimensions}
    parents = {d.id: d.parent for d in model.dimensions}
    for i, ind in enumerate(model.indicators):
        outcome = raw.outcomes[i]
        if outcome == "missing":
            d = ind.dimension
            while d is not None:
                dim_missing[d] += 1
                d = parents[d]
        indicators.append(
            IndicatorResult(
                id=ind.id,
                label=ind.label,
                dimension=ind.dimension,
                value=jsonable(raw.values[i]),
                points=round(raw.points[i], 9),
                max_points=ind.points,
                bonus=ind.is_bonus,
                outcome=outcome,
                reason=_reason(ind, raw.values[i], raw.points[i], outcome),
            )
        )
    dims = []
    for i, d in enumerate(model.dimensions):
        share = raw.dim_scores[i] / d.points if d.points and raw.dim_max[i] > 0 else None
        dims.append(
            DimensionResult(
                id=d.id,
                label=d.label,
                parent=d.parent,
                depth=d.depth,
                score=round(raw.dim_scores[i], 9),
                max_points=d.points,
                share=None if share is None else round(share, 12),
                missing=dim_missing[d.id],
            )
        )
    vetoes = []
    for j, v in enumerate(model.vetoes):
        t = raw.vetoes[j]
        if t.__class__ is Missing:
            triggered, reason = None, _("missing: {reason}").format(reason=t.text())
        elif t:
            triggered, reason = (
                True,
                _("{expr} holds: veto triggered").format(expr=v.condition.text),
            )
        else:
            triggered, reason = False, _("{expr} does not hold").format(expr=v.condition.text)
        vetoes.append(
            VetoResult(
                id=v.id,
                label=v.label,
                dimension=v.dimension,
                triggered=triggered,
                effect=v.effect,
                grade=v.grade,
                reason=reason,
            )
        )
    trace = {k: jsonable(val) for k, val in raw.env.items()}
    missing_reasons = {k: val.text() for k, val in raw.env.items() if val.__class__ is Missing}
    return CommunityResult(
        model=model.id,
        model_version=model.version,
        community_id=_s(meta.get("community_id")),
        community=_s(meta.get("community")),
        district=_s(meta.get("district")),
        street=_s(meta.get("street")),
        total=round(raw.total, 9),
        max_total=model.total,
        share=round(raw.total / model.total, 12) if model.total else 0.0,
        grade=raw.grade,
        vetoes_triggered=raw.vetoed,
        missing_count=raw.missing_count,
        dimensions=dims,
        indicators=indicators,
        vetoes=vetoes,
        gap=gap_to_next_grade(raw, search=search),
        trace=trace,
        missing_reasons=missing_reasons,
    )


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


# ---------------------------------------------------------------- gap analysis


def _conjuncts(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "and":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def gap_to_next_grade(raw, search: bool = False) -> Gap | None:
    """What stands between the community and the next better grade: vetoes
    that forbid it, the conditions of that grade that do not hold (with the
    current value and the threshold), and the indicators with the most points
    still to gain where a points condition falls short."""
    compiled = raw.compiled
    model: ir.Model = compiled.model
    if raw.grade_index == 0 or not model.grades:
        return None
    current = raw.grade_index if raw.grade_index is not None else len(model.grades)
    if current == 0:
        return None
    target_index = current - 1
    target = model.grades[target_index]
    items: list[GapItem] = []
    for j, v in enumerate(model.vetoes):
        if raw.vetoes[j] is not True:
            continue
        effect, pos = compiled.veto_effects[j]
        if (effect == "caps" and target_index < pos) or (
            effect == "blocks" and target_index == pos
        ):
            items.append(
                GapItem(
                    kind="veto",
                    id=v.id,
                    label=v.label,
                    text=_("veto {name} forbids {grade}").format(name=v.name, grade=target.name),
                )
            )
    if target.condition is not None:
        env = compiled.result_env(raw)
        short_dims: list[tuple[str, float]] = []
        short_total = 0.0
        for atom in _conjuncts(target.condition):
            value = compiled.fn(atom)(env)
            if value is True:
                continue
            item = GapItem(kind="condition", text=_("{cond} does not hold").format(cond=atom.text))
            if (
                isinstance(atom, ir.Binary)
                and atom.op in (">=", ">")
                and isinstance(atom.left, ir.Ref)
            ):
                cur = compiled.fn(atom.left)(env)
                need = compiled.fn(atom.right)(env)
                if cur.__class__ is not Missing and need.__class__ is not Missing:
                    item = GapItem(
                        kind="condition",
                        id=atom.left.name,
                        current=jsonable(cur),
                        needed=jsonable(need),
                        text=_("{name} is {current}, needs {op} {needed}").format(
                            name=atom.left.text,
                            current=fmt_value(cur, atom.left.type),
                            op=atom.op,
                            needed=fmt_value(need, atom.right.type),
                        ),
                    )
                    name = atom.left.name
                    if name == "total":
                        short_total = max(short_total, need - cur)
                    elif name == "share":
                        short_total = max(short_total, (need - cur) * model.total)
                    elif name == "min_dimension":
                        for d in model.top_dimensions:
                            share = env.get(d.id)
                            if share.__class__ is not Missing and share < need:
                                short_dims.append((d.id, (need - share) * d.points))
                    elif model.dimension(name) is not None:
                        short_dims.append((name, (need - cur) * model.dimension(name).points))
            elif (
                isinstance(atom, ir.Unary) and atom.op == "not" and isinstance(atom.operand, ir.Ref)
            ):
                if atom.operand.name == "vetoed":
                    item = GapItem(kind="condition", id="vetoed", text=_("a veto is triggered"))
            items.append(item)
        for dim_id, need_points in short_dims:
            items.extend(_best_indicators(raw, dim_id, need_points))
        if short_total > 0:
            items.extend(_best_indicators(raw, None, short_total))
    if search:
        from zhili.engine.gap import smallest_changes

        items = smallest_changes(raw) + items
    return Gap(next_grade=target.name, items=items)


def _under(model: ir.Model, ind: ir.Indicator, dim_id: str | None) -> bool:
    if dim_id is None:
        return True
    d = ind.dimension
    parents = {x.id: x.parent for x in model.dimensions}
    while d is not None:
        if d == dim_id:
            return True
        d = parents[d]
    return False


def _best_indicators(raw, dim_id: str | None, need_points: float, limit: int = 5) -> list[GapItem]:
    model: ir.Model = raw.compiled.model
    cands = []
    for i, ind in enumerate(model.indicators):
        if ind.is_bonus or not _under(model, ind, dim_id):
            continue
        room = ind.points - raw.points[i]
        if room > 1e-9:
            cands.append((room, i, ind))
    cands.sort(key=lambda c: (-c[0], c[1]))
    out = []
    where = model.dimension(dim_id).name if dim_id else _("the total")
    for room, i, ind in cands[:limit]:
        out.append(
            GapItem(
                kind="indicator",
                id=ind.id,
                label=ind.label,
                current=round(raw.points[i], 9),
                needed=ind.points,
                points_available=round(room, 9),
                text=(
                    _("{name}: no data; up to {points} points if supplied ({where} needs {need})")
                    if raw.outcomes[i] == "missing"
                    else _("{name}: {points} more points possible ({where} needs {need})")
                ).format(
                    name=ind.name,
                    points=fmt_points(room),
                    where=where,
                    need=fmt_points(need_points),
                ),
            )
        )
    return out
