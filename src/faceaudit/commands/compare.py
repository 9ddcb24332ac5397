"""``faceaudit compare``: two or more systems on the same people (1:1 scores or 1:N candidate
lists), paired by subject."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C
from faceaudit.commands import _demographics as D


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)


def compare(
    scores: list[Path] | None = typer.Option(
        None,
        "--scores",
        help="One score table per system (CSV/TSV/Parquet, as errors reads); repeat, at least 2.",
    ),
    bob: list[Path] | None = typer.Option(
        None,
        "--bob",
        help="One bob score file per system (4 or 5 columns, joined on model and probe sample; "
        "2 columns, on row order); repeat, at least 2.",
    ),
    candidates: list[Path] | None = typer.Option(
        None,
        "--candidates",
        help="1:N: one candidate-list file per system (probe, rank, candidate, score); repeat.",
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="1:N: probe truth shared by all systems (probe, subject)."
    ),
    gallery_size: int | None = typer.Option(
        None, "--gallery-size", help="1:N: gallery size N (enrolled subjects)."
    ),
    gallery_subjects: Path | None = typer.Option(
        None, "--gallery-subjects", help="1:N: enrolled subject ids, one per line (gives N)."
    ),
    protocol: tuple[str, Path] | None = typer.Option(
        None,
        "--protocol",
        help="A standard protocol and its file: lfw pairs.txt, cfp-fp ROOT, cfp-ff ROOT, or "
        "pairs LIST (path1 path2 label, optional fold); scored with each --embeddings.",
    ),
    embeddings: list[Path] | None = typer.Option(
        None, "--embeddings", help="--protocol: one embeddings file per system (.npz/Parquet)."
    ),
    folds: int | None = typer.Option(
        None, "--folds", help="--protocol pairs without a fold column: this many folds."
    ),
    missing: str = typer.Option(
        "error", help="--protocol: a sample without an embedding is an 'error' or an 'fta'."
    ),
    name: list[str] | None = typer.Option(
        None, "--name", help="System names, one per --scores, same order (default: file names)."
    ),
    similarity: bool = typer.Option(
        True, "--similarity/--distance", help="Which way scores point (distance: lower = closer)."
    ),
    strict_coverage: bool = typer.Option(
        False,
        "--strict-coverage",
        help="Refuse comparisons present for some systems only (default: compare the common set).",
    ),
    score_column: str = typer.Option("score", help="Score column name."),
    mated_column: str = typer.Option("mated", help="Mated column name (bool or 0/1)."),
    probe_subject_column: str = typer.Option("probe_subject", help="Probe subject column name."),
    reference_subject_column: str = typer.Option(
        "reference_subject", help="Reference subject column name."
    ),
    probe_column: str = typer.Option("probe", help="Probe sample id column (the join key)."),
    reference_column: str = typer.Option(
        "reference", help="Reference sample id column (the join key)."
    ),
    fmr_target: list[str] | None = C.FMR_TARGET,
    fpir_target: list[str] | None = C.FPIR_TARGET,
    rank: int | None = typer.Option(None, help="1:N: rank criterion R of FNIR (default: any)."),
    threshold: list[str] | None = C.THRESHOLD,
    adjustment: str = typer.Option(
        "holm", help="Adjustment across pairs of systems: holm, bh, bonferroni or none."
    ),
    metadata: Path | None = D.METADATA,
    by: str | None = D.BY,
    threshold_from: str = D.THRESHOLD_FROM,
    metadata_subject_column: str = D.METADATA_SUBJECT_COLUMN,
    bootstrap: int = C.bootstrap_option(1000),
    confidence: float = C.CONFIDENCE,
    seed: int = C.SEED,
    out: Path | None = C.OUT,
    json_out: str | None = C.JSON,
    force: bool = C.FORCE,
    title: str = typer.Option("Paired comparison of systems", help=C.TITLE_HELP),
    quiet: bool = C.QUIET,
) -> None:
    """Is B really better than A? Paired differences on the same people.

    1:1 (--scores or --bob per system, or --protocol lfw pairs.txt with --embeddings
    per system): FNMR at FMR targets (each system at its own threshold),
    FMR and FNMR at thresholds, EER; on a protocol, its fold accuracy too.

    1:N (--candidates per system, one --truth): FNIR at FPIR targets, FPIR
    and FNIR at thresholds, rank-1 misses.

    Intervals from one subject bootstrap shared by all systems; McNemar at
    fixed thresholds; every pair of systems when more than two, adjusted.

    --metadata FILE --by ATTR: every group's rates in every system and their
    paired changes, and the change in the max/geomean differentials.
    """
    from faceaudit.analyses.identification import DEFAULT_FPIR_TARGETS
    from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
    from faceaudit.audits import audit_compare
    from faceaudit.errors import InputError
    from faceaudit.io.paired_scores import read_paired_candidates, read_paired_scores
    from faceaudit.io.scores import ColumnNames

    log = C.destination(out, json_out, force, quiet)
    groups = D.group_by(metadata, by, threshold_from, metadata_subject_column)
    common = dict(
        demographics=groups,
        thresholds=C.parse_floats(threshold, "--threshold"),
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        adjustment=adjustment,
        title=title,
        progress=log,
    )
    if protocol is not None or embeddings:
        if scores or bob or candidates or protocol is None or not embeddings:
            raise InputError(
                "a protocol comparison takes --protocol KIND FILE and one --embeddings file per "
                "system, without --scores or --candidates."
            )
        from faceaudit.io.paired_protocols import read_paired_protocol

        with log.stage(f"reading the {protocol[0]} protocol and scoring its pairs"):
            data = read_paired_protocol(protocol[0], protocol[1], embeddings, names=name or None,
                                        folds=folds, missing=missing)  # fmt: skip
        fmr = C.parse_floats(fmr_target, "--fmr-target") or DEFAULT_FMR_TARGETS
        run = audit_compare(data, fmr_targets=fmr, **common)
        C.finish(run, out, json_out, force, log)
        return
    if scores and bob:
        raise InputError("give --scores tables or --bob score files, not both.")
    if candidates:
        if scores or bob:
            raise InputError("give --scores (1:1) or --candidates (1:N) files, not both.")
        if truth is None:
            raise InputError("candidate lists need --truth FILE (the probes' subjects).")
        with log.stage("reading candidate lists"):
            data = read_paired_candidates(
                candidates, truth, names=name or None, gallery=gallery_subjects,
                gallery_size=gallery_size,
            )  # fmt: skip
        fpir = C.parse_floats(fpir_target, "--fpir-target") or DEFAULT_FPIR_TARGETS
        run = audit_compare(data, fpir_targets=fpir, rank=rank, **common)
        C.finish(run, out, json_out, force, log)
        return
    columns = ColumnNames(
        score=score_column,
        mated=mated_column,
        probe=probe_column,
        reference=reference_column,
        probe_subject=probe_subject_column,
        reference_subject=reference_subject_column,
    )
    with log.stage("reading and aligning score tables"):
        data = read_paired_scores(
            scores or bob or [],
            bob=bool(bob),
            names=name or None,
            columns=columns,
            orientation="similarity" if similarity else "distance",
            coverage="strict" if strict_coverage else "common",
        )
    fmr = C.parse_floats(fmr_target, "--fmr-target") or DEFAULT_FMR_TARGETS
    run = audit_compare(data, fmr_targets=fmr, **common)
    C.finish(run, out, json_out, force, log)
