"""All-vs-all comparison of embeddings, streamed in blocks (never an N x N matrix).

Every unordered pair of distinct samples ``i < j`` is compared once; no sample is compared with
itself. The score is the cosine similarity of L2-normalised embeddings, i.e. their inner product
(higher = more similar; a match when ``score >= threshold``). A pair is **genuine** (mated) when
both samples have the same subject, **impostor** (non-mated) otherwise.

:func:`iter_all_pairs` yields one :class:`PairBlock` per block of the upper triangle (memory
``O(block**2)``), ready for a mergeable score summary; :func:`all_pairs_scores` gathers them into
the :class:`faceaudit.data.ComparisonScores` the 1:1 engine takes, with subject codes for the
subject bootstrap and, given the failed images' subjects, the comparisons lost to failures to
acquire (for generalised FMR/FNMR, ISO/IEC 19795-1).

Conventions for an impostor pair ``i < j``: ``impostor_subject`` is the subject of ``i`` (the
"probe": the earlier sample in input order) and ``impostor_reference_subject`` that of ``j``.
Output order is deterministic: blocks in row-major order of the upper triangle, pairs row-major
inside a block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.errors import InputError

__all__ = [
    "DEFAULT_BLOCK",
    "PairBlock",
    "all_pairs_scores",
    "iter_all_pairs",
    "pair_counts",
    "subject_codes",
]

#: Rows per block: a block holds at most 1024 x 1024 scores (8 MiB of float64).
DEFAULT_BLOCK = 1024


@dataclass(frozen=True)
class PairBlock:
    """The scores of one block of pairs, split into genuine and impostor.

    Attributes
    ----------
    genuine : ndarray, float64
    genuine_subject : ndarray, int32
        Subject code of each genuine pair.
    impostor : ndarray, float64
    impostor_subject, impostor_reference_subject : ndarray, int32
        Subject codes of the earlier (probe) and later (reference) sample of each impostor pair.
    """

    genuine: np.ndarray
    genuine_subject: np.ndarray
    impostor: np.ndarray
    impostor_subject: np.ndarray
    impostor_reference_subject: np.ndarray


def subject_codes(subjects: Sequence) -> tuple[list[str], np.ndarray]:
    """Sorted distinct subject ids and the int32 code of every sample."""
    arr = np.asarray(subjects).astype(str)
    names, codes = np.unique(arr, return_inverse=True)
    return [str(s) for s in names], codes.astype(np.int32).reshape(arr.shape[0])


def pair_counts(subjects: Sequence) -> tuple[int, int]:
    """Exact numbers of genuine and impostor unordered pairs among ``subjects``.

    Examples
    --------
    >>> pair_counts(["a", "a", "b"])
    (1, 2)
    """
    _, codes = subject_codes(subjects)
    per = np.bincount(codes).astype(np.int64)
    n = int(per.sum())
    genuine = int((per * (per - 1) // 2).sum())
    return genuine, n * (n - 1) // 2 - genuine


def _check(embeddings: np.ndarray, n_subjects: int) -> np.ndarray:
    x = np.asarray(embeddings)
    if x.ndim != 2 or x.shape[0] != n_subjects:
        raise InputError(
            f"embeddings have shape {x.shape} but {n_subjects} subject ids were given; give one "
            "row per sample and one subject per row."
        )
    if x.dtype.kind != "f":
        raise InputError(f"embeddings must be floating point, got {x.dtype}.")
    norms = np.einsum("ij,ij->i", x, x, dtype=np.float64)
    bad = ~np.isfinite(norms) | (np.abs(norms - 1.0) > 1e-3)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"embedding row {i} has squared norm {norms[i]:.6g}, not 1; L2-normalise the "
            "embeddings first (cosine similarity is the inner product of unit vectors)."
        )
    return x


def iter_all_pairs(
    embeddings: np.ndarray,
    codes: np.ndarray,
    *,
    block: int = DEFAULT_BLOCK,
    dtype: type = np.float64,
) -> Iterator[PairBlock]:
    """Stream the all-vs-all scores of L2-normalised embeddings, block by block.

    Parameters
    ----------
    embeddings : ndarray, shape (n, d)
        L2-normalised rows (not checked here; :func:`all_pairs_scores` checks).
    codes : ndarray of int, shape (n,)
        Subject code of each row (see :func:`subject_codes`).
    block : int
        Rows per block; memory is about ``17 * block**2`` bytes.
    dtype : numpy float type
        Precision of the inner products (float64 by default: scores exact to ~1e-15; float32
        halves the time for huge sets, at ~1e-7). The same inputs and block size give bit-identical
        scores; another block size may change the last bit (BLAS sums in another order).

    Yields
    ------
    PairBlock
        For blocks ``a <= b`` of rows, the pairs ``i < j`` with ``i`` in ``a`` and ``j`` in ``b``.
    """
    if block < 1:
        raise ValueError("block must be >= 1")
    x = np.asarray(embeddings)
    codes = np.asarray(codes, dtype=np.int32)
    n = x.shape[0]
    tri: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for a in range(0, n, block):
        xa = np.ascontiguousarray(x[a : a + block], dtype=dtype)
        ca = codes[a : a + block]
        for b in range(a, n, block):
            xb = xa if b == a else np.ascontiguousarray(x[b : b + block], dtype=dtype)
            cb = codes[b : b + block]
            s = xa @ xb.T
            if a == b:
                m = len(ca)
                if m not in tri:
                    tri[m] = np.triu_indices(m, 1)
                rows, cols = tri[m]
                scores = s[rows, cols].astype(np.float64, copy=False)
                pa, pb = ca[rows], cb[cols]
            else:
                scores = s.reshape(-1).astype(np.float64, copy=False)
                pa = np.repeat(ca, len(cb))
                pb = np.tile(cb, len(ca))
            same = pa == pb
            diff = ~same
            yield PairBlock(scores[same], pa[same], scores[diff], pa[diff], pb[diff])


def all_pairs_scores(
    embeddings: np.ndarray,
    subjects: Sequence,
    *,
    block: int = DEFAULT_BLOCK,
    failed_subjects: Sequence | None = None,
    dtype: type = np.float64,
):
    """All-vs-all genuine and impostor scores as a ``ComparisonScores`` for the 1:1 engine.

    Parameters
    ----------
    embeddings : ndarray, shape (n, d)
        L2-normalised embeddings (checked: every squared norm within 1e-3 of 1).
    subjects : sequence of str, length n
        Subject id of each row.
    block : int
        Rows per block (memory ``O(block**2)`` on top of the output arrays; rounded up to a
        multiple of 256). The blocks are those of :mod:`faceaudit.compare.blocks`, computed where
        the executor in force says (in-process by default, or a Dask cluster); the scores have
        the same bits whatever the block size or worker.
    failed_subjects : sequence of str, optional
        Subjects of the images that failed to acquire (no embedding). Their lost comparisons are
        counted exactly into ``genuine_fta`` / ``impostor_fta`` (the comparisons that would have
        involved at least one failed image), for generalised FMR/FNMR.
    dtype : numpy float type
        Precision of the inner products (see :func:`iter_all_pairs`).

    Returns
    -------
    faceaudit.data.ComparisonScores
        ``genuine``/``impostor`` float64; ``genuine_subject``, ``impostor_subject`` (probe: the
        earlier sample), ``impostor_reference_subject`` int32 codes into ``subjects`` (sorted
        distinct ids of the embedded samples); ``orientation="similarity"``.

    Raises
    ------
    InputError
        Shape mismatch, embeddings that are not unit vectors, no genuine pair (every subject has
        one sample) or no impostor pair (a single subject).

    Examples
    --------
    >>> e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> s = all_pairs_scores(e, ["a", "a", "b"])
    >>> s.genuine.tolist(), s.impostor.tolist(), s.subjects
    ([1.0], [0.0, 0.0], ['a', 'b'])
    """
    from faceaudit.compare.stream import StreamedComparisons

    precision = "float32" if np.dtype(dtype) == np.float32 else "float64"
    comps = StreamedComparisons(
        embeddings, subjects, block=block, precision=precision, failed_subjects=failed_subjects
    )
    with comps:
        return comps.to_comparison_scores()
