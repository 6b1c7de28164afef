"""Typed signatures of the DSL's functions, for the checker.

The checker needs only types and documentation; the engine's table
(`zhili.engine.functions.BUILTIN_FUNCTIONS`) pairs each signature with its
Python and Polars implementations. Plugins add functions through the engine's
function registry, which passes the full table of signatures to `check()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhili.dsl.i18n import _

NUMERIC = ("int", "number", "percent")


@dataclass(frozen=True)
class Signature:
    """`params`: kinds of the arguments — "num", "bool", "any", "int".
    With `variadic` the last kind repeats. `result`: a type name, or "same"
    (the common numeric type of the arguments), or "first" (type of arg 1).
    `handles_missing`: the function sees missing arguments itself (otherwise
    any missing argument makes the result missing)."""

    name: str
    params: tuple[str, ...]
    result: str
    variadic: bool = False
    min_args: int | None = None
    handles_missing: bool = False
    doc: str = ""

    @property
    def arity_text(self) -> str:
        lo = self.min_args if self.min_args is not None else len(self.params)
        if self.variadic:
            return _("{n} or more").format(n=lo)
        if lo != len(self.params):
            return _("{lo} to {hi}").format(lo=lo, hi=len(self.params))
        return str(lo)


BUILTINS: dict[str, Signature] = {
    s.name: s
    for s in [
        Signature(
            "ratio", ("num", "num"), "percent", doc="a / b as a percent; missing when b is 0"
        ),
        Signature("per_10k", ("num", "num"), "number", doc="count per 10,000 of population"),
        Signature("min", ("num",), "same", variadic=True, doc="the smallest argument"),
        Signature("max", ("num",), "same", variadic=True, doc="the largest argument"),
        Signature("clamp", ("num", "num", "num"), "same", doc="x limited to [lo, hi]"),
        Signature("abs", ("num",), "first", doc="absolute value"),
        Signature(
            "round", ("num", "int"), "first", min_args=1, doc="rounded to n digits (default 0)"
        ),
        Signature("floor", ("num",), "first", doc="rounded down to a whole number (向下取整)"),
        Signature("ceil", ("num",), "first", doc="rounded up to a whole number (不足1按1计)"),
        Signature(
            "coalesce",
            ("any",),
            "same",
            variadic=True,
            handles_missing=True,
            doc="first argument that is not missing",
        ),
        Signature(
            "default", ("any", "any"), "same", handles_missing=True, doc="x, or v when x is missing"
        ),
        Signature("between", ("num", "num", "num"), "bool", doc="lo <= x <= hi"),
        Signature("count", ("bool",), "int", variadic=True, doc="how many conditions are true"),
        Signature("is_missing", ("any",), "bool", handles_missing=True, doc="x is missing"),
    ]
}
