"""Commands for districts authoring their own models and plugins: `new`
(a plugin project), `diff-model` (two versions of a model) and `export`
(results through a plugin's exporter)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zhili.cli.context import (
    EPILOG,
    EXIT_USAGE,
    Ctx,
    ZhiliError,
    load_data,
    plugin_problems,
    resolve_model,
)
from zhili.cli.options import JSON_OPTION, output_option
from zhili.dsl.i18n import _


@click.command("new", epilog=EPILOG)
@click.argument("name")
@click.option(
    "--extends", "base", default=None, help="Extend this installed model (e.g. four_type)."
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to create the project in (default: ./NAME).",
)
@click.pass_obj
def new_cmd(ctx: Ctx, name, base, directory):
    """Create a district plugin project NAME, ready to publish.

    It holds a model (extending BASE if given), synthetic sample data,
    test cases, a Chinese README, a GitHub workflow running `zhili check`
    and `zhili test`, and a pre-commit configuration.
    """
    from zhili.engine.scaffold import ScaffoldError, create

    target = Path(directory) if directory else Path(name)
    try:
        written = create(name, target, ctx.registry, extends=base)
    except ScaffoldError as exc:
        raise ZhiliError(_("error: {problem}").format(problem=exc), EXIT_USAGE) from exc
    for path in written:
        click.echo(_("created {path}").format(path=path))
    click.echo(_("next: cd {path} && zhili check && zhili test").format(path=target))


@click.command("diff-model", epilog=EPILOG)
@click.argument("old")
@click.argument("new")
@click.option("--data", default=None, help="Data file: list communities whose grade changes.")
@JSON_OPTION
@click.pass_obj
def diff_model_cmd(ctx: Ctx, old, new, data, as_json):
    """What changed between two versions of a model (ids or .gov files).

    Indicators added and removed, points and thresholds changed; with
    --data, the communities whose grade changes under NEW. Exit code 0
    either way (a diff is information, not a problem).
    """
    from zhili.engine.runs.modeldiff import diff_grades, diff_models, render_diff

    a = resolve_model(ctx, old)
    b = resolve_model(ctx, new)
    changes = diff_models(a.model, b.model)
    regrades = None
    if data is not None:
        ds_a = load_data(a, data, None, False)
        ds_b = load_data(b, data, None, False)
        regrades = diff_grades(a.model, b.model, ds_a, ds_b, ctx.registry.functions)
    if as_json:
        click.echo(
            json.dumps(
                {"changes": changes, "grade_changes": regrades}, ensure_ascii=False, indent=2
            )
        )
    else:
        click.echo(render_diff(a.model, b.model, changes, regrades))


@click.command("export", epilog=EPILOG)
@click.argument("model")
@click.argument("data", required=False)
@click.option("--format", "fmt", required=True, help="An exporter a plugin provides.")
@output_option("The file the exporter writes.")
@click.pass_obj
def export_cmd(ctx: Ctx, model, data, fmt, output):
    """Evaluate DATA against MODEL and write the results with a plugin's
    exporter (hook `zhili_exporters`). `zhili models --json` lists them
    under `exporters`."""
    from zhili.engine.eval.evaluate import evaluate_dataset

    reg = ctx.registry
    exporter = reg.exporters.get(fmt)
    if exporter is None:
        plugin_problems(reg)
        known = ", ".join(sorted(reg.exporters)) or _("none")
        raise click.BadParameter(
            _("unknown export format {fmt!r} (installed: {known})").format(fmt=fmt, known=known),
            param_hint="--format",
        )
    lm = resolve_model(ctx, model)
    ds = load_data(lm, data, None, False)
    ev = evaluate_dataset(lm.model, ds, reg)
    try:
        exporter.write(ev, Path(output))
    except Exception as exc:  # a plugin's failure, not zhili's
        raise ZhiliError(
            _("error: exporter {name} of plugin {plugin} failed: {error}").format(
                name=fmt, plugin=exporter.plugin, error=f"{type(exc).__name__}: {exc}"
            )
        ) from exc
    click.echo(_("wrote {path}").format(path=output))
