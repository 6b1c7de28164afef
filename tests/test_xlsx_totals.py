"""The totals rows of a workbook (`excel._skip_totals`) are found by the
exact test (`table.totals_expr`) run only on the rows `excel._likely_totals`
keeps: every row the exact test holds for must be kept, whatever Unicode
the cells hold."""

from __future__ import annotations

import sys

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.engine.io import excel
from zhili.engine.io.table import totals_expr


def _frame(rows: list[list[str | None]]) -> pl.DataFrame:
    width = max(len(r) for r in rows)
    cols = {f"c{j}": [r[j] if j < len(r) else None for r in rows] for j in range(width)}
    frame = pl.DataFrame(cols, schema={c: pl.String for c in cols})
    return frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("__row"))


def _kept_and_exact(frame: pl.DataFrame) -> tuple[set[int], set[int]]:
    cells = [c for c in frame.columns if c != "__row"]
    exact = set(frame.filter(totals_expr(cells)).get_column("__row").to_list())
    kept = set(frame.filter(excel._likely_totals(cells)).get_column("__row").to_list())
    return kept, exact


def test_totals_in_any_writing_are_kept():
    rows = [
        ["合计"],
        ["全区合计", "1"],
        ["S-000001", "街道小计"],
        [" to\ttal "],
        ["ＴＯＴＡＬ"],  # full width
        ["ⓣⓞⓣⓐⓛ"],  # circled
        ["𝐬𝐮𝐦"],  # mathematical bold
        ["ſum"],  # long s
        ["合\u3000计"],  # an ideographic space
        ["汇总"],
        ["⼩计"],  # a Kangxi radical for 小
        ["x", None, "y", "z", "w", "v", "合计"],  # the seventh cell: not a totals row
        ["S-000002", "东岭社区", "56848"],
    ]
    frame = _frame(rows)
    kept, exact = _kept_and_exact(frame)
    assert exact == {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}  # the test above still holds for them
    assert exact <= kept
    assert 14 not in kept and 15 not in kept  # ordinary rows are not tried


def test_lower_case_makes_none_of_the_characters_looked_for():
    """`_likely_totals` looks for t, s, 计, 总 in a cell's NFKC form: removing
    spaces cannot make one, nor can lower case (checked over every code
    point, with Polars' own lower case)."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    lower = pl.Series(chars).str.to_lowercase().to_list()
    for wanted, sources in (("t", "tT"), ("s", "sS"), ("计", "计"), ("总", "总")):
        assert {c for c, low in zip(chars, lower, strict=True) if wanted in low} == set(sources)


_TRICKY = st.sampled_from(
    list("合计总小共汇tTosSumaAlL ")
    + [
        "\u3000",
        "\u00a0",
        "\t",
        "\u0301",
        "\u0323",
        "ｔ",
        "Ｓ",
        "ｏ",
        "ａ",
        "\u2009",
        "\x0b",
        "ⓣ",
        "ſ",
        "𝐭",
        "⼩",
        "計",
        "總",
        "x",
        "1",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.text(_TRICKY, max_size=12) | st.none(), min_size=1, max_size=7),
        min_size=1,
        max_size=20,
    )
)
def test_every_row_the_exact_test_holds_for_is_kept(rows):
    kept, exact = _kept_and_exact(_frame(rows))
    assert exact <= kept


def test_skipped_rows_and_problems_are_those_of_the_exact_test(tmp_path):
    rows = [
        ["S-1", "东岭社区"],
        ["全区合计", None],
        ["S-2", "total"],
        ["sum", "x"],
        ["S-3", "小计 "],
    ]
    frame = _frame(rows)
    data, problems = excel._skip_totals(tmp_path / "a.xlsx", "Sheet1", frame)
    cells = [c for c in frame.columns if c != "__row"]
    assert data.equals(frame.filter(~totals_expr(cells)))
    assert [(p.row, p.raw) for p in problems] == [
        (3, "全区合计"),
        (4, "total"),
        (5, "sum"),
        (6, "小计"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([None, "", " ", "\u3000", "\t", "x", " 1 "]), min_size=3, max_size=3
        ),
        max_size=15,
    )
)
def test_blank_rows_are_those_whose_every_cell_is_empty_or_spaces(rows):
    """`excel._mark_blank`, column by column on the rows still blank, marks
    what testing every cell marks."""
    frame = pl.DataFrame(
        {f"c{j}": [r[j] for r in rows] for j in range(3)},
        schema={f"c{j}": pl.String for j in range(3)},
    )
    every = frame.select(
        pl.all_horizontal(
            pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in frame.columns
        )
    ).to_series()
    assert excel._mark_blank(frame).get_column("__blank").to_list() == every.to_list()
