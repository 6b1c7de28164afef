"""An assessment round end to end, with real workbooks (openpyxl writes the
forms and fills them in the way Excel stores typed values; zhili reads them
back): the roster, `template --roster`, `eval --roster` with completeness,
`feedback`, a corrected return put back, evaluated clean."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import zhili
from openpyxl import Workbook, load_workbook

from zhili.engine.round.forms import META_SHEET
from zhili.engine.round.roster import read_roster

MODEL = """\
model round_demo "换届测评"
version "1"
issuer "测试"
source "测试"

input population: int label "常住人口" unit "人" range 0..1000000
input rate: percent label "调解成功率" range 0%..100%
input merged: bool label "是否多网合一"
input kind: enum("老旧小区", "商品房小区") label "社区类型"
input visited: date label "走访日期" optional
input volunteers: int label "志愿者人数" unit "人" range 0..10000 optional

indicator i1 "调解" points 50 { pass when rate >= 90% }
indicator i2 "网格" points 30 { pass when merged and population > 0 }
indicator i3 "志愿" points 10 { pass when volunteers >= 10 }
indicator i4 "类型" points 10 { pass when kind == "老旧小区" and visited >= 2024-01-01 }

grades { "优秀" when total >= 90  "合格" when total >= 60  "不合格" otherwise }
"""

ROSTER = (
    "社区编码,区,街道,社区,联系人\n"
    "001,金台区,东风路街道,长青社区,张三 13800000000\n"
    "002,金台区,东风路街道,新福社区,\n"
    "003,金台区,群众路街道,和平社区,\n"
    "004,渭滨区,桥南街道,红旗社区,李四\n"
)
# the form's columns: 社区编码 区 街道 社区 网格, then the inputs in model order
COL = {"population": "F", "rate": "G", "merged": "H", "kind": "I", "visited": "J", "vol": "K"}
EAST, MASSES, SOUTH = "金台区-东风路街道.xlsx", "金台区-群众路街道.xlsx", "渭滨区-桥南街道.xlsx"


@pytest.fixture
def round_dir(tmp_path):
    (tmp_path / "m.gov").write_text(MODEL, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "returns").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(cwd)


def _forms(by: str = "街道", folder: str = "forms"):
    r = zhili("template", "m.gov", "--roster", "roster.csv", "--by", by, "-o", folder)
    assert r.exit_code == 0, r.output
    return r


def _fill(ws, row: int, population, rate, merged, kind, visited=None, volunteers=None):
    """Cells as Excel stores what a person types: a number, a percent typed as
    85% (0.85 with a percent format), 是/否, an enum's text, a date."""
    ws[f"{COL['population']}{row}"] = population
    if rate is not None:
        cell = ws[f"{COL['rate']}{row}"]
        cell.value = rate
        cell.number_format = "0%"
    ws[f"{COL['merged']}{row}"] = merged
    ws[f"{COL['kind']}{row}"] = kind
    if visited is not None:
        cell = ws[f"{COL['visited']}{row}"]
        cell.value = visited
        cell.number_format = "yyyy-mm-dd"
    if volunteers is not None:
        ws[f"{COL['vol']}{row}"] = volunteers


def _return(form: Path, target: Path, fill, mtime: float | None = None) -> Path:
    wb = load_workbook(form)
    fill(wb["数据"])
    wb.save(target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def _json_eval(*extra):
    r = zhili(
        "eval",
        "m.gov",
        "returns",
        "--roster",
        "roster.csv",
        "--format",
        "json",
        "--no-record",
        *extra,
    )
    return r, (json.loads(r.stdout) if r.exit_code == 0 else None)


# ---------------------------------------------------------------- the roster


def test_roster_keeps_ids_as_text_and_reads_contacts(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(ROSTER, encoding="utf-8")
    roster = read_roster(path)
    assert [c.id for c in roster.communities] == ["001", "002", "003", "004"]
    assert roster.communities[0].contact == "张三 13800000000"
    assert list(roster.units("街道")) == [
        ("金台区", "东风路街道"),
        ("金台区", "群众路街道"),
        ("渭滨区", "桥南街道"),
    ]
    assert list(roster.units("区")) == [("金台区",), ("渭滨区",)]
    assert roster.problems == []


def test_roster_workbook_with_text_ids(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["社区编码", "区（县）", "街道", "社区名称"])
    ws.append(["0101", "金台区", "东风路街道", "长青社区"])
    ws["A2"].number_format = "@"
    wb.save(tmp_path / "r.xlsx")
    roster = read_roster(tmp_path / "r.xlsx")
    assert [(c.id, c.district, c.name) for c in roster.communities] == [
        ("0101", "金台区", "长青社区")
    ]


def test_roster_duplicate_ids_name_both_rows(round_dir):
    (round_dir / "roster.csv").write_text(
        ROSTER + "００１,渭滨区,桥南街道,重复社区,\n", encoding="utf-8"
    )
    r = zhili("template", "m.gov", "--roster", "roster.csv", "-o", "forms")
    assert r.exit_code == 1
    assert "roster.csv:6 [社区编码]: duplicate community id in the roster" in r.stderr
    assert "'001' on row 2" in r.stderr
    assert not (round_dir / "forms").exists()
    problems = read_roster(round_dir / "roster.csv").problems
    assert [(p.code, p.row) for p in problems] == [("data-duplicate-id", 6)]


def test_roster_without_a_column_is_a_clear_error(round_dir):
    (round_dir / "roster.csv").write_text(
        "社区编码,区,社区\n001,金台区,长青社区\n", encoding="utf-8"
    )
    r = zhili("template", "m.gov", "--roster", "roster.csv", "-o", "forms")
    assert r.exit_code == 1
    assert "roster.csv: the roster has no column 街道" in r.stderr
    assert "Traceback" not in r.output


def test_roster_row_without_a_street_is_located(round_dir):
    (round_dir / "roster.csv").write_text(ROSTER + "005,渭滨区,,无街道社区,\n", encoding="utf-8")
    roster = read_roster(round_dir / "roster.csv")
    assert [(p.code, p.row, p.column) for p in roster.problems] == [("round-roster-row", 6, "街道")]
    r = zhili("template", "m.gov", "--roster", "roster.csv", "-o", "forms")
    assert r.exit_code == 1 and "roster.csv:6 [街道]: the roster row has no 街道" in r.stderr


# ---------------------------------------------------------------- the forms


def test_one_form_per_street_prefilled_locked_and_stamped(round_dir):
    r = _forms()
    assert "wrote 3 forms (one per 街道, 4 communities)" in r.stderr
    names = sorted(p.name for p in (round_dir / "forms").iterdir())
    assert names == sorted([EAST, MASSES, SOUTH])
    wb = load_workbook(round_dir / "forms" / EAST)
    assert wb.sheetnames == ["数据", "填表说明", META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    ws = wb["数据"]
    assert [ws.cell(row=2, column=j).value for j in range(1, 5)] == [
        "001",
        "金台区",
        "东风路街道",
        "长青社区",
    ]
    assert ws["A3"].value == "002" and ws["A4"].value is None
    assert ws.protection.sheet
    assert ws["A2"].protection.locked and ws["D3"].protection.locked
    assert not ws["F2"].protection.locked and not ws["E3"].protection.locked
    assert ws["F4"].protection.locked  # no community there: nothing to type
    assert "%" in ws["G2"].number_format  # percent cells are Excel percentages
    # the validation of the template stays (a dropdown on 是否多网合一)
    assert any("H2" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    meta = {row[0]: row[1] for row in wb[META_SHEET].iter_rows(max_col=2, values_only=True)}
    assert meta["model"] == "round_demo" and meta["version"] == "1"
    assert len(meta["content_hash"]) == 64
    assert json.loads(meta["unit"]) == ["金台区", "东风路街道"] and meta["by"] == "街道"
    info = list(wb["填表说明"].iter_rows(values_only=True))
    assert "填报单位：金台区 东风路街道" in "".join(str(c) for row in info for c in row if c)
    # every indicator's points and rule, as the model writes it
    assert ("调解", "50", None, "pass when rate >= 90%") in [row[:4] for row in info]


def test_forms_by_district_and_by_community(round_dir):
    _forms("区", "by_district")
    assert sorted(p.name for p in (round_dir / "by_district").iterdir()) == [
        "渭滨区.xlsx",
        "金台区.xlsx",
    ]
    _forms("社区", "by_community")
    names = sorted(p.name for p in (round_dir / "by_community").iterdir())
    assert names[0] == "001-金台区-东风路街道-长青社区.xlsx" and len(names) == 4


def test_file_names_are_safe_and_unique(round_dir):
    (round_dir / "roster.csv").write_text(
        "社区编码,区,街道,社区\n1,金台/区,东风:路,甲\n2,金台_区,东风_路,乙\n", encoding="utf-8"
    )
    _forms()
    assert sorted(p.name for p in (round_dir / "forms").iterdir()) == [
        "金台_区-东风_路-2.xlsx",
        "金台_区-东风_路.xlsx",
    ]


def test_template_without_roster_keeps_its_behaviour(round_dir):
    r = zhili("template", "m.gov", "-o", "t.xlsx")
    assert r.exit_code == 0
    wb = load_workbook("t.xlsx")
    assert wb.sheetnames == ["数据", "填表说明"] and wb["数据"]["A2"].value is None
    r = zhili("template", "m.gov", "-o", "returns")
    assert r.exit_code == 2 and "a folder needs --roster" in r.output


# ---------------------------------------------------------------- the round


def _first_returns(d: Path) -> None:
    """East street: 长青 filled right; 新福's id edited and a bad enum value.
    Masses street: 和平 with 是否多网合一 left empty. South street: nothing."""

    def east(ws):
        _fill(ws, 2, 12000, 0.95, "是", "老旧小区", dt.datetime(2024, 6, 30), 25)
        _fill(ws, 3, 9000, 0.85, "否", "别墅")
        ws["A3"] = "0002"

    def masses(ws):
        _fill(ws, 2, 5000, 0.91, None, "商品房小区")

    _return(d / "forms" / EAST, d / "returns" / EAST, east, mtime=1_700_000_000)
    _return(d / "forms" / MASSES, d / "returns" / MASSES, masses, mtime=1_700_000_000)
    (d / "returns" / f"~${EAST}").write_bytes(b"\x00lock")  # Excel's lock file


def test_a_round_end_to_end(round_dir):
    d = round_dir
    _forms()
    _first_returns(d)

    # eval: the problems, located; completeness; nothing evaluated (errors); exit 1
    r = zhili("eval", "m.gov", "returns", "--roster", "roster.csv", "--no-record")
    assert r.exit_code == 1
    err = r.stderr
    assert f"returns/{EAST}[数据]:3 [社区编码]: the pre-filled 社区编码 '002' was changed" in err
    assert f"returns/{EAST}[数据]:3 [社区类型]: not one of" in err
    assert f"returns/{MASSES}[数据]:2 [是否多网合一]: a required cell is empty" in err
    assert "roster.csv:5 [社区编码]: no return holds 红旗社区 (未上报)" in err
    assert "~$" not in r.output
    assert "Completeness: 2 of 4 communities reported (50.0%)" in r.stdout
    lines = r.stdout.splitlines()
    assert any(line.split() == ["金台区", "东风路街道", "2", "1", "50.0%"] for line in lines)
    assert any(line.split() == ["渭滨区", "桥南街道", "1", "0", "0.0%"] for line in lines)
    assert any(line.split() == ["金台区", "3", "2", "66.7%"] for line in lines)
    assert "nothing was evaluated" in err

    # feedback: a commented copy per return with problems, the summary
    r = zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "fb")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (d / "fb").iterdir()) == sorted([EAST, MASSES, "汇总.xlsx"])
    wb = load_workbook(d / "fb" / EAST)
    ws = wb["数据"]
    assert "预填的社区编码 '002' 被修改" in ws["A3"].comment.text
    assert ws["A3"].fill.fgColor.rgb.endswith("FFC7CE")
    assert "不是可选值之一" in ws["I3"].comment.text and "填写要求" in ws["I3"].comment.text
    assert ws["F3"].comment is None and ws["A2"].comment is None and ws["I2"].comment is None
    listed = list(wb["问题清单"].iter_rows(min_row=2, values_only=True))
    assert {(row[0], row[1]) for row in listed} == {(3, "社区编码"), (3, "社区类型")}
    assert all(row[3] == "新福社区" for row in listed)
    ws = load_workbook(d / "fb" / MASSES)["数据"]
    assert "必填项未填写" in ws["H2"].comment.text
    summary = load_workbook(d / "fb" / "汇总.xlsx")
    rows = list(summary["汇总"].iter_rows(min_row=2, values_only=True))
    assert ("金台区 东风路街道", EAST, "退回修改", 1, 1) == rows[0][:5]
    assert rows[1][:3] == ("金台区 群众路街道", MASSES, "退回修改") and "补填必填项" in rows[1][5]
    assert rows[2][:3] == ("渭滨区 桥南街道", None, "未提交")
    missing = list(summary["未上报"].iter_rows(min_row=2, values_only=True))
    assert [m[2] for m in missing] == ["002", "004"]

    # the units correct the commented copies and send them back; the south street reports
    def east_fixed(ws):
        ws["A3"] = "002"
        ws["I3"] = "商品房小区"

    _return(d / "fb" / EAST, d / "returns" / "东风路街道（修改）.xlsx", east_fixed, 1_700_001_000)
    _return(d / "fb" / MASSES, d / "returns" / MASSES, lambda ws: ws.__setitem__("H2", "是"))
    _return(
        d / "forms" / SOUTH,
        d / "returns" / SOUTH,
        lambda ws: _fill(ws, 2, 7000, 0.6, "是", "老旧小区", dt.datetime(2023, 12, 1), 3),
    )
    r, out = _json_eval()
    assert r.exit_code == 0, r.output
    assert f"note: returns/{EAST} is an older return of the same unit" in r.stderr
    c = out["completeness"]
    assert (c["expected"], c["reported"], c["rate"]) == (4, 4, 1.0)
    assert c["not_submitted"] == [] and c["superseded"][0]["file"].endswith(EAST)
    by_id = {x["community_id"]: x for x in out["communities"]}
    assert sorted(by_id) == ["001", "002", "003", "004"]
    # 95% read as 95% (a percent-formatted 0.95), the date as a date: every indicator passes
    assert by_id["001"]["total"] == 100 and by_id["001"]["grade"] == "优秀"
    assert by_id["002"]["total"] == 0  # 85% < 90%, 否
    assert by_id["003"]["total"] == 80
    assert by_id["004"]["total"] == 30  # 60%, an old visit, 3 volunteers
    # and feedback now has nothing to send back
    r = zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "fb2")
    assert r.exit_code == 0
    assert sorted(p.name for p in (d / "fb2").iterdir()) == ["汇总.xlsx"]
    rows = list(load_workbook(d / "fb2" / "汇总.xlsx")["汇总"].iter_rows(values_only=True))
    assert [row[2] for row in rows[1:4]] == ["无问题", "无问题", "无问题"]
    assert rows[4][1:3] == (EAST, "已被替换")


def test_round_results_match_the_csv_of_the_same_values(round_dir):
    d = round_dir
    _forms()
    _return(
        d / "forms" / MASSES,
        d / "returns" / MASSES,
        lambda ws: _fill(ws, 2, 5000, 0.91, "是", "老旧小区", dt.datetime(2024, 3, 1), 12),
    )
    (d / "same.csv").write_text(
        "社区编码,区,街道,社区,常住人口,调解成功率,是否多网合一,社区类型,走访日期,志愿者人数\n"
        "003,金台区,群众路街道,和平社区,5000,91%,是,老旧小区,2024-03-01,12\n",
        encoding="utf-8",
    )
    r, out = _json_eval()
    assert r.exit_code == 0, r.output  # the others not submitted: warnings
    assert "no return holds 长青社区 (未上报)" in r.stderr
    csv = json.loads(zhili("eval", "m.gov", "same.csv", "--format", "json", "--no-record").stdout)
    assert [x["total"] for x in out["communities"]] == [x["total"] for x in csv["communities"]]
    assert out["communities"][0]["total"] == 100
    assert out["completeness"]["rate"] == 0.25
    r = zhili("eval", "m.gov", "returns", "--roster", "roster.csv", "--strict", "--no-record")
    assert r.exit_code == 1  # --strict: not submitted stops too


def test_returns_of_another_model_or_version_are_named(round_dir):
    d = round_dir
    _forms()
    other = MODEL.replace('model round_demo "换届测评"', 'model other_demo "其他"')
    (d / "other.gov").write_text(other, encoding="utf-8")
    assert zhili("template", "other.gov", "--roster", "roster.csv", "-o", "other").exit_code == 0
    shutil.copy(d / "other" / EAST, d / "returns" / EAST)
    (d / "m2.gov").write_text(MODEL.replace('version "1"', 'version "2"'), encoding="utf-8")
    r = zhili("eval", "m2.gov", "returns", "--roster", "roster.csv", "--no-record")
    assert r.exit_code == 1
    assert f"returns/{EAST}: a form of model other_demo, not round_demo" in r.stderr
    shutil.copy(d / "forms" / EAST, d / "returns" / EAST)
    r = zhili("eval", "m2.gov", "returns", "--roster", "roster.csv", "--no-record")
    assert f"returns/{EAST}: a form of another version of round_demo (version 1" in r.stderr
    wb = Workbook()
    wb.active.append(["社区编码", "社区"])
    wb.save(d / "returns" / "自制表.xlsx")
    (d / "returns" / "说明.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (d / "returns" / "坏.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    r = zhili("eval", "m.gov", "returns", "--roster", "roster.csv", "--no-record")
    assert (
        "returns/自制表.xlsx: not a form of this round: the workbook has no zhili stamp" in r.stderr
    )
    assert "returns/说明.csv: not a form of this round" in r.stderr
    assert "error: returns/坏.xlsx: cannot be opened as a workbook" in r.stderr
    from zhili.engine.round.returns import read_returns

    rd = read_returns(d / "returns", _model(d / "m2.gov"), read_roster(d / "roster.csv"))
    assert {p.code for p in rd.errors} == {"round-old-form", "round-unrecognised"}


def test_the_same_unit_returned_twice_newest_wins(round_dir):
    d = round_dir
    _forms()

    def old(ws):
        _fill(ws, 2, 5000, 0.5, "是", "老旧小区")

    def new(ws):
        _fill(ws, 2, 5000, 0.95, "是", "老旧小区")

    _return(d / "forms" / MASSES, d / "returns" / "b-新.xlsx", new, mtime=1_700_000_500)
    _return(d / "forms" / MASSES, d / "returns" / "a-旧.xlsx", old, mtime=1_700_000_000)
    r, out = _json_eval()
    assert r.exit_code == 0, r.output
    assert (
        "note: returns/a-旧.xlsx is an older return of the same unit: b-新.xlsx is read" in r.stderr
    )
    assert out["communities"][0]["total"] == 80
    # the same time: the later name wins
    os.utime(d / "returns" / "a-旧.xlsx", (1_700_000_500, 1_700_000_500))
    r, out = _json_eval()
    assert "returns/a-旧.xlsx is an older return" in r.stderr
    assert out["communities"][0]["total"] == 80


def test_a_community_in_two_returns_names_both(round_dir):
    d = round_dir
    _forms("街道")
    _forms("区", "by_district")

    def masses(ws):
        _fill(ws, 2, 5000, 0.95, "是", "老旧小区")

    def district(ws):
        for row in (2, 3, 4):
            _fill(ws, row, 5000, 0.95, "是", "老旧小区")

    _return(d / "forms" / MASSES, d / "returns" / MASSES, masses)
    _return(d / "by_district" / "金台区.xlsx", d / "returns" / "金台区.xlsx", district)
    r = zhili("eval", "m.gov", "returns", "--roster", "roster.csv", "--no-record")
    assert r.exit_code == 1
    assert (
        f"returns/金台区.xlsx[数据]:4 [社区编码]: duplicate community id (first in {MASSES}[数据]:2)"
        in r.stderr
    )


def test_names_edited_and_communities_not_in_the_roster(round_dir):
    d = round_dir
    _forms()

    def east(ws):
        _fill(ws, 2, 12000, 0.95, "是", "老旧小区")
        _fill(ws, 3, 9000, 0.95, "是", "老旧小区")
        ws["D2"] = "长青新社区"
        for col, value in zip("ABCD", ("099", "金台区", "东风路街道", "新建社区"), strict=True):
            ws[f"{col}4"] = value
        _fill(ws, 4, 100, 0.95, "是", "老旧小区")

    _return(d / "forms" / EAST, d / "returns" / EAST, east)
    r, _out = _json_eval()
    assert r.exit_code == 1
    assert f"{EAST}[数据]:2 [社区]: the pre-filled 社区 '长青社区' was changed" in r.stderr
    assert f"{EAST}[数据]:4 [社区编码]: a community the roster does not list ('099')" in r.stderr
    assert "Not in the roster: 099" in r.stderr or "Not in the roster: 099" in r.stdout
    r = zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "fb")
    ws = load_workbook(d / "fb" / EAST)["数据"]
    assert "名单中没有这个社区" in ws["A4"].comment.text
    assert "预填的社区 '长青社区' 被修改" in ws["D2"].comment.text


def test_bad_command_lines(round_dir):
    _forms()
    r = zhili("eval", "m.gov", "roster.csv", "--roster", "roster.csv")
    assert r.exit_code == 2 and "DATA is one folder" in r.output
    r = zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "returns")
    assert r.exit_code == 2
    r = zhili("eval", "m.gov", "returns", "--roster", "roster.csv", "--no-record")
    assert r.exit_code == 1 and "no return holds data yet" in r.stderr
    assert "Completeness: 0 of 4" in r.stdout


def test_problem_codes_of_a_round(round_dir):
    from zhili.engine.round.returns import read_returns

    d = round_dir
    _forms()
    _first_returns(d)
    _return(d / "forms" / MASSES, d / "returns" / "旧.xlsx", lambda ws: None, mtime=1_600_000_000)
    other = MODEL.replace('model round_demo "换届测评"', 'model other_demo "其他"')
    (d / "other.gov").write_text(other, encoding="utf-8")
    zhili("template", "other.gov", "--roster", "roster.csv", "-o", "other")
    shutil.copy(d / "other" / SOUTH, d / "returns" / "其他.xlsx")

    def added(ws):
        ws["A5"], ws["B5"], ws["C5"], ws["D5"] = "099", "金台区", "群众路街道", "新建社区"
        _fill(ws, 5, 1, 0.5, "是", "老旧小区")

    _return(d / "forms" / MASSES, d / "returns" / "zz-群众路.xlsx", added, mtime=1_800_000_000)
    model = _model(d / "m.gov")
    rd = read_returns(d / "returns", model, read_roster(d / "roster.csv"))
    found = {(p.code, Path(p.file).name, p.row, p.column) for p in rd.problems}
    assert ("round-prefill-edited", EAST, 3, "社区编码") in found
    assert ("data-invalid-value", EAST, 3, "社区类型") in found
    assert ("round-not-submitted", "roster.csv", 5, "社区编码") in found  # 红旗社区: no return
    assert ("round-other-model", "其他.xlsx", None, None) in found
    assert ("round-superseded", "旧.xlsx", None, None) in found
    assert ("round-superseded", MASSES, None, None) in found  # zz-群众路 is newer
    assert ("round-not-in-roster", "zz-群众路.xlsx", 5, "社区编码") in found
    assert ("round-required-empty", "zz-群众路.xlsx", 2, "是否多网合一") not in found
    assert ("round-not-submitted", "zz-群众路.xlsx", 2, "社区编码") in found  # 和平: empty row
    assert [c.id for c in rd.not_submitted()] == ["002", "003", "004"]
    assert rd.not_in_roster == [("099", str(d / "returns" / "zz-群众路.xlsx"), 5)]
    # the empty rows are left out of the evaluation
    assert sorted(rd.dataset.frame.get_column("community_id").to_list()) == ["0002", "001", "099"]
    streets, districts = rd.rates()
    assert [(s.street, s.expected, s.reported) for s in streets] == [
        ("东风路街道", 2, 1),
        ("群众路街道", 1, 0),
        ("桥南街道", 1, 0),
    ]
    assert [(x.district, x.rate) for x in districts] == [("金台区", 1 / 3), ("渭滨区", 0.0)]


def test_a_required_cell_left_empty_is_a_warning_at_its_cell(round_dir):
    from zhili.engine.round.returns import read_returns

    d = round_dir
    _forms()
    _return(
        d / "forms" / MASSES,
        d / "returns" / MASSES,
        lambda ws: _fill(ws, 2, 5000, None, "是", "老旧小区"),
    )
    rd = read_returns(d / "returns", _model(d / "m.gov"), read_roster(d / "roster.csv"))
    empty = [(p.code, p.row, p.column, p.severity) for p in rd.problems if MASSES in p.file]
    assert empty == [("round-required-empty", 2, "调解成功率（%）", "warning")]


def _model(path: Path):
    from cli_helpers import shared_registry

    from zhili.engine.resolve import resolve_model

    return resolve_model(shared_registry([]), str(path)).model


def test_report_and_recorded_run_of_a_round(round_dir):
    d = round_dir
    _forms()
    _return(
        d / "forms" / MASSES,
        d / "returns" / MASSES,
        lambda ws: _fill(ws, 2, 5000, 0.91, "是", "老旧小区", dt.datetime(2024, 3, 1), 12),
    )
    r = zhili(
        "report",
        "m.gov",
        "returns",
        "--roster",
        "roster.csv",
        "-o",
        "r.xlsx",
        "--db",
        "runs.sqlite",
    )
    assert r.exit_code == 0, r.output
    assert "Completeness: 1 of 4 communities reported (25.0%)" in r.stderr
    wb = load_workbook(d / "r.xlsx")
    cells = [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "和平社区" in cells  # the community with data, and the round's completeness
    assert "Completeness: 1 of 4 communities reported (25.0%)" in cells
    assert "金台区 群众路街道: 1 of 1 reported (100.0%)" in cells
    assert "渭滨区: 0 of 1 reported (0.0%)" in cells
    assert any(
        c.startswith("Not submitted (未上报): 金台区 东风路街道 长青社区（001）") for c in cells
    )
    assert any("no return holds 红旗社区 (未上报)" in c for c in cells)  # the problems sheet
    r = zhili("report", "m.gov", "returns", "--roster", "roster.csv", "-o", "r.md", "--no-record")
    md = (d / "r.md").read_text(encoding="utf-8")
    assert "> Completeness: 1 of 4 communities reported (25.0%)" in md
    r = zhili("eval", "m.gov", "returns", "--roster", "roster.csv", "--db", "runs.sqlite")
    assert r.exit_code == 0 and "recorded run" in r.stderr
    shown = zhili("runs", "--db", "runs.sqlite", "show", "latest")
    assert shown.exit_code == 0 and "003" in shown.stdout


def test_hostile_names_stay_text_in_forms_and_feedback(round_dir):
    d = round_dir
    (d / "roster.csv").write_text(
        '社区编码,区,街道,社区\n001,金台区,=HYPERLINK("http://x"),"=cmd|\' /c calc\'!A1"\n',
        encoding="utf-8",
    )
    _forms()
    (form,) = list((d / "forms").iterdir())
    ws = load_workbook(form)["数据"]
    assert ws["C2"].data_type == "s" and ws["C2"].value == '=HYPERLINK("http://x")'
    assert ws["D2"].data_type == "s"
    _return(form, d / "returns" / form.name, lambda ws: _fill(ws, 2, "一万", 0.9, "是", "老旧小区"))
    r = zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "fb")
    assert r.exit_code == 0, r.output
    wb = load_workbook(d / "fb" / form.name)
    assert wb["数据"]["F2"].comment.text.startswith("【警告】不是数字")
    summary = load_workbook(d / "fb" / "汇总.xlsx")
    cells = [c for ws in summary for row in ws.iter_rows() for c in row if c.value]
    assert cells and all(c.data_type in ("s", "n") for c in cells)
    assert any("=HYPERLINK" in str(c.value) for c in cells)


def test_rows_sorted_by_the_submitter_keep_their_communities(round_dir):
    d = round_dir
    _forms()

    def east(ws):  # the protection lifted, the two rows swapped, then filled in
        ws["A2"], ws["D2"], ws["A3"], ws["D3"] = "002", "新福社区", "001", "长青社区"
        _fill(ws, 2, 9000, 0.95, "是", "老旧小区")
        _fill(ws, 3, 12000, 0.5, "是", "老旧小区")

    _return(d / "forms" / EAST, d / "returns" / EAST, east)
    r, out = _json_eval()
    assert r.exit_code == 0, r.output
    assert "was changed" not in r.stderr
    totals = {x["community_id"]: x["total"] for x in out["communities"]}
    assert totals == {"001": 30, "002": 80}


def test_a_second_feedback_marks_only_what_is_still_wrong(round_dir):
    d = round_dir
    _forms()
    _first_returns(d)
    assert (
        zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "fb").exit_code == 0
    )
    # the street puts the id back but leaves the bad value, and sends the copy back
    _return(d / "fb" / EAST, d / "returns" / EAST, lambda ws: ws.__setitem__("A3", "002"))
    assert (
        zhili("feedback", "m.gov", "returns", "--roster", "roster.csv", "-o", "fb2").exit_code == 0
    )
    ws = load_workbook(d / "fb2" / EAST)["数据"]
    assert ws["A3"].comment is None and ws["A3"].fill.fgColor.rgb.endswith("EDEDED")
    assert "不是可选值之一" in ws["I3"].comment.text
    listed = list(
        load_workbook(d / "fb2" / EAST)["问题清单"].iter_rows(min_row=2, values_only=True)
    )
    assert [(row[0], row[1]) for row in listed] == [(3, "社区类型")]


def test_csv_output_of_a_round_has_the_source_of_every_row(round_dir):
    d = round_dir
    _forms()
    _return(
        d / "forms" / EAST,
        d / "returns" / EAST,
        lambda ws: _fill(ws, 3, 9000, 0.95, "是", "老旧小区", dt.datetime(2024, 3, 1), 12),
    )
    r = zhili(
        "eval", "m.gov", "returns", "--roster", "roster.csv", "--format", "csv", "--no-record"
    )
    assert r.exit_code == 0, r.output
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert len(rows) == 1  # the one community with data
    assert rows[0]["community_id"] == "002" and rows[0]["source"] == f"{EAST}[数据]:3"
    assert float(rows[0]["total"]) == 100
    assert "Completeness: 1 of 4 communities reported (25.0%)" in r.stderr


def _report_round(d: Path) -> None:
    """A round half in: 群众路 complete (an older copy of it replaced), 东风路
    with a bad value and a community without data, 桥南 not returned."""
    _forms()
    good = lambda ws: _fill(ws, 2, 5000, 0.91, "是", "老旧小区", dt.datetime(2024, 3, 1), 12)  # noqa: E731
    _return(d / "forms" / MASSES, d / "returns" / "群众路-旧.xlsx", good, mtime=1_600_000_000)
    _return(d / "forms" / MASSES, d / "returns" / MASSES, good)
    _return(
        d / "forms" / EAST,
        d / "returns" / EAST,
        lambda ws: _fill(ws, 2, "约一万", 0.95, "是", "老旧小区"),
    )


def _sheet_rows(ws) -> list[list]:
    return [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]


def test_report_has_a_completeness_section_and_problems_by_file(round_dir):
    from html.parser import HTMLParser

    d = round_dir
    _report_round(d)
    for out in ("r.xlsx", "r.html", "r.md", "r.json"):
        r = zhili("report", "m.gov", "returns", "--roster", "roster.csv", "-o", out, "--no-record")
        assert r.exit_code == 0, r.output
    wb = load_workbook(d / "r.xlsx")
    assert wb.sheetnames[:2] == ["Summary", "Completeness"]
    rows = _sheet_rows(wb["Completeness"])
    assert ["2 of 4 communities reported (50.0%)"] in rows
    assert ["金台区", "东风路街道", 2, 1, 0.5] in rows and ["渭滨区", "桥南街道", 1, 0, 0] in rows
    assert ["金台区", 3, 2, 2 / 3] in rows and ["渭滨区", 1, 0, 0] in rows
    at = rows.index(["渭滨区", "桥南街道", 1, 0, 0])
    assert wb["Completeness"].cell(row=at + 1, column=5).number_format == "0.0%"
    assert ["渭滨区", "桥南街道", "004", "红旗社区", "李四"] in rows  # not submitted, with contact
    assert ["金台区", "东风路街道", "002", "新福社区"] in rows
    assert not any("长青社区" in map(str, r) for r in rows[rows.index(["Not in the roster"]) :])
    superseded = [r for r in rows if r and r[0] == "群众路-旧.xlsx"]
    assert len(superseded) == 1 and MASSES in superseded[0][-1]
    by_file = _sheet_rows(wb["Problems by file"])
    head = by_file.index([f"{EAST}: 2 problems"])
    assert by_file[head + 1] == ["severity", "sheet", "row", "column", "raw value", "message"]
    assert by_file[head + 2][:5] == ["warning", "数据", 2, "常住人口（人）", "约一万"]
    assert by_file[head + 3][:3] == ["warning", "数据", 3]
    assert "新福社区" in by_file[head + 3][-1]
    assert ["roster.csv: 1 problems"] in by_file  # 红旗社区, whose street sent nothing

    page = (d / "r.html").read_text(encoding="utf-8")
    texts: list[str] = []

    class Text(HTMLParser):
        def handle_data(self, data):
            texts.append(data.strip())

    Text().feed(page)
    order = [t for t in texts if t in ("Completeness", "By district", "Problems by file")]
    assert order == ["Completeness", "By district", "Problems by file"]
    assert "2 of 4 communities reported (50.0%)" in texts and "66.7%" in texts
    assert "约一万" in texts[texts.index(f"{EAST}: 2 problems") :]

    md = (d / "r.md").read_text(encoding="utf-8")
    assert "| 金台区 | 东风路街道 | 2 | 1 | 50.0% |" in md
    assert "| 渭滨区 | 桥南街道 | 004 | 红旗社区 | 李四 |" in md
    assert f"### {EAST}: 2 problems" in md

    c = json.loads((d / "r.json").read_text(encoding="utf-8"))["completeness"]
    assert (c["expected"], c["reported"], c["rate"]) == (4, 2, 0.5)
    assert [f["file"] for f in c["problems_by_file"]] == ["roster.csv", EAST]
    assert c["not_submitted"][1]["contact"] == "李四"


def test_report_completeness_names_stay_inert(round_dir):
    d = round_dir
    (d / "roster.csv").write_text(
        "社区编码,区,街道,社区,联系人\n"
        '001,金台区,=HYPERLINK("http://x"),<b>长青</b>,[点我](http://x)\n'
        '002,金台区,=HYPERLINK("http://x"),<script>alert(1)</script>,\n',
        encoding="utf-8",
    )
    _forms()
    (form,) = list((d / "forms").iterdir())
    _return(form, d / "returns" / form.name, lambda ws: _fill(ws, 2, 100, 0.9, "是", "老旧小区"))
    for out in ("r.xlsx", "r.html", "r.md"):
        r = zhili("report", "m.gov", "returns", "--roster", "roster.csv", "-o", out, "--no-record")
        assert r.exit_code == 0, r.output
    ws = load_workbook(d / "r.xlsx")["Completeness"]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(c.value == '=HYPERLINK("http://x")' for c in cells)
    assert all(c.data_type in ("s", "n") for c in cells)
    page = (d / "r.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = (d / "r.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "](http" not in md


# ---------------------------------------------------------------- the TUI


def test_tui_shows_completeness_and_filters_not_submitted_and_problems(round_dir):
    import asyncio

    from textual.widgets import Select, Static

    from zhili.dsl.i18n import set_language
    from zhili.engine.round.returns import read_returns
    from zhili.tui.app import ZhiliApp, build_round_session
    from zhili.tui.widgets.vtable import VirtualTable

    d = round_dir
    _report_round(d)  # 长青 (a bad value) and 和平 reported; 新福 and 红旗 not
    from cli_helpers import shared_registry

    from zhili.engine.resolve import resolve_model

    lm = resolve_model(shared_registry([]), "m.gov")
    rd = read_returns(d / "returns", lm.model, read_roster(d / "roster.csv"))
    session = build_round_session(lm, rd)

    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            screen = app.main
            body = str(screen.query_one("#overview-body", Static).render())
            assert "上报情况: 应报 4 个社区，已报 2 个（50.0%）" in body
            assert "桥南街道  0/1  0%" in body and "东风路街道  1/2  50%" in body
            assert "群众路街道  1/1" not in body  # complete streets are not listed
            await pilot.press("2")
            await pilot.pause()
            table = screen.query_one("#communities-table", VirtualTable)
            assert sorted(table.frame.get_column("community")) == ["和平社区", "长青社区"]
            status = screen.query_one("#status", Select)
            status.value = "missing"
            await pilot.pause()
            assert table.frame.get_column("community").to_list() == ["新福社区", "红旗社区"]
            assert set(table.frame.get_column("grade")) == {"未上报"}
            assert table.frame.get_column("total").to_list() == [None, None]
            line = "".join(s.text for s in table.render_line(2))  # the header, then the rows
            assert "红旗社区" in line and "未上报" in line and " - " in line
            # the street filter applies; enter on a row names it, and its contact
            screen.query_one("#street", Select).value = "桥南街道"
            await pilot.pause()
            assert table.frame.get_column("community").to_list() == ["红旗社区"]
            body = str(screen.query_one("#overview-body", Static).render())
            assert "应报 1 个社区，已报 0 个（0.0%）" in body
            table.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert [n.message for n in app._notifications] == ["红旗社区 未上报（联系人：李四）"]
            screen.query_one("#street", Select).value = Select.NULL
            status.value = "problems"
            await pilot.pause()
            assert table.frame.get_column("community").to_list() == ["长青社区"]
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.id == "detail" or type(app.screen).__name__ == "DetailScreen"
            await pilot.press("escape")
            await pilot.pause()
            status.value = Select.NULL
            await pilot.pause()
            assert table.row_count == 2

    try:
        asyncio.run(go())
    finally:
        set_language("en")


def test_tui_with_roster_needs_a_folder(round_dir):
    r = zhili("tui", "m.gov", "roster.csv", "--roster", "roster.csv")
    assert r.exit_code == 2
    assert "with --roster, DATA is one folder of returned forms" in r.output
    assert "Traceback" not in r.output


def test_forms_written_from_the_skeleton_are_the_openpyxl_forms(tmp_path):
    """`write_forms` writes a unit's rows into the sheet XML of a form saved
    once (`forms.Skeleton`); read back, every cell (value, type, format,
    lock, fill, comment), the validation, protection and sheet states are
    those of the form openpyxl builds for the unit."""
    from zhili.engine.round.forms import FormBuilder, form_workbook
    from zhili.engine.round.roster import Community

    (tmp_path / "m.gov").write_text(MODEL, encoding="utf-8")
    model = _model(tmp_path / "m.gov")
    unit = ("金台区", "东风路街道")
    communities = [
        Community("001", "金台区", "东风路街道", " 长青社区 "),
        Community("=A1+1", "金台区", "东风路街道", "<b>&新福\n社区</b>"),
    ]
    builder = FormBuilder(model, "街道")
    builder.write(
        tmp_path / "first.xlsx",
        ("渭滨区", "桥南街道"),
        [Community("9", "渭滨区", "桥南街道", "红旗社区")],
    )
    builder.write(tmp_path / "fast.xlsx", unit, communities)
    form_workbook(model, "街道", unit, communities).save(tmp_path / "slow.xlsx")
    fast, slow = load_workbook(tmp_path / "fast.xlsx"), load_workbook(tmp_path / "slow.xlsx")
    assert fast.sheetnames == slow.sheetnames == ["数据", "填表说明", META_SHEET]

    def looks(c):
        comment = c.comment.text if c.comment else None
        return (
            c.value,
            c.data_type,
            c.number_format,
            c.protection.locked,
            c.fill.fgColor.rgb,
            comment,
        )

    for name in fast.sheetnames:
        a, b = fast[name], slow[name]
        assert (a.sheet_state, a.dimensions, a.freeze_panes) == (
            b.sheet_state,
            b.dimensions,
            b.freeze_panes,
        )
        assert [[looks(c) for c in row] for row in a.iter_rows()] == [
            [looks(c) for c in row] for row in b.iter_rows()
        ]
        assert a.protection.sheet == b.protection.sheet
        rules = [
            [(d.sqref, d.type, d.formula1) for d in ws.data_validations.dataValidation]
            for ws in (a, b)
        ]
        assert rules[0] == rules[1]
    assert fast["数据"]["A3"].value == "=A1+1" and fast["数据"]["A3"].data_type == "s"
    assert fast["数据"]["D2"].value == " 长青社区 "
    assert any(
        "金台区 东风路街道" in str(c.value) for row in fast["填表说明"].iter_rows() for c in row
    )
    texts = [str(c.value) for ws in fast for row in ws.iter_rows() for c in row]
    assert not any("桥南" in t or "zhili-placeholder" in t for t in texts)


def test_feedback_copies_edited_in_place_are_the_openpyxl_copies(round_dir):
    """A feedback copy is made by editing the return's parts
    (`round.xlsxedit`); read back, it is the copy openpyxl makes: every
    cell's value, fill and comment, and the 问题清单 sheet second."""
    from zhili.engine.round import feedback, xlsxedit
    from zhili.engine.round.returns import read_returns

    d = round_dir
    _forms()
    _first_returns(d)
    model = _model(d / "m.gov")
    rd = read_returns(d / "returns", model, read_roster(d / "roster.csv"))
    source = d / "returns" / EAST
    xlsxedit.Book(source, "数据")  # a return this edit takes (NotEditable otherwise)
    result = feedback.write_feedback(rd, model, d / "fb")
    assert d / "fb" / EAST in result.copies
    problems = [p for p in rd.problems if p.file == str(source) and p.severity != "info"]
    fields = {feedback.header(f): f for f in model.inputs}
    names = {row: values[3] for row, values in rd.returns[0].stamp.rows.items()}
    assert rd.returns[0].path == source
    feedback._annotate_openpyxl(
        source, d / "slow.xlsx", problems, fields, lambda row, cid: names.get(row, "")
    )
    fast, slow = load_workbook(d / "fb" / EAST), load_workbook(d / "slow.xlsx")
    assert fast.sheetnames == slow.sheetnames == ["数据", "问题清单", "填表说明", META_SHEET]

    def looks(c):
        comment = c.comment.text if c.comment else None
        return (c.value if c.value != "" else None, c.fill.fgColor.rgb, c.number_format, comment)

    for name in fast.sheetnames:
        a, b = fast[name], slow[name]
        assert [[looks(c) for c in row] for row in a.iter_rows()] == [
            [looks(c) for c in row] for row in b.iter_rows()
        ], name
    marked = [c.coordinate for row in fast["数据"].iter_rows(min_row=2) for c in row if c.comment]
    assert marked == ["A3", "I3"]
    assert fast["数据"]["A3"].fill.fgColor.rgb == "00FFC7CE"
    assert fast["数据"]["I3"].protection.locked is False  # the cell's own format kept


def test_feedback_edit_takes_a_workbook_of_another_writer(tmp_path):
    """A return saved by another program (XlsxWriter here: shared strings,
    VML with Excel's o:/v:/x: prefixes and anchors, its own styles) is
    edited the same way; read back, the marks are on the right cells and
    nothing else changed."""
    import xlsxwriter

    from zhili.engine.round import xlsxedit

    path = tmp_path / "excel.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("数据")
    bold = book.add_format({"bold": True})
    pct = book.add_format({"num_format": "0.0%", "locked": False})
    for j, h in enumerate(["社区编码", "区", "街道", "社区", "网格", "调解成功率（%）"]):
        ws.write_string(0, j, h, bold)
        ws.write_comment(0, j, f"说明 {h}")
    ws.write_string(1, 0, "001")
    ws.write_string(1, 3, "长青社区")
    ws.write_number(1, 5, 0.85, pct)
    ws.write_string(2, 0, "002")
    ws.write_string(2, 5, "约一半", pct)
    book.add_worksheet("填表说明").write_string(0, 0, "说明")
    book.close()

    edit = xlsxedit.Book(path, "数据")
    assert edit.headers["调解成功率（%）"] == 6 and edit.text(3, 1) == "002"
    edit.mark(3, 6, "FFC7CE")
    edit.comment(3, 6, "【警告】不是数字：'约一半'", "zhili")
    edit.add_sheet("问题清单", [["行", "问题"], [3, "=1+1 不是数字"]], (6, 30), position=1)
    (tmp_path / "out.xlsx").write_bytes(edit.to_bytes())

    wb = load_workbook(tmp_path / "out.xlsx")
    assert wb.sheetnames == ["数据", "问题清单", "填表说明"]
    out = wb["数据"]
    assert out["F3"].fill.fgColor.rgb == "00FFC7CE" and out["F3"].value == "约一半"
    assert out["F3"].number_format == "0.0%" and out["F3"].protection.locked is False
    assert out["F3"].comment.text == "【警告】不是数字：'约一半'"
    assert (
        out["F2"].value == 0.85
        and out["F2"].comment is None
        and out["F2"].fill.fgColor.rgb != "00FFC7CE"
    )
    assert out["A1"].comment.text == "说明 社区编码" and out["A1"].font.b
    listed = wb["问题清单"]
    assert listed["A2"].value == 3 and listed["B2"].value == "=1+1 不是数字"
    assert listed["B2"].data_type == "s"
    import re
    import zipfile

    with zipfile.ZipFile(tmp_path / "out.xlsx") as zf:
        (vml,) = [zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml")]
    shapes = re.findall(r"<v:shape\b.*?</v:shape>", vml, re.S)
    assert len(shapes) == 7  # the 6 header notes and the new one, at row 3 column F
    assert "<x:Row>2</x:Row>" in shapes[-1] and "<x:Column>5</x:Column>" in shapes[-1]
    assert "Anchor" not in shapes[-1]
    assert len(set(re.findall(r'\bid="(_x0000_s\d+)"', vml))) == 7
