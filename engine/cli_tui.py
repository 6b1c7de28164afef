"""The `tui` command: opens the Textual app (imported only when the command runs)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the `zhili` group."""
