"""Synthetic community data consistent with a model's inputs (`zhili sample`).

Reproducible by seed; the demo and benchmark data source. Values respect
each input's type and range; about `missing_rate` of optional and required
cells are left empty so missing-data handling is exercised. The data is
synthetic and says so in its community names' source column.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any, assert_never

from zhili.dsl import model as ir
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


def _sign(e: ir.Expr, env: dict[str, float]) -> dict[str, float]:
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
        elif e.op in ("-", "/"):
            add(left, 1.0)
            add(right, -1.0)
        elif e.op in (">=", ">"):
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
        elif e.func in ("min", "max", "clamp", "coalesce", "default", "count", "round", "between"):
            for sg in signs[:1] if e.func in ("clamp", "round", "between") else signs:
                add(sg, 1.0)
    elif isinstance(e, ir.Cond):
        add(_sign(e.then, env), 0.5)
        add(_sign(e.orelse, env), 0.5)
    return out


def ratio_pairs(model: Model) -> dict[str, tuple[str, str]]:
    """numerator input → (denominator input, function) for every
    `ratio(a, b)` / `per_10k(a, b)` over two inputs, so generated numerators
    stay in proportion to their denominators."""
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
            case ir.PassWhen() | ir.BonusWhen() | ir.BonusPer():
                vote(v, 1.0)
            case ir.Deduct():
                vote(v, -1.0)
            case ir.Linear():
                up = (
                    isinstance(s.low, ir.Const)
                    and isinstance(s.high, ir.Const)
                    and s.high.value > s.low.value
                )
                vote(v, 1.0 if up else -1.0)
            case ir.Tiers():
                if s.tiers:
                    vote(v, 1.0 if s.tiers[0].op in (">=", ">") else -1.0)
            case _:
                assert_never(s)
    for veto in model.vetoes:
        vote(_sign(veto.condition, env), -2.0)
    return {name: (1 if x > 0 else -1 if x < 0 else 0) for name, x in votes.items()}


def _value(f: InputField, rng: random.Random, quality: float, sign: int) -> Any:
    """One cell. `quality` in [0, 1] is the community's overall standing;
    inputs where higher is better follow it, inputs where lower is better
    go against it, the rest are uniform."""
    u = min(max(quality + rng.gauss(0, 0.08), 0.0), 1.0) if sign else rng.random()
    if sign < 0:
        u = 1.0 - u
    t = f.type
    if t == "bool":
        return "是" if rng.random() < (0.15 + 0.8 * u if sign else 0.7) else "否"
    if t == "enum":
        return rng.choice(f.values) if f.values else ""
    if t == "date":
        return f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if t == "text":
        return rng.choice(["", "已整改", "持续推进", "示范点"])
    lo = f.min if f.min is not None else 0.0
    if t == "percent":
        hi = f.max if f.max is not None else 1.0
        if sign > 0:
            lo = lo + (hi - lo) * 0.5  # shares of good things are mostly high
        elif f.min is None:
            lo = max(lo, hi - 0.5)
        return f"{(lo + (hi - lo) * u) * 100:.1f}%"
    hi = f.max if f.max is not None else lo + 50
    if t == "int":
        if sign < 0:
            # counts of bad things (accidents, complaints) are mostly zero
            if rng.random() < 0.55 + 0.45 * quality:
                return int(lo)
            u = u**3
        return int(round(lo + (hi - lo) * u))
    return round(lo + (hi - lo) * u, 2)


def sample_rows(
    model: Model, rows: int, seed: int = 0, missing_rate: float = 0.03
) -> tuple[list[str], list[list]]:
    rng = random.Random(seed)
    signs = polarity(model)
    pairs = ratio_pairs(model)
    header = HEADER + [f.label or f.id for f in model.inputs]
    out = []
    for i in range(rows):
        district = DISTRICTS[i % len(DISTRICTS)] if rows > 1 else DISTRICTS[0]
        street = STREETS[(i * 7 + rng.randrange(len(STREETS))) % len(STREETS)]
        name = NAMES[i % len(NAMES)] + ("社区" if i < len(NAMES) else f"{i // len(NAMES) + 1}社区")
        row: list = [f"S-{i + 1:06d}", district, street, name]
        quality = rng.random() ** 0.5  # most communities do fairly well
        values: dict[str, Any] = {}
        # denominators first, so numerators can follow them
        order = sorted(model.inputs, key=lambda f: f.id in pairs)
        for f in order:
            if rng.random() < missing_rate:
                values[f.id] = ""
                continue
            den = pairs.get(f.id)
            base = values.get(den[0]) if den else None
            if isinstance(base, (int, float)) and base > 0 and f.type in ("int", "number"):
                u = min(max(quality + rng.gauss(0, 0.08), 0.0), 1.0)
                if signs.get(f.id, 0) < 0:
                    u = 1.0 - u
                share = u if den[1] == "ratio" else u * 30 / 10_000  # up to 30 per 10,000
                v = base * share
                if f.max is not None:
                    v = min(v, f.max)
                values[f.id] = int(round(v)) if f.type == "int" else round(v, 2)
            else:
                values[f.id] = _value(f, rng, quality, signs.get(f.id, 0))
        row.extend(values[f.id] for f in model.inputs)
        out.append(row)
    return header, out


def write_sample(
    model: Model, path: Path, rows: int, seed: int = 0, missing_rate: float = 0.03
) -> None:
    """Write `rows` synthetic communities for `model` to `path` as CSV, atomically."""
    header, data = sample_rows(model, rows, seed, missing_rate)

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(data)

    atomic_write(path, write)
