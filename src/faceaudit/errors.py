"""Errors that reach the user as one clear sentence and exit status 2 (never a traceback)."""

from __future__ import annotations

from os import PathLike


class InputError(Exception):
    """Bad user input: a file, a record or an option that cannot be used as given.

    The CLI prints ``str(error)`` and exits with status 2. Build the message so that it names the
    file and the line/row/record (1-based, as an editor shows it) and says what is wrong and what to
    do, e.g. ``scores.csv, line 17: score 'abc' is not a number.``
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        record: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if record is not None:
            where.append(record)
        self.path = None if path is None else str(path)
        self.line = line
        self.record = record
        text = f"{', '.join(where)}: {message}" if where else message
        super().__init__(text)
