"""Diagnostics: one type for every problem in a model file, and its renderings.

A diagnostic has a stable code, a severity, a message, a span and notes
(help lines). Codes are stable across releases; messages are translated.
Rendering follows rustc/ruff: `severity[code]: file:line:col: message`, the
source line, and a caret under the span (CJK characters count two cells).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from zhili.dsl.ast import Span

MAX_DIAGNOSTICS = 200


class Severity(StrEnum):
    """How bad a problem is. A str enum, so `severity == "error"` and
    `str(severity)` give the plain word (data problems are compared so)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    notes: tuple[str, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self):
        return (self.span.file, self.span.start, self.span.end, self.code)

    def to_dict(self) -> dict:
        s = self.span
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": s.file,
            "line": s.line,
            "column": s.column,
            "end_line": s.end_line,
            "end_column": s.end_column,
            "notes": list(self.notes),
        }


def sort_and_cap(diags: list[Diagnostic], cap: int = MAX_DIAGNOSTICS) -> list[Diagnostic]:
    """Sort by position, drop exact duplicates, keep at most `cap` (errors first
    when the cap bites)."""
    seen = set()
    unique = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.code, d.span.file, d.span.start, d.span.end, d.message)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    if len(unique) > cap:
        errors = [d for d in unique if d.is_error][:cap]
        rest = [d for d in unique if not d.is_error][: cap - len(errors)]
        unique = sorted(errors + rest, key=Diagnostic.sort_key)
    return unique


# ---------------------------------------------------------------- rendering


def cell_width(text: str) -> int:
    """Terminal cells `text` takes: East Asian wide and full-width characters
    take two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def render_text(diag: Diagnostic, source: str | None, color: bool = False) -> str:
    """Render like rustc: header, the source line, a caret under the span."""
    s = diag.span
    sev = diag.severity.value
    if color:
        paint = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}[sev]
        head = f"{paint}{sev}[{diag.code}]\x1b[0m: {s.file}:{s.line}:{s.column}: {diag.message}"
    else:
        head = f"{sev}[{diag.code}]: {s.file}:{s.line}:{s.column}: {diag.message}"
    out = [head]
    lines = source.splitlines() if source else []
    if 1 <= s.line <= len(lines):
        text = lines[s.line - 1].replace("\t", " ")
        if len(text) > 200:  # a 10 MB single line must not be printed whole
            text = text[:200] + "…"
        gutter = str(s.line)
        pad = " " * len(gutter)
        start_col = min(max(s.column, 1), len(text) + 1)
        if s.end_line == s.line:
            end_col = max(min(s.end_column, len(text) + 1), start_col + 1)
        else:
            end_col = len(text) + 1
        lead = cell_width(text[: start_col - 1])
        width = max(cell_width(text[start_col - 1 : end_col - 1]), 1)
        out.append(f"{pad} |")
        out.append(f"{gutter} | {text}")
        out.append(f"{pad} | {' ' * lead}{'^' * width}")
        for note in diag.notes:
            out.append(f"{pad} = {note}")
    else:
        for note in diag.notes:
            out.append(f"  = {note}")
    return "\n".join(out)


def render_json(diags: list[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diags], ensure_ascii=False, indent=2)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diag: Diagnostic) -> str:
    """A GitHub Actions workflow command (`::error file=...::message`)."""
    level = {"error": "error", "warning": "warning", "info": "notice"}[diag.severity.value]
    s = diag.span
    props = (
        f"file={_gh_escape(s.file, True)},line={s.line},col={s.column},"
        f"endLine={s.end_line},endColumn={s.end_column},title={_gh_escape(diag.code, True)}"
    )
    return f"::{level} {props}::{_gh_escape(diag.message)}"


def _file_uri(path: str) -> str:
    """A path as a SARIF URI reference (relative paths stay relative)."""
    from urllib.parse import quote

    path = path.replace("\\", "/")
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(path)


def render_sarif(diags: list[Diagnostic], tool_version: str) -> str:
    """SARIF 2.1.0, one run, one rule per code."""
    codes = sorted({d.code for d in diags})
    results = []
    for d in diags:
        s = d.span
        results.append(
            {
                "ruleId": d.code,
                "level": {"error": "error", "warning": "warning", "info": "note"}[d.severity.value],
                "message": {"text": d.message + "".join("\n" + n for n in d.notes)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _file_uri(s.file)},
                            "region": {
                                "startLine": max(s.line, 1),
                                "startColumn": max(s.column, 1),
                                "endLine": max(s.end_line, 1),
                                "endColumn": max(s.end_column, 1),
                            },
                        }
                    }
                ],
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "zhili",
                        "version": tool_version,
                        "informationUri": "https://example.invalid/zhili",
                        "rules": [{"id": c} for c in codes],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
