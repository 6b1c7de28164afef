"""Parser and checker cases as data: `tests/cases/<name>/`.

Each folder holds one or more `.gov` files and `expected.txt`: the expected
diagnostics (errors and warnings), one per line as `CODE LINE:COL`, or the
single word `ok` for a clean folder. A diagnostic reported twice is listed
twice. In a folder with several `.gov` files a line names the file:
`CODE FILE:LINE:COL`. Blank lines and `#` comments are ignored. A `tests for` file is resolved against the model of its folder, as
`zhili check` does.

To add a case, create the folder and its model, then write `expected.txt` by
hand (never by copying the output of the checker without reading it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zhili.dsl import ast
from zhili.dsl.checker import check, resolve_test_names
from zhili.dsl.diagnostics import Diagnostic, render_text
from zhili.dsl.parser import SYNTAX_EXAMPLES, parse
from zhili.engine.plugins import FileResolver

CASES = Path(__file__).resolve().parent / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())
PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
# a case may extend a built-in model (`extends four_type`)
_INSTALLED = FileResolver(sorted(PLUGINS.glob("*/*.gov")))
README = Path(__file__).resolve().parent.parent / "README.md"

_LINE = re.compile(r"^(?P<code>[a-z][a-z0-9-]*) (?:(?P<file>[^\s:]+\.gov):)?(?P<pos>\d+:\d+)$")


def check_folder(folder: Path) -> dict[str, tuple[str, list[Diagnostic]]]:
    """Parse and check every `.gov` file of `folder`: file name → (text, diagnostics)."""
    out: dict[str, tuple[str, list[Diagnostic]]] = {}
    models = {}
    suites = []
    files = sorted(folder.glob("*.gov"))
    resolver = FileResolver(files, fallback=_INSTALLED, display=lambda p: p.name)
    for path in files:
        parsed = resolver.parsed(path)
        diags = list(parsed.diagnostics)
        if parsed.tree is not None:
            result = check(parsed.tree, parsed.text, resolve=resolver)
            diags.extend(result.diagnostics)
            if result.model is not None:
                models[result.model.id] = result.model
            if isinstance(parsed.tree, ast.TestsFile) and result.ok:
                suites.append((path.name, parsed.tree))
        out[path.name] = (parsed.text or "", diags)
    for name, tree in suites:
        model = models.get(tree.model.id)
        assert model is not None, f"{name}: no model `{tree.model.id}` in {folder.name}"
        for t in tree.tests:
            out[name][1].extend(
                resolve_test_names(
                    t,
                    {f.id: (f.type, tuple(f.values)) for f in model.inputs},
                    {i.id for i in model.indicators},
                    {d.id for d in model.dimensions},
                    {v.id for v in model.vetoes},
                    model.grade_names,
                    outputs={o.id: o.type for o in model.outputs},
                )
            )
    return out


def _read_expected(folder: Path, files: list[str]) -> list[tuple[str, str, int, int]]:
    lines = [
        line.strip()
        for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if lines == ["ok"]:
        return []
    expected = []
    for line in lines:
        match = _LINE.match(line)
        assert match, f"{folder.name}/expected.txt: bad line {line!r}"
        file = match["file"]
        if file is None:
            assert len(files) == 1, f"{folder.name}: name the file in {line!r}"
            file = files[0]
        line_no, col = (int(x) for x in match["pos"].split(":"))
        expected.append((file, match["code"], line_no, col))
    return sorted(expected)


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case(folder: Path):
    checked = check_folder(folder)
    assert checked, f"{folder.name}: no .gov file"
    actual = sorted(
        (file, d.code, d.span.line, d.span.column)
        for file, (_text, diags) in checked.items()
        for d in diags
    )
    expected = _read_expected(folder, sorted(checked))
    if actual != expected:
        shown = "\n".join(
            render_text(d, text) for _f, (text, diags) in checked.items() for d in diags
        )
        assert actual == expected, f"diagnostics differ; the checker said:\n{shown}"


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case_renders(folder: Path):
    for file, (text, diags) in check_folder(folder).items():
        for d in diags:
            out = render_text(d, text)
            assert f"{file}:{d.span.line}:{d.span.column}:" in out.splitlines()[0]
            assert f"[{d.code}]" in out
            render_text(d, text, color=True)
            render_text(d, None)


def test_enough_cases():
    assert len(CASE_DIRS) >= 45
    assert (
        sum((p / "expected.txt").read_text(encoding="utf-8").strip() == "ok" for p in CASE_DIRS)
        >= 4
    )


# ---------------------------------------------------------------- named syntax errors


_EXAMPLES = [(code, example) for code, examples in SYNTAX_EXAMPLES.items() for example in examples]


@pytest.mark.parametrize(
    ("code", "example"),
    _EXAMPLES,
    ids=[f"{code}-{i}" for i, (code, _e) in enumerate(_EXAMPLES)],
)
def test_syntax_examples_are_recognised(code, example):
    """The inputs that teach the parser its named errors stay under test."""
    assert [d.code for d in parse(example, "example.gov").diagnostics] == [code]


def test_every_named_syntax_error_has_a_case():
    covered = {
        line.split()[0]
        for folder in CASE_DIRS
        for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert set(SYNTAX_EXAMPLES) <= covered
    assert {
        "syntax-unexpected-token",
        "syntax-unexpected-end",
        "syntax-unterminated-string",
        "syntax-unexpected-character",
    } <= covered


# ---------------------------------------------------------------- help texts


def _diagnostics(case: str, code: str) -> list[Diagnostic]:
    checked = check_folder(CASES / case)
    return [d for _t, diags in checked.values() for d in diags if d.code == code]


def test_did_you_mean_notes():
    notes = [d.notes for d in _diagnostics("unknown_name_did_you_mean", "unknown-name")]
    assert notes == [("help: did you mean `workers`?",), ("help: did you mean `population`?",)]


def test_unknown_function_suggests_builtin():
    (d,) = _diagnostics("unknown_function", "unknown-function")
    assert d.message == "unknown function `per10k`"
    assert d.notes == ("help: did you mean `per_10k`?",)


def test_unknown_grade_suggests_grade():
    (d,) = _diagnostics("unknown_grade_in_target", "unknown-grade")
    assert d.notes == ("help: did you mean `四型社区`?",)


def test_enum_value_suggestion():
    (typo, unknown) = _diagnostics("enum_value_not_in_enum", "unknown-enum-value")
    assert typo.notes == ("help: did you mean `老旧小区`?",)
    assert unknown.notes == ("help: allowed values: 老旧小区, 商品房小区, 单位型社区",)


def test_unit_mismatch_help_says_write_percent():
    (d,) = _diagnostics("unit_mismatch_percent_vs_count", "unit-mismatch")
    assert d.message == "cannot compare a percentage with a count"
    assert d.notes == ("help: write 98% if a share was meant",)
    (t,) = _diagnostics("test_percent_as_plain_number", "unit-mismatch")
    assert t.notes == ("help: write 90% if a share was meant",)


def test_cycle_message_shows_path():
    (two,) = _diagnostics("cycle_two", "cycle")
    assert "x → y → x" in two.message
    (three,) = _diagnostics("cycle_three", "cycle")
    assert "x → y → z → x" in three.message
    (self_ref,) = _diagnostics("cycle_self", "cycle")
    assert "x → x" in self_ref.message


def test_duplicate_id_points_at_first_definition():
    first = _diagnostics("duplicate_ids", "duplicate-id")[0]
    assert first.notes == ("note: first defined at model.gov:6:7",)


# ---------------------------------------------------------------- README example


def _readme_model() -> str:
    """The `model chencang_pilot` block of the README, dedented."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```gov\n(\s*model chencang_pilot.*?)\n\s*```", text, re.S)
    assert match, "README has no `model chencang_pilot` example"
    block = match[1]
    indent = len(block) - len(block.lstrip(" "))
    lines = [line[indent:] for line in block.splitlines()]
    return "\n".join(lines) + "\n"


def _readme_shown_error() -> str:
    """The rendered checker error the README shows (its block, dedented)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"\n( *)(error\[[a-z-]+\]: my_district/model\.gov:.*?)\n\s*```", text, re.S)
    assert match, "README shows no checker error"
    indent = len(match[1])
    return "\n".join(line[indent:] for line in (match[1] + match[2]).splitlines())


def _readme_broken_error() -> tuple[str, Diagnostic]:
    source = _readme_model()
    assert source.count(">= 98% : 5") == 1
    broken = source.replace(">= 98% : 5", ">= 98 : 5")
    parsed = parse(broken, "my_district/model.gov")
    assert parsed.ok, parsed.diagnostics
    errors = [d for d in check(parsed.tree, broken).diagnostics if d.is_error]
    assert len(errors) == 1, errors
    return broken, errors[0]


def test_readme_example_checks_clean():
    source = _readme_model()
    parsed = parse(source, "my_district/model.gov")
    assert parsed.ok, parsed.diagnostics
    result = check(parsed.tree, source)
    assert result.diagnostics == []
    assert result.model is not None and result.model.id == "chencang_pilot"


def test_readme_unit_mismatch_code_line_and_help():
    broken, d = _readme_broken_error()
    shown = _readme_shown_error().splitlines()
    header = re.match(
        r"error\[(?P<code>[a-z-]+)\]: [^:]+:(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)", shown[0]
    )
    assert (d.code, d.span.line, d.span.column, d.message) == (
        header["code"],
        int(header["line"]),
        int(header["col"]),
        header["msg"],
    )
    assert list(d.notes) == [
        line.split("= ", 1)[1] for line in shown if line.lstrip().startswith("=")
    ]
    # the README's caret stands under the `98` that lost its `%`
    assert broken.splitlines()[d.span.line - 1][d.span.column - 1 :].startswith("98 : 5")


def test_readme_unit_mismatch_renders_exactly_as_shown():
    broken, d = _readme_broken_error()
    assert render_text(d, broken) == _readme_shown_error()


def test_readme_example_is_formatted_and_its_tests_pass(tmp_path):
    """The README's model as a district would save it: `zhili fmt --check`
    leaves it as it is, and `zhili check` and `zhili test` pass."""
    import subprocess
    import sys

    model = tmp_path / "my_district" / "model.gov"
    model.parent.mkdir()
    model.write_text(_readme_model(), encoding="utf-8")
    zhili = [sys.executable, "-m", "zhili.cli", "--lang", "en"]
    for args, expected in (
        (["fmt", "--check", str(model)], "0 would be reformatted"),
        (["check", str(model.parent)], "0 errors, 0 warnings"),
        (["test", str(model)], "1 passed, 0 failed"),
    ):
        run = subprocess.run(zhili + args, capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, (args, run.stdout, run.stderr)
        assert expected in run.stdout + run.stderr, (args, run.stdout, run.stderr)
