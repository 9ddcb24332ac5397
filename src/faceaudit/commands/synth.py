"""``faceaudit synth``: synthetic embeddings (always labelled synthetic) for tests and demos."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands._common import Log
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)


def synth(
    out: Path | None = typer.Option(
        None, "--out", help="All samples in one file (.npz or .parquet)."
    ),
    gallery_out: Path | None = typer.Option(
        None, "--gallery-out", help="Gallery file: the first sample of each enrolled subject."
    ),
    probes_out: Path | None = typer.Option(
        None, "--probes-out", help="Probe file: the other samples, and all held-out samples."
    ),
    subjects: int = typer.Option(1000, help="Subjects with --samples samples each."),
    samples: int = typer.Option(2, help="Samples per subject."),
    distractors: int = typer.Option(
        0, help="Extra subjects with one sample each (gallery-only distractors)."
    ),
    held_out: float = typer.Option(
        0.2, help="Share (<1) or number of the --subjects kept out of the gallery (non-mated)."
    ),
    dim: int = typer.Option(128, help="Embedding dimension."),
    mated_mean: float = typer.Option(0.7, help="Target mean mated cosine score, in (0, 1)."),
    nonmated_std: float | None = typer.Option(
        None, help="Target non-mated score sd (>= 1/sqrt(dim); default 1/sqrt(dim))."
    ),
    quality_spread: float = typer.Option(0.0, help="Log-sd of per-sample noise (0: uniform)."),
    group: list[str] | None = typer.Option(
        None,
        "--group",
        help="Demographic group NAME:SHARE:COHESION[:MATED_MEAN[:QUALITY_SPREAD]] (repeat).",
    ),
    seed: int = typer.Option(0, help="Seed: the same options give the same files."),
    force: bool = typer.Option(False, "--force", help="Replace existing files."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Write SYNTHETIC embeddings with a chosen mated/non-mated score distribution."""
    import numpy as np

    from faceaudit.synth import GroupSpec, split_gallery_probes, synthesize

    if out is None and gallery_out is None and probes_out is None:
        raise InputError("say where to write: --out FILE and/or --gallery-out/--probes-out FILE.")
    if (gallery_out is None) != (probes_out is None):
        raise InputError("--gallery-out and --probes-out go together.")
    for p in (out, gallery_out, probes_out):
        if p is not None and p.suffix.lower() not in {".npz", ".parquet", ".pq"}:
            raise InputError("name the file .npz or .parquet.", path=p)
        if p is not None and p.exists() and not force:
            raise InputError("the file already exists; pass --force to replace it.", path=p)
    if subjects < 1 or samples < 1 or distractors < 0:
        raise InputError("--subjects and --samples must be >= 1, --distractors >= 0.")
    try:
        specs = [GroupSpec.parse(g) for g in group or []]
        per = np.concatenate([np.full(subjects, samples), np.ones(distractors, dtype=int)])
        log = Log(quiet=quiet)
        with log.stage(f"drawing {int(per.sum()):,} synthetic embeddings (d = {dim})"):
            data = synthesize(
                subjects + distractors,
                per,
                dim=dim,
                mated_mean=mated_mean,
                nonmated_std=nonmated_std,
                quality_spread=quality_spread,
                groups=specs,
                seed=seed,
            )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    exp = data.params.expected()
    log.note(
        f"SYNTHETIC: mated mean ~ {exp['mated_mean']:.3f}, non-mated sd ~ "
        f"{exp['nonmated_std']:.4f} (identity dim {data.params.k})"
    )
    if out is not None:
        with log.stage(f"writing {out}"):
            data.save(out, force=force)
    if gallery_out is not None:
        n_out = held_out if held_out < 1 else int(held_out)
        if isinstance(n_out, float):
            n_out = int(round(n_out * subjects))
        if not 0 <= n_out <= subjects:
            raise InputError(f"--held-out must be between 0 and {subjects} subjects.")
        gal, prb = split_gallery_probes(data, held_out_subjects=n_out, seed=seed, eligible=subjects)
        with log.stage(f"writing {gallery_out} ({gal.embeddings.shape[0]:,} enrolled)"):
            gal.save(gallery_out, force=force)
        with log.stage(f"writing {probes_out} ({prb.embeddings.shape[0]:,} probes)"):
            prb.save(probes_out, force=force)
