"""The model-author's loop: `check` (diagnostics like a compiler), `fmt`
(the canonical layout) and `test` (the cases written in .gov files)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from zhili.cli.context import (
    EPILOG,
    Ctx,
    display,
    echo_err,
    exit_status,
    plugin_problems,
    resolve_model,
    write_error,
)
from zhili.dsl import diagnostics as dg
from zhili.dsl.i18n import _
from zhili.engine import __version__


def _has_local_models() -> bool:
    here = Path.cwd()
    return any(here.glob("*.gov")) or any(here.glob("*/*.gov"))


def _local_folders() -> list[Path]:
    """Folders under the current one that hold `.gov` files (when there are any)."""
    from zhili.engine.plugins import gov_files

    if not _has_local_models():
        return []
    return sorted({_rel(f.parent) for f in gov_files([Path(".")])})


def _rel(p: Path) -> Path:
    return Path(os.path.relpath(p)) if p.is_absolute() else p


def _default_paths(ctx: Ctx) -> list[Path]:
    if _has_local_models():
        return [Path.cwd()]
    return sorted(
        {lm.path.parent for lm in ctx.registry.models.values()}
        | {r.path.parent for r in ctx.registry.broken}
    )


def _existing(targets: list[Path]) -> tuple[list[Path], list[Path]]:
    """The targets that exist, and those that don't (each reported as an error)."""
    missing = [p for p in targets if not p.exists()]
    for p in missing:
        echo_err(_("error: no such file or folder: {path}").format(path=p))
    return [p for p in targets if p.exists()], missing


@click.command("check", epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    help="Output format.",
)
@click.pass_obj
def check_cmd(ctx: Ctx, paths, strict, fmt):
    """Check model files (.gov) like a compiler: every problem with file:line:col.

    PATHS are files or folders (searched recursively). Without PATHS: the
    .gov files under the current folder, or else every installed model.
    """
    from zhili.engine.resolve import check_paths

    found, missing = _existing([Path(p) for p in paths] or _default_paths(ctx))
    files, results = check_paths(ctx.registry, found, display)
    all_diags = [d for r in results for d in r.diagnostics]
    n_err = sum(1 for d in all_diags if d.is_error)
    n_warn = sum(1 for d in all_diags if d.severity is dg.Severity.WARNING)
    if fmt == "json":
        click.echo(dg.render_json(all_diags))
    elif fmt == "github":
        for d in all_diags:
            click.echo(dg.render_github(d))
    elif fmt == "sarif":
        click.echo(dg.render_sarif(all_diags, __version__))
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        for r in results:
            for d in r.diagnostics:
                click.echo(dg.render_text(d, r.text, color=color))
                click.echo()
        click.echo(
            _("{files} files checked: {errors} errors, {warnings} warnings").format(
                files=len(files), errors=n_err, warnings=n_warn
            ),
            err=fmt != "text",
        )
    if not files and not missing:
        echo_err(_("error: no .gov files found"))
    exit_status(n_err > 0 or (strict and n_warn > 0) or bool(missing) or not files)


@click.command("fmt", epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file is not formatted."
)
@click.option("--diff", is_flag=True, help="Show what would change.")
@click.pass_obj
def fmt_cmd(ctx: Ctx, paths, check_only, diff):
    """Format model files in the canonical layout (comments are kept).

    PATHS are files or folders (default: the current folder). With --check or
    --diff nothing is written.
    """
    from zhili.engine.plugins import gov_files

    found, bad = _existing([Path(p) for p in paths] or [Path.cwd()])
    files = gov_files(found)
    changed = errors = 0
    for f in files:
        outcome = _format_one(f, check_only, diff)
        changed += outcome == "changed"
        errors += outcome == "error"
    summary = (
        _("{n} files, {changed} would be reformatted, {errors} with errors")
        if check_only or diff
        else _("{n} files, {changed} reformatted, {errors} with errors")
    )
    click.echo(summary.format(n=len(files), changed=changed, errors=errors), err=True)
    exit_status(bool(errors or bad or (check_only and changed)))


def _format_one(f: Path, check_only: bool, diff: bool) -> str:
    """Format one file (or show what would change): "changed", "same" or "error"."""
    import difflib

    from zhili.dsl.formatter import format_source
    from zhili.dsl.parser import decode
    from zhili.engine.io.atomic import write_text

    text, diags = decode(f.read_bytes(), display(f))
    out = None
    if text is not None:
        out, diags = format_source(text, display(f))
    if out is None:
        for d in diags:
            echo_err(dg.render_text(d, text))
        return "error"
    if out == text:
        return "same"
    if diff:
        a, b = f"a/{display(f)}", f"b/{display(f)}"
        click.echo("".join(difflib.unified_diff(text.splitlines(True), out.splitlines(True), a, b)))
    elif check_only:
        click.echo(_("would reformat {file}").format(file=display(f)))
    else:
        try:
            write_text(f, out)
        except OSError as exc:
            raise write_error(display(f), exc) from exc
        click.echo(_("reformatted {file}").format(file=display(f)))
    return "changed"


def _one_each(loaded: list) -> list:
    """The targets' models, a model named twice (`model.gov tests.gov`, or a
    folder and a file in it) once, with each test case once."""
    import dataclasses

    by_path: dict = {}
    for lm in loaded:
        key = (str(lm.path), lm.model.id)
        if key not in by_path:
            by_path[key] = lm
            continue
        first = by_path[key]
        seen = {_case_key(c) for c in first.tests}
        more = [c for c in lm.tests if _case_key(c) not in seen]
        if more:
            by_path[key] = dataclasses.replace(first, tests=[*first.tests, *more])
    return list(by_path.values())


def _case_key(case) -> tuple:
    span = case.span
    return (case.file, case.name, None if span is None else (span.line, span.column))


@click.command("test", epilog=EPILOG)
@click.argument("targets", nargs=-1)
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
@click.pass_obj
def test_cmd(ctx: Ctx, targets, verbose):
    """Run model test cases (written in .gov files, no Python needed).

    TARGETS are model ids (installed, or of a .gov file in or under the
    current folder), .gov model files (with the test suites beside them),
    `tests for` files (only their tests), or folders. Without TARGETS: the
    models in the .gov files under the current folder, or else every
    installed model.
    """
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.plugins import FolderModels
    from zhili.engine.testing import run_cases

    reg = ctx.registry
    if targets:
        loaded = []
        for t in targets:
            if Path(t).is_dir():
                folder = FolderModels([Path(t)], ctx.registry)
                plugin_problems(folder, verbose=True)
                if folder.problems:
                    reg = folder  # a broken file in the folder fails the run
                loaded.extend(folder.models[k] for k in sorted(folder.models))
            else:
                loaded.append(resolve_model(ctx, t))
        loaded = _one_each(loaded)
    else:
        local = _local_folders()
        if local:  # inside a district's repository: its own models
            reg = FolderModels(local, ctx.registry)
        loaded = [reg.models[k] for k in sorted(reg.models)]
        plugin_problems(reg, verbose=True)
    passed = failed = broken = 0
    lines = []
    for lm in loaded:
        for d, text in lm.suite_problems:  # a suite that does not check is not run
            echo_err(dg.render_text(d, text))
        broken += bool(lm.suite_problems)
        results = run_cases(lm.tests, compile_model(lm.model, reg.functions))
        click.echo(
            f"{lm.model.id} ({len(results)}) {''.join('.' if r.passed else 'F' for r in results)}"
        )
        for r in results:
            passed += r.passed
            failed += not r.passed
            lines.extend(_case_lines(lm.model.id, r, verbose))
        if not results and not lm.suite_problems:  # a suite with errors has cases, not run
            lines.append(_("warning: model {id} has no test cases").format(id=lm.model.id))
    if lines:
        click.echo()
        click.echo("\n".join(lines))
    click.echo(_("{passed} passed, {failed} failed").format(passed=passed, failed=failed))
    if broken:
        echo_err(_("error: a test file has errors (shown above): its tests were not run"))
    exit_status(
        bool(
            failed
            or broken
            or not loaded
            or reg.problems
            and (not targets or reg is not ctx.registry)
        )
    )


def _case_lines(model_id: str, r, verbose: bool) -> list[str]:
    """What `test` prints about one case: a failure with its reasons; a pass only if verbose."""
    if r.passed:
        return [f"PASSED {r.where} {model_id}::{r.case.name}"] if verbose else []
    out = [f"FAILED {r.where} {model_id}::{r.case.name}"]
    if r.error:
        out.append(f"    {_('error')}: {r.error}")
    out.extend(f"    {fmsg}" for fmsg in r.failures)
    return out
