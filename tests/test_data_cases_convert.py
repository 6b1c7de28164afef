"""The named bad-input files of `tests/data_cases/convert_*/`: each folder holds
one input file and an `expected.toml` with its outcome, checked twice:

- `zhili eval convert_model.gov FILE --no-record` in a child process, bounded in
  time and memory (a file that would take the machine fails the test instead):
  the exit code, no traceback, and a message naming the file;
- `load()` in this process: the rows read, and every data problem (code, row,
  column, sheet) in order — or, for a file refused as a whole, the message.

expected.toml:

    description = "what the file is and what must happen"
    file = "data.xlsx"
    sheet = "2"                 # optional: --sheet
    exit = 0                    # zhili eval (default 0)
    strict_exit = 1             # zhili eval --strict (optional)
    rows = 2                    # rows read; absent when the file is refused
    error = "text"              # the refusal's message contains this
    [[problems]]                # every problem load() gives, in order
    code = "data-invalid-value"
    row = 2                     # optional: None when absent
    column = "常住人口"          # optional ("*": any)
    sheet = "Sheet1"            # optional
    raw = "12abc"               # optional: checked when given
    message = "part of it"      # optional: checked when given
    [values]                    # optional: an input's values, row by row
    rate = [0.85, "missing"]    # "missing": no value (null)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from zhili.dsl.checker import check
from zhili.dsl.codes import REGISTRY
from zhili.dsl.parser import parse
from zhili.engine.io.data import DataError, load

CASES = Path(__file__).parent / "data_cases"
MODEL_FILE = CASES / "convert_model.gov"
NAMES = sorted(p.name for p in CASES.glob("convert_*") if (p / "expected.toml").is_file())
MEMORY_LIMIT = 2 * 1024**3  # bytes of address space for the child process
TIME_LIMIT = 60  # seconds


def _model():
    src = MODEL_FILE.read_text(encoding="utf-8")
    checked = check(parse(src).tree, src)
    assert checked.ok
    return checked.model


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "zhili.cli", "--lang", "en", *args],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        preexec_fn=_limit,
        env=env,
        check=False,
    )


def test_there_are_cases():
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_case(name):
    folder = CASES / name
    spec = tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8"))
    path = folder / spec["file"]
    sheet = spec.get("sheet")
    args = ["eval", str(MODEL_FILE), str(path), "--no-record"]
    if sheet is not None:
        args += ["--sheet", str(sheet)]
    for flag, key in (([], "exit"), (["--strict"], "strict_exit")):
        if key not in spec and flag:
            continue
        done = _run(args + flag)
        output = done.stdout + done.stderr
        assert done.returncode == spec.get(key, 0), (key, output[-3000:])
        assert "Traceback" not in output and "panicked" not in output, output[-3000:]
        if done.returncode:
            assert spec["file"] in output, output[-3000:]  # the message names the file

    model = _model()
    if "error" in spec:
        with pytest.raises(DataError) as err:
            load(path, model, sheet=sheet)
        assert spec["error"] in str(err.value)
        assert spec["file"] in str(err.value)
        return
    ds = load(path, model, sheet=sheet)
    assert len(ds) == spec["rows"]
    want = [
        (p["code"], p.get("row"), p.get("column"), p.get("sheet")) for p in spec.get("problems", [])
    ]
    got = [
        (p.code, p.row, "*" if w[2] == "*" else p.column, p.sheet)
        for p, w in zip(ds.problems, want + [(None,) * 4] * len(ds.problems), strict=False)
    ]
    assert got == want, [str(p) for p in ds.problems]
    for p, exp in zip(ds.problems, spec.get("problems", []), strict=True):
        assert p.severity is REGISTRY[p.code].severity, str(p)
        if "raw" in exp:
            assert p.raw == exp["raw"], str(p)
        if "message" in exp:
            assert exp["message"] in p.message, str(p)
    for fid, want_values in spec.get("values", {}).items():
        want_values = [None if v == "missing" else v for v in want_values]
        assert ds.frame.get_column(f"in.{fid}").to_list() == want_values, fid
