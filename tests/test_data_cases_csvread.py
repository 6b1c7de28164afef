"""The named bad-input cases of text files: each folder
`tests/data_cases/csvread_<name>/` holds an input file (`data.csv`) and an
`expected.toml` saying what `zhili eval` does with it, run through the real
CLI and readers (no mocks):

    data = "/dev/zero"      # instead of the folder's data.csv (optional)
    model = "four_type"     # default: tests/data_cases/csvread_model.gov
    args = ["--encoding", "utf-16le"]
    stdin = true            # give the file on standard input, as DATA `-`
    record = true           # record the run (in a fresh database)
    exit = 0                # the exit code
    ids = ["JT-001", ...]   # the communities evaluated, in order (exit 0)
    rows = [2, 3, 5]        # their lines in the file (read with `data.load`)
    message = "..."         # in standard error
    problems = [{ code = "data-short-row", row = 3, column = "调解成功率" }]

Every problem listed must be reported (more may be); on exit 0 no problem of
a code outside the list is a warning or an error. Also here: what no file in
a folder can hold (an endless pipe, standard input past the limit, a .gov
test reading a device).
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tests.cli_helpers import zhili
from zhili.cli.app import cli
from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.io import source
from zhili.engine.io.data import DataError, load

CASES = Path(__file__).parent / "data_cases"
MODEL = CASES / "csvread_model.gov"
NAMES = sorted(p.name for p in CASES.glob("csvread_*") if (p / "expected.toml").is_file())


def _model(path: Path = MODEL):
    text = path.read_text(encoding="utf-8")
    checked = check(parse(text).tree, text)
    assert checked.ok
    return checked.model


def _expected(name: str) -> dict:
    return tomllib.loads((CASES / name / "expected.toml").read_text(encoding="utf-8"))


def _run(case: Path, want: dict, tmp_path: Path):
    data = want.get("data", str(case / "data.csv"))
    model = want.get("model", str(MODEL))
    args = ["eval", model, "-" if want.get("stdin") else data, "--format", "json"]
    args += ["--db", str(tmp_path / "runs.db")] if want.get("record") else ["--no-record"]
    args += want.get("args", [])
    if want.get("stdin"):
        result = CliRunner().invoke(cli, ["--lang", "en", *args], input=Path(data).read_bytes())
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result
    return zhili(*args)


@pytest.mark.parametrize("name", NAMES)
def test_data_case(name: str, tmp_path: Path):
    case = CASES / name
    want = _expected(name)
    result = _run(case, want, tmp_path)
    assert result.exit_code == want["exit"], result.output
    assert "internal error" not in result.stderr
    if "message" in want:
        assert want["message"] in result.stderr
    if want["exit"] == 0:
        out = json.loads(result.stdout)
        problems = out["data_problems"]
        communities = out["communities"]
        if "ids" in want:
            assert [c["community_id"] for c in communities] == want["ids"]
        if "rows" in want:  # the lines in the file (not in the JSON results)
            ds = load(case / "data.csv", _model(), *want.get("args", [None, None])[1:])
            assert ds.rows == want["rows"]
    elif want.get("problems"):
        try:
            ds = load(case / "data.csv", _model(), *want.get("args", [None, None])[1:])
        except DataError as exc:
            pytest.fail(f"{name}: {exc}")
        problems = [p.__dict__ for p in ds.problems]
    else:
        return
    listed = want.get("problems", [])
    for p in listed:
        found = [q for q in problems if all(q.get(k) == v for k, v in p.items())]
        assert found, f"{name}: no problem {p} in {problems}"
    if want["exit"] == 0:
        codes = {p["code"] for p in listed}
        others = [q for q in problems if q["code"] not in codes and q["severity"] != "info"]
        assert not others, others


def test_every_case_has_its_file():
    for name in NAMES:
        want = _expected(name)
        assert "data" in want or (CASES / name / "data.csv").is_file(), name


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(source, "MAX_DATA_BYTES", 1 << 20)
    return 1 << 20


def _endless(path: Path, stop: threading.Event):
    try:
        with open(path, "wb") as f:
            line = "JT-001,长青社区,群众路街道,9017,97.7%,是\n".encode() * 1000
            while not stop.is_set():
                f.write(line)
    except (BrokenPipeError, OSError):
        pass


def test_an_endless_pipe_ends_at_the_limit(tmp_path: Path, small_limit):
    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)
    stop = threading.Event()
    writer = threading.Thread(target=_endless, args=(fifo, stop), daemon=True)
    writer.start()
    try:
        result = zhili("eval", MODEL, fifo, "--no-record")
    finally:
        stop.set()
    assert result.exit_code == 1
    assert f"{fifo}: more than 1 MB of data; zhili reads at most that much" in result.stderr


def test_a_pipe_is_read(tmp_path: Path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    body = (CASES / "csvread_cr_line_ends" / "data.csv").read_bytes()

    def write():
        with open(fifo, "wb") as f:
            f.write(body)

    threading.Thread(target=write, daemon=True).start()
    result = zhili("eval", MODEL, fifo, "--no-record", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["communities"]) == 3


def test_a_workbook_from_a_pipe_is_refused(tmp_path: Path):
    fifo = tmp_path / "book.xlsx"
    os.mkfifo(fifo)
    result = zhili("eval", MODEL, fifo, "--no-record")
    assert result.exit_code == 1
    assert "is a pipe; this format must be read from a regular file" in result.stderr


def test_standard_input_past_the_limit(small_limit):
    body = b"a,b\n" + b"1,2\n" * (small_limit // 4 + 1)
    result = CliRunner().invoke(cli, ["--lang", "en", "eval", str(MODEL), "-"], input=body)
    assert result.exit_code == 1
    assert "<stdin>: more than 1 MB of data" in result.stderr


def test_a_file_over_the_limit_is_refused_unread(tmp_path: Path, small_limit):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(small_limit + 1)  # sparse: nothing is written
    with pytest.raises(DataError, match="more than 1 MB of data"):
        load(big, _model())


def test_a_model_test_reading_a_device_fails_clearly(tmp_path: Path):
    (tmp_path / "model.gov").write_text(MODEL.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "tests.gov").write_text(
        'tests for csvread\n\ntest "zero" {\n    data "/dev/zero" community "JT-001"\n'
        "    expect total 10\n}\n",
        encoding="utf-8",
    )
    result = zhili("test", tmp_path / "model.gov")
    assert result.exit_code == 1
    assert "/dev/zero: is a device, not a data file" in result.output


@pytest.mark.parametrize("name", NAMES)
def test_both_text_readers_agree(name: str):
    """Polars' reader and the record-by-record one give the same cells, lines
    and problems for every case file Polars' reader takes."""
    from zhili.engine.io import formats

    path = CASES / name / "data.csv"
    want = _expected(name)
    if not path.is_file() or want["exit"] != 0:
        return
    encoding = dict(zip(want.get("args", [])[::2], want.get("args", [])[1::2], strict=True)).get(
        "--encoding"
    )
    text = formats._utf8_text(str(path), path.read_bytes(), encoding)
    sep = formats._separator(path, text)
    line = formats._header_line(str(path), text, sep, _model())
    fast = formats._read_csv_fast(str(path), text, sep, line)
    exact = formats._read_csv(str(path), text, sep, line, encoding is None)
    if fast is None:
        return
    assert fast[0] == exact[0]

    # an empty cell is null from Polars and "" from the csv module: both missing
    def nulled(frame):
        return frame.with_columns(pl.all().replace("", None))

    assert nulled(fast[1]).equals(nulled(exact[1]))
    assert fast[2] == exact[2]
    assert fast[3] == exact[3]


def test_standard_input_from_a_terminal_is_refused(tmp_path: Path):
    """`-` with a terminal on standard input would wait for typing: refused."""
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "zhili.cli", "--lang", "en", "eval", str(MODEL), "-"],
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "ZHILI_DB": str(tmp_path / "runs.db")},
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 1, proc.stderr
    assert "<stdin>: standard input is a terminal" in proc.stderr
