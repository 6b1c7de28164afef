"""A cell over Excel's limit of 32,767 characters is refused with its place,
never cut (issue 13 item 1). A 40,000-character cell written with openpyxl
came out as 32,767 characters: openpyxl cuts a string at that length when a
cell is set (`Cell.check_string`), before anything is written, so the file
holds 32,767 and zhili reads them all; a file that holds more is refused
(tests/data_cases/convert_cell_over_32767_chars, written by patching the
sheet XML). A CSV cell is held to the same limit, in every reading path."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.cli_helpers import zhili
from zhili.engine.io import formats
from zhili.engine.io.excel import read_excel
from zhili.engine.io.table import DataError

HEADER = "社区编码,社区,街道,常住人口,调解成功率,是否实现多网合一"
MODEL = Path(__file__).parent / "data_cases" / "csvread_model.gov"
LIMIT = 32_767


def _row(i: int, name: str = "社区") -> str:
    return f"BJ-{i:03d},{name},群众路街道,{1000 + i},95%,是"


def test_openpyxl_cuts_a_long_string_and_zhili_reads_what_the_file_holds(tmp_path):
    path = tmp_path / "long.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["社区编码", "社区", "常住人口"])
    wb.active.append(["A1", "长" * 40_000, 1000])
    wb.save(path)
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert sheet.count("长") == LIMIT  # cut by openpyxl, before zhili sees the file
    table = read_excel(path)
    assert len(table.frame.row(0)[1]) == LIMIT  # and read whole


def _patched(path: Path, old: str, new: str) -> None:
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(old.encode(), new.encode())
            out.writestr(info, data)


def test_an_xlsx_cell_one_character_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "over.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["社区编码", "社区", "常住人口"])
    wb.active.append(["A1", "长" * LIMIT, 1000])
    wb.save(path)
    _patched(path, "长" * LIMIT, "长" * (LIMIT + 1))
    with pytest.raises(DataError, match="a cell holds more than 32,767 characters"):
        read_excel(path)


@pytest.mark.parametrize("quoted", [False, True])
def test_a_csv_cell_at_the_limit_is_read_and_one_over_it_refused_with_its_place(tmp_path, quoted):
    q = '"' if quoted else ""
    at_limit = tmp_path / "at.csv"
    at_limit.write_text(f"{HEADER}\n{_row(1)}\n{_row(2, q + '长' * LIMIT + q)}\n", encoding="utf-8")
    assert formats.read_delimited(at_limit).frame.row(1)[1] == "长" * LIMIT
    over = tmp_path / "over.csv"
    over.write_text(
        f"{HEADER}\n{_row(1)}\n{_row(2, q + '长' * (LIMIT + 1) + q)}\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as err:
        formats.read_delimited(over)
    assert str(err.value) == (
        f"{over}:3 [社区]: a cell holds more than 32,767 characters (Excel's limit for a cell);"
        " zhili does not read a cell this long"
    )


@pytest.mark.parametrize("start", ['x"', "x", "长"])
def test_a_long_csv_cell_in_a_later_batch_is_refused_too(tmp_path, start):
    """In batches (the fast reader) and in a batch the record-by-record
    reader reads (a stray quote before it); over the csv module's own
    limit of 131,072 characters too (which said 'not valid CSV')."""
    lines = [HEADER, *(_row(i) for i in range(200))]
    lines[150] = _row(149, start + "y" * 140_000)
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for batch in (100, 4000, 10**9):
        with pytest.raises(DataError, match=r"data.csv:151 \[社区\]: a cell holds more than"):
            list(formats.read_delimited_batches(path, batch_bytes=batch))
    result = zhili("eval", MODEL, path, "--no-record")
    assert result.exit_code == 1
    assert "data.csv:151 [社区]: a cell holds more than 32,767 characters" in result.stderr
