"""Missing stays visible (issue 12, item 4): a dimension or total that
`missing skip` leaves unscored reads as not scored in every output — empty in
CSV, null in Parquet and JSON, "—" in the terminal table, explain and the
reports, "-" in the TUI's columns — and a stored run keeps the null.

One model and three communities: 全有社区 scored throughout, 缺安全社区 with
dimension 安全 (s) not scored, 全缺社区 with nothing scored (no total)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import polars as pl
import pytest
from cli_helpers import zhili

MODEL = """\
model ns "未计分示例"
version "1"
issuer  "测试"
source  "测试"
total   100
missing skip

input a: bool label "甲"
input b: bool label "乙"
input c: bool label "丙"

dimension s "安全" points 60 {
    indicator p1 "指标一" points 20 { pass when a }
    indicator p2 "指标二" points 40 { pass when b }
}
dimension u "便利" points 40 {
    indicator q "指标三" points 40 { pass when c }
}

grades {
    "优秀" when min_dimension >= 80%
    "合格" when total >= 60
    "未达标" otherwise
}

test "安全未计分" {
    given { c = true }
    expect dimension s missing
    expect dimension u 40
    expect total 100
    expect grade "合格"
}

test "全部未计分" {
    given { }
    expect total missing
    expect dimension s missing
    expect grade "未达标"
}
"""

DATA = (
    "community_id,community,district,street,a,b,c\n"
    "NS-1,全有社区,渭滨区,东街,是,是,是\n"
    "NS-2,缺安全社区,渭滨区,东街,,,是\n"
    "NS-3,全缺社区,渭滨区,西街,,,\n"
)


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    model = tmp_path / "ns.gov"
    model.write_text(MODEL, encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text(DATA, encoding="utf-8")
    return model, data


def _by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["community_id"]: r for r in rows}


def test_terminal_table_shows_a_dash(files):
    model, data = files
    out = zhili("eval", model, data, "--no-record").stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines() if "社区" in line}
    # community street total grade 安全 便利
    assert lines["全有社区"][2:6] == ["100", "优秀", "60", "40"]
    assert lines["缺安全社区"][2:6] == ["100", "合格", "—", "40"]
    assert lines["全缺社区"][2:6] == ["—", "未达标", "—", "—"]


def test_csv_cells_are_empty_and_parquet_null(files, tmp_path):
    model, data = files
    text = zhili("eval", model, data, "--no-record", "--format", "csv").stdout
    csv = _by_id(pl.read_csv(io.StringIO(text), infer_schema=False).to_dicts())
    assert (csv["NS-1"]["s"], csv["NS-1"]["total"]) == ("60.0", "100.0")
    assert (csv["NS-2"]["s"], csv["NS-2"]["u"], csv["NS-2"]["total"]) == (None, "40.0", "100.0")
    assert (csv["NS-3"]["s"], csv["NS-3"]["u"], csv["NS-3"]["total"]) == (None, None, None)
    # the raw line: an empty cell, not 0
    assert "NS-3,全缺社区,渭滨区,西街,4,,未达标," in text
    detail = zhili("eval", model, data, "--no-record", "--format", "csv", "--detail").stdout
    rows = _by_id(pl.read_csv(io.StringIO(detail), infer_schema=False).to_dicts())
    assert (rows["NS-1"]["p1.points"], rows["NS-1"]["p1.outcome"]) == ("20.0", "pass")
    assert (rows["NS-2"]["p1.points"], rows["NS-2"]["p1.outcome"]) == (None, "missing")

    out = tmp_path / "r.parquet"
    assert zhili("eval", model, data, "--no-record", "-o", out).exit_code == 0
    pq = _by_id(pl.read_parquet(out).to_dicts())
    assert (pq["NS-1"]["s"], pq["NS-2"]["s"], pq["NS-2"]["u"]) == (60.0, None, 40.0)
    assert (pq["NS-3"]["total"], pq["NS-3"]["s"], pq["NS-3"]["u"]) == (None, None, None)


@pytest.mark.parametrize("backend", ["vectorized", "reference"])
def test_json_is_null(files, backend):
    model, data = files
    args = ("eval", model, data, "--no-record", "--format", "json", "--backend", backend)
    result = zhili(*args)
    assert result.exit_code == 0, result.output
    rows = _by_id(json.loads(result.stdout)["communities"])
    dims = {k: {d["id"]: d for d in r["dimensions"]} for k, r in rows.items()}
    assert (dims["NS-1"]["s"]["score"], dims["NS-1"]["s"]["share"]) == (60, 1)
    assert (dims["NS-2"]["s"]["score"], dims["NS-2"]["s"]["share"]) == (None, None)
    assert (rows["NS-2"]["total"], rows["NS-2"]["grade"]) == (100, "合格")
    assert (rows["NS-3"]["total"], rows["NS-3"]["share"], rows["NS-3"]["grade"]) == (
        None,
        None,
        "未达标",
    )
    assert rows["NS-3"]["schema_version"] == 3
    # an indicator `missing skip` left out: null points, not 0
    points = {k: {i["id"]: i["points"] for i in r["indicators"]} for k, r in rows.items()}
    assert points["NS-1"] == {"p1": 20, "p2": 40, "q": 40}
    assert points["NS-2"] == {"p1": None, "p2": None, "q": 40}


def test_explain_and_gap_say_not_scored(files):
    model, data = files
    text = zhili("explain", model, data, "-c", "NS-2").stdout
    assert "■ 安全  —/60  (not scored)" in text
    assert "min_dimension >= 80%  → missing" in text
    assert "min_dimension >= 80% is unknown: dimension `s` is not scored" in text
    # and what would score it
    assert "指标二: no data; up to 40 points if supplied (安全 needs 48)" in text
    text = zhili("explain", model, data, "-c", "NS-3").stdout
    assert "total — of 100" in text
    assert "= total —/100  (not scored)" in text
    zh = zhili("explain", model, data, "-c", "NS-2", lang="zh").stdout
    assert "■ 安全  —/60  (未计分)" in zh


WRONG_TESTS = """
test "错：安全记为 0" {
    given { c = true }
    expect dimension s 0
    expect total missing
}

test "错：安全已计分" {
    given { a = true  c = true }
    expect dimension s missing
}

test "错：跳过的指标记为 0 分" {
    given { c = true }
    expect indicator p1 missing points 0
}
"""


def test_model_tests_expect_missing(files, tmp_path):
    model, _data = files
    result = zhili("test", model)
    assert result.exit_code == 0, result.output
    wrong = tmp_path / "wrong.gov"
    wrong.write_text(MODEL + WRONG_TESTS, encoding="utf-8")
    result = zhili("test", wrong)
    assert result.exit_code != 0
    assert "dimension s: expected 0 points, got not scored (missing)" in result.stdout
    assert "total: expected not scored (missing), got 100 points" in result.stdout
    assert "dimension s: expected not scored (missing), got 60 points" in result.stdout
    assert "indicator p1: expected 0 points, got not scored (missing)" in result.stdout
    assert "2 passed, 3 failed" in result.stdout


def _report(files, tmp_path, suffix: str) -> Path:
    model, data = files
    out = tmp_path / f"report.{suffix}"
    result = zhili("report", model, data, "-o", out, "--no-record")
    assert result.exit_code == 0, result.output
    return out


def test_xlsx_report_reads_back_not_scored(files, tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(_report(files, tmp_path, "xlsx"))
    ws = wb["Communities"]
    head = [c.value for c in ws[1]]
    rows = {r[head.index("community id")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    total, safe, conv = head.index("total"), head.index("安全"), head.index("便利")
    assert (rows["NS-1"][total], rows["NS-1"][safe], rows["NS-1"][conv]) == (100, 60, 40)
    assert (rows["NS-2"][total], rows["NS-2"][safe], rows["NS-2"][conv]) == (100, "—", 40)
    assert (rows["NS-3"][total], rows["NS-3"][safe], rows["NS-3"][conv]) == ("—", "—", "—")
    # the street roll-up: the mean of the scored totals, and how many were not
    ws = wb["By street"]
    head = [c.value for c in ws[1]]
    streets = {r[head.index("street")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert streets["东街"][head.index("mean total")] == 100
    assert streets["西街"][head.index("mean total")] is None
    assert streets["西街"][head.index("not scored")] == 1
    assert streets["东街"][head.index("not scored")] == 0
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["communities not scored"] == 1
    # an indicator left out has no points and no points short: "—", not 0
    ws = wb["Indicator failures"]
    head = [c.value for c in ws[1]]
    short = {
        (r[head.index("community")], r[head.index("indicator")]): r
        for r in ws.iter_rows(min_row=2, values_only=True)
    }
    p1 = short[("缺安全社区", "p1")]
    assert (p1[head.index("points")], p1[head.index("points short")]) == ("—", "—")
    q = short[("全缺社区", "q")]
    assert (q[head.index("points")], q[head.index("outcome")]) == ("—", "missing")


def test_markdown_and_html_reports_show_a_dash(files, tmp_path):
    md = _report(files, tmp_path, "md").read_text(encoding="utf-8")
    line = next(x for x in md.splitlines() if "缺安全社区" in x and "NS-2" in x)
    assert [c.strip() for c in line.strip("|").split("|")][4:8] == ["100", "合格", "—", "40"]
    line = next(x for x in md.splitlines() if "全缺社区" in x and "NS-3" in x)
    assert [c.strip() for c in line.strip("|").split("|")][4:8] == ["—", "未达标", "—", "—"]
    assert "| communities not scored | 1 |" in md
    html = _report(files, tmp_path, "html").read_text(encoding="utf-8")
    row = html[html.index("NS-3") : html.index("</tr>", html.index("NS-3"))]
    assert row.count("<td>—</td>") == 3
    assert ">0<" not in row.replace('class="missing num">3<', "")
    # the failures table: an indicator left out has no points and none short
    failures = html[html.index("Indicator failures") :]
    rows = failures.split("<tr>")
    p1 = next(r for r in rows if "缺安全社区" in r and "<td>p1</td>" in r)
    assert p1.count("<td>—</td>") == 2


def test_run_store_keeps_the_null(files, tmp_path):
    from zhili.engine.runs.store import RunStore, diff_runs

    model, data = files
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", model, data, "--db", db).exit_code == 0
    with RunStore(db) as store:
        (run,) = store.runs()
        rows = _by_id(store.results(run.id).to_dicts())
    assert json.loads(rows["NS-2"]["dimensions"]) == {"s": None, "u": 40}
    assert rows["NS-3"]["total"] is None
    assert json.loads(rows["NS-3"]["dimensions"]) == {"s": None, "u": None}
    shown = zhili("runs", "--db", db, "show", "latest").stdout
    line = next(x for x in shown.splitlines() if "NS-3" in x)
    assert line.split()[3:5] == ["—", "未达标"]
    stored = json.loads(zhili("runs", "--db", db, "show", "latest", "--json").stdout)
    ns3 = _by_id(stored["communities"])["NS-3"]
    assert (ns3["total"], ns3["dimensions"]) == (None, {"s": None, "u": None})

    # the data filled in: 全缺社区 goes from not scored to 100, which is a move
    data.write_text(
        DATA.replace("NS-3,全缺社区,渭滨区,西街,,,", "NS-3,全缺社区,渭滨区,西街,是,是,是")
    )
    assert zhili("eval", model, data, "--db", db).exit_code == 0
    with RunStore(db) as store:
        a, b = sorted(store.runs(), key=lambda r: r.id)
        d = diff_runs(store, a, b)
    assert d.total_moves == 1
    assert [(c["community_id"], c["total_a"], c["total_b"]) for c in d.grade_changes] == [
        ("NS-3", None, 100)
    ]
    diff = zhili("runs", "--db", db, "diff", str(a.id), str(b.id)).stdout
    assert "— → 100.00" in diff


def test_tui_list_and_detail(files):
    pytest.importorskip("textual")
    from zhili.engine.plugins import Registry
    from zhili.tui.app import ZhiliApp, build_session
    from zhili.tui.screens.detail import DetailScreen
    from zhili.tui.widgets.outline import Outline
    from zhili.tui.widgets.vtable import VirtualTable

    model, data = files
    reg = Registry(extra_dirs=[model.parent])
    session = build_session(reg.get("ns"), data, reg)

    async def go():
        app = ZhiliApp(session, lang="en")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            overview = str(app.screen.query_one("#overview-body").render())
            assert "1 not scored" in overview  # beside the scored communities' statistics
            await pilot.press("2")
            await pilot.pause()
            table = app.main.query_one("#communities-table", VirtualTable)
            cells = {
                r["community_id"]: [c.fmt(r[c.key]) if c.fmt else r[c.key] for c in table.columns]
                for r in table.frame.to_dicts()
            }
            keys = [c.key for c in table.columns]
            s, total = keys.index("dim.s"), keys.index("total")
            assert (cells["NS-1"][total], cells["NS-1"][s]) == ("100", "60")
            assert (cells["NS-2"][total], cells["NS-2"][s]) == ("100", "-")
            assert (cells["NS-3"][total], cells["NS-3"][s]) == ("-", "-")
            while table.current_row["community_id"] != "NS-2":
                await pilot.press("down")
                await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            tree = app.screen.query_one("#tree", Outline)
            item = next(i for i in tree.items if i.data == ("dimension", "s"))
            assert item.points == "—/60"
            assert "not scored" in str(app.screen.explanation(("dimension", "s")))

    asyncio.run(go())


def test_report_gap_limit_takes_scored_communities_first(files):
    """Communities closest to their next grade first: one with no total is
    not close to anything, so it comes last (it used to sort first)."""
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io.data import load
    from zhili.engine.plugins import Registry
    from zhili.engine.report.build import build_report

    model, data = files
    reg = Registry(extra_dirs=[model.parent])
    lm = reg.get("ns")
    ev = evaluate_dataset(lm.model, load(data, lm.model), reg)
    report = build_report(ev, gap_limit=1)
    assert set(report.gaps.get_column("community_id")) == {"NS-2"}
    assert report.notes  # says the gap analysis was cut


def test_tui_export_leaves_the_cell_empty(files, tmp_path):
    """The TUI's export of its list (CSV/XLSX): an empty cell, not 0."""
    from openpyxl import load_workbook

    from zhili.engine.plugins import Registry
    from zhili.engine.report.export import export_frame
    from zhili.tui.app import build_session

    model, data = files
    reg = Registry(extra_dirs=[model.parent])
    session = build_session(reg.get("ns"), data, reg)
    out = export_frame(session.base, tmp_path / "list.xlsx")
    ws = load_workbook(out).active
    head = [c.value for c in ws[1]]
    rows = {r[head.index("community_id")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert (rows["NS-1"][head.index("dim.s")], rows["NS-1"][head.index("total")]) == (60, 100)
    assert (rows["NS-2"][head.index("dim.s")], rows["NS-2"][head.index("total")]) == (None, 100)
    assert rows["NS-3"][head.index("total")] is None
    text = export_frame(session.base, tmp_path / "list.csv").read_text(encoding="utf-8-sig")
    line = next(x for x in text.splitlines() if x.startswith("3,NS-3") or ",NS-3," in x)
    assert ",0," not in line and ",0.0," not in line
