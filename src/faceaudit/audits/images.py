"""``audit_images``: photos in, the whole audit out (1:1, 1:N, failures to acquire, groups)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from faceaudit import params
from faceaudit.analyses.image_audit import audit_embeddings
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
from faceaudit.audits.capture import ConditionsBy
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.io.images import ImageSet, image_set_input

__all__ = ["audit_images"]


def audit_images(
    images: ImageSet,
    *,
    model: str = "dlib-resnet",
    model_options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    held_out: float = 0.2,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    fpir_targets: Sequence[float] | None = None,
    list_length: int = 50,
    demographics: GroupBy | None = None,
    conditions: ConditionsBy | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    title: str = "Image audit",
    progress: Progress = SILENT,
) -> Run:
    """Embed the images (cached, resumable), then the 1:1 and 1:N audits with FTA.

    Parameters
    ----------
    images : ImageSet
        :func:`faceaudit.io.images.discover_images` of a folder ``<subject>/<image>`` or a
        manifest CSV (``path``, ``subject`` + metadata columns).
    model, model_options
        Recognizer (``"dlib-resnet"``, ``"facenet"``, ``"onnx"``) and its options.
    workers, cache_dir
        Embedding worker processes (default: the CPUs) and cache folder.
    held_out : float
        1:N: share (< 1) or number of subjects not enrolled (their images are non-mated searches).
    fmr_targets, fpir_targets, list_length
        1:1 FMR targets; 1:N FPIR targets (default those of :func:`audit_search`) and L.
    demographics : GroupBy, optional
        Per-group rates; :meth:`ImageSet.subject_metadata` gives a manifest's own columns.
    conditions : ConditionsBy, optional
        Rates by capture condition (a manifest column or a file-name pattern) at one threshold
        fixed on the reference condition: results key ``capture``
        (:mod:`faceaudit.analyses.capture`).
    bootstrap, confidence, seed
        Subject-bootstrap replicates (0: none), two-sided level; the seed also draws the split.
    """
    from faceaudit.embedding.pipeline import embed_images

    fmr_targets = params.rate_targets("fmr_targets", fmr_targets)
    if fpir_targets is not None:
        fpir_targets = params.rate_targets("fpir_targets", fpir_targets)
    list_length = params.count("list_length", list_length, minimum=1)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    if workers is not None:
        workers = params.count("workers", workers)
    held = params.held_out_subjects("held_out", held_out)
    if conditions is not None:
        conditions.labels(images)  # a bad column or pattern fails before the embedding
    with progress.bar(f"embedding ({model})", "images") as update:
        embedding = embed_images(
            images,
            model=model,
            options=dict(model_options or {}),
            workers=workers,
            cache_dir=cache_dir,
            progress=lambda p: update(p.done, p.total),
        )
    progress.note(
        f"embedded {embedding.embeddings.shape[0]:,} of {embedding.n_images:,} images "
        f"({embedding.n_failed:,} failures to acquire)"
    )
    with progress.stage("1:1 and 1:N audits"):
        result = audit_embeddings(
            embedding,
            held_out=held,
            fmr_targets=fmr_targets,
            fpir_targets=fpir_targets,
            list_length=list_length,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
        )
    run = Run(
        title=title,
        analyses=result.analyses(),
        inputs=(image_set_input(images),),
        settings={
            "orientation": "similarity",
            "model": model,
            "fmr_targets": list(fmr_targets),
            "held_out": held_out,
            "list_length": list_length,
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "bootstrap_unit": result.verification.bootstrap.unit,
            "n_bootstrap_units": result.verification.bootstrap.n_units,
        },
        warnings=(*images.warnings, *result.warnings),
    )
    if demographics is not None:
        from faceaudit.audits.scores import verification_groups

        run = verification_groups(run, result.comparisons, demographics, progress=progress)
    if result.outcomes is not None:
        from faceaudit.audits.identification import with_impact

        kw = {"bootstrap": bootstrap, "confidence": confidence, "seed": seed}
        run = with_impact(
            run, result.outcomes, result.identification, kw, groups=None, progress=progress
        )
    if conditions is not None:
        from faceaudit.audits.capture import conditions_analysis

        with progress.stage("rates by capture condition"):
            found, more = conditions_analysis(
                images,
                embedding,
                conditions,
                held_out=held,
                list_length=list_length,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
            )
        run = run.with_analysis(
            "capture",
            found.capture,
            settings={
                "conditions": conditions.source() | {"reference": found.capture.reference_condition}
            },
            warnings=list(found.warnings) + list(more),
        )
    return run
