"""Published scores (`precision N`) in the vectorized backend: the short
rounding `pl_round_decimal_small` gives the bits of `pl_round_decimal` (and
of the interpreter's `round_decimal`) on every value it is used for, and
`VectorModel.evaluate`, which uses it on columns in its range, gives the
table of the lazy plan (`apply`, always the long rounding) and of the
interpreter, in range and out of it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.eval.vectorized import VectorModel, frame_from_records
from zhili.engine.functions import (
    SMALL_DECIMAL_LIMIT,
    pl_round_decimal,
    pl_round_decimal_small,
    round_decimal,
)


def _bits(s: pl.Series) -> np.ndarray:
    return s.to_numpy().view(np.int64)


def _hard_values(digits: int, rng: np.random.Generator) -> np.ndarray:
    """Halfway decimals at `digits` places and their neighbours, exact
    decimals, snapped and unsnapped random values, zeros, the limit."""
    k = rng.integers(0, 10 ** min(15, 6 + digits), 20_000).astype(np.float64)
    half = (k + 0.5) / 10.0**digits
    out = [
        half,
        np.nextafter(half, 0.0),
        np.nextafter(half, 2 * SMALL_DECIMAL_LIMIT),
        k / 10.0**digits,
        rng.random(20_000) * 10.0 ** rng.integers(-10, 7, 20_000),
        np.array([0.0, -0.0, 4e-10, 5e-10, 1e-9, 0.285, 0.005, 2.675, 1.005, 999_999.995]),
        np.array([SMALL_DECIMAL_LIMIT]),
    ]
    x = np.abs(np.concatenate(out))
    return x[x <= SMALL_DECIMAL_LIMIT]


@pytest.mark.parametrize("digits", range(0, 9))
def test_short_rounding_has_the_bits_of_the_long_one(digits):
    rng = np.random.default_rng(digits)
    x = _hard_values(digits, rng)
    frame = pl.DataFrame({"x": x}).with_columns(
        snapped=pl.col("x").round(9, mode="half_away_from_zero")
    )
    for col in ("x", "snapped"):
        got = frame.select(
            long=pl_round_decimal(pl.col(col), digits),
            short=pl_round_decimal_small(pl.col(col), digits),
        )
        differ = np.nonzero(_bits(got["long"]) != _bits(got["short"]))[0]
        assert not len(differ), [(frame[col][int(i)], got["long"][int(i)]) for i in differ[:5]]
    sample = frame["snapped"].to_list()[::41]
    short = frame.select(pl_round_decimal_small(pl.col("snapped"), digits)).to_series()[::41]
    want = np.array([round_decimal(v, digits) for v in sample])
    assert (want.view(np.int64) == _bits(short)).all()


def test_short_rounding_keeps_nulls():
    s = pl.Series([None, 0.125, None], dtype=pl.Float64)
    got = pl.DataFrame({"x": s}).select(pl_round_decimal_small(pl.col("x"), 2)).to_series()
    assert got.to_list() == [None, 0.13, None]


MODEL = """\
model pub "取整"
version "1"
issuer "测试"
source "测试"
total {total}
precision {digits}
input r: percent optional
input s: number optional
dimension d "维度" points {half} {{
    indicator a "线性" points {half} {{ linear r from 0% to 100% }}
}}
indicator b "计分" points {half} {{ score s }}
grades {{ "好" when total >= {cut}  "差" otherwise }}
"""


def _model(points: float, digits: int):
    text = MODEL.format(total=2 * points, half=points, digits=digits, cut=points)
    result = check(parse(text, "pub.gov").tree, text)
    assert result.model is not None, result.diagnostics
    return result.model


@pytest.mark.parametrize(
    ("points", "digits"),
    [(7, 2), (7, 0), (3, 6), (3_000_000, 2)],  # the last: scores past the short rounding's range
)
def test_evaluate_publishes_as_the_lazy_plan_and_the_interpreter(points, digits):
    model = _model(points, digits)
    rng = np.random.default_rng(7)
    records = [
        {"r": float(r), "s": float(s)}
        for r, s in zip(rng.random(400), rng.random(400) * points * 1.2, strict=True)
    ]
    records += [{"r": 0.00125, "s": 0.005}, {"r": None, "s": None}, {"r": 1.0, "s": -3.0}]
    vm = VectorModel(model)
    frame = frame_from_records(model, records)
    table = vm.evaluate(frame)
    lazy = vm.apply(frame.lazy()).collect()
    names = ["ind.a.points", "ind.b.points", "dim.d", "total"]
    for name in names:
        assert table[name].fill_null(-1.0).equals(lazy[name].fill_null(-1.0)), name
        assert (_bits(table[name].fill_null(-1.0)) == _bits(lazy[name].fill_null(-1.0))).all()
    compiled = compile_model(model)
    for rec, row in zip(records, table.iter_rows(named=True), strict=True):
        r = compiled.evaluate(rec)
        assert (r.points[0], r.points[1], r.total) == (
            row["ind.a.points"],
            row["ind.b.points"],
            row["total"],
        )
        assert r.grade == row["grade"]
