"""Compare: this data file against another (grade changes first) and, when
the run store exists, the grade distribution over the recorded runs."""

from __future__ import annotations

import importlib.util

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from zhili.tui.labels import t
from zhili.tui.session import Session
from zhili.tui.widgets.vtable import Column, VirtualTable, fit


def runs_available() -> bool:
    return importlib.util.find_spec("zhili.engine.runs.store") is not None


def run_trend(session: Session, limit: int = 12) -> Text | None:
    """The grade distribution of the model's recorded runs, oldest first;
    None when there is no run store (or it cannot be read)."""
    if not runs_available():
        return None
    try:
        from zhili.engine.runs.store import RunStore

        with RunStore(migrate=False) as store:
            runs = list(reversed(store.runs(session.model.id, limit=limit)))
    except Exception:  # no database yet, locked, older schema: no history
        return None
    out = Text()
    out.append(t("Trend of grades over runs") + "\n", "bold underline")
    if not runs:
        out.append(t("no other run of this model is recorded") + "\n", "dim")
        return out
    grades = [g.name for g in session.model.grades]
    widths = [max(6, *(len(str(r.id)) for r in runs))] + [max(len(g) * 2, 6) for g in grades]
    out.append(fit(t("Run"), widths[0]) + " " + fit(t("Time"), 16))
    for g, w in zip(grades, widths[1:], strict=True):
        out.append("  " + fit(g, w, True))
    out.append("\n")
    for r in runs:
        n = r.communities or 1
        out.append(fit(str(r.id), widths[0]) + " " + fit(r.created_at[:16], 16))
        for g, w in zip(grades, widths[1:], strict=True):
            c = r.grade_counts.get(g, 0)
            out.append("  " + fit(f"{c / n * 100:.0f}%", w, True))
        out.append("\n")
    return out


def compare_frame(model, a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Communities of two results tables (an evaluation's, a recorded
    run's) side by side, joined by id, else by name; the ones whose grade
    changed first."""

    def has_ids(t_: pl.DataFrame) -> bool:
        return (
            "community_id" in t_.columns and t_.get_column("community_id").null_count() < t_.height
        )

    key = "community_id" if has_ids(a) and has_ids(b) else "community"
    rank = {g.name: k for k, g in enumerate(model.grades)}

    def side(t_, suffix):
        cols = [pl.col(key)]
        if key != "community" and "community" in t_.columns:
            cols.append(pl.col("community").alias(f"community{suffix}"))
        for c in ("district", "street"):
            if c in t_.columns:
                cols.append(pl.col(c).cast(pl.String).alias(f"{c}{suffix}"))
        grade = pl.col("grade").cast(pl.String)
        cols += [
            grade.alias(f"grade{suffix}"),
            grade.replace_strict(rank, default=None, return_dtype=pl.Int64).alias(f"gi{suffix}"),
            pl.col("total").round(2).alias(f"total{suffix}"),
        ]
        return t_.select(cols)

    f = side(a, "_a").join(side(b, "_b"), on=key, how="full", coalesce=True)
    name = (
        pl.coalesce("community_a", "community_b")
        if "community_a" in f.columns and "community_b" in f.columns
        else pl.col(key)
    )
    places = [
        pl.coalesce(f"{c}_a", f"{c}_b").alias(c)
        for c in ("district", "street")
        if f"{c}_a" in f.columns and f"{c}_b" in f.columns
    ]
    f = f.with_columns(
        *places,
        name.alias("community"),
        (pl.col("grade_a").fill_null("") != pl.col("grade_b").fill_null("")).alias("changed"),
        (pl.col("gi_a") - pl.col("gi_b")).alias("better"),
        (pl.col("total_b") - pl.col("total_a")).round(2).alias("delta"),
    )
    out = f.sort(["changed", "better"], descending=[True, True], nulls_last=True)
    keep = ["community"] + ([key] if key != "community" else [])
    keep += [c for c in ("district", "street") if c in out.columns]
    return out.select(keep + ["grade_a", "grade_b", "total_a", "total_b", "delta", "changed"])


class ComparePane(Vertical):
    DEFAULT_CSS = """
    ComparePane #compare-trend { height: auto; max-height: 14; padding: 0 1; }
    ComparePane #compare-status { height: auto; padding: 0 1; }
    ComparePane #compare-path { width: 1fr; }
    """

    def __init__(self, session: Session, **kw) -> None:
        super().__init__(**kw)
        self.session = session
        self.frame: pl.DataFrame | None = None

    def compose(self) -> ComposeResult:
        trend = run_trend(self.session)
        if trend is not None:
            yield Static(trend, id="compare-trend")
        yield Static(
            Text(
                t(
                    "Compare with another data file or a recorded run: type its path or run id and press Enter (Esc: leave)."
                )
            ),
            id="compare-status",
        )
        yield Input(
            placeholder=t("Other data file, or a recorded run (12, latest)"), id="compare-path"
        )
        yield VirtualTable(id="compare-table")

    def on_mount(self) -> None:
        if self.session.other is not None:
            self.show_other()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "compare-path" and event.value.strip():
            event.stop()
            self.app.load_other(event.value.strip())

    def show_error(self, message: str) -> None:
        self.query_one("#compare-status", Static).update(Text(message, style="red"))

    def refresh_view(self) -> None:
        """After the district/street filter changed."""
        if self.session.other is not None:
            self.show_other()

    def show_other(self) -> None:
        other = self.session.other
        if other is None:
            return
        session = self.session
        self.frame = session.in_filter(compare_frame(session.model, session.ev.table, other.table))
        changed = int(self.frame.get_column("changed").sum())
        status = Text()
        status.append(f"{session.ev.dataset.file}  →  {other.label}\n")
        status.append(f"{changed} {t('communities changed grade')}", "bold")
        self.query_one("#compare-status", Static).update(status)
        cols = [
            Column("community", t("Community")),
            Column("grade_a", f"{t('Grade')} {t('Before')}"),
            Column("grade_b", f"{t('Grade')} {t('After')}"),
            Column("total_a", f"{t('Total')} {t('Before')}", right=True),
            Column("total_b", f"{t('Total')} {t('After')}", right=True),
            Column("delta", t("Change"), right=True),
        ]
        self.query_one("#compare-table", VirtualTable).set_data(self.frame.drop("changed"), cols)
