"""The readers table: every built-in format in one table by suffix, in the
shape plugin readers have; plugin readers first; the table stays light; and
engine/ writes files only through `io.atomic`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from zhili.engine import plugins
from zhili.engine.io import readers
from zhili.engine.io.readers import BUILTIN_READERS, DataReader, read_raw
from zhili.engine.io.table import EXCEL_SUFFIXES, DataError

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ["社区编码", "社区", "常住人口"]
ROWS = [["A-1", "一段", "1200"], ["A-2", "二段", ""]]


def _write(path: Path) -> None:
    """HEADERS and ROWS in the format of `path`'s suffix."""
    suffix = path.suffix.lower()
    records = [dict(zip(HEADERS, r, strict=True)) for r in ROWS]
    if suffix in (".json",):
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    elif suffix in (".jsonl", ".ndjson"):
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif suffix == ".parquet":
        pl.DataFrame({h: [r[j] for r in ROWS] for j, h in enumerate(HEADERS)}).write_parquet(path)
    elif suffix in (".xlsx", ".xlsm"):
        wb = openpyxl.Workbook()
        wb.active.append(HEADERS)
        for r in ROWS:
            wb.active.append(r)
        wb.save(path)
    else:
        sep = "\t" if suffix == ".tsv" else ","
        path.write_text("\n".join(sep.join(r) for r in [HEADERS, *ROWS]) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "suffix", [".csv", ".tsv", ".txt", "", ".json", ".jsonl", ".ndjson", ".parquet", ".xlsx"]
)
def test_every_writable_builtin_format_reads_the_same_cells(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    _write(path)
    raw = read_raw(path)
    assert raw.headers == HEADERS
    cells = [[None if v in (None, "") else v for v in row] for row in raw.frame.rows()]
    assert cells == [[None if v == "" else v for v in r] for r in ROWS]


def test_the_table_holds_every_builtin_suffix_in_the_plugin_readers_shape():
    assert plugins.DataReader is DataReader  # plugins build the same type
    assert plugins.BUILTIN_SUFFIXES == {s for s in BUILTIN_READERS if s}
    assert {".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".parquet"} <= set(
        BUILTIN_READERS
    )
    assert set(EXCEL_SUFFIXES) <= set(BUILTIN_READERS)
    for suffix, reader in BUILTIN_READERS.items():
        assert isinstance(reader, DataReader) and reader.suffix == suffix
        assert reader.plugin == readers.BUILTIN and callable(reader.read) and reader.description
    # the workbooks all go to the Excel reader
    assert len({BUILTIN_READERS[s].read for s in EXCEL_SUFFIXES}) == 1


def test_a_plugin_reader_is_asked_before_the_builtin_one(tmp_path, monkeypatch):
    path = tmp_path / "d.csv"
    _write(path)
    got = []

    def read(p):
        got.append(p)
        return plugins.raw_table(str(p), ["x"], [["1"]])

    # the registry refuses a built-in suffix; the lookup order is still plugin first
    monkeypatch.setitem(plugins.DATA_READERS, ".csv", DataReader(".csv", read, "", "p"))
    assert read_raw(path).headers == ["x"] and got == [path]
    monkeypatch.delitem(plugins.DATA_READERS, ".csv")
    assert read_raw(path).headers == HEADERS


def test_an_unknown_suffix_names_the_formats_read(tmp_path):
    path = tmp_path / "d.pdf"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match=r"unsupported data format \.pdf"):
        read_raw(path)


def test_the_readers_table_loads_no_polars():
    """The registry imports the table when the CLI starts: the readers'
    implementations (and Polars) are imported only when a file is read."""
    code = "import sys, zhili.engine.io.readers\nprint('polars' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# a rename into place, or a temporary file of one's own
_OWN_ATOMIC = re.compile(r"os\.replace|os\.rename|mkstemp|NamedTemporaryFile|\btmp\w*\.replace\(")


def test_engine_writes_files_only_through_io_atomic():
    wrong = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if path == ROOT / "engine" / "io" / "atomic.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if _OWN_ATOMIC.search(line):
                wrong.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not wrong, "write through zhili.engine.io.atomic:\n" + "\n".join(wrong)


def test_the_guard_sees_a_hand_made_atomic_write():
    assert _OWN_ATOMIC.search("    tmp.replace(path)")
    assert _OWN_ATOMIC.search("fd, name = tempfile.mkstemp(dir=d)")
    assert not _OWN_ATOMIC.search('text.replace("|", "\\\\|")')
