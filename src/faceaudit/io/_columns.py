"""Private: the column helpers of the table reader (:mod:`faceaudit.io.tables`).

Required columns and their messages, small tables read whole, columns as stripped text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.io._tabular import scalar, to_numpy

if TYPE_CHECKING:
    from faceaudit.io.tables import Table

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")


def case_hint(wanted: str, names: Iterable[str]) -> str:
    """`` (Did you mean 'Score'? ...)`` when a name differs from ``wanted`` only by case."""
    close = [n for n in names if n.strip().lower() == wanted.lower() and n != wanted]
    return f" (Did you mean {close[0]!r}? Column names are case-sensitive.)" if close else ""


def require_columns(
    table: Table, wanted: dict[str, str], required: Iterable[str], *, advice: str
) -> dict[str, str]:
    """The roles of ``wanted`` (``{role: column name}``) whose column the table has.

    Raises
    ------
    InputError
        At the header: a column of a wanted role named twice, a header field without a name
        among the wanted, or a ``required`` role's column missing (the message lists the
        columns found, adds ``advice`` and a case hint).
    """
    names = table.names
    for role, name in wanted.items():
        if names.count(name) > 1:
            raise table.header_error(
                f"has two columns named {name!r}; rename one so the {role} column is unambiguous."
            )
    found = ", ".join(repr(n) for n in names)
    for role in required:
        name = wanted[role]
        if name not in names:
            raise table.header_error(
                f"has no column {name!r} (columns found: {found}); {advice}"
                + case_hint(name, names)
            )
    return {role: name for role, name in wanted.items() if name in names}


def read_whole(table: Table, used: Sequence[str]) -> tuple[dict[str, pa.Array], int]:
    """All rows of the ``used`` columns (a small table: truth, metadata, manifest, gallery).

    Returns ``({name: Array}, rows)``.
    """
    batches = [batch for _, batch in table.batches(used, chunk_rows=1 << 62)]
    if not batches:
        return {n: pa.nulls(0, pa.string()) for n in used}, 0
    whole = pa.Table.from_batches(batches).combine_chunks()
    return {n: _one(whole.column(n)) for n in used}, whole.num_rows


def _one(column: pa.ChunkedArray) -> pa.Array:
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks() if column.num_chunks else pa.nulls(0, column.type)


def text_values(table: Table, column: pa.Array, name: str) -> np.ndarray:
    """A column as stripped text: an object array of ``str``, ``""`` where the value is missing.

    Parquet numbers and booleans are written as text (``1``, ``2.5``, ``true``).

    Raises
    ------
    InputError
        For a Parquet column whose type has no text form (lists, structs, binary).
    """
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.dictionary_decode()
        t = column.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        try:
            column = pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise table.header_error(
                f"column {name!r} has type {t}; store it as text or numbers."
            ) from None
    column = pc.fill_null(pc.utf8_trim_whitespace(column), scalar(""))
    return to_numpy(column)


def first_empty(values: np.ndarray) -> int | None:
    """Index of the first ``""`` in an array from :func:`text_values`, or None."""
    empty = values == ""
    return int(np.argmax(empty)) if empty.any() else None
