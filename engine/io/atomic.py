"""The one way zhili writes a file: through a temporary file beside it,
renamed over the target only once the whole content is written, so a reader
never sees half a report and a failed write leaves the old file as it was.

A target that exists and is not a regular file (a device such as /dev/null, a
FIFO) is written directly: renaming over it would replace it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

TEMP_SUFFIX = ".zhili-tmp"


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)  # keep an existing file's mode
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: Path | str, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to fill a temporary file in `path`'s folder, then
    rename it to `path`. On any failure (including Ctrl-C) the temporary file
    is removed and the exception propagates; `path` is untouched."""
    path = Path(path)
    if path.exists() and not path.is_file():
        write(path)
        return
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """`text` into `path` atomically (newlines as given)."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding, newline=""))


def write_bytes(path: Path | str, data: bytes) -> None:
    """`data` into `path` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
