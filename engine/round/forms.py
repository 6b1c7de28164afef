"""The forms of a round: one collection workbook per unit (a district, a
street or a community), built from the model's template
(`report.template.build_workbook`) with the unit's communities pre-filled,
and stamped so that a return is recognised.

- 数据: the unit's communities in the first rows, their id and names
  (社区编码, 区, 街道, 社区) in locked grey cells; the sheet is protected, its
  input cells (and 网格) in those rows unlocked, with the template's
  validation and number formats.
- 填表说明: the template's instructions, and a line naming the unit.
- `_zhili_form` (very hidden): the model id, version and content hash, the
  level and unit, and the pre-filled rows (row, id, names), read back by
  `returns.read_stamp`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from zhili.dsl.model import Model
from zhili.engine.io.atomic import atomic_write
from zhili.engine.report import safe
from zhili.engine.report.template import HIERARCHY_HEADERS, build_workbook
from zhili.engine.round.roster import Community, Roster

FORMAT = "zhili-form"
FORMAT_VERSION = "1"
META_SHEET = "_zhili_form"
DATA_SHEET = "数据"
META_TABLE = ["行", "社区编码", "区", "街道", "社区"]  # the header of the pre-filled rows
FIRST_ROW = 2  # the first data row of 数据 (row 1 is the header)
PREFILLED_COLUMNS = 4  # 社区编码, 区, 街道, 社区: pre-filled and locked
LOCKED_FILL = "EDEDED"
MAX_NAME = 80  # characters of a file name before `.xlsx`
_SOURCE_NOTE = re.compile(r'(?<![\w"])(?:source|note)\s+"[^"]*"')
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class Form:
    """One unit's workbook: where it was written and what it holds."""

    path: Path
    unit: tuple[str, ...]
    communities: list[Community]


def unit_title(unit: tuple[str, ...], by: str) -> str:
    """A unit as people name it: `金台区 东风路街道`."""
    parts = unit[:3] if by == "社区" else unit
    return " ".join(parts)


def file_name(unit: tuple[str, ...], by: str) -> str:
    """A file name for a unit's workbook, safe on Windows and Unix:
    `金台区-东风路街道` (a community's also carries its id)."""
    parts = (unit[3], *unit[:3]) if by == "社区" else unit
    text = "-".join(unicodedata.normalize("NFKC", p) for p in parts)
    text = _UNSAFE.sub("_", text).strip(" .")
    return (text[:MAX_NAME] or "unit").rstrip(" .")


def _unique(names: list[str]) -> list[str]:
    """`names` made unique ignoring case (a second `x` becomes `x-2`)."""
    seen: set[str] = set()
    out = []
    for n in names:
        candidate, k = n, 1
        while candidate.lower() in seen:
            k += 1
            candidate = f"{n}-{k}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def write_forms(model: Model, roster: Roster, by: str, folder: Path) -> list[Form]:
    """Write one workbook per unit of `roster` at level `by` into `folder`
    (created if needed), each atomically; the forms, in roster order."""
    units = roster.units(by)
    names = _unique([file_name(u, by) for u in units])
    folder.mkdir(parents=True, exist_ok=True)
    builder = FormBuilder(model, by)
    forms = []
    for (unit, communities), name in zip(units.items(), names, strict=True):
        path = folder / f"{name}.xlsx"
        builder.write(path, unit, communities)
        forms.append(Form(path, unit, communities))
    return forms


def form_workbook(model: Model, by: str, unit: tuple[str, ...], communities: list[Community]):
    """The workbook of one unit (see the module docstring), not yet saved."""
    return FormBuilder(model, by).fill(unit, communities)


class FormBuilder:
    """The template of `model` built once, filled for one unit after another
    (building it is a third of the time a form takes)."""

    def __init__(self, model: Model, by: str):
        self.model, self.by = model, by
        self.wb = build_workbook(model)
        # the template's formatted empty rows: a form's rows below its
        # communities are locked (nothing can be typed there), and each of
        # them would be written, read and copied back with every form (most
        # of the time of a round); the columns keep their formats
        data = self.wb[DATA_SHEET]
        data.delete_rows(FIRST_ROW, data.max_row)
        info = self.wb["填表说明"]
        _indicators(info, model)
        safe.append_row(info, [])
        safe.append_row(info, [""])
        self._unit_cell = info.cell(row=info.max_row, column=1)
        self._filled = 0
        self._skeleton: Skeleton | None = None

    def fill(self, unit: tuple[str, ...], communities: list[Community]):
        """The workbook, holding `unit`'s communities (and nothing of the unit before)."""
        ws = self.wb[DATA_SHEET]
        if self._filled:
            ws.delete_rows(FIRST_ROW, self._filled)
        if META_SHEET in self.wb.sheetnames:
            self.wb.remove(self.wb[META_SHEET])
        _prefill(ws, self.model, communities)
        self._filled = len(communities)
        safe.set_cell(self._unit_cell, _unit_note(unit_title(unit, self.by)))
        _stamp(self.wb.create_sheet(META_SHEET), self.model, self.by, unit, communities)
        return self.wb

    def write(self, path: Path, unit: tuple[str, ...], communities: list[Community]) -> None:
        """Write the workbook of `unit` to `path`, atomically: the parts of a
        form filled once by openpyxl (`fill`) with a placeholder community,
        the unit's rows written into its sheet XML (`Skeleton`): openpyxl's
        writer took 150-250 ms a form, most of a round's forms' time."""
        if self._skeleton is None:
            self._skeleton = Skeleton(self)
        data = self._skeleton.render(unit, communities)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


_PLACEHOLDER = "zhili-placeholder-"
_WB_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL = re.compile(r'<c r="([A-Z]+)2"(?: s="(\d+)")?')
_DIMENSION = re.compile(r'<dimension ref="[^"]*" ?/>')


def _xml_text(value: str) -> str:
    """A text cell's `<is>` content, inert (`safe.xlsx_text`) and escaped."""
    from xml.sax.saxutils import escape

    text = escape(safe.xlsx_text(value))
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f"<is><t{space}>{text}</t></is>"


def _sheet_members(zf) -> dict[str, str]:
    """Sheet name → its zip member, from the workbook's parts."""
    from xml.etree import ElementTree

    wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in wb.iter(f"{_WB_NS}sheet"):
        target = targets[sheet.get(f"{_REL_NS}id")]
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


class Skeleton:
    """A form saved once by openpyxl for a placeholder community, and its
    three unit-specific sheet parts split where a unit's rows go: the rows of
    数据 (the placeholder's row gives each column's style), the unit line of
    填表说明 and the stamp's rows. Every other part is copied as it is."""

    def __init__(self, builder: FormBuilder):
        import io
        import zipfile

        self.builder = builder
        p = _PLACEHOLDER
        self.placeholder = Community(f"{p}id", f"{p}district", f"{p}street", f"{p}name")
        unit = self.placeholder.unit(builder.by)
        buf = io.BytesIO()
        builder.fill(unit, [self.placeholder]).save(buf)
        with zipfile.ZipFile(buf) as zf:
            self.members = [(info, zf.read(info.filename)) for info in zf.infolist()]
            sheets = _sheet_members(zf)
        self.data_part, self.info_part = sheets[DATA_SHEET], sheets["填表说明"]
        self.stamp_part = sheets[META_SHEET]
        parts = {info.filename: data.decode("utf-8") for info, data in self.members}
        head, rows = parts[self.data_part].split("<sheetData>", 1)
        rows, self.data_tail = rows.split("</sheetData>", 1)
        at = rows.index('<row r="2"')
        self.data_head, self.header_row = head, rows[:at]
        # (column letter, ` s="N"` or "") of each cell of a pre-filled row
        self.styles = [(col, f' s="{n}"' if n else "") for col, n in _CELL.findall(rows[at:])]
        note = _xml_text(_unit_note(unit_title(unit, builder.by)))
        self.info = parts[self.info_part].split(note)
        if len(self.info) != 2 or len(self.styles) < PREFILLED_COLUMNS:
            raise RuntimeError("the form's template does not have the expected layout")
        head, rest = parts[self.stamp_part].split("<sheetData>", 1)
        self.stamp_head, self.stamp_tail = head, rest.split("</sheetData>", 1)[1]

    def _rows(self, communities: list[Community]) -> str:
        out = [self.header_row]
        fixed, rest = self.styles[:PREFILLED_COLUMNS], self.styles[PREFILLED_COLUMNS:]
        for i, c in enumerate(communities):
            r = FIRST_ROW + i
            cells = [
                f'<c r="{col}{r}"{style} t="inlineStr">{_xml_text(v)}</c>'
                for (col, style), v in zip(fixed, (c.id, c.district, c.street, c.name), strict=True)
            ]
            cells += [f'<c r="{col}{r}"{style} t="n"/>' for col, style in rest]
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
        return "".join(out)

    def _stamp(self, unit: tuple[str, ...], communities: list[Community]) -> str:
        rows = stamp_rows(self.builder.model, self.builder.by, unit, communities)
        out = []
        for r, values in enumerate(rows, start=1):
            cells = "".join(
                f'<c r="{"ABCDE"[j]}{r}" t="inlineStr">{_xml_text(v)}</c>'
                for j, v in enumerate(values)
            )
            out.append(f'<row r="{r}">{cells}</row>')
        head = _DIMENSION.sub(f'<dimension ref="A1:E{len(rows)}"/>', self.stamp_head)
        return f"{head}<sheetData>{''.join(out)}</sheetData>{self.stamp_tail}"

    def render(self, unit: tuple[str, ...], communities: list[Community]) -> bytes:
        """The form of `unit` as the bytes of an .xlsx file."""
        import io
        import zipfile

        last = self.styles[-1][0]
        head = _DIMENSION.sub(
            f'<dimension ref="A1:{last}{FIRST_ROW + len(communities) - 1}"/>', self.data_head
        )
        note = _xml_text(_unit_note(unit_title(unit, self.builder.by)))
        changed = {
            self.data_part: f"{head}<sheetData>{self._rows(communities)}</sheetData>"
            + self.data_tail,
            self.info_part: note.join(self.info),
            self.stamp_part: self._stamp(unit, communities),
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in self.members:
                text = changed.get(info.filename)
                zf.writestr(info, data if text is None else text.encode("utf-8"))
        return buf.getvalue()


def _prefill(ws, model: Model, communities: list[Community]) -> None:
    """The communities in the first rows: id and names locked, the rest unlocked."""
    from openpyxl.styles import PatternFill, Protection
    from openpyxl.utils import get_column_letter

    locked_fill = PatternFill("solid", fgColor=LOCKED_FILL)
    unlocked = Protection(locked=False)
    n_fixed = PREFILLED_COLUMNS
    n_cols = len(HIERARCHY_HEADERS) + len(model.inputs)
    formats = {}
    for j in range(n_fixed + 1, n_cols + 1):
        col = ws.column_dimensions[get_column_letter(j)]
        formats[j] = col.number_format if col.number_format != "General" else None
    for i, c in enumerate(communities):
        r = FIRST_ROW + i
        for j, value in enumerate((c.id, c.district, c.street, c.name), start=1):
            cell = ws.cell(row=r, column=j)
            safe.set_cell(cell, value)
            cell.number_format = "@"  # text: 001 stays 001
            cell.fill = locked_fill
        for j in range(n_fixed + 1, n_cols + 1):
            cell = ws.cell(row=r, column=j)
            cell.protection = unlocked
            if formats[j] and cell.number_format == "General":
                cell.number_format = formats[j]
    p = ws.protection
    p.sheet = True
    p.formatColumns = False  # widths and heights may still be changed
    p.formatRows = False
    p.formatCells = False


RULE_CHARS = 300  # of an indicator's rule, as the model writes it


def _indicators(info, model: Model) -> None:
    """The model's indicators at the end of 填表说明: points, dimension, the
    rule as the model file writes it, and the source."""
    from openpyxl.styles import Font

    safe.append_row(info, [])
    safe.append_row(info, ["指标", "分值", "所属维度", "评分规则", "依据", "说明"])
    for cell in info[info.max_row]:
        cell.font = Font(bold=True)
    dims = {d.id: d.label or d.id for d in model.dimensions}
    texts: dict[str, str | None] = {}
    for ind in model.indicators:
        safe.append_row(
            info,
            [
                ind.label or ind.id,
                f"{ind.points:g}",
                dims.get(ind.dimension or "", ""),
                _rule_text(ind.span, texts),
                ind.source or "",
                ind.note or "",
            ],
        )


def _rule_text(span, texts: dict[str, str | None]) -> str:
    """The body of an indicator (between its braces) in its model file, on
    one line; empty when the file cannot be read."""
    if span is None or not span.file:
        return ""
    if span.file not in texts:
        try:
            texts[span.file] = Path(span.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            texts[span.file] = None
    text = texts[span.file]
    if text is None:
        return ""
    body = text[span.start : span.end]
    if "{" in body and body.rstrip().endswith("}"):
        body = body[body.index("{") + 1 : body.rstrip().rindex("}")]
    body = " ".join(_SOURCE_NOTE.sub(" ", body).split())  # both have their own column
    return body if len(body) <= RULE_CHARS else body[: RULE_CHARS - 1] + "…"


def _unit_note(title: str) -> str:
    """The line of 填表说明 that names the unit and the locked cells."""
    return (
        f"填报单位：{title}。社区编码、区、街道、社区已预填并锁定，请勿修改、增删或调换行；"
        "只填写各社区的指标数据。"
    )


def stamp_rows(model: Model, by: str, unit: tuple[str, ...], communities) -> list[list[str]]:
    """The rows of the hidden sheet that names the model and the unit."""
    rows = [
        ["format", FORMAT],
        ["format_version", FORMAT_VERSION],
        ["model", model.id],
        ["version", model.version or ""],
        ["content_hash", model.content_hash],
        ["by", by],
        ["unit", json.dumps(list(unit), ensure_ascii=False)],
        ["rows", str(len(communities))],
        META_TABLE,
    ]
    rows += [
        [str(FIRST_ROW + i), c.id, c.district, c.street, c.name] for i, c in enumerate(communities)
    ]
    return rows


def _stamp(meta, model: Model, by: str, unit: tuple[str, ...], communities) -> None:
    """The hidden sheet that names the model and the unit."""
    meta.sheet_state = "veryHidden"
    for row in stamp_rows(model, by, unit, communities):
        safe.append_row(meta, row)
