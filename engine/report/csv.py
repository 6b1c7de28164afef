"""The report as CSV: the communities table, with the report's headings."""

from __future__ import annotations

from zhili.engine.report.model import Report, headers


def render(report: Report) -> str:
    """One row per community (written with a BOM, so Excel reads Chinese)."""
    frame = report.communities
    return frame.rename(dict(zip(frame.columns, headers(report, frame), strict=True))).write_csv()
