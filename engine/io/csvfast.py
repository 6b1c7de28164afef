"""A fast path for large CSV files: Polars' multi-threaded reader.

The record-by-record reader (`engine.io.formats._read_csv`, Python's csv module)
is exact about line numbers and ragged rows but slow for a million rows.
For UTF-8 files this reads every cell as text with Polars and computes
each row's line in the file from the newlines inside earlier cells, so
`DataProblem` rows stay those of the file. A file Polars cannot read this way
(ragged rows, odd quoting, another encoding) returns None and the exact
reader takes over.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl


def read_csv_fast(path: Path, data: bytes) -> tuple[list[str], pl.DataFrame, list[int]] | None:
    """(headers, text cells as columns c0.., line of each row) or None."""
    try:
        head = data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character may be cut at the boundary: try a bit less
        try:
            data[:65530].decode("utf-8")
        except UnicodeDecodeError:
            return None
        head = ""
    sample = head[:4096]
    sep = "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
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
    names = frame.columns
    header_row = frame.row(0)
    headers = [("" if h is None else str(h)).lstrip("\ufeff").strip() for h in header_row]
    body = frame.slice(1).rename({n: f"c{j}" for j, n in enumerate(names)})
    # newlines inside quoted cells push later rows down in the file (a file
    # without quotes has none)
    if b'"' in data:
        newlines = pl.sum_horizontal(
            [pl.col(c).str.count_matches("\n").fill_null(0) for c in body.columns] + [pl.lit(0)]
        )
    else:
        newlines = pl.lit(0)
    header_nl = sum(str(h).count("\n") for h in header_row if h is not None)
    body = body.with_columns(newlines.alias("__nl")).with_row_index("__i")
    body = body.with_columns(
        (
            pl.col("__i").cast(pl.Int64) + 2 + header_nl + pl.col("__nl").cum_sum() - pl.col("__nl")
        ).alias("__line")
    )

    # blank lines (all cells empty) are skipped, like the exact reader; the
    # full test only runs on rows whose first cell is empty (a blank row is
    # rare, and stripping every cell of a million rows takes a second)
    def empty(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")

    cells = [c for c in body.columns if c.startswith("c")]
    maybe = body.filter(empty(cells[0]))
    if maybe.height:
        blank = maybe.filter(pl.all_horizontal([empty(c) for c in cells])).get_column("__i")
        if blank.len():
            body = body.filter(~pl.col("__i").is_in(blank.implode()))
    lines = body.get_column("__line").to_list()
    return headers, body.drop(["__nl", "__i", "__line"]), lines
