"""The run store (SQLite), run diffs and model diffs."""
