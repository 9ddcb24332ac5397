"""Inputs of :mod:`faceaudit.analyses.impact` and their validation (errors name the parameter)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceaudit.errors import InputError
from faceaudit.params import count, number_array

# 10 points per decade from 0.1% (0.001, 0.01 and 0.1 exactly on the grid) up to 79%, then 90%
DEFAULT_PREVALENCE_GRID = tuple(float(10.0 ** (k / 10 - 3)) for k in range(30)) + (0.9,)
_SLACK = 1e-12  # rounding allowed in wrong_top1 <= fnir_rank1


@dataclass(frozen=True, eq=False)
class ImpactRates:
    """1:N rates at one threshold, optionally with joint bootstrap replicates ``(B,)`` each.

    ``fnir_rank1`` is FNIR(N, 1, T); ``wrong_top1`` the share of mated searches whose rank-1
    candidate is someone else with score >= T (so ``wrong_top1 <= fnir_rank1``). Replicates must
    be drawn jointly (replicate b of all three from the same resampled subjects): all three or
    none. ``n_mated`` / ``n_nonmated`` are the searches the rates were measured on (reported).
    """

    fpir: float
    fnir_rank1: float
    wrong_top1: float
    fpir_replicates: np.ndarray | None = None
    fnir_rank1_replicates: np.ndarray | None = None
    wrong_top1_replicates: np.ndarray | None = None
    n_mated: int | None = None
    n_nonmated: int | None = None


@dataclass(frozen=True)
class GroupAssumption:
    """A group's own rates and its stated prevalence (the share of its encounters enrolled)."""

    rates: ImpactRates
    prevalence: float
    prevalence_basis: str | None = None
    encounters_per_day: float | None = None


def checked_rates(rates: ImpactRates, label: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(3,)`` point rates (fpir, fnir_rank1, wrong_top1) and ``(B, 3)`` replicates or None."""
    names = ("fpir", "fnir_rank1", "wrong_top1")
    point = np.array([float(number_array(f"{label}{n}", getattr(rates, n))) for n in names])
    if point[2] > point[1] + _SLACK:
        w, f = float(point[2]), float(point[1])
        raise InputError(
            f"{label}wrong_top1 ({w!r}) exceeds {label}fnir_rank1 ({f!r}): a wrong "
            "person at rank 1 is one way of missing the mate, so wrong_top1 <= fnir_rank1."
        )
    for n in ("n_mated", "n_nonmated"):
        if getattr(rates, n) is not None:
            count(f"{label}{n}", getattr(rates, n))
    given = [getattr(rates, f"{n}_replicates") is not None for n in names]
    if not any(given):
        return point, None
    if not all(given):
        missing = ", ".join(
            f"{label}{n}_replicates" for n, g in zip(names, given, strict=True) if not g
        )
        raise InputError(
            f"{missing} missing: replicates of fpir, fnir_rank1 and wrong_top1 must be given "
            "together, drawn from the same resampled subjects."
        )
    reps = []
    for n in names:
        r = number_array(f"{label}{n}_replicates", getattr(rates, f"{n}_replicates"))
        if r.ndim != 1 or r.size == 0:
            raise InputError(f"{label}{n}_replicates must be a non-empty 1-D array, got {r.shape}.")
        reps.append(r)
    if len({r.size for r in reps}) != 1:
        sizes = ", ".join(f"{n}: {r.size}" for n, r in zip(names, reps, strict=True))
        raise InputError(f"{label}*_replicates differ in length ({sizes}); one per replicate.")
    table = np.column_stack(reps)
    bad = np.flatnonzero(table[:, 2] > table[:, 1] + _SLACK)
    if bad.size:
        raise InputError(
            f"{label}wrong_top1_replicates exceeds {label}fnir_rank1_replicates at replicate "
            f"{int(bad[0])}: the replicates are not from the same resampled searches."
        )
    return point, table


def positive(name: str, value, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a positive number, got {value!r}.")
    return v


def prevalences(grid, points) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique prevalences of grid and points, and which of them the user gave."""
    g = number_array("prevalence_grid", DEFAULT_PREVALENCE_GRID if grid is None else grid)
    p = number_array("prevalence_points", points)
    g, p = np.atleast_1d(g).ravel(), np.atleast_1d(p).ravel()
    values = np.unique(np.concatenate([g, p]))
    if values.size == 0:
        raise InputError("prevalence_grid and prevalence_points are both empty; give one value.")
    return values, np.isin(values, p)


def finite_or_none(name: str, value) -> float | None:
    """``value`` as a finite float, or None."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v):
        raise InputError(f"{name} must be a finite number or None, got {value!r}.")
    return v


def fpir_source(basis: str, band):
    if basis not in ("measured", "extrapolated"):
        raise InputError(f"fpir_basis must be 'measured' or 'extrapolated', got {basis!r}.")
    if band is None:
        return None
    lo, hi = (float(v) for v in number_array("fpir_band", band))
    if lo > hi:
        raise InputError(f"fpir_band must be (low, high) with low <= high, got {band!r}.")
    return lo, hi
