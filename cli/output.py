"""How results are shown: plain-text tables that line up with CJK text, the
evaluation summary, the results table for csv/parquet, and writing output."""

from __future__ import annotations

import errno
import sys

import click

from zhili.cli.context import ZhiliError, echo_err, write_error
from zhili.dsl import diagnostics as dg
from zhili.dsl.i18n import _


def output_table(ev, detail: bool):
    """The results table with readable column names, for csv/parquet."""
    import polars as pl

    from zhili.engine.eval import columns
    from zhili.engine.functions import pl_snap

    t = ev.table
    keep = [
        c
        for c in (
            "community_id",
            "community",
            "district",
            "street",
            "grid",
            "period",
            "row",
            "source",
        )
        if c in t.columns
    ]
    cols = [pl.col(c) for c in keep] + [
        pl_snap(pl.col("total")),  # computed numbers have at most 9 places
        pl.col("grade").cast(pl.String),
        pl.col("next_grade").cast(pl.String),
    ]
    cols += [pl_snap(pl.col(columns.dim_score(d.id))).alias(f"{d.id}") for d in ev.model.dimensions]
    cols += output_columns(ev.model, taken=set(keep) | {d.id for d in ev.model.dimensions})
    cols += [pl.col("vetoes"), pl.col("missing")]
    if detail:
        for ind in ev.model.indicators:
            cols.append(pl_snap(pl.col(columns.ind_points(ind.id))).alias(f"{ind.id}.points"))
            cols.append(
                pl.col(columns.ind_outcome(ind.id)).cast(pl.String).alias(f"{ind.id}.outcome")
            )
    return t.select(cols)


def output_columns(model, taken: set[str]) -> list:
    """The outputs' columns for csv/parquet, under their labels (the id when
    there is none, `out.<id>` when the label is another column's name)."""
    import polars as pl

    from zhili.engine.eval import columns
    from zhili.engine.functions import pl_snap

    cols = []
    for o in model.outputs:
        name = o.label or o.id
        if name in taken or name in ("total", "grade", "next_grade", "vetoes", "missing"):
            name = columns.output_col(o.id)
        taken.add(name)
        col = pl.col(columns.output_col(o.id))
        cols.append((pl_snap(col) if o.type in ("number", "percent") else col).alias(name))
    return cols


def write_parquet(table, output: str) -> None:
    """`table` as a Parquet file `output`, written atomically."""
    write_frame(table.write_parquet, output)


def write_csv(table, output: str | None) -> None:
    """`table` as CSV, its text cells neutralised (`safe.csv_frame`): into the
    file `output` with a BOM for Excel, atomically, written by Polars from the
    frame (no text of the whole table in memory); on standard output when
    `output` is None."""
    from zhili.engine.report import safe

    frame = safe.csv_frame(table)
    if output is None:
        write_output(frame.write_csv(), None)
        return
    write_frame(lambda fh: frame.write_csv(fh, include_bom=True), output)


def write_csv_batches(frames, output: str, then=None) -> None:
    """`write_csv` into the file `output` of a table given as row batches
    (`engine.eval.stream`): each batch written as it comes, the BOM and the
    header before the first, the same bytes as the whole table's. `then()`
    runs once every batch is written, before the file is renamed into
    place (what it raises leaves no file)."""
    from zhili.engine.report import safe

    def write_to(fh) -> None:
        for k, frame in enumerate(frames):
            safe.csv_frame(frame).write_csv(fh, include_header=k == 0, include_bom=k == 0)
            del frame
        if then is not None:
            then()

    write_frame(write_to, output)


def write_parquet_batches(frames, schema, output: str, then=None) -> None:
    """`write_parquet` of a table given as row batches of `schema`
    (`engine.eval.stream`), written as they come into one file; `then` as
    for `write_csv_batches`."""
    from zhili.engine.eval.stream import sink_parquet

    def write_to(fh) -> None:
        sink_parquet(frames, schema, fh)
        if then is not None:
            then()

    write_frame(write_to, output)


def write_frame(write_to, output: str) -> None:
    """`write_to(binary file)` fills the file `output`, atomically (a Polars
    writer: `DataFrame.write_parquet`, `write_csv`); its errors are clear."""
    import io
    from pathlib import Path

    import polars as pl

    from zhili.engine.io.atomic import atomic_write

    def fill(path: Path) -> None:
        if path.is_file():
            with open(path, "wb") as fh:  # a file object: Polars then reports the OS error
                write_to(fh)
            return
        buf = io.BytesIO()  # a device or FIFO: Polars would hide why writing failed
        write_to(buf)
        with open(path, "wb") as fh:
            fh.write(buf.getbuffer())

    def write(path: Path) -> None:
        try:
            fill(path)
        except KeyboardInterrupt:
            _one_interrupt()
            raise

    try:
        atomic_write(output, write)
    except OSError as exc:
        raise write_error(output, exc) from exc
    except pl.exceptions.PolarsError as exc:
        raise ZhiliError(
            _("error: cannot write {path}: {err}").format(path=output, err=exc)
        ) from exc
    echo_err(_("wrote {path}").format(path=output))


def _one_interrupt() -> None:
    """After Ctrl-C stopped a Polars writer. Polars may notice the signal
    first and raise its own KeyboardInterrupt ("query interrupted") while
    zhili's SIGINT handler is still to run: it would run at the next Python
    call, in the middle of the cleanup that removes the temporary file (left
    behind). It runs here instead, and the one Ctrl-C is one interrupt."""
    for _attempt in range(3):
        try:
            _pending_signals_run()
        except KeyboardInterrupt:
            return


def _pending_signals_run() -> None:
    """Nothing: calling a Python function runs the pending signal handlers."""


def write_output(text: str, output: str | None, bom: bool = False) -> None:
    """`text` on stdout, or into the file `output` (atomically; a BOM for Excel's CSV)."""
    if output is None:
        try:
            click.echo(text)
            sys.stdout.flush()
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader went away (`| head`): main() is quiet
                raise
            raise write_error(_("standard output"), exc) from exc
        return
    from zhili.engine.io.atomic import write_text

    try:
        write_text(output, text, encoding="utf-8-sig" if bom else "utf-8")
    except OSError as exc:
        raise write_error(output, exc) from exc
    echo_err(_("wrote {path}").format(path=output))


def summary_text(ev, limit: int = 200) -> str:
    """The summary table (first `limit` communities), grade distribution,
    target progress and data-problem count."""
    from zhili.engine.eval import columns
    from zhili.engine.trace.results import fmt_output

    model = ev.model
    top = model.top_dimensions
    headers = (
        [_("community"), _("street"), _("total"), _("grade")]
        + [d.label or d.id for d in top]
        + [o.name for o in model.outputs]
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
                # as the grade compared it (docs/language.md, "Numbers")
                _points(row["total"]),
                row["grade"] or "—",
            ]
            + [_points(row[d.id]) for d in top]
            + [fmt_output(row[columns.output_col(o.id)], o.type) for o in model.outputs]
            + [row["vetoes"].replace(",", ", "), row["missing"] or ""]
        )
    out = [f"{model.title or model.id} ({model.id} {model.version or ''})".rstrip(), ""]
    out.append(
        render_table(
            headers,
            rows,
            right={2}
            | {4 + i for i in range(len(top))}
            | {4 + len(top) + k for k, o in enumerate(model.outputs) if o.type != "text"}
            | {len(headers) - 1},
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


def _points(p: float | None) -> str:
    """Points as the grade compared them; "—" when not scored (never 0)."""
    from zhili.engine.trace.results import fmt_points

    return fmt_points(p)


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
