"""The report as CSV: the communities table, with the report's headings."""

from __future__ import annotations

from zhili.engine.report import safe
from zhili.engine.report.model import Report, headers


def render(report: Report) -> str:
    """One row per community (written with a BOM, so Excel reads Chinese); text
    cells that a spreadsheet would run as formulas are neutralised."""
    frame = report.communities
    names = safe.csv_header(headers(report, frame))
    return safe.csv_frame(frame.rename(dict(zip(frame.columns, names, strict=True)))).write_csv()
