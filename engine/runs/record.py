"""Recording an evaluation in the run store, as `eval` and `report` do.

A run store that cannot be used must not cost the user the results they
waited for: every way recording can fail is one `RunNotRecorded`, which the
caller shows as a warning.
"""

from __future__ import annotations

import sqlite3
import time
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
) -> int:
    """Record `ev` (an `Evaluation` that took since `started`, a
    `time.perf_counter()` value) in the run database `db` (None: the default
    one); the run's id. Raises `RunNotRecorded`."""
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
            )
    # sqlite3 errors: locked for too long, disk full
    except (RunStoreError, OSError, sqlite3.Error) as exc:
        raise RunNotRecorded(str(exc)) from exc
    finally:
        if progress is not None:
            progress.clear()
