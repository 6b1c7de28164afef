"""Running the CLI in tests, shared by the test modules."""

from __future__ import annotations

import traceback

import pytest
from click.testing import CliRunner, Result

from zhili.cli.app import cli


def zhili(*args, lang: str | None = "en") -> Result:
    """Run the CLI in-process; fail on any uncaught exception or traceback."""
    argv = (["--lang", lang] if lang else []) + [str(a) for a in args]
    result = CliRunner().invoke(cli, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"zhili {' '.join(argv)} raised:\n{tb}")
    assert "Traceback" not in result.output
    return result
