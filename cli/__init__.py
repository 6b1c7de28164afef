"""zhili's command line (click): one module per command family, above the engine and the TUI.

`main` is the console entry point (`zhili = "zhili.cli:main"`). It takes over
Ctrl-C before it imports the commands, so that an interrupt while they load
is exit 130 too, not a traceback (`zhili.cli.app.main` then installs the
handler for the run).
"""

import os
import signal
import threading


def _interrupted_while_starting(signum, frame) -> None:
    os.write(2, b"interrupted\n")
    os._exit(130)


def main(argv: list[str] | None = None) -> None:
    """Run `zhili` (see `zhili.cli.app.main`)."""
    if argv is None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupted_while_starting)
    from zhili.cli.app import main as run

    run(argv)


__all__ = ["main"]
