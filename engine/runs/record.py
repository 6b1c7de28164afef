"""Recording an evaluation in the run store, as `eval` and `report` do.

A run store that cannot be used must not cost the user the results they
waited for: every way recording can fail is one `RunNotRecorded`, which the
caller shows as a warning.

A run is recorded only once its outputs exist: `eval` records after writing
them; `report`, whose output names its run, writes it inside the run's
transaction (`write`), so a failed write records nothing.

The costly part of recording — the results as Parquet parts, the data
file's hash — needs no database: `PendingRun` builds it in a thread while
the outputs are written (the engine's work releases the GIL, and there are
usually two cores), and `record_run(..., pending=)` then only inserts and
commits. A failed write cancels it: nothing is recorded.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from zhili.engine.progress import Progress
from zhili.engine.runs.store import Cancelled, PreparedRun, RunStore, RunStoreError, prepare_run


class RunNotRecorded(RunStoreError):
    """The run database could not be opened or written (the results stand)."""


class PendingRun:
    """A run of `ev` being prepared (`store.prepare_run`) in a thread of its
    own, started at once. `take()` waits for it and gives the prepared run
    (or raises what preparing it raised); `cancel()` stops it after the part
    being built and waits (no run will be recorded)."""

    def __init__(self, ev, command: str, options: dict):
        self._stop = threading.Event()
        self._result: PreparedRun | None = None
        self._error: BaseException | None = None
        args = (ev, command, Path(ev.dataset.file), options)
        self._thread = threading.Thread(target=self._prepare, args=args, name="zhili-record")
        self._thread.start()

    def _prepare(self, ev, command: str, data_path: Path, options: dict) -> None:
        try:
            self._result = prepare_run(ev, command, data_path, options, cancelled=self._stop.is_set)
        except Cancelled:
            pass
        except BaseException as exc:  # given to the caller of `take`
            self._error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def take(self) -> PreparedRun:
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._result is None:
            raise RuntimeError("take() after cancel()")
        result, self._result = self._result, None  # its parts are freed as they are inserted
        return result

    def cancel(self) -> None:
        self._stop.set()
        self._thread.join()
        self._result = None


class ReadyRun:
    """A run prepared already (`engine.eval.stream` builds its parts batch
    by batch while the output is written), in `PendingRun`'s shape for
    `record_run(..., pending=)`."""

    running = False

    def __init__(self, prepared: PreparedRun):
        self._result: PreparedRun | None = prepared

    def take(self) -> PreparedRun:
        if self._result is None:
            raise RuntimeError("take() after cancel()")
        result, self._result = self._result, None
        return result

    def cancel(self) -> None:
        self._result = None


def record_run(
    ev,
    command: str,
    options: dict,
    db: str | None,
    started: float,
    progress: Progress | None = None,
    write: Callable[[int | None], None] | None = None,
    pending: PendingRun | None = None,
) -> int:
    """Record `ev` (an `Evaluation` that took since `started`, a
    `time.perf_counter()` value) in the run database `db` (None: the default
    one); the run's id. Raises `RunNotRecorded`.

    `write(run_id)`, when given, writes the outputs inside the run's
    transaction: the run is committed only when it returns, and whatever it
    raises (a failed write) propagates with no run recorded. When the store
    cannot be used before `write` ran, `write(None)` still runs (the outputs
    stand without a run) and `RunNotRecorded` follows.

    `pending`: the run, prepared while the outputs were written (see
    `PendingRun`); cancelled when recording fails."""
    failure: list[BaseException] = []
    wrote = False

    def then(run_id: int) -> None:
        nonlocal wrote
        if progress is not None:
            progress.clear()
        try:
            write(run_id)
        except BaseException as exc:
            failure.append(exc)
            raise
        wrote = True

    if progress is not None:
        progress.phase("record")
    try:
        with RunStore(db) as store:
            return store.record(
                ev,
                command=command,
                data_path=Path(ev.dataset.file),
                options=options,
                duration_ms=int((time.perf_counter() - started) * 1000),
                then=then if write is not None else None,
                prepared=pending.take() if pending is not None else None,
            )
    # sqlite3 errors: locked for too long, disk full
    except (RunStoreError, OSError, sqlite3.Error) as exc:
        if failure:  # the outputs could not be written: that error, not the store's
            raise failure[0] from None
        if write is not None and not wrote:
            if progress is not None:
                progress.clear()
            write(None)
        raise RunNotRecorded(str(exc)) from exc
    finally:
        if pending is not None:
            pending.cancel()  # done already, or the store failed first
        if progress is not None:
            progress.clear()
