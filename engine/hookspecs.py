"""The zhili hook specifications: everything a plugin can provide.

A plugin is a module (or object) with functions marked `@hookimpl` and named
like the specs below. Built-in models are plugins too: each registers through
the `zhili` entry-point group exactly as a third-party package would:

    # pyproject.toml of a plugin package
    [project.entry-points.zhili]
    my_district = "my_district_plugin"

    # my_district_plugin/__init__.py
    from pathlib import Path
    from zhili.engine.hookspecs import hookimpl

    @hookimpl
    def zhili_model_sources():
        return [Path(__file__).parent]

Every hook is called with keyword arguments only; every spec documents when
it is called and what it must return. A plugin that raises or returns
something malformed is reported with its name and skipped; the other plugins
still load.
"""

from __future__ import annotations

from pathlib import Path

import pluggy

PROJECT = "zhili"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def zhili_model_sources() -> list[Path]:
    """Where this plugin's models live.

    Called once, when the model registry is first built (on every command that
    needs models). Return a list of paths: `.gov` files, or folders that are
    searched (not recursively) for `.gov` files. A model file starts with
    `model ID`; files starting with `tests for ID` hold test cases for model
    ID. Data files in the same folder named `sample*.csv` (or `.json`) are the
    model's bundled sample data.
    """


@hookspec
def zhili_functions() -> list:
    """DSL functions this plugin adds.

    Called once, when the function table is first built (before any model is
    checked). Return a list of `zhili.engine.functions.Function` objects, each
    with a name, a typed signature for the checker and an implementation for
    every evaluation backend. A name that is already taken is reported and
    the later definition ignored.
    """


@hookspec
def zhili_data_readers() -> list:
    """Data formats this plugin can read (a district's own system export).

    Called once, when the registry is built. Return a list of
    `zhili.engine.plugins.DataReader(suffix, read, description)`: `suffix`
    is a file suffix such as ".gwx" (lowercase, with the dot) and
    `read(path: Path) -> zhili.engine.plugins.RawTable` reads the whole file as
    text cells (`zhili.engine.plugins.raw_table(file, headers, rows)` builds
    one from a header list and rows of cells). The table then goes through
    the same column matching, conversion and validation as a CSV file. A
    suffix zhili reads itself (.csv, .xlsx, .json …: the built-in readers,
    declared in the same shape in `zhili.engine.io.readers.BUILTIN_READERS`)
    or that another plugin took is reported and ignored. `read` may raise
    `zhili.engine.plugins.DataError` for a file it cannot read; any other
    exception is reported as the plugin's error.
    """


@hookspec
def zhili_exporters() -> list:
    """Report formats this plugin can write.

    Called once, when the registry is built. Return a list of
    `zhili.engine.plugins.Exporter(name, suffix, write, description)`:
    `zhili export MODEL [DATA] --format NAME -o FILE` evaluates the data and
    calls `write(evaluation, path)` with a
    `zhili.engine.eval.evaluate.Evaluation` (its `.table` is the results table, one
    row per community) and the output `Path`. A name that is already taken
    is reported and the later exporter ignored.
    """
