"""Per-community results stored columnar: Parquet bytes inside the run database.

A run recorded by schema 5 (`runs.storage = 'parquet'`) keeps its results in
`result_parts`, not in `results`: the results frame, typed as the evaluation
computed it, cut into parts of at most `PART_CELLS` cells (SQLite's blob
limit is 1 GB), each written as one Parquet file straight from the frame (no
Python loop per community). Each part records its row count and the sha256 of
its bytes; reading checks both, and the sum against the run's count, so a
damaged database is an error naming the file, never a shorter or different run.

The columns of a part: `community_id`, `community`, `district`, `street`,
`grid`, `period`, `row`, `total`, `grade`, `vetoes`, `missing`, `file`,
`sheet`, then `dim:<id>` per dimension score, `points:<id>` and
`outcome:<id>` per indicator (nulls kept: a dimension or indicator not scored
stays null). Readers get the frame every run store reader knows
(`store.RunStore.results`): dimensions and indicators as JSON text, built with
Polars expressions, exactly as for older runs.
"""

from __future__ import annotations

import hashlib
import io
import json

import polars as pl

from zhili.engine.eval import columns

STORAGE = "parquet"
PART_CELLS = 50_000_000  # cells per part: ≤ 8 bytes each, far below SQLite's 1 GB blob limit
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1  # half the size of snappy for a little more time

META = (
    ("community_id", pl.String),
    ("community", pl.String),
    ("district", pl.String),
    ("street", pl.String),
    ("grid", pl.String),
    ("period", pl.String),
    ("row", pl.Int64),
)


class DamagedPart(Exception):
    """A stored part whose bytes or row count do not match what was recorded."""


def dim_col(dim_id: str) -> str:
    return f"dim:{dim_id}"


def points_col(ind_id: str) -> str:
    return f"points:{ind_id}"


def outcome_col(ind_id: str) -> str:
    return f"outcome:{ind_id}"


def results_frame(ev, indicator_ids: list[str]) -> pl.DataFrame:
    """The evaluation's results as stored: typed columns, selected from the
    results table (no copy of the numbers)."""
    t = ev.table

    def col(name: str, dtype, alias: str | None = None) -> pl.Expr:
        expr = pl.col(name).cast(dtype) if name in t.columns else pl.lit(None, dtype=dtype)
        return expr.alias(alias or name)

    exprs = [col(name, dtype) for name, dtype in META]
    exprs += [
        pl.col(columns.TOTAL),
        pl.col(columns.GRADE),
        pl.col(columns.VETOES),
        pl.col(columns.MISSING).cast(pl.Int64),
        col("source_file", pl.String, "file"),
        col("source_sheet", pl.String, "sheet"),
    ]
    exprs += [pl.col(columns.dim_score(d.id)).alias(dim_col(d.id)) for d in ev.model.dimensions]
    for iid in indicator_ids:
        exprs.append(pl.col(columns.ind_points(iid)).alias(points_col(iid)))
        exprs.append(pl.col(columns.ind_outcome(iid)).alias(outcome_col(iid)))
    return t.select(exprs)


def parts(frame: pl.DataFrame) -> list[tuple[int, str, bytes]]:
    """`frame` as Parquet parts: (rows, sha256, bytes) each."""
    step = max(1, PART_CELLS // max(1, frame.width))
    out = []
    for start in range(0, max(frame.height, 1), step):
        chunk = frame.slice(start, step)
        buf = io.BytesIO()
        chunk.write_parquet(
            buf, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL, statistics=False
        )
        data = buf.getvalue()
        out.append((chunk.height, hashlib.sha256(data).hexdigest(), data))
    return out


SUMMARY = [name for name, _dtype in META] + ["total", "grade", "vetoes", "missing", "file", "sheet"]


def read_parts(
    stored: list[tuple[int, int, str, bytes]], names: list[str] | None = None
) -> pl.DataFrame:
    """The frame of a run's parts, given as (part, rows, sha256, bytes) in
    part order (only the columns `names`, when given); raises `DamagedPart`
    naming the part that fails its checks."""
    frames = []
    for part, rows, sha, data in stored:
        if data is None or hashlib.sha256(data).hexdigest() != sha:
            raise DamagedPart(part, "sha256")
        try:
            frame = pl.read_parquet(io.BytesIO(data), columns=names)
        except pl.exceptions.PolarsError as exc:
            raise DamagedPart(part, str(exc)) from None
        if frame.height != rows:
            raise DamagedPart(part, "rows")
        frames.append(frame)
    return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]


def number_text(x: pl.Expr) -> pl.Expr:
    """A float as short JSON number text: 10.0 → `10`, 5.5 → `5.5`, null → ``."""
    return x.cast(pl.Float64).round(9).cast(pl.String).str.strip_suffix(".0").fill_null("")


def _or_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text == "").then(pl.lit("null")).otherwise(text)


def reader_frame(
    frame: pl.DataFrame, indicator_ids: list[str] | None, dimension_ids: list[str] | None
) -> pl.DataFrame:
    """The stored parts as every reader sees a run (see `store.RunStore.results`);
    with ids None, without the `dimensions` and `indicators` JSON columns."""
    detail = indicator_ids is not None and dimension_ids is not None
    indicator_ids, dimension_ids = indicator_ids or [], dimension_ids or []

    def key(i: str, k: int) -> pl.Expr:
        return pl.lit(("{" if k == 0 else ",") + json.dumps(i, ensure_ascii=False) + ":")

    dims: list[pl.Expr] = []
    for k, did in enumerate(dimension_ids):
        dims += [key(did, k), _or_null(number_text(pl.col(dim_col(did))))]
    inds: list[pl.Expr] = []
    for k, iid in enumerate(indicator_ids):
        inds += [
            key(iid, k),
            pl.lit("["),
            _or_null(number_text(pl.col(points_col(iid)))),
            pl.lit(',"'),
            pl.col(outcome_col(iid)).cast(pl.String).fill_null(""),
            pl.lit('"]'),
        ]

    def json_text(parts_: list[pl.Expr], name: str) -> pl.Expr:
        return (pl.concat_str([*parts_, pl.lit("}")]) if parts_ else pl.lit("{}")).alias(name)

    exprs = [
        *(pl.col(name).cast(dtype) for name, dtype in META),
        pl.col("total").cast(pl.Float64).round(9),
        pl.col("grade").cast(pl.String),
        pl.col("vetoes").cast(pl.String),
        pl.col("missing").cast(pl.Int64),
    ]
    if detail:
        exprs += [json_text(dims, "dimensions"), json_text(inds, "indicators")]
    exprs += [pl.col("file").cast(pl.String), pl.col("sheet").cast(pl.String)]
    return frame.select(exprs).sort(["row", "community_id"], nulls_last=False)
