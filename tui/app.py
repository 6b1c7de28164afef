"""The zhili terminal UI: overview, communities, detail, data problems,
model source, compare. Presentation only: every figure comes from the engine.

Run it with `zhili tui MODEL [DATA]` (or `zhili demo` in a terminal).
"""

from __future__ import annotations

import gc
from functools import partial
from pathlib import Path

import polars as pl
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, ScrollableContainer, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Select, Static, TabbedContent, TabPane

from zhili.dsl.i18n import language, set_language
from zhili.engine.eval import columns
from zhili.engine.trace.model import fmt_output, fmt_points
from zhili.tui.labels import localize_bindings, t
from zhili.tui.screens.base import ZhiliScreen
from zhili.tui.screens.detail import DetailScreen
from zhili.tui.screens.modals import ExportScreen, HelpScreen
from zhili.tui.session import OtherError, Session, load_other
from zhili.tui.widgets.compare import ComparePane
from zhili.tui.widgets.keybar import KeyBar
from zhili.tui.widgets.modelview import model_text
from zhili.tui.widgets.overview import Overview
from zhili.tui.widgets.vtable import Column, VirtualTable, default_fmt

TABS = ("overview", "communities", "problems", "model", "compare")


def points(v) -> str:
    """Points in the list as grades compare them (docs/language.md,
    "Numbers"); "-" when not scored, never 0 (not an em dash: ambiguous-width
    symbols stay out of aligned columns, see `default_fmt`)."""
    return "-" if v is None else fmt_points(v)


def output_cell(type_name: str, v) -> str:
    """An output in the list (`output ID = …`): "-" when missing, as `points`."""
    return "-" if v is None else fmt_output(v, type_name)


def veto_labels(labels: dict[str, str], ids: str | None) -> str:
    return ", ".join(labels.get(x, x) for x in ids.split(",")) if ids else ""


def community_columns(session: Session) -> list[Column]:
    labels = {v.id: v.label or v.id for v in session.model.vetoes}
    cols = [
        Column("community", t("Community")),
        Column("street", t("Street")),
        Column("total", t("Total"), right=True, fmt=points),
        Column("grade", t("Grade")),
    ]
    cols += [
        Column(columns.dim_score(d.id), d.label or d.id, right=True, fmt=points)
        for d in session.model.top_dimensions
    ]
    cols += [
        Column(
            columns.output_col(o.id),
            o.name,
            right=o.type != "text",
            fmt=partial(output_cell, o.type),
        )
        for o in session.model.outputs
    ]
    cols += [
        Column("vetoes", t("Vetoes"), fmt=partial(veto_labels, labels)),
        Column("missing", t("Missing"), right=True, fmt=lambda v: str(v) if v else ""),
        Column("community_id", t("ID")),
    ]
    return cols


PROBLEM_COLUMNS = [
    ("file", "File"),
    ("row", "Row"),
    ("column", "Column"),
    ("raw", "Raw value"),
    ("message", "Message"),
]


class CommunityCommands(Provider):
    """ctrl+p: jump to a community by name or id."""

    async def search(self, query: str) -> Hits:
        app = self.app
        if not isinstance(app, ZhiliApp) or app.session is None or not query.strip():
            return
        matches = app.session.matches(query)
        hits = app.session.base.filter(matches).head(20)
        for row in hits.iter_rows(named=True):
            name = row["community"] or row["community_id"] or "?"
            text = Text(f"{t('Jump to community')}: ")
            text.append(name)
            if row["street"]:
                text.append(f"  {row['street']}", "dim")
            yield Hit(1.0, text, partial(app.open_community, row["idx"]), text=name)

    async def discover(self) -> Hits:
        app = self.app
        if not isinstance(app, ZhiliApp):
            return
        for tab in TABS:
            label = t(MainScreen.TAB_LABELS[tab])
            yield Hit(1.0, Text(label), partial(app.show_tab, tab), text=label)


class MainScreen(ZhiliScreen):
    AUTO_FOCUS = "#overview-scroll"
    TAB_LABELS = {
        "overview": "Overview",
        "communities": "Communities",
        "problems": "Data problems",
        "model": "Model",
        "compare": "Compare",
    }
    BINDINGS = [
        Binding("1", "tab('overview')", "Overview", show=False),
        Binding("2", "tab('communities')", "Communities", show=False),
        Binding("3", "tab('problems')", "Data problems", show=False),
        Binding("4", "tab('model')", "Model", show=False),
        Binding("5", "tab('compare')", "Compare", show=False),
        Binding("slash", "search", "Search"),
        Binding("e", "export", "Export"),
        Binding("escape", "leave_input", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        localize_bindings(self)
        self.session = session
        m = session.model
        self.title = m.title or m.id
        self.sub_title = f"{m.id} {m.version or ''}".strip()
        self.grade: str | None = None
        self.status: str | None = None  # a round's filter: "missing" or "problems"
        self.query_text = ""

    def compose(self) -> ComposeResult:
        s = self.session
        yield Header()
        with Horizontal(id="filters"):
            yield Select(
                [(d, d) for d in s.districts()],
                prompt=t("All districts"),
                value=s.district or Select.NULL,
                id="district",
                compact=True,
            )
            yield Select(
                [(x, x) for x in s.streets()],
                prompt=t("All streets"),
                value=s.street or Select.NULL,
                id="street",
                compact=True,
            )
        with TabbedContent(id="tabs"):
            with TabPane(t("Overview"), id="overview"):
                with VerticalScroll(id="overview-scroll"):
                    yield Overview(s, id="overview-body")
            with TabPane(t("Communities"), id="communities"):
                with Horizontal(classes="toolbar"):
                    yield Select(
                        [(g.name, g.name) for g in s.model.grades],
                        prompt=t("All grades"),
                        id="grade",
                        compact=True,
                    )
                    if s.round is not None:  # a round: who has not submitted, who has problems
                        yield Select(
                            [(t("Not submitted"), "missing"), (t("With problems"), "problems")],
                            prompt=t("All communities"),
                            id="status",
                            compact=True,
                        )
                    yield Input(
                        placeholder=t("Search communities (name, pinyin initials or id)"),
                        id="search",
                        compact=True,
                    )
                    yield Static("", id="count")
                yield VirtualTable(id="communities-table")
            with TabPane(f"{t('Data problems')} ({s.problems_frame().height})", id="problems"):
                if not s.problems():
                    yield Static(Text(t("No data problems.")), id="no-problems")
                yield VirtualTable(id="problems-table")
            with TabPane(t("Model"), id="model"):
                with ScrollableContainer(id="model-scroll"):
                    yield Static(model_text(s.lm), id="model-source")
            with TabPane(t("Compare"), id="compare"):
                yield ComparePane(s, id="compare-pane")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#communities-table", VirtualTable)
        table.set_data(self.communities_frame(), community_columns(self.session))
        frame = self.session.problems_frame()
        self.query_one("#problems-table", VirtualTable).set_data(
            frame, [Column(k, t(label), fmt=default_fmt) for k, label in PROBLEM_COLUMNS]
        )
        self.update_count()

    # ------------------------------------------------------------ view

    def communities_frame(self) -> pl.DataFrame:
        q = self.query_text.strip()
        matches = self.session.matches(q) if q else None  # may add columns to base
        if self.status == "missing":
            f = self.session.not_submitted_frame()
        else:
            f = self.session.filtered()
        if self.status == "problems":
            f = f.filter(self.session.with_problems())
        if self.grade:
            f = f.filter(pl.col("grade") == self.grade)
        if matches is not None:
            f = f.filter(matches)
        return f

    def refresh_views(self) -> None:
        """After a filter changed: every tab shows the filtered communities."""
        table = self.query_one("#communities-table", VirtualTable)
        table.set_data(self.communities_frame())
        self.query_one("#overview-body", Overview).refresh_view()
        problems = self.session.problems_frame()
        self.query_one("#problems-table", VirtualTable).set_data(problems)
        tab = self.query_one("#tabs", TabbedContent).get_tab("problems")
        tab.label = f"{t('Data problems')} ({problems.height})"
        self.query_one("#compare-pane", ComparePane).refresh_view()
        self.update_count()

    def update_count(self) -> None:
        table = self.query_one("#communities-table", VirtualTable)
        self.query_one("#count", Static).update(
            Text(f"{table.row_count}/{self.session.base.height}"),
            layout=False,  # a fixed width (app.tcss): no layout for a new count
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        s = self.session
        if event.select.id == "district":
            if value == s.district:
                return
            s.district = value
            s.street = None
            street = self.query_one("#street", Select)
            with street.prevent(Select.Changed):
                street.set_options([(x, x) for x in s.streets()])
        elif event.select.id == "street":
            if value == s.street:
                return
            s.street = value
        elif event.select.id == "grade":
            self.grade = value
        elif event.select.id == "status":
            if value == self.status:
                return
            self.status = value
            self.query_one("#communities-table", VirtualTable).set_data(self.communities_frame())
            self.update_count()
            return
        self.refresh_views()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.query_text = event.value
            self.query_one("#communities-table", VirtualTable).set_data(self.communities_frame())
            self.update_count()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.query_one("#communities-table", VirtualTable).focus()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        if event.table.id == "communities-table":
            if event.row["idx"] is None:  # a round's community that has not submitted
                self.notify_not_submitted(event.row)
            else:
                self.app.open_community(event.row["idx"])
        elif event.table.id == "problems-table":
            idx = self.session.index_of_line(event.row["row"], event.row.get("file"))
            if idx is not None:
                self.app.open_community(idx)

    def notify_not_submitted(self, row: dict) -> None:
        name = row["community"] or row["community_id"] or "?"
        contact = self.session.contact_of(row["community_id"])
        if contact:
            text = t("{name} has not submitted (contact: {contact})")
        else:
            text = t("{name} has not submitted")
        self.notify(text.format(name=name, contact=contact))

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        if tab == "overview":
            self.query_one("#overview-scroll").focus()
        elif tab == "model":
            self.query_one("#model-scroll").focus()
        elif tab == "compare":
            if self.session.other is None:
                self.query_one("#compare-path").focus()
            else:
                self.query_one("#compare-table").focus()
        elif tab == "communities":
            self.query_one("#communities-table", VirtualTable).focus()
        elif tab == "problems":
            self.query_one("#problems-table", VirtualTable).focus()

    def action_leave_input(self) -> None:
        """Esc in a text box: back to the tab's table or text."""
        tab = self.query_one("#tabs", TabbedContent).active
        if tab == "compare":
            self.query_one("#compare-table").focus()
        else:
            self.action_tab(tab)

    def action_search(self) -> None:
        self.action_tab("communities")
        self.query_one("#search", Input).focus()

    def current_view(self) -> tuple[pl.DataFrame, str]:
        """The frame the active tab shows (for export) and a file stem."""
        tab = self.query_one("#tabs", TabbedContent).active
        if tab == "problems":
            return self.query_one("#problems-table", VirtualTable).frame, "problems"
        if tab == "compare":
            frame = self.query_one("#compare-pane", ComparePane).frame
            if frame is not None:
                return frame, "compare"
        table = self.query_one("#communities-table", VirtualTable)
        frame = table.frame.select([c.key for c in table.columns if c.key in table.frame.columns])
        rename = {c.key: c.label for c in table.columns if c.key in frame.columns}
        labels = list(rename.values())
        if len(set(labels)) == len(labels):
            frame = frame.rename(rename)
        return frame, "communities"

    def action_export(self) -> None:
        frame, stem = self.current_view()

        def done(path: Path | None) -> None:
            if path is not None:
                self.notify(f"{t('Written')}: {path}")

        self.app.push_screen(ExportScreen(frame, f"zhili-{stem}.csv"), done)


class LoadingScreen(Screen):
    """Shown while the engine loads and evaluates the data."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(t("Loading and evaluating…")), id="loading")
        yield KeyBar()


class ZhiliApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "zhili 治理"
    COMMANDS = App.COMMANDS | {CommunityCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("l", "switch_language", "Language"),
    ]

    def __init__(
        self,
        session: Session | None = None,
        lang: str | None = None,
        tab: str = "overview",
        loader=None,
    ) -> None:
        """`session`, or `loader`: a callable run in a thread that returns the
        session (the app shows a loading screen meanwhile) or raises with a
        message for the person (the app exits with it in `return_value`)."""
        super().__init__()
        # no animations (the sliding tab underline costs a dozen full
        # repaints per tab switch): staff often work over SSH on slow links
        self.animation_level = "none"
        self.session = session
        self.loader = loader
        if lang:
            set_language(lang)
        localize_bindings(self)
        self.initial_tab = tab
        self._detail: DetailScreen | None = None
        self._frozen = False

    def on_mount(self) -> None:
        if self.session is None and self.loader is not None:
            self.push_screen(LoadingScreen())
            self.load_session()
        else:
            self.start()

    def start(self) -> None:
        if self.initial_tab == "overview" and self.session.ev.dataset.errors:
            self.initial_tab = "problems"
        self.settle()  # the session
        self.push_screen(MainScreen(self.session))
        if self.initial_tab != "overview":
            self.call_after_refresh(self.show_tab, self.initial_tab)
        self.call_after_refresh(self.settle)  # and the main screen
        self.prepare_search()

    @work(thread=True, exclusive=True, group="initials")
    def prepare_search(self) -> None:
        """The names' pinyin initials, before the first search needs them."""
        self.session.ensure_initials()

    def settle(self) -> None:
        """Take what lives as long as the app (the evaluated session, the
        main screen's widgets) out of the garbage collector's reach.

        A full collection walks every container object; with the session
        and Textual's widgets that took 40-60 ms each time, and one fell in
        the middle of opening a community (218 ms of CPU with it, 110 ms
        without; 100 000 communities). `gc.freeze()` is cheap (no
        collection first: that took 90-160 ms, a pause of its own); any
        cyclic garbage it catches is freed when `unsettle` hands it back."""
        gc.freeze()
        self._frozen = True

    def unsettle(self) -> None:
        """Hand the frozen objects back to the collector (before the main
        screen is replaced, and when the app ends)."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def on_unmount(self) -> None:
        self.unsettle()

    @work(thread=True, exclusive=True, group="load")
    def load_session(self) -> None:
        try:
            session = self.loader()
        except Exception as exc:  # the loader's errors are messages for the person
            self.call_from_thread(self.exit, str(exc), 1)
            return
        self.session = session
        self.call_from_thread(self.start)

    @property
    def main(self) -> MainScreen:
        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    def show_tab(self, tab: str) -> None:
        while not isinstance(self.screen, MainScreen):
            self.pop_screen()
        self.screen.action_tab(tab)

    def open_community(self, index: int) -> None:
        while not isinstance(self.screen, MainScreen):
            self.pop_screen()
        # one detail screen, reused: building a screen costs more than
        # refilling it
        if self._detail is None:
            self._detail = DetailScreen(self.session, int(index))
            self.install_screen(self._detail, name="detail")
        else:
            self._detail.show(int(index))
        self.push_screen("detail")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_switch_language(self) -> None:
        """Switch 中文 ⇄ English and rebuild the screens."""
        set_language("en" if language() == "zh" else "zh")
        localize_bindings(self)
        self.rebuild()

    def rebuild(self) -> None:
        tab = "overview"
        if isinstance(self.screen, MainScreen):
            tab = self.screen.query_one("#tabs", TabbedContent).active
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if self._detail is not None:
            self.uninstall_screen("detail")
            self._detail = None
        self.unsettle()  # the old screens are garbage now
        self.push_screen(MainScreen(self.session))
        self.call_after_refresh(self.show_tab, tab)
        self.call_after_refresh(self.settle)
        self.refresh_bindings()

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand(t("Switch language"), "中文 / English", self.action_switch_language)
        if any(isinstance(s, MainScreen) for s in self.screen_stack):
            yield SystemCommand(t("Export"), t("Export the current view"), self.main.action_export)

    @work(thread=True, exclusive=True, group="compare")
    def load_other(self, ref: str) -> None:
        """Load what to compare with (in a thread): another data file,
        evaluated, or a recorded run."""
        pane = self.main.query_one("#compare-pane", ComparePane)
        try:
            other = load_other(self.session.lm, ref, self.session.registry)
        except OtherError as exc:
            self.call_from_thread(pane.show_error, str(exc))
            return
        self.session.other = other
        self.call_from_thread(pane.show_other)


def build_session(lm, data_path: Path, registry=None) -> Session:
    """Load and evaluate (engine calls) and wrap them for the app."""
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io import data as data_mod

    ds = data_mod.load(data_path, lm.model)
    ev = evaluate_dataset(lm.model, ds, registry)
    return Session(lm, ev, registry)


def build_round_session(lm, rd, registry=None) -> Session:
    """A round's session: the returns read against the roster (`RoundData`,
    with data), evaluated; the app shows the completeness and can list
    who has not submitted and who has problems."""
    from zhili.engine.eval.evaluate import evaluate_dataset

    ev = evaluate_dataset(lm.model, rd.dataset, registry)
    return Session(lm, ev, registry, round=rd)


__all__ = ["ZhiliApp", "Session", "build_session", "build_round_session"]
