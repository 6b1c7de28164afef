"""Published scoring sheets written as they are (issue 14): each folder under
`tests/sheets/` holds a sheet's model, its tests and a data file. The model
uses the language's forms the way the sheet says its rules (deduction blocks,
steps, tiers as deductions, a gate, a zero event, an exemption, a score given
by another body, last period's value, a multi-select input, an output in a
grade), and must check clean, be formatted, pass its own tests, and score its
data the same on both backends, to the totals worked out by hand below."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cli_helpers import zhili

SHEETS = Path(__file__).parent / "sheets"

# worked out by hand from the sheet's rules (the comments say how)
PING_AN_TOTALS = {
    "和平社区": ("101", "平安社区"),  # every item full, one 特色服务 bonus point
    "友谊社区": ("81", "合格"),  # 10 + 3 × 5 = 25 deducted, at most the item's 20
    "建设社区": ("97", "平安社区"),  # 84%: 6 points short of 90%, a started 5% counts: −4
    "胜利社区": ("88.5", "合格"),  # 0.3 保安 per 100 households: −5; 89%: 7.5 of 15
    "光明社区": ("91", "平安社区"),  # last year's count missing: 信访 missing, 0 of 10
    "团结社区": ("81", "合格"),  # 重大火灾 zeroes 安全生产, the exemption does not help
    "幸福社区": ("101", "合格"),  # exempt from 消防/隐患; 安全感 70%: not 平安社区
    "长青社区": ("93", "平安社区"),  # 党建 not given: 0 of 10; four services: +3 at most
}


@pytest.mark.parametrize("sheet", sorted(p.name for p in SHEETS.iterdir() if p.is_dir()))
def test_sheet_checks_formats_and_passes_its_tests(sheet):
    folder = SHEETS / sheet
    check = zhili("check", folder / "model.gov", folder / "tests.gov")
    assert check.exit_code == 0 and "0 errors, 0 warnings" in check.output, check.output
    fmt = zhili("fmt", "--check", folder / "model.gov", folder / "tests.gov")
    assert fmt.exit_code == 0, fmt.output
    run = zhili("test", folder / "tests.gov")
    assert run.exit_code == 0 and " 0 failed" in run.output, run.output


def test_ping_an_scores_its_data_by_hand_on_both_backends(tmp_path):
    folder = SHEETS / "ping_an"
    outputs = {}
    for backend in ("reference", "vectorized"):
        out = tmp_path / f"{backend}.csv"
        result = zhili(
            "eval", folder / "model.gov", folder / "data.csv", "--no-record",
            "--backend", backend, "-o", out,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs[backend] = out.read_bytes()
    assert outputs["reference"] == outputs["vectorized"]
    rows = list(csv.DictReader((tmp_path / "vectorized.csv").open(encoding="utf-8-sig")))
    got = {r["community"]: (f"{float(r['total']):g}", r["grade"]) for r in rows}
    assert got == PING_AN_TOTALS
    assert [r["群众安全感达标"] for r in rows] == ["true"] * 6 + ["false", "true"]
