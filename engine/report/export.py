"""Export a table (e.g. the view the TUI shows) to CSV or XLSX, atomically
(`zhili.engine.io.atomic`: written beside its destination, renamed into place)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from zhili.dsl.i18n import _
from zhili.engine.io.atomic import atomic_write
from zhili.engine.report import safe

FORMATS = ("csv", "xlsx")


class ExportError(Exception):
    pass


def export_frame(frame: pl.DataFrame, path: Path | str, fmt: str | None = None) -> Path:
    """Write `frame` to `path` as CSV (UTF-8 with BOM, so Excel reads Chinese)
    or XLSX (format from `fmt` or the suffix). Returns the path written."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in FORMATS:
        raise ExportError(_("cannot export to {fmt!r}: use .csv or .xlsx").format(fmt=fmt))
    # nested or object columns cannot be written: show them as text
    frame = frame.with_columns(
        [
            pl.col(c).cast(pl.String)
            for c, t in frame.schema.items()
            if isinstance(t, (pl.Enum, pl.Categorical))
        ]
    )

    def write(tmp: Path) -> None:
        if fmt == "csv":
            with open(tmp, "wb") as fh:
                fh.write("\ufeff".encode())
                safe.csv_frame(
                    frame.rename(
                        dict(zip(frame.columns, safe.csv_header(frame.columns), strict=True))
                    )
                ).write_csv(fh)
        else:
            frame.write_excel(tmp, worksheet="zhili", autofit=True)

    try:
        atomic_write(path, write)
    except Exception as exc:
        raise ExportError(
            _("cannot write {path}: {err}").format(
                path=path, err=getattr(exc, "strerror", None) or exc
            )
        ) from exc
    return path
