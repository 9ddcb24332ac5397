"""Gallery scaling: FPIR at a fixed threshold as the gallery grows, measured and extrapolated.

* **Measured.** The enrolled gallery is put in a seeded random order of subjects; nested galleries
  are its first 10^2, 3x10^2, 10^3, ... subjects and the whole. Each non-mated search (its subject
  is not enrolled) is scored against every gallery template once, and its top score within each
  prefix gives FPIR(N, T) at every size in the same pass. Mated searches give the measured
  rank-1 accuracy (mate scores above every distractor of the prefix; the mate is always present).
* **Extrapolated.** The impostor comparisons of the non-mated searches (all of them, streamed;
  only the largest few are kept) give a generalised Pareto tail (:mod:`faceaudit.stats.tail`),
  hence FMR(T), hence FPIR(N, T) = 1 - (1 - FMR(T))^N at any N (default 2.7 x 10^8), the
  threshold that holds each FPIR target at that N, and the expected rank-1 accuracy at N,
  ``mean over mated searches of (1 - FMR(mate score))^(N - 1)`` (with and without the threshold).
* **Band.** A two-way bootstrap: probe subjects and gallery subjects are resampled (weights), the
  tail is refitted on the weighted excesses above the same tail threshold, and every extrapolated
  figure is recomputed; the band is the percentile interval.
* **Validated.** When the gallery holds at least 10x ``validation_fit_size`` subjects, a second fit
  on the first ``validation_fit_size`` distractors only is extrapolated to the whole gallery and
  compared with the measured FPIR there (``inside``: the measured value lies within the band).

A threshold below the tail threshold uses the exact empirical FMR(T) instead of the fit (band:
probe-subject bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.analyses._scale_band import band_replicates, interval_of, measured_rates
from faceaudit.analyses._scale_collect import Progress, ScaleData, collect
from faceaudit.analyses._scale_model import (
    STABILITY_FACTORS,
    Band,
    _diagnostic,
    _floats,
    _Model,
    _model,
    _validate,
    extrapolation_sizes,
    nested_sizes,
)
from faceaudit.compare.search import Enrolment, enrol_gallery
from faceaudit.data import EmbeddingSet
from faceaudit.errors import InputError
from faceaudit.stats.bootstrap import UnitTable, percentile_interval
from faceaudit.stats.estimate import Rate
from faceaudit.stats.tail import (
    TailFit,
    default_tail_count,
)

__all__ = [
    "DEFAULT_TARGET_GALLERY_SIZE",
    "Band",
    "ScaleData",
    "ScaleResult",
    "collect",
    "extrapolation_sizes",
    "nested_sizes",
    "scale",
]

DEFAULT_TARGET_GALLERY_SIZE = 270_000_000
DEFAULT_FPIR_TARGETS = (0.1, 0.01, 0.003, 0.001)


@dataclass(frozen=True)
class ScaleResult:
    """Everything ``faceaudit scale`` found; ``to_json()`` is the ``scale`` key of results.json."""

    threshold: float
    target_gallery_size: int
    gallery_size: int
    n_nonmated: int
    n_mated: int
    measured: tuple[tuple[int, Rate], ...]
    extrapolated: tuple[tuple[int, Band], ...]
    fmr_at_threshold: Band
    fmr_source: str
    fit: TailFit
    fit_band: dict
    thresholds_for_targets: tuple[tuple[float, Band], ...]
    rank1_measured: tuple[tuple[int, Rate], ...]
    rank1_expected: tuple[tuple[int, Band, Band], ...]
    diagnostic: dict
    validation: dict | None
    bootstrap: dict
    synthetic: bool
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        points = [
            {"gallery_size": n, "fpir": r.to_json(), "measured": True} for n, r in self.measured
        ]
        points += [
            {"gallery_size": n, "fpir": b.to_json(), "measured": False}
            for n, b in self.extrapolated
        ]
        points.sort(key=lambda p: (p["gallery_size"], not p["measured"]))
        return {
            "threshold": self.threshold,
            "points": points,
            "target_gallery_size": self.target_gallery_size,
            "gallery_size": self.gallery_size,
            "n_nonmated": self.n_nonmated,
            "n_mated": self.n_mated,
            "model": "independence: FPIR(N) = 1 - (1 - FMR_tail(T))^N",
            "fmr_at_threshold": {**self.fmr_at_threshold.to_json(), "source": self.fmr_source},
            "tail_fit": {
                **self.fit.to_json(),
                "threshold_u": self.fit.threshold,
                "band": self.fit_band,
                "diagnostic": self.diagnostic.get("tail_curve"),
            },
            "threshold_needed": [
                {"fpir_target": t, "gallery_size": self.target_gallery_size, **b.to_json()}
                for t, b in self.thresholds_for_targets
            ],
            "rank1_accuracy": {
                "measured": [
                    {"gallery_size": n, "rate": r.to_json()} for n, r in self.rank1_measured
                ],
                "expected": [
                    {
                        "gallery_size": n,
                        "rank1_accuracy": a.to_json(),
                        "rank1_above_threshold": b.to_json(),
                    }
                    for n, a, b in self.rank1_expected
                ],
            },
            "diagnostic": self.diagnostic,
            "validation": self.validation,
            "bootstrap": dict(self.bootstrap),
            "synthetic": self.synthetic,
            "warnings": list(self.warnings),
        }


@dataclass(eq=False)
class _Nested:
    """The gallery in its seeded nested order, and the probes split into non-mated / mated."""

    n_subj: int
    subj_rank: np.ndarray  # nested rank of each gallery subject
    g_emb: np.ndarray | None  # templates, grouped by subject in nested order (freed after use)
    g_subj: np.ndarray
    cum_tmpl: np.ndarray  # templates in the first k subjects
    sizes: np.ndarray  # nested gallery sizes
    psub: np.ndarray
    code_c: np.ndarray  # gallery code of each probe's subject (clipped)
    nm_idx: np.ndarray
    m_idx: np.ndarray


def _nested(gallery: Enrolment, probes: EmbeddingSet, seed: int) -> _Nested:
    """Nested order: a random order of subjects; templates grouped by subject in that order."""
    if gallery.embeddings.shape[1] != probes.dim:
        raise InputError(
            f"the probe embeddings have {probes.dim} dimensions but the gallery's have "
            f"{gallery.embeddings.shape[1]}; both must come from the same model.",
            path=probes.path,
        )
    rng = np.random.default_rng(seed)
    n_subj = gallery.gallery_size
    subj_rank = np.empty(n_subj, dtype=np.int64)
    subj_rank[rng.permutation(n_subj)] = np.arange(n_subj)
    order = np.argsort(subj_rank[gallery.template_subject], kind="stable")
    g_emb = np.ascontiguousarray(gallery.embeddings[order])
    g_subj = gallery.template_subject[order]
    tmpl_per_rank = np.bincount(subj_rank[g_subj], minlength=n_subj)
    psub = probes.subjects.astype(str)
    code = np.searchsorted(gallery.subjects, psub)
    code_c = np.clip(code, 0, n_subj - 1)
    is_mated = gallery.subjects[code_c] == psub
    nm_idx, m_idx = np.nonzero(~is_mated)[0], np.nonzero(is_mated)[0]
    if nm_idx.size == 0:
        raise InputError(
            "no probe is a non-mated search (every probe's subject is enrolled); FPIR needs "
            "probes of people who are not in the gallery.",
            path=probes.path,
        )
    return _Nested(
        n_subj,
        subj_rank,
        g_emb,
        g_subj,
        np.cumsum(tmpl_per_rank),
        np.array(nested_sizes(n_subj), dtype=np.int64),
        psub,
        code_c,
        nm_idx,
        m_idx,
    )


def scale(
    gallery: EmbeddingSet | Enrolment,
    probes: EmbeddingSet,
    *,
    threshold: float,
    target_gallery_size: int = DEFAULT_TARGET_GALLERY_SIZE,
    enrol="first",
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    tail_count: int | None = None,
    validation_fit_size: int = 10_000,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    block_elements: int = 1 << 24,
    progress: Progress | None = None,
    synthetic: bool | None = None,
) -> ScaleResult:
    """Measure FPIR(N, T) on nested galleries and extrapolate it to ``target_gallery_size``.

    Parameters
    ----------
    gallery : EmbeddingSet or Enrolment
        The distractor gallery (and the mates of mated probes); ``enrol`` picks templates.
    probes : EmbeddingSet
        Probes whose subject is not enrolled are non-mated searches (they drive FPIR and the tail
        fit); the others are mated searches (rank-1 accuracy).
    threshold : float
        T, in cosine-score units.
    target_gallery_size : int
        N to extrapolate to (default 2.7e8).
    fpir_targets : sequence of float
        FPIR targets whose threshold at ``target_gallery_size`` is reported.
    tail_count : int, optional
        Excesses in the GPD fit (default :func:`faceaudit.stats.tail.default_tail_count`).
    validation_fit_size : int
        Distractors of the validation fit (run when the gallery has >= 10x as many subjects).
    bootstrap : int
        Replicates of the two-way (probe subject x gallery subject) bootstrap band.
    confidence : float
    seed : int
        Seeds the nested order of the gallery and the bootstrap.
    block_elements : int
        Scores computed per chunk (memory ~ 4 bytes x this).
    progress : callable(done, total), optional
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if target_gallery_size < 1:
        raise ValueError("target_gallery_size must be >= 1")
    if not isinstance(gallery, Enrolment):
        if synthetic is None:
            synthetic = gallery.synthetic or probes.synthetic
        gallery = enrol_gallery(gallery, enrol)
    synthetic = bool(synthetic)
    warnings: list[str] = []
    nest = _nested(gallery, probes, seed)
    data, k, val_templates = _collect(
        nest, probes, threshold, tail_count, validation_fit_size, block_elements, progress, seed
    )
    n_subj, sizes = nest.n_subj, nest.sizes
    n_nm, n_m = nest.nm_idx.size, nest.m_idx.size

    # units: probe subjects (mated and non-mated share the unit space), gallery subjects
    punits, pcode = np.unique(nest.psub, return_inverse=True)
    nm_unit, m_unit = pcode[nest.nm_idx], pcode[nest.m_idx]
    n_pu = punits.size
    gunits = nest.subj_rank[nest.g_subj]  # gallery unit of each template: its nested rank

    # measured FPIR on nested galleries and rank-1 accuracy: exact counts per bootstrap unit,
    # column 0 = searches, column 1 + j = events at size j
    t = float(threshold)
    nm_table = UnitTable.of_events(nm_unit, data.nonmated_prefix_max >= t, n_pu).counts
    m_hit = data.mated_mate_score[:, None] > data.mated_prefix_max  # mate above all distractors
    m_table = UnitTable.of_events(m_unit, m_hit, n_pu).counts

    model = _model(data, k, t, sizes, fpir_targets, target_gallery_size, warnings)
    reps, meas_reps, r1m_reps = band_replicates(
        data, model, t, nm_table, m_table, nm_unit, m_unit, gunits, n_pu, n_subj, bootstrap, seed
    )
    measured = measured_rates(nm_table, meas_reps, n_nm, sizes, confidence)
    rank1_measured = measured_rates(m_table, r1m_reps, n_m, sizes, confidence) if n_m else []
    diagnostic, validation = _diagnose(
        data, model, reps, measured, nm_unit, gunits, n_pu, k, t, sizes, n_subj, val_templates,
        validation_fit_size, target_gallery_size, bootstrap, confidence, seed, warnings,
    )  # fmt: skip
    if synthetic:
        warnings.append("Synthetic embeddings: these figures describe a simulation, not a system.")
    return ScaleResult(
        threshold=t,
        target_gallery_size=int(target_gallery_size),
        gallery_size=int(n_subj),
        n_nonmated=int(n_nm),
        n_mated=int(n_m),
        measured=tuple(measured),
        rank1_measured=tuple(rank1_measured),
        diagnostic=diagnostic,
        validation=validation,
        bootstrap={
            "replicates": int(bootstrap),
            "confidence": float(confidence),
            "unit": "probe subject x gallery subject (two-way)",
            "n_probe_units": int(n_pu),
            "n_gallery_units": int(n_subj),
            "seed": int(seed),
        },
        synthetic=synthetic,
        warnings=tuple(warnings),
        **_bands(model, reps, fpir_targets, confidence),
    )


def _collect(
    nest: _Nested,
    probes: EmbeddingSet,
    threshold: float,
    tail_count: int | None,
    validation_fit_size: int,
    block_elements: int,
    progress: Progress | None,
    seed: int,
) -> tuple[ScaleData, int, int]:
    """The one pass over all scores: ``(data, tail count k, templates of the validation fit)``."""
    sizes, n_nm = nest.sizes, nest.nm_idx.size
    n_total = n_nm * nest.g_emb.shape[0]
    k = int(tail_count) if tail_count else default_tail_count(n_total)
    if k < 50:
        raise InputError(
            f"only {n_total} impostor comparisons: too few for a tail fit (need >= 1000)."
        )
    k = min(k, n_total // 2)
    val_templates = 0
    if validation_fit_size and nest.n_subj >= 10 * validation_fit_size:
        val_templates = int(nest.cum_tmpl[validation_fit_size - 1])
    k_val = default_tail_count(n_nm * val_templates) if val_templates else 0
    data = collect(
        nest.g_emb,
        nest.cum_tmpl[sizes - 1],
        nest.g_subj,
        np.ascontiguousarray(probes.embeddings[nest.nm_idx]),
        np.ascontiguousarray(probes.embeddings[nest.m_idx]),
        nest.code_c[nest.m_idx],
        threshold=threshold,
        pool_size=int(min(n_total - 1, max(STABILITY_FACTORS) * k + 1)),
        val_templates=val_templates,
        val_pool_size=k_val + 1,
        block_elements=block_elements,
        progress=progress,
        seed=seed,
    )
    nest.g_emb = None  # the gallery's reordered copy is no longer needed
    return data, k, val_templates


def _bands(model: _Model, reps: dict, fpir_targets: Sequence[float], confidence: float) -> dict:
    """The extrapolated figures of :class:`ScaleResult`, each with its bootstrap band."""

    def band(key, j=None):
        return interval_of(reps[key], confidence, j)

    return {
        "extrapolated": tuple(
            (n, Band(float(model.fpir_ext[j]), band("fpir", j)))
            for j, n in enumerate(model.ext_sizes)
        ),
        "fmr_at_threshold": Band(model.fmr_t, band("fmr")),
        "fmr_source": model.fmr_source,
        "fit": model.fit,
        "fit_band": {"shape": band("xi"), "scale": band("sigma")},
        "thresholds_for_targets": tuple(
            (float(tg), Band(float(model.thr_targets[j]), band("thr", j)))
            for j, tg in enumerate(fpir_targets)
        ),
        "rank1_expected": tuple(
            (
                n,
                Band(float(model.r1_all[j]), band("r1", j)),
                Band(float(model.r1_thr[j]), band("r1t", j)),
            )
            for j, n in enumerate(model.r1_sizes)
        ),
    }


def _diagnose(
    data, model, reps, measured, nm_unit, gunits, n_pu, k, t, sizes, n_subj, val_templates,
    validation_fit_size, target_gallery_size, bootstrap, confidence, seed, warnings,
) -> tuple[dict, dict | None]:  # fmt: skip
    """The tail-fit diagnostic (with its band) and the validation against measurement."""
    diagnostic = _diagnostic(
        data, model.fit, k, data.n_total, t, target_gallery_size, model.tail_grid
    )
    if reps["tail"]:
        lohi = percentile_interval(np.array(reps["tail"]), confidence)
        diagnostic["tail_curve"]["lo"] = _floats(lohi[0])
        diagnostic["tail_curve"]["hi"] = _floats(lohi[1])
    if not val_templates:
        warnings.append(
            f"No validation of the extrapolation: it needs a gallery of at least "
            f"{10 * validation_fit_size:,} subjects (this one has {n_subj:,})."
        )
        return diagnostic, None
    validation = _validate(
        data,
        sizes,
        measured,
        nm_unit,
        gunits,
        n_pu,
        val_templates,
        validation_fit_size,
        t,
        bootstrap,
        confidence,
        seed,
    )
    return diagnostic, validation
