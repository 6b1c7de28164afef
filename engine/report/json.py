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
    } | ({} if report.completeness is None else {"completeness": _completeness(report)})


def _completeness(report: Report) -> dict[str, Any]:
    c = report.completeness
    assert c is not None
    return {
        "expected": c.expected,
        "reported": c.reported,
        "rate": c.rate,
        "districts": c.districts.to_dicts(),
        "streets": c.streets.to_dicts(),
        "not_submitted": c.not_submitted.to_dicts(),
        "not_in_roster": c.not_in_roster.to_dicts(),
        "conflicts": c.conflicts.to_dicts(),
        "problems_by_file": [
            {"file": file, "problems": frame.to_dicts()} for file, frame in c.by_file
        ],
    }


def render(report: Report) -> str:
    """The report as indented JSON, Chinese unescaped."""
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)
