"""The named bad-output cases: each folder `tests/data_cases/writing_<name>/`
holds its inputs (a `data.csv`, a `model.gov`) and an `expected.toml` saying
what the real `zhili` process does (exit code and standard error):

    command = ["eval", "four_type", "{data}", "-o", "{tmp}/x.csv"]
        # {data}: the case's data.csv, {case}: its folder, {tmp}: a fresh folder
    stdout = "/dev/full"     # or "closed-pipe" (the reader has gone); default: a pipe
    exit = 1
    stderr = ["text that must be in standard error", ...]
    not_stderr = ["text that must not be", ...]   # always also Traceback, internal error

Each case also leaves no temporary file (`*.zhili-tmp`) behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from zhili.engine.io.atomic import TEMP_SUFFIX

ZHILI = Path(sys.executable).with_name("zhili")
CASES = sorted(
    p for p in (Path(__file__).resolve().parent / "data_cases").glob("writing_*") if p.is_dir()
)
ALWAYS_ABSENT = ["Traceback", "internal error"]


def _run(case: Path, spec: dict, tmp: Path) -> subprocess.CompletedProcess:
    args = [a.format(data=case / "data.csv", case=case, tmp=tmp) for a in spec["command"]]
    env = {**os.environ, "ZHILI_DB": str(tmp / "runs.sqlite")}
    env.pop("ZHILI_DEBUG", None)
    where = spec.get("stdout")
    closed = None
    if where == "closed-pipe":
        r, closed = os.pipe()
        os.close(r)
        stdout = closed
    elif where is not None:
        stdout = open(where, "w")  # noqa: SIM115 - closed below
    else:
        stdout = subprocess.PIPE
    try:
        return subprocess.run(
            [str(ZHILI), "--lang", "en", *args],
            cwd=tmp,
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        if closed is not None:
            os.close(closed)
        elif where is not None:
            stdout.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_data_case(case, tmp_path):
    spec = tomllib.loads((case / "expected.toml").read_text(encoding="utf-8"))
    proc = _run(case, spec, tmp_path)
    assert proc.returncode == spec["exit"], proc.stderr
    for text in spec.get("stderr", []):
        assert text in proc.stderr, proc.stderr
    for text in spec.get("not_stderr", []) + ALWAYS_ABSENT:
        assert text not in proc.stderr, proc.stderr
    assert not list(tmp_path.rglob("*" + TEMP_SUFFIX))
    assert not list(case.rglob("*" + TEMP_SUFFIX))
