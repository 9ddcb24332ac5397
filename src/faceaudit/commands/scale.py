"""``faceaudit scale``: FPIR as the gallery grows, measured and extrapolated (e.g. to 2.7e8)."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C


def register(app: typer.Typer) -> None:
    app.command("scale")(scale)


def scale(
    gallery: Path = typer.Option(
        ...,
        "--gallery",
        help="Gallery (distractor) embeddings: .npz (embeddings, subjects), Parquet, or a folder "
        "of shards (faceaudit.compare.shards), read from disk block by block.",
    ),
    probes: Path = typer.Option(
        ..., "--probes", help="Probe embeddings; subjects not in the gallery are non-mated."
    ),
    threshold: float = typer.Option(..., "--threshold", help="Threshold T (cosine score)."),
    gallery_size: float = typer.Option(
        2.7e8, "--gallery-size", help="Gallery size N to extrapolate to (default 2.7e8)."
    ),
    enrol: str = C.ENROL,
    fpir_target: list[str] | None = typer.Option(
        None, "--fpir-target", help="FPIR targets whose threshold at N is reported."
    ),
    tail_count: int | None = typer.Option(
        None, help="Excesses in the tail fit (default: chosen by parameter stability)."
    ),
    validation_fit_size: int | None = typer.Option(
        None,
        help="Distractors of the self-validation fit (default a tenth of the gallery; run when "
        "the gallery is >= 10x larger; 0: none).",
    ),
    bootstrap: int = C.bootstrap_option(200),
    confidence: float = C.CONFIDENCE,
    seed: int = typer.Option(0, help="Seed of the nested gallery order and the bootstrap."),
    block_elements: int = typer.Option(
        1 << 24, help="Scores computed per chunk (memory ~ 4 bytes x this)."
    ),
    probe_block: int | None = typer.Option(
        None, help="Searches per block of the map (default 512; a multiple of 256)."
    ),
    gallery_block: int | None = typer.Option(
        None, help="Templates per gallery block of the map (default: up to 2^18)."
    ),
    scheduler: str | None = C.SCHEDULER,
    workers: int | None = C.CLUSTER_WORKERS,
    work_dir: Path | None = C.WORK_DIR,
    out: Path | None = C.OUT,
    json_out: str | None = C.JSON,
    force: bool = C.FORCE,
    title: str = typer.Option("1:N gallery scaling", help=C.TITLE_HELP),
    quiet: bool = C.QUIET,
) -> None:
    """FPIR(N, T) on nested distractor galleries, and extrapolated to N by a fitted tail."""
    from faceaudit.analyses.scale import DEFAULT_FPIR_TARGETS
    from faceaudit.audits import audit_scale
    from faceaudit.io.embeddings import read_embeddings

    log = C.destination(out, json_out, force, quiet)
    enrolled = C.read_enrol(enrol)
    with log.stage("reading embeddings"):
        if gallery.is_dir():
            from faceaudit.compare.shards import read_gallery_shards

            g = read_gallery_shards(gallery)
        else:
            g = read_embeddings(gallery)
        p = read_embeddings(probes)
    with C.cluster(scheduler, workers, work_dir):
        run = audit_scale(
            g,
            p,
            threshold=threshold,
            gallery_size=gallery_size,
            enrol=enrolled,
            fpir_targets=C.parse_floats(fpir_target, "--fpir-target") or DEFAULT_FPIR_TARGETS,
            tail_count=tail_count,
            validation_fit_size=validation_fit_size,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            block_elements=block_elements,
            probe_block=probe_block,
            gallery_block=gallery_block,
            work_dir=work_dir,
            title=title,
            progress=log,
        )
    del g, p
    C.finish(run, out, json_out, force, log)
