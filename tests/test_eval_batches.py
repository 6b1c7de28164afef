"""`eval -o out.parquet|csv` of a file read in several batches evaluates,
writes and records batch by batch (`engine.eval.stream`): the output, the
messages on stderr and the run recorded must be those of the whole path
(the same data read in one batch), and the batches in memory bounded.

Batches are forced small through `formats.BATCH_BYTES` and
`formats.PARQUET_BATCH_ROWS` (what the readers use when no size is given);
the whole path is the same file with a batch size it never reaches. That
the batched path was taken shows in the run: its parts end with each
batch (a few thousand rows make one part in the whole path)."""

from __future__ import annotations

import sqlite3
import weakref
from pathlib import Path

import polars as pl
import pytest
from cli_helpers import zhili

from zhili.engine.io import data as data_mod
from zhili.engine.io import formats
from zhili.engine.io.atomic import temp_files
from zhili.engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plugins" / "four_type" / "sample.csv"
ROWS = 3_000
SMALL = 60_000  # bytes: a dozen batches of the test file
WHOLE = 10**9


def _frame(rows: int = ROWS) -> pl.DataFrame:
    sample = pl.read_csv(SAMPLE, infer_schema=False)
    frame = pl.concat([sample] * (rows // sample.height + 1)).head(rows)
    return frame.with_columns(
        pl.format("C{}", pl.int_range(rows, dtype=pl.Int64)).alias("社区编码"),
        pl.format("社区{}", pl.int_range(rows, dtype=pl.Int64)).alias("社区"),
    )


def _set(frame: pl.DataFrame, row: int, column: str, value: str | None) -> pl.DataFrame:
    i = pl.int_range(frame.height, dtype=pl.Int64)
    cell = pl.lit(value, dtype=pl.String)
    return frame.with_columns(pl.when(i == row).then(cell).otherwise(pl.col(column)).alias(column))


@pytest.fixture
def csv_file(tmp_path) -> Path:
    """Problems late in the file: a cell that is not a number, a score out of range."""
    frame = _set(_frame(), 2_500, "常住人口", "很多")
    frame = _set(frame, 2_900, "社区类型", "别墅区")
    path = tmp_path / "data.csv"
    frame.write_csv(path)
    return path


def _eval(monkeypatch, where: Path, data: Path, out: str, batch: int, *extra):
    """`zhili eval four_type DATA -o OUT` in the folder `where` (its own run
    store), with batches of `batch` bytes (Parquet: `batch // 20` rows)."""
    where.mkdir(exist_ok=True)
    monkeypatch.chdir(where)
    monkeypatch.setattr(formats, "BATCH_BYTES", batch)
    monkeypatch.setattr(formats, "PARQUET_BATCH_ROWS", max(1, batch // 20))
    return zhili("eval", "four_type", data, "-o", out, "--db", where / "runs.sqlite", *extra)


def _parts(db: Path) -> list[int]:
    with sqlite3.connect(db) as c:
        return [r for (r,) in c.execute("SELECT rows FROM result_parts ORDER BY part")]


def _run_row(db: Path) -> dict:
    with sqlite3.connect(db) as c:
        c.row_factory = sqlite3.Row
        row = dict(c.execute("SELECT * FROM runs").fetchone())
    for varying in ("id", "created_at", "duration_ms"):
        row.pop(varying)
    return row


def _same_runs(a: Path, b: Path) -> None:
    assert _run_row(a / "runs.sqlite") == _run_row(b / "runs.sqlite")
    with RunStore(a / "runs.sqlite") as sa, RunStore(b / "runs.sqlite") as sb:
        assert sa.results(1).equals(sb.results(1))
        typed_a, typed_b = sa.typed_results(1), sb.typed_results(1)
        assert typed_a is not None and typed_b is not None
        assert typed_a[0].equals(typed_b[0]) and typed_a[1] == typed_b[1]


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_a_csv_in_batches_gives_the_whole_paths_output_messages_and_run(
    tmp_path, monkeypatch, csv_file, suffix
):
    out = f"out.{suffix}"
    whole = _eval(monkeypatch, tmp_path / "whole", csv_file, out, WHOLE, "--detail")
    batched = _eval(monkeypatch, tmp_path / "batched", csv_file, out, SMALL, "--detail")
    assert whole.exit_code == batched.exit_code == 0, batched.output
    assert "很多" in batched.stderr and "recorded run 1" in batched.stderr
    assert batched.stderr == whole.stderr
    a, b = tmp_path / "whole" / out, tmp_path / "batched" / out
    if suffix == "csv":
        assert a.read_bytes() == b.read_bytes()
    else:
        fa, fb = pl.read_parquet(a), pl.read_parquet(b)
        assert fa.schema == fb.schema and fa.equals(fb) and fa.height == ROWS
        assert len(pl.scan_parquet(b).collect_schema()) == fa.width
    assert _parts(tmp_path / "whole" / "runs.sqlite") == [ROWS]
    parts = _parts(tmp_path / "batched" / "runs.sqlite")
    assert len(parts) > 5 and sum(parts) == ROWS  # one part (or more) a batch
    _same_runs(tmp_path / "whole", tmp_path / "batched")
    assert temp_files(b) == []


def test_runs_show_and_diff_see_no_difference(tmp_path, monkeypatch, csv_file):
    db = tmp_path / "runs.sqlite"
    monkeypatch.setattr(formats, "BATCH_BYTES", WHOLE)
    assert (
        zhili("eval", "four_type", csv_file, "-o", tmp_path / "a.parquet", "--db", db).exit_code
        == 0
    )
    monkeypatch.setattr(formats, "BATCH_BYTES", SMALL)
    assert (
        zhili("eval", "four_type", csv_file, "-o", tmp_path / "b.parquet", "--db", db).exit_code
        == 0
    )
    assert len(_parts(db)) > 2
    shown = [zhili("runs", "--db", db, "show", str(i)).stdout for i in (1, 2)]
    assert shown[0].replace("run 1", "run 2").splitlines()[2:] == shown[1].splitlines()[2:]
    diff = zhili("runs", "--db", db, "diff", "1", "2", "--json")
    assert diff.exit_code == 0, diff.output
    import json

    found = json.loads(diff.stdout)
    assert not found["grade_changes"] and not found["indicator_moves"], found


def test_a_parquet_file_in_batches_gives_the_whole_paths_output_and_run(tmp_path, monkeypatch):
    data = tmp_path / "data.parquet"
    _set(_frame(), 2_700, "常住人口", "abc").write_parquet(data)
    whole = _eval(monkeypatch, tmp_path / "whole", data, "out.parquet", WHOLE)
    batched = _eval(monkeypatch, tmp_path / "batched", data, "out.parquet", 8_000)
    assert whole.exit_code == batched.exit_code == 0, batched.output
    assert batched.stderr == whole.stderr and "abc" in batched.stderr
    fa = pl.read_parquet(tmp_path / "whole" / "out.parquet")
    fb = pl.read_parquet(tmp_path / "batched" / "out.parquet")
    assert fa.schema == fb.schema and fa.equals(fb)
    assert len(_parts(tmp_path / "batched" / "runs.sqlite")) > 5
    _same_runs(tmp_path / "whole", tmp_path / "batched")


def test_a_duplicate_id_across_batches_stops_with_no_output_and_no_run(
    tmp_path, monkeypatch, csv_file
):
    frame = _set(pl.read_csv(csv_file, infer_schema=False), 2_800, "社区编码", "C5")
    frame.write_csv(csv_file)
    whole = _eval(monkeypatch, tmp_path / "whole", csv_file, "out.csv", WHOLE)
    batched = _eval(monkeypatch, tmp_path / "batched", csv_file, "out.csv", SMALL)
    assert whole.exit_code == batched.exit_code == 1
    assert batched.stderr == whole.stderr
    assert "duplicate community id (first on row 7)" in batched.stderr
    assert not (tmp_path / "batched" / "out.csv").exists()
    assert temp_files(tmp_path / "batched" / "out.csv") == []
    db = tmp_path / "batched" / "runs.sqlite"
    assert not db.exists() or not _parts(db)


def test_strict_stops_at_a_warning_in_a_later_batch(tmp_path, monkeypatch, csv_file):
    whole = _eval(monkeypatch, tmp_path / "whole", csv_file, "out.parquet", WHOLE, "--strict")
    batched = _eval(monkeypatch, tmp_path / "batched", csv_file, "out.parquet", SMALL, "--strict")
    assert whole.exit_code == batched.exit_code == 1
    assert batched.stderr == whole.stderr and "nothing was evaluated" in batched.stderr
    assert not (tmp_path / "batched" / "out.parquet").exists()
    assert temp_files(tmp_path / "batched" / "out.parquet") == []


def test_a_later_batch_read_whole_starts_again_from_the_file(tmp_path, monkeypatch):
    """A ragged row late in the file: the reader must read it whole
    (`NotInBatches`), after batches were evaluated and written."""
    path = tmp_path / "data.csv"
    _frame().write_csv(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2_600] += ",多出的格"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = _eval(monkeypatch, tmp_path / "whole", path, "out.csv", WHOLE)
    converted = []
    batch = data_mod.Conversion.batch
    monkeypatch.setattr(
        data_mod.Conversion, "batch", lambda self, raw: converted.append(1) or batch(self, raw)
    )
    batched = _eval(monkeypatch, tmp_path / "batched", path, "out.csv", SMALL)
    assert whole.exit_code == batched.exit_code == 0, batched.output
    assert len(converted) > 5  # batches were evaluated before the ragged one, then the file whole
    assert batched.stderr == whole.stderr and "data.csv:2601: the row has more" in batched.stderr
    assert (tmp_path / "whole" / "out.csv").read_bytes() == (
        tmp_path / "batched" / "out.csv"
    ).read_bytes()
    _same_runs(tmp_path / "whole", tmp_path / "batched")
    assert temp_files(tmp_path / "batched" / "out.csv") == []


def test_a_hierarchy_column_filled_only_later_gives_the_whole_tables_columns(tmp_path, monkeypatch):
    """区 empty in the first batch, given far below: the whole table has the
    column (the first batch alone would not)."""
    frame = _frame().with_columns(pl.lit(None, dtype=pl.String).alias("区"))
    path = tmp_path / "data.csv"
    _set(frame, 2_950, "区", "朝阳区").write_csv(path)
    whole = _eval(monkeypatch, tmp_path / "whole", path, "out.parquet", WHOLE)
    batched = _eval(monkeypatch, tmp_path / "batched", path, "out.parquet", SMALL)
    assert whole.exit_code == batched.exit_code == 0, batched.output
    fa = pl.read_parquet(tmp_path / "whole" / "out.parquet")
    fb = pl.read_parquet(tmp_path / "batched" / "out.parquet")
    assert "district" in fa.columns and fa.equals(fb)
    _same_runs(tmp_path / "whole", tmp_path / "batched")


def test_at_most_one_converted_batch_is_alive_while_the_next_is_converted(
    tmp_path, monkeypatch, csv_file
):
    """Each converted batch is evaluated, written and dropped while the
    next one is converted (in the read-ahead thread): when a conversion
    starts, one converted batch is alive at most."""
    alive: list[weakref.ref] = []
    most = []
    batch = data_mod.Conversion.batch

    def counted(self, raw):
        most.append(sum(1 for r in alive if r() is not None))
        frame = batch(self, raw)
        alive.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(data_mod.Conversion, "batch", counted)
    result = _eval(monkeypatch, tmp_path / "b", csv_file, "out.parquet", SMALL)
    assert result.exit_code == 0, result.output
    assert len(most) > 5 and max(most) <= 1, most
    assert pl.read_parquet(tmp_path / "b" / "out.parquet").height == ROWS


def test_a_one_batch_file_and_standard_output_keep_the_whole_path(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    _frame(200).write_csv(path)
    result = _eval(monkeypatch, tmp_path / "one", path, "out.parquet", WHOLE)
    assert result.exit_code == 0 and _parts(tmp_path / "one" / "runs.sqlite") == [200]
    monkeypatch.setattr(formats, "BATCH_BYTES", 5_000)
    printed = zhili("eval", "four_type", path, "--format", "csv", "--no-record")
    assert printed.exit_code == 0 and printed.stdout.count("\n") == 202  # echo's newline


BATCHED_MAIN = (
    "import sys\n"
    "from zhili.engine.io import formats\n"
    "formats.BATCH_BYTES = int(sys.argv[1])\n"
    "from zhili.cli.app import main\n"
    "main(sys.argv[2:])\n"
)


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_ctrl_c_in_the_middle_of_the_batches_leaves_nothing(tmp_path, suffix):
    """SIGINT while batches are being evaluated and written: exit 130, no
    output, no temporary file, no run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    data = tmp_path / "data.csv"
    _frame(12_000).write_csv(data)
    out = tmp_path / f"out.{suffix}"
    env = {**os.environ, "ZHILI_DB": str(tmp_path / "runs.sqlite")}
    env.pop("ZHILI_DEBUG", None)
    args = ["--lang", "en", "eval", "four_type", str(data), "-o", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCHED_MAIN, "40000", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the temporary file is made once the first batch is evaluated; a dozen follow
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not temp_files(out):
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert not out.exists() and temp_files(out) == []
    db = tmp_path / "runs.sqlite"
    assert not db.exists() or not _parts(db)
