"""Suggestions for a name that nearly matches (issue 13, the sheets
engineer's findings): a header for an input's label, a community for
`explain -c`. Chinese names are shortened by leaving characters out, so a
name that holds the other counts as near (东关 → 东关社区)."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import zhili
from zhili.engine.io.table import close_names, norm, strip_unit

CASES = Path(__file__).parent / "data_cases"
MODEL = CASES / "csvread_model.gov"
DATA = (
    "社区编码,社区,街道,常住人口,调解成功率,是否实现多网合一\n"
    "DG-01,东关社区,群众路街道,9017,97.7%,是\n"
    "XG-02,西关社区,群众路街道,10302,85%,否\n"
    "JT-003,福臻社区,东风路街道,8283,95.3%,是\n"
)


def _headers(name: str, headers: list[str]) -> list[str]:
    return close_names(name, headers, key=lambda h: norm(strip_unit(h)))


def test_a_header_that_holds_or_is_held_by_the_label_is_near():
    headers = ["社区编码", "视频监控覆盖(%)", "总户数（户）", "刑事案件数/起"]
    assert _headers("视频监控覆盖率", headers) == ["视频监控覆盖(%)"]
    assert _headers("户数", headers) == ["总户数（户）"]
    assert _headers("刑事案件数", headers) == []  # matched already: not near, the same
    assert _headers("群众满意率", headers) == []


def test_a_changed_character_is_near_too():
    assert _headers("调解成功率", ["调解成攻率", "常住人口"]) == ["调解成攻率"]


def test_explain_suggests_the_community_a_short_name_means(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text(DATA, encoding="utf-8")
    result = zhili("explain", MODEL, data, "-c", "东关")
    assert result.exit_code == 1
    assert "no community '东关' in the data; did you mean 东关社区 (DG-01)?" in result.stderr
    result = zhili("explain", MODEL, data, "-c", "dg-1")  # a digit left out of the id
    assert "did you mean DG-01?" in result.stderr
    result = zhili("explain", MODEL, data, "-c", "北门")
    assert "no community '北门' in the data (e.g. DG-01, XG-02, JT-003)" in result.stderr


def test_the_suggestion_is_translated(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text(DATA, encoding="utf-8")
    result = zhili("explain", MODEL, data, "-c", "东关", lang="zh")
    assert "东关社区 (DG-01)" in result.stderr
    assert "did you mean" not in result.stderr
