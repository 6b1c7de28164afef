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


@pytest.fixture(autouse=True)
def _shared_plugin_registry(request, monkeypatch):
    """CLI commands share one plugin registry per distinct set of inputs (building
    one costs ~0.15 s); tests of plugin loading itself mark `fresh_registry`."""
    if request.node.get_closest_marker("fresh_registry") is None:
        from cli_helpers import shared_registry

        from zhili.cli import context

        monkeypatch.setattr(context, "build_registry", shared_registry)


@pytest.fixture(autouse=True)
def _private_run_store(tmp_path_factory, monkeypatch):
    """`eval` and `report` record runs: never into the user's database."""
    base = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("ZHILI_DB", str(base / "runs.sqlite"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg"))  # for subprocesses without ZHILI_*


# ---------------------------------------------------------------- slow tests
def pytest_addoption(parser):
    parser.addoption(
        "--runslow", action="store_true", default=False, help="also run tests marked slow"
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long run, skipped unless --runslow")
    config.addinivalue_line(
        "markers", "fresh_registry: the CLI builds its plugin registry anew (plugin-loading tests)"
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
