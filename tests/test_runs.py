"""The run store: real SQLite files in tmp_path. Runs recorded by `eval` and
`report`, listed, shown and compared; concurrent writers; a run interrupted
midway (an exception, a killed process) leaves nothing behind; migration
from an older schema."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import zhili

from zhili.engine.runs.store import SCHEMA_VERSION, RunStore, RunStoreError, diff_runs

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plugins" / "four_type" / "sample.csv"


def evaluation(model_id: str = "four_type", data: Path | None = None):
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io.data import load
    from zhili.engine.plugins import Registry

    reg = Registry()
    lm = reg.get(model_id)
    ds = load(data or lm.samples[0], lm.model)
    return evaluate_dataset(lm.model, ds, reg)


def test_eval_records_a_run(tmp_path):
    db = tmp_path / "runs.sqlite"
    result = zhili("eval", "four_type", SAMPLE, "--db", db)
    assert result.exit_code == 0, result.output
    assert "recorded run 1" in result.stderr
    with RunStore(db) as store:
        (run,) = store.runs()
        assert (run.command, run.model_id, run.model_version) == ("eval", "four_type", "2024.1")
        assert len(run.model_hash) == 64 and len(run.data_hash) == 64
        assert run.data_path == str(SAMPLE.resolve())
        assert run.options["backend"] == "vectorized"
        results = store.results(run.id)
    ev = json.loads(zhili("eval", "four_type", SAMPLE, "--format", "json", "--no-record").stdout)
    assert results.height == run.communities == len(ev["communities"])
    first = results.row(0, named=True)
    c = ev["communities"][0]
    assert (first["community_id"], first["grade"]) == (c["community_id"], c["grade"])
    assert first["total"] == pytest.approx(c["total"])
    indicators = json.loads(first["indicators"])
    assert {i["id"]: [pytest.approx(i["points"]), i["outcome"]] for i in c["indicators"]} == {
        k: [v[0], v[1]] for k, v in indicators.items()
    }
    assert set(json.loads(first["dimensions"])) == {d["id"] for d in c["dimensions"]}
    assert "recorded run 2" in zhili("eval", "four_type", SAMPLE, "--db", db).stderr


def test_no_record_and_env_db(tmp_path, monkeypatch):
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("ZHILI_DB", str(db))
    assert zhili("eval", "four_type", SAMPLE, "--no-record").exit_code == 0
    assert not db.exists()
    assert zhili("report", "four_type", SAMPLE, "-o", tmp_path / "r.md").exit_code == 0
    with RunStore(db) as store:
        assert [r.command for r in store.runs()] == ["report"]


def test_runs_list_show_diff(tmp_path):
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", "four_type", SAMPLE, "--db", db).exit_code == 0
    # the next quarter: one community improves (its major accident cleared),
    # another crosses the cctv coverage threshold
    text = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(",")
    rows = [line.split(",") for line in text[1:]]
    acc = header.index("重大安全事故数")
    cctv = header.index("公共区域视频监控覆盖率")
    improved = next(r for r in rows if r[acc] not in ("0", ""))
    improved[acc] = "0"
    rows[0][cctv] = "100%" if float(rows[0][cctv].rstrip("%")) < 90 else "10%"
    changed = tmp_path / "q2.csv"
    changed.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    assert zhili("eval", "four_type", changed, "--db", db).exit_code == 0

    listed = zhili("runs", "--db", db, "list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[2].split()[0] == "2" and lines[3].split()[0] == "1", "newest first"
    as_json = json.loads(zhili("runs", "--db", db, "list", "--json").stdout)
    assert [r["id"] for r in as_json] == [2, 1]

    shown = zhili("runs", "--db", db, "show", "1")
    assert shown.exit_code == 0 and "four_type 2024.1" in shown.stdout
    assert str(SAMPLE.resolve()) in shown.stdout
    latest = json.loads(zhili("runs", "--db", db, "show", "latest", "--json").stdout)
    assert latest["run"]["id"] == 2 and len(latest["communities"]) == len(rows)

    diff = json.loads(zhili("runs", "--db", db, "diff", "1", "2", "--json").stdout)
    by_id = {c["community_id"]: c for c in diff["grade_changes"]}
    assert improved[0] in by_id and by_id[improved[0]]["better"] is True
    moved = {(m["community_id"], m["indicator"]) for m in diff["indicator_moves"]}
    assert (rows[0][0], "cctv") in moved
    assert diff["added"] == diff["removed"] == []
    text_diff = zhili("runs", "--db", db, "diff", "previous", "latest")
    assert text_diff.exit_code == 0
    assert "the data changed" in text_diff.stdout and improved[0] in text_diff.stdout

    missing = zhili("runs", "--db", db, "show", "99")
    assert missing.exit_code == 1 and "no run '99'" in missing.stderr


def test_runs_without_a_database(tmp_path):
    result = zhili("runs", "--db", tmp_path / "none.sqlite", "list")
    assert result.exit_code == 1 and "no run database" in result.stderr


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RunStoreError, match="not a usable run database"):
        RunStore(bad)
    result = zhili("eval", "four_type", SAMPLE, "--db", bad)
    assert result.exit_code == 0, "the evaluation stands"
    assert "the run was not recorded" in result.stderr


# ---------------------------------------------------------------- consistency


def test_exception_mid_run_leaves_no_partial_run(tmp_path):
    """Ctrl-C (or a failed output write) after the results are in but before
    the run commits leaves no run, no part and no row behind."""
    db = tmp_path / "runs.sqlite"
    ev = evaluation()
    seen = []

    def interrupted(run_id):
        seen.append(run_id)
        raise KeyboardInterrupt  # Ctrl-C while the outputs are written

    with RunStore(db) as store:
        store.record(ev, command="eval", data_path=SAMPLE)
        with pytest.raises(KeyboardInterrupt):
            store.record(ev, command="eval", data_path=SAMPLE, then=interrupted)
    assert seen == [2]
    with RunStore(db) as store:
        assert [r.id for r in store.runs()] == [1]
        assert store.conn.execute("SELECT COUNT(*) FROM result_parts").fetchone()[0] == 1
        assert store.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
        assert store.results(1).height == len(ev)
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _record_then_hang(db: str, ready) -> None:  # runs in a child process
    ev = evaluation()
    store = RunStore(db)
    store.conn.execute("BEGIN IMMEDIATE")
    store.conn.execute(
        "INSERT INTO runs (created_at, command, model_id, model_hash, engine_version, "
        "communities) VALUES ('t', 'eval', 'four_type', 'h', 'v', 1)"
    )
    store.conn.executemany(
        "INSERT INTO results (run_id, community_id, dimensions, indicators) "
        "VALUES (last_insert_rowid(), ?, '{}', '{}')",
        [(f"c{i}",) for i in range(1)],
    )
    del ev
    ready.set()
    import time

    time.sleep(60)


def test_killed_process_mid_run_leaves_the_database_consistent(tmp_path):
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.record(evaluation(), command="eval", data_path=SAMPLE)
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_record_then_hang, args=(str(db), ready))
    child.start()
    try:
        assert ready.wait(60), "the child never started its run"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(10)
    with RunStore(db) as store:
        assert [r.id for r in store.runs()] == [1]
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # and the store takes new runs
        store.record(evaluation(), command="eval", data_path=SAMPLE)
        assert len(store.runs()) == 2


def _record_many(db: str, model_id: str, n: int) -> None:  # runs in a child process
    ev = evaluation(model_id)
    with RunStore(db) as store:
        for _ in range(n):
            store.record(ev, command="eval", data_path=None)


def test_concurrent_writers(tmp_path):
    db = tmp_path / "runs.sqlite"
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_record_many, args=(str(db), model_id, 5))
        for model_id in ("four_type", "wuyou_model", "five_governance")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with RunStore(db) as store:
        runs = store.runs(limit=100)
        assert len(runs) == 15
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for r in runs:
            assert store.results(r.id).height == r.communities
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# ---------------------------------------------------------------- schema


def test_migration_from_schema_1(tmp_path):
    db = tmp_path / "old.sqlite"
    sqlite3.connect(db).close()  # an empty database, as an old zhili left it before any run
    old = RunStore(db, migrate=False)
    old.migrate(target=1)
    assert old.version() == 1
    with old.transaction() as c:
        c.execute(
            "INSERT INTO runs (created_at, command, model_id, model_version, model_hash, "
            "data_path, data_hash, engine_version, options, communities) "
            "VALUES ('2024-01-01T00:00:00', 'eval', 'four_type', '2024.1', 'h', 'd.csv', 'x', "
            "'0.0.1', '{}', 1)"
        )
        c.execute(
            "INSERT INTO results (run_id, community_id, community, total, grade, vetoes, "
            "missing, dimensions, indicators) VALUES (1, 'BJ-JT-001', '长青社区', 80, "
            "'达标社区', '', 0, '{}', '{\"staff\": [1, \"partial\"]}')"
        )
    old.close()
    with RunStore(db) as store:
        assert store.version() == SCHEMA_VERSION
        versions = [r[0] for r in store.conn.execute("SELECT version FROM schema_migrations")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        (run,) = store.runs()
        assert (run.model_id, run.grade_counts, run.problems) == ("four_type", {}, 0)
        old_results = store.results(run.id)
        assert old_results.row(0, named=True)["grid"] is None
        new_id = store.record(evaluation(), command="eval", data_path=SAMPLE)
        d = diff_runs(store, store.resolve("1"), store.resolve(str(new_id)))
        assert any(m["indicator"] == "staff" for m in d.indicator_moves)


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "new.sqlite"
    RunStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future')")
    conn.commit()
    conn.close()
    with pytest.raises(RunStoreError, match="schema version 99"):
        RunStore(db)


def test_columnar_results_read_back_as_the_evaluation(tmp_path):
    """Runs are stored as Parquet parts (schema 5); reading them back gives
    every community's indicators and dimension scores exactly, including
    "missing" outcomes and dimensions that were not scored (null stays null)."""
    from zhili.engine.plugins import Registry
    from zhili.engine.sample import write_sample

    data = tmp_path / "gappy.csv"  # many missing cells: many "missing" outcomes
    write_sample(Registry().get("wuyou_model").model, data, 60, 3, 0.4)
    ev = evaluation("wuyou_model", data)
    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id = store.record(ev, command="eval", data_path=data)
        stored = store.results(run_id)
        (blob,) = store.conn.execute(
            "SELECT data FROM result_parts WHERE run_id = ?", (run_id,)
        ).fetchone()
        assert store.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    assert blob[:4] == b"PAR1" and blob[-4:] == b"PAR1"  # a Parquet file, not rows
    table = ev.table.sort("row")
    assert stored.height == table.height
    saw_missing = saw_null = False
    for got, want in zip(stored.iter_rows(named=True), table.iter_rows(named=True), strict=True):
        assert got["community_id"] == want["community_id"]
        assert got["total"] == pytest.approx(want["total"], abs=1e-9)
        indicators = json.loads(got["indicators"])
        assert list(indicators) == [i.id for i in ev.model.indicators]
        for ind in ev.model.indicators:
            points, outcome = indicators[ind.id]
            want_points = want[f"ind.{ind.id}.points"]
            assert (points is None) == (want_points is None)
            if want_points is not None:
                assert points == pytest.approx(want_points, abs=1e-9)
            assert outcome == str(want[f"ind.{ind.id}.outcome"])
            saw_missing |= outcome == "missing"
        dims = json.loads(got["dimensions"])
        for d in ev.model.dimensions:
            score = want[f"dim.{d.id}"]
            saw_null |= score is None
            assert dims[d.id] is None if score is None else dims[d.id] == pytest.approx(score)
    assert saw_missing


def test_null_dimension_scores_stay_null(tmp_path):
    """A dimension nobody could score is stored and read back as null, never 0."""
    import polars as pl

    from zhili.engine.eval import columns

    ev = evaluation()
    dim = ev.model.dimensions[0].id
    ev.table = ev.table.with_columns(pl.lit(None, dtype=pl.Float64).alias(columns.dim_score(dim)))
    with RunStore(tmp_path / "runs.sqlite") as store:
        stored = store.results(store.record(ev, command="eval", data_path=SAMPLE))
    for text in stored.get_column("dimensions"):
        assert json.loads(text)[dim] is None


def _damage(db: Path, sql: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql)


def test_a_damaged_store_is_an_error_not_a_shorter_run(tmp_path):
    """A part whose bytes changed (sha256), a lost part (the recorded count)
    and, in a run of the old row storage, lost rows: each an error naming
    the database, never a shorter or different run."""
    db = tmp_path / "runs.sqlite"
    ev = evaluation()
    with RunStore(db) as store:
        first = store.record(ev, command="eval", data_path=SAMPLE)
        second = store.record(ev, command="eval", data_path=SAMPLE)
        third = store.record(ev, command="eval", data_path=SAMPLE)
    # one byte in the middle of the first run's Parquet bytes
    _damage(
        db,
        f"UPDATE result_parts SET data = substr(data, 1, 100) || x'00' || substr(data, 102) "
        f"WHERE run_id = {first}",
    )
    _damage(db, f"DELETE FROM result_parts WHERE run_id = {second}")
    with RunStore(db) as store:
        with pytest.raises(RunStoreError, match="fails its check \\(sha256\\)") as err:
            store.results(first)
        assert str(db) in str(err.value)
        with pytest.raises(RunStoreError, match=f"recorded {len(ev)} communities but 0"):
            store.results(second)
        assert store.results(third).height == len(ev)
    old = _schema4_copy(tmp_path)
    with sqlite3.connect(old) as conn:
        conn.execute(
            "DELETE FROM results WHERE run_id = 1 AND community_id IN "
            "(SELECT community_id FROM results WHERE run_id = 1 ORDER BY community_id LIMIT 3)"
        )
    with RunStore(old) as store:
        with pytest.raises(RunStoreError, match="recorded 24 communities but 21"):
            store.results(1)
        assert store.results(2).height == 24


# ---------------------------------------------------------------- schema 4 → 5

FIXTURES = ROOT / "tests" / "runs_fixtures"


def _schema4_copy(tmp_path: Path) -> Path:
    """A copy of `runs_fixtures/schema4.sqlite`: two runs of four_type recorded
    by zhili before schema 5 (compact rows in `results`; the second run's data
    is sample.csv with cells of BJ-JT-002 emptied). `schema4_*.json` are
    `runs show 1/2 --json` and `runs diff 1 2 --json` as that zhili printed them."""
    db = tmp_path / "schema4.sqlite"
    db.write_bytes((FIXTURES / "schema4.sqlite").read_bytes())
    return db


def _as_recorded(tmp_path: Path) -> Path:
    """four_type as it was when the fixture's runs were recorded: without the
    `precision 2` it has since (new runs of it are then the same numbers)."""
    text = (ROOT / "plugins" / "four_type" / "model.gov").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines(True) if not line.startswith("precision ")]
    assert len(lines) == len(text.splitlines(True)) - 1
    path = tmp_path / "as_recorded" / "model.gov"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _fixture_json(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_schema_5_store_reads_as_before_and_takes_new_runs(tmp_path):
    """`runs_fixtures/schema5.sqlite`: two runs of four_type recorded by zhili
    at schema 5, whose parts hold the numbers as floats (storage 'parquet'):
    of sample.csv, then of `schema5_b.csv` (its first three communities'
    cells emptied, its fifth left out). `schema5_*.json` are `runs show 1/2
    --json` and `runs diff 1 2 --json` as that zhili printed them. The same
    data recorded now (numbers as scaled integers) reads the same, and an
    old run compares with a new one as with an old one."""
    db = tmp_path / "schema5.sqlite"
    db.write_bytes((FIXTURES / "schema5.sqlite").read_bytes())
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 5
    conn.close()
    shown = {}
    for run in ("1", "2"):
        out = zhili("runs", "--db", db, "show", run, "--json")
        assert out.exit_code == 0, out.output
        shown[run] = json.loads(out.stdout)
        assert shown[run] == _fixture_json(f"schema5_show{run}.json")
    diff = zhili("runs", "--db", db, "diff", "1", "2", "--json")
    expected = _fixture_json("schema5_diff.json")
    assert json.loads(diff.stdout) == expected
    for data in (SAMPLE, FIXTURES / "schema5_b.csv"):
        ran = zhili("eval", "four_type", data, "--db", db, "-o", tmp_path / "o.csv")
        assert ran.exit_code == 0, ran.output
    with RunStore(db) as store:
        assert store.version() == SCHEMA_VERSION == 6
        storage = dict(store.conn.execute("SELECT id, storage FROM runs").fetchall())
        assert storage == {1: "parquet", 2: "parquet", 3: "parquet-scaled", 4: "parquet-scaled"}
    for old, new in (("1", "3"), ("2", "4")):
        now = json.loads(zhili("runs", "--db", db, "show", new, "--json").stdout)
        assert now["communities"] == shown[old]["communities"]
    for a, b in (("3", "4"), ("1", "4"), ("3", "2")):
        d = json.loads(zhili("runs", "--db", db, "diff", a, b, "--json").stdout)
        assert (d.pop("a"), d.pop("b")) == (int(a), int(b))
        assert d == {k: v for k, v in expected.items() if k not in ("a", "b")}


def test_a_schema_4_store_reads_as_before_and_takes_new_runs(tmp_path):
    db = _schema4_copy(tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 4
    conn.close()
    for run in ("1", "2"):
        shown = zhili("runs", "--db", db, "show", run, "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout) == _fixture_json(f"schema4_show{run}.json")
    diff = zhili("runs", "--db", db, "diff", "1", "2", "--json")
    assert json.loads(diff.stdout) == _fixture_json("schema4_diff.json")
    with RunStore(db) as store:
        assert store.version() == SCHEMA_VERSION == 6
        assert [r.id for r in store.runs()] == [2, 1]
    # a new run of the same data as run 1: stored the new way, read the same way
    assert (
        zhili(
            "eval", _as_recorded(tmp_path), SAMPLE, "--db", db, "-o", tmp_path / "o.csv"
        ).exit_code
        == 0
    )
    with RunStore(db) as store:
        (storage,) = store.conn.execute("SELECT storage FROM runs WHERE id = 3").fetchone()
        assert storage == "parquet-scaled"
        for run_id in (1, 3):  # the summary alone (runs show, the TUI): the same rows
            summary = store.results(run_id, detail=False)
            assert "indicators" not in summary.columns and summary.height == 24
            assert summary.equals(store.results(run_id).drop("dimensions", "indicators", "outputs"))
    old, new = (
        json.loads(zhili("runs", "--db", db, "show", r, "--json").stdout)["communities"]
        for r in ("1", "3")
    )
    # the one difference: an indicator `missing skip` left out was stored as 0
    # points by the old code and is null (not scored) now
    for o, n in zip(old, new, strict=True):
        for ind, value in n["indicators"].items():
            if value[0] is None:
                assert o["indicators"][ind][0] == 0 and value[1:] == o["indicators"][ind][1:]
                o["indicators"][ind] = value
    assert _close(new, old)
    same = json.loads(zhili("runs", "--db", db, "diff", "1", "3", "--json").stdout)
    # the same data: nothing moved (an indicator missing on both sides has no
    # points, stored as 0 by the old code and null now)
    assert (same["grade_changes"], same["indicator_moves"], same["unchanged"]) == ([], [], 24)
    moved = json.loads(zhili("runs", "--db", db, "diff", "2", "3", "--json").stdout)
    expected = _fixture_json("schema4_diff.json")
    back = {(m["community_id"], m["indicator"]) for m in moved["indicator_moves"]}
    assert back == {(m["community_id"], m["indicator"]) for m in expected["indicator_moves"]}
    listed = zhili("runs", "--db", db, "list")
    assert listed.exit_code == 0 and all(f" {k} " in f" {listed.stdout} " for k in "123")


def _close(a, b, tol: float = 1e-6) -> bool:
    """Equal, numbers within `tol`: the fixture's runs were recorded before
    numbers were 9-place decimals, and differ from new runs in the 9th place."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(a - b) <= tol
    return a == b


def _as_old_code_stored(moves: list[dict]) -> list[dict]:
    """Moves as the old code stored them: an indicator `missing skip` left out
    had 0 points; it is null (not scored) now."""
    return [
        {
            **mv,
            **{
                f"points_{s}": 0
                for s in "ab"
                if mv[f"points_{s}"] is None and mv[f"outcome_{s}"] == "missing"
            },
        }
        for mv in moves
    ]


def test_a_columnar_diff_reads_as_the_old_diff(tmp_path):
    """The fixture's two runs recorded again (columnar): `runs diff` says
    exactly what it said of the old rows."""
    db = _schema4_copy(tmp_path)
    for data in (SAMPLE, FIXTURES / "sample_b.csv"):
        assert (
            zhili(
                "eval", _as_recorded(tmp_path), data, "--db", db, "-o", tmp_path / "o.csv"
            ).exit_code
            == 0
        )
    diff = json.loads(zhili("runs", "--db", db, "diff", "3", "4", "--json").stdout)
    expected = _fixture_json("schema4_diff.json")
    diff["indicator_moves"] = _as_old_code_stored(diff["indicator_moves"])
    assert _close(
        {k: v for k, v in diff.items() if k not in "ab"},
        {k: v for k, v in expected.items() if k not in "ab"},
    )
    mixed = json.loads(zhili("runs", "--db", db, "diff", "1", "4", "--json").stdout)
    assert _close(_as_old_code_stored(mixed["indicator_moves"]), expected["indicator_moves"])


def test_the_columnar_diff_equals_the_row_by_row_diff(tmp_path):
    """Two runs of different data (grade changes, indicator moves, a
    community only in each): the Polars diff of columnar runs and the
    row-by-row diff of their JSON form agree on everything."""
    import polars as pl

    from zhili.engine.plugins import Registry
    from zhili.engine.runs import store as store_mod
    from zhili.engine.sample import write_sample

    model = Registry().get("wuyou_model").model
    evs = []
    for seed, dropped in ((3, 2), (4, 5)):
        data = tmp_path / f"d{seed}.csv"
        write_sample(model, data, 80, seed, 0.2)
        ev = evaluation("wuyou_model", data)
        ev.table = ev.table.filter(pl.col("row") != ev.table.get_column("row")[dropped])
        evs.append(ev)
    with RunStore(tmp_path / "runs.sqlite") as store:
        a, b = (store.resolve(str(store.record(ev, command="eval", data_path=None))) for ev in evs)
        fast = diff_runs(store, a, b, limit=100_000)
        order = {g: k for k, g in enumerate(a.options["grades"])}
        slow = store_mod._diff_rows(a, b, store.results(a.id), store.results(b.id), order, 100_000)
        few = diff_runs(store, a, b, limit=5)
    assert fast.grade_changes and fast.indicator_moves and fast.added and fast.removed
    for field_ in ("grade_changes", "indicator_moves", "added", "removed", "unchanged"):
        assert getattr(fast, field_) == getattr(slow, field_), field_
    assert fast.total_moves == slow.total_moves
    assert few.indicator_moves == slow.indicator_moves[:5]


def test_tui_compares_with_old_and_new_runs(tmp_path, monkeypatch):
    from zhili.engine.plugins import Registry
    from zhili.tui.session import load_other

    db = _schema4_copy(tmp_path)
    assert (
        zhili(
            "eval", _as_recorded(tmp_path), SAMPLE, "--db", db, "-o", tmp_path / "o.csv"
        ).exit_code
        == 0
    )
    monkeypatch.setenv("ZHILI_DB", str(db))
    lm = Registry().get("four_type")
    old, new = (load_other(lm, ref).table for ref in ("1", "latest"))
    assert old.height == new.height == 24
    cols = ["community_id", "community", "street", "grade"]
    assert old.select(cols).equals(new.select(cols))
    assert _close(old.get_column("total").to_list(), new.get_column("total").to_list())


def test_a_huge_list_limit_reads_every_run(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        store.record(evaluation(), command="eval", data_path=SAMPLE)
        assert len(store.runs(limit=10**20)) == 1


def test_a_damaged_store_is_a_cli_error_not_a_wrong_diff(tmp_path):
    """A damaged part is noticed by every reader: an error naming the
    database (exit 1), never a diff of the wrong communities."""
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", "four_type", SAMPLE, "--db", db).exit_code == 0
    assert zhili("eval", "four_type", SAMPLE, "--db", db).exit_code == 0
    _damage(db, "UPDATE result_parts SET data = substr(data, 1, 200) WHERE run_id = 1")
    for args in (("diff", "1", "2"), ("show", "1"), ("diff", "1", "2", "--json")):
        result = zhili("runs", "--db", db, *args)
        assert result.exit_code == 1, (args, result.output)
        assert str(db) in result.stderr and "damaged" in result.stderr
        assert "only in" not in result.stdout
    assert zhili("runs", "--db", db, "show", "2").exit_code == 0


# ---------------------------------------------------------------- outputs first


@pytest.mark.parametrize(
    "command,output",
    [
        ("eval", "x.csv"),
        ("eval", "x.parquet"),
        ("eval", "x.json"),
        ("report", "x.html"),
        ("report", "x.xlsx"),
    ],
)
def test_a_failed_output_write_records_no_run(tmp_path, command, output):
    """`-o somefile/x.csv`: the folder is a regular file, so the write fails
    (even as root); the command exits 1 naming the file, and no run is recorded."""
    db = tmp_path / "runs.sqlite"
    blocker = tmp_path / "somefile"
    blocker.write_text("not a folder", encoding="utf-8")
    target = blocker / output
    result = zhili(command, "four_type", SAMPLE, "--db", db, "-o", target)
    assert result.exit_code == 1, result.output
    assert str(target) in result.stderr and "Traceback" not in result.output
    assert "recorded run" not in result.stderr
    with RunStore(db) as store:
        assert store.runs() == []
        assert store.conn.execute("SELECT COUNT(*) FROM result_parts").fetchone()[0] == 0


def test_a_run_is_recorded_after_its_output_is_written(tmp_path):
    db = tmp_path / "runs.sqlite"
    out = tmp_path / "r.json"
    result = zhili("report", "four_type", SAMPLE, "--db", db, "-o", out)
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert err.index(f"wrote {out}") < err.index("recorded run 1")
    assert json.loads(out.read_text(encoding="utf-8"))["info"]["run"] == 1  # it names its run
    no_db = tmp_path / "file" / "runs.sqlite"  # a store that cannot be opened: written, no run
    (tmp_path / "file").write_text("", encoding="utf-8")
    result = zhili("report", "four_type", SAMPLE, "--db", no_db, "-o", out)
    assert result.exit_code == 0 and "the run was not recorded" in result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["info"]["run"] is None
    result = zhili("eval", "four_type", SAMPLE, "--db", db, "-o", tmp_path / "o.parquet")
    assert result.stderr.index("wrote") < result.stderr.index("recorded run 2")
    with RunStore(db) as store:
        assert [r.command for r in store.runs()] == ["eval", "report"]


# ---------------------------------------------------------------- prepared while writing


def test_a_run_prepared_while_writing_is_the_run_recorded_directly(tmp_path):
    """`eval` builds a run's parts in a thread while it writes the output
    (`PendingRun`): the run recorded from them is the run `record` writes by
    itself, part for part, and reads back the same."""
    from zhili.engine.runs.record import PendingRun, record_run

    ev = evaluation()
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        direct = store.record(ev, command="eval", data_path=Path(ev.dataset.file), options={})
    pending = PendingRun(ev, "eval", {})
    prepared = record_run(ev, "eval", {}, str(db), started=0.0, pending=pending)
    assert not pending.running
    with RunStore(db) as store:
        a, b = store.resolve(str(direct)), store.resolve(str(prepared))
        assert (a.communities, a.data_hash, a.options) == (b.communities, b.data_hash, b.options)
        assert b.created_at >= a.created_at and b.duration_ms is not None
        parts = store.conn.execute(
            "SELECT run_id, part, rows, sha256, length(data) FROM result_parts ORDER BY run_id"
        ).fetchall()
        assert [tuple(p)[1:] for p in parts if p[0] == direct] == [
            tuple(p)[1:] for p in parts if p[0] == prepared
        ]
        assert store.results(direct).equals(store.results(prepared))
        assert diff_runs(store, a, b).unchanged == len(ev)


def test_a_cancelled_pending_run_records_nothing(tmp_path):
    """A failed output write cancels the run being prepared: nothing to take,
    no thread left; a store that cannot be opened cancels it too."""
    from zhili.engine.runs.record import PendingRun, RunNotRecorded, record_run

    ev = evaluation()
    pending = PendingRun(ev, "eval", {})
    pending.cancel()
    assert not pending.running
    with pytest.raises(RuntimeError):
        pending.take()
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    pending = PendingRun(ev, "eval", {})
    with pytest.raises(RunNotRecorded):
        record_run(ev, "eval", {}, str(blocker / "runs.sqlite"), started=0.0, pending=pending)
    assert not pending.running


def test_eval_leaves_no_thread_behind_when_its_write_fails(tmp_path):
    import threading

    blocker = tmp_path / "somefile"
    blocker.write_text("not a folder", encoding="utf-8")
    db = tmp_path / "runs.sqlite"
    result = zhili("eval", "four_type", SAMPLE, "--db", db, "-o", blocker / "x.parquet")
    assert result.exit_code == 1 and "recorded run" not in result.stderr
    assert not [t for t in threading.enumerate() if t.name == "zhili-record"]
    result = zhili("eval", "four_type", SAMPLE, "--db", db, "-o", tmp_path / "x.parquet")
    assert result.exit_code == 0 and "recorded run 1" in result.stderr
    assert not [t for t in threading.enumerate() if t.name == "zhili-record"]


def test_a_store_keeps_its_page_size(tmp_path):
    """A new run database has `PAGE_SIZE` pages (a run's parts are large
    blobs); one made before, with SQLite's 4 KB pages, keeps them, and
    records and reads runs as before."""
    from zhili.engine.runs.store import PAGE_SIZE

    with RunStore(tmp_path / "new.sqlite") as store:
        assert store.conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("CREATE TABLE made (x)")
    conn.close()
    ev = evaluation()
    with RunStore(old) as store:
        run_id = store.record(ev, command="eval", data_path=SAMPLE)
        assert store.conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert store.results(run_id).height == len(ev)
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_new_store_is_made_whole_or_not_at_all(tmp_path, monkeypatch):
    """A new run database is made in memory and written out at once: a first
    use that fails (or is interrupted) while the tables are made leaves no
    database without its tables; a database already there is never replaced."""
    from zhili.engine.runs import store as store_mod

    db = tmp_path / "runs.sqlite"
    bad = list(store_mod.MIGRATIONS)
    bad[2] = (3, "ALTER TABLE no_such_table ADD COLUMN x TEXT")
    monkeypatch.setattr(store_mod, "MIGRATIONS", bad)
    with pytest.raises(RunStoreError):
        RunStore(db)
    assert not db.exists() and sorted(tmp_path.iterdir()) == []
    monkeypatch.undo()
    with RunStore(db) as store:
        assert store.version() == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        run_id = store.record(evaluation(), command="eval", data_path=SAMPLE)
    store_mod._create(db)  # as when another process made it meanwhile: kept
    with RunStore(db, migrate=False) as store:
        assert [r.id for r in store.runs()] == [run_id]
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
