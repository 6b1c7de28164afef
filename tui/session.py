"""What the app shows: a model, its evaluation, and the view filters.

Presentation state only: every number comes from the engine's `Evaluation`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from zhili.engine.eval import columns
from zhili.engine.eval.evaluate import META_COLUMNS, Evaluation
from zhili.engine.functions import pl_snap
from zhili.engine.plugins import LoadedModel
from zhili.tui.labels import t
from zhili.tui.pinyin import INITIALS, initials_pattern, is_initials_query, with_initials


class OtherError(Exception):
    """The other side of a comparison cannot be loaded (a message for the person)."""


@dataclass(frozen=True)
class Other:
    """What this evaluation is compared with: another data file (evaluated
    with the same model) or a recorded run (its stored results)."""

    label: str
    table: pl.DataFrame  # community_id, community, district, street, grade, total


def load_other(lm: LoadedModel, ref: str, registry: Any = None) -> Other:
    """`ref`: a data file, else a recorded run (an id such as 12 or #12,
    `latest`, `previous`, `latest~N`) of the run store."""
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io import data as data_mod

    path = Path(ref).expanduser()
    if path.exists():
        try:
            ev = evaluate_dataset(lm.model, data_mod.load(path, lm.model), registry)
        except data_mod.DataError as exc:
            raise OtherError(str(exc)) from None
        except OSError as exc:
            raise OtherError(f"{path}: {exc.strerror or exc}") from None
        return Other(str(path), ev.table)
    try:
        from zhili.engine.runs.store import RunStore, RunStoreError
    except ImportError:  # a zhili without the run store
        raise OtherError(t("no such file: {path}").format(path=ref)) from None
    try:
        with RunStore(migrate=False) as store:
            info = store.resolve(ref)
            results = store.results(info.id, detail=False) if info is not None else None
    except (RunStoreError, OSError, sqlite3.Error) as exc:
        raise OtherError(
            t("no such file, and the run store cannot be read: {path} ({err})").format(
                path=ref, err=exc
            )
        ) from None
    if info is None:
        raise OtherError(t("no such file or recorded run: {ref}").format(ref=ref))
    if info.model_id != lm.model.id:
        raise OtherError(
            t("run #{run} is of model {other}, not {model}").format(
                run=info.id, other=info.model_id, model=lm.model.id
            )
        )
    label = t("run #{run} ({time}, {data})").format(
        run=info.id, time=info.created_at[:16], data=info.data_path
    )
    return Other(label, results)


@dataclass
class Session:
    lm: LoadedModel
    ev: Evaluation
    registry: Any = None
    district: str | None = None
    street: str | None = None
    other: Other | None = None  # what it is compared with
    _base: pl.DataFrame | None = field(default=None, repr=False)
    _initials_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _problems: pl.DataFrame | None = field(default=None, repr=False)
    round: Any = None  # a round's returns read against its roster (`RoundData`), or None
    _round_frames: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def model(self):
        return self.lm.model

    @property
    def base(self) -> pl.DataFrame:
        """The communities' summary: one row per community, `idx` = row of
        the evaluation."""
        if self._base is None:
            t = self.ev.table
            top = self.model.top_dimensions
            cols = [pl.int_range(0, t.height, dtype=pl.Int64).alias("idx")]
            for c in ("community_id", "community", "district", "street", "row"):
                cols.append(pl.col(c) if c in t.columns else pl.lit(None, pl.String).alias(c))
            cols += [
                pl_snap(pl.col("total")),  # as grades compare it (docs/language.md, "Numbers")
                pl.col("grade").cast(pl.String),
                pl.col("grade_index"),
            ]
            cols += [pl_snap(pl.col(columns.dim_score(d.id))) for d in top]
            cols += [pl.col(columns.output_col(o.id)) for o in self.model.outputs]
            cols += [pl.col("vetoes"), pl.col("missing")]
            self._base = t.select(cols)
        return self._base

    def ensure_initials(self) -> None:
        """Add the names' pinyin initials to `base` (once; the app does it
        in a thread after the first screen, a search waits if it must)."""
        with self._initials_lock:
            base = self.base
            if INITIALS not in base.columns:
                self._base = with_initials(base)

    def matches(self, query: str) -> pl.Expr:
        """Communities whose name or id contains `query` (ids ignore case),
        or, for a query of letters, whose names' pinyin initials do."""
        q = query.strip()
        expr = pl.col("community").str.contains(q, literal=True) | pl.col(
            "community_id"
        ).str.contains(f"(?i){re.escape(q)}")
        if is_initials_query(q):
            self.ensure_initials()
            expr = expr | pl.col(INITIALS).str.contains(initials_pattern(q))
        return expr

    def filtered(self) -> pl.DataFrame:
        return self.in_filter(self.base)

    def districts(self) -> list[str]:
        found = set(self.base.get_column("district").unique().to_list())
        if self.round is not None:  # a round's: the roster's, reported or not
            found |= {c.district for c in self.round.roster.communities}
        return sorted(x for x in found if x)

    def streets(self) -> list[str]:
        f = self.base
        if self.district:
            f = f.filter(pl.col("district") == self.district)
        found = set(f.get_column("street").unique().to_list())
        if self.round is not None:
            found |= {
                c.street
                for c in self.round.roster.communities
                if not self.district or c.district == self.district
            }
        return sorted(x for x in found if x)

    def explain(self, index: int):
        """The interpreter's full result for one community (the engine's
        `explain_raw`). Until the dataset's per-record view exists (building
        it takes seconds for 100,000 communities) the one record is taken
        from the dataset's frame, laid out as `Dataset` documents it."""
        ev = self.ev
        ds = ev.dataset
        if ds._records is not None:
            return ev.explain_raw(index)
        ids = list(ds.columns)
        frame = ds.frame
        values = frame.select([pl.col(f"in.{i}") for i in ids]).row(index) if ids else ()
        record = dict(zip(ids, values, strict=True))
        meta_keys = [c for c in META_COLUMNS if c in frame.columns]
        meta = frame.select(meta_keys).row(index, named=True) if meta_keys else {}
        return ev.compiled.evaluate(record, meta)

    def problems(self) -> list:
        """The data problems (all of them: the filters do not apply)."""
        return [p for p in self.ev.dataset.problems if p.severity != "info"]

    def problems_frame(self) -> pl.DataFrame:
        """The data problems in the district/street filter: those on rows of
        communities in it, and those on no row (the file's own)."""
        if self._problems is None:
            self._problems = self._problems_table()
        frame = self._problems
        if self.district or self.street:
            rows = self.filtered().get_column("row").drop_nulls()
            frame = frame.filter(pl.col("row").is_null() | pl.col("row").is_in(rows.implode()))
        return frame

    def _problems_table(self) -> pl.DataFrame:
        probs = self.problems()
        return pl.DataFrame(
            {
                "file": [Path(p.file).name for p in probs],
                "row": [p.row for p in probs],
                "column": [p.column for p in probs],
                "raw": [p.raw for p in probs],
                "message": [p.message for p in probs],
                "severity": [p.severity for p in probs],
            },
            schema={
                "file": pl.String,
                "row": pl.Int64,
                "column": pl.String,
                "raw": pl.String,
                "message": pl.String,
                "severity": pl.String,
            },
        )

    def in_filter(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of `frame` (with district/street columns) in the filter."""
        if self.district and "district" in frame.columns:
            frame = frame.filter(pl.col("district") == self.district)
        if self.street and "street" in frame.columns:
            frame = frame.filter(pl.col("street") == self.street)
        return frame

    def index_of_line(self, line: int | None, file: str | None = None) -> int | None:
        """The evaluation row of a data-file line (as data problems give it;
        of `file`, by name, when the data are several files)."""
        if line is None:
            return None
        frame = self.ev.dataset.frame
        if file and "source_file" in frame.columns:
            hits = (
                frame.with_row_index("__i")
                .filter((pl.col("source_file") == file) & (pl.col("row") == line))
                .get_column("__i")
            )
            return int(hits[0]) if len(hits) else None
        hits = self.base.filter(pl.col("row") == line).get_column("idx")
        return int(hits[0]) if len(hits) else None

    # ------------------------------------------------------------ a round

    def not_submitted_frame(self) -> pl.DataFrame:
        """The roster's communities without data (未上报) as rows of `base`:
        no evaluation row (`idx` null), no scores, the grade column saying
        so; with the district/street filter."""
        if "missing" not in self._round_frames:
            base = self.base
            rows = self.round.not_submitted() if self.round is not None else []
            data = {
                "community_id": [c.id for c in rows],
                "community": [c.name for c in rows],
                "district": [c.district for c in rows],
                "street": [c.street for c in rows],
            }
            frame = pl.DataFrame(data, schema={k: pl.String for k in data})
            frame = frame.select(
                [
                    pl.col(c) if c in data else pl.lit(None, base.schema[c]).alias(c)
                    for c in base.columns
                    if c != INITIALS
                ]
            )
            self._round_frames["missing"] = frame
        frame = self._round_frames["missing"]
        if INITIALS in self.base.columns and INITIALS not in frame.columns:
            frame = self._round_frames["missing"] = with_initials(frame)  # a search needs them
        return self.in_filter(frame.with_columns(pl.lit(t("not submitted")).alias("grade")))

    def contact_of(self, community_id: str | None) -> str:
        """The roster's contact of a community ("" when none)."""
        if self.round is None or community_id is None:
            return ""
        return next((c.contact for c in self.round.roster.communities if c.id == community_id), "")

    def with_problems(self) -> pl.Expr:
        """`base` rows (evaluation rows) of communities with a data problem
        at their row of their file."""
        if "problems" not in self._round_frames:
            ds = self.ev.dataset
            at = {(Path(p.file).name, p.row) for p in self.problems() if p.row is not None}
            frame = ds.frame
            if "source_file" in frame.columns:
                keys = frame.select("source_file", "row").iter_rows()
                marks = [(Path(f or "").name, r) in at for f, r in keys]
            else:
                name = Path(ds.file).name
                marks = [(name, r) in at for r in frame.get_column("row").to_list()]
            idx = [i for i, m in enumerate(marks) if m]
            self._round_frames["problems"] = pl.DataFrame({"idx": idx}, schema={"idx": pl.Int64})
        return pl.col("idx").is_in(self._round_frames["problems"].get_column("idx").implode())

    def completeness(self) -> tuple[int, int, list[tuple[str, int, int]]]:
        """The round's reporting in the district/street filter: expected,
        reported, and (street, expected, reported) per street."""
        if self.round is None:
            return 0, 0, []
        streets, _districts = self.round.rates()
        shown = [
            r
            for r in streets
            if (not self.district or r.district == self.district)
            and (not self.street or r.street == self.street)
        ]
        expected = sum(r.expected for r in shown)
        reported = sum(r.reported for r in shown)
        return expected, reported, [(r.street or "", r.expected, r.reported) for r in shown]
