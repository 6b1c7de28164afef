"""Parse `.gov` source into the AST (`zhili.dsl.ast`), with diagnostics.

`parse(text, file)` never raises on bad input: every problem (encoding,
size, nesting, syntax) becomes a `Diagnostic` and the tree is `None`.
"""

from __future__ import annotations

import functools
import os
import re
from datetime import date
from decimal import Decimal
from importlib.resources import files

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from zhili.dsl import ast, grammar_cache
from zhili.dsl import codes as C
from zhili.dsl import messages as m
from zhili.dsl.ast import Span
from zhili.dsl.diagnostics import Diagnostic, sort_and_cap
from zhili.dsl.i18n import _

MAX_FILE_BYTES = 1_000_000
MAX_NESTING = 64
MAX_SYNTAX_ERRORS = 20


_LARK_OPTIONS = {
    "parser": "lalr",
    "lexer": "basic",
    "propagate_positions": True,
    "maybe_placeholders": False,
}


@functools.cache
def lark_parser() -> Lark:
    """The parser, built once per process; its tables come from a per-user
    cache when a safe one exists (`zhili.dsl.grammar_cache`), never from the
    shared temp folder."""
    grammar = files("zhili.dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    cache = grammar_cache.cache_path(grammar, _LARK_OPTIONS)
    return Lark(grammar, cache=cache or False, **_LARK_OPTIONS)


class ParseResult:
    __slots__ = ("tree", "diagnostics", "text")

    def __init__(self, tree: ast.File | None, diagnostics: list[Diagnostic], text: str | None):
        self.tree = tree
        self.diagnostics = diagnostics
        self.text = text

    @property
    def ok(self) -> bool:
        return self.tree is not None and not any(d.is_error for d in self.diagnostics)


def _point(file: str, text: str, offset: int, length: int = 1) -> Span:
    length = max(0, min(length, len(text) - offset))  # at the end of the file: empty
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(file, line, col, line, col + length, offset, offset + length)


def decode(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes → text. UTF-8 (a BOM is allowed); anything else is a diagnostic."""
    start = Span(file, 1, 1, 1, 1, 0, 0)
    if len(data) > MAX_FILE_BYTES:
        return None, [m.file_too_large(start, len(data), MAX_FILE_BYTES)]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # a UTF-16 byte order mark
        return None, [m.file_encoding(start, "UTF-16")]
    if b"\x00" in data[:8192]:
        return None, [m.file_binary(start)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        guess = None
        for enc in ("gb18030", "big5"):
            try:
                data.decode(enc)
                guess = "GBK/GB18030" if enc == "gb18030" else "Big5"
                break
            except UnicodeDecodeError:
                continue
        return None, [m.file_encoding(_point(file, good, len(good)), guess)]
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:  # old Mac line ends: a lone CR ends a line (offsets are kept)
        text = re.sub(r"\r(?!\n)", "\n", text)
    return text, []


def parse_file(path: str, display: str | None = None) -> ParseResult:
    name = display or path
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                size = os.fstat(fh.fileno()).st_size
                return ParseResult(
                    None,
                    [m.file_too_large(Span(name, 1, 1, 1, 1, 0, 0), size, MAX_FILE_BYTES)],
                    None,
                )
    except OSError as exc:
        return ParseResult(
            None, [m.file_unreadable(Span(name, 1, 1, 1, 1, 0, 0), exc.strerror or str(exc))], None
        )
    text, diags = decode(data, name)
    if text is None:
        return ParseResult(None, diags, None)
    return parse(text, name)


def parse(text: str, file: str = "<string>") -> ParseResult:
    """Parse model source text. Never raises for bad input."""
    if len(text) > MAX_FILE_BYTES:
        return ParseResult(
            None, [m.file_too_large(Span(file, 1, 1, 1, 1, 0, 0), len(text), MAX_FILE_BYTES)], text
        )
    if "\x00" in text:
        return ParseResult(None, [m.file_binary(Span(file, 1, 1, 1, 1, 0, 0))], text)
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return ParseResult(None, [m.file_empty(Span(file, 1, 1, 1, 1, 0, 0))], text)
    deep = _nesting_error(text, file)
    if deep is not None:
        return ParseResult(None, [deep], text)

    errors: list[Diagnostic] = []
    last_error = [-2]  # offset of the last bad token

    def on_error(exc: UnexpectedInput) -> bool:
        # Lark drops the bad token and retries in the same state. Until a token
        # after it is accepted, every further error is a cascade of this one.
        if _accepted_up_to(exc) > last_error[0]:
            errors.append(_syntax_diagnostic(exc, text, file))
        tok = getattr(exc, "token", None)
        last_error[0] = tok.start_pos if isinstance(tok, Token) else exc.pos_in_stream
        _resync(exc)
        return len(errors) < MAX_SYNTAX_ERRORS and not isinstance(exc, UnexpectedEOF)

    try:
        tree = lark_parser().parse(text, on_error=on_error)
    except UnexpectedInput as exc:
        if not errors:
            errors.append(_syntax_diagnostic(exc, text, file))
        tree = None
    except RecursionError:
        return ParseResult(None, [m.too_complex(Span(file, 1, 1, 1, 1, 0, 0))], text)
    if errors:
        return ParseResult(None, _first_per_line(errors), text)
    try:
        return ParseResult(_ToAst(file, text).transform(tree), [], text)
    except RecursionError:
        return ParseResult(None, [m.too_complex(Span(file, 1, 1, 1, 1, 0, 0))], text)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RecursionError):
            return ParseResult(None, [m.too_complex(Span(file, 1, 1, 1, 1, 0, 0))], text)
        raise


# Keywords that only ever start a statement. After a syntax error the parser
# resumes at the next one instead of dropping it with the broken statement.
_STATEMENT_STARTS = frozenset(
    {"INPUT", "LET", "DIMENSION", "INDICATOR", "VETO", "GRADES", "TARGET", "TEST"}
)


def _resync(exc: UnexpectedInput) -> None:
    """Panic-mode recovery: when the bad token starts a statement, pop the
    parser back to the enclosing block that accepts it and feed it there."""
    tok = getattr(exc, "token", None)
    parser = getattr(exc, "interactive_parser", None)
    if parser is None or not isinstance(tok, Token) or tok.type not in _STATEMENT_STARTS:
        return
    state = parser.parser_state
    while len(state.state_stack) > 1 and tok.type not in parser.choices():
        state.state_stack.pop()
        state.value_stack.pop()
    if tok.type in parser.choices():
        try:
            parser.feed_token(tok)
        except UnexpectedInput:  # LALR may reduce before it finds the error
            pass


def _accepted_up_to(exc: UnexpectedInput) -> int:
    """Where the last token the parser accepted ends (-1: none, or unknown)."""
    state = getattr(getattr(exc, "interactive_parser", None), "parser_state", None)
    for value in reversed(state.value_stack if state is not None else ()):
        if isinstance(value, Token) and value.end_pos is not None:
            return value.end_pos
        meta = getattr(value, "meta", None)
        if meta is not None and not meta.empty:
            return meta.end_pos
    return -1 if state is not None else 1 << 62


def _first_per_line(errors: list[Diagnostic]) -> list[Diagnostic]:
    """After the first error the parser resynchronises on the next token; keep
    one error per line so a single mistake doesn't cascade."""
    out, lines = [], set()
    for d in sort_and_cap(errors):
        if d.span.line not in lines:
            lines.add(d.span.line)
            out.append(d)
    return out


def _nesting_error(text: str, file: str) -> Diagnostic | None:
    depth = 0
    in_string = False
    in_comment = False
    escape = False
    for i, ch in enumerate(text):
        if in_comment:
            if ch == "\n":
                in_comment = False
            continue
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"' or ch == "\n":
                in_string = False
            continue
        if ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                return m.too_deep(_point(file, text, i), MAX_NESTING)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return None


# ---------------------------------------------------------------- syntax errors

_TOKEN_TEXT = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "NUMBER": "a number",
    "PERCENT": "a percentage",
    "DATE": "a date (YYYY-MM-DD)",
    "CMP_OP": "a comparison (>=, <, ==, …)",
    "OR_PART": "`or part`",
    "$END": "the end of the file",
}

# Named syntax errors recognised by the parser state (lark's match_examples).
SYNTAX_EXAMPLES: dict[str, list[str]] = {
    # (an indicator without `points N` parses: only a `penalty` item may
    # have none, so the checker reports `syntax-indicator-points` for the others)
    C.SYNTAX_EXPECTED_EXPRESSION.code: [
        "model m\nlet a =",
        "model m\nlet a = 1 +",
        "model m\nlet a = (",
        'model m\nindicator a "x" points 1 { pass when }',
        "model m\nlet a = 1 >",
        "model m\nlet a = 1 and",
        "model m\nlet a = not",
        "model m\nlet a = 1 *",
        "model m\nlet a = -",
        "model m\nlet a = if",
        "model m\nlet a = 1 or",
        "model m\nlet a = if 1 then",
        "model m\nlet a = if 1 then 1 else",
        'model m\nindicator a "x" points 1 { requires }',
        'model m\nindicator a "x" points 1 { zero when }',
        "model m\ndimension d points 1 { zero when }",
        "model m\nexempt e from a when",
    ],
    C.SYNTAX_MODEL_FIRST.code: [
        'title "x"',
        "input a: int",
        "let a = 1",
    ],
    C.SYNTAX_INPUT_TYPE.code: [
        "model m\ninput a label",
        "model m\ninput a: integer",
    ],
    C.SYNTAX_EQUALS_IN_CONDITION.code: [
        'model m\nindicator a "x" points 1 { pass when b = 1 }',
        "model m\nlet a = b = 1",
    ],
    C.SYNTAX_TIERS_COMMA.code: [
        'model m\nindicator a "x" points 1 { tiers b { >= 1 : 1, else : 0 } }',
        'model m\nindicator a "x" points 1 { tiers b { >= 1 : 1.5, else : 0 } }',
        'model m\nindicator a "x" points 1 { tiers b { >= 1 : 1 else : 0, } }',
        'model m\nindicator a "x" points 1 { tiers b { >= 1 : 1 else : 0.5, } }',
    ],
    C.SYNTAX_CAUSES_COMMA.code: [
        'model m\nindicator a "x" points 1 { deduct { 1 per b, 1 per c } }',
        'model m\nindicator a "x" points 1 { deduct { 1 per b "l", 1 per c } }',
        'model m\nindicator a "x" points 1 { deduct { 1 when b, 1 per c } }',
        'model m\nindicator a "x" points 1 { deduct { 1 per 1 of b below 2, 1 per c } }',
    ],
}
# Named errors that hold only for the token of their examples (the others
# hold for any token in the parser state their examples reach).
_TOKEN_BOUND = frozenset(
    {C.SYNTAX_EQUALS_IN_CONDITION.code, C.SYNTAX_TIERS_COMMA.code, C.SYNTAX_CAUSES_COMMA.code}
)


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return _("the end of the file")
    value = tok.value if len(tok.value) <= 40 else tok.value[:30] + "…"  # a 1 MB string
    return f"`{value}`"


def _expected_names(exc: UnexpectedInput) -> list[str]:
    expected = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    names = []
    lark = lark_parser()
    for name in sorted(expected):
        if name in _TOKEN_TEXT:
            names.append(_(_TOKEN_TEXT[name]))
            continue
        try:
            term = lark.get_terminal(name)
        except KeyError:
            names.append(name)
            continue
        pattern = term.pattern
        if pattern.type == "str":
            names.append(f"`{pattern.value}`")
        else:
            names.append(name.lower())
    # keywords first, then categories; stable order
    return sorted(set(names), key=lambda s: (not s.startswith("`"), s))


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = text[pos] if pos < len(text) else ""
        span = _point(file, text, pos)
        if char == '"':
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            return m.unterminated_string(_point(file, text, pos, max(end - pos, 1)))
        return m.unexpected_char(span, char)
    if isinstance(exc, UnexpectedToken):
        special = (
            _reserved_or_unclosed(exc, text, file)
            or _linear_max(exc, text, file)
            or _negative_bonus(exc, text, file)
            or _expect_points_first(exc, text, file)
        )
        if special is not None:
            return special
        tok = exc.token
        if tok.type == "$END":
            pos = len(text.rstrip())
            span = _point(file, text, pos)
        else:
            span = Span(
                file,
                tok.line,
                tok.column,
                tok.end_line or tok.line,
                tok.end_column or tok.column + len(tok.value),
                tok.start_pos,
                tok.end_pos or tok.start_pos + len(tok.value),
            )
        named = _match_example(exc)
        if named == C.SYNTAX_EXPECTED_EXPRESSION.code and tok.type != "$END":
            # point where the expression should be, not at the next line's token
            end = _accepted_up_to(exc)
            if 0 <= end < tok.start_pos and "\n" in text[end : tok.start_pos]:
                span = _point(file, text, end)
        if named:
            return m.named_syntax(named, span)
        if tok.type == "$END":
            return m.unexpected_eof(span, _expected_names(exc))
        return m.unexpected_token(span, _describe_token(tok), _expected_names(exc))
    if isinstance(exc, UnexpectedEOF):
        pos = len(text.rstrip())
        unclosed = _unclosed_brace(text, len(text))
        if unclosed is not None:
            return _unclosed_diagnostic(text, file, unclosed, None)
        return m.unexpected_eof(_point(file, text, pos), _expected_names(exc))
    return m.unexpected_char(_point(file, text, 0), "")


def _is_keyword(tok: Token) -> bool:
    """A reserved word of the language (`data`, `total`, `model` …): a token
    whose terminal is a fixed word that could otherwise be a name."""
    return (
        tok.type not in ("NAME", "$END")
        and _NAME_RE.fullmatch(tok.value) is not None
        and not tok.type.startswith("__")
    )


_NAME_RE = re.compile(r"[^\W\d]\w*")


def _reserved_or_unclosed(exc: UnexpectedToken, text: str, file: str) -> Diagnostic | None:
    """Two mistakes the parser state alone reports badly: a reserved word
    where a name is expected ("expected one of: a name"), and a block whose
    `}` is missing (reported at the next statement, far from the brace)."""
    tok = exc.token
    expected = getattr(exc, "expected", None) or set()
    statement = tok.type in _STATEMENT_STARTS and tok.type not in expected
    if (tok.type == "$END" or statement) and _unclosed_brace(text, len(text)) is not None:
        where = len(text.rstrip()) if tok.type == "$END" else tok.start_pos
        unclosed = _unclosed_brace(text, where)
        if unclosed is not None:
            return _unclosed_diagnostic(text, file, unclosed, tok)
    if tok.type != "$END" and "NAME" in expected and _is_keyword(tok):
        span = _point(file, text, tok.start_pos, len(tok.value))
        return m.reserved_word(span, tok.value)
    return None


def _linear_max(exc: UnexpectedToken, text: str, file: str) -> Diagnostic | None:
    """`max` on a line that starts with `linear` (a sheet's 最高N分 written
    as a cap): the parser alone lists every statement it expected."""
    tok = exc.token
    if tok.type == "$END" or tok.value != "max":
        return None
    line = text[text.rfind("\n", 0, tok.start_pos) + 1 : tok.start_pos].lstrip()
    if not (line.startswith("linear ") or "{ linear " in line):
        return None
    return m.linear_max(_point(file, text, tok.start_pos, len(tok.value)))


def _negative_bonus(exc: UnexpectedToken, text: str, file: str) -> Diagnostic | None:
    """`bonus -3 when …`, `points -5` or `deduct -2 …`: a 减分项 written as a
    negative number (points and amounts are written positive)."""
    tok = exc.token
    if tok.type == "$END" or tok.value != "-":
        return None
    before = text[text.rfind("\n", 0, tok.start_pos) + 1 : tok.start_pos].split()
    if not before or before[-1] not in ("bonus", "points", "deduct", "penalty"):
        return None
    return m.negative_points(_point(file, text, tok.start_pos), before[-1])


def _expect_points_first(exc: UnexpectedToken, text: str, file: str) -> Diagnostic | None:
    """`expect indicator 用房 15`: a number where the outcome should be."""
    tok = exc.token
    if tok.type == "$END" or not tok.value[:1].isdigit():
        return None
    line = text[text.rfind("\n", 0, tok.start_pos) + 1 : tok.start_pos].split()
    if len(line) < 3 or line[-3:-1] != ["expect", "indicator"]:
        return None
    span = _point(file, text, tok.start_pos, len(tok.value))
    return m.expect_points_first(span, line[-1], tok.value)


def _unclosed_brace(text: str, end: int) -> tuple[int, int | None] | None:
    """Offset of the `{` that is missing its `}` before `end` (strings and
    comments skipped) and the `}` it should stand before when indentation
    tells, or None when every brace before `end` is closed.

    Indentation tells which one: a `}` that starts a line closes the open
    brace of a line indented as far, and braces opened after that one were
    left open (`tiers x { … ` without its `}`). Otherwise the innermost brace
    still open is the one reported."""
    stack: list[tuple[int, int]] = []  # (offset, indentation of its line)
    skipped: tuple[int, int | None] | None = None
    i, n = 0, min(end, len(text))
    while i < n:
        ch = text[i]
        if ch == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
        elif ch == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
        elif ch == "{":
            stack.append((i, _indent_of(text, i)))
        elif ch == "}" and stack:
            line_start = text.rfind("\n", 0, i) + 1
            at_line_start = not text[line_start:i].strip()
            indent = i - line_start
            depth = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][1] == indent), None)
            if at_line_start and depth is not None and depth < len(stack) - 1:
                if skipped is None:
                    skipped = (stack[depth + 1][0], i)
                del stack[depth:]
            else:
                stack.pop()
        i += 1
    if skipped is not None:
        return skipped
    return (stack[-1][0], None) if stack else None


def _unclosed_diagnostic(
    text: str, file: str, unclosed: tuple[int, int | None], tok: Token | None
) -> Diagnostic:
    brace, closer = unclosed
    if closer is not None:
        before = (text.count("\n", 0, closer) + 1, "}")
    elif tok is not None and tok.type != "$END":
        before = (tok.line, tok.value)
    else:
        before = None
    return m.unclosed_brace(_point(file, text, brace), before)


def _indent_of(text: str, offset: int) -> int:
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    return len(line) - len(line.lstrip(" \t"))


@functools.cache
def _example_states() -> dict[tuple[int, str], str]:
    """Parser state + token type → named error, learned from SYNTAX_EXAMPLES."""
    table: dict[tuple[int, str], str] = {}
    for code, examples in SYNTAX_EXAMPLES.items():
        for example in examples:
            try:
                lark_parser().parse(example)
            except UnexpectedToken as exc:
                table.setdefault((_state_id(exc), exc.token.type), code)
                if code not in _TOKEN_BOUND:
                    table.setdefault((_state_id(exc), None), code)
            except UnexpectedInput:
                continue
    return table


def _match_example(exc: UnexpectedToken) -> str | None:
    table = _example_states()
    state = _state_id(exc)
    return table.get((state, exc.token.type)) or table.get((state, None))


def _state_id(exc: UnexpectedToken):
    state = exc.state
    return getattr(state, "position", state)


# ---------------------------------------------------------------- tree → AST


def _unquote(s: str) -> str:
    body = s[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _ToAst(Transformer):
    def __init__(self, file: str, text: str):
        super().__init__(visit_tokens=False)
        self.file = file
        self.text = text

    # spans -------------------------------------------------------------
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return ast.NO_SPAN
        return Span(
            self.file,
            meta.line,
            meta.column,
            meta.end_line,
            meta.end_column,
            meta.start_pos,
            meta.end_pos,
        )

    def _tspan(self, tok: Token) -> Span:
        return Span(
            self.file,
            tok.line,
            tok.column,
            tok.end_line,
            tok.end_column,
            tok.start_pos,
            tok.end_pos,
        )

    def _ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(str(tok), self._tspan(tok))

    def _string(self, tok: Token) -> ast.String:
        return ast.String(_unquote(str(tok)), self._tspan(tok))

    def _number(self, tok: Token) -> ast.Number | ast.Percent:
        s = str(tok)
        if tok.type == "PERCENT":
            digits = s[:-1]
            # the double nearest to the decimal: 66.67% is 0.6667 (66.67 / 100
            # was 0.6667000000000001, above `ratio(6667, 10000)`), 0.7% 0.007
            value = float(Decimal(digits).scaleb(-2))
            return ast.Percent(value, digits, self._tspan(tok))
        # an integer of up to 38 digits stays exact (the checker refuses one of
        # 2^126 or more); a longer one becomes a float (inf past 1e308): int()
        # refuses over 4300 digits, and float(int) overflows past 1e308
        value = int(s) if tok.type == "INT" and len(s) <= 38 else float(s)
        return ast.Number(value, s, self._tspan(tok))

    # file level ---------------------------------------------------------
    @v_args(meta=True)
    def start(self, meta, children):
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        body = children[-1]
        if isinstance(body, ast.ModelFile):
            return ast.ModelFile(
                body.name,
                body.title,
                body.extends,
                imports,
                body.items,
                body.span,
                baseline=body.baseline,
            )
        if isinstance(body, ast.LibraryFile):
            return ast.LibraryFile(body.name, body.title, imports, body.items, body.span)
        return ast.TestsFile(body.model, imports, body.tests, body.span, baseline=body.baseline)

    @v_args(meta=True)
    def library_file(self, meta, children):
        name, title, rest = self._name_title(children)
        return ast.LibraryFile(name, title, (), tuple(rest), self._span(meta))

    def _name_title(self, children):
        """`NAME "title"?` at the head of a model or library file: (name,
        title or None, the children after them)."""
        rest = children[1:]
        title = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            title = self._string(rest[0])
            rest = rest[1:]
        return self._ident(children[0]), title, rest

    @v_args(meta=True)
    def import_stmt(self, meta, children):
        alias = self._ident(children[1]) if len(children) > 1 else None
        return ast.Import(self._string(children[0]), alias, self._span(meta))

    @v_args(meta=True)
    def model_file(self, meta, children):
        name, title, rest = self._name_title(children)
        extends = None
        if rest and isinstance(rest[0], ast.Extends):
            extends = rest[0]
            rest = rest[1:]
        baseline = None
        for c in rest:
            if isinstance(c, tuple) and c[0] == "baseline":
                baseline = (baseline or ()) + c[1]
        items = tuple(c for c in rest if not (isinstance(c, tuple) and c[0] == "baseline"))
        return ast.ModelFile(name, title, extends, (), items, self._span(meta), baseline=baseline)

    @v_args(meta=True)
    def extends_clause(self, meta, children):
        version = self._string(children[1]) if len(children) > 1 else None
        return ast.Extends(self._ident(children[0]), version, self._span(meta))

    @v_args(meta=True)
    def tests_file(self, meta, children):
        rest = children[1:]
        baseline = None
        if rest and isinstance(rest[0], tuple) and rest[0][0] == "baseline":
            baseline, rest = rest[0][1], rest[1:]
        return ast.TestsFile(
            self._ident(children[0]), (), tuple(rest), self._span(meta), baseline=baseline
        )

    def baseline(self, children):
        return ("baseline", tuple(children))

    # header ------------------------------------------------------------
    def _meta(key):
        @v_args(meta=True)
        def method(self, meta, children):
            value = children[0]
            if isinstance(value, Token):
                if value.type == "STRING":
                    value = self._string(value)
                elif value.type == "DATE":
                    value = self._date(value)
            return ast.Meta(key, value, self._span(meta))

        return method

    title = _meta("title")
    version = _meta("version")
    issuer = _meta("issuer")
    source = _meta("source")
    effective = _meta("effective")
    total = _meta("total")
    missing_policy = _meta("missing")
    precision = _meta("precision")
    description = _meta("description")
    del _meta

    def zero(self, _):
        return "zero"

    def skip(self, _):
        return "skip"

    def number(self, children):
        return self._number(children[0])

    def _date(self, tok: Token) -> ast.DateLit:
        try:
            value = date.fromisoformat(str(tok))
        except ValueError:
            value = None  # an impossible date (2024-02-30): the checker reports it
        return ast.DateLit(value, str(tok), self._tspan(tok))

    # inputs ------------------------------------------------------------
    @v_args(meta=True)
    def input_decl(self, meta, children):
        name = self._ident(children[0])
        type_ = children[1]
        fields = {
            "label": None,
            "unit": None,
            "range": None,
            "required": None,
            "note": None,
            "fractions": False,
            "previous": None,
        }
        for key, value in children[2:]:
            fields[key] = value
        return ast.Input(name, type_, span=self._span(meta), **fields)

    def _simple(name):
        @v_args(meta=True)
        def method(self, meta, children):
            return ast.TypeRef(name, (), self._span(meta))

        return method

    t_int = _simple("int")
    t_number = _simple("number")
    t_percent = _simple("percent")
    t_bool = _simple("bool")
    t_text = _simple("text")
    t_date = _simple("date")
    del _simple

    @v_args(meta=True)
    def t_enum(self, meta, children):
        return ast.TypeRef("enum", tuple(_unquote(str(c)) for c in children), self._span(meta))

    @v_args(meta=True)
    def t_set(self, meta, children):
        return ast.TypeRef("set", tuple(_unquote(str(c)) for c in children), self._span(meta))

    def attr_label(self, children):
        return ("label", self._string(children[0]))

    def attr_unit(self, children):
        return ("unit", self._string(children[0]))

    def attr_note(self, children):
        return ("note", self._string(children[0]))

    def attr_range(self, children):
        return ("range", (children[0], children[1]))

    def attr_required(self, children):
        return ("required", True)

    def attr_fractions(self, children):
        return ("fractions", True)

    def attr_optional(self, children):
        return ("required", False)

    def attr_previous(self, children):
        return ("previous", self._ident(children[0]))

    def signed(self, children):
        return self._number(children[0])

    def negative(self, children):
        n = self._number(children[0])
        tok = children[0]
        span = Span(
            self.file,
            tok.line,
            tok.column - 1,
            tok.end_line,
            tok.end_column,
            tok.start_pos - 1,
            tok.end_pos,
        )
        if isinstance(n, ast.Percent):
            return ast.Percent(-n.value, "-" + n.text, span)
        return ast.Number(-n.value, "-" + n.text, span)

    # lets --------------------------------------------------------------
    @v_args(meta=True)
    def let_decl(self, meta, children):
        name = self._ident(children[0])
        label = None
        if len(children) == 3:
            label = self._string(children[1])
        return ast.Let(name, label, children[-1], self._span(meta))

    # outputs -----------------------------------------------------------
    @v_args(meta=True)
    def output_decl(self, meta, children):
        name = self._ident(children[0])
        label = self._string(children[1]) if len(children) == 3 else None
        return ast.Output(name, label, children[-1], self._span(meta))

    # dimensions & indicators ---------------------------------------------
    @v_args(meta=True)
    def dimension(self, meta, children):
        name = self._ident(children[0])
        rest = children[1:]
        label = None
        if rest and isinstance(rest[0], Token):
            label = self._string(rest[0])
            rest = rest[1:]
        points = weight = missing = source = note = cap = None
        items = []
        zero = []
        for c in rest:
            if isinstance(c, ast.ZeroWhen):
                zero.append(c)
            elif isinstance(c, tuple):
                key, value = c
                if key == "points":
                    points = value
                elif key == "weight":
                    weight = value
                elif key == "missing":
                    missing = value
                elif key == "source":
                    source = value
                elif key == "note":
                    note = value
                elif key == "max":
                    cap = value
            else:
                items.append(c)
        return ast.Dimension(
            name,
            label,
            points,
            weight,
            missing,
            tuple(items),
            source,
            note,
            self._span(meta),
            zero=tuple(zero),
            cap=cap,
        )

    def attr_max(self, children):
        return ("max", children[0])

    def attr_points(self, children):
        return ("points", children[0])

    def attr_weight(self, children):
        return ("weight", self._number(children[0]))

    def attr_missing(self, children):
        return ("missing", children[0])

    def meta_source(self, children):
        return ("source", self._string(children[0]))

    def meta_note(self, children):
        return ("note", self._string(children[0]))

    def ind_missing(self, children):
        return ("missing", children[0])

    def ind_method(self, children):
        return ("method", self._string(children[0]))

    @v_args(meta=True)
    def indicator(self, meta, children):
        name = self._ident(children[0])
        rest = children[1:]
        label = None
        if rest and isinstance(rest[0], Token):
            label = self._string(rest[0])
            rest = rest[1:]
        points = None
        if rest and isinstance(rest[0], (ast.Number, ast.Percent)):
            points, rest = rest[0], rest[1:]
        scorings = []
        fields = {"missing": None, "source": None, "note": None, "method": None}
        requires, zero = [], []
        for c in rest:
            if isinstance(c, tuple):
                fields[c[0]] = c[1]
            elif isinstance(c, ast.Requires):
                requires.append(c)
            elif isinstance(c, ast.ZeroWhen):
                zero.append(c)
            else:
                scorings.append(c)
        return ast.Indicator(
            name,
            label,
            points,
            tuple(scorings),
            span=self._span(meta),
            requires=tuple(requires),
            zero=tuple(zero),
            **fields,
        )

    # events around the scoring form (前提、清零、免检) ----------------------
    def _cond_label(self, children):
        label = self._string(children[1]) if len(children) > 1 else None
        return children[0], label

    @v_args(meta=True)
    def requires(self, meta, children):
        cond, label = self._cond_label(children)
        return ast.Requires(cond, label, self._span(meta))

    @v_args(meta=True)
    def zero_event(self, meta, children):
        cond, label = self._cond_label(children)
        return ast.ZeroWhen(cond, label, self._span(meta))

    @v_args(meta=True)
    def exempt(self, meta, children):
        name = self._ident(children[0])
        rest = children[1:]
        label = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            label = self._string(rest[0])
            rest = rest[1:]
        targets = tuple(self._ident(t) for t in rest[:-1])
        return ast.Exempt(name, label, targets, rest[-1], self._span(meta))

    @v_args(meta=True)
    def pass_when(self, meta, children):
        return ast.PassWhen(children[0], self._span(meta))

    @v_args(meta=True)
    def linear(self, meta, children):
        return ast.Linear(children[0], children[1], children[2], self._span(meta))

    @v_args(meta=True)
    def tiers(self, meta, children):
        return ast.Tiers(children[0], tuple(children[1:]), self._span(meta))

    @v_args(meta=True)
    def tier(self, meta, children):
        return ast.Tier(str(children[0]), children[1], children[2], self._span(meta))

    @v_args(meta=True)
    def tier_else(self, meta, children):
        return ast.Tier(None, None, children[0], self._span(meta))

    @v_args(meta=True)
    def deduct(self, meta, children):
        cap = children[2] if len(children) > 2 else None
        return ast.Deduct(children[0], children[1], cap, self._span(meta))

    # deductions (扣分) ------------------------------------------------
    def _cause_tail(self, rest) -> tuple[ast.String | None, ast.Number | None]:
        """The optional `"label"` and `max C` after a cause."""
        label = cap = None
        for c in rest:
            if isinstance(c, Token):
                label = self._string(c)
            else:
                cap = c
        return label, cap

    @v_args(meta=True)
    def cause_per(self, meta, children):
        label, cap = self._cause_tail(children[2:])
        return ast.DeductCause("per", children[0], children[1], label, cap, span=self._span(meta))

    @v_args(meta=True)
    def cause_when(self, meta, children):
        label, _cap = self._cause_tail(children[2:])
        return ast.DeductCause("when", children[0], children[1], label, span=self._span(meta))

    @v_args(meta=True)
    def step_cause(self, meta, children):
        amount, step = children[0], children[1]
        i = 2
        part = isinstance(children[i], Token) and children[i].type == "OR_PART"
        if part:
            i += 1
        value, kind, threshold = children[i], children[i + 1], children[i + 2]
        label, cap = self._cause_tail(children[i + 3 :])
        return ast.DeductCause(
            kind, amount, value, label, cap, step, part, threshold, span=self._span(meta)
        )

    def below(self, children):
        return "below"

    def above(self, children):
        return "above"

    @v_args(meta=True)
    def cause_tiers(self, meta, children):
        label = None
        rest = children[1:]
        if rest and isinstance(rest[0], Token):
            label = self._string(rest[0])
            rest = rest[1:]
        return ast.DeductCause(
            "tiers", None, children[0], label, tiers=tuple(rest), span=self._span(meta)
        )

    @v_args(meta=True)
    def deduct_when(self, meta, children):
        cause = self.cause_when(meta, children)
        return ast.Deductions((cause,), None, False, self._span(meta))

    @v_args(meta=True)
    def deduct_step(self, meta, children):
        return ast.Deductions((children[0],), None, False, self._span(meta))

    @v_args(meta=True)
    def deduct_tiers(self, meta, children):
        cause = ast.DeductCause(
            "tiers", None, children[0], tiers=tuple(children[1:]), span=self._span(meta)
        )
        return ast.Deductions((cause,), None, False, self._span(meta))

    @v_args(meta=True)
    def deduct_block(self, meta, children):
        cap = None
        if children and isinstance(children[0], (ast.Number, ast.Percent)):
            cap, children = children[0], children[1:]
        return ast.Deductions(tuple(children), cap, True, self._span(meta))

    @v_args(meta=True)
    def penalty_one(self, meta, children):
        return ast.Penalty((children[0],), None, False, self._span(meta))

    @v_args(meta=True)
    def penalty_block(self, meta, children):
        cap = None
        if children and isinstance(children[0], (ast.Number, ast.Percent)):
            cap, children = children[0], children[1:]
        return ast.Penalty(tuple(children), cap, True, self._span(meta))

    @v_args(meta=True)
    def bonus_per(self, meta, children):
        cap = children[2] if len(children) > 2 else None
        return ast.BonusPer(children[0], children[1], cap, self._span(meta))

    @v_args(meta=True)
    def bonus_when(self, meta, children):
        return ast.BonusWhen(children[0], self._span(meta))

    @v_args(meta=True)
    def score(self, meta, children):
        by = self._string(children[1]) if len(children) > 1 else None
        return ast.Score(children[0], by, self._span(meta))

    @v_args(meta=True)
    def veto(self, meta, children):
        name = self._ident(children[0])
        rest = children[1:]
        label = None
        if isinstance(rest[0], Token):
            label = self._string(rest[0])
            rest = rest[1:]
        cond = rest[0]
        effect = grade = None
        source = note = None
        for c in rest[1:]:
            if isinstance(c, tuple) and c[0] in ("caps", "blocks"):
                effect, grade = c
            elif isinstance(c, tuple) and c[0] == "source":
                source = c[1]
            elif isinstance(c, tuple) and c[0] == "note":
                note = c[1]
        return ast.Veto(name, label, cond, effect, grade, source, note, self._span(meta))

    def veto_effect(self, children):
        return children[0]

    def caps(self, children):
        return ("caps", self._string(children[0]))

    def blocks(self, children):
        return ("blocks", self._string(children[0]))

    @v_args(meta=True)
    def grades(self, meta, children):
        return ast.Grades(tuple(children), self._span(meta))

    @v_args(meta=True)
    def grade_when(self, meta, children):
        return ast.GradeRule(self._string(children[0]), children[1], self._span(meta))

    @v_args(meta=True)
    def grade_otherwise(self, meta, children):
        return ast.GradeRule(self._string(children[0]), None, self._span(meta))

    @v_args(meta=True)
    def target(self, meta, children):
        op = next(str(c) for c in children if isinstance(c, Token) and c.type == "CMP_OP")
        children = [c for c in children if not (isinstance(c, Token) and c.type == "CMP_OP")]
        label = None
        if len(children) >= 3 and isinstance(children[1], Token) and children[1].type == "STRING":
            label = self._string(children[0])
            children = children[1:]
        grade = self._string(children[0])
        share = self._number(children[1])
        by = self._date(children[2]) if len(children) > 2 else None
        return ast.Target(label, grade, op, share, by, self._span(meta))

    @v_args(meta=True)
    def override(self, meta, children):
        fields = {}
        zero = []
        for key, value in children[1:]:
            if key == "zero":
                zero.append(value)
            else:
                fields[key] = value
        return ast.Override(
            self._ident(children[0]), False, span=self._span(meta), zero=tuple(zero), **fields
        )

    @v_args(meta=True)
    def drop(self, meta, children):
        return ast.Override(self._ident(children[0]), True, span=self._span(meta))

    @v_args(meta=True)
    def override_grade(self, meta, children):
        fields = dict(children[1:])
        return ast.GradeOverride(self._string(children[0]), span=self._span(meta), **fields)

    def gc_label(self, children):
        return ("label", self._string(children[0]))

    def gc_when(self, children):
        return ("cond", children[0])

    def ov_points(self, children):
        return ("points", children[0])

    def ov_scoring(self, children):
        return ("scoring", children[0])

    def ov_label(self, children):
        return ("label", self._string(children[0]))

    def ov_requires(self, children):
        return ("requires", children[0])

    def ov_zero(self, children):
        return ("zero", children[0])

    # tests -------------------------------------------------------------
    @v_args(meta=True)
    def test_block(self, meta, children):
        name = self._string(children[0])
        given = None
        data = community = None
        expectations = []
        for c in children[1:]:
            if isinstance(c, tuple) and c[0] == "given":
                given = (given or ()) + c[1]
            elif isinstance(c, tuple) and c[0] == "data":
                data, community = c[1], c[2]
            else:
                expectations.append(c)
        return ast.TestCase(name, given, data, community, tuple(expectations), self._span(meta))

    def given(self, children):
        return ("given", tuple(children))

    @v_args(meta=True)
    def assign(self, meta, children):
        return ast.Assign(self._ident(children[0]), children[1], self._span(meta))

    def data_ref(self, children):
        community = self._string(children[1]) if len(children) > 1 else None
        return ("data", self._string(children[0]), community)

    def expect(self, children):
        return children[0]

    def literal(self, children):
        return children[0]

    @v_args(meta=True)
    def lit_string(self, meta, children):
        return self._string(children[0])

    @v_args(meta=True)
    def lit_true(self, meta, children):
        return ast.Bool(True, self._span(meta))

    @v_args(meta=True)
    def lit_false(self, meta, children):
        return ast.Bool(False, self._span(meta))

    @v_args(meta=True)
    def lit_date(self, meta, children):
        return self._date(children[0])

    @v_args(meta=True)
    def lit_missing(self, meta, children):
        return ast.Missing(self._span(meta))

    @v_args(meta=True)
    def lit_list(self, meta, children):
        items = tuple(self._string(c) for c in children if c is not None)
        return ast.ListLit(items, self._span(meta))

    @v_args(meta=True)
    def expect_grade(self, meta, children):
        return ast.Expectation("grade", text=self._string(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def expect_total(self, meta, children):
        within = children[1] if len(children) > 1 else None
        return ast.Expectation("total", value=children[0], within=within, span=self._span(meta))

    @v_args(meta=True)
    def expect_total_missing(self, meta, children):
        return ast.Expectation("total", missing=True, span=self._span(meta))

    @v_args(meta=True)
    def expect_dimension_missing(self, meta, children):
        target = self._ident(children[0])
        return ast.Expectation("dimension", target=target, missing=True, span=self._span(meta))

    @v_args(meta=True)
    def expect_dimension(self, meta, children):
        within = children[2] if len(children) > 2 else None
        return ast.Expectation(
            "dimension",
            target=self._ident(children[0]),
            value=children[1],
            within=within,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def expect_indicator(self, meta, children):
        value = children[2] if len(children) > 2 else None
        return ast.Expectation(
            "indicator",
            target=self._ident(children[0]),
            outcome=children[1],
            value=value,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def expect_veto(self, meta, children):
        return ast.Expectation("veto", target=self._ident(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def expect_no_veto(self, meta, children):
        return ast.Expectation("no_veto", span=self._span(meta))

    @v_args(meta=True)
    def expect_missing(self, meta, children):
        tok = children[0]
        return ast.Expectation("missing", value=self._number(tok), span=self._span(meta))

    @v_args(meta=True)
    def expect_output(self, meta, children):
        target = self._ident(children[0])
        return ast.Expectation("output", target=target, literal=children[1], span=self._span(meta))

    def o_pass(self, _):
        return "pass"

    def o_partial(self, _):
        return "partial"

    def o_fail(self, _):
        return "fail"

    def o_missing(self, _):
        return "missing"

    def o_vetoed(self, _):
        return "vetoed"

    # expressions -------------------------------------------------------
    @v_args(meta=True)
    def cond(self, meta, c):
        return ast.If(c[0], c[1], c[2], self._span(meta))

    def _binary(op):
        @v_args(meta=True)
        def method(self, meta, c):
            return ast.Binary(op, c[0], c[1], self._span(meta))

        return method

    or_op = _binary("or")
    and_op = _binary("and")
    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    del _binary

    @v_args(meta=True)
    def compare(self, meta, c):
        return ast.Binary(str(c[1]), c[0], c[2], self._span(meta))

    @v_args(meta=True)
    def not_op(self, meta, c):
        return ast.Unary("not", c[0], self._span(meta))

    @v_args(meta=True)
    def neg(self, meta, c):
        return ast.Unary("-", c[0], self._span(meta))

    @v_args(meta=True)
    def in_op(self, meta, c):
        return ast.In(c[0], c[1], False, self._span(meta))

    @v_args(meta=True)
    def not_in_op(self, meta, c):
        return ast.In(c[0], c[1], True, self._span(meta))

    @v_args(meta=True)
    def in_set(self, meta, c):
        return ast.InSet(c[0], ast.Name(str(c[1]), self._tspan(c[1])), False, self._span(meta))

    @v_args(meta=True)
    def not_in_set(self, meta, c):
        return ast.InSet(c[0], ast.Name(str(c[1]), self._tspan(c[1])), True, self._span(meta))

    def list(self, c):
        return tuple(x for x in c if x is not None)

    def num_lit(self, c):
        return self._number(c[0])

    def pct_lit(self, c):
        return self._number(c[0])

    def str_lit(self, c):
        return self._string(c[0])

    def date_lit(self, c):
        return self._date(c[0])

    @v_args(meta=True)
    def true_lit(self, meta, c):
        return ast.Bool(True, self._span(meta))

    @v_args(meta=True)
    def false_lit(self, meta, c):
        return ast.Bool(False, self._span(meta))

    @v_args(meta=True)
    def keyword_ref(self, meta, c):
        # `total` and `vetoed` are keywords elsewhere, names in grade conditions
        span = self._span(meta)
        return ast.Name(self.text[span.start : span.end], span)

    def name(self, c):
        return ast.Name(str(c[0]), self._tspan(c[0]))

    @v_args(meta=True)
    def max_call(self, meta, c):
        # `max` is a keyword (`deduct … max C`) and a function name
        span = self._span(meta)
        args = tuple(x for x in c if x is not None)
        func_span = Span(
            self.file,
            span.line,
            span.column,
            span.line,
            span.column + 3,
            span.start,
            span.start + 3,
        )
        return ast.Call("max", args, span, func_span)

    @v_args(meta=True)
    def points_call(self, meta, c):
        # `points` is a keyword (`indicator X points 10`) and, here, the points
        # a dimension or an indicator earned
        span = self._span(meta)
        func_span = Span(
            self.file,
            span.line,
            span.column,
            span.line,
            span.column + 6,
            span.start,
            span.start + 6,
        )
        return ast.Call("points", (ast.Name(str(c[0]), self._tspan(c[0])),), span, func_span)

    @v_args(meta=True)
    def call(self, meta, c):
        args = tuple(x for x in c[1:] if x is not None)
        return ast.Call(str(c[0]), args, self._span(meta), self._tspan(c[0]))

    def __default__(self, data, children, meta):  # pragma: no cover - grammar drift guard
        raise AssertionError(f"unhandled grammar rule {data!r}")
