"""Run a model's test cases (`zhili test`): no Python needed to write them.

A case takes its record from a `given` block or from a community of a data
file, evaluates it with the reference interpreter and compares every
expectation; a failure says what was expected and what came out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zhili.dsl import sets
from zhili.dsl.i18n import _
from zhili.dsl.model import TestCase
from zhili.engine.eval.interpreter import MISSING, CompiledModel
from zhili.engine.functions import Missing, decimal_text
from zhili.engine.io import data as data_mod
from zhili.engine.trace.results import fmt_points

DEFAULT_TOLERANCE = 1e-6


@dataclass
class CaseResult:
    case: TestCase
    failures: list[str] = field(default_factory=list)
    error: str | None = None  # could not run (bad data file, unknown community)

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    @property
    def where(self) -> str:
        s = self.case.span
        return f"{self.case.file}:{s.line}" if s else self.case.file


def _record_from_data(case: TestCase, compiled: CompiledModel, cache: dict) -> tuple[dict, dict]:
    path = Path(case.file).parent / case.data
    key = str(path)
    if key not in cache:
        cache[key] = data_mod.load(path, compiled.model)
    ds = cache[key]
    for rec, meta in zip(ds.records, ds.meta, strict=True):
        if case.community in (meta.get("community_id"), meta.get("community")):
            return rec, meta
    raise LookupError(
        _("community {id!r} is not in {file}").format(id=case.community, file=case.data)
    )


def _unknown_given(case: TestCase, compiled: CompiledModel) -> str | None:
    """A `given` name the model has no input for (a suite attached to its
    model without its names checked): the case cannot run as written."""
    inputs = {f.id: f for f in compiled.model.inputs}
    labels = {f.label: f.id for f in compiled.model.inputs if f.label}
    for name in case.given or {}:
        if name in inputs:
            continue
        if name in labels:
            return _("`{name}` is the label of input `{id}`; write `{id} = …`").format(
                name=name, id=labels[name]
            )
        return _("`given` names `{name}`, which is not an input of {model}").format(
            name=name, model=compiled.model.id
        )
    return None


def _given_record(case: TestCase, compiled: CompiledModel) -> dict:
    """The record of a `given` block: a set input's list of values (or its
    text, written as in a data cell) becomes the set's value."""
    record = dict(case.given or {})
    for f in compiled.model.inputs:
        v = record.get(f.id)
        if f.type != "set" or v is None:
            continue
        if isinstance(v, list):
            record[f.id] = sets.encode(v, f.values)[0]  # unknown values: a check error
        else:
            record[f.id] = data_mod.convert(v, f)[0]
    return record


def run_case(case: TestCase, compiled: CompiledModel, cache: dict | None = None) -> CaseResult:
    cache = {} if cache is None else cache
    res = CaseResult(case)
    res.error = _unknown_given(case, compiled)
    if res.error is not None:
        return res
    try:
        if case.data is not None:
            record, meta = _record_from_data(case, compiled, cache)
        else:
            record, meta = _given_record(case, compiled), {"community": case.name}
    except (LookupError, data_mod.DataError) as exc:
        res.error = str(exc)
        return res
    raw = compiled.evaluate(record, meta)
    model = compiled.model
    for x in case.expectations:
        tol = x.within if x.within is not None else DEFAULT_TOLERANCE
        if x.kind == "grade":
            if raw.grade != x.text:
                res.failures.append(
                    _("grade: expected {e!r}, got {a!r}").format(e=x.text, a=raw.grade)
                )
        elif x.kind == "total":
            mismatch = _("total: expected {e}, got {a}")
            res.failures += _points_failures(_("total"), mismatch, x, raw.total, tol)
        elif x.kind == "dimension":
            i = compiled.dim_index.get(x.target)
            if i is None:
                res.failures.append(_("dimension {id} does not exist").format(id=x.target))
                continue
            name = _("dimension {id}").format(id=x.target)
            mismatch = _("dimension {id}: expected {e} points, got {a}")
            res.failures += _points_failures(name, mismatch, x, raw.dim_scores[i], tol)
        elif x.kind == "indicator":
            i = compiled.ind_index.get(x.target)
            if i is None:
                res.failures.append(_("indicator {id} does not exist").format(id=x.target))
                continue
            outcome, points = raw.outcomes[i], raw.shown_points(i)
            if outcome != x.outcome:
                res.failures.append(
                    _("indicator {id}: expected {e}, got {a} ({reason})").format(
                        id=x.target, e=x.outcome, a=outcome, reason=_reason(raw, i)
                    )
                )
            if x.value is not None:
                name = _("indicator {id}").format(id=x.target)
                mismatch = _("indicator {id}: expected {e} points, got {a}")
                res.failures += _points_failures(name, mismatch, x, points, tol)
        elif x.kind == "veto":
            j = next((k for k, v in enumerate(model.vetoes) if v.id == x.target), None)
            if j is None or raw.vetoes[j] is not True:
                res.failures.append(
                    _("veto {id}: expected triggered, it was not").format(id=x.target)
                )
        elif x.kind == "no_veto":
            if raw.vetoed:
                res.failures.append(
                    _("expected no veto, got {ids}").format(ids=", ".join(raw.vetoed))
                )
        elif x.kind == "missing":
            if raw.missing_count != int(x.value):
                res.failures.append(
                    _("missing: expected {e}, got {a}").format(e=int(x.value), a=raw.missing_count)
                )
        elif x.kind == "output":
            res.failures += _output_failures(x, raw, compiled)
    return res


def _output_failures(x, raw, compiled: CompiledModel) -> list[str]:
    """`expect output ID VALUE`: numbers within the tolerance, yes/no and
    text exactly, `missing` when the output could not be computed."""
    k = next((k for k, o in enumerate(compiled.model.outputs) if o.id == x.target), None)
    if k is None:
        return [_("output {id} does not exist").format(id=x.target)]
    got = raw.outputs[k]
    got = None if isinstance(got, Missing) else got
    percent = compiled.model.outputs[k].type == "percent"

    def _shown(v) -> str:
        return _shown_value(v, percent)

    if x.missing:
        if got is None:
            return []
        return [_("output {id}: expected missing, got {a}").format(id=x.target, a=_shown(got))]
    if got is None:
        return [
            _("output {id}: expected {e}, got missing ({reason})").format(
                id=x.target, e=_shown(x.literal), reason=raw.outputs[k].text()
            )
        ]
    expected = x.literal
    numeric = isinstance(expected, (int, float)) and not isinstance(expected, bool)
    if numeric and isinstance(got, (int, float)) and not isinstance(got, bool):
        same = abs(float(got) - float(expected)) <= DEFAULT_TOLERANCE
    else:
        same = got == expected and type(got) is type(expected)
    if same:
        return []
    return [
        _("output {id}: expected {e}, got {a}").format(
            id=x.target, e=_shown(expected), a=_shown(got)
        )
    ]


def _shown_value(v, percent: bool = False) -> str:
    """A value of an output as a failure message shows it (a share as a percentage)."""
    if percent and isinstance(v, (int, float)) and not isinstance(v, bool):
        return exact(round(v * 100, 7)) + "%"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return repr(v)
    return exact(v)


def exact(v) -> str:
    """A number as a failure message must show it: every digit that can
    differ (up to 9 decimals, trailing zeros dropped), so "expected 1.71,
    got 1.714285714" says why it failed where "got 1.71" would not."""
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    return decimal_text(v)


def _tolerance_note(within, tol: float, expected: float, got: float) -> str:
    """A failure by less than a hundredth (the two print alike to 2 decimals)
    says the tolerance it was held to."""
    if abs(got - expected) >= 0.01:
        return ""
    if within is not None:
        return _(" (within {tol})").format(tol=exact(tol))
    return _(" (default tolerance {tol}; write `within 0.01` to allow more)").format(tol=exact(tol))


def _points_failures(name: str, mismatch: str, x, got: float | None, tol: float) -> list[str]:
    """How a total or dimension (`got`, None when not scored) differs from
    `expect total|dimension ID N` or `… missing` (`mismatch`: the message for
    two different numbers, with `{e}` and `{a}`)."""
    if x.missing:
        if got is None:
            return []
        return [
            _("{name}: expected not scored (missing), got {a} points").format(
                name=name, a=fmt_points(got)
            )
        ]
    if got is None:
        return [
            _("{name}: expected {e} points, got not scored (missing)").format(
                name=name, e=fmt_points(x.value)
            )
        ]
    if abs(got - x.value) > tol:
        text = mismatch.format(id=x.target, e=exact(x.value), a=exact(got))
        return [text + _tolerance_note(x.within, tol, x.value, got)]
    return []


def _reason(raw, i: int) -> str:
    v = raw.values[i]
    if raw.outcomes[i] == MISSING:
        return getattr(v, "reason", "")
    return f"value {v!r}, {fmt_points(raw.points[i])} points"


def run_cases(cases: list[TestCase], compiled: CompiledModel) -> list[CaseResult]:
    cache: dict = {}
    return [run_case(c, compiled, cache) for c in cases]
