"""Evaluation results: one community's result (pydantic, stable JSON form),
built from the interpreter's compact `RawResult`, with reasons and the gap to
the next grade; and the flat row form used for tables of many communities.
"""

from __future__ import annotations

from typing import Any, assert_never

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing
from zhili.engine.trace import deductions
from zhili.engine.trace.events import decide, event_reason, undecided_note
from zhili.engine.trace.gap import gap_to_next_grade
from zhili.engine.trace.model import (  # noqa: F401 - re-exported
    NOT_SCORED_MARK,
    RESULT_SCHEMA_VERSION,
    CommunityResult,
    DimensionResult,
    Gap,
    GapItem,
    IndicatorResult,
    OutputResult,
    VetoResult,
    fmt_output,
    fmt_points,
    fmt_value,
    jsonable,
)


def _reason(ind: ir.Indicator, value: Any, points: float, outcome: str) -> str:
    s = ind.scoring
    shown = fmt_value(value, s.value.type)
    expr = s.value.text or ind.id
    if outcome == ir.Outcome.MISSING:
        reason = value.text() if isinstance(value, Missing) else _("no value")
        return _("missing: {reason}").format(reason=reason)
    match s:
        case ir.PassWhen() | ir.BonusWhen():
            if outcome == ir.Outcome.PASS:
                return _("{expr} holds").format(expr=expr)
            return _("{expr} does not hold").format(expr=expr)
        case ir.Linear():
            return _("{expr} = {value}; 0 points at {lo}, full at {hi}").format(
                expr=expr, value=shown, lo=s.low.text, hi=s.high.text
            )
        case ir.Tiers():
            return _tier_reason(s, expr, shown, points)
        case ir.Deduct():
            return _("{expr} = {value}; {per} deducted per occurrence → {points} of {full}").format(
                expr=expr,
                value=shown,
                per=fmt_points(s.per),
                points=fmt_points(points),
                full=fmt_points(ind.points),
            )
        case ir.BonusPer():
            return _("{expr} = {value}; {per} bonus per occurrence → {points}").format(
                expr=expr, value=shown, per=fmt_points(s.per), points=fmt_points(points)
            )
        case ir.Score():
            return score_reason(s, value, points, ind.points)
        case ir.Deductions():  # see `_deductions_reason`
            return _("{points} deducted").format(points=shown)
        case _:
            assert_never(s)


def _indicator_reason(raw, i: int, ind: ir.Indicator) -> str:
    """The reason of indicator i: the event that decided it (前提、清零、免检),
    else the scoring form's, with any exemption that could not be decided."""
    d = decide(raw.compiled, i, raw.env)
    reason = event_reason(d, ind, raw.env)
    if reason is None and isinstance(ind.scoring, ir.Deductions):
        reason = _deductions_reason(ind, raw, i, raw.outcomes[i])
    elif reason is None:
        reason = _reason(ind, raw.values[i], raw.points[i], raw.outcomes[i])
    return reason + undecided_note(d)


def score_reason(s: ir.Score, value: Any, points: float, full: float) -> str:
    """`score v by "机构"` in words: "scored by 区委组织部: 8 points (of 10)",
    and the value as given when it was clamped."""
    if s.by:
        reason = _("scored by {by}: {points} points (of {full})").format(
            by=s.by, points=fmt_points(points), full=fmt_points(full)
        )
    else:
        reason = _("score given: {points} points (of {full})").format(
            points=fmt_points(points), full=fmt_points(full)
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value != points:
        reason += _(" (given {value}, clamped to 0..{full})").format(
            value=fmt_value(value, s.value.type), full=fmt_points(full)
        )
    return reason


def _deductions_reason(ind: ir.Indicator, raw, i: int, outcome: str) -> str:
    """The reason of a `Deductions` indicator: what each cause took."""
    rows = deductions.cause_rows(ind, raw.env, raw.compiled)
    if outcome == ir.Outcome.MISSING:
        gone = [r for r in rows if isinstance(r.deducted, Missing)]
        why = gone[0].deducted.text() if gone else _("no value")
        return _("missing: {reason}").format(reason=why)
    if isinstance(ind.scoring, ir.Penalty):
        where = deductions.taken_from(raw.compiled.model, ind)
        return deductions.penalty_summary(ind, rows, raw.points[i], where)
    return deductions.summary(ind, rows, raw.points[i])


def _section_earned(raw, d: ir.Dimension) -> float | None:
    """What a capped section's items (and sub-sections) earned — or took,
    negative — before its `max C` held them; None for any other dimension."""
    if d.cap is None:
        return None
    compiled = raw.compiled
    total = 0.0
    for c in d.children:
        if c.kind == "indicator":
            total += raw.points[compiled.ind_index[c.id]]
        elif c.kind == "dimension":
            score = raw.dim_scores[compiled.dim_index[c.id]]
            total += score or 0.0
    return round(total, 9)


def _tier_reason(s: ir.Tiers, expr: str, shown: str, points: float) -> str:
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


def build_result(raw, search: bool = False) -> CommunityResult:
    """RawResult → CommunityResult (reasons, dimensions, vetoes, gap). With
    `search`, the gap also lists the smallest single-input changes that
    reach the next grade (`zhili.engine.trace.gap`; a few ms per community)."""
    compiled = raw.compiled
    model: ir.Model = compiled.model
    meta = raw.meta or {}
    indicators = []
    dim_missing = {d.id: 0 for d in model.dimensions}
    parents = {d.id: d.parent for d in model.dimensions}
    for i, ind in enumerate(model.indicators):
        outcome = raw.outcomes[i]
        if outcome == ir.Outcome.MISSING:
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
                points=None if (p := raw.shown_points(i)) is None else round(p, 9),
                max_points=ind.points,
                bonus=ind.is_bonus,
                penalty=ind.is_penalty,
                outcome=outcome,
                reason=_indicator_reason(raw, i, ind),
            )
        )
    dims = []
    for i, d in enumerate(model.dimensions):
        score = raw.dim_scores[i]  # None: not scored
        share = score / d.points if score is not None and d.points and raw.dim_max[i] > 0 else None
        dims.append(
            DimensionResult(
                id=d.id,
                label=d.label,
                parent=d.parent,
                depth=d.depth,
                score=None if score is None else round(score, 9),
                max_points=d.points,
                share=None if share is None else round(share, 12),
                missing=dim_missing[d.id],
                cap=d.cap,
                earned=_section_earned(raw, d),
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
        total=None if raw.total is None else round(raw.total, 9),
        max_total=model.total,
        share=_share(raw.total, model.total),
        grade=raw.grade,
        vetoes_triggered=raw.vetoed,
        missing_count=raw.missing_count,
        dimensions=dims,
        indicators=indicators,
        vetoes=vetoes,
        outputs=output_results(raw),
        gap=gap_to_next_grade(raw, search=search),
        trace=trace,
        missing_reasons=missing_reasons,
    )


def output_results(raw) -> list[OutputResult]:
    """The outputs of one community, in the model's order."""
    outputs = raw.outputs or []
    return [
        OutputResult(id=o.id, label=o.label, type=o.type, value=jsonable(v))
        for o, v in zip(raw.compiled.model.outputs, outputs, strict=True)
    ]


def _share(total: float | None, declared: float) -> float | None:
    if total is None:
        return None  # not scored
    return round(total / declared, 12) if declared else 0.0


def _s(v: Any) -> str | None:
    return None if v is None else str(v)
