"""The detail levels of a results table (`evaluate_dataset(detail=…)`):
`"points"` has each indicator's points and outcome and nothing the full
table (`True`) has besides its values and vetoes, the same cells, from both
backends; `zhili eval` records runs and writes `--detail` tables from it."""

from __future__ import annotations

import pytest

from zhili.engine.eval import columns
from zhili.engine.eval.evaluate import POINTS, evaluate_dataset
from zhili.engine.io import data
from zhili.engine.plugins import Registry
from zhili.engine.sample import write_sample


@pytest.fixture(scope="module")
def four_type(tmp_path_factory):
    reg = Registry()
    model = reg.get("four_type").model
    path = tmp_path_factory.mktemp("detail") / "data.csv"
    write_sample(model, path, 300, seed=5)
    return reg, model, data.load(path, model)


@pytest.mark.parametrize("backend", ["vectorized", "reference"])
def test_points_level_is_the_full_table_without_values_and_vetoes(four_type, backend):
    reg, model, ds = four_type
    full = evaluate_dataset(model, ds, reg, backend=backend, detail=True).table
    points = evaluate_dataset(model, ds, reg, backend=backend, detail=POINTS).table
    summary = evaluate_dataset(model, ds, reg, backend=backend, detail=False).table
    values = {columns.ind_value(i.id) for i in model.indicators}
    vetoes = {columns.veto_col(v.id) for v in model.vetoes}
    assert values | vetoes <= set(full.columns)
    assert points.columns == [c for c in full.columns if c not in values | vetoes]
    assert points.equals(full.select(points.columns))
    indicators = set(columns.indicator_points(i.id for i in model.indicators))
    assert summary.columns == [c for c in points.columns if c not in indicators]
    assert str(points.schema[columns.ind_outcome(model.indicators[0].id)]).startswith("Enum")


def test_backends_agree_on_the_points_level(four_type):
    reg, model, ds = four_type
    vec = evaluate_dataset(model, ds, reg, backend="vectorized", detail=POINTS).table
    ref = evaluate_dataset(model, ds, reg, backend="reference", detail=POINTS).table
    assert vec.equals(ref)


def test_an_unknown_level_is_refused(four_type):
    reg, model, ds = four_type
    with pytest.raises(ValueError, match="detail must be"):
        evaluate_dataset(model, ds, reg, detail="values")
