"""Evaluate a dataset against a model: the results table.

`evaluate_dataset(model, dataset, backend=...)` returns an `Evaluation` whose
`table` is a Polars frame with one row per community: the hierarchy columns,
`total`, `grade`, `grade_index`, `next_grade`, `vetoes` (comma-separated ids),
`missing`, `dim.<id>` for every dimension and, with `detail=True`,
`ind.<id>.points` / `.outcome` / `.value` and `veto.<id>`; with
`detail="points"` (`POINTS`) only `ind.<id>.points` / `.outcome`, all that
the run store and the csv/parquet output read (`zhili eval`).

Backends (the `Backend` protocol, one class each in `BACKEND_TYPES`):
"vectorized" (default; one Polars plan for the whole table) and "reference"
(the interpreter, record by record); a third (say, SQL) is one more class. Both fill the same table; the
differential tests hold them to the same numbers. Explanations of one
community always come from the interpreter (`Evaluation.explain_raw`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from zhili.dsl.model import Model
from zhili.engine.eval import columns
from zhili.engine.eval.interpreter import CompiledModel, RawResult, compile_model
from zhili.engine.eval.plan import Plan
from zhili.engine.eval.vectorized import (
    POINTS,
    POLARS_TYPES,
    Detail,
    OutcomeEnum,
    VectorModel,
    VectorUnsupported,
)
from zhili.engine.functions import Missing, pl_snap, positive_zeros
from zhili.engine.io.data import Dataset

META_COLUMNS = ("community_id", "community", "district", "street", "grid", "period")


@dataclass
class Evaluation:
    model: Model
    dataset: Dataset
    table: pl.DataFrame
    backend: str
    functions: dict | None = None
    warnings: list[str] = field(default_factory=list)
    _compiled: CompiledModel | None = None
    plan: Plan | None = None

    def __len__(self) -> int:
        return self.table.height

    @property
    def compiled(self) -> CompiledModel:
        if self._compiled is None:
            self._compiled = compile_model(self.model, self.functions, self.plan)
        return self._compiled

    def explain_raw(self, index: int) -> RawResult:
        """The interpreter's full result (with trace) for row `index`."""
        return self.compiled.evaluate(self.dataset.records[index], self.dataset.meta[index])

    def find(self, community: str) -> int | None:
        """Row index of a community by id or name."""
        for name in ("community_id", "community"):
            if name in self.table.columns:
                hits = self.table.select(pl.arg_where(pl.col(name) == community)).to_series()
                if len(hits):
                    return int(hits[0])
        return None

    def rows(self) -> list[dict[str, Any]]:
        """Summary rows: ids, total, grade, each top-level dimension (by id),
        each output (`out.<id>`), vetoes, missing count."""
        top = self.model.top_dimensions
        cols = [c for c in META_COLUMNS[:4] if c in self.table.columns]
        frame = self.table.select(
            *cols,
            pl_snap(pl.col("total")),  # computed numbers have at most 9 places
            pl.col("grade").cast(pl.String),
            *[pl_snap(pl.col(columns.dim_score(d.id))).alias(d.id) for d in top],
            *[pl.col(columns.output_col(o.id)) for o in self.model.outputs],
            pl.col("vetoes"),
            pl.col("missing"),
        )
        rows = frame.to_dicts()
        for r in rows:
            for c in META_COLUMNS[:4]:
                r.setdefault(c, None)
        return rows

    def grade_counts(self) -> Counter:
        counts = self.table.get_column("grade").cast(pl.String).value_counts()
        return Counter({row[0]: row[1] for row in counts.iter_rows()})

    def target_progress(self) -> list[dict[str, Any]]:
        """Each model target: the share of communities at the grade or better."""
        out = []
        n = self.table.height or 1
        pos = {g.name: i for i, g in enumerate(self.model.grades)}
        gi = self.table.get_column("grade_index")
        for t in self.model.targets:
            limit = pos.get(t.grade, -1)
            reached = int((gi <= limit).sum() or 0)
            out.append(
                {
                    "label": t.label or t.grade,
                    "grade": t.grade,
                    "target": t.share,
                    "actual": reached / n,
                    "reached": reached,
                    "met": reached / n >= t.share - 1e-12,
                    "by": t.by.isoformat() if t.by else None,
                }
            )
        return out


def meta_columns(dataset: Dataset) -> list[str]:
    """The hierarchy columns of the results table of `dataset`:
    `community_id`, and each other one that some row has."""
    frame, keys, out = dataset.frame, set(dataset.meta_keys), []
    for key in META_COLUMNS:
        present = key in keys and key in frame.columns
        if key == "community_id" or (present and frame.get_column(key).null_count() < len(dataset)):
            out.append(key)
    return out


def _meta_frame(dataset: Dataset, keys: list[str] | None = None) -> pl.DataFrame:
    # the hierarchy columns straight from the frame (a million rows as
    # Python dicts took seconds): `keys` (`meta_columns` when None; a
    # column the frame lacks is null)
    frame, have, cols = dataset.frame, set(dataset.meta_keys), {}
    for key in meta_columns(dataset) if keys is None else keys:
        if key in have and key in frame.columns:
            cols[key] = frame.get_column(key).cast(pl.String).alias(key)
        else:
            cols[key] = pl.Series(key, [None] * len(dataset), dtype=pl.String)
    cols["row"] = frame.get_column("row").cast(pl.Int64)
    if "source" in dataset.frame.columns:  # several files: where each row came from
        cols["source"] = dataset.frame.get_column("source")
        for key in ("source_file", "source_sheet"):
            cols[key] = dataset.frame.get_column(key)
    return pl.DataFrame(cols, height=len(dataset))


def _cell(v: Any) -> Any:
    return None if v.__class__ is Missing else v


def _value_dtypes(model: Model, compiled: CompiledModel) -> dict[str, pl.DataType]:
    """The vectorized backend's dtype of each `.value` column (the same
    table from either backend); without a vectorized plan, by declared type."""
    try:
        return VectorModel(model, compiled.functions, compiled.plan).value_dtypes()
    except VectorUnsupported:
        return {i.id: POLARS_TYPES.get(i.scoring.value.type, pl.Float64) for i in model.indicators}


def table_from_raw(
    model: Model, compiled: CompiledModel, results: list[RawResult], detail: Detail
) -> pl.DataFrame:
    """The results table from interpreter results (same columns as the
    vectorized backend)."""
    plan = compiled.plan
    names = [g.name for g in model.grades]
    grade_enum = pl.Enum(names) if names else pl.String
    cols: dict[str, pl.Series] = {
        columns.TOTAL: pl.Series([r.total for r in results], dtype=pl.Float64),
        columns.GRADE: pl.Series([r.grade for r in results], dtype=grade_enum),
        columns.GRADE_INDEX: pl.Series([r.grade_index for r in results], dtype=pl.Int32),
        columns.NEXT_GRADE: pl.Series(
            [
                names[nx] if (nx := plan.next_grade_index(r.grade_index)) is not None else None
                for r in results
            ],
            dtype=grade_enum,
        ),
        columns.VETOES: pl.Series([",".join(r.vetoed) for r in results], dtype=pl.String),
        columns.MISSING: pl.Series([r.missing_count for r in results], dtype=pl.Int64),
    }
    for i, d in enumerate(model.dimensions):
        cols[columns.dim_score(d.id)] = pl.Series(
            [r.dim_scores[i] for r in results], dtype=pl.Float64
        )
    for k, o in enumerate(model.outputs):
        cols[columns.output_col(o.id)] = pl.Series(
            [_cell(r.outputs[k]) for r in results], dtype=POLARS_TYPES[o.type], strict=False
        )
    if not detail:
        return pl.DataFrame(cols, height=len(results))
    values = detail is True  # POINTS: points and outcomes only
    dtypes = _value_dtypes(model, compiled) if values else {}
    for j, ind in enumerate(model.indicators):
        cols[columns.ind_points(ind.id)] = pl.Series(
            [r.shown_points(j) for r in results], dtype=pl.Float64
        )
        cols[columns.ind_outcome(ind.id)] = pl.Series(
            [r.outcomes[j].value for r in results], dtype=OutcomeEnum
        )
        if not values:
            continue
        cols[columns.ind_value(ind.id)] = pl.Series(
            [_cell(r.values[j]) for r in results],
            dtype=dtypes[ind.id],
            strict=False,
        )
    for j, v in enumerate(model.vetoes if values else ()):
        cols[columns.veto_col(v.id)] = pl.Series(
            [None if r.vetoes[j].__class__ is not bool else r.vetoes[j] for r in results],
            dtype=pl.Boolean,
        )
    return pl.DataFrame(cols, height=len(results))


class Backend(Protocol):
    """One way to compute the results table. Each is built from the model and
    the `Plan` both must follow, and fills the same columns
    (`zhili.engine.eval.columns`); the differential tests hold them to the
    same numbers. A backend that cannot run a model raises `VectorUnsupported`
    when built, and the reference interpreter is used instead."""

    name: str
    compiled: CompiledModel | None  # the interpreter, when this backend has one at hand

    def results(self, dataset: Dataset, detail: Detail) -> pl.DataFrame: ...


class VectorizedBackend:
    """The model compiled into one Polars plan over the whole table."""

    name = "vectorized"
    compiled = None

    def __init__(self, model: Model, functions: dict | None, plan: Plan):
        self.vm = VectorModel(model, functions, plan)

    def results(self, dataset: Dataset, detail: Detail) -> pl.DataFrame:
        return self.vm.evaluate(dataset.frame, detail=detail, keep=[])


class ReferenceBackend:
    """The interpreter, one community at a time."""

    name = "reference"

    def __init__(self, model: Model, functions: dict | None, plan: Plan):
        self.model = model
        self.compiled = compile_model(model, functions, plan)

    def results(self, dataset: Dataset, detail: Detail) -> pl.DataFrame:
        raws = [
            self.compiled.evaluate(rec, m)
            for rec, m in zip(dataset.records, dataset.meta, strict=True)
        ]
        return table_from_raw(self.model, self.compiled, raws, detail)


BACKEND_TYPES: dict[str, type[Backend]] = {
    VectorizedBackend.name: VectorizedBackend,
    ReferenceBackend.name: ReferenceBackend,
}
BACKENDS = tuple(BACKEND_TYPES)


class Evaluator:
    """`evaluate_dataset`'s backend for `model`, built once: `table(dataset)`
    is the results table of a dataset, `evaluation(dataset, table)` the
    `Evaluation`. The batches of one table (`engine.eval.stream`) are
    evaluated one by one with one evaluator: every column is row-local."""

    def __init__(
        self, model: Model, registry=None, backend: str = "vectorized", detail: Detail = True
    ) -> None:
        if detail not in (False, POINTS, True):
            raise ValueError(f"detail must be False, {POINTS!r} or True, not {detail!r}")
        self.model, self.detail = model, detail
        self.functions = registry.functions if registry is not None else None
        self.warnings: list[str] = []
        self.plan = Plan(model)  # the rules both backends share; built once
        try:
            self.impl: Backend = BACKEND_TYPES[backend](model, self.functions, self.plan)
        except VectorUnsupported as exc:
            self.warnings.append(f"using the reference interpreter: {exc}")
            self.impl = ReferenceBackend(model, self.functions, self.plan)

    def table(self, dataset: Dataset, meta_keys: list[str] | None = None) -> pl.DataFrame:
        """The results table of `dataset`, its hierarchy columns `meta_keys`
        (`meta_columns(dataset)` when None)."""
        meta = _meta_frame(dataset, meta_keys)
        # outcomes are `OutcomeEnum` labels from either backend (no relabelling pass)
        # a zero is 0.0 in either backend's table (`positive_zeros`)
        results = positive_zeros(self.impl.results(dataset, self.detail))
        return pl.concat([meta, results], how="horizontal")

    def evaluation(
        self, dataset: Dataset, table: pl.DataFrame, kind: type[Evaluation] | None = None, **more
    ) -> Evaluation:
        """The `Evaluation` of `dataset` whose results are `table` (a `kind`
        of it, given the fields `more`, when given)."""
        impl = self.impl
        return (kind or Evaluation)(
            self.model,
            dataset,
            table,
            impl.name,
            self.functions,
            list(self.warnings),
            impl.compiled,
            self.plan,
            **more,
        )


def evaluate_dataset(
    model: Model,
    dataset: Dataset,
    registry=None,
    backend: str = "vectorized",
    detail: Detail = True,
) -> Evaluation:
    """Evaluate every community of `dataset`; see the module docstring
    (`detail`: False, `POINTS` or True)."""
    evaluator = Evaluator(model, registry, backend, detail)
    return evaluator.evaluation(dataset, evaluator.table(dataset))
