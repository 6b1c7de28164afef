"""A progress bar for long commands: `zhili eval` on a million communities
spends seconds reading, converting, evaluating and recording.

The bar goes to standard error, only when it is a terminal and the data file
is large; otherwise every call is a no-op, so pipes, CI logs and tests see
nothing. Phases have fixed shares of the bar (measured on a 1M-row CSV:
reading and converting dominate); converting advances once per column.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from zhili.dsl.i18n import _

LARGE_FILE_BYTES = 8 * 1024 * 1024  # about 40,000 communities of four_type

# each phase's share of the bar, in order (a run is recorded after its outputs are written)
PHASES = {"read": 0.30, "convert": 0.40, "evaluate": 0.15, "write": 0.05, "record": 0.10}


def _labels() -> dict[str, str]:
    return {
        "read": _("reading"),
        "convert": _("converting"),
        "evaluate": _("evaluating"),
        "record": _("recording"),
        "write": _("writing"),
    }


class Progress:
    """`phase(name)` starts a phase (finishing the ones before it),
    `advance(fraction)` moves within it, `close()` ends the bar."""

    def __init__(self, enabled: bool, stream=None, width: int = 30) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.width = width
        self.current: str | None = None
        self.within = 0.0
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    @classmethod
    def for_file(cls, path: Path | None) -> Progress:
        """A bar when standard error is a terminal and `path` is large."""
        try:
            large = path is not None and path.stat().st_size >= LARGE_FILE_BYTES
        except OSError:
            large = False
        quiet = "CI" in os.environ or "ZHILI_NO_PROGRESS" in os.environ
        return cls(large and not quiet and sys.stderr.isatty())

    def phase(self, name: str) -> None:
        self.current, self.within = name, 0.0
        self._draw()

    def advance(self, fraction: float) -> None:
        """Move `fraction` (of the current phase) forward."""
        if self.current is None:
            return
        with self._lock:  # converting advances from several threads
            self.within = min(1.0, self.within + fraction)
        self._draw()

    @property
    def done(self) -> float:
        """The share of the bar done, 0..1 (phases before the current one
        count as done, skipped or not)."""
        if self.current is None:
            return 0.0
        before = 0.0
        for p, share in PHASES.items():
            if p == self.current:
                return before + share * self.within
            before += share
        return before

    def clear(self) -> None:
        """Erase the bar (before printing messages); the next step redraws it."""
        if self.enabled and self.current is not None:
            with self._lock:
                self.stream.write("\r" + " " * (self.width + 40) + "\r")
                self.stream.flush()

    def close(self) -> None:
        self.clear()
        self.current = None

    def _draw(self) -> None:
        if not self.enabled or self.current is None:
            return
        filled = int(round(self.width * min(self.done, 1.0)))
        bar = "█" * filled + "░" * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        label = _labels()[self.current]
        with self._lock:
            self.stream.write(f"\r{bar} {self.done * 100:3.0f}%  {label} {elapsed:5.1f}s ")
            self.stream.flush()
