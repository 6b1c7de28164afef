"""Commands for data collection, reports and the run history (template, report, runs)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from zhili.dsl.i18n import _


def register(cli: click.Group) -> None:
    """Add this module's commands to the `zhili` group."""
    from zhili.cli.main import (
        BACKEND_OPTION,
        DB_OPTION,
        EPILOG,
        EXIT_OK,
        EXIT_PROBLEMS,
        NO_RECORD_OPTION,
        SHEET_OPTION,
        Ctx,
        _echo_err,
        _load_data,
        record_run,
        render_table,
        resolve_model,
    )

    @cli.command("template", epilog=EPILOG)
    @click.argument("model")
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False),
        required=True,
        help="The template to write: .xlsx (with explanations and dropdowns) or .csv.",
    )
    @click.pass_obj
    def template_cmd(ctx: Ctx, model, output):
        """Write a data-collection template for MODEL: the model's labels as
        column headers, an explanation of every field, dropdowns and ranges.
        A filled-in template evaluates with `zhili eval` as it is."""
        from zhili.engine.report.template import write_template

        path = Path(output)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            raise click.BadParameter(_("use a .xlsx or .csv file name"), param_hint="--output")
        lm = resolve_model(ctx, model)
        try:
            write_template(lm.model, path)
        except OSError as exc:
            _echo_err(
                _("error: cannot write {path}: {err}").format(path=output, err=exc.strerror or exc)
            )
            sys.exit(EXIT_PROBLEMS)
        _echo_err(_("wrote {path}").format(path=output))
        sys.exit(EXIT_OK)

    @cli.command("report", epilog=EPILOG)
    @click.argument("model")
    @click.argument("data", required=False)
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False),
        required=True,
        help="The report to write: .xlsx, .html, .md, .csv or .json.",
    )
    @click.option("--encoding", help="Force the text encoding of a CSV file (e.g. gbk).")
    @SHEET_OPTION
    @click.option("--strict", is_flag=True, help="Fail on any data problem.")
    @click.option(
        "--gaps",
        "gap_limit",
        type=click.IntRange(0, None),
        default=200,
        show_default=True,
        help="Search the smallest change to the next grade for at most N communities.",
    )
    @BACKEND_OPTION
    @DB_OPTION
    @NO_RECORD_OPTION
    @click.pass_obj
    def report_cmd(
        ctx: Ctx, model, data, output, encoding, sheet, strict, gap_limit, backend, db, no_record
    ):
        """Evaluate DATA against MODEL and write a report: summary, roll-ups by
        district and street, communities, indicators, gap analysis, data problems."""
        from zhili.engine.eval.evaluate import evaluate_dataset
        from zhili.engine.report.build import FORMATS, build_report, write_report
        from zhili.engine.runs.store import file_hash

        path = Path(output)
        if path.suffix.lower().lstrip(".") not in FORMATS:
            raise click.BadParameter(
                _("use a .xlsx, .html, .md, .csv or .json file name"), param_hint="--output"
            )
        started = time.perf_counter()
        lm = resolve_model(ctx, model)
        ds = _load_data(lm, data, encoding, strict, sheet)
        ev = evaluate_dataset(lm.model, ds, ctx.registry, backend=backend, detail=True)
        for w in ev.warnings:
            _echo_err(_("warning: {msg}").format(msg=w))
        run_id = record_run(
            ev,
            "report",
            {
                "backend": backend,
                "sheet": sheet,
                "encoding": encoding,
                "strict": strict,
                "output": str(path),
            },
            db,
            no_record,
            started,
        )
        data_path = Path(ds.file)
        report = build_report(
            ev,
            gap_limit=gap_limit,
            run_id=run_id,
            data_hash=file_hash(data_path) if data_path.is_file() else None,
        )
        try:
            write_report(report, path)
        except OSError as exc:
            _echo_err(
                _("error: cannot write {path}: {err}").format(path=output, err=exc.strerror or exc)
            )
            sys.exit(EXIT_PROBLEMS)
        _echo_err(_("wrote {path}").format(path=output))
        sys.exit(EXIT_OK)

    # ------------------------------------------------------------ runs

    @cli.group("runs", epilog=EPILOG)
    @DB_OPTION
    @click.pass_context
    def runs_group(click_ctx, db):
        """The run history: every recorded `eval` and `report`."""
        click_ctx.obj.runs_db = db

    def open_store(ctx: Ctx):
        from zhili.engine.runs.store import RunStore, RunStoreError, default_path

        db = getattr(ctx, "runs_db", None)
        path = Path(db) if db else default_path()
        if not path.exists():
            _echo_err(
                _("error: no run database at {path} (nothing recorded yet)").format(path=path)
            )
            sys.exit(EXIT_PROBLEMS)
        try:
            return RunStore(path)
        except RunStoreError as exc:
            _echo_err(_("error: {msg}").format(msg=exc))
            sys.exit(EXIT_PROBLEMS)

    def find_run(store, ref: str):
        info = store.resolve(ref)
        if info is None:
            _echo_err(_("error: no run {ref!r} in {path}").format(ref=ref, path=store.path))
            sys.exit(EXIT_PROBLEMS)
        return info

    def grade_text(counts: dict) -> str:
        return ", ".join(f"{g} {n}" for g, n in counts.items())

    @runs_group.command("list", epilog=EPILOG)
    @click.option("--model", "model_id", help="Only runs of this model.")
    @click.option("-n", "--limit", type=click.IntRange(1, None), default=20, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_obj
    def runs_list(ctx: Ctx, model_id, limit, as_json):
        """The most recent runs, newest first."""
        with open_store(ctx) as store:
            runs = store.runs(model_id, limit)
        if as_json:
            click.echo(json.dumps([r.__dict__ for r in runs], ensure_ascii=False, indent=2))
            sys.exit(EXIT_OK)
        click.echo(
            render_table(
                [
                    _("run"),
                    _("time"),
                    _("command"),
                    _("model"),
                    _("version"),
                    _("data"),
                    _("communities"),
                    _("grades"),
                ],
                [
                    [
                        r.id,
                        r.created_at[:19].replace("T", " "),
                        r.command,
                        r.model_id,
                        r.model_version or "",
                        Path(r.data_path).name if r.data_path else "",
                        r.communities,
                        grade_text(r.grade_counts),
                    ]
                    for r in runs
                ],
                right={0, 6},
            )
        )
        sys.exit(EXIT_OK)

    @runs_group.command("show", epilog=EPILOG)
    @click.argument("run")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (with every community).")
    @click.option(
        "-n",
        "--limit",
        type=click.IntRange(0, None),
        default=50,
        show_default=True,
        help="Communities to list.",
    )
    @click.pass_obj
    def runs_show(ctx: Ctx, run, as_json, limit):
        """One run: what was evaluated, with which model and data, and its results.

        RUN is a run id, `latest`, `previous` or `latest~N`."""
        with open_store(ctx) as store:
            info = find_run(store, run)
            results = store.results(info.id)
        if as_json:
            rows = results.to_dicts()
            for r in rows:
                r["dimensions"] = json.loads(r["dimensions"])
                r["indicators"] = json.loads(r["indicators"])
            click.echo(
                json.dumps(
                    {"run": info.__dict__, "communities": rows}, ensure_ascii=False, indent=2
                )
            )
            sys.exit(EXIT_OK)
        facts = [
            (_("run"), info.id),
            (_("time"), info.created_at),
            (_("command"), info.command),
            (_("model"), f"{info.model_id} {info.model_version or ''}".strip()),
            (_("model content hash"), info.model_hash),
            (_("data file"), info.data_path or ""),
            (_("data sha256"), info.data_hash or ""),
            (_("engine version"), info.engine_version),
            (
                _("options"),
                json.dumps(
                    {
                        k: v
                        for k, v in info.options.items()
                        if k != "grades" and v not in (None, False)
                    },
                    ensure_ascii=False,
                ),
            ),
            (_("communities"), info.communities),
            (_("grades"), grade_text(info.grade_counts)),
            (_("data problems"), info.problems),
        ]
        from zhili.dsl.diagnostics import cell_width

        width = max(cell_width(k) for k, _v in facts)  # 模型 is two cells wide
        for k, v in facts:
            click.echo(f"{k}{' ' * (width - cell_width(k))}  {v}")
        if limit and results.height:
            click.echo()
            shown = results.head(limit)
            click.echo(
                render_table(
                    [
                        _("community id"),
                        _("community"),
                        _("street"),
                        _("total"),
                        _("grade"),
                        _("vetoes"),
                        _("missing"),
                    ],
                    [
                        [
                            r["community_id"],
                            r["community"] or "",
                            r["street"] or "",
                            f"{r['total']:.2f}",
                            r["grade"] or "—",
                            r["vetoes"] or "",
                            r["missing"] or "",
                        ]
                        for r in shown.iter_rows(named=True)
                    ],
                    right={3, 6},
                )
            )
            if results.height > limit:
                click.echo(
                    _("… {n} more communities (use --json)").format(n=results.height - limit)
                )
        sys.exit(EXIT_OK)

    @runs_group.command("diff", epilog=EPILOG)
    @click.argument("run_a")
    @click.argument("run_b")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.option(
        "-n",
        "--limit",
        type=click.IntRange(1, None),
        default=100,
        show_default=True,
        help="Indicator moves to list.",
    )
    @click.pass_obj
    def runs_diff(ctx: Ctx, run_a, run_b, as_json, limit):
        """What changed from RUN_A to RUN_B: communities that changed grade and
        indicators that moved (matched by community id)."""
        from zhili.engine.runs.store import diff_runs

        with open_store(ctx) as store:
            a = find_run(store, run_a)
            b = find_run(store, run_b)
            d = diff_runs(store, a, b)
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "a": a.id,
                        "b": b.id,
                        "grade_changes": d.grade_changes,
                        "indicator_moves": d.indicator_moves,
                        "added": d.added,
                        "removed": d.removed,
                        "unchanged": d.unchanged,
                        "total_moves": d.total_moves,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            sys.exit(EXIT_OK)
        click.echo(
            _("run {a} ({ma} {va}) → run {b} ({mb} {vb})").format(
                a=a.id,
                ma=a.model_id,
                va=a.model_version or "",
                b=b.id,
                mb=b.model_id,
                vb=b.model_version or "",
            )
        )
        if a.model_hash != b.model_hash:
            click.echo("  " + _("the model changed (content hash differs)"))
        if a.data_hash != b.data_hash:
            click.echo("  " + _("the data changed (sha256 differs)"))
        up = sum(1 for c in d.grade_changes if c["better"])
        down = sum(1 for c in d.grade_changes if c["better"] is False)
        click.echo(
            _(
                "grade changed: {n} communities ({up} up, {down} down); total changed: {m}; "
                "unchanged: {same}"
            ).format(n=len(d.grade_changes), up=up, down=down, m=d.total_moves, same=d.unchanged)
        )
        if d.added:
            click.echo(_("only in run {b}: {ids}").format(b=b.id, ids=", ".join(d.added[:20])))
        if d.removed:
            click.echo(_("only in run {a}: {ids}").format(a=a.id, ids=", ".join(d.removed[:20])))
        if d.grade_changes:
            click.echo()
            click.echo(
                render_table(
                    [_("community id"), _("community"), _("grade"), "", _("total")],
                    [
                        [
                            c["community_id"],
                            c["community"],
                            f"{c['from'] or '—'} → {c['to'] or '—'}",
                            "↑" if c["better"] else ("↓" if c["better"] is False else ""),
                            f"{c['total_a']:.2f} → {c['total_b']:.2f}",
                        ]
                        for c in d.grade_changes
                    ],
                )
            )
        if d.indicator_moves:
            click.echo()
            moves = d.indicator_moves[:limit]
            click.echo(
                render_table(
                    [_("community id"), _("indicator"), _("points"), _("outcome")],
                    [
                        [
                            m["community_id"],
                            m["indicator"],
                            f"{_fmt(m['points_a'])} → {_fmt(m['points_b'])}",
                            f"{m['outcome_a'] or '—'} → {m['outcome_b'] or '—'}",
                        ]
                        for m in moves
                    ],
                )
            )
            if len(d.indicator_moves) > limit:
                click.echo(
                    _("… {n} more indicator moves (use --json or --limit)").format(
                        n=len(d.indicator_moves) - limit
                    )
                )
        sys.exit(EXIT_OK)


def _fmt(v) -> str:
    if v is None:
        return "—"
    return f"{v:g}"
