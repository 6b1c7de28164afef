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
from typing import Any

from zhili.dsl.model import InputField, Model

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


def _value(f: InputField, rng: random.Random) -> Any:
    t = f.type
    if t == "bool":
        return "是" if rng.random() < 0.8 else "否"
    if t == "enum":
        return rng.choice(f.values) if f.values else ""
    if t == "date":
        return f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if t == "text":
        return rng.choice(["", "已整改", "持续推进", "示范点"])
    lo = f.min if f.min is not None else 0.0
    if t == "percent":
        hi = f.max if f.max is not None else 1.0
        lo = max(lo, hi - 0.5) if f.min is None else lo
        # skew towards the top: most communities do well on shares
        x = lo + (hi - lo) * (1 - rng.random() ** 2)
        return f"{x * 100:.1f}%"
    hi = f.max if f.max is not None else lo + 50
    if t == "int":
        if f.max is None and f.min is None:
            hi = 50
        # counts are skewed low (few accidents, few complaints, …)
        x = lo + (hi - lo) * rng.random() ** 2
        return int(round(x))
    x = lo + (hi - lo) * rng.random()
    return round(x, 2)


def sample_rows(
    model: Model, rows: int, seed: int = 0, missing_rate: float = 0.03
) -> tuple[list[str], list[list]]:
    rng = random.Random(seed)
    header = HEADER + [f.label or f.id for f in model.inputs]
    out = []
    for i in range(rows):
        district = DISTRICTS[i % len(DISTRICTS)] if rows > 1 else DISTRICTS[0]
        street = STREETS[(i * 7 + rng.randrange(len(STREETS))) % len(STREETS)]
        name = NAMES[i % len(NAMES)] + ("社区" if i < len(NAMES) else f"{i // len(NAMES) + 1}社区")
        row: list = [f"S-{i + 1:06d}", district, street, name]
        for f in model.inputs:
            row.append("" if rng.random() < missing_rate else _value(f, rng))
        out.append(row)
    return header, out


def write_sample(
    model: Model, path: Path, rows: int, seed: int = 0, missing_rate: float = 0.03
) -> None:
    header, data = sample_rows(model, rows, seed, missing_rate)
    tmp = path.with_name(path.name + ".zhili-tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(data)
    tmp.replace(path)
