"""The same photos through several models: every pair of images, scored by each (``audit
--model A --model B``).

Each model embedded the same image set (:class:`~faceaudit.embedding.result.EmbeddingResult`,
one per model). The compared comparisons are **all pairs of distinct images** ``(i, j), i < j``
of the set, in the set's order: mated when both images are of one subject. A pair's score in a
model is the cosine similarity of its two embeddings (rows are L2-normalised), or NaN when the
model could not embed one of the two images (a failure to acquire of that model on that pair:
models fail on different photos, and the comparison of systems counts it, as ``compare`` does).
Subjects are shared by construction, so one subject bootstrap draws the same people for every
model (:mod:`faceaudit.analyses.system_comparison`).

All pairs of ``n`` images are ``n (n - 1) / 2`` comparisons, held in memory once per model
(8 bytes each, plus 8 for the two subject codes): :data:`MAX_PAIRS` bounds it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceaudit.data.paired_scores import Coverage, PairedScores, SystemCoverage

__all__ = ["MAX_PAIRS", "paired_image_scores"]

#: Most image pairs compared across models (about 160 MB per model at this size).
MAX_PAIRS = 20_000_000

_BLOCK = 1024  # rows of the similarity matrix computed at once


def _images(results) -> tuple[list[str], list[str]]:
    """Every attempted image (sample id) and its subject, in the first model's input order."""
    r0 = results[0]
    order = {}
    for s, subj in zip(r0.samples.tolist(), r0.subjects.tolist(), strict=True):
        order[str(s)] = str(subj)
    for f in r0.failures:
        order.setdefault(str(f.image), str(f.subject))
    samples = list(order)
    for r, in_r in ((r, {str(s) for s in r.samples} | {str(f.image) for f in r.failures})
                    for r in results[1:]):  # fmt: skip
        if in_r != set(samples):
            raise ValueError(
                f"model {r.model.id!r} was run on other images than {r0.model.id!r}; "
                "compare models on one image set"
            )
    return samples, [order[s] for s in samples]


def _matrix(result, index: dict[str, int], n: int) -> np.ndarray:
    """``(n, dim)`` float32 embeddings in image order, NaN rows for the model's failures."""
    e = np.full((n, result.embeddings.shape[1]), np.nan, dtype=np.float32)
    rows = [index[str(s)] for s in result.samples.tolist()]
    e[rows] = result.embeddings
    return e


def _pair_scores(e: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair ``i < j``, row by row (the order of ``triu_indices``)."""
    n = e.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    at = 0
    for a in range(0, n, _BLOCK):
        block = e[a : a + _BLOCK] @ e.T  # NaN rows give NaN scores
        for r in range(block.shape[0]):
            i = a + r
            row = block[r, i + 1 :]
            out[at : at + row.size] = row
            at += row.size
    return out


def paired_image_scores(results: Sequence, names: Sequence[str]) -> PairedScores:
    """Every pair of images of one image set, scored by each model (see the module docstring).

    Parameters
    ----------
    results : sequence of EmbeddingResult
        One per model, on the same images.
    names : sequence of str
        One distinct name per model.

    Raises
    ------
    ValueError
        Fewer than two models, models run on different images, or more than
        :data:`MAX_PAIRS` pairs.
    """
    if len(results) < 2 or len(results) != len(names):
        raise ValueError("comparing models needs at least two embedding results, one name each")
    samples, subjects = _images(results)
    n = len(samples)
    n_pairs = n * (n - 1) // 2
    if n_pairs > MAX_PAIRS:
        raise ValueError(
            f"{n:,} images make {n_pairs:,} pairs, more than {MAX_PAIRS:,} held in memory per "
            "model; compare the models on a sample of the images, or embed them and compare "
            "score tables of the pairs you need"
        )
    index = {s: k for k, s in enumerate(samples)}
    names_sorted, codes = np.unique(np.asarray(subjects, dtype=str), return_inverse=True)
    i, j = np.triu_indices(n, 1)
    ps, rs = codes[i].astype(np.int32), codes[j].astype(np.int32)
    mated = ps == rs
    scores = tuple(_pair_scores(_matrix(r, index, n)) for r in results)
    systems = tuple(
        SystemCoverage(str(name), int(np.count_nonzero(~np.isnan(s))), 0)
        for name, s in zip(names, scores, strict=True)
    )
    cov = Coverage("image pairs", int(n_pairs), int(mated.sum()), int((~mated).sum()), systems)
    return PairedScores(
        names=tuple(str(x) for x in names),
        scores=scores,
        mated=mated,
        probe_subject=ps,
        reference_subject=rs,
        subjects=[str(x) for x in names_sorted],
        orientation="similarity",
        coverage=cov,
    )
