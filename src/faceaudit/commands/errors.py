"""``faceaudit errors``: the 1:1 audit of exported comparison scores."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C
from faceaudit.commands import _demographics as D
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("errors")(errors)


def errors(
    scores: Path | None = typer.Option(
        None, "--scores", help="CSV/TSV/Parquet table: score, mated (+ probe/reference subjects)."
    ),
    mated: Path | None = typer.Option(
        None,
        "--mated",
        "--genuine",
        help="Mated (genuine) scores: pyeer text (one per line) or .npy.",
    ),
    nonmated: Path | None = typer.Option(
        None, "--nonmated", "--impostor", help="Non-mated (impostor) scores: pyeer text or .npy."
    ),
    mated_hist: Path | None = typer.Option(
        None,
        "--mated-hist",
        "--genuine-hist",
        help="Mated scores as a pyeer histogram: line k = number of scores equal to k.",
    ),
    nonmated_hist: Path | None = typer.Option(
        None,
        "--nonmated-hist",
        "--impostor-hist",
        help="Non-mated scores as a pyeer histogram (pyeer -ht): line k = count of score k.",
    ),
    bob: Path | None = typer.Option(
        None, "--bob", help="bob score file: 2 (label score), 4 or 5 columns; .tar.gz as bob."
    ),
    embeddings: Path | None = typer.Option(
        None,
        "--embeddings",
        help="Embeddings (.npz/Parquet, as identify reads): every pair compared, streamed.",
    ),
    similarity: bool = typer.Option(
        True, "--similarity/--distance", help="Which way scores point (distance: lower = closer)."
    ),
    score_column: str = typer.Option("score", help="Score column name in --scores."),
    mated_column: str = typer.Option("mated", help="Mated column name (bool or 0/1)."),
    probe_subject_column: str = typer.Option("probe_subject", help="Probe subject column name."),
    reference_subject_column: str = typer.Option(
        "reference_subject", help="Reference subject column name."
    ),
    fmr_target: list[str] | None = C.FMR_TARGET,
    threshold: list[str] | None = C.THRESHOLD,
    metadata: Path | None = D.METADATA,
    by: str | None = D.BY,
    threshold_from: str = D.THRESHOLD_FROM,
    metadata_subject_column: str = D.METADATA_SUBJECT_COLUMN,
    block: int = typer.Option(2048, help="--embeddings: rows per block of comparisons."),
    precision: str = typer.Option("float32", help="--embeddings: float32 or float64 products."),
    scheduler: str | None = C.SCHEDULER,
    workers: int | None = C.CLUSTER_WORKERS,
    work_dir: Path | None = C.WORK_DIR,
    bootstrap: int = C.bootstrap_option(1000),
    confidence: float = C.CONFIDENCE,
    seed: int = C.SEED,
    out: Path | None = C.OUT,
    json_out: str | None = C.JSON,
    force: bool = C.FORCE,
    title: str = typer.Option("1:1 verification audit", help=C.TITLE_HELP),
    quiet: bool = C.QUIET,
) -> None:
    """1:1 audit: FMR, FNMR, DET, EER and FNMR at FMR targets, with confidence intervals.

    Scores exported by a system (--scores, --mated/--nonmated, --bob), or --embeddings: every
    pair compared here, streamed in blocks (in-process, or on Dask with --scheduler/--workers).
    """
    from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
    from faceaudit.audits import audit_scores
    from faceaudit.io.scores import ColumnNames, load_scores

    log = C.destination(out, json_out, force, quiet)
    groups = D.group_by(metadata, by, threshold_from, metadata_subject_column)
    targets = C.parse_floats(fmr_target, "--fmr-target") or DEFAULT_FMR_TARGETS
    if embeddings is not None:
        from faceaudit.audits import audit_embeddings
        from faceaudit.io.embeddings import read_embeddings

        if (
            any(v is not None for v in (scores, mated, nonmated, mated_hist, nonmated_hist, bob))
            or not similarity
        ):
            raise InputError("--embeddings is an input of its own: give it without score files.")
        with log.stage("reading embeddings"):
            data = read_embeddings(embeddings)
        with C.cluster(scheduler, workers, work_dir):
            run = audit_embeddings(
                data,
                fmr_targets=targets,
                thresholds=C.parse_floats(threshold, "--threshold"),
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
                demographics=groups,
                block=block,
                precision=precision,
                work_dir=work_dir,
                title=title,
                progress=log,
            )
        C.finish(run, out, json_out, force, log)
        return
    columns = ColumnNames(
        score=score_column,
        mated=mated_column,
        probe_subject=probe_subject_column,
        reference_subject=reference_subject_column,
    )
    with log.stage("reading scores"):
        data = load_scores(
            table=scores,
            mated=mated,
            nonmated=nonmated,
            mated_hist=mated_hist,
            nonmated_hist=nonmated_hist,
            bob=bob,
            columns=columns,
            orientation="similarity" if similarity else "distance",
        )
    run = audit_scores(
        data,
        fmr_targets=targets,
        thresholds=C.parse_floats(threshold, "--threshold"),
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        demographics=groups,
        title=title,
        progress=log,
    )
    C.finish(run, out, json_out, force, log)
