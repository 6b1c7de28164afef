"""Malformed input never crashes the parser or the checker.

Every bad file gives diagnostics with file:line:col, no exception or traceback,
and quickly: empty and binary files, wrong encodings, deep nesting, huge files
and lines, and random text (Hypothesis) from bytes up to grammar-shaped models.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhili.dsl.checker import check
from zhili.dsl.diagnostics import Diagnostic, render_text
from zhili.dsl.parser import MAX_FILE_BYTES, MAX_NESTING, lark_parser, parse, parse_file

ZHILI = Path(sys.executable).with_name("zhili")
CASES = Path(__file__).resolve().parent / "cases"
GOOD = (CASES / "ok_every_scoring_form" / "model.gov").read_text(encoding="utf-8")
HEAD = 'model m "测试"\nversion "1"\nissuer "测试"\nsource "测试"\n'
FAST = 5.0  # seconds any one malformed input may take


def diagnose(text: str, file: str = "bad.gov") -> list[Diagnostic]:
    """Parse and check `text`, render every diagnostic, and return them."""
    parsed = parse(text, file)
    diags = list(parsed.diagnostics)
    if parsed.tree is not None:
        diags += check(parsed.tree, text).diagnostics
    _assert_rendered(diags, text, file)
    return diags


def diagnose_file(path: Path) -> list[Diagnostic]:
    start = time.monotonic()
    parsed = parse_file(str(path), display=path.name)
    diags = list(parsed.diagnostics)
    if parsed.tree is not None:
        diags += check(parsed.tree, parsed.text).diagnostics
    _assert_rendered(diags, parsed.text, path.name)
    assert time.monotonic() - start < FAST
    return diags


def _assert_rendered(diags: list[Diagnostic], text: str | None, file: str) -> None:
    for d in diags:
        assert d.span.file == file
        assert d.span.line >= 1 and d.span.column >= 1, d
        out = render_text(d, text)
        assert out.splitlines()[0].startswith(
            f"{d.severity.value}[{d.code}]: {file}:{d.span.line}:{d.span.column}: "
        )
        assert all(len(line) < 400 for line in out.splitlines()), "a huge line was printed whole"


def codes(diags: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diags]


def write(tmp_path: Path, data: bytes, name: str = "bad.gov") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- files


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\t\n  \r\n", b"# \xe5\x8f\xaa\xe6\x9c\x89\xe6\xb3\xa8\xe9\x87\x8a\n  # comment\n"],
    ids=["empty", "whitespace", "comments-only"],
)
def test_empty_files(tmp_path, data):
    (d,) = diagnose_file(write(tmp_path, data))
    assert (d.code, d.span.line, d.span.column) == ("file-empty", 1, 1)
    assert d.notes  # says how a model file starts


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"model m\x00\x00\x00\n",
        bytes(range(256)),
    ],
    ids=["png", "nul-bytes", "all-bytes"],
)
def test_binary_files(tmp_path, data):
    (d,) = diagnose_file(write(tmp_path, data))
    assert (d.code, d.span.line, d.span.column) == ("file-binary", 1, 1)


def test_gbk_file_names_the_encoding(tmp_path):
    text = HEAD + 'input 人口: int label "常住人口"\n'
    (d,) = diagnose_file(write(tmp_path, text.encode("gbk")))
    assert d.code == "file-encoding"
    assert "GBK" in d.message
    assert d.notes == ("help: save the file as UTF-8",)
    assert d.span.line == 1  # the title "测试" holds the first non-UTF-8 byte


def test_latin1_file(tmp_path):
    (d,) = diagnose_file(write(tmp_path, 'model m "café"\n'.encode("latin-1")))
    assert (d.code, d.span.line) == ("file-encoding", 1)


def test_utf8_bom_parses_and_keeps_columns(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert diagnose_file(path) == []
    broken = HEAD + "input a: int\nlet b = a + nope\n"
    diags = diagnose_file(write(tmp_path, b"\xef\xbb\xbf" + broken.encode("utf-8"), "bom.gov"))
    assert ("unknown-name", 6, 13) in codes(diags)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_file(tmp_path, encoding):
    (d,) = diagnose_file(write(tmp_path, GOOD.encode(encoding)))
    assert (d.span.line, d.span.column) == (1, 1)
    if encoding == "utf-16":  # with a byte order mark
        assert d.code == "file-encoding" and "UTF-16" in d.message
    else:
        assert d.code in ("file-encoding", "file-binary")


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_line_endings_keep_positions(tmp_path, newline):
    case = CASES / "unit_mismatch_in_expressions" / "model.gov"
    text = case.read_text(encoding="utf-8")
    expected = codes(diagnose(text))
    assert expected
    data = text.replace("\n", newline).encode("utf-8")
    assert codes(diagnose_file(write(tmp_path, data))) == expected


def test_missing_file(tmp_path):
    parsed = parse_file(str(tmp_path / "nope.gov"), display="nope.gov")
    (d,) = parsed.diagnostics
    assert (d.code, d.span.file, d.span.line, d.span.column) == (
        "file-unreadable",
        "nope.gov",
        1,
        1,
    )


def test_unterminated_string():
    (d,) = diagnose(HEAD + 'input a: int label "常住人口\nlet b = a\n')
    assert (d.code, d.span.line, d.span.column) == ("syntax-unterminated-string", 5, 20)


def test_unterminated_string_at_end_of_file():
    (d,) = diagnose(HEAD + 'description "')
    assert d.code == "syntax-unterminated-string"


# ---------------------------------------------------------------- deep and long


def test_5000_nested_parentheses():
    text = HEAD + "input a: int\nlet b = " + "(" * 5000 + "a" + ")" * 5000 + "\n"
    start = time.monotonic()
    (d,) = diagnose(text)
    assert time.monotonic() - start < FAST
    assert d.code == "syntax-too-deep"
    assert (d.span.line, d.span.column) == (6, len("let b = ") + MAX_NESTING + 1)


@pytest.mark.parametrize(
    "expr",
    [
        "-" * 5000 + "a",
        " + ".join(["a"] * 20_001),
        "not " * 5000 + "true",
        "if true then " * 3000 + "a" + " else 0" * 3000,
    ],
    ids=["5000-unary-minus", "20000-plus", "5000-not", "3000-if"],
)
def test_huge_expressions(expr):
    text = HEAD + f"input a: int\nlet b = {expr}\n"
    start = time.monotonic()
    (d,) = diagnose(text)
    assert time.monotonic() - start < FAST
    assert d.code == "syntax-too-complex"
    assert (d.span.line, d.span.column) == (1, 1)


@pytest.mark.parametrize("n", [100, 300, 450, 500, 600])
def test_long_expressions_near_the_limit(n):
    """Just below the limit the checker gets the tree and must not overflow."""
    text = (
        HEAD
        + "input a: int\nlet b = "
        + " + ".join(["a"] * n)
        + " * "
        + "-" * n
        + "a\n"
        + 'indicator i points 1 { pass when b > 0 }\ngrades { "好" otherwise }\n'
    )
    assert {d.code for d in diagnose(text)} <= {"syntax-too-complex"}


def test_10mb_file(tmp_path):
    chunk = (GOOD + "\n# " + "注" * 60 + "\n").encode("utf-8")
    path = write(tmp_path, chunk * (10_000_000 // len(chunk) + 1))
    assert path.stat().st_size > 10_000_000
    (d,) = diagnose_file(path)
    assert (d.code, d.span.line, d.span.column) == ("file-too-large", 1, 1)
    assert str(path.stat().st_size) in d.message


def test_10mb_text():
    (d,) = diagnose("x" * 10_000_000)
    assert d.code == "file-too-large"


def test_1mb_single_line_under_the_limit(tmp_path):
    """A whole model on one line with a 950 KB string: it parses, and an error
    after the string is reported at its column without printing the line."""
    one_line = " ".join(HEAD.splitlines())
    text = (
        one_line
        + ' input a: int description "'
        + "x" * 950_000
        + '" indicator i points 1 { pass when nope > 0 } grades { "好" otherwise }'
    )
    assert MAX_FILE_BYTES - 60_000 < len(text.encode()) < MAX_FILE_BYTES
    start = time.monotonic()
    diags = diagnose_file(write(tmp_path, text.encode()))
    assert time.monotonic() - start < FAST
    col = text.index("nope") + 1
    assert ("unknown-name", 1, col) in codes(diags)


def test_1mb_single_line_over_the_limit(tmp_path):
    text = HEAD + 'description "' + "长" * 400_000 + '"'
    (d,) = diagnose_file(write(tmp_path, text.encode()))
    assert d.code == "file-too-large"


@pytest.mark.parametrize(
    "number",
    ["1" + "0" * 5000, "1" + "0" * 400, "1." + "0" * 5000, "1" + "0" * 400 + "%"],
    ids=["int-5000-digits", "int-400-digits", "decimal-5000-digits", "percent-400-digits"],
)
def test_huge_numbers(number):
    """Python's int() refuses more than 4300 digits and float(int) overflows
    past 1e308: neither may escape the parser or the checker."""
    text = (
        HEAD
        + f"total {number}\ninput a: int range 0..{number}\n"
        + f"let b = a * {number}\n"
        + f"indicator i points {number} {{ deduct {number} per b max {number} }}\n"
        + 'grades { "好" when total >= 1 "差" otherwise }\n'
        + f'test "t" {{ given {{ a = {number} }} expect total {number} expect missing {number} }}\n'
    )
    diagnose(text)


# ---------------------------------------------------------------- model errors


MODEL_ERRORS = {
    "unknown-name": (
        HEAD + "input population: int\nlet d = populaton + population\n"
        'indicator i points 1 { pass when d > 0 }\ngrades { "好" otherwise }\n',
        ("unknown-name", 6, 9),
    ),
    "type-mismatch": (
        HEAD + "input ok: bool\nindicator i points 1 { pass when ok > 3 }\n"
        'grades { "好" otherwise }\n',
        ("type-mismatch", 6, 34),
    ),
    "cycle": (
        HEAD + "input a: int\nlet x = y + a\nlet y = x\n"
        'indicator i points 1 { pass when x > 0 }\ngrades { "好" otherwise }\n',
        ("cycle", 6, 5),
    ),
}


@pytest.mark.parametrize("kind", sorted(MODEL_ERRORS))
def test_model_errors(kind):
    text, expected = MODEL_ERRORS[kind]
    assert codes(diagnose(text)) == [expected]


# ---------------------------------------------------------------- the CLI


def run_cli(tmp_path: Path, path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [str(ZHILI), "--lang", "en", "check", path.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
        env=env,
    )


CLI_CASES = {
    "10mb": (lambda: (GOOD + "\n" + "#" * 99 + "\n") * 100_000, "bad.gov:1:1"),
    "gbk": (lambda: (HEAD + "input 人口: int\n").encode("gbk"), "bad.gov:1:"),
    "png": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bad.gov:1:1"),
    "unterminated": (lambda: HEAD + 'input a: int label "人口\n', "bad.gov:5:20"),
    "deep": (lambda: HEAD + "let a = " + "(" * 5000 + ")" * 5000, "bad.gov:5:"),
    "long-sum": (lambda: HEAD + "let a = " + " + ".join(["1"] * 20_001), "bad.gov:1:1"),
    "unknown-name": (lambda: MODEL_ERRORS["unknown-name"][0], "bad.gov:6:9"),
    "cycle": (lambda: MODEL_ERRORS["cycle"][0], "bad.gov:6:5"),
}


@pytest.mark.parametrize("kind", sorted(CLI_CASES))
def test_cli_check_reports_without_traceback(tmp_path, kind):
    make, where = CLI_CASES[kind]
    data = make()
    path = write(tmp_path, data if isinstance(data, bytes) else data.encode("utf-8"))
    start = time.monotonic()
    proc = run_cli(tmp_path, path)
    assert time.monotonic() - start < 30
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    assert where in out, out


# ---------------------------------------------------------------- fuzzing

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

# every keyword and punctuation mark of the grammar, kept in step with it
KEYWORDS = sorted({t.pattern.value for t in lark_parser().terminals if t.pattern.type == "str"})
PIECES = KEYWORDS + [
    *"a b rate kind x 社区 人口 min_dimension missing_count per_10k ratio round coalesce".split(),
    *["0", "12", "3.5", "95%", "98％", "0%", "-", "+", "*", "/", "==", ">=", "<", "!=", "="],
    *['"甲"', '"', '""', "2024-01-01", "2024-02-30", "9999-99-99", "9" * 4400, "9" * 400 + "%"],
    *["(", ")", "{", "}", "[", "]", ",", ":", "..", "\n", "# 注释\n", "@", "：", "\\", "\t"],
]
token_soup = st.lists(st.sampled_from(PIECES), max_size=60).map(" ".join)


def _mutations(base: str):
    words = base.split(" ")
    return st.tuples(
        st.integers(0, len(words)), st.integers(0, 5), st.lists(st.sampled_from(PIECES), max_size=5)
    ).map(lambda t: " ".join(words[: t[0]] + t[2] + words[t[0] + t[1] :]))


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "bad.gov"
    path.write_bytes(data)
    diagnose_file(path)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_text(text):
    diagnose(text)


@FUZZ
@given(st.one_of(token_soup, token_soup.map(lambda s: HEAD + s), _mutations(GOOD)))
def test_fuzz_grammar_tokens(text):
    diagnose(text)


# Grammar-shaped models: they parse, so the checker sees every kind of node.
NAMES = ["a", "r", "ok", "kind", "t", "x", "y", "dim", "ind", "v", "total", "share", "vetoed"]
NAMES += ["min_dimension", "missing_count", "nope", "社区"]
FUNCS = ["ratio", "per_10k", "min", "max", "clamp", "abs", "round", "coalesce", "default"]
FUNCS += ["between", "count", "is_missing", "nope"]
FUNCS += ["floor", "ceil"]
LITERALS = ["0", "1", "12", "3.5", "0%", "95%", '"甲"', '"丙"', "true", "false", "2024-01-01"]
LITERALS += ["2024-02-30"]


def _compound(inner):
    op = st.sampled_from(["+", "-", "*", "/", "and", "or", "==", "!=", "<", ">="])
    return st.one_of(
        st.tuples(inner, op, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda c: f"(not {c})"),
        inner.map(lambda c: f"-{c}"),
        st.tuples(inner, inner, inner).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(FUNCS), st.lists(inner, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(inner, st.lists(inner, max_size=3)).map(
            lambda t: f"({t[0]} in [{', '.join(t[1])}])"
        ),
    )


expr = st.recursive(st.sampled_from(NAMES + LITERALS), _compound, max_leaves=10)
points = st.sampled_from(["0", "1", "5", "10", "2.5"])
tier = st.tuples(st.sampled_from([">=", ">", "<=", "<", "==", None]), expr, points).map(
    lambda t: f"{t[0]} {t[1]} : {t[2]}" if t[0] else f"else : {t[2]}"
)
scoring = st.one_of(
    expr.map(lambda e: f"pass when {e}"),
    expr.map(lambda e: f"bonus when {e}"),
    st.tuples(expr, expr, expr).map(lambda t: f"linear {t[0]} from {t[1]} to {t[2]}"),
    st.tuples(expr, st.lists(tier, min_size=1, max_size=4)).map(
        lambda t: f"tiers {t[0]} {{ {' '.join(t[1])} }}"
    ),
    st.tuples(
        st.sampled_from(["deduct", "bonus"]), points, expr, st.sampled_from(["", "max 3"])
    ).map(lambda t: f"{t[0]} {t[1]} per {t[2]} {t[3]}"),
)
indicator = st.tuples(
    st.sampled_from(["ind", "ind2", "x", "dim"]), points, st.lists(scoring, max_size=2)
).map(lambda t: f'indicator {t[0]} "指标" points {t[1]} {{ {" ".join(t[2])} }}')
veto = st.tuples(
    st.sampled_from(["v", "v2", "a"]), expr, st.sampled_from(["", 'caps "好"', 'blocks "无"'])
).map(lambda t: f"veto {t[0]} when {t[1]} {t[2]}")
structure = st.recursive(
    st.one_of(indicator, veto),
    lambda inner: st.tuples(
        st.sampled_from(["dim", "dim2", "ind"]),
        st.sampled_from(["points 10", "weight 50%", "", "points 5 weight 20%"]),
        st.lists(inner, max_size=3),
    ).map(lambda t: f'dimension {t[0]} "维度" {t[1]} {{ {" ".join(t[2])} }}'),
    max_leaves=5,
)
TYPES = ["int", "number", "percent", "bool", "text", "date", 'enum("甲", "乙")']
input_decl = st.tuples(
    st.sampled_from(NAMES[:6]),
    st.sampled_from(TYPES),
    st.sampled_from(["", "range 0..10", "range 10..0", "range 0%..100%"]),
).map(lambda t: f"input {t[0]}: {t[1]} {t[2]}")
let_decl = st.tuples(st.sampled_from(["x", "y", "a"]), expr).map(lambda t: f"let {t[0]} = {t[1]}")
grade = st.tuples(st.sampled_from(['"好"', '"差"']), st.one_of(st.none(), expr)).map(
    lambda t: f"{t[0]} otherwise" if t[1] is None else f"{t[0]} when {t[1]}"
)
assign = st.tuples(
    st.sampled_from([n for n in NAMES if n not in KEYWORDS]),
    st.sampled_from(["1", "-2", "95%", '"甲"', "true", "missing"]),
).map(lambda t: f"{t[0]} = {t[1]}")
test_block = st.tuples(
    st.lists(assign, max_size=3),
    st.sampled_from(
        ['expect grade "好"', "expect total 5", "expect indicator ind pass", "expect veto v", ""]
    ),
).map(lambda t: f'test "t" {{ given {{ {" ".join(t[0])} }} {t[1]} }}')
model = st.tuples(
    st.sampled_from(["total 10", "total 0", "effective 2024-13-01", ""]),
    st.lists(input_decl, max_size=5),
    st.lists(let_decl, max_size=3),
    st.lists(structure, max_size=3),
    st.lists(grade, max_size=3).map(lambda g: "grades { " + " ".join(g) + " }" if g else ""),
    st.lists(test_block, max_size=2),
).map(lambda t: HEAD + "\n".join([t[0], *t[1], *t[2], *t[3], t[4], *t[5]]))


@FUZZ
@given(model)
def test_fuzz_generated_models(text):
    diagnose(text)


# Inputs Hypothesis found once, kept by name.
@pytest.mark.parametrize(
    "text",
    [
        # a dimension inside one of the same id recursed forever in the checker
        HEAD
        + "dimension d weight 20% { dimension d { indicator x points 5 { pass when true } } }\n"
        'grades { "好" otherwise }',
        # a statement keyword after a broken statement: the parser resynchronises there
        HEAD
        + "input a: bool label\ninput b int\nindicator i { pass when a }\nlet c = (1\nlet d = 2",
    ],
    ids=["nested-duplicate-dimension", "resync-at-statements"],
)
def test_found_by_fuzzing(text):
    assert diagnose(text)
