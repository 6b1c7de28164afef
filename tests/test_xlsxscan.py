"""The extent pass over a sheet's XML (`xlsxscan.scan_sheet`), which keeps
calamine from allocating a sheet's whole rectangle: the widest row anywhere,
a row written without its number, namespaced tags, a far cell written
before a near one in its row, and text that looks like a reference after a
far cell all give the sheet's real extent."""

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


def test_a_far_cell_before_a_near_one_in_its_row():
    """Cells out of column order (hand-written XML): the far one still counts."""
    scan = _scan(
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c><c r="A1048576"><v>1</v></c></row>'
    )
    assert (scan.max_row, scan.max_col) == (1048575, col_index(b"XFD"))


def test_text_after_a_far_cell_does_not_hide_it():
    scan = _scan(
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c>'
        '<c t="inlineStr"><is><t> r="A1"</t></is></c></row>'
    )
    assert scan.max_col == col_index(b"XFD")


def test_a_row_without_cells_counts_for_the_last_row():
    scan = _scan('<row r="5" spans="1:2"><c r="B5"><v>1</v></c></row><row r="6"/>')
    assert (scan.max_row, scan.max_col) == (5, 1)
