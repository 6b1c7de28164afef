"""Options that several commands take, declared once so that each has one
name, one type and one help text everywhere."""

from __future__ import annotations

import os

import click

from zhili.cli.context import ZhiliError
from zhili.dsl.i18n import _


def output_option(what: str, required: bool = True, dir_okay: bool = False):
    """`-o/--output FILE`; `what` (its help text) says what is written there.
    A folder is a bad command line (exit 2) unless `dir_okay`; a file in a
    folder that does not exist cannot be written (exit 1): both are found
    before any work is done."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=dir_okay),
        required=required,
        help=what,
        callback=_output_folder_exists,
    )


def _output_folder_exists(ctx, param, value):
    if value is not None and value != "-":
        folder = os.path.dirname(value) or "."
        if not os.path.isdir(folder):
            raise ZhiliError(
                _("error: cannot write {path}: the folder {folder} does not exist").format(
                    path=value, folder=folder
                )
            )
    return value


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
ENCODING_OPTION = click.option(
    "--encoding", help="Force the text encoding of a CSV file (e.g. gbk)."
)
SHEET_OPTION = click.option(
    "--sheet",
    help="The workbook sheet to read, by name or position (1 = first; default: the first).",
)
STRICT_DATA_OPTION = click.option("--strict", is_flag=True, help="Fail on any data problem.")
DB_OPTION = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="The run database (default: ZHILI_DB or the user's data folder).",
)
NO_RECORD_OPTION = click.option(
    "--no-record", is_flag=True, help="Do not record this run in the run database."
)
BACKEND_OPTION = click.option(
    "--backend",
    type=click.Choice(["vectorized", "reference"]),
    default="vectorized",
    show_default=True,
    help="Evaluation backend: one Polars plan for all communities, or the interpreter record by record.",
)


def data_options(f):
    """The options of a command that reads a data file: --encoding, --sheet, --strict."""
    return ENCODING_OPTION(SHEET_OPTION(STRICT_DATA_OPTION(f)))


def run_options(f):
    """The options of a command that evaluates and records a run: --backend, --db, --no-record."""
    return BACKEND_OPTION(DB_OPTION(NO_RECORD_OPTION(f)))
