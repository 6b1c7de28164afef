"""The formatter (`zhili fmt`): round trips, fixed points and comments.

Property tests generate random syntax trees, print them and parse them back
(`parse(format(tree)) == tree`, spans ignored); a golden test pins the layout;
every model shipped under plugins/ must format to a fixed point with its
comments intact.
"""

from __future__ import annotations

import pathlib
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhili.dsl import ast
from zhili.dsl.formatter import format_expr, format_file, format_source, quote, source_tokens
from zhili.dsl.parser import lark_parser, parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGIN_MODELS = sorted(ROOT.glob("plugins/**/*.gov"))

# Every keyword of the grammar (string terminals that look like words): exactly
# the reserved words listed at the end of docs/language.md.
RESERVED = frozenset(
    t.pattern.value
    for t in lark_parser().terminals
    if t.pattern.type == "str" and t.pattern.value.isidentifier()
)

# Hypothesis warns that the (recursive) strategies have long reprs; harmless.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def comments_of(text: str) -> list[str]:
    return [str(t).rstrip() for t in source_tokens(text) if t.type == "COMMENT"]


def fmt(text: str) -> str:
    out, diags = format_source(text, "test.gov")
    assert out is not None, [d.message for d in diags]
    return out


# ---------------------------------------------------------------- strategies

_LETTERS = "abcdefghxyz_社区治理平安型工作者人口率"
identifiers = st.one_of(
    st.sampled_from(["population", "workers", "社区工作者", "调解率", "notes", "maxi", "in_x"]),
    st.text(alphabet=_LETTERS, min_size=1, max_size=5).flatmap(
        lambda head: st.text(alphabet=_LETTERS + "0123456789", max_size=3).map(lambda t: head + t)
    ),
).filter(lambda s: s not in RESERVED)
idents = identifiers.map(ast.Ident)
strings = st.text(alphabet='ab 社区“”治理"\\\n\t#%(){}', max_size=8).map(ast.String)
opt_strings = st.none() | strings

_int_text = st.one_of(st.integers(0, 10**6).map(str), st.from_regex(r"0[0-9]{1,2}", fullmatch=True))
_dec_text = st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True)


def _number(text: str) -> ast.Number:
    return ast.Number(float(text) if "." in text else int(text), text)


def _percent(text: str) -> ast.Percent:
    # the parser's value: the double nearest to the decimal (1.1% is 0.011)
    return ast.Percent(float(Decimal(text).scaleb(-2)), text)


def _negate(node):
    kind = type(node)
    return kind(-node.value, "-" + node.text)


int_numbers = _int_text.map(_number)
numbers = st.one_of(_int_text, _dec_text).map(_number)  # grammar `number`
percents = st.one_of(_int_text, _dec_text).map(_percent)
unsigned = numbers | percents


@st.composite
def signed(draw):  # grammar `signed`: a number or percent, maybe negative
    node = draw(unsigned)
    return _negate(node) if draw(st.booleans()) else node


dates = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)).map(
    lambda d: ast.DateLit(d, d.isoformat())
)
names = st.one_of(identifiers, st.sampled_from(["total", "vetoed"])).map(ast.Name)
FUNCTIONS = ["ratio", "per_10k", "min", "clamp", "abs", "round", "coalesce", "default"]
FUNCTIONS += ["between", "count", "is_missing"]
FUNCTIONS += ["floor", "ceil"]

expr_leaves = st.one_of(
    numbers, percents, strings, st.booleans().map(ast.Bool), dates, names, names
)
BINARY_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]


def _extend(children):
    small = st.lists(children, max_size=3).map(tuple)
    return st.one_of(
        st.builds(ast.Unary, st.sampled_from(["-", "not"]), children),
        st.builds(ast.Binary, st.sampled_from(BINARY_OPS), children, children),
        st.builds(ast.Binary, st.sampled_from(BINARY_OPS), children, children),
        st.builds(ast.In, children, small, st.booleans()),
        st.builds(ast.InSet, children, identifiers.map(ast.Name), st.booleans()),
        st.builds(ast.If, children, children, children),
        st.builds(ast.Call, st.sampled_from(FUNCTIONS) | identifiers, small),
        # `points(X)`: `points` is a keyword, its argument one name
        st.builds(lambda n: ast.Call("points", (n,)), identifiers.map(ast.Name)),
    )


exprs = st.recursive(expr_leaves, _extend, max_leaves=10)
small_exprs = st.recursive(expr_leaves, _extend, max_leaves=4)
policies = st.sampled_from(["zero", "skip"])

tiers_list = st.lists(
    st.one_of(
        st.builds(
            ast.Tier, st.sampled_from([">=", ">", "<=", "<", "==", "!="]), small_exprs, numbers
        ),
        st.builds(ast.Tier, st.none(), st.none(), numbers),
    ),
    min_size=1,
    max_size=4,
).map(tuple)

opt_caps = st.none() | numbers
step_causes = st.builds(
    lambda kind, d, step, part, v, t, label, cap: ast.DeductCause(
        kind, d, v, label, cap, step, part, t
    ),
    st.sampled_from(["below", "above"]),
    numbers,
    small_exprs,
    st.booleans(),
    small_exprs,
    small_exprs,
    opt_strings,
    opt_caps,
)
when_causes = st.builds(
    lambda d, c, label: ast.DeductCause("when", d, c, label), numbers, small_exprs, opt_strings
)
deduct_causes = st.one_of(
    st.builds(
        lambda d, n, label, cap: ast.DeductCause("per", d, n, label, cap),
        numbers,
        small_exprs,
        opt_strings,
        opt_caps,
    ),
    when_causes,
    step_causes,
    st.builds(
        lambda v, label, tiers: ast.DeductCause("tiers", None, v, label, tiers=tiers),
        small_exprs,
        opt_strings,
        tiers_list,
    ),
)
deductions = st.one_of(
    st.builds(
        lambda causes, cap: ast.Deductions(tuple(causes), cap, True),
        st.lists(deduct_causes, min_size=1, max_size=4),
        opt_caps,
    ),
    (when_causes | step_causes).map(lambda c: ast.Deductions((c,), None, False)),
    st.builds(
        lambda v, tiers: ast.Deductions(
            (ast.DeductCause("tiers", None, v, tiers=tiers),), None, False
        ),
        small_exprs,
        tiers_list,
    ),
)

scorings = st.one_of(
    deductions,
    st.builds(ast.PassWhen, small_exprs),
    st.builds(ast.Linear, small_exprs, small_exprs, small_exprs),
    st.builds(ast.Tiers, small_exprs, tiers_list),
    st.builds(ast.Deduct, numbers, small_exprs, st.none() | numbers),
    st.builds(ast.BonusPer, numbers, small_exprs, st.none() | numbers),
    st.builds(ast.BonusWhen, small_exprs),
    st.builds(ast.Score, small_exprs, opt_strings),
)

# events around the scoring form (前提、清零、免检)
gates = st.builds(ast.Requires, small_exprs, opt_strings)
zero_events = st.builds(ast.ZeroWhen, small_exprs, opt_strings)
exempts = st.builds(
    ast.Exempt,
    idents,
    opt_strings,
    st.lists(idents, min_size=1, max_size=3).map(tuple),
    small_exprs,
)

indicators = st.builds(
    ast.Indicator,
    idents,
    opt_strings,
    numbers,
    st.lists(scorings, max_size=2).map(tuple),
    st.none() | policies,
    opt_strings,
    opt_strings,
    requires=st.lists(gates, max_size=2).map(tuple),
    zero=st.lists(zero_events, max_size=2).map(tuple),
    method=opt_strings,
)


@st.composite
def vetoes(draw):
    effect = draw(st.sampled_from([None, "caps", "blocks"]))
    grade = draw(strings) if effect else None
    return ast.Veto(
        draw(idents),
        draw(opt_strings),
        draw(small_exprs),
        effect,
        grade,
        draw(opt_strings),
        draw(opt_strings),
    )


def dimensions(depth: int = 2):
    children = [indicators, vetoes(), exempts]
    if depth > 0:
        children.append(st.deferred(lambda: dimensions(depth - 1)))
    return st.builds(
        ast.Dimension,
        idents,
        opt_strings,
        st.none() | numbers,
        st.none() | percents,
        st.none() | policies,
        st.lists(st.one_of(*children), max_size=3).map(tuple),
        opt_strings,
        opt_strings,
        zero=st.lists(zero_events, max_size=2).map(tuple),
    )


TYPE_NAMES = ["int", "number", "percent", "bool", "text", "date"]
types = st.one_of(
    st.sampled_from(TYPE_NAMES).map(ast.TypeRef),
    st.lists(st.text(alphabet='ab社区"\\ ', max_size=4), min_size=1, max_size=3).map(
        lambda vs: ast.TypeRef("enum", tuple(vs))
    ),
    st.lists(st.text(alphabet='ab社区"\\ ', max_size=4), min_size=1, max_size=3).map(
        lambda vs: ast.TypeRef("set", tuple(vs))
    ),
)
inputs = st.builds(
    ast.Input,
    idents,
    types,
    opt_strings,
    opt_strings,
    st.none() | st.tuples(signed(), signed()),
    st.sampled_from([None, True, False]),
    opt_strings,
    previous=st.none() | idents,
)
lets = st.builds(ast.Let, idents, opt_strings, exprs)
outputs = st.builds(ast.Output, idents, opt_strings, exprs)
metas = st.one_of(
    st.builds(
        ast.Meta, st.sampled_from(["title", "version", "issuer", "source", "description"]), strings
    ),
    st.builds(ast.Meta, st.just("effective"), dates),
    st.builds(ast.Meta, st.just("total"), numbers),
    st.builds(ast.Meta, st.just("missing"), policies),
)
grade_rules = st.builds(ast.GradeRule, strings, st.none() | small_exprs)
grades = st.builds(ast.Grades, st.lists(grade_rules, min_size=1, max_size=4).map(tuple))
targets = st.builds(ast.Target, opt_strings, strings, st.just(">="), percents, st.none() | dates)


@st.composite
def overrides(draw):
    name = draw(idents)
    if draw(st.booleans()):
        return ast.Override(name, True)
    points, scoring, label = draw(st.tuples(st.none() | numbers, st.none() | scorings, opt_strings))
    requires = draw(st.none() | gates)
    zero = tuple(draw(st.lists(zero_events, max_size=2)))
    if points is None and scoring is None and label is None and requires is None and not zero:
        points = draw(numbers)
    return ast.Override(name, False, points, scoring, label, requires=requires, zero=zero)


literals = st.one_of(
    signed(),
    strings,
    st.booleans().map(ast.Bool),
    dates,
    st.just(ast.Missing()),
    st.lists(strings, max_size=3).map(lambda xs: ast.ListLit(tuple(xs))),
)
assigns = st.builds(ast.Assign, idents, literals)
OUTCOMES = ["pass", "partial", "fail", "missing", "vetoed"]
expectations = st.one_of(
    st.builds(ast.Expectation, st.just("grade"), text=strings),
    st.builds(ast.Expectation, st.just("total"), value=signed(), within=st.none() | numbers),
    st.builds(
        ast.Expectation,
        st.just("dimension"),
        target=idents,
        value=signed(),
        within=st.none() | numbers,
    ),
    st.builds(
        ast.Expectation,
        st.just("indicator"),
        target=idents,
        outcome=st.sampled_from(OUTCOMES),
        value=st.none() | signed(),
    ),
    st.builds(ast.Expectation, st.just("veto"), target=idents),
    st.builds(ast.Expectation, st.just("no_veto")),
    st.builds(ast.Expectation, st.just("missing"), value=int_numbers),
    st.builds(ast.Expectation, st.just("output"), target=idents, literal=literals),
)


@st.composite
def case_nodes(draw):
    data = draw(opt_strings)
    return ast.TestCase(
        draw(strings),
        draw(st.none() | st.lists(assigns, max_size=3).map(tuple)),
        data,
        draw(opt_strings) if data is not None else None,
        tuple(draw(st.lists(expectations, max_size=4))),
    )


imports = st.lists(st.builds(ast.Import, strings, st.none() | idents), max_size=2).map(tuple)
model_items = st.one_of(
    metas,
    inputs,
    lets,
    outputs,
    dimensions(),
    indicators,
    vetoes(),
    grades,
    targets,
    case_nodes(),
    overrides(),
    exempts,
)


model_files = st.builds(
    ast.ModelFile,
    idents,
    opt_strings,
    st.none() | st.builds(ast.Extends, idents, opt_strings),
    imports,
    st.lists(model_items, max_size=6).map(tuple),
    baseline=st.none() | st.lists(assigns, max_size=3).map(tuple),
)
tests_files = st.builds(
    ast.TestsFile,
    idents,
    imports,
    st.lists(case_nodes(), max_size=3).map(tuple),
    baseline=st.none() | st.lists(assigns, max_size=3).map(tuple),
)
files = st.one_of(model_files, model_files, tests_files)


# ---------------------------------------------------------------- properties


def _roundtrip(tree: ast.File) -> str:
    text = format_file(tree)
    result = parse(text, "generated.gov")
    assert result.tree is not None, (text, [d.message for d in result.diagnostics])
    assert result.tree == tree, text
    return text


@SETTINGS
@given(files)
def test_generated_files_round_trip_and_are_fixed_points(tree):
    text = _roundtrip(tree)
    assert fmt(text) == text


@settings(max_examples=150, deadline=None)
@given(exprs)
def test_expressions_round_trip(expr):
    text = f"model m\nlet x = {format_expr(expr)}\n"
    result = parse(text)
    assert result.tree is not None, text
    assert result.tree.items[0].expr == expr, text


def _grouping_parens(text: str) -> list[tuple[int, int]]:
    """Offsets of matching `(` `)` that group (not the parentheses of a call)."""
    tokens = [t for t in source_tokens(text) if t.type not in ("WS", "COMMENT")]
    stack, pairs = [], []
    for i, tok in enumerate(tokens):
        if tok.type == "LPAR":
            stack.append((tok.start_pos, i > 0 and tokens[i - 1].type == "NAME"))
        elif tok.type == "RPAR":
            start, is_call = stack.pop()
            if not is_call:
                pairs.append((start, tok.start_pos))
    return pairs


@settings(max_examples=150, deadline=None)
@given(exprs)
def test_expressions_have_no_redundant_parentheses(expr):
    text = f"model m\nlet x = {format_expr(expr)}\n"
    for start, end in _grouping_parens(text):
        shorter = text[:start] + " " + text[start + 1 : end] + " " + text[end + 1 :]
        result = parse(shorter)
        assert result.tree is None or result.tree.items[0].expr != expr, (text, shorter)


@st.composite
def messy_with_comments(draw):
    """A formatted file, messed up: comments added everywhere, lines re-indented
    and joined. Returns (messy text, the comments in order)."""
    text = format_file(draw(model_files | tests_files))
    out, added = [], []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if draw(st.integers(0, 3)) == 0:
            added.append(f"# 前注 {len(added)} (x)")
            out.append(" " * draw(st.integers(0, 9)) + added[-1] + "\n")
        out.append(" " * draw(st.integers(0, 9)) + line.strip())
        if draw(st.integers(0, 3)) == 0:
            added.append(f"#尾注{len(added)}  {{ ")
            out.append("   " + added[-1])
            out.append("\n")
        elif n + 1 < len(lines) and draw(st.integers(0, 4)) == 0:
            out.append(" ")  # join with the next line
        else:
            out.append("\n" * draw(st.integers(1, 3)))
    return "".join(out), [c.rstrip() for c in added]


@SETTINGS
@given(messy_with_comments())
def test_comments_survive_in_order_and_formatting_is_idempotent(case):
    messy, added = case
    once = fmt(messy)
    assert comments_of(once) == added
    assert parse(once).tree == parse(messy).tree
    assert fmt(once) == once


@st.composite
def comments_between_tokens(draw):
    """A formatted file with a comment after any token (inside expressions,
    headers, `given` blocks…). Returns (text, the comments in order)."""
    text = format_file(draw(model_files | tests_files))
    tokens = [t for t in source_tokens(text) if t.type not in ("WS", "COMMENT")]
    chosen = draw(st.sets(st.integers(0, len(tokens) - 1), max_size=8))
    added = [f"# 注{n}" for n in range(len(chosen))]
    for n, i in enumerate(sorted(chosen, reverse=True)):
        end = tokens[i].end_pos
        text = f"{text[:end]} {added[len(chosen) - 1 - n]}\n{text[end:]}"
    return text, added


@SETTINGS
@given(comments_between_tokens())
def test_comments_between_any_tokens_survive(case):
    text, added = case
    once = fmt(text)
    assert comments_of(once) == added
    assert parse(once).tree == parse(text).tree
    assert fmt(once) == once


# ---------------------------------------------------------------- golden

MESSY = """\
# 文件头注释
import "common.gov"   as   common   # 引入
model demo "示例模型"   extends base
  "2" # 版本
version "2024.1"
total 100 missing skip
effective 2024-01-01
input pop : int label "常住人口"
   unit "人" range 0 .. 200000 required   # 人口
input rate: percent range 0% .. 100% optional note "说明\\"引号\\"" input kind: enum("老旧小区","商品房小区",) label "类型"
let per10k "每万人" = ((per_10k(workers, pop)))
let x=(a-b)-c let y = a-(b-c)
let z = (not (a and b)) or (c in ["x" , "y",]) and - (- d)
let w = if (a or b) then (1 + 2) * 3 else -1
dimension safe "平安型" points 25 missing zero {
indicator grid "多网合一" points 5 { # 网格
  source "方案" pass when (grid_merged)
        }
  # 二级维度
dimension sub weight 40% {
    indicator med "调解" points 10 {
      tiers rate { >= 98% : 10   # 高
        >= 95%:6 else : 0 }
      missing skip note "注"
    }
    veto accident "事故" when accidents > 0 caps "未达标" { source "办法" }
    # 维度末尾的注释
}
indicator staff points 3 { linear ratio(a, b) from 9 to 18 }
indicator d1 points 2 { deduct 0.5 per complaints max 2 }
indicator b1 points 2 { bonus 1 per awards   bonus when honour }
}
veto v2 when x caps "未达标"
grades { "优秀" when total >= 90 and not vetoed "合格" when share_ok
  "未达标" otherwise }
target "目标" grade "优秀" share >= 70% by 2026-12-31
override grid points 6 label "新"
drop staff
test "案例" {
  given { pop = 8000 rate = 98.5% kind = "老旧小区" } # 给定
  given { d = -3 e = missing f = 2024-06-30 }
  data "sample.csv" community "JT-001"
  expect grade "优秀" expect total 72.5 within 0.01
  expect dimension safe 20 expect indicator grid pass points 5
  expect veto accident expect no veto expect missing 1
}
# 文件末尾
"""

GOLDEN = """\
# 文件头注释
import "common.gov" as common  # 引入

model demo "示例模型" extends base "2"  # 版本
version "2024.1"
total 100
missing skip
effective 2024-01-01

input pop: int label "常住人口" unit "人" range 0..200000 required  # 人口
input rate: percent range 0%..100% optional note "说明\\"引号\\""
input kind: enum("老旧小区", "商品房小区") label "类型"

let per10k "每万人" = per_10k(workers, pop)
let x = (a - b) - c
let y = a - (b - c)
let z = (not (a and b)) or (c in ["x", "y"]) and -(-d)
let w = if (a or b) then (1 + 2) * 3 else -1

dimension safe "平安型" points 25 missing zero {
    indicator grid "多网合一" points 5 {  # 网格
        pass when grid_merged
        source "方案"
    }

    # 二级维度
    dimension sub weight 40% {
        indicator med "调解" points 10 {
            tiers rate {
                >= 98% : 10  # 高
                >= 95% : 6
                else : 0
            }
            note "注"
            missing skip
        }
        veto accident "事故" when accidents > 0 caps "未达标" {
            source "办法"
        }
        # 维度末尾的注释
    }

    indicator staff points 3 {
        linear ratio(a, b) from 9 to 18
    }
    indicator d1 points 2 {
        deduct 0.5 per complaints max 2
    }
    indicator b1 points 2 {
        bonus 1 per awards
        bonus when honour
    }
}

veto v2 when x caps "未达标"

grades {
    "优秀" when total >= 90 and not vetoed
    "合格" when share_ok
    "未达标" otherwise
}

target "目标" grade "优秀" share >= 70% by 2026-12-31

override grid points 6 label "新"
drop staff

test "案例" {
    given {
        pop = 8000
        rate = 98.5%
        kind = "老旧小区"
        # 给定
        d = -3
        e = missing
        f = 2024-06-30
    }
    data "sample.csv" community "JT-001"
    expect grade "优秀"
    expect total 72.5 within 0.01
    expect dimension safe 20
    expect indicator grid pass points 5
    expect veto accident
    expect no veto
    expect missing 1
}
# 文件末尾
"""


def test_golden():
    assert fmt(MESSY) == GOLDEN
    assert fmt(GOLDEN) == GOLDEN
    assert parse(GOLDEN).tree == parse(MESSY).tree
    assert sorted(comments_of(GOLDEN)) == sorted(comments_of(MESSY))


# ---------------------------------------------------------------- plugin models


@pytest.mark.parametrize("path", PLUGIN_MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugin_models_format_to_a_fixed_point(path):
    text = path.read_text(encoding="utf-8")
    once = fmt(text)
    assert fmt(once) == once
    assert parse(once).tree == parse(text).tree
    assert comments_of(once) == comments_of(text)


# ---------------------------------------------------------------- comments, details


@pytest.mark.parametrize(
    "source, expected",
    [
        # a comment inside a statement that is printed on one line moves before it
        (
            "model m\nlet a = 1 + # mid\n  2 # end\n",
            "model m\n\n# mid\nlet a = 1 + 2  # end\n",
        ),
        # comments right after `{` and right before `}`
        (
            'model m\ngrades { # open\n # first\n "A" otherwise\n # last\n} # after\n',
            'model m\n\ngrades {  # open\n    # first\n    "A" otherwise\n    # last\n}  # after\n',
        ),
        # `#` inside a string is not a comment
        ('model m "a # b" # c\n', 'model m "a # b"  # c\n'),
        # comments between merged `given` blocks are kept
        (
            'tests for m\ntest "t" {\n given { a = 1 } # one\n # between\n given { b = 2 }\n}\n',
            'tests for m\n\ntest "t" {\n    given {\n        a = 1\n        # one\n'
            "        # between\n        b = 2\n    }\n}\n",
        ),
        # blank lines the author left are kept, at most one
        (
            "model m\ninput a: int\n\n\n\n# section\ninput b: int\n",
            "model m\n\ninput a: int\n\n# section\ninput b: int\n",
        ),
    ],
)
def test_comment_placement(source, expected):
    assert fmt(source) == expected
    assert fmt(expected) == expected
    assert comments_of(expected) == comments_of(source)


def test_parse_error_gives_diagnostics():
    out, diags = format_source("model m\nlet a = (", "bad.gov")
    assert out is None
    assert diags and diags[0].is_error


def test_only_comments_is_not_a_model():
    out, diags = format_source("# nothing here\n")
    assert out is None and diags


def test_numbers_are_printed_as_written():
    out = fmt("model m\nlet a = 007 + 1.50 + 95％ + 2.0%\n")
    assert "let a = 007 + 1.50 + 95% + 2.0%" in out
    # only ASCII digits are numbers
    assert parse("model m\nlet a = １００\n").tree is None


def test_impossible_dates_and_target_comparisons_are_kept():
    # both are kept in the tree (DateLit.text, Target.op) for the checker to report
    out = fmt('model m\neffective 2024-02-30\ntarget grade "A" share > 5%\n')
    assert "effective 2024-02-30" in out
    assert 'target grade "A" share > 5%' in out


def test_strings_are_re_escaped():
    value = 'a"b\\c\nd\te#'
    assert quote(value) == '"a\\"b\\\\c\\nd\\te#"'
    tree = parse(f"model m {quote(value)}").tree
    assert tree.title.value == value


def test_crlf_and_trailing_spaces_in_comments():
    out = fmt("model m   # c  \r\ntotal 1\r\n")
    assert out == "model m  # c\ntotal 1\n"


def test_reserved_words_match_the_documentation():
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    listed = re.search(r"## Reserved words\s+`([^`]*)`", doc)
    assert listed is not None
    assert set(listed.group(1).split()) == RESERVED


def test_a_one_line_given_stays_on_one_line_when_it_fits():
    src = (
        'model m "M"\ninput a: int\ninput b: int\n'
        'indicator x "X" points 1 {\n    pass when a > b\n}\n'
        'grades {\n    "好" when total >= 1\n    "差" otherwise\n}\n'
        'test "短" {\n    given { a = 1  b = 2 }\n    expect grade "差"\n}\n'
        'test "多行" {\n    given {\n        a = 2\n        b = 1\n    }\n    expect grade "好"\n}\n'
    )
    out, diags = format_source(src, "m.gov")
    assert not diags and format_source(out, "m.gov")[0] == out
    assert "    given { a = 1  b = 2 }\n" in out  # each given as the writer laid it out
    assert "    given {\n        a = 2\n        b = 1\n    }\n" in out
    long = src.replace("given { a = 1  b = 2 }", "given { a = 1" + "0" * 90 + "  b = 2 }")
    out, _ = format_source(long, "m.gov")
    assert "    given {\n        a = 1" in out  # over 100 columns: one value a line
    commented = src.replace("given { a = 1  b = 2 }", "given { a = 1  # 一\n b = 2 }")
    out, _ = format_source(commented, "m.gov")
    assert "        a = 1  # 一\n        b = 2\n" in out


def test_a_name_part_after_or_keeps_its_parentheses():
    """`x or part` would read as the step word `or part`: fmt must not make it."""
    src = (
        'model m "M"\ninput x: bool\ninput part: bool\ninput partner: bool\n'
        'indicator i "I" points 1 {\n    pass when x or (part) or partner\n}\n'
        'grades {\n    "好" when total >= 1\n    "差" otherwise\n}\n'
    )
    out, diags = format_source(src, "m.gov")
    assert not diags
    assert "pass when x or (part) or partner\n" in out
    assert not [d for d in parse(out, "m.gov").diagnostics if d.is_error]
