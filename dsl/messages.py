"""The wording of every diagnostic, one factory per kind (cel-go's
`checker/errors.go` in spirit). Codes are stable; messages are translated.

Code prefixes name the phase: `syntax-*` and `file-*` come from the parser,
everything else from the checker or the test runner.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from zhili.dsl.ast import Span
from zhili.dsl.diagnostics import Diagnostic, Severity
from zhili.dsl.i18n import _

E, W = Severity.ERROR, Severity.WARNING


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ()
    return (_("help: did you mean {names}?").format(names=", ".join(f"`{c}`" for c in close)),)


# ---------------------------------------------------------------- file / syntax


def file_unreadable(span: Span, error: str) -> Diagnostic:
    return Diagnostic(
        "file-unreadable", E, _("cannot read the file: {error}").format(error=error), span
    )


def file_empty(span: Span) -> Diagnostic:
    return Diagnostic(
        "file-empty",
        E,
        _("the file is empty"),
        span,
        (
            _(
                'help: a model file starts with `model ID "标题"`, a test file with `tests for MODEL`'
            ),
        ),
    )


def file_binary(span: Span) -> Diagnostic:
    return Diagnostic("file-binary", E, _("this is a binary file, not a model file"), span)


def file_encoding(span: Span, guess: str | None) -> Diagnostic:
    notes = (_("help: save the file as UTF-8"),)
    if guess:
        msg = _("the file is not UTF-8 (it looks like {encoding})").format(encoding=guess)
    else:
        msg = _("the file is not valid UTF-8")
    return Diagnostic("file-encoding", E, msg, span, notes)


def file_too_large(span: Span, size: int, limit: int) -> Diagnostic:
    return Diagnostic(
        "file-too-large",
        E,
        _("the file is {size} bytes; model files may be at most {limit} bytes").format(
            size=size, limit=limit
        ),
        span,
    )


def too_deep(span: Span, limit: int) -> Diagnostic:
    return Diagnostic(
        "syntax-too-deep",
        E,
        _("brackets are nested more than {limit} deep").format(limit=limit),
        span,
        (_("help: split the expression with `let` definitions"),),
    )


def too_complex(span: Span) -> Diagnostic:
    return Diagnostic(
        "syntax-too-complex",
        E,
        _("this expression is too long or too deeply nested to process"),
        span,
        (_("help: split the expression with `let` definitions"),),
    )


def unexpected_char(span: Span, char: str) -> Diagnostic:
    return Diagnostic(
        "syntax-unexpected-character", E, _("unexpected character {char!r}").format(char=char), span
    )


def unterminated_string(span: Span) -> Diagnostic:
    return Diagnostic(
        "syntax-unterminated-string",
        E,
        _("this string is not closed"),
        span,
        (_('help: add the closing `"` on the same line'),),
    )


def unexpected_token(span: Span, found: str, expected: list[str]) -> Diagnostic:
    notes = ()
    if expected:
        shown = ", ".join(expected[:8]) + (" …" if len(expected) > 8 else "")
        notes = (_("expected one of: {tokens}").format(tokens=shown),)
    return Diagnostic(
        "syntax-unexpected-token", E, _("unexpected {found}").format(found=found), span, notes
    )


def unexpected_eof(span: Span, expected: list[str]) -> Diagnostic:
    notes = ()
    if expected:
        notes = (_("expected one of: {tokens}").format(tokens=", ".join(expected[:8])),)
    return Diagnostic("syntax-unexpected-end", E, _("the file ends too early"), span, notes)


def named_syntax(code: str, span: Span) -> Diagnostic:
    """Syntax errors recognised from examples (see `parser.SYNTAX_EXAMPLES`)."""
    texts = {
        "syntax-indicator-points": (
            _('an indicator needs its points: `indicator ID "名称" points N { ... }`'),
            (),
        ),
        "syntax-expected-expression": (_("an expression is missing here"), ()),
        "syntax-missing-brace": (
            _("a `}` is missing before this point"),
            (_("help: every `{` needs a matching `}`"),),
        ),
        "syntax-model-first": (
            _("a model file must start with `model ID`"),
            (_('help: write `model my_model "标题"` on the first line'),),
        ),
        "syntax-input-type": (
            _("an input needs a type: `input ID: int|number|percent|bool|text|date|enum(...)`"),
            (),
        ),
        "syntax-equals-in-condition": (
            _("`=` assigns; compare with `==`"),
            (),
        ),
    }
    msg, notes = texts[code]
    return Diagnostic(code, E, msg, span, notes)


# ---------------------------------------------------------------- names


def unknown_name(span: Span, name: str, candidates: Iterable[str], what: str = "") -> Diagnostic:
    msg = _("unknown name `{name}`").format(name=name)
    return Diagnostic("unknown-name", E, msg, span, did_you_mean(name, candidates))


def unknown_function(span: Span, name: str, candidates: Iterable[str]) -> Diagnostic:
    return Diagnostic(
        "unknown-function",
        E,
        _("unknown function `{name}`").format(name=name),
        span,
        did_you_mean(name, candidates),
    )


def unknown_grade(span: Span, name: str, candidates: Iterable[str]) -> Diagnostic:
    return Diagnostic(
        "unknown-grade",
        E,
        _("unknown grade {name!r}").format(name=name),
        span,
        did_you_mean(name, candidates),
    )


def unknown_enum_value(span: Span, value: str, input_id: str, values: Iterable[str]) -> Diagnostic:
    values = list(values)
    notes = did_you_mean(value, values) or (
        _("help: allowed values: {values}").format(values=", ".join(values)),
    )
    return Diagnostic(
        "unknown-enum-value",
        E,
        _("{value!r} is not a value of `{input}`").format(value=value, input=input_id),
        span,
        notes,
    )


def duplicate_id(span: Span, name: str, first: Span) -> Diagnostic:
    return Diagnostic(
        "duplicate-id",
        E,
        _("`{name}` is defined twice").format(name=name),
        span,
        (_("note: first defined at {where}").format(where=str(first)),),
    )


def duplicate_header(span: Span, key: str) -> Diagnostic:
    return Diagnostic("duplicate-header", E, _("`{key}` is given twice").format(key=key), span)


def missing_header(span: Span, key: str) -> Diagnostic:
    return Diagnostic(
        "missing-header",
        W,
        _("the model has no `{key}`").format(key=key),
        span,
    )


def cycle(span: Span, path: list[str]) -> Diagnostic:
    return Diagnostic(
        "cycle",
        E,
        _("definitions refer to each other in a cycle: {path}").format(path=" → ".join(path)),
        span,
    )


def not_here(span: Span, name: str, kind: str) -> Diagnostic:
    return Diagnostic(
        "not-available-here",
        E,
        _("`{name}` ({kind}) can only be used in grade conditions").format(name=name, kind=kind),
        span,
    )


# ---------------------------------------------------------------- types


def type_mismatch(span: Span, message: str, notes: tuple[str, ...] = ()) -> Diagnostic:
    return Diagnostic("type-mismatch", E, message, span, notes)


def percent_arith(span: Span, literal: str | None) -> Diagnostic:
    notes = (_("help: write {lit}% if a share was meant").format(lit=literal),) if literal else ()
    return Diagnostic(
        "unit-mismatch", E, _("cannot add or subtract a percentage and a count"), span, notes
    )


def expected_type(span: Span, expected: str, found: str) -> Diagnostic:
    return Diagnostic(
        "type-mismatch",
        E,
        _("expected {expected}, found {found}").format(expected=expected, found=found),
        span,
    )


def percent_vs_count(span: Span, literal: str | None) -> Diagnostic:
    notes = ()
    if literal is not None:
        notes = (_("help: write {lit}% if a share was meant").format(lit=literal),)
    return Diagnostic(
        "unit-mismatch",
        E,
        _("cannot compare a percentage with a count"),
        span,
        notes,
    )


def arity(span: Span, func: str, expected: str, found: int) -> Diagnostic:
    return Diagnostic(
        "wrong-arguments",
        E,
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
    return Diagnostic("indicator-scoring", E, msg, span, notes)


def points_sum(span: Span, where: str, declared: float, actual: float) -> Diagnostic:
    return Diagnostic(
        "points-sum",
        E,
        _("the points of {where} add up to {actual}, but {declared} are declared").format(
            where=where, actual=_num(actual), declared=_num(declared)
        ),
        span,
    )


def points_and_weight(span: Span) -> Diagnostic:
    return Diagnostic("points-and-weight", E, _("give either points or a weight, not both"), span)


def no_points(span: Span) -> Diagnostic:
    return Diagnostic(
        "dimension-points", E, _("this dimension needs `points N` or `weight P%`"), span
    )


def empty_dimension(span: Span, name: str) -> Diagnostic:
    return Diagnostic(
        "empty-dimension", E, _("dimension `{name}` has no indicators").format(name=name), span
    )


def tier_order(span: Span, message: str) -> Diagnostic:
    return Diagnostic("tier-order", E, message, span)


def tier_points(span: Span, points: float, maximum: float) -> Diagnostic:
    return Diagnostic(
        "tier-points",
        E,
        _("a tier gives {points} points, more than the indicator's {max}").format(
            points=_num(points), max=_num(maximum)
        ),
        span,
    )


def tier_unreachable(span: Span) -> Diagnostic:
    return Diagnostic(
        "tier-unreachable",
        W,
        _("this tier can never be reached: an earlier tier already covers it"),
        span,
    )


def linear_bounds(span: Span) -> Diagnostic:
    return Diagnostic("linear-bounds", E, _("`from` and `to` are the same value"), span)


def cap_too_large(span: Span, cap: float, points: float) -> Diagnostic:
    return Diagnostic(
        "cap-too-large",
        E,
        _("the cap {cap} is more than the indicator's {points} points").format(
            cap=_num(cap), points=_num(points)
        ),
        span,
    )


def no_grades(span: Span) -> Diagnostic:
    return Diagnostic("no-grades", E, _("the model has no `grades` block"), span)


def grades_twice(span: Span) -> Diagnostic:
    return Diagnostic("duplicate-header", E, _("the model has more than one `grades` block"), span)


def grade_after_otherwise(span: Span) -> Diagnostic:
    return Diagnostic(
        "grade-unreachable",
        W,
        _("this grade can never be reached: an `otherwise` grade comes before it"),
        span,
    )


def grade_unreachable(span: Span, reason: str) -> Diagnostic:
    return Diagnostic("grade-unreachable", W, reason, span)


def no_otherwise(span: Span) -> Diagnostic:
    return Diagnostic(
        "grade-no-otherwise",
        W,
        _("no grade ends with `otherwise`: a community that meets no condition gets no grade"),
        span,
    )


def duplicate_grade(span: Span, name: str) -> Diagnostic:
    return Diagnostic(
        "duplicate-id", E, _("grade {name!r} is listed twice").format(name=name), span
    )


def veto_no_effect(span: Span, reason: str) -> Diagnostic:
    return Diagnostic("veto-no-effect", W, reason, span)


def unused_input(span: Span, name: str) -> Diagnostic:
    return Diagnostic("unused-input", W, _("input `{name}` is never used").format(name=name), span)


def unused_let(span: Span, name: str) -> Diagnostic:
    return Diagnostic(
        "unused-let", W, _("`{name}` is defined but never used").format(name=name), span
    )


def range_order(span: Span) -> Diagnostic:
    return Diagnostic("range-order", E, _("the range's lower bound is above its upper bound"), span)


def range_type(span: Span, type_name: str) -> Diagnostic:
    return Diagnostic(
        "range-type", E, _("a range does not apply to a {type} input").format(type=type_name), span
    )


def enum_duplicate(span: Span, value: str) -> Diagnostic:
    return Diagnostic(
        "duplicate-id", E, _("enum value {value!r} is listed twice").format(value=value), span
    )


def unsupported(span: Span, what: str) -> Diagnostic:
    return Diagnostic(
        "unsupported",
        E,
        _("{what} is not supported yet").format(what=what),
        span,
    )


def bad_test(span: Span, message: str) -> Diagnostic:
    return Diagnostic("test-invalid", E, message, span)


def value_type(span: Span, name: str, expected: str) -> Diagnostic:
    return Diagnostic(
        "type-mismatch",
        E,
        _("`{name}` takes {expected}").format(name=name, expected=expected),
        span,
    )


def invalid_date(span: Span, text: str) -> Diagnostic:
    return Diagnostic("invalid-date", E, _("{text} is not a valid date").format(text=text), span)


def target_op(span: Span, op: str) -> Diagnostic:
    return Diagnostic(
        "target-op",
        E,
        _("a target is a share to reach: write `share >= P%`, not `{op}`").format(op=op),
        span,
    )


def _num(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------- composition


def import_not_found(span: Span, path: str) -> Diagnostic:
    return Diagnostic(
        "import-not-found",
        E,
        _("cannot find the file {path!r} to import").format(path=path),
        span,
        (_("help: the path is relative to the importing file"),),
    )


def import_not_library(span: Span, path: str) -> Diagnostic:
    return Diagnostic(
        "import-not-library",
        E,
        _("{path!r} is a test suite; only a `library` or a `model` file can be imported").format(
            path=path
        ),
        span,
    )


def import_alias(span: Span) -> Diagnostic:
    return Diagnostic(
        "import-alias",
        E,
        _("imported names are used without a prefix; `as` is not supported"),
        span,
        (_('help: write `import "file.gov"`'),),
    )


def unknown_base(span: Span, name: str, candidates: Iterable[str]) -> Diagnostic:
    return Diagnostic(
        "unknown-base",
        E,
        _("cannot find the base model `{name}`").format(name=name),
        span,
        did_you_mean(name, candidates)
        or (_("help: check it with the files of the base, or install its plugin"),),
    )


def base_not_model(span: Span, name: str) -> Diagnostic:
    return Diagnostic(
        "unknown-base",
        E,
        _("`{name}` is not a model and cannot be extended").format(name=name),
        span,
    )


def composition_cycle(span: Span, path: list[str]) -> Diagnostic:
    return Diagnostic(
        "extends-cycle",
        E,
        _("`extends`/`import` form a cycle: {path}").format(path=" → ".join(path)),
        span,
    )


def base_version(span: Span, base: str, pinned: str, actual: str | None) -> Diagnostic:
    return Diagnostic(
        "base-version",
        E,
        _("this model pins `{base}` version {pinned!r}, but the base is version {actual!r}").format(
            base=base, pinned=pinned, actual=actual or "?"
        ),
        span,
        (_("help: review the changes of the base, then update the pinned version"),),
    )


def override_unknown(span: Span, name: str, what: str, candidates: Iterable[str]) -> Diagnostic:
    return Diagnostic(
        "override-unknown",
        E,
        _("the base model has no {what} `{name}` to change").format(what=what, name=name),
        span,
        did_you_mean(name, candidates),
    )


def override_invalid(span: Span, message: str) -> Diagnostic:
    return Diagnostic("override-invalid", E, message, span)


def override_without_extends(span: Span) -> Diagnostic:
    return Diagnostic(
        "override-without-extends",
        E,
        _("`override` and `drop` change a base model: the model needs `extends BASE`"),
        span,
    )


def extends_nothing(span: Span, base: str) -> Diagnostic:
    return Diagnostic(
        "extends-nothing",
        W,
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
    return Diagnostic(
        "threshold-out-of-range",
        W,
        _("the threshold {value} lies outside the declared range of `{input}` ({lo}..{hi})").format(
            value=value, input=input_id, lo=lo, hi=hi
        ),
        span,
        (_("help: correct the threshold, or widen the input's `range`"),),
    )


def grade_shadowed(span: Span, grade: str, earlier: str) -> Diagnostic:
    return Diagnostic(
        "grade-shadowed",
        W,
        _(
            "grade {grade!r} can never be given: every community that meets it already gets {earlier!r}"
        ).format(grade=grade, earlier=earlier),
        span,
        (_("help: grades are tried best first; put the stricter condition first"),),
    )


def grade_never(span: Span, grade: str, reason: str) -> Diagnostic:
    return Diagnostic(
        "grade-unreachable",
        W,
        _("grade {grade!r} can never be reached: {reason}").format(grade=grade, reason=reason),
        span,
    )


def veto_never(span: Span, veto: str, reason: str) -> Diagnostic:
    return Diagnostic(
        "veto-never-triggers",
        W,
        _("veto `{veto}` can never trigger: {reason}").format(veto=veto, reason=reason),
        span,
    )


def indicator_constant(span: Span, indicator: str, reason: str) -> Diagnostic:
    return Diagnostic(
        "indicator-constant",
        W,
        _("the outcome of indicator `{indicator}` can never change: {reason}").format(
            indicator=indicator, reason=reason
        ),
        span,
    )
