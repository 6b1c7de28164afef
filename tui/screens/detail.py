"""One community: the dimension → indicator outline, the selected item's
explanation (from the engine) and the gap to the next grade."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from zhili.dsl.i18n import _
from zhili.dsl.model import Outcome
from zhili.engine.trace.events import decide
from zhili.engine.trace.explain import explain_text, substitutions
from zhili.engine.trace.results import fmt_output, fmt_points
from zhili.tui.labels import localize_bindings, t
from zhili.tui.screens.base import ZhiliScreen
from zhili.tui.session import Session
from zhili.tui.widgets.keybar import KeyBar
from zhili.tui.widgets.outline import Item, Outline

OUTCOME_STYLE = {
    Outcome.PASS: "green",
    Outcome.PARTIAL: "yellow",
    Outcome.FAIL: "red",
    Outcome.MISSING: "magenta",
    Outcome.VETOED: "bold red",
}


class DetailScreen(ZhiliScreen):
    AUTO_FOCUS = "#tree"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]
    DEFAULT_CSS = """
    DetailScreen #head { height: auto; padding: 0 1; background: $boost; }
    DetailScreen #tree {
        width: 1fr; min-width: 30; height: 1fr; border: round $primary;
        overflow-y: scroll;  /* from the first layout: no second one */
    }
    DetailScreen #right { width: 1fr; }
    /* the scrollbars' room is kept: text that needs a scrollbar would
       otherwise wrap again around it, another layout and frame */
    DetailScreen #explain-box {
        height: 2fr; border: round $secondary; scrollbar-gutter: stable;
    }
    DetailScreen #gap-box { height: 1fr; border: round $warning; scrollbar-gutter: stable; }
    DetailScreen Static { padding: 0 1; }
    """

    def __init__(self, session: Session, index: int) -> None:
        super().__init__()
        localize_bindings(self)
        self.session = session
        # the head line names the model (the screen has no Header)
        self.title = session.model.title or session.model.id
        self._set(index)

    def _set(self, index: int) -> None:
        self.index = index
        self._shown = None
        self.raw = self.session.explain(index)
        self.result = self.raw.to_result()

    def show(self, index: int) -> None:
        """Show another community on this (reused) screen."""
        self._set(index)
        self.query_one("#head", Static).update(self._head())
        self.query_one("#gap", Static).update(self._gap())
        self.query_one("#tree", Outline).set_items(self.items())
        self.show_explanation(("community", None))

    def compose(self) -> ComposeResult:
        # no Header: its title arrives a frame after the screen (Textual
        # sets it on mount); the head line names the model instead
        yield Static(self._head(), id="head")
        with Horizontal():
            yield Outline(self.items(), id="tree")
            with Vertical(id="right"):
                with VerticalScroll(id="explain-box") as box:
                    box.border_title = t("Explanation")
                    self._shown = ("community", None)
                    yield Static(self.explanation(self._shown), id="explain")
                with VerticalScroll(id="gap-box") as gap:
                    gap.border_title = t("Gap to next grade")
                    yield Static(self._gap(), id="gap")
        yield KeyBar()

    def _head(self) -> Text:
        r = self.result
        out = Text()
        out.append(r.community or r.community_id or "?", "bold")
        if r.community_id and r.community:
            out.append(f"  {r.community_id}", "dim")
        where = " / ".join(x for x in (r.district, r.street) if x)
        if where:
            out.append(f"  {where}")
        out.append(f"   {self.title}", "dim")
        out.append(f"\n{t('Grade')}: ")
        out.append(r.grade or t("no grade"), "bold")
        out.append(f"   {t('Total')}: {fmt_points(r.total)}/{fmt_points(r.max_total)}")
        if r.total is None:
            out.append(f" ({t('not scored')})", "magenta")
        if r.vetoes_triggered:
            labels = {v.id: v.label or v.id for v in r.vetoes}
            names = ", ".join(labels.get(x, x) for x in r.vetoes_triggered)
            out.append(f"   {t('Vetoes')}: {names}", "red")
        if r.missing_count:
            out.append(f"   {t('Missing')}: {r.missing_count}", "magenta")
        if r.outputs:  # the model's outputs (`output ID = …`), one line
            out.append("\n")
            for k, o in enumerate(r.outputs):
                out.append(("   " if k else "") + f"{o.label or o.id}: ")
                out.append(fmt_output(o.value, o.type), "bold")
        frame = self.session.ev.dataset.frame
        if "source" in frame.columns:  # several files: the file, sheet and row
            out.append(f"\n{t('Data source')}: {frame.get_column('source')[self.index]}", "dim")
        return out

    def _gap(self) -> Text:
        gap = self.result.gap
        if gap is None:
            return Text(t("Top grade reached"), style="green")
        out = Text()
        out.append(f"→ {gap.next_grade}\n", "bold")
        for item in gap.items:
            out.append(f"- {item.text}\n")
        return out

    def items(self) -> list[Item]:
        """The community → dimension → indicator (and veto) outline."""
        r = self.result
        model = self.session.model
        by_dim = {d.id: d for d in r.dimensions}
        by_ind = {i.id: i for i in r.indicators}
        by_veto = {v.id: v for v in r.vetoes}
        dims = {d.id: d for d in model.dimensions}
        items = [
            Item(
                0,
                r.community or r.community_id or "?",
                ("community", None),
                points=f"{fmt_points(r.total)}/{fmt_points(r.max_total)}",
                style="bold",
            )
        ]

        def add(depth: int, children) -> None:
            for c in children:
                if c.kind == "dimension":
                    d = by_dim[c.id]
                    items.append(
                        Item(
                            depth,
                            d.label or d.id,
                            ("dimension", c.id),
                            points=dimension_points(d, dims[c.id].section),
                            style="bold",
                        )
                    )
                    add(depth + 1, dims[c.id].children)
                elif c.kind == "indicator":
                    x = by_ind[c.id]
                    items.append(
                        Item(
                            depth,
                            x.label or x.id,
                            ("indicator", c.id),
                            mark=Outcome(x.outcome).mark,
                            word=t(x.outcome),
                            mark_style=OUTCOME_STYLE[x.outcome],
                            points=indicator_points(x),
                        )
                    )
                else:
                    v = by_veto[c.id]
                    if v.triggered is None:
                        mark, word = "?", t("missing")
                    else:
                        mark, word = (
                            ("!", t("vetoed")) if v.triggered else ("✓", t("not triggered"))
                        )
                    items.append(
                        Item(
                            depth,
                            v.label or v.id,
                            ("veto", c.id),
                            mark=mark,
                            word=word,
                            mark_style="bold red" if v.triggered else "green",
                            style="bold red" if v.triggered else "dim",
                        )
                    )

        add(1, model.top)
        return items

    def on_outline_highlighted(self, event: Outline.Highlighted) -> None:
        self.show_explanation(event.item.data)

    def explanation(self, what: tuple[str, str | None]) -> Text:
        """The engine's explanation of the selected tree item, as plain text."""
        kind, ident = what
        model = self.session.model
        raw, result = self.raw, self.result
        if kind == "community":
            # the engine's explanation up to the points tree (the tree on the
            # left shows the points; each item explains itself when selected)
            lines = explain_text(raw, result).splitlines()
            head = _("Points")
            if head in lines:
                lines = lines[: lines.index(head)]
            return Text("\n".join(lines).rstrip())
        if kind == "dimension":
            d = next(x for x in result.dimensions if x.id == ident)
            share = "-" if d.share is None else f"{d.share * 100:.1f}%"
            if d.score is None:
                share = t("not scored")
            out = Text()
            out.append(f"{d.label or d.id} [{d.id}]\n", "bold")
            section = model.dimension(ident).section if model.dimension(ident) else None
            if section is not None:
                out.append(dimension_points(d, section) + "\n")
            else:
                out.append(f"{fmt_points(d.score)}/{fmt_points(d.max_points)}  ({share})\n")
            if d.missing:
                out.append(f"{t('Missing')}: {d.missing}\n", "magenta")
            return out
        if kind == "indicator":
            r = next(x for x in result.indicators if x.id == ident)
            ind = model.indicator(ident)
            out = Text()
            out.append(f"{r.label or r.id} [{r.id}]\n", "bold")
            out.append(f"{Outcome(r.outcome).mark} {t(r.outcome)}", OUTCOME_STYLE[r.outcome])
            out.append(f"   {t('Points')}: {indicator_points(r)}\n\n")
            out.append(r.reason + "\n")
            # the condition of the event that decided (前提、清零、免检), else the form's
            # value; a deduction block shows each cause's value (its own is the points deducted)
            d = decide(raw.compiled, raw.compiled.ind_index[ident], raw.env)
            causes = getattr(ind.scoring, "causes", None)
            if d is not None and d.condition is not None:
                exprs = [d.condition]
            else:
                exprs = [c.value for c in causes] if causes else [ind.scoring.value]
            for e in exprs:
                out.append(f"{e.text}\n", "italic")
                for line in substitutions(e, raw.env, model):
                    style = "magenta" if _("missing") in line else ""
                    out.append(f"  {line}\n", style)
            if getattr(ind, "source", None):
                out.append(f"\n{t('Source')}: {ind.source}\n", "dim")
            return out
        v = next(x for x in result.vetoes if x.id == ident)
        veto = next(x for x in model.vetoes if x.id == ident)
        out = Text()
        out.append(f"{v.label or v.id} [{v.id}]\n", "bold")
        out.append(v.reason + "\n")
        for line in substitutions(veto.condition, raw.env, model):
            out.append(f"  {line}\n")
        return out

    def show_explanation(self, what) -> None:
        if what == self._shown:
            return  # an update re-lays out the pane: only when it changes
        self._shown = what
        self.query_one("#explain", Static).update(self.explanation(what))


def indicator_points(x) -> str:
    """An indicator's points as the tree shows them: "3/5"; a penalty (减分)
    item, which has no points of its own, shows what it takes: "-6"."""
    if x.penalty:
        return fmt_points(x.points)
    return f"{fmt_points(x.points)}/{fmt_points(x.max_points)}"


def dimension_points(d, section: str | None) -> str:
    """A dimension's score "18/20"; a section (加分项, 减分项) shows what it adds
    or takes, with its cap: "+5 (max 5)", "-10 (max 10)"."""
    if section is None:
        return f"{fmt_points(d.score)}/{fmt_points(d.max_points)}"
    score = d.score or 0.0
    shown = ("+" if score > 0 else "") + fmt_points(score)
    if d.cap is None:
        return shown
    return f"{shown} ({t('at most')} {fmt_points(d.cap)})"
