"""Shared fixtures for the zhili test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhili.dsl.i18n import set_language

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"


@pytest.fixture(autouse=True)
def _english_messages():
    """Tests assert on English messages unless they switch language."""
    set_language("en")
    yield
    set_language("en")


@pytest.fixture
def root() -> Path:
    return ROOT
