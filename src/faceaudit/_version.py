"""The installed version of faceaudit (a module of its own, so that reading it imports nothing)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("faceaudit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
