"""The checked model: a typed, resolved intermediate representation (pydantic).

The checker builds it from the AST; evaluation backends compile it. Every
expression carries its type, its source text and its span, so results can be
explained in the words of the model file.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhili.dsl.ast import Span
from zhili.dsl.i18n import N_, _

TypeName = Literal["int", "number", "percent", "bool", "text", "date", "enum", "set", "any"]
Policy = Literal["zero", "skip"]

# The names a grade condition may use besides the model's own dimensions
# (their shares, percent), indicators (their points) and vetoes (triggered),
# with their types: the checker types them, the evaluation plan provides them.
RESULT_NAMES: dict[str, TypeName] = {
    "total": "number",
    "share": "percent",
    "min_dimension": "percent",
    "vetoed": "bool",
    "missing_count": "int",
}
ITEM_RESULT_TYPES: dict[str, TypeName] = {
    "dimension": "percent",
    "indicator": "number",
    "veto": "bool",
}


class Outcome(StrEnum):
    """An indicator's outcome. The string is the stable JSON and table form;
    every other encoding is derived here and nowhere else: `code` (the integer
    in the vectorized backend's outcome columns, the declaration order),
    `letter` (the run store's compact form), `mark` (the sign explanations
    and the TUI show) and `text()` (the word, in the current language)."""

    PASS = "pass"
    PARTIAL = "partial"
    FAIL = "fail"
    MISSING = "missing"
    VETOED = "vetoed"

    @property
    def code(self) -> int:
        return _OUTCOME_ORDER.index(self)

    @property
    def letter(self) -> str:
        return _OUTCOME_LETTERS[self]

    @property
    def mark(self) -> str:
        return _OUTCOME_MARKS[self]

    @property
    def word(self) -> str:
        """The English catalog message for the outcome (see `text`)."""
        return _OUTCOME_WORDS[self]

    def text(self) -> str:
        """The outcome's word in the current language."""
        return _(self.word)

    @classmethod
    def from_code(cls, code: int) -> Outcome:
        return _OUTCOME_ORDER[code]

    @classmethod
    def from_letter(cls, letter: str) -> Outcome:
        return _OUTCOME_BY_LETTER[letter]


_OUTCOME_ORDER: tuple[Outcome, ...] = tuple(Outcome)
_OUTCOME_LETTERS = {
    Outcome.PASS: "p",
    Outcome.PARTIAL: "a",
    Outcome.FAIL: "f",
    Outcome.MISSING: "m",
    Outcome.VETOED: "v",
}
_OUTCOME_BY_LETTER = {letter: o for o, letter in _OUTCOME_LETTERS.items()}
_OUTCOME_MARKS = {
    Outcome.PASS: "✓",
    Outcome.PARTIAL: "~",
    Outcome.FAIL: "✗",
    Outcome.MISSING: "?",
    Outcome.VETOED: "!",
}
_OUTCOME_WORDS = {
    Outcome.PASS: N_("pass"),
    Outcome.PARTIAL: N_("partial"),
    Outcome.FAIL: N_("fail"),
    Outcome.MISSING: N_("missing"),
    Outcome.VETOED: N_("vetoed"),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The IR's spans are the AST's `Span` (one definition of a source region);
# pydantic validates and serializes the dataclass like a model.
SrcSpan = Span


# ---------------------------------------------------------------- expressions


class _ExprBase(_Frozen):
    type: TypeName
    text: str = ""
    span: SrcSpan | None = None


class Const(_ExprBase):
    kind: Literal["const"] = "const"
    value: Any = None  # int | float | str | bool | date | None


class Ref(_ExprBase):
    """A name: an input, a definition, or (in grade conditions and outputs) a
    result, an output, or `points(D)`, the points dimension D earned (scope
    "points"; `points(I)` of an indicator is the indicator's result)."""

    kind: Literal["ref"] = "ref"
    name: str
    scope: Literal["input", "let", "result", "output", "points"]

    @property
    def key(self) -> str:
        """The name of the value in an evaluation environment: the name
        itself, `points(D)` for a dimension's points."""
        return points_key(self.name) if self.scope == "points" else self.name


def points_key(dimension_id: str) -> str:
    """The environment name of the points dimension `dimension_id` earned."""
    return f"points({dimension_id})"


class Unary(_ExprBase):
    kind: Literal["unary"] = "unary"
    op: Literal["-", "not"]
    operand: Expr


class Binary(_ExprBase):
    kind: Literal["binary"] = "binary"
    op: Literal["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"]
    left: Expr
    right: Expr


class InList(_ExprBase):
    kind: Literal["in"] = "in"
    operand: Expr
    options: list[Expr]
    negated: bool = False


class Cond(_ExprBase):
    kind: Literal["if"] = "if"
    cond: Expr
    then: Expr
    orelse: Expr


class Call(_ExprBase):
    kind: Literal["call"] = "call"
    func: str
    args: list[Expr]


Expr = Annotated[Const | Ref | Unary | Binary | InList | Cond | Call, Field(discriminator="kind")]

for _cls in (Unary, Binary, InList, Cond, Call):
    _cls.model_rebuild()


# ---------------------------------------------------------------- declarations


class InputField(_Frozen):
    id: str
    type: TypeName
    label: str | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    required: bool = True
    values: list[str] = Field(default_factory=list)  # enum and set values
    note: str | None = None
    # a percent input whose data write plain numbers as fractions (0.85 is
    # 85%, 1 is 100%; a plain number above 1 is a data problem): `fractions`
    fractions: bool = False
    span: SrcSpan | None = None
    # `previous NAME`: this input is last period's value of input NAME (same
    # type); the data carry it as a column of its own, or `zhili eval
    # --previous RUN` fills it from a recorded run's values of NAME
    previous: str | None = None


class Definition(_Frozen):
    id: str
    label: str | None = None
    expr: Expr
    type: TypeName
    span: SrcSpan | None = None


class Output(_Frozen):
    """`output ID "label" = EXPR`: a value computed after scoring from the
    results (what a grade condition may use), inputs, definitions and other
    outputs; a per-community column of every results output. `type` is int,
    number, percent, bool or text."""

    id: str
    label: str | None = None
    expr: Expr
    type: TypeName
    span: SrcSpan | None = None

    @property
    def name(self) -> str:
        return self.label or self.id


class Tier(_Frozen):
    op: Literal[">=", ">", "<=", "<", "==", "!="] | None  # None: else
    threshold: Expr | None = None
    points: float


class _Scoring(_Frozen):
    """What every scoring form has: `value` is the condition (pass,
    bonus_when), the measured value (linear, tiers) or the occurrence count
    (deduct, bonus_per). `form` (each subclass's literal) is the discriminator
    of the serialized form."""

    value: Expr
    span: SrcSpan | None = None

    # bonus points are earned on top of the declared total, never rescaled
    is_bonus: ClassVar[bool] = False
    # a 减分 item (`Penalty`): bonus-like, but its points are what it takes, negative
    is_penalty: ClassVar[bool] = False

    def exprs(self) -> list[Expr]:
        """Every expression of the form: the value, then bounds or thresholds."""
        return [self.value]


class PassWhen(_Scoring):
    """`pass when c`: full points when the condition holds, else 0."""

    form: Literal["pass"] = "pass"


class BonusWhen(_Scoring):
    """`bonus when c`: the indicator's points as a bonus when c holds."""

    form: Literal["bonus_when"] = "bonus_when"
    is_bonus: ClassVar[bool] = True


class Linear(_Scoring):
    """`linear v from low to high`: 0 points at `low`, full at `high`, partial
    credit in between."""

    form: Literal["linear"] = "linear"
    low: Expr
    high: Expr

    def exprs(self) -> list[Expr]:
        return [self.value, self.low, self.high]


class Tiers(_Scoring):
    """`tiers v { >= t: p … else: q }`: the first tier that holds gives its
    points, none gives `else_points`."""

    form: Literal["tiers"] = "tiers"
    tiers: list[Tier] = Field(default_factory=list)
    else_points: float = 0.0

    def exprs(self) -> list[Expr]:
        return [self.value, *(t.threshold for t in self.tiers if t.threshold is not None)]


class Deduct(_Scoring):
    """`deduct per per n max cap`: full points less `per` for each occurrence,
    at most `cap` (the indicator's points when absent)."""

    form: Literal["deduct"] = "deduct"
    per: float
    cap: float | None = None


class BonusPer(_Scoring):
    """`bonus per per n max cap`: `per` bonus points for each occurrence, at
    most `cap` (the indicator's points when absent)."""

    form: Literal["bonus_per"] = "bonus_per"
    per: float
    cap: float | None = None
    is_bonus: ClassVar[bool] = True


class Score(_Scoring):
    """`score v by "机构"`: points given by another body: the value clamped
    to [0, points] (a value outside is a data problem, and is clamped);
    pass at full points, fail at 0, partial between. `by` names the body
    (评分单位), None when not said."""

    form: Literal["score"] = "score"
    by: str | None = None


class DeductCause(_Frozen):
    """One cause of a `Deductions` form. `kind`: "per" (`amount` per
    occurrence of the count `value`), "when" (`amount` once when the condition
    `value` holds), "below"/"above" (`amount` per whole `step` of shortfall
    under / excess over `threshold`; `part`: a started step counts), "tiers"
    (the points of the first tier that holds are deducted, else
    `else_points`). `cap`: the cause's own `max`."""

    kind: Literal["per", "when", "below", "above", "tiers"]
    value: Expr
    label: str | None = None
    amount: float = 0.0
    cap: float | None = None
    step: float | None = None
    part: bool = False
    threshold: Expr | None = None
    tiers: list[Tier] = Field(default_factory=list)
    else_points: float = 0.0
    span: SrcSpan | None = None

    def exprs(self) -> list[Expr]:
        out = [self.value]
        if self.threshold is not None:
            out.append(self.threshold)
        out.extend(t.threshold for t in self.tiers if t.threshold is not None)
        return out


class Deductions(_Scoring):
    """`deduct [max cap] { cause … }` and the one-line `deduct D when C`,
    `deduct D per S of V below|above T`, `deduct tiers V {…}`: full points
    less min(sum of the causes' deductions, `cap`), never below 0; `cap` is
    the indicator's points when absent. Any cause's value missing makes the
    indicator missing. `value` is the first cause's value (the indicator's
    reported value is the points deducted, a number)."""

    form: Literal["deductions"] = "deductions"
    causes: list[DeductCause] = Field(min_length=1)
    cap: float | None = None

    def exprs(self) -> list[Expr]:
        return [e for c in self.causes for e in c.exprs()]


class Penalty(Deductions):
    """`penalty CAUSE` / `penalty [max cap] { cause … }`, a 减分 item: the
    causes of `Deductions`, what they take (min(sum, `cap`); no limit of its
    own when `cap` is None) taken from the parent's score — the total at the
    top level — outside the points budget: the indicator's points are
    −taken (0 when nothing is taken; the indicator declares no points, its
    `points` is 0). Pass when nothing is taken, else fail. A subclass of
    `Deductions` so that the causes read, explain and search the same way;
    `match` it before `Deductions` wherever the two differ."""

    form: Literal["penalty"] = "penalty"  # type: ignore[assignment]
    is_bonus: ClassVar[bool] = True  # outside the points budget, never rescaled
    is_penalty: ClassVar[bool] = True


Scoring = Annotated[
    PassWhen | BonusWhen | Linear | Tiers | Deduct | BonusPer | Score | Penalty | Deductions,
    Field(discriminator="form"),
]
"""One scoring form; dispatch with `match` on the classes."""


class Event(_Frozen):
    """A condition around a scoring form (前提、清零): `requires C "label"` (the
    indicator's gate) or `zero when C "label"` (an event that zeroes the
    item). `text` is the condition as written, for explanations."""

    condition: Expr
    label: str | None = None
    span: SrcSpan | None = None

    @property
    def name(self) -> str:
        return self.label or self.condition.text


class Exemption(_Frozen):
    """`exempt ID "label" from NAME, … when C` (免检): when C holds, each of
    `indicators` (resolved: a named dimension stands for every indicator in
    it, nested) gets full points, outcome pass. `names` are the names as
    written; `dimension` is where the statement stands (None: model level)."""

    id: str
    label: str | None = None
    condition: Expr
    names: list[str] = Field(default_factory=list)
    indicators: list[str] = Field(default_factory=list)
    dimension: str | None = None
    span: SrcSpan | None = None

    @property
    def name(self) -> str:
        return self.label or self.id


class Indicator(_Frozen):
    id: str
    label: str | None = None
    points: float
    scoring: Scoring
    missing: Policy = "zero"
    dimension: str | None = None  # the enclosing dimension; None at the top level
    source: str | None = None
    note: str | None = None
    span: SrcSpan | None = None
    # events around the scoring form (see `Plan.events` for the precedence)
    requires: Event | None = None  # `requires C`: unmet → 0 points, fail
    zero: list[Event] = Field(default_factory=list)  # `zero when C`: holds → 0, fail
    method: str | None = None  # `method "查资料"`: how the item is checked (考核方式)

    @property
    def is_bonus(self) -> bool:
        """Outside the points budget: a bonus or a penalty (减分) item."""
        return self.scoring.is_bonus

    @property
    def is_penalty(self) -> bool:
        """A 减分 item (`penalty …`): its points are negative, what it takes."""
        return self.scoring.is_penalty

    @property
    def name(self) -> str:
        return self.label or self.id


class Veto(_Frozen):
    id: str
    label: str | None = None
    condition: Expr
    effect: Literal["caps", "blocks"]
    grade: str
    dimension: str | None = None
    source: str | None = None
    note: str | None = None
    span: SrcSpan | None = None

    @property
    def name(self) -> str:
        return self.label or self.id


class Child(_Frozen):
    kind: Literal["dimension", "indicator", "veto"]
    id: str


class Dimension(_Frozen):
    id: str
    label: str | None = None
    points: float
    parent: str | None = None
    depth: int = 0
    children: list[Child] = Field(default_factory=list)
    missing: Policy = "zero"
    source: str | None = None
    note: str | None = None
    span: SrcSpan | None = None
    # `zero when C` in the dimension: zeroes every indicator in it (nested, bonus too)
    zero: list[Event] = Field(default_factory=list)
    # `max C` on a section of bonus (or penalty) items: their sum adds (takes)
    # at most C; the items keep the points they earned (合计最高加5分)
    cap: float | None = None
    # "bonus" or "penalty" for a section (0 points, only such items), else None
    section: Literal["bonus", "penalty"] | None = None

    @property
    def name(self) -> str:
        return self.label or self.id


class Grade(_Frozen):
    name: str
    condition: Expr | None = None  # None: otherwise
    span: SrcSpan | None = None


class Target(_Frozen):
    label: str | None = None
    grade: str
    share: float
    by: dt.date | None = None
    span: SrcSpan | None = None


class Expectation(_Frozen):
    kind: Literal[
        "grade", "total", "dimension", "indicator", "veto", "no_veto", "missing", "output"
    ]
    target: str | None = None
    text: str | None = None
    value: float | None = None
    within: float | None = None
    outcome: Outcome | None = None
    span: SrcSpan | None = None
    missing: bool = False  # total/dimension: expected not scored (`expect total missing`)
    literal: Any = None  # `expect output ID VALUE`: the value (int, float, str, bool, date)


class TestCase(_Frozen):
    __test__ = False  # not a pytest class

    name: str
    model: str
    given: dict[str, Any] | None = None  # input id → value (None: missing)
    data: str | None = None  # path relative to the test file
    community: str | None = None
    expectations: list[Expectation] = Field(default_factory=list)
    file: str
    span: SrcSpan | None = None


class Model(_Frozen):
    id: str
    title: str | None = None
    version: str | None = None
    issuer: str | None = None
    source: str | None = None
    effective: dt.date | None = None
    description: str | None = None
    total: float
    missing: Policy = "zero"
    # `precision N`: published scores (points, dimension scores, the total)
    # rounded to N places, halves away from zero; None: not rounded
    precision: int | None = None
    extends: str | None = None
    inputs: list[InputField] = Field(default_factory=list)
    lets: list[Definition] = Field(default_factory=list)  # dependency order
    outputs: list[Output] = Field(default_factory=list)  # dependency order
    dimensions: list[Dimension] = Field(default_factory=list)  # pre-order
    top: list[Child] = Field(default_factory=list)  # top-level dimensions/indicators/vetoes
    indicators: list[Indicator] = Field(default_factory=list)  # document order
    vetoes: list[Veto] = Field(default_factory=list)
    exemptions: list[Exemption] = Field(default_factory=list)  # 免检, document order
    grades: list[Grade] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    tests: list[TestCase] = Field(default_factory=list)
    path: str | None = None
    content_hash: str = ""

    @property
    def name(self) -> str:
        return self.title or self.id

    def input(self, id: str) -> InputField | None:
        for f in self.inputs:
            if f.id == id:
                return f
        return None

    def output(self, id: str) -> Output | None:
        for o in self.outputs:
            if o.id == id:
                return o
        return None

    def indicator(self, id: str) -> Indicator | None:
        for i in self.indicators:
            if i.id == id:
                return i
        return None

    def dimension(self, id: str) -> Dimension | None:
        for d in self.dimensions:
            if d.id == id:
                return d
        return None

    @property
    def top_dimensions(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.parent is None]

    @property
    def grade_names(self) -> list[str]:
        return [g.name for g in self.grades]


def event_exprs(model: Model):
    """Every condition of the model's events: each indicator's `requires` and
    `zero when`, each dimension's `zero when`, each exemption's condition."""
    for ind in model.indicators:
        if ind.requires is not None:
            yield ind.requires.condition
        for z in ind.zero:
            yield z.condition
    for d in model.dimensions:
        for z in d.zero:
            yield z.condition
    for ex in model.exemptions:
        yield ex.condition


def walk(expr: Expr):
    """Yield every node of an expression, parents before children."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.right, node.left))
        elif isinstance(node, InList):
            stack.extend(reversed(node.options))
            stack.append(node.operand)
        elif isinstance(node, Cond):
            stack.extend((node.orelse, node.then, node.cond))
        elif isinstance(node, Call):
            stack.extend(reversed(node.args))
