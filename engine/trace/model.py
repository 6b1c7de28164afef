"""The stable JSON form of one community's result (pydantic models), and how
values and points are written for people (`fmt_value`, `fmt_points`).

The results, explanation and gap modules all build on these; nothing here
imports them.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_DOWN, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.engine.functions import Missing, decimal_text

RESULT_SCHEMA_VERSION = 3
"""2: an indicator's `points`, a dimension's `score` and the community's
`total` and `share` are null when not scored (`missing skip` left them out,
or left nothing in them), never 0.
3: `outputs`, the model's outputs (`output ID "label" = EXPR`) in the model's
order: `id`, `label`, `type` (int, number, percent, bool, text) and `value`
(null when missing; a percent as its share, 0.8 for 80%)."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorResult(_Result):
    id: str
    label: str | None = None
    dimension: str | None = None
    value: Any = None  # null when missing
    points: float | None  # None: not scored (missing, and `missing skip` left it out)
    max_points: float
    bonus: bool = False
    penalty: bool = False  # a 减分 item: its points (≤ 0) are what it takes from its parent
    outcome: ir.Outcome
    reason: str


class VetoResult(_Result):
    id: str
    label: str | None = None
    dimension: str | None = None
    triggered: bool | None  # None: its condition could not be evaluated
    effect: str
    grade: str
    reason: str


class DimensionResult(_Result):
    id: str
    label: str | None = None
    parent: str | None = None
    depth: int = 0
    score: float | None  # None: not scored (nothing in it could be scored)
    max_points: float
    share: float | None  # None when not scored (or it has no points)
    missing: int = 0  # indicators with missing values inside it
    # a section's `max C` (合计最高) and what its items earned (took) before it
    cap: float | None = None
    earned: float | None = None


class OutputResult(_Result):
    """One output's value (`output ID "label" = EXPR`)."""

    id: str
    label: str | None = None
    type: str
    value: Any = None  # null: missing


class GapItem(_Result):
    """One way towards the next grade."""

    kind: str  # "veto" | "condition" | "indicator" | "change" (one input changed)
    id: str | None = None  # the veto, indicator or (for "change") input
    label: str | None = None
    current: Any = None
    needed: Any = None
    points_available: float | None = None
    text: str
    indicators: list[str] = Field(default_factory=list)  # "change": indicators it moves


class Gap(_Result):
    next_grade: str
    items: list[GapItem] = Field(default_factory=list)


class CommunityResult(_Result):
    schema_version: int = RESULT_SCHEMA_VERSION
    model: str
    model_version: str | None = None
    community_id: str | None = None
    community: str | None = None
    district: str | None = None
    street: str | None = None
    total: float | None  # None: not scored (nothing in the model could be scored)
    max_total: float
    share: float | None
    grade: str | None
    vetoes_triggered: list[str] = Field(default_factory=list)
    missing_count: int = 0
    dimensions: list[DimensionResult] = Field(default_factory=list)
    indicators: list[IndicatorResult] = Field(default_factory=list)
    vetoes: list[VetoResult] = Field(default_factory=list)
    outputs: list[OutputResult] = Field(default_factory=list)
    gap: Gap | None = None
    trace: dict[str, Any] = Field(default_factory=dict)  # inputs and definitions
    missing_reasons: dict[str, str] = Field(default_factory=dict)


def jsonable(v: Any) -> Any:
    if v.__class__ is Missing or v is None:
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 12)
    return v


def fmt_value(v: Any, type_name: str | None = None, exact: bool = False) -> str:
    """A value as staff read it: 95.5%, 是/否, 12, 3.25. A number of more than
    6 significant digits is cut (not rounded) to 4, whole places kept, and
    marked "…": `ratio(34, 37)` is 91.89…%, 19.996001599 is 19.99…, never 20
    beside a condition `>= 20` it fails (docs/language.md, "Numbers"); one
    of at most 6 (6901.4, 79.996%) is shown whole.
    `exact`: every place (17.92, 3.333333333, 91.8918919%), as a gap's "is
    X, needs Y" says it."""
    if v.__class__ is Missing or v is None:
        return _("missing")
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, (int, float)) and (type_name == "percent" or isinstance(v, float)):
        pct = type_name == "percent"
        full = fmt_points(round(v * 100, 7) if pct else v)
        return (full if exact else _cut(full)) + ("%" if pct else "")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _cut(text: str) -> str:
    """A decimal's text of more than 6 significant digits cut to 4 (its whole
    places all kept), with "…" when that drops any."""
    d = Decimal(text)
    if not d or d == d.to_integral_value() or len(d.as_tuple().digits) <= 6:
        return text  # a value as data gives it (6901.4, 0.8525) is shown whole
    quantum = Decimal(1).scaleb(min(d.adjusted() - 3, 0))
    cut = d.quantize(quantum, rounding=ROUND_DOWN)
    return text if cut == d else f"{cut}…"


NOT_SCORED_MARK = "—"
"""How every output shows points that are not scored (never 0)."""


def fmt_output(v: Any, type_name: str) -> str:
    """An output's value (`output ID = …`) in a table: "—" when missing,
    numbers to every place they have, shares as percentages, 是/否."""
    if v.__class__ is Missing or v is None:
        return NOT_SCORED_MARK
    if type_name == "percent" and isinstance(v, (int, float)):
        return fmt_points(round(v * 100, 7)) + "%"
    if type_name in ("int", "number") and isinstance(v, (int, float)):
        return fmt_points(v)
    return fmt_value(v, type_name)


def fmt_points(p: float | None) -> str:
    """Points as they compare (docs/language.md, "Numbers"): every computed
    number is a decimal of at most 9 places, so all of them are printed,
    trailing zeros trimmed (8, 17.92, 3.333333333); a model's `precision N`
    has already rounded published scores to N places. Rounding here to
    fewer places would print 8 for 7.996, which `total >= 8` refuses.
    "—" when not scored."""
    if p is None:
        return NOT_SCORED_MARK
    if not math.isfinite(p):  # (no model computes one: snapped values are finite)
        return str(p)
    if p == int(p):
        return str(int(p))
    return decimal_text(p)
