"""The report's data, as `build.build_report` gathers it and every renderer
(xlsx, html, markdown, csv, json) shows it, with what renderers share: the
column headings, the summary rows, percentages and the grade colours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.eval import columns
from zhili.engine.trace.model import fmt_output

GRADE_COLORS = ["2E7D32", "66BB6A", "FBC02D", "FB8C00", "E53935", "8E24AA", "546E7A"]


@dataclass
class Report:
    """Everything a report shows: facts about the run, then one table per section."""

    model: ir.Model
    info: dict[str, Any]  # model/data/engine/run facts
    grades: list[dict[str, Any]]  # grade, count, share, at_least
    targets: list[dict[str, Any]]
    by_district: pl.DataFrame | None
    by_street: pl.DataFrame | None
    communities: pl.DataFrame
    indicators: pl.DataFrame
    failures: pl.DataFrame
    gaps: pl.DataFrame
    problems: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    completeness: Completeness | None = None  # a round's (`--roster`), else None


@dataclass
class Completeness:
    """A round's completeness as the reports show it (`engine.round.summary`
    builds it from the returns read against the roster)."""

    expected: int
    reported: int
    streets: pl.DataFrame  # district, street, expected, reported, rate
    districts: pl.DataFrame  # district, expected, reported, rate
    not_submitted: pl.DataFrame  # district, street, community_id, community, contact
    not_in_roster: pl.DataFrame  # community_id, file, row
    conflicts: pl.DataFrame  # file, row, column, raw, message
    by_file: list[tuple[str, pl.DataFrame]]  # (file, its problems), files in name order

    @property
    def rate(self) -> float:
        return self.reported / self.expected if self.expected else 0.0

    def headline(self) -> str:
        return _("{reported} of {expected} communities reported ({rate})").format(
            reported=self.reported, expected=self.expected, rate=pct(self.rate)
        )


def _column_names(model: ir.Model) -> dict[str, str]:
    names = {
        "community_id": _("community id"),
        "community": _("community"),
        "district": _("district"),
        "street": _("street"),
        "grid": _("grid"),
        "period": _("period"),
        "total": _("total"),
        "grade": _("grade"),
        "vetoes": _("vetoes"),
        "missing": _("missing"),
    }
    for d in model.top_dimensions:
        names[columns.dim_score(d.id)] = d.name
    for o in model.outputs:
        names[columns.output_col(o.id)] = o.name
    return names


def headers(report: Report, frame: pl.DataFrame) -> list[str]:
    """The heading of each of `frame`'s columns, in the report's language."""
    names = _column_names(report.model) | {
        "communities": _("communities"),
        "mean_total": _("mean total"),
        "not_scored": _("not scored"),
        "goal_share": _("share at {grade} or better").format(
            grade=report.targets[0]["grade"]
            if report.targets
            else (report.model.grades[0].name if report.model.grades else "")
        ),
        "indicator": _("indicator"),
        "label": _("name"),
        "dimension": _("dimension"),
        "points": _("points"),
        "pass": ir.Outcome.PASS.text(),
        "partial": ir.Outcome.PARTIAL.text(),
        "fail": ir.Outcome.FAIL.text(),
        "fail_share": _("share failing"),
        "mean_points": _("mean points"),
        "full_when": _("full points when"),
        "method": _("checking method"),
        "scored_by": _("scored by"),
        "failing": _("communities failing"),
        "value": _("value"),
        "threshold": _("threshold"),
        "distance": _("distance to threshold"),
        "max_points": _("max points"),
        "shortfall": _("points short"),
        "outcome": _("outcome"),
        "next_grade": _("next grade"),
        "input": _("input"),
        "current": _("current"),
        "needed": _("needed"),
        "change": _("smallest change"),
        "severity": _("severity"),
        "file": _("file"),
        "sheet": _("sheet"),
        "row": _("row"),
        "column": _("column"),
        "raw": _("raw value"),
        "message": _("message"),
        "expected": _("expected"),
        "reported": _("reported"),
        "rate": _("reporting rate"),
        "contact": _("contact"),
    }
    for d in report.model.top_dimensions:
        names[d.id] = d.name
    return [names.get(c, c) for c in frame.columns]


NOT_SCORED = "—"
"""A total or dimension that was not scored (`missing skip` left nothing in
it), as the markdown, HTML and xlsx reports show it: never 0, never blank."""


def score_columns(report: Report) -> set[str]:
    """The communities table's points columns (total and each dimension)."""
    return {"total"} | {columns.dim_score(d.id) for d in report.model.top_dimensions}


def community_rows(report: Report) -> list[list[Any]]:
    """The communities table's rows, `NOT_SCORED` where a total or dimension
    was not scored."""
    rows = not_scored_rows(report.communities, score_columns(report))
    types = {columns.output_col(o.id): o.type for o in report.model.outputs}
    shown = [(j, types[c]) for j, c in enumerate(report.communities.columns) if c in types]
    for row in rows:
        for j, t in shown:
            # numbers stay numbers (a spreadsheet sorts them); a missing output,
            # a share and yes/no as people read them
            if row[j] is None or t in ("percent", "bool"):
                row[j] = fmt_output(row[j], t)
    return rows


def failure_rows(report: Report) -> list[list[Any]]:
    """The indicator failures' rows: an indicator `missing skip` left out
    has no points (nor points short), `NOT_SCORED`."""
    return not_scored_rows(report.failures, {"points", "shortfall"})


def not_scored_rows(frame: pl.DataFrame, points: set[str]) -> list[list[Any]]:
    """`frame`'s rows, `NOT_SCORED` where one of its `points` columns is null
    (not scored)."""
    scores = [j for j, c in enumerate(frame.columns) if c in points]
    rows = []
    for row in frame.iter_rows():
        row = list(row)
        for j in scores:
            if row[j] is None:
                row[j] = NOT_SCORED
        rows.append(row)
    return rows


def pct(x: float | None) -> str:
    """A share as a percentage with one decimal; None as an empty cell."""
    return "" if x is None else f"{x * 100:.1f}%"


# the columns of the rollup and indicator tables that hold a share (the xlsx
# formats them as 0.0%)
SHARE_COLUMNS = ("goal_share", "fail_share")


def share_rows(frame: pl.DataFrame) -> list[list[Any]]:
    """A table's rows with its share columns as percentages, as the xlsx
    shows them (33.3%, not 0.3333 beside a grade table of 25.0%)."""
    at = [j for j, c in enumerate(frame.columns) if c in SHARE_COLUMNS]
    rows = []
    for row in frame.iter_rows():
        row = list(row)
        for j in at:
            row[j] = pct(row[j])
        rows.append(row)
    return rows


def summary_rows(report: Report) -> list[list[Any]]:
    """The summary table's (item, value) rows: model, data, engine, run."""
    i = report.info
    return [
        [_("model"), f"{i['title']} ({i['model']} {i['version'] or ''})".strip()],
        [_("model content hash"), i["content_hash"]],
        [_("data file"), i["data"]],
        [_("data sha256"), i["data_hash"] or ""],
        [_("communities"), i["communities"]],
        *([[_("communities not scored"), i["not_scored"]]] if i.get("not_scored") else []),
        [_("engine version"), i["engine_version"]],
        [_("created"), i["created_at"]],
        [_("run"), "" if i["run"] is None else i["run"]],
    ]


def completeness_tables(c: Completeness) -> list[tuple[str, pl.DataFrame]]:
    """The completeness section's tables, each with its title, as every
    renderer shows them (empty tables included: "none" is an answer too)."""
    return [
        (_("Reporting by district"), c.districts),
        (_("Reporting by street"), c.streets),
        (_("Not submitted (未上报)"), c.not_submitted),
        (_("Not in the roster"), c.not_in_roster),
        (_("Conflicts (the same community or unit twice)"), c.conflicts),
    ]


def rate_rows(frame: pl.DataFrame) -> list[list[Any]]:
    """`frame`'s rows with its `rate` column as a percentage (text)."""
    at = frame.columns.index("rate") if "rate" in frame.columns else -1
    return [[pct(v) if j == at else v for j, v in enumerate(row)] for row in frame.iter_rows()]
