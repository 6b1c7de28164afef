"""Community data: read a file (`readers.read_raw`, every format by its
suffix), match its columns to a model's inputs, and convert every cell,
reporting each problem with file, row and column.

Columns match an input by its id or its Chinese label (surrounding spaces and
full-width/half-width differences ignored; a unit in brackets after a label,
like `常住人口（人）`, is allowed). A cell that cannot be read, or breaks the
input's type or range, becomes a `DataProblem` and counts as missing; the row
is always kept.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from zhili.dsl import codes, sets
from zhili.dsl.i18n import _
from zhili.dsl.model import InputField, Model, Ref, Score
from zhili.engine.functions import positive_zeros
from zhili.engine.io.readers import BUILTIN_READERS, DATA_READERS, read_batches, read_raw
from zhili.engine.io.source import is_stdin
from zhili.engine.io.table import (  # noqa: F401 - re-exported: readers and the CLI use data.X
    HIERARCHY,
    TOTALS_HINT,
    WHITESPACE,
    WS_RE,
    DataError,
    DataProblem,
    NotInBatches,
    RawTable,
    close_names,
    is_total,
    norm,
    strip_unit,
    totals_expr,
    with_series,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from zhili.engine.progress import Progress

MISSING_TOKENS = {
    "",
    "空",
    "—",
    "——",
    "-",
    "--",
    "/",
    "n/a",
    "na",
    "#n/a",
    "null",
    "none",
    "nan",
    "缺",
    "缺失",
}
TRUE_TOKENS = {"是", "有", "√", "✓", "true", "yes", "y", "1", "t", "对"}
FALSE_TOKENS = {"否", "无", "×", "✗", "x", "false", "no", "n", "0", "f", "没有", "错"}


@dataclass
class Dataset:
    """Community data converted for one model.

    `frame` is a typed Polars frame: `row` (the line in the file, or record
    number), the hierarchy columns (`community_id`, `community`, `district`,
    `street`, …) and `in.<input>` for every input (null when missing). The
    record view — `records[i]` (input id → value, for inputs that have a
    column), `meta[i]` (hierarchy columns) and `rows[i]` — is built from it
    on first use, for the interpreter."""

    file: str
    problems: list[DataProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # input id → header
    model: Model | None = None
    _frame: Any = None
    _meta_keys: list[str] = field(default_factory=list)
    _records: list[dict[str, Any]] | None = None
    _meta: list[dict[str, Any]] | None = None
    # the files of a folder or several files as DATA (empty for one file);
    # the frame then has `source` (`file[sheet]:row`), `source_file`, `source_sheet`
    files: list[str] = field(default_factory=list)
    id_column: str | None = None  # the header of the community id (or name) column
    sheet: str | None = None  # the sheet read, for a workbook

    def __len__(self) -> int:
        return self._frame.height

    @property
    def frame(self) -> pl.DataFrame:
        return self._frame

    @property
    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            ids = list(self.columns)
            sub = self._frame.select([pl.col(f"in.{i}") for i in ids])
            self._records = [dict(zip(ids, values, strict=True)) for values in sub.iter_rows()]
        return self._records

    @property
    def meta(self) -> list[dict[str, Any]]:
        if self._meta is None:
            self._meta = (
                self._frame.select(self._meta_keys).to_dicts()
                if self._meta_keys
                else [{}] * len(self)
            )
        return self._meta

    @property
    def meta_keys(self) -> list[str]:
        """The hierarchy columns of `frame` (`community_id` first): the keys of `meta`."""
        return list(self._meta_keys)

    @property
    def rows(self) -> list[int]:
        return self._frame.get_column("row").to_list()

    @property
    def errors(self) -> list[DataProblem]:
        return [p for p in self.problems if p.severity == "error"]

    def release(self) -> None:
        """Drop the typed frame (and the record view) once nothing reads the
        values any more (`eval` after evaluating, for every format but
        json): a million communities' inputs are 400 MB. The file,
        problems and columns stay; the frame is then empty."""
        if self._frame is not None:
            self._frame = self._frame.clear()
        self._records = self._meta = None

    def with_frame(self, frame: pl.DataFrame) -> Dataset:
        """The dataset with `frame` instead of its own (the same columns, rows
        left out or columns added), its problems kept: an assessment round
        (`engine.round.returns`) gives rows their provenance and leaves out
        the communities that entered no data."""
        return replace(self, _frame=frame, _records=None, _meta=None)


def match_columns(
    headers: list[str], model: Model
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(input id → header, hierarchy key → header, unmatched headers)."""
    wanted: dict[str, str] = {}
    for f in model.inputs:
        wanted[norm(f.id)] = f.id
        if f.label:
            wanted[norm(f.label)] = f.id
    hier: dict[str, str] = {}
    for key, names in HIERARCHY.items():
        for n in names:
            hier.setdefault(norm(n), key)
    inputs: dict[str, str] = {}
    meta: dict[str, str] = {}
    unmatched: list[str] = []
    for h in headers:
        k = norm(h)
        k2 = norm(strip_unit(h))
        if k in wanted or k2 in wanted:
            inputs.setdefault(wanted.get(k) or wanted[k2], h)
        elif k in hier or k2 in hier:
            meta.setdefault(hier.get(k) or hier[k2], h)
        else:
            unmatched.append(h)
    return inputs, meta, unmatched


_SCALE = {"万": 10_000, "亿": 100_000_000}
_TOO_LARGE = 10**15  # no community count or area comes near this
_EXP_CLIP = 10**9  # an exponent beyond this is "too large" (or zero) anyway
# a number: sign, digits (thousands separators only in groups of three:
# 1,234,567.5), fraction, exponent, and what follows it (a unit)
_NUM_PARTS = (
    r"^([+-]?)((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:[eE]([+-]?[0-9]+))?([^0-9.,eE+-]*)$"
)
# a unit after a number: a word in Chinese characters (人, 平方米, 万元)
_UNIT_RE = "^[\u3400-\u4dbf\u4e00-\u9fff]{0,6}$"


# what makes a number after it approximate, not a unit: 12估计, 12左右,
# 30多, 100余 (an estimate is not the value; 约12 and 12 (估计) are not
# numbers at all)
_HEDGE_RE = "估|约|左右|上下|以上|以下|不到|不足|[多余来几]"


def _hedged(unit: str, f: InputField) -> bool:
    """Whether the text after a number makes it an estimate (`_HEDGE_RE`),
    the input's own unit aside."""
    u = unit.strip(WHITESPACE)
    return u not in _declared_units(f) and re.search(_HEDGE_RE, u) is not None


def _hedge_msg() -> str:  # noqa: N802
    return _("an estimate, not a number (估计, 约, 左右, 多, 余): write the number itself")


def _clip_exponent(s: str) -> str:
    """An exponent beyond ±10^9 becomes ±10^9: the number is too large, or
    zero as a float, either way (and Decimal refuses longer exponents)."""
    m = re.search(r"[eE]([+-]?)([0-9]+)$", s)
    if m is None or int(m[2]) <= _EXP_CLIP:
        return s
    return f"{s[: m.start()]}e{m[1]}{_EXP_CLIP}"


def _unit_ok(unit: str, f: InputField) -> bool:
    """What may follow a number: nothing, a unit word in Chinese (人, 平方米,
    万元; 万/亿 scale it), or the input's own unit."""
    u = unit.strip(WHITESPACE)
    if u in _declared_units(f):
        return True
    return bool(re.fullmatch(_UNIT_RE, u)) and not _hedged(u, f)


def _declared_units(f: InputField) -> list[str]:
    if not f.unit:
        return []
    u = unicodedata.normalize("NFKC", f.unit).strip(WHITESPACE)
    return [u, *(ch + u for ch in _SCALE)]


def _comma_msg() -> str:  # noqa: N802 - a message, in both conversions
    return _(
        "a comma that is not a thousands separator (1,234): "
        "write 1.5 for a decimal, 1,500 for thousands"
    )


def _underflow_msg() -> str:  # noqa: N802
    return _("the number is too small: it would be read as 0")


def fraction_msg(cell: str | None = None) -> str:
    """The problem of a plain fraction in a percent column (see `is_fraction`),
    with the cell's own number when `cell` is given (the conversions give the
    general form; `_cell_problems` puts the cell's number in)."""
    number = _plain_number(cell) if cell is not None else None
    if number is None:
        return _(
            "a plain fraction in a percent column: 0.85 would mean 0.85%; "
            "write 85% or 85 for 85% (0.85% if 0.85% is meant)"
        )
    as_percent = _decimal_text(number.scaleb(2))
    return _("{n} would mean {n}%; write {p}% or {p} for {p}% ({n}% if {n}% is meant)").format(
        n=_decimal_text(number), p=as_percent
    )


def over_one_msg(cell: str | None = None) -> str:
    """The problem of a plain number above 1 in an input declared `fractions`
    (its plain numbers are fractions: 0.85 is 85%, 1 is 100%)."""
    number = _plain_number(cell) if cell is not None else None
    if number is None:
        return _(
            "a plain number above 1 where plain numbers are fractions (0.85 is 85%): "
            "85 would mean 8500%; write 85% or 0.85 for 85%"
        )
    return _(
        "{n} would mean {p}% (plain numbers here are fractions); write {n}% or {f} for {n}%"
    ).format(
        n=_decimal_text(number),
        p=_decimal_text(number.scaleb(2)),
        f=_decimal_text(number.scaleb(-2)),
    )


def _plain_number(cell: str) -> Decimal | None:
    m = re.fullmatch(_NUM_PARTS, unicodedata.normalize("NFKC", cell).strip(WHITESPACE))
    if m is None or m[3] is not None or m[4].strip(WHITESPACE):
        return None
    return Decimal(m[1] + m[2].replace(",", ""))


def _decimal_text(d: Decimal) -> str:
    """A decimal as written, without an exponent or trailing zeros (0.90 → 0.9)."""
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_fraction(number: Decimal, pct: bool) -> bool:
    """The one percent rule's ambiguous case: a number strictly between -1 and
    1 (not 0), written without a percent sign and not percent-formatted. 85,
    85% and a percent-formatted 0.85 all mean 85%, and 0.85% means 0.85%;
    a plain 0.85 could be 85% written as a fraction or 0.85%, so it is a
    problem and counts as missing. 1 means 1%, 0 means 0%."""
    return not pct and number != 0 and abs(number) < 1


def _unit_ok_expr(suffix: pl.Expr, f: InputField) -> pl.Expr:
    """`_unit_ok` for a column of suffixes."""
    u = suffix.str.strip_chars()
    ok = u.str.contains(_UNIT_RE) & ~u.str.contains(_HEDGE_RE)
    units = _declared_units(f)
    if units:
        ok = ok | u.is_in(units)
    return ok.fill_null(False)


def _hedged_expr(suffix: pl.Expr, f: InputField) -> pl.Expr:
    """`_hedged` for a column of suffixes."""
    u = suffix.str.strip_chars()
    hedged = u.str.contains(_HEDGE_RE)
    units = _declared_units(f)
    if units:
        hedged = hedged & ~u.is_in(units)
    return hedged.fill_null(False)


def _is_number(s: str, f: InputField) -> bool:
    m = re.fullmatch(_NUM_PARTS, s)
    return m is not None and _unit_ok(m[4], f)


def _convert_number(text: str, f: InputField) -> tuple[Any, str | None]:
    """An int, number or percent cell: the whole cell is one number, with
    thousands separators only in groups of three, then a unit (see
    `_unit_ok`) and a percent sign."""
    t = f.type
    pct = text.endswith("%")
    s = text.rstrip("%").strip(WHITESPACE)
    m = re.fullmatch(_NUM_PARTS, s)
    if m is not None and _hedged(m[4], f):
        return None, _hedge_msg()
    if m is None or not _unit_ok(m[4], f):
        if "," in s and _is_number(s.replace(",", ""), f):
            return None, _comma_msg()
        return None, _("not a number")
    unit = m[4].strip(WHITESPACE)
    digits = m[2].replace(",", "")
    number = f"{m[1]}{digits}" + (f"e{m[3]}" if m[3] is not None else "")
    # exact decimal arithmetic (scaling by powers of ten only moves the
    # exponent), then one rounding to float
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = max(28, len(number)), MAX_EMAX, MIN_EMIN
        d = Decimal(_clip_exponent(number))
        # 1.2万人 is 12000 people (unless the input itself counts in 万, like 万元)
        scale = _SCALE.get(unit[:1])
        if scale and not (f.unit or "").startswith(unit[:1]):
            d = d.scaleb(len(str(scale)) - 1)
        if pct and t != "percent":
            return None, _("a percentage where a count or number is expected")
        if abs(d) >= _TOO_LARGE:
            return None, _("the number is too large")
        plain_fraction = t == "percent" and f.fractions and not pct
        if plain_fraction and abs(d) > 1:
            return None, over_one_msg()
        if t == "percent" and not f.fractions and is_fraction(d, pct):
            return None, fraction_msg()
        if t == "percent" and not plain_fraction:
            d = d.scaleb(-2)  # 85 and 85% both mean 0.85
        value = float(d)
    if value == 0 and d != 0:
        return None, _underflow_msg()
    if t == "int":
        if float(value) != int(value):
            return None, _("not a whole number")
        value = int(value)
    if f.min is not None and value < f.min - 1e-12:
        return None, _range_msg(f, True)
    if f.max is not None and value > f.max + 1e-12:
        return None, _range_msg(f, False)
    return value, None


def convert(raw: Any, f: InputField) -> tuple[Any, str | None]:
    """One cell → (value, problem message or None). Missing → (None, None)."""
    if raw is None:
        return None, None
    if isinstance(raw, bool) and f.type == "bool":
        return raw, None
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    text = unicodedata.normalize("NFKC", str(raw)).strip(WHITESPACE)
    if text.lower() in MISSING_TOKENS:
        return None, None
    t = f.type
    if t == "bool":
        low = text.lower()
        if low in TRUE_TOKENS:
            return True, None
        if low in FALSE_TOKENS:
            return False, None
        return None, _("not a yes/no value")
    if t in ("int", "number", "percent"):
        return _convert_number(text, f)
    if t == "enum":
        if text in f.values:
            return text, None
        normed = {norm(v): v for v in f.values}
        if norm(text) in normed:
            return normed[norm(text)], None
        return None, _("not one of: {values}").format(values=", ".join(f.values))
    if t == "set":
        return _convert_set(text, f)
    if t == "date":
        m = re.match(r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?", text)
        if not m:
            return None, _("not a date (YYYY-MM-DD)")
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        except ValueError:
            return None, _("not a date (YYYY-MM-DD)")
    return str(raw).strip(WHITESPACE), None  # free text as written (NFKC only to read it)


def _convert_set(text: str, f: InputField) -> tuple[Any, str | None]:
    """A multi-select cell → its bitmask (`zhili.dsl.sets`): values separated
    by 、 , ， ; ； / or new lines, or a JSON list (a JSON file's or a Parquet
    list cell); 无 is the empty selection. An unlisted value is a problem
    naming it (with the closest listed value) and the cell is not read."""
    chosen: list[str] | None
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(x, str | None) for x in parsed):
            return None, _("not a list of values")
        chosen = [x.strip() for x in parsed if x is not None and x.strip()]
        if not parsed:  # [] : none selected
            return 0, None
    else:
        chosen = sets.split(text)
    if chosen is None:  # 无, 没有: none selected
        return 0, None
    if not chosen:  # separators only (、 or ,;/), or a list of blanks: nothing was written
        return None, _("lists no value (write 无 if none is selected)")
    mask, unknown = sets.encode(chosen, f.values)
    if unknown:
        return None, _set_msg(unknown[0], f)
    return mask, None


def _set_msg(value: str, f: InputField) -> str:
    close = difflib.get_close_matches(value, f.values, n=1, cutoff=0.5)
    if close:
        return _("{value!r} is not one of: {values} (did you mean {close!r}?)").format(
            value=value, values="、".join(f.values), close=close[0]
        )
    return _("{value!r} is not one of: {values}").format(value=value, values="、".join(f.values))


def _fmt(v, t) -> str:
    if v is None:
        return ""
    if t == "percent":
        return f"{v * 100:g}%"
    return f"{v:g}"


def read_table(
    path: Path, encoding: str | None = None
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Headers and (row number, row dict) pairs of a CSV or JSON file (the
    record-by-record reader; `load` uses `read_raw`)."""
    raw = read_raw(path, encoding)
    rows = []
    cols = raw.frame.columns
    for line, values in zip(raw.lines, raw.frame.iter_rows(), strict=True):
        rows.append((line, {raw.headers[j]: v for j, v in enumerate(values) if j < len(cols)}))
    return raw.headers, rows


# ---------------------------------------------------------------- conversion
#
# `convert()` above is the reference: one cell at a time. `_convert_stages`
# builds the same conversion as Polars expressions for a whole column; the
# tests hold the two to the same values and messages.


def _range_msg(f: InputField, below: bool) -> str:
    text = (
        _("below the allowed range {lo}..{hi}")
        if below
        else _("above the allowed range {lo}..{hi}")
    )
    return text.format(lo=_fmt(f.min, f.type), hi=_fmt(f.max, f.type))


class _Scratch:
    """The names one input's conversion works with: scratch columns
    `~<key>.<name>`, and the two it makes, `in.<key>` and `p.<key>`."""

    def __init__(self, key: str):
        self.key = key

    def c(self, name: str) -> pl.Expr:
        return pl.col(f"~{self.key}.{name}")

    def a(self, expr: pl.Expr, name: str) -> pl.Expr:
        return expr.alias(f"~{self.key}.{name}")

    def finish(self, value: pl.Expr, msg: pl.Expr) -> list[pl.Expr]:
        return [value.alias(f"in.{self.key}"), msg.alias(f"p.{self.key}")]


_NONE = pl.lit(None, dtype=pl.String)


def _convert_stages(col: str, f: InputField, key: str) -> list[list[pl.Expr]]:
    """The conversion of the text cells in `col` for input `f`, as stages of
    Polars expressions: each stage only reads columns made by the earlier
    ones, so no expression repeats another (one big nested expression grows
    exponentially and takes seconds just to plan). The last stage makes
    `in.<key>` (the typed value) and `p.<key>` (the problem message or null);
    the scratch columns are named `~<key>.*`.

    Every type starts alike: the text (`~t`, NFKC, trimmed) and whether it
    is missing (`~m`); the rest is the type's own (`_TYPE_STAGES`)."""
    s = _Scratch(key)
    raw = pl.col(col)
    text = s.a(raw.str.normalize("NFKC").str.strip_chars(), "t")
    missing = s.a(raw.is_null() | s.c("t").str.to_lowercase().is_in(sorted(MISSING_TOKENS)), "m")
    typed = _TYPE_STAGES.get(f.type, _text_stages)
    return [[text], *typed(s, f, missing, raw)]


def _bool_stages(s: _Scratch, f: InputField, missing: pl.Expr, raw: pl.Expr):
    low = s.c("t").str.to_lowercase()
    yes_no = (
        pl.when(low.is_in(sorted(TRUE_TOKENS)))
        .then(True)
        .when(low.is_in(sorted(FALSE_TOKENS)))
        .then(False)
    )
    value = pl.when(s.c("m")).then(None).otherwise(s.c("v"))
    msg = (
        pl.when(~s.c("m") & s.c("v").is_null())
        .then(pl.lit(_("not a yes/no value")))
        .otherwise(_NONE)
    )
    return [[missing, s.a(yes_no, "v")], s.finish(value, msg)]


def _number_stages(s: _Scratch, f: InputField, missing: pl.Expr, raw: pl.Expr):
    """int, number and percent: the number's parts as text, its exact value
    (sign · digits · 10^e, scaled by 万/亿 and percent), then the checks."""
    c, a, t = s.c, s.a, f.type
    stages = [[missing, a(c("t").str.strip_chars_end("%").str.strip_chars(), "s0")]]
    no_commas = c("s0").str.replace_all(",", "", literal=True)
    stages.append(
        [
            a(c("t").str.ends_with("%"), "pct"),
            a(c("s0").str.extract_groups(_NUM_PARTS), "g"),
            a(c("s0").str.contains(",", literal=True), "comma"),
            a(no_commas.str.extract_groups(_NUM_PARTS), "g2"),
        ]
    )
    # the number is sign · digits · 10^e, exactly (no float yet)
    g = c("g").struct
    mant = g.field("2")
    point = mant.str.find(".", literal=True)
    frac = pl.when(point.is_null()).then(0).otherwise(mant.str.len_chars() - point - 1)
    exp_text = g.field("3")
    exp = (
        pl.when(exp_text.is_null())
        .then(0)
        .otherwise(
            exp_text.cast(pl.Int64, strict=False).fill_null(
                pl.when(exp_text.str.starts_with("-")).then(-_EXP_CLIP).otherwise(_EXP_CLIP)
            )
        )
        .clip(-_EXP_CLIP, _EXP_CLIP)
    )
    # 1.2万人 is 12000 people (unless the input itself counts in 万, like 万元)
    first = g.field("4").str.strip_chars().str.slice(0, 1)
    scale = pl.lit(0)
    for ch, factor in _SCALE.items():
        if not (f.unit or "").startswith(ch):
            scale = pl.when(first == ch).then(len(str(factor)) - 1).otherwise(scale)
    stages.append(
        [
            a(mant.is_not_null() & _unit_ok_expr(g.field("4"), f), "valid"),
            a(mant.is_not_null() & _hedged_expr(g.field("4"), f), "hedged"),
            a(
                c("comma")
                & c("g2").struct.field("2").is_not_null()
                & _unit_ok_expr(c("g2").struct.field("4"), f),
                "comma_only",
            ),
            a(g.field("1"), "sign"),
            a(
                mant.str.replace_all(",", "", literal=True).str.replace(".", "", literal=True),
                "digits",
            ),
            a(exp - frac.cast(pl.Int64) + scale, "e"),
        ]
    )
    sig = c("digits").str.strip_chars_start("0").str.len_chars().cast(pl.Int64)
    e = c("e")
    if t == "percent":  # 85 and 85% both mean 0.85 (for `fractions`, only 85% does)
        e = pl.when(c("pct")).then(e - 2).otherwise(e) if f.fractions else e - 2
    number = pl.concat_str([c("sign"), c("digits"), pl.lit("e"), e.cast(pl.String)])
    stages.append(
        [
            a((sig > 0) & (sig + c("e") - 1 >= len(str(_TOO_LARGE)) - 1), "big"),
            a(sig > 0, "nonzero"),
            a(sig + c("e") - 1, "lead"),  # the power of ten of the first digit
            # correctly rounded, like float(Decimal(...))
            a(number.cast(pl.Float64, strict=False), "x"),
        ]
    )
    stages.append([a(_number_problem(s, f), "p")])
    value = pl.when(c("m") | c("p").is_not_null()).then(None).otherwise(c("x"))
    if t == "int":
        value = value.cast(pl.Int64)
    stages.append(s.finish(value, c("p")))
    return stages


def _number_problem(s: _Scratch, f: InputField) -> pl.Expr:
    """The first check a number fails, in `convert`'s order, or null."""
    c, t = s.c, f.type
    value = c("x")
    checks = [
        (c("hedged"), _hedge_msg()),
        (~c("valid") & c("comma_only"), _comma_msg()),
        (~c("valid"), _("not a number")),
    ]
    if t != "percent":
        checks.append((c("pct"), _("a percentage where a count or number is expected")))
    checks.append((c("big"), _("the number is too large")))
    if t == "percent" and f.fractions:  # a plain |number| > 1: its first digit above 10^0, or 1.x
        above = (c("lead") > 0) | ((c("lead") == 0) & (c("digits").str.strip_chars("0") != "1"))
        checks.append((~c("pct") & c("nonzero") & above, over_one_msg()))
    elif t == "percent":  # `is_fraction`: nonzero, |number| < 1 (its first digit below the point)
        checks.append((~c("pct") & c("nonzero") & (c("lead") < 0), fraction_msg()))
    checks.append(((value == 0) & c("nonzero"), _underflow_msg()))
    if t == "int":
        checks.append((value != value.floor(), _("not a whole number")))
    if f.min is not None:
        checks.append((value < f.min - 1e-12, _range_msg(f, True)))
    if f.max is not None:
        checks.append((value > f.max + 1e-12, _range_msg(f, False)))
    chain = pl.when(c("m")).then(_NONE)
    for cond, message in checks:
        chain = chain.when(cond).then(pl.lit(message))
    return chain.otherwise(_NONE)


def _enum_stages(s: _Scratch, f: InputField, missing: pl.Expr, raw: pl.Expr):
    text = s.c("t")
    normed = {norm(v): v for v in f.values}
    key_text = text.str.replace_all(WS_RE, "").str.to_lowercase()
    mapped = key_text.replace_strict(
        list(normed), list(normed.values()), default=None, return_dtype=pl.String
    )
    listed = pl.when(text.is_in(f.values)).then(text).otherwise(mapped)
    value = pl.when(s.c("m")).then(None).otherwise(s.c("v"))
    message = _("not one of: {values}").format(values=", ".join(f.values))
    msg = pl.when(~s.c("m") & s.c("v").is_null()).then(pl.lit(message)).otherwise(_NONE)
    return [[missing, s.a(listed, "v")], s.finish(value, msg)]


def _set_stages(s: _Scratch, f: InputField, missing: pl.Expr, raw: pl.Expr):
    """Each distinct cell through `convert` (the reference) once: the cells
    of a multi-select column repeat, and the splitting and matching is
    Python's either way (the value is an Int64 bitmask)."""
    dtype = pl.Struct({"v": pl.Int64, "p": pl.String})

    def batch(col: pl.Series) -> pl.Series:
        distinct = col.unique().drop_nulls()
        pairs = [convert(cell, f) for cell in distinct]
        table = pl.DataFrame(
            {
                "v": pl.Series([v for v, _p in pairs], dtype=pl.Int64),
                "p": pl.Series([p for _v, p in pairs], dtype=pl.String),
            }
        )
        at = col.replace_strict(
            distinct, pl.int_range(len(distinct), dtype=pl.UInt32, eager=True), default=None
        )
        return table.to_struct().gather(at)

    got = s.c("r").struct
    value = pl.when(s.c("m")).then(None).otherwise(got.field("v"))
    msg = pl.when(s.c("m")).then(_NONE).otherwise(got.field("p"))
    return [[missing, s.a(raw.map_batches(batch, return_dtype=dtype), "r")], s.finish(value, msg)]


def _date_stages(s: _Scratch, f: InputField, missing: pl.Expr, raw: pl.Expr):
    pattern = r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})"
    g = s.c("g").struct
    y, m, d = g.field("1"), g.field("2"), g.field("3")
    iso = pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)])
    date = (
        pl.when(y.cast(pl.Int32, strict=False) < 1)
        .then(None)
        .otherwise(iso.str.to_date("%Y-%m-%d", strict=False))
    )
    value = pl.when(s.c("m")).then(None).otherwise(s.c("v"))
    msg = (
        pl.when(~s.c("m") & s.c("v").is_null())
        .then(pl.lit(_("not a date (YYYY-MM-DD)")))
        .otherwise(_NONE)
    )
    return [
        [missing, s.a(s.c("t").str.extract_groups(pattern), "g")],
        [s.a(date, "v")],
        s.finish(value, msg),
    ]


def _text_stages(s: _Scratch, f: InputField, missing: pl.Expr, raw: pl.Expr):
    written = raw.str.strip_chars()  # free text as written (NFKC only to read it)
    return [[missing], s.finish(pl.when(s.c("m")).then(None).otherwise(written), _NONE)]


# input type → its stages after the first (free text for any other type)
_TYPE_STAGES = {
    "bool": _bool_stages,
    "int": _number_stages,
    "number": _number_stages,
    "percent": _number_stages,
    "enum": _enum_stages,
    "date": _date_stages,
    "set": _set_stages,
}


# Below this many rows every column goes through the staged conversion at
# once; above it each column takes a shortcut (see `_convert_large`).
FAST_FROM_ROWS = 20_000

# The types whose plain numbers `_convert_plain` casts directly.
_PLAIN = ("int", "number", "percent")
# 10^0 .. 10^22, each exactly a double
_POW10 = pl.Series([10.0**i for i in range(23)], dtype=pl.Float64)
# a percent cell at most this long (sign, point and `%` aside: at most 15
# digits) is a decimal whose tests against 1 and 0.01 are exact in floats
_PCT_BYTES = 16
# a number cell longer than this is staged (its exponent may be clipped)
_NUM_BYTES = 64


def _plain_stages(
    raw: pl.Expr, f: InputField, every_pct: bool | None = None
) -> list[list[pl.Expr]]:
    """Stages of expressions (each reads only the columns of the ones before)
    that make `plain`, `x` and, for a percent, `pct` for the cells of `raw`,
    an int, number or percent column: x is the value that the staged
    conversion gives every cell where `plain` holds, with no problem but a
    range (and for a percent, the fraction or over-one) check on x; the other
    cells are staged. pct: the cell ends with `%` (a column given already
    when `every_pct` is not None: whether every cell but the nulls does).
    Which cells are plain is decided by Polars' own casts and arithmetic,
    not a pattern per cell:

    - int: the Int64 cast takes a sign and ASCII digits only; below 10^15
      the staged conversion gives the same integer (and no "too large").
    - number: the Float64 cast takes what the staged conversion reads as
      sign · digits · 10^e (both round the same decimal correctly), and
      inf, nan and their kin, which are not finite; 0 is staged (1e-400 is
      an underflow there), and so is |x| ≥ 10^15 ("too large").
    - percent: n, the cell without its `%` cast, is the decimal D rounded;
      when D has at most L bytes, D · 10^L is an integer M below 2^50 exactly
      when M = round(n · 10^L) gives back n as M / 10^L (otherwise the two
      differ by more than a rounding: `1.5e-9` is not a decimal of L
      places), and M / 10^(L+2) is then D / 100 correctly rounded (Clinger:
      two exact doubles, one division). A null cell is plain (missing)."""
    x, n = pl.col("x"), pl.col("~n")
    if f.type == "int":
        ok = (x > -(10**15)) & (x < 10**15)
        return [[raw.cast(pl.Int64, strict=False).alias("x")], [_plain(raw, ok)]]
    if f.type == "number":
        ok = x.is_finite() & (x.abs() < 1e15) & (x != 0) & (raw.str.len_bytes() <= _NUM_BYTES)
        return [[raw.cast(pl.Float64, strict=False).alias("x")], [_plain(raw, ok)]]
    pct, scale, m, text = pl.col("pct"), pl.col("~scale"), pl.col("~m"), pl.col("~t")
    size = text.str.len_bytes()
    y = m / (scale * 100.0)  # 10^(L+2), exactly
    exact = (m.abs() < 2.0**50) & (m / scale == n)
    if f.fractions:  # 85 and 85% both mean 0.85 only for `fractions`: a plain 0.85 is itself
        x_expr, exact = pl.when(pct).then(y).otherwise(n), ~pct | exact
    else:
        x_expr = y
    # a cell of at most `_PCT_BYTES` (longer: no scale), below 10^15 with or without its `%`
    ok = scale.is_not_null() & n.is_finite() & pl.col("~exact") & (x != 0) & (x.abs() < 1e13)
    # (a column whose every cell ends with `%` drops the last character: quicker)
    first = [raw.str.head(-1) if every_pct else raw.str.strip_suffix("%")]
    if every_pct is None:
        first.append(raw.str.ends_with("%").alias("pct"))
    return [
        [first[0].alias("~t"), *first[1:]],
        [
            text.cast(pl.Float64, strict=False).alias("~n"),
            pl.lit(_POW10).gather(pl.when(size <= _PCT_BYTES).then(size)).alias("~scale"),
        ],
        [(n * scale).round(0).alias("~m")],
        [x_expr.alias("x"), exact.alias("~exact")],
        [_plain(raw, ok)],
    ]


def _plain(raw: pl.Expr, ok: pl.Expr) -> pl.Expr:
    return (raw.is_null() | ok.fill_null(False)).alias("plain")


def _convert_plain(
    frame: pl.DataFrame, col: str, f: InputField, key: str, seen: Converted | None
) -> tuple[pl.Series, pl.Series]:
    """`_convert_large` of an int, number or percent column: the plain cells
    (`_plain_stages`) cast, the others staged."""
    out_v, out_p = f"in.{key}", f"p.{key}"
    step, every_pct = frame.lazy().select(col), None
    if f.type == "percent":  # the `%` first: with it in every cell, a quicker strip
        pct = frame.select(pl.col(col).str.ends_with("%").alias("pct")).to_series()
        every_pct = pct.sum() == pct.len() - pct.null_count()
        step = step.with_columns(pct)
    for exprs in _plain_stages(pl.col(col), f, every_pct):
        step = step.with_columns(exprs)
    x = pl.col("x")
    msg = pl.lit(None, dtype=pl.String)
    if f.max is not None:
        msg = pl.when(x > f.max + 1e-12).then(pl.lit(_range_msg(f, False))).otherwise(msg)
    if f.min is not None:
        msg = pl.when(x < f.min - 1e-12).then(pl.lit(_range_msg(f, True))).otherwise(msg)
    if f.type == "percent" and f.fractions:  # a plain |n| > 1 (exact at these lengths)
        msg = pl.when(~pl.col("pct") & (x.abs() > 1)).then(pl.lit(over_one_msg())).otherwise(msg)
    elif f.type == "percent":  # a plain 0 < |n| < 1: |n / 100| < 0.01 (exact at these lengths)
        plain_fraction = ~pl.col("pct") & (x.abs() < 0.01)
        msg = pl.when(plain_fraction).then(pl.lit(fraction_msg())).otherwise(msg)
    fast = (
        step.with_columns(msg.alias(out_p))
        .select(
            "plain",
            pl.when(pl.col("plain") & pl.col(out_p).is_null()).then(x).alias(out_v),
            pl.when(pl.col("plain")).then(pl.col(out_p)).alias(out_p),
        )
        .collect()
    )
    idx = fast.select(pl.arg_where(~pl.col("plain"))).to_series()
    if idx.len() == 0:
        return fast.get_column(out_v), _no_problems(fast.get_column(out_p))
    rest_v, rest_p = _staged(frame.select(pl.col(col).gather(idx)), col, f, key, seen)
    return (
        fast.get_column(out_v).scatter(idx, rest_v),
        _no_problems(fast.get_column(out_p).scatter(idx, rest_p)),
    )


def _run_stages(frame: pl.DataFrame, plans: list[list[list[pl.Expr]]]) -> pl.DataFrame:
    depth = max((len(p) for p in plans), default=0)
    stages = [[e for p in plans if i < len(p) for e in p[i]] for i in range(depth)]
    lf = frame.lazy()
    for i, exprs in enumerate(stages):
        lf = lf.with_columns(exprs)
        # a scratch column nothing later reads is dropped at once: with
        # dozens of inputs they would otherwise all stay in memory together
        later = {n for e in (x for s in stages[i + 1 :] for x in s) for n in e.meta.root_names()}
        made = {n for s in stages[: i + 1] for e in s for n in [e.meta.output_name()]}
        done = [n for n in made if n.startswith("~") and n not in later]
        if done:
            lf = lf.drop(done, strict=False)
    return lf.collect()


def convert_columns(
    frame: pl.DataFrame,
    specs: dict[str, tuple[str, InputField]],
    fast_from: int | None = None,
    progress: Callable[[float], None] | None = None,
    seen: Converted | None = None,
) -> pl.DataFrame:
    """`frame` with `in.<key>` and `p.<key>` added for every `key → (text
    column, input)` of `specs` (and no scratch columns). `progress` is
    called with the share of the work just done; `seen` remembers the
    cells staged, for the next batch of the same file."""
    if fast_from is None:
        fast_from = FAST_FROM_ROWS
    if frame.height < fast_from or not specs:
        out = _run_stages(frame, [_convert_stages(col, f, key) for key, (col, f) in specs.items()])
        if progress is not None:
            progress(1.0)
        return out
    # one column at a time in each thread (Polars releases the GIL): most
    # of the work is string scans that Polars runs on one core per column.
    # The frame is not made contiguous first: that copy of every text cell
    # doubled the peak memory of a large CSV, and the gathers and scatters
    # it sped up only run for the few cells that are not plain numbers
    from concurrent.futures import ThreadPoolExecutor

    def one(item):
        key, (col, f) = item
        pair = _convert_large(frame, col, f, key, seen)
        if progress is not None:
            progress(1 / len(specs))
        return pair

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        parts = list(pool.map(one, specs.items()))
    return with_series(frame, *(s for pair in parts for s in pair))


def _no_problems(p: pl.Series) -> pl.Series:
    """A column of problem messages; one without any as a column of nulls
    that takes no memory (a text column of a million nulls takes 16 MB)."""
    if p.null_count() == p.len():
        return pl.repeat(None, p.len(), dtype=pl.Null, eager=True).alias(p.name)
    return p


class Converted:
    """The cells converted so far by the staged conversion, per input (a
    frame of the cell, `in.<key>` and `p.<key>`): a cell's value and problem
    depend on the cell alone, so the batches of one file stage each distinct
    cell once (planning the staged conversion costs milliseconds a batch
    and column)."""

    def __init__(self) -> None:
        self.tables: dict[str, pl.DataFrame] = {}

    def table(self, cells: pl.DataFrame, col: str, f: InputField, key: str) -> pl.DataFrame:
        """The converted table holding every distinct cell of `cells[col]`
        (nulls aside), staging only those not converted before."""
        known = self.tables.get(key)
        if known is not None and known.height <= _FEW_DISTINCT and _only(cells, col, known[col]):
            return known  # a comparison per known cell beats hashing every cell
        distinct = cells.select(pl.col(col).unique().drop_nulls())
        if known is not None:
            distinct = distinct.join(known.select(col), on=col, how="anti")
            if not distinct.height:
                return known
        new = _run_stages(distinct, [_convert_stages(col, f, key)])
        self.tables[key] = new if known is None else pl.concat([known, new])
        return self.tables[key]


def _only(cells: pl.DataFrame, col: str, known: pl.Series) -> bool:
    """Whether every cell of `cells[col]` is null or one of `known`."""
    c = pl.col(col)
    hit = c.is_null()
    for cell in known.to_list():
        hit = hit | (c == cell)
    return bool(cells.select(hit.all()).item())


def _staged(
    cells: pl.DataFrame, col: str, f: InputField, key: str, seen: Converted | None
) -> tuple[pl.Series, pl.Series]:
    """`cells[col]` through the staged conversion, each distinct cell once
    (remembered in `seen`): the value and problem columns."""
    out_v, out_p = f"in.{key}", f"p.{key}"
    table = (seen or Converted()).table(cells, col, f, key)
    at = cells.get_column(col).replace_strict(
        table.get_column(col),
        pl.int_range(table.height, dtype=pl.UInt32, eager=True),
        default=None,
    )
    return table.get_column(out_v).gather(at), table.get_column(out_p).gather(at)


def _convert_large(
    frame: pl.DataFrame, col: str, f: InputField, key: str, seen: Converted | None = None
) -> tuple[pl.Series, pl.Series]:
    """One column of a large table, the same values and messages as the
    staged conversion: plain numbers are cast directly and only the other
    cells are staged; other types stage each distinct cell once (once for
    every batch of a file, with `seen`)."""
    out_v, out_p = f"in.{key}", f"p.{key}"
    if f.type in _PLAIN:
        return _convert_plain(frame, col, f, key, seen)
    # few distinct cells (yes/no, enum values, dates): convert each once
    if seen is not None:
        table = seen.table(frame, col, f, key)
    else:
        distinct = frame.select(pl.col(col).unique().drop_nulls())
        table = _run_stages(distinct, [_convert_stages(col, f, key)])
    # an empty cell (null) is missing, without a problem
    if table.height <= _FEW_DISTINCT:  # a comparison per value beats a hash lookup per cell
        cells, values, messages = (table.get_column(c).to_list() for c in (col, out_v, out_p))
        v_dtype, p_dtype = table.schema[out_v], table.schema[out_p]
        # only the cells with a value (with a message) are compared: every
        # other cell is null either way (a yes/no column has no message)
        pair = frame.select(
            _chain(col, cells, values).cast(v_dtype).alias(out_v),
            _chain(col, cells, messages).cast(p_dtype).alias(out_p),
        )
        return pair.get_column(out_v), _no_problems(pair.get_column(out_p))
    at = frame.get_column(col).replace_strict(
        table.get_column(col),
        pl.int_range(table.height, dtype=pl.UInt32, eager=True),
        default=None,
    )
    return table.get_column(out_v).gather(at), _no_problems(table.get_column(out_p).gather(at))


_FEW_DISTINCT = 6  # a column of at most this many distinct cells (yes/no) is mapped by comparisons


def _chain(col: str, cells: list, results: list) -> pl.Expr:
    """The result of the first of `cells` that `col` equals, compared in
    turn; null when none is (or when every result is null)."""
    expr = None
    for cell, result in zip(cells, results, strict=True):
        if result is None:
            continue
        hit = pl.col(col) == cell
        expr = (pl.when(hit) if expr is None else expr.when(hit)).then(pl.lit(result))
    return pl.repeat(None, pl.len()) if expr is None else expr.otherwise(None)


def load(
    path: Path,
    model: Model,
    encoding: str | None = None,
    sheet: str | int | None = None,
    progress: Progress | None = None,
    batch_bytes: int | None = None,
) -> Dataset:
    """Read `path` and convert it for `model`. Raises `DataError` only when
    the file cannot be read as a table at all. A large text file is read
    and converted in row batches of about `batch_bytes`
    (`formats.BATCH_BYTES` when None), with the same result."""
    if not is_stdin(path) and path.is_dir():
        return load_many(data_files(path), model, encoding, sheet, progress, name=str(path))
    if progress is not None:
        progress.phase("read")
    try:
        return convert_batches(_batches(path, encoding, sheet, model, progress, batch_bytes), model)
    except NotInBatches:  # a batch only the record-by-record reader reads right
        pass
    return load_whole(path, model, encoding, sheet, progress)


# the suffixes `readers.read_batches` may read in several batches
_IN_BATCHES = {".csv", ".tsv", ".txt", "", ".parquet"}


class Batches:
    """A table that comes in several row batches (`open_batches`), converted
    one batch at a time: iterating gives each batch's typed frame, the
    first two already converted; `conversion` then gives the dataset's
    problems (`Conversion.dataset()`). What reading a later batch raises is
    raised while iterating, `NotInBatches` included (the file must then be
    read whole, from the start). `close()` stops the read-ahead."""

    def __init__(
        self, conversion: Conversion, converted: list[pl.DataFrame], rest: Iterator[pl.DataFrame]
    ) -> None:
        self.conversion = conversion
        self._converted = converted[::-1]  # popped in order
        self._rest = rest  # the later batches, converted in the read-ahead thread

    def __iter__(self) -> Iterator[pl.DataFrame]:
        while self._converted:
            yield self._converted.pop()
        for frame in self._rest:
            yield frame
            del frame

    def close(self) -> None:
        self._converted.clear()
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()


def open_batches(
    path: Path,
    model: Model,
    encoding: str | None = None,
    sheet: str | int | None = None,
    progress: Progress | None = None,
    batch_bytes: int | None = None,
) -> Dataset | Batches:
    """`load(path, ...)` when the file is read whole or in one batch (the
    same dataset); else its `Batches`, for a caller that uses each batch
    and drops it (`Conversion` with `keep_ids`). Each batch is read and
    converted in a thread of its own (`_ahead`), one batch ahead of the
    caller; the first is taken here, and the second is known to be there
    once it is read (it is converted while the first is evaluated). Raises
    what `load` raises."""
    if is_stdin(path) or path.is_dir() or path.suffix.lower() not in _IN_BATCHES:
        return load(path, model, encoding, sheet, progress, batch_bytes)
    if progress is not None:
        progress.phase("read")
    conversion = Conversion(model, keep_ids=True)
    # each batch is converted in the read-ahead thread, right after it is
    # read, while the one before is evaluated here: `conversion` is used by
    # that thread alone until it has handed over the last batch
    raws = _batches(path, encoding, sheet, model, progress, batch_bytes, conversion.batch)
    converted, more = [], False
    try:
        for frame in raws:
            if frame is SECOND:  # there is a second batch (being converted now)
                more = True
                break
            converted.append(frame)
            del frame
    except NotInBatches:  # a batch only the record-by-record reader reads right
        raws.close()
        converted.clear()
        return load_whole(path, model, encoding, sheet, progress)
    except BaseException:  # the read-ahead thread is not left reading
        raws.close()
        raise
    if not converted:
        raise ValueError("convert_batches needs one batch at least")
    if not more:  # the reading thread has ended: `conversion` is ours
        return conversion.dataset(joined(converted))
    return Batches(conversion, converted, raws)


def load_whole(
    path: Path,
    model: Model,
    encoding: str | None = None,
    sheet: str | int | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """`load` of a file read whole, not in batches (after `NotInBatches`)."""
    raw = read_raw(path, encoding, sheet=sheet, model=model)
    if progress is not None:
        progress.phase("convert")
    return convert_table(raw, model, progress.advance if progress is not None else None)


def _batches(
    path: Path,
    encoding: str | None,
    sheet,
    model: Model,
    progress: Progress | None,
    batch_bytes: int | None,
    convert: Callable[[RawTable], Any] | None = None,
) -> Iterator[Any]:
    """`readers.read_batches` (each batch through `convert` in the reading
    thread, when given), the progress bar in the convert phase after the
    first batch, moving by a batch's share of the file's size."""
    from zhili.engine.io.formats import BATCH_BYTES

    batches = _ahead(
        read_batches(path, encoding, sheet=sheet, model=model, batch_bytes=batch_bytes), convert
    )
    try:
        share = (batch_bytes or BATCH_BYTES) / max(1, path.stat().st_size)
    except (OSError, ValueError):  # standard input
        share = 0.0
    k = -1
    for raw in batches:
        if raw is SECOND:
            yield raw
            continue
        k += 1
        if progress is not None and k == 1:
            progress.phase("convert")
            progress.advance(share)
        yield raw
        if progress is not None and k >= 1:
            progress.advance(share)


# `_ahead` with `convert`: what it gives once it has read the second item,
# before converting it
SECOND = object()


def _ahead(
    items: Iterator[RawTable], convert: Callable[[RawTable], Any] | None = None
) -> Iterator[Any]:
    """`items` (each through `convert`, when given), each next one read (and
    converted) in a thread while the one before is used: Polars reads and
    converts a batch mostly without holding the GIL, so this thread fills
    the core that the caller leaves idle. Two batches in memory at most: the
    next one is read once the one before it has been taken (it is being
    used meanwhile). With `convert`, `SECOND` comes once the second item is
    read, before it is converted. What reading or converting raises is
    raised here, in order; `convert` runs in the thread alone, in order, and
    not after the end (or an error) has been handed over."""
    import queue
    import threading

    done = object()
    box: queue.Queue = queue.Queue(maxsize=1)
    taken = threading.Semaphore(1)  # the reader may read one more batch
    stop = threading.Event()

    def offer(entry) -> bool:
        """Put `entry` in the box once there is room; False when the
        batches are no longer wanted (the converting stopped)."""
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            source, count = iter(items), 0
            while True:
                while not taken.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                item = next(source, done)
                if convert is not None and item is not done:
                    count += 1
                    if count == 2 and not offer((SECOND, None)):
                        return
                    item = convert(item)  # the raw batch is dropped here
                if not offer((item, None)) or item is done:
                    return
                del item
        except BaseException as exc:  # handed to the reader of the batches
            offer((done, exc))

    worker = threading.Thread(target=read, name="zhili-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = box.get()
            if item is not SECOND:  # the item it announces is still to be read from the box
                taken.release()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
            item = None  # not kept while the next one is waited for
    finally:
        stop.set()


def data_files(folder: Path) -> list[Path]:
    """The data files of `folder`, in name order: every regular file whose
    suffix a reader reads (not recursive, a file without a suffix not
    either); hidden files and Excel's `~$` lock files are ignored. Raises
    `DataError` when there is none."""
    suffixes = {s for s in (*BUILTIN_READERS, *DATA_READERS) if s}
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise DataError(
            _("{file}: cannot read the folder: {err}").format(file=folder, err=exc.strerror or exc)
        ) from exc
    found = [
        p
        for p in entries
        if not p.name.startswith((".", "~$")) and p.suffix.lower() in suffixes and p.is_file()
    ]
    if not found:
        raise DataError(_("{file}: the folder holds no data file").format(file=folder))
    return found


def load_many(
    paths: list[Path],
    model: Model,
    encoding: str | None = None,
    sheet: str | int | None = None,
    progress: Progress | None = None,
    name: str | None = None,
) -> Dataset:
    """Read and convert every file of `paths` as `load` does one, and join
    their tables in order: each row keeps its `source` (`file[sheet]:row`,
    and `source_file`, `source_sheet`), and a community id in two places is
    an error naming both."""
    parts = []
    for i, path in enumerate(paths):
        if progress is not None:
            progress.phase("read")
        ds = load(path, model, encoding, sheet)  # a large text file in batches
        where = pl.lit(path.name + (f"[{ds.sheet}]" if ds.sheet is not None else ""))
        ds._frame = ds.frame.with_columns(
            pl.concat_str([where, pl.lit(":"), pl.col("row").cast(pl.String)]).alias("source"),
            pl.lit(i, dtype=pl.Int64).alias("__part"),
            pl.lit(path.name, dtype=pl.String).alias("source_file"),
            pl.lit(ds.sheet, dtype=pl.String).alias("source_sheet"),
        )
        parts.append(ds)
        if progress is not None:
            progress.advance(1.0)
    out = Dataset(file=name or ", ".join(str(p) for p in paths), model=model)
    out.files = [str(p) for p in paths]
    for ds in parts:
        out.problems += ds.problems
        out.columns.update({k: v for k, v in ds.columns.items() if k not in out.columns})
        out._meta_keys += [k for k in ds._meta_keys if k not in out._meta_keys]
    frame = pl.concat([ds.frame for ds in parts], how="diagonal_relaxed")
    out.problems += _duplicates_across(frame, parts)
    out._frame = frame.drop("__part")
    return out


def _duplicates_across(frame: pl.DataFrame, parts: list[Dataset]) -> list[DataProblem]:
    """An error for every row whose community id (in `id_key`'s form) a row
    of an earlier file has; the same id twice in one file is already
    reported by `_duplicate_ids`."""
    keyed = frame.select(
        "row",
        "source",
        "community_id",
        "__part",
        "source_sheet",
        id_key(pl.col("community_id")).alias("__key"),
    )
    dup = keyed.with_columns(
        pl.col("__part").first().over("__key").alias("first_part"),
        pl.col("source").first().over("__key").alias("first"),
    ).filter(pl.col("__part") != pl.col("first_part"))
    problems = []
    for row, cid, part, sheet, first in dup.select(
        "row", "community_id", "__part", "source_sheet", "first"
    ).iter_rows():
        ds = parts[part]
        message = _("duplicate community id (first in {source})").format(source=first)
        problems.append(
            DataProblem(
                ds.file,
                row,
                ds.id_column,
                cid,
                message,
                "error",
                sheet=sheet,
                code=codes.DATA_DUPLICATE_ID.code,
            )
        )
    return problems


_CELL_CODES = {codes.DATA_ERROR_CELL.code, codes.DATA_UNCOMPUTED_FORMULA.code}


def convert_table(
    raw: RawTable, model: Model, progress: Callable[[float], None] | None = None
) -> Dataset:
    """Text cells → a typed frame (`in.<input>` columns, hierarchy columns,
    `row`), with a `DataProblem` for every cell that could not be used.

    In phases: match the columns to the model → convert every cell → the
    problems of the cells, in row then column order → community ids (and
    duplicates) → the warnings about whole columns."""
    return convert_batches(iter([raw]), model, progress)


def convert_batches(
    raws: Iterator[RawTable], model: Model, progress: Callable[[float], None] | None = None
) -> Dataset:
    """`convert_table` of one table given as consecutive row batches (the
    same headers each, `formats.read_delimited_batches`): each batch is
    converted and its text cells dropped before the next is read, and the
    dataset is the one `convert_table` makes of the whole table, problems in
    the same order (`Conversion`, the batches' frames joined)."""
    conversion = Conversion(model, progress)
    frames = []
    for raw in raws:
        frames.append(conversion.batch(raw))
        del raw  # not kept while the next batch is read
    if not frames:
        raise ValueError("convert_batches needs one batch at least")
    return conversion.dataset(joined(frames))


def joined(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The converted batches of one table as one frame of one chunk: the
    reader's chunks (166 for a million rows) made every later query on the
    results copy them (800 MB more to write a million results). `frames` is
    emptied."""
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=False)
    frames.clear()
    if max(frame.n_chunks("all"), default=1) > 1:  # a column at a time: one more in memory
        frame = pl.DataFrame([frame.drop_in_place(name).rechunk() for name in list(frame.columns)])
    return frame


class Conversion:
    """One table converted batch by batch: `batch(raw)` converts the next
    row batch into its typed frame (community ids given) and keeps its
    problems; `dataset(frame)` is then the dataset `convert_table` makes of
    the whole table, `frame` being the batches' frames joined. The problems
    that need the whole table (the columns, two columns for one input,
    duplicate ids) are found there.

    With `keep_ids` (the batches evaluated one at a time and dropped,
    `engine.eval.stream`), each batch's rows and community ids are kept,
    all that finding duplicate ids needs; `dataset()` without a frame then
    finds them and gives a dataset whose frame is empty (its columns and
    types kept)."""

    def __init__(
        self,
        model: Model,
        progress: Callable[[float], None] | None = None,
        keep_ids: bool = False,
    ) -> None:
        self.model = model
        self.progress = progress
        self.kinds: dict[str, list[DataProblem]] = {}
        self.same: dict[tuple[int, int], bool] = {}
        self.seen = Converted()  # each distinct cell staged once in the whole file
        self.ids: list[pl.DataFrame] | None = [] if keep_ids else None
        self.first: RawTable | None = None  # the first batch's headers, without its cells
        self.empty: pl.DataFrame | None = None  # the typed frame's columns, no rows

    def batch(self, raw: RawTable) -> pl.DataFrame:
        """The typed frame of the next batch `raw` (see `_convert_batch`)."""
        model = self.model
        if self.first is None:
            self.inputs, self.meta_cols, self.unmatched = match_columns(raw.headers, model)
            # a workbook's error and formula cells matter in the columns that are read
            self.used = set(self.inputs.values()) | set(self.meta_cols.values())
            self.first = replace(raw, frame=pl.DataFrame(), lines=[], problems=[])
        frame, problems = _convert_batch(
            raw, model, self.inputs, self.meta_cols, self.used, self.same, self.progress, self.seen
        )
        del raw
        for kind, found in problems.items():
            self.kinds.setdefault(kind, []).extend(found)
        frame = _community_ids(frame)
        if self.empty is None:
            self.empty = frame.clear()
        if self.ids is not None:  # with their keys (`_id_keys`): less to do at the end
            ids = frame.select("row", "community_id", *(["period"] if "period" in frame else []))
            self.ids.append(ids.with_columns(_id_keys(ids.get_column("community_id")).alias(_KEY)))
        return frame

    @property
    def meta_keys(self) -> list[str]:
        """The hierarchy columns of the typed frames (`Dataset.meta_keys`)."""
        return ["community_id"] + [k for k in self.meta_cols if k != "community_id"]

    def batch_dataset(self, frame: pl.DataFrame) -> Dataset:
        """A dataset of one converted batch `frame`, to evaluate (no problems)."""
        assert self.first is not None
        return Dataset(
            file=self.first.file,
            columns=dict(self.inputs),
            model=self.model,
            _frame=frame,
            _meta_keys=self.meta_keys,
            sheet=self.first.sheet,
        )

    def dataset(self, frame: pl.DataFrame | None = None) -> Dataset:
        """The dataset of the table: `frame` the batches' frames joined (see
        `joined`), or None when the ids were kept (its frame then empty)."""
        first, model = self.first, self.model
        if first is None or self.empty is None:
            raise ValueError("convert_batches needs one batch at least")
        file, kinds = first.file, self.kinds
        ds = Dataset(file=file, model=model)
        ds.columns = self.inputs
        ds.problems = [
            *kinds.get("read", []),
            *kinds.get("stray", []),
            *_column_problems(file, model, self.inputs, self.unmatched),
            *_duplicate_column_problems(first, self.same),
            *kinds.get("cells", []),
            *kinds.get("score", []),
        ]
        if frame is None:
            if self.ids is None:
                raise ValueError("dataset() without a frame needs keep_ids")
            ids = pl.concat(self.ids) if len(self.ids) > 1 else self.ids[0]
            self.ids = []
            ds.problems += _duplicate_ids(ids, file, self.meta_cols)
            del ids
        else:
            ds.problems += _duplicate_ids(frame, file, self.meta_cols)
        ds.id_column = self.meta_cols.get("community_id") or self.meta_cols.get("community")
        if first.sheet is not None:
            ds.problems = [
                p if p.sheet is not None or p.file != file else replace(p, sheet=first.sheet)
                for p in ds.problems
            ]
        ds._frame = frame if frame is not None else self.empty
        ds._meta_keys = self.meta_keys
        ds.sheet = first.sheet
        return ds


def _convert_batch(
    raw: RawTable,
    model: Model,
    inputs: dict[str, str],
    meta_cols: dict[str, str],
    used: set[str],
    same: dict[tuple[int, int], bool],
    progress: Callable[[float], None] | None,
    seen: Converted,
) -> tuple[pl.DataFrame, dict[str, list[DataProblem]]]:
    """One batch of `convert_batches`: its typed frame (without problem
    columns) and its problems by kind; `same` gathers, for every two columns
    of one input, whether their cells are alike so far."""
    problems = {"read": [p for p in raw.problems if p.code not in _CELL_CODES or p.column in used]}
    raw, problems["stray"] = _stray_rows(raw, inputs, meta_cols)
    for pair, alike in _duplicate_column_pairs(raw, model).items():
        same[pair] = same.get(pair, True) and alike
    position: dict[str, int] = {}
    for j, h in enumerate(raw.headers):
        position.setdefault(h, j)
    lines = pl.Series("row", raw.lines, dtype=pl.Int64)
    frame = _convert(raw, model, inputs, meta_cols, position, lines, progress, seen)
    problems["cells"] = _cell_problems(raw, frame, inputs, position, lines)
    problems["score"] = score_problems(frame, model, inputs, raw.file)
    return frame.drop([c for c in frame.columns if c.startswith("p.")]), problems


def _stray_rows(
    raw: RawTable, inputs: dict[str, str], meta_cols: dict[str, str]
) -> tuple[RawTable, list[DataProblem]]:
    """`raw` without the rows that hold no community, and a warning for each
    (see docs/data.md): a row with values only in columns that match no input
    and no hierarchy column; and, in a file with an id or name column, a row
    with neither and at most one value in the model's columns when the file
    has three input columns or more (a note, a stray cell far below the
    data), none when it has fewer."""
    position: dict[str, int] = {}
    for j, h in enumerate(raw.headers):
        position.setdefault(h, j)
    names = [position[meta_cols[k]] for k in ("community_id", "community") if k in meta_cols]
    known = {position[h] for h in [*inputs.values(), *meta_cols.values()]} - set(names)
    at_most = 1 if names and len(inputs) >= 3 else 0

    def empty(j: int) -> pl.Expr:
        c = pl.col(f"c{j}")
        return c.is_null() | (c.str.strip_chars(WHITESPACE) == "")

    candidates = raw.frame.with_row_index("__i")
    for j in names or sorted(known):  # one column at a time: few rows get past the first
        candidates = candidates.filter(empty(j))
    problems, drop = [], []
    for i, *cells in candidates.iter_rows():
        filled = [(j, v) for j, v in enumerate(cells) if v is not None and v.strip(WHITESPACE)]
        in_model = [(j, v) for j, v in filled if j in known]
        if len(in_model) > at_most or (not names and (in_model or not filled)):
            continue  # a community (without id and name columns, even an empty row is)
        if filled and not in_model:
            message = _("a value only in a column that matches no input: the row is skipped")
        elif filled:
            message = _("no community id or name and a single value: the row is skipped")
        else:
            message = _("an empty row is skipped")
        j, value = (in_model or filled or [(None, None)])[0]
        header = raw.headers[j] if j is not None else None
        problems.append(
            DataProblem(
                raw.file,
                raw.lines[i],
                header or None,
                value,
                message,
                code=codes.DATA_STRAY_ROW.code,
            )
        )
        drop.append(i)
    if not drop:
        return raw, []
    keep = sorted(set(range(raw.frame.height)) - set(drop))
    frame = raw.frame.with_row_index("__i").filter(pl.col("__i").is_in(keep)).drop("__i")
    lines = [raw.lines[i] for i in keep]
    return replace(raw, frame=frame, lines=lines), problems


def _column_problems(
    file: str, model: Model, inputs: dict[str, str], unmatched: list[str]
) -> list[DataProblem]:
    """An input without a column (an error when it is required), and a column
    that matches no input."""
    problems = []
    for f in model.inputs:
        if f.id not in inputs:
            sev = "error" if f.required else "warning"
            code = codes.DATA_NO_COLUMN if f.required else codes.DATA_NO_OPTIONAL_COLUMN
            label = f"{f.label} / {f.id}" if f.label else f.id
            problems.append(
                DataProblem(
                    file,
                    None,
                    label,
                    None,
                    _no_column_msg(f, unmatched),
                    sev,
                    code=code.code,
                )
            )
    for h in unmatched:
        if h and not h.startswith("\x00"):
            problems.append(
                DataProblem(
                    file,
                    1,
                    h,
                    None,
                    _("column matches no input and is ignored"),
                    "info",
                    code=codes.DATA_UNKNOWN_COLUMN.code,
                )
            )
    return problems


def _no_column_msg(f: InputField, unmatched: list[str]) -> str:
    """ "no column for input", with the unmatched headers that nearly match
    its label or id (`视频监控覆盖(%)` for 视频监控覆盖率), units aside."""
    headers = [h for h in unmatched if h and not h.startswith("\x00")]
    close: list[str] = []
    for name in (f.label, f.id):
        if name:
            close += [h for h in close_names(name, headers, key=_header_key) if h not in close]
    if not close:
        return _("no column for input (every value counts as missing)")
    return _(
        "no column for input (every value counts as missing); did you mean the column {names}? "
        "(a column is matched by the input's name or label, a unit in brackets aside)"
    ).format(names=", ".join(repr(h) for h in close[:3]))


def _header_key(header: str) -> str:
    return norm(strip_unit(header))


def _input_positions(headers: list[str], model: Model) -> dict[str, list[int]]:
    """input id → the positions of every column that matches it (by id or
    label, as `match_columns` matches them), in order."""
    wanted: dict[str, str] = {}
    for f in model.inputs:
        wanted[norm(f.id)] = f.id
        if f.label:
            wanted[norm(f.label)] = f.id
    found: dict[str, list[int]] = {}
    for j, h in enumerate(headers):
        fid = wanted.get(norm(h)) or wanted.get(norm(strip_unit(h)))
        if fid is not None:
            found.setdefault(fid, []).append(j)
    return found


def _duplicate_column_pairs(raw: RawTable, model: Model) -> dict[tuple[int, int], bool]:
    """(first column, later column) → whether their cells are alike, for
    every two columns that match one input."""
    pairs = {}
    for places in _input_positions(raw.headers, model).values():
        first = places[0]
        for j in places[1:]:
            pairs[first, j] = raw.frame.select(
                pl.col(f"c{first}").eq_missing(pl.col(f"c{j}")).all()
            ).item()
    return pairs


def _duplicate_column_problems(raw: RawTable, same: dict[tuple[int, int], bool]) -> list:
    """Two columns for one input (常住人口 twice, or the id and the label):
    the first is read and every later one ignored — a warning when they hold
    the same cells, an error when they differ (which one is right is not for
    zhili to guess). `same` is `_duplicate_column_pairs` of the whole table."""
    problems = []
    for (first, j), alike in same.items():
        where = {"first": raw.headers[first], "n": first + 1, "m": j + 1}
        problems.append(
            DataProblem(
                raw.file,
                None,
                raw.headers[j],
                None,
                (
                    _(
                        "a second column for the same input as column {n} "
                        "({first}), with the same values: column {n} is read, "
                        "column {m} ignored"
                    )
                    if alike
                    else _(
                        "a second column for the same input as column {n} "
                        "({first}), with different values: delete the wrong one "
                        "(column {n} is read, column {m} ignored)"
                    )
                ).format(**where),
                "warning" if alike else "error",
                code=(codes.DATA_REPEATED_COLUMN if alike else codes.DATA_DUPLICATE_COLUMN).code,
            )
        )
    return problems


def _convert(
    raw: RawTable,
    model: Model,
    inputs: dict[str, str],
    meta_cols: dict[str, str],
    position: dict[str, int],
    lines: pl.Series,
    progress: Callable[[float], None] | None,
    seen: Converted | None = None,
) -> pl.DataFrame:
    """`row`, the hierarchy columns (trimmed; empty is null), and `in.<input>`
    and `p.<input>` (the problem message) for every input with a column; an
    input without a column is all missing."""
    by_id = {f.id: f for f in model.inputs}
    meta_exprs = []
    for key, header in meta_cols.items():
        c = pl.col(f"c{position[header]}")
        meta_exprs.append(
            pl.when(c.is_null() | (c == "")).then(None).otherwise(c.str.strip_chars()).alias(key)
        )
    specs = {fid: (f"c{position[header]}", by_id[fid]) for fid, header in inputs.items()}
    frame = with_series(raw.frame, lines).with_columns(meta_exprs)
    frame = convert_columns(frame, specs, progress=progress, seen=seen)
    frame = positive_zeros(frame)  # a cell "-0" is 0 (a zero is 0.0 in every result)
    frame = frame.select(
        "row",
        *meta_cols,
        *[c for fid in inputs for c in (f"in.{fid}", f"p.{fid}")],
    )
    for f in model.inputs:
        if f.id not in inputs:
            from zhili.engine.eval.vectorized import POLARS_TYPES

            frame = frame.with_columns(pl.lit(None, dtype=POLARS_TYPES[f.type]).alias(f"in.{f.id}"))
    return frame


def _cell_problems(
    raw: RawTable,
    frame: pl.DataFrame,
    inputs: dict[str, str],
    position: dict[str, int],
    lines: pl.Series,
) -> list[DataProblem]:
    """A problem for every cell the conversion refused, with the cell as
    written, in row then column order."""
    file = raw.file
    cells = []
    for fid, header in inputs.items():
        if frame.schema[f"p.{fid}"] == pl.Null:  # no problem in the column
            continue
        bad = frame.select("row", pl.col(f"p.{fid}"), pl.lit(position[header]).alias("j")).filter(
            pl.col(f"p.{fid}").is_not_null()
        )
        if bad.height:
            raws = with_series(raw.frame, lines).filter(
                pl.col("row").is_in(bad.get_column("row").implode())
            )
            raw_by_row = dict(
                zip(
                    raws.get_column("row").to_list(),
                    raws.get_column(f"c{position[header]}").to_list(),
                    strict=True,
                )
            )
            ambiguous = {fraction_msg(): fraction_msg, over_one_msg(): over_one_msg}
            for row, message, j in bad.iter_rows():
                cell = raw_by_row.get(row)
                code = codes.DATA_INVALID_VALUE
                if message in ambiguous:
                    code, message = codes.DATA_FRACTION_SHARES, ambiguous[message](cell)
                problem = DataProblem(file, row, header, cell, message, code=code.code)
                cells.append((row, j, problem))
    cells.sort(key=lambda x: (x[0], x[1]))
    return [p for _, _, p in cells]


def score_problems(
    frame: pl.DataFrame, model: Model, inputs: dict[str, str], file: str
) -> list[DataProblem]:
    """A warning for every cell of an input that an indicator `score`s
    (points given by another body) outside 0..points: the evaluation clamps
    it, so the table says so, naming row, column and value."""
    problems = []
    for ind in model.indicators:
        s = ind.scoring
        if not (isinstance(s, Score) and isinstance(s.value, Ref) and s.value.scope == "input"):
            continue
        fid = s.value.name
        if fid not in inputs:
            continue
        v = pl.col(f"in.{fid}")
        bad = frame.filter((v < 0) | (v > ind.points)).select("row", v.alias("v"))
        for row, value in bad.iter_rows():
            clamped = min(max(float(value), 0.0), ind.points)
            message = _(
                "{indicator} is scored {value} but has {points} points: counted as {clamped}"
            ).format(
                indicator=ind.name,
                value=_fmt(value, s.value.type),
                points=_fmt(ind.points, "number"),
                clamped=_fmt(clamped, "number"),
            )
            problems.append(
                DataProblem(
                    file,
                    row,
                    inputs[fid],
                    _fmt(value, s.value.type),
                    message,
                    code=codes.DATA_SCORE_CLAMPED.code,
                )
            )
    problems.sort(key=lambda p: p.row or 0)
    return problems


def _community_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Every row gets a community id: the id, else the name, else `#<row>`."""
    if "community_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("community_id"))
    elif not frame.get_column("community_id").null_count():  # every row has its id
        return frame
    fallback = (
        pl.col("community") if "community" in frame.columns else pl.lit(None, dtype=pl.String)
    )
    return frame.with_columns(
        pl.coalesce(pl.col("community_id"), fallback, pl.format("#{}", pl.col("row"))).alias(
            "community_id"
        )
    )


# invisible characters an id may carry from a copy and paste: zero-width
# space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen
_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff\u00ad]"


def id_key(ids: pl.Expr) -> pl.Expr:
    """The form community ids are compared in: NFKC (full-width → half-width),
    invisible characters removed, lower case, trimmed."""
    return (
        ids.str.normalize("NFKC")
        .str.replace_all(_INVISIBLE, "")
        .str.to_lowercase()
        .str.strip_chars(WHITESPACE)
    )


def id_key_text(text: str) -> str:
    """`id_key` for one id (the form `--community` is matched in)."""
    text = re.sub(_INVISIBLE, "", unicodedata.normalize("NFKC", text)).lower()
    return text.strip(WHITESPACE)


_KEY = "__key"  # a frame's column of `_id_keys`


def _id_keys(ids: pl.Series) -> pl.Series:
    """`id_key` of every id, the Unicode normalisation only for the ids that
    are not ASCII (whose key is lower case and trimmed: a million ids in a
    fifth of the time)."""
    fast = ids.str.to_lowercase().str.strip_chars(WHITESPACE)
    other = (ids.str.len_bytes() != ids.str.len_chars()).arg_true()
    if other.len():
        slow = pl.select(id_key(pl.lit(ids.gather(other)))).to_series()
        fast = fast.scatter(other, slow)
    return fast


def _duplicate_ids(frame: pl.DataFrame, file: str, meta_cols: dict[str, str]) -> list[DataProblem]:
    """An error for every row whose community id an earlier row has, the two
    compared in `id_key`'s form (`ＢＪ-001`, `bj-001` and `BJ-001` with a
    zero-width space are one id). `frame` may hold the keys already (a
    column `_KEY`)."""
    if _KEY in frame.columns:
        keys = frame.get_column(_KEY)
    else:
        keys = _id_keys(frame.get_column("community_id")).alias(_KEY)
    if keys.n_unique() == keys.len():  # no key twice (counting is quicker than marking)
        return []
    periods = "period" in frame.columns
    keyed = frame.select("row", "community_id", *(["period"] if periods else [])).with_columns(keys)
    # only the rows of a key given twice (the window over a million keys is slow)
    keyed = keyed.filter(pl.col(_KEY).is_duplicated())
    dup = keyed.with_columns(
        pl.col("row").first().over(_KEY).alias("first"),
        pl.col("community_id").first().over(_KEY).alias("first_id"),
        (pl.col("period").first().over(_KEY) if periods else pl.lit(None)).alias("first_p"),
        (pl.col("period") if periods else pl.lit(None)).alias("__p"),
    ).filter(pl.col("row") != pl.col("first"))
    id_col = meta_cols.get("community_id") or meta_cols.get("community")
    problems = []
    for row, cid, first, first_id, first_p, p in dup.select(
        "row", "community_id", "first", "first_id", "first_p", "__p"
    ).iter_rows():
        if first_p != p and first_p is not None and p is not None:
            message = _period_msg(frame, meta_cols["period"], first, first_p)
        elif cid == first_id:
            message = _("duplicate community id (first on row {row})").format(row=first)
        else:
            message = _(
                "duplicate community id: {first!r} on row {row} is the same id "
                "(width, case and invisible characters aside)"
            ).format(first=first_id, row=first)
        problems.append(
            DataProblem(file, row, id_col, cid, message, "error", code=codes.DATA_DUPLICATE_ID.code)
        )
    return problems


def _period_msg(frame: pl.DataFrame, column: str, first: int, first_p: str) -> str:
    """A duplicate id in another period (考核期 2024年度, then 2025年度): one
    evaluation scores one period, so the message names the period column,
    its values and what to do."""
    values = frame.get_column("period").drop_nulls().unique(maintain_order=True)
    shown = "、".join(values.head(5).to_list()) + ("…" if values.len() > 5 else "")
    return _(
        "duplicate community id (first on row {row}, {column} {period}): the data holds "
        "more than one {column} ({periods}), and one evaluation scores one period: "
        "evaluate each {column}'s rows on their own (a file for each)"
    ).format(row=first, column=column, period=first_p, periods=shown)
