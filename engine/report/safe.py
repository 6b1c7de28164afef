"""Text from data made inert for the files people open.

Community names, labels and model strings come from whoever filled in a
spreadsheet or wrote a model; what zhili writes is opened in Excel, a browser
or a markdown viewer by someone else. So:

- CSV/TSV: a text cell beginning with `=`, `+`, `-`, `@`, TAB or CR is what
  spreadsheet programs run as a formula (OWASP, "CSV Injection"); it gets a
  leading `'`, which Excel shows as text and hides. Numbers stay numbers: only
  text is touched. A number Polars would write in exponent form below 10^-5
  (`1e-8`) is written as the plain decimal it is (`0.00000001`), which is
  what people reading the file in Excel expect; every other number keeps
  Polars' text (`8.0`, `4298137.15`).
- xlsx: every text cell is written as a string, never a formula; characters
  XML 1.0 forbids (control characters but TAB, LF, CR) are removed, and a
  cell is cut at Excel's 32,767 characters.
- markdown: HTML is escaped (`<`, `>`, `&`) and link, emphasis and table
  syntax backslash-escaped, so a name cannot become a link or raw HTML.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_CHARS = 32_767
_FORMULA_RE = r"^[=+\-@\t\r]"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def csv_text(value: str) -> str:
    """One CSV cell's text, neutralised against formula injection."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of `frame` through `csv_text` (numbers untouched,
    but for `plain_decimals`)."""
    import polars as pl

    text = [c for c, t in frame.schema.items() if t == pl.String]
    if text:
        frame = frame.with_columns(
            pl.when(pl.col(c).str.contains(_FORMULA_RE))
            .then(pl.lit("'") + pl.col(c))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text
        )
    return plain_decimals(frame)


PLAIN_BELOW = 1e-5  # where Polars writes a float in exponent form (and above 10^16)


def plain_decimals(frame: pl.DataFrame) -> pl.DataFrame:
    """A float column holding a nonzero number below 10^-5 in magnitude, as
    text: those numbers as plain decimals (0.00000001, the shortest decimal
    that reads back as the number), the others as Polars writes them (the
    same text as `write_csv`). Other columns as they are."""
    import polars as pl

    floats = [c for c, t in frame.schema.items() if t == pl.Float64]
    if not floats:
        return frame
    tiny = [(pl.col(c) != 0) & (pl.col(c).abs() < PLAIN_BELOW) for c in floats]
    found = frame.select(t.any().alias(c) for t, c in zip(tiny, floats, strict=True)).row(0)
    for c, t, any_tiny in zip(floats, tiny, found, strict=True):
        if not any_tiny:
            continue
        where = frame.select(t.fill_null(False).arg_true()).to_series()
        col = frame.get_column(c)
        plain = [format(Decimal(repr(col[i])), "f") for i in where]
        frame = frame.with_columns(col.cast(pl.String).scatter(where, plain))
    return frame


def csv_header(names: list[str]) -> list[str]:
    """Column headers (labels from a model) neutralised like cells."""
    return [csv_text(n) for n in names]


def xlsx_text(value: str) -> str:
    """Text an xlsx cell can hold: no XML-illegal characters, at most 32,767."""
    value = _XML_ILLEGAL.sub("", value)
    if len(value) > XLSX_MAX_CHARS:
        value = value[: XLSX_MAX_CHARS - 1] + "…"
    return value


def xlsx_value(value: Any) -> Any:
    """A value for an xlsx cell: text made safe, everything else as it is."""
    return xlsx_text(value) if isinstance(value, str) else value


def set_cell(cell: Any, value: Any) -> None:
    """Write `value` into an openpyxl cell; text is always a string cell
    (openpyxl would otherwise store `=…` as a live formula)."""
    value = xlsx_value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def append_row(ws: Any, values: list[Any]) -> None:
    """`ws.append(values)`, each text cell a string, never a formula."""
    ws.append([xlsx_value(v) for v in values])
    for cell, v in zip(ws[ws.max_row], values, strict=False):
        if isinstance(v, str):
            cell.data_type = "s"


def md_text(value: Any) -> str:
    """Text for markdown: HTML escaped, markdown syntax backslash-escaped,
    one line."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r", " ").replace("\n", " ")
