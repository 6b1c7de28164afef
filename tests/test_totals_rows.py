"""One rule finds the totals rows of text files and workbooks: the
pre-filter `table.likely_totals` keeps every row the exact test
(`table.totals_expr`) holds for, whatever width, case, style or spaces the
words are written in, and a CSV and an xlsx skip the same rows."""

from __future__ import annotations

import sys

import openpyxl
import polars as pl

from zhili.engine.io.excel import read_excel
from zhili.engine.io.formats import read_delimited
from zhili.engine.io.table import TOTALS_HINT

# how district offices write a totals row: mixed widths, odd spaces, styles
SPELLINGS = [
    "合计",
    "合 计",
    "合\u3000计",  # an ideographic space
    "合\u00a0计",  # a no-break space
    "全区合计",
    "街道小计",
    "总 计",
    "汇总",
    "⼩计",  # a Kangxi radical for 小
    "total",
    "Total",
    "TOTAL",
    " to\ttal ",
    "Ｔotal",  # a full-width T, then ASCII
    "ＴＯＴＡＬ",
    "ｔｏｔａｌ",
    "Ｔ ｏ ｔ ａ ｌ",
    "ⓣⓞⓣⓐⓛ",
    "𝐭𝐨𝐭𝐚𝐥",
    "Ｓum",
    "ſum",
    "𝐬𝐮𝐦",
    "tｏtal",  # a full-width o among ASCII letters
    "total\u3000",  # an ideographic space after it
    "t o t a l",
    "S U M",
    "ＳＵＭ",
]


def test_the_hint_holds_every_character_whose_nfkc_form_is_looked_for():
    """`TOTALS_HINT`'s characters are the code points beyond ASCII whose NFKC
    form (Polars') holds 计, 总, a letter of total or sum in either case, or
    a space, computed over every code point; then the ASCII strings."""
    chars = [chr(c) for c in range(0x80, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    nfkc = pl.Series(chars).str.normalize("NFKC")
    held = nfkc.str.contains(r"\s") | nfkc.str.contains_any(list("tTsSoOaAlLuUmM计总"))
    wanted = set(pl.Series(chars).filter(held).to_list())
    assert {h for h in TOTALS_HINT if not h.isascii()} == wanted
    assert all(len(h) == 1 for h in TOTALS_HINT if not h.isascii())
    ascii_hints = {h for h in TOTALS_HINT if h.isascii()}
    assert {"total", "sum", "t ", "m\t", "o\r"} <= ascii_hints


def _rows() -> list[list[str]]:
    rows = [["社区编码", "社区", "常住人口"], ["A1", "甲", "100"]]
    rows += [[s, "", "999"] for s in SPELLINGS]
    rows += [["A2", "Stone社区", "200"], ["A3", "乙", "300"]]
    return rows


def test_a_csv_skips_every_spelling(tmp_path):
    path = tmp_path / "totals.csv"
    path.write_text("\n".join(",".join(r) for r in _rows()) + "\n", encoding="utf-8")
    table = read_delimited(path)
    assert table.frame.get_column("c0").to_list() == ["A1", "A2", "A3"]
    skipped = [p.raw for p in table.problems if p.code == "data-totals-row"]
    assert skipped == SPELLINGS


def test_an_xlsx_skips_the_same_rows(tmp_path):
    path = tmp_path / "totals.xlsx"
    wb = openpyxl.Workbook()
    for r in _rows():
        wb.active.append(r)
    wb.save(path)
    table = read_excel(path)
    csv_path = tmp_path / "totals.csv"
    csv_path.write_text("\n".join(",".join(r) for r in _rows()) + "\n", encoding="utf-8")
    text = read_delimited(csv_path)
    assert table.frame.get_column("c0").to_list() == text.frame.get_column("c0").to_list()
    totals = sorted(p.row for p in table.problems if p.code == "data-totals-row")
    assert totals == sorted(p.row for p in text.problems if p.code == "data-totals-row")
    assert len(totals) == len(SPELLINGS)
