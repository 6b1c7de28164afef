"""`zhili runs show --json` streams: the communities are written a few
thousand at a time as the stored parts are read, and the bytes are those of
the one `json.dumps` it printed before (checked here against that form,
built from `RunStore.results`)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
from cli_helpers import zhili

from zhili.engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plugins" / "four_type" / "sample.csv"
CASES = Path(__file__).parent / "data_cases"
MODEL = CASES / "csvread_model.gov"


def _as_before(db: Path) -> str:
    """What `runs show latest --json` printed before it streamed."""
    with RunStore(db) as store:
        info = store.resolve("latest")
        rows = store.results(info.id, detail=True).to_dicts()
    # a run of a model without outputs (or recorded before them) lists none
    with_outputs = any(r["outputs"] != "{}" for r in rows)
    for r in rows:
        r["dimensions"] = json.loads(r["dimensions"])
        r["indicators"] = json.loads(r["indicators"])
        outputs = json.loads(r.pop("outputs"))
        if with_outputs:
            r["outputs"] = outputs
    return json.dumps({"run": info.__dict__, "communities": rows}, ensure_ascii=False, indent=2)


def _shown(db: Path) -> str:
    result = zhili("runs", "--db", db, "show", "latest", "--json")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_same_bytes_as_one_dump(tmp_path):
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", "four_type", SAMPLE, "--db", db).exit_code == 0
    shown = _shown(db)
    assert shown == _as_before(db) + "\n"
    assert len(json.loads(shown)["communities"]) > 10


def test_a_model_with_outputs_lists_them(tmp_path):
    db = tmp_path / "runs.sqlite"
    sample = ROOT / "plugins" / "erqi" / "sample.csv"
    assert zhili("eval", "erqi", sample, "--db", db).exit_code == 0
    shown = _shown(db)
    assert shown == _as_before(db) + "\n"
    communities = json.loads(shown)["communities"]
    assert communities and all("stars" in c["outputs"] for c in communities)


def test_a_folder_run_in_row_order(tmp_path):
    """Rows of several files are not stored in the order shown (the lines of
    each file start again): the run is read whole, the bytes are the same."""
    d = tmp_path / "district"
    d.mkdir()
    for name in ("a_east.csv", "c_north.json"):
        (d / name).write_bytes((CASES / "multi_folder_csv_json" / "data" / name).read_bytes())
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", str(MODEL), str(d), "--db", db).exit_code == 0
    shown = _shown(db)
    assert shown == _as_before(db) + "\n"
    rows = [c["row"] for c in json.loads(shown)["communities"]]
    assert rows == sorted(rows) and len(rows) > 2


def test_no_communities(tmp_path):
    header = SAMPLE.read_text(encoding="utf-8-sig").splitlines()[0]
    data = tmp_path / "empty.csv"
    data.write_text(header + "\n", encoding="utf-8")
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", "four_type", data, "--db", db).exit_code == 0
    shown = _shown(db)
    assert shown == _as_before(db) + "\n"
    assert json.loads(shown)["communities"] == []


def test_batches_cut_at_any_size(tmp_path):
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", "four_type", SAMPLE, "--db", db).exit_code == 0
    with RunStore(db) as store:
        whole = store.results(1, detail=True)
        for batch in (1, 7, whole.height, whole.height + 5):
            frames = list(store.iter_results(1, batch=batch))
            assert all(f.height <= batch for f in frames)
            assert pl.concat(frames).equals(whole)


def test_a_damaged_part_is_an_error(tmp_path):
    db = tmp_path / "runs.sqlite"
    assert zhili("eval", "four_type", SAMPLE, "--db", db).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE result_parts SET data = X'00' WHERE part = 0")
    result = zhili("runs", "--db", db, "show", "latest", "--json")
    assert result.exit_code == 1
    assert "damaged" in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""
