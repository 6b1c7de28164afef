"""The plan: the rules both evaluation backends must agree on, worked out once
from a checked model.

The reference interpreter (`interpreter.py`) and the vectorized backend
(`vectorized.py`) differ in how they compute — one record with Python floats,
every record at once with Polars expressions — but not in what: which points
add up into which dimension and in what order (so floating-point sums agree
to the bit), which indicators a `missing skip` policy leaves out and how the
rest is rescaled, which grades a triggered veto forbids, where an outcome
turns from fail to partial to pass, which grade is next, and which names a
grade condition may use. Those rules live here, as data, and nowhere else.
A third backend (SQL) would consume the same plan.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from zhili.dsl import model as ir
from zhili.engine.functions import round_decimal

EPS = 5e-10
"""Points within EPS of a bound count as on it: full points (within EPS of
the indicator's points) pass, no points (within EPS of 0) fail, anything
between is partial; a dimension with at most EPS points available is left
out, and one with less than its declared points (by more than EPS) is
rescaled. Half a billionth: every computed number is snapped to 9 places,
so the smallest amount a model can mean, 0.000000001, is beyond it (at
1e-9 a deduction of 0.000000001 was no deduction, and an indicator a
billionth short of its points passed)."""


@dataclass(frozen=True)
class Group:
    """The children of one dimension, or of the model's top level, as
    aggregation adds them up.

    scored points  = the points of `scored` (in order), then of each present
                     dimension of `dims` (in order)
    bonus points   = the points of `bonus` (in order), then the bonus of each
                     left-out dimension of `dims`
    available      = `available`, less the points of each missing indicator of
                     `skips` (in order), plus the available points of each
                     present dimension of `dims` (in order)

    A dimension is present when it has points available (more than 0).
    Indices are positions in `model.indicators` and `model.dimensions`."""

    scored: tuple[int, ...]  # indicators that are not bonus, in document order
    bonus: tuple[int, ...]  # bonus indicators (never rescaled)
    skips: tuple[int, ...]  # scored indicators with policy `skip`
    dims: tuple[int, ...]  # sub-dimensions
    available: float  # the points of `scored` when nothing is skipped
    declared: float  # the dimension's points; the model's total at the top level
    # a section's `max C` (合计最高): its bonus sum is at most `cap`, its
    # penalty sum (negative) at least −`cap`; None: no cap
    cap: float | None = None
    # a score that penalties (减分项) under it can take below 0 is 0 at least
    # (a dimension with points, the total); its not-scored bonus is not floored
    floor: bool = False


@dataclass(frozen=True)
class Events:
    """The events around one indicator's scoring form (前提、清零、免检), in
    the order they are decided:

    1. `zero`: a `zero when` that holds → 0 points, fail (the first that
       holds names the reason); none holds but one is unknown → the
       indicator's value is missing (its missing policy applies);
    2. `exemptions` (indices into `model.exemptions`): one that holds → full
       points, pass; an unknown one counts as not holding;
    3. `requires`: unmet → 0 points, fail; unknown → missing;
    4. else the scoring form's own value, points and outcome.

    The zero events are the indicator's own, then its dimension's, then the
    enclosing dimensions' outwards (a dimension's `zero when` zeroes every
    indicator in it, bonus ones too)."""

    zero: tuple[ir.Event, ...]
    exemptions: tuple[int, ...]
    requires: ir.Event | None


@dataclass(frozen=True)
class ResultName:
    """A name a grade condition may use (`kind` is the name itself for the
    model-wide names of `ir.RESULT_NAMES`; "dimension", "indicator" or "veto"
    with `index` into the model's list for the others; "dimension_points" for
    `points(D)`, named `ir.points_key(D)`). Outputs are not among them: they
    are computed from these, in `model.outputs` order, before the grades."""

    name: str
    kind: str
    index: int | None = None


class Plan:
    """The shared rules of one model (see the module docstring).

    Rescaling, given a group's scored points `s`, bonus `b` and available
    points `a` (see `Group`):

    - a dimension with `a <= EPS` is left out: its score is `b`, its
      available points 0 (its share is missing); with `a < declared - EPS`
      its score is `s * declared / a + b`; otherwise `s + b`, available
      `declared`;
    - the total is `s * total / a + b` when `EPS < a < total - EPS`, else
      `s + b`;
    - a section's `max C` holds `b` to at most C (bonus) or −C (penalties,
      negative) before it is added (`capped`), and a dimension with points
      or the total that penalties stand under is at least 0 (`floored`;
      not the `b` of a dimension left out, which its parent floors).

    Not scored (docs/language.md, "Missing-data policy"): a dimension with
    declared points that has no points available (`a <= EPS`) is *not
    scored* — published as missing (null, "—"), never as 0, though its
    bonus points still count in its parent; the total is not scored when
    the model declares a total and nothing at the top level is available.
    A dimension of 0 declared points (bonus only) is always scored.
    `min_dimension` is the lowest share among `min_dims` (the top-level
    dimensions with declared points) and is missing when any of them is not
    scored.
    """

    def __init__(self, model: ir.Model):
        self.model = model
        inds, dims = model.indicators, model.dimensions
        self.ind_index = {ind.id: i for i, ind in enumerate(inds)}
        self.dim_index = {d.id: i for i, d in enumerate(dims)}
        # points an indicator contributes to what is available (bonus: none)
        self.max_points = tuple(0.0 if i.is_bonus else i.points for i in inds)
        self.skip = tuple(i.missing == "skip" for i in inds)
        self.dims = tuple(self._group(d.children, d.points, d) for d in dims)
        self.top = self._group(model.top, model.total)
        # which dimensions (and the total) publish "not scored" when nothing is available
        self.scorable = tuple(d.points > EPS for d in dims)
        self.total_scorable = model.total > EPS
        self.min_dims = tuple(
            k for k, d in enumerate(dims) if d.parent is None and self.scorable[k]
        )
        # dimensions in evaluation layers, deepest first (children before parents)
        depths = sorted({d.depth for d in dims}, reverse=True)
        self.layers = tuple(
            tuple(k for k, d in enumerate(dims) if d.depth == depth) for depth in depths
        )
        self.precision: int | None = model.precision
        self.events = self._events()
        self.forbidden = self._forbidden()
        self.result_names = self._result_names()
        # the result names grade conditions and outputs read
        conditions = [g.condition for g in model.grades if g.condition is not None]
        conditions += [o.expr for o in model.outputs]
        self.grade_results = frozenset(
            node.key
            for c in conditions
            for node in ir.walk(c)
            if isinstance(node, ir.Ref) and node.scope in ("result", "points")
        )

    def publish(self, x: float) -> float:
        """A published score (an indicator's points, a dimension's score, the
        total) as the model's `precision N` rounds it: to N places, halves
        away from zero, on the decimal (`round_decimal`); unchanged without
        `precision`. Grades and every output use the published numbers."""
        if self.precision is None:
            return x
        return round_decimal(x, self.precision)

    def _group(
        self, children: list[ir.Child], declared: float, dim: ir.Dimension | None = None
    ) -> Group:
        inds = [self.ind_index[c.id] for c in children if c.kind == "indicator"]
        scored = tuple(i for i in inds if not self.model.indicators[i].is_bonus)
        return Group(
            scored=scored,
            bonus=tuple(i for i in inds if self.model.indicators[i].is_bonus),
            skips=tuple(i for i in scored if self.skip[i]),
            dims=tuple(self.dim_index[c.id] for c in children if c.kind == "dimension"),
            available=float(sum(self.max_points[i] for i in scored)),
            declared=declared,
            cap=dim.cap if dim is not None else None,
            floor=declared > EPS and self._penalties_under(children),
        )

    def _penalties_under(self, children: list[ir.Child]) -> bool:
        """Whether a penalty (减分) indicator stands among `children`, nested."""
        for c in children:
            if c.kind == "indicator" and self.model.indicators[self.ind_index[c.id]].is_penalty:
                return True
            if c.kind == "dimension":
                d = self.model.dimensions[self.dim_index[c.id]]
                if self._penalties_under(d.children):
                    return True
        return False

    def _events(self) -> tuple[Events | None, ...]:
        """Each indicator's `Events` (None when it has none), see `Events`."""
        dims = {d.id: d for d in self.model.dimensions}
        out: list[Events | None] = []
        for ind in self.model.indicators:
            zero = list(ind.zero)
            parent, seen = ind.dimension, set()
            while parent is not None and parent in dims and parent not in seen:
                seen.add(parent)
                zero.extend(dims[parent].zero)
                parent = dims[parent].parent
            exempt = tuple(
                k for k, ex in enumerate(self.model.exemptions) if ind.id in ex.indicators
            )
            if zero or exempt or ind.requires is not None:
                out.append(Events(tuple(zero), exempt, ind.requires))
            else:
                out.append(None)
        return tuple(out)

    def _forbidden(self) -> tuple[tuple[int, ...], ...]:
        """For each grade, the vetoes that forbid it when triggered: `caps G`
        forbids every grade better than G, `blocks G` forbids G itself (a
        veto naming no known grade acts on the last one)."""
        n = len(self.model.grades)
        pos = {g.name: i for i, g in enumerate(self.model.grades)}
        forbid: list[list[int]] = [[] for _ in range(n)]
        for j, v in enumerate(self.model.vetoes):
            p = pos.get(v.grade, n - 1)
            for i in range(p) if v.effect == "caps" else (p,):
                forbid[i].append(j)
        return tuple(tuple(f) for f in forbid)

    def _result_names(self) -> tuple[ResultName, ...]:
        m = self.model
        head = [ResultName(n, n) for n in ("total", "share")]
        dims = [ResultName(d.id, "dimension", k) for k, d in enumerate(m.dimensions)]
        rest = [ResultName(n, n) for n in ("min_dimension", "vetoed", "missing_count")]
        inds = [ResultName(i.id, "indicator", k) for k, i in enumerate(m.indicators)]
        vetoes = [ResultName(v.id, "veto", k) for k, v in enumerate(m.vetoes)]
        points = [
            ResultName(ir.points_key(d.id), "dimension_points", k)
            for k, d in enumerate(m.dimensions)
        ]
        names = (*head, *dims, *rest, *inds, *vetoes, *points)
        assert {r.name for r in names if r.index is None} == set(ir.RESULT_NAMES)
        return names

    def allowed(self, triggered: list[bool]) -> list[bool]:
        """Which grades the vetoes (True: triggered) still allow."""
        return [not any(triggered[j] for j in f) for f in self.forbidden]

    def next_grade_index(self, grade_index: int | None) -> int | None:
        """The grade one better than `grade_index` (None: no grade reached,
        so the next is the last one); None above the first grade."""
        current = grade_index if grade_index is not None else len(self.model.grades)
        return current - 1 if current > 0 else None

    @property
    def next_grades(self) -> list[tuple[int | None, int]]:
        """(grade index, next grade index) for every grade index that has a next."""
        n = len(self.model.grades)
        pairs = [(gi, self.next_grade_index(gi)) for gi in (None, *range(n))]
        return [(gi, nx) for gi, nx in pairs if nx is not None]


def capped(group: Group, bonus: float) -> float:
    """A section's bonus (penalty) sum held to its `max C`: at most C added,
    at most C taken (docs/language.md, "Bonus and deduction sections")."""
    cap = group.cap
    if cap is None:
        return bonus
    if bonus > cap:
        return cap
    if bonus < -cap:
        return -cap
    return bonus


def floored(group: Group, score: float) -> float:
    """A score penalties can take below 0 is 0 (`Group.floor`)."""
    if group.floor and not score > 0:
        return 0.0
    return score


def settle(outcome: ir.Outcome, published: float, full: float) -> ir.Outcome:
    """A partial outcome whose published (rounded, `precision N`) points are
    the full points or 0 is pass or fail, so the outcome agrees with the
    points shown; every other outcome stays."""
    if outcome is not ir.Outcome.PARTIAL:
        return outcome
    return outcome_of_points(published, full)


def outcome_of_points(points: float, full: float) -> ir.Outcome:
    """The outcome of a score of `points` out of `full` (tiers)."""
    if points >= full - EPS:
        return ir.Outcome.PASS
    if points <= EPS:
        return ir.Outcome.FAIL
    return ir.Outcome.PARTIAL


# ---------------------------------------------------------------- count that decides

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


def count_comparison(e: ir.Binary) -> tuple[ir.Call, str, ir.Expr] | None:
    """`count(c1, …) OP n` or `n OP count(c1, …)` as (the count, the operator
    with the count on the left, n); None for any other expression.

    Such a comparison decides when the known terms decide (docs/language.md,
    "Missing values"): with k terms known true and u unknown the count is one
    of k … k+u, and the comparison is the answer every one of them gives,
    missing when they disagree or when n is missing (`count_decides`). The
    value of `count(…)` itself stays missing when a term is."""
    if e.op not in _FLIP:
        return None
    if isinstance(e.left, ir.Call) and e.left.func == "count":
        return e.left, e.op, e.right
    if isinstance(e.right, ir.Call) and e.right.func == "count":
        return e.right, _FLIP[e.op], e.left
    return None


def count_decides(op: str, known: int, unknown: int, n: float) -> bool | None:
    """`count OP n` for a count that is one of known … known+unknown (None:
    the possible counts disagree). The vectorized backend writes the same
    rule as Polars expressions."""
    lo, hi = known, known + unknown
    if op in ("==", "!="):
        if unknown == 0:
            equal = lo == n
        elif n < lo or n > hi or n != int(n):
            equal = False  # no possible count equals n
        else:
            return None
        return equal if op == "==" else not equal
    compare = _ORDER[op]
    low_says, high_says = compare(lo, n), compare(hi, n)
    return low_says if low_says == high_says else None


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
