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
