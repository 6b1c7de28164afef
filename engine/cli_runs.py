"""Commands for data collection, reports and the run history (template, report, runs)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the `zhili` group."""
