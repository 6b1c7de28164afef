"""zhili's command line (click): one module per command family, above the engine and the TUI."""
