"""The fixed score grid under every mergeable summary.

A score (any float, converted exactly to float64) maps to an order-preserving 64-bit key: the
IEEE-754 bit pattern with negative numbers' bits inverted and non-negative numbers' sign bit set, so
that ``a < b`` exactly when ``key(a) < key(b)`` (``-0.0`` is folded into ``+0.0`` first). A *cell*
is the top :data:`CELL_BITS` bits of the key: sign, the 11 exponent bits and the 8 leading mantissa
bits. Cells are therefore fixed for all data (two summaries of different data sets share them and
merge by adding counts), logarithmic in width (a relative width of at most 2^-8 = 0.39% of the
score's magnitude), and ordered like the scores they hold. Where a figure needs more than a cell's
count, the engine looks at the exact values inside that one cell (see
:mod:`faceaudit.stats.scoreset`).
"""

from __future__ import annotations

import numpy as np

CELL_BITS = 20
N_CELLS = 1 << CELL_BITS
_SHIFT = np.uint64(64 - CELL_BITS)
_SIGN = np.int64(-(2**63))


def order_keys(values: np.ndarray) -> np.ndarray:
    """Order-preserving uint64 keys of ``values`` (as float64; ``-0.0`` becomes ``0.0``)."""
    x = np.array(values, dtype=np.float64, copy=True)
    x += 0.0  # folds -0.0 into +0.0 (IEEE-754)
    bits = x.view(np.int64)
    key = bits >> 63  # -1 for negative scores, 0 otherwise
    key |= _SIGN
    key ^= bits  # negative: all bits inverted; non-negative: sign bit set
    return key.view(np.uint64)


def cells_of(values: np.ndarray) -> np.ndarray:
    """Cell index (intp, in ``[0, N_CELLS)``) of each value."""
    key = order_keys(values)
    key >>= _SHIFT
    return key.view(np.intp)


def cell_of(value: float) -> int:
    """Cell index of one value."""
    return int(cells_of(np.array([value], dtype=np.float64))[0])


def _key_to_value(key: np.ndarray) -> np.ndarray:
    key = np.asarray(key, dtype=np.uint64).view(np.int64)
    bits = np.where(key < 0, key ^ _SIGN, ~key)
    return bits.view(np.float64)


def cell_lower_edge(cell: np.ndarray | int) -> np.ndarray:
    """Smallest float64 value whose cell is ``cell`` (for cells of finite values).

    For an order-preserving key the smallest key of a cell is ``cell << shift``; its value is the
    lower edge. Cells of NaN bit patterns do not occur (scores are validated finite or ±inf).
    """
    c = np.asarray(cell, dtype=np.uint64)
    edge = _key_to_value(c << _SHIFT)
    return np.where(np.isnan(edge), -np.inf, edge)  # the cell of -inf starts among NaN patterns


def cell_upper_edge(cell: np.ndarray | int) -> np.ndarray:
    """Largest float64 value whose cell is ``cell``."""
    c = np.asarray(cell, dtype=np.uint64)
    last = (c << _SHIFT) | np.uint64((1 << int(_SHIFT)) - 1)
    edge = _key_to_value(last)
    return np.where(np.isnan(edge), np.inf, edge)  # the cell of +inf ends among NaN patterns
