"""`eval -o x.csv` and `-o x.parquet`: the file is written by Polars straight
from the results frame (no text of the whole table in memory), with the
same bytes as the text `eval --format csv` prints, a BOM first for Excel;
hostile text neutralised in both."""

from __future__ import annotations

import codecs
from pathlib import Path

import polars as pl
from cli_helpers import zhili

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plugins" / "four_type" / "sample.csv"


def test_the_csv_file_is_the_printed_csv_with_a_bom(tmp_path):
    out = tmp_path / "r.csv"
    written = zhili("eval", "four_type", SAMPLE, "--no-record", "--detail", "-o", out)
    assert written.exit_code == 0, written.output
    printed = zhili("eval", "four_type", SAMPLE, "--no-record", "--detail", "--format", "csv")
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and not data[3:].startswith(codecs.BOM_UTF8)
    assert data[3:].decode("utf-8") + "\n" == printed.stdout  # echo ends with a newline
    frame = pl.read_csv(out)
    assert frame.height == 24 and "grid_merged_ok.points" in frame.columns


def test_hostile_names_are_inert_in_the_csv_file(tmp_path):
    data = tmp_path / "d.csv"
    text = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("社区")] = "=1+2"
    data.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n", encoding="utf-8")
    out = tmp_path / "r.csv"
    result = zhili("eval", "four_type", data, "--no-record", "-o", out)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    names = frame.get_column("community").to_list()
    assert "'=1+2" in names
    assert not any(str(n).startswith("=") for n in names)
