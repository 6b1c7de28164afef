"""The plugin manager and the model registry.

Plugins register through the `zhili` entry-point group (built-ins too).
`ZHILI_DISABLE_PLUGINS` (comma-separated names, or `*`) disables plugins;
`ZHILI_TRACE_PLUGINS=1` prints what is loaded to stderr. A plugin that fails
to import, raises in a hook or returns garbage is recorded as a
`PluginProblem` with its name; the others still load.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from zhili.dsl.checker import CheckResult, check
from zhili.dsl.diagnostics import Diagnostic
from zhili.dsl.functions import Signature
from zhili.dsl.model import Model, TestCase
from zhili.dsl.parser import parse_file
from zhili.engine import hookspecs
from zhili.engine.functions import BUILTIN_FUNCTIONS, Function

ENTRY_POINT_GROUP = "zhili"


@dataclass
class PluginProblem:
    plugin: str
    message: str

    def __str__(self) -> str:
        return f"plugin {self.plugin}: {self.message}"


@dataclass
class LoadedModel:
    model: Model
    plugin: str
    path: Path
    source: str
    samples: list[Path] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class ModelFileResult:
    """One checked `.gov` file."""

    path: Path
    text: str | None
    result: CheckResult | None
    parse_diagnostics: list[Diagnostic]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.parse_diagnostics + (self.result.diagnostics if self.result else [])

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def _trace(msg: str) -> None:
    if os.environ.get("ZHILI_TRACE_PLUGINS"):
        print(f"[zhili plugins] {msg}", file=sys.stderr)


def _disabled() -> set[str]:
    raw = os.environ.get("ZHILI_DISABLE_PLUGINS", "")
    return {x.strip() for x in raw.split(",") if x.strip()}


def make_plugin_manager(
    extra: list[tuple[str, object]] = (),
) -> tuple[pluggy.PluginManager, list[PluginProblem]]:
    """Load every plugin of the `zhili` entry-point group (and `extra`
    (name, module) pairs, for tests). Returns the manager and the problems."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    problems: list[PluginProblem] = []
    disabled = _disabled()
    candidates: list[tuple[str, object]] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in disabled or "*" in disabled:
            _trace(f"{ep.name}: disabled by ZHILI_DISABLE_PLUGINS")
            continue
        try:
            candidates.append((ep.name, ep.load()))
            _trace(f"{ep.name}: loaded from {ep.value}")
        except Exception as exc:  # a broken plugin must not stop the others
            problems.append(PluginProblem(ep.name, f"failed to load ({type(exc).__name__}: {exc})"))
            _trace(f"{ep.name}: FAILED {exc!r}")
    candidates.extend(extra)
    for name, plugin in candidates:
        if name in disabled:
            continue
        try:
            pm.register(plugin, name=name)
        except Exception as exc:
            problems.append(
                PluginProblem(name, f"cannot be registered ({type(exc).__name__}: {exc})")
            )
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        # pluggy's error carries the plugin object, not its registered name
        problems.append(PluginProblem(pm.get_name(exc.plugin) or "?", str(exc)))
    return pm, problems


def _call_each(pm: pluggy.PluginManager, hook_name: str, problems: list[PluginProblem]):
    """Call a hook plugin by plugin, so one failure doesn't hide the rest."""
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():
        try:
            yield impl.plugin_name, impl.function()
        except Exception as exc:
            problems.append(
                PluginProblem(impl.plugin_name, f"{hook_name} raised {type(exc).__name__}: {exc}")
            )


def check_file(
    path: Path, functions: dict[str, Signature] | None = None, display: str | None = None
) -> ModelFileResult:
    parsed = parse_file(str(path), display=display)
    if parsed.tree is None:
        return ModelFileResult(path, parsed.text, None, parsed.diagnostics)
    return ModelFileResult(
        path, parsed.text, check(parsed.tree, parsed.text, functions), parsed.diagnostics
    )


def gov_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*.gov") if x.is_file()))
        else:
            out.append(p)
    return out


class Registry:
    """Every model the plugins provide, checked, with their tests and samples."""

    def __init__(self, extra_dirs: list[Path] = (), extra_plugins: list[tuple[str, object]] = ()):
        self.pm, self.problems = make_plugin_manager(list(extra_plugins))
        self.functions: dict[str, Function] = dict(BUILTIN_FUNCTIONS)
        self._collect_functions()
        self._extra_dirs = list(extra_dirs)
        self._models: dict[str, LoadedModel] | None = None
        self._broken: list[ModelFileResult] = []

    @property
    def models(self) -> dict[str, LoadedModel]:
        """Every model, loaded (parsed and checked) on first use."""
        if self._models is None:
            self._load_models()
        return self._models

    @property
    def broken(self) -> list[ModelFileResult]:
        """Model files with errors (after `models` was loaded)."""
        self.models  # noqa: B018 - loads on first use
        return self._broken

    def _load_models(self) -> None:
        self._models = {}
        self.orphan_tests: dict[str, list[TestCase]] = {}
        sources: list[tuple[str, Path]] = []
        for name, result in _call_each(self.pm, "zhili_model_sources", self.problems):
            if not isinstance(result, (list, tuple)) or not all(
                isinstance(p, (str, os.PathLike)) for p in result
            ):
                self.problems.append(
                    PluginProblem(name, "zhili_model_sources must return a list of paths")
                )
                continue
            sources.extend((name, Path(p)) for p in result)
        sources.extend(("--models", Path(d)) for d in self._extra_dirs)
        for d in os.environ.get("ZHILI_MODELS", "").split(os.pathsep):
            if d.strip():
                sources.append(("ZHILI_MODELS", Path(d.strip())))
        for plugin, path in sources:
            self._load_source(plugin, path)
        for model_id, tests in self.orphan_tests.items():
            if model_id in self._models:
                self._models[model_id].tests.extend(tests)

    @property
    def signatures(self) -> dict[str, Signature]:
        return {name: f.signature for name, f in self.functions.items()}

    def _collect_functions(self) -> None:
        for name, result in _call_each(self.pm, "zhili_functions", self.problems):
            if not isinstance(result, (list, tuple)):
                self.problems.append(
                    PluginProblem(name, "zhili_functions must return a list of Function")
                )
                continue
            for fn in result:
                if not isinstance(fn, Function):
                    self.problems.append(PluginProblem(name, f"not a Function: {fn!r}"))
                elif fn.name in self.functions:
                    self.problems.append(
                        PluginProblem(name, f"function `{fn.name}` is already defined")
                    )
                else:
                    self.functions[fn.name] = fn

    def _load_source(self, plugin: str, path: Path) -> None:
        if not path.exists():
            self.problems.append(PluginProblem(plugin, f"model path does not exist: {path}"))
            return
        files = sorted(path.glob("*.gov")) if path.is_dir() else [path]
        folder = path if path.is_dir() else path.parent
        for f in files:
            res = check_file(f, self.signatures)
            if res.result is None or not res.ok:
                self._broken.append(res)
                self.problems.append(PluginProblem(plugin, f"{f}: model file has errors"))
                continue
            if res.result.model is None:  # a `tests for` file
                for t in res.result.tests:
                    self.orphan_tests.setdefault(t.model, []).append(t)
                continue
            model = res.result.model
            if model.id in self._models:
                self.problems.append(
                    PluginProblem(
                        plugin,
                        f"model `{model.id}` is already provided by {self._models[model.id].plugin}",
                    )
                )
                continue
            samples = sorted(
                p
                for p in folder.iterdir()
                if p.name.startswith("sample") and p.suffix in (".csv", ".json", ".jsonl")
            )
            self._models[model.id] = LoadedModel(
                model=model,
                plugin=plugin,
                path=f,
                source=res.text or "",
                samples=samples,
                tests=list(model.tests),
                diagnostics=res.diagnostics,
            )

    def get(self, model_id: str) -> LoadedModel | None:
        return self.models.get(model_id)
