"""Writes the input files of the workbook, Parquet and JSON cases in
tests/data_cases/convert_*/ (the files are committed; this shows how each was
made). Run from the repository root: python tests/data_cases/convert_make.py"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import xlsxwriter

ROOT = Path(__file__).parent
H = ["社区编码", "社区", "常住人口", "是否实现多网合一"]


def case(name: str) -> Path:
    d = ROOT / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def patch(path: Path, member: str, edit) -> None:
    """Rewrite one zip member of `path` with `edit(bytes) -> bytes`."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            out.writestr(info, edit(data) if info.filename == member else data)


def workbooks() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append([*H, "备注"])  # an error in a column no input reads is not reported
    ws.append(["A1", "甲", "=1/0", "是", "#N/A"])  # openpyxl saves no computed value
    ws.append(["A2", "乙", "#DIV/0!", "是"])  # error cells
    ws.append(["A3", "丙", "#N/A", "否"])
    ws.append(["A4", "丁", "#VALUE!", "是"])
    ws.append(["A5", "戊", "#REF!", "是"])
    ws.append(["A6", "己", 8000, "=TRUE()"])
    wb.save(case("convert_formula_and_error_cells") / "data.xlsx")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "旧表"
    ws.append(H)
    ws.append(["OLD", "旧", 1, "否"])
    ws.sheet_state = "hidden"
    ws2 = wb.create_sheet("2024")
    ws2.append(H)
    ws2.append(["A1", "甲", 8000, "是"])
    ws2.append(["A2", "乙", 7000, "否"])
    ws3 = wb.create_sheet("2023")
    ws3.append(H)
    ws3.append(["A1", "甲", 7900, "是"])
    wb.create_sheet("空白")
    for name in ("convert_hidden_first_sheet", "convert_sheet_option"):
        wb.save(case(name) / "data.xlsx")

    for name, ref in (
        ("convert_cell_at_xfd1048576", "XFD1048576"),
        ("convert_cell_at_a1048576", "A1048576"),
    ):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(H)
        ws.append(["A1", "甲", 8000, "是"])
        ws[ref] = "x"
        wb.save(case(name) / "data.xlsx")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(H)
    ws.append(["A1", "甲", 8000, "是"])
    path = case("convert_200000_merges") / "data.xlsx"
    wb.save(path)
    merges = b"".join(b'<mergeCell ref="E%d:F%d"/>' % (r, r) for r in range(10, 200_010))
    patch(
        path,
        "xl/worksheets/sheet1.xml",
        lambda d: d.replace(
            b"</sheetData>", b'</sheetData><mergeCells count="200000">' + merges + b"</mergeCells>"
        ),
    )

    # openpyxl and xlsxwriter refuse more than 32,767 characters: the XML is edited
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(H)
    ws.append(["A1", "甲", 8000, "x" * 32767])
    path = case("convert_cell_over_32767_chars") / "data.xlsx"
    wb.save(path)
    patch(path, "xl/worksheets/sheet1.xml", lambda d: d.replace(b"x" * 32767, b"x" * 40000))

    path = case("convert_shared_string_over_32767_chars") / "data.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for j, h in enumerate(H):
        sheet.write_string(0, j, h)
    sheet.write_row(1, 0, ["A1", "甲", 8000, "y" * 32767])
    book.close()
    patch(path, "xl/sharedStrings.xml", lambda d: d.replace(b"y" * 32767, b"y" * 40000))


def parquet_and_json() -> None:
    pl.DataFrame(
        {
            "社区编码": ["A1", "A2"],
            "社区": ["甲", "乙"],
            "常住人口": [8000, 7000],
            "是否实现多网合一": [True, False],
            "标签": [["a"], ["b", "c"]],
            "明细": [{"x": 1}, {"x": 2}],
            "用时": [dt.timedelta(days=1), dt.timedelta(hours=2)],
        }
    ).write_parquet(case("convert_parquet_unused_nested_columns") / "data.parquet")
    pl.DataFrame(
        {
            "社区编码": ["A1", "A2"],
            "社区": ["甲", "乙"],
            "常住人口": [[8000], [7000, 1]],
            "是否实现多网合一": [True, False],
            "办公用房面积": [dt.timedelta(days=1), None],
        }
    ).write_parquet(case("convert_parquet_used_list_column") / "data.parquet")
    (case("convert_json_integer_of_5000_digits") / "data.json").write_text(
        '[{"社区编码": "A1", "社区": "甲", "常住人口": '
        + "9" * 5000
        + ', "是否实现多网合一": true, "办公用房面积": 1e-400},\n'
        ' {"社区编码": "A2", "社区": "乙", "常住人口": 8000, "是否实现多网合一": false,'
        ' "办公用房面积": 350.5}]\n',
        encoding="utf-8",
    )
    (case("convert_json_nested_100000_deep") / "data.json").write_text(
        '[{"社区编码": "A1", "备注": ' + "[" * 100_000 + "]" * 100_000 + "}]", encoding="utf-8"
    )
    (case("convert_jsonl_nested_100000_deep") / "data.jsonl").write_text(
        '{"社区编码": "A1", "常住人口": 8000, "是否实现多网合一": "是"}\n'
        '{"社区编码": "A2", "备注": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}\n",
        encoding="utf-8",
    )


P = ["社区编码", "社区", "常住人口", "是否实现多网合一", "调解成功率"]


def percents() -> None:
    """The one percent rule (docs/data.md), in every format: each cell alone."""
    (case("convert_percent_csv_cells") / "data.csv").write_text(
        ",".join(P)
        + "\n"
        + "".join(
            f"A{i},社区{i},8000,是,{v}\n"
            for i, v in enumerate(
                [
                    "0.85",
                    "85",
                    "85%",
                    "85.5%",
                    "1",
                    "0.5%",
                    "0",
                    "100",
                    "85％",
                    "８５",
                    ".9",
                    "0.00",
                    "1.0",
                ],
                start=1,
            )
        ),
        encoding="utf-8",
    )
    # one cell 85% typed as text used to silence the column's warning
    (case("convert_percent_text_cell_silences_nothing") / "data.csv").write_text(
        ",".join(P) + "\nA1,甲,8000,是,0.9\nA2,乙,8000,是,85%\nA3,丙,8000,是,0.95\n",
        encoding="utf-8",
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(P)
    for i, (v, fmt) in enumerate(
        [
            (0.9, "0.0%"),
            (0.9, None),
            (0.857, "0.0%"),
            (1, "0%"),
            (85, None),
            ("85%", None),
            (1, None),
            (0.9, '0.0"%"'),
            (0.9, "[Red]0.00%"),
            (0.12, "0.00%;[Red]-0.00%"),
        ],
        start=1,
    ):
        ws.append([f"A{i}", f"社区{i}", 8000, "是", v])
        if fmt is not None:
            ws.cell(row=i + 1, column=5).number_format = fmt
    wb.save(case("convert_percent_xlsx_mixed_formats") / "data.xlsx")
    values = [0.85, 85, 85.5, 1, 0.009, 0]
    rows = [
        {
            "社区编码": f"A{i}",
            "社区": f"社区{i}",
            "常住人口": 8000,
            "是否实现多网合一": True,
            "调解成功率": v,
        }
        for i, v in enumerate(values, start=1)
    ]
    (case("convert_percent_json_numbers") / "data.json").write_text(
        json.dumps(rows, ensure_ascii=False), encoding="utf-8"
    )
    pl.DataFrame(
        {
            "社区编码": [f"A{i}" for i in range(1, 7)],
            "常住人口": [8000] * 6,
            "是否实现多网合一": [True] * 6,
            "调解成功率": [float(v) for v in values],
        }
    ).write_parquet(case("convert_percent_parquet_numbers") / "data.parquet")

    ods(case("convert_percent_ods_value_types") / "data.ods")


def ods(path: Path) -> None:
    """An ODS sheet written as XML: a blank row and column first, then
    percentage cells (0.85, 1.2), plain floats (0.85, 85) and a string."""
    t, o = "table:table", "office:value"

    def cell(kind: str, value: str, shown: str) -> str:
        attrs = f'{o}-type="{kind}"' + (f' {o}="{value}"' if kind != "string" else "")
        return f"<{t}-cell {attrs}><text:p>{shown}</text:p></{t}-cell>"

    rows = [
        [cell("string", h, h) for h in ("社区编码", "常住人口", "是否实现多网合一", "调解成功率")]
    ]
    for i, (kind, value, shown) in enumerate(
        [
            ("percentage", "0.85", "85%"),
            ("float", "0.85", "0.85"),
            ("float", "85", "85"),
            ("percentage", "1.2", "120%"),
            ("string", "", "90%"),
        ],
        start=1,
    ):
        rows.append(
            [
                cell("string", f"A{i}", f"A{i}"),
                cell("float", "8000", "8000"),
                cell("string", "", "是"),
                cell(kind, value, shown),
            ]
        )
    body = f'<{t}-row table:number-rows-repeated="1"><{t}-cell/></{t}-row>' + "".join(
        f"<{t}-row><{t}-cell/>{''.join(r)}</{t}-row>" for r in rows
    )
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
        f'<office:body><office:spreadsheet><{t} table:name="数据">{body}</{t}>'
        "</office:spreadsheet></office:body></office:document-content>"
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
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)


def cover_sheet() -> None:
    """A cover sheet first, a hidden sheet of old data, the data third."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "封面"
    cover.append(["2026年社区治理数据报送"])
    cover.append(["报送单位：东城区民政局"])
    old = wb.create_sheet("旧数据")
    old.append(H)
    old.append(["BJ-900", "旧社区", 10, "否"])
    old.sheet_state = "hidden"
    ws = wb.create_sheet("数据")
    ws.append(H)
    ws.append(["BJ-001", "长青社区", 1200, "是"])
    ws.append(["BJ-002", "新福社区", 800, "否"])
    wb.save(case("convert_cover_sheet_first") / "data.xlsx")


def cells_without_r() -> None:
    """Cells and rows written without `r` (calamine counts them on from the
    cell or row before), and text that reads like a reference."""
    for name, extra in (
        ("convert_cells_without_r_far_down", b'<row r="1048576">' + b"<c><v>1</v></c>" * 100),
        (
            "convert_text_like_a_reference",
            b'<row r="3"><c r="A3" t="inlineStr"><is><t>A3 r="XFD1048576"</t></is></c>',
        ),
    ):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(H)
        ws.append(["A1", "甲", 8000, "是"])
        path = case(name) / "data.xlsx"
        wb.save(path)
        row = extra + b"</row>"
        patch(
            path,
            "xl/worksheets/sheet1.xml",
            lambda d, r=row: d.replace(b"</sheetData>", r + b"</sheetData>"),
        )


def hidden_first_sheets() -> None:
    """convert_hidden_first_sheet's workbook as .xls and .ods (LibreOffice,
    `soffice --headless --convert-to`) and as .xlsb (pyxlsbwriter, which
    the project does not depend on: `pip install pyxlsbwriter` first)."""
    import shutil
    import subprocess
    import tempfile

    from pyxlsbwriter import XlsbWriter

    with XlsbWriter(str(case("convert_hidden_first_sheet_xlsb") / "data.xlsb")) as book:
        book.add_sheet("旧表", hidden=True)
        book.write_sheet([H, ["OLD", "旧", 1, "否"]])
        book.add_sheet("2024")
        book.write_sheet([H, ["A1", "甲", 8000, "是"], ["A2", "乙", 7000, "否"]])
        book.add_sheet("2023")
        book.write_sheet([H, ["A1", "甲", 7900, "是"]])
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "data.xlsx"
        shutil.copy(case("convert_hidden_first_sheet") / "data.xlsx", src)
        for suffix in ("xls", "ods"):
            subprocess.run(
                ["soffice", "--headless", "--convert-to", suffix, "--outdir", tmp, str(src)],
                check=True,
                capture_output=True,
            )
            shutil.copy(Path(tmp) / f"data.{suffix}", case(f"convert_hidden_first_sheet_{suffix}"))


if __name__ == "__main__":
    cells_without_r()
    workbooks()
    parquet_and_json()
    percents()
    cover_sheet()
    hidden_first_sheets()
