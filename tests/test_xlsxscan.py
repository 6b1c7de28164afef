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


def _both(buf: bytes, start: tuple[int, int, int, int] = (-1, -1, 0, 0)):
    """`_vectorized` and `_canonical` from the same state: (taken, state)
    for each, the state as (max_row, max_col, row, col)."""
    out = []
    for method in ("_vectorized", "_canonical"):
        extent = xlsxscan._Extent(row=start[2], col=start[3], max_row=start[0], max_col=start[1])
        taken = getattr(extent, method)(buf)
        out.append((taken, (extent.max_row, extent.max_col, extent.row, extent.col)))
    return out


def test_the_array_pass_reads_a_far_cell_before_a_near_one():
    """Every cell counts, wherever it is in its row and in the chunk: a far
    cell first, in the middle, last; one far down in a row written early."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="C{r}"/></row>' for r in range(1, 50)
    )
    for far in ('<c r="XFD7"><v>1</v></c>', '<c r="B1048576"/>', '<c r="AAA3" s="1"/>'):
        for at in (0, len(rows) // 2, len(rows)):
            cut = rows.index("<c", at) if at < len(rows) else len(rows) - len("</row>")
            buf = (rows[:cut] + far + rows[cut:]).encode()
            (taken, state), (taken_too, want) = _both(buf)
            assert taken and taken_too and state == want, (far, at)
    (taken, state), _ = _both(b'<row r="1048576"><c r="XFD1048576"/><c r="A1048576"/></row>')
    assert taken and state[:2] == (1048575, col_index(b"XFD"))


def test_the_array_pass_leaves_other_writing_to_the_tag_by_tag_one():
    """A tag the arrays do not read as the usual writers write it is left,
    nothing changed, to `_canonical` or `tokens`: what the whole scan gives
    is what reading tag by tag gives."""
    odd = [
        '<c r="a1"/>',  # lower case
        '<c r="AAAA1"/>',  # four letters
        '<c r="A01"/>',  # a leading zero
        '<c r="A0"/>',
        '<c r="A12345678"/>',  # eight digits
        '<c\tr="B1"/>',  # a tab
        '<c s="1" r="B1"/>',  # `r` not first
        '<c r="B1" r="XFD1"/>',  # a second `r`
        "<c/>",  # no `r`
        "<c r='B1'/>",
        '<c r="B1"x/>',
        '<c r = "B1"/>',
        '<!-- <c r="XFD9"/> -->',
    ]
    for tag in odd:
        xml = f'<row r="1"><c r="A1"/>{tag}<c r="C1"/></row>'
        assert _both(xml.encode())[0] == (False, (-1, -1, 0, 0)), tag
        assert (_scan(xml).max_row, _scan(xml).max_col) == _as_tokens(xml), tag


def test_the_array_pass_and_the_search_agree_on_random_chunks():
    """Chunks of rows with the usual tags and the odd ones, cut anywhere
    (a tag split at the end): where the array pass takes a chunk, the search
    from cell to cell takes it too, with the same extent and position."""
    import random

    rng = random.Random(11)
    pieces = [
        '<c r="{c}{r}" t="s"><v>1</v></c>',
        '<c r="{c}{r}"/>',
        '<c r="{c}{r}" s="2"><f>A1</f><v>2</v></c>',
        '<c r="{c}{r}"><is><t> r="XFD1" &lt;c r="XFD9"&gt;</t></is></c>',
        '<col r="{c}{r}"/>',
        '<cfRule r="{c}{r}"/>',
        '<c r="{c}{r}" r="A1"/>',
        '<c r="{lc}{r}"/>',
        "<c><v>1</v></c>",
        '<c r="{c}0{r}"/>',
    ]
    taken = 0
    for _ in range(400):
        parts = []
        for r in sorted(rng.sample(range(1, 1_200_000), rng.randint(1, 6))):
            cells = []
            for _k in range(rng.randint(0, 6)):
                piece = rng.choice(pieces[:4] * 6 + pieces[4:])
                c = xlsxscan._col_name(
                    rng.choice([0, 1, 25, 26, 701, 702, 16383, rng.randrange(18_278)])
                )
                row = r if rng.random() < 0.8 else rng.randrange(1, 10_000_000)
                cells.append(piece.format(c=c, lc=c.lower(), r=row))
            parts.append(f'<row r="{r}">{"".join(cells)}</row>')
        xml = "".join(parts).encode()
        if rng.random() < 0.3:
            xml = xml[: rng.randrange(len(xml) + 1)]
        start = rng.choice([(-1, -1, 0, 0), (5, 3, 6, 0), (2_000_000, 20_000, 9, 2)])
        (fast, state), (slow, want) = _both(xml, start)
        if fast:
            taken += 1
            assert slow and state == want, xml
        else:
            assert state == start, xml
    assert taken > 100  # the arrays read most chunks


def test_a_far_cell_in_a_middle_chunk_of_a_large_sheet():
    """A sheet of several chunks (`xlsxscan.CHUNK`): a far cell written
    before a near one, in a chunk of the middle, counts."""
    rows = [
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="s"><v>{r}</v></c>' for c in "ABCDEFGH")
        + "</row>"
        for r in range(1, 120_001)
    ]
    rows[60_000] = rows[60_000].replace('<c r="A60001"', '<c r="ZZ60001"/><c r="A60001"', 1)
    xml = "".join(rows)
    assert len(xml) > 2 * xlsxscan.CHUNK
    scan = _scan(xml)
    assert (scan.max_row, scan.max_col) == (120_000 - 1, col_index(b"ZZ"))
