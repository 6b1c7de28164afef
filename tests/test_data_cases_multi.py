"""Several files, or a folder, as DATA: one evaluation, every row keeping
its source (`file[sheet]:row`). Each folder `tests/data_cases/multi_<name>/`
holds a `data/` folder (the DATA) and an `expected.toml`, run through the
real CLI and readers (no mocks):

    exit = 0                      # the exit code
    ids = ["A-001", ...]          # the communities evaluated, in order
    sources = ["a.csv:2", ...]    # their `source` column in `eval --format csv`
    message = "..."               # in standard error
    problems = [{ code = "data-duplicate-id", file = "b.csv", row = 3, column = "社区编码" }]

Also here: a folder with a workbook written by openpyxl, several files on
the command line, the run store's record of a multi-file run, the report,
and the TUI's detail screen.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import tomllib
from pathlib import Path

import openpyxl
import pytest

from tests.cli_helpers import zhili
from zhili.dsl.checker import check
from zhili.dsl.parser import parse
from zhili.engine.io.data import DataError, data_files, load
from zhili.engine.runs.store import file_hash, files_hash

CASES = Path(__file__).parent / "data_cases"
MODEL = CASES / "csvread_model.gov"
NAMES = sorted(p.name for p in CASES.glob("multi_*") if (p / "expected.toml").is_file())
HEADER = ["社区编码", "社区名称", "常住人口", "调解成功率", "是否实现多网合一"]


def _model():
    text = MODEL.read_text(encoding="utf-8")
    checked = check(parse(text).tree, text)
    assert checked.ok
    return checked.model


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.parametrize("name", NAMES)
def test_data_case(name: str):
    case = CASES / name
    want = tomllib.loads((case / "expected.toml").read_text(encoding="utf-8"))
    result = zhili("eval", str(MODEL), str(case / "data"), "--format", "csv", "--no-record")
    assert result.exit_code == want["exit"], result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    if "message" in want:
        assert want["message"] in result.stderr
    if want["exit"] == 0:
        rows = _csv_rows(result.stdout)
        assert [r["community_id"] for r in rows] == want["ids"]
        assert [r["source"] for r in rows] == want["sources"]
    if want.get("problems"):
        ds = load(case / "data", _model())
        for p in want["problems"]:
            assert any(
                q.code == p["code"]
                and Path(q.file).name == p["file"]
                and q.row == p["row"]
                and q.column == p["column"]
                for q in ds.problems
            ), (p, ds.problems)


def test_empty_folder_is_a_data_error(tmp_path: Path):
    with pytest.raises(DataError, match="no data file"):
        data_files(tmp_path)


def _folder(tmp_path: Path) -> Path:
    """A CSV, a workbook (sheet 二街道) and a JSON file, plus a lock file."""
    d = tmp_path / "district"
    d.mkdir()
    shutil.copy(CASES / "multi_folder_csv_json" / "data" / "a_east.csv", d)
    shutil.copy(CASES / "multi_folder_csv_json" / "data" / "c_north.json", d)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "二街道"
    ws.append(HEADER)
    ws.append(["B-001", "南街社区", 1100, "91%", "是"])
    ws.append(["B-002", "中街社区", 700, "95%", "否"])
    wb.save(d / "b_south.xlsx")
    (d / "~$b_south.xlsx").write_bytes(b"\x00lock")
    return d


def test_folder_of_three_formats_keeps_sources(tmp_path: Path):
    d = _folder(tmp_path)
    assert [p.name for p in data_files(d)] == ["a_east.csv", "b_south.xlsx", "c_north.json"]
    out = tmp_path / "out.csv"
    result = zhili("eval", str(MODEL), str(d), "--output", str(out), "--no-record")
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out.read_text(encoding="utf-8-sig"))
    assert [(r["community_id"], r["source"], r["row"]) for r in rows] == [
        ("A-001", "a_east.csv:2", "2"),
        ("A-002", "a_east.csv:3", "3"),
        ("B-001", "b_south.xlsx[二街道]:2", "2"),
        ("B-002", "b_south.xlsx[二街道]:3", "3"),
        ("C-001", "c_north.json:1", "1"),
    ]
    assert [r["grade"] for r in rows] == ["达标", "未达标", "达标", "未达标", "达标"]


def test_parquet_output_has_the_source_column(tmp_path: Path):
    import polars as pl

    out = tmp_path / "out.parquet"
    result = zhili("eval", str(MODEL), str(_folder(tmp_path)), "--output", str(out), "--no-record")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).get_column("source").to_list()[2] == "b_south.xlsx[二街道]:2"


def test_one_file_output_is_unchanged(tmp_path: Path):
    data = CASES / "multi_folder_csv_json" / "data" / "a_east.csv"
    result = zhili("eval", str(MODEL), str(data), "--format", "csv", "--no-record")
    assert result.exit_code == 0, result.output
    assert "source" not in _csv_rows(result.stdout)[0]


def test_several_files_on_the_command_line(tmp_path: Path):
    d = _folder(tmp_path)
    result = zhili(
        "eval", str(MODEL), str(d / "c_north.json"), str(d / "a_east.csv"),
        "--format", "csv", "--no-record",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.stdout)
    assert [r["source"] for r in rows] == ["c_north.json:1", "a_east.csv:2", "a_east.csv:3"]


def test_id_in_a_workbook_and_a_csv_names_both_places(tmp_path: Path):
    d = _folder(tmp_path)
    wb = openpyxl.load_workbook(d / "b_south.xlsx")
    wb.active["A3"] = "a-001"  # the id of a_east.csv row 2, in lower case
    wb.save(d / "b_south.xlsx")
    result = zhili("eval", str(MODEL), str(d), "--no-record")
    assert result.exit_code == 1
    assert "b_south.xlsx[二街道]:3 [社区编码]: duplicate community id (first in a_east.csv:2)" in (
        result.stderr
    )
    ds = load(d, _model())
    (p,) = [p for p in ds.problems if p.code == "data-duplicate-id"]
    assert (Path(p.file).name, p.sheet, p.row, p.raw) == ("b_south.xlsx", "二街道", 3, "a-001")


def test_standard_input_is_not_one_of_several(tmp_path: Path):
    data = CASES / "multi_folder_csv_json" / "data" / "a_east.csv"
    result = zhili("eval", str(MODEL), str(data), "-", "--no-record")
    assert result.exit_code == 2
    assert "standard input" in result.stderr


def test_runs_show_of_a_folder_run(tmp_path: Path):
    d = _folder(tmp_path)
    db = str(tmp_path / "runs.db")
    assert zhili("eval", str(MODEL), str(d), "--db", db).exit_code == 0
    shown = zhili("runs", "--db", db, "show", "latest", "--json")
    assert shown.exit_code == 0, shown.output
    run = json.loads(shown.stdout)
    text = json.dumps(run, ensure_ascii=False)
    files = [d / "a_east.csv", d / "b_south.xlsx", d / "c_north.json"]
    assert files_hash(files) in text
    assert files_hash(files) != file_hash(files[0])
    for f in files:
        assert str(f.resolve()) in text
    assert "~$" not in text
    by_id = {c["community_id"]: c for c in run["communities"]}
    assert (by_id["B-002"]["file"], by_id["B-002"]["sheet"], by_id["B-002"]["row"]) == (
        "b_south.xlsx",
        "二街道",
        3,
    )
    assert (by_id["C-001"]["file"], by_id["C-001"]["sheet"]) == ("c_north.json", None)
    plain = zhili("runs", "--db", db, "show", "latest")
    assert plain.exit_code == 0 and "b_south.xlsx" in plain.stdout


def test_a_schema_3_run_store_reads_after_migration(tmp_path: Path):
    """A run recorded before results had file and sheet still reads (both
    null), and a folder run is recorded next to it."""
    import sqlite3

    from zhili.engine.runs.store import RunStore

    db = tmp_path / "old.sqlite"
    sqlite3.connect(db).close()
    old = RunStore(db, migrate=False)
    old.migrate(target=3)
    old.close()
    data = CASES / "multi_folder_csv_json" / "data" / "a_east.csv"
    conn = sqlite3.connect(db)
    assert "file" not in [r[1] for r in conn.execute("PRAGMA table_info(results)")]
    conn.close()
    # record a one-file run with the schema-3 columns only, as an older zhili did
    old = RunStore(db, migrate=False)
    with old.transaction() as c:
        c.execute(
            "INSERT INTO runs (created_at, command, model_id, model_hash, data_path, "
            "engine_version, communities) VALUES ('2026-01-01T00:00:00', 'eval', 'csvread', "
            f"'h', '{data}', '0.0.1', 1)"
        )
        c.execute(
            "INSERT INTO results (run_id, community_id, row, total, grade, vetoes, missing, "
            "dimensions, indicators) VALUES (1, 'A-001', 2, 10, '达标', '', 0, '{}', '{}')"
        )
    old.close()
    assert zhili("eval", str(MODEL), str(_folder(tmp_path)), "--db", str(db)).exit_code == 0
    with RunStore(db) as store:
        first = store.results(1).row(0, named=True)
        assert (first["community_id"], first["row"], first["file"], first["sheet"]) == (
            "A-001",
            2,
            None,
            None,
        )
        assert set(store.results(2).get_column("file").to_list()) == {
            "a_east.csv",
            "b_south.xlsx",
            "c_north.json",
        }


def test_report_of_a_folder(tmp_path: Path):
    out = tmp_path / "report.json"
    result = zhili("report", str(MODEL), str(_folder(tmp_path)), "-o", str(out), "--no-record")
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["communities"]) == 5


def test_tui_detail_names_the_source(tmp_path: Path):
    from zhili.engine.plugins import Registry
    from zhili.engine.resolve import resolve_model
    from zhili.tui.app import ZhiliApp, build_session
    from zhili.tui.screens.detail import DetailScreen

    d = _folder(tmp_path)
    registry = Registry()
    lm = resolve_model(registry, str(MODEL))
    session = build_session(lm, d, registry)

    async def go():
        app = ZhiliApp(session, lang="en")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            await pilot.press("down", "down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            head = str(app.screen.query_one("#head").render())
            where = {
                "A-001": "a_east.csv:2",
                "A-002": "a_east.csv:3",
                "B-001": "b_south.xlsx[二街道]:2",
                "B-002": "b_south.xlsx[二街道]:3",
                "C-001": "c_north.json:1",
            }
            assert f"Data source: {where[app.screen.result.community_id]}" in head

    asyncio.run(go())
