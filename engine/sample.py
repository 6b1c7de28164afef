"""Synthetic community data that exercises a model (`zhili sample`).

Reproducible by seed (same seed, same bytes); the demo's, the scaffold's and
the benchmarks' data source. The generator reads the model instead of
drawing each input from its range:

- **Profiles.** Each community gets a standing (strong, good, average, weak),
  varied per top-level dimension and per indicator, so the inputs of one
  community are correlated and strong communities reach the top grades.
- **Goals, not ranges.** For each indicator the standing picks how well it
  should score (a tier, a point on the linear range, pass or fail, a number
  of deductions); the generator then works the value back through the
  model's expressions (definitions, `ratio`, `per_10k`, `/`, `+`, `count`,
  comparisons, `if`, `coalesce` …) to the inputs, landing at, just above,
  just below or between the cut points (`analyze` lists them per input).
- **Divisors** (inputs under `/`, the second argument of `ratio`/`per_10k`)
  get a positive size before anything is divided by them; they are 0 only in
  an edge share (`EDGE_RATE`) of the rows.
- **Vetoes** trigger in about `veto_rate` of the rows (one veto each); in the
  others every veto's condition is made false.
- Values respect types, ranges and enums; percents are shares 0..1 in the
  model and written as `85%` / `97.5%`, as the readers expect; about
  `missing_rate` of the cells are left empty, optional and required alike.

The data is synthetic and says so (the bundled samples' SAMPLE.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, assert_never

from zhili.dsl import model as ir
from zhili.dsl import sets
from zhili.dsl.model import InputField, Model
from zhili.engine.io.atomic import atomic_write

DISTRICTS = ["金台区", "渭滨区", "陈仓区", "高新区"]
STREETS = [
    "东风路街道",
    "中山路街道",
    "群众路街道",
    "十里铺街道",
    "虢镇街道",
    "八鱼镇",
    "经二路街道",
    "石鼓镇",
]
NAMES = [
    "东岭",
    "新华",
    "铁道南",
    "胜利",
    "人民",
    "和平",
    "幸福",
    "光明",
    "长乐",
    "太平",
    "清姜",
    "金河",
    "宝光",
    "西关",
    "红旗",
    "建设",
    "滨河",
    "姜谭",
    "联盟",
    "北坡",
    "福临",
    "五里庙",
    "蟠龙",
    "汉中路",
    "丽水",
    "公园",
]
HEADER = ["社区编码", "区", "街道", "社区"]

DEFAULT_VETO_RATE = 0.02
EDGE_RATE = 0.01  # share of rows where a divisor is 0 (division by zero exercised)

# (share of rows, standing range, spread between dimensions, spread between indicators)
PROFILES = (
    (0.25, (0.88, 1.0), 0.04, 0.06),  # strong: most indicators near full points
    (0.25, (0.62, 0.9), 0.12, 0.12),  # good
    (0.25, (0.35, 0.7), 0.15, 0.15),  # average
    (0.25, (0.0, 0.45), 0.15, 0.15),  # weak
)
UNEVEN = 0.3  # share of rows where one dimension stands apart from the others

_NEGATE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
_MIRROR = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


# ---------------------------------------------------------------- what the model says


def _sign(e: ir.Expr, env: dict[str, dict[str, float]]) -> dict[str, float]:
    """How each input pushes `e` up (+) or down (-), roughly: numerators
    and subtrahends, comparisons' directions, `not`."""
    out: dict[str, float] = {}

    def add(d: dict[str, float], k: float) -> None:
        for name, v in d.items():
            out[name] = out.get(name, 0.0) + k * v

    if isinstance(e, ir.Ref):
        if e.scope == "input":
            return {e.name: 1.0}
        return dict(env.get(e.name, {}))
    if isinstance(e, ir.Unary):
        add(_sign(e.operand, env), -1.0)
    elif isinstance(e, ir.Binary):
        left, right = _sign(e.left, env), _sign(e.right, env)
        if e.op in ("+", "*", "and", "or"):
            add(left, 1.0)
            add(right, 1.0)
        elif e.op in ("-", "/", ">=", ">"):
            add(left, 1.0)
            add(right, -1.0)
        elif e.op in ("<=", "<"):
            add(left, -1.0)
            add(right, 1.0)
    elif isinstance(e, ir.Call):
        signs = [_sign(a, env) for a in e.args]
        if e.func in ("ratio", "per_10k") and len(signs) == 2:
            add(signs[0], 1.0)
            add(signs[1], -1.0)
        elif e.func in _SIGN_CALLS:
            for sg in signs[:1] if e.func in _FIRST_SIGN_CALLS else signs:
                add(sg, 1.0)
    elif isinstance(e, ir.Cond):
        add(_sign(e.then, env), 0.5)
        add(_sign(e.orelse, env), 0.5)
    return out


def ratio_pairs(model: Model) -> dict[str, tuple[str, str]]:
    """numerator input → (denominator input, function) for every
    `ratio(a, b)` / `per_10k(a, b)` over two inputs."""
    pairs: dict[str, tuple[str, str]] = {}
    exprs = [d.expr for d in model.lets] + [i.scoring.value for i in model.indicators]
    for e in exprs:
        for node in ir.walk(e):
            if (
                isinstance(node, ir.Call)
                and node.func in ("ratio", "per_10k")
                and len(node.args) == 2
            ):
                a, b = node.args
                if (
                    isinstance(a, ir.Ref)
                    and a.scope == "input"
                    and isinstance(b, ir.Ref)
                    and b.scope == "input"
                ):
                    pairs.setdefault(a.name, (b.name, node.func))
    return pairs


def _exprs(model: Model) -> list[ir.Expr]:
    out = [d.expr for d in model.lets] + [v.condition for v in model.vetoes]
    for ind in model.indicators:
        out.extend(ind.scoring.exprs())
    out.extend(ir.event_exprs(model))
    return out


def _inputs_in(e: ir.Expr, lets: dict[str, ir.Expr]) -> list[str]:
    """The inputs `e` reads, through definitions, in order of appearance."""
    out: list[str] = []
    for node in ir.walk(e):
        if isinstance(node, ir.Ref):
            names = [node.name] if node.scope == "input" else []
            if node.scope == "let" and node.name in lets:
                names = _inputs_in(lets[node.name], lets)
            out.extend(n for n in names if n not in out)
    return out


def _numerators(e: ir.Expr, lets: dict[str, ir.Expr]) -> list[str]:
    """The inputs `e` reads outside of any divisor, through definitions."""
    match e:
        case ir.Ref(scope="input"):
            return [e.name]
        case ir.Ref():
            return _numerators(lets[e.name], lets) if e.name in lets else []
        case ir.Binary(op="/"):
            return _numerators(e.left, lets)
        case ir.Call(func="ratio" | "per_10k") if len(e.args) == 2:
            return _numerators(e.args[0], lets)
    out: list[str] = []
    for child in _children(e):
        out.extend(n for n in _numerators(child, lets) if n not in out)
    return out


def _children(e: ir.Expr) -> list[ir.Expr]:
    match e:
        case ir.Unary():
            return [e.operand]
        case ir.Binary():
            return [e.left, e.right]
        case ir.InList():
            return [e.operand, *e.options]
        case ir.Cond():
            return [e.cond, e.then, e.orelse]
        case ir.Call():
            return list(e.args)
    return []


def divisors(model: Model) -> list[str]:
    """Every input a model divides by: under the right side of `/`, the second
    argument of `ratio` / `per_10k` (through definitions), in model order."""
    lets = {d.id: d.expr for d in model.lets}
    found: list[str] = []
    for e in _exprs(model):
        for node in ir.walk(e):
            den = None
            if isinstance(node, ir.Binary) and node.op == "/":
                den = node.right
            elif isinstance(node, ir.Call) and node.func in ("ratio", "per_10k") and node.args:
                den = node.args[-1] if len(node.args) == 2 else None
            if den is not None:
                found.extend(n for n in _inputs_in(den, lets) if n not in found)
    return [f.id for f in model.inputs if f.id in found]


def polarity(model: Model) -> dict[str, int]:
    """+1 where a higher value (or `true`) scores better, -1 where lower is
    better, 0 where the model does not say."""
    env: dict[str, dict[str, float]] = {}
    for d in model.lets:
        env[d.id] = _sign(d.expr, env)
    votes: dict[str, float] = {}

    def vote(d: dict[str, float], k: float) -> None:
        for name, v in d.items():
            votes[name] = votes.get(name, 0.0) + k * v

    for ind in model.indicators:
        s = ind.scoring
        v = _sign(s.value, env)
        match s:
            case ir.PassWhen() | ir.BonusWhen() | ir.BonusPer() | ir.Score():
                vote(v, 1.0)
            case ir.Deduct():
                vote(v, -1.0)
            case ir.Linear():
                lo, hi = _const(s.low), _const(s.high)
                up = isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi > lo
                vote(v, 1.0 if up else -1.0)
            case ir.Tiers():
                if s.tiers:
                    vote(v, 1.0 if s.tiers[0].op in (">=", ">") else -1.0)
            case ir.Deductions():
                for c in s.causes:
                    vote(_sign(c.value, env), _cause_polarity(c))
            case _:
                assert_never(s)
    for veto in model.vetoes:
        vote(_sign(veto.condition, env), -2.0)
    # events (前提、清零、免检): a gate and an exemption holding is good, a zero event bad
    for ind in model.indicators:
        if ind.requires is not None:
            vote(_sign(ind.requires.condition, env), 1.0)
        for z in ind.zero:
            vote(_sign(z.condition, env), -2.0)
    for d in model.dimensions:
        for z in d.zero:
            vote(_sign(z.condition, env), -2.0)
    for ex in model.exemptions:
        vote(_sign(ex.condition, env), 1.0)
    return {name: (1 if x > 0 else -1 if x < 0 else 0) for name, x in votes.items()}


def _cause_polarity(c: ir.DeductCause) -> float:
    """+1 where a higher value of a deduction cause deducts less."""
    if c.kind == "below":
        return 1.0
    if c.kind == "tiers":
        return 1.0 if c.tiers and c.tiers[0].op in ("<", "<=") else -1.0
    return -1.0


def cut_points(model: Model) -> dict[str, list[float]]:
    """input → the constants it is compared with or scored against where the
    model uses it directly (thresholds, linear bounds, tier cut points,
    `between` bounds), sorted. Values behind definitions are reached by the
    generator's goals instead."""
    lets = {d.id: d.expr for d in model.lets}
    cuts: dict[str, set[float]] = {}

    def note(e: ir.Expr, *consts: ir.Expr | None) -> None:
        while isinstance(e, ir.Ref) and e.scope == "let" and e.name in lets:
            e = lets[e.name]
        if isinstance(e, ir.Ref) and e.scope == "input":
            for c in consts:
                v = _const(c) if c is not None else None
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    cuts.setdefault(e.name, set()).add(float(v))

    for e in _exprs(model):
        for node in ir.walk(e):
            if isinstance(node, ir.Binary) and node.op in _NEGATE:
                note(node.left, node.right)
                note(node.right, node.left)
            elif isinstance(node, ir.Call) and node.func == "between" and len(node.args) == 3:
                note(node.args[0], node.args[1], node.args[2])
    for ind in model.indicators:
        s = ind.scoring
        if isinstance(s, ir.Linear):
            note(s.value, s.low, s.high)
        elif isinstance(s, ir.Tiers):
            note(s.value, *(t.threshold for t in s.tiers))
        elif isinstance(s, ir.Deductions):
            for c in s.causes:
                note(c.value, c.threshold, *(t.threshold for t in c.tiers))
    return {f.id: sorted(cuts[f.id]) for f in model.inputs if f.id in cuts}


@dataclass
class Analysis:
    """What the generator needs to know of a model, computed once."""

    model: Model
    fields: dict[str, InputField]
    lets: dict[str, ir.Expr]
    divisors: list[str]
    signs: dict[str, int]
    cuts: dict[str, list[float]]
    top_of: dict[str, str | None]  # indicator id → its top-level dimension
    order: list[ir.Indicator] = field(default_factory=list)


def analyze(model: Model) -> Analysis:
    """The model's inputs, divisors, polarities and cut points."""
    dims = {d.id: d for d in model.dimensions}

    def top(dim: str | None) -> str | None:
        while dim is not None and dims[dim].parent is not None:
            dim = dims[dim].parent
        return dim

    lets = {d.id: d.expr for d in model.lets}
    divs = divisors(model)

    def rank(ind: ir.Indicator) -> tuple[bool, bool]:
        # indicators that set a divisor as a numerator go first, so it gets
        # its scored value before anything is divided by it; then the ones
        # measured by amounts (sums spread a goal over several inputs), then
        # the ones decided by conditions and counts of them, which an input's
        # amount already decides
        e = ind.scoring.value
        while isinstance(e, ir.Ref) and e.scope == "let" and e.name in lets:
            e = lets[e.name]
        by_condition = e.type == "bool" or (isinstance(e, ir.Call) and e.func == "count")
        return (not any(n in divs for n in _numerators(e, lets)), by_condition)

    order = sorted(model.indicators, key=rank)
    return Analysis(
        model,
        {f.id: f for f in model.inputs},
        lets,
        divs,
        polarity(model),
        cut_points(model),
        {i.id: top(i.dimension) for i in model.indicators},
        order,
    )


# ---------------------------------------------------------------- evaluating what is known


def _num(v: Any) -> Any:
    """Decimals (and other numbers) as floats; everything else as is."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, dt.date)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _const(e: ir.Expr | None) -> Any:
    return _eval(e, {}, {}) if e is not None else None


_SIGN_CALLS = ("min", "max", "clamp", "coalesce", "default", "count", "round", "floor", "ceil")
_SIGN_CALLS = (*_SIGN_CALLS, "between")
_FIRST_SIGN_CALLS = ("clamp", "round", "floor", "ceil", "between")

_CALLS = {
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "abs": abs,
    "clamp": lambda x, lo, hi: min(max(x, lo), hi),
    "round": lambda x, n=0: round(x, int(n)),
    "floor": math.floor,
    "ceil": math.ceil,
    "between": lambda x, lo, hi: lo <= x <= hi,
    "set_has": lambda s, mask: s & mask != 0,  # a set input is a bitmask (zhili.dsl.sets)
    "set_count": lambda s: s.bit_count(),
}


def _arith(op: str, a: Any, b: Any) -> Any:
    match op:
        case "+":
            return a + b
        case "-":
            return a - b
        case "*":
            return a * b
        case "/":
            return a / b if b else None
        case "==":
            return a == b
        case "!=":
            return a != b
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
        case ">=":
            return a >= b
    return None


def _eval(e: ir.Expr, values: dict[str, Any], lets: dict[str, ir.Expr]) -> Any:
    """`e`'s value from the inputs assigned so far, or None when it depends on
    one not yet assigned (or divides by zero). A sketch of the engine's
    semantics, enough to steer the generator; the data is checked with the
    real engine in the tests."""
    match e:
        case ir.Const():
            return _num(e.value)
        case ir.Ref():
            if e.scope == "input":
                return values.get(e.name)
            return _eval(lets[e.name], values, lets) if e.name in lets else None
        case ir.Unary():
            v = _eval(e.operand, values, lets)
            return None if v is None else (not v if e.op == "not" else -v)
        case ir.Binary() if e.op in ("and", "or"):
            a, b = _eval(e.left, values, lets), _eval(e.right, values, lets)
            short = e.op == "or"  # the value that decides alone
            if a is short or b is short:
                return short
            return None if a is None or b is None else not short
        case ir.Binary():
            a, b = _eval(e.left, values, lets), _eval(e.right, values, lets)
            if a is None or b is None:
                return None
            try:
                return _arith(e.op, a, b)
            except TypeError:
                return None
        case ir.Cond():
            c = _eval(e.cond, values, lets)
            return None if c is None else _eval(e.then if c else e.orelse, values, lets)
        case ir.InList():
            v = _eval(e.operand, values, lets)
            if v is None:
                return None
            hit = v in [_eval(o, values, lets) for o in e.options]
            return hit != e.negated
        case ir.Call():
            return _call(e, values, lets)
        case _:
            assert_never(e)


def _call(e: ir.Call, values: dict[str, Any], lets: dict[str, ir.Expr]) -> Any:
    args = [_eval(a, values, lets) for a in e.args]
    if e.func in ("coalesce", "default"):
        return next((a for a in args if a is not None), None)
    if e.func == "count":
        return sum(1 for a in args if a is True)
    if any(a is None for a in args):
        return None
    try:
        if e.func in ("ratio", "per_10k") and len(args) == 2:
            a, b = args
            return None if not b else a / b * (10_000 if e.func == "per_10k" else 1)
        fn = _CALLS.get(e.func)
        return fn(*args) if fn is not None else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- one community


def _step(e: ir.Expr) -> float:
    """The smallest difference worth making in a value of `e`'s type."""
    return {"int": 1.0, "percent": 0.001}.get(e.type, 0.01)


class _Row:
    """One community's inputs, assigned by working goals back to inputs:
    `want(expr, goal, lean)` makes `expr` evaluate to `goal` (a bool, a
    number or an enum value) as far as the inputs not yet assigned allow;
    `lean` says which way to round (+1 up, -1 down, 0 nearest)."""

    def __init__(self, an: Analysis, rng: random.Random):
        self.an = an
        self.rng = rng
        self.values: dict[str, Any] = {}
        self.force = False

    def eval(self, e: ir.Expr) -> Any:
        return _eval(e, self.values, self.an.lets)

    # -- inputs

    def size(self, name: str) -> None:
        """Give a divisor a value away from 0 (0 only in the edge share)."""
        f = self.an.fields.get(name)
        if f is None or name in self.values or f.type not in ("int", "number", "percent"):
            return
        lo = f.min if f.min is not None else 0.0
        hi = f.max if f.max is not None else (1.0 if f.type == "percent" else max(lo, 0) + 1000)
        if lo <= 0 <= hi and self.rng.random() < EDGE_RATE:
            self.values[name] = 0
            return
        eps = {"int": 1.0, "percent": 0.001}.get(f.type, 0.01)
        if hi >= eps:  # communities are mostly not the largest
            low = max(lo, eps)
            v = self.rng.uniform(low, low + (hi - low) * (1.0 if f.type == "percent" else 0.3))
        elif lo <= -eps:
            top = min(hi, -eps)
            v = self.rng.uniform(top - (top - lo) * 0.3, top)
        else:
            v = 0.0
        self.values[name] = self._number(f, v, 0)

    def assign(self, name: str, goal: Any, lean: int) -> None:
        f = self.an.fields.get(name)
        if f is None or (name in self.values and not self.force):
            return
        if f.type == "bool":
            if isinstance(goal, bool):
                self.values[name] = goal
        elif f.type in ("enum", "text"):
            if isinstance(goal, str):
                self.values[name] = goal
        elif f.type == "date":
            if isinstance(goal, dt.date):
                self.values[name] = goal
        elif isinstance(goal, (int, float)) and not isinstance(goal, bool):
            self.values[name] = self._number(f, float(goal), lean)

    def _number(self, f: InputField, v: float, lean: int) -> float | int:
        lo = f.min if f.min is not None else (0.0 if f.type != "number" else -math.inf)
        hi = f.max if f.max is not None else (1.0 if f.type == "percent" else math.inf)
        scale = {"int": 1, "percent": 10_000}.get(f.type, 100)  # the places written
        x = min(max(v, lo, -1e12), hi, 1e12) * scale
        x = math.ceil(x - 1e-7) if lean > 0 else math.floor(x + 1e-7) if lean < 0 else round(x)
        x = min(max(x / scale, lo), hi)
        if x == 0 and f.id in self.an.divisors:
            x = min(hi, 1 / scale if f.type != "int" else 1)  # zero only in the edge share
        return int(round(x)) if f.type == "int" else x

    # -- goals

    def want(self, e: ir.Expr, goal: Any, lean: int = 0) -> None:
        if goal is None or (isinstance(goal, float) and not math.isfinite(goal)):
            return
        match e:
            case ir.Const():
                return
            case ir.Ref():
                if e.scope == "input":
                    self.assign(e.name, goal, lean)
                elif e.name in self.an.lets:
                    self.want(self.an.lets[e.name], goal, lean)
            case ir.Unary():
                if e.op == "not":
                    self.want(e.operand, not goal if isinstance(goal, bool) else None)
                elif isinstance(goal, (int, float)):
                    self.want(e.operand, -goal, -lean)
            case ir.Binary() if e.op in ("and", "or"):
                self._logic(e, bool(goal))
            case ir.Binary() if e.op in _NEGATE:
                if isinstance(goal, bool):
                    self._compare(e, goal)
            case ir.Binary():
                if isinstance(goal, (int, float)) and not isinstance(goal, bool):
                    self._arith(e.op, e.left, e.right, float(goal), lean)
            case ir.Cond():
                c = self.eval(e.cond)
                if c is None:  # the else branch is the usual one (the `if` guards an edge)
                    self.want(e.cond, False)
                    c = self.eval(e.cond)
                self.want(e.then if c else e.orelse, goal, lean)
            case ir.InList():
                self._member(e, bool(goal))
            case ir.Call():
                self._call(e, goal, lean)
            case _:
                assert_never(e)

    def _logic(self, e: ir.Binary, goal: bool) -> None:
        parts = [e.left, e.right]
        if goal == (e.op == "and"):  # every part must give the goal
            for p in parts:
                self.want(p, goal)
        else:  # one part is enough
            if any(self.eval(p) is goal for p in parts):
                return
            self.want(parts[self.rng.random() < 0.5], goal)

    def _arith(self, op: str, left: ir.Expr, right: ir.Expr, goal: float, lean: int) -> None:
        lv, rv = _num(self.eval(left)), _num(self.eval(right))
        if op == "/" and rv is None:
            for name in _inputs_in(right, self.an.lets):
                self.size(name)
            rv = _num(self.eval(right))
        lv = lv if isinstance(lv, (int, float)) else None
        rv = rv if isinstance(rv, (int, float)) else None
        match op:
            case "+":
                if rv is None and lv is None:  # split between the terms
                    nl = max(len(_inputs_in(left, self.an.lets)), 1)
                    nr = max(len(_inputs_in(right, self.an.lets)), 1)
                    self.want(left, goal * nl / (nl + nr), lean)
                    lv = _num(self.eval(left))
                if rv is not None:
                    self.want(left, goal - rv, lean)
                elif isinstance(lv, (int, float)):
                    self.want(right, goal - lv, lean)
            case "-":
                if rv is not None:
                    self.want(left, goal + rv, lean)
                elif lv is not None:
                    self.want(right, lv - goal, -lean)
                else:
                    self.want(left, goal, lean)
            case "*":
                if rv:
                    self.want(left, goal / rv, lean if rv > 0 else -lean)
                elif lv:
                    self.want(right, goal / lv, lean if lv > 0 else -lean)
            case "/":
                if rv:
                    self.want(left, goal * rv, lean if rv > 0 else -lean)
                elif lv and goal:
                    self.want(right, lv / goal, -lean if lv / goal > 0 else lean)

    def _target(self, op: str, c: Any, step: float, bound: float | None = None) -> Any:
        """A value that satisfies `x op c`: at, just past or further past the
        cut point (never past `bound`, the next cut point, when given)."""
        if isinstance(c, dt.date):
            days = dt.timedelta(days=self.rng.choice((0, 1, 30, 365)))
            return {">=": c + days, ">": c + days + dt.timedelta(1), "<=": c - days}.get(
                op, c - days - dt.timedelta(1) if op == "<" else c
            )
        if not isinstance(c, (int, float)) or isinstance(c, bool):
            return c if op == "==" else None
        r = self.rng.random()
        far = abs(c) * 0.3 + step * 5
        if bound is not None:
            far = max(abs(bound - c) - step, 0.0)
        past = 0.0 if r < 0.45 else step if r < 0.7 else step + self.rng.uniform(0, far)
        if bound is not None:
            past = min(past, max(abs(bound - c) - step, 0.0))
        match op:
            case ">=":
                return c + past
            case ">":
                return c + step + past
            case "<=":
                return c - past
            case "<":
                return c - step - past
            case "==":
                return c
            case _:
                return c + step if r < 0.5 else c - step

    def _compare(self, e: ir.Binary, goal: bool) -> None:
        if self.eval(e) is goal:
            return
        op = e.op if goal else _NEGATE[e.op]
        side, other = e.left, _num(self.eval(e.right))
        if other is None:
            side, other, op = e.right, _num(self.eval(e.left)), _MIRROR[op]
        if other is None:
            return
        if isinstance(other, str) and op == "!=":
            other = self._other_value(side, other)
            op = "=="
        target = self._target(op, other, _step(side))
        lean = 1 if op in (">=", ">") else -1 if op in ("<=", "<") else 0
        self.want(side, target, lean)

    def _other_value(self, e: ir.Expr, value: Any) -> Any:
        f = self.an.fields.get(e.name) if isinstance(e, ir.Ref) else None
        others = [v for v in (f.values if f else []) if v != value]
        return self.rng.choice(others) if others else None

    def _member(self, e: ir.InList, goal: bool) -> None:
        options = [_num(self.eval(o)) for o in e.options]
        if goal != e.negated:
            if options:
                self.want(e.operand, self.rng.choice(options))
            return
        f = self.an.fields.get(e.operand.name) if isinstance(e.operand, ir.Ref) else None
        others = [v for v in (f.values if f else []) if v not in options]
        if others:
            self.want(e.operand, self.rng.choice(others))

    def _set_goal(self, e: ir.Call, goal: Any) -> None:
        """`set_has(S, mask)` aimed at true/false, `set_count(S)` at a number:
        the selection of the set input S changed to give it."""
        ref = e.args[0]
        f = self.an.fields.get(ref.name) if isinstance(ref, ir.Ref) else None
        if f is None or f.type != "set" or (ref.name in self.values and not self.force):
            return
        current = self.values.get(ref.name) or 0
        if e.func == "set_has" and isinstance(goal, bool) and isinstance(e.args[1], ir.Const):
            mask = int(e.args[1].value)
            self.values[ref.name] = current | mask if goal else current & ~mask
        elif e.func == "set_count" and isinstance(goal, (int, float)):
            n = min(max(int(math.ceil(goal - 1e-9)), 0), len(f.values))
            self.values[ref.name] = sum(1 << i for i in self.rng.sample(range(len(f.values)), n))

    def _call(self, e: ir.Call, goal: Any, lean: int) -> None:
        args = e.args
        if e.func in ("set_has", "set_count") and args:
            self._set_goal(e, goal)
        elif e.func in ("ratio", "per_10k") and len(args) == 2:
            k = 10_000 if e.func == "per_10k" else 1
            self._arith("/", args[0], args[1], float(goal) / k, lean)
        elif e.func == "count" and isinstance(goal, (int, float)):
            n = min(max(int(math.ceil(goal - 1e-9) if lean > 0 else round(goal)), 0), len(args))
            picked = set(self.rng.sample(range(len(args)), n))
            for i, a in enumerate(args):
                self.want(a, i in picked)
        elif e.func == "between" and len(args) == 3 and isinstance(goal, bool):
            lo, hi = _num(self.eval(args[1])), _num(self.eval(args[2]))
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
                step = _step(args[0])
                if goal:
                    t = self.rng.choice((lo, hi, self.rng.uniform(lo, hi)))
                else:
                    t = lo - step if self.rng.random() < 0.5 else hi + step
                self.want(args[0], t, 0)
        elif e.func == "clamp" and len(args) == 3:
            lo, hi = _num(self.eval(args[1])), _num(self.eval(args[2]))
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
                self.want(args[0], min(max(float(goal), lo), hi), lean)
        elif (
            e.func in ("coalesce", "default", "min", "max", "abs", "round", "floor", "ceil")
            and args
        ):
            for a in args if e.func in ("coalesce", "min", "max") else args[:1]:
                self.want(a, goal, lean)

    # -- scoring forms

    def score(self, ind: ir.Indicator, level: float) -> None:
        """Aim `ind` at about `level` (0..1) of its points."""
        s = ind.scoring
        rng = self.rng
        match s:
            case ir.PassWhen() | ir.BonusWhen():
                self.want(s.value, rng.random() < level)
            case ir.Linear():
                lo, hi = _num(self.eval(s.low)), _num(self.eval(s.high))
                if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
                    return
                r = rng.random()
                # a share of the rows exactly at a bound, the others spread
                # over the range and a little past both ends
                f = level * 1.3 - 0.15
                f = float(f >= 0.5) if r < 0.1 else f + rng.gauss(0, 0.05)
                direction = 1 if hi >= lo else -1
                lean = direction if f >= 1 else -direction if f <= 0 else 0
                self.want(s.value, lo + f * (hi - lo), lean)
            case ir.Tiers():
                self._tiers(s, level)
            case ir.Deduct():
                cap = s.cap if s.cap is not None else ind.points
                steps = math.ceil(cap / s.per) if s.per > 0 else 1
                n = round((1 - level) * (steps + 1) * 1.1 + rng.gauss(0, 0.5) - 0.3)
                self.want(s.value, max(n, 0), 0)
            case ir.BonusPer():
                cap = s.cap if s.cap is not None else ind.points
                steps = math.ceil(cap / s.per) if s.per > 0 else 1
                n = round(level * (steps + 1) * rng.random() * 1.3)
                self.want(s.value, max(n, 0), 0)
            case ir.Score():
                # a score given by another body: about `level` of the points
                aim = round(level * ind.points + rng.gauss(0, 0.1 * ind.points))
                self.want(s.value, min(max(aim, 0), ind.points), 0)
            case ir.Deductions():
                for c in s.causes:
                    self._cause(c, level, ind.points)
            case _:
                assert_never(s)

    def _cause(self, c: ir.DeductCause, level: float, full: float) -> None:
        """Aim one deduction cause at about `level` (1: deducts nothing)."""
        rng = self.rng
        if c.kind == "when":
            self.want(c.value, rng.random() > level)
            return
        if c.kind == "tiers":
            most = max([t.points for t in c.tiers] + [c.else_points])
            earned = [
                ir.Tier(op=t.op, threshold=t.threshold, points=most - t.points) for t in c.tiers
            ]
            tiers = ir.Tiers(value=c.value, tiers=earned, else_points=most - c.else_points)
            self._tiers(tiers, level)
            return
        cap = c.cap if c.cap is not None else full
        steps = math.ceil(cap / c.amount) if c.amount > 0 else 1
        n = max(round((1 - level) * (steps + 1) * 1.1 + rng.gauss(0, 0.5) - 0.3), 0)
        if c.kind == "per":
            self.want(c.value, n, 0)
            return
        t = _num(self.eval(c.threshold))
        if not isinstance(t, (int, float)):
            return
        off = n * (c.step or 1.0) + (rng.random() * (c.step or 1.0) if n else 0.0)
        self.want(c.value, t - off if c.kind == "below" else t + off, 0)

    def _tiers(self, s: ir.Tiers, level: float) -> None:
        """Land in the tier whose points are closest to `level` of the best
        tier's: at its cut point, just past it or between it and the next."""
        tiers = [t for t in s.tiers if t.op is not None and t.threshold is not None]
        if not tiers:
            return
        points = [t.points for t in tiers] + [s.else_points]
        best = max(points) or 1.0
        aim = level * best + self.rng.gauss(0, 0.12 * best)
        i = min(range(len(points)), key=lambda k: (abs(points[k] - aim), k))
        if i == len(tiers):  # the else: every tier's condition false, just past the last
            t = tiers[-1]
            c = _num(self.eval(t.threshold))
            target = self._target(_NEGATE[t.op], c, _step(s.value))
            lean = -1 if t.op in (">=", ">") else 1 if t.op in ("<=", "<") else 0
        else:
            t = tiers[i]
            c = _num(self.eval(t.threshold))
            prev = _num(self.eval(tiers[i - 1].threshold)) if i > 0 else None
            bound = prev if isinstance(prev, (int, float)) and isinstance(c, (int, float)) else None
            target = self._target(t.op, c, _step(s.value), bound)
            lean = 1 if t.op in (">=", ">") else -1 if t.op in ("<=", "<") else 0
        if target is not None:
            self.want(s.value, target, lean)

    # -- the rest

    def fill(self, quality: float) -> None:
        """Inputs no goal reached: divisors get a size; the others follow
        the community's standing and their polarity, near their cut points."""
        for name in self.an.divisors:
            self.size(name)
        for f in self.an.model.inputs:
            if f.id not in self.values:
                self.values[f.id] = _value(
                    f, self.rng, quality, self.an.signs.get(f.id, 0), self.an.cuts.get(f.id)
                )

    def vetoes(self, rate: float) -> None:
        """One veto triggered in about `rate` of the rows, none in the others."""
        vetoes = self.an.model.vetoes
        if not vetoes:
            return
        hit = self.rng.randrange(len(vetoes)) if self.rng.random() < rate else -1
        self.force = True
        for i, v in enumerate(vetoes):
            if self.eval(v.condition) is not (i == hit):
                self.want(v.condition, i == hit)
        self.force = False
        for i, v in enumerate(vetoes):  # a later veto's change may trigger an earlier one
            if i != hit and self.eval(v.condition) is True:
                self.force = True
                self.want(v.condition, False)
                self.force = False


def _value(f: InputField, rng: random.Random, quality: float, sign: int, cuts) -> Any:
    """An input no goal set: near one of its cut points when it has any,
    else following the community's standing (`quality`, 0..1) where higher
    (+1) or lower (-1) is better, uniform where the model does not say."""
    u = min(max(quality + rng.gauss(0, 0.08), 0.0), 1.0) if sign else rng.random()
    if sign < 0:
        u = 1.0 - u
    t = f.type
    if t == "bool":
        return rng.random() < (0.15 + 0.8 * u if sign else 0.7)
    if t == "enum":
        return rng.choice(f.values) if f.values else ""
    if t == "set":  # each listed value selected more often in a better community
        chance = 0.25 + 0.6 * u
        return sum(1 << i for i in range(len(f.values)) if rng.random() < chance)
    if t == "date":
        return dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650))
    if t == "text":
        return rng.choice(["已整改", "持续推进", "示范点"])  # empty only as missing
    lo = f.min if f.min is not None else 0.0
    hi = f.max if f.max is not None else (1.0 if t == "percent" else lo + 50)
    if cuts and rng.random() < 0.7:
        c = rng.choice(cuts)
        step = {"int": 1.0, "percent": 0.001}.get(t, 0.01)
        v = c + rng.choice((-step, 0.0, step))
    elif t == "int" and sign < 0 and rng.random() < 0.55 + 0.45 * quality:
        v = lo  # counts of bad things (accidents, complaints) are mostly zero
    else:
        v = lo + (hi - lo) * (u**3 if t == "int" and sign < 0 else u)
    v = min(max(v, lo), hi)
    return int(round(v)) if t == "int" else round(v, 4 if t == "percent" else 2)


# ---------------------------------------------------------------- rows and files


def _standing(rng: random.Random, an: Analysis) -> tuple[float, dict[str | None, float], float]:
    """A community's profile: its standing, each top-level dimension's, and
    how much its indicators vary around them."""
    r, acc = rng.random(), 0.0
    profile = PROFILES[-1]
    for p in PROFILES:
        acc += p[0]
        if r < acc:
            profile = p
            break
    _share, (lo, hi), dim_spread, ind_spread = profile
    q = rng.uniform(lo, hi)
    tops: list[str | None] = [d.id for d in an.model.top_dimensions] + [None]
    dims = {d: min(max(q + rng.gauss(0, dim_spread), 0.0), 1.0) for d in tops}
    if len(tops) > 2 and rng.random() < UNEVEN:
        d = rng.choice(tops[:-1])
        dims[d] = min(max(dims[d] + rng.choice((-0.35, 0.35)), 0.0), 1.0)
    return q, dims, ind_spread


def _community(an: Analysis, rng: random.Random, veto_rate: float) -> dict[str, Any]:
    """One community's inputs (in model units; None: not assigned)."""
    q, dims, spread = _standing(rng, an)
    row = _Row(an, rng)
    for ind in an.order:
        level = min(max(dims[an.top_of[ind.id]] + rng.gauss(0, spread), 0.0), 1.0)
        row.score(ind, level)
    row.fill(q)
    row.vetoes(veto_rate)
    return row.values


def _cell(f: InputField, v: Any) -> Any:
    """A value as the data files write it."""
    if v is None:
        return ""
    match f.type:
        case "bool":
            return "是" if v else "否"
        case "percent":
            return _decimal(float(v) * 100, 2) + "%"
        case "int":
            return str(int(round(v)))
        case "number":
            return _decimal(float(v), 2)
        case "date":
            return v.isoformat() if isinstance(v, dt.date) else str(v)
        case "set":
            return sets.text(int(v), f.values)
    return str(v)


def _decimal(x: float, places: int) -> str:
    text = f"{x:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def sample_header(model: Model) -> list[str]:
    return HEADER + [f.label or f.id for f in model.inputs]


def iter_rows(
    model: Model,
    rows: int,
    seed: int = 0,
    missing_rate: float = 0.03,
    veto_rate: float = DEFAULT_VETO_RATE,
) -> Iterator[list[str]]:
    """`rows` synthetic communities for `model` (see the module docstring),
    one list of CSV cells at a time."""
    rng = random.Random(seed)
    an = analyze(model)
    for i in range(rows):
        district = DISTRICTS[i % len(DISTRICTS)] if rows > 1 else DISTRICTS[0]
        street = STREETS[(i * 7 + rng.randrange(len(STREETS))) % len(STREETS)]
        name = NAMES[i % len(NAMES)] + ("社区" if i < len(NAMES) else f"{i // len(NAMES) + 1}社区")
        row = [f"S-{i + 1:06d}", district, street, name]
        values = _community(an, rng, veto_rate)
        for f in model.inputs:
            missing = rng.random() < missing_rate
            row.append("" if missing else _cell(f, values.get(f.id)))
        yield row


def sample_rows(
    model: Model,
    rows: int,
    seed: int = 0,
    missing_rate: float = 0.03,
    veto_rate: float = DEFAULT_VETO_RATE,
) -> tuple[list[str], list[list[str]]]:
    """The header and `rows` synthetic communities for `model`, as the CSV's cells."""
    return sample_header(model), list(iter_rows(model, rows, seed, missing_rate, veto_rate))


def write_sample(
    model: Model,
    path: Path,
    rows: int,
    seed: int = 0,
    missing_rate: float = 0.03,
    veto_rate: float = DEFAULT_VETO_RATE,
) -> None:
    """Write `rows` synthetic communities for `model` to `path` as CSV,
    atomically, one row at a time (a million rows need no more memory than one)."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(sample_header(model))
            w.writerows(iter_rows(model, rows, seed, missing_rate, veto_rate))

    atomic_write(path, write)
