"""The floor: the generated benchmark model written directly as one Polars
query, without zhili's compiler (what an engineer would write by hand for this
one model). It computes what the backend computes for the summary table:
every indicator's points, dimension scores with the `missing skip` rescaling,
the total, vetoes and the grade; nulls are missing values. Numbers follow
docs/language.md ("Numbers") as the backend must: every non-integer
arithmetic result snapped to 9 decimal places (`_snap`), a definition made
null where it is not finite — so the ratio to this floor stays honest."""

from __future__ import annotations

import polars as pl

from zhili.dsl import model as ir


def _snap(e: pl.Expr) -> pl.Expr:
    return e.round(9, mode="half_away_from_zero")


def _finite(e: pl.Expr) -> pl.Expr:
    return pl.when(e.is_finite()).then(e)


def _c(e: ir.Expr) -> pl.Expr:
    """Direct translation of the few expression shapes genmodel emits."""
    if e.kind == "const":
        return pl.lit(
            float(e.value)
            if isinstance(e.value, (int, float)) and not isinstance(e.value, bool)
            else e.value
        )
    if e.kind == "ref":
        return pl.col(f"in.{e.name}") if e.scope == "input" else pl.col(f"let.{e.name}")
    if e.kind == "binary":
        a, b = _c(e.left), _c(e.right)
        return {
            ">=": a >= b,
            "<=": a <= b,
            ">": a > b,
            "<": a < b,
            "and": a & b,
            "or": a | b,
            "+": _snap(a + b),
        }[e.op]
    if e.kind == "call" and e.func == "ratio":
        a, b = _c(e.args[0]), _c(e.args[1])
        return _snap(a / b)
    if e.kind == "call" and e.func == "per_10k":
        a, b = _c(e.args[0]), _c(e.args[1])
        return _snap(a * 10000 / b)
    raise NotImplementedError(e.kind)


def handwritten_query(model: ir.Model, lf: pl.LazyFrame) -> pl.LazyFrame:
    lets = [_finite(_c(d.expr)).alias(f"let.{d.id}") for d in model.lets]
    lf = lf.with_columns(lets)
    points = {}
    missing = {}
    for ind in model.indicators:
        s = ind.scoring
        v = _c(s.value)
        p = float(ind.points)
        if s.form in ("pass", "bonus_when"):
            pts = pl.when(v).then(p).otherwise(0.0)
        elif s.form == "linear":
            lo, hi = float(s.low.value), float(s.high.value)
            pts = _snap(_snap(v - lo) * p / (hi - lo)).clip(0.0, p)
        elif s.form == "tiers":
            chain = None
            for t in s.tiers:
                cond = v >= float(t.threshold.value)
                chain = (pl.when(cond) if chain is None else chain.when(cond)).then(float(t.points))
            pts = chain.otherwise(float(s.else_points))
        elif s.form == "deduct":
            taken = _snap(float(s.per) * v.clip(lower_bound=0)).clip(upper_bound=float(s.cap or p))
            pts = _snap(p - taken)
        else:  # bonus_per
            pts = _snap(float(s.per) * v.clip(lower_bound=0)).clip(upper_bound=float(s.cap or p))
        points[ind.id] = pts.fill_null(0.0)
        missing[ind.id] = v.is_null()
    lf = lf.with_columns(
        [e.alias(f"p.{k}") for k, e in points.items()]
        + [e.alias(f"m.{k}") for k, e in missing.items()]
    )
    dims = []
    for d in model.top_dimensions:
        inds = [c.id for c in d.children if c.kind == "indicator"]
        earned = pl.sum_horizontal([pl.col(f"p.{i}") for i in inds])
        avail = pl.sum_horizontal(
            [
                pl.when(pl.col(f"m.{i}")).then(0.0).otherwise(model.indicator(i).points)
                if model.indicator(i).missing == "skip"
                else pl.lit(model.indicator(i).points)
                for i in inds
            ]
        )
        dims.append(_snap(_snap(earned) * float(d.points) / _snap(avail)).alias(f"dim.{d.id}"))
    lf = lf.with_columns(dims)
    bonus = [pl.col(f"p.{i.id}") for i in model.indicators if i.is_bonus and i.dimension is None]
    total = _snap(pl.sum_horizontal([pl.col(f"dim.{d.id}") for d in model.top_dimensions] + bonus))
    vetoed = pl.any_horizontal([_c(v.condition).fill_null(False) for v in model.vetoes])
    min_dim = pl.min_horizontal(
        [_snap(pl.col(f"dim.{d.id}") / float(d.points)) for d in model.top_dimensions]
    )
    grade = (
        pl.when(~vetoed & (min_dim >= 0.8))
        .then(pl.lit("优秀"))
        .when(~vetoed & (pl.col("total") >= len(model.top_dimensions) * 70))
        .then(pl.lit("良好"))
        .when(pl.col("total") >= len(model.top_dimensions) * 50)
        .then(pl.lit("合格"))
        .otherwise(pl.lit("不合格"))
    )
    lf = lf.with_columns(total.alias("total"), vetoed.alias("vetoed"), min_dim.alias("min_dim"))
    return lf.select(
        pl.col("total"),
        grade.alias("grade"),
        *[pl.col(f"dim.{d.id}") for d in model.top_dimensions],
    )
