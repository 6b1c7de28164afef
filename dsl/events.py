"""Checks of the events around scoring forms (前提、清零、免检).

`requires C` and `zero when C` are typed where they stand (the checker's
`_event`); what needs the whole structure is here: an exemption's names
resolved to the indicators it fills (a dimension stands for every scored
indicator in it, nested), and a `zero when` on an item without points.
"""

from __future__ import annotations

from typing import Any

from zhili.dsl import ast
from zhili.dsl import messages as m
from zhili.dsl import model as ir
from zhili.dsl.i18n import _


def check_events(checker: Any, nodes: list[tuple[ast.Exempt, str | None]]) -> list[ir.Exemption]:
    """The exemptions of a model in tree order (a base model's before those an
    extending model adds), each resolved to indicator ids; reports unknown
    names, names that are not scored items, bonus indicators and duplicate
    ids, and `zero when` on items without points."""
    indicators = {i.id: i for i in checker.indicators}
    dimensions = {d.id: d for d in checker.dimensions if d is not None}
    out: list[ir.Exemption] = []
    seen: dict[str, ast.Span] = {}
    for node, parent in nodes:
        if node.name.id in seen:
            checker.err(m.duplicate_id(node.name.span, node.name.id, seen[node.name.id]))
        seen.setdefault(node.name.id, node.name.span)
        cond, t = checker._expr(node.cond, "model")
        checker._want_bool(node.cond, t)
        covered: list[str] = []
        for target in node.targets:
            for ind_id in _resolve(checker, target, indicators, dimensions):
                if ind_id not in covered:
                    covered.append(ind_id)
        out.append(
            ir.Exemption(
                id=node.name.id,
                label=node.label.value if node.label else None,
                condition=cond,
                names=[t.id for t in node.targets],
                indicators=covered,
                dimension=parent,
                span=None if node.span is ast.NO_SPAN else node.span,
            )
        )
    _zero_without_points(checker, indicators, dimensions)
    return out


def _resolve(checker, target: ast.Ident, indicators, dimensions) -> list[str]:
    """The scored indicators one name of a `from` list stands for."""
    name = target.id
    if name in indicators:
        ind = indicators[name]
        if ind.is_bonus:
            checker.err(m.exempt_bonus(target.span, name))
            return []
        return [name]
    if name in dimensions:
        found = [i for i in _under(name, indicators, dimensions) if not indicators[i].is_bonus]
        if not found:
            checker.err(m.exempt_empty_dimension(target.span, name))
        return found
    entry = checker.names.get(name)
    if entry is not None:
        checker.err(m.exempt_no_item(target.span, name, _kind_word(entry[0])))
        return []
    checker.err(m.unknown_name(target.span, name, [*indicators, *dimensions]))
    return []


def _kind_word(kind: str) -> str:
    words = {"input": _("an input"), "let": _("a definition"), "veto": _("a veto")}
    return words.get(kind, kind)


def _under(dim_id: str, indicators, dimensions) -> list[str]:
    """Every indicator in a dimension, nested, in document order."""
    out: list[str] = []
    d = dimensions.get(dim_id)
    if d is None:
        return out
    for c in d.children:
        if c.kind == "indicator" and c.id in indicators:
            out.append(c.id)
        elif c.kind == "dimension" and c.id != dim_id:
            out.extend(_under(c.id, indicators, dimensions))
    return out


def _zero_without_points(checker, indicators, dimensions) -> None:
    """`zero when` on an indicator of 0 points, or on a dimension whose
    indicators (bonus ones too) have none: nothing to take away."""
    for ind in indicators.values():
        if ind.zero and ind.points <= 0:
            checker.err(m.zero_no_points(ind.zero[0].span or ast.NO_SPAN, ind.id))
    for d in dimensions.values():
        if not d.zero:
            continue
        if all(indicators[i].points <= 0 for i in _under(d.id, indicators, dimensions)):
            checker.err(m.zero_no_points(d.zero[0].span or ast.NO_SPAN, d.id))
