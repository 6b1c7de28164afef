"""The report as an Excel workbook: a summary sheet (with the grade chart and
the targets), then one sheet per table; the communities sheet is coloured by
total, dimension, grade, vetoes and missing data.

openpyxl is imported inside the functions: importing the report package
must stay cheap for the commands that write no workbook.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from zhili.dsl.i18n import _
from zhili.engine.eval import columns
from zhili.engine.report import safe
from zhili.engine.report.model import (
    GRADE_COLORS,
    Report,
    community_rows,
    completeness_tables,
    failure_rows,
    headers,
    summary_rows,
)


def save(report: Report, path: Path) -> None:
    """Write the workbook to `path` (the caller makes the write atomic)."""
    workbook(report).save(path)


def workbook(report: Report):
    """The report as an `openpyxl.Workbook`."""
    from openpyxl import Workbook

    wb = Workbook()
    _summary_sheet(wb.active, report)
    _table_sheet(wb, report, _("By district"), report.by_district, ("goal_share",))
    _table_sheet(wb, report, _("By street"), report.by_street, ("goal_share",))
    cs = _table_sheet(wb, report, _("Communities"), report.communities, rows=community_rows(report))
    if cs is not None and report.communities.height:
        _colour_communities(cs, report)
    _table_sheet(wb, report, _("Indicators"), report.indicators, ("fail_share",))
    _table_sheet(wb, report, _("Indicator failures"), report.failures, rows=failure_rows(report))
    _table_sheet(wb, report, _("Gap analysis"), report.gaps)
    _table_sheet(wb, report, _("Data problems"), report.problems)
    if report.completeness is not None:
        _completeness_sheet(wb.create_sheet(_("Completeness")[:31], 1), report)
        _by_file_sheet(wb.create_sheet(_("Problems by file")[:31]), report)
    return wb


def _heading(ws, text: str, size: int = 12) -> None:
    from openpyxl.styles import Font

    safe.append_row(ws, [text])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=size)


def _rows_under_headings(ws, report: Report, frame: pl.DataFrame) -> None:
    """`frame` below the current row: bold headings, its rows, a `rate` as a percentage."""
    from openpyxl.styles import Font

    safe.append_row(ws, headers(report, frame))
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    rate = frame.columns.index("rate") + 1 if "rate" in frame.columns else 0
    for row in frame.iter_rows():
        safe.append_row(ws, list(row))
        if rate:
            ws.cell(row=ws.max_row, column=rate).number_format = "0.0%"
    if not frame.height:
        safe.append_row(ws, [_("none")])


def _completeness_sheet(ws, report: Report) -> None:
    """A round's completeness: the rate of the whole round, per district and
    street, who has not submitted, who is not in the roster, the conflicts."""
    c = report.completeness
    assert c is not None
    _heading(ws, _("Completeness"), 14)
    safe.append_row(ws, [c.headline()])
    for title, frame in completeness_tables(c):
        safe.append_row(ws, [])
        _heading(ws, title)
        _rows_under_headings(ws, report, frame)
    for col, width in zip("ABCDE", (18, 18, 14, 18, 40), strict=True):
        ws.column_dimensions[col].width = width


def _by_file_sheet(ws, report: Report) -> None:
    """The data problems under the file each is in."""
    c = report.completeness
    assert c is not None
    _heading(ws, _("Problems by file"), 14)
    if not c.by_file:
        safe.append_row(ws, [_("none")])
    for file, frame in c.by_file:
        safe.append_row(ws, [])
        _heading(ws, _("{file}: {n} problems").format(file=file, n=frame.height))
        _rows_under_headings(ws, report, frame)
    for col, width in zip("ABCDEF", (10, 10, 8, 22, 20, 70), strict=True):
        ws.column_dimensions[col].width = width


def _summary_sheet(ws, report: Report) -> None:
    from openpyxl.styles import Font

    ws.title = _("Summary")[:31]
    safe.append_row(ws, [report.info["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    for r in summary_rows(report):
        safe.append_row(ws, r)
    safe.append_row(ws, [])
    _grade_table(ws, report)
    safe.append_row(ws, [])
    if report.targets:
        _target_table(ws, report)
    problems = report.problems.filter(pl.col("severity") != "info").height
    safe.append_row(ws, [])
    safe.append_row(ws, [_("data problems"), problems])
    for note in report.notes:
        safe.append_row(ws, [note])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 40


def _grade_table(ws, report: Report) -> None:
    """The grade distribution, with a bar chart beside it."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    safe.append_row(ws, [_("grade"), _("communities"), _("share"), _("at this grade or better")])
    head = ws.max_row
    for c in ws[head]:
        c.font = Font(bold=True)
    for g in report.grades:
        safe.append_row(ws, [g["grade"], g["count"], g["share"], g.get("at_least")])
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


def _target_table(ws, report: Report) -> None:
    from openpyxl.styles import Font

    safe.append_row(ws, [_("target"), _("grade"), _("target share"), _("actual share"), _("met")])
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for t in report.targets:
        safe.append_row(
            ws,
            [
                t["label"],
                t["grade"],
                t["target"],
                t["actual"],
                _("yes") if t["met"] else _("no"),
            ],
        )
        ws.cell(row=ws.max_row, column=3).number_format = "0%"
        ws.cell(row=ws.max_row, column=4).number_format = "0.0%"
        ws.cell(row=ws.max_row, column=5).font = Font(
            bold=True, color="2E7D32" if t["met"] else "C62828"
        )


def _table_sheet(
    wb,
    report: Report,
    title: str,
    frame: pl.DataFrame | None,
    percent: tuple[str, ...] = (),
    rows: list[list] | None = None,
):
    """A sheet holding `frame` under bold headings, filterable; None for a
    table the data has no columns for (no districts, say)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if frame is None:
        return None
    sheet = wb.create_sheet(title[:31])
    safe.append_row(sheet, headers(report, frame))
    for c in sheet[1]:
        c.font = Font(bold=True)
    for row in frame.iter_rows() if rows is None else rows:
        safe.append_row(sheet, list(row))
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


def _colour_communities(cs, report: Report) -> None:
    """Colour scales for the total and each dimension, a fill per grade, and
    marks on vetoes and missing data."""
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    n = report.communities.height + 1
    cols = report.communities.columns

    def column(name: str) -> str:
        return get_column_letter(cols.index(name) + 1)

    letter = column("total")
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
        lt = column(columns.dim_score(d.id))
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
    gl = column("grade")
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
    vl = column("vetoes")
    cs.conditional_formatting.add(
        f"{vl}2:{vl}{n}",
        FormulaRule(formula=[f"LEN({vl}2)>0"], fill=PatternFill("solid", fgColor="FFCDD2")),
    )
    ml = column("missing")
    cs.conditional_formatting.add(
        f"{ml}2:{ml}{n}",
        CellIsRule(
            operator="greaterThan", formula=["0"], fill=PatternFill("solid", fgColor="FFF59D")
        ),
    )
