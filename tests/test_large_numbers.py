"""Snapping and rounding at every magnitude (docs/language.md, "Numbers").

`snap` (the interpreter) and `pl_snap` (the vectorized backend) must give the
same bits for every double, and the right ones: the double nearest to the
value rounded to 9 places. Up to 2^52 / 10^9 the old round(x × 10^9) / 10^9
was exact for data values and wrong past it (4298137.15 + 0 was
4298137.150000001); these properties check the new rule against Python's
`Decimal` over doubles of every magnitude, ties, negatives, subnormals and
values past 1.8e299, and `round_decimal` / `pl_round_decimal` the same way.
"""

from __future__ import annotations

import math
import struct
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import polars as pl
import pytest
from cli_helpers import zhili
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from zhili.engine.functions import (
    SMALL_SNAP_LIMIT,
    SNAP_SPLIT,
    SNAP_WHOLE,
    TIE_LIMIT,
    Missing,
    decimal_text,
    pl_round_decimal,
    pl_snap,
    pl_snap_small,
    round_decimal,
    snap,
)

SETTINGS = settings(max_examples=400, deadline=None)


def _bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def _same(a, b) -> bool:
    """The same double bit for bit; zeros by value (the interpreter's snap
    of -0.0 has always been 0.0, Polars' -0.0: both compare equal)."""
    if a == 0 and b == 0:
        return True
    return _bits(a) == _bits(b)


def _polars(f, xs: list[float]) -> list:
    """f over xs as a computed column (`* 1.0`: not a plain column, so the
    struct form that nested arithmetic gets is what runs)."""
    frame = pl.DataFrame({"x": xs}, schema={"x": pl.Float64})
    return frame.select(f(pl.col("x") * 1.0).alias("y")).to_series().to_list()


def _nearest_9_places(x: float) -> float:
    """The double nearest to x's exact value rounded to 9 places, halves
    away from zero, by `Decimal` (exact)."""
    with localcontext() as ctx:
        ctx.prec = 400
        d = Decimal(x).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)
        return float(d)


# doubles of every magnitude: uniform bit patterns, and around the edges
any_double = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1).map(lambda b: struct.unpack("<d", struct.pack("<q", b))[0]),
    st.floats(-2 * SNAP_WHOLE, 2 * SNAP_WHOLE),
    st.floats(SNAP_SPLIT - 1, SNAP_WHOLE + 1).flatmap(lambda x: st.sampled_from([x, -x])),
    st.floats(1.7e299, 1e308).flatmap(lambda x: st.sampled_from([x, -x])),
    st.floats(-1e-300, 1e-300),
)


@SETTINGS
@given(st.lists(any_double, min_size=1, max_size=30))
@example([4298137.15, 6816137166.78, 926506623859359.4, 1e14, -4298137.15, 5e-324, 1.8e299])
@example([SNAP_SPLIT, -SNAP_SPLIT, SNAP_WHOLE, -SNAP_WHOLE, math.nextafter(SNAP_WHOLE, 0)])
@example([math.inf, -math.inf, math.nan, -0.0, 0.0, 1 / 1024, -1 / 1024, 2.5e-10])
def test_backends_snap_alike(xs):
    got = _polars(pl_snap, xs)
    for x, g in zip(xs, got, strict=True):
        want = snap(x)
        if isinstance(want, Missing):  # not finite (inf - inf: NaN); `pl_finite` nulls it
            assert g is not None and not math.isfinite(g), (x, g)
            continue
        assert _same(want, g), (x, want, g)


@SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: abs(x) >= SNAP_SPLIT))
@example(4298137.15 + 0.0)
@example(6816137166.78)
@example(926506623859359.4)
@example(1e14)
@example(-1e14)
def test_snap_is_exact_from_2_to_the_22(x):
    """From 2^22 on, every double snaps exactly (below it, every double that
    is the nearest to a decimal of at most 9 places: the next test)."""
    assert _same(snap(x), _nearest_9_places(x))


def _decimal_values(max_digits: int = 15):
    """Decimals a data file writes: up to 9 places, at most 15 significant
    digits (so that the double reads back as the same decimal), any sign."""
    return st.tuples(st.integers(-(10**max_digits) + 1, 10**max_digits - 1), st.integers(0, 9)).map(
        lambda t: Decimal(t[0]).scaleb(-t[1])
    )


@SETTINGS
@given(_decimal_values())
@example(Decimal("4298137.15"))
@example(Decimal("6816137166.78"))
@example(Decimal("-926506623859.4"))
@example(Decimal("0.000000001"))
def test_a_data_value_is_its_own_snap(d):
    """A value that prints as 4298137.15 stays 4298137.15: x + 0, x * 1, x -
    0.0 and x / 1 are x, and snapping x gives x, at every magnitude."""
    x = float(d)
    for y in (x + 0.0, x * 1.0, x - 0.0, x / 1.0):
        assert _same(snap(y), x), (d, y, snap(y))
    [g] = _polars(pl_snap, [x])
    assert _same(g, x)


@SETTINGS
@given(st.lists(st.floats(-SMALL_SNAP_LIMIT, SMALL_SNAP_LIMIT), min_size=1, max_size=30))
def test_small_snap_is_snap_below_its_limit(xs):
    a, b = _polars(pl_snap, xs), _polars(pl_snap_small, xs)
    assert all(_same(x, y) for x, y in zip(a, b, strict=True))


DIGITS = st.sampled_from([-15, -6, -2, -1, 0, 1, 2, 3, 5, 8, 9])


@SETTINGS
@given(st.lists(any_double, min_size=1, max_size=20), DIGITS)
@example([4298137.15, -4298137.15, 6816137166.785, 926506623859359.4, 1e14, 8388607.5], 1)
@example([4298137.5, -4298137.5, 926506623859359.5, 2.5, -2.5, 0.285, 1.005], 0)
@example([4298150.0, -4298150.0, 926506623859355.0], -1)
def test_backends_round_alike(xs, digits):
    got = _polars(lambda e: pl_round_decimal(e, digits), xs)
    for x, g in zip(xs, got, strict=True):
        want = round_decimal(x, digits)
        if digits >= 9:
            want = snap(x)
            if isinstance(want, Missing):
                continue
        if isinstance(want, float) and not math.isfinite(want):
            assert g is None, (x, g)  # (null where not finite: `number` makes it missing)
            continue
        assert g is not None and _same(want, g), (x, digits, want, g)


@SETTINGS
@given(_decimal_values(), st.integers(-6, 8))
@example(Decimal("4298137.15"), 1)
@example(Decimal("-4298137.15"), 1)
@example(Decimal("6816137166.785"), 2)
@example(Decimal("926506623859359.5"), 0)
@example(Decimal("0.285"), 2)
@example(Decimal("-4298150"), -2)
def test_rounding_is_on_the_decimal(d, digits):
    """round(x, N) and `precision N` round the decimal a value prints as,
    halves away from zero: 6816137166.785 (whose double is
    6816137166.78499984…) to 2 places is 6816137166.79. So while doubles are
    spaced finer than 10^-(N+1) (8.8e12 for 2 places); past that, where one
    double stands for several decimals of N+1 places, the binary value
    decides (and both backends alike, `test_backends_round_alike`)."""
    x = float(d)
    assume(digits < 0 or abs(x) < TIE_LIMIT[digits])
    want = float(d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    assert _same(round_decimal(x, digits), want), (d, digits)
    [g] = _polars(lambda e: pl_round_decimal(e, digits), [x])
    assert _same(g, want), (d, digits, g)


def _tree_size(depth: int) -> int:
    e = pl.col("a")
    for _ in range(depth):
        e = pl_snap(e * pl.col("b") + 0.1)
    return len(str(e))


def test_nested_snaps_grow_linearly():
    """`pl_snap` names its operand once: nested arithmetic grows the plan by
    the same amount at every level (reading it three times made each level
    three times the one below)."""
    small, large = _tree_size(10), _tree_size(20)
    assert large < 2.5 * small, (small, large)
    frame = pl.DataFrame({"a": [4298137.15, 1.5], "b": [1.0, 1.0]})
    e = pl.col("a")
    for _ in range(40):
        e = pl_snap(e * pl.col("b") + 0.0)
    assert frame.select(e).to_series().to_list() == [4298137.15, 1.5]


def test_decimal_text():
    assert [decimal_text(x) for x in (8.0, 17.92, 1 / 3, 6816137166.78, 1e16, -0.0)] == [
        "8",
        "17.92",
        "0.333333333",
        "6816137166.78",
        "10000000000000000",
        "0",
    ]


BUDGET = """model budget "预算"
version "1"
issuer "区财政局"
source "预算表"
total 10
input budget: number label "预算" range 0..1000000000000000
let left "结余" = budget - 0
indicator a "A" points 10 { pass when left > 0 }
output left_shown "结余" = left
output doubled "两倍" = left * 2
grades { "ok" otherwise }
"""


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_outputs_print_large_values_as_written(tmp_path: Path, fmt: str):
    """A budget in yuan read from a file and written back (CSV, the table)
    is the number the file holds, at every step (the CSV writer re-rounded
    with round(9): 4298137.150000002; the table printed 9 binary places:
    6816137166.779999733)."""
    model = tmp_path / "budget.gov"
    model.write_text(BUDGET, encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text(
        "社区,预算\n甲社区,4298137.15\n乙社区,6816137166.78\n丙社区,926506623859359.4\n",
        encoding="utf-8",
    )
    args = ["eval", model, data, "--no-record"] + (["--format", "csv"] if fmt == "csv" else [])
    run = zhili(*args)
    assert run.exit_code == 0, run.output
    for written, doubled in [
        ("4298137.15", "8596274.3"),
        ("6816137166.78", "13632274333.56"),
        ("926506623859359.4", "1853013247718718.8"),
    ]:
        assert written in run.output and doubled in run.output, run.output
    for wrong in ("4298137.150000", "6816137166.7799", "926506623859359.2", "359.375"):
        assert wrong not in run.output, run.output


SMALL = """model small "小数"
version "1"
issuer "区民政局"
source "评分表"
total 10
input rate_value: number label "比例"
indicator a "A" points 10 { pass when rate_value >= 0 }
output shown "比例值" = rate_value * 1
grades { "ok" otherwise }
"""


def test_csv_writes_small_numbers_as_plain_decimals(tmp_path: Path):
    """A 9-place decimal below 10^-5 is written as the decimal (0.00000001),
    not in Polars' exponent form (1e-8), in `eval --format csv` (the same
    writer, `safe.csv_frame`, serves reports and exports); other numbers
    keep their text (8.0)."""
    model = tmp_path / "small.gov"
    model.write_text(SMALL, encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text("社区,比例\n甲,0.00000001\n乙,-0.00000025\n丙,8\n", encoding="utf-8")
    run = zhili("eval", model, data, "--no-record", "--format", "csv")
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert ",0.00000001," in lines[1] and ",-0.00000025," in lines[2], run.output
    assert ",8.0," in lines[3], run.output
    assert "e-" not in run.output
