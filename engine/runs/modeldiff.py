"""`zhili diff-model`: what changed between two versions of a model.

Structural changes come from the two checked models (indicators, dimensions,
vetoes and grades added or removed; points, scoring thresholds and labels
changed). With data, both versions evaluate the same communities and the
communities whose grade changes are listed.
"""

from __future__ import annotations

from typing import assert_never

from zhili.dsl import model as ir
from zhili.dsl.i18n import _


def _expr_text(e: ir.Expr | None) -> str:
    if e is None:
        return ""
    if e.text:
        return e.text
    if isinstance(e, ir.Const):
        return str(e.value)
    if isinstance(e, ir.Ref):
        return e.name
    return e.kind


def scoring_text(s: ir.Scoring) -> str:
    """A scoring form in the language's words (`tiers x { >= 98% : 4 … }`)."""
    v = _expr_text(s.value)
    match s:
        case ir.PassWhen():
            return f"pass when {v}"
        case ir.BonusWhen():
            return f"bonus when {v}"
        case ir.Linear():
            return f"linear {v} from {_expr_text(s.low)} to {_expr_text(s.high)}"
        case ir.Tiers():
            tiers = "  ".join(
                f"{t.op} {_expr_text(t.threshold)} : {_num(t.points)}" for t in s.tiers
            )
            if s.else_points:
                tiers += f"  else : {_num(s.else_points)}"
            return f"tiers {v} {{ {tiers} }}"
        case ir.Deduct() | ir.BonusPer():
            word = "deduct" if isinstance(s, ir.Deduct) else "bonus"
            cap = f" max {_num(s.cap)}" if s.cap is not None else ""
            return f"{word} {_num(s.per)} per {v}{cap}"
        case ir.Score():
            by = f' by "{s.by}"' if s.by is not None else ""
            return f"score {v}{by}"
        case ir.Deductions():
            return deductions_text(s)
        case _:
            assert_never(s)


def events_text(item: ir.Indicator | ir.Dimension) -> str:
    """An indicator's gate and zero events, or a dimension's zero events, in
    the language's words (`requires C  zero when D`); "" without any."""
    parts = []
    gate = getattr(item, "requires", None)
    if gate is not None:
        parts.append(f"requires {_expr_text(gate.condition)}")
    parts.extend(f"zero when {_expr_text(z.condition)}" for z in item.zero)
    return "  ".join(parts)


def deductions_text(s: ir.Deductions) -> str:
    """`deduct [max C] { cause; … }` (`penalty …` for a 减分 item) on one
    line, in the language's words."""
    causes = "; ".join(cause_text(c) for c in s.causes)
    cap = f" max {_num(s.cap)}" if s.cap is not None else ""
    word = "penalty" if isinstance(s, ir.Penalty) else "deduct"
    return f"{word}{cap} {{ {causes} }}"


def cause_text(c: ir.DeductCause) -> str:
    """One deduction cause as written (`10 per 10% of 完成率 below 95%`)."""
    v = _expr_text(c.value)
    if c.kind == "tiers":
        tiers = "  ".join(f"{t.op} {_expr_text(t.threshold)} : {_num(t.points)}" for t in c.tiers)
        return f"tiers {v} {{ {tiers} }}"
    cap = f" max {_num(c.cap)}" if c.cap is not None else ""
    if c.kind == "per":
        return f"{_num(c.amount)} per {v}{cap}"
    if c.kind == "when":
        return f"{_num(c.amount)} when {v}"
    part = " or part" if c.part else ""
    step = _num(c.step) if c.value.type != "percent" else f"{_num(round(c.step * 100, 9))}%"
    return f"{_num(c.amount)} per {step}{part} of {v} {c.kind} {_expr_text(c.threshold)}{cap}"


def _total(x) -> str:
    """A community's total; "—" when it was not scored (never 0)."""
    return "—" if x is None else _num(x)


def _num(x) -> str:
    if x is None:
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def diff_models(old: ir.Model, new: ir.Model) -> list[dict]:
    """The changes from `old` to `new`, each a dict with `kind` (added,
    removed, points, scoring, label, dimension, grade, total, version),
    `what` (indicator, dimension, veto, grade, input, model), `id` and the
    `old`/`new` values where they apply."""
    out: list[dict] = []
    if old.version != new.version:
        out.append(
            {
                "kind": "version",
                "what": "model",
                "id": new.id,
                "old": old.version,
                "new": new.version,
            }
        )
    if old.total != new.total:
        out.append(
            {"kind": "total", "what": "model", "id": new.id, "old": old.total, "new": new.total}
        )
    for what, a_list, b_list in (
        ("dimension", old.dimensions, new.dimensions),
        ("indicator", old.indicators, new.indicators),
        ("veto", old.vetoes, new.vetoes),
        ("exemption", old.exemptions, new.exemptions),
        ("input", old.inputs, new.inputs),
    ):
        a = {x.id: x for x in a_list}
        b = {x.id: x for x in b_list}
        for id_ in a:
            if id_ not in b:
                out.append({"kind": "removed", "what": what, "id": id_, "label": a[id_].label})
        for id_ in b:
            if id_ not in a:
                out.append({"kind": "added", "what": what, "id": id_, "label": b[id_].label})
        for id_ in a.keys() & b.keys():
            x, y = a[id_], b[id_]
            if what in ("dimension", "indicator") and x.points != y.points:
                out.append(
                    {"kind": "points", "what": what, "id": id_, "old": x.points, "new": y.points}
                )
            if what == "dimension" and x.cap != y.cap:  # a section's `max C`
                cx = "—" if x.cap is None else _num(x.cap)
                cy = "—" if y.cap is None else _num(y.cap)
                out.append({"kind": "cap", "what": what, "id": id_, "old": cx, "new": cy})
            if what in ("dimension", "indicator"):
                ex, ey = events_text(x), events_text(y)
                if ex != ey:
                    out.append({"kind": "events", "what": what, "id": id_, "old": ex, "new": ey})
            if what == "exemption":
                cx = f"from {', '.join(x.names)} when {_expr_text(x.condition)}"
                cy = f"from {', '.join(y.names)} when {_expr_text(y.condition)}"
                if cx != cy:
                    out.append({"kind": "scoring", "what": what, "id": id_, "old": cx, "new": cy})
            if what == "indicator":
                sx, sy = scoring_text(x.scoring), scoring_text(y.scoring)
                if sx != sy:
                    out.append({"kind": "scoring", "what": what, "id": id_, "old": sx, "new": sy})
                if x.dimension != y.dimension:
                    out.append(
                        {
                            "kind": "dimension",
                            "what": what,
                            "id": id_,
                            "old": x.dimension,
                            "new": y.dimension,
                        }
                    )
            if what == "veto":
                cx, cy = _expr_text(x.condition), _expr_text(y.condition)
                if (cx, x.effect, x.grade) != (cy, y.effect, y.grade):
                    out.append(
                        {
                            "kind": "scoring",
                            "what": what,
                            "id": id_,
                            "old": f"when {cx} {x.effect} {x.grade!r}",
                            "new": f"when {cy} {y.effect} {y.grade!r}",
                        }
                    )
            if x.label != y.label:
                out.append(
                    {"kind": "label", "what": what, "id": id_, "old": x.label, "new": y.label}
                )
    a_grades = {g.name: g for g in old.grades}
    b_grades = {g.name: g for g in new.grades}
    for name in a_grades.keys() - b_grades.keys():
        out.append({"kind": "removed", "what": "grade", "id": name})
    for name in b_grades.keys() - a_grades.keys():
        out.append({"kind": "added", "what": "grade", "id": name})
    for name in a_grades.keys() & b_grades.keys():
        ca = _expr_text(a_grades[name].condition) or "otherwise"
        cb = _expr_text(b_grades[name].condition) or "otherwise"
        if ca != cb:
            out.append({"kind": "scoring", "what": "grade", "id": name, "old": ca, "new": cb})
    order = {"version": 0, "total": 1, "removed": 2, "added": 3}
    out.sort(key=lambda c: (order.get(c["kind"], 4), c["what"], str(c["id"])))
    return out


def diff_grades(old: ir.Model, new: ir.Model, ds_old, ds_new, functions) -> list[dict]:
    """Communities whose grade differs between the two models on the same data."""
    from zhili.engine.eval.interpreter import compile_model

    ca = compile_model(old, functions)
    cb = compile_model(new, functions)
    out = []
    for rec_a, rec_b, meta in zip(ds_old.records, ds_new.records, ds_old.meta, strict=False):
        ra = ca.evaluate(rec_a, meta)
        rb = cb.evaluate(rec_b, meta)
        if ra.grade != rb.grade:
            out.append(
                {
                    "community_id": meta.get("community_id"),
                    "community": meta.get("community"),
                    "old": ra.grade,
                    "new": rb.grade,
                    # None: not scored
                    "old_total": None if ra.total is None else round(ra.total, 4),
                    "new_total": None if rb.total is None else round(rb.total, 4),
                }
            )
    return out


def _what_word(what: str) -> str:
    return {
        "indicator": _("indicator"),
        "dimension": _("dimension"),
        "veto": _("veto"),
        "exemption": _("exemption"),
        "input": _("input"),
        "grade": _("grade"),
        "model": _("model"),
    }.get(what, what)


def _kind_word(kind: str) -> str:
    return {
        "points": _("points"),
        "cap": _("cap (max)"),
        "scoring": _("scoring"),
        "events": _("gate and zero events"),
        "label": _("label"),
        "dimension": _("dimension"),
        "version": _("version"),
        "total": _("total"),
    }.get(kind, kind)


def render_diff(old: ir.Model, new: ir.Model, changes: list[dict], regrades) -> str:
    lines = [
        f"--- {old.id} {old.version or ''}".rstrip(),
        f"+++ {new.id} {new.version or ''}".rstrip(),
    ]
    if not changes:
        lines.append(_("no changes to indicators, points, thresholds or grades"))
    for c in changes:
        what = _what_word(c["what"])
        if c["kind"] == "added":
            lines.append(f"+ {what} {c['id']}" + (f" {c.get('label')}" if c.get("label") else ""))
        elif c["kind"] == "removed":
            lines.append(f"- {what} {c['id']}" + (f" {c.get('label')}" if c.get("label") else ""))
        else:
            old_v = _num(c["old"]) if isinstance(c["old"], (int, float)) else c["old"]
            new_v = _num(c["new"]) if isinstance(c["new"], (int, float)) else c["new"]
            lines.append(f"~ {what} {c['id']} {_kind_word(c['kind'])}: {old_v} → {new_v}")
    if regrades is not None:
        lines.append("")
        lines.append(_("communities that change grade: {n}").format(n=len(regrades)))
        for r in regrades:
            name = r["community"] or r["community_id"] or "?"
            lines.append(
                f"  {r['community_id'] or ''} {name}: {r['old']} ({_total(r['old_total'])}) → "
                f"{r['new']} ({_total(r['new_total'])})"
            )
    return "\n".join(lines)
