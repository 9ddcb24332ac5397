"""What a hit means in the field: outcomes of an encounter, the PPV of a hit, and field logs.

Outcome model of one **encounter**: a field app photographs a person and searches a gallery of
``N`` at threshold ``T`` (NIST FRTE 1:N, NIST IR 8271); it shows its rank-1 candidate when that
candidate scores ``>= T`` (a **hit**). The person is enrolled with probability ``pi``
(**prevalence**). With the 1:N rates of the audit

* a **mated** search (person enrolled, probability ``pi``) gives a correct hit with probability
  ``1 - FNIR(N, 1, T)``; a **wrong-person hit** with probability ``W = wrong_top1(T)`` (rank 1 is
  someone else with score ``>= T``: one way of missing the mate); no hit with the rest,
  ``FNIR(N, 1, T) - W`` (so ``W <= FNIR`` must hold);
* a **non-mated** search (not enrolled, probability ``1 - pi``) gives a wrong hit with probability
  ``FPIR(N, T)`` (any candidate ``>= T`` puts one at rank 1) and no hit otherwise.

Per encounter (the five shares sum to 1)::

    correct_hit        = pi (1 - FNIR)
    wrong_hit_mated    = pi W
    mated_no_hit       = pi (FNIR - W)
    wrong_hit_nonmated = (1 - pi) FPIR
    nonmated_no_hit    = (1 - pi) (1 - FPIR)

and, by Bayes' rule, the positive predictive value of a hit (the chance that the person shown is
the person photographed)::

    PPV = correct_hit / (correct_hit + wrong_hit_mated + wrong_hit_nonmated)

undefined (NaN) when no hit is expected at all. False discovery = 1 - PPV; "1 in X hits is the
wrong person" with X = 1 / (1 - PPV). A **miss** (enrolled person not found) is
``pi FNIR = wrong_hit_mated + mated_no_hit``.

Every function is numpy-vectorised and broadcasts: the same call serves a point estimate, a vector
of bootstrap replicates, and a prevalence grid (``prevalence[None, :]`` against replicates
``[:, None]`` gives a replicates x grid table).

**Field logs** (:mod:`faceaudit.stats.field_log`): counts a deployment discloses (alerts, alerts
confirmed wrong, faces scanned, watchlist size) give the PPV of an alert and false alerts per face
with exact Clopper-Pearson intervals, and, under the independence model of
:mod:`faceaudit.stats.gallery_fpir` (``FPIR(N) = 1 - (1 - FMR)^N``), the per-comparison FMR they
imply and its extrapolation to other gallery sizes.

References
----------
ISO/IEC 19795-1:2021, Biometric performance testing and reporting, Part 1.
P. Grother, M. Ngan, K. Hanaoka, *Face Recognition Vendor Test (FRVT) Part 2: Identification*,
NIST IR 8271 (2019), and NIST FRTE 1:N reports (FPIR, FNIR, investigation vs identification mode).
C. J. Clopper, E. S. Pearson, "The use of confidence or fiducial limits illustrated in the case of
the binomial", Biometrika 26(4), 1934.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faceaudit.errors import InputError
from faceaudit.params import number_array
from faceaudit.stats.gallery_fpir import fmr_for_fpir, fpir_from_fmr

__all__ = [
    "DAYS_PER_YEAR",
    "EncounterOutcomes",
    "Estimate",
    "encounter_outcomes",
    "gallery_extrapolation",
    "hit_ppv",
    "count_replicates",
    "implied_fmr",
    "wrong_one_in",
]

DAYS_PER_YEAR = 365
_SLACK = 1e-12  # rounding allowed in W <= FNIR (both are counts over the same mated searches)


# --------------------------------------------------------------------------- encounters


@dataclass(frozen=True, eq=False)
class EncounterOutcomes:
    """Shares of encounters by outcome (or expected counts, after :meth:`scaled`).

    Arrays broadcast from the inputs of :func:`encounter_outcomes`; see the module docstring for
    the formulas. ``correct_hit + wrong_hit_mated + mated_no_hit + wrong_hit_nonmated +
    nonmated_no_hit`` is 1 per encounter.
    """

    correct_hit: np.ndarray
    wrong_hit_mated: np.ndarray
    mated_no_hit: np.ndarray
    wrong_hit_nonmated: np.ndarray
    nonmated_no_hit: np.ndarray

    @property
    def hit(self) -> np.ndarray:
        """All hits: someone is shown."""
        return self.correct_hit + self.wrong_hit_mated + self.wrong_hit_nonmated

    @property
    def wrong_hit(self) -> np.ndarray:
        """Hits that show the wrong person (enrolled or not)."""
        return self.wrong_hit_mated + self.wrong_hit_nonmated

    @property
    def miss(self) -> np.ndarray:
        """Enrolled people not found (a wrong person shown, or no one): ``pi FNIR``."""
        return self.wrong_hit_mated + self.mated_no_hit

    @property
    def ppv(self) -> np.ndarray:
        """Share of hits that show the right person; NaN where no hit is expected."""
        hit = self.hit
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(hit > 0, self.correct_hit / np.where(hit > 0, hit, 1.0), np.nan)

    @property
    def false_discovery(self) -> np.ndarray:
        """Share of hits that show the wrong person, ``1 - PPV``; NaN where no hit is expected."""
        hit = self.hit
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(hit > 0, self.wrong_hit / np.where(hit > 0, hit, 1.0), np.nan)

    def scaled(self, encounters) -> EncounterOutcomes:
        """Expected counts in ``encounters`` encounters (e.g. per day, per year)."""
        e = np.asarray(encounters, dtype=np.float64)
        return EncounterOutcomes(
            self.correct_hit * e,
            self.wrong_hit_mated * e,
            self.mated_no_hit * e,
            self.wrong_hit_nonmated * e,
            self.nonmated_no_hit * e,
        )


def encounter_outcomes(prevalence, *, fpir, fnir, mated_wrong_hit) -> EncounterOutcomes:
    """Outcome shares of one encounter: a search of a gallery of N at threshold T.

    Parameters
    ----------
    prevalence : array_like
        ``pi``: probability that the person encountered is enrolled (a mated search), in [0, 1].
    fpir : array_like
        FPIR(N, T): share of non-mated searches returning a candidate with score ``>= T``.
    fnir : array_like
        FNIR(N, 1, T): share of mated searches whose mate is not at rank 1 with score ``>= T``.
    mated_wrong_hit : array_like
        ``wrong_top1(T)``: share of mated searches whose rank-1 candidate is someone else with
        score ``>= T``. Must not exceed ``fnir`` (it is one way of missing the mate).

    Returns
    -------
    EncounterOutcomes
        Shares broadcast over all inputs (scalars give 0-d arrays).

    Raises
    ------
    faceaudit.errors.InputError
        A value outside [0, 1], or ``mated_wrong_hit > fnir``.

    Notes
    -----
    See the module docstring for the formulas. **Rank R.** For an app that shows a list of the top
    R candidates above T, pass ``fnir`` = FNIR(N, R, T) and ``mated_wrong_hit`` = the share of
    mated searches whose list is not empty but lacks the mate; a "hit" is then a non-empty list
    and PPV the chance that it contains the right person (FPIR does not depend on R). The 1:N
    audit measures the rank-1 quantities; for R > 1 the second one must be measured.

    Examples
    --------
    >>> o = encounter_outcomes(0.1, fpir=0.001, fnir=0.2, mated_wrong_hit=0.05)
    >>> print(f"{o.correct_hit:.4f} {o.wrong_hit_mated:.4f} {o.wrong_hit_nonmated:.4f}")
    0.0800 0.0050 0.0009
    >>> print(f"PPV {o.ppv:.4f}; per 1000 encounters {o.scaled(1000).hit:.1f} hits")
    PPV 0.9313; per 1000 encounters 85.9 hits
    """
    pi = number_array("prevalence", prevalence)
    p = number_array("fpir", fpir)
    f = number_array("fnir", fnir)
    w = number_array("mated_wrong_hit", mated_wrong_hit)
    excess = w - f
    if (excess > _SLACK).any():
        wb, fb = np.broadcast_arrays(w, f)
        i = int(np.flatnonzero(np.broadcast_to(excess, wb.shape) > _SLACK)[0])
        where = f" (at index {i})" if wb.ndim else ""
        w_i, f_i = float(wb.flat[i]), float(fb.flat[i])
        raise InputError(
            f"mated_wrong_hit ({w_i!r}) exceeds fnir ({f_i!r}){where}: a wrong "
            "person at rank 1 is one way of missing the mate, so mated_wrong_hit <= fnir must hold "
            "(pass FNIR at rank 1 with the wrong-at-rank-1 rate of the same searches)."
        )
    return EncounterOutcomes(
        correct_hit=pi * (1.0 - f),
        wrong_hit_mated=pi * w,
        mated_no_hit=pi * np.maximum(f - w, 0.0),
        wrong_hit_nonmated=(1.0 - pi) * p,
        nonmated_no_hit=(1.0 - pi) * (1.0 - p),
    )


def hit_ppv(prevalence, *, fpir, fnir, mated_wrong_hit) -> np.ndarray:
    """Positive predictive value of a hit (Bayes' rule); NaN where no hit is expected.

    ``PPV = pi (1 - FNIR) / (pi (1 - FNIR) + pi W + (1 - pi) FPIR)``; arguments as in
    :func:`encounter_outcomes`.

    Examples
    --------
    >>> print(f"{hit_ppv(0.01, fpir=1e-3, fnir=0.1, mated_wrong_hit=0.01):.3f}")
    0.892
    >>> bool(np.isnan(hit_ppv(0.0, fpir=0.0, fnir=0.1, mated_wrong_hit=0.0)))  # no hits at all
    True
    """
    return encounter_outcomes(prevalence, fpir=fpir, fnir=fnir, mated_wrong_hit=mated_wrong_hit).ppv


def wrong_one_in(ppv) -> np.ndarray:
    """X in "1 in X hits is the wrong person": ``1 / (1 - PPV)``; inf at PPV 1, NaN if undefined.

    Examples
    --------
    >>> wrong_one_in([0.5, 0.75, 1.0]).tolist()
    [2.0, 4.0, inf]
    """
    q = np.asarray(ppv, dtype=np.float64)
    fd = 1.0 - q
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            fd > 0, 1.0 / np.where(fd > 0, fd, 1.0), np.where(np.isnan(q), np.nan, np.inf)
        )


# --------------------------------------------------------------------------- independence model


def implied_fmr(fpir, gallery_size) -> np.ndarray:
    """Per-comparison FMR that gives ``fpir`` at ``gallery_size`` under the independence model.

    ``FMR = 1 - (1 - FPIR)^(1/N)``, computed as ``-expm1(log1p(-FPIR) / N)`` (accurate for FMR
    ~ 1e-12). Monotone increasing in FPIR, so an interval on FPIR maps to one on FMR.

    Notes
    -----
    The model treats the N comparisons of a search as independent with a common FMR. Real
    searches are not (some faces resemble many), so real FPIR grows more slowly with N than the
    model says; validate against measurement where both exist (:mod:`faceaudit.stats.tail`).

    Examples
    --------
    >>> print(f"{implied_fmr(1 / 6000, 10_000):.4e}")  # NPL 2023, watchlist of 10,000
    1.6668e-08
    """
    n = number_array("gallery_size", gallery_size, low=1.0, high=math.inf)
    return fmr_for_fpir(number_array("fpir", fpir), n)


def gallery_extrapolation(fmr, gallery_size) -> tuple[np.ndarray, np.ndarray]:
    """Expected false candidates per non-mated search, ``N FMR``, and ``FPIR(N) = 1-(1-FMR)^N``.

    Both are monotone increasing in FMR (intervals map through). ``N FMR`` counts all
    distractors scoring ``>= T`` (an unlimited candidate list); FPIR is the chance of at least one.

    Examples
    --------
    >>> false_candidates, fpir = gallery_extrapolation(1 / 6e7, 2.7e8)
    >>> print(f"{false_candidates:.2f} {fpir:.4f}")
    4.50 0.9889
    """
    f = number_array("fmr", fmr)
    n = number_array("gallery_size", gallery_size, low=1.0, high=math.inf)
    return n * f, fpir_from_fmr(f, n)


@dataclass(frozen=True)
class Estimate:
    """A derived figure with its interval; ``value`` None (with a ``reason``) when undefined.

    ``ci`` is ``(low, high)`` or None (no interval available; ``reason`` says why if relevant).
    """

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        def num(x):
            return float(x) if x is not None and math.isfinite(x) else None

        ci = None
        if self.ci is not None and all(num(v) is not None for v in self.ci):
            ci = [float(self.ci[0]), float(self.ci[1])]
        return {"value": num(self.value), "ci": ci, "reason": self.reason}


def count_replicates(
    *,
    nonmated_hits: int,
    n_nonmated: int,
    mated_correct: int,
    mated_wrong: int,
    n_mated: int,
    n_boot: int,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint replicates ``(fpir, fnir_rank1, wrong_top1)`` from counts alone (no subject ids).

    When only counts are known (a results file, a published table), the searches are treated as
    independent: FPIR is drawn from its Jeffreys posterior ``Beta(k + 1/2, n - k + 1/2)`` and the
    three outcomes of a mated search (correct hit, wrong person at rank 1, no hit) from their
    Jeffreys posterior ``Dirichlet(counts + 1/2)``, so the mated rates stay consistent
    (``wrong_top1 <= fnir_rank1``) and zero counts still get an honest, non-zero spread. This
    understates uncertainty when searches share people; a subject bootstrap is preferred when
    the searches themselves are at hand.
    """
    rng = np.random.default_rng(seed)
    fpir = rng.beta(nonmated_hits + 0.5, n_nonmated - nonmated_hits + 0.5, size=n_boot)
    no_hit = n_mated - mated_correct - mated_wrong
    if no_hit < 0:
        raise InputError(
            f"mated_correct ({mated_correct}) + mated_wrong ({mated_wrong}) exceed n_mated "
            f"({n_mated})."
        )
    shares = rng.dirichlet(np.array([mated_correct, mated_wrong, no_hit]) + 0.5, size=n_boot)
    return fpir, 1.0 - shares[:, 0], shares[:, 1]
