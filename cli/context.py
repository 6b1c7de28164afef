"""What every command shares: the exit codes (documented in `zhili.cli.app`),
the one error type, the command context (language, model folders, the plugin
registry) and the adapters that turn the engine's answers and exceptions into
messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from zhili.dsl import diagnostics as dg
from zhili.dsl.i18n import _, set_language

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

EPILOG = """\b
Exit codes: 0 success · 1 problems found (model errors, failed tests,
invalid data) · 2 bad command line · 3 internal error · 130 interrupted.
"""


class ZhiliError(click.ClickException):
    """A problem the user can act on: `message` (already worded, e.g.
    "error: …") goes to stderr as it is, and the command exits `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_PROBLEMS):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        if self.message:
            click.echo(self.message, err=True, file=file)


def write_error(path, exc: OSError) -> ZhiliError:
    """The error for a file that cannot be written."""
    return ZhiliError(
        _("error: cannot write {path}: {err}").format(path=path, err=exc.strerror or exc)
    )


def exit_status(failed: bool) -> None:
    """End the command with exit code 1 when `failed` (the problems are already shown)."""
    if failed:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def build_registry(extra_dirs: list[Path]):
    """The plugin registry a command uses (tests may share one: tests/cli_helpers.py)."""
    from zhili.engine.plugins import Registry

    return Registry(extra_dirs=extra_dirs)


class Ctx:
    """The `zhili` group's options, handed to every command (`click.pass_obj`)."""

    def __init__(self, lang: str | None, models: tuple[str, ...]):
        self.lang = set_language(lang)
        self.model_dirs = [Path(m) for m in models]
        self.runs_db: str | None = None  # the `runs` group's --db
        self._registry = None

    @property
    def registry(self):
        """The plugins and their models, loaded on first use (`--help` needs none)."""
        if self._registry is None:
            self._registry = build_registry(self.model_dirs)
        return self._registry


def echo_err(msg: str) -> None:
    """A line on stderr: notes, warnings, what was written."""
    click.echo(msg, err=True)


def display(p: Path) -> str:
    """A path as the user would type it: relative to the current folder when it can be."""
    try:
        return os.path.relpath(p)
    except ValueError:
        return str(p)


def plugin_problems(reg, verbose: bool = False) -> None:
    """Warn about plugins that failed; `verbose` also renders broken model files."""
    for p in reg.problems:
        echo_err(_("warning: {problem}").format(problem=str(p)))
    if verbose:
        for res in reg.broken:
            for d in res.diagnostics:
                echo_err(dg.render_text(d, res.text))


def resolve_model(ctx: Ctx, ref: str):
    """The `LoadedModel` for MODEL: an installed model id or a `.gov` file."""
    from zhili.engine.resolve import (
        InvalidModelFile,
        NoSuchModelFile,
        UnknownModel,
    )
    from zhili.engine.resolve import resolve_model as find

    try:
        return find(ctx.registry, ref, report=lambda d, text: echo_err(dg.render_text(d, text)))
    except NoSuchModelFile as exc:
        raise click.BadParameter(
            _("no such file: {path}").format(path=exc.ref), param_hint="MODEL"
        ) from exc
    except InvalidModelFile as exc:
        raise ZhiliError(_("error: {path} has errors (shown above)").format(path=exc.ref)) from exc
    except UnknownModel as exc:
        plugin_problems(ctx.registry, verbose=True)
        known = ", ".join(exc.known) or _("none")
        raise click.BadParameter(
            _("unknown model {ref!r} (installed: {known})").format(ref=exc.ref, known=known),
            param_hint="MODEL",
        ) from exc


def load_data(
    lm,
    data: str | tuple[str, ...] | None,
    encoding: str | None,
    strict: bool,
    sheet: str | None = None,
    progress=None,
):
    """Read DATA (or the model's bundled sample) for `lm`, show its problems,
    and stop with exit code 1 when the data policy says the run cannot go on.
    DATA may be a file, a folder or several files (a tuple)."""
    from zhili.engine.io import data as data_mod
    from zhili.engine.io.policy import NoSampleData, data_source

    if isinstance(data, tuple):
        if len(data) > 1:
            return _load_many(lm, data, encoding, strict, sheet, progress)
        data = data[0] if data else None
    try:
        source = data_source(lm.samples, data, lm.model.id)
    except NoSampleData as exc:
        raise click.UsageError(
            _("model {id} has no bundled sample data; give a DATA file").format(id=exc.model_id)
        ) from exc
    if source.is_sample:
        echo_err(_("using the bundled sample data {path}").format(path=display(source.path)))
    try:
        ds = data_mod.load(source.path, lm.model, encoding, sheet=sheet, progress=progress)
    except data_mod.DataError as exc:
        if progress is not None:
            progress.close()
        raise ZhiliError(_("error: {msg}").format(msg=str(exc))) from exc
    if progress is not None:
        progress.clear()
    return _checked(ds, strict)


def _load_many(lm, data: tuple[str, ...], encoding, strict: bool, sheet, progress):
    """`load_data` of several files (none of them standard input)."""
    from zhili.engine.io import data as data_mod

    if "-" in data:
        raise click.BadParameter(
            _("standard input (-) cannot be one of several data files"), param_hint="DATA"
        )
    paths = [Path(d) for d in data]
    try:
        ds = data_mod.load_many(paths, lm.model, encoding, sheet=sheet, progress=progress)
    except data_mod.DataError as exc:
        if progress is not None:
            progress.close()
        raise ZhiliError(_("error: {msg}").format(msg=str(exc))) from exc
    if progress is not None:
        progress.clear()
    return _checked(ds, strict)


def checked_data(ds, strict: bool):
    """`ds` after showing its problems, as `load_data` does; exit 1 when
    they stop the run (for data read otherwise: `eval` in batches)."""
    return _checked(ds, strict)


def _checked(ds, strict: bool):
    """`ds` after showing its problems; exit 1 when they stop the run."""
    from zhili.engine.io.policy import problem_report

    report = problem_report(ds.problems, strict)
    for line in report.lines:
        echo_err(line)
    if report.stops:
        raise ZhiliError(_("error: the data has problems (see above); nothing was evaluated"))
    return ds


def record_run(
    ev,
    command: str,
    options: dict,
    db: str | None,
    no_record: bool,
    started: float,
    progress=None,
    write=None,
    pending=None,
):
    """Record an evaluation in the run database unless `no_record`; its id, or
    None. A database that cannot be used is a warning (the results stand).

    Call it after the outputs are written, or give `write(run_id)` (run_id
    None when not recorded) to write outputs that name their run: the run is
    committed only after `write` returned, and a failed write records nothing.
    `pending`: what `start_recording` started before the outputs were written."""
    if no_record:
        if write is not None:
            write(None)
        return None
    from zhili.engine.runs.record import RunNotRecorded
    from zhili.engine.runs.record import record_run as record

    try:
        run_id = record(ev, command, options, db, started, progress, write, pending)
    except RunNotRecorded as exc:
        echo_err(_("warning: the run was not recorded: {err}").format(err=exc))
        return None
    echo_err(_("recorded run {id}").format(id=run_id))
    return run_id


def start_recording(ev, command: str, options: dict, no_record: bool):
    """Start preparing the run of `ev` (its results parts, the data's hash)
    in a thread, unless `no_record`: a `PendingRun` to give `record_run` once
    the outputs are written (and to cancel when writing them failed), or None."""
    if no_record:
        return None
    from zhili.engine.runs.record import PendingRun

    return PendingRun(ev, command, options)
