"""The report as Markdown: the summary, the grade distribution, the targets,
then one table per section (cells escaped so that data cannot break a table)."""

from __future__ import annotations

from typing import Any

from zhili.dsl.i18n import _
from zhili.engine.report import safe
from zhili.engine.report.model import (
    Report,
    community_rows,
    completeness_tables,
    headers,
    pct,
    rate_rows,
    share_rows,
    summary_rows,
)


def _md_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        v = f"{v:.4g}" if abs(v) < 1e6 else f"{v:.0f}"
        return v
    if isinstance(v, (int, bool)):
        return str(v)
    return safe.md_text(v)


def _md_table(headers: list[str], rows) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in headers) + " |"]
    out.append("|" + "---|" * len(headers))
    for r in rows:
        out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    return out


def render(report: Report) -> str:
    """The report as Markdown: a heading and a table per section."""
    out = [f"# {safe.md_text(report.info['title'])}", ""]
    out += _md_table([_("item"), _("value")], summary_rows(report))
    out += ["", f"## {_('Grade distribution')}", ""]
    out += _md_table(
        [_("grade"), _("communities"), _("share"), _("at this grade or better")],
        [[g["grade"], g["count"], pct(g["share"]), pct(g.get("at_least"))] for g in report.grades],
    )
    if report.targets:
        out += ["", f"## {_('Targets')}", ""]
        out += _md_table(
            [_("target"), _("grade"), _("target share"), _("actual share"), _("met")],
            [
                [
                    t["label"],
                    t["grade"],
                    pct(t["target"]),
                    pct(t["actual"]),
                    "✓" if t["met"] else "✗",
                ]
                for t in report.targets
            ],
        )
    out += _completeness(report)
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
        rows = community_rows(report) if frame is report.communities else share_rows(frame)
        out += _md_table(headers(report, frame), rows)
    out += _by_file(report)
    if report.notes:
        out += [""] + [f"> {safe.md_text(n)}" for n in report.notes]
    return "\n".join(out) + "\n"


def _completeness(report: Report) -> list[str]:
    """A round's completeness: the rate, per district and street, who has not
    submitted, who is not in the roster, the conflicts."""
    c = report.completeness
    if c is None:
        return []
    out = ["", f"## {_('Completeness')}", "", f"**{safe.md_text(c.headline())}**"]
    for title, frame in completeness_tables(c):
        out += ["", f"### {safe.md_text(title)}", ""]
        out += _md_table(headers(report, frame), rate_rows(frame)) if frame.height else [_("none")]
    return out


def _by_file(report: Report) -> list[str]:
    """The data problems under the file each is in."""
    c = report.completeness
    if c is None:
        return []
    out = ["", f"## {_('Problems by file')}"]
    if not c.by_file:
        out += ["", _("none")]
    for file, frame in c.by_file:
        title = _("{file}: {n} problems").format(file=file, n=frame.height)
        out += ["", f"### {safe.md_text(title)}", ""]
        out += _md_table(headers(report, frame), frame.iter_rows())
    return out
