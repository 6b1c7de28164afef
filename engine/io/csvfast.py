"""A fast path for large CSV files: Polars' multi-threaded reader.

The record-by-record reader (`engine.io.formats._read_csv`, Python's csv module)
is exact about line numbers and ragged rows but slow for a million rows.
For UTF-8 text (`formats` decodes every file to it) this reads every cell as
text with Polars and computes each row's line in the file from the newlines
inside earlier cells, so `DataProblem` rows stay those of the file. A file
Polars cannot read this way (a row longer than the header, odd quoting,
invalid UTF-8), or one whose short rows cannot be told apart, returns None and
the exact reader takes over.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from zhili.engine.io.table import BLANK


def count_byte(data: bytes | memoryview, byte: bytes) -> int:
    """How often the one byte `byte` occurs in `data` (several times faster
    than `bytes.count` for a separator, which occurs in every few bytes)."""
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == byte[0]))


_BLOCK = 1 << 20  # bytes compared at a time: the comparison stays in the cache


def scan_bytes(data: bytes | memoryview, sep: bytes, start: int = 0) -> tuple[int, int, bool]:
    """(newlines, separators, whether a CR is not followed by LF) in
    `data[start:]`, in one pass a block at a time (`count_byte` of each,
    and `formats._lone_cr`, without a temporary the size of `data`)."""
    a = np.frombuffer(data, np.uint8)[start:]
    hit = np.empty(min(_BLOCK, len(a)), bool)
    lines = seps = 0
    lone = False
    for at in range(0, len(a), _BLOCK):
        block = a[at : at + _BLOCK]
        mask = hit[: len(block)]
        np.equal(block, 10, out=mask)
        lines += int(np.count_nonzero(mask))
        np.equal(block, sep[0], out=mask)
        seps += int(np.count_nonzero(mask))
        if not lone:
            np.equal(block, 13, out=mask)
            cr = np.flatnonzero(mask)
            if cr.size:
                after = cr + (at + 1)
                lone = bool(after[-1] == len(a) or (a[after[after < len(a)]] != 10).any())
    return lines, seps, lone


def read_csv_fast(
    data: bytes,
    sep: str,
    line_offset: int = 0,
    whole: bool = False,
    quoted: bool | None = None,
    seps: int | None = None,
) -> tuple[list[str], pl.DataFrame, list[int], list[tuple[int, int]]] | None:
    """(headers, text cells as columns c0.., line of each row, (line, cells
    given) of each row with fewer cells than the header) or None. `data`
    starts with the header row, on line `line_offset + 1` of the file.

    With `whole` (`data` is a batch cut from a file), also None unless the
    records read account for every line of `data`: a batch cut inside a
    quoted cell is not read as if it were whole. `quoted` says whether the
    file holds quotes (a batch of it is read as the whole file would be:
    the file's quotes and a batch's short rows need the exact reader);
    None: whether `data` does. `seps`: how many `sep` bytes `data` holds,
    when known (counted here otherwise)."""
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            infer_schema=False,
            separator=sep,
            truncate_ragged_lines=False,
            raise_if_empty=True,
            encoding="utf8",
        )
    except Exception:  # ragged rows, bad quoting: the exact reader reports them
        return None
    if frame.height == 0:
        return None
    if quoted is None:
        quoted = b'"' in data
    names = frame.columns
    header_row = frame.row(0)
    headers = [("" if h is None else str(h)).strip() for h in header_row]
    body = frame.slice(1).rename({n: f"c{j}" for j, n in enumerate(names)})
    # newlines inside quoted cells push later rows down in the file (a file
    # without quotes has none)
    if quoted:
        newlines = pl.sum_horizontal(
            [pl.col(c).str.count_matches("\n").fill_null(0) for c in body.columns] + [pl.lit(0)]
        )
    else:
        newlines = pl.lit(0)
    header_nl = sum(str(h).count("\n") for h in header_row if h is not None)
    if whole and quoted:
        inside = body.select(newlines.sum()).item() + header_nl
        records = frame.height - (0 if data.endswith(b"\n") else 1)
        if count_byte(data, b"\n") != records + inside:
            return None
    body = body.with_columns(newlines.alias("__nl")).with_row_index("__i")
    body = body.with_columns(
        (
            pl.col("__i").cast(pl.Int64)
            + 2
            + line_offset
            + header_nl
            + pl.col("__nl").cum_sum()
            - pl.col("__nl")
        ).alias("__line")
    )
    short = _short_rows(data, sep, frame, quoted, line_offset, seps)
    if short is None:
        return None

    # blank lines (all cells empty) are skipped, like the exact reader; the
    # full test only runs on rows whose first cell is empty (a blank row is
    # rare, and stripping every cell of a million rows takes a second)
    def empty(c: str) -> pl.Expr:  # spaces as Python's str.strip() takes them
        return pl.col(c).is_null() | (pl.col(c).str.strip_chars(BLANK) == "")

    cells = [c for c in body.columns if c.startswith("c")]
    maybe = body.filter(empty(cells[0]))
    if maybe.height:
        blank = maybe.filter(pl.all_horizontal([empty(c) for c in cells])).get_column("__i")
        if blank.len():
            body = body.filter(~pl.col("__i").is_in(blank.implode()))
    lines = body.get_column("__line").to_list()
    return headers, body.drop(["__nl", "__i", "__line"]), lines, short


def _short_rows(
    data: bytes,
    sep: str,
    frame: pl.DataFrame,
    quoted: bool,
    line_offset: int,
    seps: int | None = None,
) -> list[tuple[int, int]] | None:
    """(line, cells) of every non-blank row with fewer cells than the header,
    which Polars fills with nulls as if they were empty; None when the file
    has quotes and some rows are short (only the exact reader can tell which).

    Every row but a short one has as many separators as the header: when
    the file holds exactly that many (plus those inside quoted cells), no
    row is short."""
    want = frame.width - 1
    sep_b = sep.encode()
    seen = count_byte(data, sep_b) if seps is None else seps
    if quoted:
        inside = frame.select(
            pl.sum_horizontal(
                pl.col(c).str.count_matches(sep, literal=True).fill_null(0).sum()
                for c in frame.columns
            )
        ).item()
        return [] if seen == want * frame.height + inside else None
    if seen == want * frame.height:
        return []
    out = []
    for i, line in enumerate(data.split(b"\n")):
        got = line.count(sep_b)
        if got < want and line.decode("utf-8", "replace").strip(BLANK + sep):
            out.append((i + 1 + line_offset, got + 1))
    return out
