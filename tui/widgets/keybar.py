"""The key bar: the screen's key bindings in one line at the bottom.

It does what Textual's `Footer` does (keys and descriptions, disabled keys
dimmed, the command palette key on the right, a click presses the key) in
one widget. `Footer` rebuilds one widget per key every time the focus
moves, and styling those widgets was most of the time a tab switch or a
screen change took (100 000 communities, 120×40: switching tabs took
about 190 ms of CPU with `Footer` and about 55 ms without).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widget import Widget


@dataclass(frozen=True)
class Key:
    key: str  # what the app receives (for a click)
    display: str  # what the person reads
    description: str
    enabled: bool


class KeyBar(Widget):
    """A one-line footer of the focused widget's and the screen's bindings."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--hover"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .keybar--hover {
        background: $block-hover-background;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # (start cell, end cell, key) of each item as last rendered
        self._spans: list[tuple[int, int, Key]] = []
        self._hover: str | None = None
        self._shown: tuple | None = None  # the keys last drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        # the signal fires on every focus change; most leave the keys as
        # they were, and a repaint is a frame of its own
        keys, palette = self.keys()
        if (tuple(keys), palette) != self._shown:
            self.refresh()

    def keys(self) -> tuple[list[Key], Key | None]:
        """The keys to show (one per action, as `Footer` groups them) and
        the command palette's key, if the app has a palette."""
        app = self.app
        active = self.screen.active_bindings
        keys: list[Key] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            keys.append(
                Key(binding.key, app.get_key_display(binding), binding.description, enabled)
            )
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = Key(binding.key, app.get_key_display(binding), binding.description, enabled)
        return keys, palette

    def _item(self, key: Key) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        item = Text.assemble(
            (f" {key.display} ", key_style), (f"{key.description} ", description_style)
        )
        if not key.enabled:
            item.stylize("dim")
        if key.key == self._hover and key.enabled:
            item.stylize(self.get_component_rich_style("keybar--hover"))
        return item

    def render(self) -> Text:
        keys, palette = self.keys()
        self._shown = (tuple(keys), palette)
        width = self.size.width
        tail = self._item(palette) if palette is not None else Text()
        room = width - tail.cell_len - (1 if palette is not None else 0)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, Key]] = []
        for key in keys:
            item = self._item(key)
            if line.cell_len + item.cell_len > room:
                break  # whole items only: a key without its meaning helps nobody
            spans.append((line.cell_len, line.cell_len + item.cell_len, key))
            line.append_text(item)
        if palette is not None and tail.cell_len <= width:
            line.append(" " * max(width - line.cell_len - tail.cell_len, 0))
            spans.append((line.cell_len, line.cell_len + tail.cell_len, palette))
            line.append_text(tail)
        self._spans = spans
        return line

    def key_at(self, x: int) -> Key | None:
        """The key drawn at cell `x`, if any."""
        for start, end, key in self._spans:
            if start <= x < end:
                return key
        return None

    def on_click(self, event: events.Click) -> None:
        key = self.key_at(event.x)
        if key is None or not key.enabled:
            self.app.bell()
            return
        self.app.simulate_key(key.key)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        hover = key.key if key is not None else None
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
