"""Benchmark K-fold verification accuracy: the figure LFW, CFP and AgeDB-30 results are quoted in.

The convention (LFW README, "Test procedure"; the "unrestricted" 10-fold protocol as insightface,
facenet and FaceX-Zoo compute it): for each fold in turn, the threshold is chosen on the other
folds (the one with the highest training accuracy), and the held-out fold's pairs are classified
with it; the figure is the **mean of the fold accuracies**, with their spread. Spread is reported
three ways because the literature uses all three: the population standard deviation (``ddof=0``,
``np.std`` in insightface's and facenet's ``verification.py``), the sample standard deviation
(``ddof=1``), and the **standard error of the mean** ``sample_std / sqrt(K)``, which is what the
LFW results pages tabulate (``S_E``) and FaceX-Zoo prints.

This is *accuracy at a learned threshold*, a different quantity from the ISO/IEC 19795-1 figures
faceaudit reports everywhere else (FNMR at a fixed FMR, with subject-bootstrap intervals): report
both, and say which is which. Its spread over 10 folds of 600 pairs is not a confidence interval
for a population of people (folds share no one, but the threshold is learned on overlapping
training sets).

Conventions: higher score = more similar; a pair is declared a match when ``score >= threshold``.
A pair without a score (``NaN``: a failure to acquire) is declared a non-match in its test fold
(an error if mated, correct if not, as ISO's generalised rates count it) and takes no part in
choosing thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FoldAccuracy", "best_accuracy_threshold", "cross_validated_accuracy"]


def best_accuracy_threshold(scores, mated) -> tuple[float, int]:
    """The threshold that classifies the most pairs correctly, and how many it gets right.

    Every threshold between two consecutive distinct scores makes the same decisions, so the
    candidates are the intervals between them. Of the intervals with the most correct decisions
    the **highest** (strictest) is chosen, and the threshold returned is its midpoint (the
    largest score's interval has none above it: the threshold is then just above the largest
    score; the lowest interval, "everything matches", returns the smallest score). insightface's
    ``calculate_roc`` picks, at 0.01 resolution in squared distance, a point of the same strictest
    interval.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        Finite similarity scores.
    mated : array-like of bool, shape (n,)

    Returns
    -------
    threshold : float
    correct : int
        Pairs classified correctly at ``threshold`` (``score >= threshold`` means match).

    Examples
    --------
    >>> best_accuracy_threshold([0.125, 0.5, 0.375, 0.75], [False, False, True, True])
    (0.625, 3)
    """
    s = np.asarray(scores, dtype=np.float64)
    m = np.asarray(mated, dtype=bool)
    if s.ndim != 1 or m.shape != s.shape:
        raise ValueError("scores and mated must be 1-d arrays of one length")
    if s.size == 0:
        raise ValueError("no scores to choose a threshold from")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    u, inv = np.unique(s, return_inverse=True)
    inv = inv.reshape(-1)
    pos = np.bincount(inv[m], minlength=u.size)
    neg = np.bincount(inv[~m], minlength=u.size)
    # candidate j = 0..m: threshold u[j] (u[m] = +inf); mated >= u[j], non-mated < u[j]
    mated_ge = np.concatenate([np.cumsum(pos[::-1])[::-1], [0]])
    nonmated_lt = np.concatenate([[0], np.cumsum(neg)])
    correct = mated_ge + nonmated_lt
    j = int(np.flatnonzero(correct == correct.max())[-1])
    if j == u.size:
        t = float(np.nextafter(u[-1], np.inf))
    elif j == 0:
        t = float(u[0])
    else:
        t = float((u[j - 1] + u[j]) / 2.0)
        if not u[j - 1] < t <= u[j]:  # adjacent floats: the midpoint rounds onto an end
            t = float(u[j])
    return t, int(correct[j])


@dataclass(frozen=True)
class FoldAccuracy:
    """Accuracy of each held-out fold at the threshold chosen on the others.

    Attributes
    ----------
    folds : ndarray of int64, shape (K,)
        Fold ids, ascending.
    thresholds : ndarray of float64, shape (K,)
        The threshold chosen on the other folds for each fold.
    n, n_mated, correct, false_matches, false_non_matches, fta : ndarray of int64, shape (K,)
        Per test fold: pairs, mated pairs, correct decisions, non-mated pairs declared matches,
        mated pairs declared non-matches (FTA included), pairs without a score.
    train_accuracy : ndarray of float64, shape (K,)
        Accuracy of each threshold on its own training folds.
    """

    folds: np.ndarray
    thresholds: np.ndarray
    n: np.ndarray
    n_mated: np.ndarray
    correct: np.ndarray
    false_matches: np.ndarray
    false_non_matches: np.ndarray
    fta: np.ndarray
    train_accuracy: np.ndarray

    @property
    def k(self) -> int:
        return int(self.folds.size)

    @property
    def accuracy(self) -> np.ndarray:
        """Per-fold accuracy ``correct / n``."""
        return self.correct / self.n

    @property
    def mean(self) -> float:
        """Mean of the fold accuracies (the benchmark figure)."""
        return float(np.mean(self.accuracy))

    @property
    def std(self) -> float:
        """Population standard deviation of the fold accuracies (``ddof=0``; insightface)."""
        return float(np.std(self.accuracy))

    @property
    def sample_std(self) -> float:
        """Sample standard deviation (``ddof=1``); NaN for one fold."""
        return float(np.std(self.accuracy, ddof=1)) if self.k > 1 else float("nan")

    @property
    def standard_error(self) -> float:
        """Standard error of the mean, ``sample_std / sqrt(K)`` (LFW's ``S_E``; FaceX-Zoo)."""
        return self.sample_std / float(np.sqrt(self.k))

    @property
    def pooled_accuracy(self) -> float:
        """All test decisions together: ``sum(correct) / sum(n)``."""
        return float(self.correct.sum() / self.n.sum())

    def to_json(self) -> dict:
        def ints(a):
            return [int(v) for v in a]

        return {
            "convention": "threshold of maximum accuracy on the other folds (score >= t: match)",
            "k": self.k,
            "mean_accuracy": self.mean,
            "std": self.std,
            "sample_std": None if self.k < 2 else self.sample_std,
            "standard_error": None if self.k < 2 else self.standard_error,
            "pooled_accuracy": self.pooled_accuracy,
            "folds": [
                {
                    "fold": int(f),
                    "threshold": float(t),
                    "accuracy": float(a),
                    "train_accuracy": float(ta),
                    "n": int(n),
                    "n_mated": int(nm),
                    "correct": int(c),
                    "false_matches": int(fm),
                    "false_non_matches": int(fnm),
                    "fta": int(x),
                }
                for f, t, a, ta, n, nm, c, fm, fnm, x in zip(
                    ints(self.folds),
                    self.thresholds,
                    self.accuracy,
                    self.train_accuracy,
                    self.n,
                    self.n_mated,
                    self.correct,
                    self.false_matches,
                    self.false_non_matches,
                    self.fta,
                    strict=True,
                )
            ],
        }


def cross_validated_accuracy(scores, mated, folds) -> FoldAccuracy:
    """K-fold accuracy with the threshold chosen on the other folds (LFW's 10-fold protocol).

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        Similarity scores, ``NaN`` for a failure to acquire (a non-match decision).
    mated : array-like of bool, shape (n,)
    folds : array-like of int, shape (n,)
        Fold of each pair (at least two distinct positive ids), e.g.
        :attr:`faceaudit.data.protocols.PairProtocol.folds`.

    Returns
    -------
    FoldAccuracy
        ``.mean`` and ``.std`` (or ``.standard_error``) are the published figures.

    Raises
    ------
    ValueError
        Arrays of different lengths; infinite scores; fewer than two folds; a fold whose
        training folds hold no score.

    Examples
    --------
    >>> r = cross_validated_accuracy(
    ...     [0.9, 0.2, 0.8, 0.3, 0.7, 0.75], [True, False, True, False, True, False],
    ...     [1, 1, 2, 2, 3, 3])
    >>> r.correct.tolist(), round(r.mean, 4)
    ([2, 1, 1], 0.6667)
    """
    s = np.asarray(scores, dtype=np.float64)
    m = np.asarray(mated, dtype=bool)
    f = np.asarray(folds)
    if s.ndim != 1 or m.shape != s.shape or f.shape != s.shape:
        raise ValueError("scores, mated and folds must be 1-d arrays of one length")
    if np.isinf(s).any():
        raise ValueError("scores must be finite (NaN marks a failure to acquire)")
    if f.dtype.kind not in "iu":
        raise ValueError("folds must be integers")
    ids = np.unique(f)
    if ids.size < 2 or ids[0] < 1:
        raise ValueError("need at least two folds, with positive ids")
    scored = ~np.isnan(s)
    cols = {k: np.zeros(ids.size, dtype=np.int64) for k in ("n", "nm", "c", "fm", "fnm", "fta")}
    thresholds = np.empty(ids.size)
    train_acc = np.empty(ids.size)
    for k, fold in enumerate(ids.tolist()):
        test = f == fold
        train = ~test & scored
        if not train.any():
            raise ValueError(f"the folds other than {fold} hold no score to choose a threshold")
        t, right = best_accuracy_threshold(s[train], m[train])
        thresholds[k] = t
        train_acc[k] = right / np.count_nonzero(train)
        match = np.greater_equal(s[test], t, where=scored[test], out=np.zeros(test.sum(), bool))
        mt = m[test]
        cols["n"][k] = mt.size
        cols["nm"][k] = np.count_nonzero(mt)
        cols["c"][k] = np.count_nonzero(match == mt)
        cols["fm"][k] = np.count_nonzero(match & ~mt)
        cols["fnm"][k] = np.count_nonzero(~match & mt)
        cols["fta"][k] = np.count_nonzero(~scored[test])
    return FoldAccuracy(
        folds=ids.astype(np.int64),
        thresholds=thresholds,
        n=cols["n"],
        n_mated=cols["nm"],
        correct=cols["c"],
        false_matches=cols["fm"],
        false_non_matches=cols["fnm"],
        fta=cols["fta"],
        train_accuracy=train_acc,
    )
