"""Multi-select inputs: `input 服务领域: set("养老", "托幼", "就业", "助残")`.

A value of a set input is the selection of its listed values. Both backends
hold it as an integer bitmask (bit i set: the i-th listed value is selected):
an Int64 column in Polars, a Python int in the interpreter. Membership
(`"养老" in 服务领域`) is one AND with a constant and `count(服务领域)` one
population count, in both backends the same integer operations — no nested
list columns, no per-row string work, and equal by construction. People see
the values, in the declared order, joined with 、 (`text`).

A data cell lists the selected values separated by 、 , ， ; ； / or
newlines (`SEPARATORS`); spaces around a value are trimmed, full-width forms
read as their ASCII ones (NFKC), a value written twice counts once. `无`
(or `没有`) is an explicit empty selection; an empty cell is missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_VALUES = 62
"""At most this many listed values (bits of a non-negative Int64)."""

SEPARATORS = "、,，;；/\n"
SPLIT_RE = re.compile(r"[、,，;；/\r\n]+")
EMPTY_WORDS = frozenset({"无", "没有"})
"""A cell that says the selection is empty (an empty cell is missing)."""


def _key(v: str) -> str:
    return "".join(unicodedata.normalize("NFKC", v).split()).lower()


def loose_key(v: str) -> str:
    """The form a data cell's value is matched in when it is not written
    exactly: spaces, case and full-width forms ignored ("A B" = "ab")."""
    return _key(v)


def has_separator(value: str) -> bool:
    """A listed value that a data cell could not write (it holds a separator)."""
    return any(c in value for c in SEPARATORS)


def bit(values: list[str] | tuple[str, ...], value: str) -> int:
    """The mask of one listed value."""
    return 1 << list(values).index(value)


def encode(selected: Iterable[str], values: list[str] | tuple[str, ...]) -> tuple[int, list[str]]:
    """(mask, unknown values) of a selection of values, matched as data
    cells are (exactly, else ignoring spaces, case and full-width forms)."""
    exact = {v: i for i, v in enumerate(values)}
    loose = {_key(v): i for i, v in enumerate(values)}
    mask = 0
    unknown = []
    for s in selected:
        i = exact.get(s)
        if i is None:
            i = loose.get(_key(s))
        if i is None:
            unknown.append(s)
        else:
            mask |= 1 << i
    return mask, unknown


def split(text: str) -> list[str] | None:
    """The values a cell lists (None: the cell says the selection is empty)."""
    text = text.strip()
    if text in EMPTY_WORDS:
        return None
    return [p.strip() for p in SPLIT_RE.split(text) if p.strip()]


def decode(mask: int, values: list[str] | tuple[str, ...]) -> list[str]:
    """The selected values of a mask, in the declared order."""
    return [v for i, v in enumerate(values) if mask >> i & 1]


def text(mask: int, values: list[str] | tuple[str, ...]) -> str:
    """A selection as people write it: 「养老、托幼」, 「无」 when empty."""
    chosen = decode(mask, values)
    return "、".join(chosen) if chosen else "无"


def count(mask: int) -> int:
    return mask.bit_count()
