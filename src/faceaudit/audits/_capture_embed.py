"""The embedding pass of ``audit_capture``: photos as taken, the split, and the probe rows.

One :class:`~faceaudit.embedding.variants.EmbeddingSession` embeds and measures every photo as
taken; the split (:func:`faceaudit.analyses._capture_inputs.split_subjects`) picks each
subject's reference among them; every other photo becomes one probe row per condition: its own
recorded condition, or the clean photo and each level of the synthetic sweeps (degraded in
memory, embedded through the cache under derived keys).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceaudit.audits._capture_parts import (
    _cache_note,
    _eyes,
    _quality_value,
    _sweep_json,
    _synthetic_conditions,
    _variant,
)
from faceaudit.audits._capture_plan import CapturePlan
from faceaudit.audits.run import Progress
from faceaudit.capture.sweeps import CLEAN
from faceaudit.io.images import ImageSet


@dataclass(frozen=True)
class CaptureEmbedding:
    """What the embedding pass gives the analysis.

    ``clean`` is the session's result for the photos as taken (one outcome per image, in input
    order); ``split``, ``references`` and ``probes`` are the analysis's inputs
    (:mod:`faceaudit.analyses._capture_inputs`); ``conditions`` index ``probes.condition``, the
    reference condition first; ``sweep_json`` describes the synthetic sweeps (empty when
    recorded).
    """

    clean: object
    split: object
    references: object
    probes: object
    conditions: tuple
    sweep_json: tuple[dict, ...]


@dataclass(frozen=True)
class _Observer:
    """Turns one embedding outcome into a probe :class:`Observation`.

    ``file_q`` holds the user's quality score of each stored image (None: the built-in score of
    the outcome). A file scores stored images only: a degraded variant (condition ``k > 0`` of a
    synthetic sweep) then has no score (NaN).
    """

    file_q: np.ndarray | None
    recorded: bool

    def __call__(self, i: int, k: int, photo: str, o):
        """Probe photo ``photo`` of image ``i`` in condition ``k``; ``o`` its outcome."""
        from faceaudit.analyses._capture_inputs import Observation

        if not o.ok:
            return Observation(i, k, photo, o.status)
        score, measures = _quality_value(o.quality)
        if self.file_q is not None:
            score = float(self.file_q[i]) if (self.recorded or k == 0) else float("nan")
        return Observation(i, k, photo, o.status, o.embedding, score, measures)


def embed_capture(
    images: ImageSet,
    plan: CapturePlan,
    *,
    model_options: dict | None,
    cache_dir,
    quality_scores,
    progress: Progress,
) -> CaptureEmbedding:
    """Embed (and measure) every photo, split the subjects, build the probe rows.

    Progress: the bar ``embedding the photos as taken (<model>)``, for a synthetic sweep the bar
    ``degrading and embedding the probes``, then one cache note per pass.
    """
    from faceaudit.analyses._capture_inputs import probe_observations
    from faceaudit.embedding.variants import EmbeddingSession, Variant

    records = images.records
    samples = [r.sample for r in records]
    notes: list[str] = []
    with EmbeddingSession(
        model=plan.model,
        options=dict(model_options or {}),
        workers=plan.workers,
        cache_dir=cache_dir,
    ) as session:
        with progress.bar(f"embedding the photos as taken ({plan.model})", "images") as update:
            clean = session.embed(
                images,
                [Variant(i) for i in range(len(records))],
                measure=True,
                layout=plan.layout,
                progress=lambda p: update(p.done, p.total),
            )
        notes.append(_cache_note("photos as taken", clean))
        split, refs, file_q = _references(images, plan, clean, quality_scores)
        is_ref = split.is_reference
        probe_images = [i for i in range(len(records)) if not is_ref[i]]
        observe = _Observer(file_q, plan.recorded)
        if plan.recorded:
            conds, rows = _recorded_rows(plan, samples, clean.outcomes, probe_images, observe)
            sweep_json: tuple[dict, ...] = ()
        else:
            conds, rows, note = _synthetic_rows(
                session, images, plan, clean.outcomes, probe_images, observe, progress
            )
            notes.append(note)
            sweep_json = tuple(_sweep_json(s) for s in plan.sweeps)
    for line in notes:
        progress.note(line)
    probes = probe_observations(split, samples, rows, int(clean.model.dim))
    return CaptureEmbedding(clean, split, refs, probes, tuple(conds), sweep_json)


def _references(images: ImageSet, plan: CapturePlan, clean, quality_scores):
    """``(split, references, file_q)``: the split of the subjects, their clean references
    (with the file's quality score, else the built-in one) and the file's score per image."""
    from faceaudit.analyses._capture_inputs import references_of, split_subjects

    records = images.records
    samples = [r.sample for r in records]
    outs = clean.outcomes
    acquired = np.array([o.ok for o in outs], dtype=bool)
    eligible = (
        np.array([v == plan.ref_name for v in plan.labels], dtype=bool)
        if plan.recorded
        else np.ones(len(records), dtype=bool)
    )
    split = split_subjects(
        [r.subject for r in records], acquired, eligible, held_out=plan.held, seed=plan.seed
    )
    emb = np.zeros((len(records), int(clean.model.dim)), dtype=np.float32)
    for i, o in enumerate(outs):
        if o.ok:
            emb[i] = o.embedding
    file_q = None
    if quality_scores is not None:
        file_q = quality_scores.lookup(samples)
    clean_q = np.array([_quality_value(o.quality)[0] for o in outs])
    ref_quality = file_q if file_q is not None else clean_q
    return split, references_of(split, emb, samples, ref_quality), file_q


def _recorded_rows(plan: CapturePlan, samples, outs, probe_images, observe):
    """Recorded conditions (the reference first, the others by name) and one row per probe."""
    from faceaudit.analyses.capture import Condition

    names = [plan.ref_name] + sorted(set(plan.labels) - {plan.ref_name})
    conds = [Condition(n, n, "recorded") for n in names]
    index = {n: k for k, n in enumerate(names)}
    rows = [observe(i, index[plan.labels[i]], samples[i], outs[i]) for i in probe_images]
    return conds, rows


def _synthetic_rows(session, images, plan: CapturePlan, outs, probe_images, observe, progress):
    """``(conditions, rows, cache note)`` of a synthetic sweep: each probe clean (condition 0,
    ``<sample>#clean``) and at every sweep level (``<sample>#<level>``); a probe with no face
    as taken is a failure to acquire at every level, without being degraded."""
    from faceaudit.analyses._capture_inputs import Observation
    from faceaudit.embedding.variants import image_seed

    samples = [r.sample for r in images.records]
    conds, levels = _synthetic_conditions(plan.sweeps)
    rows = [observe(i, 0, f"{samples[i]}#{CLEAN}", outs[i]) for i in probe_images]
    eyes = {i: _eyes(outs[i].face, plan.layout) for i in probe_images if outs[i].ok}
    variants, where = [], []
    for k, (sweep, level) in enumerate(levels, start=1):
        for i in probe_images:
            o = outs[i]
            photo = f"{samples[i]}#{level.name}"
            if not o.ok:  # no usable face as taken: none degraded either
                rows.append(Observation(i, k, photo, o.status))
                continue
            variants.append(_variant(sweep, level, i, o, eyes[i], plan.seed, image_seed))
            where.append((len(rows), k, photo))
            rows.append(None)
    with progress.bar("degrading and embedding the probes", "images") as update:
        deg = session.embed(
            images,
            variants,
            measure=True,
            layout=plan.layout,
            progress=lambda p: update(p.done, p.total),
        )
    for (pos, k, photo), v, o in zip(where, variants, deg.outcomes, strict=True):
        rows[pos] = observe(v.record, k, photo, o)
    return conds, rows, _cache_note("degraded probes", deg)
