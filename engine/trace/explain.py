"""Explanations: where every point of a community came from.

`explain_text(raw)` renders the tree grade ← dimensions ← indicators ←
expressions, with the actual values substituted for every name an expression
uses (inputs with their column labels, definitions expanded to their inputs).
"""

from __future__ import annotations

from typing import Any

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing
from zhili.engine.trace.results import CommunityResult, fmt_points, fmt_value

# the outcome signs by outcome string (the signs themselves are `Outcome.mark`)
MARK = {o.value: o.mark for o in ir.Outcome}


def outcome_text(outcome: str) -> str:
    """The outcome's word in the current language."""
    return ir.Outcome(outcome).text()


def substitutions(expr: ir.Expr, env: dict[str, Any], model: ir.Model, depth: int = 0) -> list[str]:
    """`name = value` for every input and definition the expression uses;
    definitions are followed down to the inputs they come from."""
    out: list[str] = []
    seen: set[str] = set()
    lets = {d.id: d for d in model.lets}

    def visit(e: ir.Expr, level: int):
        for node in ir.walk(e):
            if not isinstance(node, ir.Ref) or node.scope == "result" or node.name in seen:
                continue
            seen.add(node.name)
            value = env.get(node.name)
            pad = "  " * level
            if node.scope == "input":
                f = model.input(node.name)
                label = f" 「{f.label}」" if f and f.label else ""
                shown = fmt_value(value, node.type)
                if isinstance(value, Missing):
                    shown = _("missing") + f" ({value.text()})"
                out.append(f"{pad}{node.name}{label} = {shown}")
            else:
                d = lets[node.name]
                shown = fmt_value(value, d.type)
                if isinstance(value, Missing):
                    shown = _("missing") + f" ({value.text()})"
                out.append(f"{pad}{node.name} = {d.expr.text} = {shown}")
                visit(d.expr, level + 1)

    visit(expr, depth)
    return out


def explain_text(raw, result: CommunityResult | None = None) -> str:
    model: ir.Model = raw.compiled.model
    result = result or raw.to_result()
    env = raw.env
    lines: list[str] = []
    name = result.community or result.community_id or "?"
    head = _("{community}: grade {grade}, total {total} of {max}").format(
        community=name,
        grade=result.grade or _("none"),
        total=fmt_points(result.total),
        max=fmt_points(result.max_total),
    )
    lines.append(head)
    if result.street or result.district:
        lines.append("  " + " / ".join(x for x in (result.district, result.street) if x))
    # grade reasoning
    grade_env = raw.compiled.result_env(raw)
    allowed = raw.compiled.allowed_grades(raw)
    lines.append("")
    lines.append(_("Grade"))
    for i, g in enumerate(model.grades):
        if g.condition is None:
            verdict = _("otherwise")
        else:
            v = raw.compiled.fn(g.condition)(grade_env)
            verdict = (
                _("holds")
                if v is True
                else (_("missing") if isinstance(v, Missing) else _("does not hold"))
            )
            verdict = f"{g.condition.text}  → {verdict}"
        mark = "→" if i == raw.grade_index else " "
        blocked = "" if allowed[i] else "  [" + _("forbidden by a veto") + "]"
        lines.append(f" {mark} {g.name}: {verdict}{blocked}")
        if i == raw.grade_index:
            break
    for v in result.vetoes:
        if v.triggered:
            lines.append(
                "  ! "
                + _("veto {name}: {reason} ({effect} {grade})").format(
                    name=v.label or v.id, reason=v.reason, effect=_(v.effect), grade=v.grade
                )
            )

    # dimension tree
    lines.append("")
    lines.append(_("Points"))
    by_dim = {d.id: d for d in result.dimensions}
    by_ind = {i.id: i for i in result.indicators}
    by_veto = {v.id: v for v in result.vetoes}
    model_dims = {d.id: d for d in model.dimensions}
    model_inds = {i.id: i for i in model.indicators}
    model_vetoes = {v.id: v for v in model.vetoes}

    def rescaled(children: list[ir.Child], declared: float, score: float) -> str | None:
        """How the points were rescaled when children were left out for
        missing data (`missing skip`); None when nothing was left out."""
        earned = available = 0.0
        left_out = []
        for c in children:
            if c.kind == "dimension":
                d = by_dim[c.id]
                if d.share is None:
                    left_out.append(c.id)
                    continue
                earned += d.score
                available += d.max_points
            elif c.kind == "indicator":
                r = by_ind[c.id]
                if r.outcome == "missing" and model_inds[c.id].missing == "skip":
                    left_out.append(c.id)
                    continue
                earned += r.points
                available += 0.0 if r.bonus else r.max_points
        if not left_out or available <= 0 or abs(available - declared) < 1e-9:
            return None
        return "↳ " + _(
            "rescaled: {earned} of the {available} points that could be scored "
            "× {declared}/{available} = {score} (left out for missing data: {ids})"
        ).format(
            earned=fmt_points(earned),
            available=fmt_points(available),
            declared=fmt_points(declared),
            score=fmt_points(score),
            ids=", ".join(left_out),
        )

    def render(children: list[ir.Child], depth: int):
        pad = "  " * depth
        for c in children:
            if c.kind == "dimension":
                d = by_dim[c.id]
                share = "—" if d.share is None else f"{d.share * 100:.1f}%"
                lines.append(
                    f"{pad}■ {d.label or d.id}  {fmt_points(d.score)}/{fmt_points(d.max_points)}  ({share})"
                )
                note = rescaled(model_dims[c.id].children, d.max_points, d.score)
                if note:
                    lines.append(f"{pad}    {note}")
                render(model_dims[c.id].children, depth + 1)
            elif c.kind == "indicator":
                r = by_ind[c.id]
                ind = model_inds[c.id]
                bonus = " +" if r.bonus else ""
                lines.append(
                    f"{pad}{MARK[r.outcome]} {r.label or r.id} [{c.id}]{bonus}  "
                    f"{fmt_points(r.points)}/{fmt_points(r.max_points)}  {outcome_text(r.outcome)}"
                )
                lines.append(f"{pad}    {r.reason}")
                for s in substitutions(ind.scoring.value, env, model):
                    lines.append(f"{pad}      {s}")
            else:
                r = by_veto[c.id]
                mark = "!" if r.triggered else ("?" if r.triggered is None else "·")
                lines.append(f"{pad}{mark} {_('veto')} {r.label or r.id} [{c.id}]: {r.reason}")
                for s in substitutions(model_vetoes[c.id].condition, env, model):
                    lines.append(f"{pad}      {s}")

    render(model.top, 1)
    lines.append(f"  = {_('total')} {fmt_points(result.total)}/{fmt_points(result.max_total)}")
    note = rescaled(model.top, result.max_total, result.total)
    if note:
        lines.append(f"      {note}")
    if result.missing_count:
        lines.append("  " + _("{n} indicators have missing data").format(n=result.missing_count))

    if result.gap is not None:
        lines.append("")
        lines.append(_("Gap to {grade}").format(grade=result.gap.next_grade))
        changes = [i for i in result.gap.items if i.kind == "change"]
        if changes:
            lines.append("  " + _("smallest changes of one input that reach it:"))
            for item in changes:
                lines.append(f"  * {item.text}")
        for item in result.gap.items:
            if item.kind != "change":
                lines.append(f"  - {item.text}")
    return "\n".join(lines)
