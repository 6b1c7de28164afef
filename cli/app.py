"""The `zhili` command line: the group, its commands, and `main()`, which
renders what no command handled.

Exit codes (every command):
  0  success
  1  problems found: model errors, failed tests, unreadable or invalid data
  2  bad command line (unknown option, missing argument, unknown model)
  3  internal error (a bug in zhili; set ZHILI_DEBUG=1 for the traceback)
  130  interrupted (Ctrl-C)

Commands raise `ZhiliError` (exit 1 unless it says otherwise) or click's
usage errors (exit 2); click renders both.
"""

from __future__ import annotations

import os
import sys

import click

from zhili.cli import check, district, evaluate, models, report, runs, tui
from zhili.cli.context import EPILOG, EXIT_INTERNAL, Ctx, echo_err
from zhili.dsl.i18n import _
from zhili.engine import __version__


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of messages (default: from the locale).",
)
@click.option(
    "--models",
    "models",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A folder of .gov model files to load as a plugin (repeatable; also ZHILI_MODELS).",
)
@click.version_option(__version__, prog_name="zhili")
@click.pass_context
def cli(click_ctx, lang, models):
    """zhili 治理 — community-governance assessment models: check, test, evaluate, explain."""
    click_ctx.obj = Ctx(lang, models)


for command in (
    models.models_cmd,
    check.check_cmd,
    check.fmt_cmd,
    check.test_cmd,
    evaluate.eval_cmd,
    evaluate.explain_cmd,
    evaluate.sample_cmd,
    evaluate.demo_cmd,
    report.template_cmd,
    report.report_cmd,
    runs.runs_group,
    tui.tui_cmd,
    district.new_cmd,
    district.diff_model_cmd,
    district.export_cmd,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """The console entry point: run `cli`; Ctrl-C is exit 130, a bug exit 3."""
    try:
        cli.main(args=argv, prog_name="zhili", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        echo_err(_("interrupted"))
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, no traceback unless asked
        if os.environ.get("ZHILI_DEBUG"):
            raise
        echo_err(
            _(
                "internal error: {kind}: {msg} (please report it; ZHILI_DEBUG=1 shows the traceback)"
            ).format(kind=type(exc).__name__, msg=exc)
        )
        sys.exit(EXIT_INTERNAL)
