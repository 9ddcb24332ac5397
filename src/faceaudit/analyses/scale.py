"""Gallery scaling: FPIR at a fixed threshold as the gallery grows, measured and extrapolated.

* **Measured.** The enrolled gallery is put in a seeded random order of subjects; nested galleries
  are its first 10^2, 3x10^2, 10^3, ... subjects and the whole. Each non-mated search (its subject
  is not enrolled) is scored against every gallery template once, and its top score within each
  prefix gives FPIR(N, T) at every size in the same pass. Mated searches give the measured
  rank-1 accuracy (mate scores above every distractor of the prefix; the mate is always present).
* **Extrapolated, per search.** Non-mated searches are sorted by their tail propensity (~99th
  percentile score) into up to 6 strata, finer toward the top; one generalised Pareto tail is fitted
  per stratum to the largest scores of its searches (:mod:`faceaudit.stats.tail`), above a tail
  threshold chosen by parameter stability (Coles 2001, 4.3.4); search ``i``'s FMR ``p_i(T)`` is its
  stratum's fitted FMR, and ``FPIR(N, T) = mean_i [1 - (1 - p_i(T))^N]`` (NIST IR 8271) at any N
  (default 2.7 x 10^8). Pooling all searches into one FMR would over-state FPIR when searches differ
  (``1 - (1 - p)^N`` is concave). The threshold that holds each FPIR target at N solves the same
  mean equation; the expected rank-1 accuracy at N is ``mean over mated searches of (1 - FMR_i(mate
  score))^(N - 1)`` (with and without the threshold).
* **Band.** A two-way bootstrap: probe subjects and gallery subjects are resampled (weights); each
  replicate refits the tail above one of the stable tail thresholds, drawn at random (the band
  mixes over defensible thresholds: model uncertainty as well as sampling error), and recomputes
  every extrapolated figure; the band is the percentile interval (for the extrapolated FPIR within
  the data, taken on the log cumulative hazard and recentred on the estimate: the replicates fall
  below it more often than the estimate falls below the truth,
  :func:`faceaudit.stats.gallery_fpir.fpir_band`).
* **Beyond the data.** When FMR(T) or the lower end of its band (or the FMR a target's threshold
  needs) lies more than :data:`~faceaudit.analyses._scale_tail.BEYOND_FACTOR` (1) times below
  ``1 / n``, the smallest FMR the ``n`` comparisons can show, the figure is flagged
  "extrapolated beyond the data" (:func:`~faceaudit.analyses._scale_tail.beyond`).
* **Validated.** Whenever the gallery allows (by default a fit on the first tenth of the gallery,
  at least 100 subjects), the whole model is rebuilt on that part only, extrapolated to the larger
  measured galleries and compared with the FPIR measured there (``inside``: the measured value
  lies within the band).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from faceaudit.analyses._scale_band import (
    band_replicates,
    bands,
    impact_rates,
    interval_of,
    measured_rates,
)
from faceaudit.analyses._scale_collect import Progress, ScaleData, collect
from faceaudit.analyses._scale_model import (
    POOL_FACTOR,
    Band,
    _diagnostic,
    _floats,
    _model,
    extrapolation_sizes,
    nested_sizes,
    settle_beyond,
)
from faceaudit.analyses._scale_tail import from_w
from faceaudit.analyses._scale_validate import validate
from faceaudit.compare.search import Enrolment, enrol_gallery
from faceaudit.data import EmbeddingSet
from faceaudit.errors import InputError
from faceaudit.stats.bootstrap import UnitTable, percentile_interval
from faceaudit.stats.estimate import Rate
from faceaudit.stats.tail import TailFit, default_tail_count

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
#: The automatic self-validation fits on this share of the gallery ...
VALIDATION_SHARE = 10
#: ... when that part holds at least this many subjects.
MIN_VALIDATION_FIT = 100


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
    tail_choice: dict
    strata: tuple
    beyond_data: dict
    beyond_targets: tuple[dict, ...]
    thresholds_for_targets: tuple[tuple[float, Band], ...]
    rank1_measured: tuple[tuple[int, Rate], ...]
    rank1_expected: tuple[tuple[int, Band, Band], ...]
    diagnostic: dict
    validation: dict | None
    bootstrap: dict
    synthetic: bool
    warnings: tuple[str, ...] = field(default=())
    #: FPIR, FNIR at rank 1 and the wrong person at rank 1 at the target gallery size, with
    #: joint replicates, for what a hit means there (:func:`impact_at_target`); not in to_json.
    impact_rates: object = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict:
        points = [
            {"gallery_size": n, "fpir": r.to_json(), "measured": True} for n, r in self.measured
        ]
        flagged = bool(self.beyond_data["flagged"])
        points += [
            {
                "gallery_size": n,
                "fpir": b.to_json(),
                "measured": False,
                "beyond_data": flagged and n > self.gallery_size,
            }
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
            "model": (
                "per search: FPIR(N) = mean over non-mated searches of 1 - (1 - Z p_i(T))^N, "
                "p_i the fitted FMR of search i's stratum of similar searches (a GPD tail per "
                "stratum), Z its stratum's gamma frailty (overdispersion)"
            ),
            "fmr_at_threshold": {**self.fmr_at_threshold.to_json(), "source": self.fmr_source},
            "tail_fit": {
                **self.fit.to_json(),
                "threshold_u": float(from_w(self.fit.threshold)),
                "band": self.fit_band,
                "diagnostic": self.diagnostic.get("tail_curve"),
                "units": (
                    "w = sign(score) (-ln(1 - score^2)) (threshold, scale, endpoint); threshold_u "
                    "in score units; the fit pooled over all searches (the tail diagnostic)"
                ),
                "choice": self.tail_choice,
                "strata": [s.to_json() for s in self.strata],
            },
            "beyond_data": dict(self.beyond_data),
            "threshold_needed": [
                {
                    "fpir_target": t,
                    "gallery_size": self.target_gallery_size,
                    **b.to_json(),
                    "fmr": f["fmr"],
                    "beyond_data": f["flagged"],
                }
                for (t, b), f in zip(self.thresholds_for_targets, self.beyond_targets, strict=True)
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
    g_emb: object  # templates grouped by subject in nested order: an array or shards (Templates)
    g_subj: np.ndarray
    cum_tmpl: np.ndarray  # templates in the first k subjects
    sizes: np.ndarray  # nested gallery sizes
    psub: np.ndarray
    code_c: np.ndarray  # gallery code of each probe's subject (clipped)
    nm_idx: np.ndarray
    m_idx: np.ndarray


def _nested(gallery: Enrolment, probes: EmbeddingSet, seed: int) -> _Nested:
    """Nested order: a random order of subjects; templates grouped by subject in that order."""
    if gallery.dim != probes.dim:
        raise InputError(
            f"the probe embeddings have {probes.dim} dimensions but the gallery's have "
            f"{gallery.dim}; both must come from the same model.",
            path=probes.path,
        )
    rng = np.random.default_rng(seed)
    n_subj = gallery.gallery_size
    subj_rank = np.empty(n_subj, dtype=np.int64)
    subj_rank[rng.permutation(n_subj)] = np.arange(n_subj)
    order = np.argsort(subj_rank[gallery.template_subject], kind="stable")
    if gallery.embeddings is not None:
        g_emb = np.ascontiguousarray(gallery.embeddings[order])
    else:  # shards on disk: the nested order is an index into them, read block by block
        t = gallery.templates
        index = np.arange(t.n) if t.index is None else np.asarray(t.index)
        g_emb = replace(t, index=index[order])
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
    validation_fit_size: int | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    block_elements: int = 1 << 24,
    probe_block: int | None = None,
    gallery_block: int | None = None,
    work_dir=None,
    progress: Progress | None = None,
    synthetic: bool | None = None,
) -> ScaleResult:
    """Measure FPIR(N, T) on nested galleries and extrapolate it to ``target_gallery_size``.

    Parameters
    ----------
    gallery : EmbeddingSet, ShardedGallery or Enrolment
        The distractor gallery (and the mates of mated probes); ``enrol`` picks templates. A
        :class:`~faceaudit.compare.shards.ShardedGallery` stays on disk (read block by block).
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
        Excesses in the GPD fit; default: chosen by parameter stability among
        :func:`faceaudit.stats.tail.tail_candidates` (and the band mixes the stable ones).
    validation_fit_size : int, optional
        Distractors of the self-validation fit (run when the gallery has >= 10x as many
        subjects); default: a tenth of the gallery when that is >= 100 subjects; 0: none.
    bootstrap : int
        Replicates of the two-way (probe subject x gallery subject) bootstrap band.
    confidence : float
    seed : int
        Seeds the nested order of the gallery and the bootstrap.
    block_elements : int
        Scores computed per chunk (memory ~ 4 bytes x this).
    probe_block, gallery_block : int, optional
        Searches x templates per job of the map (multiples of 256; default 512 x the gallery up
        to 2^18 templates). Any sizes, in this process or on a cluster, give the same figures.
    work_dir : path, optional
        Keep every job's summary there; a rerun of an interrupted run resumes from them. On a
        cluster the workers read the searches (and an in-memory gallery) from files there.
    progress : callable(done, total), optional
        In comparisons.

    The jobs run on the executor in force (:func:`faceaudit.compare.execute.use_executor`):
    in this process by default, or on a Dask cluster.
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
    validation_fit_size, why_not = _validation_size(validation_fit_size, nest.n_subj)
    if why_not:
        warnings.append(why_not)
    blocks = dict(block_elements=block_elements, probe_block=probe_block,
                  gallery_block=gallery_block, work_dir=work_dir)  # fmt: skip
    data, k, val_templates = _collect(
        nest, probes, threshold, tail_count, validation_fit_size, blocks, progress, seed
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

    model = _model(data, tail_count, t, sizes, fpir_targets, target_gallery_size, warnings)
    reps, meas_reps, r1m_reps = band_replicates(
        data, model, t, nm_table, m_table, nm_unit, m_unit, gunits, n_pu, n_subj, bootstrap, seed
    )
    model = settle_beyond(model, interval_of(reps["fmr"], confidence), t, data.n_total, warnings)
    measured = measured_rates(nm_table, meas_reps, n_nm, sizes, confidence)
    rank1_measured = measured_rates(m_table, r1m_reps, n_m, sizes, confidence) if n_m else []
    diagnostic = _diagnostic(data, model, t, target_gallery_size)
    if reps["tail"]:
        lohi = percentile_interval(np.array(reps["tail"]), confidence)
        diagnostic["tail_curve"]["lo"] = _floats(lohi[0])
        diagnostic["tail_curve"]["hi"] = _floats(lohi[1])
    validation = None
    if val_templates:
        validation = validate(data, sizes, measured, nm_unit, gunits, n_pu, val_templates,
                              validation_fit_size, t, bootstrap, confidence, seed)  # fmt: skip
        _validation_warning(validation, warnings)
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
        impact_rates=impact_rates(model, reps, n_m, n_nm),
        **bands(model, reps, fpir_targets, confidence),
    )


def _collect(
    nest: _Nested,
    probes: EmbeddingSet,
    threshold: float,
    tail_count: int | None,
    validation_fit_size: int,
    blocks: dict,
    progress: Progress | None,
    seed: int,
) -> tuple[ScaleData, int, int]:
    """The one pass over all scores: ``(data, tail count k, templates of the validation fit)``."""
    sizes, n_nm = nest.sizes, nest.nm_idx.size
    n_total = n_nm * int(nest.g_subj.size)
    k = int(tail_count) if tail_count else default_tail_count(n_total)
    if k < 50 or n_total < 1000:
        raise InputError(
            f"only {n_total} non-mated comparisons: too few for a tail fit (need >= 1000)."
        )
    if tail_count and k > n_total // 2:
        from faceaudit.params import ParameterError

        raise ParameterError(
            "tail_count",
            tail_count,
            f"a tail of more than half the {n_total:,} non-mated comparisons is no tail; give at "
            f"most {n_total // 2:,} (or leave it out: the count is chosen by the stability "
            "diagnostic).",
        )
    k = min(k, n_total // 2)
    val_templates = 0
    if validation_fit_size:
        val_templates = int(nest.cum_tmpl[validation_fit_size - 1])
    n_val = n_nm * val_templates
    k_val = POOL_FACTOR * default_tail_count(n_val) if val_templates else 0
    data = collect(
        nest.g_emb,
        nest.cum_tmpl[sizes - 1],
        nest.g_subj,
        np.ascontiguousarray(probes.embeddings[nest.nm_idx]),
        np.ascontiguousarray(probes.embeddings[nest.m_idx]),
        nest.code_c[nest.m_idx],
        threshold=threshold,
        pool_size=int(min(n_total - 1, max(POOL_FACTOR * default_tail_count(n_total), k) + 1)),
        val_templates=val_templates,
        val_pool_size=int(min(max(n_val - 1, 1), k_val + 1)),
        progress=progress,
        **blocks,
        seed=seed,
    )
    nest.g_emb = None  # the gallery's reordered copy is no longer needed
    return data, k, val_templates


def _validation_size(requested: int | None, n_subj: int) -> tuple[int, str | None]:
    """Subjects of the self-validation fit (0: none) and, when there is none, why not."""
    if requested is None:
        size = n_subj // VALIDATION_SHARE
        if size >= MIN_VALIDATION_FIT:
            return size, None
        return 0, (
            "No validation of the extrapolation: a fit on a tenth of the gallery needs at least "
            f"{VALIDATION_SHARE * MIN_VALIDATION_FIT:,} subjects (this one has {n_subj:,})."
        )
    if requested == 0:
        return 0, "No validation of the extrapolation: switched off (validation_fit_size = 0)."
    if n_subj >= VALIDATION_SHARE * requested:
        return int(requested), None
    return 0, (
        f"No validation of the extrapolation: a fit on {requested:,} subjects needs a gallery "
        f"of at least {VALIDATION_SHARE * requested:,} (this one has {n_subj:,})."
    )


def _validation_warning(validation: dict, warnings: list[str]) -> None:
    """A warning when the self-validation's measured FPIR falls outside its band."""
    check = validation.get("check")
    if check and check["inside"] is False:
        warnings.append(
            f"The extrapolation failed its own check: fitted on "
            f"{validation['fit_gallery_size']:,} distractors it predicted FPIR "
            f"{check['extrapolated']['value']:.3g} at N = {check['gallery_size']:,}, where "
            f"{check['measured']['value']:.3g} was measured, outside its band; treat the "
            "extrapolated figures with caution."
        )
