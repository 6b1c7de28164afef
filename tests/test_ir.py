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
