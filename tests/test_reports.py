"""Templates and reports as files: a template written by `zhili template`,
filled in with openpyxl, evaluates with zero data problems; every report
format is written, re-read and holds every community; writes are atomic."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from cli_helpers import zhili
from click.testing import CliRunner

from zhili.cli.app import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plugins" / "four_type" / "sample.csv"


def sample_rows(path: Path = SAMPLE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("model_id", ["four_type", "five_governance", "wuyou_model"])
def test_filled_template_evaluates_with_no_problems(tmp_path, model_id):
    """The template's headers are the model's labels with units; filled in
    (with the bundled sample's values, percent cells typed as Excel stores
    them), it evaluates like the sample, without any mapping."""
    tpl = tmp_path / "template.xlsx"
    result = zhili("template", model_id, "-o", tpl)
    assert result.exit_code == 0, result.output
    sample = ROOT / "plugins" / model_id / "sample.csv"
    rows = sample_rows(sample)
    wb = openpyxl.load_workbook(tpl)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["社区编码", "区", "街道", "社区", "网格"]
    assert ws.cell(row=1, column=6).comment is not None, "each field is explained"
    assert "填表说明" in wb.sheetnames
    from zhili.engine.io.data import match_columns
    from zhili.engine.plugins import Registry

    model = Registry().get(model_id).model
    t_inputs, t_meta, t_unmatched = match_columns(headers, model)
    assert t_unmatched == [] and len(t_inputs) == len(model.inputs)
    s_inputs, s_meta, _ = match_columns(list(rows[0]), model)
    source = {t_inputs[k]: s_inputs[k] for k in t_inputs if k in s_inputs}
    source |= {t_meta[k]: s_meta[k] for k in t_meta if k in s_meta}
    for i, row in enumerate(rows, start=2):
        for j, h in enumerate(headers, start=1):
            raw = row.get(source.get(h, ""), "")
            if raw == "":
                continue
            cell = ws.cell(row=i, column=j)
            if raw.endswith("%"):  # Excel stores 85% as 0.85 in a percent-formatted cell
                assert cell.number_format == "0.0%", (h, "the template formats percent cells")
                cell.value = float(raw[:-1]) / 100
            else:
                try:
                    cell.value = int(raw) if raw.lstrip("-").isdigit() else float(raw)
                except ValueError:
                    cell.value = raw
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    from_template = zhili("eval", model_id, filled, "--format", "json", "--strict", "--no-record")
    assert from_template.exit_code == 0, from_template.output
    got = json.loads(from_template.stdout)
    # not even a note: 填表说明 is the template's own sheet, not data left unread
    assert got["data_problems"] == []
    want = json.loads(zhili("eval", model_id, sample, "--format", "json", "--no-record").stdout)[
        "communities"
    ]
    assert [(c["community_id"], c["total"], c["grade"]) for c in got["communities"]] == [
        (c["community_id"], c["total"], c["grade"]) for c in want
    ]


def test_template_has_dropdowns_and_ranges(tmp_path):
    tpl = tmp_path / "t.xlsx"
    assert zhili("template", "four_type", "-o", tpl).exit_code == 0
    ws = openpyxl.load_workbook(tpl).worksheets[0]
    headers = {c.value: c.column_letter for c in ws[1]}
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            rules[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    assert rules[headers["社区类型"]].type == "list"
    assert "商品房小区" in rules[headers["社区类型"]].formula1
    assert rules[headers["是否实现多网合一"]].formula1 == '"是,否"'
    population = rules[headers["常住人口（人）"]]
    assert (population.type, population.formula1, population.formula2) == ("whole", "0", "200000")


def test_template_csv(tmp_path):
    out = tmp_path / "t.csv"
    assert zhili("template", "four_type", "-o", out).exit_code == 0
    header = out.read_bytes().decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:5] == ["社区编码", "区", "街道", "社区", "网格"]
    assert "常住人口（人）" in header


def test_template_bad_suffix(tmp_path):
    assert zhili("template", "four_type", "-o", tmp_path / "t.pdf").exit_code == 2


# ---------------------------------------------------------------- reports


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    for fmt in ("xlsx", "html", "md", "csv", "json"):
        result = zhili("report", "four_type", SAMPLE, "-o", out / f"r.{fmt}", "--no-record")
        assert result.exit_code == 0, result.output
    return out


def test_xlsx_report_sheets_and_numbers(reports):
    wb = openpyxl.load_workbook(reports / "r.xlsx")
    assert wb.sheetnames == [
        "Summary",
        "By district",
        "By street",
        "Communities",
        "Indicators",
        "Indicator failures",
        "Gap analysis",
        "Data problems",
    ]
    ev = json.loads(zhili("eval", "four_type", SAMPLE, "--format", "json", "--no-record").stdout)
    communities = wb["Communities"]
    header = [c.value for c in communities[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in communities.iter_rows(2)]
    assert len(rows) == len(ev["communities"])
    for row, c in zip(rows, ev["communities"], strict=True):
        assert row["community id"] == c["community_id"]
        assert row["grade"] == c["grade"]
        assert row["total"] == pytest.approx(c["total"], abs=0.005)
    assert communities.conditional_formatting, "grades and totals are coloured"
    # the summary: grade counts and the four_type target
    summary = [[c.value for c in r] for r in wb["Summary"].iter_rows()]
    counts = {}
    for c in ev["communities"]:
        counts[c["grade"]] = counts.get(c["grade"], 0) + 1
    for grade, n in counts.items():
        assert any(r[0] == grade and r[1] == n for r in summary), grade
    target = ev["targets"][0]
    assert any(r[0] == target["label"] and r[3] == pytest.approx(target["actual"]) for r in summary)
    # roll-ups add up
    district = wb["By district"]
    dh = [c.value for c in district[1]]
    assert sum(r[dh.index("communities")].value for r in district.iter_rows(2)) == len(rows)
    # the indicator sheet counts outcomes for every community
    ind = wb["Indicators"]
    ih = [c.value for c in ind[1]]
    for r in ind.iter_rows(2):
        v = [c.value for c in r]
        total = sum(v[ih.index(k)] for k in ("pass", "partial", "fail", "missing"))
        assert total == len(rows)


def test_html_report_is_self_contained_and_has_every_community(reports):
    text = (reports / "r.html").read_text(encoding="utf-8")

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells: list[str] = []
            self.tags: set[str] = set()
            self.srcs: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)
            for k, v in attrs:
                if k in ("src", "href"):
                    self.srcs.append(v)

        def handle_data(self, data):
            self.cells.append(data.strip())

    p = Collect()
    p.feed(text)
    assert "svg" in p.tags and "table" in p.tags
    assert "script" not in p.tags and p.srcs == [], "no external resources"
    for row in sample_rows():
        assert row["社区"] in p.cells


def test_markdown_csv_json_reports(reports):
    md = (reports / "r.md").read_text(encoding="utf-8")
    rows = sample_rows()
    assert all(r["社区"] in md for r in rows)
    with (reports / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        got = list(csv.DictReader(f))
    assert [g["community"] for g in got] == [r["社区"] for r in rows]
    data = json.loads((reports / "r.json").read_text(encoding="utf-8"))
    assert len(data["communities"]) == len(rows)
    assert data["targets"][0]["grade"] == "四型社区"
    assert data["gaps"], "gap analysis for communities below the top grade"
    assert any(g["input"] for g in data["gaps"])


def test_report_is_written_atomically(tmp_path, monkeypatch):
    """An error while writing leaves neither a half-written report nor a
    temporary file, and an existing report untouched."""
    from zhili.engine.report import xlsx

    out = tmp_path / "r.xlsx"
    out.write_bytes(b"old report")

    def boom(report):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(xlsx, "workbook", boom)
    args = ["--lang", "en", "report", "four_type", str(SAMPLE), "-o", str(out), "--no-record"]
    with pytest.raises(RuntimeError):
        CliRunner().invoke(cli, args, catch_exceptions=False)
    assert out.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_write_report_writes_what_each_renderer_renders(tmp_path):
    """write_report dispatches by suffix to one renderer per format: the file
    holds that renderer's output (CSV with a BOM for Excel)."""
    from zhili.engine.eval.evaluate import evaluate_dataset
    from zhili.engine.io.data import load
    from zhili.engine.plugins import Registry
    from zhili.engine.report import build, csv, html, json, markdown, xlsx

    reg = Registry()
    model = reg.get("four_type").model
    report = build.build_report(evaluate_dataset(model, load(SAMPLE, model), reg), gap_limit=5)
    for fmt, module in (("html", html), ("md", markdown), ("json", json)):
        build.write_report(report, tmp_path / f"r.{fmt}")
        assert (tmp_path / f"r.{fmt}").read_text(encoding="utf-8") == module.render(report)
        assert build.render_bytes(report, fmt) == module.render(report).encode("utf-8")
    build.write_report(report, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_bytes() == csv.render(report).encode("utf-8-sig")
    build.write_report(report, tmp_path / "r.xlsx")
    assert (
        openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == xlsx.workbook(report).sheetnames
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"r.{f}" for f in sorted(build.FORMATS)]
    with pytest.raises(ValueError, match="unsupported report format .pdf"):
        build.write_report(report, tmp_path / "r.pdf")


def test_report_bad_output_suffix(tmp_path):
    assert zhili("report", "four_type", SAMPLE, "-o", tmp_path / "r.pdf").exit_code == 2


def test_report_from_xlsx_with_problems_lists_them(tmp_path):
    rows = sample_rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(list(rows[0]))
    for r in rows:
        ws.append(list(r.values()))
    ws["E2"] = "很多"  # 常住人口 of the first community
    data = tmp_path / "d.xlsx"
    wb.save(data)
    out = tmp_path / "r.json"
    result = zhili("report", "four_type", data, "-o", out, "--no-record")
    assert result.exit_code == 0, result.output
    problems = json.loads(out.read_text(encoding="utf-8"))["data_problems"]
    bad = [p for p in problems if p["raw"] == "很多"]
    assert [(p["sheet"], p["row"], p["column"]) for p in bad] == [("数据", 2, "常住人口")]


def test_gap_in_explain(tmp_path):
    """explain shows the smallest single-input changes that reach the next grade."""
    ev = json.loads(zhili("eval", "wuyou_model", "--format", "json", "--no-record").stdout)
    below = next(c for c in ev["communities"] if c["gap"])
    result = zhili("explain", "wuyou_model", "-c", below["community_id"], "--json")
    gap = json.loads(result.stdout)["gap"]
    assert gap["next_grade"] == below["gap"]["next_grade"]
    text = zhili("explain", "wuyou_model", "-c", below["community_id"]).stdout
    assert "Gap to" in text


def test_smallest_change_reaches_the_next_grade():
    """Applying the suggested change to the record really lifts the grade."""
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.io.data import load
    from zhili.engine.plugins import Registry
    from zhili.engine.trace.gap import smallest_changes

    reg = Registry()
    checked = 0
    for model_id in ("four_type", "five_governance", "wuyou_model"):
        lm = reg.get(model_id)
        ds = load(lm.samples[0], lm.model)
        compiled = compile_model(lm.model, reg.functions)
        for rec, meta in zip(ds.records, ds.meta, strict=True):
            raw = compiled.evaluate(rec, meta)
            for item in smallest_changes(raw):
                assert item.kind == "change" and item.indicators or "veto" in item.text
                after = compiled.evaluate({**rec, item.id: item.needed}, meta)
                assert after.grade_index is not None
                assert after.grade_index < (raw.grade_index if raw.grade_index is not None else 99)
                checked += 1
    assert checked > 10


def test_smallest_change_text():
    """社区工作者 style: the input, the change with its unit, the indicator's new value."""
    from zhili.dsl.checker import check
    from zhili.dsl.parser import parse
    from zhili.engine.eval.interpreter import compile_model
    from zhili.engine.trace.gap import smallest_changes

    src = """model m "M"
total 10
input population: int label "常住人口" unit "人" range 0..200000
input workers: int label "社区工作者人数" unit "人" range 0..500
dimension d "配备" points 10 {
    indicator staff "社区工作者配备" points 10 {
        tiers per_10k(workers, population) { >= 18 : 10  >= 9 : 5 }
    }
}
grades { "达标" when total >= 10  "未达标" otherwise }
"""
    checked = check(parse(src).tree, src)
    assert checked.ok, [d.message for d in checked.diagnostics]
    compiled = compile_model(checked.model)
    raw = compiled.evaluate({"population": 10000, "workers": 15})
    items = smallest_changes(raw)
    assert [i.id for i in items] == ["workers", "population"]
    assert items[0].needed == 18
    assert items[0].text.startswith("社区工作者人数 +3 人 (15 → 18) → 社区工作者配备 18")
    assert items[1].needed == 8333 and items[1].text.startswith("常住人口 -1667 人")
