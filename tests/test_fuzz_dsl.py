"""A fuzzer over the parser and the checker (issue 13, item 8): mutated real
model files (plugins/*/model.gov and tests.gov: insertions, deletions, token
swaps, duplicated and dropped lines, random Unicode) and generated models.

Properties, for every input: `parse` then `check` raise no exception; every
diagnostic has a code registered in dsl/codes.py and a span inside the file
(its offsets within the text, its line and column those of its start offset).

Each input runs in a worker process (tests/fuzz_worker.py) under a memory
limit (`MEMORY_MB` of address space) and a time limit (`SECONDS` per input:
a late answer kills the worker and fails the example). The normal suite runs
a few seconds of it; `--runslow` runs a long one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_strategies import model_sources

from zhili.dsl.codes import REGISTRY

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = sorted((ROOT / "plugins").glob("*/*.gov"))
TEXTS = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in MODELS}
SECONDS = 10.0  # per input, on a loaded 2-core machine; a clean parse takes ~0.05 s
MEMORY_MB = 2048  # address space of the worker (Python, Polars and the grammar take ~600)
FILE = "fuzz.gov"


class Worker:
    """One long-lived fuzz_worker process; restarted after a crash or a timeout."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "fuzz_worker.py"), str(MEMORY_MB)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
        )

    def ask(self, text: str) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        proc = self.proc
        proc.stdin.write(json.dumps({"text": text, "file": FILE}) + "\n")
        proc.stdin.flush()
        answer: list[str] = []
        import threading

        reader = threading.Thread(target=lambda: answer.append(proc.stdout.readline()))
        reader.start()
        reader.join(SECONDS)
        if reader.is_alive() or not answer or not answer[0]:
            proc.kill()
            proc.wait()
            reader.join()
            self.proc = None
            if not answer or not answer[0]:
                return {"error": f"the worker died (exit {proc.returncode}): memory or a crash"}
            return {"error": f"took over {SECONDS} s"}
        return json.loads(answer[0])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.stop()


def assert_diagnosed(worker: Worker, text: str) -> None:
    answer = worker.ask(text)
    assert "error" not in answer, answer["error"]
    for code, file, line, column, end_line, end_column, start, end in answer["diags"]:
        where = f"{code} at {line}:{column} [{start}:{end}]"
        assert code in REGISTRY, f"unregistered code {code}"
        assert file == FILE, where
        assert 0 <= start <= end <= len(text), where
        assert line == text.count("\n", 0, start) + 1, where
        assert column == start - (text.rfind("\n", 0, start) + 1) + 1, where
        assert (end_line, end_column) >= (line, column), where


# ---------------------------------------------------------------- mutations

PIECES = [
    *"model input indicator dimension veto grade test given expect points when pass if then".split(),
    *"else and or not missing optional total 社区 人口 percent count int number enum".split(),
    *["{", "}", "(", ")", "[", "]", ",", ":", "=", "==", ">=", "..", "%", "％", '"', "'", "#"],
    *["0", "-1", "12.5", "95%", "1e309", "9" * 500, "2024-02-30", "\n", "\t", "\r", "\r\n"],
    *["\u200b", "\ufeff", "\u3000", "\x00", "\x1b[31m", "\U0001f600", "\u202e", "社区\u0301"],
]
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
PIECE = st.one_of(st.sampled_from(PIECES), ANY_TEXT)


@st.composite
def mutated(draw) -> str:
    """A real model file with a few random edits."""
    text = TEXTS[draw(st.sampled_from(sorted(TEXTS)))]
    for _ in range(draw(st.integers(1, 4))):
        text = draw(_edit(text))
    return text


def _edit(text: str) -> st.SearchStrategy[str]:
    n = len(text)
    pos = st.integers(0, n)
    lines = text.split("\n")

    def insert(t):
        return text[: t[0]] + t[1] + text[t[0] :]

    def delete(t):
        a, b = sorted(t)
        return text[:a] + text[min(b, a + 200) :]

    def swap(t):
        words = text.split(" ")
        i, j = t[0] % len(words), t[1] % len(words)
        words[i], words[j] = words[j], words[i]
        return " ".join(words)

    def line_op(t):
        i, dup = t[0] % len(lines), t[1]
        out = lines[: i + 1] + lines[i:] if dup else lines[:i] + lines[i + 1 :]
        return "\n".join(out)

    def truncate(k):
        return text[:k]

    return st.one_of(
        st.tuples(pos, PIECE).map(insert),
        st.tuples(pos, pos).map(delete),
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)).map(swap),
        st.tuples(st.integers(0, 10**6), st.booleans()).map(line_op),
        pos.map(truncate),
    )


SHORT = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LONG = settings(
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_real_models_are_clean(worker):
    for name, text in TEXTS.items():
        assert_diagnosed(worker, text), name


@SHORT
@given(text=mutated())
def test_fuzz_mutated_models(worker, text):
    assert_diagnosed(worker, text)


@SHORT
@given(text=model_sources())
def test_fuzz_generated_models(worker, text):
    assert_diagnosed(worker, text)


@pytest.mark.slow
@LONG
@given(text=st.one_of(mutated(), model_sources(), model_sources().flatmap(_edit)))
def test_fuzz_long_run(worker, text):
    assert_diagnosed(worker, text)
