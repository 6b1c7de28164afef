"""One corpus of evaluation semantics, run through every backend.

The cases live as data in `tests/semantics/*.toml` (read with `tomllib`), as
OPA keeps `test/cases/testdata` and runs it through both its evaluators. Each
case is either

- an **expression** (`expr`) evaluated over the inputs of the file's
  `prelude` (a `.gov` fragment in the same folder), with the expected `value`
  or `missing` (true, or the reason the reference interpreter must give); or
- a **model** (`model`, a name in the file's `[models]` table: either a full
  `source` or a single indicator's `scoring`, `inputs` and `points`), with the
  expected `points` / `outcome` of one `indicator` (the first by default) and
  any of `total`, `grade`, `dims`, `missing_count`, `vetoes`, `outputs`
  (`points`, a total or a dimension `"not scored"` must be missing — null —
  not a number; an output `"missing"` must be missing).

A case may carry a `note` (why the expectation holds); unknown keys are an
error, so a misspelt expectation cannot pass unnoticed. Numbers are compared
within 10^-9 (and 10^-12 relative), except in a file that says `exact =
true`: there every number must be the expected one bit for bit.

Every case runs on the reference interpreter (its record alone) and on the
vectorized backend (`evaluate_dataset` over one frame holding the records of
every case of the file on the same inputs, read at the case's row: converting
data is the slow part, so a frame is built once); every file also runs once
more as one model for all its expression cases (an indicator each) and each
of its models, since whole tables are how the vectorized backend runs for
real. A backend that disagrees with a case
today keeps the case, marked `xfail(strict=True)` by the case's
`xfail.reference` / `xfail.vectorized` reason.

Records are given in the inputs' types: a number or percent written as a TOML
integer is a float, as a data file would give it; the vectorized run reads
the same record from text cells and checks that it reads back unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from zhili.dsl import codes, sets
from zhili.dsl.checker import check
from zhili.dsl.model import Model
from zhili.dsl.parser import parse
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.functions import Missing
from zhili.engine.io import data

SEMANTICS = Path(__file__).parent / "semantics"
BACKENDS = ("reference", "vectorized")
ABS_TOL = 1e-9
REL_TOL = 1e-12

EXPECTATIONS = {"value", "missing", "points", "outcome", "total", "grade", "dims"}
EXPECTATIONS |= {"missing_count", "vetoes", "outputs"}
CASE_KEYS = EXPECTATIONS | {"name", "expr", "model", "record", "indicator", "xfail", "note"}
MODEL_KEYS = {"source", "scoring", "inputs", "points", "note"}

# ---------------------------------------------------------------- the backends
#
# The only place that calls an evaluator: everything below compares
# `Observed` values, so a change to a backend's entry points is adapted here.


@dataclass
class Observed:
    """What one backend made of one record."""

    indicators: dict[str, tuple[Any, float | None, str]]  # id → (value, points, outcome)
    total: float | None  # None: not scored
    grade: str | None
    dims: dict[str, float | None]
    missing_count: int
    vetoes: list[str]
    # id → the reason a value is missing (the interpreter gives reasons)
    reasons: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)  # id → value (None: missing)


def run_reference(model: Model, records: list[dict[str, Any]]) -> list[Observed]:
    compiled = compile_model(model)
    out = []
    for record in records:
        r = compiled.evaluate(record)
        inds = {
            ind.id: (r.values[j], r.shown_points(j), r.outcomes[j])
            for j, ind in enumerate(model.indicators)
        }
        reasons = {i: v.reason for i, (v, _, _) in inds.items() if isinstance(v, Missing)}
        out.append(
            Observed(
                indicators={
                    i: (None if isinstance(v, Missing) else v, p, o)
                    for i, (v, p, o) in inds.items()
                },
                total=r.total,
                grade=r.grade,
                dims={d.id: r.dim_scores[k] for k, d in enumerate(model.dimensions)},
                missing_count=r.missing_count,
                vetoes=list(r.vetoed),
                reasons=reasons,
                outputs={
                    o.id: None if isinstance(v, Missing) else v
                    for o, v in zip(model.outputs, r.outputs, strict=True)
                },
            )
        )
    return out


def run_vectorized(model: Model, records: list[dict[str, Any]]) -> list[Observed]:
    ds = _dataset(model, records)
    ev = evaluate_dataset(model, ds, backend="vectorized", detail=True)
    assert ev.backend == "vectorized", ev.warnings  # no silent fallback to the interpreter
    out = []
    for row in ev.table.to_dicts():
        out.append(
            Observed(
                indicators={
                    ind.id: (
                        row[f"ind.{ind.id}.value"],
                        row[f"ind.{ind.id}.points"],
                        row[f"ind.{ind.id}.outcome"],
                    )
                    for ind in model.indicators
                },
                total=row["total"],
                grade=row["grade"],
                dims={d.id: row[f"dim.{d.id}"] for d in model.dimensions},
                missing_count=row["missing"],
                vetoes=[v for v in row["vetoes"].split(",") if v],
                outputs={o.id: row[f"out.{o.id}"] for o in model.outputs},
            )
        )
    return out


def _cell(value: Any, type_: str, values: list[str] | None = None) -> str | None:
    """A record value as the text a data file would hold (read back exactly)."""
    if value is None:
        return None
    if type_ == "set":  # a bitmask: its values as a cell lists them
        return sets.text(value, values or [])
    if type_ == "bool":
        return "true" if value else "false"
    if type_ == "percent":  # 85% is 0.85; shifting the decimal point is exact
        return f"{Decimal(repr(value)).scaleb(2)}%"
    if type_ in ("int", "number"):
        return repr(value)
    if type_ == "date":
        return value.isoformat()
    return str(value)


_DATASETS: dict[tuple, data.Dataset] = {}


def _dataset(model: Model, records: list[dict[str, Any]]) -> data.Dataset:
    """The records as a converted data file, built once per inputs and records."""
    key = (
        tuple((f.id, f.type, tuple(f.values), f.min, f.max) for f in model.inputs),
        tuple(tuple((k, type(v).__name__, v) for k, v in sorted(r.items())) for r in records),
    )
    if key not in _DATASETS:
        _DATASETS[key] = _convert(model, records)
    return _DATASETS[key]


def _convert(model: Model, records: list[dict[str, Any]]) -> data.Dataset:
    fields = model.inputs
    frame = pl.DataFrame(
        {
            f"c{j}": pl.Series(
                [_cell(r.get(f.id), f.type, f.values) for r in records], dtype=pl.String
            )
            for j, f in enumerate(fields)
        },
        height=len(records),
    )
    raw = data.RawTable(
        file="<corpus>",
        headers=[f.id for f in fields],
        frame=frame,
        lines=list(range(2, len(records) + 2)),
    )
    ds = data.convert_table(raw, model)
    # a score outside 0..points is read as written and clamped (score.toml): its
    # warning is the point of those cases, every other problem is a corpus bug
    clamped = codes.DATA_SCORE_CLAMPED.code
    problems = [p for p in ds.problems if p.severity != "info" and p.code != clamped]
    assert not problems, [str(p) for p in ds.problems]
    for given, read in zip(records, ds.records, strict=True):
        for f in fields:
            want, got = given.get(f.id), read[f.id]
            assert got == want and type(got) is type(want), (f.id, want, got)
    return ds


# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    file: str
    name: str
    model_key: str  # the model this case runs on: an expression's own, or a [models] entry
    record: dict[str, Any]
    expect: dict[str, Any]
    indicator: str | None  # whose points/outcome/value; None: the first
    xfail: dict[str, str]
    expr: str | None = None
    exact: bool = False  # numbers compared bit for bit (the file's `exact`)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class CorpusFile:
    name: str
    prelude: str | None  # input declarations for expression cases
    models: dict[str, str]  # name → .gov source
    cases: list[Case]


PROBE = "probe"


def _probe(type_: str, value: str) -> str:
    """A scoring form whose indicator value is `value` itself."""
    if type_ == "bool":
        return f"pass when {value}"
    if type_ in ("int", "number"):
        return f"linear {value} from 0 to 1"
    if type_ == "percent":
        return f"linear {value} from 0% to 100%"
    raise AssertionError(f"no probe for an expression of type {type_}")


def _let_types(prelude: str, exprs: list[str]) -> list[str]:
    src = f'model corpus "语义"\n{prelude}\n'
    src += "".join(f"let e{k} = {e}\n" for k, e in enumerate(exprs))
    src += 'grades { "ok" otherwise }\n'
    model = _check(src)
    types = {d.id: d.type for d in model.lets}
    return [types[f"e{k}"] for k in range(len(exprs))]


def expression_model(prelude: str, exprs: list[str]) -> str:
    """A model over `prelude`'s inputs with indicator `probe<k>` valued by
    expression k (`let e<k> = …`)."""
    types = _let_types(prelude, exprs)
    lines = [f'model corpus "语义"\ntotal {len(exprs)}\n{prelude}']
    for k, (e, t) in enumerate(zip(exprs, types, strict=True)):
        lines.append(f"let e{k} = {e}")
        lines.append(f'indicator {PROBE}{k} "P{k}" points 1 {{ {_probe(t, f"e{k}")} }}')
    lines.append('grades { "ok" otherwise }\n')
    return "\n".join(lines)


def _one_indicator(spec: dict[str, Any]) -> str:
    points = spec.get("points", 10)
    return (
        f'model m "M"\ntotal {points}\n{spec.get("inputs", "")}\n'
        f'indicator x "X" points {points} {{ {spec["scoring"]} }}\n'
        'grades { "ok" otherwise }\n'
    )


def _typed(record: dict[str, Any], model: Model, where: str) -> dict[str, Any]:
    types = {f.id: f.type for f in model.inputs}
    out = {}
    for key, v in record.items():
        assert key in types, f"{where}: no input {key!r}"
        t = types[key]
        if t == "set":  # a list of listed values: the bitmask both backends hold
            f = model.input(key)
            assert isinstance(v, list), f"{where}: {key} = {v!r} is not a list"
            mask, unknown = sets.encode(v, f.values)
            assert not unknown, f"{where}: {key}: {unknown} not listed"
            out[key] = mask
            continue
        if t in ("number", "percent") and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        ok = {
            "bool": lambda v: isinstance(v, bool),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, float),
            "percent": lambda v: isinstance(v, float),
            "date": lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
        }.get(t, lambda v: isinstance(v, str))
        assert ok(v), f"{where}: {key} = {v!r} is not a {t}"
        out[key] = v
    return out


@cache
def _check(source: str) -> Model:
    parsed = parse(source, "<corpus>")
    assert parsed.ok, [str(d) for d in parsed.diagnostics] + [source]
    checked = check(parsed.tree, source)
    errors = [f"{d.code}: {d.message}" for d in checked.diagnostics if d.is_error]
    assert not errors, errors + [source]
    return checked.model


def _read(path: Path) -> CorpusFile:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(doc) - {"prelude", "models", "case", "exact"}
    assert not unknown, f"{path.name}: unknown keys {unknown}"
    prelude = (SEMANTICS / doc["prelude"]).read_text(encoding="utf-8") if "prelude" in doc else None
    models = {}
    for key, spec in doc.get("models", {}).items():
        unknown = set(spec) - MODEL_KEYS
        assert not unknown, f"{path.name}: model {key}: unknown keys {unknown}"
        models[key] = spec["source"] if "source" in spec else _one_indicator(spec)
    cases = []
    for raw in doc.get("case", []):
        where = f"{path.name}::{raw.get('name')}"
        assert set(raw) <= CASE_KEYS, f"{where}: unknown keys {set(raw) - CASE_KEYS}"
        assert ("expr" in raw) != ("model" in raw), f"{where}: an expr or a model"
        assert set(raw) & EXPECTATIONS, f"{where}: expects nothing"
        if "expr" in raw:
            assert prelude is not None, f"{where}: an expression needs the file's prelude"
            assert set(raw) & EXPECTATIONS <= {"value", "missing"}, where
            key = f"expr:{raw['expr']}"
        else:
            assert raw["model"] in models, f"{where}: no model {raw['model']!r}"
            key = raw["model"]
        unknown_backends = set(raw.get("xfail", {})) - set(BACKENDS)
        assert not unknown_backends, f"{where}: xfail for {unknown_backends}"
        cases.append(
            Case(
                file=path.stem,
                name=raw["name"],
                model_key=key,
                record=raw.get("record", {}),
                expect={k: raw[k] for k in EXPECTATIONS if k in raw},
                indicator=raw.get("indicator"),
                xfail=raw.get("xfail", {}),
                expr=raw.get("expr"),
                exact=doc.get("exact", False),
            )
        )
    names = [c.name for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"{path.name}: duplicate case names {dupes}"
    return CorpusFile(path.stem, prelude, models, cases)


@cache
def corpus() -> list[CorpusFile]:
    return [_read(p) for p in sorted(SEMANTICS.glob("*.toml"))]


def _model_for(cf: CorpusFile, case: Case) -> Model:
    if case.expr is not None:
        return _check(expression_model(cf.prelude, [case.expr]))
    return _check(cf.models[case.model_key])


# ---------------------------------------------------------------- checking


NOT_SCORED = "not scored"


def _same_number(got: Any, want: float | str, exact: bool = False) -> bool:
    if want == NOT_SCORED:
        return got is None
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if exact:  # bit for bit: 0.0 is not -0.0 (a CSV shows -0.0 as "-0.0")
        return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)
    if math.isnan(want):
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _value_problem(got: Any, want: Any, type_: str | None, exact: bool = False) -> str | None:
    if isinstance(want, bool):
        ok = got is want
    elif isinstance(want, (int, float)):
        ok = _same_number(got, float(want), exact)
        if ok and type_ == "int" and type(got) is not int:
            return f"{got!r} is not an integer, the expression's type is int"
    else:
        ok = got == want and type(got) is type(want)
    return None if ok else f"value {got!r}, expected {want!r}"


def problems(case: Case, model: Model, seen: Observed, backend: str) -> list[str]:
    """How `seen` differs from what `case` expects (empty when it agrees)."""
    out = []
    exp = case.expect
    x = case.exact
    ind = case.indicator or model.indicators[0].id
    value, points, outcome = seen.indicators[ind]
    type_ = None
    if case.expr is not None:
        type_ = next(d.type for d in model.lets if d.id == ind.replace(PROBE, "e"))
    if "missing" in exp:
        if value is not None:
            out.append(f"value {value!r}, expected missing")
        elif isinstance(exp["missing"], str) and backend == "reference":
            if seen.reasons.get(ind) != exp["missing"]:
                out.append(f"missing because {seen.reasons.get(ind)!r}, not {exp['missing']!r}")
    if "value" in exp:
        if value is None:
            out.append(
                f"missing ({seen.reasons.get(ind, 'no reason given')}), expected {exp['value']!r}"
            )
        elif (p := _value_problem(value, exp["value"], type_, x)) is not None:
            out.append(p)
    if "points" in exp and not _same_number(points, exp["points"], x):
        out.append(f"{ind}: {points!r} points, expected {exp['points']!r}")
    if "outcome" in exp and outcome != exp["outcome"]:
        out.append(f"{ind}: outcome {outcome!r}, expected {exp['outcome']!r}")
    if "total" in exp and not _same_number(seen.total, exp["total"], x):
        out.append(f"total {seen.total!r}, expected {exp['total']!r}")
    if "grade" in exp and seen.grade != exp["grade"]:
        out.append(f"grade {seen.grade!r}, expected {exp['grade']!r}")
    for d, score in exp.get("dims", {}).items():
        if not _same_number(seen.dims[d], score, x):
            out.append(f"dimension {d}: {seen.dims[d]!r}, expected {score!r}")
    if "missing_count" in exp and seen.missing_count != exp["missing_count"]:
        out.append(f"missing count {seen.missing_count}, expected {exp['missing_count']}")
    if "vetoes" in exp and seen.vetoes != exp["vetoes"]:
        out.append(f"vetoes {seen.vetoes}, expected {exp['vetoes']}")
    types = {o.id: o.type for o in model.outputs}
    for o, want in exp.get("outputs", {}).items():
        got = seen.outputs[o]
        if want == "missing":
            if got is not None:
                out.append(f"output {o}: {got!r}, expected missing")
        elif got is None:
            out.append(f"output {o}: missing, expected {want!r}")
        elif (p := _value_problem(got, want, types[o], x)) is not None:
            out.append(f"output {o}: {p}")
    return out


def _same_inputs(cf: CorpusFile, case: Case) -> list[Case]:
    """The cases of `cf` on the inputs of `case`: every expression case, or
    every case of its model."""
    if case.expr is not None:
        return [c for c in cf.cases if c.expr is not None]
    return [c for c in cf.cases if c.model_key == case.model_key]


def _params() -> list:
    out = []
    for cf in corpus():
        for case in cf.cases:
            for backend in BACKENDS:
                marks = []
                if backend in case.xfail:
                    marks.append(pytest.mark.xfail(reason=case.xfail[backend], strict=True))
                out.append(pytest.param(cf, case, backend, id=f"{case.id}[{backend}]", marks=marks))
    return out


@pytest.mark.parametrize(("cf", "case", "backend"), _params())
def test_case(cf: CorpusFile, case: Case, backend: str):
    model = _model_for(cf, case)
    if backend == "reference":
        [seen] = run_reference(model, [_typed(case.record, model, case.id)])
    else:
        group = _same_inputs(cf, case)
        rows = run_vectorized(model, [_typed(c.record, model, c.id) for c in group])
        seen = rows[group.index(case)]
    found = problems(case, model, seen, backend)
    assert not found, f"{case.id} on the {backend} backend: " + "; ".join(found)


@pytest.mark.parametrize("cf", corpus(), ids=lambda cf: cf.name)
def test_file_in_one_frame(cf: CorpusFile):
    """Every record of a file's model in one frame through the vectorized
    backend (an expression file: one model with an indicator per case). Cases
    the vectorized backend is known to get wrong are left out here; their
    own xfail says why."""
    cases = [c for c in cf.cases if "vectorized" not in c.xfail]
    groups: dict[str, list[Case]] = {}
    for c in cases:
        groups.setdefault("expressions" if c.expr is not None else c.model_key, []).append(c)
    found = []
    for key, group in groups.items():
        if key == "expressions":
            model = _check(expression_model(cf.prelude, [c.expr for c in group]))
            targets = [f"{PROBE}{k}" for k in range(len(group))]
        else:
            model = _check(cf.models[key])
            targets = [c.indicator for c in group]
        records = [_typed(c.record, model, c.id) for c in group]
        rows = run_vectorized(model, records)
        for c, target, seen in zip(group, targets, rows, strict=True):
            as_run = Case(**{**c.__dict__, "indicator": target})
            found += [f"{c.id}: {p}" for p in problems(as_run, model, seen, "vectorized")]
    assert not found, "\n".join(found)


def test_corpus_is_not_empty():
    files = {cf.name: len(cf.cases) for cf in corpus()}
    assert len(files) >= 5 and all(files.values()), files
