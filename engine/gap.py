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
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing
from zhili.engine.results import GapItem, fmt_value

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
    s = ind.scoring
    exprs = [s.value]
    for e in (s.low, s.high):
        if e is not None:
            exprs.append(e)
    exprs.extend(t.threshold for t in s.tiers if t.threshold is not None)
    return exprs


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
    if not model.grades or raw.grade_index == 0:
        return []
    current_index = raw.grade_index if raw.grade_index is not None else len(model.grades)
    target_index = current_index - 1
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
            o == "missing" and raw.outcomes[i] != "missing" for i, o in enumerate(r.outcomes)
        )

    # inputs that can matter
    exprs: list[ir.Expr] = []
    for i, ind in enumerate(model.indicators):
        if raw.points[i] < ind.points - 1e-9 or raw.outcomes[i] == "missing":
            exprs.extend(_scoring_exprs(ind))
    for j, v in enumerate(model.vetoes):
        if raw.vetoes[j] is not False:
            exprs.append(v.condition)
    for g in model.grades[: current_index + 1]:
        if g.condition is not None:
            exprs.append(g.condition)
    candidates = [f for f in model.inputs if f.id in _inputs_of(exprs, model)]

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
    (staff write 18.5 or 92.3%, not 18.4999871)."""
    first = 2 if f.type == "percent" else 0
    for d in range(first, first + 7):
        step = 10.0**-d
        if b > a:
            v = (math.floor(a / step) + 1) * step
            ok = a < v <= b
        else:
            v = (math.ceil(a / step) - 1) * step
            ok = b <= v < a
        v = round(v, d)
        if ok and reaches({f.id: v}) is not None:
            return v
    return b


def _num(v: Any, f: ir.InputField) -> str:
    if f.type == "percent":
        return f"{v * 100:.4g}%"
    if isinstance(v, float):
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        return text
    return str(v)


def _item(raw, new, f: ir.InputField, cur, value, grade: str) -> GapItem:
    model: ir.Model = raw.compiled.model
    moved = [
        (i, ind)
        for i, ind in enumerate(model.indicators)
        if abs(new.points[i] - raw.points[i]) > 1e-9 or new.outcomes[i] != raw.outcomes[i]
    ]
    effects = []
    for i, ind in moved[:3]:
        v = new.values[i]
        if isinstance(v, bool) or v.__class__ is Missing:
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
    if f.type == "bool":
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
