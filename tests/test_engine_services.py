"""What the CLI asks of the engine, without click: resolving a model
reference, the data-problem policy and recording a run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zhili.engine.io.policy import (
    SHOWN_PROBLEMS,
    NoSampleData,
    data_source,
    problem_report,
)
from zhili.engine.io.table import DataProblem
from zhili.engine.plugins import Registry
from zhili.engine.resolve import (
    InvalidModelFile,
    NoSuchModelFile,
    UnknownModel,
    check_paths,
    resolve_model,
)

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


def test_an_installed_id_resolves_to_the_plugins_model(registry):
    lm = resolve_model(registry, "four_type")
    assert lm.plugin == "four_type" and lm.model.id == "four_type"


def test_an_unknown_id_lists_the_installed_models(registry):
    with pytest.raises(UnknownModel) as exc:
        resolve_model(registry, "nosuch")
    assert {"four_type", "five_governance", "wuyou_model"} <= set(exc.value.known)
    assert exc.value.known == sorted(exc.value.known)


def test_a_missing_gov_file_is_its_own_error(registry, tmp_path):
    with pytest.raises(NoSuchModelFile):
        resolve_model(registry, str(tmp_path / "nope.gov"))


def test_a_model_file_brings_its_samples_and_the_test_suites_beside_it(registry, tmp_path):
    for name in ("model.gov", "tests.gov", "sample.csv"):
        shutil.copy(PLUGINS / "four_type" / name, tmp_path / name)
    lm = resolve_model(registry, str(tmp_path / "model.gov"))
    assert lm.plugin == "file"
    assert lm.samples == [tmp_path / "sample.csv"]
    assert len(lm.tests) == len(registry.get("four_type").tests) > 0


def test_a_broken_model_file_reports_its_errors_then_raises(registry, tmp_path):
    bad = tmp_path / "bad.gov"
    bad.write_text('model bad "坏"\nindicator x {\n', encoding="utf-8")
    seen = []
    with pytest.raises(InvalidModelFile):
        resolve_model(registry, str(bad), report=lambda d, text: seen.append(d))
    assert seen and all(d.is_error or d.severity.name == "WARNING" for d in seen)


def test_check_paths_resolves_a_test_suite_against_an_installed_model(registry, tmp_path):
    suite = tmp_path / "more_tests.gov"
    suite.write_text(
        (PLUGINS / "four_type" / "tests.gov").read_text(encoding="utf-8"), encoding="utf-8"
    )
    files, results = check_paths(registry, [tmp_path], str)
    assert files == [suite]
    assert not [d for r in results for d in r.diagnostics if d.is_error]
    # the same suite for a model nobody provides: an unknown name, with suggestions
    suite.write_text(
        suite.read_text(encoding="utf-8").replace("tests for four_type", "tests for four_typo"),
        encoding="utf-8",
    )
    _files, results = check_paths(registry, [tmp_path], str)
    codes = [d.code for r in results for d in r.diagnostics if d.is_error]
    assert codes and all("unknown" in c for c in codes)


def _problem(severity: str, row: int | None = 2, column: str | None = "x") -> DataProblem:
    return DataProblem("f.csv", row, column, "?", "bad", severity)


def test_warnings_stop_only_a_strict_run():
    problems = [_problem("warning")]
    assert not problem_report(problems, strict=False).stops
    assert problem_report(problems, strict=True).stops
    assert problem_report([_problem("error")], strict=False).stops


def test_info_is_quiet_except_a_skipped_row():
    report = problem_report([_problem("info"), _problem("info", column=None)], strict=True)
    assert report.lines == ["note: f.csv:2: bad ('?')"]
    assert not report.stops


def test_a_wall_of_problems_is_cut_and_counted():
    report = problem_report([_problem("warning")] * (SHOWN_PROBLEMS + 7), strict=False)
    assert len(report.lines) == SHOWN_PROBLEMS + 1
    assert report.lines[-1] == "… and 7 more data problems"


def test_without_data_the_bundled_sample_is_read(tmp_path):
    sample = tmp_path / "sample.csv"
    assert data_source([sample], None, "m").is_sample
    assert data_source([sample], "x.csv", "m").path == Path("x.csv")
    with pytest.raises(NoSampleData):
        data_source([], None, "m")


def test_a_run_store_that_cannot_be_written_is_run_not_recorded(registry, tmp_path):
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io.data import load
    from zhili.engine.runs.record import RunNotRecorded, record_run

    lm = registry.get("four_type")
    ev = evaluate_dataset(lm.model, load(lm.samples[0], lm.model), registry)
    not_a_db = tmp_path / "runs.sqlite"
    not_a_db.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(RunNotRecorded):
        record_run(ev, "eval", {}, str(not_a_db), started=0.0)
    db = tmp_path / "ok.sqlite"
    assert record_run(ev, "eval", {}, str(db), started=0.0) == 1
