"""``faceaudit identify``: the 1:N (open-set identification) audit.

Black box: ``--candidates FILE --truth FILE --gallery-size N`` (or ``--gallery-subjects FILE``).
Grey box: ``--gallery FILE --probes FILE`` (embeddings; probes whose subject is not enrolled are
non-mated), or ``--embeddings FILE`` split here (``--held-out`` subjects become non-mated probes).
"""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C
from faceaudit.commands import _demographics as D
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("identify")(identify)


def identify(
    candidates: Path | None = typer.Option(
        None, "--candidates", help="Candidate lists: probe, rank, candidate, score (CSV/Parquet)."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="Probe truth: probe, subject (empty subject = non-mated search)."
    ),
    gallery_size: int | None = typer.Option(
        None, "--gallery-size", help="Gallery size N (enrolled subjects) of the candidate lists."
    ),
    gallery_subjects: Path | None = typer.Option(
        None, "--gallery-subjects", help="Enrolled subject ids, one per line (gives N)."
    ),
    gallery: Path | None = typer.Option(
        None,
        "--gallery",
        help="Gallery embeddings (.npz: embeddings, subjects; or Parquet), or a folder of shards "
        "(faceaudit.compare.shards), searched from disk.",
    ),
    probes: Path | None = typer.Option(None, "--probes", help="Probe embeddings (.npz/Parquet)."),
    embeddings: Path | None = typer.Option(
        None, "--embeddings", help="One embeddings file, split into gallery and probes here."
    ),
    held_out: float = typer.Option(
        0.2, help="With --embeddings: share (<1) or number of subjects kept out of the gallery."
    ),
    enrol: str = C.ENROL,
    list_length: int = typer.Option(50, help="Candidates returned per search (L)."),
    index: str = typer.Option("flat", help="Search index: flat (exact), ivf or hnsw."),
    nlist: int | None = typer.Option(None, help="IVF lists (default ~4 sqrt(n))."),
    nprobe: int | None = typer.Option(None, help="IVF lists searched (default 16)."),
    hnsw_m: int | None = typer.Option(None, help="HNSW links per node (default 32)."),
    ef_search: int | None = typer.Option(None, help="HNSW search depth (default 128)."),
    chunk_size: int = typer.Option(4096, help="Probes searched per chunk (bounds memory)."),
    write_candidates: bool = typer.Option(
        False, help="Also write candidates.csv and truth.csv (the black-box format) to --out."
    ),
    fpir_target: list[str] | None = C.FPIR_TARGET,
    threshold: list[str] | None = C.THRESHOLD,
    rank: int | None = typer.Option(
        None, help="Rank criterion R of FNIR(N, R, T) (default: L, any returned rank)."
    ),
    metadata: Path | None = D.METADATA,
    by: str | None = D.BY,
    threshold_from: str = D.THRESHOLD_FROM,
    metadata_subject_column: str = D.METADATA_SUBJECT_COLUMN,
    scheduler: str | None = C.SCHEDULER,
    workers: int | None = C.CLUSTER_WORKERS,
    work_dir: Path | None = C.WORK_DIR,
    bootstrap: int = C.bootstrap_option(1000),
    confidence: float = C.CONFIDENCE,
    seed: int = C.SEED,
    out: Path | None = C.OUT,
    json_out: str | None = C.JSON,
    force: bool = C.FORCE,
    title: str = typer.Option("1:N identification audit", help=C.TITLE_HELP),
    quiet: bool = C.QUIET,
) -> None:
    """1:N audit: FPIR, FNIR, wrong person at rank 1, CMC, thresholds for FPIR targets."""
    from faceaudit.analyses.identification import DEFAULT_FPIR_TARGETS
    from faceaudit.audits import audit_candidates, audit_search

    black = candidates is not None or truth is not None
    grey = gallery is not None or probes is not None
    if sum([black, grey, embeddings is not None]) != 1:
        raise InputError(
            "give one input: --candidates FILE --truth FILE --gallery-size N (candidate lists), "
            "--gallery FILE --probes FILE (embeddings), or --embeddings FILE."
        )
    if black and (candidates is None or truth is None):
        raise InputError("candidate lists need both --candidates FILE and --truth FILE.")
    if grey and (gallery is None or probes is None):
        raise InputError("embedding search needs both --gallery FILE and --probes FILE.")
    if write_candidates and (black or out is None):
        raise InputError("--write-candidates needs embeddings in and --out DIR.")
    log = C.destination(out, json_out, force, quiet)
    groups = D.group_by(metadata, by, threshold_from, metadata_subject_column)
    common = dict(
        fpir_targets=C.parse_floats(fpir_target, "--fpir-target") or DEFAULT_FPIR_TARGETS,
        thresholds=C.parse_floats(threshold, "--threshold"),
        rank=rank,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        demographics=groups,
        title=title,
        progress=log,
    )
    if black:
        from faceaudit.io.candidates import load_candidate_search

        with log.stage("reading candidate lists"):
            search = load_candidate_search(
                candidates, truth, gallery=gallery_subjects, gallery_size=gallery_size
            )
        run = audit_candidates(search, **common)
    else:
        from faceaudit.io.embeddings import read_embeddings

        enrolled = C.read_enrol(enrol)
        with log.stage("reading embeddings"):
            if gallery is not None and gallery.is_dir():
                from faceaudit.compare.shards import read_gallery_shards

                g = read_gallery_shards(gallery)
            else:
                g = read_embeddings(embeddings if embeddings is not None else gallery)
            p = None if embeddings is not None else read_embeddings(probes)
        index_params = dict(nlist=nlist, nprobe=nprobe, m=hnsw_m, ef_search=ef_search)
        with C.cluster(scheduler, workers, work_dir):
            run = audit_search(
                g,
                p,
                held_out=held_out,
                enrol=enrolled,
                list_length=list_length,
                index=index,
                index_params={k: v for k, v in index_params.items() if v is not None},
                chunk_size=chunk_size,
                write_candidates=write_candidates,
                **common,
            )
    C.finish(run, out, json_out, force, log)
