"""The plugin system: hookspecs, entry points, the registry and broken plugins.

A broken plugin is a warning (a `PluginProblem` naming it), never a crash:
the built-in models must still load next to it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhili.cli.app import cli
from zhili.engine import hookspecs
from zhili.engine.hookspecs import hookimpl
from zhili.engine.plugins import PluginProblem, Registry, make_plugin_manager

# these tests are about loading plugins: every command builds its registry anew
pytestmark = pytest.mark.fresh_registry

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
BUILTIN = {"four_type", "five_governance", "wuyou_model"}

# A small valid model: a district's own folder of .gov files, no Python.
PILOT_GOV = """\
model chencang_pilot "陈仓区四型社区试点"
version "2024.1"
issuer  "陈仓区"
source  "宝鸡市四型社区实施方案"
total   10

input population: int label "常住人口" unit "人" range 0..200000
input workers: int label "社区工作者人数" unit "人"
input mediation_rate: percent label "矛盾纠纷调解成功率"

dimension safe "平安型" points 10 {
    indicator staff "社区工作者配备" points 5 {
        linear per_10k(workers, population) from 9 to 18
    }
    indicator mediation "矛盾纠纷调解" points 5 {
        tiers mediation_rate { >= 98% : 5  >= 95% : 3 }
    }
}

grades {
    "达标" when total >= 8
    "未达标" otherwise
}

test "人员配齐、调解率高" {
    given { population = 10000  workers = 18  mediation_rate = 98.5% }
    expect grade "达标"
    expect total 10
}
"""


@pytest.fixture(autouse=True)
def _clean_plugin_env(monkeypatch):
    """The plugin environment variables of the developer's shell must not leak in."""
    for var in ("ZHILI_DISABLE_PLUGINS", "ZHILI_TRACE_PLUGINS", "ZHILI_MODELS"):
        monkeypatch.delenv(var, raising=False)


def all_problems(reg: Registry) -> list[PluginProblem]:
    """Every problem, after the (lazily loaded) models were loaded."""
    reg.models  # noqa: B018 - loads on first use
    return reg.problems


def problems_of(reg: Registry, plugin: str) -> list[str]:
    return [p.message for p in all_problems(reg) if p.plugin == plugin]


def assert_builtins_loaded(reg: Registry) -> None:
    assert BUILTIN <= set(reg.models), f"built-in models missing: {BUILTIN - set(reg.models)}"
    for model_id in BUILTIN:
        assert reg.models[model_id].plugin == model_id


# ---------------------------------------------------------------- hookspecs


def hookspec_functions() -> list[tuple[str, object]]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [
        (name, fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, marker)
    ]


def test_hookspec_module_declares_hooks():
    names = {name for name, _ in hookspec_functions()}
    assert {"zhili_model_sources", "zhili_functions"} <= names
    assert all(name.startswith("zhili_") for name in names)


@pytest.mark.parametrize("name", [name for name, _ in hookspec_functions()])
def test_every_hookspec_is_documented(name):
    """Like datasette's tests/test_docs.py: a hook without documentation fails.
    The docstring must say when the hook is called and what it returns."""
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn) or ""
    assert len(doc) >= 40, f"hookspec {name} has no (or a too short) docstring"
    assert "called" in doc.lower(), f"hookspec {name}: say when it is called"
    assert "return" in doc.lower(), f"hookspec {name}: say what it returns"
    assert inspect.signature(fn).return_annotation is not inspect.Signature.empty, (
        f"hookspec {name} has no return type"
    )


def test_hookspec_module_is_documented():
    assert hookspecs.__doc__ and "entry-point" in hookspecs.__doc__


# ---------------------------------------------------------------- installed plugins


def test_check_pending_passes_for_installed_plugins():
    pm, problems = make_plugin_manager()
    pm.check_pending()  # raises PluginValidationError on an unknown hook
    assert problems == []
    assert BUILTIN <= {pm.get_name(p) for p in pm.get_plugins()}


def test_builtin_models_are_registered_through_entry_points():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="zhili")}
    for name in BUILTIN:
        assert eps.get(name) == f"zhili.plugins.{name}", f"entry point for {name}: {eps}"


def test_registry_has_the_builtin_models():
    reg = Registry()
    assert all_problems(reg) == [], [str(p) for p in reg.problems]
    assert reg.broken == []
    assert_builtins_loaded(reg)
    for model_id in BUILTIN:
        lm = reg.models[model_id]
        assert lm.path == PLUGINS / model_id / "model.gov"
        assert lm.tests, f"{model_id} has no test cases"
        assert lm.samples and lm.samples[0].name == "sample.csv"


def test_plugin_folders_are_listed_in_pyproject():
    """A new plugin folder must be listed under [tool.setuptools] packages and
    registered as an entry point, or a non-editable install silently lacks it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = set(project["tool"]["setuptools"]["packages"])
    entry_points = project["project"]["entry-points"]["zhili"]
    folders = {p.parent.name for p in PLUGINS.glob("*/__init__.py")}
    assert BUILTIN <= folders
    listed = {p.removeprefix("zhili.plugins.") for p in packages if p.startswith("zhili.plugins.")}
    assert folders == listed, (
        f"plugin folders not in [tool.setuptools] packages: {sorted(folders - listed)}; "
        f"packages without a folder: {sorted(listed - folders)}"
    )
    assert entry_points == {name: f"zhili.plugins.{name}" for name in folders}


# ---------------------------------------------------------------- broken plugins


class RaisingPlugin:
    @hookimpl
    def zhili_model_sources(self):
        raise RuntimeError("boom in model sources")

    @hookimpl
    def zhili_functions(self):
        raise ValueError("boom in functions")


class NotAListPlugin:
    @hookimpl
    def zhili_model_sources(self):
        return 42

    @hookimpl
    def zhili_functions(self):
        return "not a list"


class ListOfIntsPlugin:
    @hookimpl
    def zhili_model_sources(self):
        return [1, 2, 3]

    @hookimpl
    def zhili_functions(self):
        return [1, 2]


class FolderPlugin:
    """Provides one folder of models, like a real plugin package."""

    def __init__(self, folder: Path):
        self.folder = folder

    @hookimpl
    def zhili_model_sources(self):
        return [self.folder]


def test_plugin_whose_hooks_raise():
    reg = Registry(extra_plugins=[("raiser", RaisingPlugin())])
    msgs = problems_of(reg, "raiser")
    assert any("zhili_model_sources" in m and "boom in model sources" in m for m in msgs), msgs
    assert any("zhili_functions" in m and "boom in functions" in m for m in msgs), msgs
    assert all(p.plugin == "raiser" for p in all_problems(reg))
    assert {p.code for p in all_problems(reg)} == {"plugin-hook-failed"}
    assert_builtins_loaded(reg)


@pytest.mark.parametrize(
    "plugin", [NotAListPlugin(), ListOfIntsPlugin()], ids=["not-a-list", "ints"]
)
def test_plugin_that_returns_garbage(plugin):
    reg = Registry(extra_plugins=[("garbage", plugin)])
    msgs = problems_of(reg, "garbage")
    assert any("zhili_model_sources must return a list of paths" in m for m in msgs), msgs
    assert any("zhili_functions" in m or "not a Function" in m for m in msgs), msgs
    assert all(p.plugin == "garbage" for p in all_problems(reg))
    assert {p.code for p in all_problems(reg)} == {"plugin-bad-result"}
    assert_builtins_loaded(reg)


def test_plugin_whose_model_has_errors(tmp_path):
    bad = tmp_path / "bad.gov"
    bad.write_text(PILOT_GOV.replace(">= 98% : 5", ">= 98 : 5"), encoding="utf-8")
    reg = Registry(extra_plugins=[("broken_model", FolderPlugin(tmp_path))])
    msgs = problems_of(reg, "broken_model")
    assert len(msgs) == 1 and "bad.gov" in msgs[0] and "errors" in msgs[0], msgs
    assert [p.code for p in all_problems(reg)] == ["plugin-model-errors"]
    assert "chencang_pilot" not in reg.models
    assert [r.path for r in reg.broken] == [bad]
    assert any(d.code == "unit-mismatch" for d in reg.broken[0].diagnostics)
    assert_builtins_loaded(reg)


def test_plugin_whose_model_does_not_parse(tmp_path):
    (tmp_path / "garbled.gov").write_text("model {{{ not a model", encoding="utf-8")
    reg = Registry(extra_plugins=[("garbled", FolderPlugin(tmp_path))])
    assert problems_of(reg, "garbled"), reg.problems
    assert reg.broken and reg.broken[0].result is None
    assert_builtins_loaded(reg)


def test_plugin_whose_model_path_does_not_exist(tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    reg = Registry(extra_plugins=[("ghost", FolderPlugin(missing))])
    msgs = problems_of(reg, "ghost")
    assert msgs == [f"model path does not exist: {missing}"]
    assert [p.code for p in all_problems(reg)] == ["plugin-model-path"]
    assert_builtins_loaded(reg)


def test_plugin_with_a_duplicate_model_id(tmp_path):
    shutil.copy(PLUGINS / "four_type" / "model.gov", tmp_path / "model.gov")
    reg = Registry(extra_plugins=[("copycat", FolderPlugin(tmp_path))])
    msgs = problems_of(reg, "copycat")
    assert msgs == [
        f"{tmp_path / 'model.gov'}: model `four_type` is already provided by four_type "
        f"({PLUGINS / 'four_type' / 'model.gov'})"
    ], msgs
    assert [p.code for p in all_problems(reg)] == ["plugin-duplicate"]
    assert reg.models["four_type"].path == PLUGINS / "four_type" / "model.gov"
    assert_builtins_loaded(reg)


def test_a_model_asked_for_by_id_loads_alone_as_it_loads_with_all():
    """`get` of one model (what `zhili eval four_type` needs) parses and checks
    that model, the one it extends and its test suites, not every model: the
    same model, tests and samples as loading them all gives."""
    full = Registry()
    for model_id, whole in full.models.items():
        reg = Registry()
        alone = reg.get(model_id)
        assert alone is not None, model_id
        assert alone.model == whole.model and alone.path == whole.path, model_id
        assert alone.tests == whole.tests and len(alone.tests) > 0, model_id
        assert alone.samples == whole.samples and alone.source == whole.source
        assert alone.diagnostics == whole.diagnostics and alone.plugin == whole.plugin
        assert reg.get(model_id) is alone


def test_a_model_loaded_alone_does_not_report_the_others(tmp_path):
    """A broken model file of another id is not even parsed by `get`; listing
    the models (`zhili models`, `check`) still reports it."""
    (tmp_path / "bad.gov").write_text(PILOT_GOV.replace(">= 98% : 5", ">= 98 : 5"), "utf-8")
    reg = Registry(extra_plugins=[("broken_model", FolderPlugin(tmp_path))])
    assert reg.get("four_type").path == PLUGINS / "four_type" / "model.gov"
    assert reg.problems == []
    assert [p.code for p in all_problems(reg)] == ["plugin-model-errors"]


@pytest.mark.parametrize("broken", [False, True], ids=["copy", "broken-copy"])
def test_a_model_whose_id_is_declared_twice_loads_with_all(tmp_path, broken):
    """Another file declaring the same id: `get` loads every model, as
    before, so the first that checks is the one used and the duplicate is
    reported as it was."""
    text = (PLUGINS / "four_type" / "model.gov").read_text(encoding="utf-8")
    if broken:
        text += "\n{{{ not a model\n"
    (tmp_path / "model.gov").write_text(text, encoding="utf-8")
    reg = Registry(extra_plugins=[("copycat", FolderPlugin(tmp_path))])
    assert reg.get("four_type").path == PLUGINS / "four_type" / "model.gov"
    code = "plugin-model-errors" if broken else "plugin-duplicate"
    assert [p.code for p in reg.problems] == [code]


def test_a_model_that_does_not_check_is_looked_for_among_all(tmp_path):
    """The only file of an id has errors: `get` loads every model and finds
    none, with the problem recorded, as before."""
    (tmp_path / "bad.gov").write_text(PILOT_GOV.replace(">= 98% : 5", ">= 98 : 5"), "utf-8")
    reg = Registry(extra_plugins=[("broken_model", FolderPlugin(tmp_path))])
    assert reg.get("chencang_pilot") is None
    assert [p.code for p in reg.problems] == ["plugin-model-errors"]
    assert reg.get("no_such_model") is None


def test_plugin_with_a_misspelled_hook_is_named():
    class Misspelled:
        @hookimpl
        def zhili_model_source(self):  # missing the final "s"
            return []

    pm, problems = make_plugin_manager(extra=[("typo", Misspelled())])
    assert [p.plugin for p in problems] == ["typo"], [str(p) for p in problems]
    assert "zhili_model_source" in problems[0].message
    assert problems[0].code == "plugin-invalid"


def test_plugin_with_a_wrong_hook_signature_is_named():
    class WrongArgs:
        @hookimpl
        def zhili_model_sources(self, config):
            return []

    reg = Registry(extra_plugins=[("wrong_args", WrongArgs())])
    msgs = problems_of(reg, "wrong_args")
    assert msgs and "cannot be registered" in msgs[0], msgs
    assert [p.code for p in all_problems(reg)] == ["plugin-register-failed"]
    assert_builtins_loaded(reg)


def test_plugin_providing_a_folder_loads(tmp_path):
    (tmp_path / "model.gov").write_text(PILOT_GOV, encoding="utf-8")
    (tmp_path / "sample.csv").write_text("社区,常住人口\n甲社区,100\n", encoding="utf-8")
    reg = Registry(extra_plugins=[("district", FolderPlugin(tmp_path))])
    assert all_problems(reg) == []
    lm = reg.models["chencang_pilot"]
    assert lm.plugin == "district"
    assert [t.name for t in lm.tests] == ["人员配齐、调解率高"]
    assert lm.samples == [tmp_path / "sample.csv"]
    assert_builtins_loaded(reg)


# ---------------------------------------------------------------- import failure via entry points


@pytest.fixture
def broken_distribution(tmp_path, monkeypatch):
    """A fake installed distribution whose `zhili` entry point fails to import."""
    site = tmp_path / "site"
    dist = site / "zhili_broken_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: zhili-broken-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[zhili]\nbroken_import = zhili_broken_plugin_mod\n", encoding="utf-8"
    )
    (site / "zhili_broken_plugin_mod.py").write_text(
        'raise ImportError("needs a library that is not installed")\n', encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))  # also invalidates the import caches
    importlib.invalidate_caches()
    yield "broken_import"
    importlib.invalidate_caches()


def test_plugin_that_fails_to_import(broken_distribution):
    names = {ep.name for ep in importlib.metadata.entry_points(group="zhili")}
    assert broken_distribution in names  # the fake distribution is visible
    reg = Registry()
    msgs = problems_of(reg, broken_distribution)
    assert len(msgs) == 1, [str(p) for p in reg.problems]
    assert "failed to load" in msgs[0] and "ImportError" in msgs[0]
    assert [p.code for p in reg.problems if p.plugin == broken_distribution] == [
        "plugin-load-failed"
    ]
    assert "needs a library that is not installed" in msgs[0]
    assert_builtins_loaded(reg)


def test_import_failure_is_a_warning_in_the_cli(broken_distribution):
    result = CliRunner().invoke(cli, ["--lang", "en", "models"])
    assert result.exit_code == 1  # problems found, but the command still works
    assert "four_type" in result.stdout
    assert "plugin broken_import: failed to load" in result.stderr
    assert "Traceback" not in result.output


def test_disabling_a_broken_plugin_silences_it(broken_distribution, monkeypatch):
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", broken_distribution)
    reg = Registry()
    assert all_problems(reg) == []
    assert_builtins_loaded(reg)


# ---------------------------------------------------------------- environment variables


def test_disable_plugins_removes_a_model(monkeypatch):
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", "four_type,chencang")
    reg = Registry()
    assert "four_type" not in reg.models
    assert {"five_governance", "wuyou_model"} <= set(reg.models)
    assert all_problems(reg) == []


def test_disabling_a_base_reports_the_models_extending_it(monkeypatch):
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", "four_type")
    reg = Registry()
    assert "chencang" not in reg.models
    assert [p.plugin for p in reg.problems] == ["chencang"]
    (broken,) = reg.broken
    assert [d.code for d in broken.diagnostics] == ["unknown-base"]


def test_disable_plugins_accepts_a_list_and_star(monkeypatch):
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", " four_type , wuyou_model ,chencang,lizhou,erqi")
    assert set(Registry().models) == {"five_governance"}
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", "*")
    assert Registry().models == {}


def test_disabled_model_is_unknown_to_the_cli(monkeypatch):
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", "four_type")
    result = CliRunner().invoke(cli, ["--lang", "en", "eval", "four_type"])
    assert result.exit_code == 2
    assert "unknown model" in result.stderr


def test_trace_plugins_prints_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("ZHILI_TRACE_PLUGINS", "1")
    monkeypatch.setenv("ZHILI_DISABLE_PLUGINS", "wuyou_model")
    make_plugin_manager()
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert "[zhili plugins] four_type: loaded from zhili.plugins.four_type" in lines
    assert "[zhili plugins] wuyou_model: disabled by ZHILI_DISABLE_PLUGINS" in lines


def test_no_trace_without_the_variable(capsys):
    make_plugin_manager()
    assert capsys.readouterr().err == ""


def test_zhili_models_loads_a_plain_folder(tmp_path, monkeypatch):
    (tmp_path / "model.gov").write_text(PILOT_GOV, encoding="utf-8")
    monkeypatch.setenv("ZHILI_MODELS", str(tmp_path))
    reg = Registry()
    assert all_problems(reg) == []
    assert reg.models["chencang_pilot"].plugin == "ZHILI_MODELS"
    assert_builtins_loaded(reg)


def test_zhili_models_with_several_folders(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "model.gov").write_text(PILOT_GOV, encoding="utf-8")
    (b / "model.gov").write_text(
        PILOT_GOV.replace("model chencang_pilot", "model other_pilot"), encoding="utf-8"
    )
    monkeypatch.setenv("ZHILI_MODELS", os.pathsep.join([str(a), str(b)]))
    reg = Registry()
    assert {"chencang_pilot", "other_pilot"} <= set(reg.models)


def test_zhili_models_missing_folder_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHILI_MODELS", str(tmp_path / "nope"))
    reg = Registry()
    assert problems_of(reg, "ZHILI_MODELS")
    assert_builtins_loaded(reg)


def test_models_option_loads_a_plain_folder(tmp_path):
    (tmp_path / "model.gov").write_text(PILOT_GOV, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--lang", "en", "--models", str(tmp_path), "models", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = {m["id"]: m for m in json.loads(result.stdout)["models"]}
    assert rows["chencang_pilot"]["plugin"] == "--models"
    assert rows["chencang_pilot"]["tests"] == 1
    assert BUILTIN <= set(rows)


def test_models_option_model_can_be_tested(tmp_path):
    (tmp_path / "model.gov").write_text(PILOT_GOV, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--lang", "en", "--models", str(tmp_path), "test", "chencang_pilot"]
    )
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout
