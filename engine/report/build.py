"""Reports of an evaluation: Excel, HTML, Markdown, CSV, JSON.

`build_report(ev)` gathers, from the results table (Polars), what every
format shows: the summary (grade distribution, shares, progress against the
model's targets), roll-ups by district and street, one row per community
(total, grade, each dimension, vetoes, missing-data count), per indicator
(how many communities fail it, which, how far from its threshold), the gap
analysis (the smallest single-input change that reaches the next grade, for
a bounded number of communities) and the data problems.
`write_report(report, path)` writes the format its suffix names, atomically
(a temporary file renamed into place; nothing half-written on error).

The HTML report is one self-contained file (inline CSS and SVG charts, no
scripts or fonts from elsewhere), readable offline.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.eval import columns

FORMATS = ("xlsx", "html", "md", "csv", "json")
# the outcomes of an indicator that did not earn its points
_SHORT_OF_FULL = [o.value for o in (ir.Outcome.FAIL, ir.Outcome.PARTIAL, ir.Outcome.MISSING)]
GAP_LIMIT = 200  # communities whose smallest changes are searched
GRADE_COLORS = ["2E7D32", "66BB6A", "FBC02D", "FB8C00", "E53935", "8E24AA", "546E7A"]


@dataclass
class Report:
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


def _col_names(model: ir.Model) -> dict[str, str]:
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
    return names


def build_report(
    ev, *, gap_limit: int = GAP_LIMIT, run_id: int | None = None, data_hash: str | None = None
) -> Report:
    """Everything a report shows, from an `Evaluation`."""
    from zhili.engine import __version__

    model: ir.Model = ev.model
    t = ev.table
    n = t.height
    notes: list[str] = []
    info = {
        "model": model.id,
        "title": model.title or model.id,
        "version": model.version,
        "content_hash": model.content_hash,
        "data": ev.dataset.file,
        "data_hash": data_hash,
        "communities": n,
        "engine_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run": run_id,
    }
    # grade distribution
    counts = ev.grade_counts()
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
    targets = ev.target_progress()

    # roll-ups
    grade_names = [g.name for g in model.grades]
    goal = targets[0]["grade"] if targets else (grade_names[0] if grade_names else None)
    goal_index = grade_names.index(goal) if goal in grade_names else 0

    def rollup(keys: list[str]) -> pl.DataFrame | None:
        if not all(k in t.columns for k in keys):
            return None
        aggs = [
            pl.len().alias("communities"),
            pl.col("total").mean().round(2).alias("mean_total"),
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

    # communities
    meta = [
        c for c in ("community_id", "community", "district", "street", "grid") if c in t.columns
    ]
    communities = t.select(
        *meta,
        pl.col("total").round(2),
        pl.col("grade").cast(pl.String),
        *[pl.col(columns.dim_score(d.id)).round(2) for d in model.top_dimensions],
        pl.col("vetoes"),
        pl.col("missing"),
    )

    # per indicator
    rows = []
    fail_frames = []
    label_of = _community_label(t)
    for ind in model.indicators:
        pc, oc, vc = (
            columns.ind_points(ind.id),
            columns.ind_outcome(ind.id),
            columns.ind_value(ind.id),
        )
        if oc not in t.columns:
            continue
        outcome = t.get_column(oc).cast(pl.String)
        vc_counts = dict(outcome.value_counts().iter_rows())
        short = t.filter(pl.col(oc).cast(pl.String).is_in(_SHORT_OF_FULL))
        threshold, direction = _threshold(ind)
        dim = model.dimension(ind.dimension) if ind.dimension else None
        names = short.select(label_of).to_series().to_list()
        rows.append(
            {
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
                "mean_points": round(float(t.get_column(pc).mean() or 0.0), 3),
                "full_when": _full_when(ind),
                "failing": ", ".join(names[:10]) + (" …" if len(names) > 10 else ""),
            }
        )
        if short.height and not ind.is_bonus:
            value = (
                pl.col(vc).cast(pl.String) if vc in short.columns else pl.lit(None, dtype=pl.String)
            )
            distance = pl.lit(None, dtype=pl.Float64)
            if threshold is not None and vc in short.columns and short.schema[vc].is_numeric():
                distance = (
                    (pl.lit(threshold) - pl.col(vc)) * (1 if direction == ">" else -1)
                ).round(6)
            fail_frames.append(
                short.select(
                    *[c for c in ("community_id",) if c in short.columns],
                    label_of.alias("community"),
                    pl.lit(ind.id).alias("indicator"),
                    pl.lit(ind.name).alias("label"),
                    value.alias("value"),
                    pl.lit(threshold, dtype=pl.Float64).alias("threshold"),
                    distance.alias("distance"),
                    pl.col(pc).round(3).alias("points"),
                    pl.lit(ind.points).alias("max_points"),
                    (pl.lit(ind.points) - pl.col(pc)).round(3).alias("shortfall"),
                    pl.col(oc).cast(pl.String).alias("outcome"),
                )
            )
    indicators = pl.DataFrame(rows) if rows else pl.DataFrame()
    failures = (
        pl.concat(fail_frames, how="vertical_relaxed")
        if fail_frames
        else pl.DataFrame(schema={"community": pl.String, "indicator": pl.String})
    )

    # gap analysis: smallest single-input changes, for a bounded number
    gap_rows = []
    below = t.with_row_index("_i").filter(pl.col("grade_index").fill_null(99) > 0)
    if below.height > gap_limit:
        notes.append(
            _(
                "gap analysis shown for the {k} communities closest to their next grade "
                "of {n} below the top grade"
            ).format(k=gap_limit, n=below.height)
        )
        below = below.sort("total", descending=True).head(gap_limit)
    if gap_limit > 0 and below.height:
        from zhili.engine.trace.gap import smallest_changes

        for i, cid, name in below.select("_i", "community_id", label_of.alias("name")).iter_rows():
            raw = ev.explain_raw(i)
            target = model.grades[(raw.grade_index or len(model.grades)) - 1].name
            changes = smallest_changes(raw, limit=3)
            if not changes:
                gap_rows.append(
                    {
                        "community_id": cid,
                        "community": name,
                        "grade": raw.grade,
                        "next_grade": target,
                        "input": None,
                        "current": None,
                        "needed": None,
                        "change": _("no single input reaches it; see zhili explain"),
                    }
                )
            for item in changes:
                gap_rows.append(
                    {
                        "community_id": cid,
                        "community": name,
                        "grade": raw.grade,
                        "next_grade": target,
                        "input": item.label or item.id,
                        "current": None if item.current is None else str(item.current),
                        "needed": None if item.needed is None else str(item.needed),
                        "change": item.text,
                    }
                )
    gaps = (
        pl.DataFrame(gap_rows, schema_overrides={"current": pl.String, "needed": pl.String})
        if gap_rows
        else pl.DataFrame(
            schema={c: pl.String for c in ("community_id", "community", "grade", "change")}
        )
    )
    problems = pl.DataFrame(
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
            for p in ev.dataset.problems
        ],
        schema={
            "severity": pl.String,
            "file": pl.String,
            "sheet": pl.String,
            "row": pl.Int64,
            "column": pl.String,
            "raw": pl.String,
            "message": pl.String,
        },
    )
    return Report(
        model,
        info,
        grades,
        targets,
        by_district,
        by_street,
        communities,
        indicators,
        failures,
        gaps,
        problems,
        notes,
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
    # pass, bonus: the condition (or the count) itself
    return s.value.text


# ---------------------------------------------------------------- writing


def write_report(report: Report, path: Path) -> None:
    """Write `report` in the format of `path`'s suffix, atomically."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            _("unsupported report format .{fmt} (use .xlsx, .html, .md, .csv or .json)").format(
                fmt=fmt
            )
        )
    tmp = path.with_name(f".{path.name}.zhili-tmp")
    try:
        if fmt == "xlsx":
            _xlsx(report).save(tmp)
        elif fmt == "csv":
            tmp.write_text(_csv(report), encoding="utf-8-sig")
        elif fmt == "json":
            tmp.write_text(
                json.dumps(report_dict(report), ensure_ascii=False, indent=2), encoding="utf-8"
            )
        elif fmt == "md":
            tmp.write_text(_markdown(report), encoding="utf-8")
        else:
            tmp.write_text(_html(report), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _headers(report: Report, frame: pl.DataFrame) -> list[str]:
    names = _col_names(report.model) | {
        "communities": _("communities"),
        "mean_total": _("mean total"),
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
    }
    for d in report.model.top_dimensions:
        names[d.id] = d.name
    return [names.get(c, c) for c in frame.columns]


def report_dict(report: Report) -> dict[str, Any]:
    def rows(frame):
        return frame.to_dicts() if frame is not None else []

    return {
        "info": report.info,
        "grades": report.grades,
        "targets": report.targets,
        "by_district": rows(report.by_district),
        "by_street": rows(report.by_street),
        "communities": rows(report.communities),
        "indicators": rows(report.indicators),
        "indicator_failures": rows(report.failures),
        "gaps": rows(report.gaps),
        "data_problems": rows(report.problems),
        "notes": report.notes,
    }


def _csv(report: Report) -> str:
    frame = report.communities
    return frame.rename(dict(zip(frame.columns, _headers(report, frame), strict=True))).write_csv()


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f}%"


def _summary_rows(report: Report) -> list[list[Any]]:
    i = report.info
    return [
        [_("model"), f"{i['title']} ({i['model']} {i['version'] or ''})".strip()],
        [_("model content hash"), i["content_hash"]],
        [_("data file"), i["data"]],
        [_("data sha256"), i["data_hash"] or ""],
        [_("communities"), i["communities"]],
        [_("engine version"), i["engine_version"]],
        [_("created"), i["created_at"]],
        [_("run"), "" if i["run"] is None else i["run"]],
    ]


# ------------------------------------------------------------ Excel


def _xlsx(report: Report):
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    bold = Font(bold=True)
    ws = wb.active
    ws.title = _("Summary")[:31]
    ws.append([report.info["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    for r in _summary_rows(report):
        ws.append(r)
    ws.append([])
    ws.append([_("grade"), _("communities"), _("share"), _("at this grade or better")])
    head = ws.max_row
    for c in ws[head]:
        c.font = bold
    for g in report.grades:
        ws.append([g["grade"], g["count"], g["share"], g.get("at_least")])
        ws.cell(row=ws.max_row, column=3).number_format = "0.0%"
        ws.cell(row=ws.max_row, column=4).number_format = "0.0%"
    last = ws.max_row
    if report.grades:
        chart = BarChart()
        chart.title = _("Grade distribution")
        chart.y_axis.title = _("communities")
        chart.add_data(Reference(ws, min_col=2, min_row=head, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        chart.height, chart.width = 7, 14
        ws.add_chart(chart, f"F{head}")
    ws.append([])
    if report.targets:
        ws.append([_("target"), _("grade"), _("target share"), _("actual share"), _("met")])
        for c in ws[ws.max_row]:
            c.font = bold
        for t in report.targets:
            ws.append(
                [
                    t["label"],
                    t["grade"],
                    t["target"],
                    t["actual"],
                    _("yes") if t["met"] else _("no"),
                ]
            )
            ws.cell(row=ws.max_row, column=3).number_format = "0%"
            ws.cell(row=ws.max_row, column=4).number_format = "0.0%"
            ws.cell(row=ws.max_row, column=5).font = Font(
                bold=True, color="2E7D32" if t["met"] else "C62828"
            )
    problems = report.problems.filter(pl.col("severity") != "info").height
    ws.append([])
    ws.append([_("data problems"), problems])
    for note in report.notes:
        ws.append([note])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 40

    def table(title: str, frame: pl.DataFrame | None, percent: tuple[str, ...] = ()):
        if frame is None:
            return None
        sheet = wb.create_sheet(title[:31])
        sheet.append(_headers(report, frame))
        for c in sheet[1]:
            c.font = bold
        for row in frame.iter_rows():
            sheet.append(list(row))
        for j, name in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            sheet.column_dimensions[letter].width = 14 if name not in ("failing", "change") else 60
            if name in percent:
                for cell in sheet[letter][1:]:
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "A2"
        if frame.height:
            sheet.auto_filter.ref = sheet.dimensions
        return sheet

    table(_("By district"), report.by_district, ("goal_share",))
    table(_("By street"), report.by_street, ("goal_share",))
    cs = table(_("Communities"), report.communities)
    if cs is not None and report.communities.height:
        n = report.communities.height + 1
        cols = report.communities.columns
        j_total = cols.index("total") + 1
        letter = get_column_letter(j_total)
        cs.conditional_formatting.add(
            f"{letter}2:{letter}{n}",
            ColorScaleRule(
                start_type="min",
                start_color="F8696B",
                mid_type="percentile",
                mid_value=50,
                mid_color="FFEB84",
                end_type="max",
                end_color="63BE7B",
            ),
        )
        for d in report.model.top_dimensions:
            j = cols.index(columns.dim_score(d.id)) + 1
            lt = get_column_letter(j)
            cs.conditional_formatting.add(
                f"{lt}2:{lt}{n}",
                ColorScaleRule(
                    start_type="num",
                    start_value=0,
                    start_color="F8696B",
                    end_type="num",
                    end_value=d.points,
                    end_color="63BE7B",
                ),
            )
        gl = get_column_letter(cols.index("grade") + 1)
        for k, g in enumerate(report.model.grades):
            color = GRADE_COLORS[min(k, len(GRADE_COLORS) - 1)]
            cs.conditional_formatting.add(
                f"{gl}2:{gl}{n}",
                CellIsRule(
                    operator="equal",
                    formula=[f'"{g.name}"'],
                    fill=PatternFill("solid", fgColor=color),
                    font=Font(color="FFFFFF", bold=True),
                ),
            )
        vl = get_column_letter(cols.index("vetoes") + 1)
        cs.conditional_formatting.add(
            f"{vl}2:{vl}{n}",
            FormulaRule(formula=[f"LEN({vl}2)>0"], fill=PatternFill("solid", fgColor="FFCDD2")),
        )
        ml = get_column_letter(cols.index("missing") + 1)
        cs.conditional_formatting.add(
            f"{ml}2:{ml}{n}",
            CellIsRule(
                operator="greaterThan", formula=["0"], fill=PatternFill("solid", fgColor="FFF59D")
            ),
        )
    table(_("Indicators"), report.indicators, ("fail_share",))
    table(_("Indicator failures"), report.failures)
    table(_("Gap analysis"), report.gaps)
    table(_("Data problems"), report.problems)
    return wb


# ------------------------------------------------------------ Markdown


def _md_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        v = f"{v:.4g}" if abs(v) < 1e6 else f"{v:.0f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in headers) + " |"]
    out.append("|" + "---|" * len(headers))
    for r in rows:
        out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    return out


def _markdown(report: Report) -> str:
    out = [f"# {report.info['title']}", ""]
    out += _md_table([_("item"), _("value")], _summary_rows(report))
    out += ["", f"## {_('Grade distribution')}", ""]
    out += _md_table(
        [_("grade"), _("communities"), _("share"), _("at this grade or better")],
        [
            [g["grade"], g["count"], _pct(g["share"]), _pct(g.get("at_least"))]
            for g in report.grades
        ],
    )
    if report.targets:
        out += ["", f"## {_('Targets')}", ""]
        out += _md_table(
            [_("target"), _("grade"), _("target share"), _("actual share"), _("met")],
            [
                [
                    t["label"],
                    t["grade"],
                    _pct(t["target"]),
                    _pct(t["actual"]),
                    "✓" if t["met"] else "✗",
                ]
                for t in report.targets
            ],
        )
    for title, frame in (
        (_("By district"), report.by_district),
        (_("By street"), report.by_street),
        (_("Communities"), report.communities),
        (_("Indicators"), report.indicators),
        (_("Gap analysis"), report.gaps),
        (_("Data problems"), report.problems),
    ):
        if frame is None:
            continue
        out += ["", f"## {title}", ""]
        out += _md_table(_headers(report, frame), frame.iter_rows())
    if report.notes:
        out += [""] + [f"> {n}" for n in report.notes]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------ HTML

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:2px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.met{color:#2e7d32;font-weight:bold}.unmet{color:#c62828;font-weight:bold}
.veto{background:#ffcdd2}.missing{background:#fff59d}
.grade{color:#fff;font-weight:bold;border-radius:3px;padding:0 .4em}
.note{color:#555;font-style:italic}
@media print{th{position:static}}
"""


def _e(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        v = f"{v:.4g}" if abs(v) < 1e6 else f"{v:.0f}"
    return html.escape(str(v))


def _html_table(headers: list[str], rows, classes=None) -> str:
    out = ["<table><thead><tr>"]
    out += [f"<th>{_e(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for j, c in enumerate(r):
            cls = classes(j, c, r) if classes else None
            if cls is None and isinstance(c, (int, float)) and not isinstance(c, bool):
                cls = "num"
            out.append(f'<td class="{cls}">{_e(c)}</td>' if cls else f"<td>{_e(c)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _svg_bars(items: list[tuple[str, float, str]], unit: str = "") -> str:
    """A horizontal bar chart as inline SVG: (label, value, colour)."""
    if not items:
        return ""
    top = max(v for _, v, _ in items) or 1
    row_h, label_w, bar_w = 26, 140, 360
    h = row_h * len(items) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{h}" '
        f'role="img" font-size="13">'
    ]
    for k, (label, v, color) in enumerate(items):
        y = 5 + k * row_h
        w = max(1.0, bar_w * v / top) if v else 0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="#{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{html.escape(_e(v))}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_progress(actual: float, target: float) -> str:
    w = 360
    a = max(0.0, min(1.0, actual)) * w
    t = max(0.0, min(1.0, target)) * w
    color = "2E7D32" if actual >= target - 1e-12 else "E53935"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w + 80}" height="30" role="img" font-size="12">'
        f'<rect x="0" y="6" width="{w}" height="16" fill="#eee"/>'
        f'<rect x="0" y="6" width="{a:.1f}" height="16" fill="#{color}"/>'
        f'<line x1="{t:.1f}" x2="{t:.1f}" y1="2" y2="26" stroke="#000" stroke-width="2"/>'
        f'<text x="{w + 6}" y="19">{actual * 100:.1f}%</text></svg>'
    )


def _html(report: Report) -> str:
    model = report.model
    colors = {
        g.name: GRADE_COLORS[min(k, len(GRADE_COLORS) - 1)] for k, g in enumerate(model.grades)
    }
    i = report.info
    body = [f"<h1>{_e(i['title'])}</h1>"]
    body.append(_html_table([_("item"), _("value")], _summary_rows(report)))
    body.append(f"<h2>{_e(_('Grade distribution'))}</h2>")
    body.append(
        _svg_bars(
            [(g["grade"], g["count"], colors.get(g["grade"], "9E9E9E")) for g in report.grades]
        )
    )
    body.append(
        _html_table(
            [_("grade"), _("communities"), _("share"), _("at this grade or better")],
            [
                [g["grade"], g["count"], _pct(g["share"]), _pct(g.get("at_least"))]
                for g in report.grades
            ],
        )
    )
    if report.targets:
        body.append(f"<h2>{_e(_('Targets'))}</h2>")
        for t in report.targets:
            cls = "met" if t["met"] else "unmet"
            body.append(
                f'<p>{_e(t["label"])}: <span class="{cls}">{_pct(t["actual"])} / '
                f"{_pct(t['target'])} {'✓' if t['met'] else '✗'}</span></p>"
                + _svg_progress(t["actual"], t["target"])
            )
    if report.by_district is not None:
        body.append(f"<h2>{_e(_('By district'))}</h2>")
        if "goal_share" in report.by_district.columns:
            body.append(
                _svg_bars(
                    [
                        (str(d), round(s * 100, 1), "1976D2")
                        for d, s in report.by_district.select("district", "goal_share").iter_rows()
                    ],
                    "%",
                )
            )
        body.append(
            _html_table(_headers(report, report.by_district), report.by_district.iter_rows())
        )
    if report.by_street is not None:
        body.append(f"<h2>{_e(_('By street'))}</h2>")
        body.append(_html_table(_headers(report, report.by_street), report.by_street.iter_rows()))
    cols = report.communities.columns
    v_at = cols.index("vetoes")
    m_at = cols.index("missing")

    def community_class(j, c, row):
        if j == v_at and c:
            return "veto"
        if j == m_at and c:
            return "missing num"
        return None

    body.append(f"<h2>{_e(_('Communities'))}</h2>")
    table = _html_table(
        _headers(report, report.communities), report.communities.iter_rows(), community_class
    )
    # colour the grade cells
    for g, color in colors.items():
        table = table.replace(
            f"<td>{_e(g)}</td>",
            f'<td><span class="grade" style="background:#{color}">{_e(g)}</span></td>',
        )
    body.append(table)
    body.append(f"<h2>{_e(_('Indicators'))}</h2>")
    if report.indicators.height:
        worst = report.indicators.sort("fail_share", descending=True).head(15)
        body.append(
            _svg_bars(
                [
                    (str(lb), round(s * 100, 1), "E53935")
                    for lb, s in worst.select("label", "fail_share").iter_rows()
                ],
                "%",
            )
        )
        body.append(_html_table(_headers(report, report.indicators), report.indicators.iter_rows()))
    body.append(f"<h2>{_e(_('Indicator failures'))}</h2>")
    body.append(_html_table(_headers(report, report.failures), report.failures.iter_rows()))
    body.append(f"<h2>{_e(_('Gap analysis'))}</h2>")
    body.append(_html_table(_headers(report, report.gaps), report.gaps.iter_rows()))
    body.append(f"<h2>{_e(_('Data problems'))}</h2>")
    body.append(_html_table(_headers(report, report.problems), report.problems.iter_rows()))
    for n in report.notes:
        body.append(f'<p class="note">{_e(n)}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(i['title'])}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def render_bytes(report: Report, fmt: str) -> bytes:
    """The report in `fmt` as bytes (for tests and previews)."""
    if fmt == "xlsx":
        buf = io.BytesIO()
        _xlsx(report).save(buf)
        return buf.getvalue()
    text = {
        "csv": _csv,
        "md": _markdown,
        "html": _html,
        "json": lambda r: json.dumps(report_dict(r), ensure_ascii=False, indent=2),
    }[fmt](report)
    return text.encode("utf-8")
