"""The report as one self-contained HTML file: inline CSS and SVG charts, no
scripts or fonts from elsewhere, readable offline. Every text from the data
or the model is escaped."""

from __future__ import annotations

import html
from typing import Any

from zhili.dsl.i18n import _
from zhili.engine.report.model import (
    GRADE_COLORS,
    Report,
    community_rows,
    completeness_tables,
    failure_rows,
    headers,
    pct,
    rate_rows,
    share_rows,
    summary_rows,
)

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


def render(report: Report) -> str:
    """The report as one self-contained HTML page."""
    colors = _grade_colors(report)
    title = report.info["title"]
    body = [f"<h1>{_e(title)}</h1>"]
    body.append(_html_table([_("item"), _("value")], summary_rows(report)))
    body += _grade_section(report, colors)
    body += _target_section(report)
    body += _completeness_section(report)
    body += _rollup_sections(report)
    body += _community_section(report, colors)
    body += _indicator_section(report)
    for heading, frame, rows in (
        (_("Indicator failures"), report.failures, failure_rows(report)),
        (_("Gap analysis"), report.gaps, report.gaps.iter_rows()),
        (_("Data problems"), report.problems, report.problems.iter_rows()),
    ):
        body.append(f"<h2>{_e(heading)}</h2>")
        body.append(_html_table(headers(report, frame), rows))
    body += _by_file_section(report)
    for n in report.notes:
        body.append(f'<p class="note">{_e(n)}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _grade_colors(report: Report) -> dict[str, str]:
    grades = report.model.grades
    return {g.name: GRADE_COLORS[min(k, len(GRADE_COLORS) - 1)] for k, g in enumerate(grades)}


def _grade_section(report: Report, colors: dict[str, str]) -> list[str]:
    bars = [(g["grade"], g["count"], colors.get(g["grade"], "9E9E9E")) for g in report.grades]
    return [
        f"<h2>{_e(_('Grade distribution'))}</h2>",
        _svg_bars(bars),
        _html_table(
            [_("grade"), _("communities"), _("share"), _("at this grade or better")],
            [
                [g["grade"], g["count"], pct(g["share"]), pct(g.get("at_least"))]
                for g in report.grades
            ],
        ),
    ]


def _target_section(report: Report) -> list[str]:
    if not report.targets:
        return []
    out = [f"<h2>{_e(_('Targets'))}</h2>"]
    for t in report.targets:
        cls = "met" if t["met"] else "unmet"
        out.append(
            f'<p>{_e(t["label"])}: <span class="{cls}">{pct(t["actual"])} / '
            f"{pct(t['target'])} {'✓' if t['met'] else '✗'}</span></p>"
            + _svg_progress(t["actual"], t["target"])
        )
    return out


def _rollup_sections(report: Report) -> list[str]:
    """By district (with a chart of the share at the goal grade), by street."""
    out = []
    if report.by_district is not None:
        out.append(f"<h2>{_e(_('By district'))}</h2>")
        if "goal_share" in report.by_district.columns:
            out.append(
                _svg_bars(
                    [
                        (str(d), round(s * 100, 1), "1976D2")
                        for d, s in report.by_district.select("district", "goal_share").iter_rows()
                    ],
                    "%",
                )
            )
        out.append(_html_table(headers(report, report.by_district), share_rows(report.by_district)))
    if report.by_street is not None:
        out.append(f"<h2>{_e(_('By street'))}</h2>")
        out.append(_html_table(headers(report, report.by_street), share_rows(report.by_street)))
    return out


def _community_section(report: Report, colors: dict[str, str]) -> list[str]:
    """Every community; vetoes, missing data and grades marked."""
    cols = report.communities.columns
    v_at = cols.index("vetoes")
    m_at = cols.index("missing")

    def community_class(j, c, row):
        if j == v_at and c:
            return "veto"
        if j == m_at and c:
            return "missing num"
        return None

    table = _html_table(
        headers(report, report.communities), community_rows(report), community_class
    )
    # colour the grade cells
    for g, color in colors.items():
        table = table.replace(
            f"<td>{_e(g)}</td>",
            f'<td><span class="grade" style="background:#{color}">{_e(g)}</span></td>',
        )
    return [f"<h2>{_e(_('Communities'))}</h2>", table]


def _indicator_section(report: Report) -> list[str]:
    """The indicators, with a chart of the 15 failed most often."""
    out = [f"<h2>{_e(_('Indicators'))}</h2>"]
    if report.indicators.height:
        worst = report.indicators.sort("fail_share", descending=True).head(15)
        out.append(
            _svg_bars(
                [
                    (str(lb), round(s * 100, 1), "E53935")
                    for lb, s in worst.select("label", "fail_share").iter_rows()
                ],
                "%",
            )
        )
        out.append(_html_table(headers(report, report.indicators), share_rows(report.indicators)))
    return out


def _completeness_section(report: Report) -> list[str]:
    """A round's completeness: the rate, per district and street, who has not
    submitted, who is not in the roster, the conflicts."""
    c = report.completeness
    if c is None:
        return []
    out = [
        f'<h2 id="completeness">{_e(_("Completeness"))}</h2>',
        f"<p><strong>{_e(c.headline())}</strong></p>",
        _svg_progress(c.rate, 1.0),
    ]
    for title, frame in completeness_tables(c):
        out.append(f"<h3>{_e(title)}</h3>")
        if frame.height:
            out.append(_html_table(headers(report, frame), rate_rows(frame)))
        else:
            out.append(f'<p class="note">{_e(_("none"))}</p>')
    return out


def _by_file_section(report: Report) -> list[str]:
    """The data problems under the file each is in."""
    c = report.completeness
    if c is None:
        return []
    out = [f'<h2 id="problems-by-file">{_e(_("Problems by file"))}</h2>']
    if not c.by_file:
        out.append(f'<p class="note">{_e(_("none"))}</p>')
    for file, frame in c.by_file:
        out.append(f"<h3>{_e(_('{file}: {n} problems').format(file=file, n=frame.height))}</h3>")
        out.append(_html_table(headers(report, frame), frame.iter_rows()))
    return out
