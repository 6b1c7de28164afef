"""An unquoted comma in a number shifts a CSV row's cells
(tests/data_cases/csvread_unquoted_comma_in_number): the values read after
the shift, row by row, from the real file."""

from __future__ import annotations

from pathlib import Path

from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.io.data import load

CASES = Path(__file__).parent / "data_cases"


def _model():
    src = (CASES / "csvread_model.gov").read_text(encoding="utf-8")
    return check(parse(src).tree, src).model


def test_cells_after_a_joined_comma_stand_under_their_headers():
    ds = load(CASES / "csvread_unquoted_comma_in_number" / "data.csv", _model())
    frame = ds.frame
    assert frame.get_column("in.population").to_list() == [1200, 800, 1, 950, None, 1500, 1500]
    assert frame.get_column("in.grid").to_list() == [True, False, True, True, None, False, False]
    # the joined cells are comma problems (missing), the rows' other cells are read
    assert frame.get_column("in.rate").to_list() == [0.85, 0.9, None, None, None, None, 0.91]


def test_a_shift_in_a_longer_file_is_found_from_the_other_rows(tmp_path):
    head = "社区编码,社区,常住人口,调解成功率,是否实现多网合一\n"
    rows = [f"B-{i},社区{i},{1000 + i},{80 + i % 10}%,是\n" for i in range(40)]
    rows[17] = "B-17,社区17,1017,80,5%,否\n"  # 80,5%: a decimal comma
    path = tmp_path / "d.csv"
    path.write_text(head + "".join(rows), encoding="utf-8")
    ds = load(path, _model())
    (extra,) = [p for p in ds.problems if p.code == "data-extra-cells"]
    assert (extra.row, extra.column, extra.raw) == (19, "调解成功率", "80,5%")
    r = ds.frame.filter(ds.frame.get_column("row") == 19)
    assert r.get_column("in.population").to_list() == [1017]
    assert r.get_column("in.grid").to_list() == [False]
    assert r.get_column("in.rate").to_list() == [None]  # 80,5%: a comma problem
    (comma,) = [p for p in ds.problems if p.code == "data-invalid-value"]
    assert (comma.row, comma.column) == (19, "调解成功率")


def test_a_shift_in_a_file_of_few_rows_is_not_guessed():
    """No other row says what a column holds: the cells from the first
    place a comma may have split on count as missing, never read shifted."""
    ds = load(CASES / "csvread_unquoted_comma_few_rows" / "data.csv", _model())
    (extra,) = [p for p in ds.problems if p.code == "data-extra-cells"]
    assert (extra.row, extra.column) == (2, "常住人口")
    assert ds.frame.get_column("in.population").to_list() == [None]
    assert ds.frame.get_column("in.rate").to_list() == [None]
    assert ds.frame.get_column("in.grid").to_list() == [None]


def test_an_extra_note_after_long_numbers_in_a_one_row_file_stays_a_note(tmp_path):
    """`12000,95%` is no number written with a comma: the extra cell is a
    note, the row keeps its cells (the plain warning, no column)."""
    path = tmp_path / "d.csv"
    path.write_text(
        "社区编码,社区,常住人口,调解成功率,是否实现多网合一\nA-1,东社区,12000,95%,是,多出\n",
        encoding="utf-8",
    )
    ds = load(path, _model())
    (extra,) = [p for p in ds.problems if p.code == "data-extra-cells"]
    assert (extra.row, extra.column) == (2, None)
    assert ds.frame.get_column("in.population").to_list() == [12000]
    assert ds.frame.get_column("in.grid").to_list() == [True]
