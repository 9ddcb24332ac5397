"""``faceaudit errors``: the 1:1 audit of exported comparison scores."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands._common import (
    CONFIDENCE_OPTION,
    FORCE_OPTION,
    JSON_OPTION,
    OUT_OPTION,
    QUIET_OPTION,
    Log,
    check_bootstrap,
    check_destination,
    check_targets,
    parse_floats,
    write_results,
)
from faceaudit.commands._demographics import (
    BY_OPTION,
    METADATA_OPTION,
    METADATA_SUBJECT_COLUMN_OPTION,
    THRESHOLD_FROM_OPTION,
    add_demographics,
    check_demographics_options,
    demographics_from_options,
)


def register(app: typer.Typer) -> None:
    app.command("errors")(errors)


def errors(
    scores: Path | None = typer.Option(
        None, "--scores", help="CSV/TSV/Parquet table: score, mated (+ probe/reference subjects)."
    ),
    genuine: Path | None = typer.Option(
        None, "--genuine", help="Genuine (mated) scores: pyeer text file (one per line) or .npy."
    ),
    impostor: Path | None = typer.Option(
        None, "--impostor", help="Impostor (non-mated) scores: pyeer text file or .npy."
    ),
    bob: Path | None = typer.Option(None, "--bob", help="bob.measure 4- or 5-column score file."),
    similarity: bool = typer.Option(
        True, "--similarity/--distance", help="Which way scores point (distance: lower = closer)."
    ),
    score_column: str = typer.Option("score", help="Score column name in --scores."),
    mated_column: str = typer.Option("mated", help="Mated column name (bool or 0/1)."),
    probe_subject_column: str = typer.Option("probe_subject", help="Probe subject column name."),
    reference_subject_column: str = typer.Option(
        "reference_subject", help="Reference subject column name."
    ),
    fmr_target: list[str] | None = typer.Option(
        None, "--fmr-target", help="FMR targets (repeat or comma-separate). Default 1e-1 ... 1e-6."
    ),
    threshold: list[str] | None = typer.Option(
        None, "--threshold", help="Also report FMR/FNMR at these thresholds (file's own units)."
    ),
    metadata: Path | None = METADATA_OPTION,
    by: str | None = BY_OPTION,
    threshold_from: str = THRESHOLD_FROM_OPTION,
    metadata_subject_column: str = METADATA_SUBJECT_COLUMN_OPTION,
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates for intervals (0: none)."),
    confidence: float = CONFIDENCE_OPTION,
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    out: Path | None = OUT_OPTION,
    json_out: str | None = JSON_OPTION,
    force: bool = FORCE_OPTION,
    title: str = typer.Option("1:1 verification audit", help="Report title."),
    quiet: bool = QUIET_OPTION,
) -> None:
    """1:1 audit: FMR, FNMR, DET, EER and FNMR at FMR targets, with confidence intervals."""
    from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS, verify
    from faceaudit.io.scores import ColumnNames, load_scores
    from faceaudit.results import new_results

    check_destination(out, json_out, force)
    targets = parse_floats(fmr_target, "--fmr-target") or list(DEFAULT_FMR_TARGETS)
    check_targets(targets, "--fmr-target")
    extra = parse_floats(threshold, "--threshold")
    check_bootstrap(bootstrap, confidence)

    meta = check_demographics_options(
        metadata, by, threshold_from=threshold_from, subject_column=metadata_subject_column
    )

    log = Log(quiet=quiet or json_out == "-" and out is None)
    orientation = "similarity" if similarity else "distance"
    columns = ColumnNames(
        score=score_column,
        mated=mated_column,
        probe_subject=probe_subject_column,
        reference_subject=reference_subject_column,
    )
    with log.stage("reading scores"):
        data = load_scores(
            table=scores,
            genuine=genuine,
            impostor=impostor,
            bob=bob,
            columns=columns,
            orientation=orientation,
        )
    with log.stage(
        f"computing rates ({len(data.genuine):,} genuine, {len(data.impostor):,} impostor"
        + (f", {bootstrap} bootstrap replicates)" if bootstrap else ")")
    ):
        result = verify(
            data,
            fmr_targets=targets,
            thresholds=extra,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
        )
    results = new_results(
        title=title,
        inputs=data.inputs,
        settings={
            "orientation": orientation,
            "fmr_targets": targets,
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "bootstrap_unit": result.bootstrap.unit,
            "n_bootstrap_units": result.bootstrap.n_units,
        },
        warnings=result.warnings,
    )
    results["verification"] = result.to_json()
    if meta is not None:
        with log.stage(f"demographic differentials by {by}"):
            demo = demographics_from_options(
                data,
                metadata,
                by,
                threshold_from=threshold_from,
                subject_column=metadata_subject_column,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
                verification=result,
                meta=meta,
            )
        add_demographics(results, demo)
    write_results(results, out, json_out, force, log)
