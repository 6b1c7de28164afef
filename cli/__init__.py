"""zhili's command line (click): one module per command family, above the engine and the TUI.

`main` is the console entry point (`zhili = "zhili.cli:main"`).
"""

from zhili.cli.app import main

__all__ = ["main"]
