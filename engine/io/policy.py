"""Which data problems a person is shown and which stop an evaluation.

Every command that evaluates data (eval, explain, report, diff-model, export,
the TUI's loader) follows one policy: a file that cannot be read or a problem
of severity "error" stops the run; with `strict`, so does any problem above
"info". Info notes are not shown, except a skipped row, which is never silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from zhili.dsl.i18n import _
from zhili.engine.io.table import DataProblem

# more than this many problems is a wall of text: the rest are counted, not listed
SHOWN_PROBLEMS = 50


class NoSampleData(LookupError):
    """No data file was given and the model bundles no sample."""

    def __init__(self, model_id: str):
        super().__init__(model_id)
        self.model_id = model_id


@dataclass
class DataSource:
    """The file to read: the one given, or else the model's bundled sample."""

    path: Path
    is_sample: bool = False


def data_source(samples: list[Path], data: str | None, model_id: str) -> DataSource:
    """`data` as a path, or the first bundled sample; `NoSampleData` when there is none."""
    if data is not None:
        return DataSource(Path(data))
    if not samples:
        raise NoSampleData(model_id)
    return DataSource(samples[0], is_sample=True)


@dataclass
class ProblemReport:
    """What to print about a dataset's problems, and whether it stops the run."""

    lines: list[str] = field(default_factory=list)
    stops: bool = False


def problem_report(problems: Iterable[DataProblem], strict: bool) -> ProblemReport:
    """The lines to show (at most `SHOWN_PROBLEMS` problems, then a count) and
    whether the problems stop the run (any error; with `strict`, any warning)."""
    out = ProblemReport()
    shown = 0
    for p in problems:
        if p.severity == "info":
            # a skipped row, and the other sheets of a workbook: never silent
            if (p.row is not None and p.column is None) or p.code == "data-other-sheets":
                out.lines.append(f"{_('note')}: {p}")
            continue
        if shown < SHOWN_PROBLEMS:
            out.lines.append(f"{_(p.severity)}: {p}")
        shown += 1
        if p.severity == "error" or strict:
            out.stops = True
    if shown > SHOWN_PROBLEMS:
        out.lines.append(_("… and {n} more data problems").format(n=shown - SHOWN_PROBLEMS))
    return out
