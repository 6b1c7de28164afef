"""A virtualised table over a Polars frame.

Only the rows on screen are formatted: the data stays in the frame, sorting
is a Polars sort, and a keypress re-renders at most a screenful of lines.
CJK text is measured in terminal cells (wide characters take two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

CHUNK = 128

# moving a line cursor: the table and the detail's outline
CURSOR_BINDINGS = [
    Binding("up", "cursor(-1)", show=False),
    Binding("down", "cursor(1)", show=False),
    Binding("pageup", "page(-1)", show=False),
    Binding("pagedown", "page(1)", show=False),
    Binding("home", "edge(0)", show=False),
    Binding("end", "edge(1)", show=False),
]


@dataclass
class Column:
    key: str  # column in the frame
    label: str
    width: int | None = None  # cells; measured when None
    right: bool = False
    fmt: Any = None  # value → str


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` padded or cut (with …) to exactly `width` cells."""
    n = cell_len(text)
    if n > width:
        text = set_cell_size(text, max(width - 1, 0)) + "…" if width > 0 else ""
        return set_cell_size(text, width)
    pad = " " * (width - n)
    return pad + text if right else text + pad


def default_fmt(v: Any) -> str:
    if v is None:
        return "-"  # not an em dash: ambiguous-width symbols stay out of aligned columns
    if isinstance(v, float):
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        return s if s != "-0" else "0"
    return str(v)


class VirtualTable(ScrollView, can_focus=True):
    """A table that renders only the visible rows of a Polars frame."""

    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .vtable--header { text-style: bold; background: $panel; }
    VirtualTable > .vtable--header-current { text-style: bold reverse; }
    VirtualTable > .vtable--cursor { background: $accent; color: $text; }
    VirtualTable:blur > .vtable--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {
        "vtable--header",
        "vtable--header-current",
        "vtable--cursor",
    }
    BINDINGS = [
        *CURSOR_BINDINGS,
        Binding("left", "column(-1)", show=False),
        Binding("right", "column(1)", show=False),
        Binding("s", "sort", "Sort"),
        Binding("enter", "select", "Open"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True)
    cursor_column: reactive[int] = reactive(0)

    class Selected(Message):
        def __init__(self, table: VirtualTable, row: dict[str, Any]) -> None:
            self.table = table
            self.row = row
            super().__init__()

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Sorted(Message):
        def __init__(self, table: VirtualTable) -> None:
            self.table = table
            super().__init__()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        from zhili.tui.labels import localize_bindings

        localize_bindings(self)
        self.frame = pl.DataFrame()
        self.columns: list[Column] = []
        self.sort_key: str | None = None
        self.sort_descending = False
        self._chunks: dict[int, list[list[str]]] = {}

    # ------------------------------------------------------------ data

    def set_data(self, frame: pl.DataFrame, columns: list[Column] | None = None) -> None:
        """Show `frame` (re-applying the current sort) with `columns`."""
        if columns is not None:
            self.columns = columns
            self._measure(frame)
        if self.sort_key is not None and self.sort_key in frame.columns:
            frame = frame.sort(self.sort_key, descending=self.sort_descending, nulls_last=True)
        self.frame = frame
        self._chunks.clear()
        self.cursor_row = min(self.cursor_row, max(frame.height - 1, 0))
        self._update_size()
        self.refresh()

    def _measure(self, frame: pl.DataFrame) -> None:
        sample = frame.head(500)
        for c in self.columns:
            if c.width is not None:
                continue
            width = cell_len(c.label) + 2
            if c.key in sample.columns:
                fmt = c.fmt or default_fmt
                for v in sample.get_column(c.key).to_list():
                    width = max(width, cell_len(fmt(v)))
            c.width = min(width, 28)

    def _update_size(self) -> None:
        width = sum((c.width or 8) + 2 for c in self.columns)
        self.virtual_size = Size(width, self.frame.height + 1)

    @property
    def row_count(self) -> int:
        return self.frame.height

    def row(self, index: int) -> dict[str, Any]:
        return self.frame.row(index, named=True)

    @property
    def current_row(self) -> dict[str, Any] | None:
        if not self.frame.height:
            return None
        return self.row(self.cursor_row)

    def _cells(self, index: int) -> list[str]:
        base = index - index % CHUNK
        chunk = self._chunks.get(base)
        if chunk is None:
            part = self.frame.slice(base, CHUNK)
            cols = []
            for c in self.columns:
                fmt = c.fmt or default_fmt
                if c.key in part.columns:
                    cols.append([fmt(v) for v in part.get_column(c.key).to_list()])
                else:
                    cols.append([""] * part.height)
            chunk = [list(r) for r in zip(*cols, strict=True)] if cols else []
            if len(self._chunks) > 64:
                self._chunks.clear()
            self._chunks[base] = chunk
        return chunk[index - base]

    # ------------------------------------------------------------ sorting

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        if descending is None:
            descending = not self.sort_descending if key == self.sort_key else False
        self.sort_key = key
        self.sort_descending = descending
        self.set_data(self.frame)
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False)
        self.post_message(self.Sorted(self))

    def action_sort(self) -> None:
        if self.columns:
            self.sort_by(self.columns[self.cursor_column].key)

    # ------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            return (
                self._header()
                .crop(scroll_x, scroll_x + width)
                .extend_cell_length(width, self.get_component_rich_style("vtable--header"))
            )
        index = scroll_y + y - 1
        base_style = self.rich_style
        if index >= self.frame.height:
            return Strip.blank(width, base_style)
        style = (
            self.get_component_rich_style("vtable--cursor")
            if index == self.cursor_row
            else base_style
        )
        cells = self._cells(index)
        segs = [
            Segment(" " + fit(text, c.width or 8, c.right) + " ", style)
            for text, c in zip(cells, self.columns, strict=False)
        ]
        strip = Strip(segs).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, style)

    def _header(self) -> Strip:
        head = self.get_component_rich_style("vtable--header")
        current = self.get_component_rich_style("vtable--header-current")
        segs = []
        for i, c in enumerate(self.columns):
            label = c.label
            if c.key == self.sort_key:
                label += " v" if self.sort_descending else " ^"
            style = current if (i == self.cursor_column and self.has_focus) else head
            segs.append(Segment(" " + fit(label, c.width or 8, c.right) + " ", style))
        return Strip(segs)

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()

    def watch_cursor_column(self) -> None:
        self.refresh()
        if not self.columns:
            return
        x = sum((c.width or 8) + 2 for c in self.columns[: self.cursor_column])
        w = (self.columns[self.cursor_column].width or 8) + 2
        if x < self.scroll_x:
            self.scroll_to(x=x, animate=False)
        elif x + w > self.scroll_x + self.scrollable_content_region.width:
            self.scroll_to(x=x + w - self.scrollable_content_region.width, animate=False)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------ movement

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def move_to(self, index: int) -> None:
        if not self.frame.height:
            return
        index = max(0, min(index, self.frame.height - 1))
        self.cursor_row = index
        top = self.scroll_y
        visible = self._visible_rows()
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + visible:
            self.scroll_to(y=index - visible + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor_row + direction * self._visible_rows())

    def action_edge(self, end: int) -> None:
        self.move_to(self.frame.height - 1 if end else 0)

    def action_column(self, delta: int) -> None:
        if self.columns:
            self.cursor_column = max(0, min(self.cursor_column + delta, len(self.columns) - 1))

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event) -> None:
        x = event.x + int(self.scroll_x)
        if event.y == 0:
            pos = 0
            for i, c in enumerate(self.columns):
                pos += (c.width or 8) + 2
                if x < pos:
                    self.cursor_column = i
                    self.sort_by(c.key)
                    break
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < self.frame.height:
            self.move_to(index)
            if event.chain >= 2:
                self.action_select()
