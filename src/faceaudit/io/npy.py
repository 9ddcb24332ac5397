"""NumPy score arrays: two ``.npy`` files of mated and non-mated scores, memory-mapped.

Each file holds a 1-D float (or integer) array, written by ``numpy.save``. Float32 and float64
arrays are returned as their read-only memory maps, never copied, so 10^8 scores cost no memory
beyond the pages the engine touches; integers (and float16) are converted to float64. Every
element must be finite: a NaN or infinite score is refused with its index (there is no way to
mark a failure to acquire in an array; give those in a table with an empty score).
"""

from __future__ import annotations

import os

import numpy as np

from faceaudit.data.scores import ComparisonScores
from faceaudit.errors import InputError
from faceaudit.io._checks import check_file, check_orientation, first_nonfinite
from faceaudit.io._collect import input_file, scores_only

__all__ = ["read_npy"]

PathLike = str | os.PathLike[str]


def _load_npy(path: PathLike, *, kind: str) -> np.ndarray:
    p = check_file(path)
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise InputError(
            f"is not a readable .npy array ({exc}); the file may be truncated or corrupt, or not "
            "written by numpy.save.",
            path=path,
        ) from None
    if not isinstance(arr, np.ndarray):
        if hasattr(arr, "close"):
            arr.close()
        raise InputError(
            "is an .npz archive, not a .npy array; save each score array with numpy.save.",
            path=path,
        )
    if arr.ndim != 1:
        raise InputError(
            f"holds an array of shape {arr.shape}; a 1-D array of "
            f"{kind.replace('nonm', 'non-m')} scores is needed (save array.ravel()).",
            path=path,
        )
    if arr.shape[0] == 0:
        label = "mated" if kind == "mated" else "non-mated"
        raise InputError(f"holds no scores; the {label} score array is empty.", path=path)
    dt = arr.dtype
    if dt.kind == "f":
        if dt.itemsize not in (4, 8):
            arr = arr.astype(np.float64)
    elif dt.kind in "iu":
        arr = arr.astype(np.float64)
    else:
        raise InputError(
            f"holds {dt} values; scores must be floating-point (or integer) numbers.", path=path
        )
    bad = first_nonfinite(arr)
    if bad is not None:
        what = "NaN" if np.isnan(arr[bad]) else "infinite"
        raise InputError(
            f"score {float(arr[bad])!r} is {what}; every score in a .npy file must be a finite "
            "number (drop failures to acquire, or give them in a table with an empty score).",
            path=path,
            record=f"element {bad} (0-based)",
        )
    return arr


def read_npy(
    mated_path: PathLike, nonmated_path: PathLike, *, orientation: str = "similarity"
) -> ComparisonScores:
    """Read mated and non-mated scores from two ``.npy`` files.

    The arrays are memory-mapped read-only and returned as they are (float32 or float64, never
    copied); integer arrays (and float16) are converted to float64. With
    ``orientation="distance"`` the negated arrays are new in-memory copies.

    Raises
    ------
    InputError
        For a file that is not a readable .npy array (truncated, corrupt, pickled, .npz), not
        1-D, empty, of a non-numeric dtype, or holding a NaN/infinite element (its index is
        named).
    """
    orientation = check_orientation(orientation)
    mated = _load_npy(mated_path, kind="mated")
    nonmated = _load_npy(nonmated_path, kind="nonmated")
    if orientation == "distance":
        mated = np.negative(mated)
        nonmated = np.negative(nonmated)
    inputs = [
        input_file(mated_path, int(mated.shape[0])),
        input_file(nonmated_path, int(nonmated.shape[0])),
    ]
    return scores_only(mated, nonmated, orientation=orientation, inputs=inputs)
