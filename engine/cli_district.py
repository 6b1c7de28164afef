"""Commands for districts authoring their own models (new, diff-model)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the `zhili` group."""
