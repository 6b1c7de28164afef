"""The column-wise (Polars) cell conversion must agree with the reference
cell-by-cell `convert()` on every input: same value, same problem message."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.dsl.model import InputField
from zhili.engine.io.data import MISSING_TOKENS, convert, convert_columns

FIELDS = [
    InputField(id="n", type="int"),
    InputField(id="r", type="int", min=0, max=500),
    InputField(id="x", type="number"),
    InputField(id="w", type="number", unit="万元"),
    InputField(id="p", type="percent", min=0.0, max=1.0),
    InputField(id="q", type="percent"),
    InputField(id="fr", type="percent", fractions=True, min=0.0, max=1.0),
    InputField(id="fq", type="percent", fractions=True),
    InputField(id="b", type="bool"),
    InputField(id="e", type="enum", values=["老旧小区", "商品房小区", "Unit Type"]),
    InputField(id="d", type="date"),
    InputField(id="t", type="text"),
]

PIECES = [
    "0",
    "1",
    "2",
    "5",
    "9",
    "12",
    "85",
    "100",
    "1200",
    "3.5",
    ".5",
    "1.",
    "007",
    "1e3",
    "2E-2",
    "１２３",
    "８５",
    "-",
    "+",
    ",",
    "，",
    ".",
    "%",
    "％",
    " ",
    "\u3000",
    "万",
    "亿",
    "人",
    "平方米",
    "元",
    "是",
    "否",
    "有",
    "无",
    "√",
    "×",
    "true",
    "False",
    "Y",
    "n",
    "对",
    "没有",
    "错",
    "空",
    "—",
    "/",
    "N/A",
    "#N/A",
    "null",
    "nan",
    "缺失",
    "老旧小区",
    "商品房 小区",
    "unit type",
    "2024",
    "-01",
    "-1",
    "年",
    "月",
    "日",
    "/",
    "2024-02-30",
    "2024-06-30",
    "2024年6月3日",
    "x",
    "e",
    "١٢٣",
    "inf",
    "1_000",
    # garbage after a number, commas in and out of groups, underflow
    "abc",
    " (估计)",
    "估计",
    "左右",
    "约",
    "多",
    "(",
    ",5",
    ",234",
    "1,234",
    "1.234,5",
    "e-400",
    "1e-400",
]

cells = st.one_of(
    st.none(),
    st.sampled_from(sorted(MISSING_TOKENS)),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join),
    st.text(max_size=6),
)


def _vectorized(
    values: list[str | None], f: InputField, fast_from: int = 10**9
) -> list[tuple[object, str | None]]:
    """The column conversion of `values`: staged for the whole column, or
    (fast_from=0) the large-table path with its plain-number shortcut and
    distinct-value table."""
    frame = pl.DataFrame({"c0": pl.Series(values, dtype=pl.String)})
    out = convert_columns(frame, {"k": ("c0", f)}, fast_from=fast_from)
    assert [c for c in out.columns if c.startswith("~")] == []  # no scratch columns left
    return list(zip(out.get_column("in.k").to_list(), out.get_column("p.k").to_list(), strict=True))


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        return a == b
    return a == b and type(a) is type(b)


@settings(max_examples=300, deadline=None)
@given(st.lists(cells, min_size=1, max_size=20))
def test_column_conversion_matches_cell_conversion(values):
    for f in FIELDS:
        for fast_from in (10**9, 0):
            got = _vectorized(values, f, fast_from)
            for raw, (v, m) in zip(values, got, strict=True):
                ref_v, ref_m = convert(raw, f)
                assert m == ref_m, (f.id, fast_from, raw, v, m, ref_v, ref_m)
                assert _same(v, ref_v), (f.id, fast_from, raw, v, ref_v)


def test_named_examples():
    cases = {
        "r": ["1,234", "１２３", "18人", "-1", "12.5", "1.2万", "", "501", "12E-2８５", "+5"],
        "n": ["12E-2８５", "1e400", "-0", "99999999999999", "999999999999999.99", "1e-400"],
        "x": ["1.5", "0.1", "1e99999999999999999999", "-1e-99999999999999999999", "3.25万"],
        "w": ["1.5万元", "2亿", "3万", "4 万元", "5元"],
        "z": ["12abc", "12 (估计)", "1,5", "1.234,5", "1e-400", "1,234", "1,234,567.5", "12人,"],
        "h": ["12估计", "约12", "12左右", "30多", "100余人", "12 估计", "1,234左右", "12人"],
        "p": ["85%", "85.5％", "85", "101%", "0.5", "85.3%", "85%%", "100.0%", "0.85", "-0.5"],
        "q": ["1", "1.0", "0", "0.00", ".9", "1e-1", "1.5e-1%", "-0.001"],
        "fr": ["0.85", "1", "1.0", "1.5", "85", "85%", "0", "-0.5", "1e-1", "10e-1", "100%"],
        "fq": ["-1", "-1.01", "1.0000000001", "0.5%", "2", "12e-2"],
        "b": ["是", "否", "有", "无", "√", "×", "TRUE", "0", "也许"],
        "e": ["老旧小区", " 商品房 小区 ", "UNIT TYPE", "别墅"],
        "d": ["2024-06-30", "2024/6/3", "2024年6月3日", "2024-02-30", "0000-01-01", "昨天"],
    }
    by_id = {f.id: f for f in FIELDS} | {
        "z": InputField(id="z", type="number"),
        "h": InputField(id="h", type="int"),
    }
    for fid, values in cases.items():
        f = by_id[fid]
        for fast_from in (10**9, 0):
            for raw, (v, m) in zip(values, _vectorized(values, f, fast_from), strict=True):
                ref_v, ref_m = convert(raw, f)
                assert m == ref_m, (fid, raw)
                assert _same(v, ref_v), (fid, raw, v, ref_v)


def test_large_table_path_gives_the_same_dataset(tmp_path, monkeypatch):
    """A whole sample file through convert_table: the large-table path
    (plain numbers cast, distinct values converted once) and the staged
    path give the same frame and the same problems, in the same order."""
    from pathlib import Path

    from zhili.engine.io import data as data_mod
    from zhili.engine.plugins import Registry
    from zhili.engine.sample import write_sample

    model = Registry().get("four_type").model
    path = Path(tmp_path) / "s.csv"
    write_sample(model, path, 400, 11, 0.25)
    # spoil some cells so that there are problems to report
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    for k in range(1, len(lines), 37):
        cells = lines[k].split(",")
        cells[5] = "很多"
        cells[-1] = "-5"
        lines[k] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = data_mod.read_raw(path)
    monkeypatch.setattr(data_mod, "FAST_FROM_ROWS", 10**9)
    staged = data_mod.convert_table(raw, model)
    monkeypatch.setattr(data_mod, "FAST_FROM_ROWS", 0)
    columns = []
    real = data_mod._convert_large
    monkeypatch.setattr(
        data_mod,
        "_convert_large",
        lambda frame, col, *a: columns.append(col) or real(frame, col, *a),
    )
    large = data_mod.convert_table(raw, model)
    assert len(columns) == len(model.inputs)  # every column took the large-table path
    assert staged.frame.equals(large.frame)
    assert [str(p) for p in staged.problems] == [str(p) for p in large.problems]
    assert sum(1 for p in staged.problems if p.severity == "warning") >= 10


def test_dui_and_cuo_are_yes_and_no(tmp_path):
    """对 was read as yes but 错 was "not a yes/no value" (a sheet of 对/错)."""
    from pathlib import Path

    from zhili.dsl.checker import check as check_model
    from zhili.dsl.parser import parse as parse_model
    from zhili.engine.io.data import load

    text = (Path(__file__).parent / "data_cases" / "csvread_model.gov").read_text(encoding="utf-8")
    model = check_model(parse_model(text).tree, text).model
    path = tmp_path / "d.csv"
    path.write_text(
        "社区编码,社区,是否实现多网合一\nA,甲,对\nB,乙,错\nC,丙, 错 \n", encoding="utf-8"
    )
    ds = load(path, model)
    assert ds.frame.get_column("in.grid").to_list() == [True, False, False]
    assert not [p for p in ds.problems if p.column == "是否实现多网合一"]
