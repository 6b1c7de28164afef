"""The sweep of issue 12: 1,503 communities, rate from 50.0% to 100.0% in
steps of 0.1% and 0, 1 or 2 deductions of 0.1, scored by `linear rate from
50% to 100%` on 40 points plus `deduct 0.1 per n` on 10, graded by
thresholds that many totals hit exactly. With binary arithmetic 4 grades
came out wrong in both backends; every grade must equal the one an exact
rational computation of the model's rule gives, in both backends, and the
printed total must be the exact one.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.io import data

SOURCE = """model sweep "达标率"
version "1"
issuer "测试"
source "测试"
total 50
input rate: percent
input n: int
indicator r "达标率" points 40 { linear rate from 50% to 100% }
indicator d "扣分" points 10 { deduct 0.1 per n }
grades {
    "优秀" when total >= 48.8
    "良好" when total >= 28
    "合格" when total >= 18
    "基本合格" when total >= 17.9
    "不合格" otherwise
}
"""
THRESHOLDS = [
    ("优秀", Fraction("48.8")),
    ("良好", Fraction(28)),
    ("合格", Fraction(18)),
    ("基本合格", Fraction("17.9")),
]


def _exact_total(per_mille: int, n: int) -> Fraction:
    rate = Fraction(per_mille, 1000)
    t = (rate - Fraction(1, 2)) / Fraction(1, 2)
    linear = 40 * min(max(t, Fraction(0)), Fraction(1))
    deduct = 10 - min(Fraction(1, 10) * n, Fraction(10))
    return linear + deduct


def _exact_grade(total: Fraction) -> str:
    for name, threshold in THRESHOLDS:
        if total >= threshold:
            return name
    return "不合格"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    parsed = parse(SOURCE, "sweep.gov")
    checked = check(parsed.tree, SOURCE)
    assert checked.ok, [str(d) for d in checked.diagnostics]
    lines = ["community_id,rate,n"]
    cases = []
    for per_mille in range(500, 1001):
        for n in range(3):
            lines.append(f"c{per_mille}_{n},{per_mille / 10}%,{n}")
            cases.append((per_mille, n))
    path = tmp_path_factory.mktemp("sweep") / "sweep.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = data.load(path, checked.model)
    assert not [p for p in ds.problems if p.severity != "info"], ds.problems[:3]
    return checked.model, ds, cases


def test_sweep_has_1503_communities(sweep):
    _, ds, cases = sweep
    assert len(cases) == 1503 == len(ds.records)


@pytest.mark.parametrize("backend", ["reference", "vectorized"])
def test_every_grade_is_the_exact_one(sweep, backend):
    model, ds, cases = sweep
    ev = evaluate_dataset(model, ds, backend=backend)
    assert ev.backend == backend
    rows = ev.table.select("total", "grade").to_dicts()
    wrong = []
    on_threshold = 0
    for (per_mille, n), row in zip(cases, rows, strict=True):
        exact = _exact_total(per_mille, n)
        on_threshold += any(exact == t for _, t in THRESHOLDS)
        # the computed total is the double nearest to the exact decimal
        if row["total"] != float(exact) or row["grade"] != _exact_grade(exact):
            wrong.append((per_mille / 10, n, row["total"], row["grade"], _exact_grade(exact)))
    assert on_threshold >= 4  # the sweep does test the boundaries
    assert not wrong, wrong[:10]
