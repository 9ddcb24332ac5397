"""``faceaudit audit``: images in, the whole audit out (1:1, 1:N, failures to acquire, report)."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C
from faceaudit.commands import _demographics as D
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    images: Path = typer.Argument(
        ..., help="Folder <subject>/<image> (LFW layout) or manifest CSV (path, subject, ...)."
    ),
    model: list[str] | None = typer.Option(
        None,
        "--model",
        "-m",
        help="dlib-resnet (default), facenet, onnx:PATH; repeat to compare models paired by "
        "subject on every pair of the images.",
    ),
    model_option: list[str] | None = typer.Option(
        None,
        "--model-option",
        "-O",
        help="Model option key=value (repeatable); with several models MODEL:key=value for one.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-j", help="Worker processes (default: CPUs)."
    ),
    cache: Path | None = typer.Option(None, "--cache", help="Embedding cache folder."),
    held_out: float = typer.Option(
        0.2, help="1:N: share (<1) or number of subjects kept out of the gallery (non-mated)."
    ),
    fmr_target: list[str] | None = C.FMR_TARGET,
    fpir_target: list[str] | None = C.FPIR_TARGET,
    list_length: int = typer.Option(50, help="1:N candidates per search."),
    metadata: Path | None = D.METADATA,
    by: str | None = D.BY,
    threshold_from: str = D.THRESHOLD_FROM,
    metadata_subject_column: str = D.METADATA_SUBJECT_COLUMN,
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Run the all-vs-all comparisons and the 1:N search on this Dask scheduler "
        "(tcp://host:8786), or 'local:N' for a local cluster of N workers (--workers stays the "
        "embedding processes). Needs faceaudit[dask].",
    ),
    work_dir: Path | None = C.WORK_DIR,
    condition: str | None = typer.Option(
        None,
        "--condition",
        help="Rates by capture condition: the manifest column holding each photo's condition.",
    ),
    condition_from_name: str | None = typer.Option(
        None,
        "--condition-from-name",
        help="Rates by capture condition, from the file name: a regular expression whose group "
        "(named 'condition', else the first) is the condition.",
    ),
    reference_condition: str | None = typer.Option(
        None,
        "--reference-condition",
        help="The condition the one threshold is fixed on (default: the most frequent).",
    ),
    condition_threshold: str = typer.Option(
        "fmr=1e-3",
        "--condition-threshold",
        help="How that threshold is fixed on the reference condition: fmr=1e-3, fpir=0.01 or "
        "value=0.42 (a similarity).",
    ),
    bootstrap: int = C.bootstrap_option(1000),
    confidence: float = C.CONFIDENCE,
    seed: int = typer.Option(0, help="Seed of the bootstrap and of the 1:N split."),
    out: Path = typer.Option(..., "--out", help="Output folder (results.json, report)."),
    force: bool = C.FORCE,
    title: str = typer.Option("Image audit", help=C.TITLE_HELP),
    quiet: bool = C.QUIET,
) -> None:
    """Embed the images (cached, resumable), then 1:1 and 1:N audits with FTA, and the report.

    With several --model: every model on the same photos, compared paired by subject on every
    pair of images (as compare: FNMR at FMR targets, EER, McNemar, --by group differences).
    """
    from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
    from faceaudit.audits import audit_images
    from faceaudit.commands._common import parse_model
    from faceaudit.io.images import discover_images

    log = C.destination(out, None, force, quiet)
    models = list(model or ["dlib-resnet"])
    image_set = discover_images(images)
    groups = D.group_by(metadata, by, threshold_from, metadata_subject_column, manifest=image_set)
    if len(models) > 1:
        from faceaudit.audits import audit_compare_models

        if condition or condition_from_name or reference_condition or scheduler or fpir_target:
            raise InputError(
                "several --model compare the models on the 1:1 pairs of the images; capture "
                "conditions, --fpir-target and --scheduler are for one model at a time."
            )
        parsed = [parse_model(m, _options_for(m, model_option, models)) for m in models]
        run = audit_compare_models(
            image_set, models=[n for n, _ in parsed], model_options=[o for _, o in parsed],
            names=models, workers=workers, cache_dir=cache,
            fmr_targets=C.parse_floats(fmr_target, "--fmr-target") or DEFAULT_FMR_TARGETS,
            demographics=groups, bootstrap=bootstrap, confidence=confidence, seed=seed,
            title="Paired comparison of models" if title == "Image audit" else title,
            progress=log,
        )  # fmt: skip
        C.finish(run, out, None, force, log)
        return
    name, options = parse_model(models[0], model_option)
    conditions = None
    if condition is not None or condition_from_name is not None:
        from faceaudit.audits.capture import ConditionsBy

        if condition is not None and condition_from_name is not None:
            raise InputError("give --condition or --condition-from-name, not both.")
        conditions = ConditionsBy(
            column=condition,
            pattern=condition_from_name,
            reference=reference_condition,
            threshold_from=condition_threshold,
        )
    elif reference_condition is not None:
        raise InputError(
            "--reference-condition needs --condition COLUMN or --condition-from-name REGEX."
        )
    with C.cluster(scheduler, None, work_dir):
        run = audit_images(
            image_set,
            model=name,
            model_options=options,
            workers=workers,
            cache_dir=cache,
            held_out=held_out,
            fmr_targets=C.parse_floats(fmr_target, "--fmr-target") or DEFAULT_FMR_TARGETS,
            fpir_targets=C.parse_floats(fpir_target, "--fpir-target") or None,
            list_length=list_length,
            demographics=groups,
            conditions=conditions,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            title=title,
            progress=log,
        )
    C.finish(run, out, None, force, log)


def _options_for(model: str, items: list[str] | None, models: list[str]) -> list[str]:
    """The ``-O`` items for one of several models: ``key=value`` for all, ``MODEL:key=value``
    for that model only."""
    out = []
    for item in items or []:
        key = item.partition("=")[0]
        prefix, sep, rest = key.rpartition(":")
        if sep and prefix in models:
            if prefix == model:
                out.append(rest + item[len(key) :])
        else:
            out.append(item)
    return out
