"""The one atomic write: whole files or nothing, devices written in place."""

import os
import stat

import pytest

from zhili.engine.io.atomic import TEMP_SUFFIX, atomic_write, write_text


def test_replaces_the_file_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    write_text(target, "新内容\n")
    assert target.read_text(encoding="utf-8") == "新内容\n"
    assert not list(tmp_path.glob("*" + TEMP_SUFFIX))


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    def boom(tmp):
        tmp.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, boom)
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_new_files_get_the_usual_mode_and_existing_ones_keep_theirs(tmp_path):
    umask = os.umask(0o022)
    try:
        new = tmp_path / "new.txt"
        write_text(new, "x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        kept = tmp_path / "kept.txt"
        kept.write_text("x", encoding="utf-8")
        kept.chmod(0o600)
        write_text(kept, "y")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        os.umask(umask)


def test_a_fifo_is_written_in_place_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_text(fifo, "through the pipe")
        assert os.read(r, 100) == b"through the pipe"
    finally:
        os.close(r)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_ctrl_c_the_moment_the_temporary_file_is_made_leaves_nothing(tmp_path, monkeypatch):
    """A watcher that sends Ctrl-C as soon as it sees the temporary file can
    land between its creation and the code that cleans it up (seen once in
    CI: `.out.parquet.XXXXXXXX.zhili-tmp` left behind). The interrupt here
    comes at the first thing done once the file exists (closing it)."""
    target = tmp_path / "out.txt"
    real_close = os.close
    fired = []

    def close(fd):
        real_close(fd)
        if not fired and list(tmp_path.glob("*" + TEMP_SUFFIX)):
            fired.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "close", close)
    with pytest.raises(KeyboardInterrupt):
        write_text(target, "x")
    monkeypatch.undo()
    assert fired and os.listdir(tmp_path) == []
