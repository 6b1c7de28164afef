"""The architecture as tests: which package may import which, no import cycle,
no reaching into another module's private names, and a light entry point.

Imports are read with `ast` from the source, function-level imports included,
so an arrow hidden inside a function still counts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# installed name of each top-level folder (pyproject's package-dir)
PACKAGES = {
    "dsl": "zhili.dsl",
    "engine": "zhili.engine",
    "tui": "zhili.tui",
    "cli": "zhili.cli",
    "plugins": "zhili.plugins",
}

# `cli → tui → engine → dsl`: a layer may import itself and the layers after it.
LAYERS = ["zhili.cli", "zhili.tui", "zhili.engine", "zhili.dsl"]
# what plugins may import of zhili: the public hook API only
PLUGIN_API = {"zhili.engine.hookspecs", "zhili.engine.plugins", "zhili.engine.functions"}
# third-party packages a layer must never import
FORBIDDEN = {
    "zhili.dsl": {"polars", "click", "textual", "openpyxl", "xlsxwriter", "fastexcel", "pluggy"},
    "zhili.engine": {"click", "textual"},
    "zhili.tui": {"click"},
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for folder, pkg in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in a module."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    base = name if _is_package(name) else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base.split(".")
                parent = parent[: len(parent) - node.level + 1]
                module = ".".join(parent + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [a.name for a in node.names]
            # `from pkg import submodule` imports the submodule
            subs = [n for n in names if f"{module}.{n}" in MODULES]
            out.extend((f"{module}.{n}", [], node.lineno) for n in subs)
            rest = [n for n in names if n not in subs]
            if rest or not subs:
                out.append((module, rest, node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _names, _line in _imports(m):
            if target in MODULES and target != m:
                graph[m].add(target)
    return graph


def _layer(name: str) -> str | None:
    return next((lay for lay in LAYERS if name == lay or name.startswith(lay + ".")), None)


def test_layers_point_one_way():
    wrong = []
    for m in MODULES:
        if m.startswith("zhili.plugins"):
            continue
        mine = _layer(m)
        for target, _names, line in _imports(m):
            theirs = _layer(target)
            if theirs and LAYERS.index(theirs) < LAYERS.index(mine):
                wrong.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {mine} imports {target}")
            top = target.split(".")[0]
            if top in FORBIDDEN.get(mine, ()):
                wrong.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {mine} imports {top}")
    assert not wrong, "arrows that run the wrong way:\n" + "\n".join(wrong)


def test_plugins_use_only_the_public_hook_api():
    wrong = []
    for m in MODULES:
        if not m.startswith("zhili.plugins"):
            continue
        for target, _names, line in _imports(m):
            if target.startswith("zhili.") and not target.startswith("zhili.plugins"):
                if target not in PLUGIN_API:
                    wrong.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {target}")
    assert not wrong, "plugins import more than the hook API:\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    graph = _graph()
    # a package's __init__ re-exporting its own submodules is not a cycle of concerns;
    # count an edge into a package as an edge into the module that defines the name
    cycles = _cycles(graph)
    assert not cycles, "import cycles (function-level imports included):\n" + "\n".join(
        " ↔ ".join(c) for c in cycles
    )


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_no_module_imports_another_modules_private_names():
    wrong = []
    for m in MODULES:
        for target, names, line in _imports(m):
            if not target.startswith("zhili."):
                continue
            private = [
                n for n in names if n.startswith("_") and not n.startswith("__") and n != "_"
            ]
            if private:
                wrong.append(
                    f"{MODULES[m].relative_to(ROOT)}:{line}: {target}.{', '.join(private)}"
                )
    assert not wrong, "private names imported across modules:\n" + "\n".join(wrong)


def test_engine_top_level_stays_small():
    top = [p.stem for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__"]
    assert len(top) <= 10, f"engine/ has {len(top)} top-level modules: {sorted(top)}"


@pytest.mark.parametrize("heavy", ["polars", "textual"])
def test_the_entry_point_loads_neither_polars_nor_textual(heavy):
    code = (
        "import sys, importlib.metadata as md\n"
        "ep = next(e for e in md.entry_points(group='console_scripts') if e.name == 'zhili')\n"
        "ep.load()\n"
        f"print({heavy!r} in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


MAX_FUNCTION_LINES = 100


def test_no_function_in_product_code_is_over_a_hundred_lines():
    """Named phases, short functions: a long function is a list of stages
    waiting to be named."""
    long = []
    for path in MODULES.values():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines} lines"
                    )
    assert not long, "functions over 100 lines:\n" + "\n".join(long)
