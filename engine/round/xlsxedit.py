"""A copy of a workbook with cells filled and commented and a sheet added,
made by editing its parts (the sheet's XML, the styles, the comments and
their VML shapes, the workbook's sheet list) and copying every other part
as it is. openpyxl would load and write the whole workbook back (the
feedback of a round: 150-300 ms a return, most of the time of `feedback`).

A workbook whose parts are not laid out as this edit expects (a sheet
without comments, a cell the sheet does not hold, styles it cannot read,
names local to a sheet) raises `NotEditable`: the caller then does it with
openpyxl. Every text written is inert (`report.safe.xlsx_text`, escaped,
inline strings: never a formula).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from zhili.engine.report import safe

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
MAX_PART = 32 * 1024 * 1024  # a part larger than this is not edited here


class NotEditable(Exception):
    """The workbook is not one this edit takes (use openpyxl)."""


def col_letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _target(base: str, target: str) -> str:
    """A relationship's target as a zip member name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_name(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _inline(value: str) -> str:
    text = escape(safe.xlsx_text(value))
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f"<is><t{space}>{text}</t></is>"


class Book:
    """A workbook at `path` and its sheet `sheet`, to be marked and saved as bytes."""

    def __init__(self, path, sheet: str):
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
                if any(i.file_size > MAX_PART for i in infos):
                    raise NotEditable("a part too large")
                self.members = [(i, zf.read(i.filename)) for i in infos]
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise NotEditable(str(exc)) from exc
        self.parts = {i.filename: data for i, data in self.members}
        self.changed: dict[str, str] = {}
        self.added: list[tuple[str, str]] = []
        self._styles: dict[tuple[int, str], int] = {}
        try:
            self._read(sheet)
        except (KeyError, ValueError, ElementTree.ParseError) as exc:
            raise NotEditable(str(exc)) from exc

    def _text(self, name: str) -> str:
        if name in self.changed:
            return self.changed[name]
        return self.parts[name].decode("utf-8")

    def _read(self, sheet: str) -> None:
        wb = ElementTree.fromstring(self.parts["xl/workbook.xml"])
        rels = ElementTree.fromstring(self.parts["xl/_rels/workbook.xml.rels"])
        by_id = {r.get("Id"): r for r in rels.iter(f"{_PKG}Relationship")}
        self.sheets = {
            s.get("name"): _target("xl/workbook.xml", by_id[s.get(f"{_REL}id")].get("Target", ""))
            for s in wb.iter(f"{_NS}sheet")
        }
        strings = [
            _target("xl/workbook.xml", r.get("Target", ""))
            for r in by_id.values()
            if r.get("Type") == _REL_TYPE + "sharedStrings"
        ]
        self.part = self.sheets[sheet]
        sheet_rels = ElementTree.fromstring(self.parts[_rels_name(self.part)])
        found = {
            r.get("Type", "").rsplit("/", 1)[-1]: _target(self.part, r.get("Target", ""))
            for r in sheet_rels.iter(f"{_PKG}Relationship")
        }
        self.comments_part, self.vml_part = found["comments"], found["vmlDrawing"]
        self.cells = self._cells(strings[0] if strings else None)
        self.headers = {
            text: col for (row, col), text in self.cells.items() if row == 1 and text != ""
        }

    def _cells(self, strings_part: str | None) -> dict[tuple[int, int], str]:
        strings: list[str] = []
        if strings_part is not None and strings_part in self.parts:
            root = ElementTree.fromstring(self.parts[strings_part])
            strings = [
                "".join(t.text or "" for t in si.iter(f"{_NS}t")) for si in root.iter(f"{_NS}si")
            ]
        out = {}
        for c in ElementTree.fromstring(self.parts[self.part]).iter(f"{_NS}c"):
            m = re.fullmatch(r"([A-Z]+)(\d+)", c.get("r", ""))
            if m is None:
                raise NotEditable("a cell without its reference")
            kind, v = c.get("t"), c.find(f"{_NS}v")
            if kind == "s" and v is not None:
                text = strings[int(v.text or "0")]
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{_NS}t"))
            else:
                text = "" if v is None or v.text is None else v.text
            out[(int(m.group(2)), _col_number(m.group(1)))] = text
        return out

    def text(self, row: int, col: int) -> str:
        """A cell's text ("" when empty)."""
        return self.cells.get((row, col), "")

    def has_comments(self, min_row: int) -> bool:
        """Whether a comment is on a row at or below `min_row`."""
        refs = re.findall(r'<comment\b[^>]*?\bref="[A-Z]+(\d+)"', self._text(self.comments_part))
        return any(int(r) >= min_row for r in refs)

    # ------------------------------------------------------------ marks

    def mark(self, row: int, col: int, rgb: str) -> None:
        """Fill cell (row, col) with the solid colour `rgb` (its other format kept)."""
        xml = self._text(self.part)
        ref = f"{col_letters(col)}{row}"
        m = re.search(rf'<c r="{ref}"(?=[\s/>])([^>]*?)(/?)>', xml)
        if m is None:
            raise NotEditable(f"no cell {ref}")
        attrs = m.group(1)
        s = re.search(r'\bs="(\d+)"', attrs)
        style = self._filled_style(int(s.group(1)) if s else 0, rgb)
        attrs = (
            attrs[: s.start()] + f's="{style}"' + attrs[s.end() :] if s else f' s="{style}"' + attrs
        )
        self.changed[self.part] = (
            xml[: m.start()] + f'<c r="{ref}"{attrs}{m.group(2)}>' + xml[m.end() :]
        )

    def _filled_style(self, style: int, rgb: str) -> int:
        """The index of a cell format like `style` with the fill `rgb` (added once)."""
        cache = self._styles
        if (style, rgb) in cache:
            return cache[(style, rgb)]
        xml = self._text("xl/styles.xml")
        fills = re.search(r'<fills count="\d+">(.*?)</fills>', xml, re.S)
        xfs = re.search(r'<cellXfs count="\d+">(.*?)</cellXfs>', xml, re.S)
        if fills is None or xfs is None:
            raise NotEditable("styles")
        n_fills = len(re.findall(r"<fill[\s>/]", fills.group(1)))
        formats = re.findall(r"<xf\b[^>]*/>|<xf\b[^>]*>.*?</xf>", xfs.group(1), re.S)
        if style >= len(formats):
            raise NotEditable("a style the styles do not hold")
        xf = re.sub(r'\s(?:fillId|applyFill)="[^"]*"', "", formats[style])
        xf = re.sub(r"^<xf\b", f'<xf fillId="{n_fills}" applyFill="1"', xf)
        fill = (
            f'<fill><patternFill patternType="solid"><fgColor rgb="00{rgb}"/></patternFill></fill>'
        )
        xml = (
            xml[: fills.start()]
            + f'<fills count="{n_fills + 1}">{fills.group(1)}{fill}</fills>'
            + xml[fills.end() : xfs.start()]
            + f'<cellXfs count="{len(formats) + 1}">{xfs.group(1)}{xf}</cellXfs>'
            + xml[xfs.end() :]
        )
        self.changed["xl/styles.xml"] = xml
        cache[(style, rgb)] = len(formats)
        return len(formats)

    def comment(self, row: int, col: int, text: str, author: str) -> None:
        """A comment on cell (row, col), and the VML shape Excel shows it with."""
        xml = self._text(self.comments_part)
        authors = re.findall(r"<author>(.*?)</author>", xml, re.S)
        if escape(author) in authors:
            k = authors.index(escape(author))
        else:
            if "</authors>" not in xml:
                raise NotEditable("comments without authors")
            k = len(authors)
            xml = xml.replace("</authors>", f"<author>{escape(author)}</author></authors>", 1)
        if "</commentList>" not in xml:
            raise NotEditable("comments without a list")
        ref = f"{col_letters(col)}{row}"
        body = escape(safe.xlsx_text(text))
        new = f'<comment ref="{ref}" authorId="{k}"><text><t xml:space="preserve">{body}</t></text></comment>'
        self.changed[self.comments_part] = xml.replace("</commentList>", new + "</commentList>", 1)
        self._shape(row, col)

    def _shape(self, row: int, col: int) -> None:
        vml = self._text(self.vml_part)
        m = re.search(r"<(\w+):shape\b[^>]*>.*?</\1:shape>", vml, re.S)
        if m is None or not vml.rstrip().endswith("</xml>"):
            raise NotEditable("comments without shapes")
        ids = [int(x) for x in re.findall(r'id="_x0000_s(\d+)"', vml)]
        shape = re.sub(r'\bid="[^"]*"', f'id="_x0000_s{max(ids, default=1024) + 1}"', m.group(0))
        shape = re.sub(r"(<(\w+):Row>)\d+(</\2:Row>)", rf"\g<1>{row - 1}\g<3>", shape)
        shape = re.sub(r"(<(\w+):Column>)\d+(</\2:Column>)", rf"\g<1>{col - 1}\g<3>", shape)
        shape = re.sub(r"width:[^;\"']*;height:[^;\"']*", "width:320px;height:140px", shape)
        # the box's place is Excel's to choose by the cell (as openpyxl's shapes leave it)
        shape = re.sub(r"<(\w+):Anchor>.*?</\1:Anchor>", "", shape, flags=re.S)
        at = vml.rstrip().rindex("</xml>")
        self.changed[self.vml_part] = vml[:at] + shape + vml[at:]

    # ------------------------------------------------------------ a new sheet

    def add_sheet(self, name: str, rows: list[list], widths, position: int) -> None:
        """A sheet `name` holding `rows` (text and numbers), at `position` in the tabs."""
        wb = self._text("xl/workbook.xml")
        if "localSheetId" in wb:
            raise NotEditable("names local to a sheet")
        sheets = list(re.finditer(r"<sheet\b[^>]*/>", wb))
        prefix = re.search(r"\s(\w+):id=", sheets[0].group(0)) if sheets else None
        if prefix is None or position > len(sheets):
            raise NotEditable("the sheet list")
        ids = [int(x) for x in re.findall(r'sheetId="(\d+)"', wb)]
        part, rid = "xl/worksheets/zhili_sheet1.xml", "rIdZhili1"
        while part in self.parts:
            part = part.replace(".xml", "x.xml")
        element = (
            f'<sheet name={quoteattr(name)} sheetId="{max(ids, default=0) + 1}" '
            f'{prefix.group(1)}:id="{rid}"/>'
        )
        at = sheets[position - 1].end()
        wb = wb[:at] + element + wb[at:]
        wb = re.sub(
            r'activeTab="(\d+)"',
            lambda m: f'activeTab="{int(m.group(1)) + (int(m.group(1)) >= position)}"',
            wb,
        )
        self.changed["xl/workbook.xml"] = wb
        rels = self._text("xl/_rels/workbook.xml.rels")
        rel = f'<Relationship Id="{rid}" Type="{_REL_TYPE}worksheet" Target="/{part}"/>'
        self.changed["xl/_rels/workbook.xml.rels"] = rels.replace(
            "</Relationships>", rel + "</Relationships>", 1
        )
        types = self._text("[Content_Types].xml")
        override = f'<Override PartName="/{part}" ContentType="{_SHEET_TYPE}"/>'
        self.changed["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>", 1)
        self.added.append((part, _sheet_xml(rows, widths)))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in self.members:
                text = self.changed.get(info.filename)
                zf.writestr(info, data if text is None else text.encode("utf-8"))
            for part, text in self.added:
                zf.writestr(part, text.encode("utf-8"))
        return buf.getvalue()


def _sheet_xml(rows: list[list], widths) -> str:
    """A worksheet's XML: `rows` from A1, text as inline strings, the column widths."""
    cols = "".join(
        f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
        for j, w in enumerate(widths, start=1)
    )
    out = []
    for r, values in enumerate(rows, start=1):
        cells = []
        for j, v in enumerate(values, start=1):
            ref = f"{col_letters(j)}{r}"
            if isinstance(v, bool) or v is None or v == "":
                continue
            if isinstance(v, (int, float)):
                cells.append(f'<c r="{ref}" t="n"><v>{v}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr">{_inline(str(v))}</c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<cols>{cols}</cols><sheetData>{''.join(out)}</sheetData></worksheet>"
    )
