"""The checker: AST → typed model IR, with every problem as a diagnostic.

`check(tree, text)` resolves names, infers and checks types, checks the points
budget, tiers, grades and vetoes, and builds `zhili.dsl.model.Model`. It
never changes the AST and never raises for a bad model: it collects all
diagnostics of the file (sorted, capped) and returns a model only when there
are no errors.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from zhili.dsl import ast, sets
from zhili.dsl import messages as m
from zhili.dsl import model as ir
from zhili.dsl.compose import Composed, Resolver, compose
from zhili.dsl.diagnostics import Diagnostic, sort_and_cap
from zhili.dsl.functions import BUILTINS, NUMERIC, Signature
from zhili.dsl.i18n import _

RESULT_NAMES = ir.RESULT_NAMES

_TYPE_WORDS = {
    "int": "a count",
    "number": "a number",
    "percent": "a percentage",
    "bool": "a yes/no value",
    "text": "text",
    "date": "a date",
    "enum": "a choice",
    "set": "a selection",
    "any": "a value",
}


def _type_text(t: ast.TypeRef) -> str:
    """An input's type as written (`int`, `enum("好", "差")`)."""
    if t.name != "enum":
        return t.name
    return "enum(" + ", ".join(f'"{v}"' for v in t.values) + ")"


def _tw(t: str) -> str:
    return _(_TYPE_WORDS.get(t, t))


@dataclass
class CheckResult:
    model: ir.Model | None
    diagnostics: list[Diagnostic]
    tests: list[ir.TestCase] = field(default_factory=list)  # of a `tests for` file

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def to_span(span: ast.Span | None) -> ir.SrcSpan | None:
    """The IR keeps the AST's span itself; a missing one is None."""
    if span is None or span is ast.NO_SPAN:
        return None
    return span


@dataclass
class _T:
    """A type during checking: name, enum values (for enums), whether the
    expression is a literal number (for unit-mismatch help)."""

    name: str
    values: tuple[str, ...] = ()
    literal: str | None = None
    error: bool = False
    source: str | None = None  # the input an enum value comes from
    dimension: str | None = None  # the dimension whose share this is (unit-error help)


ERR = _T("any", error=True)


def check(
    tree: ast.File,
    text: str = "",
    functions: dict[str, Signature] | None = None,
    resolve: Resolver | None = None,
) -> CheckResult:
    """Check one parsed file. For a `tests for` file, the tests are returned
    unresolved against a model (see `check_tests`). `resolve` finds the files
    a model imports and the base it extends (see `zhili.dsl.compose`); without
    it, `import` and `extends` cannot be resolved and are errors."""
    c = _Checker(tree, text, functions or BUILTINS)
    c.resolve = resolve
    return c.run()


@dataclass
class _ModelBuild:
    """What the model stages hand each other, from the syntax tree to the IR parts."""

    tree: ast.ModelFile
    header: dict[str, ast.Meta] = field(default_factory=dict)
    grades_blocks: list[ast.Grades] = field(default_factory=list)
    targets: list[ast.Target] = field(default_factory=list)
    tests: list[ast.TestCase] = field(default_factory=list)
    top_items: list = field(default_factory=list)
    title: str | None = None
    policy: str = "zero"
    precision: int | None = None
    input_ir: list[ir.InputField] = field(default_factory=list)
    let_order: list = field(default_factory=list)
    grade_rules: tuple = ()
    top_children: list[ir.Child] = field(default_factory=list)
    declared_total: float | None = None
    grades: list[ir.Grade] = field(default_factory=list)
    target_ir: list[ir.Target] = field(default_factory=list)
    test_ir: list[ir.TestCase] = field(default_factory=list)
    exempt_ir: list[ir.Exemption] = field(default_factory=list)
    output_ir: list[ir.Output] = field(default_factory=list)


class _Checker:
    def __init__(self, tree: ast.File, text: str, functions: dict[str, Signature]):
        self.tree = tree
        self.text = text
        self.functions = functions
        self.diags: list[Diagnostic] = []
        self.names: dict[str, tuple[str, ast.Span, object]] = {}  # id → (kind, span, node)
        self.inputs: dict[str, ast.Input] = {}
        self.input_types: dict[str, _T] = {}
        self.input_ranges: dict[str, tuple[float | None, float | None]] = {}
        self.lets: dict[str, ast.Let] = {}
        self.outputs: dict[str, ast.Output] = {}
        self.output_types: dict[str, _T] = {}
        self.output_ir: dict[str, ir.Expr] = {}
        self._output_stack: list[str] = []
        self.let_types: dict[str, _T] = {}
        self.let_ir: dict[str, ir.Expr] = {}
        self.used: set[str] = set()
        self.dimensions: list[ir.Dimension] = []
        self.indicators: list[ir.Indicator] = []
        self.vetoes: list[ir.Veto] = []
        self.grade_names: list[str] = []
        self._let_stack: list[str] = []
        self._let_done: set[str] = set()
        self._cycle_reported: set[frozenset[str]] = set()
        self._weights: dict[str, tuple[float, ast.Dimension]] = {}
        self._dim_nodes: dict[str, ast.Dimension] = {}
        self._veto_nodes: dict[str, ast.Veto] = {}
        # `exempt` statements with the dimension they stand in (None: model level)
        self._exempt_nodes: list[tuple[ast.Exempt, str | None]] = []
        self.resolve: Resolver | None = None
        self.texts: dict[str, str] = {}

    def err(self, d: Diagnostic) -> None:
        self.diags.append(d)

    def src(self, span: ast.Span) -> str:
        if span is ast.NO_SPAN:
            return ""
        text = self.texts.get(span.file, self.text) if self.texts else self.text
        if not text:
            return ""
        return text[span.start : span.end]

    # ------------------------------------------------------------ entry
    def run(self) -> CheckResult:
        tree = self.tree
        if isinstance(tree, ast.TestsFile):
            tests = [self._test_unresolved(t, tree.model.id, tree.baseline) for t in tree.tests]
            self._duplicate_tests(tree.tests)
            for imp in tree.imports:
                self.err(m.unsupported(imp.span, "`import`"))
            return CheckResult(None, sort_and_cap(self.diags), tests)
        comp = compose(tree, self.text, self.resolve)
        self.texts = comp.texts
        main = tree.span.file
        if comp.fatal:
            return CheckResult(None, sort_and_cap(comp.diagnostics))
        if isinstance(tree, ast.LibraryFile):
            self._library(comp.tree)
            diags = sort_and_cap(self._relocate(comp, main))
            return CheckResult(None, diags)
        model = self._model(comp.tree)
        diags = sort_and_cap(self._relocate(comp, main))
        if any(d.is_error for d in diags):
            return CheckResult(None, diags)
        if model is not None and len(comp.texts) > 1:
            model = _prune(model, main, comp)
        if model is not None:
            from zhili.dsl.analysis import analyse

            diags = sort_and_cap(diags + analyse(model, main))
        return CheckResult(model, diags)

    def _relocate(self, comp: Composed, main: str) -> list[Diagnostic]:
        """Problems whose span lies in a base or imported file are reported at
        the statement of this file that brought them in; warnings there are
        the other file's business."""
        out = list(comp.diagnostics)
        for d in self.diags:
            if d.span.file == main or d.span is ast.NO_SPAN:
                out.append(d)
            elif d.is_error:
                anchor = comp.anchor(d.span)
                out.append(m.in_base(d, anchor) if anchor is not None else d)
        return out

    def _library(self, tree: ast.LibraryFile) -> None:
        """A library holds inputs and definitions only; nothing is unused."""
        header: set[str] = set()
        for item in tree.items:
            if isinstance(item, ast.Input):
                self._declare(item.name, "input", item)
                self.inputs.setdefault(item.name.id, item)
            elif isinstance(item, ast.Let):
                self._declare(item.name, "let", item)
                self.lets.setdefault(item.name.id, item)
            elif isinstance(item, ast.Meta):
                if item.key in header:
                    self.err(m.duplicate_header(item.span, item.key))
                header.add(item.key)
        for i in self.inputs.values():
            self._input(i)
        for name in self.lets:
            self._let(name)

    # ------------------------------------------------------------ model
    def _model(self, tree: ast.ModelFile) -> ir.Model | None:
        """Run the model stages in order (`_MODEL_STAGES`), then build the IR."""
        b = _ModelBuild(tree)
        for _name, stage in self._MODEL_STAGES:
            stage(self, b)
        return self._build_model(b)

    def _stage_collect(self, b: _ModelBuild) -> None:
        """Sort the items by kind; declare inputs, definitions and the structure."""
        for item in b.tree.items:
            if isinstance(item, ast.Meta):
                if isinstance(item.value, ast.DateLit) and item.value.value is None:
                    self.err(m.invalid_date(item.value.span, item.value.text))
                if item.key in b.header:
                    self.err(m.duplicate_header(item.span, item.key))
                else:
                    b.header[item.key] = item
            elif isinstance(item, ast.Input):
                self._declare(item.name, "input", item)
                self.inputs.setdefault(item.name.id, item)
            elif isinstance(item, ast.Let):
                self._declare(item.name, "let", item)
                self.lets.setdefault(item.name.id, item)
            elif isinstance(item, ast.Output):
                self._declare(item.name, "output", item)
                self.outputs.setdefault(item.name.id, item)
            elif isinstance(item, (ast.Dimension, ast.Indicator, ast.Veto)):
                b.top_items.append(item)
                self._declare_tree(item)
                self._collect_exempts(item)
            elif isinstance(item, ast.Grades):
                b.grades_blocks.append(item)
            elif isinstance(item, ast.Target):
                b.targets.append(item)
            elif isinstance(item, ast.TestCase):
                b.tests.append(item)
            elif isinstance(item, (ast.Override, ast.GradeOverride)):
                self.err(m.override_without_extends(item.span))
            elif isinstance(item, ast.Exempt):
                self._exempt_nodes.append((item, None))

    def _stage_header(self, b: _ModelBuild) -> None:
        """The title (in the `model` line or a `title` statement, not both) and
        the missing-data policy."""
        tree, header = b.tree, b.header
        if "title" in header and tree.title is not None:
            self.err(m.duplicate_header(header["title"].span, "title"))
        b.title = tree.title.value if tree.title else self._meta_str(header, "title")
        b.policy = header["missing"].value if "missing" in header else "zero"
        b.precision = None
        if "precision" in header:
            meta = header["precision"]
            value = meta.value
            if (
                isinstance(value, ast.Number)
                and isinstance(value.value, int)
                and 0 <= value.value <= 6
            ):
                b.precision = value.value
            else:
                text = getattr(value, "text", str(value))
                self.err(m.bad_precision(meta.span, text))

    def _stage_inputs(self, b: _ModelBuild) -> None:
        b.input_ir = [self._input(i) for i in self.inputs.values()]
        # a label is a data column's header: two inputs of one label share a column
        first: dict[str, ast.Input] = {}
        for node in self.inputs.values():
            if node.label is None:
                continue
            other = first.setdefault(node.label.value, node)
            if other is not node:
                self.err(m.duplicate_label(node.label.span, node.label.value, other.name.id))

    def _stage_lets(self, b: _ModelBuild) -> None:
        """Definitions in dependency order, cycles reported."""
        for name in self.lets:
            self._let(name)
        b.let_order = self._let_order()

    def _stage_grade_names(self, b: _ModelBuild) -> None:
        """The grade names, before the structure: vetoes refer to them."""
        if not b.grades_blocks:
            self.err(m.no_grades(b.tree.name.span))
        for extra in b.grades_blocks[1:]:
            self.err(m.grades_twice(extra.span))
        b.grade_rules = b.grades_blocks[0].rules if b.grades_blocks else ()
        seen_grades: set[str] = set()
        for rule in b.grade_rules:
            if rule.name.value in seen_grades:
                self.err(m.duplicate_grade(rule.name.span, rule.name.value))
            seen_grades.add(rule.name.value)
            self.grade_names.append(rule.name.value)

    def _stage_structure(self, b: _ModelBuild) -> None:
        b.top_children = [self._structure(item, None, b.policy, 0) for item in b.top_items]

    def _stage_budget(self, b: _ModelBuild) -> None:
        """The declared total (or the structure's sum), weights turned into
        points, and the points-sum check of the top level."""
        total_meta = b.header.get("total")
        declared_total = None
        if total_meta is not None:
            declared_total = float(total_meta.value.value)
        structure_sum = self._budget_sum(b.top_children)
        if declared_total is None:
            declared_total = structure_sum
            if not b.top_items:
                declared_total = 0.0
        self._resolve_weights(b.top_children, declared_total)
        structure_sum = self._budget_sum(b.top_children)
        if total_meta is not None and abs(structure_sum - declared_total) > 1e-9 and b.top_items:
            self.err(m.points_sum(total_meta.span, _("the model"), declared_total, structure_sum))
        b.declared_total = declared_total

    def _stage_events(self, b: _ModelBuild) -> None:
        """Exemptions resolved to indicator ids; `zero when` on items without points."""
        from zhili.dsl.events import check_events

        b.exempt_ir = check_events(self, self._exempt_nodes)

    def _stage_outputs(self, b: _ModelBuild) -> None:
        """Outputs (after the structure: they read its results) in dependency
        order, cycles between them reported."""
        for name in self.outputs:
            self._output(name)
        b.output_ir = self._output_order()

    def _output(self, name: str) -> _T:
        if name in self.output_types:
            return self.output_types[name]
        if name in self._output_stack:
            cycle = self._output_stack[self._output_stack.index(name) :] + [name]
            key = frozenset(cycle)
            if key not in self._cycle_reported:
                self._cycle_reported.add(key)
                self.err(m.output_cycle(self.outputs[cycle[0]].name.span, cycle))
            return ERR
        self._output_stack.append(name)
        node = self.outputs[name]
        expr, t = self._expr(node.expr, scope="grade")
        self._output_stack.pop()
        if not t.error and t.name == "date":
            self.err(m.output_type(node.expr.span, name))
            t = ERR
        t = _T("text") if t.name == "enum" else _T(t.name, error=t.error)
        self.output_types[name] = t
        self.output_ir[name] = expr
        return t

    def _output_order(self) -> list[ir.Output]:
        order = _dependency_order(list(self.outputs), self.output_ir, "output")
        return [
            ir.Output(
                id=name,
                label=self.outputs[name].label.value if self.outputs[name].label else None,
                expr=self.output_ir[name],
                type=_ir_type(self.output_types[name]),
                span=to_span(self.outputs[name].span),
            )
            for name in order
        ]

    def _stage_grades(self, b: _ModelBuild) -> None:
        """Grade conditions, and the `otherwise` grade that ends the list."""
        rules = b.grade_rules
        b.grades = [self._grade(rule, i, len(rules)) for i, rule in enumerate(rules)]
        first_otherwise = next((i for i, r in enumerate(rules) if r.cond is None), None)
        if first_otherwise is None:
            if rules:
                self.err(m.no_otherwise(rules[-1].span))
        else:
            for rule in rules[first_otherwise + 1 :]:
                self.err(m.grade_after_otherwise(rule.span))

    def _stage_vetoes(self, b: _ModelBuild) -> None:
        self._check_vetoes(b.grades)

    def _stage_targets(self, b: _ModelBuild) -> None:
        for t in b.targets:
            if t.op != ">=":
                self.err(m.target_op(t.span, t.op))
            if t.by is not None and t.by.value is None:
                self.err(m.invalid_date(t.by.span, t.by.text))
            if t.grade.value not in self.grade_names:
                self.err(m.unknown_grade(t.grade.span, t.grade.value, self.grade_names))
            b.target_ir.append(
                ir.Target(
                    label=t.label.value if t.label else None,
                    grade=t.grade.value,
                    share=t.share.value,
                    by=t.by.value if t.by else None,
                    span=to_span(t.span),
                )
            )

    def _stage_unused(self, b: _ModelBuild) -> None:
        """Inputs and definitions nothing refers to (after every use is seen)."""
        for name, inp in self.inputs.items():
            if name not in self.used:
                self.err(m.unused_input(inp.name.span, name))
        for name, let in self.lets.items():
            if name not in self.used:
                self.err(m.unused_let(let.name.span, name))

    def _stage_constants(self, b: _ModelBuild) -> None:
        """Constant arithmetic that divides by zero or overflows (docs/language.md,
        "Numbers"): an error at the outermost such constant expression."""
        exprs = list(self.let_ir.values())
        for ind in self.indicators:
            exprs.extend(ind.scoring.exprs())
        exprs.extend(v.condition for v in self.vetoes)
        exprs.extend(g.condition for g in b.grades if g.condition is not None)
        exprs.extend(self.output_ir.values())
        for e in exprs:
            self._constants(e)

    def _constants(self, e: ir.Expr) -> None:
        problem = _constant_problem(e)
        if isinstance(e, ir.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
            problem = "overflow" if abs(e.value) >= _CONST_INT_LIMIT else None
        if problem is not None:
            span = e.span or ast.NO_SPAN
            factory = m.constant_division_by_zero if problem == "zero" else m.constant_overflow
            self.err(factory(span, e.text))
            return
        if isinstance(e, ir.Const | ir.Ref):
            return
        for child in _children(e):
            self._constants(child)

    def _stage_missing_headers(self, b: _ModelBuild) -> None:
        for key in ("version", "issuer", "source"):
            if key not in b.header:
                self.err(m.missing_header(b.tree.name.span, key))

    def _stage_tests(self, b: _ModelBuild) -> None:
        baseline = getattr(b.tree, "baseline", None)
        if baseline is not None:
            self._resolve_test(ast.TestCase(ast.String("", b.tree.span), baseline, None, None, ()))
        b.test_ir = [self._test(t, b.tree.name.id, baseline) for t in b.tests]
        self._duplicate_tests(b.tests)

    def _duplicate_tests(self, tests) -> None:
        """Two tests of one file with one name: a failure could not say which."""
        first: dict[str, ast.Span] = {}
        for t in tests:
            name = t.name.value
            if name in first:
                self.err(m.duplicate_test(t.name.span, name, first[name]))
            else:
                first[name] = t.name.span

    # The model's stages in order, each a method reading what earlier ones left
    # in the `_ModelBuild` (OPA's named stage list in `ast/compile.go`). The
    # order is the order diagnostics used to be found in; keep it.
    _MODEL_STAGES = (
        ("collect", _stage_collect),
        ("header", _stage_header),
        ("inputs", _stage_inputs),
        ("lets", _stage_lets),
        ("grade-names", _stage_grade_names),
        ("structure", _stage_structure),
        ("budget", _stage_budget),
        ("events", _stage_events),
        ("outputs", _stage_outputs),
        ("grades", _stage_grades),
        ("vetoes", _stage_vetoes),
        ("targets", _stage_targets),
        ("constants", _stage_constants),
        ("unused", _stage_unused),
        ("missing-headers", _stage_missing_headers),
        ("tests", _stage_tests),
    )

    def _content_hash(self, tree: ast.ModelFile) -> str:
        """This file's text, then every other composed file's, in name order."""
        digest = hashlib.sha256(self.text.encode("utf-8"))
        for file in sorted(self.texts):
            if file != tree.span.file:
                digest.update(self.texts[file].encode("utf-8"))
        return digest.hexdigest()

    def _build_model(self, b: _ModelBuild) -> ir.Model | None:
        tree, header = b.tree, b.header
        try:
            return ir.Model(
                id=tree.name.id,
                title=b.title,
                version=self._meta_str(header, "version"),
                issuer=self._meta_str(header, "issuer"),
                source=self._meta_str(header, "source"),
                description=self._meta_str(header, "description"),
                effective=header["effective"].value.value if "effective" in header else None,
                total=b.declared_total,
                missing=b.policy,
                precision=b.precision,
                inputs=b.input_ir,
                lets=b.let_order,
                outputs=b.output_ir,
                dimensions=self.dimensions,
                top=b.top_children,
                indicators=self.indicators,
                vetoes=self.vetoes,
                exemptions=b.exempt_ir,
                grades=b.grades,
                targets=b.target_ir,
                tests=b.test_ir,
                extends=tree.extends.base.id if tree.extends is not None else None,
                path=tree.span.file if tree.span is not ast.NO_SPAN else None,
                content_hash=self._content_hash(tree),
            )
        except Exception:  # a partial model after errors may not validate
            if any(d.is_error for d in self.diags):
                return None
            raise

    def _meta_str(self, header, key) -> str | None:
        meta = header.get(key)
        if meta is None:
            return None
        v = meta.value
        return v.value if isinstance(v, ast.String) else str(v)

    def _declare(self, ident: ast.Ident, kind: str, node) -> None:
        if ident.id in RESULT_NAMES:
            self.err(m.reserved_name(ident.span, ident.id))
        prev = self.names.get(ident.id)
        if prev is not None:
            self.err(m.duplicate_id(ident.span, ident.id, prev[1]))
            return
        self.names[ident.id] = (kind, ident.span, node)

    def _collect_exempts(self, item) -> None:
        """The `exempt` statements inside a dimension (nested), in tree order."""
        if isinstance(item, ast.Dimension):
            for child in item.items:
                if isinstance(child, ast.Exempt):
                    self._exempt_nodes.append((child, item.name.id))
                else:
                    self._collect_exempts(child)

    def _declare_tree(self, item) -> None:
        if isinstance(item, ast.Dimension):
            self._declare(item.name, "dimension", item)
            for child in item.items:
                self._declare_tree(child)
        elif isinstance(item, ast.Indicator):
            self._declare(item.name, "indicator", item)
        elif isinstance(item, ast.Veto):
            self._declare(item.name, "veto", item)

    # ------------------------------------------------------------ inputs
    def _input(self, node: ast.Input) -> ir.InputField:
        t = node.type
        values = list(t.values)
        if t.name in ("enum", "set"):
            seen = set()
            for v in values:
                if v in seen:
                    self.err(m.enum_duplicate(t.span, v))
                seen.add(v)
        if t.name == "set":
            self._set_values(t)
        self.input_types[node.name.id] = _T(t.name, tuple(values))
        lo = hi = None
        if node.range is not None:
            a, b = node.range
            if t.name not in NUMERIC:
                self.err(m.range_type(a.span, t.name))
            else:
                lo, hi = float(a.value), float(b.value)
                if lo > hi:
                    self.err(m.range_order(a.span))
                is_pct = t.name == "percent"
                for bound in (a, b):
                    if is_pct != isinstance(bound, ast.Percent) and bound.value != 0:
                        self.err(
                            m.percent_vs_count(bound.span, None if is_pct is False else bound.text)
                        )
        if node.fractions and t.name != "percent":
            self.err(m.fractions_type(node.span, node.name.id, t.name))
        if node.previous is not None:
            self._previous(node)
        self.input_ranges[node.name.id] = (lo, hi)
        return ir.InputField(
            id=node.name.id,
            type=t.name,
            label=node.label.value if node.label else None,
            unit=node.unit.value if node.unit else ("%" if t.name == "percent" else None),
            min=lo,
            max=hi,
            required=node.required if node.required is not None else True,
            values=values,
            note=node.note.value if node.note else None,
            fractions=node.fractions and t.name == "percent",
            span=to_span(node.span),
            previous=node.previous.id if node.previous is not None else None,
        )

    def _previous(self, node: ast.Input) -> None:
        """`previous NAME`: NAME is another input of the same type."""
        ref = node.previous
        other = self.inputs.get(ref.id)
        if ref.id == node.name.id:
            self.err(m.previous_self(ref.span, ref.id))
        elif other is None:
            if ref.id in self.names:
                self.err(m.previous_not_input(ref.span, ref.id))
            else:
                self.err(m.unknown_name(ref.span, ref.id, list(self.inputs)))
        elif (other.type.name, other.type.values) != (node.type.name, node.type.values):
            self.err(
                m.previous_type(
                    node.type.span,
                    node.name.id,
                    ref.id,
                    _type_text(other.type),
                    _type_text(node.type),
                )
            )

    def _set_values(self, t: ast.TypeRef) -> None:
        """A set's listed values must be writable in a data cell: no
        separator inside a value, and at most `sets.MAX_VALUES` of them."""
        seen: dict[str, str] = {}
        for v in t.values:
            if sets.has_separator(v) or not v.strip() or v.strip() in sets.EMPTY_WORDS:
                self.err(m.set_value_unwritable(t.span, v))
            # cells match values ignoring case, spaces and full-width forms
            elif sets.loose_key(v) in seen and seen[sets.loose_key(v)] != v:
                self.err(m.set_values_alike(t.span, seen[sets.loose_key(v)], v))
            seen.setdefault(sets.loose_key(v), v)
        if len(t.values) > sets.MAX_VALUES:
            self.err(m.set_too_many(t.span, len(t.values), sets.MAX_VALUES))

    # ------------------------------------------------------------ lets
    def _let(self, name: str) -> _T:
        if name in self._let_done:
            return self.let_types.get(name, ERR)
        if name in self._let_stack:
            cycle = self._let_stack[self._let_stack.index(name) :] + [name]
            key = frozenset(cycle)
            if key not in self._cycle_reported:
                self._cycle_reported.add(key)
                let = self.lets[cycle[0]]
                self.err(m.cycle(let.name.span, cycle))
            return ERR
        self._let_stack.append(name)
        let = self.lets[name]
        expr, t = self._expr(let.expr, scope="model")
        self._let_stack.pop()
        self._let_done.add(name)
        self.let_types[name] = t
        self.let_ir[name] = expr
        return t

    def _let_order(self) -> list[ir.Definition]:
        order = _dependency_order(list(self.lets), self.let_ir, "let")
        out = []
        for name in order:
            let = self.lets[name]
            t = self.let_types.get(name, ERR)
            out.append(
                ir.Definition(
                    id=name,
                    label=let.label.value if let.label else None,
                    expr=self.let_ir[name],
                    type=t.name if t.name != "enum" else "text",
                    span=to_span(let.span),
                )
            )
        return out

    # ------------------------------------------------------------ expressions
    def _expr(self, e: ast.Expr, scope: str) -> tuple[ir.Expr, _T]:
        """Check an expression; scope is "model" (inputs, lets) or "grade"
        (also results: total, dimensions, indicators, vetoed…)."""
        text = self.src(e.span)
        span = to_span(e.span)
        if isinstance(e, ast.Number):
            t = _T("int" if isinstance(e.value, int) else "number", literal=e.text)
            return ir.Const(value=e.value, type=t.name, text=text, span=span), t
        if isinstance(e, ast.Percent):
            return ir.Const(value=e.value, type="percent", text=text, span=span), _T("percent")
        if isinstance(e, ast.String):
            return ir.Const(value=e.value, type="text", text=text, span=span), _T(
                "text", literal=e.value
            )
        if isinstance(e, ast.Bool):
            return ir.Const(value=e.value, type="bool", text=text, span=span), _T("bool")
        if isinstance(e, ast.DateLit):
            if e.value is None:
                self.err(m.invalid_date(e.span, e.text))
                return ir.Const(value=None, type="date", text=text, span=span), ERR
            return ir.Const(value=e.value, type="date", text=text, span=span), _T("date")
        if isinstance(e, ast.Name):
            return self._name(e, scope, text, span)
        if isinstance(e, ast.Unary):
            operand, t = self._expr(e.operand, scope)
            if e.op == "not":
                self._want_bool(e.operand, t)
                return ir.Unary(op="not", operand=operand, type="bool", text=text, span=span), _T(
                    "bool"
                )
            if not t.error and t.name not in NUMERIC:
                self.err(m.expected_type(e.operand.span, _tw("number"), _tw(t.name)))
                t = ERR
            lit = ("-" + t.literal) if t.literal else None
            rt = _T(t.name, literal=lit, error=t.error)
            return ir.Unary(op="-", operand=operand, type=_ir_type(rt), text=text, span=span), rt
        if isinstance(e, ast.Binary):
            return self._binary(e, scope, text, span)
        if isinstance(e, ast.In):
            operand, t = self._expr(e.operand, scope)
            options = []
            for opt in e.options:
                o, ot = self._expr(opt, scope)
                options.append(o)
                self._comparable(opt.span, t, ot, e.span, ordered=False)
            return ir.InList(
                operand=operand,
                options=options,
                negated=e.negated,
                type="bool",
                text=text,
                span=span,
            ), _T("bool")
        if isinstance(e, ast.InSet):
            return self._in_set(e, scope, text, span)
        if isinstance(e, ast.If):
            c, ct = self._expr(e.cond, scope)
            self._want_bool(e.cond, ct)
            a, at = self._expr(e.then, scope)
            b, bt = self._expr(e.orelse, scope)
            rt = self._common(e.orelse.span, at, bt)
            return ir.Cond(cond=c, then=a, orelse=b, type=_ir_type(rt), text=text, span=span), rt
        if isinstance(e, ast.Call):
            return self._call(e, scope, text, span)
        raise AssertionError(f"unknown expression node {e!r}")

    def _name(self, e: ast.Name, scope: str, text: str, span) -> tuple[ir.Expr, _T]:
        name = e.id
        entry = self.names.get(name)
        if entry is not None:
            kind = entry[0]
            if kind == "input":
                self.used.add(name)
                t = self.input_types.get(name) or _T(
                    self.inputs[name].type.name, self.inputs[name].type.values
                )
                return ir.Ref(name=name, scope="input", type=_ir_type(t), text=text, span=span), _T(
                    t.name, t.values, source=name
                )
            if kind == "let":
                self.used.add(name)
                t = self._let(name)
                return ir.Ref(name=name, scope="let", type=_ir_type(t), text=text, span=span), _T(
                    t.name, t.values, error=t.error
                )
            if kind in ("dimension", "indicator", "veto"):
                if scope != "grade":
                    self.err(m.not_here(e.span, name, _(kind)))
                    return ir.Const(value=None, type="any", text=text, span=span), ERR
                t = ir.ITEM_RESULT_TYPES[kind]
                dim = name if kind == "dimension" else None
                return ir.Ref(name=name, scope="result", type=t, text=text, span=span), _T(
                    t, dimension=dim
                )
            if kind == "output":
                if scope != "grade":
                    self.err(m.output_not_here(e.span, name))
                    return ir.Const(value=None, type="any", text=text, span=span), ERR
                t = self._output(name)
                ref = ir.Ref(name=name, scope="output", type=_ir_type(t), text=text, span=span)
                return ref, _T(t.name, error=t.error)
        if name in RESULT_NAMES:
            if scope != "grade":
                self.err(m.not_here(e.span, name, _("result")))
                return ir.Const(value=None, type="any", text=text, span=span), ERR
            t = RESULT_NAMES[name]
            return ir.Ref(name=name, scope="result", type=t, text=text, span=span), _T(t)
        candidates = [
            n for n, v in self.names.items() if v[0] in ("input", "let") or scope == "grade"
        ]
        if scope == "grade":
            candidates += list(RESULT_NAMES)
        self.err(m.unknown_name(e.span, name, candidates))
        return ir.Const(value=None, type="any", text=text, span=span), ERR

    def _want_bool(self, e: ast.Expr, t: _T) -> None:
        if not t.error and t.name not in ("bool", "any"):
            self.err(m.expected_type(e.span, _tw("bool"), _tw(t.name)))

    def _binary(self, e: ast.Binary, scope: str, text: str, span) -> tuple[ir.Expr, _T]:
        left, lt = self._expr(e.left, scope)
        right, rt = self._expr(e.right, scope)
        op = e.op
        if op in ("and", "or"):
            self._want_bool(e.left, lt)
            self._want_bool(e.right, rt)
            return ir.Binary(op=op, left=left, right=right, type="bool", text=text, span=span), _T(
                "bool"
            )
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self._comparable(e.right.span, lt, rt, e.span, ordered=op not in ("==", "!="))
            return ir.Binary(op=op, left=left, right=right, type="bool", text=text, span=span), _T(
                "bool"
            )
        # arithmetic
        result = self._arith(e, op, lt, rt)
        return ir.Binary(
            op=op, left=left, right=right, type=_ir_type(result), text=text, span=span
        ), result

    def _arith(self, e: ast.Binary, op: str, lt: _T, rt: _T) -> _T:
        if lt.error or rt.error:
            return ERR
        for side, t in ((e.left, lt), (e.right, rt)):
            if t.name not in NUMERIC and t.name != "any":
                self.err(m.expected_type(side.span, _tw("number"), _tw(t.name)))
                return ERR
        a, b = lt.name, rt.name
        if op in ("+", "-"):
            if (a == "percent") != (b == "percent"):
                other = rt if a == "percent" else lt
                if other.literal is not None and float(other.literal) == 0:
                    return _T("percent")
                self.err(m.percent_arith(e.span, other.literal))
                return ERR
            if a == "percent":
                return _T("percent")
            return _T("int" if a == b == "int" else "number")
        if op == "*":
            if a == b == "int":
                return _T("int")
            if a == b == "percent":
                return _T("percent")
            return _T("number")
        return _T("number")  # division

    def _comparable(
        self, span: ast.Span, lt: _T, rt: _T, whole: ast.Span, ordered: bool = True
    ) -> None:
        if lt.error or rt.error or "any" in (lt.name, rt.name):
            return
        a, b = lt.name, rt.name
        if a in NUMERIC and b in NUMERIC:
            if (a == "percent") != (b == "percent"):
                share, other = (lt, rt) if a == "percent" else (rt, lt)
                if other.literal is not None and float(other.literal) == 0:
                    return
                if share.dimension is not None and other.literal is not None:
                    points = self._dimension_points(share.dimension)
                    self.err(m.dimension_vs_count(whole, share.dimension, other.literal, points))
                    return
                self.err(m.percent_vs_count(whole, other.literal))
            return
        if a == "enum" or b == "enum":
            enum_t, other = (lt, rt) if a == "enum" else (rt, lt)
            if other.name in ("text", "enum"):
                if (
                    other.literal is not None
                    and enum_t.values
                    and other.literal not in enum_t.values
                ):
                    self.err(
                        m.unknown_enum_value(
                            span, other.literal, enum_t.source or "enum", enum_t.values
                        )
                    )
                if ordered:
                    self.err(
                        m.type_mismatch(whole, _("choices can only be compared with == and !="))
                    )
                return
            self.err(
                m.type_mismatch(whole, _("cannot compare {a} with {b}").format(a=_tw(a), b=_tw(b)))
            )
            return
        if "set" in (a, b):
            self.err(m.set_compared(whole))
            return
        if a != b:
            self.err(
                m.type_mismatch(whole, _("cannot compare {a} with {b}").format(a=_tw(a), b=_tw(b)))
            )
            return
        if ordered and a in ("bool", "text"):
            self.err(
                m.type_mismatch(
                    whole, _("{a} can only be compared with == and !=").format(a=_tw(a))
                )
            )

    def _common(self, span: ast.Span, a: _T, b: _T) -> _T:
        if a.error or b.error:
            return ERR
        if a.name == b.name:
            return _T(a.name, a.values)
        if a.name == "any":
            return b
        if b.name == "any":
            return a
        if a.name in NUMERIC and b.name in NUMERIC:
            if "percent" in (a.name, b.name):
                other = b if a.name == "percent" else a
                if other.literal is not None and float(other.literal) == 0:
                    return _T("percent")
                self.err(m.percent_vs_count(span, other.literal))
                return ERR
            return _T("number")
        if {a.name, b.name} <= {"text", "enum"}:
            return _T("text")
        self.err(
            m.type_mismatch(
                span,
                _("the branches have different types: {a} and {b}").format(
                    a=_tw(a.name), b=_tw(b.name)
                ),
            )
        )
        return ERR

    def _in_set(self, e: ast.InSet, scope: str, text: str, span) -> tuple[ir.Expr, _T]:
        """`"养老" in 服务领域`: the value must be a string listed by the set;
        lowered to the engine's `set_has(S, mask)` (sets are bitmasks)."""
        s_ir, st = self._expr(e.set, scope)
        if st.error:
            return ir.Const(value=None, type="any", text=text, span=span), ERR
        if st.name != "set":
            self.err(m.expected_type(e.set.span, _tw("set"), _tw(st.name)))
            return ir.Const(value=None, type="any", text=text, span=span), ERR
        if not isinstance(e.operand, ast.String):
            self.err(m.set_member_literal(e.operand.span, e.set.id))
            return ir.Const(value=None, type="any", text=text, span=span), ERR
        if e.operand.value not in st.values:
            self.err(
                m.unknown_enum_value(
                    e.operand.span, e.operand.value, st.source or e.set.id, st.values
                )
            )
            return ir.Const(value=None, type="any", text=text, span=span), ERR
        mask = ir.Const(
            value=sets.bit(st.values, e.operand.value),
            type="int",
            text=self.src(e.operand.span),
            span=to_span(e.operand.span),
        )
        has = ir.Call(func="set_has", args=[s_ir, mask], type="bool", text=text, span=span)
        if e.negated:
            return ir.Unary(op="not", operand=has, type="bool", text=text, span=span), _T("bool")
        return has, _T("bool")

    def _points(self, e: ast.Call, scope: str, text: str, span) -> tuple[ir.Expr, _T]:
        """`points(X)`: the points dimension (or indicator) X earned, a number."""
        arg = e.args[0]
        entry = self.names.get(arg.id)
        kind = entry[0] if entry is not None else None
        if kind not in ("dimension", "indicator"):
            candidates = [n for n, v in self.names.items() if v[0] in ("dimension", "indicator")]
            self.err(m.points_of(arg.span, arg.id, kind, candidates))
            return ir.Const(value=None, type="any", text=text, span=span), ERR
        if scope != "grade":
            self.err(m.output_not_here(e.span, text or "points(" + arg.id + ")"))
            return ir.Const(value=None, type="any", text=text, span=span), ERR
        # an indicator's result is its points already
        where = "points" if kind == "dimension" else "result"
        return ir.Ref(name=arg.id, scope=where, type="number", text=text, span=span), _T("number")

    def _call(self, e: ast.Call, scope: str, text: str, span) -> tuple[ir.Expr, _T]:
        if e.func == "points" and len(e.args) == 1 and isinstance(e.args[0], ast.Name):
            return self._points(e, scope, text, span)
        sig = self.functions.get(e.func)
        args_ir, arg_types = [], []
        for a in e.args:
            ai, at = self._expr(a, scope)
            args_ir.append(ai)
            arg_types.append(at)
        if e.func == "count" and len(arg_types) == 1 and arg_types[0].name == "set":
            # `count(S)` of one set: how many of its values are selected
            return ir.Call(func="set_count", args=args_ir, type="int", text=text, span=span), _T(
                "int"
            )
        if sig is None:
            self.err(m.unknown_function(e.func_span, e.func, self.functions))
            return ir.Call(func=e.func, args=args_ir, type="any", text=text, span=span), ERR
        lo = sig.min_args if sig.min_args is not None else len(sig.params)
        n = len(e.args)
        if e.func in ("floor", "ceil") and n > 1 and sig is BUILTINS.get(e.func):
            self.err(m.whole_digits(e.span, e.func))
            return ir.Call(func=e.func, args=args_ir, type="any", text=text, span=span), ERR
        if n < lo or (not sig.variadic and n > len(sig.params)):
            self.err(m.arity(e.span, e.func, sig.arity_text, n))
            return ir.Call(func=e.func, args=args_ir, type="any", text=text, span=span), ERR
        bad = False
        for i, (a, t) in enumerate(zip(e.args, arg_types, strict=True)):
            kind = sig.params[min(i, len(sig.params) - 1)]
            if t.error:
                bad = True
                continue
            if kind == "num" and t.name not in NUMERIC and t.name != "any":
                self.err(m.expected_type(a.span, _tw("number"), _tw(t.name)))
                bad = True
            elif kind == "int" and t.name not in ("int", "any"):
                self.err(m.expected_type(a.span, _tw("int"), _tw(t.name)))
                bad = True
            elif kind == "bool" and t.name not in ("bool", "any"):
                self.err(m.expected_type(a.span, _tw("bool"), _tw(t.name)))
                bad = True
        if not bad and e.func in ("floor", "ceil") and arg_types[0].name == "percent":
            self.err(m.whole_of_percent(e.args[0].span, e.func))
            bad = True
        if bad:
            return ir.Call(func=e.func, args=args_ir, type="any", text=text, span=span), ERR
        result = sig.result
        if result == "first":
            rt = _T(arg_types[0].name, arg_types[0].values)
        elif result == "same":
            rt = arg_types[0]
            for a, t in zip(e.args[1:], arg_types[1:], strict=True):
                rt = self._common(a.span, rt, t)
            rt = _T(rt.name, rt.values, error=rt.error)
        else:
            rt = _T(result)
        if e.func == "clamp" or e.func == "between":
            for a, t in zip(e.args[1:], arg_types[1:], strict=True):
                self._comparable(a.span, arg_types[0], t, e.span)
        return ir.Call(func=e.func, args=args_ir, type=_ir_type(rt), text=text, span=span), rt

    # ------------------------------------------------------------ structure
    def _structure(self, item, parent: str | None, policy: str, depth: int) -> ir.Child:
        if isinstance(item, ast.Dimension):
            return self._dimension(item, parent, policy, depth)
        if isinstance(item, ast.Indicator):
            return self._indicator(item, parent, policy)
        return self._veto(item, parent)

    def _dimension(self, d: ast.Dimension, parent: str | None, policy: str, depth: int) -> ir.Child:
        own_policy = d.missing or policy
        index = len(self.dimensions)
        self.dimensions.append(None)  # placeholder keeps pre-order
        children = [
            self._structure(c, d.name.id, own_policy, depth + 1)
            for c in d.items
            if not isinstance(c, ast.Exempt)
        ]
        if d.points is not None and d.weight is not None:
            self.err(m.points_and_weight(d.weight.span))
        section = self._section_kind(children)
        if d.points is None and d.weight is None and section is None and d.cap is None:
            self.err(m.no_points(d.name.span))
        if not any(c.kind == "indicator" or c.kind == "dimension" for c in children):
            self.err(m.empty_dimension(d.name.span, d.name.id))
        points = float(d.points.value) if d.points is not None else -1.0  # weights resolved later
        if d.points is None and d.weight is None and (section is not None or d.cap is not None):
            points = 0.0  # a section of bonus or penalty items has no points of its own
        cap = self._section_cap(d, children, section)
        if points != 0.0 or d.weight is not None:
            section = None
        self.dimensions[index] = ir.Dimension(
            id=d.name.id,
            label=d.label.value if d.label else None,
            points=points,
            parent=parent,
            depth=depth,
            children=children,
            missing=own_policy,
            source=d.source.value if d.source else None,
            note=d.note.value if d.note else None,
            span=to_span(d.span),
            zero=[self._event(z) for z in d.zero],
            cap=cap,
            section=section,
        )
        if d.weight is not None and d.points is None:
            self._weights[d.name.id] = (d.weight.value, d)
        self._dim_nodes[d.name.id] = d
        return ir.Child(kind="dimension", id=d.name.id)

    def _section_kind(self, children: list[ir.Child]) -> str | None:
        """ "bonus" or "penalty" when every item under `children` is a bonus
        (penalty) indicator, or a section of that kind; None otherwise."""
        kinds = set()
        for c in children:
            if c.kind == "indicator":
                ind = next((i for i in self.indicators if i.id == c.id), None)
                if ind is None:
                    continue
                kinds.add("penalty" if ind.is_penalty else "bonus" if ind.is_bonus else "")
            elif c.kind == "dimension":
                _, sub = self._dim(c.id)
                kinds.add(sub.section or "")
        return kinds.pop() if len(kinds) == 1 and "" not in kinds else None

    def _section_cap(self, d: ast.Dimension, children: list[ir.Child], section) -> float | None:
        """A dimension's `max C` (合计最高): only on a section of bonus or
        penalty items without points of its own; `section-max` otherwise."""
        if d.cap is None:
            return None
        cap = float(d.cap.value)
        if d.points is not None and float(d.points.value) != 0.0 or d.weight is not None:
            at = d.points if d.points is not None else d.weight
            self.err(m.section_max_points(d.cap.span, d.name.id, at.text))
            return None
        if section is None:
            scored = [
                i
                for c in children
                if c.kind == "indicator"
                for i in self.indicators
                if i.id == c.id and not i.is_bonus
            ]
            kinds = {
                "penalty" if i.is_penalty else "bonus"
                for c in children
                if c.kind == "indicator"
                for i in self.indicators
                if i.id == c.id and i.is_bonus
            }
            self.err(m.section_max_mixed(d.cap.span, d.name.id, scored, kinds))
            return None
        most = self._section_most(children)
        if most is not None and most <= cap:
            self.err(m.section_cap_never_binds(d.cap.span, cap, most, section))
        return cap

    def _section_most(self, children: list[ir.Child]) -> float | None:
        """The most a section's items can add (take) together, None when one
        of them has no limit."""
        total = 0.0
        for c in children:
            if c.kind == "indicator":
                ind = next((i for i in self.indicators if i.id == c.id), None)
                if ind is None:
                    continue
                if ind.is_penalty:
                    most = _penalty_most(ind.scoring)
                    if most is None:
                        return None
                    total += most
                else:
                    total += ind.points
            elif c.kind == "dimension":
                _, sub = self._dim(c.id)
                most = sub.cap if sub.cap is not None else self._section_most(sub.children)
                if most is None:
                    return None
                total += most
        return total

    def _dimension_points(self, id: str) -> float | None:
        """A dimension's declared points (None: not known, e.g. a weight)."""
        d = next((d for d in self.dimensions if d is not None and d.id == id), None)
        return d.points if d is not None and d.points > 0 else None

    def _dim(self, id: str) -> tuple[int, ir.Dimension]:
        for i, d in enumerate(self.dimensions):
            if d is not None and d.id == id:
                return i, d
        raise KeyError(id)

    def _budget_sum(self, children: list[ir.Child]) -> float:
        total = 0.0
        for c in children:
            if c.kind == "dimension":
                _, d = self._dim(c.id)
                total += max(d.points, 0.0)
            elif c.kind == "indicator":
                ind = next((i for i in self.indicators if i.id == c.id), None)
                if ind is not None and not ind.is_bonus:
                    total += ind.points
        return total

    def _resolve_weights(
        self, children: list[ir.Child], parent_points: float, path: frozenset[str] = frozenset()
    ) -> None:
        weights = self._weights
        for c in children:
            # a dimension nested in one of the same id (a duplicate-id error) would recurse forever
            if c.kind != "dimension" or c.id in path:
                continue
            i, d = self._dim(c.id)
            if c.id in weights:
                d = d.model_copy(update={"points": round(weights[c.id][0] * parent_points, 9)})
                self.dimensions[i] = d
            self._resolve_weights(d.children, d.points, path | {c.id})
            total = self._budget_sum(d.children)
            if d.points >= 0 and abs(total - d.points) > 1e-9:
                node = self._dim_nodes[d.id]
                where = "`" + d.id + "`"
                at = (
                    node.points.span
                    if node.points is not None
                    else (node.weight.span if node.weight else node.name.span)
                )
                self.err(m.points_sum(at, where, d.points, total))

    def _indicator(self, node: ast.Indicator, parent: str | None, policy: str) -> ir.Child:
        penalty = any(isinstance(s, ast.Penalty) for s in node.scorings)
        if node.points is None:
            points = 0.0
            if not penalty:
                self.err(m.indicator_points(self._brace_after(node)))
        else:
            points = float(node.points.value)
            if penalty:
                self.err(m.penalty_points(node.points.span, node.points.text))
                points = 0.0
        if points < 0:
            self.err(m.type_mismatch(node.points.span, _("points cannot be negative")))
        if len(node.scorings) != 1:
            self.err(m.scoring_count(node.name.span, len(node.scorings)))
        scoring = self._scoring(node.scorings[0], points) if node.scorings else None
        if scoring is None:
            scoring = ir.PassWhen(value=ir.Const(value=False, type="bool"))
        ind = ir.Indicator(
            id=node.name.id,
            label=node.label.value if node.label else None,
            points=points,
            scoring=scoring,
            missing=node.missing or policy,
            dimension=parent,
            source=node.source.value if node.source else None,
            note=node.note.value if node.note else None,
            span=to_span(node.span),
            requires=self._event(node.requires[0]) if node.requires else None,
            zero=[self._event(z) for z in node.zero],
            method=self._nonempty(node.method, "method"),
        )
        for extra in node.requires[1:]:
            self.err(m.requires_twice(extra.span, node.requires[0].span))
        self.indicators.append(ind)
        return ir.Child(kind="indicator", id=ind.id)

    def _brace_after(self, node: ast.Indicator) -> ast.Span:
        """Where an indicator's `points N` belongs: the `{` after its name
        and label (the name when the source is not at hand)."""
        at = node.label.span if node.label is not None else node.name.span
        text = (self.texts.get(at.file, self.text) if self.texts else self.text) or ""
        k = text.find("{", at.end) if at.end else -1
        if k < 0 or text[at.end : k].strip():
            return at
        line = text.count("\n", 0, k) + 1
        column = k - (text.rfind("\n", 0, k) + 1) + 1
        return ast.Span(at.file, line, column, line, column + 1, k, k + 1)

    def _event(self, node: ast.Requires | ast.ZeroWhen) -> ir.Event:
        """A `requires` or `zero when` condition: a bool over inputs and definitions."""
        c, t = self._expr(node.cond, "model")
        self._want_bool(node.cond, t)
        return ir.Event(
            condition=c, label=node.label.value if node.label else None, span=to_span(node.span)
        )

    def _numeric(self, e: ast.Expr) -> tuple[ir.Expr, _T]:
        x, t = self._expr(e, "model")
        if not t.error and t.name not in NUMERIC and t.name != "any":
            self.err(m.expected_type(e.span, _tw("number"), _tw(t.name)))
            return x, ERR
        return x, t

    def _scoring(self, s, points: float) -> ir.Scoring:
        span = to_span(s.span)
        if isinstance(s, ast.PassWhen):
            c, t = self._expr(s.cond, "model")
            self._want_bool(s.cond, t)
            return ir.PassWhen(value=c, span=span)
        if isinstance(s, ast.BonusWhen):
            c, t = self._expr(s.cond, "model")
            self._want_bool(s.cond, t)
            return ir.BonusWhen(value=c, span=span)
        if isinstance(s, ast.Linear):
            v, vt = self._numeric(s.value)
            lo, lot = self._numeric(s.low)
            hi, hit = self._numeric(s.high)
            self._comparable(s.low.span, vt, lot, s.low.span)
            self._comparable(s.high.span, vt, hit, s.high.span)
            if isinstance(lo, ir.Const) and isinstance(hi, ir.Const) and lo.value == hi.value:
                self.err(m.linear_bounds(s.span))
            return ir.Linear(value=v, low=lo, high=hi, span=span)
        if isinstance(s, ast.Tiers):
            return self._tiers(s, points, span)
        if isinstance(s, (ast.Deduct, ast.BonusPer)):
            n, _nt = self._numeric(s.count)
            per = float(s.per.value)
            cap = float(s.cap.value) if s.cap is not None else None
            if cap is not None and cap > points:
                self.err(m.cap_too_large(s.cap.span, cap, points))
            if per <= 0:
                self.err(
                    m.type_mismatch(s.per.span, _("the amount per occurrence must be positive"))
                )
            form = ir.Deduct if isinstance(s, ast.Deduct) else ir.BonusPer
            return form(value=n, per=per, cap=cap, span=span)
        if isinstance(s, ast.Score):
            return self._score(s, points, span)
        if isinstance(s, ast.Deductions):
            return self._deductions(s, points, span)
        if isinstance(s, ast.Penalty):
            return self._penalty(s, span)
        raise AssertionError(s)

    def _penalty(self, s: ast.Penalty, span) -> ir.Penalty:
        """`penalty CAUSE` / `penalty [max C] { CAUSE … }` (减分项): the causes
        of a deduction, limited by their own caps and the block's, if any."""
        cap = float(s.cap.value) if s.cap is not None else None
        limit = cap if cap is not None else math.inf
        # (as in a deduction block, a cause may name more than the block's cap)
        causes = [self._deduct_cause(c, math.inf) for c in s.causes]
        if cap is not None:
            if cap <= 0:
                self.err(
                    m.type_mismatch(s.cap.span, _("the most a penalty takes must be positive"))
                )
            most = [_cause_most(c) for c in causes]
            if all(x is not None for x in most) and sum(most) <= cap:
                self.err(m.cap_never_binds(s.cap.span, cap, sum(most), limit))
        value = ir.Const(value=0.0, type="number", text="")
        return ir.Penalty(value=value, causes=causes, cap=cap, span=span)

    def _score(self, s: ast.Score, points: float, span) -> ir.Score:
        """`score V by "机构"`: V a number; a declared range of V beyond
        0..points is a warning (such values are clamped, a data problem)."""
        v, vt = self._numeric(s.value)
        if not vt.error and vt.name == "percent":
            self.err(m.score_percent(s.value.span, points))
        node = self.inputs.get(s.value.id) if isinstance(s.value, ast.Name) else None
        if node is not None and node.range is not None and node.type.name in NUMERIC:
            lo, hi = (float(b.value) for b in node.range)
            if lo < 0 or hi > points:
                self.err(m.score_range(s.value.span, node.name.id, lo, hi, points))
        return ir.Score(value=v, by=self._nonempty(s.by, "by"), span=span)

    def _nonempty(self, text: ast.String | None, word: str) -> str | None:
        """A `method` or `by` text: an empty one is an error."""
        if text is None:
            return None
        if not text.value.strip():
            self.err(m.empty_text(text.span, word))
            return None
        return text.value

    # ------------------------------------------------------------ deductions
    def _deductions(self, s: ast.Deductions, points: float, span) -> ir.Deductions:
        """`deduct [max C] { cause … }` and the one-line deduction forms."""
        causes = [self._deduct_cause(c, points) for c in s.causes]
        cap = None
        if s.cap is not None:
            cap = float(s.cap.value)
            if cap > points:
                self.err(m.cap_too_large(s.cap.span, cap, points))
            most = [_cause_most(c) for c in causes]
            if all(x is not None for x in most):
                total = sum(most)
                # "最多扣10分" on a 10-point item says what the sheet says: no warning
                if total <= cap < points:
                    self.err(m.cap_never_binds(s.cap.span, cap, total, points))
        value = ir.Const(value=0.0, type="number", text="")
        return ir.Deductions(value=value, causes=causes, cap=cap, span=span)

    def _deduct_cause(self, c: ast.DeductCause, points: float) -> ir.DeductCause:
        span = to_span(c.span)
        label = c.label.value if c.label is not None else None
        if c.kind == "tiers":
            t = self._tiers(ast.Tiers(c.value, c.tiers, c.span), points, span)
            return ir.DeductCause(
                kind="tiers",
                value=t.value,
                label=label,
                tiers=t.tiers,
                else_points=t.else_points,
                span=span,
            )
        amount = float(c.amount.value)
        if amount <= 0:
            self.err(m.type_mismatch(c.amount.span, _("the amount deducted must be positive")))
        cap = float(c.cap.value) if c.cap is not None else None
        if cap is not None and cap > points:
            self.err(m.cap_too_large(c.cap.span, cap, points))
        if c.kind == "when":
            v, t = self._expr(c.value, "model")
            self._want_bool(c.value, t)
            return ir.DeductCause(kind="when", value=v, label=label, amount=amount, span=span)
        v, vt = self._numeric(c.value)
        if c.kind == "per":
            return ir.DeductCause(
                kind="per", value=v, label=label, amount=amount, cap=cap, span=span
            )
        th, tt = self._numeric(c.threshold)
        self._comparable(c.threshold.span, vt, tt, c.threshold.span)
        step = None
        if isinstance(c.step, (ast.Number, ast.Percent)) and c.step.value > 0:
            step = float(c.step.value)
            st = _T("percent" if isinstance(c.step, ast.Percent) else "number", literal=c.step.text)
            self._comparable(c.step.span, vt, st, c.step.span)
        else:
            self._expr(c.step, "model")
            self.err(m.deduct_step(c.step.span))
        return ir.DeductCause(
            kind=c.kind,
            value=v,
            label=label,
            amount=amount,
            cap=cap,
            step=step if step is not None else 1.0,
            part=c.part,
            threshold=th,
            span=span,
        )

    def _tiers(self, s: ast.Tiers, points: float, span) -> ir.Tiers:
        v, vt = self._expr(s.value, "model")
        tiers: list[ir.Tier] = []
        else_points = 0.0
        seen_else = False
        direction = None
        last = None
        for tier in s.tiers:
            tp = float(tier.points.value)
            if tp > points:
                self.err(m.tier_points(tier.points.span, tp, points))
            if tier.op is None:
                if seen_else:
                    self.err(m.tier_unreachable(tier.span))
                seen_else = True
                else_points = tp
                continue
            if seen_else:
                self.err(m.tier_unreachable(tier.span))
            th, tt = self._expr(tier.threshold, "model")
            self._comparable(
                tier.threshold.span,
                vt,
                tt,
                tier.threshold.span,
                ordered=tier.op not in ("==", "!="),
            )
            tiers.append(ir.Tier(op=tier.op, threshold=th, points=tp))
            if (
                tier.op in (">=", ">", "<=", "<")
                and isinstance(th, ir.Const)
                and isinstance(th.value, (int, float))
            ):
                d = "down" if tier.op in (">=", ">") else "up"
                if direction is None:
                    direction = d
                elif d != direction:
                    self.err(
                        m.tier_order(
                            tier.span,
                            _("tiers mix `>=`/`>` with `<=`/`<`; list them in one direction"),
                        )
                    )
                if last is not None and direction == d:
                    prev_value, prev_op = last
                    value = th.value
                    if d == "down" and (
                        value > prev_value
                        or (value == prev_value and not (prev_op == ">" and tier.op == ">="))
                    ):
                        self._tier_overlap(tier, value, prev_value)
                    if d == "up" and (
                        value < prev_value
                        or (value == prev_value and not (prev_op == "<" and tier.op == "<="))
                    ):
                        self._tier_overlap(tier, value, prev_value)
                last = (th.value, tier.op)
        return ir.Tiers(value=v, tiers=tiers, else_points=else_points, span=span)

    def _tier_overlap(self, tier: ast.Tier, value, prev_value) -> None:
        if value == prev_value:
            self.err(m.tier_unreachable(tier.span))
        else:
            self.err(
                m.tier_order(
                    tier.span,
                    _("tiers are out of order: this tier is already covered by an earlier one"),
                )
            )

    def _veto(self, node: ast.Veto, parent: str | None) -> ir.Child:
        c, t = self._expr(node.cond, "model")
        self._want_bool(node.cond, t)
        effect = node.effect or "caps"
        if node.grade is not None:
            grade = node.grade.value
            if self.grade_names and grade not in self.grade_names:
                self.err(m.unknown_grade(node.grade.span, grade, self.grade_names))
        else:
            grade = self.grade_names[-1] if self.grade_names else ""
        veto = ir.Veto(
            id=node.name.id,
            label=node.label.value if node.label else None,
            condition=c,
            effect=effect,
            grade=grade,
            dimension=parent,
            source=node.source.value if node.source else None,
            note=node.note.value if node.note else None,
            span=to_span(node.span),
        )
        self.vetoes.append(veto)
        self._veto_nodes[veto.id] = node
        return ir.Child(kind="veto", id=veto.id)

    def _check_vetoes(self, grades: list[ir.Grade]) -> None:
        names = [g.name for g in grades]
        for v in self.vetoes:
            node = self._veto_nodes[v.id]
            if v.grade not in names:
                continue
            if v.effect == "caps" and names and v.grade == names[0]:
                self.err(
                    m.veto_no_effect(
                        node.span, _("this veto caps at the best grade, so it changes nothing")
                    )
                )
            if isinstance(v.condition, ir.Const) and v.condition.value is False:
                self.err(m.veto_no_effect(node.span, _("this veto's condition is always false")))

    # ------------------------------------------------------------ grades
    def _grade(self, rule: ast.GradeRule, index: int, count: int) -> ir.Grade:
        cond = None
        if rule.cond is not None:
            cond, t = self._expr(rule.cond, "grade")
            self._want_bool(rule.cond, t)
        return ir.Grade(name=rule.name.value, condition=cond, span=to_span(rule.span))

    # ------------------------------------------------------------ tests
    def _literal(self, lit) -> object:
        if isinstance(lit, ast.Missing):
            return None
        if isinstance(lit, ast.ListLit):
            return [x.value for x in lit.items]
        return lit.value

    def _test_unresolved(
        self, t: ast.TestCase, model_id: str, baseline: tuple[ast.Assign, ...] | None = None
    ) -> ir.TestCase:
        given = None
        if t.given is not None or (baseline is not None and t.data is None):
            # the suite's baseline first, the test's own values over it
            given = {a.name.id: self._literal(a.value) for a in baseline or ()}
            given.update({a.name.id: self._literal(a.value) for a in t.given or ()})
        if given is None and t.data is None:
            self.err(m.bad_test(t.span, _("a test needs a `given` block or a `data` file")))
        if t.given is not None and t.data is not None:
            self.err(
                m.bad_test(
                    t.span, _("a test takes either a `given` block or a `data` file, not both")
                )
            )
        if t.data is not None and t.community is None:
            self.err(
                m.bad_test(t.data.span, _('say which community of the data file: `community "ID"`'))
            )
        if not t.expectations:
            self.err(m.bad_test(t.span, _("this test expects nothing")))
        exps = []
        for x in t.expectations:
            value = None
            if x.value is not None:
                value = float(x.value.value)
            exps.append(
                ir.Expectation(
                    kind=x.kind,
                    target=x.target.id if x.target else None,
                    text=x.text.value if x.text else None,
                    value=value,
                    within=float(x.within.value) if x.within else None,
                    outcome=x.outcome,
                    span=to_span(x.span),
                    missing=x.missing or isinstance(x.literal, ast.Missing),
                    literal=self._literal(x.literal) if x.literal is not None else None,
                )
            )
        return ir.TestCase(
            name=t.name.value,
            model=model_id,
            given=given,
            data=t.data.value if t.data else None,
            community=t.community.value if t.community else None,
            expectations=exps,
            file=t.span.file,
            span=to_span(t.span),
        )

    def _test(
        self, t: ast.TestCase, model_id: str, baseline: tuple[ast.Assign, ...] | None = None
    ) -> ir.TestCase:
        case = self._test_unresolved(t, model_id, baseline)
        self._resolve_test(t)
        return case

    def _resolve_test(self, t: ast.TestCase) -> None:
        diags = resolve_test_names(
            t,
            inputs={k: (v.type.name, tuple(v.type.values)) for k, v in self.inputs.items()},
            fractions={k for k, v in self.inputs.items() if v.fractions},
            indicators={i.id for i in self.indicators},
            dimensions={d.id for d in self.dimensions if d is not None},
            vetoes={v.id for v in self.vetoes},
            grades=self.grade_names,
            labels={v.label.value: k for k, v in self.inputs.items() if v.label is not None},
            ranges=self.input_ranges,
            outputs={k: t.name for k, t in self.output_types.items()},
        )
        self.diags.extend(diags)


def resolve_test_names(
    t: ast.TestCase,
    inputs: dict[str, tuple[str, tuple[str, ...]]],
    indicators: set[str],
    dimensions: set[str],
    vetoes: set[str],
    grades: list[str],
    labels: dict[str, str] | None = None,
    fractions: set[str] | frozenset[str] = frozenset(),
    ranges: dict[str, tuple[float | None, float | None]] | None = None,
    outputs: dict[str, str] | None = None,
) -> list[Diagnostic]:
    """Check a test case's names and literal types against a model. `labels`
    (label → input id) names the input when `given` uses its label;
    `fractions`: the percent inputs declared `fractions`; `ranges`: input id
    → declared (min, max), a value outside is a warning."""
    out: list[Diagnostic] = []
    for a in t.given or ():
        if a.name.id not in inputs:
            input_id = (labels or {}).get(a.name.id)
            if input_id is not None:
                out.append(m.label_for_input(a.name.span, a.name.id, input_id))
            else:
                out.append(m.unknown_name(a.name.span, a.name.id, inputs))
            continue
        type_name, values = inputs[a.name.id]
        v = a.value
        if isinstance(v, ast.Missing):
            continue
        if isinstance(v, ast.DateLit) and v.value is None:
            out.append(m.invalid_date(v.span, v.text))
            continue
        ok = {
            "int": isinstance(v, ast.Number) and isinstance(v.value, int),
            "number": isinstance(v, ast.Number),
            "percent": isinstance(v, ast.Percent),
            "bool": isinstance(v, ast.Bool),
            "text": isinstance(v, ast.String),
            "enum": isinstance(v, ast.String),
            "date": isinstance(v, ast.DateLit),
            "set": isinstance(v, (ast.String, ast.ListLit)),
        }.get(type_name, True)
        if isinstance(v, ast.ListLit) and type_name != "set":
            ok = False
        if ok and type_name == "set":
            out.extend(_given_set(v, a.name.id, values))
            continue
        if ok and ranges and a.name.id in ranges and isinstance(v, (ast.Number, ast.Percent)):
            out.extend(_given_range(v, a.name.id, type_name, ranges[a.name.id]))
        if not ok:
            if type_name == "percent" and isinstance(v, ast.Number):
                out.append(m.given_plain_percent(v.span, a.name.id, v.text, a.name.id in fractions))
            else:
                out.append(m.value_type(v.span, a.name.id, _tw(type_name)))
        elif type_name == "enum" and v.value not in values:
            out.append(m.unknown_enum_value(v.span, v.value, a.name.id, values))
    for x in t.expectations:
        if x.kind == "grade" and x.text.value not in grades:
            out.append(m.unknown_grade(x.text.span, x.text.value, grades))
        elif x.kind == "indicator" and x.target.id not in indicators:
            out.append(m.unknown_name(x.target.span, x.target.id, indicators))
        elif x.kind == "dimension" and x.target.id not in dimensions:
            out.append(m.unknown_name(x.target.span, x.target.id, dimensions))
        elif x.kind == "veto" and x.target.id not in vetoes:
            out.append(m.unknown_name(x.target.span, x.target.id, vetoes))
        elif x.kind == "output":
            out.extend(_expect_output_problems(x, outputs or {}))
    return out


def _dependency_order(names: list[str], exprs: dict[str, ir.Expr], scope: str) -> list[str]:
    """`names` (definitions or outputs) with each after those its expression
    refers to (references of `scope`); a cycle, already reported, is cut."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: set[str]) -> None:
        if name in seen or name in path or name not in exprs:
            return
        path.add(name)
        for node in ir.walk(exprs[name]):
            if isinstance(node, ir.Ref) and node.scope == scope:
                visit(node.name, path)
        path.discard(name)
        seen.add(name)
        order.append(name)

    for name in names:
        visit(name, set())
    return order


def check_suite(tree: ast.TestsFile, model: ir.Model) -> list[Diagnostic]:
    """A `tests for` suite's names and values against its model: the
    baseline `given` once, then every test."""
    suite = list(tree.tests)
    if tree.baseline is not None:
        suite.insert(0, ast.TestCase(ast.String("", tree.span), tree.baseline, None, None, ()))
    out: list[Diagnostic] = []
    for t in suite:
        out.extend(
            resolve_test_names(
                t,
                {f.id: (f.type, tuple(f.values)) for f in model.inputs},
                {i.id for i in model.indicators},
                {d.id for d in model.dimensions},
                {v.id for v in model.vetoes},
                model.grade_names,
                labels={f.label: f.id for f in model.inputs if f.label},
                fractions={f.id for f in model.inputs if f.fractions},
                ranges={f.id: (f.min, f.max) for f in model.inputs},
                outputs={o.id: o.type for o in model.outputs},
            )
        )
    return out


def _given_set(v, name: str, values: tuple[str, ...]) -> list[Diagnostic]:
    """A set input's value in `given`: a list `["养老", "托幼"]` or a string
    written as a data cell (`"养老、托幼"`); each value must be listed."""
    if isinstance(v, ast.ListLit):
        items = [(x.value, x.span) for x in v.items]
    else:
        items = [(x, v.span) for x in sets.split(v.value) or []]
    out = []
    for value, span in items:
        if sets.encode([value], values)[1]:
            out.append(m.unknown_enum_value(span, value, name, values))
    return out


def _given_range(v, name: str, type_name: str, bounds) -> list[Diagnostic]:
    lo, hi = bounds
    x = float(v.value)
    if (lo is None or x >= lo - 1e-12) and (hi is None or x <= hi + 1e-12):
        return []

    def shown(b: float | None) -> str:
        if b is None:
            return ""
        if type_name == "percent":
            return f"{b * 100:g}%"
        return f"{b:g}"

    written = v.text + ("%" if isinstance(v, ast.Percent) else "")
    return [m.given_out_of_range(v.span, name, written, shown(lo), shown(hi))]


_OUTPUT_LITERALS = {
    "int": (ast.Number,),
    "number": (ast.Number,),
    "percent": (ast.Percent,),
    "bool": (ast.Bool,),
    "text": (ast.String,),
}


def _expect_output_problems(x: ast.Expectation, outputs: dict[str, str]) -> list[Diagnostic]:
    """`expect output ID VALUE`: ID must be an output, VALUE of its type."""
    if x.target.id not in outputs:
        return [m.unknown_name(x.target.span, x.target.id, outputs)]
    v = x.literal
    kinds = _OUTPUT_LITERALS.get(outputs[x.target.id])
    if isinstance(v, ast.Missing) or kinds is None or isinstance(v, kinds):
        return []
    if outputs[x.target.id] == "percent" and isinstance(v, ast.Number):
        return [m.percent_vs_count(v.span, v.text)]
    return [m.value_type(v.span, x.target.id, _tw(outputs[x.target.id]))]


def _prune(model: ir.Model, main: str, comp: Composed) -> ir.Model:
    """Leave out the inputs and definitions brought in from other files that
    the composed model does not use (a library may define many)."""
    exprs: list[ir.Expr] = []
    for ind in model.indicators:
        exprs.extend(ind.scoring.exprs())
    exprs.extend(v.condition for v in model.vetoes)
    exprs.extend(ir.event_exprs(model))
    exprs.extend(g.condition for g in model.grades if g.condition is not None)
    exprs.extend(o.expr for o in model.outputs)
    lets = {d.id: d for d in model.lets}
    used: set[str] = set()
    stack = list(exprs)
    while stack:
        for node in ir.walk(stack.pop()):
            if isinstance(node, ir.Ref) and node.name not in used:
                used.add(node.name)
                if node.scope == "let" and node.name in lets:
                    stack.append(lets[node.name].expr)

    def keep(x) -> bool:
        return x.id in used or x.span is None or x.span.file == main

    return model.model_copy(
        update={
            "inputs": [f for f in model.inputs if keep(f)],
            "lets": [d for d in model.lets if keep(d)],
        }
    )


def _ir_type(t: _T) -> str:
    if t.error:
        return "any"
    return t.name


# ---------------------------------------------------------------- constants

_CONST_INT_LIMIT = 2**126  # as the engine's integers (docs/language.md, "Numbers")
_CONST_FLOAT_LIMIT = 1e299  # past this a computed number overflows when snapped


def _children(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Unary):
        return [e.operand]
    if isinstance(e, ir.Binary):
        return [e.left, e.right]
    if isinstance(e, ir.InList):
        return [e.operand, *e.options]
    if isinstance(e, ir.Cond):
        return [e.cond, e.then, e.orelse]
    if isinstance(e, ir.Call):
        return list(e.args)
    return []


def _constant_value(e: ir.Expr) -> int | float | str | None:
    """The value of constant arithmetic (numbers, `-`, `+ - * /`), "zero" for
    a division by zero, "overflow", or None when `e` is not such a constant.
    Computed exactly (ints, and floats beyond what snapping could change)."""
    if isinstance(e, ir.Const):
        v = e.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return v
    if isinstance(e, ir.Unary) and e.op == "-":
        v = _constant_value(e.operand)
        return v if v is None or isinstance(v, str) else -v
    if isinstance(e, ir.Binary) and e.op in ("+", "-", "*", "/"):
        a, b = _constant_value(e.left), _constant_value(e.right)
        if a is None or b is None:
            return None
        for v in (a, b):
            if isinstance(v, str):
                return v
        if e.op == "/":
            if b == 0:
                return "zero"
            r = float(a) / float(b) if abs(a) < 1e308 else math.inf
        elif e.op == "+":
            r = a + b
        elif e.op == "-":
            r = a - b
        else:
            r = a * b
        if isinstance(r, int):
            return r if abs(r) < _CONST_INT_LIMIT else "overflow"
        return r if math.isfinite(r) and abs(r) < _CONST_FLOAT_LIMIT else "overflow"
    return None


def _constant_problem(e: ir.Expr) -> str | None:
    """ "zero" or "overflow" when `e` is constant arithmetic that fails, or
    "zero" for any division by a constant zero (`a / (1 - 1)`)."""
    if not isinstance(e, ir.Binary | ir.Unary):
        return None
    if isinstance(e, ir.Binary) and e.op == "/":
        divisor = _constant_value(e.right)
        if not isinstance(divisor, str) and divisor is not None and divisor == 0:
            return "zero"
    v = _constant_value(e)
    return v if isinstance(v, str) else None


def _cause_most(c: ir.DeductCause) -> float | None:
    """The most a deduction cause can take, None when unbounded."""
    if c.kind == "when":
        return c.amount
    if c.kind == "tiers":
        return max([t.points for t in c.tiers] + [c.else_points])
    return c.cap


def _penalty_most(s: ir.Scoring) -> float | None:
    """The most a `penalty` item can take, None when it has no limit."""
    assert isinstance(s, ir.Penalty)
    most = [_cause_most(c) for c in s.causes]
    bound = None if any(x is None for x in most) else sum(most)
    if s.cap is not None:
        return s.cap if bound is None else min(bound, s.cap)
    return bound
