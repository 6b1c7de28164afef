"""The problem-code registry (`zhili.dsl.codes`) held to everything that names
a code: the source that emits them, `docs/checks.md`, the cases under
`tests/cases/`, and the data and plugin problems of the engine.

A new code needs an entry in the registry, a case (or a reason in `NO_CASE`)
and a regenerated page (`python tools/checks_doc.py`).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from test_cases import CASE_DIRS, check_folder

from zhili.dsl import codes
from zhili.dsl.checker import check
from zhili.dsl.codes import REGISTRY, Code, Phase
from zhili.dsl.diagnostics import Severity
from zhili.dsl.parser import parse
from zhili.engine.io.data import load
from zhili.engine.io.table import DataProblem

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("dsl", "engine", "cli", "tui", "plugins")
DOC = ROOT / "docs" / "checks.md"
CODE_SHAPE = re.compile(r"^[a-z]+(-[a-z0-9]+)*$")

# model-file codes without a case folder, and why a folder cannot hold one
NO_CASE = {
    "file-unreadable": "needs a file the checker cannot open; tests/test_malformed.py makes one",
    "file-too-large": "needs a model file over 1 MB; tests/test_malformed.py writes one",
    "syntax-too-complex": "needs an expression of tens of thousands of terms; "
    "tests/test_malformed.py builds one",
}
# phases whose codes are not about model files, and the tests that hold them
OTHER_PHASES = {
    Phase.DATA: "test_data_example_gives_its_code (below)",
    Phase.PLUGIN: "tests/test_plugins.py, tests/test_plugin_hooks.py",
    Phase.ROUND: "tests/test_round.py (test_round_codes_are_asserted_by_the_round_tests)",
}

CONSTANTS = {name: value for name, value in vars(codes).items() if isinstance(value, Code)}


def _tool():
    spec = importlib.util.spec_from_file_location("zhili_checks_doc", ROOT / "tools/checks_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the registry


def test_registry_entries_are_well_formed():
    assert len(REGISTRY) >= 60
    assert set(CONSTANTS.values()) == set(REGISTRY.values())
    for name, c in CONSTANTS.items():
        assert CODE_SHAPE.match(c.code), c.code
        assert name == c.code.upper().replace("-", "_"), (name, c.code)
        assert isinstance(c.severity, Severity) and isinstance(c.phase, Phase)
        assert c.summary and not c.summary.endswith("."), c.code
        assert c.doc == f"docs/checks.md#{c.code}"
    syntax = {c.code for c in REGISTRY.values() if c.phase is Phase.SYNTAX}
    assert all(code.startswith("syntax-") for code in syntax)
    assert all(c.code.startswith("file-") for c in REGISTRY.values() if c.phase is Phase.FILE)


def test_severity_is_a_str_enum_that_reads_as_its_word():
    # data problems compare `severity == "error"` and print `str(severity)`
    assert Severity.ERROR == "error" and str(Severity.WARNING) == "warning"
    assert f"{Severity.INFO}" == "info"


# ---------------------------------------------------------------- the source


def _source_files() -> list[Path]:
    files = [p for d in PRODUCT for p in sorted((ROOT / d).rglob("*.py"))]
    return [p for p in files if p != ROOT / "dsl" / "codes.py"]


def _scan(path: Path, root: Path = ROOT) -> tuple[set[str], list[str]]:
    """(registry constants the module names, problems): a code given as a
    string, a problem made without a code, a name the registry lacks."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root)
    aliases: set[str] = set()  # local names of the codes module
    used: set[str] = set()
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "zhili.dsl":
            aliases |= {a.asname or a.name for a in node.names if a.name == "codes"}
        elif isinstance(node, ast.ImportFrom) and node.module == "zhili.dsl.codes":
            used |= {a.name for a in node.names}
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in aliases and node.attr.isupper():
                used.add(node.attr)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        code_kw = next((k.value for k in node.keywords if k.arg == "code"), None)
        if name == "Diagnostic":
            first = node.args[0] if node.args else code_kw
            if isinstance(first, ast.Constant):
                problems.append(f"{where}: Diagnostic with the literal code {first.value!r}")
        elif name == "DataProblem" and code_kw is None:
            problems.append(f"{where}: DataProblem without code=")
        elif name == "PluginProblem" and code_kw is None and len(node.args) < 3:
            problems.append(f"{where}: PluginProblem without a code")
        if isinstance(code_kw, ast.Constant):
            problems.append(f"{where}: code={code_kw.value!r} is a string, not a registry entry")
    problems += [f"{rel}: codes.{n} is not registered" for n in used if n not in vars(codes)]
    return {n for n in used if n in CONSTANTS}, problems


SCANNED = [_scan(p) for p in _source_files()]


def test_every_emitted_code_comes_from_the_registry():
    problems = [p for _used, found in SCANNED for p in found]
    assert problems == []


def test_the_source_scan_sees_what_it_must_refuse(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text(
        "from zhili.dsl import codes as C\n"
        'Diagnostic("made-up", E, "m", span)\n'
        'DataProblem("f", 1, None, None, "m")\n'
        'PluginProblem("p", "m")\n'
        'f(code="made-up")\n'
        "C.NOT_A_CODE\n",
        encoding="utf-8",
    )
    _used, problems = _scan(bad, tmp_path)
    assert len(problems) == 5, problems


def test_every_registered_code_is_emitted_somewhere():
    used = set().union(*(u for u, _p in SCANNED))
    unused = sorted(CONSTANTS[n].code for n in set(CONSTANTS) - used)
    assert unused == [], "registered but never emitted (dead entries?)"


# ---------------------------------------------------------------- the docs


def _doc_headings() -> list[str]:
    return re.findall(r"^### `([^`]+)`$", DOC.read_text(encoding="utf-8"), re.MULTILINE)


def test_every_code_has_a_doc_entry():
    headings = _doc_headings()
    assert sorted(headings) == sorted(set(headings)), "a code is documented twice"
    missing = sorted(set(REGISTRY) - set(headings))
    assert missing == [], f"no entry in docs/checks.md; run python tools/checks_doc.py: {missing}"


def test_the_docs_name_only_registered_codes():
    text = DOC.read_text(encoding="utf-8")
    named = set(_doc_headings())
    named |= {code for _sev, code in re.findall(r"\b(error|warning|info)\[([a-z0-9-]+)\]", text)}
    named |= {t for t in re.findall(r"`([a-z]+-[a-z0-9-]+)`", text)}
    assert sorted(named - set(REGISTRY)) == []


def test_the_docs_are_what_the_tool_writes():
    assert DOC.read_text(encoding="utf-8") == _tool().render(), (
        "docs/checks.md is stale: run python tools/checks_doc.py"
    )


# ---------------------------------------------------------------- the cases


def _case_codes() -> set[str]:
    return {
        line.split()[0]
        for folder in CASE_DIRS
        for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#") and line.strip() != "ok"
    }


def test_every_model_file_code_has_a_case_or_a_reason():
    covered = _case_codes()
    need = {c.code for c in REGISTRY.values() if c.phase not in OTHER_PHASES}
    assert sorted(need - covered - set(NO_CASE)) == []
    assert sorted(set(NO_CASE) & covered) == [], "exempt, yet a case has it: drop the exemption"
    assert set(NO_CASE) <= need


def test_cases_emit_registered_codes_with_their_severity():
    seen = set()
    for folder in CASE_DIRS:
        for _file, (_text, diags) in check_folder(folder).items():
            for d in diags:
                assert d.code in REGISTRY, f"{folder.name}: {d.code} is not registered"
                assert d.severity is REGISTRY[d.code].severity, (folder.name, d.code)
                seen.add(d.code)
    assert seen == _case_codes()


def test_plugin_codes_are_asserted_by_the_plugin_tests():
    text = "".join(
        (ROOT / "tests" / name).read_text(encoding="utf-8")
        for name in ("test_plugins.py", "test_plugin_hooks.py")
    )
    plugin = [c.code for c in REGISTRY.values() if c.phase is Phase.PLUGIN]
    assert [c for c in plugin if f'"{c}"' not in text] == []


def test_round_codes_are_asserted_by_the_round_tests():
    text = (ROOT / "tests" / "test_round.py").read_text(encoding="utf-8")
    found = [c.code for c in REGISTRY.values() if c.phase is Phase.ROUND]
    assert found and [c for c in found if f'"{c}"' not in text] == []


# ---------------------------------------------------------------- data problems


@pytest.fixture(scope="module")
def data_model():
    source = _tool().DATA_MODEL
    result = check(parse(source, "model.gov").tree, source)
    assert result.model is not None, result.diagnostics
    return result.model


EXAMPLES = _tool().DATA_EXAMPLES


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_data_example_gives_its_code(tmp_path, data_model, code):
    path = tmp_path / "data.csv"
    path.write_text(EXAMPLES[code], encoding="utf-8")
    problems = load(path, data_model).problems
    assert code in {p.code for p in problems}, [(p.code, str(p)) for p in problems]
    for p in problems:
        assert p.code in REGISTRY and REGISTRY[p.code].phase is Phase.DATA, p.code
        assert p.severity is REGISTRY[p.code].severity, (p.code, p.severity)


# codes only a workbook or a Parquet file gives: shown by a named file in
# tests/data_cases/ instead of a CSV example
NOT_CSV = {
    codes.DATA_ERROR_CELL.code,
    codes.DATA_UNCOMPUTED_FORMULA.code,
    codes.DATA_OTHER_SHEETS.code,
    codes.DATA_ROW_AFTER_GAP.code,
    codes.DATA_UNREADABLE_COLUMN.code,
}


def test_every_data_code_has_an_example():
    data = {c.code for c in REGISTRY.values() if c.phase is Phase.DATA}
    assert data - set(EXAMPLES) == {codes.DATA_READER_PROBLEM.code} | NOT_CSV
    cases = Path(__file__).parent / "data_cases"
    expected = "".join(p.read_text(encoding="utf-8") for p in cases.glob("*/expected.toml"))
    assert [c for c in sorted(NOT_CSV) if f'code = "{c}"' not in expected] == []


def test_a_problem_from_a_plugin_reader_gets_a_code_and_a_severity():
    p = DataProblem("x.gwx", 3, "人口", "?", "unreadable", "error")
    assert p.code == "data-reader-problem"
    assert p.severity is Severity.ERROR and p.severity == "error"
