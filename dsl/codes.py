"""Every problem code, declared once: the code string, its severity, the phase
that reports it, where `docs/checks.md` explains it, and a one-line summary.

Codes are stable across releases (CI filters and SARIF rules name them), so an
entry's `code` never changes once released; the message wording lives in
`zhili.dsl.messages` (one factory per kind) and is translated. The engine's
data and plugin problems take their codes from here too, so one registry and
one page list everything zhili can complain about. `tests/test_codes.py`
holds the registry, the source, the docs and the test cases to each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from zhili.dsl.ast import Span
from zhili.dsl.diagnostics import Diagnostic, Severity

DOC_PAGE = "docs/checks.md"


class Phase(StrEnum):
    """Which part of zhili reports a code (the sections of `docs/checks.md`)."""

    FILE = "file"  # reading a model file: size, encoding, binary
    SYNTAX = "syntax"  # the parser
    CHECK = "check"  # the checker: names, types, structure, budget, grades
    COMPOSE = "compose"  # `import` and `extends`
    ANALYSIS = "analysis"  # static analysis of a checked model (ranges, implications)
    TEST = "test"  # model test cases (`test "…" { … }`, `tests for`)
    DATA = "data"  # loading community data
    ROUND = "round"  # an assessment round: the roster, the returned forms, completeness
    PLUGIN = "plugin"  # loading plugins


@dataclass(frozen=True)
class Code:
    """One registered problem code."""

    code: str
    severity: Severity
    phase: Phase
    summary: str

    @property
    def anchor(self) -> str:
        """The Markdown anchor of the code's entry in `docs/checks.md`."""
        return self.code

    @property
    def doc(self) -> str:
        """Where the code is explained: `docs/checks.md#<code>`."""
        return f"{DOC_PAGE}#{self.anchor}"

    def diagnostic(self, message: str, span: Span, notes: tuple[str, ...] = ()) -> Diagnostic:
        """A diagnostic of this code (the message factories call this)."""
        return Diagnostic(self.code, self.severity, message, span, notes)


REGISTRY: dict[str, Code] = {}


def _code(code: str, severity: Severity, phase: Phase, summary: str) -> Code:
    assert code not in REGISTRY, f"code {code} is declared twice"
    entry = Code(code, severity, phase, summary)
    REGISTRY[code] = entry
    return entry


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

# ---------------------------------------------------------------- reading a file
FILE_UNREADABLE = _code("file-unreadable", E, Phase.FILE, "the file cannot be read")
FILE_EMPTY = _code("file-empty", E, Phase.FILE, "the file is empty")
FILE_BINARY = _code("file-binary", E, Phase.FILE, "a binary file, not a model file")
FILE_ENCODING = _code("file-encoding", E, Phase.FILE, "the file is not UTF-8")
FILE_TOO_LARGE = _code("file-too-large", E, Phase.FILE, "the file is larger than a model may be")

# ---------------------------------------------------------------- syntax
SYNTAX_TOO_DEEP = _code("syntax-too-deep", E, Phase.SYNTAX, "brackets nested too deep")
SYNTAX_TOO_COMPLEX = _code(
    "syntax-too-complex", E, Phase.SYNTAX, "an expression too long or too nested to parse"
)
SYNTAX_UNEXPECTED_CHARACTER = _code(
    "syntax-unexpected-character", E, Phase.SYNTAX, "a character the language does not use"
)
SYNTAX_UNTERMINATED_STRING = _code(
    "syntax-unterminated-string", E, Phase.SYNTAX, "a string not closed on its line"
)
SYNTAX_UNEXPECTED_TOKEN = _code(
    "syntax-unexpected-token", E, Phase.SYNTAX, "a word or sign where it cannot stand"
)
SYNTAX_UNEXPECTED_END = _code("syntax-unexpected-end", E, Phase.SYNTAX, "the file ends too early")
SYNTAX_RESERVED_WORD = _code(
    "syntax-reserved-word", E, Phase.SYNTAX, "a reserved word (`data`, `total` …) used as a name"
)
SYNTAX_UNCLOSED_BRACE = _code(
    "syntax-unclosed-brace", E, Phase.SYNTAX, "a `{` whose `}` is missing"
)
SYNTAX_TIERS_COMMA = _code("syntax-tiers-comma", E, Phase.SYNTAX, "tiers separated by commas")
SYNTAX_CAUSES_COMMA = _code(
    "syntax-causes-comma", E, Phase.SYNTAX, "deduction causes separated by commas"
)
SYNTAX_LINEAR_MAX = _code(
    "syntax-linear-max", E, Phase.SYNTAX, "`max` after `linear`: the indicator's points cap it"
)
SYNTAX_NEGATIVE_POINTS = _code(
    "syntax-negative-points",
    E,
    Phase.SYNTAX,
    "points or an amount written negative (a 减分项 is a `penalty`)",
)
SYNTAX_INDICATOR_POINTS = _code(
    "syntax-indicator-points", E, Phase.SYNTAX, "an indicator without `points N`"
)
SYNTAX_EXPECTED_EXPRESSION = _code(
    "syntax-expected-expression", E, Phase.SYNTAX, "an expression is missing"
)
SYNTAX_MODEL_FIRST = _code(
    "syntax-model-first", E, Phase.SYNTAX, "a model file that does not start with `model ID`"
)
SYNTAX_INPUT_TYPE = _code("syntax-input-type", E, Phase.SYNTAX, "an input without a type")
SYNTAX_EQUALS_IN_CONDITION = _code(
    "syntax-equals-in-condition", E, Phase.SYNTAX, "`=` where `==` compares"
)

# ---------------------------------------------------------------- names and declarations
UNKNOWN_NAME = _code("unknown-name", E, Phase.CHECK, "a name that is not declared")
UNKNOWN_FUNCTION = _code("unknown-function", E, Phase.CHECK, "a function that does not exist")
UNKNOWN_GRADE = _code("unknown-grade", E, Phase.CHECK, "a grade the model does not have")
UNKNOWN_ENUM_VALUE = _code(
    "unknown-enum-value", E, Phase.CHECK, "a value that is not one of the enum's (or the set's)"
)
SET_VALUES = _code(
    "set-values",
    E,
    Phase.CHECK,
    "a set's listed value a data cell cannot write (a separator), or too many values",
)
DUPLICATE_ID = _code(
    "duplicate-id", E, Phase.CHECK, "an id, grade, enum value or test name given twice"
)
DUPLICATE_HEADER = _code(
    "duplicate-header", E, Phase.CHECK, "a header statement or `grades` block given twice"
)
MISSING_HEADER = _code(
    "missing-header", W, Phase.CHECK, "the model has no `version`, `issuer` or `source`"
)
RESERVED_NAME = _code(
    "reserved-name", E, Phase.CHECK, "a declaration named like a result (`total`, `share`, …)"
)
NOT_AVAILABLE_HERE = _code(
    "not-available-here", E, Phase.CHECK, "a result used outside grade conditions"
)
CYCLE = _code("cycle", E, Phase.CHECK, "definitions that refer to each other")
INVALID_DATE = _code("invalid-date", E, Phase.CHECK, "a date that does not exist")
UNSUPPORTED = _code("unsupported", E, Phase.CHECK, "a statement not supported in this file")

# ---------------------------------------------------------------- types
TYPE_MISMATCH = _code("type-mismatch", E, Phase.CHECK, "a value of the wrong type")
UNIT_MISMATCH = _code(
    "unit-mismatch", E, Phase.CHECK, "a percentage compared with or added to a count"
)
WRONG_ARGUMENTS = _code(
    "wrong-arguments", E, Phase.CHECK, "a function called with the wrong number of arguments"
)

# ---------------------------------------------------------------- inputs
RANGE_ORDER = _code("range-order", E, Phase.CHECK, "a range whose lower bound is above its upper")
RANGE_TYPE = _code("range-type", E, Phase.CHECK, "a range on an input that has no order")
UNUSED_INPUT = _code("unused-input", W, Phase.CHECK, "an input nothing uses")
PREVIOUS_NOT_INPUT = _code(
    "previous-not-input", E, Phase.CHECK, "`previous` naming something other than another input"
)
PREVIOUS_TYPE = _code("previous-type", E, Phase.CHECK, "`previous` of an input of another type")
UNUSED_LET = _code("unused-let", W, Phase.CHECK, "a definition nothing uses")

# ---------------------------------------------------------------- structure and budget
INDICATOR_SCORING = _code(
    "indicator-scoring", E, Phase.CHECK, "an indicator without exactly one scoring rule"
)
BAD_PRECISION = _code(
    "bad-precision", E, Phase.CHECK, "a `precision` that is not a whole number from 0 to 6"
)
CONSTANT_DIVISION_BY_ZERO = _code(
    "constant-division-by-zero", E, Phase.CHECK, "a constant expression divides by zero"
)
CONSTANT_OVERFLOW = _code(
    "constant-overflow", E, Phase.CHECK, "a constant expression leaves the number range"
)
POINTS_SUM = _code("points-sum", E, Phase.CHECK, "points that do not add up to the declared total")
POINTS_AND_WEIGHT = _code("points-and-weight", E, Phase.CHECK, "both points and a weight")
DIMENSION_POINTS = _code("dimension-points", E, Phase.CHECK, "a dimension without points or weight")
EMPTY_DIMENSION = _code("empty-dimension", E, Phase.CHECK, "a dimension without indicators")
TIER_ORDER = _code("tier-order", E, Phase.CHECK, "tiers out of order, overlapping or mixed")
TIER_POINTS = _code("tier-points", E, Phase.CHECK, "a tier worth more than its indicator")
TIER_UNREACHABLE = _code("tier-unreachable", W, Phase.CHECK, "a tier an earlier one covers")
LINEAR_BOUNDS = _code("linear-bounds", E, Phase.CHECK, "`linear` with `from` equal to `to`")
CAP_TOO_LARGE = _code("cap-too-large", E, Phase.CHECK, "a deduction or bonus cap above the points")
SCORE_RANGE = _code(
    "score-range", W, Phase.CHECK, "`score` of an input whose range goes beyond 0..points"
)
EMPTY_TEXT = _code("empty-text", E, Phase.CHECK, "an empty `method` or `by` text")

# ---------------------------------------------------------------- events (前提、清零、免检)
REQUIRES_TWICE = _code("requires-twice", E, Phase.CHECK, "an indicator with two `requires` gates")
ZERO_NO_POINTS = _code(
    "zero-no-points", W, Phase.CHECK, "a `zero when` event on an item that has no points"
)
EXEMPT_NO_ITEM = _code(
    "exempt-no-item", E, Phase.CHECK, "an exemption naming something that is not a scored item"
)
EXEMPT_BONUS = _code("exempt-bonus", E, Phase.CHECK, "an exemption naming a bonus indicator")
CAP_NEVER_BINDS = _code(
    "cap-never-binds", W, Phase.CHECK, "a deduction, penalty or section cap no community can reach"
)
PENALTY_POINTS = _code(
    "penalty-points", E, Phase.CHECK, "a `penalty` item (减分项) given points of its own"
)
SECTION_MAX = _code(
    "section-max",
    E,
    Phase.CHECK,
    "a dimension's `max C` not on a section of only bonus or only penalty items",
)
DEDUCT_STEP = _code(
    "deduct-step", E, Phase.CHECK, "a deduction step that is not a positive number or percentage"
)

# ---------------------------------------------------------------- grades, vetoes, targets
NO_GRADES = _code("no-grades", E, Phase.CHECK, "the model has no `grades` block")
GRADE_UNREACHABLE = _code("grade-unreachable", W, Phase.CHECK, "a grade no community can get")
GRADE_NO_OTHERWISE = _code(
    "grade-no-otherwise", W, Phase.CHECK, "no `otherwise` grade: some communities get none"
)
VETO_NO_EFFECT = _code("veto-no-effect", W, Phase.CHECK, "a veto that changes no grade")
TARGET_OP = _code("target-op", E, Phase.CHECK, "a target that is not `share >= P%`")

# ---------------------------------------------------------------- tests
TEST_INVALID = _code("test-invalid", E, Phase.TEST, "a test case that cannot be run")
GIVEN_OUT_OF_RANGE = _code(
    "given-out-of-range", W, Phase.TEST, "a `given` value outside its input's declared range"
)

# ---------------------------------------------------------------- composition
IMPORT_NOT_FOUND = _code("import-not-found", E, Phase.COMPOSE, "the imported file is not there")
IMPORT_NOT_LIBRARY = _code("import-not-library", E, Phase.COMPOSE, "a test suite imported")
IMPORT_ALIAS = _code("import-alias", E, Phase.COMPOSE, "`import … as …`, which is not supported")
UNKNOWN_BASE = _code("unknown-base", E, Phase.COMPOSE, "the extended model is not found")
EXTENDS_CYCLE = _code("extends-cycle", E, Phase.COMPOSE, "models extending or importing in a cycle")
BASE_VERSION = _code("base-version", E, Phase.COMPOSE, "the base is not the pinned version")
OVERRIDE_UNKNOWN = _code("override-unknown", E, Phase.COMPOSE, "an override naming nothing")
OVERRIDE_INVALID = _code(
    "override-invalid", E, Phase.COMPOSE, "an override that cannot apply to its part"
)
OVERRIDE_WITHOUT_EXTENDS = _code(
    "override-without-extends", E, Phase.COMPOSE, "`override` or `drop` without `extends`"
)
EXTENDS_NOTHING = _code("extends-nothing", W, Phase.COMPOSE, "an `extends` that changes nothing")

# ---------------------------------------------------------------- static analysis
THRESHOLD_OUT_OF_RANGE = _code(
    "threshold-out-of-range", W, Phase.ANALYSIS, "a threshold outside the input's range"
)
GRADE_SHADOWED = _code("grade-shadowed", W, Phase.ANALYSIS, "a grade an earlier grade covers")
PRECISION_PAST_TOTAL = _code(
    "precision-past-total",
    W,
    Phase.ANALYSIS,
    "points finer than `precision` whose published sum can pass the total",
)
VETO_NEVER_TRIGGERS = _code(
    "veto-never-triggers", W, Phase.ANALYSIS, "a veto the input ranges rule out"
)
INDICATOR_CONSTANT = _code(
    "indicator-constant", W, Phase.ANALYSIS, "an indicator whose outcome never changes"
)

# ---------------------------------------------------------------- community data
DATA_TOTALS_ROW = _code("data-totals-row", I, Phase.DATA, "a totals row (合计) is skipped")
DATA_EXTRA_CELLS = _code("data-extra-cells", W, Phase.DATA, "a row with more cells than headers")
DATA_SHORT_ROW = _code("data-short-row", W, Phase.DATA, "a row with fewer cells than headers")
DATA_REPEATED_HEADER = _code(
    "data-repeated-header", I, Phase.DATA, "a repeated header row (two exports joined) is skipped"
)
DATA_UNITS_ROW = _code(
    "data-units-row", I, Phase.DATA, "a row of units under the header ((人), (%)) is skipped"
)
DATA_STRAY_ROW = _code(
    "data-stray-row", W, Phase.DATA, "a row that holds no community's data is skipped"
)
DATA_NO_COLUMN = _code("data-no-column", E, Phase.DATA, "no column for a required input")
DATA_NO_OPTIONAL_COLUMN = _code(
    "data-no-optional-column", W, Phase.DATA, "no column for an optional input"
)
DATA_UNKNOWN_COLUMN = _code("data-unknown-column", I, Phase.DATA, "a column that matches no input")
DATA_INVALID_VALUE = _code(
    "data-invalid-value", W, Phase.DATA, "a cell that cannot be read as its input's type or range"
)
DATA_DUPLICATE_COLUMN = _code(
    "data-duplicate-column", E, Phase.DATA, "two columns for one input, with different cells"
)
DATA_REPEATED_COLUMN = _code(
    "data-repeated-column", W, Phase.DATA, "two columns for one input, with the same cells"
)
DATA_ERROR_CELL = _code(
    "data-error-cell", W, Phase.DATA, "a workbook cell holding an error value (#DIV/0!, #N/A)"
)
DATA_UNCOMPUTED_FORMULA = _code(
    "data-uncomputed-formula", W, Phase.DATA, "a workbook formula saved without its value"
)
DATA_OTHER_SHEETS = _code(
    "data-other-sheets", I, Phase.DATA, "other sheets of the workbook hold data too"
)
DATA_ROW_AFTER_GAP = _code(
    "data-row-after-gap", W, Phase.DATA, "a workbook row far below the others (a stray cell?)"
)
DATA_UNREADABLE_COLUMN = _code(
    "data-unreadable-column", E, Phase.DATA, "a Parquet column of a type with no readable cells"
)
DATA_DUPLICATE_ID = _code("data-duplicate-id", E, Phase.DATA, "a community id given twice")
DATA_SCORE_CLAMPED = _code(
    "data-score-clamped", W, Phase.DATA, "a score given by another body outside 0..points"
)
DATA_FRACTION_SHARES = _code(
    "data-fraction-shares",
    W,
    Phase.DATA,
    "a plain fraction (0.85) in a percent column, or 85 where plain numbers are fractions",
)
DATA_READER_PROBLEM = _code(
    "data-reader-problem", W, Phase.DATA, "a problem a plugin's reader reported without a code"
)

# ---------------------------------------------------------------- an assessment round
ROUND_ROSTER_ROW = _code(
    "round-roster-row", E, Phase.ROUND, "a roster row without a community id or name"
)
ROUND_UNRECOGNISED = _code(
    "round-unrecognised", E, Phase.ROUND, "a file in the returns folder that is not a form"
)
ROUND_OTHER_MODEL = _code("round-other-model", E, Phase.ROUND, "a form of another model")
ROUND_OLD_FORM = _code("round-old-form", E, Phase.ROUND, "a form of another version of the model")
ROUND_SUPERSEDED = _code(
    "round-superseded", I, Phase.ROUND, "an older return of a unit, replaced by a newer one"
)
ROUND_NOT_SUBMITTED = _code(
    "round-not-submitted", W, Phase.ROUND, "a roster community with no data (未上报)"
)
ROUND_NOT_IN_ROSTER = _code(
    "round-not-in-roster", E, Phase.ROUND, "a returned community the roster does not list"
)
ROUND_PREFILL_EDITED = _code(
    "round-prefill-edited", E, Phase.ROUND, "a pre-filled id or name changed by the submitter"
)
ROUND_REQUIRED_EMPTY = _code("round-required-empty", W, Phase.ROUND, "a required cell left empty")

# ---------------------------------------------------------------- plugins
PLUGIN_LOAD_FAILED = _code("plugin-load-failed", W, Phase.PLUGIN, "a plugin failed to import")
PLUGIN_REGISTER_FAILED = _code(
    "plugin-register-failed", W, Phase.PLUGIN, "a plugin could not be registered"
)
PLUGIN_INVALID = _code(
    "plugin-invalid", W, Phase.PLUGIN, "a hook implementation named like no hook"
)
PLUGIN_HOOK_FAILED = _code("plugin-hook-failed", W, Phase.PLUGIN, "a plugin's hook raised")
PLUGIN_BAD_RESULT = _code("plugin-bad-result", W, Phase.PLUGIN, "a hook returned the wrong type")
PLUGIN_DUPLICATE = _code(
    "plugin-duplicate", W, Phase.PLUGIN, "a name another plugin already provides"
)
PLUGIN_BAD_SUFFIX = _code("plugin-bad-suffix", W, Phase.PLUGIN, "a data reader's suffix is taken")
PLUGIN_MODEL_PATH = _code("plugin-model-path", W, Phase.PLUGIN, "a model path that does not exist")
PLUGIN_MODEL_ERRORS = _code("plugin-model-errors", W, Phase.PLUGIN, "a plugin's model has errors")
