"""Gap analysis by search: the smallest change of one input that lifts a
community to the next better grade.

For every input that can matter (used, through definitions, by an indicator
short of full points, a triggered veto or the grade conditions), the
interpreter re-evaluates the community with that input changed: yes/no inputs
are flipped; numbers are searched by bisection between the current value and
the end of the input's declared range (or a generous bound when none is
declared), in both directions. An input whose change alone reaches the next
grade becomes a `GapItem(kind="change")` such as
"社区工作者人数 +3 人 (15 → 18) → 社区工作者配备 18.2"; the items are sorted
by the size of the change relative to the input's range.

Each community costs a few hundred re-evaluations at most (about 10 ms for a
133-criteria model), so reports search a bounded number of communities.
"""

from __future__ import annotations

import math
from typing import Any

from zhili.dsl import model as ir
from zhili.dsl import sets
from zhili.dsl.i18n import _
from zhili.engine.eval.plan import EPS
from zhili.engine.functions import Missing
from zhili.engine.trace import deductions
from zhili.engine.trace.events import decide, event_exprs, gap_text
from zhili.engine.trace.model import Gap, GapItem, fmt_points, fmt_value, jsonable

BISECT_STEPS = 40
STEPS = (0.01, 0.05, 0.2, 0.5, 0.9, 0.99)


def _refs(expr: ir.Expr, lets: dict[str, ir.Definition], out: set[str]) -> None:
    for node in ir.walk(expr):
        if isinstance(node, ir.Ref):
            if node.scope == "input":
                out.add(node.name)
            elif node.scope == "let" and node.name in lets and node.name not in out:
                out.add(node.name)
                _refs(lets[node.name].expr, lets, out)


def _scoring_exprs(ind: ir.Indicator) -> list[ir.Expr]:
    return ind.scoring.exprs()


def _inputs_of(exprs: list[ir.Expr], model: ir.Model) -> set[str]:
    lets = {d.id: d for d in model.lets}
    names: set[str] = set()
    for e in exprs:
        _refs(e, lets, names)
    return {n for n in names if model.input(n) is not None}


def _record(raw) -> dict[str, Any]:
    env = raw.env
    return {
        k: (None if env.get(k).__class__ is Missing else env.get(k)) for k in raw.compiled.input_ids
    }


def _bounds(f: ir.InputField, current: float | None) -> tuple[float, float]:
    lo = (
        f.min if f.min is not None else (0.0 if f.type != "number" or (current or 0) >= 0 else None)
    )
    if f.type == "percent":
        hi = f.max if f.max is not None else 1.0
    else:
        base = abs(current) if current is not None else 0.0
        hi = f.max if f.max is not None else max(base * 10, base + 1000)
    if lo is None:
        lo = -(abs(current or 0) * 10 + 1000)
    return float(lo), float(hi)


def smallest_changes(raw, limit: int = 5) -> list[GapItem]:
    """The single-input changes that lift `raw`'s community to the next
    better grade, smallest first (at most `limit`)."""
    compiled = raw.compiled
    model: ir.Model = compiled.model
    target_index = compiled.plan.next_grade_index(raw.grade_index)
    if target_index is None:
        return []
    target = model.grades[target_index]
    record = _record(raw)
    meta = raw.meta

    last: list[Any] = [None]

    def reaches(changed: dict[str, Any]) -> Any:
        r = compiled.evaluate({**record, **changed}, meta)
        last[0] = r
        ok = r.grade_index is not None and r.grade_index <= target_index
        return r if ok else None

    def degenerate() -> bool:
        """The last evaluation made an indicator missing (e.g. a division by
        zero at the end of the range): the end says nothing about the way."""
        r = last[0]
        return any(
            o == ir.Outcome.MISSING and raw.outcomes[i] != ir.Outcome.MISSING
            for i, o in enumerate(r.outcomes)
        )

    # inputs that can matter
    exprs: list[ir.Expr] = []
    for i, ind in enumerate(model.indicators):
        if raw.points[i] < ind.points - EPS or raw.outcomes[i] == ir.Outcome.MISSING:
            exprs.extend(_scoring_exprs(ind))
            exprs.extend(event_exprs(compiled, i))
    for j, v in enumerate(model.vetoes):
        if raw.vetoes[j] is not False:
            exprs.append(v.condition)
    for g in model.grades[: target_index + 2]:  # up to the current grade
        if g.condition is not None:
            exprs.append(g.condition)
    # last period's values (`previous`) are history, not something to change
    used = _inputs_of(exprs, model)
    candidates = [f for f in model.inputs if f.id in used and f.previous is None]

    found: list[tuple[float, GapItem]] = []
    for f in candidates:
        cur = record.get(f.id)
        if f.type == "bool":
            options = [True, False] if cur is None else [not cur]
            for value in options:
                r = reaches({f.id: value})
                if r is not None:
                    found.append((0.05, _item(raw, r, f, cur, value, target.name)))
                    break
            continue
        if f.type == "set":
            item = _set_change(raw, f, cur, reaches, target.name)
            if item is not None:
                found.append((0.1, item))
            continue
        if f.type not in ("int", "number", "percent"):
            continue
        lo, hi = _bounds(f, cur)
        best = None
        starts = [cur] if cur is not None else [lo, hi]
        for start in starts:
            for end in (hi, lo):
                if start is None or end == start:
                    continue
                r_end = reaches({f.id: _typed(f, end)})
                if r_end is None and degenerate():
                    # step towards the end instead, stopping short of it
                    for frac in STEPS:
                        v = _typed(f, start + (end - start) * frac)
                        if v == start:
                            continue
                        r_end = reaches({f.id: v})
                        if r_end is not None:
                            end = v
                            break
                if r_end is None:
                    continue
                value = _bisect(f, start, end, reaches)
                r = reaches({f.id: value})
                if r is None:  # not monotonic: take the end
                    value, r = _typed(f, end), r_end
                span = (hi - lo) or 1.0
                cost = abs(value - (cur if cur is not None else start)) / span
                if cur is None:
                    cost += 0.5  # supplying missing data ranks after small changes
                if best is None or cost < best[0]:
                    best = (cost, _item(raw, r, f, cur, value, target.name))
        if best is not None:
            found.append(best)
    found.sort(key=lambda x: x[0])
    return [item for _, item in found[:limit]]


def _set_change(raw, f: ir.InputField, cur, reaches, grade: str) -> GapItem | None:
    """A multi-select input: the first listed value not selected whose
    selection alone reaches the grade (a missing selection: that value alone)."""
    mask = cur if isinstance(cur, int) else 0
    for i in range(len(f.values)):
        if mask >> i & 1:
            continue
        r = reaches({f.id: mask | 1 << i})
        if r is not None:
            return _item(raw, r, f, cur, mask | 1 << i, grade)
    return None


def _typed(f: ir.InputField, v: float) -> Any:
    if f.type == "int":
        return int(round(v))
    return float(v)


def _bisect(f: ir.InputField, good_from: float, good_at: float, reaches) -> Any:
    """The value closest to `good_from` (which does not reach) such that the
    grade is reached, between it and `good_at` (which does)."""
    a, b = float(good_from), float(good_at)  # a: fails, b: reaches
    if f.type == "int":
        a, b = math.floor(a) if b > a else math.ceil(a), int(round(b))
        while abs(b - a) > 1:
            mid = (a + b) // 2 if b > a else -((-a - b) // 2)
            if reaches({f.id: int(mid)}) is not None:
                b = mid
            else:
                a = mid
        return int(b)
    tol = max(min(abs(b - a), max(abs(a), 1.0)) * 1e-4, 1e-9)
    if f.type == "percent":
        tol = min(tol, 0.0005)
    for _step in range(BISECT_STEPS):
        if abs(b - a) <= tol:
            break
        mid = (a + b) / 2
        if reaches({f.id: mid}) is not None:
            b = mid
        else:
            a = mid
    return _nice(f, a, b, reaches)


def _nice(f: ir.InputField, a: float, b: float, reaches) -> float:
    """The roundest value between the failing `a` and the reaching `b`
    (staff write 18.5 or 92.3%, not 18.4999871): at the fewest decimals that
    have a reaching value in (a, b], the one nearest to `a`."""
    first = 2 if f.type == "percent" else 0
    for d in range(first, first + 7):
        v = _nice_at(f.id, a, b, d, reaches)
        if v is not None:
            return v
    return b


def _nice_at(name: str, a: float, b: float, d: int, reaches) -> float | None:
    """The multiple of 10^-d in (a, b] (or [b, a)) nearest to `a` that
    reaches, or None. The search between a and b is monotonic (a fails, b
    reaches), so the multiple farthest from `a` decides whether there is
    one, and a bisection over the multiples finds the nearest: the first
    multiple past `a` alone is often short of the threshold (with
    `precision 2`, 89.9134% reaches where 89.9128% does not)."""
    step = 10.0**-d

    def at(k: int) -> float:
        return round(k * step, d)

    sign = 1 if b > a else -1
    far = math.floor(b / step) if sign > 0 else math.ceil(b / step)
    near = math.floor(a / step) + 1 if sign > 0 else math.ceil(a / step) - 1
    if (far - near) * sign < 0:
        return None
    v = at(far)
    if not (a < v <= b if sign > 0 else b <= v < a) or reaches({name: v}) is None:
        return None
    fails, ok = near - sign, far  # `near - sign` is at or before a: it fails
    while abs(ok - fails) > 1:
        mid = (ok + fails) // 2
        if reaches({name: at(mid)}) is not None:
            ok = mid
        else:
            fails = mid
    return at(ok)


def input_value_text(v: Any, f: ir.InputField) -> str:
    """A current or needed value of input f as the gap's words print it (for
    the report's gap table): `85%`, `89.9134%`, `280`, `是`, `养老、托幼`."""
    if isinstance(v, bool) or f.type not in ("int", "number", "percent"):
        return "、".join(v) if isinstance(v, list) else fmt_value(v)
    return _num(v, f)


def _num(v: Any, f: ir.InputField) -> str:
    """A value of input f as it compares: all its places (85.0001%, not 85%)."""
    if f.type == "percent":
        return fmt_points(round(v * 100, 7)) + "%"
    if isinstance(v, float):
        return fmt_points(v)
    return str(v)


def _item(raw, new, f: ir.InputField, cur, value, grade: str) -> GapItem:
    model: ir.Model = raw.compiled.model
    moved = [
        (i, ind)
        for i, ind in enumerate(model.indicators)
        if abs(new.points[i] - raw.points[i]) > EPS or new.outcomes[i] != raw.outcomes[i]
    ]
    effects = []
    for i, ind in moved[:3]:
        v = new.values[i]
        evented = raw.compiled.plan.events[i] is not None  # an event may have decided: points
        if (
            evented
            or isinstance(v, bool)
            or v.__class__ is Missing
            or isinstance(ind.scoring, (ir.Deductions, ir.Deduct, ir.BonusPer, ir.Score))
        ):  # a count or a given score is not what the item earns: its points
            effects.append(f"{ind.name} {fmt_value(new.points[i])}/{fmt_value(ind.points)}")
        else:
            effects.append(f"{ind.name} {fmt_value(v, ind.scoring.value.type)}")
    unveto = [
        v.name
        for j, v in enumerate(model.vetoes)
        if raw.vetoes[j] is True and new.vetoes[j] is not True
    ]
    effects.extend(_("veto {name} lifted").format(name=n) for n in unveto)
    name = f.label or f.id
    unit = f" {f.unit}" if f.unit and f.type != "percent" else ""
    if f.type == "set":
        added = sets.decode(value & ~(cur or 0), f.values)
        change = _("{name}: also select {values}").format(name=name, values="、".join(added))
        cur = None if cur is None else sets.decode(cur, f.values)
        value = sets.decode(value, f.values)
    elif f.type == "bool":
        change = f"{name}: {fmt_value(value)}"
    elif cur is None:
        change = _("{name}: fill in {value}").format(name=name, value=_num(value, f) + unit)
    else:
        delta = value - cur
        shown = ("+" if delta > 0 else "") + _num(delta, f)
        change = f"{name} {shown}{unit} ({_num(cur, f)} → {_num(value, f)})"
    text = change + (" → " + "; ".join(effects) if effects else "")
    text += " ⇒ " + grade
    return GapItem(
        kind="change",
        id=f.id,
        label=f.label,
        current=cur,
        needed=value,
        text=text,
        indicators=[ind.id for _, ind in moved],
    )


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
    target_index = compiled.plan.next_grade_index(raw.grade_index)
    if target_index is None:
        return None
    target = model.grades[target_index]
    items: list[GapItem] = []
    for j, v in enumerate(model.vetoes):
        if raw.vetoes[j] is not True:
            continue
        if j in compiled.plan.forbidden[target_index]:
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
            if isinstance(atom, ir.Binary) and _not_scored(compiled.fn(atom.left)(env), atom):
                item = _unknown(compiled, atom, env, short_dims)
            elif (
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
                            current=fmt_value(cur, atom.left.type, exact=True),
                            op=atom.op,
                            needed=fmt_value(need, atom.right.type, exact=True),
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
                    elif atom.left.scope == "points":  # `points(D) >= n`: points already
                        short_dims.append((name, need - cur))
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
        items = smallest_changes(raw) + items
    return Gap(next_grade=target.name, items=items)


def _unknown(compiled, atom: ir.Binary, env, short_dims: list[tuple[str, float]]) -> GapItem:
    """A condition on something not scored: unknown, not false. Where it
    names a dimension (or `min_dimension`) the dimensions not scored go into
    `short_dims` with the points the condition asks of them, so that the
    indicators with no data there are listed."""
    model: ir.Model = compiled.model
    left = compiled.fn(atom.left)(env)
    need = compiled.fn(atom.right)(env)
    name = atom.left.name
    if atom.op in (">=", ">") and need.__class__ is not Missing:
        if name == "min_dimension":
            dims = [d for d in model.top_dimensions if env.get(d.id).__class__ is Missing]
        else:
            dims = [d for d in (model.dimension(name),) if d is not None]
        # `points(D) >= n` asks n points of D; `D >= 80%` a share of its points
        scale = (lambda d: 1.0) if atom.left.scope == "points" else (lambda d: d.points)
        short_dims.extend((d.id, need * scale(d)) for d in dims if d.points)
    return GapItem(
        kind="condition",
        id=name,
        text=_("{cond} is unknown: {reason}").format(cond=atom.text, reason=left.text()),
    )


def _not_scored(value: Any, atom: ir.Binary) -> bool:
    """Whether a condition's left side is a result (total, share, a
    dimension, min_dimension) that is missing because it was not scored."""
    left = atom.left
    return (
        value.__class__ is Missing
        and isinstance(left, ir.Ref)
        and left.scope in ("result", "points")
        and left.name not in ("vetoed", "missing_count")
    )


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
        if room > EPS:  # a billionth short is short (EPS: half a billionth)
            cands.append((room, i, ind))
    cands.sort(key=lambda c: (-c[0], c[1]))
    out = _penalty_items(raw, dim_id, need_points, limit)
    where = model.dimension(dim_id).name if dim_id else _("the total")
    for room, i, ind in cands[:limit]:
        event = gap_text(decide(raw.compiled, i, raw.env), ind, room)
        by = ind.scoring.by if isinstance(ind.scoring, ir.Score) else None
        if raw.outcomes[i] == ir.Outcome.MISSING:
            text = _("{name}: no data; up to {points} points if supplied ({where} needs {need})")
        elif by:
            # a score another body gives: the points are theirs to give
            text = _("{name}: needs {points} more points from {by} ({where} needs {need})")
        else:
            text = _("{name}: {points} more points possible ({where} needs {need})")
        needs = ""
        if isinstance(ind.scoring, ir.Deductions) and raw.outcomes[i] != ir.Outcome.MISSING:
            # per cause: what takes its deduction away
            rows = deductions.cause_rows(ind, raw.env, raw.compiled)
            found = deductions.cause_needs(rows)
            needs = (" — " + _("; ").join(found)) if found else ""
        out.append(
            GapItem(
                kind="indicator",
                id=ind.id,
                label=ind.label,
                current=round(raw.points[i], 9),
                needed=ind.points,
                points_available=round(room, 9),
                text=event
                or text.format(
                    name=ind.name,
                    points=fmt_points(room),
                    where=where,
                    need=fmt_points(need_points),
                    by=by,
                )
                + needs,
            )
        )
    # penalties (first in `out`) among the others by the points they regain
    return sorted(out, key=lambda item: -(item.points_available or 0.0))[:limit]


def _penalty_items(raw, dim_id: str | None, need_points: float, limit: int) -> list[GapItem]:
    """The penalty (减分) items under `dim_id` (None: the whole model) that
    took something, largest first: what would take each deduction away, and
    the points that regains — less where a section's `max C` still holds the
    rest ("减分项最多扣10分": 13 taken, 10 counted; without a 5-point item
    8 are taken, so it regains 2)."""
    model: ir.Model = raw.compiled.model
    cands = []
    for i, ind in enumerate(model.indicators):
        if not ind.is_penalty or not _under(model, ind, dim_id):
            continue
        if raw.outcomes[i] == ir.Outcome.MISSING or raw.points[i] >= -EPS:
            continue
        taken = -raw.points[i]
        regain = _regain(raw, ind, taken)
        if regain > EPS:
            cands.append((regain, i, ind))
    cands.sort(key=lambda c: (-c[0], c[1]))
    where = model.dimension(dim_id).name if dim_id else _("the total")
    out = []
    for regain, i, ind in cands[:limit]:
        rows = deductions.cause_rows(ind, raw.env, raw.compiled)
        found = deductions.cause_needs(rows)
        text = _("{name}: deducts {taken}; {points} regained without it ({where} needs {need})")
        text = text.format(
            name=ind.name,
            taken=fmt_points(-raw.points[i]),
            points=fmt_points(regain),
            where=where,
            need=fmt_points(need_points),
        )
        out.append(
            GapItem(
                kind="indicator",
                id=ind.id,
                label=ind.label,
                current=round(raw.points[i], 9),
                needed=0.0,
                points_available=round(regain, 9),
                text=text + ((" — " + _("; ").join(found)) if found else ""),
            )
        )
    return out


def _regain(raw, ind: ir.Indicator, taken: float) -> float:
    """What removing a penalty item's deduction gives back, through the caps
    of the sections it stands in (innermost first)."""
    model: ir.Model = raw.compiled.model
    regain = taken
    d = model.dimension(ind.dimension) if ind.dimension else None
    while d is not None and d.section == "penalty":
        if d.cap is not None:
            took = -_section_sum(raw, d)
            regain = max(0.0, min(took, d.cap) - min(max(took - regain, 0.0), d.cap))
        d = model.dimension(d.parent) if d.parent else None
    return regain


def _section_sum(raw, d: ir.Dimension) -> float:
    """The sum of a section's items and sub-sections before its cap."""
    compiled = raw.compiled
    total = 0.0
    for c in d.children:
        if c.kind == "indicator":
            total += raw.points[compiled.ind_index[c.id]]
        elif c.kind == "dimension":
            total += raw.dim_scores[compiled.dim_index[c.id]] or 0.0
    return total
