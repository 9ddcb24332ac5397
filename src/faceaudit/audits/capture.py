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
from faceaudit.audits._capture_parts import (
    _cache_note,
    _examples_writer,
    _eyes,
    _find_image,
    _layout,
    _quality_value,
    _split_warnings,
    _sweep_json,
    _synthetic_conditions,
    _threshold_keywords,
    _variant,
)
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.capture.sweeps import CLEAN, Sweep, build_sweeps
from faceaudit.data import InputFile
from faceaudit.errors import InputError
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
        FPIR target, or a similarity value. At most one (with ``conditions``, its
        ``threshold_from`` says it).
    list_length : int
        1:N candidates per search.
    bootstrap, confidence, seed
        Subject-bootstrap replicates (0: none), level; the seed also draws the held-out
        subjects and the per-image seeds of random degradations.
    show_examples : str, optional
        One image (path or id): the degradations applied to it are written as PNGs to the
        output folder's ``examples/``. Nothing else in the output shows a face.
    """
    from faceaudit.analyses._capture_inputs import (
        Observation,
        probe_observations,
        references_of,
        split_subjects,
    )
    from faceaudit.analyses._capture_quality import QualityInput
    from faceaudit.analyses.capture import Condition, capture_conditions
    from faceaudit.embedding.variants import (
        EmbeddingSession,
        Variant,
        as_embedding_result,
        image_seed,
    )

    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    list_length = params.count("list_length", list_length, minimum=1)
    if workers is not None:
        workers = params.count("workers", workers)
    held = params.held_out_subjects("held_out", held_out)
    rule = _threshold_keywords(conditions, fmr_target, fpir_target, threshold)
    if conditions is not None and sweeps:
        raise InputError(
            "capture conditions are either recorded with the photos or rendered synthetically; "
            "give conditions or sweeps, not both."
        )
    if conditions is not None and show_examples is not None:
        raise params.ParameterError(
            "show_examples",
            show_examples,
            "shows the synthetic degradations of one image; with recorded conditions there is "
            "nothing to render.",
        )
    recorded = conditions is not None
    labels = conditions.labels(images) if recorded else ()
    if recorded:
        ref_name, ref_rule = _choose_reference(labels, conditions.reference)
    else:
        sweeps = tuple(sweeps) if sweeps else build_sweeps()
        ref_name, ref_rule = CLEAN, "the photos as taken (before any degradation)"
    layout = _layout(model)
    if not recorded and layout is None and any(s.needs_eyes for s in sweeps):
        raise InputError(
            f"the landmark layout of model {model!r} is not known, so the eye centres that "
            "downscale needs cannot be found; sweep other degradations with this model."
        )
    example = None if show_examples is None else _find_image(images, show_examples)
    records = images.records
    samples = [r.sample for r in records]
    notes: list[str] = []

    with EmbeddingSession(
        model=model, options=dict(model_options or {}), workers=workers, cache_dir=cache_dir
    ) as session:
        with progress.bar(f"embedding the photos as taken ({model})", "images") as update:
            clean = session.embed(
                images,
                [Variant(i) for i in range(len(records))],
                measure=True,
                layout=layout,
                progress=lambda p: update(p.done, p.total),
            )
        notes.append(_cache_note("photos as taken", clean))
        outs = clean.outcomes
        acquired = np.array([o.ok for o in outs], dtype=bool)
        eligible = (
            np.array([v == ref_name for v in labels], dtype=bool)
            if recorded
            else np.ones(len(records), dtype=bool)
        )
        split = split_subjects(
            [r.subject for r in records], acquired, eligible, held_out=held, seed=seed
        )
        dim = int(clean.model.dim)
        emb = np.zeros((len(records), dim), dtype=np.float32)
        for i, o in enumerate(outs):
            if o.ok:
                emb[i] = o.embedding
        file_q = None
        if quality_scores is not None:
            file_q = quality_scores.lookup(samples)
        clean_q = np.array([_quality_value(o.quality)[0] for o in outs])
        ref_quality = file_q if file_q is not None else clean_q
        refs = references_of(split, emb, samples, ref_quality)
        is_ref = split.is_reference
        probe_images = [i for i in range(len(records)) if not is_ref[i]]

        def observe(i: int, k: int, photo: str, o) -> Observation:
            """Probe photo ``photo`` of image ``i`` in condition ``k``; ``o`` its outcome."""
            if not o.ok:
                return Observation(i, k, photo, o.status)
            score, measures = _quality_value(o.quality)
            if file_q is not None:  # a file scores stored images: not degraded variants
                score = float(file_q[i]) if (recorded or k == 0) else float("nan")
            return Observation(i, k, photo, o.status, o.embedding, score, measures)

        if recorded:
            names = [ref_name] + sorted(set(labels) - {ref_name})
            conds = [Condition(n, n, "recorded") for n in names]
            index = {n: k for k, n in enumerate(names)}
            rows = [observe(i, index[labels[i]], samples[i], outs[i]) for i in probe_images]
            sweep_json: list[dict] = []
        else:
            conds, levels = _synthetic_conditions(sweeps)
            rows = [observe(i, 0, f"{samples[i]}#{CLEAN}", outs[i]) for i in probe_images]
            eyes = {i: _eyes(outs[i].face, layout) for i in probe_images if outs[i].ok}
            variants, where = [], []
            for k, (sweep, level) in enumerate(levels, start=1):
                for i in probe_images:
                    o = outs[i]
                    photo = f"{samples[i]}#{level.name}"
                    if not o.ok:  # no usable face as taken: none degraded either
                        rows.append(Observation(i, k, photo, o.status))
                        continue
                    variants.append(_variant(sweep, level, i, o, eyes[i], seed, image_seed))
                    where.append((len(rows), k, photo))
                    rows.append(None)
            with progress.bar("degrading and embedding the probes", "images") as update:
                deg = session.embed(
                    images,
                    variants,
                    measure=True,
                    layout=layout,
                    progress=lambda p: update(p.done, p.total),
                )
            notes.append(_cache_note("degraded probes", deg))
            for (pos, k, photo), v, o in zip(where, variants, deg.outcomes, strict=True):
                rows[pos] = observe(v.record, k, photo, o)
            sweep_json = [_sweep_json(s) for s in sweeps]
    for line in notes:
        progress.note(line)

    source = "built-in"
    quality = QualityInput()
    if quality_scores is not None:
        source = "file"
        qnotes = ()
        if not recorded:
            qnotes = (
                "The quality file can score only photos that exist as files: the degraded "
                "probes exist only in memory, so the EDC and the gates use the clean photos "
                "alone.",
            )
        quality = QualityInput(
            source="file",
            description=(
                f"{quality_scores.score_column} from {quality_scores.source} "
                f"({quality_scores.kind}; higher = better)"
            ),
            file=quality_scores.to_json(),
            notes=qnotes,
        )
    probes = probe_observations(split, samples, rows, dim)
    eligible_text = (
        f"each subject's first photo in the reference condition {ref_name!r} that yields a face"
        if recorded
        else "each subject's first image that yields a face, clean"
    )
    with progress.stage("capture analysis"):
        result = capture_conditions(
            refs,
            probes,
            conds,
            subjects=split.names,
            reference=ref_name,
            list_length=list_length,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            mode="recorded" if recorded else "synthetic",
            condition_source=conditions.source() if recorded else {"kind": "synthetic sweep"},
            reference_rule=ref_rule,
            split=split.to_json(eligible_text),
            sweeps=sweep_json,
            quality=quality,
            **rule,
        )
    embedding = as_embedding_result(images, clean, source=str(images.source))
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
    if example is not None:
        attachments["examples"] = _examples_writer(
            images, example, outs[example], sweeps, layout, seed
        )
    settings = {
        "orientation": "similarity",
        "model": model,
        "held_out": held_out,
        "list_length": list_length,
        "bootstrap": bootstrap,
        "confidence": confidence,
        "seed": seed,
        "capture_mode": "recorded" if recorded else "synthetic",
        "capture_threshold": {k: v for k, v in rule.items() if v is not None},
        "quality_source": source,
    }
    if recorded:
        settings["conditions"] = conditions.source() | {"reference": ref_name}
    else:
        settings["sweeps"] = [s.name for s in sweeps]
    if example is not None:
        settings["show_examples"] = samples[example]
    warnings = list(result.warnings) + list(_split_warnings(split, recorded, ref_name))
    return Run(
        title=title,
        analyses={
            **result.analyses(),
            "acquisition": embedding.acquisition(confidence=confidence, bootstrap=bootstrap),
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
        **parse_threshold_rule(conditions.threshold_from),
    )
    return result, _split_warnings(split, True, ref_name)
