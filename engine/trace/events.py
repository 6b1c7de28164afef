"""What decided an indicator before its scoring form (前提、清零、免检), in words.

The backends apply the events in the order of `zhili.engine.eval.plan.Events`;
here the same order is followed on one community's environment (its inputs
and definitions) to say which event decided and why: for the reason of the
indicator, the explanation's substituted values and the gap analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing
from zhili.engine.trace.model import fmt_points, fmt_value

DecisionKind = Literal["zero", "zero_unknown", "exempt", "unmet", "gate_unknown"]


@dataclass
class Decision:
    """Which event decided indicator `index` (`kind` None: the scoring form
    did), the event's name and condition, the unknown value where one was
    unknown, and the exemptions that could not be decided (scored normally)."""

    kind: DecisionKind | None
    name: str = ""
    condition: ir.Expr | None = None
    unknown: Any = None
    undecided: list[tuple[ir.Exemption, Any]] = field(default_factory=list)


def decide(compiled, index: int, env: dict[str, Any]) -> Decision | None:
    """The decision of indicator `index` on `env` (None: it has no events)."""
    ev = compiled.plan.events[index]
    if ev is None:
        return None
    unknown = None
    for z in ev.zero:
        t = compiled.fn(z.condition)(env)
        if t is True:
            return Decision("zero", z.name, z.condition)
        if unknown is None and t.__class__ is Missing:
            unknown = (z, t)
    if unknown is not None:
        z, t = unknown
        return Decision("zero_unknown", z.name, z.condition, t)
    undecided = []
    for k in ev.exemptions:
        ex = compiled.model.exemptions[k]
        t = compiled.fn(ex.condition)(env)
        if t is True:
            return Decision("exempt", ex.name, ex.condition)
        if t.__class__ is Missing:
            undecided.append((ex, t))
    if ev.requires is not None:
        g = compiled.fn(ev.requires.condition)(env)
        if g.__class__ is Missing:
            return Decision("gate_unknown", ev.requires.name, ev.requires.condition, g, undecided)
        if g is not True:
            return Decision("unmet", ev.requires.name, ev.requires.condition, None, undecided)
    return Decision(None, undecided=undecided)


def _values(expr: ir.Expr, env: dict[str, Any]) -> str:
    """`活动次数 40, …`: the inputs and definitions a condition reads, with their values."""
    seen: list[str] = []
    shown: list[str] = []
    for node in ir.walk(expr):
        if isinstance(node, ir.Ref) and node.scope != "result" and node.name not in seen:
            seen.append(node.name)
            v = env.get(node.name)
            text = _("missing") if v.__class__ is Missing else fmt_value(v, node.type)
            shown.append(f"{node.name} {text}")
    return ", ".join(shown)


def event_reason(d: Decision | None, ind: ir.Indicator, env: dict[str, Any]) -> str | None:
    """The indicator's reason when an event decided it (None: the form did)."""
    if d is None or d.kind is None:
        return None
    match d.kind:
        case "zero":
            return _("zeroed: {event}").format(event=d.name)
        case "zero_unknown":
            return _("missing: cannot tell whether the item is zeroed ({event}): {reason}").format(
                event=d.name, reason=d.unknown.text()
            )
        case "exempt":
            return _("exempt ({name}): full {points} points").format(
                name=d.name, points=fmt_points(ind.points)
            )
        case "unmet":
            return _("requirement not met: {event} ({values})").format(
                event=d.name, values=_values(d.condition, env)
            )
        case "gate_unknown":
            return _(
                "missing: cannot tell whether the requirement holds ({event}): {reason}"
            ).format(event=d.name, reason=d.unknown.text())
    raise AssertionError(d.kind)  # pragma: no cover


def undecided_note(d: Decision | None) -> str:
    """`; exemption … could not be decided (…), scored normally`, or ""."""
    if d is None or not d.undecided or d.kind == "exempt":
        return ""
    return "".join(
        _("; exemption {name} could not be decided ({reason}): scored normally").format(
            name=ex.name, reason=t.text()
        )
        for ex, t in d.undecided
    )


def gap_text(d: Decision | None, ind: ir.Indicator, room: float) -> str | None:
    """The gap item's words for an indicator an event decided (None: the
    usual words apply)."""
    if d is None:
        return None
    if d.kind == "zero":
        return _(
            "{name}: zeroed by {event}; its points cannot be regained by its value "
            "(the event must not happen)"
        ).format(name=ind.name, event=d.name)
    if d.kind == "unmet":
        return _(
            "{name}: the requirement {event} is not met; up to {points} points once it is"
        ).format(name=ind.name, event=d.name, points=fmt_points(room))
    return None


def event_exprs(compiled, index: int) -> list[ir.Expr]:
    """The conditions of indicator `index`'s events (for the gap search)."""
    ev = compiled.plan.events[index]
    if ev is None:
        return []
    out = [z.condition for z in ev.zero]
    out += [compiled.model.exemptions[k].condition for k in ev.exemptions]
    if ev.requires is not None:
        out.append(ev.requires.condition)
    return out
