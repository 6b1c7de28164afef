"""Golden `zhili explain` output, and "where every point came from".

The golden files in tests/golden/ hold the exact English output of
`zhili --lang en explain MODEL SAMPLE --community ID`. After an intended
change, regenerate them and review the diff:

    ZHILI_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_explain_golden.py

The accounting tests parse the explanation of every community of every
bundled sample: the points shown for the children of each dimension must add
up to the points shown for the dimension (with the rescaling for data left
out under `missing skip` spelled out), and the top level to the total.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhili.cli.app import cli
from zhili.engine.eval.interpreter import compile_model
from zhili.engine.io import data as data_mod
from zhili.engine.plugins import Registry
from zhili.engine.trace.explain import explain_text

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("ZHILI_UPDATE_GOLDEN") == "1"

# (model, community id, what the case shows)
GOLDEN_CASES = [
    ("four_type", "BJ-JT-001", "everything scored, bonus points"),
    ("four_type", "BJ-JT-002", "a veto caps the grade"),
    ("four_type", "BJ-JT-003", "missing data: zero and skip (rescaled) policies"),
    ("five_governance", "JYG-CC-004", "a veto and a skipped indicator"),
    ("wuyou_model", "NC-XC-007", "a veto blocks the best grade"),
]

# Displayed points have at most two decimals: allow their rounding.
ROUNDING = 0.005 + 1e-6


def golden_path(model_id: str, community_id: str) -> Path:
    return GOLDEN / f"explain_{model_id}_{community_id}.txt"


def run_explain(model_id: str, community_id: str) -> str:
    sample = PLUGINS / model_id / "sample.csv"
    result = CliRunner().invoke(
        cli, ["--lang", "en", "explain", model_id, str(sample), "--community", community_id]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    "model_id, community_id",
    [(m, c) for m, c, _ in GOLDEN_CASES],
    ids=[f"{m}-{c}" for m, c, _ in GOLDEN_CASES],
)
def test_explain_matches_golden(model_id, community_id):
    actual = run_explain(model_id, community_id)
    path = golden_path(model_id, community_id)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"no golden file {path.name}; create it with ZHILI_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True),
                actual.splitlines(True),
                f"golden/{path.name}",
                "zhili explain (now)",
            )
        )
        pytest.fail(
            f"`zhili --lang en explain {model_id} --community {community_id}` changed:\n"
            f"{diff}\nIf the change is intended: ZHILI_UPDATE_GOLDEN=1 pytest {__file__}",
            pytrace=False,
        )


def test_no_stale_golden_files():
    expected = {golden_path(m, c).name for m, c, _ in GOLDEN_CASES}
    present = {p.name for p in GOLDEN.glob("explain_*.txt")}
    assert present <= expected, f"golden files no test uses: {sorted(present - expected)}"


# ---------------------------------------------------------------- accounting


NUM = r"-?\d+(?:\.\d+)?"
DIM_RE = re.compile(
    rf"^(?P<pad> *)■ (?P<label>.+?)  (?P<points>{NUM}|—)/(?P<max>{NUM})  \((?P<share>.+)\)$"
)
IND_RE = re.compile(
    rf"^(?P<pad> *)[✓~✗?!] (?P<label>.+) \[(?P<id>[^\]\s]+)\](?P<bonus> \+)?  "
    rf"(?P<points>{NUM}|—)/(?P<max>{NUM})  (?P<outcome>\S+)$"
)
RESCALE_RE = re.compile(
    rf"rescaled: (?P<earned>{NUM}) of the (?P<avail>{NUM}) points that could be scored"
    rf".*?= (?P<score>{NUM})"
)
LEFT_OUT_RE = re.compile(r"left out[^:]*: (?P<ids>[^)]+)\)")
TOTAL_RE = re.compile(rf"^  = total (?P<points>{NUM}|—)/(?P<max>{NUM})(?:  \(not scored\))?$")
NOT_SCORED = "not scored"  # a dimension's share (and the total's note) when nothing in it was


@dataclass
class Node:
    kind: str  # "dimension" | "indicator" | "top"
    label: str
    depth: int
    points: float | None = 0.0  # None: not scored ("—")
    max: float = 0.0
    id: str | None = None
    bonus: bool = False
    outcome: str | None = None
    share: str | None = None  # of a dimension: "87.5%", or "—" when nothing was scored
    rescale: re.Match | None = None
    left_out: set[str] = field(default_factory=set)
    children: list[Node] = field(default_factory=list)
    line: str = ""


def parse_points(text: str) -> tuple[Node, float, float]:
    """The "Points" section of an explanation as a tree, and the total line."""
    lines = text.splitlines()
    start = lines.index("Points") + 1
    root = Node("top", "top", 0)
    stack = [root]
    total = None
    for i, line in enumerate(lines[start:], start):
        if m := TOTAL_RE.match(line):
            total = (_points(m["points"]), float(m["max"]))
            # the rescaling of the total, if any, follows it
            if i + 1 < len(lines) and (r := RESCALE_RE.search(lines[i + 1])):
                root.rescale = r
                if lo := LEFT_OUT_RE.search(lines[i + 1]):
                    root.left_out = {x.strip() for x in lo["ids"].split(",")}
            break
        m = DIM_RE.match(line) or IND_RE.match(line)
        if m is None:
            if r := RESCALE_RE.search(line):
                # belongs to the innermost dimension (or the top level) above it
                owner = stack[-1]
                assert owner.rescale is None, f"two rescale lines for {owner.label}"
                owner.rescale = r
                if lo := LEFT_OUT_RE.search(line):
                    owner.left_out = {x.strip() for x in lo["ids"].split(",")}
            continue
        depth = len(m["pad"]) // 2
        while stack[-1].depth >= depth:
            stack.pop()
        assert stack[-1].depth == depth - 1, f"bad indentation: {line!r}"
        if m.re is DIM_RE:
            node = Node("dimension", m["label"], depth, _points(m["points"]), float(m["max"]))
            node.share = m["share"]
        else:
            node = Node(
                "indicator",
                m["label"],
                depth,
                _points(m["points"]),
                float(m["max"]),
                id=m["id"],
                bonus=bool(m["bonus"]),
                outcome=m["outcome"],
            )
        node.line = line
        stack[-1].children.append(node)
        if node.kind == "dimension":
            stack.append(node)
    assert total is not None, "no `= total` line"
    return root, *total


def _points(text: str) -> float | None:
    return None if text == "—" else float(text)


def left_out(child: Node, parent: Node) -> bool:
    """Left out of `parent`'s points for missing data (`missing skip`)."""
    if child.kind == "dimension":
        return child.share == NOT_SCORED
    return child.id in parent.left_out


def check_accounts(node: Node, declared: float, shown: float, where: str) -> None:
    """The children of `node` add up to `shown` points out of `declared`."""
    kids = node.children
    scored = [k for k in kids if not (node.rescale and left_out(k, node))]
    earned = sum(k.points or 0.0 for k in scored)  # None: not scored, adds nothing
    tol = ROUNDING * (len(scored) + 1) + 1e-9
    # the declared points of the children (bonuses excepted) make up the parent's
    assert abs(sum(k.max for k in kids if not k.bonus) - declared) < 1e-6, (
        f"{where}: children's maximum points do not add up to {declared}"
    )
    if node.rescale is None:
        assert abs(earned - shown) <= tol, (
            f"{where}: children earn {earned:.4f} but {shown} is shown, "
            f"and no rescaling is explained:\n" + "\n".join(k.line for k in kids)
        )
    else:
        r = node.rescale
        avail, score = float(r["avail"]), float(r["score"])
        assert node.left_out, f"{where}: rescaled, but nothing is named as left out"
        assert abs(float(r["earned"]) - earned) <= tol, f"{where}: rescale line vs children"
        assert abs(sum(k.max for k in scored if not k.bonus) - avail) < 1e-6
        assert abs(float(r["earned"]) * declared / avail - score) <= ROUNDING * 2
        assert abs(score - shown) <= ROUNDING
    for k in kids:
        if k.kind == "dimension" and k.points is None:
            # not scored: "—", never 0, and everything in it is missing
            assert k.share == NOT_SCORED, f"{where}: {k.line}"
            assert all(c.outcome == "missing" for c in _leaves(k)), f"{where}: {k.line}"
        elif k.kind == "dimension":
            check_accounts(k, k.max, k.points, f"{where} / {k.label}")
        elif k.points is None:
            # left out by `missing skip`: "—", never 0
            assert k.outcome == "missing", f"{where}: {k.line}"
        else:
            assert 0 <= k.points <= k.max + 1e-9, f"{where}: {k.line}"


def explanations(model_id: str):
    reg = registry()
    lm = reg.models[model_id]
    ds = data_mod.load(lm.samples[0], lm.model, None)
    compiled = compile_model(lm.model, reg.functions)
    for rec, meta in zip(ds.records, ds.meta, strict=True):
        raw = compiled.evaluate(rec, meta)
        yield meta.get("community_id"), raw.to_result(), explain_text(raw)


_REGISTRY: list[Registry] = []


def registry() -> Registry:
    if not _REGISTRY:
        _REGISTRY.append(Registry())
    return _REGISTRY[0]


@pytest.mark.parametrize("model_id", ["four_type", "five_governance", "wuyou_model"])
def test_explanation_accounts_for_every_point(model_id):
    n = 0
    for community_id, result, text in explanations(model_id):
        where = f"{model_id} {community_id}"
        root, total, max_total = parse_points(text)
        assert max_total == result.max_total
        check_accounts(root, max_total, total, where)
        # per top-level dimension: the leaves add up too, and match the result
        top = {d.label or d.id: d for d in result.dimensions if d.parent is None}
        dims = [k for k in root.children if k.kind == "dimension"]
        assert [d.label for d in dims] == list(top), where
        for d in dims:
            assert _same(d.points, top[d.label].score), f"{where}: {d.label}"
            assert d.max == top[d.label].max_points
            if not _has_rescale(d):
                leaves = _leaves(d)
                assert abs(sum(x.points or 0.0 for x in leaves) - d.points) <= 0.01 * max(
                    1, len(leaves) / 2
                ), f"{where}: the indicators of {d.label} do not add up"
        inds = {i.id: i for i in result.indicators}
        for leaf in _leaves(root):
            assert _same(leaf.points, inds[leaf.id].points), f"{where}: {leaf.line}"
        n += 1
    assert n > 0


def _same(shown: float | None, result: float | None) -> bool:
    """Points shown in the explanation against the result's: both not scored
    ("—" and null), or the same to the shown rounding."""
    if shown is None or result is None:
        return shown is None and result is None
    return abs(shown - result) <= ROUNDING


def _leaves(node: Node) -> list[Node]:
    out = []
    for k in node.children:
        out.extend(_leaves(k) if k.kind == "dimension" else [k])
    return out


def _has_rescale(node: Node) -> bool:
    return node.rescale is not None or any(
        _has_rescale(k) for k in node.children if k.kind == "dimension"
    )


@pytest.mark.parametrize(
    "model_id, community_id",
    [(m, c) for m, c, _ in GOLDEN_CASES],
    ids=[f"{m}-{c}" for m, c, _ in GOLDEN_CASES],
)
def test_golden_files_account_for_every_point(model_id, community_id):
    path = golden_path(model_id, community_id)
    if not path.exists():
        pytest.skip("no golden file yet")
    root, total, max_total = parse_points(path.read_text(encoding="utf-8"))
    check_accounts(root, max_total, total, path.name)
    assert any(k.kind == "dimension" for k in root.children)


def test_parser_sees_every_indicator():
    """The accounting parser must not silently skip lines it does not understand."""
    reg = registry()
    lm = reg.models["four_type"]
    _, result, text = next(explanations("four_type"))
    root, _, _ = parse_points(text)
    assert {leaf.id for leaf in _leaves(root)} == {i.id for i in lm.model.indicators}
    assert len(_leaves(root)) == len(result.indicators)


SKIP_GOV = """\
model skip_demo "折算示例"
version "1"
issuer  "测试"
source  "测试"
total   10
missing skip

input a: percent label "甲"
input b: percent label "乙"
input c: percent label "丙"

dimension d1 "一" points 6 {
    indicator i1 "指标一" points 3 { linear a from 0% to 100% }
    indicator i2 "指标二" points 3 { linear b from 0% to 100% }
}
dimension d2 "二" points 4 {
    indicator i3 "指标三" points 4 { linear c from 0% to 100% }
}

grades {
    "好" when total >= 5
    "差" otherwise
}
"""


@pytest.mark.parametrize(
    "record, dims, total, rescaled",
    [
        ({"a": 0.5, "b": 1.0, "c": 0.25}, [4.5, 1], 5.5, set()),
        ({"a": 0.5, "b": None, "c": 0.25}, [3, 1], 4, {"一"}),
        ({"a": 0.5, "b": None, "c": None}, [3, None], 5, {"一", "top"}),
    ],
    ids=["all-scored", "indicator-left-out", "dimension-left-out"],
)
def test_rescaling_is_explained(tmp_path, record, dims, total, rescaled):
    from zhili.engine.plugins import check_file

    path = tmp_path / "skip.gov"
    path.write_text(SKIP_GOV, encoding="utf-8")
    checked = check_file(path, registry().signatures)
    assert checked.ok, [d.message for d in checked.diagnostics]
    compiled = compile_model(checked.result.model, registry().functions)
    raw = compiled.evaluate(record, {"community": "甲社区"})
    text = explain_text(raw)
    root, shown_total, max_total = parse_points(text)
    assert (shown_total, max_total) == (total, 10)
    assert [d.points for d in root.children] == dims
    check_accounts(root, max_total, shown_total, "skip_demo")
    found = {d.label for d in root.children if d.rescale} | ({"top"} if root.rescale else set())
    assert found == rescaled, text
    if root.rescale:
        assert root.left_out == {"d2"}
