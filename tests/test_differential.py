"""Differential tests: the vectorized backend against the reference interpreter.

The two must agree exactly: same outcomes, grades and vetoes, and the same
numbers to the bit (issue 12: both compute the same IEEE operations on the
same snapped decimals). Compared record by record: every definition, every
indicator's value, points and outcome, every veto, every dimension score (and
the points it had available), total, grade, next grade and missing count.

- every built-in model on its bundled sample data, on `zhili sample` data
  with many missing values, and on data with zeros in every denominator;
- the results tables of `evaluate_dataset` with either backend;
- random models and records (Hypothesis; `--runslow` for a larger run);
- the regression cases in `tests/differential_cases/<name>/` (`model.gov` +
  `data.csv`): every disagreement found once, kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from model_strategies import (
    INPUTS,
    check_source,
    compare_backends,
    format_diffs,
    model_sources,
    records_for,
)

from zhili.dsl.checker import check
from zhili.dsl.parser import parse_file
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.io.data import load
from zhili.engine.plugins import Registry
from zhili.engine.sample import ratio_pairs, write_sample

CASES = Path(__file__).parent / "differential_cases"

_REGISTRY = Registry()
MODELS = _REGISTRY.models
MODEL_IDS = sorted(MODELS)


def _assert_agree(model, records, frame=None) -> None:
    diffs = compare_backends(model, records, frame)
    assert not diffs, f"backends disagree on {model.id}:\n" + format_diffs(diffs)


def _assert_dataset_agrees(model, ds) -> None:
    _assert_agree(model, ds.records, ds.frame)


# ---------------------------------------------------------------- built-in models


SEEDS = (1, 2, 3)


@functools.cache
def _bundled(model_id: str) -> list:
    lm = MODELS[model_id]
    return [(p.name, load(p, lm.model)) for p in lm.samples]


@functools.cache
def _sparse(model_id: str):
    """`zhili sample` data with 30% of the cells missing, for several seeds,
    in one file (loading is the slow part)."""
    model = MODELS[model_id].model
    folder = Path(tempfile.mkdtemp(prefix="zhili-diff-"))
    lines: list[str] = []
    for seed in SEEDS:
        path = folder / f"seed{seed}.csv"
        write_sample(model, path, rows=40, seed=seed, missing_rate=0.3)
        text = path.read_text(encoding="utf-8").splitlines()
        body = [f"{seed}-{line}" for line in text[1:]]  # community ids stay unique
        lines = lines or [text[0]]
        lines.extend(body)
    merged = folder / "sparse.csv"
    merged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load(merged, model)
    shutil.rmtree(folder, ignore_errors=True)
    return ds


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_builtin_models_on_their_samples(model_id):
    if not MODELS[model_id].samples:
        pytest.skip("no bundled sample data")
    for _name, ds in _bundled(model_id):
        assert len(ds) > 0
        _assert_dataset_agrees(MODELS[model_id].model, ds)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_builtin_models_on_sparse_samples(model_id):
    ds = _sparse(model_id)
    assert len(ds) == 40 * len(SEEDS)
    _assert_dataset_agrees(MODELS[model_id].model, ds)


def _zero_records(model) -> list[dict]:
    """Zeros everywhere a number goes (so every denominator is 0), with the
    conditions false and then true; everything missing; and plausible values
    with only the usual denominators (population, households, …) at 0."""

    def base(zero_all: bool) -> dict:
        rec = {}
        for f in model.inputs:
            if f.type in ("int",):
                rec[f.id] = 0
            elif f.type in ("number", "percent"):
                rec[f.id] = 0.0
            elif f.type == "bool":
                rec[f.id] = not zero_all
            elif f.type == "enum":
                rec[f.id] = f.values[0] if f.values else None
            elif f.type == "text":
                rec[f.id] = ""
            else:
                rec[f.id] = None
        return rec

    out = [base(True), base(False), {}]
    # the denominators alone are zero: everything else is a plausible value
    plausible = {}
    for f in model.inputs:
        if f.type == "int":
            plausible[f.id] = 7
        elif f.type == "number":
            plausible[f.id] = 12.5
        elif f.type == "percent":
            plausible[f.id] = 0.5
        elif f.type == "bool":
            plausible[f.id] = True
        elif f.type == "enum":
            plausible[f.id] = f.values[-1] if f.values else None
    dens = {den for den, _ in ratio_pairs(model).values()}
    dens |= {f.id for f in model.inputs if f.id in ("population", "households")}
    assert dens, "no denominator found"
    for den in dens:
        plausible[den] = 0
    out.append(plausible)
    return out


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_builtin_models_with_zero_denominators(model_id):
    model = MODELS[model_id].model
    _assert_agree(model, _zero_records(model))


def _compare_tables(a: pl.DataFrame, b: pl.DataFrame) -> list[str]:
    out = []
    if a.columns != b.columns:
        out.append(
            f"columns differ: only reference {sorted(set(a.columns) - set(b.columns))}, "
            f"only vectorized {sorted(set(b.columns) - set(a.columns))}"
        )
    for c in [c for c in a.columns if c in b.columns]:
        x, y = a.get_column(c), b.get_column(c)
        if x.dtype != y.dtype:
            out.append(f"column {c}: dtype {x.dtype} != {y.dtype}")
            continue
        for i, (u, v) in enumerate(zip(x.to_list(), y.to_list(), strict=True)):
            # bit equality, floats included (docs/language.md, "Numbers"):
            # the sign of a zero too
            same = u == v and (
                not isinstance(u, float)
                or not isinstance(v, float)
                or math.copysign(1.0, u) == math.copysign(1.0, v)
            )
            if not same:
                out.append(f"row {i} column {c}: reference {u!r} != vectorized {v!r}")
    return out


def _assert_tables_identical(model, ds, what: str) -> None:
    for detail in (True, False):
        ref = evaluate_dataset(model, ds, backend="reference", detail=detail)
        vec = evaluate_dataset(model, ds, backend="vectorized", detail=detail)
        assert ref.backend == "reference" and vec.backend == "vectorized"
        diffs = _compare_tables(ref.table, vec.table)
        assert not diffs, f"{what} (detail={detail}):\n" + format_diffs(diffs)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_results_tables_identical(model_id):
    """`evaluate_dataset` fills the same table with either backend."""
    model = MODELS[model_id].model
    for name, ds in [*_bundled(model_id), ("sparse sample", _sparse(model_id))]:
        _assert_tables_identical(model, ds, name)


# ---------------------------------------------------------------- regression cases


def _case_dirs() -> list[Path]:
    if not CASES.is_dir():
        return []
    return sorted(p for p in CASES.iterdir() if (p / "model.gov").exists())


@pytest.mark.parametrize("case", _case_dirs(), ids=lambda p: p.name)
def test_regression_case(case):
    pr = parse_file(str(case / "model.gov"))
    assert pr.ok, [str(d) for d in pr.diagnostics]
    cr = check(pr.tree, pr.text)
    assert cr.ok, [str(d) for d in cr.diagnostics if d.is_error]
    ds = load(case / "data.csv", cr.model)
    assert not ds.errors, [str(p) for p in ds.errors]
    _assert_dataset_agrees(cr.model, ds)
    _assert_tables_identical(cr.model, ds, case.name)


# ---------------------------------------------------------------- subtleties, exhaustively

SUBTLE = """
model subtle "边界情形"
total 30
missing skip
input a: int optional
input b: int optional
input x: number optional
input r: percent optional
input c: bool optional
input k: enum("甲", "乙", "丙") optional
input d: date optional
let q = a / b
let chain = q + coalesce(x, 0)
dimension core "核心" points 20 {
    indicator if_missing "if 条件缺失" points 1 { pass when (if c then a > 1 else b > 1) }
    indicator between_missing "between" points 1 { pass when between(x, a, b) }
    indicator clamp_missing "clamp" points 2 { linear clamp(x, a, b) from 0 to 3 }
    indicator minmax "min/max" points 2 { tiers min(a, x, b) + max(a, 1.5) { >= 5 : 2  >= 2.5 : 1 } }
    indicator counting "count" points 2 { tiers count(c, a > 1, k == "甲") { >= 2 : 2  >= 1 : 1 } }
    indicator int_float "整数与小数" points 2 { linear (a * b) - x + chain from 0 to 10 }
    indicator halves "一半" points 1 { pass when a / 2 == 1.5 or round(x) == 3 }
    indicator dates "日期" points 1 { pass when d >= 2024-06-30 }
    indicator enums "枚举" points 2 { tiers k { == "甲" : 2  != "丙" : 1 } }
    indicator enum_in "枚举 in" points 1 { pass when k in ["乙", "丙"] and not (k == "丙") }
    indicator var_tiers "非常数档" points 2 { tiers x { >= a : 2  >= b : 1  else : 0.5 } }
    indicator lo_eq_hi "界限相等" points 2 { linear x from a to b }
    indicator shares "比例" points 1 { linear ratio(a, b) from 0% to 100% }
    veto no_x "缺少 x" when is_missing(x) caps "合格"
}
dimension extra "其他" points 10 missing zero {
    indicator density "每万人" points 4 { pass when per_10k(a, b) >= 5000 }
    indicator pct "百分比" points 3 { tiers r { >= 50% : 3  > 0% : 1 } }
    indicator deduct_some "扣分" points 3 { deduct 1.5 per a - b max 3 }
    indicator bonus_some "加分" points 2 { bonus 0.5 per x max 1 }
    veto blocked "阻止" when c and k == "乙" blocks "良好"
}
grades {
    "优秀" when not vetoed and min_dimension >= 80% and extra >= 50%
    "良好" when share >= 60% or (total >= 15 and missing_count <= 2)
    "合格" when core >= 30% or halves >= 1
    "不合格" otherwise
}
"""


def test_subtleties_on_a_grid():
    """Missing arguments to if/between/clamp/min/max/count, integer and float
    arithmetic, dates, enums, non-constant tiers, linear with lo == hi at run
    time and zero denominators, on every combination of a small value grid."""
    model, errors = check_source(SUBTLE, "subtle.gov")
    assert model is not None, errors
    grid = itertools.product(
        [None, 0, 1, 3],  # a
        [None, 0, 1, 3],  # b
        [None, 0.0, 1.5, 2.5, 3.0],  # x
        [None, 0.0, 0.5],  # r
        [None, True, False],  # c
        [None, "甲", "乙", "丙"],  # k
        [None, dt.date(2024, 6, 30), dt.date(2024, 1, 1)],  # d
    )
    records = [dict(zip("abxrckd", values, strict=True)) for values in grid]
    _assert_agree(model, records)


# ---------------------------------------------------------------- random models


def _random_case(source: str, records: list[dict]) -> None:
    model, errors = check_source(source)
    assume(model is not None)
    diffs = compare_backends(model, records)
    assert not diffs, "backends disagree\n" + format_diffs(diffs) + "\n\nmodel:\n" + source


_FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_FAST
@given(source=model_sources(), records=records_for())
def test_random_models_agree(source, records):
    _random_case(source, records)


@pytest.mark.slow
@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(source=model_sources(max_top=5), records=records_for(max_size=25))
def test_random_models_agree_slow(source, records):
    _random_case(source, records)


def test_generator_makes_valid_models():
    """Nearly every generated model checks cleanly (else Hypothesis spends its
    budget on rejected models and the differential test proves little)."""
    seen = {"ok": 0, "bad": 0}

    @settings(max_examples=60, deadline=None, database=None)
    @given(model_sources())
    def probe(source):
        model, _ = check_source(source)
        seen["ok" if model is not None else "bad"] += 1

    probe()
    assert seen["ok"] >= 0.9 * (seen["ok"] + seen["bad"]), seen


def test_generator_palette_is_declared():
    assert len({name for name, _, _ in INPUTS}) == len(INPUTS)
