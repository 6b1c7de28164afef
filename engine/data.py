"""Community data: read a file, match its columns to a model's inputs, and
convert every cell, reporting each problem with file, row and column.

Columns match an input by its id or its Chinese label (surrounding spaces and
full-width/half-width differences ignored; a unit in brackets after a label,
like `常住人口（人）`, is allowed). A cell that cannot be read, or breaks the
input's type or range, becomes a `DataProblem` and counts as missing; the row
is always kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from zhili.dsl.i18n import _
from zhili.dsl.model import InputField, Model

# hierarchy columns: key → accepted headers
HIERARCHY = {
    "community_id": ("community_id", "社区编码", "社区代码", "编码", "id"),
    "community": ("community", "社区", "社区名称", "name"),
    "street": ("street", "街道", "街道办", "乡镇街道"),
    "district": ("district", "区", "区县", "县区", "区（县）"),
    "grid": ("grid", "网格"),
    "period": ("period", "期间", "考核期", "季度"),
}

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
FALSE_TOKENS = {"否", "无", "×", "✗", "x", "false", "no", "n", "0", "f", "没有"}


@dataclass(frozen=True)
class DataProblem:
    file: str
    row: int | None  # 1-based line in the file (header = 1) or record number
    column: str | None
    raw: str | None
    message: str
    severity: str = "warning"  # "error" stops a --strict run

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        raw = f" ({self.raw!r})" if self.raw is not None else ""
        return f"{where}: {self.message}{raw}"


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
    def rows(self) -> list[int]:
        return self._frame.get_column("row").to_list()

    @property
    def errors(self) -> list[DataProblem]:
        return [p for p in self.problems if p.severity == "error"]


class DataError(Exception):
    """The file cannot be read at all (not found, not a table)."""


# Unicode White_Space, as Rust's (and so Polars') `trim` and `\s` see it;
# Python's str.strip() also strips \x1c-\x1f, which would make the two
# conversions disagree.
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_RE = "[" + WHITESPACE + "]+"


def norm(text: str) -> str:
    """Header normal form: NFKC (full-width → half-width), no spaces, lower."""
    return re.sub(_WS_RE, "", unicodedata.normalize("NFKC", str(text))).lower()


def _strip_unit(header: str) -> str:
    return re.sub(r"[(（\[【][^)）\]】]*[)）\]】]$", "", header)


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
        k2 = norm(_strip_unit(h))
        if k in wanted or k2 in wanted:
            inputs.setdefault(wanted.get(k) or wanted[k2], h)
        elif k in hier or k2 in hier:
            meta.setdefault(hier.get(k) or hier[k2], h)
        else:
            unmatched.append(h)
    return inputs, meta, unmatched


_SCALE = {"万": 10_000, "亿": 100_000_000}
_TOO_LARGE = 10**15  # no community count or area comes near this
_NUM_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


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
        s = text.replace(",", "").replace("，", "")
        pct = s.endswith("%")
        s = s.rstrip("%").strip(WHITESPACE)
        unit = re.search(r"[^0-9.eE+-]*$", s).group(0)  # after the number: 120平方米, 18人
        s = s[: len(s) - len(unit)]
        if not _NUM_RE.match(s):
            return None, _("not a number")
        # exact decimal arithmetic, then one rounding to float
        d = Decimal(s)
        # 1.2万人 is 12000 people (unless the input itself counts in 万, like 万元)
        scale = _SCALE.get(unit.strip(WHITESPACE)[:1])
        if scale and not (f.unit or "").startswith(unit.strip(WHITESPACE)[:1]):
            d = d * scale
        if pct and t != "percent":
            return None, _("a percentage where a count or number is expected")
        if abs(d) >= _TOO_LARGE:
            return None, _("the number is too large")
        if t == "percent":
            d = d / 100  # 85 and 85% both mean 0.85
        value = float(d)
        if t == "int":
            if float(value) != int(value):
                return None, _("not a whole number")
            value = int(value)
        if f.min is not None and value < f.min - 1e-12:
            return None, _("below the allowed range {lo}..{hi}").format(
                lo=_fmt(f.min, t), hi=_fmt(f.max, t)
            )
        if f.max is not None and value > f.max + 1e-12:
            return None, _("above the allowed range {lo}..{hi}").format(
                lo=_fmt(f.min, t), hi=_fmt(f.max, t)
            )
        return value, None
    if t == "enum":
        if text in f.values:
            return text, None
        normed = {norm(v): v for v in f.values}
        if norm(text) in normed:
            return normed[norm(text)], None
        return None, _("not one of: {values}").format(values=", ".join(f.values))
    if t == "date":
        m = re.match(r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?", text)
        if not m:
            return None, _("not a date (YYYY-MM-DD)")
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        except ValueError:
            return None, _("not a date (YYYY-MM-DD)")
    return text, None


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


@dataclass
class RawTable:
    """A data file as text cells: column `c<j>` holds the cells under
    `headers[j]` (headers may repeat or be empty), `lines[i]` is the line (or
    record number) of row i in the file, `problems` what the reader noticed."""

    file: str
    headers: list[str]
    frame: pl.DataFrame
    lines: list[int]
    problems: list[DataProblem] = field(default_factory=list)


def _check_path(path: Path) -> None:
    if not path.exists():
        raise DataError(_("{file}: no such file").format(file=path))
    if path.is_dir():
        raise DataError(_("{file}: is a folder, not a data file").format(file=path))


def read_raw(path: Path, encoding: str | None = None) -> RawTable:
    """Read a CSV, TSV, JSON, JSON Lines or Parquet file into text cells."""
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path)
    data = path.read_bytes()
    if suffix in (".json", ".jsonl", ".ndjson"):
        headers, rows = _read_json(path, data)
    elif suffix in (".csv", ".txt", ".tsv", ""):
        headers, rows = _read_csv(path, data, encoding)
    else:
        raise DataError(
            _(
                "{file}: unsupported data format {suffix} (use .csv, .json, .jsonl or .parquet)"
            ).format(file=path, suffix=suffix)
        )
    problems = []
    lines = []
    columns: list[list[str | None]] = [[] for _ in headers]
    index = {h: j for j, h in enumerate(headers)}
    for line, row in rows:
        lines.append(line)
        extra = row.get("\x00extra")
        if extra is not None and any(str(c).strip() for c in extra):
            problems.append(
                DataProblem(
                    str(path),
                    line,
                    None,
                    None,
                    _("the row has more cells than the header"),
                    "warning",
                )
            )
        values = list(row.values()) if len(row) == len(headers) and extra is None else None
        for h, j in index.items():
            v = values[j] if values is not None else row.get(h)
            columns[j].append(None if v is None else (v if isinstance(v, str) else _json_text(v)))
    frame = pl.DataFrame(
        {f"c{j}": pl.Series(f"c{j}", col, dtype=pl.String) for j, col in enumerate(columns)},
        height=len(lines),
    )
    return RawTable(str(path), headers, frame, lines, problems)


def _json_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a bad file
        raise DataError(
            _("{file}: not a readable Parquet file: {err}").format(file=path, err=exc)
        ) from None
    headers = list(frame.columns)
    cols = {}
    for j, name in enumerate(headers):
        col = frame.get_column(name)
        if col.dtype == pl.Boolean:
            col = col.cast(pl.String).str.to_lowercase()
        elif col.dtype != pl.String:
            col = col.cast(pl.String, strict=False)
        cols[f"c{j}"] = col.alias(f"c{j}")
    return RawTable(
        str(path),
        headers,
        pl.DataFrame(cols, height=frame.height),
        list(range(1, frame.height + 1)),
    )


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(
                _("{file}: cannot decode as {enc}: {err}").format(file=path, enc=encoding, err=exc)
            ) from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(_("{file}: unknown text encoding; use --encoding").format(file=path))


def _read_csv(path: Path, data: bytes, encoding: str | None):
    if b"\x00" in data[:4096]:
        raise DataError(_("{file}: a binary file, not CSV").format(file=path))
    text = _decode(path, data, encoding)
    sample = text[:4096]
    delimiter = (
        "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []  # (first line of the row in the file, cells)
    try:
        line = 1
        for row in reader:
            rows.append((line, row))
            line = reader.line_num + 1  # a quoted cell may span several lines
    except csv.Error as exc:
        raise DataError(_("{file}: not valid CSV: {err}").format(file=path, err=exc)) from None
    if not rows:
        raise DataError(_("{file}: the file is empty").format(file=path))
    headers = [h.strip() for h in rows[0][1]]
    out = []
    for i, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue  # blank line
        out.append(
            (
                i,
                {h: (row[j] if j < len(row) else None) for j, h in enumerate(headers)}
                | ({"\x00extra": row[len(headers) :]} if len(row) > len(headers) else {}),
            )
        )
    return headers, out


def _read_json(path: Path, data: bytes):
    text = _decode(path, data, None)
    numbers = None  # JSON Lines: the line of each record
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            items, numbers, offset = [], [], 0
            for lineno, line in enumerate(io.StringIO(text, newline=""), start=1):
                if line.strip():
                    try:
                        items.append(json.loads(line.rstrip("\r\n")))
                    except json.JSONDecodeError as exc:  # report the line in the file
                        raise json.JSONDecodeError(exc.msg, text, offset + exc.pos) from None
                    numbers.append(lineno)
                offset += len(line)
        else:
            items = json.loads(text)
            if isinstance(items, dict):
                items = items.get("communities") or items.get("records") or items.get("data")
    except json.JSONDecodeError as exc:
        raise DataError(
            _("{file}:{line}:{col}: not valid JSON: {msg}").format(
                file=path, line=exc.lineno, col=exc.colno, msg=exc.msg
            )
        ) from None
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise DataError(
            _("{file}: expected a list of objects (one per community)").format(file=path)
        )
    headers: list[str] = []
    for item in items:
        for k in item:
            if k not in headers:
                headers.append(k)
    if numbers is None:
        numbers = range(1, len(items) + 1)
    return headers, list(zip(numbers, items, strict=True))


# ---------------------------------------------------------------- conversion
#
# `convert()` above is the reference: one cell at a time. `_convert_expr`
# builds the same conversion as Polars expressions for a whole column; the
# tests hold the two to the same values and messages.


def _range_msg(f: InputField, below: bool) -> str:
    text = (
        _("below the allowed range {lo}..{hi}")
        if below
        else _("above the allowed range {lo}..{hi}")
    )
    return text.format(lo=_fmt(f.min, f.type), hi=_fmt(f.max, f.type))


def _convert_expr(col: str, f: InputField) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, problem message or null) for the text cells of `col`."""
    raw = pl.col(col)
    text = raw.str.normalize("NFKC").str.strip_chars()
    low = text.str.to_lowercase()
    missing = raw.is_null() | low.is_in(sorted(MISSING_TOKENS))
    t = f.type
    none = pl.lit(None, dtype=pl.String)

    def problem(cond: pl.Expr, message: str) -> tuple[pl.Expr, pl.Expr]:
        return cond, pl.lit(message)

    if t == "bool":
        value = (
            pl.when(missing)
            .then(None)
            .when(low.is_in(sorted(TRUE_TOKENS)))
            .then(True)
            .when(low.is_in(sorted(FALSE_TOKENS)))
            .then(False)
        )
        msg = (
            pl.when(~missing & value.is_null())
            .then(pl.lit(_("not a yes/no value")))
            .otherwise(none)
        )
        return value, msg
    if t in ("int", "number", "percent"):
        s = text.str.replace_all(",", "", literal=True).str.replace_all("，", "", literal=True)
        pct = s.str.ends_with("%")
        s = s.str.strip_chars_end("%").str.strip_chars()
        unit = s.str.extract(r"([^0-9.eE+-]*)$", 1)
        num = s.str.slice(0, s.str.len_chars() - unit.str.len_chars())
        valid = num.str.contains(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
        # exact decimal arithmetic (like the reference), then one rounding
        approx = num.cast(pl.Float64, strict=False)
        dec = pl.when(approx.abs() < 1e19).then(num).cast(pl.Decimal(38, 18), strict=False)
        first = unit.str.strip_chars().str.slice(0, 1)
        for ch, scale in _SCALE.items():
            if not (f.unit or "").startswith(ch):
                dec = pl.when(first == ch).then(dec * scale).otherwise(dec)
                approx = pl.when(first == ch).then(approx * scale).otherwise(approx)
        too_large = approx.abs() >= _TOO_LARGE
        if t == "percent":
            dec = dec / 100
        value = dec.cast(pl.Float64)
        checks = [
            (~valid, _("not a number")),
        ]
        if t != "percent":
            checks.append((pct, _("a percentage where a count or number is expected")))
        checks.append((too_large, _("the number is too large")))
        if t == "int":
            checks.append((value != value.floor(), _("not a whole number")))
        if f.min is not None:
            checks.append((value < f.min - 1e-12, _range_msg(f, True)))
        if f.max is not None:
            checks.append((value > f.max + 1e-12, _range_msg(f, False)))
        chain = pl.when(missing).then(none)
        for cond, message in checks:
            chain = chain.when(cond).then(pl.lit(message))
        msg = chain.otherwise(none)
        value = pl.when(missing | msg.is_not_null()).then(None).otherwise(value)
        if t == "int":
            value = value.cast(pl.Int64)
        return value, msg
    if t == "enum":
        normed = {norm(v): v for v in f.values}
        key = text.str.replace_all(_WS_RE, "").str.to_lowercase()
        mapped = key.replace_strict(
            list(normed), list(normed.values()), default=None, return_dtype=pl.String
        )
        value = pl.when(missing).then(None).when(text.is_in(f.values)).then(text).otherwise(mapped)
        message = _("not one of: {values}").format(values=", ".join(f.values))
        msg = pl.when(~missing & value.is_null()).then(pl.lit(message)).otherwise(none)
        return value, msg
    if t == "date":
        pattern = r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})"
        y = text.str.extract(pattern, 1)
        m = text.str.extract(pattern, 2)
        d = text.str.extract(pattern, 3)
        iso = pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)])
        value = (
            pl.when(missing | (y.cast(pl.Int32, strict=False) < 1))
            .then(None)
            .otherwise(iso.str.to_date("%Y-%m-%d", strict=False))
        )
        msg = (
            pl.when(~missing & value.is_null())
            .then(pl.lit(_("not a date (YYYY-MM-DD)")))
            .otherwise(none)
        )
        return value, msg
    value = pl.when(missing).then(None).otherwise(text)
    return value, none


def load(path: Path, model: Model, encoding: str | None = None) -> Dataset:
    """Read `path` and convert it for `model`. Raises `DataError` only when
    the file cannot be read as a table at all."""
    return convert_table(read_raw(path, encoding), model)


def convert_table(raw: RawTable, model: Model) -> Dataset:
    """Text cells → a typed frame (`in.<input>` columns, hierarchy columns,
    `row`), with a `DataProblem` for every cell that could not be used."""
    file = raw.file
    ds = Dataset(file=file, model=model)
    ds.problems.extend(raw.problems)
    headers = raw.headers
    inputs, meta_cols, unmatched = match_columns(headers, model)
    ds.columns = inputs
    position = {}
    for j, h in enumerate(headers):
        position.setdefault(h, j)
    for f in model.inputs:
        if f.id not in inputs:
            sev = "error" if f.required else "warning"
            label = f"{f.label} / {f.id}" if f.label else f.id
            ds.problems.append(
                DataProblem(
                    file,
                    None,
                    label,
                    None,
                    _("no column for input (every value counts as missing)"),
                    sev,
                )
            )
    for h in unmatched:
        if h and not h.startswith("\x00"):
            ds.problems.append(
                DataProblem(file, 1, h, None, _("column matches no input and is ignored"), "info")
            )

    by_id = {f.id: f for f in model.inputs}
    lines = pl.Series("row", raw.lines, dtype=pl.Int64)
    exprs = []
    for fid, header in inputs.items():
        value, msg = _convert_expr(f"c{position[header]}", by_id[fid])
        exprs.append(value.alias(f"in.{fid}"))
        exprs.append(msg.alias(f"p.{fid}"))
    meta_exprs = []
    for key, header in meta_cols.items():
        c = pl.col(f"c{position[header]}")
        meta_exprs.append(
            pl.when(c.is_null() | (c == "")).then(None).otherwise(c.str.strip_chars()).alias(key)
        )
    frame = raw.frame.with_columns(lines).select(
        [pl.col("row"), *meta_exprs, *exprs] if (exprs or meta_exprs) else [pl.col("row")]
    )
    # inputs without a column: all missing
    for f in model.inputs:
        if f.id not in inputs:
            from zhili.engine.vectorized import POLARS_TYPES

            frame = frame.with_columns(pl.lit(None, dtype=POLARS_TYPES[f.type]).alias(f"in.{f.id}"))
    # problems, in row then column order
    cells = []
    for fid, header in inputs.items():
        bad = frame.filter(pl.col(f"p.{fid}").is_not_null()).select(
            "row", pl.col(f"p.{fid}"), pl.lit(position[header]).alias("j")
        )
        if bad.height:
            raws = raw.frame.with_columns(lines).filter(
                pl.col("row").is_in(bad.get_column("row").implode())
            )
            raw_by_row = dict(
                zip(
                    raws.get_column("row").to_list(),
                    raws.get_column(f"c{position[header]}").to_list(),
                    strict=True,
                )
            )
            for row, message, j in bad.iter_rows():
                cells.append((row, j, DataProblem(file, row, header, raw_by_row.get(row), message)))
    cells.sort(key=lambda x: (x[0], x[1]))
    ds.problems.extend(p for _, _, p in cells)
    frame = frame.drop([c for c in frame.columns if c.startswith("p.")])
    # community ids: fall back to the name, then to the row
    if "community_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("community_id"))
    fallback = (
        pl.col("community") if "community" in frame.columns else pl.lit(None, dtype=pl.String)
    )
    frame = frame.with_columns(
        pl.coalesce(pl.col("community_id"), fallback, pl.format("#{}", pl.col("row"))).alias(
            "community_id"
        )
    )
    dup = frame.with_columns(pl.col("row").first().over("community_id").alias("first")).filter(
        pl.col("row") != pl.col("first")
    )
    id_col = meta_cols.get("community_id") or meta_cols.get("community")
    for row, cid, first in dup.select("row", "community_id", "first").iter_rows():
        ds.problems.append(
            DataProblem(
                file,
                row,
                id_col,
                cid,
                _("duplicate community id (first on row {row})").format(row=first),
                "error",
            )
        )
    ds.problems.extend(_share_warnings(frame, model, inputs, file))
    ds._frame = frame
    ds._meta_keys = ["community_id"] + [k for k in meta_cols if k != "community_id"]
    return ds


def _share_warnings(
    frame: pl.DataFrame, model: Model, inputs: dict[str, str], file: str
) -> list[DataProblem]:
    """A percent column whose values are all at most 1% was probably written
    as fractions (0.85 for 85%): say so instead of scoring it silently."""
    out = []
    for f in model.inputs:
        if f.type != "percent" or f.id not in inputs:
            continue
        col = frame.get_column(f"in.{f.id}").drop_nulls()
        if len(col) and col.max() <= 0.01 and col.max() > 0:
            out.append(
                DataProblem(
                    file,
                    None,
                    inputs[f.id],
                    None,
                    _(
                        "every value is at most 1%: if these are fractions (0.85 for 85%), write 85 or 85%"
                    ),
                    "warning",
                )
            )
    return out
