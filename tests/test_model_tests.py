"""Model test cases (`zhili test`): `given` blocks and data-file cases, run by
`zhili.engine.testing.run_cases` against the reference interpreter."""

from __future__ import annotations

from pathlib import Path

from zhili.dsl.checker import check
from zhili.dsl.model import Model
from zhili.dsl.parser import parse
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.testing import run_cases

MODEL = """model safe "平安社区评价"
total 20
input a: bool label "是否实现多网合一"
input n: int label "安全事故数"
input rate: percent label "调解成功率" optional
dimension s "平安" points 20 {
    indicator p "多网合一" points 10 { pass when a }
    indicator q "事故控制" points 10 { deduct 2 per n }
}
indicator b "加分" points 2 { bonus when rate >= 95% }
veto v "重大事故" when n > 4 caps "未达标"
grades {
    "达标" when total >= 15
    "未达标" otherwise
}
"""

PASSING = """
test "全部达标" {
    given { a = true  n = 0  rate = 96% }
    expect grade "达标"
    expect total 22
    expect dimension s 20
    expect indicator p pass points 10
    expect indicator q pass points 10
    expect indicator b pass points 2
    expect no veto
    expect missing 0
}

test "部分失分" {
    given { a = false  n = 3  rate = 90% }
    expect grade "未达标"
    expect total 4.0 within 0.001
    expect dimension s 4 within 0.5
    expect indicator p fail points 0
    expect indicator q partial points 4
    expect indicator b fail
    expect no veto
}

test "一票否决" {
    given { a = true  n = 5 }
    expect veto v
    expect grade "未达标"
    expect indicator q fail points 0
    expect total 10
}

test "缺失数据" {
    given { a = missing  n = 1 }
    expect indicator p missing points 0
    expect indicator b missing
    expect missing 2
    expect total 8
}
"""

FAILING = """
test "都错了" {
    given { a = false  n = 5  rate = 90% }
    expect grade "达标"
    expect total 12.5
    expect dimension s 3
    expect indicator p pass
    expect indicator q partial points 4
    expect no veto
    expect missing 1
}

test "没有否决" {
    given { a = true  n = 0 }
    expect veto v
    expect indicator p missing
    expect total 20.4 within 0.1
}
"""


def build(src: str, file: str = "<string>") -> tuple[Model, object]:
    parsed = parse(src, file)
    assert parsed.ok, [str(d) for d in parsed.diagnostics]
    checked = check(parsed.tree, src)
    errors = [d.message for d in checked.diagnostics if d.is_error]
    assert not errors, errors
    return checked.model, compile_model(checked.model)


def test_passing_cases_of_every_expectation_kind():
    model, compiled = build(MODEL + PASSING)
    kinds = {x.kind for t in model.tests for x in t.expectations}
    assert kinds == {"grade", "total", "dimension", "indicator", "veto", "no_veto", "missing"}
    results = run_cases(model.tests, compiled)
    assert [r.case.name for r in results] == ["全部达标", "部分失分", "一票否决", "缺失数据"]
    for r in results:
        assert r.passed, (r.case.name, r.failures, r.error)
        assert r.failures == [] and r.error is None


def test_failing_cases_say_what_was_expected_and_what_came_out():
    model, compiled = build(MODEL + FAILING, "safe.gov")
    first, second = run_cases(model.tests, compiled)
    assert not first.passed and first.error is None
    assert first.failures == [
        "grade: expected '达标', got '未达标'",
        "total: expected 12.5, got 0",
        "dimension s: expected 3 points, got 0",
        "indicator p: expected pass, got fail (value False, 0 points)",
        "indicator q: expected partial, got fail (value 5, 0 points)",
        "indicator q: expected 4 points, got 0",
        "expected no veto, got v",
        "missing: expected 1, got 0",
    ]
    assert second.failures == [
        "veto v: expected triggered, it was not",
        "indicator p: expected missing, got pass (value True, 10 points)",
        "total: expected 20.4, got 20",
    ]
    assert first.where == "safe.gov:17"  # the line of `test "都错了"`
    assert second.where.startswith("safe.gov:")


def test_missing_outcome_failure_shows_the_reason():
    src = (
        MODEL
        + """
test "调解率缺失" {
    given { a = true  n = 0 }
    expect indicator b pass
}
"""
    )
    model, compiled = build(src)
    (r,) = run_cases(model.tests, compiled)
    assert r.failures == ["indicator b: expected pass, got missing (no value for `rate`)"]


def test_tolerance_of_total(tmp_path):
    src = (
        MODEL
        + """
test "近似" {
    given { a = true  n = 1  rate = 90% }
    expect total 18.05 within 0.1
    expect dimension s 17.95 within 0.1
}
test "太远" {
    given { a = true  n = 1  rate = 90% }
    expect total 18.2 within 0.1
}
"""
    )
    model, compiled = build(src)
    close, far = run_cases(model.tests, compiled)
    assert close.passed
    assert far.failures == ["total: expected 18.2, got 18"]


DATA_CSV = (
    "社区编码,社区,是否实现多网合一,安全事故数,调解成功率\n"
    "JT-001,金台社区,是,1,98%\n"
    "JT-002,渭滨社区,否,0,\n"
    "JT-003,陈仓社区,是,abc,90\n"
)

DATA_TESTS = """
test "金台社区" {
    data "communities.csv" community "JT-001"
    expect grade "达标"
    expect total 20
    expect indicator b pass points 2
    expect no veto
}

test "按名称找社区" {
    data "communities.csv" community "渭滨社区"
    expect total 10
    expect indicator b missing
    expect missing 1
}

test "无法读取的单元格记为缺失" {
    data "communities.csv" community "JT-003"
    expect indicator q missing
    expect total 10
}

test "不存在的社区" {
    data "communities.csv" community "XX-999"
    expect total 10
}

test "不存在的文件" {
    data "nowhere.csv" community "JT-001"
    expect total 10
}
"""


def test_data_file_cases(tmp_path):
    model_path = tmp_path / "models" / "safe.gov"
    model_path.parent.mkdir()
    src = MODEL + DATA_TESTS
    model_path.write_text(src, encoding="utf-8")
    (model_path.parent / "communities.csv").write_text(DATA_CSV, encoding="utf-8")
    model, compiled = build(src, str(model_path))
    jt, by_name, bad_cell, unknown, no_file = run_cases(model.tests, compiled)
    for r in (jt, by_name, bad_cell):
        assert r.passed, (r.case.name, r.failures, r.error)
    # an unknown community or file is an error of the case, not a crash
    assert not unknown.passed and unknown.failures == []
    assert unknown.error == "community 'XX-999' is not in communities.csv"
    assert not no_file.passed and no_file.failures == []
    assert no_file.error == f"{Path(model_path).parent / 'nowhere.csv'}: no such file"


def test_tests_in_a_file_of_their_own(tmp_path):
    model, compiled = build(MODEL)
    src = """tests for safe

test "单独的测试文件" {
    given { a = true  n = 2 }
    expect total 16
    expect grade "达标"
}
"""
    path = tmp_path / "safe.tests.gov"
    parsed = parse(src, str(path))
    assert parsed.ok, parsed.diagnostics
    checked = check(parsed.tree, src)
    assert checked.ok, [d.message for d in checked.diagnostics]
    (r,) = run_cases(checked.tests, compiled)
    assert r.passed, r.failures
    assert r.case.model == "safe"


# ---------------------------------------------------------------- running `zhili test`

STARS = """model stars "星级"
version "1"
issuer "测试"
source "测试"

input a: number label "得分"

indicator x "X" points 10 {
    linear a from 0 to 7
}

grades {
    "好" when total >= 5
    "差" otherwise
}
"""

STARS_TESTS = """tests for stars

test "七分之十二" {
    given { a = 1.2 }
    expect total 1.71
}

test "满分" {
    given { a = 7 }
    expect total 10
}
"""


def _stars(tmp_path: Path, tests: str = STARS_TESTS) -> Path:
    folder = tmp_path / "stars"
    folder.mkdir()
    (folder / "stars.gov").write_text(STARS, encoding="utf-8")
    (folder / "stars_tests.gov").write_text(tests, encoding="utf-8")
    return folder


def test_a_failure_prints_the_value_in_full_and_the_tolerance(tmp_path):
    from cli_helpers import zhili

    folder = _stars(tmp_path)
    result = zhili("test", folder / "stars_tests.gov")
    assert result.exit_code == 1
    # 1.2 / 7 × 10 = 1.714285714…: "got 1.71" would not say why it failed
    assert "total: expected 1.71, got 1.714285714 (default tolerance 0.000001" in result.output
    assert "1 passed, 1 failed" in result.output


def test_a_tests_file_runs_alone_against_the_model_beside_it(tmp_path):
    from cli_helpers import zhili

    folder = _stars(
        tmp_path, STARS_TESTS.replace("expect total 1.71", "expect total 1.71 within 0.01")
    )
    (folder / "more_tests.gov").write_text(
        'tests for stars\n\ntest "零分" {\n    given { a = 0 }\n    expect total 3\n}\n',
        encoding="utf-8",
    )
    alone = zhili("test", folder / "stars_tests.gov")
    assert alone.exit_code == 0, alone.output
    assert "stars (2) .." in alone.output  # only this file's two tests
    with_model = zhili("test", folder / "stars.gov")
    assert "stars (3)" in with_model.output and with_model.exit_code == 1
    assert "total: expected 3, got 0" in with_model.output


def test_a_model_id_is_found_in_the_current_folder(tmp_path, monkeypatch):
    from cli_helpers import zhili

    folder = _stars(
        tmp_path, STARS_TESTS.replace("expect total 1.71", "expect total 1.71 within 0.01")
    )
    monkeypatch.chdir(folder)
    by_id = zhili("test", "stars")
    assert by_id.exit_code == 0, by_id.output
    assert "2 passed, 0 failed" in by_id.output
    folder.rename(tmp_path / "district")
    monkeypatch.chdir(tmp_path)  # one level up: `district/stars.gov`
    above = zhili("test", "stars")
    assert above.exit_code == 0, above.output
    assert "2 passed" in above.output
    unknown = zhili("test", "nebula")
    assert unknown.exit_code == 2 and "unknown model 'nebula'" in unknown.output


def test_a_folder_target_runs_its_models(tmp_path):
    from cli_helpers import zhili

    folder = _stars(tmp_path)
    result = zhili("test", folder)
    assert "stars (2) F." in result.output
    assert result.exit_code == 1


def test_a_label_in_given_is_an_error_that_names_the_id(tmp_path):
    from cli_helpers import zhili

    folder = _stars(tmp_path, STARS_TESTS.replace("given { a = 7 }", "given { 得分 = 7 }"))
    result = zhili("test", folder / "stars_tests.gov")
    assert result.exit_code == 1
    assert "`得分` is the label of input `a`; write `a = …`" in result.output
    assert "has errors" in result.output


def test_a_suite_attached_unchecked_does_not_run_with_unknown_names():
    """Suites of installed plugins are attached to their models without their
    names checked; a `given` naming no input makes the case an error, never a
    run with that value silently missing."""
    from zhili.dsl.model import TestCase as Case

    _, compiled = build(MODEL)
    case = Case(name="标签", model="safe", given={"安全事故数": 0}, expectations=[], file="x.gov")
    (result,) = run_cases([case], compiled)
    assert not result.passed
    assert result.error == "`安全事故数` is the label of input `n`; write `n = …`"


def test_a_suite_beside_a_model_that_does_not_check_is_not_run(tmp_path):
    """`zhili test model.gov` and `zhili test FOLDER` run a suite only when it
    checks against its model: a value `zhili check` refuses (here a bound
    beyond the input's range is fine, an unknown enum value is not) is never
    run as something else."""
    from cli_helpers import zhili

    enum_model = STARS.replace(
        'input a: number label "得分"',
        'input a: number label "得分"\ninput k: enum("甲", "乙") label "类别"',
    )
    folder = _stars(tmp_path, STARS_TESTS.replace("given { a = 7 }", 'given { a = 7  k = "丙" }'))
    (folder / "stars.gov").write_text(enum_model, encoding="utf-8")
    for target in (folder / "stars.gov", folder):
        result = zhili("test", target)
        assert result.exit_code == 1, result.output
        assert "'丙' is not a value of `k`" in result.output
        assert "passed" in result.output and "stars (0)" in result.output


def test_a_suite_runs_against_the_model_of_its_own_folder(tmp_path, monkeypatch):
    """Two folders with models of one id: a suite never runs against the
    other folder's model (it is named as shadowed, and the run fails)."""
    from cli_helpers import zhili

    root = tmp_path / "repo"
    root.mkdir()
    mine = _stars(root, STARS_TESTS.replace("expect total 1.71", "expect total 1.71 within 0.01"))
    other = root / "0_other"  # sorted first: its model is the one the registry keeps
    other.mkdir()
    (other / "stars.gov").write_text(
        STARS.replace("linear a from 0 to 7", "linear a from 0 to 70"), encoding="utf-8"
    )
    monkeypatch.chdir(root)  # `zhili test` in the district's repository
    result = zhili("test")
    assert result.exit_code == 1, result.output
    assert "FAILED" not in result.output
    assert (
        f"{(mine / 'stars_tests.gov').relative_to(root)}: its tests were not run" in result.output
    )
    assert "shadowed by" in result.output
