"""The typed IR's own contracts: encodings that outlive a process (JSON, the
vectorized outcome codes, the run store's letters) must never drift."""

from __future__ import annotations

import json

import pytest

from zhili.dsl.model import Outcome


def test_outcome_encodings_are_stable():
    # stored runs and result tables written by earlier versions use these
    assert [(o.value, o.code, o.letter, o.mark) for o in Outcome] == [
        ("pass", 0, "p", "✓"),
        ("partial", 1, "a", "~"),
        ("fail", 2, "f", "✗"),
        ("missing", 3, "m", "?"),
        ("vetoed", 4, "v", "!"),
    ]


@pytest.mark.parametrize("outcome", list(Outcome))
def test_outcome_round_trips_through_each_encoding(outcome):
    assert Outcome(json.loads(json.dumps(outcome))) is outcome
    assert Outcome.from_code(outcome.code) is outcome
    assert Outcome.from_letter(outcome.letter) is outcome
    assert outcome.text() == outcome.word  # English by default


def test_result_column_names_are_spelled_in_one_module():
    # every reader of the results table asks `engine/eval/columns.py` for a
    # column's name; a second spelling drifts the day one of them changes
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spelled = re.compile(r"""f?["'](ind|dim|veto|let)\.\{""")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("dsl", "engine", "cli", "tui", "plugins")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "columns.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if spelled.search(line)
    ]
    assert offenders == []


def test_scoring_forms_round_trip_through_json():
    # the `form` discriminator picks the class back: a model read from its JSON
    # form is the model, with every scoring form of the built-in models
    from zhili.dsl import model as ir
    from zhili.engine.plugins import Registry

    forms = set()
    for loaded in Registry().models.values():
        model = loaded.model
        assert ir.Model.model_validate_json(model.model_dump_json()) == model
        forms |= {type(i.scoring) for i in model.indicators}
    assert forms >= {ir.PassWhen, ir.Linear, ir.Tiers, ir.Deduct}


def test_every_builtin_is_declared_once_with_both_implementations():
    from zhili.dsl.functions import BUILTINS
    from zhili.engine.functions import BUILTIN_FUNCTIONS

    assert list(BUILTIN_FUNCTIONS) == list(BUILTINS)
    for name, fn in BUILTIN_FUNCTIONS.items():
        assert fn.signature is BUILTINS[name]
        assert fn.doc and callable(fn.python) and callable(fn.polars), name


PLAN_MODEL = """model m "M"
total 100
input a: number
input b: number
input n: int
dimension d "D" points 60 {
    dimension s "S" points 40 missing skip {
        indicator p1 "P1" points 20 { linear a from 0 to 10 }
        indicator p2 "P2" points 20 { linear b from 0 to 10 }
    }
    indicator q "Q" points 20 { pass when a > 5 }
    indicator extra "E" points 5 { bonus 1 per n max 5 }
    veto accident "A" when n > 8 caps "良好"
}
indicator r "R" points 40 { deduct 10 per n }
veto petition "P" when n > 9 blocks "优秀"
grades {
    "优秀" when total >= 90 and min_dimension >= 80%
    "良好" when s >= 60%
    "合格" when total >= 60
    "不合格" otherwise
}
"""


def _plan():
    from zhili.dsl.checker import check
    from zhili.dsl.parser import parse
    from zhili.engine.eval.plan import Plan

    checked = check(parse(PLAN_MODEL).tree, PLAN_MODEL)
    assert checked.model is not None, [d.message for d in checked.diagnostics]
    return Plan(checked.model)


def test_plan_groups_children_as_aggregation_adds_them():
    plan = _plan()
    d, s = plan.dim_index["d"], plan.dim_index["s"]
    i = plan.ind_index
    assert plan.dims[s].scored == (i["p1"], i["p2"]) and plan.dims[s].skips == (i["p1"], i["p2"])
    assert plan.dims[d].scored == (i["q"],) and plan.dims[d].bonus == (i["extra"],)
    assert plan.dims[d].dims == (s,) and plan.dims[d].available == 20.0
    assert plan.top.scored == (i["r"],) and plan.top.dims == (d,) and plan.top.declared == 100
    assert plan.layers == ((s,), (d,))  # children before their parents


def test_plan_vetoes_forbid_grades():
    plan = _plan()
    accident, petition = 0, 1
    # caps 良好: nothing better than 良好; blocks 优秀: 优秀 itself
    assert plan.forbidden == ((accident, petition), (), (), ())
    assert plan.allowed([True, False]) == [False, True, True, True]
    assert plan.allowed([False, False]) == [True] * 4


def test_plan_next_grade_and_result_names():
    plan = _plan()
    assert [plan.next_grade_index(g) for g in (None, 0, 1, 2, 3)] == [3, None, 0, 1, 2]
    assert plan.grade_results == {"total", "min_dimension", "s"}
    kinds = {r.name: r.kind for r in plan.result_names}
    assert kinds["s"] == "dimension" and kinds["p1"] == "indicator"
    assert kinds["accident"] == "veto" and kinds["share"] == "share"
