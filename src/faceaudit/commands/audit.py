"""``faceaudit audit``: images in, the whole audit out (1:1, 1:N, failures to acquire, report)."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands._common import (
    CONFIDENCE_OPTION,
    FORCE_OPTION,
    QUIET_OPTION,
    Log,
    check_bootstrap,
    check_targets,
    err_console,
    parse_floats,
)
from faceaudit.commands._demographics import (
    BY_OPTION,
    METADATA_OPTION,
    METADATA_SUBJECT_COLUMN_OPTION,
    THRESHOLD_FROM_OPTION,
    add_demographics,
    demographics_from_options,
)
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    images: Path = typer.Argument(
        ..., help="Folder <subject>/<image> (LFW layout) or manifest CSV (path, subject, ...)."
    ),
    model: str = typer.Option("dlib-resnet", "--model", "-m", help="dlib-resnet, facenet, onnx."),
    model_option: list[str] | None = typer.Option(
        None, "--model-option", "-O", help="Model option key=value (repeatable)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-j", min=0, help="Worker processes (default: CPUs)."
    ),
    cache: Path | None = typer.Option(None, "--cache", help="Embedding cache folder."),
    held_out: float = typer.Option(
        0.2, help="1:N: share (<1) or number of subjects kept out of the gallery (non-mated)."
    ),
    fmr_target: list[str] | None = typer.Option(None, "--fmr-target", help="FMR targets."),
    fpir_target: list[str] | None = typer.Option(None, "--fpir-target", help="FPIR targets."),
    list_length: int = typer.Option(50, help="1:N candidates per search."),
    metadata: Path | None = METADATA_OPTION,
    by: str | None = BY_OPTION,
    threshold_from: str = THRESHOLD_FROM_OPTION,
    metadata_subject_column: str = METADATA_SUBJECT_COLUMN_OPTION,
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates (0: none)."),
    confidence: float = CONFIDENCE_OPTION,
    seed: int = typer.Option(0, help="Seed of the bootstrap and of the 1:N split."),
    out: Path = typer.Option(..., "--out", help="Output folder (results.json, report)."),
    force: bool = FORCE_OPTION,
    title: str = typer.Option("Image audit", help="Report title."),
    quiet: bool = QUIET_OPTION,
) -> None:
    """Embed the images (cached, resumable), then 1:1 and 1:N audits with FTA, and the report."""
    from faceaudit.analyses.image_audit import audit_embeddings, image_input
    from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
    from faceaudit.commands._demographics import check_demographics_options
    from faceaudit.commands.embed import embed_with_progress, parse_model
    from faceaudit.data import SubjectMetadata
    from faceaudit.io.images import discover_images
    from faceaudit.results import new_results, write_output

    fmr_targets = parse_floats(fmr_target, "--fmr-target") or list(DEFAULT_FMR_TARGETS)
    check_targets(fmr_targets, "--fmr-target")
    fpir_targets = parse_floats(fpir_target, "--fpir-target") or None
    check_targets(fpir_targets or [], "--fpir-target")
    check_bootstrap(bootstrap, confidence)
    if out.exists() and not force:
        raise InputError("the output folder already exists; pass --force to replace it.", path=out)
    meta = None
    if metadata is not None:
        meta = check_demographics_options(
            metadata, by, threshold_from=threshold_from, subject_column=metadata_subject_column
        )
    name, options = parse_model(model, model_option)
    image_set = discover_images(images)
    log = Log(quiet=quiet)
    embedding = embed_with_progress(
        image_set,
        model=name,
        options=options,
        workers=workers,
        cache_dir=cache,
        quiet=quiet,
        console=err_console,
    )
    log.note(
        f"embedded {embedding.embeddings.shape[0]:,} of {embedding.n_images:,} images "
        f"({embedding.n_failed:,} failures to acquire)"
    )
    if by is not None and meta is None:
        # the manifest's own columns are the metadata (one value per subject)
        meta = _manifest_metadata(embedding, by)
    with log.stage("1:1 and 1:N audits"):
        result = audit_embeddings(
            embedding,
            held_out=held_out if held_out < 1 else int(held_out),
            fmr_targets=fmr_targets,
            fpir_targets=fpir_targets,
            list_length=list_length,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
        )
    results = new_results(
        title=title,
        inputs=[image_input(embedding, [str(r.path) for r in image_set.records])],
        settings={
            "orientation": "similarity",
            "model": name,
            "fmr_targets": fmr_targets,
            "held_out": held_out,
            "list_length": list_length,
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "bootstrap_unit": result.verification.bootstrap.unit,
            "n_bootstrap_units": result.verification.bootstrap.n_units,
        },
        warnings=result.warnings,
    )
    results.update(result.to_json())
    if meta is not None:
        with log.stage(f"demographic differentials by {by}"):
            demo = demographics_from_options(
                result.comparisons,
                metadata,
                by,
                threshold_from=threshold_from,
                subject_column=metadata_subject_column,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
                verification=result.verification,
                meta=meta if isinstance(meta, SubjectMetadata) else None,
            )
        add_demographics(results, demo)
    with log.stage("writing report"):
        write_output(results, out, force=force, log=log.text())
    log.note(f"report: {out / 'report.html'}")


def _manifest_metadata(embedding, by: str):
    """Subject metadata from the image manifest's columns (``--by`` without ``--metadata``)."""
    from faceaudit.data import SubjectMetadata

    attrs = [a.strip() for a in by.split(",") if a.strip()]
    missing = [a for a in attrs if a not in embedding.metadata]
    if missing:
        raise InputError(
            f"--by {by!r}: the manifest has no column {missing[0]!r} (it has "
            f"{', '.join(embedding.metadata) or 'no metadata columns'}); give --metadata FILE."
        )
    mapping = {
        a: {str(s): str(v) for s, v in zip(embedding.subjects, embedding.metadata[a], strict=True)}
        for a in attrs
    }
    return SubjectMetadata.from_mapping(mapping)
