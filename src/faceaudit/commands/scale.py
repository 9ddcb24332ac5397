"""``faceaudit scale``: FPIR against gallery size, measured on nested galleries and extrapolated."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands._common import (
    FORCE_OPTION,
    JSON_OPTION,
    OUT_OPTION,
    QUIET_OPTION,
    Log,
    check_bootstrap,
    check_destination,
    check_targets,
    parse_floats,
    progress_bar,
    write_results,
)
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("scale")(scale)


def scale(
    gallery: Path = typer.Option(
        ..., "--gallery", help="Gallery (distractor) embeddings: .npz (embeddings, subjects)."
    ),
    probes: Path = typer.Option(
        ..., "--probes", help="Probe embeddings; subjects not in the gallery are non-mated."
    ),
    threshold: float = typer.Option(..., "--threshold", help="Threshold T (cosine score)."),
    gallery_size: float = typer.Option(
        2.7e8, "--gallery-size", help="Gallery size N to extrapolate to (default 2.7e8)."
    ),
    enrol: str = typer.Option(
        "first",
        help="Which gallery samples enrol: 'first' per subject (NIST), 'all', or a file of ids.",
    ),
    fpir_target: list[str] | None = typer.Option(
        None,
        "--fpir-target",
        help="FPIR targets whose threshold at N is reported. Default 0.1 ... 0.001.",
    ),
    tail_count: int | None = typer.Option(
        None, help="Excesses in the tail fit (default 0.1% of comparisons, 500 ... 20000)."
    ),
    validation_fit_size: int = typer.Option(
        10_000, help="Distractors of the validation fit (run when the gallery is >= 10x larger)."
    ),
    bootstrap: int = typer.Option(200, help="Bootstrap replicates of the band (0: none)."),
    confidence: float = typer.Option(0.95, help="Confidence level of intervals and band."),
    seed: int = typer.Option(0, help="Seed of the nested gallery order and the bootstrap."),
    block_elements: int = typer.Option(
        1 << 24, help="Scores computed per block (memory ~ 4 bytes x this)."
    ),
    out: Path | None = OUT_OPTION,
    json_out: str | None = JSON_OPTION,
    force: bool = FORCE_OPTION,
    title: str = typer.Option("1:N gallery scaling", help="Report title."),
    quiet: bool = QUIET_OPTION,
) -> None:
    """FPIR(N, T) on nested distractor galleries, and extrapolated to N by a fitted tail."""
    from faceaudit.analyses.scale import DEFAULT_FPIR_TARGETS
    from faceaudit.analyses.scale import scale as run_scale
    from faceaudit.commands.identify import InputHashes, _read_enrol
    from faceaudit.io.embeddings import read_embeddings
    from faceaudit.results import new_results

    check_destination(out, json_out, force)
    if not gallery_size >= 1 or gallery_size != int(gallery_size):
        raise InputError(f"--gallery-size must be a whole number >= 1, got {gallery_size:g}.")
    targets = parse_floats(fpir_target, "--fpir-target") or list(DEFAULT_FPIR_TARGETS)
    check_targets(targets, "--fpir-target")
    if bootstrap < 0 or (0 < bootstrap < 50):
        raise InputError("--bootstrap must be 0 or >= 50 replicates.")
    check_bootstrap(0, confidence)
    if tail_count is not None and tail_count < 50:
        raise InputError("--tail-count must be >= 50 (a GPD fit needs many excesses).")
    if validation_fit_size < 0:
        raise InputError("--validation-fit-size must be >= 0 (0: no validation).")
    if block_elements < 1:
        raise InputError("--block-elements must be >= 1.")

    log = Log(quiet=quiet or (json_out == "-" and out is None))
    hashes = InputHashes()
    hashes.add(gallery)
    hashes.add(probes)
    enrol_sel = _read_enrol(enrol)
    with log.stage("reading embeddings"):
        g = read_embeddings(gallery)
        p = read_embeddings(probes)
    hashes.set_records(gallery, g.n)
    hashes.set_records(probes, p.n)
    synthetic = g.synthetic or p.synthetic
    with progress_bar("scoring every search against the gallery", "searches", log.quiet) as up:
        result = run_scale(
            g,
            p,
            threshold=threshold,
            target_gallery_size=int(gallery_size),
            enrol=enrol_sel,
            fpir_targets=targets,
            tail_count=tail_count,
            validation_fit_size=validation_fit_size,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            block_elements=block_elements,
            progress=up,
            synthetic=synthetic,
        )
    del g, p
    big = result.extrapolated[-1]
    log.note(
        f"FPIR at N = {big[0]:,} and T = {threshold:g}: {big[1].value:.4g} (extrapolated; "
        f"band {big[1].ci}); measured up to N = {result.gallery_size:,}"
    )
    if result.validation and "check" in result.validation and result.validation["check"]:
        c = result.validation["check"]
        log.note(
            f"validation: fit on {result.validation['fit_gallery_size']:,} distractors, "
            f"measured {c['measured']['value']:.4g} at N = {c['gallery_size']:,}, extrapolated "
            f"{c['extrapolated']['value']:.4g} band {c['extrapolated']['ci']}: "
            + ("inside" if c["inside"] else "OUTSIDE")
        )
    warnings = list(result.warnings)
    results = new_results(
        title=title + (" — SYNTHETIC data" if synthetic else ""),
        inputs=hashes.to_json(),
        settings={
            "threshold": threshold,
            "target_gallery_size": int(gallery_size),
            "enrol": enrol if isinstance(enrol_sel, str) else f"file {enrol}",
            "fpir_targets": targets,
            "tail_count": tail_count,
            "validation_fit_size": validation_fit_size,
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "threshold_source": "given by the user (--threshold)",
        },
        synthetic=synthetic,
        warnings=warnings,
    )
    results["scale"] = result.to_json()
    write_results(results, out, json_out, force, log)
