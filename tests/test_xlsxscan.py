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
    # the cell without `r` goes after XFD, where calamine puts it
    assert scan.max_col == col_index(b"XFD") + 1


def test_a_row_without_cells_counts_for_the_last_row():
    scan = _scan('<row r="5" spans="1:2"><c r="B5"><v>1</v></c></row><row r="6"/>')
    assert (scan.max_row, scan.max_col) == (5, 1)


def test_cells_without_r_count_on_from_column_a():
    """calamine puts a cell without `r` after the one before it in its row:
    20,000 of them reach column 20,000."""
    scan = _scan('<row r="3">' + "<c><v>1</v></c>" * 20_000 + "</row>")
    assert (scan.max_row, scan.max_col) == (2, 19_999)


def test_cells_without_r_far_down():
    scan = _scan(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">' + "<c/>" * 100 + "</row>"
    )
    assert (scan.max_row, scan.max_col) == (1_048_575, 99)


def test_a_cell_without_r_after_one_with_it():
    scan = _scan('<row r="2"><c r="D2"><v>1</v></c><c t="s"><v>0</v></c></row>')
    assert (scan.max_row, scan.max_col) == (1, 4)


def test_rows_without_r_follow_the_row_before():
    scan = _scan(
        '<row r="5"><c r="A5"><v>1</v></c></row><row/><row><c><v>1</v></c><c><v>1</v></c></row>'
    )
    assert (scan.max_row, scan.max_col) == (6, 1)


def test_text_that_reads_like_a_reference_does_not_count():
    scan = _scan(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>x r="XFD1048576" <c r="XFD1048576"></t>'
        "</is></c></row>".replace('<c r="XFD1048576">', '&lt;c r="XFD1048576"&gt;')
    )
    assert (scan.max_row, scan.max_col) == (0, 0)


def test_comments_and_cdata_do_not_count():
    scan = _scan(
        '<row r="1"><!-- <c r="XFD1048576"> --><c r="B1"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="str"><f><![CDATA[<c r="XFD9">]]></f></c></row>'
    )
    assert (scan.max_row, scan.max_col) == (1, 1)


def test_references_as_calamine_reads_them():
    """Lower case, four letters, single quotes, spaces around `=`, a
    namespace prefix, a second `r` (the last counts)."""
    assert _scan('<row r="1"><c r="xfd1"><v>1</v></c></row>').max_col == col_index(b"XFD")
    assert _scan('<row r="1"><c r="AAAA1"><v>1</v></c></row>').max_col == col_index(b"AAAA")
    assert _scan("<row r='1'><c r = 'C7'><v>1</v></c></row>").max_row == 6
    assert _scan('<x:row r="1"><x:c><x:v>1</x:v></x:c><x:c r="Q1"/></x:row>').max_col == 16
    assert _scan('<row r="1"><c r="A1" r="Z1"><v>1</v></c></row>').max_col == 25


def _as_tokens(rows_xml: str) -> tuple[int, int]:
    extent = xlsxscan._Extent()
    extent.tokens(rows_xml.encode())
    return extent.max_row, extent.max_col


def test_the_quick_pass_and_the_tag_by_tag_one_agree():
    """Sheets as the usual writers write them (`r` first), in chunks: the
    search for a cell beyond the extent gives what reading every tag does,
    the carried position too."""
    import random

    rng = random.Random(7)
    for _ in range(200):
        parts = []
        for r in sorted(rng.sample(range(1, 3000), rng.randint(1, 8))):
            cols = sorted(rng.sample(range(0, 800), rng.randint(0, 5)))
            cells = "".join(f'<c r="{xlsxscan._col_name(c)}{r}" s="1"><v>1</v></c>' for c in cols)
            parts.append(
                f'<row r="{r}">{cells}</row>' if cells or rng.random() < 0.5 else f'<row r="{r}"/>'
            )
        xml = "".join(parts)
        want = _as_tokens(xml)
        scan = _scan(xml)
        assert (scan.max_row, scan.max_col) == want, xml
        # a row without `r` after each chunk lands where it would after the whole
        cut = rng.randrange(len(parts) + 1)
        extent = xlsxscan._Extent()
        assert extent._canonical("".join(parts[:cut]).encode())
        extent.tokens(("".join(parts[cut:]) + "<row><c/></row>").encode())
        assert (extent.max_row, extent.max_col) == _as_tokens(xml + "<row><c/></row>")


def test_row_breaks_after_the_data_keep_the_quick_pass():
    buf = b'<sheetData><row r="3"><c r="B3"><v>1</v></c></row></sheetData><rowBreaks count="1">'
    extent = xlsxscan._Extent()
    assert extent._canonical(buf)
    assert (extent.max_row, extent.max_col, extent.row, extent.col) == (2, 1, 3, 0)


def test_words_ending_in_row_and_text_are_not_row_tags():
    scan = _scan(
        '<row r="2"><c r="A2" t="inlineStr"><is><t>a/row x:row </t></is></c><c/></row>'
        '<x:arrow r="9"/><row><c/></row>'
    )
    assert (scan.max_row, scan.max_col) == (2, 1)
