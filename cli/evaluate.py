"""Evaluating data against a model: `eval`, `explain`, `sample` (synthetic
data) and `demo` (a built-in model on its bundled sample)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from zhili.cli import round as round_cli
from zhili.cli.context import (
    EPILOG,
    Ctx,
    ZhiliError,
    checked_data,
    echo_err,
    load_data,
    record_run,
    resolve_model,
    start_recording,
    write_error,
)
from zhili.cli.options import (
    ENCODING_OPTION,
    JSON_OPTION,
    SHEET_OPTION,
    data_options,
    output_option,
    run_options,
)
from zhili.cli.output import (
    output_table,
    summary_text,
    write_csv,
    write_csv_batches,
    write_output,
    write_parquet,
    write_parquet_batches,
)
from zhili.dsl.i18n import _


@click.command("eval", epilog=EPILOG)
@click.argument("model")
@click.argument("data", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "parquet"]),
    default=None,
    help="Output format (default: table; from the --output suffix when given).",
)
@output_option("Write to FILE instead of standard output.", required=False)
@click.option(
    "--detail", is_flag=True, help="csv/parquet: one column per indicator's points and outcome."
)
@data_options
@round_cli.ROSTER_OPTION
@run_options
@click.pass_obj
def eval_cmd(
    ctx: Ctx,
    model,
    data,
    fmt,
    output,
    detail,
    encoding,
    sheet,
    strict,
    roster,
    backend,
    db,
    no_record,
):
    """Evaluate every community in DATA (CSV, Excel, JSON or Parquet) against MODEL.

    MODEL is an installed model id or a .gov file; without DATA the model's
    bundled sample data is used. json gives each community's full result
    (indicators, reasons, gap to the next grade) from the reference
    interpreter; the other formats come from the chosen backend.
    """
    from zhili.engine.eval.evaluate import POINTS, evaluate_dataset
    from zhili.engine.progress import Progress

    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        if suffix not in ("json", "csv", "parquet", "txt", ""):
            raise click.UsageError(
                _("cannot write .{suffix} results: use .csv, .json, .parquet or .txt").format(
                    suffix=suffix
                )
            )
        fmt = suffix if suffix in ("json", "csv", "parquet") else "table"
    if fmt == "parquet" and not output:
        raise click.UsageError(_("--format parquet needs --output FILE"))
    started = time.perf_counter()
    if not no_record:  # the run keeps the data's sha256: hashed while the model and data load
        from zhili.engine.runs.hashes import hash_ahead

        hash_ahead(data)
    lm = resolve_model(ctx, model)
    rd = ds = None
    # the indicators' points and outcomes are what the run store and --detail
    # read (json explains each community with the interpreter): no values, no vetoes
    level = POINTS if detail or not no_record else False
    options = {"backend": backend, "sheet": sheet, "encoding": encoding, "strict": strict}
    if roster is None and _in_batches(fmt, output, data):
        run = {"fmt": fmt, "output": output, "detail": detail, "level": level, "db": db}
        run.update(options=options, no_record=no_record, started=started)
        ds = _eval_in_batches(ctx, lm, Path(data[0]), run)
        if ds is _DONE:
            return
    if roster is not None:
        rd, ds = round_cli.round_dataset(lm, data, roster, strict, to_stdout=fmt == "table")
        progress = Progress.for_file(None)
    else:
        progress = Progress.for_file(Path(data[0]) if len(data) == 1 else None)
        if ds is None:
            ds = load_data(lm, data, encoding, strict, sheet, progress)
    progress.phase("evaluate")
    ev = evaluate_dataset(lm.model, ds, ctx.registry, backend=backend, detail=level)
    if fmt != "json" and rd is None:  # only json reads the inputs again (to explain)
        ds.release()
    progress.clear()
    for w in ev.warnings:
        echo_err(_("warning: {msg}").format(msg=w))
    progress.phase("write")
    # the run's parts are built while the output is written; it is recorded
    # only once the output exists: a failed write (exit 1) records no run
    pending = start_recording(ev, "eval", options, no_record)
    try:
        _write_results(lm, ev, ds, rd, fmt, output, detail, progress)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if rd is not None and fmt in ("csv", "parquet"):
        echo_err(round_cli.completeness_text(rd))
    record_run(ev, "eval", options, db, no_record, started, progress, pending=pending)
    progress.close()


_DONE = object()  # `_eval_in_batches` wrote the output and recorded the run


def _in_batches(fmt: str, output: str | None, data: tuple[str, ...]) -> bool:
    """Whether `eval` may evaluate DATA batch by batch (`engine.eval.stream`):
    one file (not standard input, not the bundled sample), csv or parquet
    into a file that is regular or new (a device, a FIFO or standard output
    is written as the whole path writes it: nothing before the data's
    problems are known)."""
    if fmt not in ("csv", "parquet") or not output or len(data) != 1 or data[0] == "-":
        return False
    target = Path(output)
    return not target.exists() or target.is_file()


class _Stopped(Exception):
    """The batches stopped (`error`): raised through the writer unchanged."""

    def __init__(self, error: BaseException):
        super().__init__("the batches stopped")
        self.error = error


def _eval_in_batches(ctx: Ctx, lm, path: Path, run: dict):
    """`eval` of `path` batch by batch (`engine.eval.stream.open_stream`):
    each batch evaluated and its output rows written as it comes, the
    data's problems shown (and the run stopped by them) once every batch
    has passed, then the file renamed into place and the run recorded: the
    same output, messages and run as the whole path. `_DONE` then; the
    (checked) dataset when the file comes in one batch, for the whole path
    to go on with; None when the whole path must start again from the file
    (a later batch must be read whole: nothing of this one is kept)."""
    from zhili.engine.eval.stream import Restart, open_stream
    from zhili.engine.io import data as data_mod
    from zhili.engine.progress import Progress
    from zhili.engine.runs.record import ReadyRun

    options, strict = run["options"], run["options"]["strict"]
    progress = Progress.for_file(path)
    try:
        opened = open_stream(
            path,
            lm.model,
            ctx.registry,
            backend=options["backend"],
            detail=run["level"],
            output=lambda ev: output_table(ev, run["detail"]),
            record=not run["no_record"],
            encoding=options["encoding"],
            sheet=options["sheet"],
            progress=progress,
        )
    except data_mod.DataError as exc:
        progress.close()
        raise ZhiliError(_("error: {msg}").format(msg=str(exc))) from exc
    if isinstance(opened, data_mod.Dataset):
        progress.clear()
        return checked_data(opened, strict)
    done = []

    def frames():
        try:
            yield from opened.frames()
        except (data_mod.DataError, data_mod.NotInBatches, Restart) as exc:
            raise _Stopped(exc) from exc

    def finish() -> None:  # every batch written: the problems, then the file is renamed
        ev = opened.finish()
        progress.clear()
        checked_data(ev.dataset, strict)
        for w in ev.warnings:
            echo_err(_("warning: {msg}").format(msg=w))
        done.append(ev)

    try:
        if run["fmt"] == "parquet":
            write_parquet_batches(frames(), opened.schema, run["output"], finish)
        else:
            write_csv_batches(frames(), run["output"], finish)
    except _Stopped as stop:
        opened.close()
        if isinstance(stop.error, data_mod.DataError):
            progress.close()
            raise ZhiliError(_("error: {msg}").format(msg=str(stop.error))) from stop.error
        progress.clear()
        return None
    except BaseException:
        opened.close()
        raise
    ev = done[0]
    pending = None if run["no_record"] else ReadyRun(opened.prepared(ev, "eval", options))
    opened.close()
    record_run(
        ev, "eval", options, run["db"], run["no_record"], run["started"], progress, pending=pending
    )
    progress.close()
    return _DONE


def _write_results(lm, ev, ds, rd, fmt: str, output: str | None, detail: bool, progress) -> None:
    """`eval`'s output: `fmt` into `output` (None: standard output)."""
    if fmt in ("parquet", "csv"):
        table = output_table(ev, detail)
        progress.clear()
        if fmt == "parquet":
            write_parquet(table, output)
        else:
            write_csv(table, output)
        return
    if fmt == "json":
        text = _results_json(lm, ev, ds, rd.completeness() if rd is not None else None)
    else:
        text = summary_text(ev)
        if rd is not None:
            text += "\n\n" + round_cli.completeness_text(rd)
    progress.clear()
    write_output(text, output)


def _results_json(lm, ev, ds, completeness: dict | None = None) -> str:
    """`eval --format json`: every community's full result, targets, data
    problems (and, for a round, its completeness)."""
    return json.dumps(
        {
            "model": lm.model.id,
            "version": lm.model.version,
            "content_hash": lm.model.content_hash,
            "communities": [
                ev.explain_raw(i).to_result().model_dump(mode="json") for i in range(len(ev))
            ],
            "targets": ev.target_progress(),
            "data_problems": [p.__dict__ for p in ds.problems],
            **({"completeness": completeness} if completeness is not None else {}),
        },
        ensure_ascii=False,
        indent=2,
    )


@click.command("explain", epilog=EPILOG)
@click.argument("model")
@click.argument("data", nargs=-1)
@click.option(
    "-c", "--community", "community", required=True, help="Community id (社区编码) or name."
)
@JSON_OPTION
@ENCODING_OPTION
@SHEET_OPTION
@click.pass_obj
def explain_cmd(ctx: Ctx, model, data, community, as_json, encoding, sheet):
    """Explain where every point of one community came from.

    --json prints the full result: indicators, reasons, the gap to the next grade.
    """
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.trace.explain import explain_text
    from zhili.engine.trace.results import build_result

    lm = resolve_model(ctx, model)
    ds = load_data(lm, data, encoding, False, sheet)
    compiled = compile_model(lm.model, ctx.registry.functions)
    from zhili.engine.io.data import id_key_text

    def same(value) -> bool:
        return value is not None and id_key_text(str(value)) == id_key_text(community)

    # the id or name as written, else in the form ids are compared in (ＢＪ-001 = bj-001)
    chosen = [
        (rec, meta)
        for rec, meta in zip(ds.records, ds.meta, strict=True)
        if community in (meta.get("community_id"), meta.get("community"))
    ] or [
        (rec, meta)
        for rec, meta in zip(ds.records, ds.meta, strict=True)
        if same(meta.get("community_id")) or same(meta.get("community"))
    ]
    for rec, meta in chosen[:1]:
        raw = compiled.evaluate(rec, meta)
        result = build_result(raw, search=True)
        if as_json:
            click.echo(result.model_dump_json(indent=2))
        else:
            click.echo(explain_text(raw, result))
        return
    raise ZhiliError(_no_community_msg(community, ds.meta))


def _no_community_msg(community: str, meta: list[dict]) -> str:
    """No community by that id or name: the ids and names that nearly match
    (东关社区 for 东关), else the first ids."""
    from zhili.engine.io.data import close_names, id_key_text

    ids = {
        str(v): m.get("community_id")
        for m in meta
        for v in (m.get("community_id"), m.get("community"))
        if v is not None
    }
    close = close_names(community, ids, key=id_key_text)
    if close:
        shown = [c if ids[c] in (None, c) else f"{c} ({ids[c]})" for c in close]
        return _("error: no community {c!r} in the data; did you mean {names}?").format(
            c=community, names=", ".join(shown)
        )
    names = [m.get("community_id") for m in meta][:10]
    return _("error: no community {c!r} in the data (e.g. {examples})").format(
        c=community, examples=", ".join(map(str, names))
    )


@click.command("sample", epilog=EPILOG)
@click.argument("model")
@click.option(
    "--rows",
    type=click.IntRange(1, 10_000_000),
    default=100,
    show_default=True,
    help="Number of communities.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same data)."
)
@click.option(
    "--missing-rate",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of empty cells.",
)
@click.option(
    "--veto-rate",
    type=click.FloatRange(0, 1),
    default=0.02,  # zhili.engine.sample.DEFAULT_VETO_RATE
    show_default=True,
    help="Share of communities with a veto triggered (0: none).",
)
@output_option("CSV file to write.")
@click.pass_obj
def sample_cmd(ctx: Ctx, model, rows, seed, missing_rate, veto_rate, output):
    """Write synthetic community data for MODEL (reproducible by seed).

    The data follows the model: communities strong, average and weak, values
    at and around every threshold and tier, divisors rarely 0, vetoes in
    --veto-rate of the rows, so every reachable grade appears in a
    thousand rows.
    """
    from zhili.engine.sample import write_sample

    if Path(output).suffix.lower() not in (".csv", ".txt", ""):
        raise click.UsageError(
            _("cannot write {suffix} sample data: it is written as CSV (use .csv)").format(
                suffix=Path(output).suffix
            )
        )
    lm = resolve_model(ctx, model)
    try:
        write_sample(lm.model, Path(output), rows, seed, missing_rate, veto_rate)
    except OSError as exc:
        raise write_error(output, exc) from exc
    echo_err(_("wrote {n} synthetic communities to {path}").format(n=rows, path=output))


@click.command("demo", epilog=EPILOG)
@click.argument("model", default="four_type")
@click.option("--no-tui", is_flag=True, help="Print the summary table even in a terminal.")
@click.pass_obj
def demo_cmd(ctx: Ctx, model, no_tui):
    """Evaluate a built-in model on its bundled sample data and show the results.

    In a terminal this opens the terminal UI; piped, under CI or with
    --no-tui it prints the summary table.
    """
    from zhili.cli import tui as cli_tui
    from zhili.engine.eval.evaluate import evaluate_dataset

    lm = resolve_model(ctx, model)
    if not no_tui and cli_tui.interactive() and lm.samples:
        cli_tui.run_tui(ctx, lm, lm.samples[0])
        return
    ds = load_data(lm, None, None, False)
    ev = evaluate_dataset(lm.model, ds, ctx.registry)
    click.echo(summary_text(ev))
    click.echo()
    click.echo(
        _("Explain one community: zhili explain {model} --community {id}").format(
            model=lm.model.id, id=ev.rows()[0]["community_id"] if len(ev) else "ID"
        )
    )
