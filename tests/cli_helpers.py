"""Running the CLI in tests, shared by the test modules; and the registry
cache that lets CLI tests share one plugin registry (conftest switches it on)."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zhili.cli.app import cli
from zhili.engine import plugins

# what a registry is built from, besides the folders: the environment it reads
_ENV = ("ZHILI_MODELS", "ZHILI_DISABLE_PLUGINS", "ZHILI_TRACE_PLUGINS")
_REGISTRIES: dict[tuple, plugins.Registry] = {}


def zhili(*args, lang: str | None = "en") -> Result:
    """Run the CLI in-process; fail on any uncaught exception or traceback."""
    argv = (["--lang", lang] if lang else []) + [str(a) for a in args]
    result = CliRunner().invoke(cli, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"zhili {' '.join(argv)} raised:\n{tb}")
    assert "Traceback" not in result.output
    return result


def _folder_state(folder: Path) -> tuple:
    """What a model folder holds, as the registry would read it: its files'
    names, sizes and modification times (a test that edits a model gets a new
    registry)."""
    if not folder.is_dir():
        return (str(folder), folder.exists())
    return tuple(
        (p.name, st.st_size, st.st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file() and (st := p.stat())
    )


def _key(extra_dirs: list[Path]) -> tuple:
    env = tuple(os.environ.get(v) for v in _ENV)
    entry_points = tuple(
        sorted((e.name, e.value) for e in plugins.entry_points(group=plugins.ENTRY_POINT_GROUP))
    )
    local = [Path(d) for d in extra_dirs] + [
        Path(d.strip()) for d in (env[0] or "").split(os.pathsep) if d.strip()
    ]
    # relative folders and the paths the registry keeps depend on the current folder
    where = os.getcwd() if local else None
    return (tuple(map(str, extra_dirs)), env, entry_points, where, tuple(map(_folder_state, local)))


def shared_registry(extra_dirs: list[Path]) -> plugins.Registry:
    """A `Registry(extra_dirs=...)`, built once per distinct set of inputs
    (folders and their files, plugin environment variables, entry points)."""
    key = _key(extra_dirs)
    reg = _REGISTRIES.get(key)
    if reg is None:
        reg = _REGISTRIES[key] = plugins.Registry(extra_dirs=extra_dirs)
    else:
        # building a registry installs its plugins' data readers (a module-level
        # table); another registry may have been built since
        plugins.DATA_READERS.clear()
        plugins.DATA_READERS.update(reg.data_readers)
    return reg
