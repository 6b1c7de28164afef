"""Which sheet of a workbook is read without `--sheet` (docs/data.md,
"Workbooks: which sheet is read"): the first visible sheet, not one of
zhili's own — unless it names none of the model's inputs, is empty or
cannot be read, and a later visible sheet names some. Hidden sheets are
never chosen this way (in an .ods too), and a later sheet is looked at
within the limits every sheet is read in (one cell at XFD1048576 there
is not allocated)."""

from __future__ import annotations

import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl

from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.io.data import load

MODEL_FILE = Path(__file__).parent / "data_cases" / "fuzz_model.gov"
MODEL_TEXT = MODEL_FILE.read_text(encoding="utf-8")
MODEL = check(parse(MODEL_TEXT).tree, MODEL_TEXT).model
H = ["社区编码", "社区", "常住人口", "调解成功率", "是否实现多网合一"]
ROWS = [["A1", "长青", 1000, "90%", "是"], ["A2", "新福", 1200, "95%", "否"]]


def _book(path: Path, build) -> Path:
    wb = openpyxl.Workbook()
    build(wb)
    wb.save(path)
    return path


def _data(ws) -> None:
    ws.append(H)
    for row in ROWS:
        ws.append(row)


def _names(path: Path) -> list[str]:
    return load(path, MODEL).frame.get_column("community").to_list()


def test_an_empty_first_sheet_is_passed_over(tmp_path):
    def build(wb):
        wb.active.title = "Sheet1"  # left empty, as Excel makes it
        _data(wb.create_sheet("数据"))

    assert _names(_book(tmp_path / "b.xlsx", build)) == ["长青", "新福"]


def test_the_instructions_sheet_moved_first_is_not_read(tmp_path):
    def build(wb):
        wb.active.title = "填表说明"
        wb.active.append(["指标", "说明"])
        wb.active.append(["常住人口", "填写常住人口数"])  # names an input: still not the data
        _data(wb.create_sheet("数据"))

    assert _names(_book(tmp_path / "b.xlsx", build)) == ["长青", "新福"]


def test_a_hidden_sheet_is_never_chosen(tmp_path):
    def build(wb):
        wb.active.title = "封面"
        wb.active.append(["2026年数据报送"])
        old = wb.create_sheet("去年")
        old.append(H)
        old.append(["OLD", "去年的社区", 1, "10%", "否"])
        old.sheet_state = "hidden"
        _data(wb.create_sheet("数据"))

    path = _book(tmp_path / "b.xlsx", build)
    assert _names(path) == ["长青", "新福"]
    [note] = [p for p in load(path, MODEL).problems if p.code == "data-other-sheets"]
    assert "去年 (hidden)" in note.message and "封面" in note.message


def _ods(path: Path) -> Path:
    def table(name, rows, style):
        cells = "".join(
            "<table:table-row>"
            + "".join(
                f'<table:table-cell office:value-type="string"><text:p>{v}</text:p>'
                "</table:table-cell>"
                for v in row
            )
            + "</table:table-row>"
            for row in rows
        )
        return f'<table:table table:name="{name}" table:style-name="{style}">{cells}</table:table>'

    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    )
    styles = (
        '<style:style style:name="ta1" style:family="table">'
        '<style:table-properties table:display="true"/></style:style>'
        '<style:style style:name="ta2" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
    )
    body = (
        table("封面", [["2026年数据报送说明"]], "ta1")
        + table("去年", [H, ["OLD", "去年的社区", "1", "10%", "否"]], "ta2")
        + table("数据", [H, *[[str(c) for c in r] for r in ROWS]], "ta1")
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        f'office:version="1.2"><office:automatic-styles>{styles}</office:automatic-styles>'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return path


def test_a_hidden_ods_sheet_is_never_chosen(tmp_path):
    assert _names(_ods(tmp_path / "b.ods")) == ["长青", "新福"]


def test_a_later_sheet_with_a_far_cell_is_not_allocated(tmp_path):
    """One cell at XFD1048576 in a sheet after the cover: looking at it
    for inputs keeps the limits (calamine would allocate 512 GB and abort)."""

    def build(wb):
        wb.active.title = "封面"
        wb.active["A1"] = "说明"
        far = wb.create_sheet("附表")
        far["A1"] = "常住人口"
        far["XFD1048576"] = "far"
        _data(wb.create_sheet("数据"))

    path = _book(tmp_path / "far.xlsx", build)

    def limit():  # a child that tried the allocation would fail, not take the machine
        resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))

    zhili = Path(sys.executable).parent / "zhili"
    run = subprocess.run(
        [str(zhili), "eval", str(MODEL_FILE), str(path), "--no-record", "--format", "csv"],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "长青" in run.stdout and "新福" in run.stdout
    assert "Traceback" not in run.stderr and "panicked" not in run.stderr


CASES = Path(__file__).parent / "data_cases"


def test_a_hidden_first_sheet_is_not_read_in_any_workbook_format():
    """The same workbook as .xlsx, .xls and .ods (LibreOffice) and .xlsb
    (pyxlsbwriter), its first sheet hidden: the first visible one is read,
    and `--sheet` still reads the hidden one when named."""
    for name in ("", "_xls", "_xlsb", "_ods"):
        [path] = [
            p for p in (CASES / f"convert_hidden_first_sheet{name}").iterdir() if p.stem == "data"
        ]
        assert _names(path) == ["甲", "乙"], path
        assert load(path, MODEL, sheet="旧表").frame.get_column("community").to_list() == ["旧"]


def test_an_xlsb_sheet_state_is_read_from_its_workbook_part():
    """Without loading a sheet (calamine reads an .xlsb sheet only when it
    is loaded, which for a large one takes a third of reading it)."""
    from zhili.engine.io import excel

    states = excel._xlsb_sheet_states(CASES / "convert_hidden_first_sheet_xlsb" / "data.xlsb")
    assert states == [1, 0, 0]
    assert excel._xlsb_sheet_states(CASES / "convert_xlsb_cover_sheet_first" / "data.xlsb") == [
        0,
        0,
    ]
