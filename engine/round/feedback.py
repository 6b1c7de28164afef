"""Feedback for a round (退回修改): for every return with problems, a copy of
the workbook with each problem cell filled and commented (the problem in
Chinese, and what the field takes), and a 问题清单 sheet; and one summary
workbook (汇总) listing which unit must correct what, which units have not
submitted, and the returns without problems (无问题). Every file is written
atomically and every text cell inert (`report.safe`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from zhili.dsl import codes
from zhili.dsl.model import Model
from zhili.engine.io.atomic import atomic_write
from zhili.engine.io.table import DataProblem
from zhili.engine.report import safe
from zhili.engine.report.template import describe, header
from zhili.engine.round import forms
from zhili.engine.round.returns import RoundData
from zhili.engine.round.roster import id_norm

SUMMARY_NAME = "汇总.xlsx"
LIST_SHEET = "问题清单"
SEVERITY_WORDS = {"error": "错误", "warning": "警告", "info": "提示"}
ERROR_FILL, WARNING_FILL = "FFC7CE", "FFEB9C"
LIST_HEADERS = ["行", "列", "社区编码", "社区", "级别", "问题", "原值"]


@dataclass
class Feedback:
    """What `write_feedback` wrote."""

    copies: list[Path] = field(default_factory=list)  # the commented returns
    clean: list[Path] = field(default_factory=list)  # returns without problems
    summary: Path | None = None
    missing_units: list[str] = field(default_factory=list)  # units that sent nothing


def _shown(problems: list[DataProblem]) -> list[DataProblem]:
    return [p for p in problems if p.severity != "info"]


def write_feedback(rd: RoundData, model: Model, out: Path, by: str | None = None) -> Feedback:
    """Write the feedback of `rd` into the folder `out` (created if needed).
    `by` is the level of the units (default: the level of the returns, else 街道)."""
    out.mkdir(parents=True, exist_ok=True)
    by = by or next((r.stamp.by for r in rd.returns), "街道")
    per_file: dict[str, list[DataProblem]] = defaultdict(list)
    for p in _shown(rd.problems):
        per_file[p.file].append(p)
    result = Feedback()
    fields = {header(f): f for f in model.inputs}
    names = _names(rd)
    for r in rd.returns:
        problems = per_file.get(str(r.path), [])
        if not problems:
            result.clean.append(r.path)
            continue
        target = out / r.path.name
        stamped = {row: values[3] for row, values in r.stamp.rows.items()}
        _annotate(
            r.path,
            target,
            problems,
            fields,
            lambda row, cid, stamped=stamped: stamped.get(row) or names.get(id_norm(cid), ""),
        )
        result.copies.append(target)
    returned = {r.stamp.unit for r in rd.returns if r.stamp.by == by}
    missing = [u for u in rd.roster.units(by) if u not in returned]
    result.missing_units = [forms.unit_title(u, by) for u in missing]
    result.summary = out / SUMMARY_NAME
    _summary(rd, per_file, result)
    return result


def _names(rd: RoundData) -> dict[str, str]:
    """Community name by id (normal form), from the roster."""
    return {id_norm(c.id): c.name for c in rd.roster.communities}


def comment_text(problems: list[DataProblem], fields: dict) -> str:
    lines = [f"【{SEVERITY_WORDS.get(p.severity, p.severity)}】{p.message}" for p in problems]
    column = problems[0].column
    f = fields.get(column) if column else None
    if f is not None:
        lines.append("填写要求：" + describe(f))
    return safe.xlsx_text("\n".join(lines))


def problem_cells(problems, columns: dict[str, int]) -> dict[tuple[int, int], list[DataProblem]]:
    """The problems by the (row, column) of the cell they mark: a problem of
    no row on the header, of no known column on the 社区编码 cell."""
    cells: dict[tuple[int, int], list[DataProblem]] = defaultdict(list)
    for p in problems:
        row = p.row if p.row is not None else 1
        cells[(row, columns.get(p.column or "", 1))].append(p)
    return dict(sorted(cells.items()))


def list_rows(cells, id_of, name_of) -> list[list]:
    """The 问题清单 sheet's rows (below `LIST_HEADERS`); `id_of(row)` is the
    社区编码 cell's text of a row."""
    out = []
    for (row, _col), found in cells.items():
        cid = id_of(row) if row > 1 else ""
        for p in found:
            out.append(
                [
                    row if p.row is not None else "",
                    p.column or "",
                    cid,
                    name_of(row, cid),
                    SEVERITY_WORDS.get(p.severity, p.severity),
                    p.message,
                    "" if p.raw is None else str(p.raw),
                ]
            )
    return out


LIST_WIDTHS = (6, 22, 14, 14, 6, 60, 20)


def _annotate(source: Path, target: Path, problems, fields: dict, name_of) -> None:
    """`source` with every problem cell filled and commented, and a 问题清单
    sheet: the return's parts edited (`xlsxedit`), or, for a workbook that
    edit does not take (one with feedback already, say), through openpyxl."""
    from zhili.engine.round import xlsxedit

    try:
        book = xlsxedit.Book(source, forms.DATA_SHEET)
        if LIST_SHEET in book.sheets or book.has_comments(min_row=forms.FIRST_ROW):
            raise xlsxedit.NotEditable("feedback given before")  # cleared by openpyxl
        cells = problem_cells(problems, book.headers)
        for (row, col), found in cells.items():
            worst = "error" if any(p.severity == "error" for p in found) else "warning"
            book.mark(row, col, ERROR_FILL if worst == "error" else WARNING_FILL)
            book.comment(row, col, comment_text(found, fields), "zhili")
        id_col = book.headers.get("社区编码", 1)
        rows = list_rows(cells, lambda row: book.text(row, id_col), name_of)
        book.add_sheet(LIST_SHEET, [LIST_HEADERS, *rows], LIST_WIDTHS, position=1)
        data = book.to_bytes()
    except xlsxedit.NotEditable:
        _annotate_openpyxl(source, target, problems, fields, name_of)
        return
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(data))


def _annotate_openpyxl(source: Path, target: Path, problems, fields: dict, name_of) -> None:
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    wb = load_workbook(source)
    ws = wb[forms.DATA_SHEET]
    _clear_old_feedback(ws)
    columns = {str(c.value): c.column for c in ws[1] if c.value is not None}
    cells = problem_cells(problems, columns)
    for (row, col), found in cells.items():
        cell = ws.cell(row=row, column=col)
        worst = "error" if any(p.severity == "error" for p in found) else "warning"
        cell.fill = PatternFill("solid", fgColor=ERROR_FILL if worst == "error" else WARNING_FILL)
        comment = Comment(comment_text(found, fields), "zhili")
        comment.width, comment.height = 320, 140
        cell.comment = comment
    if LIST_SHEET in wb.sheetnames:  # a corrected return sent back with the old list
        wb.remove(wb[LIST_SHEET])
    sheet = wb.create_sheet(LIST_SHEET, 1)
    safe.append_row(sheet, LIST_HEADERS)
    id_col = columns.get("社区编码", 1)

    def id_of(row: int) -> str:
        cid = ws.cell(row=row, column=id_col).value
        return "" if cid is None else str(cid)

    for values in list_rows(cells, id_of, name_of):
        safe.append_row(sheet, values)
    _widths(sheet, LIST_WIDTHS)
    atomic_write(target, wb.save)


def _clear_old_feedback(ws) -> None:
    """The comments and fills an earlier feedback left on the data rows (a
    corrected copy sent back): a problem since corrected must not stay marked."""
    from openpyxl.styles import PatternFill

    for row in ws.iter_rows(min_row=forms.FIRST_ROW):
        for cell in row:
            if cell.comment is not None and cell.comment.author == "zhili":
                cell.comment = None
                locked = cell.column <= forms.PREFILLED_COLUMNS
                cell.fill = (
                    PatternFill("solid", fgColor=forms.LOCKED_FILL) if locked else PatternFill()
                )


def _widths(ws, widths) -> None:
    from openpyxl.utils import get_column_letter

    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w


def _summary(rd: RoundData, per_file, result: Feedback) -> None:
    """The 汇总 workbook: one line per unit, then the problems, then 未上报."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    safe.append_row(ws, ["单位", "文件", "状态", "错误", "警告", "需要修改的内容"])
    for r in rd.returns:
        found = per_file.get(str(r.path), [])
        errors = sum(p.severity == "error" for p in found)
        status = "退回修改" if found else "无问题"
        what = "；".join(sorted({_kind(p) for p in found}))
        unit = forms.unit_title(r.stamp.unit, r.stamp.by)
        safe.append_row(ws, [unit, r.path.name, status, errors, len(found) - errors, what])
    for unit in result.missing_units:
        safe.append_row(ws, [unit, "", "未提交", "", "", ""])
    returned = {str(r.path) for r in rd.returns}
    for file, found in sorted(per_file.items()):
        if file in returned or file == rd.roster.file:
            continue
        safe.append_row(ws, ["", Path(file).name, "未采用", len(found), "", found[0].message])
    for old, new in rd.superseded:
        safe.append_row(ws, ["", old.name, "已被替换", "", "", f"以 {new.name} 为准"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    _widths(ws, (24, 30, 10, 6, 6, 60))
    _problem_sheet(wb.create_sheet(LIST_SHEET), rd, per_file)
    _missing_sheet(wb.create_sheet("未上报"), rd)
    assert result.summary is not None
    atomic_write(result.summary, wb.save)


def _kind(p: DataProblem) -> str:
    """What a problem asks the unit to do, in a few words."""
    if p.code == codes.ROUND_NOT_SUBMITTED.code:
        return "补报未填社区"
    if p.code == codes.ROUND_PREFILL_EDITED.code:
        return "恢复预填的编码或名称"
    if p.code == codes.ROUND_REQUIRED_EMPTY.code:
        return "补填必填项"
    if p.code == codes.DATA_DUPLICATE_ID.code:
        return "删除重复的社区"
    if p.code == codes.ROUND_NOT_IN_ROSTER.code:
        return "删除名单外的社区"
    return "改正不合规的数据"


def _problem_sheet(ws, rd: RoundData, per_file) -> None:
    safe.append_row(ws, ["文件", "行", "列", "级别", "问题", "原值"])
    for file, found in sorted(per_file.items()):
        if file == rd.roster.file:
            continue  # communities of units that sent nothing: the sheet 未上报
        for p in found:
            safe.append_row(
                ws,
                [
                    Path(file).name,
                    "" if p.row is None else p.row,
                    p.column or "",
                    SEVERITY_WORDS.get(p.severity, p.severity),
                    p.message,
                    "" if p.raw is None else str(p.raw),
                ],
            )
    _widths(ws, (30, 6, 22, 6, 60, 20))


def _missing_sheet(ws, rd: RoundData) -> None:
    safe.append_row(ws, ["区", "街道", "社区编码", "社区", "联系人"])
    for c in rd.not_submitted():
        safe.append_row(ws, [c.district, c.street, c.id, c.name, c.contact])
    _widths(ws, (14, 18, 14, 18, 20))
