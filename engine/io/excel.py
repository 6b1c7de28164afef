"""Excel workbooks (.xlsx, .xlsm, .xls, .xlsb, .ods) as text cells.

Cell values come from calamine (through `fastexcel`), which reads 100,000
rows in about a second. What calamine does not give, the
workbook's own parts do (`xlsxscan`, one pass over the sheet's XML): merged
ranges (from the sheet's `<mergeCells>`), and every cell's number format (a
number formatted `0.0%` holds 0.85 for 85%: read per cell, through the cell's
`s` style and styles.xml, in a workbook of any size).

The sheet is read as the staff laid it out:
- a title row (or several) above the header: the header is the row among the
  first 30 that matches the model's labels best;
- merged header cells: every cell of a merged range reads the range's value
  (so do merged cells in the data, e.g. a street merged over its communities);
- blank rows are skipped; a totals row (合计, 总计, 小计, …) is skipped with an
  info problem, never silently;
- row numbers are Excel's row numbers, and problems name the sheet.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import polars as pl

from zhili.dsl import codes
from zhili.dsl.i18n import _
from zhili.engine.io import xlsxscan
from zhili.engine.io.table import (  # noqa: F401 - EXCEL_SUFFIXES re-exported
    EXCEL_SUFFIXES,
    HEADER_SCAN_ROWS,
    HIERARCHY,
    DataError,
    DataProblem,
    RawTable,
    header_row,
    is_total,
    is_units_row,
    likely_totals,
    names_inputs,
    norm,
    strip_unit,
    totals_expr,
    units_row_candidates,
)

if TYPE_CHECKING:
    from zhili.dsl.model import Model

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls, or an encrypted .xlsx


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, in order."""
    return list(_open(path).sheet_names)


def _open(path: Path):
    import fastexcel

    head = path.read_bytes()[:8] if path.stat().st_size else b""
    if not head:
        raise DataError(_("{file}: the file is empty").format(file=path))
    suffix = path.suffix.lower()
    if head.startswith(_CFB_MAGIC) and suffix in (".xlsx", ".xlsm", ".xlsb"):
        raise DataError(
            _(
                "{file}: the workbook is password-protected (encrypted); "
                "save a copy without a password"
            ).format(file=path)
        )
    if suffix in (".xlsx", ".xlsm", ".xlsb", ".ods") and not head.startswith(b"PK"):
        raise DataError(
            _("{file}: not a readable Excel workbook: not a zip archive").format(file=path)
        )
    try:
        return fastexcel.read_excel(path)
    except Exception as exc:  # calamine reports corrupt files in several ways
        raise DataError(
            _("{file}: not a readable Excel workbook: {err}").format(
                file=path, err=_first_line(exc)
            )
        ) from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def resolve_sheet(
    path: Path, names: list[str], sheet: str | int | None, hidden: set[int] | None = None
) -> int:
    """A sheet by name (exact, then ignoring spaces/width/case) or 1-based
    position; None is the first sheet not in `hidden` (the first visible one)."""

    if not names:
        raise DataError(_("{file}: the workbook has no sheets").format(file=path))
    if sheet is None:
        shown = [i for i in range(len(names)) if hidden is None or i not in hidden]
        data = [i for i in shown if names[i] not in ZHILI_SHEETS]  # never the instructions
        return (data or shown or [0])[0]
    text = str(sheet)
    if text in names:
        return names.index(text)
    normed = [norm(n) for n in names]
    if norm(text) in normed:
        return normed.index(norm(text))
    if re.fullmatch(r"[0-9]+", text.strip()):
        k = int(text)
        if 1 <= k <= len(names):
            return k - 1
    raise DataError(
        _("{file}: no sheet {sheet!r} (sheets: {names})").format(
            file=path, sheet=text, names=", ".join(names)
        )
    )


def read_excel(path: Path, sheet: str | int | None = None, model: Model | None = None) -> RawTable:
    """One sheet of a workbook as a `RawTable` (see the module docstring).

    In phases: load the sheet's cells → mark blank rows, fill merged ranges →
    find the header row → keep the columns with a header or a value → skip
    totals rows → percent-formatted cells as percentages."""
    name, index, frame, first_col, scan, others = _chosen_sheet(path, sheet, model)
    # blank rows are judged before merged ranges fill cells in
    frame = _mark_blank(frame)
    if scan is not None and scan.merges:
        frame = _fill_merges(path, name, frame, scan.merges, first_col)

    # the header row: the one among the first rows that are not blank (however
    # many blank rows are above them) that matches the model best
    top = frame.with_row_index("__i").filter(~pl.col("__blank")).head(HEADER_SCAN_ROWS)
    at = top.get_column("__i").to_list()
    head_rows = top.drop("__i", "__blank").rows()
    k = header_row(head_rows, model)
    if k is None:
        raise DataError(_("{file}: sheet {sheet} is empty").format(file=path, sheet=name))
    h = at[k]  # a title right above it may name its empty cells (`_headers`)
    rows = [head_rows[k - 1], head_rows[k]] if k > 0 and at[k - 1] == h - 1 else [head_rows[k]]
    headers, data, keep = _data_columns(frame, _headers(rows, len(rows) - 1), h)
    data, problems = _skip_totals(path, name, data)
    data, repeated = _skip_headers(path, name, headers, data)
    problems += repeated
    data, units = _skip_units(path, name, data)
    problems += units
    data = _midnight_dates(data)
    # a number formatted as a percentage holds a fraction: 0.85 is 85%
    percent = scan.percent if scan is not None else _ods_percent_cells(path, name)
    if percent is not None:
        data = as_percentages(data, percent, [keep_j + first_col for keep_j in keep])
    lines = data.get_column("__row").to_list()
    if scan is not None:
        cols = {keep_j + first_col: headers[k] for k, keep_j in enumerate(keep)}
        problems = _formula_problems(path, name, scan, cols, h) + problems
    if others:
        problems.append(_other_sheets_problem(path, name, others))
    problems += _rows_after_gaps(path, name, lines)
    return RawTable(str(path), headers, data.drop("__row"), lines, problems, sheet=name)


def _mark_blank(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `__blank`: whether every cell of the row is empty or
    spaces. Column by column, each only on the rows still blank (after the
    first column few are), not every cell of the sheet."""
    rows = pl.Series("rows", range(frame.height), dtype=pl.UInt32)
    for c in frame.columns:
        cells = frame.get_column(c).gather(rows)
        rows = rows.filter((cells.is_null() | (cells.str.strip_chars() == "")).fill_null(False))
        if rows.is_empty():
            break
    blank = pl.int_range(pl.len(), dtype=pl.UInt32).is_in(rows.implode())
    return frame.with_columns(blank.alias("__blank"))


def _chosen_sheet(path: Path, sheet: str | int | None, model: Model | None):
    """`_load_sheet` of the sheet `--sheet` names, else of the first visible
    one (not one of zhili's own) — unless that one names none of `model`'s
    inputs, is empty or cannot be read (a cover, an empty Sheet1, a chart)
    and a later visible sheet names some: then of the first such."""
    if sheet is not None or model is None:
        return _load_sheet(path, sheet)
    try:
        loaded = _load_sheet(path, None)
    except DataError as exc:
        other = _sheet_with_inputs(path, None, model)
        if other is None:
            raise exc from None
        return _load_sheet(path, other)
    name, index, frame, _first_col, _scan_, others = loaded
    if others and not names_inputs(frame.head(HEADER_SCAN_ROWS).rows(), model):
        other = _sheet_with_inputs(path, index, model)
        if other is not None:
            return _load_sheet(path, other)
    return loaded


def _sheet_with_inputs(path: Path, after: int | None, model: Model) -> str | None:
    """The name of the first visible sheet after position `after` (None:
    from the first) whose first rows name one of `model`'s inputs, or None.
    An xlsx sheet is looked at only within the limits `_scan` keeps (one
    cell at XFD1048576 is not a sheet to allocate); a sheet that breaks them
    or cannot be read is not the data."""
    reader = _open(path)
    names = list(reader.sheet_names)
    xml = path.suffix.lower() in (".xlsx", ".xlsm")
    parts, hidden = _sheet_parts(path) if xml else ([], set())
    for i in range(0 if after is None else after + 1, len(names)):
        if i in hidden or names[i] in ZHILI_SHEETS:
            continue
        try:
            part = parts[i] if i < len(parts) else None
            if xml and (part is None or _scan(path, names[i], part) is None):
                continue
            head = reader.load_sheet(i, header_row=None, n_rows=HEADER_SCAN_ROWS, dtypes="string")
            if getattr(head, "visible", "visible") != "visible":  # hidden in an .ods, .xls
                continue
            rows = head.to_polars().rows()
        except Exception:  # a sheet calamine cannot read, or too large: not the data
            continue
        if names_inputs(rows, model):
            return names[i]
    return None


def _load_sheet(path: Path, sheet: str | int | None):
    """(sheet name, sheet index, every cell as text in columns c0, c1, …, the
    0-based column of c0, the `SheetScan` of an xlsx/xlsm sheet or None, the
    names of the other visible sheets that hold data)."""
    reader = _open(path)
    names = list(reader.sheet_names)
    xml = path.suffix.lower() in (".xlsx", ".xlsm")
    parts, hidden = _sheet_parts(path) if xml else ([], _hidden_sheets(path, reader, len(names)))
    index = resolve_sheet(path, names, sheet, hidden)
    name = names[index]
    part = parts[index] if index < len(parts) else None
    scan = _scan(path, name, part) if part else None

    def load():
        loaded = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string")
        return loaded.available_columns(), loaded.to_polars()

    try:
        if scan is None:
            columns, frame = load()
        else:  # the percent-formatted cells are found while calamine reads
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1) as pool:
                loading = pool.submit(load)
                scan.percent = _percent_cells(path, part)
                columns, frame = loading.result()
    except Exception as exc:
        raise DataError(
            _("{file}: sheet {sheet}: cannot read: {err}").format(
                file=path, sheet=name, err=_first_line(exc)
            )
        ) from None
    if frame.width == 0 or frame.height == 0:
        raise DataError(_("{file}: sheet {sheet} is empty").format(file=path, sheet=name))
    first_col = columns[0].absolute_index if columns else 0  # 0-based column of frame's c0
    frame = frame.rename({c: f"c{j}" for j, c in enumerate(frame.columns)})
    others = [
        n + (_(" (hidden)") if i in hidden else "")
        for i, n in enumerate(names)
        if i != index and n not in ZHILI_SHEETS and _holds_data(path, reader, i, parts)
    ]
    return name, index, frame, first_col, scan, others


def _hidden_sheets(path: Path, reader, count: int) -> set[int]:
    """The positions of the hidden sheets of an .xls, .xlsb or .ods
    workbook: an .xlsb's from its `xl/workbook.bin`, the others' from
    calamine's `visible` of each sheet (fastexcel gives it with a sheet's
    rows, so each is loaded one row deep: calamine has read .xls and .ods
    sheets whole when it opened the file, but an .xlsb sheet only when it is
    loaded)."""
    if path.suffix.lower() == ".xlsb":
        states = _xlsb_sheet_states(path)
        if states is not None and len(states) == count:
            return {i for i, state in enumerate(states) if state != 0}
    hidden: set[int] = set()
    for i in range(count):
        try:
            head = reader.load_sheet(i, header_row=None, n_rows=1, dtypes="string")
        except Exception:  # a sheet calamine cannot read: it says so when read
            continue
        if getattr(head, "visible", "visible") != "visible":
            hidden.add(i)
    return hidden


# BrtBundleSh, the record of one sheet in an .xlsb's workbook.bin: its first
# four bytes are the sheet's state (0 visible, 1 hidden, 2 very hidden)
_BRT_BUNDLE_SH = 0x9C


def _xlsb_sheet_states(path: Path) -> list[int] | None:
    """The state of every sheet of an .xlsb in workbook order (the records
    of `xl/workbook.bin`: a type and a size, each a little-endian number of
    7-bit groups), or None when the part cannot be read."""
    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read("xl/workbook.bin")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
        return None
    states, at = [], 0
    while at < len(data):
        numbers = []
        for width in (2, 4):  # the type takes at most 2 bytes, the size 4
            value = 0
            for k in range(width):
                if at >= len(data):
                    return None
                byte = data[at]
                at += 1
                value |= (byte & 0x7F) << (7 * k)
                if not byte & 0x80:
                    break
            numbers.append(value)
        kind, size = numbers
        if kind == _BRT_BUNDLE_SH:
            if size < 4 or at + 4 > len(data):
                return None
            states.append(int.from_bytes(data[at : at + 4], "little"))
        at += size
    return states


def _scan(path: Path, name: str, part: str) -> xlsxscan.SheetScan | None:
    """The sheet's `SheetScan`, or a `DataError` naming the limit it breaks."""
    try:
        with zipfile.ZipFile(path) as zf:
            scan = xlsxscan.scan_sheet(zf, part)
            long_strings = xlsxscan.has_long_strings(zf)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
        return None  # calamine says what is wrong with the file
    except xlsxscan.LimitError as exc:
        what = (
            _("more than {n:,} merged ranges").format(n=xlsxscan.MAX_MERGES)
            if str(exc) == "merges"
            else _("more than {n:,} MB of sheet XML").format(n=xlsxscan.MAX_XML_BYTES // 10**6)
        )
        raise DataError(
            _("{file}: sheet {sheet}: {what}; zhili does not read a sheet this large").format(
                file=path, sheet=name, what=what
            )
        ) from None
    if scan.long_cell or long_strings:
        raise DataError(
            _(
                "{file}: sheet {sheet}: a cell holds more than {n:,} characters "
                "(Excel's limit for a cell)"
            ).format(file=path, sheet=name, n=xlsxscan.MAX_CELL_CHARS)
        )
    rows, cols = scan.max_row + 1, scan.max_col + 1
    if rows * cols > xlsxscan.MAX_CELLS:
        raise DataError(
            _(
                "{file}: sheet {sheet}: its cells reach {cell} ({rows:,} rows × {cols:,} "
                "columns), more than the {n:,} cells zhili reads; delete the cells outside "
                "the table (Ctrl+End in Excel shows the last one)"
            ).format(
                file=path,
                sheet=name,
                cell=f"{_col_letters(scan.max_col)}{rows}",
                rows=rows,
                cols=cols,
                n=xlsxscan.MAX_CELLS,
            )
        )
    return scan


def _percent_cells(path: Path, part: str):
    """An xlsx sheet's percent-formatted numbers (`xlsxscan.percent_cells`),
    or None when the workbook's parts cannot be read (calamine says why)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return xlsxscan.percent_cells(zf, part, xlsxscan.percent_styles(zf))
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error, xlsxscan.LimitError):
        return None


def _ods_percent_cells(path: Path, name: str):
    """An ODS sheet's `percentage` cells (see `xlsxscan.ods_percent_cells`)."""
    if path.suffix.lower() != ".ods":
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            return xlsxscan.ods_percent_cells(zf, name)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return None


def _col_letters(col: int) -> str:
    out = ""
    col += 1
    while col:
        col, r = divmod(col - 1, 26)
        out = chr(65 + r) + out
    return out


def _headers(head_rows: list[tuple], h: int) -> list[str]:
    """The header row's texts; a header cell left empty under a (vertically
    merged or two-level) title takes the label above it."""
    headers = [_cell_text(c) for c in head_rows[h]]
    for j, text in enumerate(headers):
        if not text and h > 0:
            above = _cell_text(head_rows[h - 1][j])
            if above and sum(1 for c in head_rows[h - 1] if _cell_text(c)) > 1:
                headers[j] = above
    return headers


def _data_columns(
    frame: pl.DataFrame, headers: list[str], h: int
) -> tuple[list[str], pl.DataFrame, list[int]]:
    """(headers, the non-blank rows below the header with their Excel row in
    `__row`, the positions kept): columns with neither a header nor any
    value are dropped."""
    data = frame.slice(h + 1).with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + h + 2).alias("__row")
    )
    cells = [f"c{j}" for j in range(len(headers))]
    keep = [
        j
        for j, c in enumerate(cells)
        if headers[j] or data.get_column(c).str.strip_chars().str.len_chars().fill_null(0).sum()
    ]
    headers = [headers[j] for j in keep]
    data = data.filter(~pl.col("__blank")).select(
        [pl.col(cells[j]).alias(f"c{k}") for k, j in enumerate(keep)] + ["__row"]
    )
    if not keep:
        data = data.clear()
    return headers, data, keep


def _skip_totals(path: Path, name: str, data: pl.DataFrame) -> tuple[pl.DataFrame, list]:
    """`data` without its totals rows, and an info problem for each."""
    cells = [c for c in data.columns if c != "__row"]
    problems: list[DataProblem] = []
    totals = totals_expr(cells)
    if totals is not None:
        hits = data[data.select(pl.arg_where(_likely_totals(cells))).to_series()].filter(totals)
        for values in hits.iter_rows():
            label = next((_cell_text(v) for v in values[:-1] if is_total(_cell_text(v))), "")
            problems.append(
                DataProblem(
                    str(path),
                    values[-1],
                    None,
                    label,
                    _("a totals row is skipped"),
                    "info",
                    sheet=name,
                    code=codes.DATA_TOTALS_ROW.code,
                )
            )
        if hits.height:
            data = data.filter(~pl.col("__row").is_in(hits.get_column("__row").implode()))
    return data, problems


# the one pre-filter of totals rows, as in text files
_likely_totals = likely_totals


def _skip_headers(
    path: Path, name: str, headers: list[str], data: pl.DataFrame
) -> tuple[pl.DataFrame, list]:
    """`data` without the rows that repeat the header (two exports pasted one
    under the other: the first named cells, up to six, are the header's texts,
    spaces around them aside), and an info problem for each — as in text files."""
    named = [(k, h.strip()) for k, h in enumerate(headers) if h.strip()][:6]
    if len(named) < 2:
        return data, []
    same = pl.all_horizontal(
        [pl.col(f"c{k}").str.strip_chars().fill_null("") == h for k, h in named]
    )
    problems = [
        DataProblem(
            str(path),
            row,
            None,
            named[0][1],
            _("a repeated header row is skipped"),
            "info",
            sheet=name,
            code=codes.DATA_REPEATED_HEADER.code,
        )
        for row in data.filter(same).get_column("__row").to_list()
    ]
    return (data.filter(~same) if problems else data), problems


def _skip_units(path: Path, name: str, data: pl.DataFrame) -> tuple[pl.DataFrame, list]:
    """`data` without its rows of units (`table.is_units_row`: a header
    written over two rows, （人） under 常住人口), and an info problem for
    each — as in text files."""
    cells = [c for c in data.columns if c != "__row"]
    if not cells or not data.height:
        return data, []
    problems, rows = [], []
    for values in data.filter(units_row_candidates(cells[0])).select(*cells, "__row").iter_rows():
        if is_units_row(values[:-1]):
            texts = [_cell_text(v) for v in values[:-1] if _cell_text(v)]
            rows.append(values[-1])
            problems.append(
                DataProblem(
                    str(path),
                    values[-1],
                    None,
                    texts[0],
                    _("a row of units under the header is skipped"),
                    "info",
                    sheet=name,
                    code=codes.DATA_UNITS_ROW.code,
                )
            )
    return (data.filter(~pl.col("__row").is_in(rows)) if rows else data), problems


def _midnight_dates(data: pl.DataFrame) -> pl.DataFrame:
    """A date cell's text as Excel shows a date, `2025-12-31`, not calamine's
    `2025-12-31 00:00:00` (a 考核期 column of dates names its periods so)."""
    midnight = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
    cols = [
        c
        for c in data.columns
        if c != "__row" and data.get_column(c).str.ends_with(" 00:00:00").any()
    ]
    if not cols:
        return data
    return data.with_columns(pl.col(c).str.replace(midnight, "${1}") for c in cols)


_DECIMAL = r"^([+-]?)([0-9]+)(?:\.([0-9]+))?$"
_EXPONENT = r"^([+-]?[0-9]*\.?[0-9]+)[eE]([+-]?[0-9]+)$"


def percent_texts(data: pl.DataFrame, masks: dict[str, pl.Expr | None]) -> pl.DataFrame:
    """`data` with each cell of the columns in `masks` where its mask holds
    (every cell for None) that holds a number written as the percentage it
    shows, exactly (the decimal point moved two places, no float arithmetic):
    0.85 → 85%, 0.857 → 85.7%, 1 → 100%, -0.5 → -50%, 1e-7 → 1e-5%. Other
    text stays as it is. In stages, so that each regex runs once a cell."""
    cols = list(masks)
    # the exponent form (1e-7) only where a cell has one: calamine writes
    # plain decimals, so this is one quick scan instead of a regex a cell
    exps = data.select(pl.col(c).str.contains("[eE]").any().alias(c) for c in cols).row(0)
    first, second, last = [], [], []
    for c, mask, exponent in zip(cols, masks.values(), exps, strict=True):
        first.append(pl.col(c).str.extract_groups(_DECIMAL).alias(f"~d{c}"))
        if exponent:
            first.append(pl.col(c).str.extract_groups(_EXPONENT).alias(f"~e{c}"))
        g = pl.col(f"~d{c}").struct
        frac = g.field("3").fill_null("") + "00"
        second += [
            (g.field("2") + frac.str.slice(0, 2)).str.strip_chars_start("0").alias(f"~w{c}"),
            frac.str.slice(2).str.strip_chars_end("0").alias(f"~r{c}"),
        ]
        whole, rest = pl.col(f"~w{c}"), pl.col(f"~r{c}")
        shifted = pl.concat_str(
            [
                g.field("1"),
                pl.when(whole == "").then(pl.lit("0")).otherwise(whole),
                pl.when(rest == "").then(pl.lit("")).otherwise("." + rest),
                pl.lit("%"),
            ]
        )
        shown = pl.when(g.field("2").is_not_null()).then(shifted)
        if exponent:
            e = pl.col(f"~e{c}").struct
            power = pl.concat_str(
                [
                    e.field("1"),
                    pl.lit("e"),
                    (e.field("2").cast(pl.Int64, strict=False) + 2).cast(pl.String),
                    pl.lit("%"),
                ]
            )
            shown = shown.when(e.field("1").is_not_null()).then(power)
        shown = shown.otherwise(pl.col(c))
        if mask is not None:
            shown = pl.when(mask).then(shown).otherwise(pl.col(c))
        last.append(shown.alias(c))
    out = data.lazy().with_columns(first).with_columns(second).with_columns(last)
    return out.drop([n for n in out.collect_schema().names() if n.startswith("~")]).collect()


def as_percentages(data: pl.DataFrame, cells: pl.DataFrame, abs_cols: list[int]) -> pl.DataFrame:
    """Every percent-formatted number of `data` (the `row`, `col` of `cells`,
    0-based; `data`'s column `c<k>` is the sheet's column `abs_cols[k]`, its
    `__row` the Excel row) as the percentage it shows (`percent_texts`):
    cell by cell, whatever the column's other cells hold."""
    by_col = cells.group_by("col").agg((pl.col("row") + 1).alias("rows"))
    rows = dict(zip(by_col.get_column("col").to_list(), by_col.get_column("rows"), strict=True))
    masks = {
        f"c{k}": pl.col("__row").is_in(rows[col].implode())
        for k, col in enumerate(abs_cols)
        if col in rows
    }
    return percent_texts(data, masks) if masks else data


def _cell_text(v) -> str:
    return "" if v is None else str(v).strip()


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}


def _sheet_parts(path: Path) -> tuple[list[str | None], set[int]]:
    """The zip member of every sheet (workbook.xml order), and the positions
    of the hidden ones."""
    try:
        with zipfile.ZipFile(path) as zf:
            wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError, EOFError):
        return [], set()
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts: list[str | None] = []
    hidden: set[int] = set()
    for i, sheet in enumerate(wb.findall("m:sheets/m:sheet", _NS)):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"))
        if target is None:
            parts.append(None)
        else:
            parts.append(target.lstrip("/") if target.startswith("/") else "xl/" + target)
        if sheet.get("state") in ("hidden", "veryHidden"):
            hidden.add(i)
    return parts, hidden


# the sheets zhili's own templates and round forms add beside their data sheet
# (the instructions, the hidden stamp): never data, never named as such
ZHILI_SHEETS = frozenset({"填表说明", "_zhili_form"})


def _holds_data(path: Path, reader, index: int, parts: list[str | None]) -> bool:
    """Whether another sheet holds any value (the first 256 KB of an xlsx
    sheet's XML; the first rows of other workbooks)."""
    if parts:
        part = parts[index] if index < len(parts) else None
        if part is None:
            return False
        try:
            with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
                head = fh.read(256 * 1024)
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
            return False
        return bool(re.search(rb"<(?:\w+:)?[vt](?:\s[^>]*)?>\s*[^<\s]", head))
    try:
        return reader.load_sheet(index, header_row=None, n_rows=5, dtypes="string").height > 0
    except Exception:
        return False


def _other_sheets_problem(path: Path, name: str, others: list[str]) -> DataProblem:
    return DataProblem(
        str(path),
        None,
        None,
        None,
        _("only sheet {sheet} is read; these sheets also hold data: {others} (use --sheet)").format(
            sheet=name, others=", ".join(others)
        ),
        "info",
        sheet=name,
        code=codes.DATA_OTHER_SHEETS.code,
    )


def _formula_problems(
    path: Path, name: str, scan: xlsxscan.SheetScan, cols: dict[int, str], header: int
) -> list[DataProblem]:
    """A warning for every cell below the header, in a column read, that
    holds an error value (#DIV/0!) or a formula without a computed value:
    calamine gives both as empty, so each counts as missing."""
    found = []
    for (r, c), text in scan.errors.items():
        if r > header and c in cols:
            found.append(
                (r, c, text, _("the cell holds the error value {error}: it counts as missing"))
            )
    for (r, c), text in scan.uncomputed.items():
        if r > header and c in cols and (r, c) not in scan.errors:
            found.append(
                (
                    r,
                    c,
                    text,
                    _(
                        "a formula without a computed value (the workbook was saved by a "
                        "program that does not calculate: open it in Excel and save it): it "
                        "counts as missing"
                    ),
                )
            )
    found.sort()
    return [
        DataProblem(
            str(path),
            r + 1,
            cols[c],
            text,
            message.format(error=text),
            "warning",
            sheet=name,
            code=(
                codes.DATA_ERROR_CELL if (r, c) in scan.errors else codes.DATA_UNCOMPUTED_FORMULA
            ).code,
        )
        for r, c, text, message in found
    ]


# a row this many blank rows below the one before it is likely a stray cell
STRAY_GAP = 1000


def _rows_after_gaps(path: Path, name: str, lines: list[int]) -> list[DataProblem]:
    """A warning for a row far below the rest (a stray cell at A1048576 is
    read as a community: say so)."""
    return [
        DataProblem(
            str(path),
            row,
            None,
            None,
            _("this row is {n:,} blank rows below the row before it: a stray cell?").format(
                n=row - before - 1
            ),
            "warning",
            sheet=name,
            code=codes.DATA_ROW_AFTER_GAP.code,
        )
        for before, row in zip(lines, lines[1:], strict=False)
        if row - before - 1 >= STRAY_GAP
    ]


# merged ranges fill at most this many cells (a street merged over its
# communities is a few hundred)
MAX_MERGED_CELLS = 5_000_000


def _fill_merges(path: Path, name: str, frame: pl.DataFrame, merges, first_col: int):
    """Every cell of a merged range reads the range's (top-left) value."""
    area = 0
    for r1, c1, r2, c2 in merges:
        if r1 < frame.height:
            width = min(c2 - first_col, frame.width - 1) - max(c1 - first_col, 0) + 1
            area += (min(r2, frame.height - 1) - r1 + 1) * max(width, 0)
    if area > MAX_MERGED_CELLS:
        raise DataError(
            _("{file}: sheet {sheet}: merged ranges cover more than {n:,} cells").format(
                file=path, sheet=name, n=MAX_MERGED_CELLS
            )
        )
    cols = {c: frame.get_column(c).to_list() for c in frame.columns if c.startswith("c")}
    touched = set()
    for r1, c1, r2, c2 in merges:
        j1 = c1 - first_col
        if r1 >= frame.height or j1 < 0 or f"c{j1}" not in cols:
            continue
        value = cols[f"c{j1}"][r1]
        for j in range(j1, c2 - first_col + 1):
            if f"c{j}" not in cols:
                break
            col = cols[f"c{j}"]
            for r in range(r1, min(r2, frame.height - 1) + 1):
                if col[r] is None:
                    col[r] = value
            touched.add(f"c{j}")
    return frame.with_columns([pl.Series(c, cols[c], dtype=pl.String) for c in sorted(touched)])
