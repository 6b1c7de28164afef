"""Evaluate a dataset against a model and collect the results as rows.

`evaluate_dataset` runs the reference interpreter over every record and
returns an `Evaluation`: the compact raw results plus the data problems.
`Evaluation.rows()` gives one flat dict per community (the table form: ids,
total, grade, each dimension's share, vetoes, missing count), never a pydantic
object per community.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from zhili.dsl.model import Model
from zhili.engine.data import Dataset
from zhili.engine.interpreter import CompiledModel, RawResult, compile_model
from zhili.engine.plugins import Registry


@dataclass
class Evaluation:
    model: Model
    compiled: CompiledModel
    dataset: Dataset
    results: list[RawResult] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        model = self.model
        top = model.top_dimensions
        out = []
        for r in self.results:
            m = r.meta
            row = {
                "community_id": m.get("community_id"),
                "community": m.get("community"),
                "district": m.get("district"),
                "street": m.get("street"),
                "total": round(r.total, 6),
                "grade": r.grade,
            }
            for d in top:
                i = self.compiled.dim_index[d.id]
                row[d.id] = round(r.dim_scores[i], 6)
            row["vetoes"] = ",".join(r.vetoed)
            row["missing"] = r.missing_count
            out.append(row)
        return out

    def grade_counts(self) -> Counter:
        return Counter(r.grade for r in self.results)

    def target_progress(self) -> list[dict[str, Any]]:
        """Each model target: the share of communities at the grade or better."""
        out = []
        n = len(self.results) or 1
        pos = {g.name: i for i, g in enumerate(self.model.grades)}
        for t in self.model.targets:
            limit = pos.get(t.grade, -1)
            reached = sum(
                1 for r in self.results if r.grade_index is not None and r.grade_index <= limit
            )
            out.append(
                {
                    "label": t.label or t.grade,
                    "grade": t.grade,
                    "target": t.share,
                    "actual": reached / n,
                    "reached": reached,
                    "met": reached / n >= t.share - 1e-12,
                    "by": t.by.isoformat() if t.by else None,
                }
            )
        return out


def evaluate_dataset(
    model: Model, dataset: Dataset, registry: Registry | None = None
) -> Evaluation:
    functions = registry.functions if registry is not None else None
    compiled = compile_model(model, functions)
    ev = Evaluation(model, compiled, dataset)
    evaluate = compiled.evaluate
    ev.results = [
        evaluate(rec, meta) for rec, meta in zip(dataset.records, dataset.meta, strict=True)
    ]
    return ev
