"""Generate a synthetic model of DESIGN.md's benchmark shape: 133 criteria in
4 dimensions over ~60 numeric inputs, mixing every scoring form, with vetoes
and grades. Used by the benchmarks (and reproducible by seed)."""

from __future__ import annotations

import random


def generate_model(
    criteria: int = 133, inputs: int = 60, dimensions: int = 4, seed: int = 0
) -> str:
    rng = random.Random(seed)
    lines = [
        f'model bench_{criteria} "合成基准模型（{criteria}条）"',
        'version "1.0"',
        'issuer "zhili benchmarks"',
        'source "synthetic"',
        f"total {dimensions * 100}",
        "",
    ]
    kinds = []
    for i in range(inputs):
        kind = ["int", "number", "percent"][i % 3]
        kinds.append(kind)
        if kind == "percent":
            lines.append(f'input x{i}: percent label "指标{i}比例" range 0%..100%')
        elif kind == "int":
            lines.append(f'input x{i}: int label "指标{i}数量" unit "个" range 0..100')
        else:
            lines.append(f'input x{i}: number label "指标{i}数值" range 0..1000')
    lines.append("let ratio_a = ratio(x0, x3 + 1)")
    lines.append("let density = per_10k(x1, x4 + 1)")
    lines.append("")
    per_dim = [
        criteria // dimensions + (1 if d < criteria % dimensions else 0) for d in range(dimensions)
    ]
    used = 0
    for d in range(dimensions):
        n = per_dim[d]
        # points: spread 100 over n indicators in whole/half points
        base = [1.0] * n
        remaining = 100 - n
        for _ in range(int(remaining * 2)):
            base[rng.randrange(n)] += 0.5
        lines.append(f'dimension d{d} "维度{d}" points 100 {{')
        for k in range(n):
            idx = used + k
            p = base[k]
            var = f"x{rng.randrange(inputs)}"
            kind = kinds[int(var[1:])]
            form = idx % 5
            lines.append(f'    indicator c{idx} "细则{idx}" points {p:g} {{')
            if kind == "percent":
                thr = ["95%", "80%", "60%"]
                unit = ""
            else:
                hi = 100 if kind == "int" else 1000
                thr = [str(int(hi * 0.8)), str(int(hi * 0.5)), str(int(hi * 0.2))]
                unit = ""
            if form == 0:
                lines.append(f"        pass when {var} >= {thr[1]}{unit}")
            elif form == 1:
                lines.append(f"        linear {var} from {thr[2]} to {thr[0]}")
            elif form == 2:
                lines.append(
                    f"        tiers {var} {{ >= {thr[0]} : {p:g}  >= {thr[1]} : {p / 2:g}  >= {thr[2]} : {p / 4:g} }}"
                )
            elif form == 3:
                cnt = f"x{rng.randrange(inputs // 3) * 3}"  # an int input
                lines.append(f"        deduct 0.5 per {cnt} max {p:g}")
            else:
                other = f"x{rng.randrange(inputs)}"
                okind = kinds[int(other[1:])]
                othr = "50%" if okind == "percent" else ("50" if okind == "int" else "500")
                lines.append(
                    f"        pass when {var} >= {thr[2]} and ({other} >= {othr} or ratio_a > 20%)"
                )
            if idx % 7 == 0:
                lines.append("        missing skip")
            lines.append("    }")
        lines.append(f'    veto v{d} "否决{d}" when x{d * 3} > 98 caps "合格"')
        lines.append("}")
        used += n
    lines.append('indicator bonus1 "加分" points 5 { bonus 1 per x6 max 5 }')
    lines.append("grades {")
    lines.append('    "优秀" when not vetoed and min_dimension >= 80% and density >= 0')
    lines.append(f'    "良好" when total >= {dimensions * 70}')
    lines.append(f'    "合格" when total >= {dimensions * 50}')
    lines.append('    "不合格" otherwise')
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(generate_model())
