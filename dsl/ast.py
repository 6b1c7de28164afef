"""The syntax tree of a `.gov` file: frozen dataclasses, each with a source span.

The parser converts Lark's parse tree into these nodes once; nothing downstream
looks at grammar rule names. The checker reads this tree and never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Union


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file. Lines and columns are 1-based (columns count
    characters, not bytes or terminal cells); offsets are 0-based character
    offsets into the file's text, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<none>", 1, 1, 1, 1, 0, 0)


def _span_field():
    # Spans never take part in equality: two trees that differ only in layout
    # are the same model (this is what the formatter round trip relies on).
    return field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Number:
    value: float | int
    text: str
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Percent:
    """`95%`: the share 0.95. `text` keeps what was written ("95")."""

    value: float
    text: str
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class DateLit:
    """`2024-06-30`. `value` is None for an impossible date (2024-02-30),
    which the checker reports; `text` keeps what was written."""

    value: date | None
    text: str
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / == != < <= > >= and or
    left: Expr
    right: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class In:
    operand: Expr
    options: tuple[Expr, ...]
    negated: bool
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class InSet:
    """`"养老" in 服务领域`: whether a set input's value holds a listed value."""

    operand: Expr
    set: Name
    negated: bool
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Expr
    orelse: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span = _span_field()
    func_span: Span = _span_field()


Expr = Union[Number, Percent, String, Bool, DateLit, Name, Unary, Binary, In, InSet, If, Call]


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Ident:
    """An identifier where it is declared, with its own span."""

    id: str
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class TypeRef:
    name: str  # int number percent bool text date enum set
    values: tuple[str, ...] = ()
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Input:
    name: Ident
    type: TypeRef
    label: String | None = None
    unit: String | None = None
    range: tuple[Number | Percent, Number | Percent] | None = None
    required: bool | None = None  # None: not said (the model default applies)
    note: String | None = None
    fractions: bool = False  # `fractions`: plain numbers in data are fractions (0.85 = 85%)
    span: Span = _span_field()
    previous: Ident | None = None  # `previous NAME`: last period's value of input NAME


@dataclass(frozen=True, slots=True)
class Let:
    name: Ident
    label: String | None
    expr: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Output:
    """`output ID "label" = EXPR`: a value computed from the results."""

    name: Ident
    label: String | None
    expr: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Tier:
    op: str | None  # None for `else`
    threshold: Expr | None
    points: Number
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class PassWhen:
    cond: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Linear:
    value: Expr
    low: Expr
    high: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Tiers:
    value: Expr
    tiers: tuple[Tier, ...]
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Deduct:
    per: Number
    count: Expr
    cap: Number | None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class BonusPer:
    per: Number
    count: Expr
    cap: Number | None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class BonusWhen:
    cond: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class DeductCause:
    """One cause of a deduction (扣分): `D per V` (kind "per"), `D when C`
    ("when"), `D per S [or part] of V below|above T` ("below"/"above"), or
    `tiers V { … }` ("tiers", the tier points are deducted)."""

    kind: str  # "per" | "when" | "below" | "above" | "tiers"
    amount: Number | None  # D; None for tiers
    value: Expr  # the count, the condition or the measured value
    label: String | None = None
    cap: Number | None = None  # the cause's own `max C`
    step: Expr | None = None  # S of the step forms
    part: bool = False  # `or part`: a started step counts as a whole one
    threshold: Expr | None = None  # T of the step forms
    tiers: tuple[Tier, ...] = ()
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Deductions:
    """`deduct [max C] { cause … }` (block) or one cause on one line
    (`deduct D when C`, `deduct D per S of V below T`, `deduct tiers V {…}`)."""

    causes: tuple[DeductCause, ...]
    cap: Number | None  # the block's `max C`
    block: bool
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Penalty:
    """`penalty CAUSE` or `penalty [max C] { CAUSE … }` (a 减分 item): the
    causes of a deduction, what they take taken from the parent's score (the
    total at the top level), outside the points budget."""

    causes: tuple[DeductCause, ...]
    cap: Number | None  # the block's `max C`
    block: bool
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Score:
    """`score V by "机构"`: points given by another body, V clamped to the
    indicator's points."""

    value: Expr
    by: String | None
    span: Span = _span_field()


Scoring = Union[PassWhen, Linear, Tiers, Deduct, BonusPer, BonusWhen, Score, Deductions, Penalty]


@dataclass(frozen=True, slots=True)
class Requires:
    """`requires C "label"` in an indicator: a gate before its scoring form
    (unmet: 0 points, outcome fail)."""

    cond: Expr
    label: String | None = None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class ZeroWhen:
    """`zero when C "label"` in an indicator or a dimension: an event that
    zeroes the item (every indicator of the dimension, nested, bonus too)."""

    cond: Expr
    label: String | None = None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Exempt:
    """`exempt ID "label" from NAME, NAME … when C` at model level or in a
    dimension: the named indicators (a dimension: every indicator in it) get
    full points when C holds."""

    name: Ident
    label: String | None
    targets: tuple[Ident, ...]
    cond: Expr
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Indicator:
    name: Ident
    label: String | None
    points: Number | None  # None: not written (only a `penalty` item has none)
    scorings: tuple[Scoring, ...]  # exactly one is valid; the checker says so
    missing: str | None = None
    source: String | None = None
    note: String | None = None
    span: Span = _span_field()
    # events around the scoring form (前提、清零), in the order written
    requires: tuple[Requires, ...] = ()  # at most one is valid; the checker says so
    zero: tuple[ZeroWhen, ...] = ()
    method: String | None = None  # `method "查资料"`: how the item is checked (考核方式)


@dataclass(frozen=True, slots=True)
class Veto:
    name: Ident
    label: String | None
    cond: Expr
    effect: str | None  # "caps" | "blocks" | None (caps at the lowest grade)
    grade: String | None
    source: String | None = None
    note: String | None = None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Dimension:
    name: Ident
    label: String | None
    points: Number | None
    weight: Percent | None
    missing: str | None
    items: tuple[Dimension | Indicator | Veto | Exempt, ...]
    source: String | None = None
    note: String | None = None
    span: Span = _span_field()
    zero: tuple[ZeroWhen, ...] = ()  # `zero when C`: zeroes every indicator in it
    cap: Number | None = None  # `max C`: the most its bonus (penalty) items add (take)


@dataclass(frozen=True, slots=True)
class GradeRule:
    name: String
    cond: Expr | None  # None: otherwise
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Grades:
    rules: tuple[GradeRule, ...]
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Target:
    label: String | None
    grade: String
    op: str
    share: Percent
    by: DateLit | None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Override:
    """`override X points 3 ...` or `drop X` in a model that `extends` another."""

    name: Ident
    drop: bool
    points: Number | None = None
    scoring: Scoring | None = None
    label: String | None = None
    span: Span = _span_field()
    # `override X requires C` / `zero when C`: replace the base's gate / zero events
    requires: Requires | None = None
    zero: tuple[ZeroWhen, ...] = ()


@dataclass(frozen=True, slots=True)
class GradeOverride:
    """`override grade "旧" label "新"` / `override grade "G" when EXPR` in a
    model that `extends` another: rename a grade or change its condition."""

    grade: String
    label: String | None = None
    cond: Expr | None = None
    span: Span = _span_field()


# ---------------------------------------------------------------- tests


@dataclass(frozen=True, slots=True)
class Missing:
    """The literal `missing` in a test's `given` block."""

    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class ListLit:
    """`["养老", "托幼"]` in a test's `given`: the value of a set input."""

    items: tuple[String, ...]
    span: Span = _span_field()


Literal = Union[Number, Percent, String, Bool, DateLit, Missing, ListLit]


@dataclass(frozen=True, slots=True)
class Assign:
    name: Ident
    value: Literal
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Expectation:
    """`expect ...`: kind is grade | total | dimension | indicator | veto |
    no_veto | missing. `missing` on a total or dimension: it is expected
    not to be scored (`expect dimension X missing`)."""

    kind: str
    target: Ident | None = None
    text: String | None = None
    value: Number | Percent | None = None
    within: Number | None = None
    outcome: str | None = None
    span: Span = _span_field()
    missing: bool = False
    literal: Literal | None = None  # `expect output ID VALUE`: the value expected


@dataclass(frozen=True, slots=True)
class TestCase:
    name: String
    given: tuple[Assign, ...] | None
    data: String | None
    community: String | None
    expectations: tuple[Expectation, ...]
    span: Span = _span_field()


# ---------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class Import:
    path: String
    alias: Ident | None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Extends:
    base: Ident
    version: String | None
    span: Span = _span_field()


@dataclass(frozen=True, slots=True)
class Meta:
    """A header statement: title, version, issuer, source, effective, total,
    missing, precision, description."""

    key: str
    value: String | Number | DateLit | str
    span: Span = _span_field()


Item = Union[
    Meta,
    Input,
    Let,
    Output,
    Dimension,
    Indicator,
    Veto,
    Grades,
    Target,
    TestCase,
    Override,
    GradeOverride,
    Exempt,
]


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: Ident
    title: String | None
    extends: Extends | None
    imports: tuple[Import, ...]
    items: tuple[Item, ...]
    span: Span = _span_field()
    # `given { … }` among the model's own tests: the values they start from
    baseline: tuple[Assign, ...] | None = None


@dataclass(frozen=True, slots=True)
class TestsFile:
    model: Ident
    imports: tuple[Import, ...]
    tests: tuple[TestCase, ...]
    span: Span = _span_field()
    # `given { … }` before the tests: values every test starts from (its own
    # `given` overrides them); None when the suite has none
    baseline: tuple[Assign, ...] | None = None


@dataclass(frozen=True, slots=True)
class LibraryFile:
    """`library ID`: shared inputs and definitions that models `import`."""

    name: Ident
    title: String | None
    imports: tuple[Import, ...]
    items: tuple[Meta | Input | Let, ...]
    span: Span = _span_field()


File = Union[ModelFile, TestsFile, LibraryFile]
