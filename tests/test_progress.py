"""The progress bar of long commands: drawn only when enabled, moving
forward through the phases, erased before messages."""

from __future__ import annotations

import io
import re

from zhili.engine.progress import PHASES, Progress


def _percents(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"(\d+)%", text)]


def test_bar_moves_forward_through_phases_and_is_erased():
    out = io.StringIO()
    p = Progress(True, out, width=10)
    p.phase("read")
    p.phase("convert")
    for _ in range(4):
        p.advance(0.25)
    p.phase("evaluate")
    p.phase("write")
    p.advance(1.0)
    p.phase("record")  # after the outputs are written
    p.advance(1.0)
    p.close()
    text = out.getvalue()
    shown = _percents(text)
    assert shown == sorted(shown)  # never backwards
    assert shown[0] == 0 and shown[-1] == 100
    convert_end = round((PHASES["read"] + PHASES["convert"]) * 100)
    assert convert_end in shown
    assert "converting" in text and "evaluating" in text
    assert text.endswith("\r")  # the line is erased at the end
    assert "█" * 10 in text  # a full bar was drawn


def test_advance_never_passes_the_phase():
    p = Progress(True, io.StringIO())
    p.phase("convert")
    for _ in range(10):
        p.advance(0.3)
    assert p.done == PHASES["read"] + PHASES["convert"]


def test_disabled_bar_writes_nothing(tmp_path):
    out = io.StringIO()
    p = Progress(False, out)
    p.phase("read")
    p.advance(0.5)
    p.clear()
    p.close()
    assert out.getvalue() == ""
    # a small file, or standard error not a terminal (as under pytest): no bar
    small = tmp_path / "small.csv"
    small.write_text("a\n1\n", encoding="utf-8")
    assert not Progress.for_file(small).enabled
    assert not Progress.for_file(None).enabled
