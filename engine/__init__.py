"""zhili's engine: plugin manager, model registry, data, evaluation, CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zhili")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+src"
