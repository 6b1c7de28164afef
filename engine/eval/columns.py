"""The names of the columns in input frames and results tables, in one place.

Both backends write these columns, and the evaluation API, reports, the run
store, the CLI and the TUI read them; nobody else spells them. The names are
part of the user-visible output (`zhili eval --detail`, Parquet files), so
they never change:

  in.<input>                        an input (typed; null = missing)
  let.<id>                          a definition
  ind.<id>.value / .points / .outcome / .missing   per indicator
  veto.<id>                         whether a veto triggered (null: its condition is missing)
  dim.<id>, dim.<id>.max            a dimension's score (null: not scored) and the points available (0: none)
  out.<id>                          an output (`output ID = …`; null: missing), typed as declared
  total (null: not scored), grade, grade_index, next_grade, vetoes, missing   per community
"""

from __future__ import annotations

from collections.abc import Iterable

TOTAL = "total"
GRADE = "grade"
GRADE_INDEX = "grade_index"
NEXT_GRADE = "next_grade"
VETOES = "vetoes"  # comma-separated ids of the triggered vetoes
MISSING = "missing"  # missing indicators plus vetoes whose condition is missing

# the per-community summary, in table order
SUMMARY = (TOTAL, GRADE, GRADE_INDEX, NEXT_GRADE, VETOES, MISSING)

OUTCOME_SUFFIX = ".outcome"


def input_col(input_id: str) -> str:
    """An input's column in the input frame."""
    return f"in.{input_id}"


def let_col(let_id: str) -> str:
    """A definition's column."""
    return f"let.{let_id}"


def ind_points(ind_id: str) -> str:
    """An indicator's points."""
    return f"ind.{ind_id}.points"


def ind_outcome(ind_id: str) -> str:
    """An indicator's outcome (`Outcome` labels, an Enum of one byte a row)."""
    return f"ind.{ind_id}{OUTCOME_SUFFIX}"


def ind_value(ind_id: str) -> str:
    """An indicator's measured value (null: missing)."""
    return f"ind.{ind_id}.value"


def ind_missing(ind_id: str) -> str:
    """Whether an indicator is missing (an intermediate column of the plan)."""
    return f"ind.{ind_id}.missing"


def output_col(output_id: str) -> str:
    """An output's column (`output ID = …`)."""
    return f"out.{output_id}"


def is_output(column: str) -> bool:
    return column.startswith("out.")


def veto_col(veto_id: str) -> str:
    """Whether a veto triggered (null: its condition is missing)."""
    return f"veto.{veto_id}"


def dim_score(dim_id: str) -> str:
    """A dimension's score."""
    return f"dim.{dim_id}"


def dim_max(dim_id: str) -> str:
    """The points a dimension had available (0 when nothing in it was scored)."""
    return f"dim.{dim_id}.max"


def indicator_detail(ind_ids: Iterable[str]) -> list[str]:
    """The detail columns of some indicators: points, outcome, value each."""
    return [c for i in ind_ids for c in (ind_points(i), ind_outcome(i), ind_value(i))]


def indicator_points(ind_ids: Iterable[str]) -> list[str]:
    """The points and outcome columns of some indicators."""
    return [c for i in ind_ids for c in (ind_points(i), ind_outcome(i))]


def is_outcome(column: str) -> bool:
    """Whether a results-table column holds an indicator's outcome."""
    return column.startswith("ind.") and column.endswith(OUTCOME_SUFFIX)


def deducted_col(ind_id: str) -> str:
    """The points a deduction block takes (capped; null: missing), an
    intermediate column of the vectorized plan, never in a results table."""
    return f"ded.{ind_id}"
