"""陈仓区“1234”四型社区（extends four_type） model plugin (a district example)."""

from pathlib import Path

from zhili.engine.hookspecs import hookimpl


@hookimpl
def zhili_model_sources() -> list[Path]:
    return [Path(__file__).parent]
