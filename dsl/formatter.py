"""`zhili fmt`: print a `.gov` syntax tree in the canonical layout, keeping comments.

`format_source(text)` parses, prints and returns the formatted text (or `None`
and the diagnostics when the text does not parse). `format_file(tree, tokens)`
is the printer.

Layout: four spaces per brace level, one statement per line, a blank line
around blocks (dimensions, indicators, grades, tests) and between groups of
statements of different kinds; blank lines the author left between statements
are kept (at most one). Expressions get the parentheses the grammar's
precedence needs, and keep one pair where the writer grouped a part
(`(a > 1 and b > 2) or c`): they show the reading, even where precedence
gives the same. Numbers are printed as written.

Comments are not in the syntax tree. They are taken from the token stream
(`source_tokens`) and attached to the printed line that owns the token next
to them: a comment that shares a source line with the token before it stays a
trailing comment of that token's line; any other comment becomes a leading
comment line before the line that owns the token after it (at the end of the
file when no token follows). No comment is ever dropped or duplicated, and
formatting the output again changes nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lark import Token

from zhili.dsl import ast
from zhili.dsl.diagnostics import Diagnostic
from zhili.dsl.parser import lark_parser, parse

__all__ = ["format_expr", "format_file", "format_source", "quote", "source_tokens"]

INDENT = "    "

# Binding strength, loosest first (docs/language.md "Expressions").
_IF, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _ATOM = range(9)
_BINARY = {
    "or": (_OR, _OR, _AND),
    "and": (_AND, _AND, _NOT),
    "==": (_CMP, _SUM, _SUM),
    "!=": (_CMP, _SUM, _SUM),
    "<": (_CMP, _SUM, _SUM),
    "<=": (_CMP, _SUM, _SUM),
    ">": (_CMP, _SUM, _SUM),
    ">=": (_CMP, _SUM, _SUM),
    "+": (_SUM, _SUM, _PRODUCT),
    "-": (_SUM, _SUM, _PRODUCT),
    "*": (_PRODUCT, _PRODUCT, _UNARY),
    "/": (_PRODUCT, _PRODUCT, _UNARY),
}  # op -> (own level, least level of the left operand, of the right operand)


# ---------------------------------------------------------------- public API


def source_tokens(text: str) -> list[Token]:
    """Every token of `text`, comments and whitespace included (the text must
    lex; `format_source` only calls this after a successful parse)."""
    return list(lark_parser().lex(text, dont_ignore=True))


def format_source(text: str, file: str = "<string>") -> tuple[str | None, list[Diagnostic]]:
    """Parse `text` and print it in the canonical layout, comments kept.

    Returns `(formatted, diagnostics)`; `formatted` is None when the text does
    not parse (the diagnostics say why)."""
    result = parse(text, file)
    if result.tree is None or any(d.is_error for d in result.diagnostics):
        return None, result.diagnostics
    return format_file(result.tree, source_tokens(text)), result.diagnostics


def format_file(tree: ast.File, comments: Sequence[Token] | None = None) -> str:
    """Print `tree` in the canonical layout.

    `comments` is the token stream of the text `tree` was parsed from, as
    `source_tokens(text)` returns it: its COMMENT tokens are printed, the other
    tokens tell where each comment belongs (and which blank lines the author
    left). With a list holding only COMMENT tokens the comments are kept but
    all printed at the end. Without it the tree is printed bare."""
    printer = _Printer(_Source(comments) if comments is not None else None)
    printer.file(tree)
    return printer.render()


# ---------------------------------------------------------------- expressions


def quote(value: str) -> str:
    """A string literal for `value`, escaped so the parser reads `value` back."""
    body = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


def _date(node: ast.DateLit, src: _Source | None) -> str:
    return node.text


def _literal(node, src: _Source | None = None) -> str:
    if isinstance(node, ast.Number):
        return node.text
    if isinstance(node, ast.Percent):
        return node.text + "%"
    if isinstance(node, ast.String):
        return quote(node.value)
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.DateLit):
        return _date(node, src)
    if isinstance(node, ast.Missing):
        return "missing"
    if isinstance(node, ast.ListLit):
        return "[" + ", ".join(quote(x.value) for x in node.items) + "]"
    raise TypeError(f"not a literal: {node!r}")


def format_expr(
    node: ast.Expr, src: _Source | None = None, least: int = _IF, grouped: bool = True
) -> str:
    """Print an expression; parenthesised when it binds looser than `least`,
    or when its writer put it in parentheses (`grouped`: they are kept, one
    pair, as the writer's way of showing the reading)."""
    level, text = _expr(node, src)
    if level < least or (grouped and level < _ATOM and _in_parentheses(node, src)):
        return f"({text})"
    return text


def _in_parentheses(node: ast.Expr, src: _Source | None) -> bool:
    """Whether the source has `(` just before the expression and `)` just after."""
    span = getattr(node, "span", None)
    if src is None or span is None or span.end <= span.start:
        return False
    i = src.index(span.start)
    j = src.index(span.end)
    return (
        0 < i <= len(src.tokens)
        and j < len(src.tokens)
        and src.tokens[i - 1].value == "("
        and src.tokens[j].value == ")"
        and (i < 2 or src.tokens[i - 2].type not in ("NAME", "MAX"))  # f(x): a call's own
    )


def _expr(node: ast.Expr, src: _Source | None) -> tuple[int, str]:
    if isinstance(node, ast.Name):
        return _ATOM, node.id
    if isinstance(node, ast.Binary):
        level, left, right = _BINARY[node.op]
        rhs = format_expr(node.right, src, right)
        if node.op == "or" and rhs.startswith("part") and not rhs[4:5].isidentifier():
            rhs = f"({rhs})"  # `or part` is one word (a step that counts when started)
        return level, f"{format_expr(node.left, src, left)} {node.op} {rhs}"
    if isinstance(node, ast.Unary):
        if node.op == "not":
            return _NOT, "not " + format_expr(node.operand, src, _NOT)
        operand = format_expr(node.operand, src, _UNARY)
        return _UNARY, ("- " if operand.startswith("-") else "-") + operand
    if isinstance(node, ast.Call):
        return _ATOM, f"{node.func}({', '.join(format_expr(a, src) for a in node.args)})"
    if isinstance(node, ast.In):
        op = "not in" if node.negated else "in"
        options = ", ".join(format_expr(o, src) for o in node.options)
        return _CMP, f"{format_expr(node.operand, src, _SUM)} {op} [{options}]"
    if isinstance(node, ast.InSet):
        op = "not in" if node.negated else "in"
        return _CMP, f"{format_expr(node.operand, src, _SUM)} {op} {node.set.id}"
    if isinstance(node, ast.If):
        return _IF, (
            f"if {format_expr(node.cond, src)} then {format_expr(node.then, src)}"
            f" else {format_expr(node.orelse, src)}"
        )
    return _ATOM, _literal(node, src)


# ---------------------------------------------------------------- source tokens


class _Source:
    """The token stream of the formatted text: where comments, braces and
    keywords stand, and where the author left blank lines."""

    def __init__(self, tokens: Iterable[Token]):
        self.tokens: list[Token] = []  # significant tokens, in order
        self.comments: list[Token] = []
        self.blank_ending_at: set[int] = set()  # offsets that follow a blank line
        for tok in tokens:
            if tok.type == "COMMENT":
                self.comments.append(tok)
            elif tok.type == "WS":
                if tok.value.count("\n") >= 2:
                    self.blank_ending_at.add(tok.end_pos)
            else:
                self.tokens.append(tok)
        self.starts = [t.start_pos for t in self.tokens]

    def index(self, offset: int) -> int:
        """Index of the first significant token at or after `offset`."""
        return bisect.bisect_left(self.starts, offset)

    def token_at(self, offset: int) -> Token | None:
        i = self.index(offset)
        if i < len(self.tokens) and self.starts[i] == offset:
            return self.tokens[i]
        return None

    def find(self, value: str, start: int, end: int | None = None) -> int | None:
        """Index of the first keyword/punctuation token `value` in [start, end)."""
        for i in range(self.index(start), len(self.tokens)):
            tok = self.tokens[i]
            if end is not None and tok.start_pos >= end:
                break
            if tok.value == value and tok.type not in ("STRING", "NAME"):
                return i
        return None

    def blank_before(self, offset: int) -> bool:
        return offset in self.blank_ending_at


# ---------------------------------------------------------------- printer


@dataclass
class _Line:
    depth: int
    text: str
    ranges: list[tuple[int, int]]  # source offsets whose tokens this line prints
    blank: bool = False  # a blank line goes before it (and its leading comments)
    opens: bool = False  # ends with `{`
    closes: bool = False  # is a `}`
    leading: list[Token] = field(default_factory=list)
    trailing: Token | None = None


def _has_span(node) -> bool:
    return node is not None and node.span is not ast.NO_SPAN and node.span.end > node.span.start


class _Printer:
    def __init__(self, src: _Source | None):
        self.src = src
        self.lines: list[_Line] = []
        self.depth = 0

    # emitting ---------------------------------------------------------------
    def emit(self, text: str, ranges=(), *, blank=False, opens=False, closes=False) -> None:
        self.lines.append(_Line(self.depth, text, list(ranges), blank, opens, closes))

    def open(self, text: str, node, *, blank=False, brace_from=None) -> None:
        """A block header `text {`; the block's lines follow one level deeper."""
        self.emit(text + " {", self._header(node, brace_from), blank=blank, opens=True)
        self.depth += 1

    def close(self, ranges) -> None:
        self.depth -= 1
        self.emit("}", ranges, closes=True)

    def expr(self, node: ast.Expr) -> str:
        return format_expr(node, self.src)

    def lit(self, node) -> str:
        return _literal(node, self.src)

    # source ranges: which tokens each printed line stands for ---------------
    def _span(self, node, start_node=None) -> list[tuple[int, int]]:
        if self.src is None or not _has_span(node):
            return []
        start = start_node.span.start if start_node is not None else node.span.start
        return [(start, node.span.end)]

    def _header(self, node, brace_from=None) -> list[tuple[int, int]]:
        """From the start of `node` to its opening brace."""
        if self.src is None or not _has_span(node):
            return []
        start = node.span.start
        brace = self.src.find("{", brace_from if brace_from is not None else start, node.span.end)
        if brace is None:
            return []
        return [(start, self.src.tokens[brace].end_pos)]

    def _closing(self, node) -> list[tuple[int, int]]:
        if self.src is None or not _has_span(node):
            return []
        return [(node.span.end - 1, node.span.end)]

    def _keyworded(self, node, end_node=None) -> list[tuple[int, int]]:
        """`node` and the keyword token just before it (`source "…"`)."""
        if self.src is None or not _has_span(node):
            return []
        i = self.src.index(node.span.start)
        start = self.src.tokens[i - 1].start_pos if i > 0 else node.span.start
        end = (end_node or node).span.end
        return [(start, end)]

    def _last_keyword_pair(self, value: str, node) -> list[tuple[int, int]]:
        """The last `value X` token pair inside `node` (`missing zero`)."""
        if self.src is None or not _has_span(node):
            return []
        found = None
        i = self.src.find(value, node.span.start, node.span.end)
        while i is not None:
            found = i
            i = self.src.find(value, self.src.tokens[i].end_pos, node.span.end)
        if found is None or found + 1 >= len(self.src.tokens):
            return []
        return [(self.src.tokens[found].start_pos, self.src.tokens[found + 1].end_pos)]

    # files ------------------------------------------------------------------
    def file(self, tree: ast.File) -> None:
        if isinstance(tree, ast.ModelFile):
            self.model_file(tree)
        elif isinstance(tree, ast.LibraryFile):
            self.library_file(tree)
        else:
            self.tests_file(tree)

    def imports(self, imports: Sequence[ast.Import]) -> None:
        for imp in imports:
            alias = f" as {imp.alias.id}" if imp.alias is not None else ""
            self.emit(f"import {quote(imp.path.value)}{alias}", self._span(imp))

    def model_file(self, tree: ast.ModelFile) -> None:
        self.imports(tree.imports)
        head = f"model {tree.name.id}"
        if tree.title is not None:
            head += " " + quote(tree.title.value)
        if tree.extends is not None:
            head += f" extends {tree.extends.base.id}"
            if tree.extends.version is not None:
                head += f" {quote(tree.extends.version.value)}"
        ranges = []
        if self.src is not None and _has_span(tree):
            last = tree.extends or tree.title or tree.name
            ranges = [(tree.span.start, last.span.end)]
        self.emit(head, ranges, blank=bool(tree.imports))
        previous = "header"
        pending = tree.baseline is not None  # printed before the first test
        for item in tree.items:
            kind = _kind(item)
            if pending and isinstance(item, ast.TestCase):
                self.baseline(tree, item)
                pending = False
            self.item(item, blank=kind == "block" or kind != previous)
            previous = kind
        if pending:
            self.baseline(tree, None)

    def library_file(self, tree: ast.LibraryFile) -> None:
        self.imports(tree.imports)
        head = f"library {tree.name.id}"
        if tree.title is not None:
            head += " " + quote(tree.title.value)
        ranges = []
        if self.src is not None and _has_span(tree):
            last = tree.title or tree.name
            ranges = [(tree.span.start, last.span.end)]
        self.emit(head, ranges, blank=bool(tree.imports))
        previous = "header"
        for item in tree.items:
            kind = _kind(item)
            self.item(item, blank=kind != previous)
            previous = kind

    def tests_file(self, tree: ast.TestsFile) -> None:
        self.imports(tree.imports)
        ranges = []
        if self.src is not None and _has_span(tree):
            ranges = [(tree.span.start, tree.model.span.end)]
        self.emit(f"tests for {tree.model.id}", ranges, blank=bool(tree.imports))
        if tree.baseline is not None:
            self.baseline(tree)
        for test in tree.tests:
            self.test(test, blank=True)

    # model items ------------------------------------------------------------
    def item(self, item: ast.Item, blank: bool) -> None:
        if isinstance(item, ast.Meta):
            value = item.value if isinstance(item.value, str) else self.lit(item.value)
            self.emit(f"{item.key} {value}", self._span(item), blank=blank)
        elif isinstance(item, ast.Input):
            self.emit(self.input_text(item), self._span(item), blank=blank)
        elif isinstance(item, ast.Let):
            label = f" {quote(item.label.value)}" if item.label is not None else ""
            text = f"let {item.name.id}{label} = {self.expr(item.expr)}"
            self.emit(text, self._span(item), blank=blank)
        elif isinstance(item, ast.Output):
            label = f" {quote(item.label.value)}" if item.label is not None else ""
            text = f"output {item.name.id}{label} = {self.expr(item.expr)}"
            self.emit(text, self._span(item), blank=blank)
        elif isinstance(item, ast.Dimension):
            self.dimension(item, blank)
        elif isinstance(item, ast.Indicator):
            self.indicator(item, blank)
        elif isinstance(item, ast.Veto):
            self.veto(item, blank)
        elif isinstance(item, ast.Grades):
            self.open("grades", item, blank=blank)
            for rule in item.rules:
                cond = "otherwise" if rule.cond is None else f"when {self.expr(rule.cond)}"
                self.emit(f"{quote(rule.name.value)} {cond}", self._span(rule))
            self.close(self._closing(item))
        elif isinstance(item, ast.Target):
            self.emit(self.target_text(item), self._span(item), blank=blank)
        elif isinstance(item, ast.TestCase):
            self.test(item, blank)
        elif isinstance(item, ast.Override):
            self.override(item, blank)
        elif isinstance(item, ast.Exempt):
            self.emit(self.exempt_text(item), self._span(item), blank=blank)
        elif isinstance(item, ast.GradeOverride):
            text = f"override grade {quote(item.grade.value)}"
            if item.label is not None:
                text += f" label {quote(item.label.value)}"
            if item.cond is not None:
                text += f" when {self.expr(item.cond)}"
            self.emit(text, self._span(item), blank=blank)
        else:  # pragma: no cover - AST drift guard
            raise TypeError(f"unknown model item {item!r}")

    def input_text(self, node: ast.Input) -> str:
        type_ = node.type.name
        if type_ in ("enum", "set"):
            type_ = f"{type_}({', '.join(quote(v) for v in node.type.values)})"
        parts = [f"input {node.name.id}: {type_}"]
        if node.label is not None:
            parts.append(f"label {quote(node.label.value)}")
        if node.unit is not None:
            parts.append(f"unit {quote(node.unit.value)}")
        if node.range is not None:
            parts.append(f"range {self.lit(node.range[0])}..{self.lit(node.range[1])}")
        if node.fractions:
            parts.append("fractions")
        if node.required is not None:
            parts.append("required" if node.required else "optional")
        if node.note is not None:
            parts.append(f"note {quote(node.note.value)}")
        if node.previous is not None:
            parts.append(f"previous {node.previous.id}")
        return " ".join(parts)

    def target_text(self, node: ast.Target) -> str:
        op = node.op
        text = "target"
        if node.label is not None:
            text += " " + quote(node.label.value)
        text += f" grade {quote(node.grade.value)} share {op} {self.lit(node.share)}"
        if node.by is not None:
            text += f" by {self.lit(node.by)}"
        return text

    def override(self, node: ast.Override, blank: bool) -> None:
        if node.drop:
            self.emit(f"drop {node.name.id}", self._span(node), blank=blank)
            return
        text = f"override {node.name.id}"
        if node.points is not None:
            text += f" points {node.points.text}"
        if node.label is not None:
            text += f" label {quote(node.label.value)}"
        if node.requires is not None:
            text += " " + self.event_text("requires", node.requires)
        for z in node.zero:
            text += " " + self.event_text("zero when", z)
        if isinstance(node.scoring, ast.Deductions):
            self.deductions(node.scoring, f"{text} ", node, blank=blank)
            return
        if isinstance(node.scoring, ast.Penalty):
            self.deductions(node.scoring, f"{text} ", node, blank=blank, keyword="penalty")
            return
        if isinstance(node.scoring, ast.Tiers):
            brace_from = node.scoring.span.start if _has_span(node.scoring) else None
            head = f"{text} tiers {self.expr(node.scoring.value)}"
            self.open(head, node, blank=blank, brace_from=brace_from)
            self.tier_lines(node.scoring)
            self.close(self._closing(node.scoring))
            return
        if node.scoring is not None:
            text += " " + self.scoring_text(node.scoring)
        self.emit(text, self._span(node), blank=blank)

    # dimensions, indicators, vetoes -----------------------------------------
    def dimension(self, node: ast.Dimension, blank: bool) -> None:
        head = f"dimension {node.name.id}"
        if node.label is not None:
            head += " " + quote(node.label.value)
        if node.points is not None:
            head += f" points {node.points.text}"
        if node.weight is not None:
            head += f" weight {self.lit(node.weight)}"
        if node.missing is not None:
            head += f" missing {node.missing}"
        if node.cap is not None:
            head += f" max {node.cap.text}"
        self.open(head, node, blank=blank)
        self.meta_lines(node)
        for z in node.zero:
            self.emit(self.event_text("zero when", z), self._span(z))
        previous = None
        for item in node.items:
            kind = "block" if isinstance(item, ast.Dimension) else "statement"
            blank = previous is not None and "block" in (kind, previous)
            previous = kind
            if isinstance(item, ast.Dimension):
                self.dimension(item, blank)
            elif isinstance(item, ast.Indicator):
                self.indicator(item, blank)
            elif isinstance(item, ast.Exempt):
                self.emit(self.exempt_text(item), self._span(item), blank=blank)
            else:
                self.veto(item, blank)
        self.close(self._closing(node))

    def meta_lines(self, node) -> None:
        if node.source is not None:
            self.emit(f"source {quote(node.source.value)}", self._keyworded(node.source))
        if node.note is not None:
            self.emit(f"note {quote(node.note.value)}", self._keyworded(node.note))

    def indicator(self, node: ast.Indicator, blank: bool) -> None:
        label = f" {quote(node.label.value)}" if node.label is not None else ""
        points = f" points {node.points.text}" if node.points is not None else ""
        self.open(f"indicator {node.name.id}{label}{points}", node, blank=blank)
        for gate in node.requires:
            self.emit(self.event_text("requires", gate), self._span(gate))
        for scoring in node.scorings:
            if isinstance(scoring, ast.Deductions):
                self.deductions(scoring)
            elif isinstance(scoring, ast.Penalty):
                self.deductions(scoring, keyword="penalty")
            elif isinstance(scoring, ast.Tiers):
                self.open(f"tiers {self.expr(scoring.value)}", scoring)
                self.tier_lines(scoring)
                self.close(self._closing(scoring))
            else:
                self.emit(self.scoring_text(scoring), self._span(scoring))
        for z in node.zero:
            self.emit(self.event_text("zero when", z), self._span(z))
        self.meta_lines(node)
        if node.method is not None:
            self.emit(f"method {quote(node.method.value)}", self._keyworded(node.method))
        if node.missing is not None:
            self.emit(f"missing {node.missing}", self._last_keyword_pair("missing", node))
        self.close(self._closing(node))

    def event_text(self, keyword: str, node: ast.Requires | ast.ZeroWhen) -> str:
        """`requires C "label"` / `zero when C "label"`."""
        label = f" {quote(node.label.value)}" if node.label is not None else ""
        return f"{keyword} {self.expr(node.cond)}{label}"

    def exempt_text(self, node: ast.Exempt) -> str:
        label = f" {quote(node.label.value)}" if node.label is not None else ""
        names = ", ".join(t.id for t in node.targets)
        return f"exempt {node.name.id}{label} from {names} when {self.expr(node.cond)}"

    def tier_lines(self, node: ast.Tiers) -> None:
        for tier in node.tiers:
            if tier.op is None:
                text = f"else : {tier.points.text}"
            else:
                text = f"{tier.op} {self.expr(tier.threshold)} : {tier.points.text}"
            self.emit(text, self._span(tier))

    def deductions(
        self,
        node: ast.Deductions | ast.Penalty,
        prefix: str = "",
        owner=None,
        blank=False,
        keyword: str = "deduct",
    ) -> None:
        """`deduct [max C] { … }` with one cause a line, or a one-line form
        (`deduct tiers V { … }` takes lines too); `keyword` "penalty" for a
        penalty (减分) item, written the same way. `prefix`/`owner`: an
        `override X ` head that the form follows."""
        owner = owner if owner is not None else node
        if node.block:
            head = prefix + keyword + (f" max {node.cap.text}" if node.cap is not None else "")
            brace_from = node.span.start if _has_span(node) and owner is not node else None
            self.open(head, owner, blank=blank, brace_from=brace_from)
            for cause in node.causes:
                if cause.kind == "tiers":
                    label = f" {quote(cause.label.value)}" if cause.label is not None else ""
                    self.open(f"tiers {self.expr(cause.value)}{label}", cause)
                    self.tier_lines(cause)
                    self.close(self._closing(cause))
                else:
                    self.emit(self.cause_text(cause), self._span(cause))
            self.close(self._closing(node))
            return
        cause = node.causes[0]
        if cause.kind == "tiers":
            brace_from = node.span.start if _has_span(node) and owner is not node else None
            label = f" {quote(cause.label.value)}" if cause.label is not None else ""
            head = f"{prefix}{keyword} tiers {self.expr(cause.value)}{label}"
            self.open(head, owner, blank=blank, brace_from=brace_from)
            self.tier_lines(cause)
            self.close(self._closing(node))
            return
        ranges = self._span(owner) if owner is not node else self._span(node)
        self.emit(f"{prefix}{keyword} {self.cause_text(cause)}", ranges, blank=blank)

    def cause_text(self, c: ast.DeductCause) -> str:
        """One deduction cause on one line (not `tiers`)."""
        text = f"{c.amount.text} "
        if c.kind == "when":
            text += f"when {self.expr(c.value)}"
        elif c.kind == "per":
            text += f"per {self.expr(c.value)}"
        else:
            part = " or part" if c.part else ""
            text += (
                f"per {self.expr(c.step)}{part} of {self.expr(c.value)}"
                f" {c.kind} {self.expr(c.threshold)}"
            )
        if c.label is not None:
            text += f" {quote(c.label.value)}"
        if c.cap is not None:
            text += f" max {c.cap.text}"
        return text

    def scoring_text(self, node: ast.Scoring) -> str:
        if isinstance(node, ast.PassWhen):
            return f"pass when {self.expr(node.cond)}"
        if isinstance(node, ast.BonusWhen):
            return f"bonus when {self.expr(node.cond)}"
        if isinstance(node, ast.Linear):
            return (
                f"linear {self.expr(node.value)} from {self.expr(node.low)}"
                f" to {self.expr(node.high)}"
            )
        if isinstance(node, ast.Deduct | ast.BonusPer):
            keyword = "deduct" if isinstance(node, ast.Deduct) else "bonus"
            text = f"{keyword} {node.per.text} per {self.expr(node.count)}"
            if node.cap is not None:
                text += f" max {node.cap.text}"
            return text
        if isinstance(node, ast.Score):
            text = f"score {self.expr(node.value)}"
            if node.by is not None:
                text += f" by {quote(node.by.value)}"
            return text
        raise TypeError(f"no one-line form for {node!r}")  # pragma: no cover - tiers take lines

    def veto(self, node: ast.Veto, blank: bool) -> None:
        label = f" {quote(node.label.value)}" if node.label is not None else ""
        text = f"veto {node.name.id}{label} when {self.expr(node.cond)}"
        if node.effect is not None and node.grade is not None:
            text += f" {node.effect} {quote(node.grade.value)}"
        if node.source is None and node.note is None:
            self.emit(text, self._span(node), blank=blank)
            return
        self.open(text, node, blank=blank)
        self.meta_lines(node)
        self.close(self._closing(node))

    # tests ------------------------------------------------------------------
    def test(self, node: ast.TestCase, blank: bool) -> None:
        self.open(f"test {quote(node.name.value)}", node, blank=blank)
        if node.given is not None:
            self.given(node)
        if node.data is not None:
            text = f"data {quote(node.data.value)}"
            if node.community is not None:
                text += f" community {quote(node.community.value)}"
            self.emit(text, self._keyworded(node.data, node.community))
        for expectation in node.expectations:
            self.emit(self.expectation_text(expectation), self._keyworded(expectation))
        self.close(self._closing(node))

    def baseline(self, tree: ast.TestsFile | ast.ModelFile, before=None) -> None:
        """The suite's (or the model's tests') `given { … }` before its tests."""
        head: list[tuple[int, int]] = []
        tail: list[tuple[int, int]] = []
        if self.src is not None and _has_span(tree):
            src = self.src
            if isinstance(tree, ast.TestsFile):
                begin = tree.model.span.end
                end = tree.tests[0].span.start if tree.tests else tree.span.end
            else:  # the model's `given` that is not inside a test
                begin, end = self._model_given(tree)
            first = src.find("given", begin, end) if end > begin else None
            if first is not None and first + 1 < len(src.tokens):
                head = [(src.tokens[first].start_pos, src.tokens[first + 1].end_pos)]
                brace = src.find("}", src.tokens[first].end_pos, end)
                if brace is not None:
                    tail = [(src.tokens[brace].start_pos, src.tokens[brace].end_pos)]
        self.emit("given {", head, blank=True, opens=True)
        self.depth += 1
        for assign in tree.baseline or ():
            self.emit(f"{assign.name.id} = {self.lit(assign.value)}", self._span(assign))
        self.close(tail)

    def _model_given(self, tree: ast.ModelFile) -> tuple[int, int]:
        """Where a model's baseline `given` stands: the first `given` token
        outside every test (an empty range when there is none)."""
        tests = [(t.span.start, t.span.end) for t in tree.items if isinstance(t, ast.TestCase)]
        pos = tree.span.start
        while (i := self.src.find("given", pos, tree.span.end)) is not None:
            at = self.src.tokens[i].start_pos
            if not any(a <= at < b for a, b in tests):
                return at, tree.span.end
            pos = self.src.tokens[i].end_pos
        return 0, 0

    def given(self, node: ast.TestCase) -> None:
        head: list[tuple[int, int]] = []
        tail: list[tuple[int, int]] = []
        if self.src is not None and _has_span(node):
            src = self.src
            first = src.find("given", node.span.start, node.span.end)
            if first is not None and first + 1 < len(src.tokens):
                head = [(src.tokens[first].start_pos, src.tokens[first + 1].end_pos)]
                last = first
                nxt = src.find("given", src.tokens[first].end_pos, node.span.end)
                while nxt is not None:
                    last = nxt
                    nxt = src.find("given", src.tokens[nxt].end_pos, node.span.end)
                brace = src.find("}", src.tokens[last].end_pos, node.span.end)
                if brace is not None:
                    tok = src.tokens[brace]
                    tail = [(tok.start_pos, tok.end_pos)]
                    if tok.line == src.tokens[first].line and self._given_line(node, head, tail):
                        return
        self.emit("given {", head, opens=True)
        self.depth += 1
        for assign in node.given or ():
            self.emit(f"{assign.name.id} = {self.lit(assign.value)}", self._span(assign))
        self.close(tail)

    def _given_line(self, node: ast.TestCase, head, tail) -> bool:
        """A `given { a = 1  b = 2 }` the writer put on one line stays on one
        line when it fits (and holds no comment): the short overrides of a
        suite's baseline read best that way."""
        parts = [f"{a.name.id} = {self.lit(a.value)}" for a in node.given or ()]
        text = "given { " + "  ".join(parts) + " }" if parts else "given {}"
        start, end = head[0][0], tail[0][1]
        inside = any(start <= c.start_pos < end for c in self.src.comments)
        if len(text) + 4 * self.depth > 100 or inside:
            return False
        self.emit(text, [(start, end)])
        return True

    def expectation_text(self, node: ast.Expectation) -> str:
        kind = node.kind
        if kind == "grade":
            return f"expect grade {quote(node.text.value)}"
        if kind == "no_veto":
            return "expect no veto"
        if kind == "veto":
            return f"expect veto {node.target.id}"
        if kind == "missing":
            return f"expect missing {node.value.text}"
        if kind == "output":
            return f"expect output {node.target.id} {self.lit(node.literal)}"
        if kind == "indicator":
            text = f"expect indicator {node.target.id} {node.outcome}"
            if node.value is not None:
                text += f" points {self.lit(node.value)}"
            return text
        target = f" {node.target.id}" if kind == "dimension" else ""
        if node.missing:
            return f"expect {kind}{target} missing"
        text = f"expect {kind}{target} {self.lit(node.value)}"
        if node.within is not None:
            text += f" within {node.within.text}"
        return text

    # comments and output ----------------------------------------------------
    def attach_comments(self) -> list[Token]:
        """Give every comment to one printed line; return those left for the end."""
        src = self.src
        owner: list[int | None] = [None] * len(src.tokens)
        for n, line in enumerate(self.lines):
            for start, end in line.ranges:
                for i in range(src.index(start), src.index(end)):
                    owner[i] = n
        trailing: dict[int, list[Token]] = {}
        at_end: list[Token] = []
        for comment in src.comments:
            after = src.index(comment.start_pos)  # first token after the comment
            before = after - 1
            if (
                before >= 0
                and owner[before] is not None
                and src.tokens[before].end_line == comment.line
            ):
                trailing.setdefault(owner[before], []).append(comment)
                continue
            while after < len(owner) and owner[after] is None:
                after += 1
            if after < len(owner):
                self.lines[owner[after]].leading.append(comment)
            else:
                at_end.append(comment)
        for n, comments in trailing.items():
            # one trailing comment per line: the last; the others go before it
            *rest, last = comments
            self.lines[n].trailing = last
            self.lines[n].leading.extend(rest)
        for line in self.lines:
            line.leading.sort(key=lambda c: c.start_pos)
        return at_end

    def render(self) -> str:
        at_end = self.attach_comments() if self.src is not None else []
        out: list[str] = []
        after_open = True  # no blank line at the top of the file or of a block

        def put(text: str, depth: int, blank: bool) -> None:
            nonlocal after_open
            if blank and not after_open and out and out[-1]:
                out.append("")
            out.append(INDENT * depth + text if text else "")
            after_open = False

        def source_blank(offset: int | None) -> bool:
            return self.src is not None and offset is not None and self.src.blank_before(offset)

        for line in self.lines:
            blank = line.blank
            comment_depth = line.depth + 1 if line.closes else line.depth
            for comment in line.leading:
                put(_comment(comment), comment_depth, blank or source_blank(comment.start_pos))
                blank = False
            if line.closes:
                blank = False
            elif line.ranges:
                blank = blank or source_blank(line.ranges[0][0])
            text = line.text
            if line.trailing is not None:
                text += "  " + _comment(line.trailing)
            put(text, line.depth, blank)
            after_open = line.opens
        for comment in at_end:
            put(_comment(comment), 0, source_blank(comment.start_pos))
        return "\n".join(out) + "\n"


def _comment(tok: Token) -> str:
    return str(tok).rstrip()


def _kind(item: ast.Item) -> str:
    """Statements of one kind stand together; blocks stand apart."""
    if isinstance(item, ast.Dimension | ast.Indicator | ast.Grades | ast.TestCase):
        return "block"
    if isinstance(item, ast.Veto):
        return "block" if item.source is not None or item.note is not None else "veto"
    if isinstance(item, ast.Meta):
        return "header"
    return type(item).__name__.lower()
