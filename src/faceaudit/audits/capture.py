"""``audit_capture``: what capture conditions do to the error rates; would a quality gate help?

Two ways in, one analysis (:mod:`faceaudit.analyses.capture`):

* **synthetic** (``sweeps=`` or the default profiles): each subject's first image that yields a
  face enrols clean; the other images are probes, embedded clean (the reference condition
  ``clean``, where the threshold is fixed) and again under each degradation and severity of the
  sweeps, with the eye centres of the clean probe's face. Degraded images exist only in memory
  and go through the embedding cache under derived keys
  (:mod:`faceaudit.embedding.variants`): a rerun is served from the cache and a killed sweep
  resumes;
* **recorded** (``conditions=ConditionsBy(column="condition")`` or
  ``ConditionsBy(pattern=r"_(\\w+)\\.png$")``): the condition each photo was taken in, from a
  manifest column or the file name; each subject enrols its first photo of the reference condition
  (``reference=``, default the most frequent condition) that yields a face.

Every probe photo is also measured (:func:`faceaudit.capture.measure_quality`, with the
recognizer's landmarks), so the result has a ``quality`` part: measures by condition, EDC curves
and quality gates (or, with ``quality_scores=``, the same for the user's own scores, e.g. OFIQ's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from faceaudit import params
from faceaudit.audits._capture_conditions import (
    ConditionsBy,
    _choose_reference,
    image_conditions,
    parse_threshold_rule,
)
from faceaudit.audits._capture_embed import CaptureEmbedding, embed_capture
from faceaudit.audits._capture_parts import _examples_writer, _split_warnings
from faceaudit.audits._capture_plan import CapturePlan, capture_plan, threshold_keywords
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.capture.sweeps import Sweep
from faceaudit.data import InputFile
from faceaudit.io.images import ImageSet, image_set_input

__all__ = ["ConditionsBy", "audit_capture", "image_conditions", "parse_threshold_rule"]


def audit_capture(
    images: ImageSet,
    *,
    model: str = "dlib-resnet",
    model_options: dict | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    sweeps: Sequence[Sweep] | None = None,
    conditions: ConditionsBy | None = None,
    quality_scores=None,
    held_out: float | int = 0.2,
    fmr_target: float | None = None,
    fpir_target: float | None = None,
    threshold: float | None = None,
    list_length: int = 50,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    show_examples: str | None = None,
    title: str = "Capture conditions audit",
    progress: Progress = SILENT,
) -> Run:
    """Error rates by capture condition at one threshold, and the quality analysis.

    Parameters
    ----------
    images : ImageSet
        :func:`faceaudit.io.images.discover_images` of a folder ``<subject>/<image>`` or manifest.
    model, model_options, workers, cache_dir
        Recognizer, its options, worker processes (default: the CPUs) and cache folder.
    sweeps : sequence of Sweep, optional
        Synthetic conditions (:func:`faceaudit.capture.sweeps.build_sweeps`); default the
        built-in profiles. Not with ``conditions``.
    conditions : ConditionsBy, optional
        Recorded conditions instead of synthetic ones.
    quality_scores : QualityScores, optional
        The user's own per-image scores (:func:`faceaudit.io.quality_scores.read_quality_scores`)
        for the EDC and the gates, instead of the built-in score. Files can score only photos
        that exist as files: with a synthetic sweep, only the clean ones.
    held_out : float or int
        Share (< 1) or number of subjects not enrolled in the 1:N gallery.
    fmr_target, fpir_target, threshold
        The one threshold, fixed on the reference condition: at an FMR target (default 1e-3), an
        FPIR target, or a similarity value. At most one; with ``conditions``, its
        ``threshold_from`` may say it instead (then none of the three).
    list_length : int
        1:N candidates per search.
    bootstrap, confidence, seed
        Subject-bootstrap replicates (0: none), level; the seed also draws the held-out
        subjects and the per-image seeds of random degradations.
    show_examples : str, optional
        One image (path or id): the degradations applied to it are written as PNGs to the
        output folder's ``examples/``. Nothing else in the output shows a face.
    """
    from faceaudit.analyses.capture import capture_conditions

    plan = capture_plan(
        images,
        model=model,
        workers=workers,
        sweeps=sweeps,
        conditions=conditions,
        held_out=held_out,
        fmr_target=fmr_target,
        fpir_target=fpir_target,
        threshold=threshold,
        list_length=list_length,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        show_examples=show_examples,
    )
    found = embed_capture(
        images,
        plan,
        model_options=model_options,
        cache_dir=cache_dir,
        quality_scores=quality_scores,
        progress=progress,
    )
    with progress.stage("capture analysis"):
        result = capture_conditions(
            found.references,
            found.probes,
            found.conditions,
            subjects=found.split.names,
            reference=plan.ref_name,
            list_length=plan.list_length,
            bootstrap=plan.bootstrap,
            confidence=plan.confidence,
            seed=plan.seed,
            mode=plan.mode,
            condition_source=(
                conditions.source() if plan.recorded else {"kind": "synthetic sweep"}
            ),
            reference_rule=plan.ref_rule,
            split=found.split.to_json(plan.eligible_text),
            sweeps=found.sweep_json,
            quality=_quality_input(quality_scores, plan.recorded),
            **plan.rule,
        )
    return _capture_run(images, plan, found, result, quality_scores, title, held_out)


def _quality_input(quality_scores, recorded: bool):
    """The :class:`~faceaudit.analyses._capture_quality.QualityInput`: the built-in score, or
    the user's file (with a synthetic sweep, it scores the clean photos alone)."""
    from faceaudit.analyses._capture_quality import QualityInput

    if quality_scores is None:
        return QualityInput()
    notes = ()
    if not recorded:
        notes = (
            "The quality file can score only photos that exist as files: the degraded "
            "probes exist only in memory, so the EDC and the gates use the clean photos "
            "alone.",
        )
    return QualityInput(
        source="file",
        description=(
            f"{quality_scores.score_column} from {quality_scores.source} "
            f"({quality_scores.kind}; higher = better)"
        ),
        file=quality_scores.to_json(),
        notes=notes,
    )


def _capture_run(
    images: ImageSet,
    plan: CapturePlan,
    found: CaptureEmbedding,
    result,
    quality_scores,
    title: str,
    held_out: float | int,
) -> Run:
    """The :class:`Run`: the capture analysis with acquisition and model, the inputs (images
    and the quality file), the settings as given (``held_out`` unnormalised), warnings, and the
    examples writer when ``show_examples`` names an image."""
    from faceaudit.embedding.variants import as_embedding_result

    embedding = as_embedding_result(images, found.clean, source=str(images.source))
    inputs = [image_set_input(images)]
    if quality_scores is not None:
        inputs.append(
            InputFile(
                path=str(quality_scores.source),
                sha256=quality_scores.sha256,
                records=len(quality_scores),
            )
        )
    attachments = {}
    if plan.example is not None:
        attachments["examples"] = _examples_writer(
            images,
            plan.example,
            found.clean.outcomes[plan.example],
            plan.sweeps,
            plan.layout,
            plan.seed,
        )
    settings = {
        "orientation": "similarity",
        "model": plan.model,
        "held_out": held_out,
        "list_length": plan.list_length,
        "bootstrap": plan.bootstrap,
        "confidence": plan.confidence,
        "seed": plan.seed,
        "capture_mode": plan.mode,
        "capture_threshold": {k: v for k, v in plan.rule.items() if v is not None},
        "quality_source": "built-in" if quality_scores is None else "file",
    }
    if plan.recorded:
        settings["conditions"] = plan.conditions.source() | {"reference": plan.ref_name}
    else:
        settings["sweeps"] = [s.name for s in plan.sweeps]
    if plan.example is not None:
        settings["show_examples"] = images.records[plan.example].sample
    warnings = [*result.warnings, *_split_warnings(found.split, plan.recorded, plan.ref_name)]
    return Run(
        title=title,
        analyses={
            **result.analyses(),
            "acquisition": embedding.acquisition(
                confidence=plan.confidence, bootstrap=plan.bootstrap
            ),
            "model": embedding.model,
        },
        inputs=tuple(inputs),
        settings=settings,
        warnings=tuple(warnings),
        attachments=attachments,
    )


def conditions_analysis(
    images: ImageSet,
    embedding,
    conditions: ConditionsBy,
    *,
    held_out: float | int,
    list_length: int,
    bootstrap: int,
    confidence: float,
    seed: int,
):
    """The recorded-conditions analysis of embeddings already made (``audit_images``).

    ``embedding`` is the :class:`~faceaudit.embedding.EmbeddingResult` of ``images``. Returns the
    :class:`~faceaudit.analyses.capture.CaptureAnalysis` (no quality part: the photos were not
    measured).
    """
    from faceaudit.analyses._capture_inputs import (
        Observation,
        probe_observations,
        references_of,
        split_subjects,
    )
    from faceaudit.analyses.capture import Condition, capture_conditions

    labels = conditions.labels(images)
    ref_name, ref_rule = _choose_reference(labels, conditions.reference)
    records = images.records
    samples = [r.sample for r in records]
    row_of = {str(s): k for k, s in enumerate(embedding.samples)}
    reason_of = {f.image: f.reason for f in embedding.failures}
    dim = int(embedding.dim)
    emb = np.zeros((len(records), dim), dtype=np.float32)
    status = []
    for i, s in enumerate(samples):
        if s in row_of:
            emb[i] = embedding.embeddings[row_of[s]]
            status.append("ok")
        else:
            status.append(reason_of.get(s, "embed_error"))
    acquired = np.array([st == "ok" for st in status], dtype=bool)
    eligible = np.array([v == ref_name for v in labels], dtype=bool)
    split = split_subjects(
        [r.subject for r in records],
        acquired,
        eligible,
        held_out=params.held_out_subjects("held_out", held_out),
        seed=seed,
    )
    refs = references_of(split, emb, samples)
    names = [ref_name] + sorted(set(labels) - {ref_name})
    index = {n: k for k, n in enumerate(names)}
    is_ref = split.is_reference
    rows = [
        Observation(i, index[labels[i]], samples[i], status[i], emb[i] if acquired[i] else None)
        for i in range(len(records))
        if not is_ref[i]
    ]
    result = capture_conditions(
        refs,
        probe_observations(split, samples, rows, dim),
        [Condition(n, n, "recorded") for n in names],
        subjects=split.names,
        reference=ref_name,
        list_length=list_length,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        mode="recorded",
        condition_source=conditions.source(),
        reference_rule=ref_rule,
        split=split.to_json(
            f"each subject's first photo in the reference condition {ref_name!r} that yields a face"
        ),
        **threshold_keywords(conditions, None, None, None),
    )
    return result, _split_warnings(split, True, ref_name)
