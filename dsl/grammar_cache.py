"""Where the parser tables of `grammar.lark` are cached, and when not.

Building the LALR tables takes about 0.3 s; loading them takes a few ms, so
every `zhili` command would pay the build without a cache. Lark's cache is a
pickle, and unpickling runs code, so the cache lives only where no one else
can write: `$XDG_CACHE_HOME/zhili` (or `~/.cache/zhili`), a folder owned by the
user and closed to group and others. Lark's default place — the shared temp
folder, where anyone can plant the file first — is never used.

Anything unexpected (a folder owned by someone else or open to others, a
symlink, a cache file not owned by the user or writable by others, no home at
all) means no cache: the parser is built in memory, a little slower and
always safe. Setting `ZHILI_NO_GRAMMAR_CACHE=1` does the same.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

# group or others may write, or (for the folder) even look in
_OPEN_FILE = stat.S_IWGRP | stat.S_IWOTH
_OPEN_DIR = stat.S_IRWXG | stat.S_IRWXO


def cache_folder() -> Path | None:
    """The per-user cache folder, or None when there is no safe one."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory
            return None
    return Path(base) / "zhili"


def _owned_by_me(st: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is None or st.st_uid == getuid()


def _safe_folder(folder: Path) -> bool:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and _owned_by_me(st) and not st.st_mode & _OPEN_DIR


def _safe_file(path: Path) -> bool:
    """An absent cache file is safe (Lark writes it); a present one must be a
    regular file of ours that no one else may write."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and _owned_by_me(st) and not st.st_mode & _OPEN_FILE


def cache_path(grammar: str, options: dict) -> str | None:
    """The cache file for this grammar text and these Lark options (their
    hash, Lark's version and Python's are in the name), or None for no cache."""
    if os.environ.get("ZHILI_NO_GRAMMAR_CACHE"):
        return None
    folder = cache_folder()
    if folder is None or not _safe_folder(folder):
        return None
    import lark

    key = repr((grammar, sorted(options.items()), lark.__version__, sys.version_info[:2]))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    path = folder / f"grammar-{digest}.lark-cache"
    return str(path) if _safe_file(path) else None
