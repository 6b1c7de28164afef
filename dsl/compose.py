"""Composition: `import` of libraries and `extends` with overrides.

Before checking, a model that imports or extends others is flattened into one
`ModelFile` syntax tree: the base's items with this model's `override`,
`drop` and `override grade` applied, its new indicators and dimensions added
and its header, grades and targets taking precedence. The checker then checks
the flattened tree like any other model, so the engine needs no changes.

Files are found through a *resolver* the caller passes in (the dsl knows
nothing of folders or plugins): `resolve("model", ID, from_file)` finds the
model a file extends, `resolve("import", PATH, from_file)` a file it imports.
Each returns a `Resolved` or None.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from zhili.dsl import ast
from zhili.dsl import messages as m
from zhili.dsl.diagnostics import Diagnostic
from zhili.dsl.i18n import _


@dataclass
class Resolved:
    tree: ast.File
    text: str
    file: str  # the name used in spans


Resolver = Callable[[str, str, str], "Resolved | None"]


@dataclass
class Composed:
    tree: ast.File
    texts: dict[str, str]  # file → text of every file involved
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # where a problem found in another file is reported in this one
    anchors: dict[tuple[str, int, int], ast.Span] = field(default_factory=dict)
    default_anchor: ast.Span | None = None

    def anchor(self, span: ast.Span) -> ast.Span | None:
        """The statement of this file to report a problem at `span` (in
        another file) at: the innermost registered region holding it."""
        best = None
        for (file, start, end), at in self.anchors.items():
            if file == span.file and start <= span.start < max(end, start + 1):
                if best is None or end - start < best[0]:
                    best = (end - start, at)
        return best[1] if best else self.default_anchor

    base: str | None = None
    fatal: bool = False  # the base could not be found: checking further only cascades


def _key_file(file: str) -> str:
    return "file:" + os.path.normpath(file)


def compose(
    tree: ast.File, text: str, resolve: Resolver | None, stack: tuple[str, ...] = ()
) -> Composed:
    """Flatten `tree` (imports and extends resolved). Never raises for a bad
    model; problems are diagnostics of this file."""
    file = tree.span.file
    out = Composed(tree, {file: text})
    if isinstance(tree, ast.TestsFile):
        for imp in tree.imports:
            out.diagnostics.append(m.unsupported(imp.span, "`import`"))
        return out
    if isinstance(tree, ast.ModelFile):
        stack = stack + ("model:" + tree.name.id,)
    else:
        stack = stack + (_key_file(file),)
    imported = _imports(tree, resolve, stack, out)
    if isinstance(tree, ast.LibraryFile):
        out.tree = dataclasses.replace(tree, items=_dedupe(imported + list(tree.items)))
        return out
    if tree.extends is None:
        out.tree = dataclasses.replace(tree, items=tuple(imported) + tree.items)
        return out
    return _extend(tree, resolve, stack, out, imported)


def _dedupe(items) -> tuple:
    seen: set[tuple[str, int]] = set()
    kept = []
    for it in items:
        key = (it.span.file, it.span.start)
        if it.span is not ast.NO_SPAN and key in seen:
            continue
        seen.add(key)
        kept.append(it)
    return tuple(kept)


def _imports(tree, resolve, stack, out: Composed) -> list:
    items: list = []
    for imp in tree.imports:
        if imp.alias is not None:
            out.diagnostics.append(m.import_alias(imp.alias.span))
        r = resolve("import", imp.path.value, imp.span.file) if resolve else None
        if r is None:
            out.diagnostics.append(m.import_not_found(imp.path.span, imp.path.value))
            continue
        key = _key_file(r.file)
        if key in stack or (
            isinstance(r.tree, ast.ModelFile) and "model:" + r.tree.name.id in stack
        ):
            out.diagnostics.append(m.composition_cycle(imp.span, _names(stack) + [r.file]))
            continue
        if isinstance(r.tree, ast.TestsFile):
            out.diagnostics.append(m.import_not_library(imp.path.span, imp.path.value))
            continue
        sub = compose(r.tree, r.text, resolve, stack)
        out.texts.update(sub.texts)
        if sub.fatal:
            out.fatal = True
        for d in sub.diagnostics:
            if d.is_error:
                out.diagnostics.append(m.in_base(d, imp.span))
        for it in sub.tree.items:
            if isinstance(it, (ast.Input, ast.Let)):
                items.append(it)
            out.anchors.setdefault((it.span.file, it.span.start, it.span.end), imp.span)
        out.default_anchor = out.default_anchor or imp.span
    return items


def _names(stack: tuple[str, ...]) -> list[str]:
    return [k.split(":", 1)[1] for k in stack]


_STRUCT = (ast.Dimension, ast.Indicator, ast.Veto)


def _kind_word(kind: str) -> str:
    return {
        "input": _("input"),
        "let": _("definition"),
        "dimension": _("dimension"),
        "indicator": _("indicator"),
        "veto": _("veto"),
    }.get(kind, kind)


def _extend(tree: ast.ModelFile, resolve, stack, out: Composed, imported: list) -> Composed:
    ext = tree.extends
    assert ext is not None
    out.base = ext.base.id
    out.default_anchor = ext.span
    strip = tuple(it for it in tree.items if not isinstance(it, (ast.Override, ast.GradeOverride)))
    fallback = dataclasses.replace(tree, items=tuple(imported) + strip)
    r = resolve("model", ext.base.id, tree.span.file) if resolve else None
    if r is None:
        candidates = getattr(resolve, "candidates", ()) if resolve else ()
        out.diagnostics.append(m.unknown_base(ext.base.span, ext.base.id, candidates))
        out.tree = fallback
        out.fatal = True
        return out
    if "model:" + ext.base.id in stack or _key_file(r.file) in stack:
        out.diagnostics.append(m.composition_cycle(ext.span, _names(stack) + [ext.base.id]))
        out.tree = fallback
        out.fatal = True
        return out
    if not isinstance(r.tree, ast.ModelFile):
        out.diagnostics.append(m.base_not_model(ext.base.span, ext.base.id))
        out.tree = fallback
        out.fatal = True
        return out
    base = compose(r.tree, r.text, resolve, stack)
    out.texts.update(base.texts)
    if base.fatal:
        out.diagnostics.extend(m.in_base(d, ext.span) for d in base.diagnostics if d.is_error)
        out.tree = fallback
        out.fatal = True
        return out
    for d in base.diagnostics:
        if d.is_error:
            out.diagnostics.append(m.in_base(d, ext.span))
    btree = base.tree
    assert isinstance(btree, ast.ModelFile)
    base_version = next(
        (it.value.value for it in btree.items if isinstance(it, ast.Meta) and it.key == "version"),
        None,
    )
    if ext.version is not None and ext.version.value != base_version:
        out.diagnostics.append(
            m.base_version(ext.version.span, ext.base.id, ext.version.value, base_version)
        )
    merger = _Merger(btree, tree, out)
    out.tree = merger.run(imported)
    return out


@dataclass
class _ChildParts:
    """The extending model's statements, sorted by what the merge does with them."""

    new_struct: list = field(default_factory=list)  # dimensions/indicators/vetoes the base lacks
    new_decls: list = field(default_factory=list)  # its own inputs and definitions
    grade_overrides: list[ast.GradeOverride] = field(default_factory=list)
    grades: ast.Grades | None = None  # its own `grades` block, replacing the base's
    targets: list[ast.Target] = field(default_factory=list)
    meta: dict[str, ast.Meta] = field(default_factory=dict)
    extra: list = field(default_factory=list)  # kept for the checker to report or run


class _Merger:
    def __init__(self, base: ast.ModelFile, child: ast.ModelFile, out: Composed):
        self.base = base
        self.child = child
        self.out = out
        self.index: dict[str, tuple[str, object, str | None]] = {}  # id → (kind, node, parent)
        for it in base.items:
            if isinstance(it, ast.Input):
                self.index[it.name.id] = ("input", it, None)
            elif isinstance(it, ast.Let):
                self.index[it.name.id] = ("let", it, None)
            elif isinstance(it, _STRUCT):
                self._index_struct(it, None)
        self.removed: set[str] = set()
        self.changes: dict[str, dict] = {}
        self.additions: dict[str, list] = {}
        self.touched: dict[str | None, ast.Span] = {}
        self.changed_anything = False

    def _index_struct(self, it, parent: str | None) -> None:
        kind = type(it).__name__.lower()
        self.index.setdefault(it.name.id, (kind, it, parent))
        if isinstance(it, ast.Dimension):
            for child in it.items:
                if isinstance(child, _STRUCT):
                    self._index_struct(child, it.name.id)

    def err(self, d: Diagnostic) -> None:
        self.out.diagnostics.append(d)

    def _touch(self, parent: str | None, span: ast.Span) -> None:
        self.touched.setdefault(parent, span)

    # ------------------------------------------------------------ statements
    def _override(self, ov: ast.Override) -> None:
        name = ov.name.id
        entry = self.index.get(name)
        if entry is None:
            self.err(m.override_unknown(ov.name.span, name, _("part"), self.index))
            return
        kind, node, parent = entry
        self.changed_anything = True
        self.out.anchors[(node.span.file, node.span.start, node.span.end)] = ov.span
        if ov.drop:
            if name in self.removed:
                self.err(
                    m.override_invalid(ov.span, _("`{name}` is dropped twice").format(name=name))
                )
            self.removed.add(name)
            self._touch(parent, ov.span)
            return
        change = self.changes.setdefault(name, {})
        if ov.points is not None:
            if kind not in ("indicator", "dimension"):
                self.err(
                    m.override_invalid(
                        ov.points.span,
                        _(
                            "`{name}` ({kind}) has no points: only indicators and dimensions do"
                        ).format(name=name, kind=_kind_word(kind)),
                    )
                )
            else:
                change["points"] = ov.points
                self._touch(parent, ov.span)
                if kind == "dimension":
                    self._touch(name, ov.span)
        if ov.scoring is not None:
            if kind != "indicator":
                self.err(
                    m.override_invalid(
                        ov.scoring.span,
                        _("`{name}` ({kind}) has no scoring: only an indicator does").format(
                            name=name, kind=_kind_word(kind)
                        ),
                    )
                )
            else:
                change["scorings"] = (ov.scoring,)
        if ov.label is not None:
            change["label"] = ov.label
        if ov.requires is not None or ov.zero:
            self._override_events(ov, name, kind, change)

    def _override_events(self, ov: ast.Override, name: str, kind: str, change: dict) -> None:
        """`override X requires C` replaces the base's gate, `override X zero
        when C …` its zero events (a plain `override X points …` or a new
        scoring form keeps both)."""
        if kind != "indicator":
            span = (ov.requires or ov.zero[0]).span
            self.err(
                m.override_invalid(
                    span,
                    _("`{name}` ({kind}) has no gate or zero events to replace here").format(
                        name=name, kind=_kind_word(kind)
                    ),
                )
            )
            return
        if ov.requires is not None:
            change["requires"] = (ov.requires,)
        if ov.zero:
            change["zero"] = ov.zero

    def _child_dimension(self, d: ast.Dimension) -> bool:
        """Merge a child's `dimension X { … }` into the base's X; False when X
        is new."""
        entry = self.index.get(d.name.id)
        if entry is None or entry[0] != "dimension":
            return False
        self.changed_anything = True
        change = self.changes.setdefault(d.name.id, {})
        if d.label is not None:
            change["label"] = d.label
        if d.points is not None:
            change["points"] = d.points
            self._touch(entry[2], d.span)
        if d.weight is not None:
            change["weight"] = d.weight
            self._touch(entry[2], d.span)
        if d.missing is not None:
            change["missing"] = d.missing
        if d.cap is not None:  # a section's `max C` replaces the base's
            change["cap"] = d.cap
            self._touch(entry[2], d.span)
        if d.zero:  # the child's `zero when` events join the base dimension's
            change["zero"] = tuple(entry[1].zero) + d.zero
        for item in d.items:
            if isinstance(item, ast.Dimension) and self._child_dimension(item):
                continue
            self.additions.setdefault(d.name.id, []).append(item)
            self._touch(d.name.id, item.span)
        return True

    # ------------------------------------------------------------ rebuild
    def _apply(self, it):
        if isinstance(it, ast.Exempt):
            return self._exempt_after_drops(it)
        name = it.name.id
        if isinstance(it, ast.Dimension):
            items = tuple(self._apply(c) for c in it.items if not self._gone(c))
            items += tuple(self.additions.get(name, ()))
            it = dataclasses.replace(it, items=items)
        change = self.changes.get(name)
        if change:
            change = dict(change)
            if isinstance(it, ast.Dimension):
                if "points" in change:
                    change["weight"] = None
                elif "weight" in change:
                    change["points"] = None
            it = dataclasses.replace(it, **change)
        return it

    def _gone(self, it) -> bool:
        if isinstance(it, ast.Exempt):  # every item it names was dropped
            return all(t.id in self.removed for t in it.targets)
        return isinstance(it, (*_STRUCT, ast.Input, ast.Let)) and it.name.id in self.removed

    def _exempt_after_drops(self, it: ast.Exempt) -> ast.Exempt:
        """A base exemption without the items the extending model dropped."""
        kept = tuple(t for t in it.targets if t.id not in self.removed)
        return it if len(kept) == len(it.targets) else dataclasses.replace(it, targets=kept)

    def run(self, imported: list) -> ast.ModelFile:
        """Merge by phase: read the child's statements, apply them to the base's
        grades, then rebuild header, declarations, structure, grades and
        targets in the order a model file lists them."""
        child = self.child
        parts = self._read_child()
        base_grades, renames = self._merge_grades(parts)
        grades = parts.grades if parts.grades is not None else base_grades
        items = tuple(
            self._header(parts)
            + self._declarations(parts, imported)
            + self._merged_structure(parts, renames)
            + ([grades] if grades is not None else [])
            + self._targets(parts, renames)
            + parts.extra
        )
        if not self.changed_anything:
            self.err(m.extends_nothing(child.extends.span, child.extends.base.id))
        self._anchor_touched()
        return dataclasses.replace(child, extends=child.extends, imports=child.imports, items=items)

    def _read_child(self) -> _ChildParts:
        """Apply the child's overrides and dimension merges; sort the rest by kind."""
        parts = _ChildParts()
        for it in self.child.items:
            if isinstance(it, ast.Override):
                self._override(it)
            elif isinstance(it, ast.GradeOverride):
                parts.grade_overrides.append(it)
            elif isinstance(it, ast.Dimension):
                if not self._child_dimension(it):
                    parts.new_struct.append(it)
                    self._touch(None, it.span)
            elif isinstance(it, (ast.Indicator, ast.Veto)):
                parts.new_struct.append(it)
                self._touch(None, it.span)
            elif isinstance(it, ast.Exempt):  # an extending model may add exemptions
                parts.new_struct.append(it)
            elif isinstance(it, (ast.Input, ast.Let, ast.Output)):
                parts.new_decls.append(it)
            elif isinstance(it, ast.Grades):
                if parts.grades is None:
                    parts.grades = it
                else:
                    parts.extra.append(it)  # the checker reports the second block
            elif isinstance(it, ast.Target):
                parts.targets.append(it)
            elif isinstance(it, ast.Meta):
                if it.key in parts.meta:
                    parts.extra.append(it)  # duplicate header: reported by the checker
                else:
                    parts.meta[it.key] = it
            elif isinstance(it, ast.TestCase):
                parts.extra.append(it)
        if parts.new_struct or parts.grades is not None:
            self.changed_anything = True
        return parts

    def _merge_grades(self, parts: _ChildParts) -> tuple[ast.Grades | None, dict[str, str]]:
        """The base's grades with the child's `override grade` applied, and the
        renames they make (vetoes and targets follow them)."""
        base_grades = next((it for it in self.base.items if isinstance(it, ast.Grades)), None)
        renames: dict[str, str] = {}
        if parts.grade_overrides:
            self.changed_anything = True
        if parts.grades is None and base_grades is not None:
            rules = list(base_grades.rules)
            for go in parts.grade_overrides:
                self._override_grade(go, rules, renames)
            base_grades = dataclasses.replace(base_grades, rules=tuple(rules))
        elif parts.grades is not None:
            for go in parts.grade_overrides:
                self.err(
                    m.override_invalid(
                        go.span,
                        _("this model has its own `grades`: change the grade there"),
                    )
                )
        return base_grades, renames

    def _override_grade(self, go: ast.GradeOverride, rules: list, renames: dict[str, str]) -> None:
        idx = next((i for i, r in enumerate(rules) if r.name.value == go.grade.value), None)
        if idx is None:
            self.err(
                m.override_unknown(
                    go.grade.span, go.grade.value, _("grade"), [r.name.value for r in rules]
                )
            )
            return
        rule = rules[idx]
        if go.label is not None:
            renames[rule.name.value] = go.label.value
            rule = dataclasses.replace(
                rule, name=dataclasses.replace(rule.name, value=go.label.value)
            )
        if go.cond is not None:
            if rule.cond is None:
                self.err(
                    m.override_invalid(
                        go.cond.span,
                        _("the `otherwise` grade takes no condition"),
                    )
                )
            else:
                rule = dataclasses.replace(rule, cond=go.cond)
        rules[idx] = rule

    def _header(self, parts: _ChildParts) -> list:
        """The child's header statements replace the base's."""
        meta = [
            it for it in self.base.items if isinstance(it, ast.Meta) and it.key not in parts.meta
        ]
        return meta + list(parts.meta.values())

    def _declarations(self, parts: _ChildParts, imported: list) -> list:
        decls = [it for it in self.base.items if isinstance(it, (ast.Input, ast.Let, ast.Output))]
        decls = [self._apply_decl(it) for it in decls if not self._gone(it)]
        return list(_dedupe(decls + list(imported))) + parts.new_decls

    def _merged_structure(self, parts: _ChildParts, renames: dict[str, str]) -> list:
        struct = [
            self._apply(it)
            for it in self.base.items
            if isinstance(it, (*_STRUCT, ast.Exempt)) and not self._gone(it)
        ]
        if renames:
            struct = [self._rename_vetoes(it, renames) for it in struct]
        return struct + parts.new_struct

    def _targets(self, parts: _ChildParts, renames: dict[str, str]) -> list:
        if parts.targets:
            return parts.targets
        return [
            self._rename_target(it, renames) for it in self.base.items if isinstance(it, ast.Target)
        ]

    def _anchor_touched(self) -> None:
        """Problems found in the base's parts are reported where this model touched them."""
        anchors = self.out.anchors
        for name, span in self.touched.items():
            if name is None:
                for it in self.base.items:
                    if isinstance(it, ast.Meta) and it.key == "total":
                        anchors[(it.span.file, it.span.start, it.span.end)] = span
                continue
            entry = self.index.get(name)
            if entry is None or entry[0] != "dimension":
                continue
            node = entry[1]
            for part in (node.points, node.weight, node.name):
                if part is not None:
                    anchors[(part.span.file, part.span.start, part.span.end)] = span

    def _apply_decl(self, it):
        change = self.changes.get(it.name.id)
        if change and "label" in change:
            return dataclasses.replace(it, label=change["label"])
        return it

    def _rename_vetoes(self, it, renames: dict[str, str]):
        if isinstance(it, ast.Veto) and it.grade is not None and it.grade.value in renames:
            return dataclasses.replace(
                it, grade=dataclasses.replace(it.grade, value=renames[it.grade.value])
            )
        if isinstance(it, ast.Dimension):
            return dataclasses.replace(
                it, items=tuple(self._rename_vetoes(c, renames) for c in it.items)
            )
        return it

    def _rename_target(self, it: ast.Target, renames: dict[str, str]) -> ast.Target:
        if it.grade.value in renames:
            return dataclasses.replace(
                it, grade=dataclasses.replace(it.grade, value=renames[it.grade.value])
            )
        return it
