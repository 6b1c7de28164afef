"""The one way zhili writes a file: through a temporary file beside it,
flushed to disk and renamed over the target only once the whole content is
written, so a reader never sees half a report and a failed write (a full disk,
a read-only folder, Ctrl-C) leaves the old file as it was.

A target that exists and is not a regular file (a device such as /dev/null, a
FIFO) is written directly: renaming over it would replace it. A symbolic link
to a regular file is followed: the file it names is replaced, the link stays.
A folder is refused (`IsADirectoryError`).

The temporary file is named `.NAME.XXXXXXXX.zhili-tmp` in the target's folder
and removed on any failure. Only a process killed outright (SIGKILL, a power
cut) can leave one behind; the next write of the same NAME removes its stale
ones (older than `STALE_AFTER` seconds, so a concurrent write is left alone).

Every failure to write is an `OSError` with its `errno` (ENOSPC, EROFS, EACCES,
ENOENT…): errors that writers such as Polars report as their own exception
type with an "(os error N)" text are turned back into one.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

TEMP_SUFFIX = ".zhili-tmp"
STALE_AFTER = 3600  # seconds: a temporary file this old belongs to a killed write

_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)  # keep an existing file's mode
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def as_os_error(exc: BaseException, path: Path | str | None = None) -> OSError | None:
    """`exc` as an `OSError` with an errno when it is a failure to read or
    write (an `OSError`, or a library error quoting "(os error N)"); else None."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc
    found = _OS_ERROR.search(str(exc))
    if found is None:
        return exc if isinstance(exc, OSError) else None
    code = int(found.group(1))
    return OSError(code, os.strerror(code), str(path) if path is not None else None)


def temp_files(path: Path | str) -> list[Path]:
    """The temporary files of writes of `path` (finished or killed)."""
    path = Path(path)
    try:
        return sorted(path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return []


def remove_stale(path: Path | str, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove the temporary files of earlier, killed writes of `path` that are
    older than `older_than` seconds; the ones removed. Never fails."""
    removed = []
    now = time.time()
    for tmp in temp_files(path):
        with contextlib.suppress(OSError):
            info = tmp.lstat()
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
    return removed


def atomic_write(path: Path | str, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to fill a temporary file in `path`'s folder, flush it
    to disk, then rename it to `path`. On any failure (including Ctrl-C) the
    temporary file is removed and the exception propagates (as an `OSError`
    when it is one, see the module's text); `path` is untouched."""
    path = Path(path)
    if path.is_symlink() and path.is_file():
        path = path.resolve()
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if path.exists() and not path.is_file():
        _write_direct(path, write)
        return
    remove_stale(path)
    # the file is made inside the `try`, under a name known before: a Ctrl-C
    # the moment it is made (when a watcher sees it) is cleaned up too
    tmp = _temp_name(path)
    try:
        while not _made(tmp):  # the name is taken
            tmp = _temp_name(path)
        write(tmp)
        os.chmod(tmp, _mode_for(path))
        _fsync(tmp)  # a full disk can show only here (delayed allocation, NFS)
        os.replace(tmp, path)
    except BaseException as exc:
        # a writer that says only why its output is bad ("Invalid thrift:
        # transport error", Polars' Parquet writer on a full disk): the disk,
        # looked at before the temporary file's space is given back
        full = isinstance(exc, Exception) and _no_space_left(tmp.parent)
        with contextlib.suppress(OSError):  # e.g. the folder became read-only
            tmp.unlink(missing_ok=True)
        converted = as_os_error(exc, path)
        if converted is None and full:
            converted = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        if converted is not None and converted is not exc:
            raise converted from exc
        raise


def _temp_name(path: Path) -> Path:
    """A temporary file's name for a write of `path` (not made yet)."""
    return path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def _made(tmp: Path) -> bool:
    """Make the empty file `tmp` (only readable and writable by its owner);
    False when a file of that name exists."""
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


NEARLY_FULL = 1 << 20  # a disk with less room than this for a write is full


def _no_space_left(folder: Path) -> bool:
    """Whether the file system of `folder` has (almost) no room left."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < NEARLY_FULL


def _write_direct(path: Path, write: Callable[[Path], None]) -> None:
    try:
        write(path)
    except Exception as exc:
        converted = as_os_error(exc, path)
        if converted is not None and converted is not exc:
            raise converted from exc
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """`text` into `path` atomically (newlines as given)."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding, newline=""))


def write_bytes(path: Path | str, data: bytes) -> None:
    """`data` into `path` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
