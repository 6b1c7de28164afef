"""Districts author their own models (issue 6): `zhili new`, composition with
installed models, `diff-model`, the example district plugins, and check
output fit for CI (SARIF validated against the schema, GitHub annotations)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from cli_helpers import zhili

from zhili.engine.plugins import Registry

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
CASES = Path(__file__).resolve().parent / "cases"
SARIF_SCHEMA = Path(__file__).resolve().parent / "sarif" / "sarif-schema-2.1.0.json"
DISTRICT_MODELS = ["chencang", "lizhou", "erqi"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("ZHILI_DISABLE_PLUGINS", "ZHILI_TRACE_PLUGINS", "ZHILI_MODELS"):
        monkeypatch.delenv(var, raising=False)


# ---------------------------------------------------------------- zhili new


@pytest.mark.parametrize("base", [None, "four_type"])
def test_new_project_passes_its_own_checks(tmp_path, monkeypatch, base):
    project = tmp_path / "proj"
    args = ["new", "xinqu", "--dir", str(project)] + (["--extends", base] if base else [])
    result = zhili(*args)
    assert result.exit_code == 0, result.output
    for rel in (
        "pyproject.toml",
        "README.md",
        ".pre-commit-config.yaml",
        ".github/workflows/zhili.yml",
        "xinqu/__init__.py",
        "xinqu/model.gov",
        "xinqu/tests.gov",
        "xinqu/sample.csv",
    ):
        assert (project / rel).is_file(), rel
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.zhili]\nxinqu = "xinqu"' in pyproject
    assert "zhili check" in (project / ".github/workflows/zhili.yml").read_text(encoding="utf-8")
    assert "合成数据" in (project / "README.md").read_text(encoding="utf-8")
    model = (project / "xinqu/model.gov").read_text(encoding="utf-8")
    if base:
        assert f"extends {base}" in model

    monkeypatch.chdir(project)
    check = zhili("check")
    assert check.exit_code == 0, check.output
    assert "0 errors, 0 warnings" in check.output
    test = zhili("test")
    assert test.exit_code == 0, test.output
    assert "xinqu" in test.output and " 0 failed" in test.output
    fmt = zhili("fmt", "--check", ".")
    assert fmt.exit_code == 0, fmt.output

    # loaded as a folder plugin: models, test, eval
    models = zhili("--models", "xinqu", "models", "--json")
    assert models.exit_code == 0, models.output
    rows = {r["id"]: r for r in json.loads(models.stdout)["models"]}
    assert rows["xinqu"]["plugin"] == "--models"
    assert zhili("--models", "xinqu", "test", "xinqu").exit_code == 0
    ev = zhili("--models", "xinqu", "eval", "xinqu", "--no-record")
    assert ev.exit_code == 0, ev.output
    assert "20 communities" in ev.output


def test_new_refuses_a_bad_name_and_a_full_folder(tmp_path):
    assert zhili("new", "9lives", "--dir", str(tmp_path / "a")).exit_code == 2
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.txt").write_text("x")
    result = zhili("new", "ok_name", "--dir", str(full))
    assert result.exit_code == 2
    assert "not empty" in result.output


def test_new_unknown_base_is_a_usage_error(tmp_path):
    result = zhili("new", "abc", "--extends", "four_typ", "--dir", str(tmp_path / "p"))
    assert result.exit_code == 2
    assert "four_typ" in result.output


def test_test_without_arguments_prefers_local_models(tmp_path, monkeypatch):
    (tmp_path / "m.gov").write_text(
        'model local_only "本地"\nversion "1"\nissuer "x"\nsource "x"\n'
        "input a: int\n"
        'indicator i "指标" points 10 { pass when a > 0 }\n'
        'grades { "好" when total >= 10  "差" otherwise }\n'
        'test "t" { given { a = 1 } expect grade "好" }\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = zhili("test")
    assert result.exit_code == 0, result.output
    assert "local_only (1) ." in result.output
    assert "four_type" not in result.output


# ---------------------------------------------------------------- district plugins


def test_district_plugins_are_installed_and_pass_their_tests():
    reg = Registry()
    for model_id in DISTRICT_MODELS:
        assert model_id in reg.models, reg.problems
        assert reg.models[model_id].plugin == model_id
        assert reg.models[model_id].samples, model_id
    assert reg.models["chencang"].model.extends == "four_type"
    result = zhili("test", *DISTRICT_MODELS)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("model_id", DISTRICT_MODELS)
def test_district_samples_say_they_are_synthetic(model_id):
    text = (PLUGINS / model_id / "SAMPLE.md").read_text(encoding="utf-8")
    assert "合成数据" in text and "synthetic" in text


def test_chencang_is_four_type_with_1234_changes():
    reg = Registry()
    base = reg.models["four_type"].model
    ours = reg.models["chencang"].model
    assert ours.total == base.total == 100
    assert {d.id: d.points for d in ours.top_dimensions} == {
        d.id: d.points for d in base.top_dimensions
    }
    added = {i.id for i in ours.indicators} - {i.id for i in base.indicators}
    assert added == {"one_grid", "two_platforms", "three_teams", "four_services"}
    assert "stations" not in {i.id for i in ours.indicators}
    assert ours.input("service_stations") is None
    assert ours.grade_names == base.grade_names


def test_erqi_grades_by_number_of_stars():
    model = Registry().models["erqi"].model
    assert len(model.top_dimensions) == 5
    assert model.grade_names[0] == "五星楼院" and model.grade_names[-1] == "未评星"


# ---------------------------------------------------------------- diff-model


def test_diff_model_lists_structural_changes():
    result = zhili("diff-model", "four_type", "chencang")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "- indicator stations" in out
    assert "+ indicator one_grid" in out
    assert "~ indicator grid_branches points: 2 → 1" in out
    assert "~ indicator social_organisations scoring: tiers social_orgs" in out


def test_diff_model_with_data_lists_regraded_communities(tmp_path):
    new = tmp_path / "stricter.gov"
    new.write_text(
        'model stricter "更严" extends four_type\nversion "2024.2"\n'
        'override grade "达标社区" when total >= 90\n',
        encoding="utf-8",
    )
    result = zhili(
        "diff-model",
        "four_type",
        str(new),
        "--data",
        str(PLUGINS / "four_type/sample.csv"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    kinds = {(c["kind"], c["what"], c["id"]) for c in doc["changes"]}
    assert ("scoring", "grade", "达标社区") in kinds
    assert ("version", "model", "stricter") in kinds
    assert doc["grade_changes"], "a stricter bar must regrade someone"
    for r in doc["grade_changes"]:
        assert r["old"] == "达标社区" and r["new"] != "达标社区"


def test_diff_model_of_a_model_with_itself_is_empty():
    result = zhili("diff-model", "four_type", "four_type")
    assert result.exit_code == 0
    assert "no changes" in result.output


# ---------------------------------------------------------------- CI formats


def _bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models 模型"  # a space and CJK in the path: URIs must be encoded
    folder.mkdir()
    for case in ("extends_override_unknown", "points_sum_model_total", "unused_input_let"):
        src = CASES / case
        if not src.exists():
            continue
        for f in src.glob("*.gov"):
            (folder / f"{case}_{f.name}").write_text(
                f.read_text(encoding="utf-8"), encoding="utf-8"
            )
    return folder


def test_sarif_validates_against_the_schema(tmp_path, monkeypatch):
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    monkeypatch.chdir(tmp_path)
    folder = _bad_folder(tmp_path)
    result = zhili("check", "--format", "sarif", folder.name)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[0]
    results = doc["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["region"] for r in results)
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} == rules
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert " " not in uri and "%20" in uri
    # a clean run validates too
    clean = zhili("check", "--format", "sarif", str(PLUGINS))
    assert not list(validator.iter_errors(json.loads(clean.stdout)))


def test_sarif_schema_rejects_what_it_should():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}
    assert list(validator.iter_errors(bad))  # a result needs a message
    bad_level = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [{"message": {"text": "m"}, "level": "fatal"}],
            }
        ],
    }
    assert list(validator.iter_errors(bad_level))


GITHUB_LINE = re.compile(
    r"^::(?P<level>error|warning|notice) "
    r"file=(?P<file>[^,:]+),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"endLine=(?P<end_line>\d+),endColumn=(?P<end_col>\d+),title=(?P<code>[a-z][a-z0-9-]*)"
    r"::(?P<message>[^\r\n]+)$"
)


def test_github_annotations_line_by_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = _bad_folder(tmp_path)
    as_json = json.loads(zhili("check", "--format", "json", folder.name).stdout)
    result = zhili("check", "--format", "github", folder.name)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(as_json)
    for line, d in zip(lines, as_json, strict=True):
        m = GITHUB_LINE.match(line)
        assert m, line
        assert (
            m["level"] == {"error": "error", "warning": "warning", "info": "notice"}[d["severity"]]
        )
        assert m["code"] == d["code"]
        assert (int(m["line"]), int(m["col"])) == (d["line"], d["column"])
        assert m["file"] == d["file"]


def test_repo_publishes_pre_commit_hooks():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: zhili-check" in text and "id: zhili-fmt" in text
    assert "entry: zhili check" in text and "entry: zhili fmt" in text


def test_a_new_project_loads_as_a_real_plugin_through_the_public_api(tmp_path, monkeypatch):
    """The package `zhili new` writes is imported and registered as pluggy
    plugins are (its `__init__` uses `zhili.engine.hookspecs`), next to a
    plugin module that uses every name of the public plugin API
    (`zhili.engine.hookspecs`, `zhili.engine.plugins`, `zhili.engine.functions`)."""
    import importlib

    from zhili.engine.plugins import Registry

    project = tmp_path / "proj"
    assert zhili("new", "beilin", "--dir", str(project), "--extends", "four_type").exit_code == 0
    (tmp_path / "api_user.py").write_text(
        """from zhili.dsl.functions import Signature
from zhili.engine.functions import Function, Missing
from zhili.engine.hookspecs import hookimpl
from zhili.engine.plugins import DataError, DataReader, Exporter, RawTable, raw_table


def _read(path):
    rows = [line.split(";") for line in path.read_text(encoding="utf-8").splitlines()]
    if not rows:
        raise DataError(f"{path}: empty")
    table = raw_table(str(path), rows[0], rows[1:])
    assert isinstance(table, RawTable)
    return table


@hookimpl
def zhili_functions():
    return [Function(Signature("half", ("num",), "same"), python=lambda x: x / 2)]


@hookimpl
def zhili_data_readers():
    return [DataReader(".semi", _read, "semicolons")]


@hookimpl
def zhili_exporters():
    return [Exporter("ids", ".ids", lambda ev, path: path.write_text("x"), "ids")]


MISSING_TYPE = Missing
""",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    beilin = importlib.import_module("beilin")
    api_user = importlib.import_module("api_user")
    reg = Registry(extra_plugins=[("beilin", beilin), ("api_user", api_user)])
    assert not [p for p in reg.problems if p.plugin in ("beilin", "api_user")], reg.problems
    lm = reg.get("beilin")
    assert lm is not None and lm.plugin == "beilin"
    assert "half" in reg.functions and ".semi" in reg.data_readers and "ids" in reg.exporters
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io import data as data_mod

    ev = evaluate_dataset(lm.model, data_mod.load(lm.samples[0], lm.model), reg)
    assert len(ev) == 20
