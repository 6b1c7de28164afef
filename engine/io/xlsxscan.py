"""One pass over a sheet's XML (and the shared strings) before calamine reads
it: the sheet's real extent, its merged ranges, the cells calamine gives as
empty although they are not (error values like `#DIV/0!`, formulas without a
computed value), and the limits a workbook must keep so that reading it cannot
take the machine.

calamine allocates the whole rectangle from A1 to the last cell, whatever the
`<dimension>` says: one cell at XFD1048576 in a 19 KB file is a 512 GB
allocation and an abort. So the extent is measured from the cells themselves,
in chunks, never holding more than a few megabytes of XML at once: every
cell tag of a chunk at once in numpy arrays where the chunk is written as
the usual writers write (`_cell_refs`), tag by tag otherwise.
"""

from __future__ import annotations

import functools
import html
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

import numpy as np
import polars as pl

# Excel's own limit on a cell's text
MAX_CELL_CHARS = 32_767
# the rectangle calamine allocates (about 32 bytes a cell): 20 million cells
# is 200 columns by 100,000 rows
MAX_CELLS = 20_000_000
MAX_MERGES = 20_000
# the XML of one sheet, uncompressed (100,000 rows of 20 columns are ~100 MB)
MAX_XML_BYTES = 1_500_000_000
CHUNK = 4 * 1024 * 1024

# the patterns run over every byte of the sheet: each starts with a literal, so
# the regex engine skips ahead to it (about 1 s for 100,000 rows of 20 columns)
_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')
# a cell holding an error value: <c r="C2" t="e"><v>#DIV/0!</v></c> (a formula may come first)
_ERROR_RE = re.compile(
    rb"<(?:\w+:)?c\b([^>]*?\bt=\"e\"[^>]*)>(?:<(?:\w+:)?f\b[^>]*/>|<(?:\w+:)?f\b[^>]*>[^<]*</(?:\w+:)?f>)?"
    rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>"
)
# a formula without a computed value: <c r="C2"><f>1/0</f><v/></c> (what
# openpyxl writes, and any program that does not calculate)
_UNCOMPUTED_RE = re.compile(
    rb"<(?:\w+:)?c\b([^>/]*)>(?:<(?:\w+:)?f\b[^>]*/>|<(?:\w+:)?f\b[^>]*>([^<]*)</(?:\w+:)?f>)"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_REF_RE = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_TYPE_RE = re.compile(rb'\st="([a-zA-Z]+)"')


# a cell with one of the percent styles: its attributes (`r`, `s`, `t`, in any order)
_STYLED_RE = rb'<(?:\w+:)?c\b([^>]*\ss="(?:%s)"[^>]*)>'
# the same cells as Excel, LibreOffice, openpyxl and xlsxwriter write them (`r`
# first, then `s`, then maybe `t`): twice as fast, as the pattern starts with
# a literal the regex engine skips ahead to
_STYLED_FAST_RE = rb'<c( r="[A-Z]{1,3}[0-9]{1,7}" s="(?:%s)"(?: t="[a-zA-Z]+")?)'
# built-in number formats that are percentages: 0% and 0.00%
PERCENT_BUILTIN_FORMATS = frozenset({9, 10})
# styles.xml larger than this is not read for formats (Excel's own limit is
# 64,000 cell formats, a few megabytes)
MAX_STYLES_BYTES = 50_000_000


class LimitError(Exception):
    """The workbook breaks a limit (the message says which)."""


@dataclass
class SheetScan:
    """What one pass over a sheet's XML found. Rows and columns are 0-based."""

    max_row: int = -1
    max_col: int = -1
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    # (row, col, text): error values ("#DIV/0!") and formulas without a value ("=B2*2")
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    uncomputed: dict[tuple[int, int], str] = field(default_factory=dict)
    long_cell: bool = False
    # the numeric cells with a percent format: a frame of `row` and `col` (0-based)
    percent: pl.DataFrame | None = None


def col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _ref(attrs: bytes) -> tuple[int, int] | None:
    m = _REF_RE.search(b" " + attrs)
    return None if m is None else (int(m[2]) - 1, col_index(m[1]))


def _has_long_text(buf: bytes) -> bool:
    """Whether a text in `buf` is longer than Excel's limit: a run of more
    than `MAX_CELL_CHARS` bytes without a `<` holds a whole window of 16 KB
    starting at a multiple of 16 KB, so only those windows are looked at."""
    step = 16 * 1024
    for at in range(0, len(buf), step):
        if buf.find(b"<", at, at + step) >= 0:
            continue
        tag = buf.rfind(b"<", 0, at)
        start = buf.find(b">", tag) + 1 if tag >= 0 else 0  # after the tag before the text
        end = buf.find(b"<", at)
        run = buf[start : end if end >= 0 else len(buf)]
        if len(run) > MAX_CELL_CHARS and len(html.unescape(run.decode("utf-8", "replace"))) > (
            MAX_CELL_CHARS
        ):
            return True
    return False


def _chunks(zf: zipfile.ZipFile, part: str):
    """The part's bytes in pieces that end after a whole cell (`</c>`) or row,
    so that no cell is split; stops at `MAX_XML_BYTES`."""
    total = 0
    carry = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(CHUNK)
            total += len(chunk)
            if total > MAX_XML_BYTES:
                raise LimitError("xml")
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk
            cut = max(buf.rfind(b"</c>"), buf.rfind(b"</row>"))
            if cut < 0 or len(buf) - cut > 2 * CHUNK:
                cut = len(buf) - 1
            end = buf.index(b">", cut) + 1 if b">" in buf[cut:] else len(buf)
            yield buf[:end]
            carry = buf[end:]


def is_percent_format(code: str) -> bool:
    """Whether a number format code shows a percentage: a `%` outside quoted
    text ("…"), an escaped character (\\%) and brackets ([Red], [$-804])."""
    code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in code


def percent_styles(zf: zipfile.ZipFile) -> frozenset[int]:
    """The positions in styles.xml's `cellXfs` (a cell's `s`) whose number
    format is a percentage: the built-in 0% and 0.00% (ids 9, 10), or a
    custom code with a `%` (`is_percent_format`). Empty when the workbook has
    no readable styles."""
    try:
        info = zf.getinfo("xl/styles.xml")
        if info.file_size > MAX_STYLES_BYTES:
            return frozenset()
        root = ElementTree.fromstring(zf.read(info))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, EOFError):
        return frozenset()
    tag = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    custom = {
        fmt.get("numFmtId"): fmt.get("formatCode") or ""
        for fmt in root.iterfind(f"{tag}numFmts/{tag}numFmt")
    }
    found = set()
    for i, xf in enumerate(root.iterfind(f"{tag}cellXfs/{tag}xf")):
        fid = xf.get("numFmtId") or "0"
        if fid in custom:
            if is_percent_format(custom[fid]):
                found.add(i)
        elif fid.isdigit() and int(fid) in PERCENT_BUILTIN_FORMATS:
            found.add(i)
    return frozenset(found)


def _percent_cells(buf: bytes, styled: tuple[re.Pattern, re.Pattern, list[bytes]]):
    """The numeric cells of `buf` with a percent style: `row` and `col`,
    0-based, or None. `styled` is (the fast pattern, the general one, the
    styles' ` s="N"` texts): the general pattern is used when the fast one
    finds fewer cells than ` s="N"` occurs (attributes in another order, a
    namespace prefix, or a row's style). The attributes are taken apart by
    Polars, not cell by cell in Python (a sheet may hold millions)."""
    fast, general, marks = styled
    found = fast.findall(buf)
    usual = len(found) >= sum(buf.count(m) for m in marks)
    if not usual:
        found = general.findall(buf)
    if not found:
        return None
    attrs = pl.DataFrame([pl.Series("a", found, dtype=pl.Binary).cast(pl.String, strict=False)])
    if usual:  # ` r="C2" s="3" t="n"`: one anchored pattern
        parts = pl.col("a").str.extract_groups(
            r'^ r="([A-Z]{1,3})([0-9]{1,7})" s="[0-9]+"(?: t="([a-zA-Z]+)")?$'
        )
        split = [parts.struct.field("1").alias("c"), parts.struct.field("2").alias("r")]
        split.append(parts.struct.field("3").alias("t"))
    else:
        ref = pl.col("a").str.extract_groups(r'(?:^|\s)r="([A-Z]{1,3})([0-9]{1,7})"').struct
        split = [ref.field("1").alias("c"), ref.field("2").alias("r")]
        split.append(pl.col("a").str.extract(r'(?:^|\s)t="([a-zA-Z]+)"').alias("t"))
    cells = attrs.select(split).filter(
        # numbers; an empty cell (<c r="C5" s="3"/>) too: a merged range's
        # cells carry its format, and merges fill them with its value
        (pl.col("t").is_null() | (pl.col("t") == "n")) & pl.col("c").is_not_null()
    )
    letters = cells.get_column("c")
    names = letters.unique().to_list()
    index = [col_index(n.encode()) for n in names]
    return pl.DataFrame(
        {
            "row": cells.get_column("r").cast(pl.UInt32) - 1,
            "col": letters.replace_strict(names, index, return_dtype=pl.UInt32),
        }
    )


def percent_cells(zf: zipfile.ZipFile, part: str, percent: frozenset[int]) -> pl.DataFrame | None:
    """The numeric cells of sheet part `part` whose style is one of `percent`
    (`percent_styles`): a frame of `row` and `col` (0-based), or None. A pass
    of its own over the XML, after `scan_sheet` has checked the limits, so
    that it can run while calamine reads the sheet (which releases the GIL)."""
    if not percent:
        return None
    ids = b"|".join(str(i).encode() for i in sorted(percent))
    marks = [b' s="%d"' % i for i in sorted(percent)]
    styled = (re.compile(_STYLED_FAST_RE % ids), re.compile(_STYLED_RE % ids), marks)
    found = [c for buf in _chunks(zf, part) if (c := _percent_cells(buf, styled)) is not None]
    return pl.concat(found) if found else None


def scan_sheet(zf: zipfile.ZipFile, part: str) -> SheetScan:
    """One pass over the sheet part `part` (see `SheetScan`; its `percent`
    is filled by `percent_cells`); `LimitError` when the XML is too large."""
    out = SheetScan()
    extent = _Extent()
    for buf in _chunks(zf, part):
        prefixed = _is_prefixed(buf)
        extent.chunk(buf, prefixed)
        out.max_row, out.max_col = extent.max_row, extent.max_col
        _content(out, buf, prefixed)
    return out


def _is_prefixed(buf: bytes) -> bool:
    """Whether the chunk may hold a tag with a namespace prefix
    (`_PREFIXED_RE`; none without a `:`, found by memchr)."""
    return b":" in buf and _PREFIXED_RE.search(buf) is not None


def _content(out: SheetScan, buf: bytes, prefixed: bool) -> None:
    """Chunk `buf`'s long texts, error values, formulas without a value and
    merged ranges into `out`. Each search runs only where its tag's text is
    in the chunk (a single rare byte first: memchr is quick)."""
    if not out.long_cell and _has_long_text(buf):
        out.long_cell = True
    if _has_error_type(buf) and b't="e"' in buf:
        for m in _ERROR_RE.finditer(buf):
            at = _ref(m[1])
            if at is not None:
                out.errors[at] = html.unescape(m[2].decode("utf-8", "replace"))
    if prefixed or (b"f" in buf and b"<f" in buf):
        for m in _UNCOMPUTED_RE.finditer(buf):
            at = _ref(m[1])
            kind = _TYPE_RE.search(b" " + m[1])
            if at is not None and (kind is None or kind[1] in (b"n", b"b", b"d")):
                formula = html.unescape((m[2] or b"").decode("utf-8", "replace"))
                out.uncomputed[at] = "=" + formula if formula else "="
    if b"g" in buf and b"mergeCell" in buf:
        for m in _MERGE_RE.finditer(buf):
            r1, c1 = int(m[2]) - 1, col_index(m[1])
            r2, c2 = (int(m[4]) - 1, col_index(m[3])) if m[3] else (r1, c1)
            out.merges.append((r1, c1, r2, c2))
            if len(out.merges) > MAX_MERGES:
                raise LimitError("merges")


# --- the extent: where calamine puts each cell -----------------------------
#
# calamine places a cell at its `r` reference, else at the cell after the
# previous one in its row (the first of a row: column A); a row without `r`
# is the one after the previous row (the first: row 1). Only `<c>` and
# `<row>` start tags count (with any namespace prefix; not text, comments or
# CDATA), references in either case and of any length (`AAAA1` is column
# 18,279). Most writers put `r="…"` first in every tag: then one search over
# the chunk finds a cell beyond the extent known so far, or a tag written
# otherwise, which sends the chunk through `_Extent.tokens`, tag by tag.

_REF_RE_ANY = re.compile(rb"([A-Za-z]*)([0-9]*)")
_ATTRS = rb"((?:[^>\"']|\"[^\"]*\"|'[^']*')*)"
# a row's start or end tag (`row` found first: a fast search; what comes
# before it is checked in `_Extent.tokens`); a cell's start tag (any
# namespace prefix), and one without a prefix
_ROW_TAG_RE = re.compile(rb"row(?<=[<:/]row)(?=[\s/>])" + _ATTRS + rb">")
_TAG_HEAD_RE = re.compile(rb"/?(?:[\w.-]+:)?")
_CELL_RE = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])" + _ATTRS + rb">")
_PLAIN_CELL_RE = re.compile(rb"<c(?=[\s/>])")
# text that may be an `r` attribute (`r` found first: a fast search)
_R_HINT_RE = re.compile(rb"r\s*=")
_ATTR_R_RE = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_SKIP_RE = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)
# a second `r` in a tag (`<c r="A1" r="XFD1">`: calamine takes the last)
_SECOND_R = b'" r'
# a reference as the usual writers write it, and what follows it
_CANON = (
    re.compile(rb'r="([A-Z]{1,3}[1-9][0-9]{0,6})"[\s/>]'),
    re.compile(rb'r="([1-9][0-9]{0,6})"[\s/>]'),
)
# a comment or CDATA section (`!` is rare in a sheet: a fast search)
_MARKUP_RE = re.compile(rb"!(?<=<!)")
# a namespace prefix on a cell or row tag (or text that looks like one)
_PREFIXED_RE = re.compile(rb":(?:c|row|f)[\s/>]")


def _at_most(text: str, digits: bool) -> str:
    """A pattern for the column letters (or row digits, never led by 0)
    that come at or before `text`: fewer of them, or as many and not after."""
    lead, every = ("1", "0") if digits else ("A", "A")
    top = "9" if digits else "Z"
    alts = [f"[{lead}-{top}][{every}-{top}]{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    for i, ch in enumerate(text):
        low = lead if i == 0 else every
        if ch > low:
            rest = len(text) - i - 1
            alts.append(
                text[:i]
                + f"[{low}-{chr(ord(ch) - 1)}]"
                + (f"[{every}-{top}]{{{rest}}}" if rest else "")
            )
    alts.append(text)
    return "|".join(alts)


@functools.lru_cache(maxsize=256)
def _beyond(col: int, row: int) -> re.Pattern:
    """The pattern of a cell tag not written `<c r="A1"…` with a reference
    within column `col` and row `row` (0-based): one beyond them, or one
    written otherwise (no `r` first, a lower-case or over-long reference, a
    tab or line break in the tag)."""
    cols = _at_most(_col_name(col), digits=False) if col >= 0 else "(?!)"
    rows = _at_most(str(row + 1), digits=True) if row >= 0 else "(?!)"
    cell = rb'<c(?! r="(?:%s)(?:%s)"[\s/>])[\s/>]' % (cols.encode(), rows.encode())
    return re.compile(cell)


def _col_name(col: int) -> str:
    out = ""
    n = col + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _parse_ref(ref: bytes) -> tuple[int | None, int | None]:
    """(0-based row, 0-based column) of a reference as calamine reads it
    (letters in either case); None for a part it does not have."""
    m = _REF_RE_ANY.match(ref.strip())
    letters, digits = m[1].upper(), m[2]
    return (int(digits) - 1 if digits else None, col_index(letters) if letters else None)


def _last_row(buf: bytes, second_r: bool) -> int | None:
    """The row (0-based) of the chunk's last row tag, -1 without one; None
    when the chunk is not for the quick passes: a second `r` in it
    (`second_r`), a comment or CDATA, or its last row tag written otherwise.
    Rows come in order: the last row is a first guess at the chunk's largest
    (a guess too low costs a search more, never a cell missed); a row tag is
    only counted when it is the last (a row without cells is no cell
    calamine places)."""
    if second_r or (b"!" in buf and _MARKUP_RE.search(buf)):  # `!`: memchr, quick
        return None
    last, last_any = buf.rfind(b'<row r="'), _last_row_tag(buf)
    if last != last_any:
        return None  # the last row tag is written otherwise
    if last < 0:
        return -1
    ref = _CANON[1].match(buf, last + 5)
    return None if ref is None else int(ref[1]) - 1


_T_E = int.from_bytes(b't="e', "little")


def _has_error_type(buf: bytes) -> bool:
    """Whether `t="e` is in `buf` (as four-byte numbers at each of the four
    offsets: twice as quick as the bytes search, whose bytes are all
    frequent in a sheet); `t="e"` is looked for only then."""
    n = len(buf)
    return any(
        bool((np.frombuffer(buf, "<u4", offset=k, count=(n - k) // 4) == _T_E).any())
        for k in range(min(4, n))
    )


def _has_second_r(buf: bytes) -> bool:
    """`_SECOND_R in buf` (`" r`), in arrays: three times as quick as the
    bytes search, as the pattern's bytes are all frequent in a sheet."""
    a = np.frombuffer(buf, np.uint8)
    found = a[:-2] == 0x22  # "
    found &= a[1:-1] == 0x20
    found &= a[2:] == 0x72  # r
    return bool(found.any())


# what may follow `<c` in a cell's start tag; `<c`, ` r="` as numbers
_IS_CELL_NEXT = np.zeros(256, bool)
_IS_CELL_NEXT[list(b" \t\n\r\x0b\x0c/>")] = True
_LT_C = int.from_bytes(b"<c", "little")
_SPACE_R = int.from_bytes(b' r="', "little")
_PAD = bytes(32)


def _cell_refs(buf: bytes) -> tuple[int, int] | None:
    """The largest row and column (0-based, -1 without cells) of the cell
    tags (`<c` and a space, `/` or `>`) of `buf` when every one is written
    `<c r="` with a reference as `_CANON[0]` has it (1 to 3 letters A-Z, 1
    to 7 digits not led by 0, `"`, then a space, `/` or `>`); None when one
    is written otherwise. All the tags at once, in arrays: where they are,
    the 18 bytes from each, and each reference as a number whose order is
    the reference's (its length first, then its bytes)."""
    n = len(buf)
    if n < 16:
        return None  # `_canonical` reads it
    a = np.frombuffer(buf + _PAD, np.uint8)
    even = np.frombuffer(buf, "<u2", count=n // 2)
    odd = np.frombuffer(buf, "<u2", offset=1, count=(n - 1) // 2)
    at = np.concatenate((np.flatnonzero(even == _LT_C) * 2, np.flatnonzero(odd == _LT_C) * 2 + 1))
    tags = np.lib.stride_tricks.sliding_window_view(a, 20)[at]  # a copy, C order
    plain = tags[:, 2:6].copy().view("<u4").ravel() == _SPACE_R
    if not plain.all():
        if _IS_CELL_NEXT[tags[~plain, 2]].any():
            return None  # a cell tag not led by ` r="`
        tags = tags[plain]  # `<col`, `<cfRule`: not cells
    if not len(tags):
        return -1, -1
    ref = tags[:, 6:18]  # the reference, `"` and the byte after, in 12 bytes
    upper = (ref[:, :4] - 65) < 26  # A-Z (bytes wrap below A)
    two = upper[:, 0] & upper[:, 1]
    three = two & upper[:, 2]
    if not upper[:, 0].all() or (three & upper[:, 3]).any():
        return None
    width = 1 + two.astype(np.intp) + three
    # the digits: the first byte that is neither a letter of the column nor a digit ends them
    digit = (ref - 48) < 10
    digit[:, 0] = True
    digit[:, 1] |= two
    digit[:, 2] |= three
    end = np.argmin(digit, axis=1)
    run = end - width
    flat = tags.ravel()  # a byte of `ref` by its place in `tags`
    at = np.arange(6, len(ref) * 20, 20)
    ok = (run >= 1) & (run <= 7) & (flat[at + width] != 48) & (flat[at + end] == 0x22)
    if not (ok & _IS_CELL_NEXT[flat[at + np.minimum(end + 1, 11)]]).all():
        return None
    # as numbers: the length, then the bytes (big-endian, the rest masked off)
    wide = np.zeros((len(ref), 16), np.uint8)
    wide[:, :12] = ref
    high, low = wide.view(">u8").T
    bits = (width * 8).astype(np.uint64)
    digits = (high << bits) | ((low >> np.uint64(1)) >> (np.uint64(63) - bits))
    digits >>= ((8 - run) * 8).astype(np.uint64)
    row = int(np.argmax((run.astype(np.uint64) << np.uint64(56)) | digits))
    letters = high >> ((8 - width) * 8).astype(np.uint64)
    col = int(np.argmax((width.astype(np.uint64) << np.uint64(56)) | letters))
    r = int(bytes(ref[row, width[row] : end[row]]))
    c = col_index(bytes(ref[col, : width[col]]))
    return r - 1, c


def _last_row_tag(buf: bytes) -> int:
    """Where the last `<row` start tag of `buf` is (not `<rowBreaks>`), or -1."""
    at = len(buf)
    while (at := buf.rfind(b"<row", 0, at)) >= 0:
        if buf[at + 4 : at + 5] in (b" ", b"\t", b"\n", b"\r", b"/", b">"):
            return at
    return -1


@dataclass
class _Extent:
    """calamine's place for the next cell (`row`, `col`, 0-based) and the
    largest row and column any cell or row tag reaches."""

    row: int = 0
    col: int = 0
    max_row: int = -1
    max_col: int = -1

    def chunk(self, buf: bytes, prefixed: bool) -> None:
        """The extent after chunk `buf`; `prefixed`: whether it may hold a
        tag with a namespace prefix (`_PREFIXED_RE`)."""
        if not prefixed and (self._vectorized(buf) or self._canonical(buf)):
            return
        self.tokens(buf)

    def _vectorized(self, buf: bytes) -> bool:
        """What `_canonical` gives, with every cell tag read at once in
        arrays (`_cell_refs`) instead of a search from cell to cell; False,
        nothing changed, when a tag is written otherwise (then `_canonical`
        or `tokens` reads the chunk)."""
        guess = _last_row(buf, second_r=_has_second_r(buf))
        if guess is None:
            return False
        refs = _cell_refs(buf)
        if refs is None:
            return False
        self.max_row = max(self.max_row, guess, refs[0])
        self.max_col = max(self.max_col, refs[1])
        self._carry(buf)
        return True

    def _canonical(self, buf: bytes) -> bool:
        """The chunk's extent when every cell and row tag starts with its
        `r` (False, nothing changed, otherwise)."""
        guess = _last_row(buf, second_r=_SECOND_R in buf)
        if guess is None:
            return False
        max_row, max_col = max(self.max_row, guess), self.max_col
        at = 0
        while True:
            m = _beyond(max_col, max_row).search(buf, at)
            if m is None:
                break
            ref = _CANON[0].match(buf, m.start() + 3)
            if ref is None:
                return False  # written otherwise
            r, c = _parse_ref(ref[1])
            max_row, max_col = max(max_row, r), max(max_col, c)
            at = m.start() + 1
        self.max_row, self.max_col = max_row, max_col
        self._carry(buf)
        return True

    def _carry(self, buf: bytes) -> None:
        """Where the next cell goes after a canonical chunk."""
        p, e = buf.rfind(b'<row r="'), buf.rfind(b"</row>")
        if p > e:
            close = buf.index(b">", p)
            r = int(buf[p + 8 : buf.index(b'"', p + 8)]) - 1
            if buf[close - 1 : close] == b"/":
                self.row, self.col = r + 1, 0
                return
            self.row, self.col = r, 0
        elif e >= 0:
            if p >= 0:
                self.row = int(buf[p + 8 : buf.index(b'"', p + 8)])
            else:
                self.row += buf.count(b"</row>")
            self.col = 0
        q = buf.rfind(b'<c r="')
        if q > max(p, e):
            _r, c = _parse_ref(buf[q + 6 : buf.index(b'"', q + 6)])
            self.col = (c or 0) + 1

    def tokens(self, buf: bytes) -> None:
        """The chunk tag by tag, as calamine reads it: row by row, and the
        cells of a row that holds no `r=` at all counted, not read one by one
        (what writers that leave `r` out write)."""
        if b"<!" in buf or b"<?" in buf:
            buf = _SKIP_RE.sub(b"", buf)
        at = 0
        for m in _ROW_TAG_RE.finditer(buf):
            lt = buf.rfind(b"<", at, m.start())
            if lt < 0 or _TAG_HEAD_RE.fullmatch(buf, lt + 1, m.start()) is None:
                continue  # text, or another tag's name ending in `row`
            self._cells(buf[at:lt])
            at = m.end()
            if buf[lt + 1 : lt + 2] == b"/":  # </row>
                self.row, self.col = self.row + 1, 0
                continue
            ref = _last_r(m[1])
            if ref is not None:
                r, _c = _parse_ref(ref)
                if r is not None:
                    self.row = r
            self.col = 0
            self.max_row = max(self.max_row, self.row)
            if m[1].endswith(b"/"):
                self.row += 1
        self._cells(buf[at:])

    def _cells(self, seg: bytes) -> None:
        """The cells of `seg`, a part of one row (or outside any)."""
        if not seg:
            return
        if _R_HINT_RE.search(seg) is None:  # no cell has `r`: they count on
            n = len((_CELL_RE if b":" in seg else _PLAIN_CELL_RE).findall(seg))
            if n:
                self.max_row = max(self.max_row, self.row)
                self.col += n
                self.max_col = max(self.max_col, self.col - 1)
            return
        for m in _CELL_RE.finditer(seg):
            r, c = self.row, self.col
            ref = _last_r(m[1])
            if ref is not None:
                got_r, got_c = _parse_ref(ref)
                r = got_r if got_r is not None else r
                c = got_c if got_c is not None else c
            self.max_row, self.max_col = max(self.max_row, r), max(self.max_col, c)
            self.col = c + 1


def _last_r(attrs: bytes) -> bytes | None:
    """The value of a tag's last `r` attribute (calamine takes the last), or None."""
    refs = _ATTR_R_RE.findall(attrs)
    return (refs[-1][0] or refs[-1][1]) if refs else None


def has_long_strings(zf: zipfile.ZipFile) -> bool:
    """Whether the shared strings hold a text longer than Excel's limit."""
    names = {i.filename for i in zf.infolist()}
    part = next((n for n in ("xl/sharedStrings.xml", "xl/sharedstrings.xml") if n in names), None)
    if part is None:
        return False
    return any(_has_long_text(buf) for buf in _chunks(zf, part))


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
# repeated percentage cells written out at most this many times (a
# formatted block of a whole sheet is not a table of communities)
MAX_ODS_REPEATED = 1_000_000


def ods_percent_cells(zf: zipfile.ZipFile, sheet: str) -> pl.DataFrame | None:
    """The cells of ODS sheet `sheet` whose value type is `percentage` (what
    calamine gives as the bare fraction): `row` and `col`, 0-based, or None.
    Streamed from content.xml; repeated rows and cells are counted, not
    expanded (except percentage cells, up to `MAX_ODS_REPEATED`)."""
    rows: list[int] = []
    cols: list[int] = []
    active, r, c, row_rep = False, 0, 0, 1
    try:
        with zf.open("content.xml") as fh:
            for event, el in ElementTree.iterparse(fh, events=("start", "end")):
                tag = el.tag
                if tag == f"{_ODS_TABLE}table":
                    if event == "start":
                        active = el.get(f"{_ODS_TABLE}name") == sheet
                        r = 0
                    elif active:
                        break
                    continue
                if not active:
                    if event == "end" and tag == f"{_ODS_TABLE}table-row":
                        el.clear()
                    continue
                if tag == f"{_ODS_TABLE}table-row":
                    if event == "start":
                        c, row_rep = 0, int(el.get(f"{_ODS_TABLE}number-rows-repeated") or 1)
                    else:
                        r += row_rep
                        el.clear()
                elif event == "start" and tag in (
                    f"{_ODS_TABLE}table-cell",
                    f"{_ODS_TABLE}covered-table-cell",
                ):
                    rep = int(el.get(f"{_ODS_TABLE}number-columns-repeated") or 1)
                    if el.get(f"{_ODS_OFFICE}value-type") == "percentage":
                        if len(rows) + rep * row_rep > MAX_ODS_REPEATED:
                            break
                        for dr in range(row_rep):
                            rows.extend([r + dr] * rep)
                            cols.extend(range(c, c + rep))
                    c += rep
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None  # calamine says what is wrong with the file
    if not rows:
        return None
    return pl.DataFrame(
        {"row": pl.Series(rows, dtype=pl.UInt32), "col": pl.Series(cols, dtype=pl.UInt32)}
    )
