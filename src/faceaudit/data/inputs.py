"""Where the data came from: each input file with its checksum and the records read from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["InputFile"]


class _LazyDigest:
    """Data descriptor for ``InputFile.sha256``: holds a str or a pending digest, returns a str."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> str:
        if obj is None:  # no class-level default: the dataclass field stays required
            raise AttributeError(self._slot[1:])
        value = obj.__dict__[self._slot]
        if not isinstance(value, str):
            value = value.result()
            obj.__dict__[self._slot] = value
        return value

    def __set__(self, obj: Any, value: str | Any) -> None:
        obj.__dict__[self._slot] = value


@dataclass(frozen=True)
class InputFile:
    """One input file as read: the path as given, its checksum and the records read.

    Attributes
    ----------
    path : str
        The path as the user gave it.
    sha256 : str
        Hex SHA-256 of the file's bytes as stored (compressed files: the compressed bytes).
        Computed in a background thread after reading; accessing it waits for the result.
    records : int
        Data records read: CSV/Parquet rows (including rows without a score), non-blank lines
        of a text file, elements of an array.
    """

    path: str
    sha256: str = _LazyDigest()  # type: ignore[assignment]  # required: see _LazyDigest.__get__
    records: int

    def to_json(self) -> dict:
        """``{"path", "sha256", "records"}`` for ``results.json``."""
        return {"path": self.path, "sha256": self.sha256, "records": self.records}

    def __getstate__(self) -> dict:  # pickle the digest, not the thread computing it
        return {"path": self.path, "_sha256": self.sha256, "records": self.records}
