"""Write `docs/checks.md`: every registered code (`zhili.dsl.codes`) with its
severity, summary and an example, grouped by phase.

Examples are not typed by hand: a model-file code shows a case of
`tests/cases/` (a few lines of its source and the diagnostic as `zhili check`
renders it); a data code loads a small CSV through the real reader; the few
codes no file in a folder can show (an unreadable or oversized file, a plugin
that breaks) are rendered from their factories or described. So the page
cannot drift from what zhili says; `tests/test_codes.py` fails when the file
differs from what this script writes.

    python tools/checks_doc.py          # rewrite docs/checks.md
    python tools/checks_doc.py --check  # exit 1 when it is stale
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import tempfile
from pathlib import Path

from zhili.dsl import codes
from zhili.dsl import messages as m
from zhili.dsl.ast import Span
from zhili.dsl.codes import Phase
from zhili.dsl.diagnostics import render_text
from zhili.dsl.i18n import set_language
from zhili.dsl.parser import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "checks.md"
CASES = ROOT / "tests" / "cases"

PHASE_TITLES = {
    Phase.FILE: ("Reading the file", "before parsing: the bytes cannot be a model file."),
    Phase.SYNTAX: (
        "Syntax",
        "the parser; errors it recognises from examples have their own code "
        "(`dsl/parser.py`, `SYNTAX_EXAMPLES`).",
    ),
    Phase.CHECK: ("Checks", "names, types, the points budget, tiers, grades and vetoes."),
    Phase.COMPOSE: (
        "Composition (`import`, `extends`)",
        "see [language.md](language.md#composition-import-and-extends). A problem found "
        "in the flattened model whose source lies in the base or an imported file is "
        "reported at the statement of the extending file that caused it, with a note "
        "naming the base's position.",
    ),
    Phase.ANALYSIS: (
        "Static analysis",
        "warnings about a model that checks clean: declared input ranges and the "
        "implications between conditions.",
    ),
    Phase.TEST: ("Model tests", "`test` blocks and `tests for` files that cannot run."),
    Phase.DATA: (
        "Community data",
        "found while loading a data file (`zhili eval`, `report`, `tui`). They are not "
        "diagnostics of a model: the line is `SEVERITY: FILE:ROW [COLUMN]: MESSAGE (VALUE)`, "
        "`zhili eval --format json` gives each one's `code` and `severity`; `--strict` stops on "
        "warnings too. Info problems are listed in reports (a skipped totals row is "
        "also noted on the terminal).",
    ),
    Phase.ROUND: (
        "An assessment round",
        "found while reading a folder of returned forms against a roster (`zhili eval|report "
        "MODEL DIR --roster R`, `zhili feedback`; see [round.md](round.md)). They are data "
        "problems, printed and counted the same way; `zhili feedback` writes each one back into "
        "the return it belongs to, as a cell comment.",
    ),
    Phase.PLUGIN: (
        "Plugins",
        "a plugin that fails to load is a warning naming it, never a crash; the "
        "others still load (`zhili models` lists the problems).",
    ),
}

# Longer explanations, for codes whose summary does not say it all.
DETAILS = {
    "data-stray-row": "The rule (`data._stray_rows`): a row whose values are all in columns "
    "that match no input and no hierarchy column; and, in a file with a community id or name "
    "column, a row with neither that fills at most one of the model's columns (none when the "
    "file has fewer than three input columns). Such a row is a note or a stray cell, not a "
    "community: it is skipped, never scored, and never dropped without this warning.",
    "data-repeated-header": "A row whose first named cells (up to six) are the header's texts "
    "(spaces around them aside): two exports one after the other.",
    "data-units-row": "A row whose every filled cell is a unit — in brackets, `（人）`, `(%)`, "
    "`【户】`, a unit word such as 人 or 户, or `单位：人` —: a header written over two rows "
    "(the names above, their units below). It is not a community (it was scored as `#2`, "
    "every input missing).",
    "points-sum": "The points of a dimension's children, or of the top-level parts, do not "
    "add up to the declared points / `total`. After an `extends`, reported at the "
    "`drop`/`override` that broke the budget.",
    "tier-order": "Tiers overlap, mix directions or are out of order, so a tier can never apply.",
    "threshold-out-of-range": "A tier threshold, linear bound or comparison constant lies "
    "outside the compared input's declared `range`.",
    "unit-mismatch": "A percentage compared with, or added to, a count (`rate >= 12`: "
    "write `12%`).",
    "grade-shadowed": "A grade's condition implies an earlier grade's, so every community "
    "meeting it already got the earlier one (grades are tried best first).",
    "grade-unreachable": "A grade's bar is above what can be scored, or it stands after "
    "`otherwise`.",
    "veto-never-triggers": "The veto's condition is ruled out by the input's declared range.",
    "veto-no-effect": "The veto caps at the best grade, or its condition is the constant `false`.",
    "indicator-constant": "The indicator's outcome is the same for every community: it uses "
    "no input, its condition is decided by the input's range (`pass when a >= 0` on a "
    "`0..100` input), or every tier gives the same points.",
    "unused-input": "Inputs imported from a library are exempt.",
    "unused-let": "Definitions imported from a library are exempt.",
    "override-invalid": "For example points on a veto, a scoring on a dimension, a condition "
    "on `otherwise`.",
    "unknown-base": "The base model is neither among the checked files nor installed.",
    "data-invalid-value": "Not a number, a whole number, a yes/no value, a date or one of "
    "the enum's values, or outside the input's `range`; the cell counts as missing.",
    "data-reader-problem": "The code a `DataProblem` gets when a plugin's reader gives none.",
    "data-fraction-shares": "One percent rule for every source (docs/data.md): 85, 85% and a "
    "percent-formatted cell holding 0.85 all mean 85%; a plain number between -1 and 1 (not 0), "
    "without a percent sign or format, could be a fraction or that many percent, so it is this "
    "warning and the cell counts as missing. Each cell is judged alone. For an input declared "
    "`fractions` (plain numbers are fractions: 0.85 is 85%), a plain number above 1 is the warning.",
    "data-duplicate-column": "Two columns match one input (the header twice, or the id and the "
    "label) and their cells differ: the first is read, but which is right is not for zhili to "
    "guess.",
    "data-repeated-column": "Two columns match one input and hold the same cells: the first is "
    "read.",
}

# The model the data examples load, and one CSV per data code.
DATA_MODEL = """\
model d "数据"
version "1"
issuer "测试"
source "测试"

input population: int label "常住人口" range 0..1000000
input rate: percent label "调解率"
input workers: int label "社区工作者" optional
input graded: number label "党建评分" optional

indicator i "指标" points 10 { pass when rate >= 90% and workers >= 0 and population > 0 }
indicator j "社区党建" points 10 { score graded by "区委组织部" }

grades { "达标" when total >= 6  "未达标" otherwise }
"""
_HEAD = "社区编码,社区,常住人口,调解率,社区工作者\n"
DATA_EXAMPLES = {
    "data-totals-row": _HEAD + "A1,金台,12000,95%,20\n合计,,12000,,20\n",
    "data-extra-cells": _HEAD + "A1,金台,12000,95%,20,多出\n",
    "data-short-row": _HEAD + "A1,金台,12000,95%,20\nA2,渭滨,9000\n",
    "data-repeated-header": _HEAD + "A1,金台,12000,95%,20\n" + _HEAD + "A2,渭滨,9000,91%,15\n",
    "data-units-row": _HEAD + ",,（人）,（%）,（人）\nA1,金台,12000,95%,20\n",
    "data-stray-row": _HEAD + "A1,金台,12000,95%,20\n,,,,\n,,,,\n,,,,8\n",
    "data-no-column": "社区编码,社区,调解率,社区工作者\nA1,金台,95%,20\n",
    "data-no-optional-column": "社区编码,社区,常住人口,调解率\nA1,金台,12000,95%\n",
    "data-unknown-column": "社区编码,社区,常住人口,调解率,社区工作者,备注\nA1,金台,12000,95%,20,新建\n",
    "data-invalid-value": _HEAD + "A1,金台,一万二,95%,20\n",
    "data-duplicate-id": _HEAD + "A1,金台,12000,95%,20\nA1,渭滨,9000,91%,15\n",
    "data-duplicate-column": "社区编码,社区,常住人口,调解率,常住人口\nA1,金台,12000,95%,1200\n",
    "data-repeated-column": "社区编码,社区,population,常住人口,调解率\nA1,金台,12000,12000,95%\n",
    "data-fraction-shares": _HEAD + "A1,金台,12000,0.95,20\nA2,渭滨,9000,0.91,15\n",
    "data-score-clamped": "社区编码,社区,常住人口,调解率,党建评分\nA1,金台,12000,95%,12\n",
}

# Codes no case folder shows: (what causes it, the rendered text or None).
_FILE = Span("model.gov", 1, 1, 1, 1, 0, 0)
OTHER_EXAMPLES = {
    "file-unreadable": (
        "The file cannot be opened (no permission, a device error).",
        lambda: render_text(m.file_unreadable(_FILE, "Permission denied"), None),
    ),
    "file-too-large": (
        f"A model file of more than {MAX_FILE_BYTES:,} bytes.",
        lambda: render_text(m.file_too_large(_FILE, 1_500_000, MAX_FILE_BYTES), None),
    ),
    "syntax-too-complex": (
        "An expression of tens of thousands of terms (`let x = 1 + 1 + … + 1`) that "
        "the parser cannot nest.",
        lambda: render_text(m.too_complex(_FILE), None),
    ),
    "data-reader-problem": ("A plugin's reader returns a `DataProblem` without a code.", None),
    "data-error-cell": (
        "A workbook cell holding an error value (`#DIV/0!`, `#N/A`, `#VALUE!`, `#REF!`): the "
        "cell counts as missing (tests/data_cases/convert_formula_and_error_cells).",
        "warning: data.xlsx[数据]:3 [常住人口]: the cell holds the error value #DIV/0!: "
        "it counts as missing ('#DIV/0!')",
    ),
    "data-uncomputed-formula": (
        "A workbook formula saved without its value (by openpyxl or another program that does "
        "not calculate): the cell counts as missing.",
        "warning: data.xlsx[数据]:2 [常住人口]: a formula without a computed value (the "
        "workbook was saved by a program that does not calculate: open it in Excel and save "
        "it): it counts as missing ('=1/0')",
    ),
    "data-other-sheets": (
        "Other sheets of the workbook hold data: only one is read (`--sheet`, else the first "
        "visible one, or the first visible one that names the model's inputs when the first "
        "names none); this note names the others.",
        "note: data.xlsx[2024]: only sheet 2024 is read; these sheets also hold data: "
        "旧表 (hidden), 2023 (use --sheet)",
    ),
    "data-row-after-gap": (
        "A workbook row at least 1,000 blank rows below the row before it (a stray cell far "
        "below the table is read as a community: this says so).",
        "warning: data.xlsx[Sheet]:1048576: this row is 1,048,573 blank rows below the row "
        "before it: a stray cell?",
    ),
    "data-unreadable-column": (
        "A Parquet column the model uses holds lists, structs or durations: its values count as "
        "missing (unused columns of any type are ignored).",
        "error: data.parquet [常住人口]: a column of type List(Int64): its cells are not single "
        "values zhili can read; every value counts as missing",
    ),
    "round-roster-row": (
        "A roster row that lacks the community id or one of 区, 街道, 社区: it cannot be put in a "
        "unit, so it is left out (a duplicate id in the roster is `data-duplicate-id`).",
        "error: roster.csv:5 [社区编码]: the roster row has no 社区编码: it is left out",
    ),
    "round-unrecognised": (
        "A file in the returns folder that is not a form `zhili template --roster` wrote (no "
        "stamp: a copy pasted into a new workbook loses it), or cannot be opened.",
        "error: returns/汇总表.xlsx: not a form of this round: the workbook has no zhili stamp "
        "(write the forms with zhili template --roster, and fill them in as they are)",
    ),
    "round-other-model": (
        "The form's stamp names another model.",
        "error: returns/金台区-东风路街道.xlsx: a form of model five_governance, not four_type",
    ),
    "round-old-form": (
        "The form's stamp names another version or content hash of the model: it was written "
        "before the model changed, and its columns may not be the model's.",
        "error: returns/金台区-东风路街道.xlsx: a form of another version of four_type (version "
        "2023.1, content 39b846a752cb; the model is version 2024.1, content 0c5e6a1f3d2b): send "
        "the unit the current form",
    ),
    "round-superseded": (
        "A unit returned its form twice: the newest (by modification time, then name) is read; "
        "the older one is named.",
        "note: returns/东风路街道-旧.xlsx is an older return of the same unit: "
        "金台区-东风路街道.xlsx is read instead",
    ),
    "round-not-submitted": (
        "A roster community with no input filled in (未上报), located at its row of its unit's "
        "return, or at its roster row when the unit sent nothing. It is left out of the "
        "evaluation and counted in the reporting rate.",
        "warning: returns/金台区-东风路街道.xlsx[数据]:3 [社区编码]: no data entered for "
        "新福社区 (未上报) ('002')",
    ),
    "round-not-in-roster": (
        "A row of a return whose community id the roster does not list.",
        "error: returns/金台区-东风路街道.xlsx[数据]:12 [社区编码]: a community the roster does "
        "not list ('099')",
    ),
    "round-prefill-edited": (
        "A pre-filled id or name (locked in the form) that the submitter changed: compared with "
        "the form's stamp and the roster.",
        "error: returns/金台区-东风路街道.xlsx[数据]:3 [社区编码]: the pre-filled 社区编码 "
        "'002' was changed: put it back ('0002')",
    ),
    "round-required-empty": (
        "A required input left empty in a row that holds other data (the model's `missing` "
        "rule then applies to it).",
        "warning: returns/金台区-群众路街道.xlsx[数据]:2 [是否多网合一]: a required cell is empty",
    ),
    "plugin-load-failed": (
        "Importing the plugin's entry point raised.",
        "warning: plugin broken: failed to load (ImportError: No module named 'yaml')",
    ),
    "plugin-register-failed": (
        "pluggy refuses the plugin: a hook implementation takes arguments its hook does not have.",
        "warning: plugin wrong_args: cannot be registered (PluginValidationError: Plugin "
        "'wrong_args' for hook 'zhili_model_sources' …)",
    ),
    "plugin-invalid": (
        "A hook implementation named like no hook (a misspelled `zhili_*` name).",
        "warning: plugin typo: unknown hook 'zhili_model_source' in plugin <Misspelled object …>",
    ),
    "plugin-hook-failed": (
        "A hook implementation raised.",
        "warning: plugin raiser: zhili_functions raised RuntimeError: boom",
    ),
    "plugin-bad-result": (
        "A hook returned something other than the documented list.",
        "warning: plugin garbage: zhili_functions must return a list of Function",
    ),
    "plugin-duplicate": (
        "A function, exporter, data suffix or model id another plugin already provides.",
        "warning: plugin copycat: function `ratio` is already defined",
    ),
    "plugin-bad-suffix": (
        "A data reader for a suffix without a dot, or one a built-in reader takes.",
        "warning: plugin csv2: cannot take the data suffix '.csv'",
    ),
    "plugin-model-path": (
        "`zhili_model_sources`, `--models` or `ZHILI_MODELS` names a path that is not there.",
        "warning: plugin ZHILI_MODELS: model path does not exist: /srv/models",
    ),
    "plugin-model-errors": (
        "A `.gov` file of the plugin has errors (`zhili models -v` shows them); it is skipped.",
        "warning: plugin district: plugins/district/model.gov: model file has errors",
    ),
}

# Case files that cannot be shown as text.
_UNSHOWN = {
    "file-empty": "An empty file (0 bytes).",
    "file-binary": "A file with NUL bytes in it.",
    "file-encoding": '`model m "社区"` saved as GBK.',
}


def _load_test_cases():
    spec = importlib.util.spec_from_file_location(
        "zhili_test_cases", CASES.parent / "test_cases.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def case_examples() -> dict[str, tuple[str, str, str, str]]:
    """code → (case, file, source snippet, rendered diagnostic), from the case
    with the fewest diagnostics that shows the code (then by name)."""
    check_folder = _load_test_cases().check_folder
    found: dict[str, tuple[int, str, str, str, str]] = {}
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        checked = check_folder(folder)
        count = sum(len(diags) for _t, diags in checked.values())
        for file, (text, diags) in checked.items():
            for d in diags:
                best = found.get(d.code)
                if best is not None and best[0] <= count:
                    continue
                lines = text.splitlines()
                first = max(d.span.line - 3, 1)
                snippet = "\n".join(lines[first - 1 : d.span.line]).strip("\n")
                found[d.code] = (count, folder.name, file, snippet, render_text(d, text))
    return {code: rest for code, (_n, *rest) in found.items()}


def data_examples() -> dict[str, list[str]]:
    """code → the problem lines loading its CSV gives for that code."""
    from zhili.dsl.checker import check
    from zhili.dsl.parser import parse
    from zhili.engine.io.data import load

    model = check(parse(DATA_MODEL, "model.gov").tree, DATA_MODEL).model
    assert model is not None
    out: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for code, csv in DATA_EXAMPLES.items():
            path = Path(tmp) / "data.csv"
            path.write_text(csv, encoding="utf-8")
            problems = load(path, model).problems
            out[code] = [
                f"{p.severity}: {dataclasses.replace(p, file='data.csv')}"
                for p in problems
                if p.code == code
            ]
    return out


def render() -> str:
    set_language("en")  # the page is in English, as the messages it quotes
    cases = case_examples()
    data = data_examples()
    out = [
        "# Problem codes: `zhili check` diagnostics, data and plugin problems",
        "",
        "<!-- written by `python tools/checks_doc.py` from `dsl/codes.py` and "
        "`tests/cases/`; do not edit by hand -->",
        "",
        "Every problem has a stable code (use it in CI filters and SARIF rules), a",
        "severity, a message and a position. Each code is declared once, in",
        "`dsl/codes.py`. `zhili check --format text|json|github|sarif`; `--strict`",
        "makes warnings fail too. A model-file code's example is a case under",
        "`tests/cases/` (named in brackets); the `ok_*` cases are the passing ones.",
        "",
    ]
    by_phase = {phase: [c for c in codes.REGISTRY.values() if c.phase is phase] for phase in Phase}
    for phase in Phase:
        title, _intro = PHASE_TITLES[phase]
        out.append(
            f"- [{title}](#{_slug(title)}): " + ", ".join(f"`{c.code}`" for c in by_phase[phase])
        )
    for phase in Phase:
        title, intro = PHASE_TITLES[phase]
        out += ["", f"## {title}", "", intro[0].upper() + intro[1:]]
        for c in by_phase[phase]:
            out += ["", f"### `{c.code}`", "", f"**{c.severity}** · {c.summary}."]
            if c.code in DETAILS:
                out += ["", DETAILS[c.code]]
            out += _example(c.code, cases, data)
    return "\n".join(out) + "\n"


def _example(code: str, cases: dict, data: dict) -> list[str]:
    if code in cases:
        case, file, snippet, rendered = cases[code]
        out = ["", f"[`{case}`] `{file}`:"]
        if code in _UNSHOWN:
            out += ["", _UNSHOWN[code]]
        else:
            out += ["", "```gov", snippet, "```"]
        return out + ["", "```text", rendered, "```"]
    if code in data:
        csv = DATA_EXAMPLES[code].rstrip("\n")
        return ["", "```csv", csv, "```", "", "```text", *data[code], "```"]
    what, text = OTHER_EXAMPLES[code]
    out = ["", what]
    if text is not None:
        out += ["", "```text", text() if callable(text) else text, "```"]
    return out


def _slug(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is stale: run python tools/checks_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
