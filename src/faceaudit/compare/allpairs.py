"""All-vs-all comparison of embeddings, streamed in blocks (never an N x N matrix).

Every unordered pair of distinct samples ``i < j`` is compared once; no sample is compared with
itself. The score is the cosine similarity of L2-normalised embeddings, i.e. their inner product
(higher = more similar; a match when ``score >= threshold``). A pair is **mated** (genuine) when
both samples have the same subject, **non-mated** (impostor) otherwise.

:func:`all_pairs_scores` streams the blocks of the upper triangle
(:mod:`faceaudit.compare.blocks`, memory ``O(block**2)``) into the
:class:`faceaudit.data.ComparisonScores` the 1:1 engine takes, with subject codes for the
subject bootstrap and, given the failed images' subjects, the comparisons lost to failures to
acquire (for generalised FMR/FNMR, ISO/IEC 19795-1).

Conventions for a non-mated pair ``i < j``: ``nonmated_subject`` is the subject of ``i`` (the
"probe": the earlier sample in input order) and ``nonmated_reference_subject`` that of ``j``.
Output order is deterministic: blocks in row-major order of the upper triangle, pairs row-major
inside a block.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceaudit.errors import InputError

__all__ = [
    "DEFAULT_BLOCK",
    "all_pairs_scores",
    "pair_counts",
    "subject_codes",
]

#: Rows per block: a block holds at most 1024 x 1024 scores (8 MiB of float64).
DEFAULT_BLOCK = 1024


def subject_codes(subjects: Sequence) -> tuple[list[str], np.ndarray]:
    """Sorted distinct subject ids and the int32 code of every sample."""
    arr = np.asarray(subjects).astype(str)
    names, codes = np.unique(arr, return_inverse=True)
    return [str(s) for s in names], codes.astype(np.int32).reshape(arr.shape[0])


def pair_counts(subjects: Sequence) -> tuple[int, int]:
    """Exact numbers of mated and non-mated unordered pairs among ``subjects``.

    Examples
    --------
    >>> pair_counts(["a", "a", "b"])
    (1, 2)
    """
    _, codes = subject_codes(subjects)
    per = np.bincount(codes).astype(np.int64)
    n = int(per.sum())
    mated = int((per * (per - 1) // 2).sum())
    return mated, n * (n - 1) // 2 - mated


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


def all_pairs_scores(
    embeddings: np.ndarray,
    subjects: Sequence,
    *,
    block: int = DEFAULT_BLOCK,
    failed_subjects: Sequence | None = None,
    dtype: type = np.float64,
):
    """All-vs-all mated and non-mated scores as a ``ComparisonScores`` for the 1:1 engine.

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
        counted exactly into ``mated_fta`` / ``nonmated_fta`` (the comparisons that would have
        involved at least one failed image), for generalised FMR/FNMR.
    dtype : numpy float type
        Precision of the inner products: float64 (the default; scores exact to ~1e-15) or
        float32 (half the time on huge sets, ~1e-7).

    Returns
    -------
    faceaudit.data.ComparisonScores
        ``mated``/``nonmated`` float64; ``mated_subject``, ``nonmated_subject`` (probe: the
        earlier sample), ``nonmated_reference_subject`` int32 codes into ``subjects`` (sorted
        distinct ids of the embedded samples); ``orientation="similarity"``.

    Raises
    ------
    InputError
        Shape mismatch, embeddings that are not unit vectors, no mated pair (every subject has
        one sample) or no non-mated pair (a single subject).

    Examples
    --------
    >>> e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> s = all_pairs_scores(e, ["a", "a", "b"])
    >>> s.mated.tolist(), s.nonmated.tolist(), s.subjects
    ([1.0], [0.0, 0.0], ['a', 'b'])
    """
    from faceaudit.compare.stream import StreamedComparisons

    precision = "float32" if np.dtype(dtype) == np.float32 else "float64"
    comps = StreamedComparisons(
        embeddings, subjects, block=block, precision=precision, failed_subjects=failed_subjects
    )
    with comps:
        return comps.to_comparison_scores()
