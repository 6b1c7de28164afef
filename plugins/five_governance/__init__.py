"""五治融合 (Jiayuguan five-governance fusion) model plugin."""

from pathlib import Path

from zhili.engine.hookspecs import hookimpl


@hookimpl
def zhili_model_sources() -> list[Path]:
    return [Path(__file__).parent]
