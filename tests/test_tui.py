"""The terminal UI, driven through Textual's pilot on the real app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("textual")

from textual.widgets import Input, Select, Static, TabbedContent  # noqa: E402

from zhili.dsl.i18n import set_language  # noqa: E402
from zhili.engine.plugins import Registry  # noqa: E402
from zhili.tui.app import MainScreen, ZhiliApp, build_session  # noqa: E402
from zhili.tui.screens.detail import DetailScreen  # noqa: E402
from zhili.tui.screens.modals import ExportScreen, HelpScreen  # noqa: E402
from zhili.tui.widgets.keybar import KeyBar  # noqa: E402
from zhili.tui.widgets.outline import Outline  # noqa: E402
from zhili.tui.widgets.vtable import VirtualTable, fit  # noqa: E402


@pytest.fixture(scope="module")
def registry():
    return Registry()


@pytest.fixture
def session(registry):
    lm = registry.get("four_type")
    return build_session(lm, lm.samples[0], registry)


@pytest.fixture(autouse=True)
def _restore_language():
    yield
    set_language("en")


def run(coro):
    return asyncio.run(coro)


async def wait_for(pilot, cond, timeout: float = 5.0) -> None:
    """Pause until `cond()` holds (the palette searches in the background)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond() and loop.time() < end:
        await pilot.pause(0.05)


def text_of(widget: Static) -> str:
    return str(widget.render())


def table(app) -> VirtualTable:
    return app.main.query_one("#communities-table", VirtualTable)


def test_overview_shows_grades_targets_and_dimensions(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            body = text_of(app.screen.query_one("#overview-body", Static))
            assert "四型社区建设评价" in body
            assert "24 个社区" in body
            assert "等级分布" in body
            assert "四型社区 21% / 目标 70%" in body
            assert "中共宝鸡市委组织部" in body
            for d in session.model.top_dimensions:
                assert d.label in body

    run(go())


def test_every_tab_opens(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            tabs = app.screen.query_one("#tabs", TabbedContent)
            for key, tab in [
                ("2", "communities"),
                ("3", "problems"),
                ("4", "model"),
                ("5", "compare"),
                ("escape", "compare"),  # leave the file box
                ("1", "overview"),
            ]:
                await pilot.press(key)
                await pilot.pause()
                assert tabs.active == tab
            # the sample has no data problems, and the tab says so
            assert text_of(app.screen.query_one("#no-problems", Static)) == "没有数据问题。"
            await pilot.press("4")
            await pilot.pause()
            src = text_of(app.screen.query_one("#model-source", Static))
            assert "model four_type" in src
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)

    run(go())


def test_sort_filter_and_search(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            t = table(app)
            assert t.has_focus and t.row_count == 24
            # sort by total: choose the column with → and press s (twice: descending)
            await pilot.press("right", "right", "s")
            await pilot.pause()
            totals = t.frame.get_column("total").to_list()
            assert totals == sorted(totals)
            await pilot.press("s")
            await pilot.pause()
            totals = t.frame.get_column("total").to_list()
            assert totals == sorted(totals, reverse=True)
            assert t.current_row["total"] == max(totals)
            # filter by grade
            app.screen.query_one("#grade", Select).value = "四型社区"
            await pilot.pause()
            assert t.row_count == 5
            assert set(t.frame.get_column("grade")) == {"四型社区"}
            app.screen.query_one("#grade", Select).value = Select.NULL
            await pilot.pause()
            assert t.row_count == 24
            # street filter applies to the table and the overview
            street = session.streets()[0]
            app.screen.query_one("#street", Select).value = street
            await pilot.pause()
            assert set(t.frame.get_column("street")) == {street}
            body = text_of(app.screen.query_one("#overview-body", Static))
            assert f"{t.row_count} 个社区" in body
            app.screen.query_one("#street", Select).value = Select.NULL
            await pilot.pause()
            # / search with a Chinese name
            await pilot.press("slash")
            await pilot.pause()
            assert app.screen.query_one("#search", Input).has_focus
            await pilot.press(*"长青")
            await pilot.pause()
            assert t.row_count == 1
            assert t.frame.get_column("community").to_list() == ["长青社区"]
            # pinyin initials (any case) and ids (any case) find it too
            search = app.screen.query_one("#search", Input)
            for query in ("cqsq", "CQ", "bj-jt-001"):
                search.value = ""
                await pilot.pause()
                await pilot.press(*query)
                await pilot.pause()
                assert "长青社区" in t.frame.get_column("community").to_list(), query
                assert t.row_count < session.base.height, query
            await pilot.press("enter")
            await pilot.pause()
            assert t.has_focus

    run(go())


def test_pinyin_initials_count_every_reading():
    import polars as pl

    from zhili.tui.pinyin import INITIALS, initials_pattern, is_initials_query, with_initials

    names = ["长青社区", "银行社区", "重庆路社区", None, "A区|3号", "张庆社区"]
    f = with_initials(pl.DataFrame({"community": names}))
    groups = f.get_column(INITIALS).to_list()
    assert groups[0] == "|zc|qj|s|qo|"  # 长 zhǎng/cháng, 青 qīng/jīng, 区 qū/ōu
    assert groups[3] == "||"
    assert groups[4] == "|a|qo| |3|hx|"  # a "|" in a name is no separator

    def found(query):
        hits = f.filter(pl.col(INITIALS).str.contains(initials_pattern(query)))
        return hits.get_column("community").to_list()

    assert found("cqsq") == ["长青社区"]  # cháng, the reading in this name
    assert found("zqsq") == ["长青社区", "张庆社区"]
    assert found("YHSQ") == ["银行社区"]  # 行 háng, upper case too
    assert found("cqlsq") == ["重庆路社区"]  # 重 chóng
    assert found("qs") == ["长青社区", "张庆社区"]
    assert found("zs") == []  # initials of consecutive characters only
    assert found("sq") == ["长青社区", "银行社区", "重庆路社区", "张庆社区"]
    assert is_initials_query("cqsq") and is_initials_query("CQ")
    assert not is_initials_query("长青") and not is_initials_query("bj-1")


def test_detail_explains_an_indicator(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            await pilot.press("down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.result.community == table(app).current_row["community"]
            tree = app.screen.query_one("#tree", Outline)
            assert tree.has_focus
            assert tree.cursor_item.data == ("community", None)
            # vetoes read as outcomes (a sign and, in a wide pane, a word),
            # not as fold signs
            vetoes = [i for i in tree.items if i.data[0] == "veto"]
            assert vetoes and {v.mark for v in vetoes} <= {"✓", "!", "?"}
            lines = [tree.line_text(y) for y in range(len(tree._visible))]
            assert any("✓ 未触发" in x for x in lines)
            # the root explains the whole community (the engine's explain_text)
            explain = text_of(app.screen.query_one("#explain", Static))
            assert app.screen.result.community in explain
            # walk down to the first indicator
            for _ in range(10):
                await pilot.press("down")
                await pilot.pause()
                if tree.cursor_item.data[0] == "indicator":
                    break
            kind, ident = tree.cursor_item.data
            assert kind == "indicator"
            explain = text_of(app.screen.query_one("#explain", Static))
            ind = session.model.indicator(ident)
            assert ind.label in explain
            assert ind.scoring.value.text in explain
            gap = text_of(app.screen.query_one("#gap", Static))
            assert "→" in gap or "已是最高等级" in gap
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)

    run(go())


def test_detail_outline_folds_and_fits_narrow_panes(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("2", "enter")
            await pilot.pause()
            outline = app.screen.query_one("#tree", Outline)
            width = outline.scrollable_content_region.width
            lines = [outline.line_text(y) for y in range(len(outline._visible))]
            # every line fills the pane exactly (CJK counted as two cells);
            # long labels end in "…" and keep their points
            from rich.cells import cell_len

            assert {cell_len(x) for x in lines} == {width}
            kinds = [outline.items[i].data[0] for i in outline._visible]
            cut = [x for x, kind in zip(lines, kinds, strict=True) if "…" in x and kind != "veto"]
            assert cut, lines
            assert all(x.rstrip().endswith(tuple("0123456789")) for x in cut)
            # at this width the outcome is a sign only; words need room
            assert not any("达标" in x for x in lines)
            # fold the first dimension: its items disappear, Right brings them back
            await pilot.press("down")
            assert outline.cursor_item.data[0] == "dimension"
            shown = len(outline._visible)
            first_dim = outline.cursor_index
            depth = outline.items[first_dim].depth
            inside = 0
            while outline.items[first_dim + 1 + inside].depth > depth:
                inside += 1
            assert inside > 0
            await pilot.press("enter")
            assert len(outline._visible) == shown - inside
            assert outline.line_text(outline.cursor).lstrip().startswith("+")
            await pilot.press("right")
            assert len(outline._visible) == shown
            # Left on an indicator goes up to its group
            await pilot.press("down", "down")
            assert outline.cursor_item.data[0] == "indicator"
            await pilot.press("left")
            assert outline.cursor_item.data[0] == "dimension"

    run(go())


def test_resizing_lays_out_the_screens_underneath(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2", "enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert table(app).size.width > 100
            await pilot.resize_terminal(90, 30)
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert table(app).size.width <= 90
            assert app.screen.size == (90, 30)
            # under a modal (help) the table stays visible: it follows at once
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.resize_terminal(110, 35)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert 90 < table(app).size.width <= 110

    run(go())


def test_clicking_the_table_moves_sorts_and_opens(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            t = table(app)
            t.scroll_to(y=2.5, animate=False)  # mouse-wheel scrolling leaves fractions
            await pilot.pause()
            await pilot.click(VirtualTable, offset=(3, 4))
            await pilot.pause()
            assert t.cursor_row == int(t.scroll_y) + 3 and isinstance(t.cursor_row, int)
            name = t.current_row["community"]
            await pilot.click(VirtualTable, offset=(3, 4), times=2)
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.result.community == name
            await pilot.press("escape")
            await pilot.pause()
            # a click on a column's heading sorts by it
            x = sum((c.width or 8) + 2 for c in t.columns[:2]) + 1  # the total
            await pilot.click(VirtualTable, offset=(x, 0))
            await pilot.pause()
            assert t.sort_key == "total"

    run(go())


def test_clicking_the_outline_explains_the_line(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2", "enter")
            await pilot.pause()
            outline = app.screen.query_one("#tree", Outline)
            line = next(
                y for y, i in enumerate(outline._visible) if outline.items[i].data[0] == "indicator"
            )
            await pilot.click(Outline, offset=(10, line))
            await pilot.pause()
            assert outline.cursor == line
            kind, ident = outline.cursor_item.data
            explain = text_of(app.screen.query_one("#explain", Static))
            assert session.model.indicator(ident).label in explain
            # a double click on a group folds it
            await pilot.click(Outline, offset=(10, 1), times=2)
            await pilot.pause()
            assert 1 in {outline._visible.index(i) for i in outline.folded}

    run(go())


def test_key_bar_follows_focus_and_clicks_press_keys(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            bar = app.screen.query_one(KeyBar)
            descriptions = [k.description for k in bar.keys()[0]]
            assert "排序" not in descriptions and "帮助" in descriptions
            await pilot.press("2")  # the table has the focus: its keys show
            await pilot.pause()
            line = bar.render().plain
            assert "排序" in line and "打开" in line
            assert line.rstrip().endswith("命令")  # the palette key, on the right
            f1 = next(x for x, _, key in bar._spans if key.key == "f1")
            await pilot.click(KeyBar, offset=(f1 + 1, 0))
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)

    run(go())


def test_app_hands_frozen_objects_back_when_it_ends(session):
    import gc

    before = gc.get_freeze_count()

    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert gc.get_freeze_count() > before  # the session and main screen
            await pilot.press("l")  # a rebuild unfreezes, then freezes the new screens
            await pilot.pause()
            await pilot.pause()
            assert gc.get_freeze_count() > before

    run(go())
    assert gc.get_freeze_count() == before


def test_switch_language(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            tabs = app.screen.query_one("#tabs", TabbedContent)
            assert str(tabs.get_tab("overview").label) == "概览"
            await pilot.press("l")
            await pilot.pause()
            await pilot.pause()
            tabs = app.screen.query_one("#tabs", TabbedContent)
            assert str(tabs.get_tab("overview").label) == "Overview"
            body = text_of(app.screen.query_one("#overview-body", Static))
            assert "24 communities" in body

    run(go())


def test_markup_in_names_is_shown_as_written(registry, tmp_path):
    lm = registry.get("four_type")
    lines = lm.samples[0].read_text(encoding="utf-8").splitlines()
    head, first = lines[0], lines[1]
    cells = first.split(",")
    cells[3] = "[/bold]"
    cells[0] = "X-1"
    data = tmp_path / "odd.csv"
    data.write_text("\n".join([head, ",".join(cells), *lines[2:5]]) + "\n", encoding="utf-8")
    s = build_session(lm, data, registry)

    async def go():
        app = ZhiliApp(s, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            t = table(app)
            assert t.current_row["community"] == "[/bold]"
            line = t.render_line(1).text
            assert "[/bold]" in line
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert "[/bold]" in text_of(app.screen.query_one("#head", Static))
            assert "[/bold]" in app.screen.query_one("#tree", Outline).line_text(0)

    run(go())


def test_command_palette_jumps_to_a_community(session):
    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            from textual.command import CommandList, CommandPalette

            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"新福")

            await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.result.community == "新福社区"

    run(go())


def test_export_current_view(session, tmp_path):
    out = tmp_path / "view.csv"

    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            app.screen.query_one("#grade", Select).value = "四型社区"
            await pilot.pause()
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, ExportScreen)
            inp = app.screen.query_one("#export-path", Input)
            inp.value = str(out)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)

    run(go())
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("社区,街道,总分,等级")
    assert len(text.splitlines()) == 6


def test_compare_two_data_files(session, registry, tmp_path):
    lm = registry.get("four_type")
    lines = lm.samples[0].read_text(encoding="utf-8").splitlines()
    other = tmp_path / "later.csv"
    other.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")

    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("5")
            await pilot.pause()
            app.screen.query_one("#compare-path", Input).focus()
            app.screen.query_one("#compare-path", Input).value = str(other)
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            t = app.screen.query_one("#compare-table", VirtualTable)
            assert t.row_count == 24
            frame = app.screen.query_one("#compare-pane").frame
            changed = frame.get_column("changed").to_list()
            assert changed == sorted(changed, reverse=True)  # changed grades first
            assert sum(changed) == 19  # 5 kept, 19 gone from the later file
            # the street filter applies here too
            street = session.streets()[0]
            app.screen.query_one("#street", Select).value = street
            await pilot.pause()
            frame = app.screen.query_one("#compare-pane").frame
            expected = session.base.filter(pl.col("street") == street).height
            assert set(frame.get_column("street")) == {street}
            assert t.row_count == frame.height == expected

    run(go())


def test_compare_with_a_recorded_run(session, registry):
    from zhili.engine.runs.store import RunStore

    lm = registry.get("four_type")
    with RunStore() as store:  # the test's own store (conftest sets ZHILI_DB)
        run_id = store.record(session.ev, command="eval", data_path=lm.samples[0])
        other = registry.get("five_governance")
        from zhili.engine.eval.evaluate import evaluate_dataset
        from zhili.engine.io import data as data_mod

        ev5 = evaluate_dataset(other.model, data_mod.load(other.samples[0], other.model), registry)
        other_id = store.record(ev5, command="eval", data_path=other.samples[0])

    async def go():
        app = ZhiliApp(session, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("5")
            await pilot.pause()
            box = app.screen.query_one("#compare-path", Input)
            status = app.screen.query_one("#compare-status", Static)
            # a run of another model, then something that is neither a file nor a run
            for ref, message in [
                (str(other_id), f"运行 #{other_id} 属于模型 five_governance"),
                ("no-such-thing", "没有这个文件，也没有这次运行记录：no-such-thing"),
            ]:
                box.value = ref
                box.focus()
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert message in text_of(status)
            box.value = f"#{run_id}"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert f"运行 #{run_id}" in text_of(status)
            t = app.screen.query_one("#compare-table", VirtualTable)
            frame = app.screen.query_one("#compare-pane").frame
            # the same data as recorded: every community, no grade changed
            assert t.row_count == session.base.height == 24
            assert frame.get_column("changed").sum() == 0
            assert frame.get_column("delta").abs().max() < 1e-9

    run(go())


def test_compare_joins_by_name_when_the_data_has_no_ids(registry):
    from zhili.tui.widgets.compare import compare_frame

    model = registry.get("four_type").model
    best, worst = model.grades[0].name, model.grades[-1].name

    def results(grades):
        return pl.DataFrame(
            {
                "community_id": pl.Series([None] * len(grades), dtype=pl.String),
                "community": ["甲社区", "乙社区"][: len(grades)],
                "grade": grades,
                "total": [90.0, 50.0][: len(grades)],
            }
        )

    f = compare_frame(model, results([best, worst]), results([best, best]))
    assert f.height == 2
    assert f.get_column("community").to_list()[0] == "乙社区"  # changed first
    assert f.get_column("changed").to_list() == [True, False]


def test_street_filter_applies_to_data_problems(registry, tmp_path):
    lm = registry.get("four_type")
    lines = lm.samples[0].read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    street_at = head.index("街道")
    cells = lines[2].split(",")
    cells[4] = "很多"  # 常住人口 is an int
    data = tmp_path / "bad.csv"
    data.write_text(
        "\n".join([lines[0], lines[1], ",".join(cells), *lines[3:]]) + "\n", encoding="utf-8"
    )
    s = build_session(lm, data, registry)
    bad_street = cells[street_at]
    other_street = next(x for x in s.streets() if x != bad_street)

    async def go():
        app = ZhiliApp(s, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            tabs = app.screen.query_one("#tabs", TabbedContent)
            problems = app.screen.query_one("#problems-table", VirtualTable)
            assert problems.row_count == 1
            assert str(tabs.get_tab("problems").label) == "数据问题 (1)"
            app.screen.query_one("#street", Select).value = other_street
            await pilot.pause()
            assert problems.row_count == 0
            assert str(tabs.get_tab("problems").label) == "数据问题 (0)"
            assert "0 个数据问题" in text_of(app.screen.query_one("#overview-body", Static))
            app.screen.query_one("#street", Select).value = bad_street
            await pilot.pause()
            assert problems.row_count == 1
            assert problems.current_row["raw"] == "很多"

    run(go())


def test_data_problems_jump_to_community(registry, tmp_path):
    lm = registry.get("four_type")
    lines = lm.samples[0].read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[4] = "很多"  # 常住人口 is an int
    data = tmp_path / "bad.csv"
    data.write_text(
        "\n".join([lines[0], lines[1], ",".join(cells), lines[3]]) + "\n", encoding="utf-8"
    )
    s = build_session(lm, data, registry)
    assert s.problems()

    async def go():
        app = ZhiliApp(s, lang="zh")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("3")
            await pilot.pause()
            t = app.screen.query_one("#problems-table", VirtualTable)
            assert t.has_focus and t.row_count >= 1
            assert not app.screen.query("#no-problems")
            assert t.current_row["raw"] == "很多"
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.result.community == cells[3]

    run(go())


def test_fit_counts_wide_characters():
    assert fit("社区", 6) == "社区  "
    assert fit("社区", 6, right=True) == "  社区"
    cut = fit("长青社区很长的名字", 7)
    from rich.cells import cell_len

    assert cell_len(cut) == 7 and cut.endswith("…")
    assert Path  # keep the import for tmp paths


def test_loading_in_a_thread_then_overview(session):
    async def go():
        app = ZhiliApp(lang="zh", loader=lambda: session)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)

    run(go())


def test_bad_data_is_one_message_not_a_traceback():
    def load():
        raise RuntimeError("error: no such file: nowhere.csv")

    async def go():
        app = ZhiliApp(lang="zh", loader=load)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
        return app

    app = run(go())
    assert app.return_code == 1
    assert app.return_value == "error: no such file: nowhere.csv"


def test_demo_prints_the_table_when_not_a_terminal():
    from click.testing import CliRunner

    from zhili.cli.app import cli

    res = CliRunner().invoke(cli, ["--lang", "zh", "demo"])
    assert res.exit_code == 0, res.output
    assert "四型社区建设评价" in res.output
    res = CliRunner().invoke(cli, ["demo", "--no-tui"])
    assert res.exit_code == 0


def test_tui_command_rejects_a_missing_file():
    from click.testing import CliRunner

    from zhili.cli.app import cli

    res = CliRunner().invoke(cli, ["tui", "four_type", "/nonexistent/x.csv"])
    assert res.exit_code == 1
    assert "no such file" in res.output
    assert "Traceback" not in res.output


def test_one_record_explanation_matches_the_engine(registry):
    lm = registry.get("four_type")
    fresh = build_session(lm, lm.samples[0], registry)
    assert fresh.ev.dataset._records is None
    mine = [fresh.explain(i).to_result() for i in (0, 5, 23)]
    assert fresh.ev.dataset._records is None
    assert mine == [fresh.ev.explain_raw(i).to_result() for i in (0, 5, 23)]


def test_model_source_shows_diagnostics_inline(registry):
    import dataclasses

    from zhili.dsl import diagnostics as dg
    from zhili.tui.widgets.modelview import model_text

    lm = registry.get("four_type")
    span = lm.model.targets[0].span
    diag = dg.Diagnostic("demo-warning", dg.Severity.WARNING, "a warning for the test", span)
    text = model_text(dataclasses.replace(lm, diagnostics=[diag])).plain.splitlines()
    at = next(i for i, line in enumerate(text) if "a warning for the test" in line)
    assert text[at - 1].lstrip().startswith(str(span.line))
    assert "^ warning[demo-warning]" in text[at]


def test_export_xlsx_and_bad_suffix(tmp_path):
    import polars as pl

    from zhili.engine.report.export import ExportError, export_frame

    frame = pl.DataFrame({"社区": ["长青社区", "[/bold]"], "总分": [89.5, 12.0]})
    out = export_frame(frame, tmp_path / "v.xlsx")
    back = pl.read_excel(out)
    assert back.get_column("社区").to_list() == ["长青社区", "[/bold]"]
    with pytest.raises(ExportError):
        export_frame(frame, tmp_path / "v.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.xlsx"]  # no temp file left


def test_no_color_is_respected(session, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert ZhiliApp(session, lang="zh").no_color


def test_tui_is_chinese_first(monkeypatch):
    import click

    from zhili.cli.tui import tui_language

    monkeypatch.delenv("ZHILI_LANG", raising=False)
    with click.Context(click.Command("zhili"), obj=None) as ctx:
        ctx.params["lang"] = None
        assert tui_language(None) == "zh"
        ctx.params["lang"] = "en"
        assert tui_language(None) == "en"
