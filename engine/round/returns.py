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
from dataclasses import dataclass, field, replace
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


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
STAMP_MAX_BYTES = 4 * 1024 * 1024  # a stamp of 10,000 communities is under 1 MB


def read_stamp(path: Path) -> Stamp | None:
    """The stamp of the form at `path`, or None when it has none. Raises
    `DataError` when the file cannot be opened as a workbook. Reads the
    stamp sheet's XML itself (openpyxl would parse the styles and every sheet
    list of the workbook first: most of the time of reading a folder)."""
    import zipfile
    import zlib
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as zf:
            part = _stamp_part(zf, ElementTree)
            if part is None:
                return None
            strings = _shared_strings(zf, ElementTree)
            cells = _sheet_cells(_read_member(zf, part), strings, ElementTree)
    except (OSError, zipfile.BadZipFile, KeyError, EOFError, zlib.error) as exc:
        raise DataError(
            _("{file}: cannot be opened as a workbook ({err})").format(file=path, err=exc)
        ) from exc
    except ElementTree.ParseError:
        return None
    return _parse_stamp(cells)


def _read_member(zf, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > STAMP_MAX_BYTES:
        raise KeyError(name)
    return zf.read(name)


def _stamp_part(zf, et) -> str | None:
    """The zip member of the stamp sheet, or None."""
    wb = et.fromstring(_read_member(zf, "xl/workbook.xml"))
    rid = next(
        (
            sheet.get(f"{_REL}id")
            for sheet in wb.iter(f"{_MAIN}sheet")
            if sheet.get("name") == forms.META_SHEET
        ),
        None,
    )
    if rid is None:
        return None
    rels = et.fromstring(_read_member(zf, "xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target", "") for r in rels if r.get("Id") == rid), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _shared_strings(zf, et) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    root = et.fromstring(zf.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{_MAIN}t")) for si in root.iter(f"{_MAIN}si")]


def _sheet_cells(xml: bytes, strings: list[str], et) -> list[tuple[str, ...]]:
    """The first five columns of every row of a sheet's XML, as text."""
    rows = []
    for row in et.fromstring(xml).iter(f"{_MAIN}row"):
        values = [""] * 5
        for c in row.iter(f"{_MAIN}c"):
            ref = c.get("r", "")
            col = ord(ref[0]) - ord("A") if ref[1:2].isdigit() else -1  # A1 … E1
            if not 0 <= col < 5:
                continue
            kind, v = c.get("t"), c.find(f"{_MAIN}v")
            if kind == "s" and v is not None and (v.text or "").isdigit():
                k = int(v.text)
                values[col] = strings[k] if k < len(strings) else ""
            elif kind == "inlineStr":
                values[col] = "".join(t.text or "" for t in c.iter(f"{_MAIN}t"))
            elif v is not None:
                values[col] = v.text or ""
        rows.append(tuple(values))
    return rows


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
    """A problem of the whole file (a reader's message loses its own `file: `)."""
    message = message.removeprefix(f"{path}: ")
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


def read_returns(folder: Path, model: Model, roster: Roster) -> RoundData:
    """Read the returns in `folder` against `roster` (see the module docstring).
    Raises `DataError` when the folder cannot be read."""
    paths = return_files(folder)
    winners, problems, superseded = recognise(paths, model)
    ds, read_problems, unread = load_forms([r.path for r in winners], model, str(folder))
    winners = [r for r in winners if r.path not in unread]
    out = RoundData(str(folder), roster, None, problems + read_problems, winners, superseded)
    if ds is not None:
        has_data = _has_data(ds)
        out.problems += _row_problems(ds, winners, roster, has_data, out)
        out.problems += _required_empty(ds, model, has_data)
        out.dataset = ds.with_frame(ds.frame.filter(has_data))
    out.problems += _not_submitted(out, winners)
    if out.dataset is not None:
        out.dataset.problems = out.problems  # the reports list the round's problems too
    return out


_COMBINED = "\x00returns"  # the file name of the returns read as one table


def load_forms(
    paths: list[Path], model: Model, name: str
) -> tuple[data_mod.Dataset | None, list[DataProblem], set[Path]]:
    """The 数据 sheets of `paths` read (`readers.read_raw`) and converted for
    `model` (`data.convert_table`) as `data.load_many` does, but as one table
    when their headers agree (as the forms of one model do): converting a
    table has a fixed cost that 300 small tables would pay 300 times. Every
    problem and row keeps its file and row. Returns the dataset (None when
    no file could be read), the problems, and the files that could not be read."""
    from zhili.engine.io.readers import read_raw

    raws, problems, unread = [], [], set()
    for path in paths:
        try:
            raws.append((path, read_raw(path, sheet=forms.DATA_SHEET, model=model)))
        except DataError as exc:
            problems.append(_file_problem(path, str(exc), codes.ROUND_UNRECOGNISED))
            unread.add(path)
    if not raws:
        return None, problems, unread
    if len({(tuple(raw.headers), raw.frame.width) for _p, raw in raws}) > 1:
        ds = data_mod.load_many([p for p, _raw in raws], model, sheet=forms.DATA_SHEET, name=name)
        return ds, problems + _shown(ds.problems), unread
    ds, found = _convert_as_one(raws, model, name)
    return ds, problems + found, unread


def _shown(problems: list[DataProblem]) -> list[DataProblem]:
    # the other sheets of a form (填表说明, the stamp) are the form's own
    return [p for p in problems if p.code != codes.DATA_OTHER_SHEETS.code]


def _convert_as_one(raws, model: Model, name: str):
    """`load_forms` of tables with the same headers: one `RawTable` whose
    line i is row `where[i]` of its file."""
    import polars as pl

    from zhili.engine.io.table import RawTable

    where: list[tuple[int, int]] = []
    for i, (_path, raw) in enumerate(raws):
        where += [(i, line) for line in raw.lines]
    combined = RawTable(
        _COMBINED,
        list(raws[0][1].headers),
        pl.concat([raw.frame for _p, raw in raws], how="vertical_relaxed"),
        list(range(len(where))),
        [p for _p, raw in raws for p in raw.problems],
        sheet=forms.DATA_SHEET,
    )
    ds = data_mod.convert_table(combined, model)
    problems = []
    for p in _shown(ds.problems):
        if p.file != _COMBINED:
            problems.append(p)  # a reader's problem, located already
        elif p.code == codes.DATA_DUPLICATE_ID.code:
            continue  # found again below, with the files named
        elif p.row is None:
            problems += [replace(p, file=str(path)) for path, _raw in raws]
        else:
            i, line = where[p.row]
            problems.append(replace(p, file=str(raws[i][0]), row=line))
    at = ds.frame.get_column("row").to_list()
    files = [raws[where[k][0]][0].name for k in at]
    lines = [where[k][1] for k in at]
    frame = ds.frame.with_columns(
        pl.Series("row", lines, dtype=pl.Int64),
        pl.Series(
            "source",
            [f"{f}[{forms.DATA_SHEET}]:{n}" for f, n in zip(files, lines, strict=True)],
            dtype=pl.String,
        ),
        pl.Series("source_file", files, dtype=pl.String),
        pl.lit(forms.DATA_SHEET, dtype=pl.String).alias("source_sheet"),
    )
    out = ds.with_frame(frame)
    out.file = name
    out.files = [str(p) for p, _raw in raws]
    problems += _duplicates(frame, {p.name: str(p) for p, _raw in raws}, ds.id_column)
    out.problems = problems
    return out, problems


def _duplicates(frame, paths: dict[str, str], id_column: str | None) -> list[DataProblem]:
    """An error for every row whose community id (in `data.id_key`'s form) an
    earlier row has, naming the earlier row (and its file when it is another)."""
    import polars as pl

    keyed = (
        frame.select(
            "row",
            "source",
            "source_file",
            "community_id",
            data_mod.id_key(pl.col("community_id")).alias("__key"),
        )
        .with_columns(
            pl.col("source").first().over("__key").alias("first"),
            pl.col("source_file").first().over("__key").alias("first_file"),
            pl.col("row").first().over("__key").alias("first_row"),
            pl.int_range(pl.len()).over("__key").alias("__n"),
        )
        .filter(pl.col("__n") > 0)
    )
    problems = []
    for row, file, cid, first, first_file, first_row in keyed.select(
        "row", "source_file", "community_id", "first", "first_file", "first_row"
    ).iter_rows():
        if file == first_file:
            message = _("duplicate community id (first on row {row})").format(row=first_row)
        else:
            message = _("duplicate community id (first in {source})").format(source=first)
        problems.append(
            _problem(paths[file], row, id_column, cid, message, codes.DATA_DUPLICATE_ID)
        )
    return problems


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
    # the ids each form was written with: rows sorted or deleted keep their ids
    prefilled = {
        name: {id_norm(values[0]) for values in stamp.rows.values()}
        for name, (_file, stamp) in stamps.items()
    }
    cols = [c for c in ("district", "street", "community") if c in ds.frame.columns]
    frame = ds.frame.select("source_file", "row", "community_id", *cols)
    problems: list[DataProblem] = []
    for (name, row, cid, *names), filled in zip(frame.iter_rows(), has_data, strict=True):
        file, stamp = stamps[name]
        given = dict(zip(cols, names, strict=True))
        expected = stamp.rows.get(row)
        key = id_norm(cid or "")
        community = by_id.get(key)
        if expected is not None and key not in prefilled[name]:
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
