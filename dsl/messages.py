"""The wording of every diagnostic, one factory per kind (cel-go's
`checker/errors.go` in spirit). Codes are stable; messages are translated.

Each code is declared once in `zhili.dsl.codes` (severity, phase, summary);
a factory names its registry entry, never a code string.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from zhili.dsl import codes as C
from zhili.dsl.ast import Span
from zhili.dsl.diagnostics import Diagnostic
from zhili.dsl.i18n import _


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ()
    return (_("help: did you mean {names}?").format(names=", ".join(f"`{c}`" for c in close)),)


# ---------------------------------------------------------------- file / syntax


def file_unreadable(span: Span, error: str) -> Diagnostic:
    return C.FILE_UNREADABLE.diagnostic(
        _("cannot read the file: {error}").format(error=error), span
    )


def file_empty(span: Span) -> Diagnostic:
    return C.FILE_EMPTY.diagnostic(
        _("the file is empty"),
        span,
        (
            _(
                'help: a model file starts with `model ID "标题"`, a test file with `tests for MODEL`'
            ),
        ),
    )


def file_binary(span: Span) -> Diagnostic:
    return C.FILE_BINARY.diagnostic(_("this is a binary file, not a model file"), span)


def file_encoding(span: Span, guess: str | None) -> Diagnostic:
    notes = (_("help: save the file as UTF-8"),)
    if guess:
        msg = _("the file is not UTF-8 (it looks like {encoding})").format(encoding=guess)
    else:
        msg = _("the file is not valid UTF-8")
    return C.FILE_ENCODING.diagnostic(msg, span, notes)


def file_too_large(span: Span, size: int, limit: int) -> Diagnostic:
    return C.FILE_TOO_LARGE.diagnostic(
        _("the file is {size} bytes; model files may be at most {limit} bytes").format(
            size=size, limit=limit
        ),
        span,
    )


def too_deep(span: Span, limit: int) -> Diagnostic:
    return C.SYNTAX_TOO_DEEP.diagnostic(
        _("brackets are nested more than {limit} deep").format(limit=limit),
        span,
        (_("help: split the expression with `let` definitions"),),
    )


def too_complex(span: Span) -> Diagnostic:
    return C.SYNTAX_TOO_COMPLEX.diagnostic(
        _("this expression is too long or too deeply nested to process"),
        span,
        (_("help: split the expression with `let` definitions"),),
    )


# Full-width punctuation a Chinese input method types where the language
# wants ASCII (`％` is accepted as `%`; these are not).
FULL_WIDTH = {
    "：": ":",
    "，": ",",
    "（": "(",
    "）": ")",
    "｛": "{",
    "｝": "}",
    "【": "[",
    "】": "]",
    "［": "[",
    "］": "]",
    "＝": "=",
    "＞": ">",
    "＜": "<",
    "！": "!",
    "＋": "+",
    "－": "-",
    "＊": "*",
    "／": "/",
    "．": ".",
    "。": ".",
    "“": '"',
    "”": '"',
    "＂": '"',
    "＃": "#",
}


def unexpected_char(span: Span, char: str) -> Diagnostic:
    notes = ()
    ascii_char = FULL_WIDTH.get(char)
    if ascii_char is not None:
        notes = (
            _("help: `{char}` is the full-width form; write the ASCII `{ascii}`").format(
                char=char, ascii=ascii_char
            ),
        )
    return C.SYNTAX_UNEXPECTED_CHARACTER.diagnostic(
        _("unexpected character {char!r}").format(char=char), span, notes
    )


def reserved_word(span: Span, word: str) -> Diagnostic:
    return C.SYNTAX_RESERVED_WORD.diagnostic(
        _("`{word}` is a reserved word of the language and cannot be a name").format(word=word),
        span,
        (
            _(
                "help: choose another name, e.g. `{word}_value` or a Chinese name; "
                "the label can still say `{word}`"
            ).format(word=word),
        ),
    )


def unclosed_brace(span: Span, before: tuple[int, str] | None) -> Diagnostic:
    if before is None:
        help_text = _("help: add the missing `}` before the end of the file")
    else:
        help_text = _("help: add the missing `}}` before `{word}` on line {line}").format(
            word=before[1], line=before[0]
        )
    return C.SYNTAX_UNCLOSED_BRACE.diagnostic(_("this `{` is never closed"), span, (help_text,))


def unterminated_string(span: Span) -> Diagnostic:
    return C.SYNTAX_UNTERMINATED_STRING.diagnostic(
        _("this string is not closed"),
        span,
        (_('help: add the closing `"` on the same line'),),
    )


def unexpected_token(span: Span, found: str, expected: list[str]) -> Diagnostic:
    notes = ()
    if expected:
        shown = ", ".join(expected[:8]) + (" …" if len(expected) > 8 else "")
        notes = (_("expected one of: {tokens}").format(tokens=shown),)
    return C.SYNTAX_UNEXPECTED_TOKEN.diagnostic(
        _("unexpected {found}").format(found=found), span, notes
    )


def expect_points_first(span: Span, name: str, points: str) -> Diagnostic:
    """`expect indicator 用房 15`: the outcome comes before the points."""
    return C.SYNTAX_UNEXPECTED_TOKEN.diagnostic(
        _("unexpected `{points}`: an indicator's expectation names its outcome first").format(
            points=points
        ),
        span,
        (
            _(
                "help: write `expect indicator {name} partial points {points}`"
                " (pass, partial, fail, missing or vetoed, then `points N`)"
            ).format(name=name, points=points),
        ),
    )


def unexpected_eof(span: Span, expected: list[str]) -> Diagnostic:
    notes = ()
    if expected:
        notes = (_("expected one of: {tokens}").format(tokens=", ".join(expected[:8])),)
    return C.SYNTAX_UNEXPECTED_END.diagnostic(_("the file ends too early"), span, notes)


def named_syntax(code: str, span: Span) -> Diagnostic:
    """Syntax errors recognised from examples (see `parser.SYNTAX_EXAMPLES`)."""
    texts = {
        C.SYNTAX_INDICATOR_POINTS.code: (
            _('an indicator needs its points: `indicator ID "名称" points N { ... }`'),
            (),
        ),
        C.SYNTAX_EXPECTED_EXPRESSION.code: (_("an expression is missing here"), ()),
        C.SYNTAX_MODEL_FIRST.code: (
            _("a model file must start with `model ID`"),
            (_('help: write `model my_model "标题"` on the first line'),),
        ),
        C.SYNTAX_INPUT_TYPE.code: (
            _("an input needs a type: `input ID: int|number|percent|bool|text|date|enum(...)`"),
            (),
        ),
        C.SYNTAX_EQUALS_IN_CONDITION.code: (
            _("`=` assigns; compare with `==`"),
            (),
        ),
        C.SYNTAX_TIERS_COMMA.code: (
            _("tiers are not separated by commas"),
            (_("help: write each tier as `>= N : points` on its own line or after a space"),),
        ),
        C.SYNTAX_CAUSES_COMMA.code: (
            _("the causes of a deduction are not separated by commas"),
            (_("help: write each cause on its own line: `10 per 重大案件` then `5 per 治安案件`"),),
        ),
    }
    msg, notes = texts[code]
    return C.REGISTRY[code].diagnostic(msg, span, notes)


def negative_points(span: Span, word: str) -> Diagnostic:
    """`bonus -3 when …`: a deduction written as a negative bonus or points."""
    return C.SYNTAX_NEGATIVE_POINTS.diagnostic(
        _("`{word}` takes a positive number: points and amounts are written without a sign").format(
            word=word
        ),
        span,
        (
            _(
                "help: a deduction taken from the total (减分项) is a penalty item without points:"
                ' `indicator 通报 "被通报批评" {{ penalty 3 when 通报 }}`'
            ).format(),
        ),
    )


def linear_max(span: Span) -> Diagnostic:
    """`linear 率 from 60% to 100% max 10`: a sheet's "按比例得分，最高10分"."""
    return C.SYNTAX_LINEAR_MAX.diagnostic(
        _("`linear` takes no `max`: it never gives more than the indicator's points"),
        span,
        (
            _(
                "help: remove `max …`; `linear V from A to B` gives all the points at B and"
                " beyond (按比例得分，最高N分 is `points N`)"
            ),
        ),
    )


# ---------------------------------------------------------------- names


def unknown_name(span: Span, name: str, candidates: Iterable[str], what: str = "") -> Diagnostic:
    msg = _("unknown name `{name}`").format(name=name)
    return C.UNKNOWN_NAME.diagnostic(msg, span, did_you_mean(name, candidates))


def label_for_input(span: Span, label: str, input_id: str) -> Diagnostic:
    """`given { 常住人口 = 3 }`: the input's label where its id is needed."""
    return C.UNKNOWN_NAME.diagnostic(
        _("unknown name `{name}`").format(name=label),
        span,
        (
            _("help: `{label}` is the label of input `{id}`; write `{id} = …`").format(
                label=label, id=input_id
            ),
        ),
    )


def duplicate_test(span: Span, name: str, first: Span) -> Diagnostic:
    return C.DUPLICATE_ID.diagnostic(
        _("a test named {name!r} is already in this file").format(name=name),
        span,
        (
            _("note: first defined at {where}").format(where=str(first)),
            _("help: give each test its own name, so a failure says which one failed"),
        ),
    )


# names other languages and spreadsheets give to rounding down or up
_WHOLE_ALIASES = {
    "trunc": "floor",
    "int": "floor",
    "rounddown": "floor",
    "round_down": "floor",
    "向下取整": "floor",
    "取整": "floor",
    "ceiling": "ceil",
    "roundup": "ceil",
    "round_up": "ceil",
    "向上取整": "ceil",
}


def unknown_function(span: Span, name: str, candidates: Iterable[str]) -> Diagnostic:
    candidates = list(candidates)
    alias = _WHOLE_ALIASES.get(name.lower())
    notes = did_you_mean(name, candidates)
    if alias in candidates:
        notes = (_("help: did you mean {names}?").format(names=f"`{alias}`"),)
    return C.UNKNOWN_FUNCTION.diagnostic(
        _("unknown function `{name}`").format(name=name),
        span,
        notes,
    )


def whole_of_percent(span: Span, func: str) -> Diagnostic:
    """`floor`/`ceil` of a percentage: 85.5% is the share 0.855, whose
    whole number (0) is not what a sheet means."""
    return C.TYPE_MISMATCH.diagnostic(
        _("`{func}` needs a number, found a percentage").format(func=func),
        span,
        (
            _(
                "help: `{func}(x / 1%)` gives the whole percentage points as a number"
                " (85.5% → 85 or 86)"
            ).format(func=func),
        ),
    )


def whole_digits(span: Span, func: str) -> Diagnostic:
    """`floor(x, 2)`: floor and ceil round to a whole number only."""
    return C.WRONG_ARGUMENTS.diagnostic(
        _("`{func}` takes 1 argument (it rounds to a whole number)").format(func=func),
        span,
        (
            _(
                "help: for 2 decimal places write `{func}(x * 100) / 100`;"
                " `round(x, 2)` rounds halves away from zero"
            ).format(func=func),
        ),
    )


def unknown_grade(span: Span, name: str, candidates: Iterable[str]) -> Diagnostic:
    return C.UNKNOWN_GRADE.diagnostic(
        _("unknown grade {name!r}").format(name=name),
        span,
        did_you_mean(name, candidates),
    )


def unknown_enum_value(span: Span, value: str, input_id: str, values: Iterable[str]) -> Diagnostic:
    values = list(values)
    notes = did_you_mean(value, values) or (
        _("help: allowed values: {values}").format(values=", ".join(values)),
    )
    return C.UNKNOWN_ENUM_VALUE.diagnostic(
        _("{value!r} is not a value of `{input}`").format(value=value, input=input_id),
        span,
        notes,
    )


def duplicate_id(span: Span, name: str, first: Span) -> Diagnostic:
    return C.DUPLICATE_ID.diagnostic(
        _("`{name}` is defined twice").format(name=name),
        span,
        (_("note: first defined at {where}").format(where=str(first)),),
    )


def duplicate_label(span: Span, label: str, other: str) -> Diagnostic:
    return C.DUPLICATE_ID.diagnostic(
        _("label {label!r} is also the label of input `{other}`").format(label=label, other=other),
        span,
        (
            _(
                "help: a label is the header of the input's column in a data file and the "
                "template: give each input its own"
            ),
        ),
    )


def duplicate_header(span: Span, key: str) -> Diagnostic:
    return C.DUPLICATE_HEADER.diagnostic(_("`{key}` is given twice").format(key=key), span)


def missing_header(span: Span, key: str) -> Diagnostic:
    return C.MISSING_HEADER.diagnostic(
        _("the model has no `{key}`").format(key=key),
        span,
    )


def reserved_name(span: Span, name: str) -> Diagnostic:
    return C.RESERVED_NAME.diagnostic(
        _("`{name}` is a reserved name in grade conditions").format(name=name), span
    )


def cycle(span: Span, path: list[str]) -> Diagnostic:
    return C.CYCLE.diagnostic(
        _("definitions refer to each other in a cycle: {path}").format(path=" → ".join(path)),
        span,
    )


def output_cycle(span: Span, path: list[str]) -> Diagnostic:
    return C.CYCLE.diagnostic(
        _("outputs refer to each other in a cycle: {path}").format(path=" → ".join(path)),
        span,
    )


def output_not_here(span: Span, name: str) -> Diagnostic:
    """An output (or `points(X)`) outside grade conditions and outputs: it is
    computed after scoring, from the results."""
    return C.NOT_AVAILABLE_HERE.diagnostic(
        _(
            "`{name}` is computed from the results after scoring: it can only be used in "
            "grade conditions and outputs"
        ).format(name=name),
        span,
    )


def not_here(span: Span, name: str, kind: str) -> Diagnostic:
    return C.NOT_AVAILABLE_HERE.diagnostic(
        _("`{name}` ({kind}) can only be used in grade conditions").format(name=name, kind=kind),
        span,
    )


# ---------------------------------------------------------------- types


def type_mismatch(span: Span, message: str, notes: tuple[str, ...] = ()) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(message, span, notes)


def percent_arith(span: Span, literal: str | None) -> Diagnostic:
    notes = (_("help: write {lit}% if a share was meant").format(lit=literal),) if literal else ()
    return C.UNIT_MISMATCH.diagnostic(
        _("cannot add or subtract a percentage and a count"), span, notes
    )


def expected_type(span: Span, expected: str, found: str) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("expected {expected}, found {found}").format(expected=expected, found=found),
        span,
    )


def percent_vs_count(span: Span, literal: str | None) -> Diagnostic:
    notes = ()
    if literal is not None:
        notes = (_("help: write {lit}% if a share was meant").format(lit=literal),)
    return C.UNIT_MISMATCH.diagnostic(
        _("cannot compare a percentage with a count"),
        span,
        notes,
    )


def dimension_vs_count(span: Span, dim: str, literal: str, points: float | None) -> Diagnostic:
    """A grade condition comparing a dimension (its share) with a plain
    number, `党建 >= 16`: it meant the points (`points(党建) >= 16`) or the
    share those points are of the dimension's (16 of 20 = 80%)."""
    notes = [
        _("help: write `points({dim}) >= {lit}` to compare the points `{dim}` earned").format(
            dim=dim, lit=literal
        )
    ]
    if points:
        share = _fmt_share(float(literal), points)
        notes.append(
            _(
                "help: or `{dim} >= {share}%`: `{dim}` is a share of its {points} points "
                "({lit} of {points} = {share}%)"
            ).format(dim=dim, share=share, points=_fmt_number(points), lit=literal)
        )
    else:
        notes.append(_("help: or write {lit}% if a share was meant").format(lit=literal))
    return C.UNIT_MISMATCH.diagnostic(
        _("cannot compare `{dim}` (a dimension's share, a percentage) with a count").format(
            dim=dim
        ),
        span,
        tuple(notes),
    )


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _fmt_share(value: float, points: float) -> str:
    from decimal import Decimal

    share = (Decimal(repr(value)) * 100 / Decimal(repr(points))).quantize(Decimal("0.01"))
    text = f"{share:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def output_type(span: Span, name: str) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("output `{name}` must be a number, a percentage, a count, yes/no or text").format(
            name=name
        ),
        span,
    )


def points_of(span: Span, name: str, kind: str | None, candidates: Iterable[str]) -> Diagnostic:
    """`points(X)` where X is no dimension or indicator."""
    if kind is None:
        return unknown_name(span, name, candidates)
    return C.TYPE_MISMATCH.diagnostic(
        _("`points({name})`: `{name}` is not a dimension or an indicator").format(name=name),
        span,
    )


def given_plain_percent(span: Span, name: str, literal: str, fractions: bool = False) -> Diagnostic:
    """`rate = 90` or `rate = 0.9` in a test's `given` for a percent input:
    what the number would mean under the data files' one percent rule (90 is
    90%; a plain fraction like 0.9 is not read; for an input declared
    `fractions`, 0.9 is 90% and 90 is not read), and how to write it."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(literal)
    except InvalidOperation:
        return percent_vs_count(span, literal)
    shifted = f"{number.scaleb(2):f}"
    as_percent = shifted.rstrip("0").rstrip(".") if "." in shifted else shifted
    if fractions and abs(number) <= 1:
        message = _(
            "`{name}` is a percentage whose data write fractions: {n} would mean {p}% in a "
            "data file; in a test write {p}%"
        ).format(name=name, n=literal, p=as_percent)
        notes = (_("help: write {lit}% if a share was meant").format(lit=as_percent),)
    elif fractions:
        message = _(
            "`{name}` is a percentage whose data write fractions: {n} is above 1, which a "
            "data file does not read for it; write {n}% for {n}%"
        ).format(name=name, n=literal)
        notes = (_("help: write {lit}% if a share was meant").format(lit=literal),)
    elif number != 0 and abs(number) < 1:
        message = _(
            "`{name}` is a percentage: {n} is a plain fraction, which could mean {p}% or {n}% "
            "(a data file does not read it); write {p}% for {p}%"
        ).format(name=name, n=literal, p=as_percent)
        notes = (_("help: write {p}% for {p}%, or {n}% for {n}%").format(p=as_percent, n=literal),)
    else:
        message = _(
            "`{name}` is a percentage: {n} would mean {n}% in a data file; in a test write {n}%"
        ).format(name=name, n=literal)
        notes = (_("help: write {lit}% if a share was meant").format(lit=literal),)
    return C.UNIT_MISMATCH.diagnostic(message, span, notes)


def arity(span: Span, func: str, expected: str, found: int) -> Diagnostic:
    return C.WRONG_ARGUMENTS.diagnostic(
        _("`{func}` takes {expected} arguments, {found} given").format(
            func=func, expected=expected, found=found
        ),
        span,
    )


# ---------------------------------------------------------------- structure


def scoring_count(span: Span, found: int) -> Diagnostic:
    if found == 0:
        msg = _("this indicator has no scoring rule")
        notes = (_("help: add one of `pass when`, `linear`, `tiers`, `deduct`, `bonus`"),)
    else:
        msg = _("this indicator has {n} scoring rules; it needs exactly one").format(n=found)
        notes = ()
    return C.INDICATOR_SCORING.diagnostic(msg, span, notes)


def bad_precision(span: Span, text: str) -> Diagnostic:
    return C.BAD_PRECISION.diagnostic(
        _(
            "`precision {text}`: the number of decimal places must be a whole number from 0 to 6"
        ).format(text=text),
        span,
        (_("help: `precision 2` publishes scores to two decimals, halves away from zero"),),
    )


def constant_division_by_zero(span: Span, text: str) -> Diagnostic:
    return C.CONSTANT_DIVISION_BY_ZERO.diagnostic(
        _("`{text}` divides by zero").format(text=text), span
    )


def constant_overflow(span: Span, text: str) -> Diagnostic:
    return C.CONSTANT_OVERFLOW.diagnostic(
        _("`{text}` is beyond the numbers a model can compute (it overflows)").format(text=text),
        span,
    )


def points_sum(span: Span, where: str, declared: float, actual: float) -> Diagnostic:
    return C.POINTS_SUM.diagnostic(
        _("the points of {where} add up to {actual}, but {declared} are declared").format(
            where=where, actual=_num(actual), declared=_num(declared)
        ),
        span,
    )


def points_and_weight(span: Span) -> Diagnostic:
    return C.POINTS_AND_WEIGHT.diagnostic(_("give either points or a weight, not both"), span)


def no_points(span: Span) -> Diagnostic:
    return C.DIMENSION_POINTS.diagnostic(_("this dimension needs `points N` or `weight P%`"), span)


def empty_dimension(span: Span, name: str) -> Diagnostic:
    return C.EMPTY_DIMENSION.diagnostic(
        _("dimension `{name}` has no indicators").format(name=name), span
    )


def tier_order(span: Span, message: str) -> Diagnostic:
    return C.TIER_ORDER.diagnostic(message, span)


def tier_points(span: Span, points: float, maximum: float) -> Diagnostic:
    return C.TIER_POINTS.diagnostic(
        _("a tier gives {points} points, more than the indicator's {max}").format(
            points=_num(points), max=_num(maximum)
        ),
        span,
    )


def tier_unreachable(span: Span) -> Diagnostic:
    return C.TIER_UNREACHABLE.diagnostic(
        _("this tier can never be reached: an earlier tier already covers it"),
        span,
    )


def linear_bounds(span: Span) -> Diagnostic:
    return C.LINEAR_BOUNDS.diagnostic(_("`from` and `to` are the same value"), span)


def cap_too_large(span: Span, cap: float, points: float) -> Diagnostic:
    return C.CAP_TOO_LARGE.diagnostic(
        _("the cap {cap} is more than the indicator's {points} points").format(
            cap=_num(cap), points=_num(points)
        ),
        span,
    )


def score_range(span: Span, input_id: str, lo: float, hi: float, points: float) -> Diagnostic:
    return C.SCORE_RANGE.diagnostic(
        _(
            "`{input}` may be {lo}..{hi}, but the indicator has {points} points: "
            "a score outside 0..{points} is clamped"
        ).format(input=input_id, lo=_num(lo), hi=_num(hi), points=_num(points)),
        span,
        (
            _("help: declare `range 0..{points}` on `{input}`").format(
                points=_num(points), input=input_id
            ),
        ),
    )


def score_percent(span: Span, points: float) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("`score` gives points, and this is a percentage"),
        span,
        (
            _(
                "help: to score a share, write `linear … from 0% to 100%`, or multiply by the points ({points})"
            ).format(points=_num(points)),
        ),
    )


def empty_text(span: Span, word: str) -> Diagnostic:
    return C.EMPTY_TEXT.diagnostic(
        _("the `{word}` text is empty").format(word=word),
        span,
        (
            _(
                "help: name how the item is checked (查资料, 看现场 …) or who scores it, or leave it out"
            ),
        ),
    )


def previous_self(span: Span, name: str) -> Diagnostic:
    return C.PREVIOUS_NOT_INPUT.diagnostic(
        _("input `{name}` cannot be last period's value of itself").format(name=name),
        span,
        (
            _("help: declare a second input, e.g. `input 上年{name}: … previous {name}`").format(
                name=name
            ),
        ),
    )


def previous_not_input(span: Span, name: str) -> Diagnostic:
    return C.PREVIOUS_NOT_INPUT.diagnostic(
        _("`previous` needs an input, and `{name}` is not one").format(name=name),
        span,
        (_("help: last period's values are kept for inputs only"),),
    )


def previous_type(span: Span, name: str, other: str, other_type: str, own: str) -> Diagnostic:
    return C.PREVIOUS_TYPE.diagnostic(
        _(
            "`{name}` is `{own}` but `{other}`, whose last period's value it is, is `{theirs}`"
        ).format(name=name, own=own, other=other, theirs=other_type),
        span,
        (_("help: give both inputs the same type"),),
    )


def cap_never_binds(span: Span, cap: float, most: float, points: float) -> Diagnostic:
    text = _("the cap {cap} can never bind: the causes deduct at most {most} together")
    return C.CAP_NEVER_BINDS.diagnostic(
        text.format(cap=_num(cap), most=_num(most), points=_num(points)),
        span,
        (_("help: remove `max {cap}`, or check the causes' amounts").format(cap=_num(cap)),),
    )


def indicator_points(span: Span) -> Diagnostic:
    """An indicator without `points N` that is not a `penalty` item (the
    checker reports it: the grammar lets a penalty leave its points out)."""
    return C.SYNTAX_INDICATOR_POINTS.diagnostic(
        _('an indicator needs its points: `indicator ID "名称" points N { ... }`'),
        span,
        (_("note: only a `penalty` item (减分项) has no points of its own"),),
    )


def penalty_points(span: Span, text: str) -> Diagnostic:
    return C.PENALTY_POINTS.diagnostic(
        _("a `penalty` item has no points of its own: it takes from its parent's score"),
        span,
        (
            _(
                "help: remove `points {text}`; to limit what it takes write `max {text}`, "
                "e.g. `penalty 5 per 事故数 max {text}` or `penalty max {text} {{ … }}`"
            ).format(text=text),
        ),
    )


def section_max_points(span: Span, name: str, text: str) -> Diagnostic:
    return C.SECTION_MAX.diagnostic(
        _(
            "`max` caps a section of bonus or penalty items, but `{name}` has points ({points}) "
            "of its own"
        ).format(name=name, points=text),
        span,
        (
            _(
                "help: put the bonus (or penalty) items in a dimension of their own, without "
                'points: `dimension 加分 "加分项" max 5 {{ … }}`'
            ),
        ),
    )


def section_max_mixed(span: Span, name: str, scored: list, kinds: set[str]) -> Diagnostic:
    notes = []
    deducts = [i for i in scored if getattr(i.scoring, "form", "") in ("deduct", "deductions")]
    if deducts:
        ind = deducts[0]
        notes.append(
            _(
                "help: `{id}` deducts from its own {points} points; to take from the total "
                '(减分项) write it as a penalty: `indicator {id} "…" {{ penalty 5 per … }}`'
            ).format(id=ind.id, points=_num(ind.points))
        )
    elif scored:
        notes.append(
            _(
                "help: `{id}` is scored within the points; `max` caps only bonus (`bonus …`) "
                "or penalty (`penalty …`) items: put those in a dimension of their own"
            ).format(id=scored[0].id)
        )
    if len(kinds) > 1:
        notes.append(
            _(
                "help: one cap is of bonus points or of deductions: put the 减分项 in a section "
                "of their own"
            )
        )
    return C.SECTION_MAX.diagnostic(
        _("`max` on `{name}`: it must hold only bonus or only penalty items").format(name=name),
        span,
        tuple(notes),
    )


def section_cap_never_binds(span: Span, cap: float, most: float, kind: str) -> Diagnostic:
    if kind == "penalty":
        text = _("the cap {cap} can never bind: the penalty items take at most {most} together")
    else:
        text = _("the cap {cap} can never bind: the bonus items add at most {most} together")
    return C.CAP_NEVER_BINDS.diagnostic(
        text.format(cap=_num(cap), most=_num(most)),
        span,
        (_("help: remove `max {cap}`, or check the items' points").format(cap=_num(cap)),),
    )


def deduct_step(span: Span) -> Diagnostic:
    return C.DEDUCT_STEP.diagnostic(
        _("the step of a deduction must be a positive number or percentage, written as such"),
        span,
        (_("help: write the step as on the sheet, e.g. `10 per 10% of 完成率 below 95%`"),),
    )


def no_grades(span: Span) -> Diagnostic:
    return C.NO_GRADES.diagnostic(_("the model has no `grades` block"), span)


def grades_twice(span: Span) -> Diagnostic:
    return C.DUPLICATE_HEADER.diagnostic(_("the model has more than one `grades` block"), span)


def grade_after_otherwise(span: Span) -> Diagnostic:
    return C.GRADE_UNREACHABLE.diagnostic(
        _("this grade can never be reached: an `otherwise` grade comes before it"),
        span,
    )


def grade_unreachable(span: Span, reason: str) -> Diagnostic:
    return C.GRADE_UNREACHABLE.diagnostic(reason, span)


def no_otherwise(span: Span) -> Diagnostic:
    return C.GRADE_NO_OTHERWISE.diagnostic(
        _("no grade ends with `otherwise`: a community that meets no condition gets no grade"),
        span,
    )


def duplicate_grade(span: Span, name: str) -> Diagnostic:
    return C.DUPLICATE_ID.diagnostic(_("grade {name!r} is listed twice").format(name=name), span)


def veto_no_effect(span: Span, reason: str) -> Diagnostic:
    return C.VETO_NO_EFFECT.diagnostic(reason, span)


def unused_input(span: Span, name: str) -> Diagnostic:
    return C.UNUSED_INPUT.diagnostic(_("input `{name}` is never used").format(name=name), span)


def unused_let(span: Span, name: str) -> Diagnostic:
    return C.UNUSED_LET.diagnostic(_("`{name}` is defined but never used").format(name=name), span)


def range_order(span: Span) -> Diagnostic:
    return C.RANGE_ORDER.diagnostic(_("the range's lower bound is above its upper bound"), span)


def fractions_type(span: Span, name: str, type_name: str) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("`fractions` applies to percent inputs only; `{name}` is of type {type}").format(
            name=name, type=type_name
        ),
        span,
    )


def range_type(span: Span, type_name: str) -> Diagnostic:
    return C.RANGE_TYPE.diagnostic(
        _("a range does not apply to a {type} input").format(type=type_name), span
    )


def enum_duplicate(span: Span, value: str) -> Diagnostic:
    return C.DUPLICATE_ID.diagnostic(
        _("enum value {value!r} is listed twice").format(value=value), span
    )


def unsupported(span: Span, what: str) -> Diagnostic:
    return C.UNSUPPORTED.diagnostic(
        _("{what} is not supported yet").format(what=what),
        span,
    )


def bad_test(span: Span, message: str) -> Diagnostic:
    return C.TEST_INVALID.diagnostic(message, span)


def set_value_unwritable(span: Span, value: str) -> Diagnostic:
    return C.SET_VALUES.diagnostic(
        _("set value {value!r} cannot be written in a data cell").format(value=value),
        span,
        (
            _(
                "help: a cell lists values separated by 、 , ， ; ； / or new lines, and 无 "
                "means none selected: a value may not contain a separator or be 无"
            ),
        ),
    )


def set_values_alike(span: Span, first: str, second: str) -> Diagnostic:
    return C.SET_VALUES.diagnostic(
        _("set values {first!r} and {second!r} differ only in case, spaces or width").format(
            first=first, second=second
        ),
        span,
        (
            _(
                "help: a data cell's value is matched ignoring case, spaces and full-width "
                "forms, so a cell could not tell them apart: name them differently"
            ),
        ),
    )


def set_too_many(span: Span, n: int, limit: int) -> Diagnostic:
    return C.SET_VALUES.diagnostic(
        _("a set lists {n} values; at most {limit} are allowed").format(n=n, limit=limit), span
    )


def set_member_literal(span: Span, name: str) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("the left side of `in {name}` must be one of its listed values, in quotes").format(
            name=name
        ),
        span,
    )


def set_compared(span: Span) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("a selection cannot be compared"),
        span,
        (_('help: test a value with `"养老" in S`, or count the selected ones with `count(S)`'),),
    )


def given_out_of_range(span: Span, name: str, shown: str, lo: str, hi: str) -> Diagnostic:
    return C.GIVEN_OUT_OF_RANGE.diagnostic(
        _("`{name}` = {value} is outside its declared range {lo}..{hi}").format(
            name=name, value=shown, lo=lo, hi=hi
        ),
        span,
        (_("note: a data file with this value would be warned about and the value left out"),),
    )


def value_type(span: Span, name: str, expected: str) -> Diagnostic:
    return C.TYPE_MISMATCH.diagnostic(
        _("`{name}` takes {expected}").format(name=name, expected=expected),
        span,
    )


def invalid_date(span: Span, text: str) -> Diagnostic:
    return C.INVALID_DATE.diagnostic(_("{text} is not a valid date").format(text=text), span)


def target_op(span: Span, op: str) -> Diagnostic:
    return C.TARGET_OP.diagnostic(
        _("a target is a share to reach: write `share >= P%`, not `{op}`").format(op=op),
        span,
    )


def _num(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------- composition


def import_not_found(span: Span, path: str) -> Diagnostic:
    return C.IMPORT_NOT_FOUND.diagnostic(
        _("cannot find the file {path!r} to import").format(path=path),
        span,
        (_("help: the path is relative to the importing file"),),
    )


def import_not_library(span: Span, path: str) -> Diagnostic:
    return C.IMPORT_NOT_LIBRARY.diagnostic(
        _("{path!r} is a test suite; only a `library` or a `model` file can be imported").format(
            path=path
        ),
        span,
    )


def import_alias(span: Span) -> Diagnostic:
    return C.IMPORT_ALIAS.diagnostic(
        _("imported names are used without a prefix; `as` is not supported"),
        span,
        (_('help: write `import "file.gov"`'),),
    )


def unknown_base(span: Span, name: str, candidates: Iterable[str]) -> Diagnostic:
    return C.UNKNOWN_BASE.diagnostic(
        _("cannot find the base model `{name}`").format(name=name),
        span,
        did_you_mean(name, candidates)
        or (_("help: check it with the files of the base, or install its plugin"),),
    )


def base_not_model(span: Span, name: str) -> Diagnostic:
    return C.UNKNOWN_BASE.diagnostic(
        _("`{name}` is not a model and cannot be extended").format(name=name),
        span,
    )


def composition_cycle(span: Span, path: list[str]) -> Diagnostic:
    return C.EXTENDS_CYCLE.diagnostic(
        _("`extends`/`import` form a cycle: {path}").format(path=" → ".join(path)),
        span,
    )


def base_version(span: Span, base: str, pinned: str, actual: str | None) -> Diagnostic:
    return C.BASE_VERSION.diagnostic(
        _("this model pins `{base}` version {pinned!r}, but the base is version {actual!r}").format(
            base=base, pinned=pinned, actual=actual or "?"
        ),
        span,
        (_("help: review the changes of the base, then update the pinned version"),),
    )


def override_unknown(span: Span, name: str, what: str, candidates: Iterable[str]) -> Diagnostic:
    return C.OVERRIDE_UNKNOWN.diagnostic(
        _("the base model has no {what} `{name}` to change").format(what=what, name=name),
        span,
        did_you_mean(name, candidates),
    )


def override_invalid(span: Span, message: str) -> Diagnostic:
    return C.OVERRIDE_INVALID.diagnostic(message, span)


def override_without_extends(span: Span) -> Diagnostic:
    return C.OVERRIDE_WITHOUT_EXTENDS.diagnostic(
        _("`override` and `drop` change a base model: the model needs `extends BASE`"),
        span,
    )


def extends_nothing(span: Span, base: str) -> Diagnostic:
    return C.EXTENDS_NOTHING.diagnostic(
        _("this model extends `{base}` but changes nothing").format(base=base),
        span,
        (_("help: use the base model directly, or add `override`, `drop` or new indicators"),),
    )


def in_base(d: Diagnostic, span: Span) -> Diagnostic:
    """A problem of the merged model whose source lies in a base or imported
    file, reported at the statement of this model that caused it."""
    return Diagnostic(
        d.code,
        d.severity,
        d.message,
        span,
        d.notes
        + (
            _("note: after composition; the part concerned is at {where}").format(
                where=str(d.span)
            ),
        ),
    )


# ---------------------------------------------------------------- static analysis


def threshold_out_of_range(span: Span, input_id: str, value: str, lo: str, hi: str) -> Diagnostic:
    return C.THRESHOLD_OUT_OF_RANGE.diagnostic(
        _("the threshold {value} lies outside the declared range of `{input}` ({lo}..{hi})").format(
            value=value, input=input_id, lo=lo, hi=hi
        ),
        span,
        (_("help: correct the threshold, or widen the input's `range`"),),
    )


def precision_past_total(
    span: Span, where: str, precision: int, parts: str, published: str, declared: str
) -> Diagnostic:
    return C.PRECISION_PAST_TOTAL.diagnostic(
        _(
            "with `precision {n}`, full points in {where} are published as {parts} = "
            "{published}, more than its {declared} points: points of more than {n} "
            "places round up past the total"
        ).format(n=precision, where=where, parts=parts, published=published, declared=declared),
        span,
        (
            _("help: give the points in at most {n} decimal places, or raise the precision").format(
                n=precision
            ),
        ),
    )


def grade_shadowed(span: Span, grade: str, earlier: str) -> Diagnostic:
    return C.GRADE_SHADOWED.diagnostic(
        _(
            "grade {grade!r} can never be given: every community that meets it already gets {earlier!r}"
        ).format(grade=grade, earlier=earlier),
        span,
        (_("help: grades are tried best first; put the stricter condition first"),),
    )


def grade_never(span: Span, grade: str, reason: str) -> Diagnostic:
    return C.GRADE_UNREACHABLE.diagnostic(
        _("grade {grade!r} can never be reached: {reason}").format(grade=grade, reason=reason),
        span,
    )


def veto_never(span: Span, veto: str, reason: str) -> Diagnostic:
    return C.VETO_NEVER_TRIGGERS.diagnostic(
        _("veto `{veto}` can never trigger: {reason}").format(veto=veto, reason=reason),
        span,
    )


def indicator_constant(span: Span, indicator: str, reason: str) -> Diagnostic:
    return C.INDICATOR_CONSTANT.diagnostic(
        _("the outcome of indicator `{indicator}` can never change: {reason}").format(
            indicator=indicator, reason=reason
        ),
        span,
    )


# ---------------------------------------------------------------- events (前提、清零、免检)


def requires_twice(span: Span, first: Span) -> Diagnostic:
    return C.REQUIRES_TWICE.diagnostic(
        _("this indicator already has a `requires` gate"),
        span,
        (
            _("note: the first is at {where}").format(where=str(first)),
            _("help: join the conditions with `and` in one `requires`"),
        ),
    )


def zero_no_points(span: Span, name: str) -> Diagnostic:
    return C.ZERO_NO_POINTS.diagnostic(
        _("`zero when` on `{name}`, which has no points to take away").format(name=name), span
    )


def exempt_no_item(span: Span, name: str, kind: str) -> Diagnostic:
    return C.EXEMPT_NO_ITEM.diagnostic(
        _("an exemption can name indicators and dimensions; `{name}` is {kind}").format(
            name=name, kind=kind
        ),
        span,
    )


def exempt_empty_dimension(span: Span, name: str) -> Diagnostic:
    return C.EXEMPT_NO_ITEM.diagnostic(
        _("dimension `{name}` holds no scored indicator to exempt").format(name=name), span
    )


def exempt_bonus(span: Span, name: str) -> Diagnostic:
    return C.EXEMPT_BONUS.diagnostic(
        _(
            "`{name}` is a bonus indicator: an exemption gives full points, a bonus has none to give"
        ).format(name=name),
        span,
        (_("help: leave `{name}` out of the `from` list").format(name=name),),
    )
