"""The parser's table cache: only a per-user folder no one else can write,
never the shared temp folder (a pickle planted there would run code in every
user's `zhili`)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from zhili.dsl import grammar_cache
from zhili.dsl.parser import _LARK_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "plugins" / "four_type" / "model.gov"
GRAMMAR = (ROOT / "dsl" / "grammar.lark").read_text(encoding="utf-8")


class _Plant:
    """Unpickling this creates `marker`: proof that a cache file was loaded."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ZHILI_NO_GRAMMAR_CACHE"}
    for name in ("tmp", "cache", "home"):
        (tmp_path / name).mkdir(exist_ok=True)
    env.update(
        TMPDIR=str(tmp_path / "tmp"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        HOME=str(tmp_path / "home"),
    )
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "from zhili.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "check", str(MODEL)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _plant(path: Path, marker: Path, mode: int) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(b"0" * 64 + b"\n" + pickle.dumps(_Plant(marker)))
    path.chmod(mode)


def _cache_file(monkeypatch, cache_home: Path) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("ZHILI_NO_GRAMMAR_CACHE", raising=False)
    found = grammar_cache.cache_path(GRAMMAR, _LARK_OPTIONS)
    assert found is not None
    return Path(found)


def test_the_temp_folder_is_neither_read_nor_written(tmp_path):
    env = _env(tmp_path)
    first, second = _check(env), _check(env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert os.listdir(tmp_path / "tmp") == []
    folder = tmp_path / "cache" / "zhili"
    assert [p.suffix for p in folder.iterdir()] == [".lark-cache"]
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_cache_file_others_can_write_is_not_loaded(tmp_path, monkeypatch):
    env = _env(tmp_path)
    marker = tmp_path / "ran"
    _plant(_cache_file(monkeypatch, tmp_path / "cache"), marker, 0o666)
    out = _check(env)
    assert out.returncode == 0, out.stderr
    assert not marker.exists()


def test_the_planted_file_would_run_if_it_were_trusted(tmp_path, monkeypatch):
    """The control for the test above: the same file, closed to others, is
    loaded (it is the user's own cache), so the test above can fail."""
    env = _env(tmp_path)
    marker = tmp_path / "ran"
    _plant(_cache_file(monkeypatch, tmp_path / "cache"), marker, 0o600)
    _check(env)
    assert marker.exists()


def test_a_folder_open_to_others_means_no_cache(tmp_path, monkeypatch):
    folder = tmp_path / "zhili"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert grammar_cache.cache_path(GRAMMAR, _LARK_OPTIONS) is None


def test_a_symlinked_folder_means_no_cache(tmp_path, monkeypatch):
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "zhili").symlink_to(real)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert grammar_cache.cache_path(GRAMMAR, _LARK_OPTIONS) is None


def test_files_and_folders_of_another_user_mean_no_cache(tmp_path, monkeypatch):
    path = _cache_file(monkeypatch, tmp_path)
    _plant(path, tmp_path / "ran", 0o600)
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    assert grammar_cache.cache_path(GRAMMAR, _LARK_OPTIONS) is None


def test_a_relative_cache_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    found = grammar_cache.cache_path(GRAMMAR, _LARK_OPTIONS)
    assert found is not None and found.startswith(str(tmp_path / "home" / ".cache" / "zhili"))


@pytest.mark.parametrize("value", ["1", "yes"])
def test_the_cache_can_be_switched_off(monkeypatch, tmp_path, value):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("ZHILI_NO_GRAMMAR_CACHE", value)
    assert grammar_cache.cache_path(GRAMMAR, _LARK_OPTIONS) is None
