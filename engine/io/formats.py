"""The built-in readers of text and Parquet files: CSV, TSV and TXT
(delimited text, UTF-8 or GB18030 or a named encoding), JSON and JSON Lines,
Parquet. Each returns the file as text cells (a `RawTable`); Excel workbooks
are read by `excel`. `readers` lists them by suffix.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from zhili.dsl import codes
from zhili.dsl.i18n import _
from zhili.engine.io.table import (
    HIERARCHY,
    TOTALS_HINT,
    DataError,
    DataProblem,
    RawTable,
    is_total,
    norm,
    strip_unit,
    totals_expr,
)

if TYPE_CHECKING:
    from zhili.dsl.model import Model


def read_delimited(path: Path, encoding: str | None = None) -> RawTable:
    """A CSV, TSV or TXT file (tab- or comma-separated, by the suffix or the
    first lines). UTF-8 goes through Polars' reader when it can; another
    encoding, or a file Polars' reader cannot take, is read row by row."""
    data = path.read_bytes()
    if _utf8_wanted(encoding):
        fast = _read_csv_fast(path, data)
        if fast is not None:
            return fast
    headers, rows = _read_csv(path, data, encoding)
    return _rows_table(path, headers, rows, totals=True)


def read_json(path: Path) -> RawTable:
    """A JSON file (a list of objects, or an object holding one under
    `communities`, `records` or `data`) or a JSON Lines file (one object a line)."""
    headers, rows = _read_json(path, path.read_bytes())
    return _rows_table(path, headers, rows, totals=False)


def _rows_table(
    path: Path, headers: list[str], rows: list[tuple[int, dict[str, Any]]], totals: bool
) -> RawTable:
    """(line, row dict) pairs as a `RawTable`; with `totals`, a totals row is
    skipped with an info problem (JSON records are never totals rows)."""
    problems = []
    lines = []
    columns: list[list[str | None]] = [[] for _ in headers]
    index = {h: j for j, h in enumerate(headers)}
    for line, row in rows:
        if totals and _is_totals_row(row):
            problems.append(
                DataProblem(
                    str(path),
                    line,
                    None,
                    next(v for v in row.values() if isinstance(v, str) and is_total(v)),
                    _("a totals row is skipped"),
                    "info",
                    code=codes.DATA_TOTALS_ROW.code,
                )
            )
            continue
        lines.append(line)
        extra = row.get("\x00extra")
        if extra is not None and any(str(c).strip() for c in extra):
            problems.append(
                DataProblem(
                    str(path),
                    line,
                    None,
                    None,
                    _("the row has more cells than the header"),
                    "warning",
                    code=codes.DATA_EXTRA_CELLS.code,
                )
            )
        values = list(row.values()) if len(row) == len(headers) and extra is None else None
        for h, j in index.items():
            v = values[j] if values is not None else row.get(h)
            columns[j].append(None if v is None else (v if isinstance(v, str) else _json_text(v)))
    frame = pl.DataFrame(
        {f"c{j}": pl.Series(f"c{j}", col, dtype=pl.String) for j, col in enumerate(columns)},
        height=len(lines),
    )
    return RawTable(str(path), headers, frame, lines, problems)


def _utf8_wanted(encoding: str | None) -> bool:
    return encoding is None or encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _read_csv_fast(path: Path, data: bytes) -> RawTable | None:
    """A UTF-8 CSV through Polars' reader (`engine.csvfast`); None when the
    file needs the record-by-record reader (another encoding, ragged rows)."""
    from zhili.engine.io.csvfast import read_csv_fast

    if b"\x00" in data[:4096]:
        return None  # the exact reader says it is binary
    got = read_csv_fast(path, data)
    if got is None:
        return None
    headers, frame, lines = got
    problems = []
    cells = frame.columns
    totals = totals_expr(cells)
    if totals is not None and frame.height:
        frame = frame.with_columns(pl.Series("__line", lines, dtype=pl.Int64))
        # the exact test normalizes every cell: only try it on likely rows
        likely = pl.any_horizontal(
            pl.col(c).str.contains_any(TOTALS_HINT, ascii_case_insensitive=True).fill_null(False)
            for c in cells[:6]
        )
        at = frame.select(pl.arg_where(likely)).to_series()  # no copy of the frame
        hits = frame[at].filter(totals)
        for values in hits.iter_rows():
            cells_text = [v for v in values[:6] if isinstance(v, str) and v.strip()]
            label = next((v for v in cells_text if is_total(v)), cells_text[0])
            problems.append(
                DataProblem(
                    str(path),
                    values[-1],
                    None,
                    label,
                    _("a totals row is skipped"),
                    "info",
                    code=codes.DATA_TOTALS_ROW.code,
                )
            )
        if hits.height:  # exactly the rows reported
            frame = frame.filter(~pl.col("__line").is_in(hits.get_column("__line").implode()))
            lines = frame.get_column("__line").to_list()
        frame = frame.drop("__line")
    return RawTable(str(path), headers, frame, lines, problems)


def _is_totals_row(row: dict[str, Any]) -> bool:
    """合计/总计/小计 in one of the first cells of a row (JSON records are
    never totals rows)."""
    for v in list(row.values())[:6]:
        if isinstance(v, str) and is_total(v):
            return True
    return False


def _json_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


# Parquet types whose cells are not one value zhili could read as text
_UNREADABLE = (pl.List, pl.Array, pl.Struct, pl.Object, pl.Duration)


def read_parquet(path: Path, model: Model | None = None) -> RawTable:
    """A Parquet file, every column as text (booleans as true/false). A
    column of a type that holds no readable cells (lists, structs,
    durations) is read as empty: an error when `model` uses it (a warning
    without a model), and nothing when it is unused."""
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a bad file
        raise DataError(
            _("{file}: not a readable Parquet file: {err}").format(file=path, err=exc)
        ) from None
    headers = list(frame.columns)
    used = _used_headers(headers, model)
    cols = {}
    problems = []
    for j, name in enumerate(headers):
        col = _parquet_text(frame.get_column(name))
        if col is None:
            col = pl.Series(name, [None] * frame.height, dtype=pl.String)
            if used is None or name in used:
                problems.append(
                    DataProblem(
                        str(path),
                        None,
                        name,
                        None,
                        _(
                            "a column of type {dtype}: its cells are not single values zhili can read; "
                            "every value counts as missing"
                        ).format(dtype=frame.schema[name]),
                        "error" if used is not None else "warning",
                        code=codes.DATA_UNREADABLE_COLUMN.code,
                    )
                )
        cols[f"c{j}"] = col.alias(f"c{j}")
    return RawTable(
        str(path),
        headers,
        pl.DataFrame(cols, height=frame.height),
        list(range(1, frame.height + 1)),
        problems,
    )


def _parquet_text(col: pl.Series) -> pl.Series | None:
    """A Parquet column as text, or None for a type that cannot be read."""
    if isinstance(col.dtype, _UNREADABLE) or col.dtype.base_type() in _UNREADABLE:
        return None
    if col.dtype == pl.Boolean:
        return col.cast(pl.String).str.to_lowercase()
    if col.dtype == pl.String:
        return col
    try:
        return col.cast(pl.String, strict=False)
    except Exception:  # polars refuses some casts (a new type, an extension)
        return None


def _used_headers(headers: list[str], model: Model | None) -> set[str] | None:
    """The headers that name one of the model's inputs or a hierarchy column
    (as `data.match_columns` matches them); None without a model."""
    if model is None:
        return None
    wanted = {norm(n) for names in HIERARCHY.values() for n in names}
    for f in model.inputs:
        wanted.add(norm(f.id))
        if f.label:
            wanted.add(norm(f.label))
    return {h for h in headers if norm(h) in wanted or norm(strip_unit(h)) in wanted}


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(
                _("{file}: cannot decode as {enc}: {err}").format(file=path, enc=encoding, err=exc)
            ) from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(_("{file}: unknown text encoding; use --encoding").format(file=path))


def _read_csv(path: Path, data: bytes, encoding: str | None):
    if b"\x00" in data[:4096]:
        raise DataError(_("{file}: a binary file, not CSV").format(file=path))
    text = _decode(path, data, encoding)
    sample = text[:4096]
    delimiter = (
        "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []  # (first line of the row in the file, cells)
    try:
        line = 1
        for row in reader:
            rows.append((line, row))
            line = reader.line_num + 1  # a quoted cell may span several lines
    except csv.Error as exc:
        raise DataError(_("{file}: not valid CSV: {err}").format(file=path, err=exc)) from None
    if not rows:
        raise DataError(_("{file}: the file is empty").format(file=path))
    headers = [h.strip() for h in rows[0][1]]
    out = []
    for i, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue  # blank line
        out.append(
            (
                i,
                {h: (row[j] if j < len(row) else None) for j, h in enumerate(headers)}
                | ({"\x00extra": row[len(headers) :]} if len(row) > len(headers) else {}),
            )
        )
    return headers, out


def _too_deep(path: Path, line: int | None) -> str:
    where = f"{path}:{line}" if line is not None else str(path)
    return _("{where}: not readable JSON: nested too deep (a community is one flat object)").format(
        where=where
    )


def _json_loads(text: str) -> Any:
    """JSON with its numbers kept as written: a cell is text until it is
    converted (so an integer of 5,000 digits is "too large", not Python's
    4,300-digit limit, and 1e-400 is not silently 0)."""
    return json.loads(text, parse_int=str, parse_float=str)


def _read_json(path: Path, data: bytes):
    text = _decode(path, data, None)
    numbers = None  # JSON Lines: the line of each record
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            items, numbers, offset = [], [], 0
            for lineno, line in enumerate(io.StringIO(text, newline=""), start=1):
                if line.strip():
                    try:
                        items.append(_json_loads(line.rstrip("\r\n")))
                    except json.JSONDecodeError as exc:  # report the line in the file
                        raise json.JSONDecodeError(exc.msg, text, offset + exc.pos) from None
                    except RecursionError:
                        raise DataError(_too_deep(path, lineno)) from None
                    numbers.append(lineno)
                offset += len(line)
        else:
            items = _json_loads(text)
            if isinstance(items, dict):
                items = items.get("communities") or items.get("records") or items.get("data")
    except json.JSONDecodeError as exc:
        raise DataError(
            _("{file}:{line}:{col}: not valid JSON: {msg}").format(
                file=path, line=exc.lineno, col=exc.colno, msg=exc.msg
            )
        ) from None
    except RecursionError:
        raise DataError(_too_deep(path, None)) from None
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise DataError(
            _("{file}: expected a list of objects (one per community)").format(file=path)
        )
    headers: list[str] = []
    for item in items:
        for k in item:
            if k not in headers:
                headers.append(k)
    if numbers is None:
        numbers = range(1, len(items) + 1)
    return headers, list(zip(numbers, items, strict=True))
