"""`zhili models`: the installed models and what the plugins provide."""

from __future__ import annotations

import json

import click

from zhili.cli.context import EPILOG, Ctx, exit_status, plugin_problems
from zhili.cli.options import JSON_OPTION
from zhili.cli.output import render_table
from zhili.dsl.i18n import _


@click.command("models", epilog=EPILOG)
@JSON_OPTION
@click.pass_obj
def models_cmd(ctx: Ctx, as_json: bool):
    """List installed models and the plugins that provide them."""
    reg = ctx.registry
    rows = [
        {
            "id": mid,
            "title": lm.model.title,
            "version": lm.model.version,
            "plugin": lm.plugin,
            "indicators": len(lm.model.indicators),
            "tests": len(lm.tests),
            "path": str(lm.path),
        }
        for mid, lm in sorted(reg.models.items())
    ]
    if as_json:
        listing = {
            "models": rows,
            "data_readers": sorted(reg.data_readers),
            "exporters": sorted(reg.exporters),
            "problems": [str(p) for p in reg.problems],
        }
        click.echo(json.dumps(listing, ensure_ascii=False, indent=2))
    else:
        headers = [_("model"), _("title"), _("version"), _("plugin"), _("indicators"), _("tests")]
        table = [
            [
                r["id"],
                r["title"] or "",
                r["version"] or "",
                r["plugin"],
                r["indicators"],
                r["tests"],
            ]
            for r in rows
        ]
        click.echo(render_table(headers, table))
        plugin_problems(reg, verbose=True)
    exit_status(bool(reg.problems))
