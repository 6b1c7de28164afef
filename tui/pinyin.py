"""Pinyin initials of community names, for search: "cqsq" finds 长青社区.

A name is kept as the initials each of its characters can have, one group
per character: 长青社区 is "|zc|qj|s|qo|" (长 zhǎng/cháng, 区 qū/ōu). A
query of letters matches where consecutive characters can start with its
letters, so every reading counts and no guess about which one the name
uses is needed. (pypinyin's phrase dictionary would guess well, but
converting 100 000 names by phrase took 4 s; this, built per distinct
character and mapped through Polars, takes about 60 ms.)
"""

from __future__ import annotations

import re

import polars as pl

INITIALS = "initials"
SEP = "|"


def is_initials_query(query: str) -> bool:
    """True for a query that can be pinyin initials (ASCII letters)."""
    return query.isascii() and query.isalpha()


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def char_initials(chars: set[str]) -> dict[str, str]:
    """Each character's possible initials (lower case); other characters
    stand for themselves, lower-cased."""
    from pypinyin import Style, pinyin

    out: dict[str, str] = {}
    for ch in chars:
        if _is_han(ch):
            readings = pinyin(ch, style=Style.FIRST_LETTER, heteronym=True)[0]
            out[ch] = "".join(dict.fromkeys(x.lower() for x in readings if x.isascii()))
        else:
            out[ch] = ch.lower().replace(SEP, " ")
    return out


def with_initials(frame: pl.DataFrame, column: str = "community") -> pl.DataFrame:
    """`frame` with an INITIALS column for `column` (see the module)."""
    names = frame.get_column(column).fill_null("")
    mapping = char_initials(set("".join(names.unique().to_list())))
    groups = (
        pl.col(column)
        .fill_null("")
        .str.split("")
        .list.eval(pl.element().replace_strict(mapping, default=pl.element()))
        .list.join(SEP)
    )
    return frame.with_columns((pl.lit(SEP) + groups + pl.lit(SEP)).alias(INITIALS))


def initials_pattern(query: str) -> str:
    """The regular expression, over INITIALS, of names whose consecutive
    characters can start with the letters of `query` (ASCII letters)."""
    sep = re.escape(SEP)
    return sep + sep.join(f"[^{sep}]*{c}[^{sep}]*" for c in query.lower()) + sep
