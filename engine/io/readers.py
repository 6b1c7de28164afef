"""Every data format zhili reads, in one table by file suffix: the built-in
readers in the shape plugin readers have (`DataReader(suffix, read,
description, plugin)`, hook `zhili_data_readers`), and the readers plugins
add. `read_raw` looks a file's suffix up: a plugin's reader first (the
registry never lets a plugin take a built-in suffix), then the built-ins.

This module stays light (no Polars): the plugin registry imports it when the
CLI starts; each built-in reader imports its implementation when called.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zhili.dsl.i18n import _
from zhili.engine.io.source import check_source, is_stdin
from zhili.engine.io.table import EXCEL_SUFFIXES, DataError, RawTable

if TYPE_CHECKING:
    from zhili.dsl.model import Model

BUILTIN = "zhili"  # the `plugin` of the built-in readers


@dataclass(frozen=True)
class DataReader:
    """A data format a plugin reads: see `hookspecs.zhili_data_readers`.

    A plugin's `read(path)` gets the path only; a built-in reader's `read`
    also takes the `encoding`, `sheet` and `model` keywords of `read_raw`."""

    suffix: str
    read: object  # Callable[[Path], RawTable]
    description: str = ""
    plugin: str = ""


def _delimited(path: Path, encoding=None, sheet=None, model=None) -> RawTable:
    from zhili.engine.io.formats import read_delimited

    return read_delimited(path, encoding, model)


def _json(path: Path, encoding=None, sheet=None, model=None) -> RawTable:
    from zhili.engine.io.formats import read_json

    return read_json(path)  # JSON is UTF-8 (or GB18030), whatever --encoding says


def _parquet(path: Path, encoding=None, sheet=None, model=None) -> RawTable:
    from zhili.engine.io.formats import read_parquet

    return read_parquet(path, model)


def _excel(path: Path, encoding=None, sheet=None, model=None) -> RawTable:
    from zhili.engine.io.excel import read_excel

    return read_excel(path, sheet, model)


def _table(*readers: DataReader) -> dict[str, DataReader]:
    return {r.suffix: r for r in readers}


# suffix → built-in reader; "" is a file without a suffix, read as CSV
BUILTIN_READERS: dict[str, DataReader] = _table(
    DataReader(".csv", _delimited, "comma-separated text", BUILTIN),
    DataReader(".tsv", _delimited, "tab-separated text", BUILTIN),
    DataReader(".txt", _delimited, "comma- or tab-separated text", BUILTIN),
    DataReader("", _delimited, "comma- or tab-separated text", BUILTIN),
    DataReader(".json", _json, "JSON: a list of objects", BUILTIN),
    DataReader(".jsonl", _json, "JSON Lines: one object a line", BUILTIN),
    DataReader(".ndjson", _json, "JSON Lines: one object a line", BUILTIN),
    DataReader(".parquet", _parquet, "Parquet", BUILTIN),
    *(DataReader(s, _excel, "Excel workbook", BUILTIN) for s in EXCEL_SUFFIXES),
)
# the formats read from a regular file only (their readers seek)
_SEEKING = {".parquet", *EXCEL_SUFFIXES}
# the suffixes a plugin cannot take
BUILTIN_SUFFIXES = {s for s in BUILTIN_READERS if s}
# the data readers of plugins, of the registry built last (`plugins.Registry` fills it)
DATA_READERS: dict[str, DataReader] = {}


def data_reader_for(suffix: str) -> DataReader | None:
    """The plugin reader of `suffix`, if a plugin reads it."""
    return DATA_READERS.get(suffix.lower())


def read_raw(
    path: Path,
    encoding: str | None = None,
    sheet: str | int | None = None,
    model: Model | None = None,
) -> RawTable:
    """Read a CSV, TSV, JSON, JSON Lines, Parquet or Excel file into text
    cells. `sheet` (name or 1-based position) chooses a workbook's sheet;
    `model` helps find a workbook's header row below a title. A suffix a
    plugin reads (hook `zhili_data_readers`) goes to that plugin. `-` is
    standard input, read as CSV or TSV text. Reading is bounded
    (`source.MAX_DATA_BYTES`); a device is refused, and so is a pipe for a
    format that must seek (a workbook, Parquet)."""
    suffix = "" if is_stdin(path) else path.suffix.lower()
    plugin_reader = data_reader_for(suffix)
    check_source(path, regular_only=plugin_reader is not None or suffix in _SEEKING)
    if plugin_reader is not None:
        return _plugin_read(plugin_reader, path)
    reader = BUILTIN_READERS.get(suffix)
    if reader is None:
        raise DataError(
            _(
                "{file}: unsupported data format {suffix} (use .csv, .xlsx, .json, .jsonl or .parquet)"
            ).format(file=path, suffix=suffix)
        )
    return reader.read(path, encoding=encoding, sheet=sheet, model=model)


def read_batches(
    path: Path,
    encoding: str | None = None,
    sheet: str | int | None = None,
    model: Model | None = None,
    batch_bytes: int | None = None,
) -> Iterator[RawTable]:
    """`read_raw`'s table as consecutive row batches: a large CSV, TSV or TXT
    file in several of about `batch_bytes` (`formats.read_delimited_batches`;
    raises `NotInBatches` when it must be read whole), a Parquet file in
    batches of rows (`formats.read_parquet_batches`; with `batch_bytes`, of
    `batch_bytes // 64` rows), any other source in one."""
    suffix = "" if is_stdin(path) else path.suffix.lower()
    reader = BUILTIN_READERS.get(suffix)
    if (
        is_stdin(path)
        or data_reader_for(suffix) is not None
        or reader is None
        or reader.read not in (_parquet, _delimited)
    ):
        yield read_raw(path, encoding, sheet, model)
        return
    if reader.read is _parquet:
        from zhili.engine.io.formats import PARQUET_BATCH_ROWS, read_parquet_batches

        check_source(path, regular_only=True)
        rows = PARQUET_BATCH_ROWS if batch_bytes is None else max(1, batch_bytes // 64)
        yield from read_parquet_batches(path, model, rows)
        return
    from zhili.engine.io.formats import BATCH_BYTES, read_delimited_batches

    check_source(path)
    if not path.is_file():  # a pipe is read once: `NotInBatches` could not read it again
        yield read_raw(path, encoding, sheet, model)
        return
    yield from read_delimited_batches(path, encoding, model, batch_bytes or BATCH_BYTES)


def _plugin_read(reader, path: Path) -> RawTable:
    try:
        raw = reader.read(path)
    except DataError:
        raise
    except Exception as exc:  # a plugin's bug is a data error that names it
        raise DataError(
            _("{file}: the reader of plugin {plugin} failed ({error})").format(
                file=path, plugin=reader.plugin, error=f"{type(exc).__name__}: {exc}"
            )
        ) from exc
    if not isinstance(raw, RawTable):
        raise DataError(
            _("{file}: the reader of plugin {plugin} did not return a RawTable").format(
                file=path, plugin=reader.plugin
            )
        )
    return raw
