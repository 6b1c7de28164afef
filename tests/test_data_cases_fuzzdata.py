"""The named cases fuzzing found (tests/test_fuzz_data.py), shrunk: each folder
`tests/data_cases/fuzz_<name>/` holds one input file and an `expected.toml`,
run through `zhili eval` in a child process and `load()` in this one:

    description = "what the file is and what must happen"
    file = "data.xlsx"
    exit = 0                # zhili eval --no-record (0 or 1)
    ids = ["FZ-000", ...]   # the communities, in order
    rows = [2, 4]           # their lines (rows of the sheet)
    xfail = "why"           # optional: a known failure, xfail(strict=True)
    [[problems]]            # each must be reported (more may be)
    code = "data-repeated-header"
    row = 3                 # optional; likewise column, sheet, raw
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from zhili.dsl.checker import check
from zhili.dsl.codes import REGISTRY
from zhili.dsl.parser import parse
from zhili.engine.io.data import load

CASES = Path(__file__).parent / "data_cases"
MODEL_FILE = CASES / "fuzz_model.gov"
NAMES = sorted(p.name for p in CASES.glob("fuzz_*") if (p / "expected.toml").is_file())


def _model():
    src = MODEL_FILE.read_text(encoding="utf-8")
    checked = check(parse(src).tree, src)
    assert checked.ok
    return checked.model


def _params():
    for name in NAMES:
        want = tomllib.loads((CASES / name / "expected.toml").read_text(encoding="utf-8"))
        marks = [pytest.mark.xfail(strict=True, reason=want["xfail"])] if "xfail" in want else []
        yield pytest.param(name, want, id=name, marks=marks)


def test_there_are_cases():
    assert NAMES


@pytest.mark.parametrize(("name", "want"), list(_params()))
def test_fuzz_case(name: str, want: dict, tmp_path: Path):
    data = CASES / name / want["file"]
    proc = subprocess.run(
        [sys.executable, "-m", "zhili.cli", "--lang", "en", "eval", str(MODEL_FILE), str(data)]
        + ["--no-record", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", "ZHILI_DB": str(tmp_path / "runs.db")},
        check=False,
    )
    assert proc.returncode == want["exit"], proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    if want["exit"] == 0 and "ids" in want:
        got = [c["community_id"] for c in json.loads(proc.stdout)["communities"]]
        assert got == want["ids"]
    ds = load(data, _model())
    if "ids" in want:
        assert [m.get("community_id") for m in ds.meta] == want["ids"]
    if "rows" in want:
        assert ds.rows == want["rows"]
    for p in ds.problems:
        assert p.code in REGISTRY, p
    problems = [p.__dict__ for p in ds.problems]
    for p in want.get("problems", []):
        assert [q for q in problems if all(q.get(k) == v for k, v in p.items())], (p, problems)
