"""Bonus and deduction sections (加分项合计最高, 减分项从总分中扣除) end to end:
the checker's help for misuse, the formatter, `zhili explain` and the gap in
both languages, the reports, the run store and the TUI detail, on the
example sheets of `docs/examples/` (nian_du: 附加分 max 10 and 减分项 max 10;
wan_zheng: 加分项 max 5). Scores are worked out by hand from the sheets'
rules (docs/examples/*/model.gov); tests/semantics/sections.toml holds the
arithmetic on both backends."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from cli_helpers import zhili
from openpyxl import load_workbook

from zhili.dsl.checker import check
from zhili.dsl.formatter import format_source
from zhili.dsl.i18n import set_language
from zhili.dsl.parser import parse

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
NIAN_DU = EXAMPLES / "nian_du"
WAN_ZHENG = EXAMPLES / "wan_zheng"

HEAD = 'model m "M"\nversion "1"\nissuer "i"\nsource "s"\ntotal 10\n'


@pytest.fixture(autouse=True)
def _english():
    set_language("en")
    yield
    set_language("en")


def _diagnostics(body: str) -> list:
    text = HEAD + body + '\ngrades { "a" otherwise }\n'
    pr = parse(text, "m.gov")
    assert pr.ok, pr.diagnostics
    return check(pr.tree, text).diagnostics


# ---------------------------------------------------------------- checks


def test_a_deduct_item_in_a_penalty_section_is_told_to_write_penalty():
    diags = _diagnostics(
        "input n: int range 0..10\ninput a: bool\n"
        'indicator x "x" points 10 { pass when a }\n'
        'dimension 减分 "减分项" max 10 {\n'
        '    indicator 事故 "事故" points 5 { deduct 5 per n }\n}\n'
    )
    found = [d for d in diags if d.code == "section-max"]
    assert len(found) == 1
    assert "`max` on `减分`: it must hold only bonus or only penalty items" in found[0].message
    assert any("write it as a penalty" in n and "penalty 5 per" in n for n in found[0].notes)


def test_a_penalty_with_points_is_told_to_write_max():
    diags = _diagnostics(
        "input n: int range 0..10\ninput a: bool\n"
        'indicator x "x" points 10 { pass when a }\n'
        'indicator 事故 "事故" points 5 { penalty 5 per n }\n'
    )
    (d,) = [d for d in diags if d.code == "penalty-points"]
    assert "help: remove `points 5`" in d.notes[0] and "`penalty 5 per 事故数 max 5`" in d.notes[0]


def test_an_indicator_without_points_is_named_and_a_penalty_may_have_none():
    diags = _diagnostics(
        "input n: int range 0..10\ninput a: bool\n"
        'indicator x "x" points 10 { pass when a }\n'
        'indicator y "y" { pass when a }\n'
        'indicator 事故 "事故" { penalty 5 per n }\n'
    )
    assert [d.code for d in diags if d.is_error] == ["syntax-indicator-points"]
    (d,) = [d for d in diags if d.code == "syntax-indicator-points"]
    assert (d.span.line, d.span.column) == (9, 17)  # the `{` where `points N` belongs


def test_a_section_cap_that_cannot_bind_is_a_warning_and_one_that_can_is_not():
    bonus = (
        "input a: bool\n"
        'indicator x "x" points 10 {{ pass when a }}\n'
        'dimension 加分 "加分项" max {cap} {{\n'
        '    indicator b1 "b1" points 3 {{ bonus when a }}\n'
        '    indicator b2 "b2" points 2 {{ bonus when not a }}\n}}\n'
    )
    never = [d for d in _diagnostics(bonus.format(cap=5)) if d.code == "cap-never-binds"]
    assert [d.message for d in never] == [
        "the cap 5 can never bind: the bonus items add at most 5 together"
    ]
    assert not [d for d in _diagnostics(bonus.format(cap=4)) if d.code == "cap-never-binds"]
    unbounded = (
        "input n: int\ninput a: bool\n"
        'indicator x "x" points 10 { pass when a }\n'
        'dimension 减分 "减分项" max 100 {\n    indicator p "p" { penalty 1 per n }\n}\n'
    )
    assert not [d for d in _diagnostics(unbounded) if d.code == "cap-never-binds"]


def test_the_new_forms_format_stably():
    source = (NIAN_DU / "model.gov").read_text(encoding="utf-8")
    once, _ = format_source(source)
    assert once == source  # the example is written as `zhili fmt` writes it
    block = HEAD + (
        "input n: int\ninput r: percent\n"
        'indicator x "x" points 10 { pass when n > 0 }\n'
        'dimension 减分 "减分项" max 10 { indicator p "p" { penalty max 6 {\n'
        '3 per n "事故"  2 per 10% or part of r below 90% max 4  tiers r "满意" { < 80% : 2 } } }\n'
        'indicator q "q" { penalty tiers r "满意度" { < 80% : 2  < 90% : 1 } } }\n'
        'grades { "a" otherwise }\n'
    )
    formatted, _ = format_source(block)
    assert format_source(formatted)[0] == formatted
    assert 'dimension 减分 "减分项" max 10 {' in formatted
    assert '        penalty max 6 {\n            3 per n "事故"\n' in formatted
    assert '        penalty tiers r "满意度" {\n' in formatted
    assert parse(formatted).tree == parse(block).tree


# ---------------------------------------------------------------- explain and gap


def test_explain_shows_a_capped_penalty_section_and_its_items():
    # 五一社区: 100 points; 通报 2 × 3 = 6, 上访 3 × 2 = 6: 12 taken, at most 10
    out = zhili("explain", NIAN_DU / "model.gov", NIAN_DU / "data.csv", "-c", "五一社区").output
    assert "五一社区: grade 优秀, total 90 of 100" in out
    assert "■ 减分项  -10  (at most 10 deducted in all: the items took 12, 10 counted)" in out
    assert "✗ 被区级以上通报批评 [通报] −  -6  fail" in out
    assert "−6: 被通报批评次数 2 次 × 3 → 6 taken from the total" in out
    assert "−6: 越级集体上访数 3 起 × 2 → 6 taken from the total" in out


def test_explain_shows_a_capped_bonus_section_with_the_items_as_earned():
    # 南郊社区: 站点 7 → its own max 5; 规模 floor(1500 / 1000) = 1: 6 earned, 5 added
    out = zhili("explain", WAN_ZHENG / "model.gov", WAN_ZHENG / "data.csv", "-c", "南郊社区").output
    assert "■ 加分项  +5  (at most 5 added: the items earned 6, 5 counted)" in out
    assert "✓ 特色服务站点 [站点] +  5/5  pass" in out
    assert "✓ 社区规模 [规模] +  1/2  pass" in out


def test_explain_in_chinese():
    out = zhili(
        "explain", NIAN_DU / "model.gov", NIAN_DU / "data.csv", "-c", "五一社区", lang="zh"
    ).output
    assert "■ 减分项  -10  (合计最多扣10分：各项合计扣12分，计10分)" in out
    assert "扣6分：被通报批评次数 2 次（每个扣3分） → 从总分中扣6分" in out


def test_the_gap_names_a_penalty_and_what_removing_it_regains():
    # 幸福社区 60 (合格) needs 80 for 良好: 通报 2 × 3 = 6 taken, all of it regained
    out = zhili("explain", NIAN_DU / "model.gov", NIAN_DU / "data.csv", "-c", "幸福社区").output
    assert (
        "被区级以上通报批评: deducts 6; 6 regained without it (the total needs 20)"
        " — 被通报批评次数 2 → 0 (regains 6)"
    ) in out


def test_the_gap_of_a_capped_section_below_the_top_grade(tmp_path):
    # 党建 10 less (90), then 通报 3 × 3 = 9 and 上访 2 × 2 = 4: 13 taken, 10 counted: 80
    # (良好). For 优秀 it needs 10: without 通报 4 are taken (regains 6), without
    # 上访 9 are (regains 1).
    rows = (NIAN_DU / "data.csv").read_text(encoding="utf-8").splitlines()
    data = tmp_path / "d.csv"
    data.write_text(
        rows[0] + "\nX1,和平街道,测试社区,2025年度,10,100%,10,10,0,95%,无,0,3,2\n",
        encoding="utf-8",
    )
    out = zhili("explain", NIAN_DU / "model.gov", data, "-c", "测试社区").output
    assert "total 80 of 100" in out
    assert "被区级以上通报批评: deducts 9; 6 regained without it (the total needs 10)" in out
    assert "越级集体上访: deducts 4; 1 regained without it (the total needs 10)" in out


# ---------------------------------------------------------------- outputs


def test_eval_csv_holds_negative_points_and_section_scores(tmp_path):
    out = tmp_path / "o.csv"
    result = zhili(
        "eval", NIAN_DU / "model.gov", NIAN_DU / "data.csv", "--no-record", "-o", out,
        "--detail",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["community"]: r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
    five = rows["五一社区"]
    assert (five["total"], five["减分"], five["附加"]) == ("90.0", "-10.0", "0.0")
    columns = list(five)
    points = next(c for c in columns if "通报" in c and ("points" in c or "分" in c))
    assert five[points] == "-6.0", columns


def test_reports_show_the_sections(tmp_path):
    # 安康社区: 79.31 + 附加分 10 (12 earned) − 通报 3 = 86.31
    for suffix in ("md", "html", "xlsx"):
        result = zhili(
            "report", NIAN_DU / "model.gov", NIAN_DU / "data.csv", "-o", tmp_path / f"r.{suffix}",
            "--no-record",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| ND-02 | 安康社区 | 和平街道 | 86.31 | 良好 | 79.31 | 10 | -3 |" in md
    assert "| ND-05 | 五一社区 | 和平街道 | 90 | 优秀 | 100 | 0 | -10 |" in md
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "减分项" in html and "-10" in html
    wb = load_workbook(tmp_path / "r.xlsx")
    cells = [
        [c for c in row]
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        if "五一社区" in row
    ]
    assert any(90 in row and -10 in row for row in cells), cells


def test_the_run_store_keeps_and_compares_penalties(tmp_path, monkeypatch):
    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("ZHILI_DB", str(db))
    rows = (NIAN_DU / "data.csv").read_text(encoding="utf-8").splitlines()
    changed = tmp_path / "d2.csv"
    # 五一社区: 上访 3 → 0, 通报 2 → 1: 3 taken, 97
    rows[-1] = rows[-1].rsplit(",", 2)[0] + ",1,0"
    changed.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for data in (NIAN_DU / "data.csv", changed):
        result = zhili("eval", NIAN_DU / "model.gov", data, "-o", tmp_path / "o.csv")
        assert result.exit_code == 0, result.output
    show = zhili("runs", "show", "2").output
    assert "ND-05" in show and "97.00" in show
    diff = zhili("runs", "diff", "1", "2").output
    assert "total changed: 1" in diff
    assert "上访       -6 → 0   fail → pass" in diff
    assert "通报       -6 → -3  fail → fail" in diff


def test_zhili_test_expects_a_section_score(tmp_path):
    folder = tmp_path / "nian_du"
    folder.mkdir()
    (folder / "model.gov").write_bytes((NIAN_DU / "model.gov").read_bytes())
    (folder / "tests.gov").write_text(
        "tests for nian_du\n\n"
        'test "减分" {\n    given { 党建考核分 = 20  任务完成率 = 100%  实事计划 = 1  实事完成 = 1\n'
        "        安全事故 = 0  满意率 = 95%  荣誉 = []  创新案例 = 0  通报批评 = 4  越级上访 = 0 }\n"
        "    expect dimension 减分 -12\n}\n",
        encoding="utf-8",
    )
    run = zhili("test", folder / "model.gov")
    assert run.exit_code == 1
    assert "expected -12" in run.output and "got -10" in run.output, run.output


def test_tui_detail_shows_what_a_penalty_takes():
    pytest.importorskip("textual")
    from zhili.engine.plugins import Registry
    from zhili.tui.app import ZhiliApp, build_session
    from zhili.tui.screens.detail import DetailScreen
    from zhili.tui.widgets.outline import Outline
    from zhili.tui.widgets.vtable import VirtualTable

    reg = Registry(extra_dirs=[NIAN_DU])
    session = build_session(reg.get("nian_du"), NIAN_DU / "data.csv", reg)

    async def go():
        app = ZhiliApp(session, lang="en")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            table = app.main.query_one("#communities-table", VirtualTable)
            while table.current_row["community"] != "五一社区":
                await pilot.press("down")
                await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            tree = app.screen.query_one("#tree", Outline)
            items = {i.data: i for i in tree.items}
            assert items[("dimension", "减分")].points == "-10 (at most 10)"
            assert items[("dimension", "附加")].points == "0 (at most 10)"
            assert items[("indicator", "通报")].points == "-6"
            assert items[("indicator", "国家级")].points == "0/5"
            text = str(app.screen.explanation(("indicator", "上访")))
            assert "Points: -6" in text and "6 taken from the total" in text

    asyncio.run(go())


def test_a_district_refines_the_sections_and_diff_model_says_so(tmp_path):
    # the city's 减分项 of nian_du, refined: 通报 5 per time, 上访 dropped, a new
    # 迟报 item, the section's cap 8 instead of 10
    (tmp_path / "base.gov").write_bytes((NIAN_DU / "model.gov").read_bytes())
    district = tmp_path / "district.gov"
    district.write_text(
        'model nian_du_x "区级年度考核" extends nian_du\nversion "1"\nissuer "区"\nsource "区"\n'
        "override 通报 penalty 5 per 通报批评\ndrop 上访\n"
        'dimension 减分 max 8 {\n    indicator 迟报 "迟报材料" {\n'
        "        penalty 1 per 通报批评\n    }\n}\n",
        encoding="utf-8",
    )
    assert "0 errors, 0 warnings" in zhili("check", tmp_path).output
    diff = zhili("diff-model", tmp_path / "base.gov", district).output
    assert "~ dimension 减分 cap (max): 10 → 8" in diff
    assert (
        "~ indicator 通报 scoring: penalty { 3 per 通报批评 } → penalty { 5 per 通报批评 }" in diff
    )
    assert "+ indicator 迟报 迟报材料" in diff and "- indicator 上访 越级集体上访" in diff
    data = tmp_path / "d.csv"
    head = (NIAN_DU / "data.csv").read_text(encoding="utf-8").splitlines()[0]
    # 100 points; 通报 2: 2 × 5 + 迟报 2 × 1 = 12, at most 8: 92
    data.write_text(
        head + "\nX1,和平街道,测试社区,2025年度,20,100%,10,10,0,95%,无,0,2,0\n", encoding="utf-8"
    )
    out = zhili("explain", district, data, "-c", "测试社区").output
    assert "total 92 of 100" in out
    assert "■ 减分项  -8  (at most 8 deducted in all: the items took 12, 8 counted)" in out


def test_the_documented_example_checks_and_explains_as_documented(tmp_path):
    """docs/language.md, "Bonus and deduction sections": the worked model
    checks without a warning, is formatted, and `zhili explain` prints the
    lines the page quotes."""
    import re

    doc = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text("utf-8")
    section = doc[doc.index("### Bonus and deduction sections") :]
    section = section[: section.index("\n### ")]
    source = re.search(r"```gov\n(.*?)```", section, re.S).group(1)
    model = tmp_path / "model.gov"
    model.write_text(source, encoding="utf-8")
    assert "0 errors, 0 warnings" in zhili("check", model).output
    assert format_source(source)[0] == source
    data = tmp_path / "d.csv"
    data.write_text(
        "社区编码,社区,基础工作得分,获市级以上表彰,创新做法被推广,志愿服务人均时长,安全责任事故数,"
        "市级通报批评次数\nA,甲社区,90,是,是,25,0,0\nB,乙社区,90,否,否,0,1,3\n",
        encoding="utf-8",
    )
    quoted = re.findall(r"\n  `(■ [^`]*)`", section)
    out = zhili("explain", model, data, "-c", "A").output
    assert quoted and all(q in out for q in quoted), (quoted, out)
    assert "甲社区: grade 优秀, total 95 of 100" in out
    gap = re.search(r"\n  `(发生安全责任事故: [^`]*)`", section).group(1)
    out = zhili("explain", model, data, "-c", "B").output
    assert "total 80 of 100" in out and gap in out, out
