"""The returns of a round: a folder of filled-in forms, each recognised by its
stamp (`forms.META_SHEET`), read with completeness against the roster.

- A file that is not a form, a form of another model, or of another version
  (or content hash) of the model, is an error naming the file.
- The same unit returned twice: the newest (modification time, then name)
  wins; the older is named in a note (`round-superseded`).
- Every winning form is read by the data readers (`data.load_many`: located
  problems, provenance, a community id in two returns an error naming both
  files and rows); then each row is held to the stamp and the roster: a
  pre-filled id or name that was changed, a community the roster does not
  list, a required cell left empty; a pre-filled row with no input filled in
  is a community that has not reported (未上报), left out of the evaluation.
- Completeness: the reporting rate per street and per district.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhili.dsl import codes
from zhili.dsl.i18n import _
from zhili.dsl.model import Model
from zhili.engine.io import data as data_mod
from zhili.engine.io.table import DataError, DataProblem
from zhili.engine.round import forms
from zhili.engine.round.roster import COLUMN_TITLES, Community, Roster, id_norm, name_norm

FORM_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Stamp:
    """What a form's hidden sheet says."""

    model: str
    version: str
    content_hash: str
    by: str
    unit: tuple[str, ...]
    rows: dict[int, tuple[str, str, str, str]]  # sheet row → (id, 区, 街道, 社区)


@dataclass(frozen=True)
class Return:
    """A recognised form in the returns folder."""

    path: Path
    stamp: Stamp
    mtime: float


@dataclass
class UnitRate:
    """The reporting of one street or district."""

    district: str
    street: str | None
    expected: int
    reported: int

    @property
    def rate(self) -> float:
        return self.reported / self.expected if self.expected else 0.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"district": self.district}
        if self.street is not None:
            out["street"] = self.street
        out |= {"expected": self.expected, "reported": self.reported, "rate": self.rate}
        return out


@dataclass
class RoundData:
    """A returns folder read against a roster."""

    folder: str
    roster: Roster
    dataset: data_mod.Dataset | None  # the rows with data, of the winning returns
    problems: list[DataProblem] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)  # the winning ones, in name order
    superseded: list[tuple[Path, Path]] = field(default_factory=list)  # (older, newer)
    reported: set[str] = field(default_factory=set)  # roster ids (normal form) with data
    not_in_roster: list[tuple[str, str, int]] = field(default_factory=list)  # (id, file, row)

    @property
    def errors(self) -> list[DataProblem]:
        return [p for p in self.problems if p.severity == "error"]

    def not_submitted(self) -> list[Community]:
        return [c for c in self.roster.communities if id_norm(c.id) not in self.reported]

    def rates(self) -> tuple[list[UnitRate], list[UnitRate]]:
        """The reporting rate of every street, and of every district, in roster order."""
        streets: dict[tuple[str, str], UnitRate] = {}
        districts: dict[str, UnitRate] = {}
        for c in self.roster.communities:
            done = int(id_norm(c.id) in self.reported)
            for rate in (
                streets.setdefault((c.district, c.street), UnitRate(c.district, c.street, 0, 0)),
                districts.setdefault(c.district, UnitRate(c.district, None, 0, 0)),
            ):
                rate.expected += 1
                rate.reported += done
        return list(streets.values()), list(districts.values())

    def completeness(self) -> dict[str, Any]:
        """Completeness as JSON-ready data."""
        streets, districts = self.rates()
        expected = len(self.roster.communities)
        return {
            "roster": self.roster.file,
            "expected": expected,
            "reported": len(self.reported),
            "rate": len(self.reported) / expected if expected else 0.0,
            "streets": [r.as_dict() for r in streets],
            "districts": [r.as_dict() for r in districts],
            "not_submitted": [
                {
                    "community_id": c.id,
                    "community": c.name,
                    "district": c.district,
                    "street": c.street,
                }
                for c in self.not_submitted()
            ],
            "not_in_roster": [
                {"community_id": cid, "file": f, "row": row} for cid, f, row in self.not_in_roster
            ],
            "returns": [str(r.path) for r in self.returns],
            "superseded": [{"file": str(old), "by": str(new)} for old, new in self.superseded],
        }


def read_stamp(path: Path) -> Stamp | None:
    """The stamp of the form at `path`, or None when it has none. Raises
    `DataError` when the file cannot be opened as a workbook."""
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DataError(
            _("{file}: cannot be opened as a workbook ({err})").format(file=path, err=exc)
        ) from exc
    try:
        if forms.META_SHEET not in wb.sheetnames:
            return None
        cells = [
            tuple("" if v is None else str(v) for v in row)
            for row in wb[forms.META_SHEET].iter_rows(max_col=5, values_only=True)
        ]
    finally:
        wb.close()
    return _parse_stamp(cells)


def _parse_stamp(cells: list[tuple[str, ...]]) -> Stamp | None:
    head: dict[str, str] = {}
    rows: dict[int, tuple[str, str, str, str]] = {}
    table = False
    for row in cells:
        row = tuple(row) + ("",) * (5 - len(row))
        if table:
            if row[0].isdigit():
                rows[int(row[0])] = (row[1], row[2], row[3], row[4])
        elif list(row[:5]) == forms.META_TABLE:
            table = True
        else:
            head[row[0]] = row[1]
    if head.get("format") != forms.FORMAT:
        return None
    try:
        unit = tuple(str(u) for u in json.loads(head.get("unit", "[]")))
    except ValueError:
        return None
    return Stamp(
        head.get("model", ""),
        head.get("version", ""),
        head.get("content_hash", ""),
        head.get("by", ""),
        unit,
        rows,
    )


def _file_problem(path: Path, message: str, code) -> DataProblem:
    return DataProblem(str(path), None, None, None, message, code.severity, code=code.code)


def return_files(folder: Path) -> list[Path]:
    """The files of the returns folder that may be returns, in name order:
    every regular file a reader reads, but hidden files and Excel's `~$` lock
    files; an empty folder is no error (nothing has come back yet)."""
    if not folder.is_dir():
        raise DataError(_("{file}: not a folder of returns").format(file=folder))
    try:
        return data_mod.data_files(folder)
    except DataError:
        if any(p.is_file() and not p.name.startswith((".", "~$")) for p in folder.iterdir()):
            raise
        return []


def recognise(
    paths: list[Path], model: Model
) -> tuple[list[Return], list[DataProblem], list[tuple[Path, Path]]]:
    """The winning form of every unit, the problems of the files that are not
    forms of `model`, and the (older, newer) pairs of a unit returned twice."""
    found: dict[tuple[str, tuple[str, ...]], list[Return]] = {}
    problems: list[DataProblem] = []
    for path in paths:
        if path.suffix.lower() not in FORM_SUFFIXES:
            problems.append(
                _file_problem(
                    path,
                    _("not a form of this round (returns are the .xlsx forms of zhili template)"),
                    codes.ROUND_UNRECOGNISED,
                )
            )
            continue
        try:
            stamp = read_stamp(path)
        except DataError as exc:
            problems.append(_file_problem(path, str(exc), codes.ROUND_UNRECOGNISED))
            continue
        problem = _stamp_problem(path, stamp, model)
        if problem is not None:
            problems.append(problem)
            continue
        assert stamp is not None
        found.setdefault((stamp.by, stamp.unit), []).append(
            Return(path, stamp, path.stat().st_mtime)
        )
    winners, superseded = [], []
    for returns in found.values():
        returns.sort(key=lambda r: (r.mtime, r.path.name))
        newest = returns[-1]
        winners.append(newest)
        for old in returns[:-1]:
            superseded.append((old.path, newest.path))
            problems.append(
                _file_problem(
                    old.path,
                    _("an older return of {unit}: {newer} replaces it").format(
                        unit=forms.unit_title(old.stamp.unit, old.stamp.by), newer=newest.path.name
                    ),
                    codes.ROUND_SUPERSEDED,
                )
            )
    winners.sort(key=lambda r: r.path.name)
    return winners, problems, superseded


def _stamp_problem(path: Path, stamp: Stamp | None, model: Model) -> DataProblem | None:
    if stamp is None:
        return _file_problem(
            path,
            _(
                "not a form of this round: the workbook has no zhili stamp (write the forms "
                "with zhili template --roster, and fill them in as they are)"
            ),
            codes.ROUND_UNRECOGNISED,
        )
    if stamp.model != model.id:
        return _file_problem(
            path,
            _("a form of model {other}, not {model}").format(other=stamp.model, model=model.id),
            codes.ROUND_OTHER_MODEL,
        )
    if stamp.version != (model.version or "") or stamp.content_hash != model.content_hash:
        return _file_problem(
            path,
            _(
                "a form of another version of {model} (version {found}, content {hash}; "
                "the model is version {version}, content {model_hash}): send the unit the "
                "current form"
            ).format(
                model=model.id,
                found=stamp.version or "-",
                hash=stamp.content_hash[:12],
                version=model.version or "-",
                model_hash=model.content_hash[:12],
            ),
            codes.ROUND_OLD_FORM,
        )
    return None


def read_returns(folder: Path, model: Model, roster: Roster, progress=None) -> RoundData:
    """Read the returns in `folder` against `roster` (see the module docstring).
    Raises `DataError` when the folder cannot be read."""
    paths = return_files(folder)
    winners, problems, superseded = recognise(paths, model)
    out = RoundData(str(folder), roster, None, problems, winners, superseded)
    if winners:
        ds = data_mod.load_many(
            [r.path for r in winners],
            model,
            sheet=forms.DATA_SHEET,
            progress=progress,
            name=str(folder),
        )
        out.problems += [p for p in ds.problems if p.code != codes.DATA_OTHER_SHEETS.code]
        has_data = _has_data(ds)
        out.problems += _row_problems(ds, winners, roster, has_data, out)
        out.problems += _required_empty(ds, model, has_data)
        out.dataset = ds.subset(has_data)
    out.problems += _not_submitted(out, winners)
    return out


def _has_data(ds: data_mod.Dataset):
    """Whether each row holds an input value, or a cell that could not be read."""
    import polars as pl

    frame = ds.frame
    inputs = [f"in.{i}" for i in ds.columns]
    filled = (
        pl.any_horizontal([pl.col(c).is_not_null() for c in inputs]) if inputs else pl.lit(False)
    )
    bad = {
        (p.file, p.row)
        for p in ds.problems
        if p.row is not None and p.column is not None and p.column != ds.id_column
    }
    has = frame.select(filled.alias("x")).get_column("x")
    if not bad:
        return has
    files = {Path(f).name: f for f in ds.files}
    marks = [
        (files.get(name, name), row) in bad
        for name, row in frame.select("source_file", "row").iter_rows()
    ]
    return has | pl.Series(marks, dtype=pl.Boolean)


def _problem(file: str, row: int, column: str | None, raw, message: str, code) -> DataProblem:
    return DataProblem(
        file, row, column, raw, message, code.severity, sheet=forms.DATA_SHEET, code=code.code
    )


def _row_problems(ds, winners: list[Return], roster: Roster, has_data, out: RoundData):
    """Each row held to its form's stamp and to the roster; fills `out.reported`
    and `out.not_in_roster`."""
    by_id = roster.by_id()
    stamps = {r.path.name: (str(r.path), r.stamp) for r in winners}
    cols = [c for c in ("district", "street", "community") if c in ds.frame.columns]
    frame = ds.frame.select("source_file", "row", "community_id", *cols)
    problems: list[DataProblem] = []
    for (name, row, cid, *names), filled in zip(frame.iter_rows(), has_data, strict=True):
        file, stamp = stamps[name]
        given = dict(zip(cols, names, strict=True))
        expected = stamp.rows.get(row)
        community = by_id.get(id_norm(cid or ""))
        if expected is not None and id_norm(expected[0]) != id_norm(cid or ""):
            problems.append(
                _problem(
                    file,
                    row,
                    COLUMN_TITLES["community_id"],
                    cid,
                    _("the pre-filled 社区编码 {expected!r} was changed: put it back").format(
                        expected=expected[0]
                    ),
                    codes.ROUND_PREFILL_EDITED,
                )
            )
            continue
        if community is None:
            out.not_in_roster.append((cid, file, row))
            problems.append(
                _problem(
                    file,
                    row,
                    COLUMN_TITLES["community_id"],
                    cid,
                    _("a community the roster does not list"),
                    codes.ROUND_NOT_IN_ROSTER,
                )
            )
            continue
        problems += _names_edited(file, row, community, given)
        if filled:
            out.reported.add(id_norm(community.id))
    return problems


def _names_edited(file: str, row: int, c: Community, given: dict) -> list[DataProblem]:
    out = []
    for key, want in (("district", c.district), ("street", c.street), ("community", c.name)):
        have = given.get(key)
        if name_norm(have) != name_norm(want):
            out.append(
                _problem(
                    file,
                    row,
                    COLUMN_TITLES[key],
                    have,
                    _("the pre-filled {column} {expected!r} was changed: put it back").format(
                        column=COLUMN_TITLES[key], expected=want
                    ),
                    codes.ROUND_PREFILL_EDITED,
                )
            )
    return out


def _required_empty(ds, model: Model, has_data) -> list[DataProblem]:
    """A warning for every required input left empty in a row that holds data
    (a cell that could not be read has its own problem)."""
    import polars as pl

    bad = {(Path(p.file).name, p.row, p.column) for p in ds.problems if p.row is not None}
    files = {Path(f).name: f for f in ds.files}
    frame = ds.frame.with_columns(has_data.alias("__has"))
    problems = []
    for f in model.inputs:
        if not f.required or f.id not in ds.columns:
            continue
        header = ds.columns[f.id]
        empty = frame.filter(pl.col("__has") & pl.col(f"in.{f.id}").is_null())
        for name, row in empty.select("source_file", "row").iter_rows():
            if (name, row, header) in bad:
                continue
            problems.append(
                _problem(
                    files.get(name, name),
                    row,
                    header,
                    None,
                    _("a required cell is empty"),
                    codes.ROUND_REQUIRED_EMPTY,
                )
            )
    problems.sort(key=lambda p: (p.file, p.row or 0))
    return problems


def _not_submitted(out: RoundData, winners: list[Return]) -> list[DataProblem]:
    """A warning for every roster community without data: at its row of its
    unit's return, or at its roster row when its unit sent nothing."""
    placed: dict[str, tuple[str, int]] = {}
    for r in winners:
        for row, (cid, *_names) in r.stamp.rows.items():
            placed.setdefault(id_norm(cid), (str(r.path), row))
    edited = {(p.file, p.row) for p in out.problems if p.code == codes.ROUND_PREFILL_EDITED.code}
    problems = []
    for c in out.not_submitted():
        where = placed.get(id_norm(c.id))
        if where in edited:
            continue  # its row's id was changed: that problem says it
        if where is not None:
            problems.append(
                _problem(
                    where[0],
                    where[1],
                    COLUMN_TITLES["community_id"],
                    c.id,
                    _("no data entered for {community} (未上报)").format(community=c.name),
                    codes.ROUND_NOT_SUBMITTED,
                )
            )
        else:
            problems.append(
                DataProblem(
                    out.roster.file,
                    c.row,
                    COLUMN_TITLES["community_id"],
                    c.id,
                    _("no return holds {community} (未上报)").format(community=c.name),
                    codes.ROUND_NOT_SUBMITTED.severity,
                    sheet=out.roster.sheet,
                    code=codes.ROUND_NOT_SUBMITTED.code,
                )
            )
    return problems
