"""The ONE module of the validation studies that calls faceaudit.

Everything else in ``validation/`` works on plain numpy arrays (:mod:`validation.generators`) and
on the plain ``(estimate, low, high)`` triples returned here. When faceaudit's API moves (domain
types from ``faceaudit.io.*`` to ``faceaudit.data``, a unified bootstrap, ...) only this file
changes. The calls into faceaudit are marked ``# API:``.

Every function returns :class:`Interval` values keyed by a stable name, e.g.
``"fmr@T0"`` (FMR at the first fixed threshold), ``"fnmr@fmr=0.001"`` (FNMR at the threshold
chosen on the data for an FMR target), ``"eer"``, ``"fpir@T0"``, ``"fmr_ratio[B]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from validation.generators import ScoreSample, SearchSample


@dataclass(frozen=True)
class Interval:
    """A figure as the tool prints it: point estimate, interval, and how it was obtained.

    ``count``/``n`` are the rate's counts when it is a rate (None for EER, ratios, bands).
    ``bound``: the tool reports a one-sided bound (zero errors: rule of 3), not an estimate.
    ``threshold``: the threshold the figure was computed at (tool's units), when relevant.
    """

    estimate: float | None
    low: float | None
    high: float | None
    count: int | None = None
    n: int | None = None
    bound: bool = False
    threshold: float | None = None

    def to_json(self) -> dict:
        return {
            "estimate": _f(self.estimate),
            "low": _f(self.low),
            "high": _f(self.high),
            "count": self.count,
            "n": self.n,
            "bound": bool(self.bound),
            "threshold": _f(self.threshold),
        }


def _f(x):
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def _from_rate(rate, threshold=None) -> Interval:
    if rate is None:
        return Interval(None, None, None, threshold=threshold)
    lo, hi = (None, None) if rate.ci is None else rate.ci
    return Interval(rate.value, lo, hi, rate.count, rate.n, rate.upper_bound, threshold)


def engine_version() -> str:
    """Package version plus the last commit that touched ``src/`` (the engine under test) and
    whether ``src/`` has uncommitted changes, e.g. ``0.1.0 src@6a58c15``."""
    import subprocess
    from pathlib import Path

    import faceaudit  # API: package version

    v = str(getattr(faceaudit, "__version__", "unknown"))
    root = Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return v
    return f"{v} src@{rev}{'+dirty' if dirty else ''}"


# ---------------------------------------------------------------------------------------------
# 1:1


def comparison_scores(s: ScoreSample):
    """The generator's arrays as faceaudit's ComparisonScores (subject ids on both sides)."""
    from faceaudit.data import ComparisonScores  # API: domain type

    return ComparisonScores(  # API: constructor fields
        mated=np.asarray(s.mated, dtype=np.float64),
        nonmated=np.asarray(s.nonmated, dtype=np.float64),
        mated_subject=np.asarray(s.mated_subject, dtype=np.int32),
        nonmated_subject=np.asarray(s.nonmated_probe_subject, dtype=np.int32),
        nonmated_reference_subject=np.asarray(s.nonmated_reference_subject, dtype=np.int32),
        subjects=s.subject_names,
    )


def run_verify(
    s: ScoreSample,
    *,
    thresholds: Sequence[float],
    fmr_targets: Sequence[float],
    bootstrap: int,
    seed: int,
    confidence: float = 0.95,
) -> dict[str, Interval]:
    """``verify`` on one draw: FMR and FNMR at each fixed threshold ``T{k}``, FNMR (and FMR) at
    each FMR target's data-chosen threshold, and the EER."""
    from faceaudit.analyses.verification import verify  # API: the 1:1 analysis

    res = verify(  # API: verify(scores, fmr_targets=, thresholds=, bootstrap=, confidence=, seed=)
        comparison_scores(s),
        fmr_targets=list(fmr_targets),
        thresholds=list(thresholds),
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    out: dict[str, Interval] = {}
    k = 0
    for op in res.operating_points:  # API: OperatingPoint(fmr_target, threshold, fmr, fnmr)
        if op.fmr_target is not None:
            key = f"{op.fmr_target:g}"
            out[f"fnmr@fmr={key}"] = _from_rate(op.fnmr, op.threshold)
            out[f"fmr@fmr={key}"] = _from_rate(op.fmr, op.threshold)
        else:
            out[f"fmr@T{k}"] = _from_rate(op.fmr, op.threshold)
            out[f"fnmr@T{k}"] = _from_rate(op.fnmr, op.threshold)
            k += 1
    e = res.eer  # API: EER(value, ci, threshold)
    lo, hi = (None, None) if e.ci is None else e.ci
    out["eer"] = Interval(e.value, lo, hi, threshold=e.threshold)
    return out


def _subject_groups(subjects: Sequence[str], group_of: dict[str, str]):
    """faceaudit's SubjectGroups for ``subjects`` (in the tool's code order)."""
    from faceaudit.data import SubjectMetadata  # API: metadata type

    meta = SubjectMetadata.from_mapping({"group": dict(group_of)})  # API
    return meta.groups(["group"], list(subjects))  # API: SubjectGroups for these subjects


def _differential_intervals(res, threshold: float) -> tuple[dict[str, Interval], dict[str, str]]:
    """Per-group rates and ratios of a DemographicsResult; the reference group of each ratio."""
    fp, fn = res.rate_names  # API: ("fmr", "fnmr") or ("fpir", "fnir")
    out: dict[str, Interval] = {}
    refs: dict[str, str] = {}
    for g in res.groups:  # API: GroupRates(group, false_positive, false_negative, fp/fn_ratio)
        out[f"{fp}[{g.group}]"] = _from_rate(g.false_positive, threshold)
        out[f"{fn}[{g.group}]"] = _from_rate(g.false_negative, threshold)
        for kind, r in ((fp, g.fp_ratio), (fn, g.fn_ratio)):
            if r is None:  # API: Ratio(value, ci, reference_group, upper_bound, ci_low)
                continue
            refs[kind] = r.reference_group
            if r.reference_group == g.group:
                continue  # 1 by construction: not an interval
            lo, hi = (None, None) if r.ci is None else r.ci
            if r.ci is None and r.ci_low is not None:  # [ci_low, infinity)
                lo, hi = r.ci_low, float("inf")
            out[f"{kind}_ratio[{g.group}]"] = Interval(
                r.value, lo, hi, bound=bool(r.upper_bound), threshold=threshold
            )
    for kind in (fp, fn):  # the summaries over the groups compared (NIST IR 8429's max / min)
        refs[f"{kind}_groups_compared"] = ",".join(res.summary[f"{kind}_groups_compared"])
        for stat in ("max_over_min", "max_over_geomean"):
            sv = res.summary[f"{kind}_{stat}"]  # API: SummaryValue(value, ci, ci_low)
            if sv.value is None:
                continue
            lo, hi = (None, None) if sv.ci is None else sv.ci
            if sv.ci is None and sv.ci_low is not None:
                lo, hi = sv.ci_low, float("inf")
            out[f"{kind}_{stat}"] = Interval(sv.value, lo, hi, threshold=threshold)
    return out, refs


def run_differentials(
    s: ScoreSample, *, threshold: float, bootstrap: int, seed: int, confidence: float = 0.95
) -> tuple[dict[str, Interval], dict[str, str]]:
    """1:1 demographic differentials at one given threshold: per-group FMR (within-group
    non-mated pairs) and FNMR (``fmr[g]``, ``fnmr[g]``), and each group's ratio to the tool's
    reference (lowest-error) group (``fmr_ratio[g]``, ``fnmr_ratio[g]``). Also returns the
    reference group of each kind: ``{"fmr": name, "fnmr": name}``."""
    from faceaudit.analyses.demographics import verification_differentials  # API

    names = s.subject_names
    scores = comparison_scores(s)
    groups = _subject_groups(
        scores.subjects,
        {n: s.group_names[g] for n, g in zip(names, s.subject_group.tolist(), strict=True)},
    )
    res = verification_differentials(  # API
        scores,
        groups,
        threshold=float(threshold),
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    return _differential_intervals(res, threshold)


def run_identification_differentials(
    s: SearchSample,
    *,
    threshold: float,
    bootstrap: int,
    seed: int,
    list_length: int = 50,
    confidence: float = 0.95,
) -> tuple[dict[str, Interval], dict[str, str]]:
    """1:N demographic differentials (groups = the probes' clusters) at one given threshold:
    ``fpir[g]``, ``fnir[g]``, ``fpir_ratio[g]``, ``fnir_ratio[g]`` and the reference groups."""
    from faceaudit.analyses.demographics import identification_differentials  # API
    from faceaudit.compare.search import search_gallery  # API
    from faceaudit.stats.identification import search_outcomes  # API

    found = search_gallery(  # API: GallerySearch(lists, truth, gallery_size, gallery_subjects)
        embedding_set(s.gallery, s.gallery_subjects),
        embedding_set(s.probes, s.probe_subjects, s.probe_groups),
        list_length=list_length,
        seed=seed,
    )
    outcomes = search_outcomes(  # API
        found.lists,
        found.truth,
        gallery_size=found.gallery_size,
        gallery_subjects=found.gallery_subjects,
    )
    group_of = dict(zip(s.probe_subjects.tolist(), s.probe_groups.tolist(), strict=True))
    groups = _subject_groups(outcomes.units.tolist(), group_of)  # API: outcomes.units
    res = identification_differentials(  # API
        outcomes,
        groups,
        threshold=float(threshold),
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    return _differential_intervals(res, threshold)


# ---------------------------------------------------------------------------------------------
# 1:N


def embedding_set(emb: np.ndarray, subjects: np.ndarray, groups: np.ndarray | None = None):
    """Arrays as faceaudit's EmbeddingSet (unit rows; sample ids made unique)."""
    from faceaudit.data import EmbeddingSet  # API: domain type (moving to .data)

    subjects = np.asarray(subjects).astype(str)
    samples = np.char.add(np.char.add(subjects, "#"), np.arange(subjects.size).astype(str))
    return EmbeddingSet(  # API: EmbeddingSet(embeddings, subjects, samples, groups)
        np.ascontiguousarray(emb, dtype=np.float32),
        subjects,
        samples,
        None if groups is None else np.asarray(groups).astype(str),
    )


def run_identify(
    s: SearchSample,
    *,
    thresholds: Sequence[float],
    fpir_targets: Sequence[float],
    bootstrap: int,
    seed: int,
    list_length: int = 50,
    confidence: float = 0.95,
) -> dict[str, Interval]:
    """``identify_embeddings`` on one draw: FPIR, FNIR (rank L) at each fixed threshold
    ``T{k}``, and FNIR / FPIR at each FPIR target's data-chosen threshold."""
    from faceaudit.analyses.identification import identify_embeddings  # API

    res, _ = identify_embeddings(  # API: (gallery, probes, list_length=, **identify kwargs)
        embedding_set(s.gallery, s.gallery_subjects),
        embedding_set(s.probes, s.probe_subjects, s.probe_groups),
        list_length=list_length,
        fpir_targets=list(fpir_targets),
        thresholds=list(thresholds),
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    out: dict[str, Interval] = {}
    k = 0
    for p in res.operating_points:  # API: IdentificationPoint(fpir_target, threshold, fpir, fnir)
        if p.fpir_target is not None:
            key = f"{p.fpir_target:g}"
            out[f"fnir@fpir={key}"] = _from_rate(p.fnir, p.threshold)
            out[f"fpir@fpir={key}"] = _from_rate(p.fpir, p.threshold)
        else:
            out[f"fpir@T{k}"] = _from_rate(p.fpir, p.threshold)
            out[f"fnir@T{k}"] = _from_rate(p.fnir, p.threshold)
            k += 1
    return out


# ---------------------------------------------------------------------------------------------
# Gallery scale


def _scale_on(fit_gallery, probes, probe_names, *, threshold, target_gallery_size, bootstrap,
              seed, confidence):  # fmt: skip
    """faceaudit's ``scale`` on gallery ``g0000000...`` (one template per subject) and the probe
    vectors named ``probe_names`` (a gallery name: a mated search); no built-in validation."""
    from faceaudit.analyses.scale import scale  # API: the scale analysis

    names = np.array([f"g{i:07d}" for i in range(fit_gallery.shape[0])])
    return scale(  # API: scale(gallery, probes, threshold=, target_gallery_size=, ...)
        embedding_set(fit_gallery, names),
        embedding_set(probes, np.asarray(probe_names)),
        threshold=float(threshold),
        target_gallery_size=int(target_gallery_size),
        validation_fit_size=0,  # API: no built-in validation (this study is the validation)
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        synthetic=True,
    )


def run_scale(
    fit_gallery: np.ndarray,
    probes: np.ndarray,
    *,
    threshold: float,
    target_gallery_size: int,
    bootstrap: int,
    seed: int,
    confidence: float = 0.95,
) -> dict:
    """``scale`` on a small gallery (every probe non-mated), extrapolated to
    ``target_gallery_size``: the extrapolated FPIR there with its band, and the fit."""
    n_g = fit_gallery.shape[0]
    res = _scale_on(fit_gallery, probes, [f"p{i:07d}" for i in range(probes.shape[0])],
                    threshold=threshold, target_gallery_size=target_gallery_size,
                    bootstrap=bootstrap, seed=seed, confidence=confidence)  # fmt: skip
    ext = dict(res.extrapolated)  # API: ((gallery_size, Band(value, ci)), ...)
    band = ext[int(target_gallery_size)]
    measured_small = dict(res.measured)[n_g]  # API: ((gallery_size, Rate), ...)
    lo, hi = (None, None) if band.ci is None else band.ci
    return {
        "extrapolated": Interval(band.value, lo, hi, threshold=threshold),
        "measured_fit_gallery": _from_rate(measured_small, threshold),
        "fmr_at_threshold": res.fmr_at_threshold.value,  # API: Band
        "fmr_source": res.fmr_source,
        "tail_shape": res.fit.shape,  # API: TailFit(shape, scale, threshold, ...)
        "tail_scale": res.fit.scale,
        "tail_threshold": res.fit.threshold,
        "tail_count": int(res.fit.n_exceedances),
        "beyond_data": bool(res.beyond_data["flagged"]),  # API: ScaleResult.beyond_data
        "beyond_basis": res.beyond_data.get("basis"),  # "estimate" | "band" | None
        "fmr_band": None if res.fmr_at_threshold.ci is None else list(res.fmr_at_threshold.ci),
        "warnings": list(res.warnings),
    }


def run_scale_rank1(
    fit_gallery: np.ndarray,
    nonmated: np.ndarray,
    mated: np.ndarray,
    *,
    threshold: float,
    target_gallery_size: int,
    bootstrap: int,
    seed: int,
    confidence: float = 0.95,
) -> dict:
    """``scale`` on a small gallery with non-mated searches and mated ones (``mated[j]`` is a
    probe of gallery subject ``j``): the extrapolated rank-1 figures at ``target_gallery_size``
    (FNIR at rank 1 with T, the wrong person at rank 1) with their bands, and the measured ones
    on the small gallery."""
    from faceaudit.stats.bootstrap import percentile_interval  # API: percentile interval

    n_g, n_p = fit_gallery.shape[0], nonmated.shape[0]
    names = [*(f"p{i:07d}" for i in range(n_p)), *(f"g{i:07d}" for i in range(mated.shape[0]))]
    res = _scale_on(fit_gallery, np.concatenate([nonmated, mated]), names, threshold=threshold,
                    target_gallery_size=target_gallery_size, bootstrap=bootstrap, seed=seed,
                    confidence=confidence)  # fmt: skip
    n = int(target_gallery_size)
    r1 = {size: thr for size, _all, thr in res.rank1_expected}  # API: (N, Band, Band with T)
    b = r1[n]
    fnir = Interval(1.0 - b.value, None if b.ci is None else 1.0 - b.ci[1],
                    None if b.ci is None else 1.0 - b.ci[0], threshold=threshold)  # fmt: skip
    ir = res.impact_rates  # API: ImpactRates(fpir, fnir_rank1, wrong_top1, *_replicates)
    w_lo = w_hi = None
    if ir is not None and ir.wrong_top1_replicates is not None:
        w_lo, w_hi = (float(x) for x in percentile_interval(ir.wrong_top1_replicates, confidence))
    return {
        "fnir_rank1": fnir,
        "wrong_top1": Interval(
            None if ir is None else ir.wrong_top1, w_lo, w_hi, threshold=threshold
        ),  # fmt: skip
        "fnir_rank1_check": None if ir is None else ir.fnir_rank1,
        "rank1_measured_fit": dict(res.rank1_measured)[n_g].value,  # API: ((N, Rate), ...)
        "beyond_data": bool(res.beyond_data["flagged"]),
    }


# ---------------------------------------------------------------------------------------------
# Interval screening (validation/interval_screen.py): the replicates behind printed intervals

_CAPTURED_MODULES = (
    "faceaudit.analyses.verification",
    "faceaudit.analyses.identification",
    "faceaudit.analyses._demographics_summary",
)


class capture_replicates:
    """Context: records every replicate array the analyses turn into an interval, with the
    interval the tool printed from it (matched back to figures by :func:`captured_figures`)."""

    def __enter__(self):
        import importlib

        self.calls: list[tuple[np.ndarray, np.ndarray]] = []
        self._saved = []
        self._saved_rate = []
        for name in _CAPTURED_MODULES:
            mod = importlib.import_module(name)
            fn = getattr(mod, "percentile_interval", None)  # API: the name each module calls
            if fn is None:
                continue
            self._saved.append((mod, fn))

            def wrapped(reps, confidence, _fn=fn):
                res = _fn(reps, confidence)
                self.calls.append((np.array(reps, dtype=np.float64), np.asarray(res)))
                return res

            mod.percentile_interval = wrapped
            if hasattr(mod, "rate_interval"):  # API: the rate intervals, screened as percentile
                self._saved_rate.append((mod, mod.rate_interval))
                mod.rate_interval = lambda reps, count, n, confidence, _w=wrapped, **kw: _w(
                    reps, confidence
                )
        return self.calls

    def __exit__(self, *exc):
        for mod, fn in self._saved:
            mod.percentile_interval = fn
        for mod, fn in self._saved_rate:
            mod.rate_interval = fn
        return False


def captured_figures(out: dict[str, Interval], calls):
    """``(key, replicate rates, count, n)`` of each printed rate whose interval is the
    percentile interval of a captured replicate column (bounds and ratios are skipped)."""
    index = {}
    for reps, res in calls:
        r2 = reps if reps.ndim == 2 else reps[:, None]
        q = res if res.ndim == 2 else res[:, None]
        for j in range(r2.shape[1]):
            index.setdefault((float(q[0, j]), float(q[1, j])), r2[:, j])
    for key, iv in out.items():
        if iv.count is None or iv.low is None or iv.bound or "_ratio[" in key:
            continue
        reps = index.get((float(iv.low), float(iv.high)))
        if reps is not None:
            yield key, reps, iv.count, iv.n


def verify_weights(n_subjects: int, bootstrap: int, seed: int) -> np.ndarray:
    """The subject multiplicities of ``verify``'s replicates (all subjects, seed ``seed``)."""
    from faceaudit.stats.bootstrap import Resampler  # API: the one bootstrap's design

    return Resampler(n_subjects, bootstrap, seed).weights()
