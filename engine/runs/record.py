"""Recording an evaluation in the run store, as `eval` and `report` do.

A run store that cannot be used must not cost the user the results they
waited for: every way recording can fail is one `RunNotRecorded`, which the
caller shows as a warning.

A run is recorded only once its outputs exist: `eval` records after writing
them; `report`, whose output names its run, writes it inside the run's
transaction (`write`), so a failed write records nothing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from zhili.engine.progress import Progress
from zhili.engine.runs.store import RunStore, RunStoreError


class RunNotRecorded(RunStoreError):
    """The run database could not be opened or written (the results stand)."""


def record_run(
    ev,
    command: str,
    options: dict,
    db: str | None,
    started: float,
    progress: Progress | None = None,
    write: Callable[[int | None], None] | None = None,
) -> int:
    """Record `ev` (an `Evaluation` that took since `started`, a
    `time.perf_counter()` value) in the run database `db` (None: the default
    one); the run's id. Raises `RunNotRecorded`.

    `write(run_id)`, when given, writes the outputs inside the run's
    transaction: the run is committed only when it returns, and whatever it
    raises (a failed write) propagates with no run recorded. When the store
    cannot be used before `write` ran, `write(None)` still runs (the outputs
    stand without a run) and `RunNotRecorded` follows."""
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
        if progress is not None:
            progress.clear()
