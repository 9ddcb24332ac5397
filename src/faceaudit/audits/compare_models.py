"""``audit_compare_models``: the same photos through several models, compared paired by subject."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
from faceaudit.audits.compare import audit_compare
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.io.images import ImageSet, image_set_input

__all__ = ["audit_compare_models"]


def audit_compare_models(
    images: ImageSet,
    *,
    models: Sequence[str],
    model_options: Sequence[Mapping[str, Any]] | None = None,
    names: Sequence[str] | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    demographics: GroupBy | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    adjustment: str = "holm",
    title: str = "Paired comparison of models",
    progress: Progress = SILENT,
) -> Run:
    """Embed the images with every model (cached), then compare the models on every pair.

    The comparisons are all pairs of distinct images (:func:`faceaudit.analyses.
    _system_comparison_images.paired_image_scores`); a model's failure to acquire an image
    leaves the pairs of that image without a score in that model. Then :func:`audit_compare`:
    FNMR at each FMR target (each model at its own threshold), FMR and FNMR at ``thresholds``
    (cosine similarities), the EER, McNemar, and with ``demographics`` the paired group
    differences, from one subject bootstrap shared by all models. 1:1 only.

    Parameters
    ----------
    images : ImageSet
    models : sequence of str
        Two or more recognizers (registry names or ``"package.module:Class"``).
    model_options : sequence of mapping, optional
        One options mapping per model.
    names : sequence of str, optional
        System names (default: the model names, numbered when one is repeated).
    workers, cache_dir
        As :func:`~faceaudit.audits.images.audit_images`.
    fmr_targets, thresholds, demographics, bootstrap, confidence, seed, adjustment, title
        As :func:`audit_compare`.
    """
    from faceaudit.analyses._system_comparison_images import paired_image_scores
    from faceaudit.embedding.pipeline import embed_images
    from faceaudit.errors import InputError

    models = [str(m) for m in models]
    if len(models) < 2:
        raise InputError("comparing models needs at least two models.")
    options = list(model_options or [{} for _ in models])
    if len(options) != len(models):
        raise ValueError("model_options needs one mapping per model")
    names = list(names) if names else _names(models)
    if len(names) != len(models) or len(set(names)) != len(names):
        raise InputError("give one distinct name per model.")
    results = []
    for model, opts in zip(models, options, strict=True):
        with progress.bar(f"embedding ({model})", "images") as update:
            results.append(embed_images(
                images, model=model, options=dict(opts), workers=workers, cache_dir=cache_dir,
                progress=lambda p, u=update: u(p.done, p.total),
            ))  # fmt: skip
    for name, r in zip(names, results, strict=True):
        progress.note(f"{name}: embedded {r.embeddings.shape[0]:,} of {r.n_images:,} images "
                      f"({r.n_failed:,} failures to acquire)")  # fmt: skip
    try:
        data = paired_image_scores(results, names)
    except ValueError as exc:
        raise InputError(f"{exc}.") from None
    run = audit_compare(data, fmr_targets=fmr_targets, thresholds=thresholds, bootstrap=bootstrap,
                        confidence=confidence, seed=seed, adjustment=adjustment, title=title,
                        demographics=demographics, progress=progress)  # fmt: skip
    fta = [f"{n}: {r.n_failed:,} of {r.n_images:,} images without an embedding (failures to "
           "acquire); their pairs have no score in this model." for n, r in zip(names, results,
                                                                                 strict=True)
           if r.n_failed]  # fmt: skip
    return run.with_analysis(
        "compare",
        run["compare"],
        inputs=(image_set_input(images),),
        settings={
            "models": [r.model.id for r in results],
            "model_versions": [r.model.version for r in results],
        },  # fmt: skip
        warnings=(*images.warnings, *fta),
    )


def _names(models: list[str]) -> list[str]:
    out = []
    for k, m in enumerate(models):
        n = models[:k].count(m)
        out.append(m if models.count(m) == 1 else f"{m} ({n + 1})")
    return out
