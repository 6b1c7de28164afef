"""The `tui` command: opens the Textual app (imported only when the command runs)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click

from zhili.cli import round as round_cli
from zhili.cli.context import EPILOG, EXIT_PROBLEMS, EXIT_USAGE, ZhiliError, resolve_model
from zhili.dsl.i18n import _


def runs_available() -> bool:
    """The run store is another area's module; the TUI uses it when present."""
    return importlib.util.find_spec("zhili.engine.runs.store") is not None


def interactive() -> bool:
    """A person at a terminal: stdin and stdout are TTYs and not under CI."""
    return sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("CI")


def tui_language(ctx) -> str:
    """The TUI is Chinese first: `--lang` when given, else ZHILI_LANG, else zh."""
    root = click.get_current_context(silent=True)
    given = root.find_root().params.get("lang") if root is not None else None
    return given or os.environ.get("ZHILI_LANG") or "zh"


def run_tui(
    ctx, lm, data_path: Path, compare: str | None = None, tab: str = "overview", roster=None
) -> None:
    """Open the app; it loads and evaluates in a thread behind a loading
    screen. Bad data is one clear message, never a traceback. With `roster`
    (a read `Roster`), `data_path` is a folder of a round's returns."""
    from zhili.engine.io import data as data_mod

    try:
        from zhili.tui.app import ZhiliApp, build_round_session, build_session
    except ImportError as exc:  # pragma: no cover - textual missing
        raise ZhiliError(_("error: the terminal UI needs Textual: {err}").format(err=exc)) from exc

    def session_of():
        if roster is None:
            return build_session(lm, data_path, ctx.registry)
        from zhili.engine.round.returns import read_returns

        rd = read_returns(data_path, lm.model, roster)
        if rd.dataset is None or len(rd.dataset) == 0:
            raise data_mod.DataError(_("no return holds data yet; nothing was evaluated"))
        return build_round_session(lm, rd, ctx.registry)

    def load():
        from zhili.tui.session import OtherError, load_other

        try:
            session = session_of()
            if compare:
                session.other = load_other(lm, compare, ctx.registry)
        except OtherError as exc:
            raise RuntimeError(_("error: {msg}").format(msg=str(exc))) from exc
        except data_mod.DataError as exc:
            raise RuntimeError(_("error: {msg}").format(msg=str(exc))) from exc
        except OSError as exc:
            raise RuntimeError(
                _("error: cannot read {path}: {err}").format(
                    path=data_path, err=exc.strerror or exc
                )
            ) from exc
        return session

    if compare:
        tab = "compare"
    app = ZhiliApp(lang=tui_language(ctx), tab=tab, loader=load)
    result = app.run()
    if app.return_code:
        raise ZhiliError(str(result), EXIT_PROBLEMS)


@click.command("tui", epilog=EPILOG)
@click.argument("model", required=False)
@click.argument("data", required=False)
@click.option(
    "--compare",
    "compare",
    help="A second data file, or a recorded run (12, latest, previous), to compare with DATA.",
)
@click.option(
    "--run",
    "run",
    help="Open a recorded run (its model and data file; needs the run store).",
)
@round_cli.ROSTER_OPTION
@click.pass_obj
def tui_cmd(ctx, model, data, compare, run, roster):
    """Browse MODEL's results on DATA in the terminal UI.

    DATA defaults to the model's bundled sample. Chinese unless --lang en
    (or ZHILI_LANG=en). Keys: F1 help, ctrl+p commands, / search, q quit.
    With --roster, DATA is a round's folder of returns: the overview shows
    the reporting rate, the communities tab lists who has not submitted.
    """
    if run:
        info = _recorded_run(run)
        model = model or info.model_id
        data = data or info.data_path
    if model is None:
        raise click.UsageError(_("give a MODEL (or --run RUN)"))
    lm = resolve_model(ctx, model)
    if roster is not None:
        if data is None or not Path(data).is_dir():
            raise click.BadParameter(
                _("with --roster, DATA is one folder of returned forms"), param_hint="DATA"
            )
        run_tui(ctx, lm, Path(data), compare, roster=round_cli.load_roster(roster))
        return
    if data is None:
        if not lm.samples:
            raise click.UsageError(
                _("model {id} has no bundled sample data; give a DATA file").format(id=lm.model.id)
            )
        path = lm.samples[0]
    else:
        path = Path(data)
        if not path.exists():
            raise ZhiliError(_("error: no such file: {path}").format(path=data))
    run_tui(ctx, lm, path, compare)


def _recorded_run(ref: str):
    """The run `--run` names, from the default run store."""
    if not runs_available():
        raise ZhiliError(
            _("error: --run needs the run store, which this zhili does not have"), EXIT_USAGE
        )
    from zhili.engine.runs.store import RunStore, RunStoreError

    try:
        with RunStore() as store:
            info = store.resolve(ref)
    except (RunStoreError, OSError) as exc:
        raise ZhiliError(_("error: {msg}").format(msg=str(exc))) from exc
    if info is None:
        raise ZhiliError(_("error: no recorded run {run!r}").format(run=ref))
    return info
