"""二七区“五星”楼院评星 model plugin (a district example)."""

from pathlib import Path

from zhili.engine.hookspecs import hookimpl


@hookimpl
def zhili_model_sources() -> list[Path]:
    return [Path(__file__).parent]
