"""The plugin hooks beyond models: DSL functions, data readers, exporters.
A plugin that raises or returns garbage is reported with its name and the
others still load."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhili.cli import app as cli_mod
from zhili.dsl.checker import check
from zhili.dsl.functions import Signature
from zhili.dsl.parser import parse
from zhili.engine.eval.evaluate import evaluate_dataset
from zhili.engine.functions import Function
from zhili.engine.hookspecs import hookimpl
from zhili.engine.io import data as data_mod
from zhili.engine.plugins import DataReader, Exporter, Registry, raw_table

# these tests are about loading plugins: every command builds its registry anew
pytestmark = pytest.mark.fresh_registry

MODEL = """\
model hooked "插件函数"
version "1"
issuer "测试"
source "测试"

input a: int label "甲" range 0..100
input b: int label "乙" range 0..100

indicator i "指标" points 10 {
    pass when double(a) > b
}

grades {
    "达标" when total >= 10
    "未达标" otherwise
}
"""


def _read_gwx(path: Path):
    """A district's export: `key=value;key=value` per line."""
    rows = [
        dict(p.split("=", 1) for p in line.split(";")) for line in path.read_text().splitlines()
    ]
    headers = list(rows[0])
    return raw_table(str(path), headers, [[r.get(h) for h in headers] for r in rows])


def _write_md(ev, path: Path) -> None:
    lines = ["| 社区 | 等级 |", "|---|---|"]
    for row in ev.table.select("community_id", "grade").iter_rows():
        lines.append(f"| {row[0]} | {row[1]} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _good_plugin(with_polars: bool = True):
    mod = types.ModuleType("district_x")

    @hookimpl
    def zhili_functions():
        import polars as pl

        return [
            Function(
                Signature("double", ("num",), "same", doc="twice the value"),
                python=lambda x: x * 2,
                polars=(lambda x: x * 2) if with_polars else None,
            )
        ] + ([] if pl else [])

    @hookimpl
    def zhili_data_readers():
        return [DataReader(".gwx", _read_gwx, "区系统导出")]

    @hookimpl
    def zhili_exporters():
        return [Exporter("md", ".md", _write_md, "Markdown 表格")]

    mod.zhili_functions = zhili_functions
    mod.zhili_data_readers = zhili_data_readers
    mod.zhili_exporters = zhili_exporters
    return mod


def _garbage_plugin():
    mod = types.ModuleType("garbage")

    @hookimpl
    def zhili_data_readers():
        raise RuntimeError("boom")

    @hookimpl
    def zhili_exporters():
        return 42

    mod.zhili_data_readers = zhili_data_readers
    mod.zhili_exporters = zhili_exporters
    return mod


def _model(reg: Registry):
    parsed = parse(MODEL, "hooked.gov")
    result = check(parsed.tree, MODEL, reg.signatures)
    assert result.model is not None, result.diagnostics
    return result.model


@pytest.fixture
def gwx(tmp_path) -> Path:
    path = tmp_path / "export.gwx"
    path.write_text(
        "community_id=A-1;community=甲社区;甲=30;乙=50\ncommunity_id=A-2;community=乙社区;甲=10;乙=50\n",
        encoding="utf-8",
    )
    return path


def test_function_reader_and_exporter_work_together(gwx, tmp_path):
    reg = Registry(extra_plugins=[("district_x", _good_plugin())])
    assert reg.problems == []
    assert ".gwx" in reg.data_readers and reg.data_readers[".gwx"].plugin == "district_x"
    model = _model(reg)
    ds = data_mod.load(gwx, model)
    assert not ds.errors
    ev = evaluate_dataset(model, ds, reg)
    assert ev.backend == "vectorized" and not ev.warnings
    assert ev.table["grade"].to_list() == ["达标", "未达标"]
    out = tmp_path / "out.md"
    reg.exporters["md"].write(ev, out)
    assert "| A-1 | 达标 |" in out.read_text(encoding="utf-8")


def test_function_without_polars_falls_back_to_the_interpreter_with_a_warning(gwx):
    reg = Registry(extra_plugins=[("district_x", _good_plugin(with_polars=False))])
    model = _model(reg)
    ev = evaluate_dataset(model, data_mod.load(gwx, model), reg)
    assert ev.backend == "reference"
    assert any("double" in w for w in ev.warnings)
    assert ev.table["grade"].to_list() == ["达标", "未达标"]


def test_garbage_hooks_are_reported_by_name_and_others_still_load(gwx):
    reg = Registry(extra_plugins=[("garbage", _garbage_plugin()), ("district_x", _good_plugin())])
    problems = [str(p) for p in reg.problems]
    assert any(
        p.startswith("plugin garbage: zhili_data_readers raised RuntimeError") for p in problems
    )
    assert any(p.startswith("plugin garbage: zhili_exporters must return") for p in problems)
    assert ".gwx" in reg.data_readers and "md" in reg.exporters
    assert "four_type" in reg.models


def test_a_reader_cannot_take_a_builtin_suffix():
    mod = types.ModuleType("greedy")

    @hookimpl
    def zhili_data_readers():
        return [DataReader(".csv", _read_gwx), "not a reader"]

    mod.zhili_data_readers = zhili_data_readers
    reg = Registry(extra_plugins=[("greedy", mod)])
    problems = [str(p) for p in reg.problems]
    assert "plugin greedy: cannot take the data suffix '.csv'" in problems
    assert any(p.startswith("plugin greedy: not a DataReader") for p in problems)
    assert {p.code for p in reg.problems} == {"plugin-bad-suffix", "plugin-bad-result"}
    assert reg.data_readers == {}


def test_a_failing_reader_is_a_data_error_naming_the_plugin(tmp_path):
    mod = types.ModuleType("broken_reader")

    def read(path):
        raise ValueError("bad export")

    @hookimpl
    def zhili_data_readers():
        return [DataReader(".gwx", read)]

    mod.zhili_data_readers = zhili_data_readers
    Registry(extra_plugins=[("broken_reader", mod)])  # registers the reader
    path = tmp_path / "x.gwx"
    path.write_text("x")
    with pytest.raises(data_mod.DataError, match="broken_reader"):
        data_mod.read_raw(path)


def test_export_command_and_models_json(gwx, tmp_path, monkeypatch):
    reg = Registry(extra_plugins=[("district_x", _good_plugin())])
    monkeypatch.setattr(cli_mod.Ctx, "registry", property(lambda self: reg))
    model_file = tmp_path / "hooked.gov"
    model_file.write_text(MODEL, encoding="utf-8")
    out = tmp_path / "report.md"
    runner = CliRunner()
    result = runner.invoke(
        cli_mod.cli,
        ["--lang", "en", "export", str(model_file), str(gwx), "--format", "md", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "| A-2 | 未达标 |" in out.read_text(encoding="utf-8")
    bad = runner.invoke(
        cli_mod.cli,
        ["--lang", "en", "export", str(model_file), str(gwx), "--format", "pdf", "-o", "x"],
    )
    assert bad.exit_code == 2 and "md" in bad.output
    listed = json.loads(runner.invoke(cli_mod.cli, ["models", "--json"]).stdout)
    assert listed["data_readers"] == [".gwx"] and listed["exporters"] == ["md"]
