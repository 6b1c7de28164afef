"""The `zhili` command line: the group, its commands, and `main()`, which
renders what no command handled.

Exit codes (every command):
  0  success
  1  problems found: model errors, failed tests, unreadable or invalid data
  2  bad command line (unknown option, missing argument, unknown model)
  3  internal error (a bug in zhili; set ZHILI_DEBUG=1 for the traceback)
  130  interrupted (Ctrl-C)

Commands raise `ZhiliError` (exit 1 unless it says otherwise) or click's
usage errors (exit 2); `main` runs click in non-standalone mode and renders
both, standard output that cannot be written (exit 1; quiet for a closed
pipe), Ctrl-C (130) and bugs (3) itself.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading

import click

from zhili.cli import check, district, evaluate, models, report, runs, tui
from zhili.cli import round as round_cli
from zhili.cli.context import EPILOG, EXIT_INTERNAL, EXIT_PROBLEMS, Ctx, echo_err
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
    round_cli.feedback_cmd,
    runs.runs_group,
    tui.tui_cmd,
    district.new_cmd,
    district.diff_model_cmd,
    district.export_cmd,
):
    cli.add_command(command)


EXIT_INTERRUPTED = 130
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO, errno.EPIPE}


class _Interrupt:
    """The SIGINT handler while `main` runs: Ctrl-C raises KeyboardInterrupt
    (files being written are removed, the run store's transaction rolls back);
    once the command has finished (`finishing`), it ends the process at once
    with exit 130, so that no moment of a run ignores it."""

    def __init__(self) -> None:
        self.seen = False
        self.finishing = False
        self._again: threading.Timer | None = None
        self._deferred = 0  # times the Ctrl-C being handled was put off
        self._pending = False  # a retry is due (its timer has not fired yet)
        self._retried = False  # this call is a retry's, not a Ctrl-C's
        self._raised = False  # KeyboardInterrupt was raised: it is being handled

    def __call__(self, signum, frame) -> None:
        self.seen = True
        retried, self._retried = self._retried, False
        if self.finishing:
            os.write(2, (_("interrupted") + "\n").encode())
            os._exit(EXIT_INTERRUPTED)
        if retried and self._raised:
            return  # a retry after the interrupt was raised: not raised again mid-cleanup
        if _inside_polars(frame) and self._deferred < MAX_DEFERRALS:
            # Polars may be running Python code (a conversion's function, a
            # literal it converts while planning): an exception raised there
            # is a Rust panic, which aborts with a backtrace. Raised again a
            # moment later; a few times at most, as the main thread may only
            # be passing through Polars' own Python between two calls.
            self._deferred += 1
            self._retry()
            return
        self._deferred = 0
        self.cancel()  # a retry still due would land in the cleanup of this one
        self._raised = True
        raise KeyboardInterrupt

    def cancel(self) -> None:
        """No Ctrl-C put off is raised any more (the command has ended)."""
        if self._again is not None:
            self._again.cancel()
        self._pending = False

    def _retry(self) -> None:
        """The handler called again `RETRY_SECONDS` from now (once: a retry
        already due is not doubled; one whose timer has fired is due no
        more, even while its thread is still ending)."""
        import _thread

        if self._pending:
            return

        def again() -> None:
            self._pending = False
            self._retried = True
            _thread.interrupt_main()

        self._pending = True
        self._again = threading.Timer(RETRY_SECONDS, again)
        self._again.daemon = True
        self._again.start()


RETRY_SECONDS = 0.02  # a Ctrl-C inside Polars is handled again after this
# ... at most this many times (about a second), then raised wherever it lands:
# under load the main thread may spend most of its time in Polars' Python
# (a wide frame's schema builds each Enum dtype in Python), and five tries
# (0.1 s) all landed there once in a CI-like run (a Rust panic, exit 1)
MAX_DEFERRALS = 50
_POLARS_DIR: str | None = None  # the polars package's folder, once polars is imported


def _inside_polars(frame) -> bool:
    """Whether Python code runs here inside a call into Polars (a frame of
    the polars package below it): Polars calls back into Python for a
    function given to `map_batches` or an IO source."""
    global _POLARS_DIR
    if _POLARS_DIR is None:
        polars = sys.modules.get("polars")
        if polars is None or not getattr(polars, "__file__", None):
            return False
        _POLARS_DIR = os.path.dirname(os.path.abspath(polars.__file__)) + os.sep
    while frame is not None:
        if frame.f_code.co_filename.startswith(_POLARS_DIR):
            return True
        frame = frame.f_back
    return False


def main(argv: list[str] | None = None) -> None:
    """The console entry point: run `cli` and exit with its code (see the
    module's text): Ctrl-C at any moment is exit 130, a bug exit 3.

    Called with `argv` (from Python, as tests do) it restores the SIGINT
    handler it found; as the console script it keeps its own to the end."""
    handler = _Interrupt()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, handler)
    try:
        try:
            code = _run(argv, handler)
        finally:
            handler.finishing = True
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    if handler.seen and code != EXIT_INTERRUPTED:
        echo_err(_("interrupted"))
        code = EXIT_INTERRUPTED
    handler.cancel()
    if argv is not None and previous is not None:
        signal.signal(signal.SIGINT, previous)
    if argv is None:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """The console script ends here, not in Python's own finalisation: that
    restores SIGINT's default action first, so a Ctrl-C in its last moments
    killed the process (status -2, no message) instead of exit 130. The exit
    functions still run (under the handler that makes Ctrl-C exit 130), the
    standard streams are flushed, then the process exits with `code`."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or full stream: nothing more to say
            pass
    os._exit(code)


def _run(argv: list[str] | None, interrupt: _Interrupt) -> int:
    """`cli` in click's non-standalone mode, every outcome an exit code. An
    error after Ctrl-C (a library that wrapped the KeyboardInterrupt in its own
    exception) is the interrupt, not a bug."""
    try:
        rv = cli.main(args=argv, prog_name="zhili", standalone_mode=False)
        _flush_output()
        return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
    except SystemExit as exc:
        return _flush_output(exc.code if isinstance(exc.code, int) else int(exc.code is not None))
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, EOFError):  # end of input at a prompt
            echo_err(_("Aborted!"))
            return EXIT_PROBLEMS
        return _interrupted()
    except KeyboardInterrupt:
        return _interrupted()
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except OSError as exc:
        if interrupt.seen:
            return _interrupted()
        if exc.errno not in WRITE_ERRNOS or os.environ.get("ZHILI_DEBUG"):
            return _internal_error(exc)
        return _write_failed(exc)
    except Exception as exc:  # a bug: say so plainly, no traceback unless asked
        if interrupt.seen:
            return _interrupted()
        return _internal_error(exc)


def _interrupted() -> int:
    echo_err(_("interrupted"))
    return EXIT_INTERRUPTED


def _flush_output(code: int = 0) -> int:
    """Flush standard output now, while its failure can still be reported
    (at exit Python would only print "Exception ignored")."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return _write_failed(exc)
    return code


def _write_failed(exc: OSError) -> int:
    """Standard output (or a file no command caught) cannot be written: one
    line and exit 1; a closed pipe (`| head`) ends quietly, as Unix tools do."""
    _silence_stdout()
    if exc.errno != errno.EPIPE:
        what = exc.filename or _("standard output")
        echo_err(_("error: cannot write {path}: {err}").format(path=what, err=exc.strerror or exc))
    return EXIT_PROBLEMS


def _silence_stdout() -> None:
    """Point standard output at /dev/null so that nothing fails at exit again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("ZHILI_DEBUG"):
        raise exc
    echo_err(
        _(
            "internal error: {kind}: {msg} (please report it; ZHILI_DEBUG=1 shows the traceback)"
        ).format(kind=type(exc).__name__, msg=exc)
    )
    return EXIT_INTERNAL
