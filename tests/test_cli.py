"""The `zhili` command line: every command, its output formats and exit codes.

Most tests drive `zhili.cli.app.cli` with click's CliRunner; a few run the
installed `zhili` script in a subprocess to catch packaging problems.
Exit codes: 0 success · 1 problems found · 2 bad command line · 3 internal error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import zhili

from zhili.cli.app import cli
from zhili.engine.plugins import Registry

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
MODELS = ["four_type", "five_governance", "wuyou_model"]
ZHILI = Path(sys.executable).with_name("zhili")

VALID_GOV = """\
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

FAILING_CASE = """
test "人员不足也算达标" {
    given { population = 10000  workers = 9  mediation_rate = 90% }
    expect grade "达标"
}
"""

# a count compared with a percentage
BAD_GOV = VALID_GOV.replace(">= 98% : 5", ">= 98 : 5")
BAD_LINE = 1 + BAD_GOV.splitlines().index(
    next(line for line in BAD_GOV.splitlines() if ">= 98 : 5" in line)
)
# an input nobody uses: a warning, not an error
WARN_GOV = VALID_GOV.replace(
    'input workers: int label "社区工作者人数" unit "人"',
    'input workers: int label "社区工作者人数" unit "人"\ninput spare: int label "备用"',
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("ZHILI_DISABLE_PLUGINS", "ZHILI_TRACE_PLUGINS", "ZHILI_MODELS", "ZHILI_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def run_script(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed `zhili` script, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHILI_")}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [str(ZHILI), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd or ROOT,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def sample_of(model_id: str) -> Path:
    return PLUGINS / model_id / "sample.csv"


def sample_rows(model_id: str) -> list[dict[str, str]]:
    with sample_of(model_id).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


@pytest.fixture
def model_dir(tmp_path) -> Path:
    d = tmp_path / "district"
    d.mkdir()
    (d / "model.gov").write_text(VALID_GOV, encoding="utf-8")
    return d


# ---------------------------------------------------------------- models


def test_models_table():
    result = zhili("models")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["model", "title", "version", "plugin"]
    for model_id in MODELS:
        row = next(line for line in lines if line.startswith(model_id + " "))
        assert row.split()[0] == model_id
    assert result.stderr == ""


def test_models_json():
    result = zhili("models", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["problems"] == []
    by_id = {m["id"]: m for m in data["models"]}
    assert set(MODELS) <= set(by_id)
    for model_id in MODELS:
        m = by_id[model_id]
        assert m["plugin"] == model_id
        assert m["indicators"] > 0 and m["tests"] > 0
        assert Path(m["path"]) == PLUGINS / model_id / "model.gov"


# ---------------------------------------------------------------- check


def test_check_plugins_is_clean():
    result = zhili("check", PLUGINS)
    assert result.exit_code == 0, result.output
    assert re.search(r"\b\d+ files checked: 0 errors, 0 warnings", result.output)


def test_check_without_paths_checks_installed_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .gov files here
    result = zhili("check")
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_check_bad_file_points_at_the_problem(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.gov").write_text(BAD_GOV, encoding="utf-8")
    result = zhili("check", "bad.gov")
    assert result.exit_code == 1
    out = result.stdout
    m = re.search(r"error\[unit-mismatch\]: bad\.gov:(\d+):(\d+): ", out)
    assert m, out
    line, col = int(m.group(1)), int(m.group(2))
    assert line == BAD_LINE
    # the source line is quoted and a caret stands under the column
    lines = out.splitlines()
    src = next(i for i, s in enumerate(lines) if s.startswith(f"{line} |"))
    gutter = lines[src].index("|") + 2
    caret_line = lines[src + 1]
    assert caret_line.lstrip(" |").startswith("^")
    assert caret_line.index("^") == gutter + col - 1
    assert "1 files checked: 1 errors" in result.output


def test_check_bad_file_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.gov").write_text(BAD_GOV, encoding="utf-8")
    result = zhili("check", "--format", "json", "bad.gov")
    assert result.exit_code == 1
    diags = json.loads(result.stdout)
    assert [(d["code"], d["severity"], d["file"], d["line"]) for d in diags] == [
        ("unit-mismatch", "error", "bad.gov", BAD_LINE)
    ]
    assert diags[0]["column"] >= 1 and diags[0]["message"]


def test_check_clean_json_is_an_empty_list():
    result = zhili("check", "--format", "json", PLUGINS)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_check_bad_file_github(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.gov").write_text(BAD_GOV, encoding="utf-8")
    Path("warn.gov").write_text(WARN_GOV.replace("chencang_pilot", "warn_pilot"), encoding="utf-8")
    result = zhili("check", "--format", "github", "bad.gov", "warn.gov")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines, result.output
    assert all(re.match(r"::(error|warning|notice) file=", line) for line in lines), lines
    assert any(line.startswith(f"::error file=bad.gov,line={BAD_LINE},") for line in lines)
    assert any(line.startswith("::warning file=warn.gov,") for line in lines)


def test_check_bad_file_sarif(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.gov").write_text(BAD_GOV, encoding="utf-8")
    result = zhili("check", "--format", "sarif", "bad.gov")
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "zhili"
    assert [r["ruleId"] for r in run["results"]] == ["unit-mismatch"]
    res = run["results"][0]
    assert res["level"] == "error"
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("bad.gov")
    assert loc["region"]["startLine"] == BAD_LINE
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {"unit-mismatch"}


def test_check_clean_sarif_has_empty_results():
    result = zhili("check", "--format", "sarif", PLUGINS)
    assert result.exit_code == 0
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


def test_check_strict_turns_warnings_into_failure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("warn.gov").write_text(WARN_GOV, encoding="utf-8")
    lenient = zhili("check", "warn.gov")
    assert lenient.exit_code == 0, lenient.output
    assert "warning[unused-input]" in lenient.stdout
    assert "0 errors, 1 warnings" in lenient.output
    strict = zhili("check", "--strict", "warn.gov")
    assert strict.exit_code == 1
    assert "warning[unused-input]" in strict.stdout


def test_check_missing_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = zhili("check", "no_such_folder")
    assert result.exit_code == 1
    assert "no such file or folder: no_such_folder" in result.stderr


def test_check_missing_path_next_to_a_good_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("good.gov").write_text(VALID_GOV, encoding="utf-8")
    result = zhili("check", "good.gov", "nope.gov")
    assert result.exit_code == 1
    assert "nope.gov" in result.stderr


def test_check_folder_without_gov_files(tmp_path):
    result = zhili("check", tmp_path)
    assert result.exit_code == 1
    assert "no .gov files" in result.stderr


# ---------------------------------------------------------------- test


def test_test_all_models_pass(registry):
    result = zhili("test")
    assert result.exit_code == 0, result.output
    n = sum(len(registry.models[m].tests) for m in registry.models)
    assert f"{n} passed, 0 failed" in result.stdout
    for model_id in MODELS:
        assert re.search(rf"^{model_id} \(\d+\) \.+$", result.stdout, re.M), result.stdout


@pytest.mark.parametrize("model_id", MODELS)
def test_test_each_model_passes(model_id, registry):
    result = zhili("test", model_id)
    assert result.exit_code == 0, result.output
    n = len(registry.models[model_id].tests)
    assert n > 0
    assert re.search(rf"\b{n} passed, 0 failed\b", result.stdout)


def test_test_model_file_with_a_failing_case(model_dir):
    gov = model_dir / "model.gov"
    gov.write_text(VALID_GOV + FAILING_CASE, encoding="utf-8")
    result = zhili("test", gov)
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.stdout
    assert "FAILED" in result.stdout and "chencang_pilot::人员不足也算达标" in result.stdout
    assert "expected '达标'" in result.stdout


def test_a_model_and_its_tests_file_named_together_run_each_case_once(registry):
    """`zhili test model.gov tests.gov` (and a model named twice) counted
    every case twice: 28 passed for four_type's 14."""
    folder = Path(registry.models["four_type"].path).parent
    n = len(registry.models["four_type"].tests)
    result = zhili("test", folder / "model.gov", folder / "tests.gov", folder / "model.gov")
    assert result.exit_code == 0, result.output
    assert re.search(rf"\b{n} passed, 0 failed\b", result.stdout), result.stdout
    assert result.stdout.count("four_type (") == 1


def test_test_model_file_passing(model_dir):
    result = zhili("test", "-v", model_dir / "model.gov")
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout and "1 passed, 0 failed" in result.stdout


def test_test_finds_a_test_suite_beside_the_model(model_dir):
    (model_dir / "tests.gov").write_text(
        "tests for chencang_pilot\n" + FAILING_CASE, encoding="utf-8"
    )
    result = zhili("test", model_dir / "model.gov")
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.stdout


def test_test_unknown_model():
    result = zhili("test", "no_such_model")
    assert result.exit_code == 2
    assert "four_type" in result.stderr


# ---------------------------------------------------------------- eval


def table_rows(text: str) -> list[str]:
    """The data rows of the first table in `text` (between the dashes and a blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"[- ]+", line)) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line)
    return rows


@pytest.mark.parametrize("model_id", MODELS)
def test_eval_table_has_a_row_per_community(model_id, registry):
    expected = sample_rows(model_id)
    result = zhili("eval", model_id, sample_of(model_id))
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert len(rows) == len(expected)
    grades = {g.name for g in registry.models[model_id].model.grades}
    as_json = json.loads(zhili("eval", model_id, sample_of(model_id), "--format", "json").stdout)
    totals = {c["community"]: c["total"] for c in as_json["communities"]}
    for row, rec in zip(rows, expected, strict=True):
        cells = row.split()
        assert cells[0] == rec["社区"]
        assert cells[1] == rec["街道"]
        total = float(cells[2])
        assert abs(total - totals[rec["社区"]]) < 0.006
        assert cells[3] in grades
    assert f"{len(expected)} communities" in result.stdout


def test_eval_without_data_uses_the_bundled_sample():
    result = zhili("eval", "four_type")
    assert result.exit_code == 0, result.output
    assert "sample.csv" in result.stderr
    assert len(table_rows(result.stdout)) == len(sample_rows("four_type"))


@pytest.mark.parametrize("model_id", MODELS)
def test_eval_json(model_id):
    result = zhili("eval", model_id, sample_of(model_id), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == model_id
    expected = sample_rows(model_id)
    assert len(data["communities"]) == len(expected)
    assert [c["community_id"] for c in data["communities"]] == [r["社区编码"] for r in expected]
    for c in data["communities"]:
        assert c["total"] >= 0 and c["max_total"] > 0
        assert c["dimensions"] and c["indicators"]


def test_eval_csv_output_file(tmp_path):
    out = tmp_path / "results.csv"
    result = zhili("eval", "four_type", sample_of("four_type"), "--format", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "wrote" in result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM"
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    expected = sample_rows("four_type")
    assert len(rows) == len(expected)
    assert {"community_id", "community"} <= set(rows[0])
    assert [r["community"] for r in rows] == [r["社区"] for r in expected]
    assert not list(tmp_path.glob("*.zhili-tmp"))


def test_eval_csv_to_stdout_has_no_bom():
    result = zhili("eval", "four_type", sample_of("four_type"), "--format", "csv")
    assert result.exit_code == 0
    assert not result.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(result.stdout.strip() + "\n")))
    assert len(rows) == len(sample_rows("four_type"))


def test_eval_missing_data_file(tmp_path):
    result = zhili("eval", "four_type", tmp_path / "nope.csv")
    assert result.exit_code == 1
    assert "nope.csv" in result.stderr and "no such file" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.csv", b""),
        ("broken.json", b'{"a": '),
        ("binary.csv", bytes(range(256)) * 3),
    ],
)
def test_eval_unreadable_data_is_a_clean_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = zhili("eval", "four_type", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") or "\nerror: " in result.stderr


def test_eval_folder_as_data_file(tmp_path):
    result = zhili("eval", "four_type", tmp_path)
    assert result.exit_code == 1
    assert "error" in result.stderr


def test_eval_unknown_model_names_installed_models():
    result = zhili("eval", "no_such_model", sample_of("four_type"))
    assert result.exit_code == 2
    for model_id in MODELS:
        assert model_id in result.stderr
    assert "no_such_model" in result.stderr


def test_eval_model_file(model_dir):
    data = model_dir / "data.csv"
    data.write_text(
        "社区编码,社区,常住人口,社区工作者人数,矛盾纠纷调解成功率\n"
        "A-1,甲社区,10000,18,99%\nA-2,乙社区,10000,9,90%\n",
        encoding="utf-8",
    )
    result = zhili("eval", model_dir / "model.gov", data, "--format", "json")
    assert result.exit_code == 0, result.output
    got = {
        c["community"]: (c["total"], c["grade"]) for c in json.loads(result.stdout)["communities"]
    }
    assert got == {"甲社区": (10.0, "达标"), "乙社区": (0.0, "未达标")}


def test_eval_invalid_model_file(tmp_path):
    bad = tmp_path / "bad.gov"
    bad.write_text(BAD_GOV, encoding="utf-8")
    result = zhili("eval", bad, sample_of("four_type"))
    assert result.exit_code == 1
    assert "unit-mismatch" in result.stderr
    assert "bad.gov has errors" in result.stderr


def test_eval_output_to_unwritable_path(tmp_path):
    result = zhili("eval", "four_type", "-o", tmp_path / "no" / "dir" / "x.txt")
    assert result.exit_code == 1
    assert "cannot write" in result.stderr


# ---------------------------------------------------------------- explain


def test_explain_one_community():
    rec = sample_rows("four_type")[0]
    result = zhili("explain", "four_type", sample_of("four_type"), "--community", rec["社区"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{rec['社区']}: grade ")
    assert "Points" in result.stdout and "= total" in result.stdout


def test_explain_by_community_id_matches_by_name():
    rec = sample_rows("four_type")[1]
    by_name = zhili("explain", "four_type", sample_of("four_type"), "-c", rec["社区"])
    by_id = zhili("explain", "four_type", sample_of("four_type"), "-c", rec["社区编码"])
    assert by_id.exit_code == by_name.exit_code == 0
    assert by_id.stdout == by_name.stdout


def test_explain_matches_an_id_as_ids_are_compared():
    """Lower case, full-width letters: the id in the form duplicates are found in."""
    rec = sample_rows("four_type")[1]
    by_id = zhili("explain", "four_type", sample_of("four_type"), "-c", rec["社区编码"])
    wide = rec["社区编码"].lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    loose = zhili("explain", "four_type", sample_of("four_type"), "-c", f" {wide}")
    assert loose.exit_code == by_id.exit_code == 0, loose.output
    assert loose.stdout == by_id.stdout


def test_explain_json():
    rec = sample_rows("five_governance")[0]
    result = zhili("explain", "five_governance", "-c", rec["社区编码"], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["community_id"] == rec["社区编码"] and data["model"] == "five_governance"


def test_explain_unknown_community():
    result = zhili("explain", "four_type", sample_of("four_type"), "--community", "不存在社区")
    assert result.exit_code == 1
    assert "不存在社区" in result.stderr
    assert sample_rows("four_type")[0]["社区编码"] in result.stderr  # examples
    assert result.stdout == ""


def test_explain_needs_a_community():
    result = zhili("explain", "four_type")
    assert result.exit_code == 2


# ---------------------------------------------------------------- sample


def test_sample_is_reproducible(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((a, 3), (b, 3), (c, 4)):
        result = zhili("sample", "four_type", "--rows", "50", "--seed", seed, "-o", path)
        assert result.exit_code == 0, result.output
    assert a.read_bytes() == b.read_bytes(), "same seed must give identical bytes"
    assert a.read_bytes() != c.read_bytes(), "a different seed must give different data"
    with a.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == 50


@pytest.mark.parametrize("model_id", MODELS)
def test_sample_evaluates(model_id, tmp_path):
    path = tmp_path / f"{model_id}.csv"
    result = zhili("sample", model_id, "--rows", "50", "--seed", "3", "-o", path)
    assert result.exit_code == 0, result.output
    ev = zhili("eval", model_id, path, "--format", "json")
    assert ev.exit_code == 0, ev.output
    assert len(json.loads(ev.stdout)["communities"]) == 50
    table = zhili("eval", model_id, path)
    assert len(table_rows(table.stdout)) == 50


def test_sample_bad_arguments(tmp_path):
    assert zhili("sample", "four_type", "--rows", "0", "-o", tmp_path / "x.csv").exit_code == 2
    assert zhili("sample", "four_type", "--rows", "5").exit_code == 2  # -o is required
    assert zhili("sample", "nope", "-o", tmp_path / "x.csv").exit_code == 2
    bad_dir = zhili("sample", "four_type", "--rows", "5", "-o", tmp_path / "no" / "x.csv")
    assert bad_dir.exit_code == 1 and "cannot write" in bad_dir.stderr


# ---------------------------------------------------------------- demo, fmt, languages, help


@pytest.mark.parametrize("model_id", [None, *MODELS])
def test_demo(model_id):
    result = zhili("demo", *([model_id] if model_id else []))
    assert result.exit_code == 0, result.output
    shown = model_id or "four_type"
    assert len(table_rows(result.stdout)) == len(sample_rows(shown))
    assert f"zhili explain {shown} --community" in result.stdout


def test_fmt_check_builtin_models():
    result = zhili("fmt", "--check", PLUGINS)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lang_is_accepted(lang):
    for args in (["models"], ["check", PLUGINS], ["eval", "four_type"]):
        result = zhili(*args, lang=lang)
        assert result.exit_code == 0, result.output


def test_lang_zh_reports_errors_too(tmp_path):
    missing = tmp_path / "nope.csv"
    en = zhili("eval", "four_type", missing, lang="en")
    zh = zhili("eval", "four_type", missing, lang="zh")
    assert en.exit_code == zh.exit_code == 1
    assert en.stderr and zh.stderr


def test_unknown_lang_is_a_usage_error():
    assert zhili("models", lang="fr").exit_code == 2


def test_unknown_command_and_option():
    assert zhili("frobnicate").exit_code == 2
    assert zhili("models", "--frobnicate").exit_code == 2


COMMANDS = sorted(cli.commands)


def test_commands_are_the_documented_ones():
    assert {"models", "check", "fmt", "test", "eval", "explain", "sample", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_mentions_exit_codes(command):
    result = zhili(*([command] if command else []), "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 success" in text
    assert "1 problems found" in text and "2 bad command line" in text
    assert "3 internal error" in text


# ---------------------------------------------------------------- the installed script


def test_script_version_and_models():
    assert ZHILI.exists(), f"the zhili script is not installed at {ZHILI}"
    version = run_script("--version")
    assert version.returncode == 0 and "zhili" in version.stdout
    models = run_script("--lang", "en", "models", "--json")
    assert models.returncode == 0, models.stderr
    assert set(MODELS) <= {m["id"] for m in json.loads(models.stdout)["models"]}


def test_script_demo(tmp_path):
    # from another folder: the bundled sample data must come with the package
    proc = run_script("--lang", "en", "demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(table_rows(proc.stdout)) == len(sample_rows("four_type"))


def test_script_check_and_test():
    check = run_script("--lang", "en", "check", "plugins/")
    assert check.returncode == 0, check.stdout + check.stderr
    test = run_script("--lang", "en", "test")
    assert test.returncode == 0, test.stdout + test.stderr
    assert " passed, 0 failed" in test.stdout


def test_script_exit_codes_for_errors(tmp_path):
    unknown = run_script("--lang", "en", "eval", "no_such_model")
    assert unknown.returncode == 2 and "four_type" in unknown.stderr
    missing = run_script("--lang", "en", "eval", "four_type", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "nope.csv" in missing.stderr
    usage = run_script("--no-such-option")
    assert usage.returncode == 2


def test_script_python_m(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "zhili.cli", "--lang", "en", "models"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "four_type" in proc.stdout


# ---------------------------------------------------------------- internal errors


def test_internal_error_is_exit_3_without_traceback(monkeypatch, capsys):
    from zhili.cli import app as cli_mod
    from zhili.cli import evaluate

    def broken(ev):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(evaluate, "summary_text", broken)
    with pytest.raises(SystemExit) as exc:
        cli_mod.main(["--lang", "en", "demo"])
    assert exc.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: simulated bug" in err
    assert "ZHILI_DEBUG=1" in err
    assert "Traceback" not in err


def test_zhili_debug_shows_the_exception(monkeypatch):
    from zhili.cli import app as cli_mod
    from zhili.cli import evaluate

    def broken(ev):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(evaluate, "summary_text", broken)
    monkeypatch.setenv("ZHILI_DEBUG", "1")
    with pytest.raises(RuntimeError, match="simulated bug"):
        cli_mod.main(["--lang", "en", "demo"])


def test_every_command_module_level_in_cli_is_in_the_group():
    """Commands are module-level objects added to the group in cli/app.py; one
    defined but not added would silently vanish from `zhili`."""
    import importlib
    import pkgutil

    import click

    import zhili.cli
    from zhili.cli.app import cli as group

    def reachable(g: click.Group) -> set:
        out = set()
        for c in g.commands.values():
            out.add(c)
            if isinstance(c, click.Group):
                out |= reachable(c)
        return out

    registered = reachable(group)
    defined = []
    for info in pkgutil.iter_modules(zhili.cli.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"zhili.cli.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, click.Command) and obj.callback.__module__ == module.__name__:
                defined.append((info.name, name, obj))
    assert len(defined) >= 18  # 15 commands, the runs group and its 3 commands, the group
    missing = [f"{m}.{n}" for m, n, obj in defined if obj not in registered and obj is not group]
    assert not missing, f"commands not added to the group: {missing}"
