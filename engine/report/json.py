"""The report as JSON: every section, as lists of objects."""

from __future__ import annotations

import json
from typing import Any

from zhili.engine.report.model import Report


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain data (what the JSON file holds)."""

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


def render(report: Report) -> str:
    """The report as indented JSON, Chinese unescaped."""
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)
