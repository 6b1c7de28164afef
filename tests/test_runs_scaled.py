"""The run store's parts keep each Float64 column as scaled integers where that
gives every number back to the bit (`columnar.scaled_part`, storage
'parquet-scaled'), and as floats where it does not."""

from __future__ import annotations

import io
import json
import math
import struct

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.engine.runs import columnar


def bits(s: pl.Series) -> list[int | None]:
    return s.reinterpret(dtype=pl.Int64).to_list()


def round_trip(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """`frame` stored as parts and read back, and the places of its scaled columns."""
    stored = columnar.parts(frame)
    read = columnar.read_parts([(k, *p) for k, p in enumerate(stored)])
    meta = pl.read_parquet_metadata(io.BytesIO(stored[0][2]))[columnar.SCALED_META]
    return read, json.loads(meta)


def test_numbers_come_back_to_the_bit_and_are_scaled_where_exact():
    n = 5_000
    frame = pl.DataFrame(
        {
            "whole": [float(k % 3) for k in range(n)],
            "halves": [k % 21 / 2 for k in range(n)],
            # 1858 / 100 as Polars divides a column by a constant is 18.580000000000002
            "cents": [[18.58, 89.6, 46.55, 0.35, None][k % 5] for k in range(n)],
            "nine_places": [[0.123456789, 1.0][k % 2] for k in range(n)],
            "negative_zero": [[-0.0, 1.0][k % 2] for k in range(n)],
            "not_a_number": [[math.nan, 1.0][k % 2] for k in range(n)],
            "infinite": [[math.inf, 1.0][k % 2] for k in range(n)],
            "wide": [float(k * 1000) for k in range(n)],
            "any_float": [k / 7 for k in range(n)],
            "empty": pl.Series([None] * n, dtype=pl.Float64),
            # whole in the values first looked at, cents after them
            "late_cents": [float(k % 4) if k < 4_500 else 0.25 for k in range(n)],
            "text": [str(k) for k in range(n)],
        }
    )
    read, places = round_trip(frame)
    assert read.schema == frame.schema
    for name in frame.columns:
        if frame.schema[name] == pl.Float64:
            assert bits(read.get_column(name)) == bits(frame.get_column(name)), name
        else:
            assert read.get_column(name).equals(frame.get_column(name))
    # "wide" needs no places but spans more than a dictionary of integers takes
    assert places == {"whole": 0, "halves": 1, "cents": 2, "late_cents": 2, "empty": 0}


def test_a_results_frame_round_trips_through_the_store(tmp_path):
    """A real run's frame (four_type's sample): every stored column the same."""
    from zhili.engine.eval.evaluate import POINTS, evaluate_dataset
    from zhili.engine.io.data import load
    from zhili.engine.plugins import Registry
    from zhili.engine.runs import store

    reg = Registry()
    lm = reg.get("four_type")
    ev = evaluate_dataset(lm.model, load(lm.samples[0], lm.model), reg, detail=POINTS)
    frame = columnar.results_frame(ev, store.indicator_ids(ev))
    read, places = round_trip(frame)
    assert read.equals(frame, null_equal=True)
    for name, dtype in frame.schema.items():
        if dtype == pl.Float64:
            assert bits(read.get_column(name)) == bits(frame.get_column(name)), name
    # four_type publishes 2 places: every number is stored scaled
    assert set(places) == {n for n, d in frame.schema.items() if d == pl.Float64}


def _float(bits_: int) -> float:
    return struct.unpack("<d", struct.pack("<q", bits_))[0]


decimals = st.builds(lambda k, p: k / 10**p, st.integers(-20_000, 20_000), st.integers(0, 9))
numbers = st.one_of(
    decimals,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63 - 1).map(_float),  # any bits, NaN payloads included
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(numbers, min_size=1, max_size=40), min_size=1, max_size=4))
def test_any_floats_come_back_to_the_bit(columns):
    n = max(len(c) for c in columns)
    frame = pl.DataFrame(
        [
            pl.Series(f"c{k}", (c * n)[:n], dtype=pl.Float64, strict=False)
            for k, c in enumerate(columns)
        ]
    )
    read, places = round_trip(frame)
    for name in frame.columns:
        assert bits(read.get_column(name)) == bits(frame.get_column(name))
        if name in places:
            assert read.get_column(name).dtype == pl.Float64


def test_a_run_in_many_parts_reads_as_one_part(tmp_path, monkeypatch):
    """Parts of a few rows each (their places decided part by part) give the
    run that one part gives: results, the typed frame of `runs diff`, and
    the batches of `iter_results`."""
    from zhili.engine.eval.evaluate import POINTS, evaluate_dataset
    from zhili.engine.io.data import load
    from zhili.engine.plugins import Registry
    from zhili.engine.runs.store import RunStore

    reg = Registry()
    lm = reg.get("four_type")
    ev = evaluate_dataset(lm.model, load(lm.samples[0], lm.model), reg, detail=POINTS)
    with RunStore(tmp_path / "runs.sqlite") as store:
        one = store.record(ev, command="eval", data_path=None)
        width = columnar.results_frame(ev, [i.id for i in lm.model.indicators]).width
        monkeypatch.setattr(columnar, "PART_CELLS", width * 5)
        many = store.record(ev, command="eval", data_path=None)
        counts = dict(
            store.conn.execute("SELECT run_id, COUNT(*) FROM result_parts GROUP BY run_id")
        )
        assert counts == {one: 1, many: 5}  # 24 communities, 5 a part
        assert store.results(many).equals(store.results(one))
        assert store.results(many, detail=False).equals(store.results(one, detail=False))
        (ta, ids_a), (tb, ids_b) = store.typed_results(one), store.typed_results(many)
        assert ids_a == ids_b and ta.equals(tb)
        batches = list(store.iter_results(many, batch=7))
        assert pl.concat(batches).equals(store.results(one))
