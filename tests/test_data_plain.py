"""The large-table conversion of int, number and percent columns
(`data._convert_plain`: plain numbers taken from Polars' casts and
arithmetic, every other cell staged) against the staged conversion
(`data._convert_stages`, the reference for each cell): the same values to
the bit, the same types, the same problem messages, over hostile cells —
signs, `.5`, `5.`, `+5`, exponents, `inf`, `nan`, full-width digits,
spaces, `%`, `,`, underflow, long digit strings, leading zeros, `-0`, and
decimals next to 1, 0.01 and 10^15."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zhili.dsl.model import InputField
from zhili.engine.io.data import convert_columns

FIELDS = [
    InputField(id="n", type="int"),
    InputField(id="r", type="int", min=0, max=500),
    InputField(id="x", type="number"),
    InputField(id="xr", type="number", min=-1.5, max=1e14),
    InputField(id="w", type="number", unit="万元"),
    InputField(id="p", type="percent", min=0.0, max=1.0),
    InputField(id="q", type="percent"),
    InputField(id="fr", type="percent", fractions=True, min=0.0, max=1.0),
    InputField(id="fq", type="percent", fractions=True),
]

digits = st.text("0123456789", max_size=22)
sign = st.sampled_from(["", "", "+", "-"])
exponent = st.one_of(
    st.just(""),
    st.builds(
        lambda e, s, d: e + s + d,
        st.sampled_from(["e", "E"]),
        sign,
        st.one_of(st.text("0123456789", min_size=1, max_size=3), st.just("400"), digits),
    ),
)
decimal = st.builds(
    lambda s, i, point, fr, e, pct: s + i + point + fr + e + pct,
    sign,
    digits,
    st.sampled_from(["", ".", "."]),
    digits,
    exponent,
    st.sampled_from(["", "%", "%", "％", "%%"]),
)
# decimals next to the bounds the plain tests use: 1, 0.01, 10^13, 10^15
near = st.builds(
    lambda base, k, up, pct: (
        (
            f"{base + (1 if up else -1) * 10.0**-k:.{k + 2}f}".rstrip("0")
            if base < 1e12
            else f"{int(base) + (1 if up else -1)}"
        )
        + pct
    ),
    st.sampled_from([0.01, 1.0, 100.0, 1e13, 1e15]),
    st.integers(1, 17),
    st.booleans(),
    st.sampled_from(["", "%"]),
)
SPECIAL = [
    "inf",
    "-inf",
    "+inf",
    "infinity",
    "INF",
    "nan",
    "NaN",
    "-nan",
    "１２",
    "８５%",
    " 5",
    "5 ",
    "5\t",
    "1,000",
    "1,5",
    "1e-400",
    "1e-400%",
    "-0",
    "+0",
    "-0%",
    "0%",
    "0",
    "0.0",
    "00000000000000000000005",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "999999999999999",
    "1000000000000000",
    "99999999999999.99%",
    "0.000000000000001%",
    "1.5e-9%",
    "1001e-9%",
    "1.23456e-7%",
    "123e-8%",
    "0.99999999999999",
    "1.00000000000001",
    "0.999999999999999999",
    "1.000000000000000001",
    ".5",
    "5.",
    "+.5",
    "-.5%",
    ".",
    "+",
    "-",
    "%",
    "e5",
    "1e",
    "1e5",
    "1E5%",
    "2万",
    "1.2万元",
    "12估计",
    "",
]
cells = st.one_of(
    st.none(), st.sampled_from(SPECIAL), decimal, near, st.text("0123456789.%-+e ", max_size=8)
)


def _columns(values: list[str | None], fast_from: int) -> pl.DataFrame:
    frame = pl.DataFrame({"c0": pl.Series(values, dtype=pl.String)})
    specs = {f.id: ("c0", f) for f in FIELDS}
    return convert_columns(frame, specs, fast_from=fast_from)


def _bits(s: pl.Series) -> list:
    """The values as compared: a float by its bits (-0.0 is not 0.0)."""
    if s.dtype == pl.Float64:
        return s.reinterpret(signed=False).to_list()
    return s.to_list()


def _check(values: list[str | None]) -> None:
    staged = _columns(values, 10**9)  # every cell staged
    large = _columns(values, 0)  # the large-table path
    for f in FIELDS:
        v, p = f"in.{f.id}", f"p.{f.id}"
        assert large.schema[v] == staged.schema[v], f.id
        for i, (a, b) in enumerate(
            zip(_bits(large.get_column(v)), _bits(staged.get_column(v)), strict=True)
        ):
            assert a == b, (f.id, values[i], large[v][i], staged[v][i])
        got, want = large.get_column(p).to_list(), staged.get_column(p).to_list()
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert a == b, (f.id, values[i], a, b)


@settings(max_examples=400, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30))
@example(SPECIAL)
def test_plain_numbers_are_the_staged_conversion(values):
    _check(values)


def test_every_bound_of_the_plain_tests():
    """The cells on each side of every bound `_plain_exprs` uses, and a
    column of only plain cells (nothing staged)."""
    values = []
    for k in range(1, 18):
        for base in ("0.", "1.", "99.", "100."):
            for tail in ("9" * k, "0" * (k - 1) + "1"):
                for pct in ("", "%"):
                    values.append(f"{base}{tail}{pct}")
                    values.append(f"-{base}{tail}{pct}")
    values += [str(10**e + d) for e in (13, 14, 15) for d in (-1, 0, 1)]
    values += [f"{10**e + d}%" for e in (13, 14, 15) for d in (-1, 0, 1)]
    _check(values)
    _check([v for v in values if v.endswith("%")] + [None, "%", "1e-9%", "0%"])  # every cell `%`
    _check(["1", "2.5", "85%", None, "70.85%", "0.5", "1200"])
