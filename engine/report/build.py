"""Reports of an evaluation: Excel, HTML, Markdown, CSV, JSON.

`build_report(ev)` gathers, from the results table (Polars), what every
format shows, one function per section: the summary (grade distribution,
shares, progress against the model's targets), roll-ups by district and
street, one row per community (total, grade, each dimension, vetoes,
missing-data count), per indicator (how many communities fail it, which, how
far from its threshold), the gap analysis (the smallest single-input change
that reaches the next grade, for a bounded number of communities) and the
data problems.
`write_report(report, path)` writes the format its suffix names, atomically
(`zhili.engine.io.atomic`: nothing half-written on error), with the renderer
of that format: `xlsx`, `html`, `markdown`, `csv`, `json` beside this module.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.eval import columns
from zhili.engine.functions import pl_snap
from zhili.engine.io.atomic import atomic_write, write_text
from zhili.engine.report import csv, html, json, markdown, xlsx
from zhili.engine.report.json import report_dict  # noqa: F401 - re-exported
from zhili.engine.report.model import GRADE_COLORS, Report  # noqa: F401 - re-exported

GAP_LIMIT = 200  # communities whose smallest changes are searched
# the outcomes of an indicator that did not earn its points
_SHORT_OF_FULL = [o.value for o in (ir.Outcome.FAIL, ir.Outcome.PARTIAL, ir.Outcome.MISSING)]
NO_CHANGES = ("community_id", "community", "grade", "change")
PROBLEM_COLUMNS = {
    "severity": pl.String,
    "file": pl.String,
    "sheet": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "raw": pl.String,
    "message": pl.String,
}


def build_report(
    ev, *, gap_limit: int = GAP_LIMIT, run_id: int | None = None, data_hash: str | None = None
) -> Report:
    """Everything a report shows, from an `Evaluation`."""
    model: ir.Model = ev.model
    t = ev.table
    notes: list[str] = []
    targets = ev.target_progress()
    by_district, by_street = _rollups(t, model, targets)
    indicators, failures = _indicators(t, model)
    return Report(
        model,
        _info(ev, run_id, data_hash),
        _grades(model, ev.grade_counts(), t.height),
        targets,
        by_district,
        by_street,
        _communities(t, model),
        indicators,
        failures,
        _gaps(ev, gap_limit, notes),
        _problems(ev.dataset.problems),
        notes,
    )


def _info(ev, run_id: int | None, data_hash: str | None) -> dict[str, Any]:
    """The facts that make the report reproducible: model, data, engine, run."""
    from zhili.engine import __version__

    model: ir.Model = ev.model
    return {
        "model": model.id,
        "title": model.title or model.id,
        "version": model.version,
        "content_hash": model.content_hash,
        "data": ev.dataset.file,
        "data_hash": data_hash,
        "communities": ev.table.height,
        # communities with no total at all (every dimension not scored)
        "not_scored": ev.table.get_column("total").null_count(),
        "engine_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run": run_id,
    }


def _grades(model: ir.Model, counts, n: int) -> list[dict[str, Any]]:
    """The grade distribution, best grade first, with the share at each grade
    or better; communities without a grade last."""
    grades = []
    at_least = 0
    for g in model.grades:
        c = counts.get(g.name, 0)
        at_least += c
        grades.append(
            {
                "grade": g.name,
                "count": c,
                "share": c / n if n else 0.0,
                "at_least": at_least / n if n else 0.0,
            }
        )
    if counts.get(None):
        grades.append({"grade": _("no grade"), "count": counts[None], "share": counts[None] / n})
    return grades


def _rollups(
    t: pl.DataFrame, model: ir.Model, targets: list[dict[str, Any]]
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Roll-ups by district and by street (None without those columns): counts
    per grade, mean total, and the share at the goal grade (the first
    target's, else the best grade) or better."""
    grade_names = [g.name for g in model.grades]
    goal = targets[0]["grade"] if targets else (grade_names[0] if grade_names else None)
    goal_index = grade_names.index(goal) if goal in grade_names else 0

    def rollup(keys: list[str]) -> pl.DataFrame | None:
        if not all(k in t.columns for k in keys):
            return None
        aggs = [
            pl.len().alias("communities"),
            # the mean of the scored totals; how many were not scored beside it
            pl.col("total").mean().round(2).alias("mean_total"),
            pl.col("total").null_count().alias("not_scored"),
        ]
        aggs += [(pl.col("grade").cast(pl.String) == g).sum().alias(g) for g in grade_names]
        if goal is not None:
            aggs.append(
                ((pl.col("grade_index") <= goal_index).sum() / pl.len())
                .round(4)
                .alias("goal_share")
            )
        return (
            t.with_columns([pl.col(k).fill_null("—") for k in keys])
            .group_by(keys, maintain_order=True)
            .agg(aggs)
            .sort(keys)
        )

    by_district = rollup(["district"])
    by_street = rollup(["district", "street"]) if "district" in t.columns else rollup(["street"])
    return by_district, by_street


def _communities(t: pl.DataFrame, model: ir.Model) -> pl.DataFrame:
    """One row per community: hierarchy, total, grade, dimensions, outputs, vetoes, missing."""
    meta = [
        c for c in ("community_id", "community", "district", "street", "grid") if c in t.columns
    ]
    return t.select(
        *meta,
        # scores as they compare (docs/language.md, "Numbers"): at most 9
        # places, fewer with the model's `precision`; 2 places printed 18 for
        # a total of 17.996 that `total >= 18` refuses
        pl_snap(pl.col("total")),
        pl.col("grade").cast(pl.String),
        *[pl_snap(pl.col(columns.dim_score(d.id))) for d in model.top_dimensions],
        *[
            pl_snap(pl.col(columns.output_col(o.id)))
            if o.type in ("number", "percent")
            else pl.col(columns.output_col(o.id))
            for o in model.outputs
        ],
        pl.col("vetoes"),
        pl.col("missing"),
    )


def _indicators(t: pl.DataFrame, model: ir.Model) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per indicator: outcome counts and who falls short; and one row per
    community and indicator short of full points (bonuses aside)."""
    rows = []
    fail_frames = []
    label_of = _community_label(t)
    for ind in model.indicators:
        oc = columns.ind_outcome(ind.id)
        if oc not in t.columns:
            continue
        short = t.filter(pl.col(oc).cast(pl.String).is_in(_SHORT_OF_FULL))
        rows.append(_indicator_row(t, model, ind, short.select(label_of).to_series().to_list()))
        if short.height and not ind.is_bonus:
            fail_frames.append(_failures(short, ind, label_of))
    _method_columns(rows, model)
    indicators = pl.DataFrame(rows) if rows else pl.DataFrame()
    failures = (
        pl.concat(fail_frames, how="vertical_relaxed")
        if fail_frames
        else pl.DataFrame(schema={"community": pl.String, "indicator": pl.String})
    )
    return indicators, failures


def _method_columns(rows: list[dict[str, Any]], model: ir.Model) -> None:
    """The columns `method` (考核方式) and `scored_by` (评分单位) of the
    indicator rows, each only when some indicator of the model has it."""
    by_id = {ind.id: ind for ind in model.indicators}

    def scored_by(ind: ir.Indicator) -> str:
        return (ind.scoring.by or "") if isinstance(ind.scoring, ir.Score) else ""

    for key, of in (("method", lambda ind: ind.method or ""), ("scored_by", scored_by)):
        if any(of(ind) for ind in model.indicators):
            for row in rows:
                row[key] = of(by_id[row["indicator"]])


def _indicator_row(
    t: pl.DataFrame, model: ir.Model, ind: ir.Indicator, names: list[str]
) -> dict[str, Any]:
    """One indicator's line: outcome counts, share failing, mean points, what
    earns full points, and the first ten communities short of them."""
    n = t.height
    pc, oc = columns.ind_points(ind.id), columns.ind_outcome(ind.id)
    vc_counts = dict(t.get_column(oc).cast(pl.String).value_counts().iter_rows())
    dim = model.dimension(ind.dimension) if ind.dimension else None
    return {
        "indicator": ind.id,
        "label": ind.name,
        "dimension": dim.name if dim else "",
        "points": ind.points,
        "pass": vc_counts.get("pass", 0),
        "partial": vc_counts.get("partial", 0),
        "fail": vc_counts.get("fail", 0),
        "missing": vc_counts.get("missing", 0),
        "fail_share": round((vc_counts.get("fail", 0) + vc_counts.get("partial", 0)) / n, 4)
        if n
        else 0.0,
        # of the communities it was scored in (not scored: null, left out)
        "mean_points": None if (mean := t.get_column(pc).mean()) is None else round(mean, 3),
        "full_when": _full_when(ind),
        "failing": ", ".join(names[:10]) + (" …" if len(names) > 10 else ""),
    }


def _failures(short: pl.DataFrame, ind: ir.Indicator, label_of: pl.Expr) -> pl.DataFrame:
    """The communities short of full points on `ind`: value, threshold, the
    distance to it, points and points short."""
    pc, oc, vc = columns.ind_points(ind.id), columns.ind_outcome(ind.id), columns.ind_value(ind.id)
    threshold, direction = _threshold(ind)
    value = _value_text(short, vc, ind)
    distance = pl.lit(None, dtype=pl.Float64)
    if threshold is not None and vc in short.columns and short.schema[vc].is_numeric():
        distance = ((pl.lit(threshold) - pl.col(vc)) * (1 if direction == ">" else -1)).round(6)
    return short.select(
        *[c for c in ("community_id",) if c in short.columns],
        label_of.alias("community"),
        pl.lit(ind.id).alias("indicator"),
        pl.lit(ind.name).alias("label"),
        value.alias("value"),
        pl.lit(threshold, dtype=pl.Float64).alias("threshold"),
        distance.alias("distance"),
        pl_snap(pl.col(pc)).alias("points"),
        pl.lit(ind.points).alias("max_points"),
        pl_snap(pl.lit(float(ind.points)) - pl.col(pc)).alias("shortfall"),
        pl.col(oc).cast(pl.String).alias("outcome"),
    )


def _value_text(short: pl.DataFrame, vc: str, ind: ir.Indicator) -> pl.Expr:
    """An indicator's value as the explanation prints it: a share as a
    percentage (85%, not 0.85), a whole number without `.0` (18, not 18.0)."""
    if vc not in short.columns:
        return pl.lit(None, dtype=pl.String)
    col = pl.col(vc)
    if not short.schema[vc].is_numeric():
        return col.cast(pl.String)
    value = getattr(ind.scoring, "value", None)
    percent = isinstance(ind.scoring, (ir.Linear, ir.Tiers)) and value.type == "percent"
    if percent:
        col = (col.cast(pl.Float64) * 100).round(7)
    text = col.cast(pl.String).str.replace(r"\.0$", "")
    return text + "%" if percent else text


def _gaps(ev, gap_limit: int, notes: list[str]) -> pl.DataFrame:
    """The gap analysis: the smallest single-input changes to the next grade,
    for at most `gap_limit` communities below the top grade (those closest to
    it; a note in `notes` says so when some are left out)."""
    t = ev.table
    gap_rows: list[dict[str, Any]] = []
    below = t.with_row_index("_i").filter(pl.col("grade_index").fill_null(99) > 0)
    if below.height > gap_limit:
        notes.append(
            _(
                "gap analysis shown for the {k} communities closest to their next grade "
                "of {n} below the top grade"
            ).format(k=gap_limit, n=below.height)
        )
        # closest first; a community not scored (no total) is not close
        below = below.sort("total", descending=True, nulls_last=True).head(gap_limit)
    if gap_limit > 0 and below.height:
        label_of = _community_label(t)
        for i, cid, name in below.select("_i", "community_id", label_of.alias("name")).iter_rows():
            gap_rows += _gap_rows(ev.model, ev.explain_raw(i), cid, name)
    if not gap_rows:
        return pl.DataFrame(schema={c: pl.String for c in NO_CHANGES})
    return pl.DataFrame(gap_rows, schema_overrides={"current": pl.String, "needed": pl.String})


def _gap_rows(model: ir.Model, raw, cid: str, name: str) -> list[dict[str, Any]]:
    """One community's smallest changes (at most three), or one row saying
    that no single input reaches the next grade."""
    from zhili.engine.trace.gap import input_value_text, smallest_changes

    target = model.grades[(raw.grade_index or len(model.grades)) - 1].name
    row = {"community_id": cid, "community": name, "grade": raw.grade, "next_grade": target}
    changes = smallest_changes(raw, limit=3)
    if not changes:
        change = _("no single input reaches it; see zhili explain")
        return [row | {"input": None, "current": None, "needed": None, "change": change}]
    fields = {f.id: f for f in model.inputs}

    def shown(v: Any, id: str) -> str | None:
        if v is None:
            return None
        # as the change's words print it (85%, not 0.85; 280, not 280.0)
        return input_value_text(v, fields[id]) if id in fields else str(v)

    return [
        row
        | {
            "input": item.label or item.id,
            "current": shown(item.current, item.id),
            "needed": shown(item.needed, item.id),
            "change": item.text,
        }
        for item in changes
    ]


def _problems(problems) -> pl.DataFrame:
    """The data problems, one row each, in the order found."""
    return pl.DataFrame(
        [
            {
                "severity": p.severity,
                "file": p.file,
                "sheet": p.sheet,
                "row": p.row,
                "column": p.column,
                "raw": p.raw,
                "message": p.message,
            }
            for p in problems
        ],
        schema=PROBLEM_COLUMNS,
    )


def _community_label(t: pl.DataFrame) -> pl.Expr:
    if "community" in t.columns:
        return pl.coalesce(pl.col("community"), pl.col("community_id"))
    return pl.col("community_id")


def _threshold(ind: ir.Indicator) -> tuple[float | None, str]:
    """The value at which the indicator earns full points, and whether more
    (">") or less ("<") is better, when the model says so plainly."""
    s = ind.scoring
    if isinstance(s, ir.Linear) and isinstance(s.high, ir.Const):
        lo = s.low.value if isinstance(s.low, ir.Const) else None
        hi = s.high.value
        if isinstance(hi, (int, float)) and not isinstance(hi, bool):
            return float(hi), ">" if lo is None or hi >= lo else "<"
    if isinstance(s, ir.Tiers) and s.tiers:
        top = max(s.tiers, key=lambda t: t.points)
        if isinstance(top.threshold, ir.Const):
            v = top.threshold.value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v), ">" if top.op in (">=", ">") else "<"
    return None, ">"


def _full_when(ind: ir.Indicator) -> str:
    s = ind.scoring
    match s:
        case ir.Linear():
            return f"{s.value.text} → {s.high.text}"
        case ir.Tiers() if s.tiers:
            top = max(s.tiers, key=lambda t: t.points)
            if top.threshold is not None:
                return f"{s.value.text} {top.op} {top.threshold.text}"
        case ir.Deduct():
            return f"{s.value.text} == 0"
        case ir.Score():
            return f"{s.value.text} >= {ind.points:g}"
        case ir.Deductions():
            return ", ".join(_cause_full(c) for c in s.causes)
    # pass, bonus: the condition (or the count) itself
    return s.value.text


def _cause_full(c: ir.DeductCause) -> str:
    """When a deduction cause takes nothing."""
    v = c.value.text
    match c.kind:
        case "per":
            return f"{v} == 0"
        case "when":
            return f"not {v}"
        case "below":
            return f"{v} >= {c.threshold.text}"
        case "above":
            return f"{v} <= {c.threshold.text}"
    return v


# ---------------------------------------------------------------- writing


# the text formats (the output's suffix) → (renderer, file encoding); xlsx is a workbook
TEXT_FORMATS: dict[str, tuple[Callable[[Report], str], str]] = {
    "html": (html.render, "utf-8"),
    "md": (markdown.render, "utf-8"),
    "csv": (csv.render, "utf-8-sig"),  # a BOM, so Excel reads Chinese
    "json": (json.render, "utf-8"),
}
FORMATS = ("xlsx", *TEXT_FORMATS)


def write_report(report: Report, path: Path) -> None:
    """Write `report` in the format of `path`'s suffix, atomically."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            _("unsupported report format .{fmt} (use .xlsx, .html, .md, .csv or .json)").format(
                fmt=fmt
            )
        )
    if fmt == "xlsx":
        atomic_write(path, lambda tmp: xlsx.save(report, tmp))
    else:
        render, encoding = TEXT_FORMATS[fmt]
        write_text(path, render(report), encoding)


def render_bytes(report: Report, fmt: str) -> bytes:
    """The report in `fmt` as bytes (for tests and previews; text as UTF-8
    without a BOM)."""
    if fmt == "xlsx":
        buf = io.BytesIO()
        xlsx.workbook(report).save(buf)
        return buf.getvalue()
    render, _encoding = TEXT_FORMATS[fmt]
    return render(report).encode("utf-8")
