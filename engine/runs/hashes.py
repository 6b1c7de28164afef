"""The sha256 of data files, computed ahead while other work goes on.

A recorded run keeps its data file's sha256 (`store.file_hash`). Reading the
file again at the end to hash it costs a third of a second for 300 MB, on
the path to the run being recorded. `hash_ahead` starts that hash in a
thread as soon as the command knows its files (start-up and reading use
one core; hashlib releases the GIL), and `file_hash` then takes it, when
the file is the same one: same path, size, modification and change times and inode as
when the hash started, and again when it is taken. A file changed
meanwhile is hashed again, as before.

No Polars here: `eval` starts the hash before the heavy imports.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

_LOCK = threading.Lock()
# (path, size, mtime_ns, inode, device) → (thread, {"sha256": …} once done)
_AHEAD: dict[tuple, tuple[threading.Thread, dict]] = {}


def _key(path: Path) -> tuple | None:
    """What identifies a regular file's bytes here; None for anything else."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    # the change time too: a same-size rewrite with its mtime put back (cp -p)
    return (
        os.path.realpath(path),
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
    )


def sha256_of(path: Path) -> str:
    """sha256 of a file's bytes, read now."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _hash_into(path: Path, slot: dict) -> None:
    try:
        slot["sha256"] = sha256_of(path)
    except OSError:
        pass  # `file_hash` reads it again, and its error is the one shown


def hash_ahead(paths) -> None:
    """Start hashing each regular file of `paths` in a thread of its own
    (anything else — standard input, a folder, a missing file — is left to
    the reader and its messages)."""
    for p in paths:
        key = _key(Path(p))
        if key is None:
            continue
        with _LOCK:
            if key in _AHEAD:
                continue
            slot: dict = {}
            thread = threading.Thread(
                target=_hash_into, args=(Path(p), slot), name="zhili-hash", daemon=True
            )
            _AHEAD[key] = (thread, slot)
        thread.start()


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes: the one `hash_ahead` computed when the file
    is unchanged since, else read now."""
    key = _key(path)
    with _LOCK:
        ahead = _AHEAD.get(key) if key is not None else None
    if ahead is not None:
        thread, slot = ahead
        thread.join()
        if "sha256" in slot and _key(path) == key:
            return slot["sha256"]
        with _LOCK:
            _AHEAD.pop(key, None)
    return sha256_of(path)
