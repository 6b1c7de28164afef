"""Evaluating a table that comes in row batches one batch at a time:
`zhili eval … -o out.parquet|csv` of a large CSV, TSV or Parquet file.

Every column of the results is row-local (no function reads another
community), the csv/parquet output and the run's parts are row slices,
and the run's row needs only counts. So each converted batch is
evaluated, its rows of the output handed on to be written, its run parts
built, and then dropped: neither the whole inputs nor the whole results are
ever in memory (`data.open_batches` reads the next batch meanwhile, two raw
batches at most). What needs the whole table — the problems of columns and
duplicate ids (`data.Conversion`), the counts — is gathered on the way and
given by `Stream.finish()` once every batch has passed.

The result is the one `evaluate_dataset` gives the whole table, row for row.
Where a later batch shows it would not be (a hierarchy column empty in the
first batch has values later, so the whole table would have the column;
the types of the output changed), iterating raises `Restart`; a later batch
the reader must read whole raises `data.NotInBatches`. Either way the caller
discards what it wrote and evaluates the whole file from the start.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from zhili.dsl.model import Model
from zhili.engine.eval.evaluate import Evaluation, Evaluator, meta_columns
from zhili.engine.eval.vectorized import Detail
from zhili.engine.io.data import Batches, Dataset, open_batches
from zhili.engine.runs import columnar
from zhili.engine.runs.store import PreparedRun, indicator_ids, prepared_run


class Restart(Exception):
    """The batches cannot give the whole table's result: evaluate the whole file."""


@dataclass(eq=False)
class StreamedEvaluation(Evaluation):
    """The evaluation of every batch, as far as the run store and the
    messages read it: its `dataset` has every problem and an empty frame,
    its `table` no rows (the columns kept); `len()` and `grade_counts()`
    count every batch's communities."""

    communities: int = 0
    counts: Counter = field(default_factory=Counter)

    def __len__(self) -> int:
        return self.communities

    def grade_counts(self) -> Counter:
        return Counter(self.counts)


class Stream:
    """The batches of one table being evaluated (`open_stream`): `frames()`
    gives the output table (`output(evaluation)` of each batch's
    evaluation) batch by batch, `schema` its columns (the first batch is
    evaluated when the stream opens); with `record`, each batch's run parts
    are built as it passes. After the last batch, `finish()` gives the
    `StreamedEvaluation` and `prepared(...)` the run to record."""

    def __init__(
        self,
        batches: Batches,
        evaluator: Evaluator,
        output: Callable[[Evaluation], pl.DataFrame],
        record: bool,
    ) -> None:
        self.batches, self.evaluator, self.output, self.record = batches, evaluator, output, record
        self.parts: list[tuple[int, str, bytes]] = []
        self.communities = 0
        self.counts: Counter = Counter()
        self._keys: list[str] | None = None  # the hierarchy columns of the first batch
        self._ids: list[str] | None = None  # the indicators the run stores
        self._empty: pl.DataFrame | None = None  # the results table's columns
        self.schema: pl.Schema | None = None
        self._outputs = self._evaluated()
        self._head = [next(self._outputs)]

    def frames(self) -> Iterator[pl.DataFrame]:
        """The output table, batch by batch (once)."""
        while self._head:
            yield self._head.pop()
        yield from self._outputs

    def _evaluated(self) -> Iterator[pl.DataFrame]:
        conversion = self.batches.conversion
        for frame in self.batches:
            dataset = conversion.batch_dataset(frame)
            del frame
            out = self._one(dataset)
            del dataset
            yield out
            del out

    def _one(self, dataset: Dataset) -> pl.DataFrame:
        """One batch's output rows, its counts and run parts taken."""
        found = meta_columns(dataset)
        if self._keys is None:
            self._keys = found
        elif not set(found) <= set(self._keys):
            raise Restart("a hierarchy column has values only after the first batch")
        table = self.evaluator.table(dataset, self._keys)
        ev = self.evaluator.evaluation(dataset, table)
        out = self.output(ev)
        if self.schema is None:
            self.schema, self._empty = out.schema, table.clear()
        elif out.schema != self.schema or table.schema != self._empty.schema:
            raise Restart("the types of a later batch differ")
        self.communities += table.height
        self.counts.update(ev.grade_counts())
        if self.record:
            if self._ids is None:
                self._ids = indicator_ids(ev)
            self.parts.extend(columnar.iter_parts(columnar.results_frame(ev, self._ids)))
        dataset.release()  # the batch's inputs
        return out

    def finish(self) -> StreamedEvaluation:
        """The evaluation of the whole table, once every batch has passed:
        the dataset's problems (`data.Conversion.dataset`), the counts."""
        dataset = self.batches.conversion.dataset()
        ev = self.evaluator.evaluation(
            dataset,
            self._empty,
            StreamedEvaluation,
            communities=self.communities,
            counts=Counter(self.counts),
        )
        assert isinstance(ev, StreamedEvaluation)
        return ev

    def prepared(self, ev: StreamedEvaluation, command: str, options: dict) -> PreparedRun:
        """The run of `ev` (`finish()`), its parts the batches' (handed over)."""
        parts, self.parts = self.parts, []
        ids = self._ids if self._ids is not None else indicator_ids(ev)
        return prepared_run(ev, command, Path(ev.dataset.file), options, parts, ids)

    def close(self) -> None:
        """Stop reading (the read-ahead thread ends); the parts are dropped."""
        self._head.clear()
        self.parts = []
        self._outputs.close()
        self.batches.close()


def open_stream(
    path: Path,
    model: Model,
    registry=None,
    *,
    backend: str = "vectorized",
    detail: Detail = True,
    output: Callable[[Evaluation], pl.DataFrame],
    record: bool = True,
    encoding: str | None = None,
    sheet: str | int | None = None,
    progress=None,
    batch_bytes: int | None = None,
) -> Dataset | Stream:
    """The `Stream` of `path` when it comes in several batches
    (`data.open_batches`; a text file's of `STREAM_BATCH_BYTES` at most
    unless `batch_bytes`), its first batch evaluated; else its dataset, as
    `data.load` gives it, for the whole path. Raises what `load` raises."""
    if batch_bytes is None:
        batch_bytes = _batch_bytes(path)
    opened = open_batches(path, model, encoding, sheet, progress, batch_bytes)
    if isinstance(opened, Dataset):
        return opened
    try:
        return Stream(opened, Evaluator(model, registry, backend, detail), output, record)
    except BaseException:
        opened.close()
        raise


# a text file's batches here: the text cells of a batch take three to four
# times its bytes, and two are in memory (one read ahead); 64 MB batches of
# the 1M-row four_type CSV peaked at 1.25 GB, 32 MB ones at 0.85 GB
STREAM_BATCH_BYTES = 32 * 1024**2


def _batch_bytes(path: Path) -> int | None:
    """The batch size of a text file (None: the reader's own, as for a
    Parquet file, whose batches are of rows)."""
    from zhili.engine.io import formats

    if path.suffix.lower() == ".parquet" or formats.BATCH_BYTES <= STREAM_BATCH_BYTES:
        return None
    return STREAM_BATCH_BYTES


class _Stopped(Exception):
    """The frames stopped coming (what stopped them is raised in the caller)."""


def sink_parquet(frames: Iterator[pl.DataFrame], schema: Any, target: Any) -> None:
    """`frames` (each of `schema`), in order, as one Parquet file `target`
    (a path or a binary file): Polars' sink writes each in a thread of its
    own while the next one is computed here, one waiting at most. What
    computing a frame raises (Ctrl-C too) stops the sink first and is raised
    here; so is what the sink raises."""
    from polars.io.plugins import register_io_source

    box: queue.Queue = queue.Queue(maxsize=1)
    end, stop = object(), object()

    def source(with_columns, predicate, n_rows, batch_size) -> Iterator[pl.DataFrame]:
        while True:
            item = box.get()
            if item is end:
                return
            if item is stop:
                raise _Stopped
            yield item
            del item

    lazy = register_io_source(source, schema=schema)
    failed: list[BaseException] = []

    def sink() -> None:
        try:
            lazy.sink_parquet(target)
        except BaseException as exc:  # raised in the caller's thread
            failed.append(exc)

    worker = threading.Thread(target=sink, name="zhili-sink", daemon=True)

    def put(item) -> None:
        while worker.is_alive():
            try:
                box.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise failed[0] if failed else RuntimeError("the Parquet sink stopped")

    worker.start()
    try:
        for frame in frames:
            put(frame)
            del frame
        put(end)
        worker.join()
    except BaseException:
        while worker.is_alive():  # the sink takes the stop, or ends on its own
            try:
                box.get_nowait()
            except queue.Empty:
                pass
            try:
                box.put_nowait(stop)
            except queue.Full:
                pass
            worker.join(0.05)
        raise
    if failed:
        raise failed[0]
