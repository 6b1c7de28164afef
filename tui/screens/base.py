"""What every zhili screen shares."""

from __future__ import annotations

from textual.geometry import Size
from textual.screen import Screen


class ZhiliScreen(Screen):
    """A screen that lays itself out once per size.

    Textual lays out a screen again whenever it receives a Resize, and also
    every screen under it; a screen shown for the first time receives one
    for the size it was just laid out at. Opening the first community thus
    laid out the detail twice and the main screen behind it once more:
    about a third of the time it took (100 000 communities, 120×40). Only
    a real change of size needs the work. (Textual is pinned; tests resize
    the terminal under the detail and under the help.)
    """

    def _screen_resized(self, size: Size) -> None:
        if size == self._size:
            return
        super()._screen_resized(size)
