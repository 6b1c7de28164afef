"""The overview: header facts, grade distribution bars, dimension averages,
target progress. Rendered as plain `rich.text.Text` (never markup)."""

from __future__ import annotations

import polars as pl
from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from zhili.engine.eval import columns
from zhili.tui.labels import t
from zhili.tui.session import Session
from zhili.tui.widgets.vtable import fit

GRADE_STYLES = ["bold green", "cyan", "yellow", "red", "magenta", "blue"]


def grade_style(i: int | None, n: int) -> str:
    if i is None:
        return "dim"
    if i == n - 1 and n > 1:
        return "red"
    return GRADE_STYLES[min(i, len(GRADE_STYLES) - 1)]


def overview_text(s: Session, width: int = 80) -> Text:
    m = s.model
    f = s.filtered()
    n = f.height
    out = Text()
    where = " / ".join(x for x in (s.district, s.street) if x)
    out.append(f"{n} {t('communities')}", "bold")
    if where:
        out.append(f"  ({where})")
    probs = s.problems_frame().height
    out.append(f"    {probs} {t('data problems')}\n", "yellow" if probs else "dim")
    if s.round is not None:
        completeness_text(s, out)

    # targets first: the figure staff look for
    if m.targets:
        pos = {g.name: i for i, g in enumerate(m.grades)}
        for tg in m.targets:
            limit = pos.get(tg.grade, -1)
            reached = f.filter(pl.col("grade_index") <= limit).height if n else 0
            actual = reached / n if n else 0.0
            met = actual >= tg.share - 1e-12
            out.append(f"{t('Targets')}: ", "bold")
            out.append(f"{tg.grade} {actual * 100:.0f}% / {t('target')} {tg.share * 100:.0f}%  ")
            out.append(t("met") if met else t("not met"), "green" if met else "red")
            if tg.label and tg.label != tg.grade:
                out.append(f"  {tg.label}", "dim")
            out.append("\n")

    # grade distribution
    out.append(f"\n{t('Grade distribution')}\n", "bold underline")
    counts = dict(f.group_by("grade").len().iter_rows()) if n else {}
    names = [g.name for g in m.grades] + ([None] if counts.get(None) else [])
    label_w = max([cell_len(x or t("no grade")) for x in names] + [4])
    bar_w = max(min(width - label_w - 20, 60), 10)
    top = max(counts.values(), default=0) or 1
    for i, g in enumerate(names):
        c = counts.get(g, 0)
        share = c / n * 100 if n else 0.0
        out.append("  " + fit(g or t("no grade"), label_w) + "  ")
        out.append(f"{c:>7} {share:>4.0f}%  ")
        out.append("█" * round(c / top * bar_w), grade_style(i if g else None, len(m.grades)))
        out.append("\n")

    # dimensions
    top_dims = m.top_dimensions
    if top_dims and n:
        out.append(f"\n{t('Dimensions')}\n", "bold underline")
        dlabels = [d.label or d.id for d in top_dims]
        dw = max(cell_len(x) for x in dlabels + [t("Dimensions")])
        heads = [t("Average"), t("Spread"), t("Min"), t("Max")]
        out.append(
            "  " + fit("", dw) + "".join("  " + fit(h, 8, True) for h in heads) + "\n", "dim"
        )
        stats = f.select(
            [
                e
                for d in top_dims
                for e in (
                    pl.col(columns.dim_score(d.id)).mean().alias(f"{d.id}.mean"),
                    pl.col(columns.dim_score(d.id)).std().alias(f"{d.id}.std"),
                    pl.col(columns.dim_score(d.id)).min().alias(f"{d.id}.min"),
                    pl.col(columns.dim_score(d.id)).max().alias(f"{d.id}.max"),
                    pl.col(columns.dim_score(d.id)).null_count().alias(f"{d.id}.none"),
                )
            ]
        ).row(0, named=True)
        for d, label in zip(top_dims, dlabels, strict=True):
            pts = d.points or 1.0
            vals = []
            for k in ("mean", "std", "min", "max"):
                v = stats[f"{d.id}.{k}"]
                vals.append("-" if v is None else f"{v / pts * 100:.1f}%")
            out.append("  " + fit(label, dw) + "".join("  " + fit(v, 8, True) for v in vals))
            out.append(f"   / {d.points:g}", "dim")
            if stats[f"{d.id}.none"]:  # the statistics are of the scored communities
                out.append("  " + t("{n} not scored").format(n=stats[f"{d.id}.none"]), "magenta")
            out.append("\n")

    # the model
    out.append("\n")
    out.append(m.title or m.id, "bold")
    out.append(f"  ({m.id} {m.version or ''})".replace(" )", ")") + "\n")
    for label, value in ((t("Issuer"), m.issuer), (t("Source"), m.source)):
        if value:
            out.append(f"{label}: ", "dim")
            out.append(str(value) + "\n")
    return out


STREETS_SHOWN = 12  # the streets of a round listed in the overview (the lowest rates first)


def completeness_text(s: Session, out: Text) -> None:
    """A round's reporting rate (in the filter) and its streets', lowest first."""
    expected, reported, streets = s.completeness()
    rate = reported / expected if expected else 0.0
    out.append(f"{t('Completeness')}: ", "bold")
    out.append(
        t("{reported} of {expected} communities reported ({rate})").format(
            reported=reported, expected=expected, rate=f"{rate:.1%}"
        )
        + "\n",
        "green" if reported == expected else "yellow",
    )
    behind = sorted(
        (x for x in streets if x[2] < x[1]), key=lambda x: (x[2] / x[1] if x[1] else 0, x[0])
    )
    if len(streets) > 1 or behind:
        for name, exp, rep in behind[:STREETS_SHOWN]:
            out.append(f"  {name}  {rep}/{exp}  {rep / exp if exp else 0:.0%}\n", "yellow")
        if len(behind) > STREETS_SHOWN:
            out.append("  " + t("and {n} more").format(n=len(behind) - STREETS_SHOWN) + "\n", "dim")


class Overview(Static):
    DEFAULT_CSS = """
    Overview { padding: 0 1; height: auto; }
    """

    def __init__(self, session: Session, **kw) -> None:
        super().__init__("", **kw)
        self.session = session

    def on_mount(self) -> None:
        self.refresh_view()

    def on_resize(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        self.update(overview_text(self.session, max(self.size.width, 40)))
