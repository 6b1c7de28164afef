"""The built-in readers of text and Parquet files: CSV, TSV and TXT
(delimited text, UTF-8 or GB18030 or a named encoding), JSON and JSON Lines,
Parquet. Each returns the file as text cells (a `RawTable`); Excel workbooks
are read by `excel`. `readers` lists them by suffix.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from zhili.dsl import codes
from zhili.dsl.i18n import _
from zhili.engine.io.source import MAX_DATA_BYTES, display_name, is_stdin, read_bytes
from zhili.engine.io.table import (
    HEADER_SCAN_ROWS,
    HIERARCHY,
    DataError,
    DataProblem,
    NotInBatches,
    RawTable,
    header_row,
    is_total,
    is_units_row,
    likely_totals,
    norm,
    strip_unit,
    totals_expr,
    units_row_candidates,
    with_series,
)

if TYPE_CHECKING:
    from zhili.dsl.model import Model


def read_delimited(path: Path, encoding: str | None = None, model: Model | None = None) -> RawTable:
    """A CSV, TSV or TXT file (tab- or comma-separated, by the suffix or the
    first lines), or standard input for `-`; see docs/data.md.

    In phases: read at most `MAX_DATA_BYTES` → decode (a byte-order mark,
    `encoding`, else UTF-8 or GB18030) to UTF-8 with one kind of line end →
    find the header among the first rows (`table.header_row`, as workbooks
    do) → the rows below it, through Polars' reader when it can and the
    record-by-record reader otherwise → skip totals rows and repeated header
    rows, each with an info problem."""
    name = display_name(path)
    text = _utf8_text(name, read_bytes(path), encoding)
    sep = _separator(path, text)
    line = _header_line(name, text, sep, model)
    return _whole_table(name, text, sep, line, encoding is None)


def _whole_table(name: str, text: bytes, sep: str, line: int, guess: bool) -> RawTable:
    """The table below the header on `line`, all of `text` at once: through
    Polars' reader when it can, the record-by-record reader otherwise."""
    fast = _read_csv_fast(name, text, sep, line)
    if fast is not None:
        headers, frame, lines, problems = fast
    else:
        headers, frame, lines, problems = _read_csv(name, text, sep, line, guess)
    quoted = b'"' in text
    if quoted:
        _refuse_unclosed_quote(name, text, sep, headers, frame, lines)
    long_cells = _may_hold_long_cell(text, sep.encode(), quoted)
    return _skipped_table(name, headers, frame, lines, problems, long_cells)


def _refuse_unclosed_quote(
    name: str,
    text: bytes,
    sep: str,
    headers: list[str],
    frame: pl.DataFrame,
    lines: list[int],
    offset: int = 0,
) -> None:
    """A quote opened in the last row and never closed (`,"是,86.9%,…`)
    makes every later line part of one cell: the rows below it would be
    lost without a word. Raises `DataError` naming the line and column of
    the cell it opens. `text` ends the file; its line k is the file's line
    k + `offset`."""
    if not lines or not frame.height:
        return
    last = frame.row(frame.height - 1)
    j = next((k for k, c in enumerate(last) if isinstance(c, str) and "\n" in c), None)
    if j is None:
        return
    tail = text[_line_offset(text, lines[-1] - offset) :].decode("utf-8", "replace")
    try:
        for _row in csv.reader(io.StringIO(tail, newline=""), delimiter=sep, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):
            return
        end = lines[-1] + tail.rstrip("\r\n").count("\n")
        raise DataError(
            _(
                "{file}:{line} [{column}]: a quote opened in this cell is never closed, so "
                "lines {line}–{end} would be read as one cell: close the quote or remove it"
            ).format(
                file=name, line=lines[-1], column=headers[j] if j < len(headers) else j + 1, end=end
            )
        ) from None


def _skipped_table(
    name: str,
    headers: list[str],
    frame: pl.DataFrame,
    lines: list[int],
    problems: list,
    long_cells: bool = True,
) -> RawTable:
    if long_cells:  # False: its text showed no cell can be that long
        _refuse_long_cells(name, headers, frame, lines)
    frame, lines, skipped = _skip_rows(name, headers, frame, lines)
    problems = sorted(problems + skipped, key=lambda p: p.row or 0)
    return RawTable(name, headers, frame, lines, problems)


# Excel's limit for a cell: a text file's cell is held to it as a workbook's
# is (`xlsxscan.MAX_CELL_CHARS`), so that no output cuts what was read
MAX_CELL_CHARS = 32_767


def _may_hold_long_cell(text: bytes, sep: bytes, quoted: bool) -> bool:
    """Whether `text` may hold a cell of more than `MAX_CELL_CHARS`
    characters: always when it has quotes; else when one of its 16 KB
    windows (at multiples of 16 KB) holds no separator and no line end, as
    some window of such a cell does."""
    if quoted:
        return True
    step = 16 * 1024
    return any(
        text.find(sep, at, at + step) < 0 and text.find(b"\n", at, at + step) < 0
        for at in range(0, len(text), step)
    )


def _refuse_long_cells(name: str, headers: list[str], frame: pl.DataFrame, lines: list[int]):
    """A `DataError` naming the line and column of the first cell of more
    than `MAX_CELL_CHARS` characters (its byte length tells most cells are
    not: one pass over the lengths Polars keeps)."""
    long = [
        c
        for c in frame.columns
        if (frame.get_column(c).str.len_bytes().max() or 0) > MAX_CELL_CHARS
    ]
    hits = [
        (int(at[0]), j)
        for j, c in enumerate(frame.columns)
        if c in long
        and (at := (frame.get_column(c).str.len_chars() > MAX_CELL_CHARS).arg_true()).len()
    ]
    if not hits:
        return
    at, j = min(hits)
    raise DataError(
        _(
            "{file}:{line} [{column}]: a cell holds more than {n:,} characters "
            "(Excel's limit for a cell); zhili does not read a cell this long"
        ).format(file=name, line=lines[at], column=headers[j] or j + 1, n=MAX_CELL_CHARS)
    )


# a text file larger than this is read and converted in row batches of
# about this many bytes each (`read_delimited_batches`): its text cells are
# never all in memory at once
BATCH_BYTES = 64 * 1024**2


def read_delimited_batches(
    path: Path,
    encoding: str | None = None,
    model: Model | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[RawTable]:
    """`read_delimited`'s table as consecutive row batches, a `RawTable` each
    (every one with the file's headers, its rows' lines in the file, its
    rows' problems); one batch for a file of at most three times
    `batch_bytes` after its header (batches would cost time and save little
    memory), or one the fast reader cannot read. Batches end at record ends
    (outside quotes). Raises `NotInBatches`, at any batch, when a batch needs
    the record-by-record reader: the caller reads the whole file with
    `read_delimited` then (the batches given so far are not part of it).

    A UTF-8 file is read from disk a batch at a time (`_streamed`): its
    bytes are never all in memory. Another (decoded to UTF-8 first) is read
    whole and cut into batches in memory."""
    name = display_name(path)
    streamed = _streamed(path, name, encoding, model, batch_bytes)
    if streamed is not None:
        yield from streamed
        return
    text = _utf8_text(name, read_bytes(path), encoding)
    sep = _separator(path, text)
    line = _header_line(name, text, sep, model)
    start = _line_offset(text, line)
    head_end = _record_end(text, start, start)
    if len(text) - head_end <= 3 * batch_bytes or head_end >= len(text):
        yield _whole_table(name, text, sep, line, encoding is None)
        return
    source = io.BytesIO(text)  # shares `text`'s bytes
    source.seek(head_end)
    yield from _row_batches(
        name, source, text[start:head_end], line, sep, b'"' in text, batch_bytes, None
    )


class _Stream:
    """Where `_row_batches` reads a UTF-8 file from disk: the open file, at
    `start` (the first byte after the header record), and what was seen of
    it before the batches were read."""

    def __init__(self, f, st: os.stat_result, start: int) -> None:
        self.file, self.start, self.seen = f, start, _file_state(st)

    def ended_unlike(self, read: int) -> bool:
        """Whether the file, at its end after `read` bytes from `start`, is
        not the one seen before: another size, time (the change time too,
        which no one sets back) or file."""
        st = os.fstat(self.file.fileno())
        return _file_state(st) != self.seen or self.start + read != st.st_size


def _file_state(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _streamed(
    path: Path, name: str, encoding: str | None, model: Model | None, batch_bytes: int
) -> Iterator[RawTable] | None:
    """The batches of a UTF-8 file of more than three batches, read from
    disk one at a time; None for any other file (read whole by the caller):
    another encoding, a byte-order mark of UTF-16/32, a start that is not
    UTF-8, a lone CR in the top of the file, a header record longer than
    the top, more than `MAX_DATA_BYTES`."""
    if not _utf8_wanted(encoding) or is_stdin(path):
        return None
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by `_row_batches`, or below)
    except OSError as exc:
        raise DataError(
            _("{file}: cannot read: {err}").format(file=name, err=exc.strerror or exc)
        ) from None
    try:
        st = os.fstat(f.fileno())
        head = f.read(_HEAD_BYTES + 4)
        skip = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        head = head[skip : skip + _HEAD_BYTES + 1]
        plain = (
            st.st_size <= MAX_DATA_BYTES
            and not any(head.startswith(mark) for mark, _enc in _BOMS)
            and (encoding is not None or _utf8_start(head))
            and not _lone_cr(head)
        )
        if plain:
            _refuse_binary(name, head)
            sep = _separator(path, head)
            # a top of blank lines only: the whole file says whether it is empty
            plain = bool(head.strip(b" \t\r\n" + sep.encode()))
        if plain:
            line = _header_line(name, head, sep, model)
            start = _line_offset(head, line)
            head_end = _record_end(head, start, start)
            plain = head_end < len(head) and st.st_size - skip - head_end > 3 * batch_bytes
        if not plain:
            f.close()
            return None
        f.seek(0)
        quoted = _holds_quote(f)  # anywhere in the file, as `b'"' in text` for a file read whole
        f.seek(skip + head_end)
    except OSError as exc:
        f.close()
        raise DataError(
            _("{file}: cannot read: {err}").format(file=name, err=exc.strerror or exc)
        ) from None
    except BaseException:
        f.close()
        raise
    return _row_batches(
        name,
        f,
        head[start:head_end],
        line,
        sep,
        quoted,
        batch_bytes,
        _Stream(f, st, skip + head_end),
    )


def _holds_quote(f) -> bool:
    """Whether the rest of the file `f` holds a `"` (read through once,
    a few megabytes at a time)."""
    buf = bytearray(16 * 1024**2)
    while n := f.readinto(buf):
        if buf.find(b'"', 0, n) >= 0:
            return True
    return False


def _lone_cr(data: bytes, start: int = 0) -> bool:
    """Whether `data` from `start` on holds a CR that is not followed by LF
    (a line end of its own, which only the whole-file reader turns into LF)."""
    if data.find(b"\r", start) < 0:
        return False
    import numpy as np

    a = np.frombuffer(data, np.uint8, offset=start)
    at = np.flatnonzero(a == 13) + 1
    return bool(at[-1] == len(a) or (a[at[at < len(a)]] != 10).any())


def _row_batches(
    name: str,
    source,
    header: bytes,
    line: int,
    sep: str,
    quoted: bool,
    batch_bytes: int,
    stream: _Stream | None,
) -> Iterator[RawTable]:
    """The batches of `read_delimited_batches`: records read from `source`
    (a file at the first record below the header on `line`) about
    `batch_bytes` at a time, each batch cut at its last record end and read
    with `header` above it. From a `stream` (a file on disk), a batch that
    differs from what was seen of the file before (a quote, a lone CR, the
    file changed or grew past the limit while read) raises `NotInBatches`:
    the whole file is read again then."""
    from zhili.engine.io.csvfast import read_csv_fast, scan_bytes

    if not header.endswith(b"\n"):
        header += b"\n"
    header_lines = header.count(b"\n")
    sep_b = sep.encode()
    header_seps = header.count(sep_b)
    first_line, carry, total = line + header_lines, b"", 0
    usual_rows: list[list[str | None]] = []  # the file's first rows (`_usual_kinds`)
    tried = 0  # the size of the last carry the exact reader found no record end in
    try:
        while True:
            try:
                chunk = source.read(batch_bytes)
            except OSError as exc:  # an I/O error on a later batch (a disk, a network share)
                raise DataError(
                    _("{file}: cannot read: {err}").format(file=name, err=exc.strerror or exc)
                ) from None
            total += len(chunk)
            if not chunk and stream is not None and stream.ended_unlike(total):
                raise NotInBatches(name)  # truncated, grown or rewritten while read
            if not chunk and not carry:
                break
            final = not chunk
            end = _last_record_end(carry, chunk, quoted) if chunk else len(chunk)
            exact = False
            if chunk and end < 0:  # no record ends in it: read on
                carry += chunk
                del chunk
                if not quoted or len(carry) < max(batch_bytes, 2 * tried):
                    continue
                # no newline outside quotes, counting them, in a batch's worth
                # of records: a stray quote (`北"坡社区`) or a quoted cell longer
                # than a batch; the exact reader finds where records end
                batch, carry, exact = header + carry, b"", True
            else:
                with memoryview(chunk) as view:
                    batch = b"".join((header, carry, view[:end]))
                    carry = bytes(view[end:])
                del chunk
            h = len(header)
            # one pass: the lines, the separators (for short rows) and a lone CR
            lines, seps, lone_cr = scan_bytes(batch, sep_b, h)
            if stream is not None and (
                (not quoted and batch.find(b'"', h) >= 0) or lone_cr or total > MAX_DATA_BYTES
            ):
                raise NotInBatches(name)
            offset = first_line - 1 - header_lines
            got = None
            if not exact:
                got = read_csv_fast(
                    batch, sep, offset, whole=True, quoted=quoted, seps=seps + header_seps
                )
            if got is None:  # only the record-by-record reader reads this batch right
                table, carry, lines = _exact_batch(
                    name, batch, carry, h, sep, offset, final, usual_rows
                )
                del batch
                if table is None:  # not one whole record yet
                    tried = len(carry)
                    continue
                tried = 0
            else:
                long_cells = _may_hold_long_cell(batch, sep_b, quoted)
                headers, frame, row_lines, short = got
                if final and quoted:  # a quote never closed has swallowed the file's end
                    _refuse_unclosed_quote(name, batch, sep, headers, frame, row_lines, offset)
                del batch
                if len(usual_rows) < _USUAL_ROWS:
                    usual_rows += map(list, frame.head(_USUAL_ROWS - len(usual_rows)).iter_rows())
                problems = _short_problems(name, headers, short)
                table = _skipped_table(name, headers, frame, row_lines, problems, long_cells)
                del got, frame  # not kept while the next batch is read
            first_line += lines
            yield table
            del table
    finally:
        if stream is not None:
            stream.file.close()


def _exact_batch(
    name: str,
    batch: bytes,
    rest: bytes,
    h: int,
    sep: str,
    offset: int,
    final: bool,
    usual_rows: list[list[str | None]],
) -> tuple[RawTable | None, bytes, int]:
    """A batch (`h` bytes of header, then records, on lines from `offset` + 1)
    that the fast reader cannot read right (a row longer than the header,
    a stray quote, odd quoting), read by the record-by-record reader as the
    whole file would be (`usual_rows`, the file's first rows, say what its
    columns hold): every record of `batch` + `rest` but the last, which may
    be cut, unless the batch is the file's last (`final`). (the table, or
    None when not one whole record was read; the bytes after the records
    read, carried to the next batch; the lines read after the header)."""
    data = batch + rest if rest else batch
    # up to the last line end (a batch may end inside a character)
    cut = len(data) if final else data.rfind(b"\n") + 1
    if cut <= h:
        return None, data[h:], 0
    text = data if cut == len(data) else data[:cut]
    if _utf8_error(text) >= 0:  # the whole file says which encoding, or which line
        raise NotInBatches(name)
    usual = list(usual_rows)
    got = _read_exact(name, text, sep, 1, False, usual, offset, leave_last=not final)
    del text
    header_lines = data.count(b"\n", 0, h)
    if got.rest is None:
        done, lines = len(data), data.count(b"\n", h)
    else:
        done, lines = _line_offset(data, got.rest), got.rest - 1 - header_lines
    if not final and (lines <= 0 or (got.ragged and len(usual) < _USUAL_ROWS)):
        # not one whole record; or a row longer than the header, which the
        # file's first rows line up, more of them to come: read on
        return None, data[h:], 0
    usual_rows[:] = usual
    table = _skipped_table(name, got.headers, got.frame, got.lines, got.problems)
    return table, data[done:], lines


def _last_record_end(carry: bytes, chunk: bytes, quoted: bool) -> int:
    """Where in `chunk` the last record that starts with `carry` + `chunk`
    ends (just past its newline; outside quotes when `quoted`), or -1 when
    none does."""
    nl = chunk.rfind(b"\n")
    if nl < 0 or not quoted:
        return nl if nl < 0 else nl + 1
    from zhili.engine.io.csvfast import count_byte

    with memoryview(chunk) as view:
        quotes = count_byte(carry, b'"') + count_byte(view[: nl + 1], b'"')
        while quotes % 2:  # inside a quoted cell: the newline before
            before = chunk.rfind(b"\n", 0, nl)
            if before < 0:
                return -1
            quotes -= count_byte(view[before + 1 : nl + 1], b'"')
            nl = before
    return nl + 1


def _record_end(text: bytes, at: int, start: int) -> int:
    """The end of the line that `at` is on (just past its newline), or of a
    later one: the first where the quotes between `start` (a record's start)
    and it are balanced (a quoted cell may hold newlines); the end of `text`
    when none."""
    from zhili.engine.io.csvfast import count_byte

    quotes = 0
    while True:
        nl = text.find(b"\n", at)
        if nl < 0:
            return len(text)
        with memoryview(text) as view:
            quotes += count_byte(view[start:nl], b'"')
        if quotes % 2 == 0:
            return nl + 1
        start = at = nl + 1


def read_json(path: Path) -> RawTable:
    """A JSON file (a list of objects, or an object holding one under
    `communities`, `records` or `data`) or a JSON Lines file (one object a line)."""
    headers, rows = _read_json(path, read_bytes(path))
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


_BOMS = (  # a byte-order mark names the encoding (UTF-32's before UTF-16's: it starts alike)
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEAD_BYTES = 65536  # the top of a text file, where the header is looked for


def _utf8_wanted(encoding: str | None) -> bool:
    return encoding is None or encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _utf8_text(name: str, data: bytes, encoding: str | None) -> bytes:
    """`data` as UTF-8 without a byte-order mark, lines ending in `\\n` or
    `\\r\\n`: a named `encoding` is used as given (any encoding Python knows);
    else a UTF-16 or UTF-32 byte-order mark names it; else UTF-8 (after a
    UTF-8 byte-order mark too), or GB18030 when the start of the file is not
    UTF-8 (a GBK file saved with a UTF-8 mark included). A CR alone ends a
    line too (old Excel and Mac exports)."""
    bom = next((enc for mark, enc in _BOMS if data.startswith(mark)), None)
    if not _utf8_wanted(encoding):
        if not encoding.lower().replace("-", "").startswith(("utf16", "utf32")):
            data = data.removeprefix(codecs.BOM_UTF8)  # a GBK file saved with a UTF-8 mark
        text = _decode_as(name, data, encoding).removeprefix("\ufeff").encode("utf-8")
    elif bom is not None and encoding is None:
        text = _decode_as(name, data, bom).encode("utf-8")
    else:
        text = data.removeprefix(codecs.BOM_UTF8)
        _refuse_binary(name, text)
        if encoding is None and not _utf8_start(text):
            text = _decode_as(name, text, "gb18030", unknown=True).encode("utf-8")
    _refuse_binary(name, text)
    if b"\r" in text and text.count(b"\r") != text.count(b"\r\n"):
        text = re.sub(rb"\r\n?", b"\n", text)
    return text


def _refuse_binary(name: str, text: bytes) -> None:
    if b"\x00" in text[:4096]:
        head = text[:4096]
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if min(odd, even) * 4 < max(odd, even):  # zeros mostly on one side: UTF-16 text
            raise DataError(
                _(
                    "{file}: a binary file, not CSV (UTF-16 text without a byte-order mark "
                    "needs --encoding utf-16le or utf-16be)"
                ).format(file=name)
            )
        raise DataError(_("{file}: a binary file, not CSV").format(file=name))


def _utf8_start(data: bytes) -> bool:
    """Whether the top of `data` is UTF-8 (a character cut at its end allowed)."""
    head = data[:_HEAD_BYTES]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return len(head) == _HEAD_BYTES and exc.start >= len(head) - 3
    return True


def _decode_as(name: str, data: bytes, encoding: str, unknown: bool = False) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise DataError(
            _(
                "{file}: cannot decode as {enc}: no such encoding (try utf-8, gb18030, utf-16)"
            ).format(file=name, enc=encoding)
        ) from None
    except UnicodeDecodeError as exc:
        if unknown:
            raise DataError(
                _("{file}: unknown text encoding; use --encoding").format(file=name)
            ) from None
        raise DataError(
            _("{file}: cannot decode as {enc}: {err}").format(file=name, enc=encoding, err=exc)
        ) from None


def _separator(path: Path, text: bytes) -> str:
    sample = text[:4096]
    tab = path.suffix.lower() == ".tsv" or sample.count(b"\t") > sample.count(b",")
    return "\t" if tab else ","


def _records(text: str, sep: str):
    """(first line of the record in the file, its cells) for each record of
    `text`; a blank line is a record without cells."""
    if isinstance(text, str):
        text = io.StringIO(text, newline="")
    # a cell may be as long as a file (a cell over Excel's limit is refused
    # with its line and column by `_long_cells`, not by the csv module)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_DATA_BYTES))
    reader = csv.reader(text, delimiter=sep)
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1  # a quoted cell may span several lines


def _header_line(name: str, text: bytes, sep: str, model: Model | None) -> int:
    """The line the header starts on: `table.header_row` over the first
    records that are not blank (blank lines and title rows above it are not
    data, however many)."""
    skip = _blank_top(text, sep)
    first = text.count(b"\n", 0, skip)  # the lines above the first one not blank
    head = text[skip : skip + _HEAD_BYTES]
    cut = len(text) - skip > _HEAD_BYTES
    if cut:
        head = head[: head.rfind(b"\n") + 1] or head
    records = []
    try:
        for at, cells in _records(head.decode("utf-8", errors="replace"), sep):
            if not any(c.strip() for c in cells):
                continue  # a blank line (of spaces or separators): not a candidate
            records.append((at + first, cells))
            if len(records) > HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass  # the record-by-record reader reports it
    if cut and len(records) > 1:
        records = records[:-1]  # it may go on past the head
    h = header_row([cells for _, cells in records[:HEADER_SCAN_ROWS]], model)
    if h is None:
        if text.strip(b" \t\r\n" + sep.encode()):
            return first + 1
        raise DataError(_("{file}: the file is empty").format(file=name))
    return records[h][0]


def _blank_top(text: bytes, sep: str) -> int:
    """Where the first line of `text` that holds more than spaces, tabs and
    separators starts (0 when the first does; the end when none does)."""
    blank = re.compile(rb"(?:[ \t\r" + re.escape(sep.encode()) + rb"]*\n)*")
    return blank.match(text).end()


def _line_offset(text: bytes, line: int) -> int:
    """Where line `line` of `text` starts."""
    at = 0
    for _i in range(line - 1):
        nl = text.find(b"\n", at)
        if nl < 0:
            return len(text)
        at = nl + 1
    return at


def _read_csv_fast(name: str, text: bytes, sep: str, line: int):
    """(headers, cells, lines, problems) through Polars' reader
    (`engine.io.csvfast`) from the header on `line`; None when the file needs
    the record-by-record reader (ragged rows, odd quoting, bad UTF-8)."""
    from zhili.engine.io.csvfast import read_csv_fast

    got = read_csv_fast(text[_line_offset(text, line) :], sep, line - 1)
    if got is None:
        return None
    headers, frame, lines, short = got
    return headers, frame, lines, _short_problems(name, headers, short)


def _short_problems(name: str, headers: list[str], short: list[tuple[int, int]]) -> list:
    return [
        short_row_problem(name, at, next(h for h in headers[got:] if h), got, len(headers))
        for at, got in short
        if any(headers[got:])
    ]


def _skip_rows(
    name: str, headers: list[str], frame: pl.DataFrame, lines: list[int]
) -> tuple[pl.DataFrame, list[int], list[DataProblem]]:
    """The rows that are not communities, each skipped with an info problem:
    a totals row (合计/总计/小计… in one of its first six cells) and a repeated
    header row (two exports one after the other: its first named cells, up
    to six, are the header's texts, spaces around them aside)."""
    cells = frame.columns
    if not frame.height or not cells:
        return frame, lines, []
    frame = with_series(frame, pl.Series("__line", lines, dtype=pl.Int64))
    problems = []
    totals = totals_expr(cells)
    if totals is not None:
        # the exact test normalizes every cell: only try it on likely rows
        at = frame.select(pl.arg_where(likely_totals(cells))).to_series()  # no copy of the frame
        for values in frame[at].filter(totals).iter_rows():
            texts = [v for v in values[:6] if isinstance(v, str) and v.strip()]
            label = next((v for v in texts if is_total(v)), texts[0])
            problems.append(_skipped(name, values[-1], label, "totals"))
    for values in frame.filter(units_row_candidates(cells[0])).iter_rows():
        if is_units_row(values[:-1]):
            texts = [v.strip() for v in values[:-1] if v and v.strip()]
            problems.append(_skipped(name, values[-1], texts[0], "units"))
    named = [(j, h.strip()) for j, h in enumerate(headers) if h.strip()][:6]
    if len(named) >= 2:
        hits = frame.select("__line", *(f"c{j}" for j, _h in named))
        for j, h in named:  # one column at a time: few rows get past the first
            hits = hits.filter(pl.col(f"c{j}").str.contains(h, literal=True))
        for j, h in named:
            hits = hits.filter(pl.col(f"c{j}").str.strip_chars() == h)
        for line, label, *_rest in hits.iter_rows():
            problems.append(_skipped(name, line, label, "header"))
    if problems:
        frame = frame.filter(~pl.col("__line").is_in([p.row for p in problems]))
        lines = frame.get_column("__line").to_list()
    return frame.drop("__line"), lines, problems


def _skipped(name: str, line: int, label: str | None, why: str) -> DataProblem:
    if why == "totals":
        message, code = _("a totals row is skipped"), codes.DATA_TOTALS_ROW.code
    elif why == "units":
        message, code = _("a row of units under the header is skipped"), codes.DATA_UNITS_ROW.code
    else:
        message = _("a repeated header row is skipped")
        code = codes.DATA_REPEATED_HEADER.code
    return DataProblem(name, line, None, label, message, "info", code=code)


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
    return _parquet_table(path, _read_parquet(path), model, 0)


# a Parquet file of more rows is read in batches of this many
PARQUET_BATCH_ROWS = 100_000


def read_parquet_batches(
    path: Path, model: Model | None = None, batch_rows: int = PARQUET_BATCH_ROWS
) -> Iterator[RawTable]:
    """`read_parquet`'s table as consecutive batches of `batch_rows` rows
    (each read from the file when it is wanted: the file's typed columns and
    text cells are never all in memory); its problems with the first."""
    try:
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    except Exception as exc:  # polars raises several kinds for a bad file
        raise DataError(
            _("{file}: not a readable Parquet file: {err}").format(file=path, err=exc)
        ) from None
    for start in range(0, max(rows, 1), batch_rows):
        frame = _read_parquet(path, start, batch_rows) if rows > batch_rows else _read_parquet(path)
        raw = _parquet_table(path, frame, model, start)
        yield raw if start == 0 else replace(raw, problems=[])


def _read_parquet(path: Path, start: int = 0, rows: int | None = None) -> pl.DataFrame:
    try:
        if rows is None:
            return pl.read_parquet(path)
        return pl.scan_parquet(path).slice(start, rows).collect()
    except Exception as exc:  # polars raises several kinds for a bad file
        raise DataError(
            _("{file}: not a readable Parquet file: {err}").format(file=path, err=exc)
        ) from None


def _parquet_table(path: Path, frame: pl.DataFrame, model: Model | None, start: int) -> RawTable:
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
        list(range(start + 1, start + frame.height + 1)),
        problems,
    )


def _parquet_text(col: pl.Series) -> pl.Series | None:
    """A Parquet column as text, or None for a type that cannot be read. A
    list of strings (a multi-select input's cells) is read as JSON lists,
    as a JSON file's are (`["养老", "托幼"]`)."""
    if isinstance(col.dtype, pl.List) and col.dtype.inner in (pl.String, pl.Categorical):
        return pl.Series(
            col.name,
            [None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_list()],
            dtype=pl.String,
        )
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


def _read_csv(name: str, text: bytes, sep: str, line: int, guess: bool):
    """(headers, cells, lines, problems) record by record (Python's csv
    module) from the header on `line`: exact about ragged rows and quoting."""
    got = _read_exact(name, text, sep, line, guess)
    return got.headers, got.frame, got.lines, got.problems


# the record-by-record reader turns this many rows at a time into columns:
# a million rows are never all Python lists at once
_PIECE_ROWS = 16_384
# the rows of a file (the first this many that are not longer than the
# header) that say what each column usually holds (`_usual_kinds`)
_USUAL_ROWS = 1000


@dataclass
class _Exact:
    """What `_read_exact` read: the table's parts, and (when it left the
    last record unread) the line of `text` that record starts on."""

    headers: list[str]
    frame: pl.DataFrame
    lines: list[int]
    problems: list[DataProblem]
    rest: int | None = None
    ragged: bool = False  # a row longer than the header


def _read_exact(
    name: str,
    text: bytes,
    sep: str,
    line: int,
    guess: bool,
    usual_rows: list[list[str | None]] | None = None,
    offset: int = 0,
    leave_last: bool = False,
) -> _Exact:
    """`_read_csv`'s table, decoded and turned into columns a piece at a
    time. `usual_rows`: the rows before `text` that tell what each column
    holds (a batch of a file: the file's first rows), extended here.
    `offset` is added to every row's line. With `leave_last`, the last
    record is not read (a batch whose end may cut it): `rest` is its line."""
    headers: list[str] | None = None
    pieces: list[pl.DataFrame] = []
    rows: list[list[str | None]] = []
    lines: list[int] = []
    problems: list[DataProblem] = []
    kept: list[tuple[int, list[str]]] = []  # the rows with more cells than the header
    usual = [] if usual_rows is None else usual_rows
    pending: tuple[int, list[str]] | None = None
    last_row: list[str | None] = []  # the last row read (`_refuse_unclosed_quote`)
    at = line
    try:
        for at, cells in _records(_text_stream(name, text, guess), sep):
            if headers is None:
                if at == line:
                    headers = [h.strip() for h in cells]
                continue
            if leave_last:
                pending, (at, cells) = (at, cells), pending or (0, [])
            if not any(c.strip() for c in cells):
                continue  # a blank line (or none yet, when the last is left)
            n = len(headers)
            if len(cells) > n:
                kept.append((len(lines), cells))
            padded = (cells + [None] * (n - len(cells)))[:n]
            if len(cells) <= n and len(usual) < _USUAL_ROWS:
                usual.append(padded)
            problem = _ragged(name, at + offset, headers, cells)
            if problem is not None:
                problems.append(problem)
            rows.append(padded)
            last_row = padded
            lines.append(at + offset)
            if len(rows) == _PIECE_ROWS:
                pieces.append(_cells_frame(rows, n))
                rows = []
    except csv.Error as exc:
        raise DataError(
            _("{file}:{line}: not valid CSV: {err}").format(file=name, line=at + offset, err=exc)
        ) from None
    if headers is None:
        raise DataError(_("{file}: the file is empty").format(file=name))
    if not leave_last and lines and any(c is not None and "\n" in c for c in last_row):
        last = pl.DataFrame([last_row], schema=[f"c{j}" for j in range(len(headers))], orient="row")
        _refuse_unclosed_quote(name, text, sep, headers, last, lines[-1:], offset)
    pieces.append(_cells_frame(rows, len(headers)))
    frame = pl.concat(pieces, rechunk=False) if len(pieces) > 1 else pieces[0]
    if kept:
        problems, fixed = _shifted_rows(name, headers, usual, lines, kept, problems)
        frame = _fixed_rows(frame, fixed)
    rest = pending[0] if leave_last and pending is not None else None
    return _Exact(headers, frame, lines, problems, rest, bool(kept))


def _cells_frame(rows: list[list[str | None]], n: int) -> pl.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * n
    return pl.DataFrame(
        {f"c{j}": pl.Series(f"c{j}", col, dtype=pl.String) for j, col in enumerate(columns)},
        height=len(rows),
    )


def _fixed_rows(frame: pl.DataFrame, fixed: dict[int, list[str | None]]) -> pl.DataFrame:
    """`frame` with the rows at `fixed`'s positions replaced."""
    if not fixed:
        return frame
    at = pl.Series(list(fixed), dtype=pl.UInt32)
    return frame.with_columns(
        frame.get_column(c).scatter(at, [row[j] for row in fixed.values()])
        for j, c in enumerate(frame.columns)
    )


_NUMBER_CELL = re.compile(r"\s*[+-]?[0-9][0-9.,]*\s*")
_BEFORE_COMMA = re.compile(r"\s*[+-]?[0-9][0-9.]*")
_AFTER_COMMA = re.compile(r"[0-9]+(?:\.[0-9]*)?\s*[%％]?\s*")
# the part before the comma of a number written with one (1,5, 88,5%, 1,500):
# what a place to join must have when no other row tells what a column holds
_SHORT_BEFORE = re.compile(r"\s*[+-]?[0-9]{1,3}")


_WHOLE_CELL = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)")


def _kind(cell: str | None) -> str:
    """What a cell looks like, to line rows up: empty, a whole number (1,500
    too), another number, a percentage or text."""
    t = (cell or "").strip()
    if not t:
        return "empty"
    if t.endswith(("%", "％")):
        return "percent"
    if _WHOLE_CELL.fullmatch(t):
        return "whole"
    return "number" if _NUMBER_CELL.fullmatch(t) else "text"


def _shifted_rows(
    name: str,
    headers: list[str],
    usual_rows: list[list[str | None]],
    lines: list[int],
    kept: list[tuple[int, list[str]]],
    problems: list[DataProblem],
) -> tuple[list[DataProblem], dict[int, list[str | None]]]:
    """Rows whose extra cells come from an unquoted comma in a number (`1,5`
    written in a comma-separated file), see docs/data.md: when one place to
    join two cells back lines the row up with what the other rows hold in
    each column (whole numbers, other numbers, percentages, text) best, they are joined (`1,5`,
    which the conversion then reports, or `1,500`, read as 1500) and the
    cells after it stand under their own headers again; when several places
    do equally well, the cells from the first of them on count as missing.
    Either way the row's `data-extra-cells` warning names the column where
    the shift starts. `usual_rows`: the first rows not longer than the
    header; returns the problems and the rows changed, by position."""
    usual = _usual_kinds(headers, usual_rows)
    fixed: dict[int, list[str | None]] = {}
    by_line = {p.row: k for k, p in enumerate(problems) if p.code == codes.DATA_EXTRA_CELLS.code}
    for i, cells in kept:
        joined, first, sure = _join_commas(cells, len(headers), usual)
        if first is None or lines[i] not in by_line:
            continue
        if sure:
            fixed[i] = joined
            raw, message = (
                joined[first],
                _(
                    "the row has more cells than the header: an unquoted comma in this number "
                    "shifts the cells after it; they are read under their own headers "
                    "(quote the cell, or write 1.5 for a decimal)"
                ),
            )
        else:
            fixed[i] = [*cells[:first], *([None] * (len(headers) - first))]
            raw, message = (
                cells[first],
                _(
                    "the row has more cells than the header: an unquoted comma in a number "
                    "from this column on shifts its cells, which count as missing "
                    "(quote the cell, or write 1.5 for a decimal)"
                ),
            )
        problems[by_line[lines[i]]] = DataProblem(
            name,
            lines[i],
            headers[first] or None,
            raw,
            message,
            "warning",
            code=codes.DATA_EXTRA_CELLS.code,
        )
    return problems, fixed


def _usual_kinds(headers: list[str], rows: list[list[str | None]]) -> list[str]:
    """Per column, the kind most of the first thousand well-formed rows
    (`rows`) hold there (`_kind`, empty cells aside)."""
    from collections import Counter

    counts = [Counter() for _h in headers]
    for row in rows[:_USUAL_ROWS]:
        for j, cell in enumerate(row):
            kind = _kind(cell)
            if kind != "empty":
                counts[j][kind] += 1
    return [c.most_common(1)[0][0] if c else "empty" for c in counts]


def _join_commas(
    cells: list[str], n: int, usual: list[str]
) -> tuple[list[str | None], int | None, bool]:
    """`cells` with each unquoted comma in a number joined back, left to
    right, while one join lines the row up best (see `_shifted_rows`): (the
    row cut to `n` cells, the column of the first place a join was wanted
    or None, whether every join was the only best one)."""

    def fit(row: list[str]) -> int:
        return sum(1 for j, c in enumerate(row[:n]) if usual[j] in (_kind(c), "empty"))

    first, sure = None, True
    while len(cells) > n and sure:
        best, best_fit, at = [], fit(cells), None
        # the first join that does as well as none (few rows tell nothing),
        # where the cell before the comma can be the start of one number
        tied = None
        for j in range(min(n, len(cells) - 1)):
            if _BEFORE_COMMA.fullmatch(cells[j]) and _AFTER_COMMA.fullmatch(cells[j + 1]):
                trial = [*cells[:j], f"{cells[j]},{cells[j + 1]}", *cells[j + 2 :]]
                score = fit(trial)
                if score > best_fit:
                    best, best_fit, at = [trial], score, j
                elif score == best_fit and best:
                    best.append(trial)
                elif score == best_fit and tied is None and _SHORT_BEFORE.fullmatch(cells[j]):
                    tied = j
        if not best and tied is not None:
            # joining here or not at all do equally well: zhili does not guess
            return (
                [*cells[:tied], *([None] * (n - tied))][:n],
                tied if first is None else first,
                False,
            )
        if not best:
            break
        first = at if first is None else first
        sure = len(best) == 1
        cells = best[0]
    return [*cells, *([None] * (n - len(cells)))][:n], first, sure


def _ragged(name: str, line: int, headers: list[str], cells: list[str]) -> DataProblem | None:
    """A row with more cells than the header (and something in them), or
    with fewer (when a named column is left out): a warning, the row kept."""
    n = len(headers)
    if len(cells) > n and any(c.strip() for c in cells[n:]):
        return DataProblem(
            name,
            line,
            None,
            None,
            _("the row has more cells than the header"),
            "warning",
            code=codes.DATA_EXTRA_CELLS.code,
        )
    missing = next((h for h in headers[len(cells) :] if h), None)
    if missing is None:
        return None
    return short_row_problem(name, line, missing, len(cells), n)


def short_row_problem(name: str, line: int, column: str, got: int, want: int) -> DataProblem:
    return DataProblem(
        name,
        line,
        column,
        None,
        _("the row has {got} cells, the header {want}: the cells left out count as missing").format(
            got=got, want=want
        ),
        "warning",
        code=codes.DATA_SHORT_ROW.code,
    )


def _utf8_error(text: bytes) -> int:
    """Where `text` stops being UTF-8, or -1: decoded a few megabytes at a
    time (each piece ends before a character's first byte), never kept."""
    at, n, step = 0, len(text), 16 * 1024**2
    with memoryview(text) as view:
        while at < n:
            end = min(at + step, n)
            while end < n and end < at + step + 4 and view[end] & 0xC0 == 0x80:
                end += 1
            try:
                codecs.utf_8_decode(view[at:end], "strict", True)
            except UnicodeDecodeError as exc:
                return at + exc.start
            at = end
    return -1


def _text_stream(name: str, text: bytes, guess: bool):
    """UTF-8 `text` as text, decoded while it is read (a whole file's text is
    never one string); what `_decode_utf8` does with text that is not."""
    if _utf8_error(text) < 0:
        return io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", newline="")
    return io.StringIO(_decode_utf8(name, text, guess), newline="")


def _decode_utf8(name: str, text: bytes, guess: bool) -> str:
    """UTF-8 `text` as a string. A file whose start was UTF-8 but not the
    rest: GB18030 when the start was plain ASCII (both read it alike) and no
    encoding was named, else an error naming the line."""
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if guess and text[: exc.start].isascii():
            try:
                return text.decode("gb18030")
            except UnicodeDecodeError:
                pass
        line = text.count(b"\n", 0, exc.start) + 1
        raise DataError(
            _(
                "{file}:{line}: cannot decode as utf-8; name the file's encoding with --encoding"
            ).format(file=name, line=line)
        ) from None


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
