"""Per-community results stored columnar: Parquet bytes inside the run database.

A run recorded since schema 5 (`runs.storage` 'parquet', since schema 6
'parquet-scaled') keeps its results in `result_parts`, not in `results`: the
results frame, typed as the evaluation computed it, cut into parts of at
most `PART_CELLS` cells (SQLite's blob limit is 1 GB), each written as one
Parquet file straight from the frame (no Python loop per community). Each
part records its row count and the sha256 of its bytes; reading checks both,
and the sum against the run's count, so a damaged database is an error
naming the file, never a shorter or different run.

The columns of a part: `community_id`, `community`, `district`, `street`,
`grid`, `period`, `row`, `total`, `grade`, `vetoes`, `missing`, `file`,
`sheet`, then `dim:<id>` per dimension score, `points:<id>` and
`outcome:<id>` per indicator (nulls kept: a dimension or indicator not scored
stays null), and `out:<id>` per output (`output ID = …`, typed as the
evaluation computed it; runs recorded before outputs have none). Readers get
the frame every run store reader knows (`store.RunStore.results`):
dimensions, indicators and outputs as JSON text, built with Polars
expressions, exactly as for older runs (whose `outputs` is `{}`).

Since schema 6 a part keeps each Float64 column that is exactly k / 10**p
for integers k of a narrow span (points, scores and totals of a model that
publishes a few places) as those integers, with p in the part's metadata
(`scaled_part`): a third of the CPU to write, and read back bit for bit.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterator

import numpy as np
import polars as pl

from zhili.dsl.model import Outcome
from zhili.engine.eval import columns
from zhili.engine.functions import pl_snap

STORAGE = "parquet"
# runs recorded since schema 6: parts whose numbers are scaled integers where
# that is exact (`scaled_part`)
STORAGE_SCALED = "parquet-scaled"
STORAGES = (STORAGE, STORAGE_SCALED)
SCALED_META = "zhili.scaled"  # a part's key-value metadata: see `scaled_part`
SCALED_SPAN = 65_535  # integers this close are dictionary-encoded by Polars' writer
MAX_PLACES = 9  # numbers are snapped to 9 places
SCALED_PROBE = 4_096  # values tried first for each number of places
# cells per part (≤ 8 bytes each, far below SQLite's 1 GB blob limit): a part
# is encoded while the output is written, and what encoding it holds is what
# recording adds to the peak (1M communities of 137 columns: 3 parts of 50M
# cells rose it by 500 MB, 18 parts of 8M by 40 MB, for the same CPU)
PART_CELLS = 8_000_000
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1  # half the size of snappy for a little more time

OUTCOMES = pl.Enum([o.value for o in Outcome])
# `runs diff`: points closer than this have not moved (runs recorded before
# numbers were 9-place decimals differ from new ones in the last places)
POINTS_TOLERANCE = 1e-6

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


def output_store_col(output_id: str) -> str:
    return f"out:{output_id}"


OUTPUT_PREFIX = "out:"


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
    exprs += [
        pl.col(columns.output_col(o.id)).alias(output_store_col(o.id)) for o in ev.model.outputs
    ]
    return t.select(exprs)


def outputs_json(frame: pl.DataFrame) -> pl.Expr:
    """The stored outputs (`out:<id>` columns) as one JSON object text per
    community, `{}` for a run without outputs."""
    names = [c for c in frame.columns if c.startswith(OUTPUT_PREFIX)]
    if not names:
        return pl.lit("{}").alias("outputs")
    fields = [pl.col(c).alias(c[len(OUTPUT_PREFIX) :]) for c in names]
    return pl.struct(fields).struct.json_encode().alias("outputs")


def parts(frame: pl.DataFrame) -> list[tuple[int, str, bytes]]:
    """`frame` as Parquet parts: (rows, sha256, bytes) each."""
    return list(iter_parts(frame))


def iter_parts(frame: pl.DataFrame) -> Iterator[tuple[int, str, bytes]]:
    """`parts(frame)`, one part at a time, its numbers stored as scaled
    integers where that is exact (`scaled_part`)."""
    step = max(1, PART_CELLS // max(1, frame.width))
    for start in range(0, max(frame.height, 1), step):
        chunk, meta = scaled_part(frame.slice(start, step))
        buf = io.BytesIO()
        chunk.write_parquet(
            buf,
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            statistics=False,
            metadata={SCALED_META: meta},
        )
        data = buf.getvalue()
        del buf
        yield chunk.height, hashlib.sha256(data).hexdigest(), data


def _unscaled(k: pl.Series, places: int) -> pl.Series:
    """Stored integers `k` back as the numbers k / 10**places (Float64, nulls
    kept)."""
    return _with_nulls(pl.Series(k.name, _divide(k.fill_null(0).to_numpy(), places)), k)


def _divide(k: np.ndarray, places: int) -> np.ndarray:
    """Integers `k` (below 2**52: exact as floats) divided by 10**places, as
    floats. The division is numpy's, IEEE's correctly rounded one: Polars
    divides a column by a constant as a product with its reciprocal, which
    is one bit off for many values (1858 / 100 → 18.580000000000002)."""
    return k / (10.0**places)


def _with_nulls(values: pl.Series, like: pl.Series) -> pl.Series:
    """`values` with nulls where `like` has them."""
    if not like.null_count():
        return values
    nulls = pl.select(pl.when(pl.lit(like).is_null()).then(None).otherwise(pl.lit(values)))
    return nulls.to_series().alias(values.name)


def _exact_scale(x: np.ndarray, places: int) -> np.ndarray | None:
    """round(x * 10**places) as integers, when `_divide` gives every value of
    `x` back from them to the bit (a -0.0 does not come back)."""
    k = np.rint(x * (10.0**places) if places else x).astype(np.int64)
    return k if np.array_equal(_divide(k, places).view(np.int64), x.view(np.int64)) else None


def _scaled(x: pl.Series) -> tuple[pl.Series, int] | None:
    """Float64 `x` as integers k and places p with x == k / 10**p to the bit
    for every value (`_unscaled`), the fewest places that do, when the
    integers span at most `SCALED_SPAN`; else None (e.g. a -0.0, a value of
    more places, a number too wide)."""
    values = (x.fill_null(0.0) if x.null_count() else x).to_numpy()  # 0 is exact at any scale
    if not len(values):
        return None
    lo, hi = float(values.min()), float(values.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):  # a NaN is the min and the max
        return None
    for places in range(MAX_PLACES + 1):
        scale = 10.0**places
        if (hi - lo) * scale > SCALED_SPAN or max(abs(lo), abs(hi)) * scale > 2**52:
            return None
        if _exact_scale(values[:SCALED_PROBE], places) is None:
            continue  # a first look at a few values: fewer places do not do
        k = _exact_scale(values, places)
        if k is not None:
            return _with_nulls(pl.Series(x.name, k), x), places
    return None


def scaled_part(frame: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """`frame` as a part of storage `STORAGE_SCALED` stores it, and the part's
    `SCALED_META` text ({column: places}). Each Float64 column that `_scaled`
    turns into integers of a narrow span is stored as those integers:
    Polars' Parquet writer gives such integers a dictionary of their values
    and packs each cell in a few bits, about a third of the CPU of encoding
    and compressing the floats (points, scores and totals were most of
    recording's CPU). `decode_part` gives the numbers back, bit for bit."""
    places: dict[str, int] = {}
    columns = []
    for name, dtype in frame.schema.items():
        column = frame.get_column(name)
        found = _scaled(column) if dtype == pl.Float64 else None
        if found is not None:
            column, places[name] = found
        columns.append(column.alias(name))
    return pl.DataFrame(columns), json.dumps(places, ensure_ascii=False)


def decode_part(data: bytes, names: list[str] | None) -> pl.DataFrame:
    """A stored part's frame (only the columns `names`, when given): a part of
    storage `STORAGE_SCALED` with its numbers unscaled (`scaled_part`), a part
    of `STORAGE` as it was written."""
    frame = pl.read_parquet(io.BytesIO(data), columns=names)
    meta = pl.read_parquet_metadata(io.BytesIO(data)).get(SCALED_META)
    if meta is None:
        return frame
    places = json.loads(meta)
    return frame.with_columns(
        _unscaled(frame.get_column(name), p) for name, p in places.items() if name in frame.columns
    )


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
            frame = decode_part(data, names)
        except (pl.exceptions.PolarsError, ValueError, KeyError, TypeError) as exc:
            raise DamagedPart(part, str(exc)) from None
        if frame.height != rows:
            raise DamagedPart(part, "rows")
        frames.append(frame)
    return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]


def number_text(x: pl.Expr) -> pl.Expr:
    """A float as short JSON number text: 10.0 → `10`, 5.5 → `5.5`, null → ``."""
    return pl_snap(x).cast(pl.String).str.strip_suffix(".0").fill_null("")


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
        pl_snap(pl.col("total")),
        pl.col("grade").cast(pl.String),
        pl.col("vetoes").cast(pl.String),
        pl.col("missing").cast(pl.Int64),
    ]
    if detail:
        exprs += [
            json_text(dims, "dimensions"),
            json_text(inds, "indicators"),
            outputs_json(frame),
        ]
    exprs += [pl.col("file").cast(pl.String), pl.col("sheet").cast(pl.String)]
    return frame.select(exprs).sort(["row", "community_id"], nulls_last=False)


def in_reader_order(keys: pl.DataFrame) -> bool:
    """Whether stored rows (`row`, `community_id`) already stand in the
    order `reader_frame` sorts them in (a run of one file does)."""
    if keys.height < 2:
        return True
    ordered = keys.with_row_index("__i").sort(
        ["row", "community_id"], nulls_last=False, maintain_order=True
    )
    return bool((ordered.get_column("__i").diff().drop_nulls() == 1).all())


def typed_names(indicator_ids: list[str]) -> list[str]:
    """The stored columns `typed_frame` needs."""
    names = ["community_id", "community", "total", "grade"]
    for iid in indicator_ids:
        names += [points_col(iid), outcome_col(iid)]
    return names


def typed_frame(frame: pl.DataFrame, indicator_ids: list[str]) -> pl.DataFrame:
    """The stored parts as `runs diff` compares them: the summary, and per
    indicator its points (rounded as the JSON form prints them) and outcome
    (an enum: one byte a cell)."""
    exprs = [
        pl.col("community_id").cast(pl.String),
        pl.col("community").cast(pl.String),
        pl_snap(pl.col("total")),
        pl.col("grade").cast(pl.String),
    ]
    for iid in indicator_ids:
        exprs.append(pl_snap(pl.col(points_col(iid))))
        outcome = pl.col(outcome_col(iid))
        if frame.schema[outcome_col(iid)] != OUTCOMES:
            outcome = outcome.cast(pl.String).cast(OUTCOMES)
        exprs.append(outcome)
    return frame.select(exprs)


def _same_points(pa: pl.Series, oa: pl.Series, pb: pl.Series, ob: pl.Series) -> pl.Series:
    """Whether an indicator's points did not move: equal, within
    POINTS_TOLERANCE (runs recorded before numbers were 9-place decimals
    differ from new ones in the last places), or missing on both sides (0
    points stored by the old code and null, not scored, say the same)."""
    both_missing = (oa.cast(pl.String) == "missing") & (ob.cast(pl.String) == "missing")
    close = ((pa - pb).abs() <= POINTS_TOLERANCE).fill_null(False)
    zero = both_missing & pa.fill_null(0).eq(pb.fill_null(0))
    return (pa.eq_missing(pb) | close | zero).fill_null(False)


def diff_frames(
    ta: pl.DataFrame,
    tb: pl.DataFrame,
    ids: tuple[list[str], list[str]],
    grades_order: dict[str, int],
    limit: int,
) -> dict:
    """`store.diff_runs` of two columnar runs, column by column (a million
    communities in seconds, two columns at a time beside the frames): the
    grade changes, the first `limit` indicator moves by (community id,
    indicator), added, removed, unchanged and total moves."""
    ids_a, ids_b = ids
    ka, kb = ta.get_column("community_id"), tb.get_column("community_id")
    added = kb.filter(~kb.is_in(ka.implode())).sort().to_list()
    removed = ka.filter(~ka.is_in(kb.implode())).sort().to_list()
    index = pl.int_range(pl.len(), dtype=pl.UInt32)
    keys = ta.select("community_id", index.alias("ia")).join(
        tb.select("community_id", index.alias("ib")), on="community_id", how="inner"
    )
    ia, ib = keys.get_column("ia"), keys.get_column("ib")
    n = keys.height
    base = pl.DataFrame(
        {
            "community_id": keys.get_column("community_id"),
            "community": ta.get_column("community").gather(ia),
            "grade": ta.get_column("grade").gather(ia),
            "grade_b": tb.get_column("grade").gather(ib),
            "total": ta.get_column("total").gather(ia),
            "total_b": tb.get_column("total").gather(ib),
        }
    )
    name = base.select(
        pl.when(pl.col("community").is_null() | (pl.col("community") == ""))
        .then(pl.col("community_id"))
        .otherwise(pl.col("community"))
    ).to_series()

    def side(t: pl.DataFrame, idx: pl.Series, iid: str, ids_: list[str]):
        if iid not in ids_:
            return (
                pl.repeat(None, n, dtype=pl.Float64, eager=True),
                pl.repeat(None, n, dtype=OUTCOMES, eager=True),
            )
        return t.get_column(points_col(iid)).gather(idx), t.get_column(outcome_col(iid)).gather(idx)

    any_moved = pl.repeat(False, n, eager=True)
    moves = []
    for iid in sorted(set(ids_a) | set(ids_b)):
        (pa, oa), (pb, ob) = side(ta, ia, iid, ids_a), side(tb, ib, iid, ids_b)
        m = ~_same_points(pa, oa, pb, ob) | oa.ne_missing(ob)
        any_moved = any_moved | m
        if m.any():
            moves.append(
                pl.DataFrame(
                    {
                        "community_id": base.get_column("community_id").filter(m),
                        "community": name.filter(m),
                        "indicator": pl.repeat(iid, int(m.sum()), eager=True),
                        "points_a": pa.filter(m),
                        "points_b": pb.filter(m),
                        "outcome_a": oa.filter(m).cast(pl.String),
                        "outcome_b": ob.filter(m).cast(pl.String),
                    }
                )
            )
    grade_changed = base.get_column("grade").ne_missing(base.get_column("grade_b"))
    totals = base.get_column("total").fill_null(0) - base.get_column("total_b").fill_null(0)
    changes = []
    for r in base.filter(grade_changed).sort("community_id").iter_rows(named=True):
        ga, gb = grades_order.get(r["grade"]), grades_order.get(r["grade_b"])
        changes.append(
            {
                "community_id": r["community_id"],
                "community": r["community"] or r["community_id"],
                "from": r["grade"],
                "to": r["grade_b"],
                "total_a": r["total"],
                "total_b": r["total_b"],
                "better": None if ga is None or gb is None else gb < ga,
            }
        )
    first = (
        pl.concat(moves).sort(["community_id", "indicator"]).head(limit).to_dicts() if moves else []
    )
    return {
        "grade_changes": changes,
        "indicator_moves": first,
        "added": added,
        "removed": removed,
        "unchanged": int((~any_moved & ~grade_changed).sum()),
        "total_moves": int((totals.abs() > POINTS_TOLERANCE).sum()),
    }
