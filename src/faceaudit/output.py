"""Atomic output folders: nothing a user already has is lost or half-written.

``OutputDir(path, force=...)`` is a context manager that writes into a hidden sibling temporary
folder and moves it into place only when the block finishes without error. An existing ``path`` is
refused unless ``force`` is set; with ``force`` the old folder is replaced only after the new one is
complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from faceaudit.errors import InputError


class OutputDir:
    def __init__(self, path: str | os.PathLike[str], *, force: bool = False) -> None:
        self.path = Path(path)
        self.force = force
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if self.path.exists() and not self.force:
            raise InputError(
                "the output folder already exists; choose another --out or pass --force to "
                "replace it.",
                path=self.path,
            )
        if self.path.exists() and not self.path.is_dir():
            raise InputError("the output path exists and is not a folder.", path=self.path)
        parent = self.path.absolute().parent
        parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".partial", dir=parent)
        )
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        os.chmod(self.tmp, 0o755)
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
            os.replace(self.path, old)
            os.replace(self.tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.path)


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, force: bool = False) -> None:
    """Write one file atomically (temp file + fsync + rename); refuse to overwrite without force."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError("the file already exists; pass --force to replace it.", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_json(obj: Any) -> str:
    """JSON text for results files: UTF-8, sorted keys off (the contract order), NaN forbidden."""
    return json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
