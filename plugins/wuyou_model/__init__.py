"""3.0工作法 (Xichong 一段社区 "3.0 work method", 解忧) model plugin."""

from pathlib import Path

from zhili.engine.hookspecs import hookimpl


@hookimpl
def zhili_model_sources() -> list[Path]:
    return [Path(__file__).parent]
