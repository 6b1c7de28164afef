"""The `zhili` command line.

Exit codes (every command):
  0  success
  1  problems found: model errors, failed tests, unreadable or invalid data
  2  bad command line (unknown option, missing argument, unknown model)
  3  internal error (a bug in zhili; set ZHILI_DEBUG=1 for the traceback)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from zhili.dsl import diagnostics as dg
from zhili.dsl.i18n import _, set_language
from zhili.engine import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

EPILOG = """\b
Exit codes: 0 success · 1 problems found (model errors, failed tests,
invalid data) · 2 bad command line · 3 internal error.
"""


class Ctx:
    def __init__(self, lang: str | None, models: tuple[str, ...]):
        self.lang = set_language(lang)
        self.model_dirs = [Path(m) for m in models]
        self._registry = None

    @property
    def registry(self):
        if self._registry is None:
            from zhili.engine.plugins import Registry

            self._registry = Registry(extra_dirs=self.model_dirs)
        return self._registry


def _echo_err(msg: str) -> None:
    click.echo(msg, err=True)


def _plugin_problems(reg, verbose: bool = False) -> None:
    for p in reg.problems:
        _echo_err(_("warning: {problem}").format(problem=str(p)))
    if verbose:
        for res in reg.broken:
            for d in res.diagnostics:
                _echo_err(dg.render_text(d, res.text))


def resolve_model(ctx: Ctx, ref: str):
    """A model id of an installed plugin, or the path of a `.gov` file."""
    from zhili.engine.plugins import FileResolver, LoadedModel, check_file

    p = Path(ref)
    if ref.endswith(".gov") or p.is_file():
        if not p.exists():
            raise click.BadParameter(_("no such file: {path}").format(path=ref), param_hint="MODEL")
        resolver = FileResolver(sorted(p.parent.glob("*.gov")), fallback=_LazyResolver(ctx))
        res = check_file(p, ctx.registry.signatures, resolver=resolver)
        for d in res.diagnostics:
            if d.is_error or d.severity is dg.Severity.WARNING:
                _echo_err(dg.render_text(d, res.text))
        if not res.ok or res.result is None or res.result.model is None:
            _echo_err(_("error: {path} is not a valid model").format(path=ref))
            sys.exit(EXIT_PROBLEMS)
        model = res.result.model
        samples = sorted(
            x for x in p.parent.glob("sample*") if x.suffix in (".csv", ".json", ".jsonl")
        )
        tests = list(model.tests)
        # test suites beside the model
        for other in p.parent.glob("*.gov"):
            if other == p:
                continue
            o = check_file(other, ctx.registry.signatures, resolver=resolver)
            if o.result is not None and o.result.model is None:
                tests.extend(t for t in o.result.tests if t.model == model.id)
        return LoadedModel(
            model=model, plugin="file", path=p, source=res.text or "", samples=samples, tests=tests
        )
    reg = ctx.registry
    lm = reg.get(ref)
    if lm is None:
        _plugin_problems(reg, verbose=True)
        known = ", ".join(sorted(reg.models)) or _("none")
        raise click.BadParameter(
            _("unknown model {ref!r} (installed: {known})").format(ref=ref, known=known),
            param_hint="MODEL",
        )
    return lm


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


# ---------------------------------------------------------------- models


@cli.command("models", epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def models_cmd(ctx: Ctx, as_json: bool):
    """List installed models and the plugins that provide them."""
    reg = ctx.registry
    rows = []
    for mid, lm in sorted(reg.models.items()):
        m = lm.model
        rows.append(
            {
                "id": mid,
                "title": m.title,
                "version": m.version,
                "plugin": lm.plugin,
                "indicators": len(m.indicators),
                "tests": len(lm.tests),
                "path": str(lm.path),
            }
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "models": rows,
                    "data_readers": sorted(reg.data_readers),
                    "exporters": sorted(reg.exporters),
                    "problems": [str(p) for p in reg.problems],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(
            render_table(
                [_("model"), _("title"), _("version"), _("plugin"), _("indicators"), _("tests")],
                [
                    [
                        r["id"],
                        r["title"] or "",
                        r["version"] or "",
                        r["plugin"],
                        r["indicators"],
                        r["tests"],
                    ]
                    for r in rows
                ],
            )
        )
        _plugin_problems(reg, verbose=True)
    sys.exit(EXIT_PROBLEMS if reg.problems else EXIT_OK)


# ---------------------------------------------------------------- check


def _local_folders() -> list[Path]:
    """Folders under the current one that hold `.gov` files (when there are any)."""
    from zhili.engine.plugins import gov_files

    here = Path.cwd()
    if not (any(here.glob("*.gov")) or any(here.glob("*/*.gov"))):
        return []
    return sorted({_rel(f.parent) for f in gov_files([Path(".")])})


def _rel(p: Path) -> Path:
    return Path(os.path.relpath(p)) if p.is_absolute() else p


def _default_paths(ctx: Ctx) -> list[Path]:
    here = Path.cwd()
    if any(here.glob("*.gov")) or any(here.glob("*/*.gov")):
        return [here]
    return sorted(
        {lm.path.parent for lm in ctx.registry.models.values()}
        | {r.path.parent for r in ctx.registry.broken}
    )


def check_paths(ctx: Ctx, paths: list[Path]):
    """Check every .gov file under `paths`; test suites are resolved against
    their model (among these files, else an installed model)."""
    from zhili.dsl import ast
    from zhili.dsl import messages as m
    from zhili.dsl.checker import resolve_test_names
    from zhili.engine.plugins import check_files, gov_files

    files = gov_files(paths)
    results, resolver = check_files(
        files, ctx.registry.signatures, _display, fallback=_LazyResolver(ctx)
    )
    models = {r.result.model.id: r.result.model for r in results if r.result and r.result.model}
    for r in results:
        if r.result is None or r.result.model is not None or not r.ok:
            continue
        parsed = resolver.parsed(r.path)
        tree = parsed.tree
        if not isinstance(tree, ast.TestsFile):
            continue
        target = models.get(tree.model.id)
        if target is None:
            lm = ctx.registry.get(tree.model.id)
            target = lm.model if lm else None
        if target is None:
            r.result.diagnostics.append(
                m.unknown_name(
                    tree.model.span, tree.model.id, list(models) + list(ctx.registry.models)
                )
            )
            continue
        for t in tree.tests:
            r.result.diagnostics.extend(
                resolve_test_names(
                    t,
                    {f.id: (f.type, tuple(f.values)) for f in target.inputs},
                    {i.id for i in target.indicators},
                    {d.id for d in target.dimensions},
                    {v.id for v in target.vetoes},
                    target.grade_names,
                )
            )
    return files, results


class _LazyResolver:
    """The installed models, looked up only when a file extends one."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx

    @property
    def candidates(self) -> list[str]:
        return self.ctx.registry.resolver.candidates

    def __call__(self, kind, name, origin):
        return self.ctx.registry.resolver(kind, name, origin)


def _display(p: Path) -> str:
    try:
        return os.path.relpath(p)
    except ValueError:
        return str(p)


@cli.command("check", epilog=EPILOG)
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
    targets = [Path(p) for p in paths] or _default_paths(ctx)
    missing = [p for p in targets if not p.exists()]
    for p in missing:
        _echo_err(_("error: no such file or folder: {path}").format(path=p))
    files, results = check_paths(ctx, [p for p in targets if p.exists()])
    all_diags = []
    for r in results:
        all_diags.extend(r.diagnostics)
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
    failed = n_err > 0 or (strict and n_warn > 0) or bool(missing) or not files
    if not files and not missing:
        _echo_err(_("error: no .gov files found"))
    sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)


# ---------------------------------------------------------------- fmt


@cli.command("fmt", epilog=EPILOG)
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
    import difflib

    from zhili.dsl.formatter import format_source
    from zhili.dsl.parser import decode
    from zhili.engine.plugins import gov_files

    targets = [Path(p) for p in paths] or [Path.cwd()]
    files = gov_files([p for p in targets if p.exists()])
    bad = [p for p in targets if not p.exists()]
    for p in bad:
        _echo_err(_("error: no such file or folder: {path}").format(path=p))
    changed = errors = 0
    for f in files:
        text, diags = decode(f.read_bytes(), _display(f))
        out = None
        if text is not None:
            out, diags = format_source(text, _display(f))
        if out is None:
            errors += 1
            for d in diags:
                _echo_err(dg.render_text(d, text))
            continue
        if out != text:
            changed += 1
            if diff or check_only:
                click.echo(
                    "".join(
                        difflib.unified_diff(
                            text.splitlines(True),
                            out.splitlines(True),
                            f"a/{_display(f)}",
                            f"b/{_display(f)}",
                        )
                    )
                    if diff
                    else _("would reformat {file}").format(file=_display(f))
                )
            if not check_only and not diff:
                tmp = f.with_name(f.name + ".zhili-tmp")
                tmp.write_text(out, encoding="utf-8")
                tmp.replace(f)
                click.echo(_("reformatted {file}").format(file=_display(f)))
    summary = (
        _("{n} files, {changed} would be reformatted, {errors} with errors")
        if check_only or diff
        else _("{n} files, {changed} reformatted, {errors} with errors")
    )
    click.echo(summary.format(n=len(files), changed=changed, errors=errors), err=True)
    sys.exit(EXIT_PROBLEMS if errors or bad or (check_only and changed) else EXIT_OK)


# ---------------------------------------------------------------- test


@cli.command("test", epilog=EPILOG)
@click.argument("targets", nargs=-1)
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only failures.")
@click.pass_obj
def test_cmd(ctx: Ctx, targets, verbose):
    """Run model test cases (written in .gov files, no Python needed).

    TARGETS are model ids or .gov model files. Without TARGETS: the models
    in the .gov files under the current folder, or else every installed model.
    """
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.testing import run_cases

    reg = ctx.registry
    if targets:
        loaded = [resolve_model(ctx, t) for t in targets]
    else:
        local = _local_folders()
        if local:  # inside a district's repository: its own models
            from zhili.engine.plugins import FolderModels

            reg = FolderModels(local, ctx.registry)
        loaded = [reg.models[k] for k in sorted(reg.models)]
        _plugin_problems(reg, verbose=True)
    passed = failed = 0
    lines = []
    for lm in loaded:
        compiled = compile_model(lm.model, reg.functions)
        results = run_cases(lm.tests, compiled)
        marks = "".join("." if r.passed else "F" for r in results)
        click.echo(f"{lm.model.id} ({len(results)}) {marks}")
        for r in results:
            if r.passed:
                passed += 1
                if verbose:
                    lines.append(f"PASSED {r.where} {lm.model.id}::{r.case.name}")
            else:
                failed += 1
                lines.append(f"FAILED {r.where} {lm.model.id}::{r.case.name}")
                if r.error:
                    lines.append(f"    {_('error')}: {r.error}")
                for fmsg in r.failures:
                    lines.append(f"    {fmsg}")
        if not results:
            lines.append(_("warning: model {id} has no test cases").format(id=lm.model.id))
    if lines:
        click.echo()
        click.echo("\n".join(lines))
    click.echo(_("{passed} passed, {failed} failed").format(passed=passed, failed=failed))
    sys.exit(EXIT_PROBLEMS if failed or (not loaded) or reg.problems and not targets else EXIT_OK)


# ---------------------------------------------------------------- eval / explain


def _load_data(
    lm,
    data: str | None,
    encoding: str | None,
    strict: bool,
    sheet: str | None = None,
    progress=None,
):
    from zhili.engine.io import data as data_mod

    if data is None:
        if not lm.samples:
            raise click.UsageError(
                _("model {id} has no bundled sample data; give a DATA file").format(id=lm.model.id)
            )
        path = lm.samples[0]
        _echo_err(_("using the bundled sample data {path}").format(path=_display(path)))
    else:
        path = Path(data)
    try:
        ds = data_mod.load(path, lm.model, encoding, sheet=sheet, progress=progress)
    except data_mod.DataError as exc:
        if progress is not None:
            progress.close()
        _echo_err(_("error: {msg}").format(msg=str(exc)))
        sys.exit(EXIT_PROBLEMS)
    if progress is not None:
        progress.clear()
    shown = 0
    for p in ds.problems:
        if p.severity == "info":
            if p.row is not None and p.column is None:  # a skipped row: never silent
                _echo_err(f"{_('note')}: {p}")
            continue
        if shown < 50:
            _echo_err(f"{_(p.severity)}: {p}")
        shown += 1
    if shown > 50:
        _echo_err(_("… and {n} more data problems").format(n=shown - 50))
    if ds.errors or (strict and any(p.severity != "info" for p in ds.problems)):
        _echo_err(_("error: the data has problems (see above); nothing was evaluated"))
        sys.exit(EXIT_PROBLEMS)
    return ds


SHEET_OPTION = click.option(
    "--sheet",
    help="The workbook sheet to read, by name or position (1 = first; default: the first).",
)
DB_OPTION = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="The run database (default: ZHILI_DB or the user's data folder).",
)
NO_RECORD_OPTION = click.option(
    "--no-record", is_flag=True, help="Do not record this run in the run database."
)


def record_run(
    ev,
    command: str,
    options: dict,
    db: str | None,
    no_record: bool,
    started: float,
    progress=None,
):
    """Record an evaluation in the run database; a database that cannot be
    used is a warning (the results stand), not a failure."""
    import time

    if no_record:
        return None
    if progress is not None:
        progress.phase("record")
    from zhili.engine.runs.store import RunStore, RunStoreError

    try:
        with RunStore(db) as store:
            run_id = store.record(
                ev,
                command=command,
                data_path=Path(ev.dataset.file),
                options=options,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
    except (RunStoreError, OSError) as exc:
        if progress is not None:
            progress.clear()
        _echo_err(_("warning: the run was not recorded: {err}").format(err=exc))
        return None
    except Exception as exc:  # sqlite3 errors: locked for too long, disk full
        import sqlite3

        if not isinstance(exc, sqlite3.Error):
            raise
        if progress is not None:
            progress.clear()
        _echo_err(_("warning: the run was not recorded: {err}").format(err=exc))
        return None
    if progress is not None:
        progress.clear()
    _echo_err(_("recorded run {id}").format(id=run_id))
    return run_id


BACKEND_OPTION = click.option(
    "--backend",
    type=click.Choice(["vectorized", "reference"]),
    default="vectorized",
    show_default=True,
    help="Evaluation backend: one Polars plan for all communities, or the interpreter record by record.",
)


@cli.command("eval", epilog=EPILOG)
@click.argument("model")
@click.argument("data", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "parquet"]),
    default=None,
    help="Output format (default: table; from the --output suffix when given).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--detail", is_flag=True, help="csv/parquet: one column per indicator's points and outcome."
)
@click.option("--encoding", help="Force the text encoding of a CSV file (e.g. gbk).")
@SHEET_OPTION
@click.option("--strict", is_flag=True, help="Fail on any data problem.")
@BACKEND_OPTION
@DB_OPTION
@NO_RECORD_OPTION
@click.pass_obj
def eval_cmd(
    ctx: Ctx, model, data, fmt, output, detail, encoding, sheet, strict, backend, db, no_record
):
    """Evaluate every community in DATA (CSV, Excel, JSON or Parquet) against MODEL.

    MODEL is an installed model id or a .gov file; without DATA the model's
    bundled sample data is used. json gives each community's full result
    (indicators, reasons, gap to the next grade) from the reference
    interpreter; the other formats come from the chosen backend.
    """
    from zhili.engine.eval.evaluate import evaluate_dataset

    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        fmt = suffix if suffix in ("json", "csv", "parquet") else "table"
    if fmt == "parquet" and not output:
        raise click.UsageError(_("--format parquet needs --output FILE"))
    import time

    from zhili.engine.progress import Progress

    started = time.perf_counter()
    lm = resolve_model(ctx, model)
    progress = Progress.for_file(Path(data) if data else None)
    ds = _load_data(lm, data, encoding, strict, sheet, progress)
    progress.phase("evaluate")
    ev = evaluate_dataset(lm.model, ds, ctx.registry, backend=backend, detail=True)
    progress.clear()
    for w in ev.warnings:
        _echo_err(_("warning: {msg}").format(msg=w))
    record_run(
        ev,
        "eval",
        {"backend": backend, "sheet": sheet, "encoding": encoding, "strict": strict},
        db,
        no_record,
        started,
        progress,
    )
    progress.phase("write")
    if fmt == "json":
        text = json.dumps(
            {
                "model": lm.model.id,
                "version": lm.model.version,
                "content_hash": lm.model.content_hash,
                "communities": [
                    ev.explain_raw(i).to_result().model_dump(mode="json") for i in range(len(ev))
                ],
                "targets": ev.target_progress(),
                "data_problems": [p.__dict__ for p in ds.problems],
            },
            ensure_ascii=False,
            indent=2,
        )
    elif fmt in ("csv", "parquet"):
        table = output_table(ev, detail)
        if fmt == "parquet":
            progress.close()
            _write_parquet(table, output)
            sys.exit(EXIT_OK)
        text = table.write_csv()
    else:
        text = summary_text(ev)
    progress.close()
    _write_output(text, output, bom=fmt == "csv")
    sys.exit(EXIT_OK)


def output_table(ev, detail: bool):
    """The results table with readable column names, for csv/parquet."""
    import polars as pl

    t = ev.table
    keep = [
        c
        for c in ("community_id", "community", "district", "street", "grid", "period", "row")
        if c in t.columns
    ]
    cols = [pl.col(c) for c in keep] + [
        pl.col("total").round(6),
        pl.col("grade").cast(pl.String),
        pl.col("next_grade").cast(pl.String),
    ]
    cols += [pl.col(f"dim.{d.id}").round(6).alias(f"{d.id}") for d in ev.model.dimensions]
    cols += [pl.col("vetoes"), pl.col("missing")]
    if detail:
        for ind in ev.model.indicators:
            cols.append(pl.col(f"ind.{ind.id}.points").round(6).alias(f"{ind.id}.points"))
            cols.append(pl.col(f"ind.{ind.id}.outcome").cast(pl.String).alias(f"{ind.id}.outcome"))
    return t.select(cols)


def _write_parquet(table, output: str) -> None:
    path = Path(output)
    tmp = path.with_name(path.name + ".zhili-tmp")
    try:
        table.write_parquet(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _echo_err(
            _("error: cannot write {path}: {err}").format(path=output, err=exc.strerror or exc)
        )
        sys.exit(EXIT_PROBLEMS)
    _echo_err(_("wrote {path}").format(path=output))


def _write_output(text: str, output: str | None, bom: bool = False) -> None:
    if output is None:
        click.echo(text)
        return
    path = Path(output)
    tmp = path.with_name(path.name + ".zhili-tmp")
    try:
        tmp.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _echo_err(
            _("error: cannot write {path}: {err}").format(path=output, err=exc.strerror or exc)
        )
        sys.exit(EXIT_PROBLEMS)
    _echo_err(_("wrote {path}").format(path=output))


def summary_text(ev, limit: int = 200) -> str:
    """The summary table (first `limit` communities), grade distribution,
    target progress and data-problem count."""
    from zhili.engine.trace.results import fmt_points

    model = ev.model
    top = model.top_dimensions
    headers = (
        [_("community"), _("street"), _("total"), _("grade")]
        + [d.label or d.id for d in top]
        + [
            _("vetoes"),
            _("missing"),
        ]
    )
    rows = []
    all_rows = ev.rows()
    for row in all_rows[:limit]:
        rows.append(
            [
                row["community"] or row["community_id"],
                row["street"] or "",
                fmt_points(round(row["total"], 2)),
                row["grade"] or "—",
            ]
            + [fmt_points(round(row[d.id], 2)) for d in top]
            + [row["vetoes"].replace(",", ", "), row["missing"] or ""]
        )
    out = [f"{model.title or model.id} ({model.id} {model.version or ''})".rstrip(), ""]
    out.append(
        render_table(
            headers, rows, right={2} | {4 + i for i in range(len(top))} | {len(headers) - 1}
        )
    )
    if len(all_rows) > limit:
        out.append(
            _("… {n} more communities (use --format csv or --output)").format(
                n=len(all_rows) - limit
            )
        )
    out.append("")
    counts = ev.grade_counts()
    n = len(ev) or 1
    out.append(_("{n} communities").format(n=len(ev)))
    for g in model.grades:
        c = counts.get(g.name, 0)
        out.append(f"  {g.name}: {c} ({c / n * 100:.0f}%)")
    if counts.get(None):
        out.append(f"  {_('no grade')}: {counts[None]}")
    for t in ev.target_progress():
        mark = "✓" if t["met"] else "✗"
        out.append(
            _("target {label}: {actual:.0f}% / {target:.0f}% {mark}").format(
                label=t["label"], actual=t["actual"] * 100, target=t["target"] * 100, mark=mark
            )
        )
    problems = [p for p in ev.dataset.problems if p.severity != "info"]
    if problems:
        out.append(_("{n} data problems").format(n=len(problems)))
    return "\n".join(out)


def render_table(headers: list[str], rows: list[list], right: set[int] = frozenset()) -> str:
    """A plain-text table whose columns line up with CJK text (wide
    characters count two cells)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(dg.cell_width(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        parts = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - dg.cell_width(c))
            parts.append(pad + c if i in right else c + pad)
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


@cli.command("explain", epilog=EPILOG)
@click.argument("model")
@click.argument("data", required=False)
@click.option(
    "-c", "--community", "community", required=True, help="Community id (社区编码) or name."
)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--encoding", help="Force the text encoding of a CSV file.")
@SHEET_OPTION
@click.pass_obj
def explain_cmd(ctx: Ctx, model, data, community, as_json, encoding, sheet):
    """Explain where every point of one community came from."""
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.trace.explain import explain_text
    from zhili.engine.trace.results import build_result

    lm = resolve_model(ctx, model)
    ds = _load_data(lm, data, encoding, False, sheet)
    compiled = compile_model(lm.model, ctx.registry.functions)
    for rec, meta in zip(ds.records, ds.meta, strict=True):
        if community in (meta.get("community_id"), meta.get("community")):
            raw = compiled.evaluate(rec, meta)
            result = build_result(raw, search=True)
            if as_json:
                click.echo(result.model_dump_json(indent=2))
            else:
                click.echo(explain_text(raw, result))
            sys.exit(EXIT_OK)
    names = [m.get("community_id") for m in ds.meta][:10]
    _echo_err(
        _("error: no community {c!r} in the data (e.g. {examples})").format(
            c=community, examples=", ".join(map(str, names))
        )
    )
    sys.exit(EXIT_PROBLEMS)


# ---------------------------------------------------------------- sample / demo


@cli.command("sample", epilog=EPILOG)
@click.argument("model")
@click.option(
    "--rows",
    type=click.IntRange(1, 10_000_000),
    default=100,
    show_default=True,
    help="Number of communities.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same data)."
)
@click.option(
    "--missing-rate",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of empty cells.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="CSV file to write."
)
@click.pass_obj
def sample_cmd(ctx: Ctx, model, rows, seed, missing_rate, output):
    """Write synthetic community data for MODEL (reproducible by seed)."""
    from zhili.engine.sample import write_sample

    lm = resolve_model(ctx, model)
    try:
        write_sample(lm.model, Path(output), rows, seed, missing_rate)
    except OSError as exc:
        _echo_err(
            _("error: cannot write {path}: {err}").format(path=output, err=exc.strerror or exc)
        )
        sys.exit(EXIT_PROBLEMS)
    _echo_err(_("wrote {n} synthetic communities to {path}").format(n=rows, path=output))


@cli.command("demo", epilog=EPILOG)
@click.argument("model", default="four_type")
@click.option("--no-tui", is_flag=True, help="Print the summary table even in a terminal.")
@click.pass_obj
def demo_cmd(ctx: Ctx, model, no_tui):
    """Evaluate a built-in model on its bundled sample data and show the results.

    In a terminal this opens the terminal UI; piped, under CI or with
    --no-tui it prints the summary table.
    """
    from zhili.engine.eval.evaluate import evaluate_dataset

    lm = resolve_model(ctx, model)
    from zhili.cli import tui as cli_tui

    if not no_tui and cli_tui.interactive() and lm.samples:
        cli_tui.run_tui(ctx, lm, lm.samples[0])
        return
    ds = _load_data(lm, None, None, False)
    ev = evaluate_dataset(lm.model, ds, ctx.registry)
    click.echo(summary_text(ev))
    click.echo()
    click.echo(
        _("Explain one community: zhili explain {model} --community {id}").format(
            model=lm.model.id, id=ev.rows()[0]["community_id"] if len(ev) else "ID"
        )
    )


# Commands of other areas live in their own modules; each has a
# `register(cli)` that adds its commands to the group.
def _register_command_modules() -> None:
    import importlib

    for name in ("runs", "tui", "district"):
        module = importlib.import_module(f"zhili.cli.{name}")
        module.register(cli)


_register_command_modules()


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="zhili", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _echo_err(_("interrupted"))
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, no traceback unless asked
        if os.environ.get("ZHILI_DEBUG"):
            raise
        _echo_err(
            _(
                "internal error: {kind}: {msg} (please report it; ZHILI_DEBUG=1 shows the traceback)"
            ).format(kind=type(exc).__name__, msg=exc)
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
