"""``audit_scale``: how FPIR grows with the gallery, measured and extrapolated (e.g. to 2.7e8)."""

from __future__ import annotations

from collections.abc import Sequence

from faceaudit import params
from faceaudit.analyses.scale import DEFAULT_FPIR_TARGETS, DEFAULT_TARGET_GALLERY_SIZE, scale
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.data import EmbeddingSet
from faceaudit.io.embeddings import overlap_warnings

__all__ = ["audit_scale"]

#: Fewest excesses a generalised Pareto fit is given.
MIN_TAIL_COUNT = 50


def audit_scale(
    gallery: EmbeddingSet,
    probes: EmbeddingSet,
    *,
    threshold: float,
    gallery_size: int = DEFAULT_TARGET_GALLERY_SIZE,
    enrol: str | Sequence[str] = "first",
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
    title: str = "1:N gallery scaling",
    progress: Progress = SILENT,
) -> Run:
    """FPIR(N, T) on nested distractor galleries, extrapolated to ``gallery_size`` by a fitted tail.

    Parameters
    ----------
    gallery : EmbeddingSet or ShardedGallery
        The distractor gallery (and the mates of mated probes); shards stay on disk.
    probes : EmbeddingSet
        Probes whose subject is not enrolled are non-mated searches (FPIR, the tail fit); the
        others are mated searches (rank-1 accuracy).
    threshold : float
        T, in cosine-score units, fixed by the user (e.g. the deployed system's).
    gallery_size : int
        N to extrapolate to (default 2.7 x 10^8).
    enrol, fpir_targets, tail_count, validation_fit_size, bootstrap, confidence, seed,
    block_elements, probe_block, gallery_block, work_dir
        See :func:`faceaudit.analyses.scale.scale`. The comparisons run on the executor in
        force (:func:`faceaudit.compare.execute.use_executor`): in-process, or on Dask.
    """
    threshold = params.finite_number("threshold", threshold)
    gallery_size = params.gallery_size("gallery_size", gallery_size)
    fpir_targets = params.rate_targets("fpir_targets", fpir_targets)
    if tail_count is not None:
        tail_count = params.count("tail_count", tail_count, minimum=MIN_TAIL_COUNT)
    if validation_fit_size is not None:
        validation_fit_size = params.count("validation_fit_size", validation_fit_size)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    block_elements = params.count("block_elements", block_elements, minimum=1)
    if probe_block is not None:
        probe_block = params.count("probe_block", probe_block, minimum=1)
    if gallery_block is not None:
        gallery_block = params.count("gallery_block", gallery_block, minimum=1)
    synthetic = gallery.synthetic or probes.synthetic
    inputs = list(gallery.inputs) + [i for i in probes.inputs if i not in gallery.inputs]
    gallery_warnings = list(gallery.warnings) + [
        w for w in probes.warnings if w not in gallery.warnings
    ]
    if isinstance(gallery, EmbeddingSet):  # a sharded gallery stays on disk: not compared
        gallery_warnings += overlap_warnings(gallery, probes)
    with progress.bar("scoring every search against the gallery", "comparisons") as update:
        result = scale(
            gallery,
            probes,
            threshold=threshold,
            target_gallery_size=gallery_size,
            enrol=enrol if isinstance(enrol, str) else list(enrol),
            fpir_targets=fpir_targets,
            tail_count=tail_count,
            validation_fit_size=validation_fit_size,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            block_elements=block_elements,
            probe_block=probe_block,
            gallery_block=gallery_block,
            work_dir=work_dir,
            progress=update,
            synthetic=synthetic,
        )
    del gallery, probes
    big = result.extrapolated[-1]
    progress.note(
        f"FPIR at N = {big[0]:,} and T = {threshold:g}: {big[1].value:.4g} (extrapolated; "
        f"band {big[1].ci}); measured up to N = {result.gallery_size:,}"
    )
    check = (result.validation or {}).get("check")
    if result.beyond_data["flagged"]:
        progress.note("the extrapolated FPIR lies beyond the data (see the warnings)")
    if check:
        progress.note(
            f"validation: fit on {result.validation['fit_gallery_size']:,} distractors, "
            f"measured {check['measured']['value']:.4g} at N = {check['gallery_size']:,}, "
            f"extrapolated {check['extrapolated']['value']:.4g} band "
            f"{check['extrapolated']['ci']}: " + ("inside" if check["inside"] else "OUTSIDE")
        )
    warnings = [*gallery_warnings, *result.warnings]
    run = Run(
        title=title + (" — SYNTHETIC data" if synthetic else ""),
        analyses={"scale": result},
        inputs=tuple(inputs),
        settings={
            "threshold": threshold,
            "target_gallery_size": gallery_size,
            "enrol": enrol if isinstance(enrol, str) else "list of sample ids",
            "fpir_targets": list(fpir_targets),
            "tail_count": tail_count,
            "validation_fit_size": (
                validation_fit_size if validation_fit_size is not None else "a tenth of the gallery"
            ),
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "threshold_source": "given by the user",
        },
        synthetic=synthetic,
        warnings=tuple(warnings),
    )
    return _with_impact_at_target(run, result, confidence, progress)


def _with_impact_at_target(run: Run, result, confidence: float, progress: Progress) -> Run:
    """``run`` with what a hit means at the target gallery size: the extrapolated FPIR (with its
    band), FNIR at rank 1 and the wrong person at rank 1 from the same fitted tails, their joint
    replicates carried into :func:`faceaudit.analyses.impact.operational_impact`."""
    from faceaudit.analyses.impact import operational_impact
    from faceaudit.audits._impact import DEFAULT_ENCOUNTERS_PER_DAY, DEFAULT_PREVALENCE

    rates = result.impact_rates
    if rates is None:
        return run
    band = dict(result.extrapolated)[result.target_gallery_size]
    with progress.stage("what a hit means at the target gallery size (extrapolated)"):
        impact = operational_impact(
            rates,
            gallery_size=result.target_gallery_size,
            encounters_per_day=DEFAULT_ENCOUNTERS_PER_DAY,
            fpir_basis="extrapolated",
            fpir_band=band.ci,
            threshold=result.threshold,
            prevalence_points=DEFAULT_PREVALENCE,
            confidence=confidence,
        )
    return run.with_analysis(
        "impact",
        impact,
        settings={"impact_encounters_per_day": DEFAULT_ENCOUNTERS_PER_DAY},
        warnings=impact.warnings,
    )
