"""`zhili runs`: the run history — every recorded `eval` and `report`,
listed, shown and compared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from zhili.cli.context import EPILOG, Ctx, ZhiliError
from zhili.cli.options import DB_OPTION, JSON_OPTION
from zhili.cli.output import render_table
from zhili.dsl.diagnostics import cell_width
from zhili.dsl.i18n import _


@click.group("runs", epilog=EPILOG)
@DB_OPTION
@click.pass_context
def runs_group(click_ctx, db):
    """The run history: every recorded `eval` and `report`."""
    click_ctx.obj.runs_db = db


@contextmanager
def _open_store(ctx: Ctx) -> Iterator:
    """The run database of `runs --db` (else the default one), which must
    exist; a damaged database, found while reading, is an error too."""
    from zhili.engine.runs.store import RunStore, RunStoreError, default_path

    path = Path(ctx.runs_db) if ctx.runs_db else default_path()
    if not path.exists():
        raise ZhiliError(
            _("error: no run database at {path} (nothing recorded yet)").format(path=path)
        )
    try:
        with RunStore(path) as store:
            yield store
    except RunStoreError as exc:
        raise ZhiliError(_("error: {msg}").format(msg=exc)) from exc


def _find_run(store, ref: str):
    info = store.resolve(ref)
    if info is None:
        raise ZhiliError(_("error: no run {ref!r} in {path}").format(ref=ref, path=store.path))
    return info


def _grade_text(counts: dict) -> str:
    return ", ".join(f"{g} {n}" for g, n in counts.items())


@runs_group.command("list", epilog=EPILOG)
@click.option("--model", "model_id", help="Only runs of this model.")
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(1, None),
    default=20,
    show_default=True,
    help="Runs to list.",
)
@JSON_OPTION
@click.pass_obj
def runs_list(ctx: Ctx, model_id, limit, as_json):
    """The most recent runs, newest first."""
    with _open_store(ctx) as store:
        runs = store.runs(model_id, limit)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in runs], ensure_ascii=False, indent=2))
        return
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
                    _grade_text(r.grade_counts),
                ]
                for r in runs
            ],
            right={0, 6},
        )
    )


@runs_group.command("show", epilog=EPILOG)
@click.argument("run")
@JSON_OPTION
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

    RUN is a run id, `latest`, `previous` or `latest~N`; --json lists every community."""
    with _open_store(ctx) as store:
        info = _find_run(store, run)
        if as_json:
            _show_json(info, store.iter_results(info.id))
            return
        results = store.results(info.id, detail=False)
    facts = _run_facts(info)
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
                        _total_text(r["total"]),
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
            click.echo(_("… {n} more communities (use --json)").format(n=results.height - limit))


def _show_json(info, frames) -> None:
    """`{"run": …, "communities": […]}` as `json.dumps(…, indent=2)` prints
    it, written a few thousand communities at a time as they are read (a
    million communities as one list of dicts took gigabytes)."""
    import itertools

    frames = iter(frames)
    ahead = next(frames, None)  # every stored part is checked before the first rows
    head = json.dumps({"run": info.__dict__}, ensure_ascii=False, indent=2)
    click.echo(head[: -len("\n}")] + ',\n  "communities": [', nl=False)
    first = True
    for frame in itertools.chain([] if ahead is None else [ahead], frames):
        rows = []
        for r in frame.iter_rows(named=True):
            r["dimensions"] = json.loads(r["dimensions"])
            r["indicators"] = json.loads(r["indicators"])
            # a run of a model without outputs (or recorded before them) lists none
            outputs = json.loads(r.pop("outputs"))
            if outputs:
                r["outputs"] = outputs
            rows.append(
                "\n    " + json.dumps(r, ensure_ascii=False, indent=2).replace("\n", "\n    ")
            )
        if rows:
            click.echo(("" if first else ",") + ",".join(rows), nl=False)
            first = False
    click.echo("]\n}" if first else "\n  ]\n}")


@runs_group.command("diff", epilog=EPILOG)
@click.argument("run_a")
@click.argument("run_b")
@JSON_OPTION
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

    with _open_store(ctx) as store:
        a = _find_run(store, run_a)
        b = _find_run(store, run_b)
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
        return
    _print_diff(a, b, d, limit)


def _fmt(v) -> str:
    if v is None:
        return "—"
    return f"{v:g}"


def _run_facts(info) -> list[tuple[str, object]]:
    """What `runs show` says about a run, label by label."""
    return [
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
                {k: v for k, v in info.options.items() if k != "grades" and v not in (None, False)},
                ensure_ascii=False,
            ),
        ),
        (_("communities"), info.communities),
        (_("grades"), _grade_text(info.grade_counts)),
        (_("data problems"), info.problems),
    ]


def _print_diff(a, b, d, limit: int) -> None:
    """`runs diff` as text: the runs, what changed, then the grade changes and indicator moves."""
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
        click.echo(_grade_change_table(d.grade_changes))
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


def _total_text(total: float | None) -> str:
    """A stored total to two places; "—" when it was not scored (never 0)."""
    return "—" if total is None else f"{total:.2f}"


def _grade_change_table(changes: list[dict]) -> str:
    return render_table(
        [_("community id"), _("community"), _("grade"), "", _("total")],
        [
            [
                c["community_id"],
                c["community"],
                f"{c['from'] or '—'} → {c['to'] or '—'}",
                "↑" if c["better"] else ("↓" if c["better"] is False else ""),
                f"{_total_text(c['total_a'])} → {_total_text(c['total_b'])}",
            ]
            for c in changes
        ],
    )
