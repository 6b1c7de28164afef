"""SVG snapshots of the main TUI screens in Chinese (Textual is pinned in
pyproject.toml so they are stable). Update with `pytest --snapshot-update`."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_textual_snapshot")

from zhili.dsl.i18n import set_language  # noqa: E402
from zhili.engine.plugins import Registry  # noqa: E402
from zhili.tui.app import ZhiliApp, build_session  # noqa: E402


@pytest.fixture(scope="module")
def session():
    reg = Registry()
    lm = reg.get("four_type")
    return build_session(lm, lm.samples[0], reg)


@pytest.fixture(autouse=True)
def _restore_language():
    yield
    set_language("en")


def app(session, size=None):
    s = type(session)(session.lm, session.ev, session.registry)  # fresh filters
    return ZhiliApp(s, lang="zh")


def test_overview_80x24(snap_compare, session):
    assert snap_compare(app(session), terminal_size=(80, 24))


def test_overview_200x50(snap_compare, session):
    assert snap_compare(app(session), terminal_size=(200, 50))


def test_communities_sorted(snap_compare, session):
    assert snap_compare(
        app(session), press=["2", "right", "right", "s", "s"], terminal_size=(120, 30)
    )


def test_community_detail(snap_compare, session):
    assert snap_compare(
        app(session), press=["2", "enter", "down", "down", "down"], terminal_size=(120, 36)
    )


def test_help(snap_compare, session):
    assert snap_compare(app(session), press=["f1"], terminal_size=(80, 24))
