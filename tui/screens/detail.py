"""One community: the dimension → indicator tree, the selected item's
explanation (from the engine) and the gap to the next grade."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree

from zhili.dsl.i18n import _
from zhili.engine.explain import MARK, explain_text, substitutions
from zhili.engine.results import fmt_points
from zhili.tui.labels import localize_bindings, t
from zhili.tui.session import Session

OUTCOME_STYLE = {
    "pass": "green",
    "partial": "yellow",
    "fail": "red",
    "missing": "magenta",
    "vetoed": "bold red",
}


class DetailScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]
    DEFAULT_CSS = """
    DetailScreen #head { height: auto; padding: 0 1; background: $boost; }
    DetailScreen #tree { width: 1fr; min-width: 30; border: round $primary; }
    DetailScreen #right { width: 1fr; }
    DetailScreen #explain-box { height: 2fr; border: round $secondary; }
    DetailScreen #gap-box { height: 1fr; border: round $warning; }
    DetailScreen Static { padding: 0 1; }
    """

    def __init__(self, session: Session, index: int) -> None:
        super().__init__()
        localize_bindings(self)
        self.session = session
        self._set(index)

    def _set(self, index: int) -> None:
        self.index = index
        self.raw = self.session.explain(index)
        self.result = self.raw.to_result()

    def show(self, index: int) -> None:
        """Show another community on this (reused) screen."""
        self._set(index)
        self.query_one("#head", Static).update(self._head())
        self.query_one("#gap", Static).update(self._gap())
        tree = self.query_one("#tree", Tree)
        tree.clear()
        tree.root.set_label(Text(self.result.community or self.result.community_id or "?"))
        self._fill_tree()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._head(), id="head")
        with Horizontal():
            yield Tree(Text(self.result.community or self.result.community_id or "?"), id="tree")
            with VerticalScroll(id="right"):
                with VerticalScroll(id="explain-box") as box:
                    box.border_title = t("Explanation")
                    yield Static(
                        Text(t("Select an indicator to see its explanation.")), id="explain"
                    )
                with VerticalScroll(id="gap-box") as gap:
                    gap.border_title = t("Gap to next grade")
                    yield Static(self._gap(), id="gap")
        yield Footer()

    def _head(self) -> Text:
        r = self.result
        out = Text()
        out.append(r.community or r.community_id or "?", "bold")
        if r.community_id and r.community:
            out.append(f"  {r.community_id}", "dim")
        where = " / ".join(x for x in (r.district, r.street) if x)
        if where:
            out.append(f"  {where}")
        out.append(f"\n{t('Grade')}: ")
        out.append(r.grade or t("no grade"), "bold")
        out.append(f"   {t('Total')}: {fmt_points(r.total)}/{fmt_points(r.max_total)}")
        if r.vetoes_triggered:
            labels = {v.id: v.label or v.id for v in r.vetoes}
            names = ", ".join(labels.get(x, x) for x in r.vetoes_triggered)
            out.append(f"   {t('Vetoes')}: {names}", "red")
        if r.missing_count:
            out.append(f"   {t('Missing')}: {r.missing_count}", "magenta")
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

    def on_mount(self) -> None:
        self.title = self.session.model.title or self.session.model.id
        self._fill_tree()

    def _fill_tree(self) -> None:
        tree = self.query_one("#tree", Tree)
        tree.root.data = ("community", None)
        model = self.session.model
        by_dim = {d.id: d for d in self.result.dimensions}
        by_ind = {i.id: i for i in self.result.indicators}
        by_veto = {v.id: v for v in self.result.vetoes}
        dims = {d.id: d for d in model.dimensions}

        def add(node, children):
            for c in children:
                if c.kind == "dimension":
                    d = by_dim[c.id]
                    share = "-" if d.share is None else f"{d.share * 100:.0f}%"
                    label = Text()
                    label.append(f"{fmt_points(d.score)}/{fmt_points(d.max_points)} {share} ")
                    label.append(d.label or d.id, "bold")
                    child = node.add(label, data=("dimension", c.id), expand=True)
                    add(child, dims[c.id].children)
                elif c.kind == "indicator":
                    r = by_ind[c.id]
                    label = Text()
                    label.append(f"{MARK[r.outcome]} {t(r.outcome)}", OUTCOME_STYLE[r.outcome])
                    label.append(f" {fmt_points(r.points)}/{fmt_points(r.max_points)} ", "bold")
                    label.append(r.label or r.id)
                    node.add_leaf(label, data=("indicator", c.id))
                else:
                    v = by_veto[c.id]
                    mark = "!" if v.triggered else ("?" if v.triggered is None else "-")
                    label = Text(f"{mark} {v.label or v.id}", "bold red" if v.triggered else "dim")
                    node.add_leaf(label, data=("veto", c.id))

        add(tree.root, model.top)
        tree.root.expand()
        tree.move_cursor(tree.root)
        tree.focus()
        self.show_explanation(("community", None))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            self.show_explanation(event.node.data)

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
            out = Text()
            out.append(f"{d.label or d.id} [{d.id}]\n", "bold")
            out.append(f"{fmt_points(d.score)}/{fmt_points(d.max_points)}  ({share})\n")
            if d.missing:
                out.append(f"{t('Missing')}: {d.missing}\n", "magenta")
            return out
        if kind == "indicator":
            r = next(x for x in result.indicators if x.id == ident)
            ind = model.indicator(ident)
            out = Text()
            out.append(f"{r.label or r.id} [{r.id}]\n", "bold")
            out.append(f"{MARK[r.outcome]} {t(r.outcome)}", OUTCOME_STYLE[r.outcome])
            out.append(f"   {t('Points')}: {fmt_points(r.points)}/{fmt_points(r.max_points)}\n\n")
            out.append(r.reason + "\n")
            out.append(f"{ind.scoring.value.text}\n", "italic")
            for line in substitutions(ind.scoring.value, raw.env, model):
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
        self.query_one("#explain", Static).update(self.explanation(what))
