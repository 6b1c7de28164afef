"""Where a data file's bytes come from, and how many zhili reads.

Reading is bounded: at most `MAX_DATA_BYTES` from any file, pipe or standard
input, so a FIFO or an endless stream ends in a clear `DataError`, never in
exhausted memory. A device (`/dev/zero`, a terminal, a disk) or a socket is
refused before anything is read. `-` as the data path is standard input
(read as CSV or TSV text).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from zhili.dsl.i18n import _
from zhili.engine.io.table import DataError

# the most bytes zhili reads from one data source: room for a CSV of a
# million communities with a hundred inputs (about 350 MB for 65 inputs)
MAX_DATA_BYTES = 2 * 1024**3
STDIN = "-"  # the data path that means standard input
STDIN_NAME = "<stdin>"  # how problems name standard input
_CHUNK = 16 * 1024**2


def is_stdin(path: Path | str) -> bool:
    return str(path) == STDIN


def display_name(path: Path | str) -> str:
    """The name problems give the source: the path, or `<stdin>`."""
    return STDIN_NAME if is_stdin(path) else str(path)


def check_source(path: Path, regular_only: bool = False) -> None:
    """A `DataError` for a path that is no data file: missing, a folder, a
    device or socket, bigger than `MAX_DATA_BYTES`; with `regular_only` (a
    format that needs to seek), a pipe too."""
    if is_stdin(path):
        if regular_only:
            raise DataError(
                _("{file}: standard input can only be CSV or TSV text").format(file=STDIN_NAME)
            )
        if sys.stdin is None or sys.stdin.isatty():
            raise DataError(
                _(
                    "{file}: standard input is a terminal; pipe a file in (zhili eval MODEL - < FILE)"
                ).format(file=STDIN_NAME)
            )
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataError(_("{file}: no such file").format(file=path)) from None
    except OSError as exc:
        raise DataError(
            _("{file}: cannot read: {err}").format(file=path, err=exc.strerror or exc)
        ) from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise DataError(_("{file}: is a folder, not a data file").format(file=path))
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise DataError(_("{file}: is a device, not a data file").format(file=path))
    if stat.S_ISFIFO(mode) and regular_only:
        raise DataError(
            _("{file}: is a pipe; this format must be read from a regular file").format(file=path)
        )
    if stat.S_ISREG(mode) and st.st_size > MAX_DATA_BYTES:
        raise _too_large(path)


def _too_large(path: Path | str) -> DataError:
    return DataError(
        _("{file}: more than {limit} MB of data; zhili reads at most that much").format(
            file=display_name(path), limit=MAX_DATA_BYTES // 1024**2
        )
    )


def read_bytes(path: Path) -> bytes:
    """The bytes of `path` (standard input for `-`), at most `MAX_DATA_BYTES`:
    more is a `DataError`, and so is a path `check_source` refuses."""
    check_source(path)
    limit = MAX_DATA_BYTES
    try:
        if is_stdin(path):
            return _read_limited(sys.stdin.buffer, path, limit, 0)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size if path.is_file() else 0
            return _read_limited(f, path, limit, size)
    except OSError as exc:
        raise DataError(
            _("{file}: cannot read: {err}").format(file=display_name(path), err=exc.strerror or exc)
        ) from None


def _read_limited(f, path: Path, limit: int, size: int) -> bytes:
    """Read `f` to its end, failing past `limit` bytes. A regular file's
    `size` is read in one call (no copy); a pipe, or a file that grows, in
    chunks."""
    first = f.read(min(size, limit) + 1)
    if len(first) <= size:
        return first
    parts, total = [first], len(first)
    while total <= limit:
        chunk = f.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    if total > limit:
        raise _too_large(path)
    return b"".join(parts)
