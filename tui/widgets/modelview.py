"""The model's source with highlighting and its diagnostics inline."""

from __future__ import annotations

import re

from rich.text import Text

from zhili.engine.plugins import LoadedModel

KEYWORDS = (
    "model|version|issuer|source|effective|total|target|input|let|dimension|indicator|"
    "points|weight|pass|linear|from|to|tiers|deduct|per|cap|bonus|penalty|max|veto|caps|blocks|"
    "grades|when|otherwise|missing|skip|zero|import|extends|override|drop|add|test|given|"
    "expect|grade|label|unit|range|required|optional|if|then|else|and|or|not|in|int|"
    "number|percent|bool|enum|text|date|true|false"
)
TOKEN = re.compile(
    r"(?P<comment>#[^\n]*|//[^\n]*)|(?P<string>\"[^\"\n]*\"?)|"
    r"(?P<number>\b\d+(?:\.\d+)?%?)|(?P<kw>\b(?:" + KEYWORDS + r")\b)"
)
STYLES = {"comment": "dim italic", "string": "green", "number": "cyan", "kw": "bold magenta"}


def highlight(line: str) -> Text:
    out = Text(line)
    for m in TOKEN.finditer(line):
        out.stylize(STYLES[m.lastgroup], m.start(), m.end())
    return out


def model_text(lm: LoadedModel) -> Text:
    """Numbered, highlighted source; each diagnostic under its line."""
    lines = (lm.source or "").splitlines()
    by_line: dict[int, list] = {}
    for d in lm.diagnostics:
        by_line.setdefault(d.span.line, []).append(d)
    width = len(str(len(lines)))
    out = Text()
    if lm.path:
        out.append(f"{lm.plugin}: {lm.path.name}\n", "bold")
    for no, line in enumerate(lines, 1):
        out.append(f"{no:>{width}}   ", "dim")
        out.append_text(highlight(line))
        out.append("\n")
        for d in by_line.get(no, []):
            col = max(d.span.column, 1)
            style = "bold red" if d.is_error else "yellow"
            out.append(" " * (width + 3 + col - 1) + "^ ", style)
            out.append(f"{d.severity.value}[{d.code}]: {d.message}\n", style)
    return out
