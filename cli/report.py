"""Data collection and reporting: `template` (a workbook to fill in) and
`report` (an evaluation written as xlsx, html, markdown, csv or json)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from zhili.cli import round as round_cli
from zhili.cli.context import (
    EPILOG,
    Ctx,
    echo_err,
    load_data,
    record_run,
    resolve_model,
    write_error,
)
from zhili.cli.options import data_options, output_option, run_options
from zhili.dsl.i18n import _


@click.command("template", epilog=EPILOG)
@click.argument("model")
@output_option(
    "The template to write: .xlsx (with explanations and dropdowns) or .csv; "
    "with --roster, a folder.",
    dir_okay=True,
)
@round_cli.roster_option(": one form per unit is written into the folder -o.")
@round_cli.by_option("街道")
@click.pass_obj
def template_cmd(ctx: Ctx, model, output, roster, by):
    """Write a data-collection template for MODEL: the model's labels as
    column headers, an explanation of every field, dropdowns and ranges.
    A filled-in template evaluates with `zhili eval` as it is.

    With --roster, one form per unit (--by 区, 街道 or 社区) into the folder
    -o: its communities pre-filled and locked, stamped with the model so that
    the returns are recognised (`zhili eval MODEL DIR --roster R`)."""
    from zhili.engine.report.template import write_template

    if roster is not None:
        round_cli.write_round_forms(resolve_model(ctx, model), roster, by, output)
        return
    path = Path(output)
    if path.is_dir():
        raise click.BadParameter(_("a folder needs --roster"), param_hint="--output")
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise click.BadParameter(_("use a .xlsx or .csv file name"), param_hint="--output")
    lm = resolve_model(ctx, model)
    try:
        write_template(lm.model, path)
    except OSError as exc:
        raise write_error(output, exc) from exc
    echo_err(_("wrote {path}").format(path=output))


@click.command("report", epilog=EPILOG)
@click.argument("model")
@click.argument("data", nargs=-1)
@output_option("The report to write: .xlsx, .html, .md, .csv or .json.")
@data_options
@click.option(
    "--gaps",
    "gap_limit",
    type=click.IntRange(0, None),
    default=200,
    show_default=True,
    help="Search the smallest change to the next grade for at most N communities.",
)
@round_cli.ROSTER_OPTION
@run_options
@click.pass_obj
def report_cmd(
    ctx: Ctx,
    model,
    data,
    output,
    encoding,
    sheet,
    strict,
    gap_limit,
    roster,
    backend,
    db,
    no_record,
):
    """Evaluate DATA against MODEL and write a report: summary, roll-ups by
    district and street, communities, indicators, gap analysis, data problems."""
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.report.build import FORMATS, build_report, write_report
    from zhili.engine.runs.store import file_hash, files_hash

    path = Path(output)
    if path.suffix.lower().lstrip(".") not in FORMATS:
        raise click.BadParameter(
            _("use a .xlsx, .html, .md, .csv or .json file name"), param_hint="--output"
        )
    started = time.perf_counter()
    lm = resolve_model(ctx, model)
    if roster is not None:
        rd, ds = round_cli.round_dataset(lm, data, roster, strict, to_stdout=False)
        echo_err(round_cli.completeness_text(rd))
    else:
        ds = load_data(lm, data, encoding, strict, sheet)
    ev = evaluate_dataset(lm.model, ds, ctx.registry, backend=backend, detail=True)
    for w in ev.warnings:
        echo_err(_("warning: {msg}").format(msg=w))
    options = {
        "backend": backend,
        "sheet": sheet,
        "encoding": encoding,
        "strict": strict,
        "output": str(path),
    }
    data_path = Path(ds.file)
    data_hash = (
        files_hash([Path(f) for f in ds.files])
        if ds.files
        else file_hash(data_path)
        if data_path.is_file()
        else None
    )

    def write(run_id: int | None) -> None:
        report = build_report(ev, gap_limit=gap_limit, run_id=run_id, data_hash=data_hash)
        if roster is not None:
            report.notes += round_cli.completeness_notes(rd)
            report.completeness = round_cli.report_completeness(rd)
        try:
            write_report(report, path)
        except OSError as exc:
            raise write_error(output, exc) from exc
        echo_err(_("wrote {path}").format(path=output))

    # the report names its run: it is written inside the run's transaction,
    # and a failed write (exit 1) records no run
    record_run(ev, "report", options, db, no_record, started, write=write)
