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
