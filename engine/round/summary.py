"""A round's completeness as the reports show it (`report.model.Completeness`):
the reporting rate per district and street, the communities not submitted
(with their contact), the communities no roster lists, the conflicts (a
community in two returns, a unit returned twice) and the data problems
grouped by the file they are in."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from zhili.dsl import codes
from zhili.engine.report.model import Completeness
from zhili.engine.round.returns import RoundData

PROBLEM_SCHEMA = {
    "severity": pl.String,
    "sheet": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "raw": pl.String,
    "message": pl.String,
}
CONFLICT_SCHEMA = {
    "file": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "raw": pl.String,
    "message": pl.String,
}


def completeness(rd: RoundData) -> Completeness:
    """The completeness section of the reports of `rd`."""
    streets, districts = rd.rates()
    return Completeness(
        expected=len(rd.roster.communities),
        reported=len(rd.reported),
        streets=pl.DataFrame(
            [[r.district, r.street, r.expected, r.reported, r.rate] for r in streets],
            schema={
                "district": pl.String,
                "street": pl.String,
                "expected": pl.Int64,
                "reported": pl.Int64,
                "rate": pl.Float64,
            },
            orient="row",
        ),
        districts=pl.DataFrame(
            [[r.district, r.expected, r.reported, r.rate] for r in districts],
            schema={
                "district": pl.String,
                "expected": pl.Int64,
                "reported": pl.Int64,
                "rate": pl.Float64,
            },
            orient="row",
        ),
        not_submitted=pl.DataFrame(
            [[c.district, c.street, c.id, c.name, c.contact] for c in rd.not_submitted()],
            schema={
                "district": pl.String,
                "street": pl.String,
                "community_id": pl.String,
                "community": pl.String,
                "contact": pl.String,
            },
            orient="row",
        ),
        not_in_roster=pl.DataFrame(
            [[cid, Path(f).name, row] for cid, f, row in rd.not_in_roster],
            schema={"community_id": pl.String, "file": pl.String, "row": pl.Int64},
            orient="row",
        ),
        conflicts=_conflicts(rd),
        by_file=_by_file(rd),
    )


def _text(v) -> str | None:
    return None if v is None else str(v)


def _conflicts(rd: RoundData) -> pl.DataFrame:
    """A community in two returns (its later row, naming the first) and the
    returns replaced by a newer one of the same unit."""
    rows = [
        [Path(p.file).name, p.row, p.column, _text(p.raw), p.message]
        for p in rd.problems
        if p.code in (codes.DATA_DUPLICATE_ID.code, codes.ROUND_SUPERSEDED.code)
    ]
    return pl.DataFrame(rows, schema=CONFLICT_SCHEMA, orient="row")


def _by_file(rd: RoundData) -> list[tuple[str, pl.DataFrame]]:
    """Every problem but the notes, under the file it is in, files in name order."""
    groups: dict[str, list[list]] = {}
    for p in rd.problems:
        if p.severity == "info":
            continue
        groups.setdefault(p.file, []).append(
            [p.severity, p.sheet, p.row, p.column, _text(p.raw), p.message]
        )
    return [
        (Path(f).name, pl.DataFrame(rows, schema=PROBLEM_SCHEMA, orient="row"))
        for f, rows in sorted(groups.items(), key=lambda kv: (Path(kv[0]).name, kv[0]))
    ]
