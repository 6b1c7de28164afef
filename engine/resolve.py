"""Finding models: a model reference (an installed id, or a `.gov` file with
the test suites beside it) and a set of `.gov` files checked together.

What the commands share lives here, not in the CLI: the CLI only renders
what these functions report and turns their exceptions into exit codes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from zhili.dsl import ast
from zhili.dsl import messages as m
from zhili.dsl.checker import check_suite
from zhili.dsl.compose import Resolved
from zhili.dsl.diagnostics import Diagnostic, Severity
from zhili.engine.plugins import (
    FileResolver,
    LoadedModel,
    ModelFileResult,
    Registry,
    check_file,
    check_files,
    gov_files,
)

# what a sample data file beside a model file may be called and end in
SAMPLE_SUFFIXES = (".csv", ".json", ".jsonl")


class NoSuchModelFile(FileNotFoundError):
    """A reference that names a `.gov` file which does not exist."""

    def __init__(self, ref: str):
        super().__init__(ref)
        self.ref = ref


class UnknownModel(LookupError):
    """A model id that no installed plugin provides; `known` lists those that are."""

    def __init__(self, ref: str, known: list[str]):
        super().__init__(ref)
        self.ref = ref
        self.known = known


class InvalidModelFile(ValueError):
    """A `.gov` file with errors (already reported through `report`)."""

    def __init__(self, ref: str):
        super().__init__(ref)
        self.ref = ref


class InstalledResolver:
    """The installed models, looked up only when a file extends one (finding
    them globs every plugin's folder, which most commands never need)."""

    def __init__(self, registry: Registry):
        self.registry = registry

    @property
    def candidates(self) -> list[str]:
        return self.registry.resolver.candidates

    def __call__(self, kind: str, name: str, origin: str) -> Resolved | None:
        return self.registry.resolver(kind, name, origin)


def resolve_model(
    registry: Registry,
    ref: str,
    report: Callable[[Diagnostic, str | None], None] = lambda _d, _text: None,
) -> LoadedModel:
    """The model `ref` names: a `.gov` path (checked, with the samples and the
    test suites of its folder) or the id of an installed model.

    Errors and warnings of a model file are passed to `report` (diagnostic,
    source text). Raises `NoSuchModelFile`, `InvalidModelFile` or `UnknownModel`.
    """
    p = Path(ref)
    if ref.endswith(".gov") or p.is_file():
        if p.is_file() and _tests_for(p) is not None:
            return _tests_file(registry, ref, p, report)
        return _model_file(registry, ref, p, report)
    lm = registry.get(ref)
    if lm is None:
        local = _local_model_file(ref)
        if local is not None:
            return _model_file(registry, str(local), local, report)
        raise UnknownModel(ref, sorted(registry.models))
    return lm


def _tests_for(p: Path) -> str | None:
    """The model id of a `tests for MODEL` file, else None."""
    tree = _parsed_tree(p)
    return tree.model.id if isinstance(tree, ast.TestsFile) else None


def _model_id(p: Path) -> str | None:
    tree = _parsed_tree(p)
    return tree.name.id if isinstance(tree, ast.ModelFile) else None


def _local_model_file(model_id: str) -> Path | None:
    """The `.gov` file under the current folder whose model is `model_id`
    or a folder of it (`zhili test stars` inside the district's repository)."""
    here = Path(".")
    candidates = sorted(here.glob("*.gov")) + sorted(here.glob("*/*.gov"))
    return next((f for f in candidates if _model_id(f) == model_id), None)


def _tests_file(registry: Registry, ref: str, p: Path, report) -> LoadedModel:
    """`zhili test stars_tests.gov`: the suite's model (a model file beside it,
    else an installed one) with only this file's tests, names checked."""
    model_id = _tests_for(p)
    siblings = sorted(p.parent.glob("*.gov"))
    beside = next((f for f in siblings if f != p and _model_id(f) == model_id), None)
    if beside is not None:
        lm = _model_file(registry, str(beside), beside, report)
    else:
        lm = registry.get(model_id)
        if lm is None:
            raise UnknownModel(model_id, sorted(registry.models))
    resolver = FileResolver(siblings, fallback=InstalledResolver(registry))
    res = check_file(p, registry.signatures, resolver=resolver)
    tree = resolver.parsed(p).tree
    problems = list(res.diagnostics)
    if res.ok and isinstance(tree, ast.TestsFile):
        problems += _test_suite_problems(registry, tree, {model_id: lm.model})
    for d in problems:
        if d.is_error or d.severity is Severity.WARNING:
            report(d, res.text)
    if any(d.is_error for d in problems) or res.result is None:
        raise InvalidModelFile(ref)
    return LoadedModel(
        model=lm.model,
        plugin=lm.plugin,
        path=lm.path,
        source=lm.source,
        samples=lm.samples,
        tests=list(res.result.tests),
    )


@functools.lru_cache(maxsize=256)
def _parsed_tree(f: Path):
    """The syntax tree of a `.gov` file (None when it does not parse)."""
    from zhili.dsl.parser import parse_file

    return parse_file(str(f)).tree


def _model_file(registry: Registry, ref: str, p: Path, report) -> LoadedModel:
    if not p.exists():
        raise NoSuchModelFile(ref)
    resolver = FileResolver(sorted(p.parent.glob("*.gov")), fallback=InstalledResolver(registry))
    res = check_file(p, registry.signatures, resolver=resolver)
    for d in res.diagnostics:
        if d.is_error or d.severity is Severity.WARNING:
            report(d, res.text)
    if not res.ok or res.result is None or res.result.model is None:
        raise InvalidModelFile(ref)
    model = res.result.model
    samples = sorted(x for x in p.parent.glob("sample*") if x.suffix in SAMPLE_SUFFIXES)
    tests = list(model.tests)
    suite_problems: list[tuple[Diagnostic, str | None]] = []
    # test suites beside the model, each checked against it
    for other in sorted(p.parent.glob("*.gov")):
        if other == p:
            continue
        o = check_file(other, registry.signatures, resolver=resolver)
        if o.result is None or o.result.model is not None:
            continue
        mine = [t for t in o.result.tests if t.model == model.id]
        tree = resolver.parsed(other).tree
        if not mine or not isinstance(tree, ast.TestsFile):
            continue
        errors = [d for d in check_suite(tree, model) if d.is_error]
        if errors:
            suite_problems.extend((d, o.text) for d in errors)
        else:
            tests.extend(mine)
    return LoadedModel(
        model=model,
        plugin="file",
        path=p,
        source=res.text or "",
        samples=samples,
        tests=tests,
        suite_problems=suite_problems,
    )


def check_paths(
    registry: Registry, paths: list[Path], display: Callable[[Path], str]
) -> tuple[list[Path], list[ModelFileResult]]:
    """Check every .gov file under `paths`; test suites are resolved against
    their model (among these files, else an installed model)."""
    files = gov_files(paths)
    results, resolver = check_files(
        files, registry.signatures, display, fallback=InstalledResolver(registry)
    )
    models = {r.result.model.id: r.result.model for r in results if r.result and r.result.model}
    for r in results:
        if r.result is None or r.result.model is not None or not r.ok:
            continue
        tree = resolver.parsed(r.path).tree
        if isinstance(tree, ast.TestsFile):
            r.result.diagnostics.extend(_test_suite_problems(registry, tree, models))
    return files, results


def _test_suite_problems(registry: Registry, tree: ast.TestsFile, models: dict) -> list:
    target = models.get(tree.model.id)
    if target is None:
        lm = registry.get(tree.model.id)
        target = lm.model if lm else None
    if target is None:
        return [
            m.unknown_name(tree.model.span, tree.model.id, list(models) + list(registry.models))
        ]
    return check_suite(tree, target)
