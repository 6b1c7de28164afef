"""Outputs (`output ID = …`) in every results output: the terminal table,
csv, parquet, eval/explain JSON, the report, the run store; and tests that
expect them (docs/language.md, "Values from results (output, points)")."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from cli_helpers import zhili

MODEL = """model stars "星级"
version "1"
issuer "测试"
source "测试"
missing skip

input a: percent label "党建率"
input b: percent label "治理率"

dimension 党建 points 20 { indicator i1 "党建工作" points 20 { linear a from 0% to 100% } }
dimension 治理 points 20 { indicator i2 "治理工作" points 20 { linear b from 0% to 100% } }

output 星级 "亮星数" = count(党建 >= 80%, 治理 >= 80%)
output 党建分 "党建得分" = points(党建)
output 一星以上 = count(党建 >= 80%, 治理 >= 80%) >= 1
output 得分率 = share

grades {
    "双星" when 星级 == 2
    "达标" when points(党建) >= 16
    "未达标" otherwise
}
"""

DATA = "社区编码,社区,党建率,治理率\nC1,一社区,90%,85%\nC2,二社区,85%,\nC3,三社区,50%,50%\n"


def _files(tmp_path: Path) -> tuple[Path, Path]:
    model, data = tmp_path / "stars.gov", tmp_path / "data.csv"
    model.write_text(MODEL, encoding="utf-8")
    data.write_text(DATA, encoding="utf-8")
    return model, data


def test_csv_and_parquet_carry_outputs_under_their_labels(tmp_path):
    model, data = _files(tmp_path)
    for backend in ("vectorized", "reference"):
        out = tmp_path / f"{backend}.parquet"
        r = zhili("eval", model, data, "-o", out, "--backend", backend, "--no-record")
        assert r.exit_code == 0, r.output
        t = pl.read_parquet(out)
        assert t.get_column("亮星数").to_list() == [2, None, 0]  # C2: 治理 not scored
        assert t.get_column("亮星数").dtype == pl.Int64
        assert t.get_column("党建得分").to_list() == [18.0, 17.0, 10.0]
        # count(…) >= 1 decides for C2: 党建 is lit, 治理 unknown
        assert t.get_column("一星以上").to_list() == [True, True, False]
        assert t.get_column("grade").to_list() == ["双星", "达标", "未达标"]
    r = zhili("eval", model, data, "--format", "csv", "--no-record")
    header = r.stdout.splitlines()[0].split(",")
    assert header[header.index("治理") + 1 :][:4] == ["亮星数", "党建得分", "一星以上", "得分率"]


def test_terminal_table_json_and_explain_show_outputs(tmp_path):
    model, data = _files(tmp_path)
    table = zhili("eval", model, data, "--no-record", lang="zh").stdout
    head = next(line for line in table.splitlines() if "亮星数" in line)
    assert "党建得分" in head and "一星以上" in head
    assert "—" in next(line for line in table.splitlines() if line.startswith("二社区"))
    doc = json.loads(zhili("eval", model, data, "--format", "json", "--no-record").stdout)
    first = doc["communities"][0]
    assert first["schema_version"] == 3
    assert first["outputs"][0] == {"id": "星级", "label": "亮星数", "type": "int", "value": 2}
    assert doc["communities"][1]["outputs"][0]["value"] is None
    assert first["outputs"][3]["value"] == 0.875
    text = zhili("explain", model, data, "-c", "C2", lang="zh").stdout
    assert "输出项" in text
    assert "亮星数 [星级] = 缺失" in text
    assert "2 个条件中 1 个成立，1 个无法判定：已知条件即可判定" in text


def test_report_and_run_store_keep_outputs(tmp_path):
    model, data = _files(tmp_path)
    md = tmp_path / "r.md"
    assert zhili("report", model, data, "-o", md, "--no-record").exit_code == 0
    rows = [line for line in md.read_text(encoding="utf-8").splitlines() if "一社区" in line]
    assert any("| 2 | 18 | yes | 87.5% |" in line for line in rows), rows
    db = tmp_path / "runs.db"
    assert zhili("eval", model, data, "--db", db).exit_code == 0
    shown = json.loads(zhili("runs", "--db", db, "show", "latest", "--json").stdout)
    outputs = {c["community_id"]: c["outputs"] for c in shown["communities"]}
    assert outputs["C1"] == {"星级": 2, "党建分": 18.0, "一星以上": True, "得分率": 0.875}
    assert outputs["C2"]["星级"] is None


def test_expect_output_passes_and_fails_with_the_value(tmp_path):
    model = tmp_path / "stars.gov"
    model.write_text(
        MODEL
        + """
test "双星" {
    given { a = 90%  b = 85% }
    expect output 星级 2
    expect output 一星以上 true
    expect output 得分率 87.5%
}
test "缺一项" {
    given { a = 85% }
    expect output 星级 1
    expect output 党建分 17
}
""",
        encoding="utf-8",
    )
    r = zhili("test", model)
    assert r.exit_code == 1
    assert "1 passed, 1 failed" in r.stdout
    assert "output 星级: expected 1, got missing" in r.stdout
