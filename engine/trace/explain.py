"""Explanations: where every point of a community came from.

`explain_text(raw)` renders the tree grade ← dimensions ← indicators ←
expressions, with the actual values substituted for every name an expression
uses (inputs with their column labels, definitions expanded to their inputs).
"""

from __future__ import annotations

from typing import Any

from zhili.dsl import model as ir
from zhili.dsl import sets
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing
from zhili.engine.trace import deductions
from zhili.engine.trace.events import decide
from zhili.engine.trace.results import CommunityResult, fmt_output, fmt_points, fmt_value

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
            if (
                not isinstance(node, ir.Ref)
                or node.scope not in ("input", "let")
                or node.name in seen
            ):
                continue
            seen.add(node.name)
            value = env.get(node.name)
            pad = "  " * level
            if node.scope == "input":
                f = model.input(node.name)
                label = f" 「{f.label}」" if f and f.label else ""
                if f is not None and f.previous is not None:
                    label += " " + _("(last period's {name})").format(name=f.previous)
                shown = fmt_value(value, node.type)
                if f is not None and f.type == "set" and isinstance(value, int):
                    shown = f"「{sets.text(value, f.values)}」"
                if isinstance(value, Missing):
                    shown = _("missing") + f" ({value.text()})"
                out.append(f"{pad}{node.name}{label} = {shown}")
            else:
                d = lets[node.name]
                shown = fmt_value(value, d.type)
                if d.type == "set" and isinstance(value, int):
                    shown = f"「{sets.text(value, _set_values(d.expr, model))}」"
                if isinstance(value, Missing):
                    shown = _("missing") + f" ({value.text()})"
                out.append(f"{pad}{node.name} = {d.expr.text} = {shown}")
                visit(d.expr, level + 1)

    visit(expr, depth)
    return out


def _set_values(e: ir.Expr, model: ir.Model) -> list[str]:
    """The listed values of the set a set-typed definition holds (it names
    a set input, directly or through other definitions)."""
    lets = {d.id: d for d in model.lets}
    for node in ir.walk(e):
        if isinstance(node, ir.Ref) and node.type == "set":
            f = model.input(node.name)
            if f is not None:
                return f.values
            if node.name in lets:
                return _set_values(lets[node.name].expr, model)
    return []


def explain_text(raw, result: CommunityResult | None = None) -> str:
    """The explanation of one community's result (a `RawResult` from the
    interpreter): heading, grade reasoning, the points tree, the gap."""
    result = result or raw.to_result()
    lines = _heading(result)
    lines += _grade_lines(raw, result)
    lines += output_lines(raw)
    lines += _PointsTree(raw, result).lines()
    lines += _gap_lines(result)
    return "\n".join(lines)


def _heading(result: CommunityResult) -> list[str]:
    name = result.community or result.community_id or "?"
    head = _("{community}: grade {grade}, total {total} of {max}").format(
        community=name,
        grade=result.grade or _("none"),
        total=fmt_points(result.total),
        max=fmt_points(result.max_total),
    )
    lines = [head]
    if result.street or result.district:
        lines.append("  " + " / ".join(x for x in (result.district, result.street) if x))
    return lines


def _grade_lines(raw, result: CommunityResult) -> list[str]:
    """Each grade's condition, best first, down to the grade reached; the
    vetoes that forbid grades."""
    model: ir.Model = raw.compiled.model
    grade_env = raw.compiled.result_env(raw)
    allowed = raw.compiled.allowed_grades(raw)
    lines = ["", _("Grade")]
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
    return lines


def output_lines(raw) -> list[str]:
    """The model's outputs (`output ID = …`): each value and the expression it
    comes from; for `count(…) OP n` with unknown terms, how many were known
    and whether they decided."""
    model: ir.Model = raw.compiled.model
    if not model.outputs:
        return []
    lines = ["", _("Outputs")]
    env = raw.compiled.result_env(raw)
    for o, v in zip(model.outputs, raw.outputs or [], strict=True):
        shown = fmt_output(v, o.type)
        if isinstance(v, Missing):
            shown = _("missing") + f" ({v.text()})"
        name = f"{o.label} [{o.id}]" if o.label else o.id
        lines.append(f"  {name} = {shown}    ← {o.expr.text}")
        note = _count_note(raw, o.expr, env)
        if note:
            lines.append(f"      {note}")
    return lines


def _count_note(raw, expr: ir.Expr, env: dict[str, Any]) -> str | None:
    """`count(…) OP n` with unknown terms: how many terms were true and
    unknown, and whether that decided (docs/language.md, "Missing values")."""
    from zhili.engine.eval.plan import count_comparison

    shape = count_comparison(expr) if isinstance(expr, ir.Binary) else None
    if shape is None:
        return None
    terms = [raw.compiled.fn(a)(env) for a in shape[0].args]
    unknown = sum(1 for t in terms if isinstance(t, Missing))
    if not unknown:
        return None
    known = sum(1 for t in terms if t is True)
    decided = not isinstance(raw.compiled.fn(expr)(env), Missing)
    if decided:
        text = _("{k} of {n} conditions hold, {u} unknown: the known ones decide")
    else:
        text = _("{k} of {n} conditions hold, {u} unknown: the unknown ones could change it")
    return "↳ " + text.format(k=known, n=len(terms), u=unknown)


class _PointsTree:
    """The dimension tree with every indicator's points, reason and the values
    it used, and how points were rescaled for data left out."""

    def __init__(self, raw, result: CommunityResult):
        self.model: ir.Model = raw.compiled.model
        self.compiled = raw.compiled
        self.env = raw.env
        self.compiled = raw.compiled
        self.result = result
        self.by_dim = {d.id: d for d in result.dimensions}
        self.by_ind = {i.id: i for i in result.indicators}
        self.by_veto = {v.id: v for v in result.vetoes}
        self.model_dims = {d.id: d for d in self.model.dimensions}
        self.model_inds = {i.id: i for i in self.model.indicators}
        self.model_vetoes = {v.id: v for v in self.model.vetoes}
        self.out: list[str] = []

    def lines(self) -> list[str]:
        result = self.result
        lines = self.out
        lines.append("")
        lines.append(_("Points"))
        self.render(self.model.top, 1)
        total = f"{fmt_points(result.total)}/{fmt_points(result.max_total)}"
        if result.total is None:
            total += "  (" + _("not scored") + ")"
        lines.append(f"  = {_('total')} {total}")
        note = self.rescaled(self.model.top, result.max_total, result.total)
        if note:
            lines.append(f"      {note}")
        if result.missing_count:
            lines.append(
                "  " + _("{n} indicators have missing data").format(n=result.missing_count)
            )
        return lines

    def rescaled(self, children: list[ir.Child], declared: float, score: float) -> str | None:
        """How the points were rescaled when children were left out for
        missing data (`missing skip`); None when nothing was left out."""
        earned = available = 0.0
        left_out = []
        for c in children:
            if c.kind == "dimension":
                d = self.by_dim[c.id]
                if d.share is None:
                    left_out.append(c.id)
                    continue
                earned += d.score
                available += d.max_points
            elif c.kind == "indicator":
                r = self.by_ind[c.id]
                if r.outcome == "missing" and self.model_inds[c.id].missing == "skip":
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

    def render(self, children: list[ir.Child], depth: int) -> None:
        for c in children:
            if c.kind == "dimension":
                self.dimension(c.id, depth)
            elif c.kind == "indicator":
                self.indicator(c.id, depth)
            else:
                self.veto(c.id, depth)

    def dimension(self, key: str, depth: int) -> None:
        pad = "  " * depth
        d = self.by_dim[key]
        share = "—" if d.share is None else f"{d.share * 100:.1f}%"
        if d.score is None:
            share = _("not scored")
        section = self.model_dims[key].section
        if section is not None:
            self.out.append(f"{pad}■ {d.label or d.id}  {_section_line(d, section)}")
        else:
            self.out.append(
                f"{pad}■ {d.label or d.id}  {fmt_points(d.score)}/{fmt_points(d.max_points)}"
                f"  ({share})"
            )
        note = self.rescaled(self.model_dims[key].children, d.max_points, d.score)
        if note:
            self.out.append(f"{pad}    {note}")
        self.render(self.model_dims[key].children, depth + 1)

    def indicator(self, key: str, depth: int) -> None:
        pad = "  " * depth
        r = self.by_ind[key]
        ind = self.model_inds[key]
        bonus = " +" if r.bonus else ""
        if r.penalty:  # a 减分 item: what it takes, no points of its own
            shown = "—" if r.points is None else fmt_points(r.points)
            self.out.append(
                f"{pad}{MARK[r.outcome]} {r.label or r.id} [{key}] −  {shown}  "
                f"{outcome_text(r.outcome)}"
            )
        else:
            self.out.append(
                f"{pad}{MARK[r.outcome]} {r.label or r.id} [{key}]{bonus}  "
                f"{fmt_points(r.points)}/{fmt_points(r.max_points)}  {outcome_text(r.outcome)}"
            )
        self.out.append(f"{pad}    {r.reason}")
        d = decide(self.compiled, self.compiled.ind_index[key], self.env)
        decided = d is not None and d.condition is not None
        if not decided and isinstance(ind.scoring, ir.Deductions):
            # every cause, the ones that took nothing too, then their values (once each)
            for row in deductions.cause_rows(ind, self.env, self.compiled):
                self.out.append(f"{pad}      · {deductions.cause_text(row)}")
            shown = []
            for c in ind.scoring.causes:
                for s in substitutions(c.value, self.env, self.model):
                    if s not in shown:
                        shown.append(s)
            self.out.extend(f"{pad}        {s}" for s in shown)
        else:
            expr = d.condition if decided else ind.scoring.value
            for s in substitutions(expr, self.env, self.model):
                self.out.append(f"{pad}      {s}")
        if ind.method is not None:
            self.out.append(f"{pad}    " + _("checking method: {method}").format(method=ind.method))

    def veto(self, key: str, depth: int) -> None:
        pad = "  " * depth
        r = self.by_veto[key]
        mark = "!" if r.triggered else ("?" if r.triggered is None else "·")
        self.out.append(f"{pad}{mark} {_('veto')} {r.label or r.id} [{key}]: {r.reason}")
        for s in substitutions(self.model_vetoes[key].condition, self.env, self.model):
            self.out.append(f"{pad}      {s}")


def _section_line(d, section: str) -> str:
    """A section's score (减分项 / 加分项): what it adds or takes, and its
    `max C` when it held the items' sum (合计最高加5分: items earned 7, counted 5)."""
    score = d.score or 0.0
    shown = ("+" if score > 0 else "") + fmt_points(score)
    if d.cap is None:
        return shown
    if section == "penalty":
        note = _("at most {cap} deducted in all").format(cap=fmt_points(d.cap))
    else:
        note = _("at most {cap} added").format(cap=fmt_points(d.cap))
    if d.earned is not None and abs(d.earned) > d.cap:
        if section == "penalty":
            held = _("the items took {earned}, {cap} counted")
        else:
            held = _("the items earned {earned}, {cap} counted")
        note += _(": ") + held.format(earned=fmt_points(abs(d.earned)), cap=fmt_points(d.cap))
    return f"{shown}  ({note})"


def _gap_lines(result: CommunityResult) -> list[str]:
    """The smallest changes that reach the next grade, and what else it needs."""
    if result.gap is None:
        return []
    lines = ["", _("Gap to {grade}").format(grade=result.gap.next_grade)]
    changes = [i for i in result.gap.items if i.kind == "change"]
    if changes:
        lines.append("  " + _("smallest changes of one input that reach it:"))
        for item in changes:
            lines.append(f"  * {item.text}")
    for item in result.gap.items:
        if item.kind != "change":
            lines.append(f"  - {item.text}")
    return lines
