"""The shapes every reader shares: a file as text cells (`RawTable`), a
located data problem (`DataProblem`), the error for a file that cannot be read
at all, the hierarchy columns, header normal form and totals-row detection.

Readers (`data`, `excel`, `csvfast`, plugin readers) import from here, never
from each other.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zhili.dsl import codes
from zhili.dsl.diagnostics import Severity

if TYPE_CHECKING:
    import polars as pl

    from zhili.dsl.model import Model

# the suffixes of the workbooks `excel` reads
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")

# hierarchy columns: key → accepted headers
HIERARCHY = {
    "community_id": ("community_id", "社区编码", "社区代码", "编码", "id"),
    "community": ("community", "社区", "社区名称", "name", "所属社区"),
    "street": ("street", "街道", "街道办", "乡镇街道", "所属街道", "街道名称", "街道办事处"),
    "district": ("district", "区", "区县", "县区", "区（县）", "所属区县", "所属区"),
    "grid": ("grid", "网格"),
    "period": ("period", "期间", "考核期", "季度", "年度", "考核年度", "考核期间"),
}


@dataclass(frozen=True)
class DataProblem:
    """A problem in one place of a data file, with a registered code
    (`zhili.dsl.codes`, phase `data`)."""

    file: str
    row: int | None  # 1-based line in the file (header = 1) or record number
    column: str | None
    raw: str | None
    message: str
    severity: Severity = Severity.WARNING  # an error stops a --strict run
    sheet: str | None = None  # the workbook sheet, for Excel files
    code: str = codes.DATA_READER_PROBLEM.code  # what a plugin reader gives without one

    def __post_init__(self) -> None:
        # readers (plugins too) may pass the plain word "error"/"warning"/"info"
        object.__setattr__(self, "severity", Severity(self.severity))

    def __str__(self) -> str:
        where = self.file
        if self.sheet:
            where += f"[{self.sheet}]"
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        raw = f" ({_shown(self.raw)!r})" if self.raw is not None else ""
        return f"{where}: {self.message}{raw}"


RAW_SHOWN = 80  # characters of a cell a message quotes; the problem keeps it whole


def _shown(raw: str) -> str:
    """A cell as a message quotes it: a 40,000-character cell is cut, not printed."""
    text = str(raw)
    return text if len(text) <= RAW_SHOWN else text[: RAW_SHOWN - 1] + "…"


class DataError(Exception):
    """The file cannot be read at all (not found, not a table)."""


# Unicode White_Space, as Rust's (and so Polars') `trim` and `\s` see it;
# Python's str.strip() also strips \x1c-\x1f, which would make the two
# conversions disagree.
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
WS_RE = "[" + WHITESPACE + "]+"
# what Python's str.strip() takes away (WHITESPACE and U+001C..U+001F, which
# the record-by-record reader strips from a line): a row of only these is blank
BLANK = WHITESPACE + "\x1c\x1d\x1e\x1f"


def norm(text: str) -> str:
    """Header normal form: NFKC (full-width → half-width), no spaces, lower."""
    return re.sub(WS_RE, "", unicodedata.normalize("NFKC", str(text))).lower()


_OPEN, _CLOSE = "(（[【", ")）]】"


def _bare_unit(core: str) -> str | None:
    """`覆盖率%` → `覆盖率`, `例会次数 / 次` → `例会次数`; None when the
    header ends in neither (or nothing would be left)."""
    text = core.rstrip()
    if text[-1:] in ("%", "％") and "/" not in text[-2:] and text[:-1].strip():
        return text[:-1].rstrip()
    cut = max(text.rfind("/"), text.rfind("／"))
    if cut > 0 and text[cut + 1 :].strip() in SLASH_UNITS and text[:cut].strip():
        return text[:cut].rstrip()
    return None


# units a header writes after a slash (`例会次数/次`, `面积/平方米`), as forms
# print them; a word not listed (`户数/人口`) is not taken for a unit
SLASH_UNITS = frozenset(
    "人 名 户 次 起 件 个 批 批次 处 家 所 间 套 台 辆 天 日 月 年 小时 分 分钟 岁 元 万元 亿元"
    " 米 千米 公里 平方米 ㎡ m² m2 亩 公顷 % ％ 人次 户次 场 场次 期 项 条 份 座 张".split()
)


def strip_unit(header: str) -> str:
    """The header without a unit at its end: in brackets (`常住人口（人）` →
    `常住人口`), after a slash (`例会次数/次` → `例会次数`, a unit of
    `SLASH_UNITS`) or a bare percent sign (`覆盖率%` → `覆盖率`). Brackets:
    the text from the first opening bracket after which only the final
    closing bracket closes anything. In one pass (a regex search here was
    quadratic: a header of 160,000 `(` took minutes)."""
    end = "\n" if header.endswith("\n") else ""  # like a regex's `$`: before a final newline
    core = header[: len(header) - len(end)]
    bare = _bare_unit(core)
    if bare is not None:
        return bare + end
    if not core or core[-1] not in _CLOSE:
        return header
    k = max(core.rfind(c, 0, len(core) - 1) for c in _CLOSE)
    starts = [j for c in _OPEN if (j := core.find(c, k + 1, len(core) - 1)) >= 0]
    return core[: min(starts)] + end if starts else header


class NotInBatches(Exception):
    """A batch of a large text file that only the record-by-record reader
    reads right (ragged rows, odd quoting): read the whole file instead."""


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
    sheet: str | None = None  # the sheet read, for a workbook


def with_series(frame: pl.DataFrame, *series: pl.Series) -> pl.DataFrame:
    """`frame` with `series` (each of its height) added as columns, cut into
    the frame's chunks: a column of one chunk beside the many chunks Polars'
    CSV reader gives makes the next query copy every text cell of the frame
    into one chunk (a gigabyte for a million rows)."""
    import polars as pl

    if not frame.width or frame.n_chunks() <= 1:
        return frame.hstack(list(series))
    lengths = [c.len() for c in frame.get_column(frame.columns[0]).get_chunks()]

    def cut(s: pl.Series) -> pl.Series:
        if s.n_chunks() > 1:
            s = s.rechunk()
        pieces, at = [], 0
        for n in lengths:
            pieces.append(s.slice(at, n))
            at += n
        return pl.concat(pieces, rechunk=False)

    return frame.hstack([cut(s) for s in series])


_TOTALS = ("合计", "总计", "小计", "共计", "总合计", "汇总", "total", "sum")

# The pre-filter of totals rows: a cell that `totals_expr` holds for (合计,
# 汇总, total, sum in any width, case, style or spacing) holds one of these.
# If it is not ASCII, one of its characters is not, and is one whose NFKC
# form holds 计, 总, a letter of total or sum (either case) or a space: the
# first part of the list, every such code point (composition never makes
# them; tests/test_totals_rows.py recomputes it with Polars' NFKC). If it is
# ASCII, it holds total or sum whole or a letter of them followed by a space.
# An Aho-Corasick scan for them is many times faster than normalizing cells.
TOTALS_HINT = [
    *(
        "\u0085\u00a0¨ª¯´¸ºĿŀſǇǈǉ˘˙˚˛˜˝ˡˢͺ΄΅\u1680ᴬᴸᴹᴼᵀᵁᵃᵐᵒᵗᵘᵤẚ᾽᾿῀῁῍῎῏῝῞῟῭΅´῾\u2000\u2001"
        "\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a‗\u2028\u2029\u202f‾\u205f"
        "ₐₒₗₘₛₜ₨℀℁℅℆ℒℓ№℠℡™ℳℴ℻ⅬⅯⅼⅿ⒜⒧⒨⒪⒮⒯⒰ⒶⓁⓂⓄⓈⓉⓊⓐⓛⓜⓞⓢⓣⓤ\u3000゛゜㉐㋏㍱㍲㍳㍴㍵㍷㍸㍹㍺㎀㎁㎂㎃㎄㎆㎈㎉㎎㎒㎔㎕㎖㎗㎘㎙"
        "㎚㎛㎜㎝㎞㎟㎠㎡㎢㎣㎤㎥㎦㎧㎨㎩㎪㎫㎬㎭㎮㎯㎰㎱㎲㎳㎷㎹㎽㎿㏁㏂㏇㏊㏎㏏㏐㏑㏒㏓㏔㏕㏖㏘㏙㏛㏜㏞㏟㏿总计\ua7f1ﬂﬄﬅﬆﱞﱟﱠﱡﱢﱣﷺﷻ﹉﹊﹋﹌ﹰﹲﹴﹶﹸﹺ"
        "ﹼﹾＡＬＭＯＳＴＵａｌｍｏｓｔｕ￣\U0001ccd6\U0001cce1\U0001cce2\U0001cce4\U0001cce8\U0001cce9"
        "\U0001ccea𝐀𝐋𝐌𝐎𝐒𝐓𝐔𝐚𝐥𝐦𝐨𝐬𝐭𝐮𝐴𝐿𝑀𝑂𝑆𝑇𝑈𝑎𝑙𝑚𝑜𝑠𝑡𝑢𝑨𝑳𝑴𝑶𝑺𝑻𝑼𝒂𝒍𝒎𝒐𝒔𝒕𝒖𝒜𝒪𝒮𝒯𝒰𝒶𝓁𝓂𝓈𝓉𝓊𝓐𝓛𝓜𝓞𝓢𝓣𝓤𝓪𝓵𝓶𝓸𝓼𝓽𝓾𝔄𝔏𝔐"
        "𝔒𝔖𝔗𝔘𝔞𝔩𝔪𝔬𝔰𝔱𝔲𝔸𝕃𝕄𝕆𝕊𝕋𝕌𝕒𝕝𝕞𝕠𝕤𝕥𝕦𝕬𝕷𝕸𝕺𝕾𝕿𝖀𝖆𝖑𝖒𝖔𝖘𝖙𝖚𝖠𝖫𝖬𝖮𝖲𝖳𝖴𝖺𝗅𝗆𝗈𝗌𝗍𝗎𝗔𝗟𝗠𝗢𝗦𝗧𝗨𝗮𝗹𝗺𝗼𝘀𝘁𝘂𝘈𝘓𝘔𝘖𝘚𝘛𝘜𝘢𝘭𝘮𝘰𝘴𝘵"
        "𝘶𝘼𝙇𝙈𝙊𝙎𝙏𝙐𝙖𝙡𝙢𝙤𝙨𝙩𝙪𝙰𝙻𝙼𝙾𝚂𝚃𝚄𝚊𝚕𝚖𝚘𝚜𝚝𝚞🄐🄛🄜🄞🄢🄣🄤🄪🄰🄻🄼🄾🅂🅃🅄🅋🅌🅍🅪🅫🅬"
    ),
    "total",
    "sum",
    *(letter + space for letter in "toalsum" for space in " \t\n\x0b\x0c\r"),
]


def likely_totals(cells: list[str]) -> pl.Expr:
    """The rows `totals_expr(cells)` may hold for (every one it holds for),
    the one pre-filter of text files and workbooks: a cell of the first six
    holds a string of `TOTALS_HINT` (ASCII letters in either case). The
    exact test normalizes every cell (NFKC, then a regex)."""
    import polars as pl

    return pl.any_horizontal(
        pl.col(c).str.contains_any(TOTALS_HINT, ascii_case_insensitive=True).fill_null(False)
        for c in cells[:6]
    )


def is_total(text: str) -> bool:
    t = norm(text)  # the same test as `totals_expr`, one cell at a time
    return bool(re.fullmatch("^.{0,8}(" + "|".join(_TOTALS[:6]) + ")$", t)) or t in _TOTALS[6:]


def totals_expr(cells: list[str]) -> pl.Expr | None:
    """A row whose text cells say 合计/总计/小计… (e.g. 全区合计, 街道小计)."""
    import polars as pl

    if not cells:
        return None
    pattern = "^.{0,8}(" + "|".join(_TOTALS[:6]) + ")$"
    exact = "^(" + "|".join(_TOTALS[6:]) + ")$"
    hits = []
    for c in cells[:6]:
        t = (
            pl.col(c)
            .str.normalize("NFKC")
            .str.replace_all(r"\s", "")
            .str.to_lowercase()
            .fill_null("")
        )
        hits.append(t.str.contains(pattern) | t.str.contains(exact))
    return pl.any_horizontal(hits)


# a title row (or several) may stand above the header: the header is looked
# for among this many rows at the top of a sheet or text file
HEADER_SCAN_ROWS = 30


def _text(v) -> str:
    return "" if v is None else str(v).strip()


def _input_names(model: Model | None) -> set[str]:
    wanted: set[str] = set()
    if model is not None:
        for f in model.inputs:
            wanted.add(norm(f.id))
            if f.label:
                wanted.add(norm(f.label))
    return wanted


def names_inputs(rows: list, model: Model) -> bool:
    """Whether one of `rows` (the first rows of a sheet) has a cell naming
    one of `model`'s inputs (id or label, a unit in brackets allowed), as a
    header row would."""
    wanted = _input_names(model)
    return any(
        t and (norm(t) in wanted or norm(strip_unit(t)) in wanted)
        for row in rows
        for t in (_text(c) for c in row)
    )


def header_row(rows: list, model: Model | None) -> int | None:
    """The index of the header among the first `rows` (each a sequence of
    cells) of a sheet or a text file: the row that names the most of the
    model's inputs (id or label, a unit in brackets allowed) and hierarchy
    columns, the first such on a tie; without any, the first row with more
    than one cell filled, else the first row with any. None when every row
    is blank. Workbooks and CSV files share this rule."""
    wanted = _input_names(model)
    for names in HIERARCHY.values():
        wanted.update(norm(n) for n in names)
    best, best_score = None, 0
    first_nonempty = None
    for i, row in enumerate(rows):
        filled = [t for t in (_text(c) for c in row) if t]
        if not filled:
            continue
        if first_nonempty is None and len(filled) > 1:
            first_nonempty = i
        score = sum(1 for t in filled if norm(t) in wanted or norm(strip_unit(t)) in wanted)
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return best
    if first_nonempty is not None:
        return first_nonempty
    return next((i for i, row in enumerate(rows) if any(_text(c) for c in row)), None)


def close_names(
    name: str, candidates: Iterable[str], n: int = 3, key: Callable[[str], str] = norm
) -> list[str]:
    """The candidates that nearly match `name` (a header for an input, a
    community for `--community`), compared in `key`'s form, best first, at
    most `n`: first those that hold it or that it holds (a Chinese name is
    shortened by leaving characters out: 东关 for 东关社区, 视频监控覆盖 for
    视频监控覆盖率), the nearest in length first; then difflib's close
    matches (a character changed: 覆盖率 for 复盖率)."""
    want = key(name)
    if not want:
        return []
    keyed: dict[str, str] = {}
    for c in candidates:
        k = key(c) if c else ""
        if k and k != want:
            keyed.setdefault(c, k)
    held = [c for c, k in keyed.items() if want in k or (len(k) >= 2 and k in want)]
    held.sort(key=lambda c: abs(len(keyed[c]) - len(want)))
    found = held[:n]
    if len(found) < n and len(keyed) <= 20_000:  # difflib compares each: not over a million ids
        by_key: dict[str, str] = {}
        for c, k in keyed.items():
            by_key.setdefault(k, c)
        for k in difflib.get_close_matches(want, list(by_key), n=n, cutoff=0.6):
            if by_key[k] not in found:
                found.append(by_key[k])
    return found[:n]


# a cell of a row of units under the header: （人）, (%), 【户】, 单位：人
_UNIT_CELL = re.compile(r"[（(\[【]\s*[^\d（()）\[\]【】]{1,8}\s*[）)\]】]|单位\s*[:：].{0,8}")


def is_units_row(cells) -> bool:
    """Whether a row's filled cells are all units (in brackets, a unit word
    of `SLASH_UNITS`, `单位：人`): a header written over two rows, the
    names above and their units below; not a community."""
    texts = [str(c).strip(WHITESPACE) for c in cells if c is not None]
    texts = [t for t in texts if t]
    return bool(texts) and all(_UNIT_CELL.fullmatch(t) or t in SLASH_UNITS for t in texts)


def units_row_candidates(first: str) -> pl.Expr:
    """The rows that may be rows of units (`is_units_row`), by their first
    cell (`first`): empty, or a unit (a community's row has its id or name
    there; the test of every cell runs on these only)."""
    import polars as pl

    cell = pl.col(first).str.strip_chars(WHITESPACE)
    unit = cell.str.contains(r"^[（(\[【]|^单位") | cell.is_in(sorted(SLASH_UNITS))
    return (pl.col(first).is_null() | (cell == "") | unit).fill_null(False)
