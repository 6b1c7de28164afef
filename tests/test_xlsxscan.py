"""The extent pass over a sheet's XML (`xlsxscan.scan_sheet`): the last row
and column come from each row's last cell (cells stand in column order), so
the widest row anywhere, a row written without its number, namespaced tags
and rows cut between two chunks all give the sheet's real extent."""

from __future__ import annotations

import io
import zipfile

from zhili.engine.io import xlsxscan
from zhili.engine.io.xlsxscan import col_index


def _scan(rows_xml: str) -> xlsxscan.SheetScan:
    xml = f"<worksheet><sheetData>{rows_xml}</sheetData></worksheet>".encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    return xlsxscan.scan_sheet(zipfile.ZipFile(buf), "xl/worksheets/sheet1.xml")


def test_the_widest_row_in_the_middle():
    scan = _scan(
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="BM2" t="s"><v>0</v></c></row>'
        '<row r="3"><c r="C3"><v>1</v></c></row>'
    )
    assert (scan.max_row, scan.max_col) == (2, col_index(b"BM"))


def test_a_cell_far_down_in_a_row_without_its_number():
    scan = _scan('<row r="1"><c r="A1"><v>1</v></c></row><row><c r="B1048576"><v>1</v></c></row>')
    assert (scan.max_row, scan.max_col) == (1048575, 1)


def test_namespaced_tags_and_an_empty_row():
    scan = _scan('<x:row r="1"><x:c r="D1"><x:v>1</x:v></x:c></x:row><x:row r="9"></x:row>')
    assert (scan.max_row, scan.max_col) == (8, 3)


def test_a_row_cut_between_two_chunks():
    """`_chunks` ends a chunk after a whole cell: a row's last cell may be
    the last of one chunk, its `</row>` the start of the next."""
    first = b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>1</v></c>'
    second = b'</row><row r="2"><c r="B2"><v>1</v></c></row>'
    assert xlsxscan._last_cells(first) == (0, col_index(b"XFD"))
    assert xlsxscan._last_cells(second) == (1, 1)


def test_a_row_without_cells_counts_for_the_last_row():
    scan = _scan('<row r="5" spans="1:2"><c r="B5"><v>1</v></c></row><row r="6"/>')
    assert (scan.max_row, scan.max_col) == (5, 1)
