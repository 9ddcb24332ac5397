"""Face embeddings with their subjects, validated once whatever their origin (file, model, synth).

Bad arrays raise :class:`faceaudit.errors.InputError` naming the source (``path``), the row
(``embeddings[i]``, 0-based, for arrays and ``.npz``; ``row i``, 1-based, for Parquet) and the
problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceaudit.data.inputs import InputFile
from faceaudit.errors import InputError

__all__ = ["EmbeddingSet", "validate_embeddings"]

_BLOCK = 1 << 16  # rows per block when checking and normalising


@dataclass(frozen=True)
class EmbeddingSet:
    """Embeddings of samples with their subjects.

    Attributes
    ----------
    embeddings : ndarray, float32, shape (n, d)
        L2-normalised unless read with ``normalise=False``.
    subjects : ndarray of str, shape (n,)
    samples : ndarray of str, shape (n,)
        Unique sample ids.
    groups : ndarray of str or None
    path : str or None
        Where the set was read from.
    metadata : dict
        File metadata; ``metadata.get("synthetic")`` is True for :mod:`faceaudit.synth` output.
    inputs : tuple of InputFile
        The file(s) the set was read from, with checksums (empty for arrays made in memory).
    warnings : tuple of str
        Data-quality findings about the set, with counts (e.g. duplicate vectors).
    """

    embeddings: np.ndarray
    subjects: np.ndarray
    samples: np.ndarray
    groups: np.ndarray | None = None
    path: str | None = None
    metadata: dict = field(default_factory=dict)
    inputs: tuple[InputFile, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))

    def subset(self, index: np.ndarray) -> EmbeddingSet:
        """Rows selected by a boolean mask or an index array (copies the selected rows)."""
        return EmbeddingSet(
            self.embeddings[index],
            self.subjects[index],
            self.samples[index],
            None if self.groups is None else self.groups[index],
            self.path,
            self.metadata,
            self.inputs,
            self.warnings,
        )

    @classmethod
    def from_arrays(
        cls,
        embeddings: np.ndarray,
        subjects,
        *,
        samples=None,
        groups=None,
        metadata: dict | None = None,
        normalise: bool = True,
        path: str | None = None,
    ) -> EmbeddingSet:
        """Validate arrays (as :func:`read_embeddings` does) and build a set."""
        emb, subj, samp, grp = validate_embeddings(
            embeddings,
            subjects,
            samples,
            groups,
            path=path,
            npz=True,
            normalise=normalise,
            copy=True,
        )
        return cls(emb, subj, samp, grp, path, dict(metadata or {}))


def _where(i: int, npz: bool) -> str:
    return f"embeddings[{i}]" if npz else f"row {i + 1}"


def _narrow(arr: np.ndarray) -> np.ndarray:
    """A fixed-width str array at the width of its longest value (files may over-allocate)."""
    arr = arr.astype(str, copy=False)
    if arr.size and arr.dtype.kind == "U":
        width = max(1, int(np.strings.str_len(arr).max()))
        if width * 4 < arr.dtype.itemsize:
            arr = arr.astype(f"<U{width}")
    return arr


def _as_str_array(values, name: str, path, npz: bool) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return _narrow(arr)
    if arr.dtype.kind == "f":
        raise InputError(
            f"{name} are floating-point numbers; subject and sample ids must be strings or "
            "integers.",
            path=path,
        )
    if arr.dtype.kind == "O":
        bad = [i for i, v in enumerate(arr) if not isinstance(v, str | int | np.integer)]
        if bad:
            raise InputError(
                f"{name} must be strings or integers; {_where(bad[0], npz)} holds {arr[bad[0]]!r}.",
                path=path,
            )
    return _narrow(arr)


def validate_embeddings(
    embeddings, subjects, samples, groups, *, path, npz: bool, normalise: bool, copy: bool = False
):
    emb = np.asarray(embeddings)
    if emb.ndim != 2:
        raise InputError(
            f"embeddings must be a 2-d array (one row per sample), got shape {emb.shape}.",
            path=path,
        )
    if emb.dtype.kind not in "fiu":
        raise InputError(
            f"embeddings must be numbers, got dtype {emb.dtype}.",
            path=path,
        )
    n, d = emb.shape
    if n == 0 or d == 0:
        raise InputError(f"the file holds no embeddings (shape {emb.shape}).", path=path)
    if copy or emb.dtype != np.float32 or not emb.flags.writeable or not emb.flags.c_contiguous:
        emb = np.array(emb, dtype=np.float32, order="C")  # ours to normalise in place
    # row norms, in blocks (no full-size temporary); NaN/inf rows give non-finite norms
    norms = np.empty(n, dtype=np.float64)
    for start in range(0, n, _BLOCK):
        block = emb[start : start + _BLOCK]
        norms[start : start + block.shape[0]] = np.sqrt(
            np.einsum("ij,ij->i", block, block, dtype=np.float64)
        )
    finite = np.isfinite(norms)
    if not finite.all():
        i = int(np.argmin(finite))
        raise InputError(
            f"{_where(i, npz)} contains a NaN or infinite value; remove that sample or fix it.",
            path=path,
        )
    subj = _as_str_array(subjects, "subjects", path, npz)
    if subj.ndim != 1 or subj.shape[0] != n:
        raise InputError(
            f"subjects has shape {subj.shape} but embeddings has {n} rows; give one subject per "
            "embedding row.",
            path=path,
        )
    empty = np.char.str_len(subj) == 0
    if empty.any():
        i = int(np.argmax(empty))
        raise InputError(f"{_where(i, npz)} has an empty subject id.", path=path)
    if samples is None:
        samp = _narrow(np.arange(n))
    else:
        samp = _as_str_array(samples, "samples", path, npz)
        if samp.shape != (n,):
            raise InputError(
                f"samples has shape {samp.shape}; give one sample id per embedding row ({n}).",
                path=path,
            )
        ordered = np.sort(samp)  # one copy; locations are looked up only on failure
        same = ordered[1:] == ordered[:-1]
        if same.any():
            dup = ordered[1:][np.argmax(same)]
            rows = np.nonzero(samp == dup)[0][:2]
            raise InputError(
                f"sample id {str(dup)!r} appears more than once ({_where(int(rows[0]), npz)} and "
                f"{_where(int(rows[1]), npz)}); sample ids must be unique.",
                path=path,
            )
    grp = None
    if groups is not None:
        grp = _as_str_array(groups, "groups", path, npz)
        if grp.shape != (n,):
            raise InputError(
                f"groups has shape {grp.shape}; give one group per embedding row ({n}).",
                path=path,
            )
    if normalise:
        zero = norms == 0
        if zero.any():
            i = int(np.argmax(zero))
            raise InputError(
                f"{_where(i, npz)} is the zero vector, which has no direction to compare; remove "
                "that sample.",
                path=path,
            )
        for start in range(0, n, _BLOCK):
            emb[start : start + _BLOCK] /= norms[start : start + _BLOCK, None].astype(np.float32)
    return emb, subj, samp, grp
