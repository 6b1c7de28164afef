"""Data-collection templates: a workbook (or CSV) whose header row is a
model's labels, ready for staff to fill in and hand back to `zhili eval`.

The workbook's first sheet (数据) has the hierarchy columns (社区编码, 区,
街道, 社区, 网格) and one column per input, headed `label（unit）`; each
header cell carries a comment that explains the field (type, unit, range,
required), and the data rows have Excel data validation: dropdowns for
enums and yes/no fields, whole/decimal ranges for numbers, dates. Percent
columns are formatted as percentages (`0.0%`), so a person typing 85 gets
85% (Excel stores 0.85 with the format, which the reader reads as 85%), and
their validation is on that stored value (the input's range, 0.85 for 85%);
the community id column is text, so 001 keeps its zeros. A second
sheet (填表说明) lists every field. The explanations stay out of the data
sheet's rows, so a filled-in template loads with no mapping and no skipped
rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from zhili.dsl import model as ir
from zhili.dsl.i18n import _
from zhili.dsl.model import InputField, Model
from zhili.engine.io.atomic import atomic_write, write_text
from zhili.engine.report import safe

HIERARCHY_HEADERS = ["社区编码", "区", "街道", "社区", "网格"]
TEMPLATE_ROWS = 1000  # rows with data validation
PERCENT_FORMAT = "0.0%"  # what a percent column's cells show: 85 typed is 85.0%
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"  # Excel's text format: an id typed 001 stays 001
TYPE_NAMES = {
    "int": "整数",
    "number": "数值",
    "percent": "百分比",
    "bool": "是/否",
    "enum": "选项",
    "set": "多选",
    "text": "文本",
    "date": "日期",
}


def header(f: InputField) -> str:
    """The column header for an input: its label (or id) and unit."""
    name = f.label or f.id
    unit = f.unit or ("%" if f.type == "percent" else None)
    return f"{name}（{unit}）" if unit else name


def _range(f: InputField) -> str:
    if f.min is None and f.max is None:
        return ""
    if f.type == "percent":
        lo = "" if f.min is None else f"{f.min * 100:g}%"
        hi = "" if f.max is None else f"{f.max * 100:g}%"
    else:
        lo = "" if f.min is None else f"{f.min:g}"
        hi = "" if f.max is None else f"{f.max:g}"
    return f"{lo}..{hi}"


def describe(f: InputField) -> str:
    """One field explained, in Chinese (the template is for district staff)."""
    parts = [f"字段 {f.id}", f"类型：{TYPE_NAMES.get(f.type, f.type)}"]
    if f.unit:
        parts.append(f"单位：{f.unit}")
    if _range(f):
        parts.append(f"范围：{_range(f)}")
    if f.type == "enum":
        parts.append("可选：" + "、".join(f.values))
    if f.type == "set":
        parts.append("可多选：" + "、".join(f.values))
        parts.append("多项用顿号“、”分隔（也可用逗号、分号或换行），一项都没有填“无”，留空为缺失")
        parts.append("本列不设下拉列表：Excel 的数据验证只能单选")
    if f.type == "bool":
        parts.append("填 是 或 否")
    if f.type == "percent":
        parts.append("已设为百分比格式：填 85 即 85%（也可填 85%）")
    if f.type == "date":
        parts.append("格式 2024-06-30")
    parts.append("必填" if f.required else "选填（不适用时留空）")
    if f.previous:
        parts.append(f"上期：填 {f.previous} 的上期数值")
    if f.note:
        parts.append(f.note)
    return "；".join(parts)


def input_sources(model: Model) -> dict[str, tuple[str, str]]:
    """input id → (考核方式, 评分单位): the `method` of the indicators that use
    the input (through definitions and the gate and zero events too) and the body (`score … by`) that
    gives it, each joined with 、; inputs no indicator with either names are
    left out."""
    lets = {d.id: d.expr for d in model.lets}
    out: dict[str, tuple[list[str], list[str]]] = {}
    for ind in model.indicators:
        by = ind.scoring.by if isinstance(ind.scoring, ir.Score) else None
        if not ind.method and not by:
            continue
        scored = ind.scoring.value
        direct = {n.name for n in ir.walk(scored) if isinstance(n, ir.Ref) and n.scope == "input"}
        events = [e.condition for e in (ind.requires, *ind.zero) if e is not None]
        for fid in _inputs_used(ind.scoring.exprs() + events, lets):
            methods, bodies = out.setdefault(fid, ([], []))
            if ind.method and ind.method not in methods:
                methods.append(ind.method)
            if by and fid in direct and by not in bodies:
                bodies.append(by)
    return {k: ("、".join(m), "、".join(b)) for k, (m, b) in out.items()}


def _inputs_used(exprs: list[ir.Expr], lets: dict[str, ir.Expr]) -> list[str]:
    seen: list[str] = []
    stack = list(exprs)
    done: set[str] = set()
    while stack:
        for node in ir.walk(stack.pop()):
            if not isinstance(node, ir.Ref) or node.name in done:
                continue
            done.add(node.name)
            if node.scope == "input":
                seen.append(node.name)
            elif node.scope == "let" and node.name in lets:
                stack.append(lets[node.name])
    return seen


def _source_note(sources: dict[str, tuple[str, str]], f: InputField) -> str:
    """The header comment's line on who fills the column in, or ""."""
    method, by = sources.get(f.id, ("", ""))
    parts = []
    if by:
        parts.append(f"由{by}评分（填写其评定的分数）")
    if method:
        parts.append(f"考核方式：{method}")
    return "；".join(parts)


def write_template(model: Model, path: Path) -> None:
    """Write the template for `model` to `path` (.xlsx or .csv), atomically."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(HIERARCHY_HEADERS + [header(f) for f in model.inputs])
        write_text(path, buf.getvalue(), encoding="utf-8-sig")
    elif suffix in (".xlsx", ".xlsm"):
        atomic_write(path, lambda tmp: _workbook(model).save(tmp))
    else:
        raise ValueError(
            _("unsupported template format {suffix} (use .xlsx or .csv)").format(
                suffix=suffix or "(none)"
            )
        )


HIERARCHY_NOTES = {
    "社区编码": "社区的唯一编码（不可重复）；必填",
    "区": "所属区（县）",
    "街道": "所属街道（乡镇）",
    "社区": "社区名称",
    "网格": "所属网格（可选）",
}


def build_workbook(model: Model):
    """The template workbook for `model` (sheets 数据 and 填表说明), not yet
    saved: an assessment round's forms (`engine.round.forms`) pre-fill and
    stamp it."""
    return _workbook(model)


def _workbook(model: Model):
    from openpyxl import Workbook

    wb = Workbook()
    _data_sheet(wb.active, model)
    _instructions_sheet(wb.create_sheet("填表说明"), model)
    return wb


def _data_sheet(ws, model: Model) -> None:
    """数据: the header row (a comment on every cell) and data validation on
    the rows below."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ws.title = "数据"
    hier_fill = PatternFill("solid", fgColor="DDEBF7")
    headers = HIERARCHY_HEADERS + [header(f) for f in model.inputs]
    safe.append_row(ws, headers)
    for j, h in enumerate(HIERARCHY_HEADERS, start=1):
        c = ws.cell(row=1, column=j)
        c.font = Font(bold=True)
        c.fill = hier_fill
        c.comment = Comment(HIERARCHY_NOTES[h], "zhili")
        ws.column_dimensions[get_column_letter(j)].width = 14
    validations: dict[tuple, DataValidation] = {}

    def validation(key: tuple, **kw) -> DataValidation:
        # one rule per distinct check, shared by the columns that need it
        dv = validations.get(key)
        if dv is None:
            dv = validations[key] = DataValidation(allow_blank=True, **kw)
            ws.add_data_validation(dv)
        return dv

    sources = input_sources(model)
    for k, f in enumerate(model.inputs):
        j = len(HIERARCHY_HEADERS) + k + 1
        _input_column(ws, f, j, headers[j - 1], validation, _source_note(sources, f))
    _format_cells(ws, 1, TEXT_FORMAT)  # 社区编码
    ws.freeze_panes = "E2"
    ws.row_dimensions[1].height = 36


def _input_column(ws, f: InputField, j: int, title: str, validation, note: str = "") -> None:
    """The header cell of input `f` (column `j`) and the validation of its cells."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    col = get_column_letter(j)
    c = ws.cell(row=1, column=j)
    c.font = Font(bold=True)
    c.fill = PatternFill("solid", fgColor="FFF2CC" if f.required else "E2EFDA")
    c.alignment = Alignment(wrap_text=True, vertical="center")
    comment = Comment(describe(f) + ("；" + note if note else ""), "zhili")
    comment.width, comment.height = 260, 120
    c.comment = comment
    ws.column_dimensions[col].width = max(12, min(30, len(title) * 2 + 2))
    fmt = {"percent": PERCENT_FORMAT, "date": DATE_FORMAT}.get(f.type)
    if fmt is not None:
        _format_cells(ws, j, fmt)
    dv = _validation(f, col, title, validation)
    if dv is not None:
        dv.add(f"{col}2:{col}{TEMPLATE_ROWS + 1}")
        if f.type in ("bool", "enum"):
            dv.error = f"{title}：" + ("是 / 否" if f.type == "bool" else "、".join(f.values))
            dv.errorTitle = "请从列表中选择"
            dv.showErrorMessage = True


def _format_cells(ws, j: int, fmt: str) -> None:
    """Column `j`'s number format: on the column (what Excel gives a cell typed
    below the template's rows) and on each of the template's data cells."""
    from openpyxl.utils import get_column_letter

    ws.column_dimensions[get_column_letter(j)].number_format = fmt
    for r in range(2, TEMPLATE_ROWS + 2):
        ws.cell(row=r, column=j).number_format = fmt


def _validation(f: InputField, col: str, title: str, validation):
    """The data validation input `f`'s cells need, or None (free text, or a
    number without a range)."""
    if f.type == "bool":
        return validation(("bool",), type="list", formula1='"是,否"')
    if f.type == "enum" and f.values:
        listed = ",".join(v.replace('"', "") for v in f.values)
        if len(listed) <= 250:  # Excel's limit for an inline list
            return validation(("enum", listed), type="list", formula1=f'"{listed}"')
        return None
    if f.type in ("int", "number", "percent"):
        kind = "whole" if f.type == "int" else "decimal"
        lo, hi = f.min, f.max
        if lo is None and hi is None:
            return None
        lo = -1e15 if lo is None else lo
        hi = 1e15 if hi is None else hi
        dv = validation(
            (kind, lo, hi, col),
            type=kind,
            operator="between",
            formula1=f"{lo:g}" if kind == "decimal" else str(int(lo)),
            formula2=f"{hi:g}" if kind == "decimal" else str(int(hi)),
        )
        dv.error = f"{title}：{_range(f)}"
        dv.errorTitle = "超出范围"
        dv.showErrorMessage = True
        return dv
    if f.type == "date":
        return validation(("date",), type="date", operator="greaterThan", formula1="1")
    return None


def _instructions_sheet(info, model: Model) -> None:
    """填表说明: how to fill in the data sheet, and every field explained."""
    from openpyxl.styles import Font

    safe.append_row(info, [model.title or model.id])
    safe.append_row(info, [f"模型 {model.id} {model.version or ''}".strip()])
    safe.append_row(
        info,
        [
            "在“数据”表中每行填写一个社区；列名不要修改。黄色为必填，绿色为选填，"
            "选填项不适用时留空。百分比列已设为百分比格式，填 85 即 85%（也可填 85%）；"
            "是/否字段填 是 或 否。"
        ],
    )
    safe.append_row(info, [])
    sources = input_sources(model)
    more = ["考核方式", "评分单位"] if sources else []  # only when the model names them
    safe.append_row(info, ["列名", "字段", "类型", "单位", "范围", "可选值", "必填", "说明", *more])
    for cell in info[5]:
        cell.font = Font(bold=True)
    for h in HIERARCHY_HEADERS:
        safe.append_row(
            info, [h, "", "文本", "", "", "", "是" if h == "社区编码" else "", HIERARCHY_NOTES[h]]
        )
    for f in model.inputs:
        safe.append_row(
            info,
            [
                header(f),
                f.id,
                TYPE_NAMES.get(f.type, f.type),
                f.unit or "",
                _range(f),
                "、".join(f.values)
                if f.type in ("enum", "set")
                else ("是、否" if f.type == "bool" else ""),
                "是" if f.required else "否",
                _explained(f),
                *(list(sources.get(f.id, ("", ""))) if more else []),
            ],
        )
    for col, width in zip("ABCDEFGHIJ", (28, 24, 8, 8, 14, 30, 6, 40, 16, 16), strict=True):
        info.column_dimensions[col].width = width


def _explained(f: InputField) -> str:
    """The 说明 of an input in 填表说明: its note, and 上期 for last period's value."""
    if f.previous is None:
        return f.note or ""
    return "；".join(x for x in (f"上期：{f.previous} 的上期数值", f.note) if x)
