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
    """Records converted for one model: `records[i]` maps input id → value
    (None when missing), `meta[i]` the hierarchy columns, `rows[i]` the row
    number in the file."""

    file: str
    records: list[dict[str, Any]] = field(default_factory=list)
    meta: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[DataProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # input id → header

    def __len__(self) -> int:
        return len(self.records)

    @property
    def errors(self) -> list[DataProblem]:
        return [p for p in self.problems if p.severity == "error"]


class DataError(Exception):
    """The file cannot be read at all (not found, not a table)."""


def norm(text: str) -> str:
    """Header normal form: NFKC (full-width → half-width), no spaces, lower."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


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
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def convert(raw: Any, f: InputField) -> tuple[Any, str | None]:
    """One cell → (value, problem message or None). Missing → (None, None)."""
    if raw is None:
        return None, None
    if isinstance(raw, bool) and f.type == "bool":
        return raw, None
    if (
        isinstance(raw, (int, float))
        and not isinstance(raw, bool)
        and f.type in ("int", "number", "percent")
    ):
        value = raw
        text = str(raw)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if text.lower() in MISSING_TOKENS and not (f.type == "bool" and text in ("无",)):
            return None, None
        value = None
    t = f.type
    if t == "bool":
        low = text.lower()
        if low in TRUE_TOKENS:
            return True, None
        if low in FALSE_TOKENS:
            return False, None
        return None, _("not a yes/no value")
    if t in ("int", "number", "percent"):
        if value is None:
            s = text.replace(",", "").replace("，", "")
            pct = s.endswith("%")
            s = s.rstrip("%").strip()
            unit = re.search(r"[^\d.eE+-]*$", s).group(0)  # after the number: 120平方米, 18人
            s = s[: len(s) - len(unit)]
            if not _NUM_RE.match(s):
                return None, _("not a number")
            value = float(s)
            # 1.2万人 is 12000 people (unless the input itself counts in 万, like 万元)
            scale = _SCALE.get(unit.strip()[:1])
            if scale and not (f.unit or "").startswith(unit.strip()[:1]):
                value = float(Decimal(s) * scale)
            if t == "percent" or pct:
                value = value / 100.0 if (pct or t == "percent") else value
            if pct and t != "percent":
                return None, _("a percentage where a count or number is expected")
        elif t == "percent":
            value = value / 100.0
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
        m = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
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
    """Headers and (row number, row dict) pairs of a CSV or JSON file."""
    if not path.exists():
        raise DataError(_("{file}: no such file").format(file=path))
    if path.is_dir():
        raise DataError(_("{file}: is a folder, not a data file").format(file=path))
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _read_json(path, data)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _read_csv(path, data, encoding)
    raise DataError(
        _("{file}: unsupported data format {suffix} (use .csv, .json or .jsonl)").format(
            file=path, suffix=suffix
        )
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


def load(path: Path, model: Model, encoding: str | None = None) -> Dataset:
    """Read `path` and convert it for `model`. Raises `DataError` only when
    the file cannot be read as a table at all."""
    headers, rows = read_table(path, encoding)
    ds = Dataset(file=str(path))
    inputs, meta_cols, unmatched = match_columns(headers, model)
    ds.columns = inputs
    for f in model.inputs:
        if f.id not in inputs:
            sev = "error" if f.required else "warning"
            label = f"{f.label} / {f.id}" if f.label else f.id
            ds.problems.append(
                DataProblem(
                    ds.file,
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
                DataProblem(
                    ds.file, 1, h, None, _("column matches no input and is ignored"), "info"
                )
            )
    by_id = {f.id: f for f in model.inputs}
    seen_ids: dict[str, int] = {}
    for rownum, row in rows:
        if "\x00extra" in row and any(str(c).strip() for c in row["\x00extra"]):
            ds.problems.append(
                DataProblem(
                    ds.file,
                    rownum,
                    None,
                    None,
                    _("the row has more cells than the header"),
                    "warning",
                )
            )
        rec: dict[str, Any] = {}
        for fid, header in inputs.items():
            raw = row.get(header)
            value, problem = convert(raw, by_id[fid])
            if problem:
                ds.problems.append(
                    DataProblem(ds.file, rownum, header, None if raw is None else str(raw), problem)
                )
            elif value is None and by_id[fid].required:
                pass  # missing, reported per indicator by the evaluation
            rec[fid] = value
        meta = {
            k: (None if row.get(h) in (None, "") else str(row.get(h)).strip())
            for k, h in meta_cols.items()
        }
        if meta.get("community_id") is None and meta.get("community") is not None:
            meta["community_id"] = meta["community"]
        if meta.get("community_id") is None:
            meta["community_id"] = f"#{rownum}"
        cid = meta["community_id"]
        if cid in seen_ids:
            ds.problems.append(
                DataProblem(
                    ds.file,
                    rownum,
                    meta_cols.get("community_id") or meta_cols.get("community"),
                    cid,
                    _("duplicate community id (first on row {row})").format(row=seen_ids[cid]),
                    "error",
                )
            )
        else:
            seen_ids[cid] = rownum
        ds.records.append(rec)
        ds.meta.append(meta)
        ds.rows.append(rownum)
    return ds
