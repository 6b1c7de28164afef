"""The run history: every `eval` and `report` recorded in a SQLite file.

A run keeps what is needed to reproduce and audit it: the model's id, version
and content hash, the data file's sha256, the engine version, the time, the
options, and every community's result (total, grade, dimension scores, and
each indicator's points and outcome). Since schema 5 the results are Parquet
bytes in `result_parts` (`columnar`: written from the results frame in one
call per part, not one SQLite row per community); runs recorded before keep
their rows in `results`, and every reader sees both kinds the same way.

The database is a real SQLite file (default `$XDG_DATA_HOME/zhili/runs.sqlite`
or `~/.local/share/zhili/runs.sqlite`; `ZHILI_DB` or `--db` choose another):
WAL journal, a busy timeout so that two processes recording at once wait for
each other, versioned schema migrations (`schema_migrations`), and one
transaction per run, so a crash or Ctrl-C never leaves half a run behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from zhili.dsl.i18n import _
from zhili.dsl.model import Outcome
from zhili.engine.eval import columns
from zhili.engine.runs import columnar, hashes
from zhili.engine.runs.columnar import POINTS_TOLERANCE

BUSY_TIMEOUT_MS = 30_000
# pages of a new run database: a run's results are blobs of tens of MB,
# which SQLite keeps in overflow pages, a quarter as many as with its 4 KB
# default (measured: committing 90 MB of parts costs 30% less)
PAGE_SIZE = 16_384

# Each migration moves the schema from version n-1 to n. Never edit one that
# has shipped: add the next.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            command TEXT NOT NULL,
            model_id TEXT NOT NULL,
            model_version TEXT,
            model_hash TEXT NOT NULL,
            data_path TEXT,
            data_hash TEXT,
            engine_version TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '{}',
            communities INTEGER NOT NULL
        );
        CREATE TABLE results (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            community_id TEXT NOT NULL,
            community TEXT,
            district TEXT,
            street TEXT,
            total REAL,
            grade TEXT,
            vetoes TEXT,
            missing INTEGER,
            dimensions TEXT NOT NULL,
            indicators TEXT NOT NULL,
            PRIMARY KEY (run_id, community_id)
        ) WITHOUT ROWID;
        CREATE INDEX runs_model ON runs(model_id, created_at);
        """,
    ),
    (
        2,
        """
        ALTER TABLE results ADD COLUMN grid TEXT;
        ALTER TABLE results ADD COLUMN period TEXT;
        ALTER TABLE results ADD COLUMN row INTEGER;
        ALTER TABLE runs ADD COLUMN grade_counts TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE runs ADD COLUMN problems INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN duration_ms INTEGER;
        """,
    ),
    (
        3,
        # a run with indicator_ids stores its results compactly (a tenth of
        # the JSON): results.indicators holds the points in that order, `|`
        # and one letter per outcome (`10,5.5,|pam`), results.dimensions the
        # scores in the order of dimension_ids (`21.5,6`); older runs keep
        # {"id": [points, "outcome"]} and {"id": score}
        """
        ALTER TABLE runs ADD COLUMN indicator_ids TEXT;
        ALTER TABLE runs ADD COLUMN dimension_ids TEXT;
        """,
    ),
    (
        4,
        # a run of several files (a folder as DATA): the file (its name)
        # and the workbook sheet each community came from, with `row`;
        # null for a run of one file and for older runs
        """
        ALTER TABLE results ADD COLUMN file TEXT;
        ALTER TABLE results ADD COLUMN sheet TEXT;
        """,
    ),
    (
        5,
        # a run's results as Parquet parts (see `columnar`): runs.storage is
        # 'parquet' for such a run (its `results` rows are none) and null for
        # older runs, whose rows stay in `results`
        """
        ALTER TABLE runs ADD COLUMN storage TEXT;
        CREATE TABLE result_parts (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            part INTEGER NOT NULL,
            rows INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (run_id, part)
        );
        """,
    ),
    (
        6,
        # runs.storage 'parquet-scaled': parts whose numbers are stored as
        # scaled integers where that is exact (`columnar.scaled_part`), read
        # by `columnar.decode_part`; runs stored before keep 'parquet'. No
        # table changes: the version makes an older zhili, which would read
        # such numbers as integers, refuse the database instead
        """
        SELECT 1
        """,
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


class RunStoreError(Exception):
    """The database cannot be opened or is not a zhili run store."""


def default_path() -> Path:
    """`ZHILI_DB`, else the user's data directory."""
    env = os.environ.get("ZHILI_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "zhili" / "runs.sqlite"


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes (computed ahead by `hashes.hash_ahead` when
    the command started it and the file is unchanged since)."""
    return hashes.file_hash(path)


def files_hash(paths: list[Path]) -> str:
    """The data hash of several files: sha256 of their sorted (name, sha256)
    pairs, one `name<TAB>sha256` line each."""
    pairs = sorted((p.name, file_hash(p)) for p in paths)
    return hashlib.sha256("".join(f"{n}\t{h}\n" for n, h in pairs).encode()).hexdigest()


@dataclass
class RunInfo:
    """One recorded run's metadata."""

    id: int
    created_at: str
    command: str
    model_id: str
    model_version: str | None
    model_hash: str
    data_path: str | None
    data_hash: str | None
    engine_version: str
    options: dict[str, Any]
    communities: int
    grade_counts: dict[str, int] = field(default_factory=dict)
    problems: int = 0
    duration_ms: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunInfo:
        d = dict(row)
        d["options"] = json.loads(d.get("options") or "{}")
        d["grade_counts"] = json.loads(d.get("grade_counts") or "{}")
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__})


class RunStore:
    """A connection to the run database (created and migrated on open)."""

    def __init__(self, path: Path | str | None = None, migrate: bool = True):
        self.path = Path(path) if path is not None else default_path()
        if not migrate and not self.path.exists():  # a reader: never create the file
            raise RunStoreError(_("{path}: no run database").format(path=self.path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if migrate and not self.path.exists():
                _create(self.path)
            self.conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.path.stat().st_size == 0:  # new: a lasting setting, set before any write
                self.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._wal()
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                self.migrate()
        except sqlite3.DatabaseError as exc:
            raise RunStoreError(
                _("{path}: not a usable run database: {err}").format(path=self.path, err=exc)
            ) from None
        except OSError as exc:
            raise RunStoreError(
                _("{path}: cannot open the run database: {err}").format(
                    path=self.path, err=exc.strerror or exc
                )
            ) from None

    def _wal(self) -> None:
        """Switch the database to WAL (a lasting setting of the file). While
        another process creates or migrates the same file, SQLite answers the
        switch with "database is locked" at once, without waiting the busy
        timeout: wait here instead, as long as that timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
                if mode.lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (including
        KeyboardInterrupt)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------ schema
    def version(self) -> int:
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone()
        if not exists:
            return 0
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    def migrate(self, target: int = SCHEMA_VERSION) -> None:
        """Apply the migrations after the database's version, each in its
        own transaction, up to `target`."""
        with self.transaction() as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        current = self.version()
        if current > SCHEMA_VERSION:
            raise RunStoreError(
                _(
                    "{path}: the run database has schema version {found}, newer than "
                    "this zhili understands ({known}); upgrade zhili"
                ).format(path=self.path, found=current, known=SCHEMA_VERSION)
            )
        for version, sql in MIGRATIONS:
            if version <= current or version > target:
                continue
            with self.transaction() as c:
                # another process may have migrated meanwhile
                if c.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                ).fetchone():
                    continue
                for stmt in sql.split(";"):
                    if stmt.strip():
                        c.execute(stmt)
                c.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, _now()),
                )

    # ------------------------------------------------------------ writing
    def record(
        self,
        ev,
        *,
        command: str,
        data_path: Path | None,
        options: dict[str, Any] | None = None,
        engine_version: str | None = None,
        duration_ms: int | None = None,
        then: Callable[[int], None] | None = None,
        prepared: PreparedRun | None = None,
    ) -> int:
        """Record an `Evaluation` as one run (all or nothing); its id.

        `then(run_id)`, when given, runs inside the run's transaction after
        the results are in: the run is committed only when it returns (an
        output that names its run, written before the run counts), and an
        exception from it — a failed write, Ctrl-C — leaves no run.

        `prepared`: what `prepare_run` built for `ev` beforehand (e.g. in
        another thread while the outputs were written); without it, built
        here. Its parts are freed as they are inserted."""
        if prepared is None:
            prepared = prepare_run(ev, command, data_path, options, engine_version)
        meta = {**prepared.meta, "created_at": _now(), "duration_ms": duration_ms}
        parts = prepared.parts
        prepared.parts = []
        with self.transaction() as c:
            cur = c.execute(
                f"INSERT INTO runs ({', '.join(meta)}) VALUES ({', '.join('?' * len(meta))})",
                tuple(meta.values()),
            )
            run_id = cur.lastrowid
            parts.reverse()
            k = 0
            while parts:
                rows, sha, data = parts.pop()  # one part's bytes alive at a time after this
                c.execute(
                    "INSERT INTO result_parts (run_id, part, rows, sha256, data) "
                    "VALUES (?,?,?,?,?)",
                    (run_id, k, rows, sha, data),
                )
                del data
                k += 1
            if then is not None:
                then(run_id)
        return run_id

    def delete(self, run_id: int) -> bool:
        with self.transaction() as c:
            c.execute("DELETE FROM results WHERE run_id = ?", (run_id,))
            c.execute("DELETE FROM result_parts WHERE run_id = ?", (run_id,))
            return c.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount > 0

    # ------------------------------------------------------------ reading
    def runs(self, model_id: str | None = None, limit: int = 50) -> list[RunInfo]:
        sql = "SELECT * FROM runs"
        args: tuple = ()
        if model_id:
            sql += " WHERE model_id = ?"
            args = (model_id,)
        sql += " ORDER BY id DESC LIMIT ?"
        limit = max(-1, min(limit, 2**63 - 1))  # SQLite integers are 64-bit; -1: no limit
        return [RunInfo.from_row(r) for r in self.conn.execute(sql, (*args, limit))]

    def resolve(self, ref: str) -> RunInfo | None:
        """A run by id, or `latest`/`last` (the newest), `previous` (the one
        before), or `latest~N`."""
        text = str(ref).strip().lower()
        back = None
        if text in ("latest", "last", "head"):
            back = 0
        elif text in ("previous", "prev"):
            back = 1
        elif text.startswith(("latest~", "last~", "head~")):
            try:
                back = int(text.split("~", 1)[1])
            except ValueError:
                return None
        if back is not None:
            row = self.conn.execute(
                "SELECT * FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (back,)
            ).fetchone()
        else:
            try:
                run_id = int(text.lstrip("#"))
            except ValueError:
                return None
            row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunInfo.from_row(row) if row else None

    def results(self, run_id: int, detail: bool = True) -> pl.DataFrame:
        """One row per community of a run (dimensions/indicators as JSON text;
        without them when not `detail`: what a summary or a comparison needs,
        read much faster from a large run).

        The rows read are counted against the count recorded with the run: a
        damaged database is an error naming the file, never a shorter run (which
        `runs diff` would report as communities that disappeared)."""
        try:
            return self._results(run_id, detail)
        except sqlite3.DatabaseError as exc:
            raise RunStoreError(
                _("{path}: the run database is damaged: {err}").format(path=self.path, err=exc)
            ) from None

    def _results(self, run_id: int, detail: bool) -> pl.DataFrame:
        row = self.conn.execute(
            "SELECT indicator_ids, dimension_ids, communities, storage FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is not None and row[3] in columnar.STORAGES:
            return self._columnar_results(run_id, row, detail)
        frame = self._row_results(run_id)
        return frame if detail else frame.drop("dimensions", "indicators", "outputs")

    def _columnar_results(self, run_id: int, run: sqlite3.Row, detail: bool) -> pl.DataFrame:
        """A schema-5 run: its Parquet parts, checked (sha256, rows, count)."""
        frame = self._parts(run_id, run[2], None if detail else columnar.SUMMARY)
        if not detail:
            return columnar.reader_frame(frame, None, None)
        return columnar.reader_frame(frame, json.loads(run[0] or "[]"), json.loads(run[1] or "[]"))

    def _parts(
        self, run_id: int, expected: int, names: list[str] | None, part: int | None = None
    ) -> pl.DataFrame:
        """The run's parts as one frame (only part `part`, when given), after
        checking that the parts' rows add up to the `expected` count."""
        stored = self.conn.execute(
            "SELECT part, rows, sha256 FROM result_parts WHERE run_id = ? ORDER BY part",
            (run_id,),
        ).fetchall()
        found = sum(r[1] for r in stored)
        if not stored or found != expected or [r[0] for r in stored] != list(range(len(stored))):
            raise RunStoreError(
                _(
                    "{path}: run {id} recorded {expected} communities but {found} were read: "
                    "the run database is damaged"
                ).format(path=self.path, id=run_id, expected=expected, found=found)
            )
        wanted = range(len(stored)) if part is None else [part]
        blobs = [
            self.conn.execute(
                "SELECT CAST(data AS BLOB) FROM result_parts WHERE run_id = ? AND part = ?",
                (run_id, k),
            ).fetchone()
            for k in wanted
        ]
        read = [(*stored[k], b[0] if b else None) for k, b in zip(wanted, blobs, strict=True)]
        try:
            return columnar.read_parts(read, names)
        except columnar.DamagedPart as exc:
            raise RunStoreError(
                _(
                    "{path}: run {id}: stored results part {part} fails its check ({check}): "
                    "the run database is damaged"
                ).format(path=self.path, id=run_id, part=exc.args[0], check=exc.args[1])
            ) from None

    def iter_results(self, run_id: int, batch: int = 2_000) -> Iterator[pl.DataFrame]:
        """`results(run_id)` (with detail) in frames of at most `batch` rows,
        in the same order: a columnar run is read one stored part at a time,
        so memory is bounded by a part (`columnar.PART_CELLS`), not by the
        run. Every part is checked (count, sha256, rows) before the first
        frame is given; a run whose parts are not stored in the order
        `results` gives (several files) is read whole and cut."""
        try:
            yield from self._iter_results(run_id, batch)
        except sqlite3.DatabaseError as exc:
            raise RunStoreError(
                _("{path}: the run database is damaged: {err}").format(path=self.path, err=exc)
            ) from None

    def _iter_results(self, run_id: int, batch: int) -> Iterator[pl.DataFrame]:
        run = self.conn.execute(
            "SELECT indicator_ids, dimension_ids, communities, storage FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if run is None or run[3] not in columnar.STORAGES:
            frame = self.results(run_id, detail=True)
            for start in range(0, frame.height, batch):
                yield frame.slice(start, batch)
            return
        ids = (json.loads(run[0] or "[]"), json.loads(run[1] or "[]"))
        parts = self.conn.execute(
            "SELECT COUNT(*) FROM result_parts WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        keys = pl.concat(
            [self._parts(run_id, run[2], ["row", "community_id"], part=k) for k in range(parts)]
        )
        if not columnar.in_reader_order(keys):
            frame = self.results(run_id, detail=True)
            for start in range(0, frame.height, batch):
                yield frame.slice(start, batch)
            return
        for k in range(parts):
            frame = self._parts(run_id, run[2], None, part=k)
            for start in range(0, frame.height, batch):
                yield columnar.reader_frame(frame.slice(start, batch), *ids)

    def typed_results(self, run_id: int) -> tuple[pl.DataFrame, list[str]] | None:
        """A columnar run's results with typed columns (`columnar.typed_frame`)
        and its indicator ids; None for a run recorded before schema 5."""
        try:
            row = self.conn.execute(
                "SELECT indicator_ids, communities, storage FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None or row[2] not in columnar.STORAGES:
                return None
            ids = json.loads(row[0] or "[]")
            frame = self._parts(run_id, row[1], columnar.typed_names(ids))
            return columnar.typed_frame(frame, ids), ids
        except sqlite3.DatabaseError as exc:
            raise RunStoreError(
                _("{path}: the run database is damaged: {err}").format(path=self.path, err=exc)
            ) from None

    def _row_results(self, run_id: int) -> pl.DataFrame:
        """A run recorded before schema 5: one `results` row per community."""
        cur = self.conn.execute(
            "SELECT community_id, community, district, street, grid, period, row, total, grade, "
            "vetoes, missing, dimensions, indicators, file, sheet FROM results WHERE run_id = ? "
            "ORDER BY row, community_id",
            (run_id,),
        )
        names = [d[0] for d in cur.description]
        data = cur.fetchall()
        row = self.conn.execute(
            "SELECT indicator_ids, dimension_ids, communities FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is not None and row[2] != len(data):
            raise RunStoreError(
                _(
                    "{path}: run {id} recorded {expected} communities but {found} were read: "
                    "the run database is damaged"
                ).format(path=self.path, id=run_id, expected=row[2], found=len(data))
            )
        compact = row is not None and row[0] is not None
        schema = {
            "community_id": pl.String,
            "community": pl.String,
            "district": pl.String,
            "street": pl.String,
            "grid": pl.String,
            "period": pl.String,
            "row": pl.Int64,
            "total": pl.Float64,
            "grade": pl.String,
            "vetoes": pl.String,
            "missing": pl.Int64,
            "dimensions": pl.String,
            "indicators": pl.String,
            "file": pl.String,
            "sheet": pl.String,
        }
        frame = pl.DataFrame([tuple(r) for r in data], schema=schema, orient="row").select(names)
        if compact:
            frame = frame.with_columns(
                _expand_indicators(pl.col("indicators"), json.loads(row[0])),
                _expand_dimensions(pl.col("dimensions"), json.loads(row[1] or "[]")),
            )
        # recorded before outputs were stored in Parquet parts: none
        frame = frame.with_columns(pl.lit("{}").alias("outputs"))
        return frame.select(
            [
                *[c for c in frame.columns if c not in ("file", "sheet", "outputs")],
                "outputs",
                "file",
                "sheet",
            ]
        )


def _create(path: Path) -> None:
    """Make a new run database at `path` whole: its tables made in memory,
    then written out by one SQLite call (`VACUUM INTO`, which refuses a file
    that exists and is not empty). A Ctrl-C while a run database is first
    made leaves none, or one with all its tables, never one without (on
    which every reader failed); a database another process made meanwhile
    is kept. It gets `PAGE_SIZE` pages; WAL is set when it is opened."""
    memory = RunStore.__new__(RunStore)  # the schema, without a file
    memory.path = path
    memory.conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        memory.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        memory.migrate()
        try:
            memory.conn.execute("VACUUM INTO ?", (str(path),))
        except sqlite3.OperationalError:
            if not path.exists():  # not "output file already exists": a real failure
                raise
    finally:
        memory.conn.close()


@dataclass
class PreparedRun:
    """What `RunStore.record` writes for an evaluation, built before the
    run's transaction: the `runs` row (its time and duration are set when
    it is recorded) and the results as Parquet parts (`columnar.parts`)."""

    meta: dict[str, Any]
    parts: list[tuple[int, str, bytes]]


class Cancelled(Exception):
    """`prepare_run` was asked to stop (the outputs could not be written)."""


def prepare_run(
    ev,
    command: str,
    data_path: Path | None,
    options: dict[str, Any] | None = None,
    engine_version: str | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PreparedRun:
    """The run `RunStore.record` would write for `ev`, with no database
    touched: the costly part of recording (the results parts, the data
    file's hash), which may run in another thread while the outputs are
    written. Raises `Cancelled` between two parts once `cancelled()`."""
    ids = indicator_ids(ev)
    meta = _run_row(ev, command, data_path, options, engine_version, None, ids)
    frame = columnar.results_frame(ev, ids)
    parts = []
    for part in columnar.iter_parts(frame):
        if cancelled is not None and cancelled():
            raise Cancelled
        parts.append(part)
    return PreparedRun(meta, parts)


def prepared_run(
    ev,
    command: str,
    data_path: Path | None,
    options: dict[str, Any] | None,
    parts: list[tuple[int, str, bytes]],
    indicator_ids: list[str],
) -> PreparedRun:
    """The run of `ev` whose results parts were built elsewhere, batch by
    batch (`engine.eval.stream`: `ev` then counts the communities and
    grades of every batch, its table is empty); `prepare_run` builds them
    from `ev.table`."""
    meta = _run_row(ev, command, data_path, options, None, None, indicator_ids)
    return PreparedRun(meta, parts)


def _run_row(ev, command, data_path, options, engine_version, duration_ms, ids) -> dict:
    """The `runs` row of a run: column → value."""
    from zhili.engine import __version__

    model = ev.model
    found = ev.grade_counts()
    counts = {g.name: found[g.name] for g in model.grades if found.get(g.name)}
    files = getattr(ev.dataset, "files", None)
    if files:
        data_hash = files_hash([Path(f) for f in files])
        options = {**(options or {}), "files": [str(Path(f).resolve()) for f in files]}
        if data_path is not None and not data_path.is_dir():  # several files, no folder
            data_path = None
    elif data_path is not None and data_path.is_file():
        data_hash = file_hash(data_path)
    else:
        data_hash = None
    return {
        "created_at": _now(),
        "command": command,
        "model_id": model.id,
        "model_version": model.version,
        "model_hash": model.content_hash,
        "data_path": str(data_path.resolve()) if data_path is not None else None,
        "data_hash": data_hash,
        "engine_version": engine_version or __version__,
        "options": json.dumps(
            {**(options or {}), "grades": [g.name for g in model.grades]},
            ensure_ascii=False,
            sort_keys=True,
        ),
        "communities": len(ev),
        "grade_counts": json.dumps(counts, ensure_ascii=False),
        "problems": sum(1 for p in ev.dataset.problems if p.severity != "info"),
        "duration_ms": duration_ms,
        "indicator_ids": json.dumps(ids, ensure_ascii=False),
        "dimension_ids": json.dumps([d.id for d in model.dimensions], ensure_ascii=False),
        "storage": columnar.STORAGE_SCALED,
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def indicator_ids(ev) -> list[str]:
    """The indicators a run stores, in the order of the compact form."""
    t = ev.table
    return [
        i.id
        for i in ev.model.indicators
        if columns.ind_points(i.id) in t.columns and columns.ind_outcome(i.id) in t.columns
    ]


def _expand_indicators(compact: pl.Expr, ids: list[str]) -> pl.Expr:
    """The compact stored form → {"id": [points, "outcome"], ...} JSON text."""
    if not ids:
        return pl.lit("{}").alias("indicators")
    points = compact.str.split_exact("|", 1).struct.field("field_0").str.split(",")
    codes = compact.str.split_exact("|", 1).struct.field("field_1")
    names = {o.letter: o.value for o in Outcome}
    parts = []
    for k, iid in enumerate(ids):
        key = json.dumps(iid, ensure_ascii=False)
        p = points.list.get(k, null_on_oob=True)
        parts.append(pl.lit(("{" if k == 0 else ",") + key + ":["))
        parts.append(pl.when(p == "").then(pl.lit("null")).otherwise(p).fill_null("null"))
        parts.append(pl.lit(',"'))
        parts.append(
            codes.str.slice(k, 1).replace_strict(names, default="", return_dtype=pl.String)
        )
        parts.append(pl.lit('"]'))
    parts.append(pl.lit("}"))
    return pl.concat_str(parts).alias("indicators")


def _expand_dimensions(compact: pl.Expr, ids: list[str]) -> pl.Expr:
    """The compact stored form → {"id": score, ...} JSON text."""
    if not ids:
        return pl.lit("{}").alias("dimensions")
    scores = compact.str.split(",")
    parts = []
    for k, did in enumerate(ids):
        v = scores.list.get(k, null_on_oob=True)
        parts.append(pl.lit(("{" if k == 0 else ",") + json.dumps(did, ensure_ascii=False) + ":"))
        parts.append(pl.when(v == "").then(pl.lit("null")).otherwise(v).fill_null("null"))
    parts.append(pl.lit("}"))
    return pl.concat_str(parts).alias("dimensions")


# ---------------------------------------------------------------- diff


@dataclass
class RunDiff:
    a: RunInfo
    b: RunInfo
    grade_changes: list[dict[str, Any]]  # community, from, to, total_a, total_b, better
    indicator_moves: list[dict[str, Any]]  # community, indicator, points/outcome a → b
    added: list[str]
    removed: list[str]
    unchanged: int
    total_moves: int = 0  # communities whose total changed


def diff_runs(store: RunStore, a: RunInfo, b: RunInfo, limit: int = 1000) -> RunDiff:
    """Which communities changed grade between two runs, and which
    indicators moved (points or outcome), matched by community id.

    Two columnar runs (schema 5) are compared with Polars expressions; a run
    recorded before is compared row by row from its JSON form (`_diff_rows`)."""
    grades_order: dict[str, int] = {}
    for info in (a, b):
        for k, g in enumerate(info.options.get("grades", [])):
            grades_order.setdefault(g, k)
    typed_a = store.typed_results(a.id)
    typed_b = store.typed_results(b.id) if typed_a is not None else None
    if typed_a is not None and typed_b is not None:
        d = columnar.diff_frames(
            typed_a[0], typed_b[0], (typed_a[1], typed_b[1]), grades_order, limit
        )
        return RunDiff(a, b, **d)
    return _diff_rows(a, b, store.results(a.id), store.results(b.id), grades_order, limit)


def _diff_rows(
    a: RunInfo,
    b: RunInfo,
    ra: pl.DataFrame,
    rb: pl.DataFrame,
    grades_order: dict[str, int],
    limit: int,
) -> RunDiff:
    """`diff_runs` of two results frames in the JSON form, one community at a time."""
    ids_a = set(ra.get_column("community_id").to_list())
    ids_b = set(rb.get_column("community_id").to_list())
    joined = ra.join(rb, on="community_id", how="inner", suffix="_b")
    changes = []
    moves = []
    unchanged = 0
    total_moves = 0
    for r in joined.iter_rows(named=True):
        name = r["community"] or r["community_id"]
        if r["grade"] != r["grade_b"]:
            ia, ib = grades_order.get(r["grade"]), grades_order.get(r["grade_b"])
            better = None if ia is None or ib is None else ib < ia
            changes.append(
                {
                    "community_id": r["community_id"],
                    "community": name,
                    "from": r["grade"],
                    "to": r["grade_b"],
                    "total_a": r["total"],
                    "total_b": r["total_b"],
                    "better": better,
                }
            )
        ta, tb = r["total"], r["total_b"]  # None: not scored, which is not 0
        if (ta is None) != (tb is None) or (ta is not None and abs(ta - tb) > POINTS_TOLERANCE):
            total_moves += 1
        ind_a = json.loads(r["indicators"])
        ind_b = json.loads(r["indicators_b"])
        moved = False
        for iid in ind_a.keys() | ind_b.keys():
            pa, oa = ind_a.get(iid, [None, None])
            pb, ob = ind_b.get(iid, [None, None])
            # missing on both sides: 0 points (the old code) is null (not scored)
            same_points = (
                pa == pb
                or (pa is not None and pb is not None and abs(pa - pb) <= POINTS_TOLERANCE)
                or (oa == ob == "missing" and {pa or 0, pb or 0} == {0})
            )
            if not same_points or oa != ob:
                moved = True
                if len(moves) < limit:
                    moves.append(
                        {
                            "community_id": r["community_id"],
                            "community": name,
                            "indicator": iid,
                            "points_a": pa,
                            "points_b": pb,
                            "outcome_a": oa,
                            "outcome_b": ob,
                        }
                    )
        if not moved and r["grade"] == r["grade_b"]:
            unchanged += 1
    moves.sort(key=lambda m: (m["community_id"], m["indicator"]))
    changes.sort(key=lambda c: c["community_id"])
    return RunDiff(
        a,
        b,
        changes,
        moves,
        sorted(ids_b - ids_a),
        sorted(ids_a - ids_b),
        unchanged,
        total_moves,
    )
