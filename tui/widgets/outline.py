"""An outline: a read-only tree drawn as an indented list.

One line per item: indentation, an optional mark (an outcome, in colour, as
a sign and, when the pane is wide enough, in words), the label cut to fit
with "…", and the points in a right-hand column so they line up. Groups fold and unfold. It draws only the lines on
screen (Textual's Line API) and uses spaces, not box-drawing guides, for
the indentation: box-drawing characters are ambiguous-width and take two
cells in some CJK terminals.

It replaces Textual's `Tree` on the detail screen: a new `Tree` spent about
twice as long on its first paint as this does, and it cut long labels at
the pane's edge without an ellipsis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zhili.tui.widgets.vtable import CURSOR_BINDINGS, fit

WORDS_FROM = 56  # pane width (cells) from which outcomes are also in words


@dataclass(frozen=True)
class Item:
    """One line of the outline. Text is shown as written, never as markup."""

    depth: int
    label: str
    data: Any = None
    mark: str = ""  # e.g. "✓": the outcome as a sign, before the label
    word: str = ""  # e.g. "达标": the outcome in words, after the sign when there is room
    mark_style: str = ""
    points: str = ""  # right-hand column
    style: str = ""  # of the label


class Outline(ScrollView, can_focus=True):
    """An indented list of items with a cursor; groups fold with Enter."""

    DEFAULT_CSS = """
    Outline { height: 1fr; }
    Outline > .outline--cursor { background: $accent; color: $text; }
    Outline:blur > .outline--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"outline--cursor"}
    BINDINGS = [
        *CURSOR_BINDINGS,
        Binding("left", "fold", show=False),
        Binding("right", "unfold", show=False),
        Binding("enter,space", "toggle", "Fold"),
    ]

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to `item`."""

        def __init__(self, outline: Outline, item: Item) -> None:
            self.outline = outline
            self.item = item
            super().__init__()

        @property
        def control(self) -> Outline:
            return self.outline

    def __init__(self, items: list[Item] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        from zhili.tui.labels import localize_bindings

        localize_bindings(self)
        self.items: list[Item] = []
        self.folded: set[int] = set()  # indices into items
        self._visible: list[int] = []  # indices into items, in order
        self._word_width = 0
        self._points_width = 0
        self._styles: dict[str, Style] = {}
        if items is not None:
            self.set_items(items)

    # ------------------------------------------------------------ data

    def set_items(self, items: list[Item]) -> None:
        """Show `items` (all unfolded), the cursor on the first."""
        self.items = list(items)
        self.folded = set()
        self._word_width = max((cell_len(i.word) for i in items), default=0)
        self._points_width = max((cell_len(i.points) for i in items), default=0)
        self._relist()
        self.set_reactive(Outline.cursor, 0)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def _relist(self) -> None:
        visible = []
        hide_below: int | None = None  # depth under a folded group
        for i, item in enumerate(self.items):
            if hide_below is not None:
                if item.depth > hide_below:
                    continue
                hide_below = None
            visible.append(i)
            if i in self.folded:
                hide_below = item.depth
        self._visible = visible
        # labels are cut to the pane (with …); only a pane too narrow for
        # the indentation and the points scrolls sideways
        width = max((self._min_width(self.items[i]) for i in visible), default=0)
        self.virtual_size = Size(width, len(visible))

    def _min_width(self, item: Item) -> int:
        return 2 * item.depth + self._fixed_width(item, words=False) + 4

    def _words(self, width: int) -> bool:
        """Outcome words beside the signs: when the pane is wide enough."""
        return width >= WORDS_FROM

    def _fixed_width(self, item: Item, words: bool) -> int:
        """Cells of a line besides the indentation and the label."""
        mark = 0
        if item.mark:
            mark = cell_len(item.mark) + 1 + (self._word_width + 1 if words else 0)
        return 2 + mark + 1 + self._points_width + 1  # fold sign, mark, points

    def has_children(self, index: int) -> bool:
        nxt = index + 1
        return nxt < len(self.items) and self.items[nxt].depth > self.items[index].depth

    @property
    def cursor_index(self) -> int | None:
        """The index into `items` of the line under the cursor."""
        if not self._visible:
            return None
        return self._visible[min(self.cursor, len(self._visible) - 1)]

    @property
    def cursor_item(self) -> Item | None:
        index = self.cursor_index
        return None if index is None else self.items[index]

    def line_text(self, y: int) -> str:
        """The plain text of visible line `y` (for tests and screen readers)."""
        return self._strip(y, self.scrollable_content_region.width or 80, Style()).text

    # ------------------------------------------------------------ rendering

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = Style.parse(name) if name else Style()
        return style

    def _strip(self, line: int, width: int, base: Style) -> Strip:
        index = self._visible[line]
        item = self.items[index]
        if self.has_children(index):
            sign = "+" if index in self.folded else "-"
        else:
            sign = " "
        indent = "  " * item.depth
        words = self._words(width)
        label_width = max(width - 2 * item.depth - self._fixed_width(item, words), 1)
        segs = [Segment(f"{indent}{sign} ", base)]
        if item.mark:
            mark = item.mark + (" " + fit(item.word, self._word_width) if words else "")
            segs.append(Segment(mark, base + self._style(item.mark_style)))
            segs.append(Segment(" ", base))
        segs.append(Segment(fit(item.label, label_width), base + self._style(item.style)))
        segs.append(Segment(" " + fit(item.points, self._points_width, right=True) + " ", base))
        return Strip(segs)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        line = scroll_y + y
        base = self.rich_style
        if line >= len(self._visible):
            return Strip.blank(width, base)
        if line == self.cursor:
            base = base + self.get_component_rich_style("outline--cursor")
        full = max(width, self._min_width(self.items[self._visible[line]]))
        strip = self._strip(line, full, base).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, base)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        item = self.cursor_item
        if item is not None and old != new:
            self.post_message(self.Highlighted(self, item))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------ movement

    def move_to(self, line: int) -> None:
        if not self._visible:
            return
        line = max(0, min(line, len(self._visible) - 1))
        self.cursor = line
        top, height = self.scroll_y, max(self.scrollable_content_region.height, 1)
        if line < top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self.scrollable_content_region.height, 1))

    def action_edge(self, end: int) -> None:
        self.move_to(len(self._visible) - 1 if end else 0)

    def _set_folded(self, index: int, fold: bool) -> None:
        if not self.has_children(index) or (index in self.folded) == fold:
            return
        if fold:
            self.folded.add(index)
        else:
            self.folded.discard(index)
        self._relist()
        self.cursor = self._visible.index(index)
        self.refresh()

    def action_toggle(self) -> None:
        index = self.cursor_index
        if index is not None:
            self._set_folded(index, index not in self.folded)

    def action_fold(self) -> None:
        """Left: fold the group, or go to the group the item is in."""
        index = self.cursor_index
        if index is None:
            return
        if self.has_children(index) and index not in self.folded:
            self._set_folded(index, True)
            return
        depth = self.items[index].depth
        for i in range(index - 1, -1, -1):
            if self.items[i].depth < depth:
                self.move_to(self._visible.index(i))
                return

    def action_unfold(self) -> None:
        index = self.cursor_index
        if index is not None:
            self._set_folded(index, False)

    def on_click(self, event) -> None:
        line = int(self.scroll_y) + event.y
        if 0 <= line < len(self._visible):
            self.move_to(line)
            if event.chain >= 2:
                self.action_toggle()
