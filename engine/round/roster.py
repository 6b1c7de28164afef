"""The roster of a round: the communities expected to report (`社区编码`,
`区`, `街道`, `社区`, optionally a contact), read from a CSV or a workbook by
the same readers as any data file (`readers.read_raw`), so the same contract
holds: every problem is located (file, sheet, row, column, value), ids stay
text (leading zeros kept), and two rows with one id in normal form (width,
case and invisible characters aside) are an error naming both rows."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from zhili.dsl import codes
from zhili.dsl.i18n import _
from zhili.engine.io.readers import read_raw
from zhili.engine.io.table import HIERARCHY, WHITESPACE, DataError, DataProblem, norm, strip_unit

# the roster's columns: key → accepted headers (the hierarchy's, as data files have them)
REQUIRED = ("community_id", "district", "street", "community")
HEADERS = {k: HIERARCHY[k] for k in REQUIRED}
CONTACT_HEADERS = ("联系人", "联系电话", "联系方式", "联系人及电话", "contact")
# the levels of the units a round sends one workbook to (`--by`)
UNIT_LEVELS = ("区", "街道", "社区")
COLUMN_TITLES = {
    "community_id": "社区编码",
    "district": "区",
    "street": "街道",
    "community": "社区",
}

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def id_norm(text: str) -> str:
    """The form community ids are compared in (as `data.id_key`): NFKC,
    invisible characters removed, lower case, trimmed."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(text))).lower().strip(WHITESPACE)


def name_norm(text: str | None) -> str:
    """The form names are compared in: NFKC, no spaces."""
    return re.sub("[" + WHITESPACE + "]+", "", unicodedata.normalize("NFKC", text or ""))


@dataclass(frozen=True)
class Community:
    """One roster row."""

    id: str
    district: str
    street: str
    name: str
    contact: str = ""
    row: int = 0  # the line of the roster file

    def unit(self, by: str) -> tuple[str, ...]:
        """The unit (`--by` level) this community belongs to, as names."""
        if by == "社区":
            return (self.district, self.street, self.name, self.id)
        if by == "街道":
            return (self.district, self.street)
        return (self.district,)


@dataclass
class Roster:
    """The communities of a round, in roster order, and the problems of the file."""

    file: str
    communities: list[Community] = field(default_factory=list)
    problems: list[DataProblem] = field(default_factory=list)
    sheet: str | None = None

    def by_id(self) -> dict[str, Community]:
        """Community by id in normal form (the first row of an id)."""
        out: dict[str, Community] = {}
        for c in self.communities:
            out.setdefault(id_norm(c.id), c)
        return out

    def units(self, by: str) -> dict[tuple[str, ...], list[Community]]:
        """The communities of every unit at level `by`, in roster order."""
        if by not in UNIT_LEVELS:
            raise ValueError(by)
        out: dict[tuple[str, ...], list[Community]] = {}
        for c in self.communities:
            out.setdefault(c.unit(by), []).append(c)
        return out

    @property
    def errors(self) -> list[DataProblem]:
        return [p for p in self.problems if p.severity == "error"]


def _columns(headers: list[str], file: str) -> tuple[dict[str, int], int | None]:
    """The position of every roster column (the first header that names it)
    and of the contact column; `DataError` naming the missing ones."""
    found: dict[str, int] = {}
    contact = None
    wanted = {k: {norm(h) for h in names} for k, names in HEADERS.items()}
    contacts = {norm(h) for h in CONTACT_HEADERS}
    for j, h in enumerate(headers):
        n = norm(strip_unit(h or ""))
        for k, names in wanted.items():
            if n in names and k not in found:
                found[k] = j
        if n in contacts and contact is None:
            contact = j
    missing = [COLUMN_TITLES[k] for k in REQUIRED if k not in found]
    if missing:
        raise DataError(
            _(
                "{file}: the roster has no column {columns} (it needs 社区编码, 区, 街道, 社区)"
            ).format(file=file, columns="、".join(missing))
        )
    return found, contact


def read_roster(path: Path, encoding: str | None = None, sheet: str | None = None) -> Roster:
    """Read the roster at `path`. Raises `DataError` when the file cannot be
    read as a table or lacks a required column; every other problem is in
    `Roster.problems`."""
    raw = read_raw(path, encoding, sheet=sheet)
    where, contact = _columns(raw.headers, raw.file)
    roster = Roster(file=raw.file, problems=list(raw.problems), sheet=raw.sheet)
    first: dict[str, Community] = {}
    cols = [f"c{where[k]}" for k in REQUIRED]
    contact_col = f"c{contact}" if contact is not None else None
    frame = raw.frame.select(cols + ([contact_col] if contact_col else []))
    for line, cells in zip(raw.lines, frame.iter_rows(), strict=True):
        values = [(v or "").strip(WHITESPACE) for v in cells]
        if not any(values):
            continue  # an empty row (the readers skip most of them already)
        cid, district, street, name = values[:4]
        lacking = [COLUMN_TITLES[k] for k, v in zip(REQUIRED, values[:4], strict=True) if not v]
        if lacking:
            roster.problems.append(
                DataProblem(
                    raw.file,
                    line,
                    raw.headers[where[REQUIRED[values[:4].index("")]]],
                    None,
                    _("the roster row has no {columns}: it is left out").format(
                        columns="、".join(lacking)
                    ),
                    "error",
                    sheet=raw.sheet,
                    code=codes.ROUND_ROSTER_ROW.code,
                )
            )
            continue
        c = Community(cid, district, street, name, values[4] if contact_col else "", line)
        key = id_norm(cid)
        if key in first:
            roster.problems.append(_duplicate(raw, where, c, first[key]))
            continue
        first[key] = c
        roster.communities.append(c)
    return roster


def _duplicate(raw, where: dict[str, int], c: Community, earlier: Community) -> DataProblem:
    if c.id == earlier.id:
        message = _("duplicate community id in the roster (first on row {row})").format(
            row=earlier.row
        )
    else:
        message = _(
            "duplicate community id in the roster: {first!r} on row {row} is the same id "
            "(width, case and invisible characters aside)"
        ).format(first=earlier.id, row=earlier.row)
    return DataProblem(
        raw.file,
        c.row,
        raw.headers[where["community_id"]],
        c.id,
        message,
        "error",
        sheet=raw.sheet,
        code=codes.DATA_DUPLICATE_ID.code,
    )
