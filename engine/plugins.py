"""The plugin manager and the model registry.

Plugins register through the `zhili` entry-point group (built-ins too).
`ZHILI_DISABLE_PLUGINS` (comma-separated names, or `*`) disables plugins;
`ZHILI_TRACE_PLUGINS=1` prints what is loaded to stderr. A plugin that fails
to import, raises in a hook or returns garbage is recorded as a
`PluginProblem` with its name; the others still load.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from zhili.dsl import ast, codes
from zhili.dsl.checker import CheckResult, check, check_suite
from zhili.dsl.compose import Resolved
from zhili.dsl.diagnostics import Diagnostic
from zhili.dsl.functions import Signature
from zhili.dsl.model import Model, TestCase
from zhili.dsl.parser import ParseResult, parse_file
from zhili.engine import hookspecs
from zhili.engine.functions import BUILTIN_FUNCTIONS, Function
from zhili.engine.io.readers import (  # noqa: F401 - the public plugin API
    BUILTIN_SUFFIXES,
    DATA_READERS,
    DataReader,
    data_reader_for,
)
from zhili.engine.io.table import DataError, RawTable  # noqa: F401 - the public plugin API

ENTRY_POINT_GROUP = "zhili"


@dataclass
class PluginProblem:
    """A plugin that failed to load or gave something unusable; the others
    still load. `code` is registered in `zhili.dsl.codes` (phase `plugin`)."""

    plugin: str
    message: str
    code: str

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
    # test suites beside a model file that do not check against it (their
    # errors, with each file's text): their cases are not run, and
    # `zhili test` fails on them
    suite_problems: list[tuple[Diagnostic, str | None]] = field(default_factory=list)


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


@dataclass(frozen=True)
class Exporter:
    """A report format a plugin writes: see `hookspecs.zhili_exporters`."""

    name: str
    suffix: str
    write: object  # Callable[[Evaluation, Path], None]
    description: str = ""
    plugin: str = ""


def raw_table(file: str, headers: list[str], rows: list[list]):
    """A `RawTable` from a header list and rows of cells (for data readers)."""
    import polars as pl

    columns = {
        f"c{j}": pl.Series(
            [None if (j >= len(r) or r[j] is None) else str(r[j]) for r in rows], dtype=pl.String
        )
        for j in range(len(headers))
    }
    return RawTable(
        file=str(file),
        headers=[str(h) for h in headers],
        frame=pl.DataFrame(columns),
        lines=list(range(2, len(rows) + 2)),
    )


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
            problems.append(
                PluginProblem(
                    ep.name,
                    f"failed to load ({type(exc).__name__}: {exc})",
                    codes.PLUGIN_LOAD_FAILED.code,
                )
            )
            _trace(f"{ep.name}: FAILED {exc!r}")
    candidates.extend(extra)
    for name, plugin in candidates:
        if name in disabled:
            continue
        try:
            pm.register(plugin, name=name)
        except Exception as exc:
            problems.append(
                PluginProblem(
                    name,
                    f"cannot be registered ({type(exc).__name__}: {exc})",
                    codes.PLUGIN_REGISTER_FAILED.code,
                )
            )
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        # pluggy's error carries the plugin object, not its registered name
        problems.append(
            PluginProblem(pm.get_name(exc.plugin) or "?", str(exc), codes.PLUGIN_INVALID.code)
        )
    return pm, problems


def _call_each(pm: pluggy.PluginManager, hook_name: str, problems: list[PluginProblem]):
    """Call a hook plugin by plugin, so one failure doesn't hide the rest."""
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():
        try:
            yield impl.plugin_name, impl.function()
        except Exception as exc:
            problems.append(
                PluginProblem(
                    impl.plugin_name,
                    f"{hook_name} raised {type(exc).__name__}: {exc}",
                    codes.PLUGIN_HOOK_FAILED.code,
                )
            )


_MODEL_ID = re.compile(r"^[ \t]*model[ \t]+([^\W\d]\w*)", re.MULTILINE)
# what a file is (its first header: imports and comments come before it)
_FILE_HEAD = re.compile(r"^[ \t]*(model|library|tests[ \t]+for)[ \t]+([^\W\d]\w*)", re.MULTILINE)


class FileResolver:
    """Finds what a model file imports (a path relative to it) and the base
    model it extends (by id: among `files`, else through `fallback`, e.g. the
    installed models). Parsed files are cached, so each is parsed once."""

    def __init__(
        self,
        files: list[Path] = (),
        fallback: FileResolver | None = None,
        display=None,
    ):
        self._files = list(files)
        self.fallback = fallback
        self._display = display
        self._parsed: dict[str, ParseResult] = {}
        self._ids: dict[str, Path] | None = None
        self._paths: dict[str, Path] = {}  # span file name → path

    def parsed(self, path: Path) -> ParseResult:
        key = str(Path(path).resolve())
        if key not in self._parsed:
            display = self._display(path) if self._display else None
            self._parsed[key] = parse_file(str(path), display=display)
            self._paths[display or str(path)] = Path(path)
        return self._parsed[key]

    def _index(self) -> dict[str, Path]:
        if self._ids is None:
            self._ids = {}
            for f in self._files:
                try:
                    head = f.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                found = _MODEL_ID.search(head)
                if found:
                    self._ids.setdefault(found.group(1), f)
        return self._ids

    @property
    def candidates(self) -> list[str]:
        more = self.fallback.candidates if self.fallback is not None else []
        return sorted(set(self._index()) | set(more))

    def __call__(self, kind: str, name: str, origin: str) -> Resolved | None:
        if kind == "import":
            path = self._paths.get(origin, Path(origin)).parent / name
            if not path.is_file():
                return None
        else:
            path = self._index().get(name)
            if path is None:
                return self.fallback(kind, name, origin) if self.fallback is not None else None
        parsed = self.parsed(path)
        if parsed.tree is None:
            return None
        if kind == "model" and not (
            isinstance(parsed.tree, ast.ModelFile) and parsed.tree.name.id == name
        ):
            return None
        return Resolved(parsed.tree, parsed.text or "", parsed.tree.span.file)


def check_file(
    path: Path,
    functions: dict[str, Signature] | None = None,
    display: str | None = None,
    resolver: FileResolver | None = None,
) -> ModelFileResult:
    if resolver is None:
        resolver = FileResolver([path], display=(lambda _p: display) if display else None)
    parsed = resolver.parsed(path)
    if parsed.tree is None:
        return ModelFileResult(path, parsed.text, None, parsed.diagnostics)
    return ModelFileResult(
        path,
        parsed.text,
        check(parsed.tree, parsed.text, functions, resolve=resolver),
        parsed.diagnostics,
    )


_SKIP_DIRS = {"build", "dist", "node_modules", "site-packages", "__pycache__"}


def gov_files(paths: list[Path]) -> list[Path]:
    """The `.gov` files of `paths` (folders searched recursively, skipping
    hidden folders such as `.venv` and build output)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    x
                    for x in p.rglob("*.gov")
                    if x.is_file()
                    and not any(
                        part.startswith(".") or part in _SKIP_DIRS
                        for part in x.relative_to(p).parts[:-1]
                    )
                )
            )
        else:
            out.append(p)
    return out


class Registry:
    """Every model the plugins provide, checked, with their tests and samples."""

    def __init__(self, extra_dirs: list[Path] = (), extra_plugins: list[tuple[str, object]] = ()):
        self.pm, self.problems = make_plugin_manager(list(extra_plugins))
        self.functions: dict[str, Function] = dict(BUILTIN_FUNCTIONS)
        self._collect_functions()
        self.data_readers: dict[str, DataReader] = {}
        self.exporters: dict[str, Exporter] = {}
        self._collect_readers_and_exporters()
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

    def _sources(self) -> list[tuple[str, Path]]:
        if getattr(self, "_source_list", None) is not None:
            return self._source_list
        sources: list[tuple[str, Path]] = []
        for name, result in _call_each(self.pm, "zhili_model_sources", self.problems):
            if not isinstance(result, (list, tuple)) or not all(
                isinstance(p, (str, os.PathLike)) for p in result
            ):
                self.problems.append(
                    PluginProblem(
                        name,
                        "zhili_model_sources must return a list of paths",
                        codes.PLUGIN_BAD_RESULT.code,
                    )
                )
                continue
            sources.extend((name, Path(p)) for p in result)
        sources.extend(("--models", Path(d)) for d in self._extra_dirs)
        for d in os.environ.get("ZHILI_MODELS", "").split(os.pathsep):
            if d.strip():
                sources.append(("ZHILI_MODELS", Path(d.strip())))
        self._source_list = sources
        return sources

    @property
    def resolver(self) -> FileResolver:
        """Finds installed models by id (for `extends`)."""
        if getattr(self, "_resolver", None) is None:
            files: list[Path] = []
            for _plugin, path in self._sources():
                if path.is_dir():
                    files.extend(sorted(path.glob("*.gov")))
                elif path.exists():
                    files.append(path)
            self._resolver = FileResolver(files)
        return self._resolver

    def _load_models(self) -> None:
        self._models = {}
        # `tests for` files (plugin, file, checked file), attached once every model is loaded;
        # the folder and id of every model file, duplicates included
        self._suites: list[tuple[str, Path, ModelFileResult]] = []
        self._model_files: dict[tuple[Path, str], Path] = {}
        for plugin, path in self._sources():
            self._load_source(plugin, path)
        for plugin, f, res in self._suites:
            self._attach_suite(plugin, f, res)

    def _attach_suite(self, plugin: str, f: Path, res: ModelFileResult) -> None:
        """A `tests for M` file's cases join model M: the M of the file's own
        folder when it holds one (never another folder's model of the same
        id), and only when the suite checks against it without errors (a
        value `zhili check` refuses is never run as something else)."""
        tests = res.result.tests
        if not tests or tests[0].model not in self._models:
            return
        lm = self._models[tests[0].model]
        own = self._model_files.get((f.parent.resolve(), lm.model.id))
        if own is not None and own != lm.path:
            self.problems.append(
                PluginProblem(
                    plugin,
                    f"{f}: its tests were not run: their model `{lm.model.id}` ({own}) is "
                    f"shadowed by {lm.path}, which has the same id",
                    codes.PLUGIN_DUPLICATE.code,
                )
            )
            return
        tree = self.resolver.parsed(f).tree
        problems = check_suite(tree, lm.model) if isinstance(tree, ast.TestsFile) else []
        if any(d.is_error for d in problems):
            # a new result: the checked file's own may be shared (cached)
            self._broken.append(
                ModelFileResult(res.path, res.text, res.result, [*res.parse_diagnostics, *problems])
            )
            self.problems.append(
                PluginProblem(plugin, f"{f}: test file has errors", codes.PLUGIN_MODEL_ERRORS.code)
            )
            return
        lm.tests.extend(tests)

    @property
    def signatures(self) -> dict[str, Signature]:
        return {name: f.signature for name, f in self.functions.items()}

    def _collect_functions(self) -> None:
        for name, result in _call_each(self.pm, "zhili_functions", self.problems):
            if not isinstance(result, (list, tuple)):
                self.problems.append(
                    PluginProblem(
                        name,
                        "zhili_functions must return a list of Function",
                        codes.PLUGIN_BAD_RESULT.code,
                    )
                )
                continue
            for fn in result:
                if not isinstance(fn, Function):
                    self.problems.append(
                        PluginProblem(name, f"not a Function: {fn!r}", codes.PLUGIN_BAD_RESULT.code)
                    )
                elif fn.name in self.functions:
                    self.problems.append(
                        PluginProblem(
                            name,
                            f"function `{fn.name}` is already defined",
                            codes.PLUGIN_DUPLICATE.code,
                        )
                    )
                else:
                    self.functions[fn.name] = fn

    def _collect_readers_and_exporters(self) -> None:
        for name, result in _call_each(self.pm, "zhili_data_readers", self.problems):
            if not isinstance(result, (list, tuple)):
                self.problems.append(
                    PluginProblem(
                        name,
                        "zhili_data_readers must return a list of DataReader",
                        codes.PLUGIN_BAD_RESULT.code,
                    )
                )
                continue
            for r in result:
                if not isinstance(r, DataReader) or not callable(r.read):
                    self.problems.append(
                        PluginProblem(
                            name, f"not a DataReader: {r!r}", codes.PLUGIN_BAD_RESULT.code
                        )
                    )
                    continue
                suffix = r.suffix.lower()
                if not suffix.startswith(".") or suffix in BUILTIN_SUFFIXES:
                    self.problems.append(
                        PluginProblem(
                            name,
                            f"cannot take the data suffix {r.suffix!r}",
                            codes.PLUGIN_BAD_SUFFIX.code,
                        )
                    )
                elif suffix in self.data_readers:
                    self.problems.append(
                        PluginProblem(
                            name,
                            f"data suffix {suffix} is already read by "
                            f"{self.data_readers[suffix].plugin}",
                            codes.PLUGIN_DUPLICATE.code,
                        )
                    )
                else:
                    self.data_readers[suffix] = DataReader(suffix, r.read, r.description, name)
        for name, result in _call_each(self.pm, "zhili_exporters", self.problems):
            if not isinstance(result, (list, tuple)):
                self.problems.append(
                    PluginProblem(
                        name,
                        "zhili_exporters must return a list of Exporter",
                        codes.PLUGIN_BAD_RESULT.code,
                    )
                )
                continue
            for e in result:
                if not isinstance(e, Exporter) or not callable(e.write):
                    self.problems.append(
                        PluginProblem(name, f"not an Exporter: {e!r}", codes.PLUGIN_BAD_RESULT.code)
                    )
                elif e.name in self.exporters:
                    self.problems.append(
                        PluginProblem(
                            name,
                            f"exporter `{e.name}` is already defined",
                            codes.PLUGIN_DUPLICATE.code,
                        )
                    )
                else:
                    self.exporters[e.name] = Exporter(
                        e.name, e.suffix, e.write, e.description, name
                    )
        DATA_READERS.clear()
        DATA_READERS.update(self.data_readers)

    def _load_source(self, plugin: str, path: Path) -> None:
        if not path.exists():
            self.problems.append(
                PluginProblem(
                    plugin, f"model path does not exist: {path}", codes.PLUGIN_MODEL_PATH.code
                )
            )
            return
        files = sorted(path.glob("*.gov")) if path.is_dir() else [path]
        folder = path if path.is_dir() else path.parent
        for f in files:
            res = check_file(f, self.signatures, resolver=self.resolver)
            if res.result is None or not res.ok:
                self._broken.append(res)
                self.problems.append(
                    PluginProblem(
                        plugin, f"{f}: model file has errors", codes.PLUGIN_MODEL_ERRORS.code
                    )
                )
                continue
            if res.result.model is None:  # a `tests for` or `library` file
                self._suites.append((plugin, f, res))
                continue
            model = res.result.model
            self._model_files.setdefault((f.parent.resolve(), model.id), f)
            if model.id in self._models:
                self.problems.append(
                    PluginProblem(
                        plugin,
                        f"{f}: model `{model.id}` is already provided by "
                        f"{self._models[model.id].plugin} ({self._models[model.id].path})",
                        codes.PLUGIN_DUPLICATE.code,
                    )
                )
                continue
            self._models[model.id] = _loaded(plugin, f, folder, res)

    def get(self, model_id: str) -> LoadedModel | None:
        if self._models is None:  # nothing loaded yet: this model alone, when that is safe
            lm = self._alone(model_id)
            if lm is not None:
                return lm
        return self.models.get(model_id)

    def _alone(self, model_id: str) -> LoadedModel | None:
        """Model `model_id` loaded without the others (a command that names
        one model need not parse and check them all): the same model, tests
        and samples as `models[model_id]`, or None when loading it alone
        might give anything else. It is safe when the first header of every
        model file was read, exactly one of them declares `model_id`, and that
        file and each `tests for` file of it check without errors; then no
        duplicate or shadowed id, and no broken file, concerns this model
        (`models`, which `zhili models` and `check` use, still loads and
        reports them all)."""
        quick = getattr(self, "_quick", None)
        if quick is None:
            quick = self._quick = {}
        if model_id in quick:
            return quick[model_id]
        found: list[tuple[str, Path, Path]] = []  # (plugin, file, folder) declaring the id
        suites: list[tuple[str, Path]] = []
        for plugin, path in self._sources():
            if not path.exists():
                continue  # no models (the full load reports it)
            files = sorted(path.glob("*.gov")) if path.is_dir() else [path]
            for f in files:
                try:
                    head = _FILE_HEAD.search(f.read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    return None
                if head is None:
                    return None
                if head.group(2) == model_id and head.group(1) == "model":
                    found.append((plugin, f, path if path.is_dir() else path.parent))
                elif head.group(2) == model_id and head.group(1) != "library":
                    suites.append((plugin, f))
        if len(found) != 1:
            return None
        plugin, f, folder = found[0]
        res = check_file(f, self.signatures, resolver=self.resolver)
        if res.result is None or not res.ok or res.result.model is None:
            return None
        if res.result.model.id != model_id:
            return None
        lm = _loaded(plugin, f, folder, res)
        for _plugin, sf in suites:
            sres = check_file(sf, self.signatures, resolver=self.resolver)
            tests = sres.result.tests if sres.result is not None and sres.ok else None
            if not tests or sres.result.model is not None or tests[0].model != model_id:
                return None
            tree = self.resolver.parsed(sf).tree
            if not isinstance(tree, ast.TestsFile):
                return None
            if any(d.is_error for d in check_suite(tree, lm.model)):
                return None
            lm.tests.extend(tests)
        quick[model_id] = lm
        return lm


def _loaded(plugin: str, f: Path, folder: Path, res: ModelFileResult) -> LoadedModel:
    """The `LoadedModel` of model file `f` of `folder`, checked (`res`)."""
    model = res.result.model
    samples = sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith("sample") and p.suffix in (".csv", ".json", ".jsonl")
    )
    return LoadedModel(
        model=model,
        plugin=plugin,
        path=f,
        source=res.text or "",
        samples=samples,
        tests=list(model.tests),
        diagnostics=res.diagnostics,
    )


class FolderModels(Registry):
    """The models of local folders (a district's own repository), checked with
    the installed plugins' functions; an `extends` may name an installed
    model. Used by `zhili test` without arguments inside such a folder."""

    def __init__(self, folders: list[Path], base: Registry):
        self.pm = base.pm
        self.problems = []
        self.functions = base.functions
        self._extra_dirs = []
        self._models = None
        self._broken = []
        self._source_list = [("local", Path(f)) for f in folders]
        files = [f for d in folders for f in sorted(Path(d).glob("*.gov"))]
        self._resolver = FileResolver(files, fallback=base.resolver)


# ---------------------------------------------------------------- many files


def check_files(
    files: list[Path], functions, display, fallback=None
) -> tuple[list[ModelFileResult], FileResolver]:
    """Check `files` (each may extend or import the others, or an installed
    model through `fallback`), each parsed once."""
    resolver = FileResolver(files, fallback=fallback, display=display)
    results = [check_file(f, functions, display=display(f), resolver=resolver) for f in files]
    return results, resolver
