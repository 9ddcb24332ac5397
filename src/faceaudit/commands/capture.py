"""``faceaudit capture``: error rates by capture condition at one threshold; quality gates."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C
from faceaudit.errors import InputError

_HELP = "\n\n".join(
    [
        "What capture conditions do to the error rates, at one threshold fixed on clean photos; "
        "and whether a quality gate would help.",
        "Synthetic (default): each subject's first image that yields a face enrols clean, the "
        "others are probes, embedded clean and again under each degradation and severity "
        "(--degrade defocus,motion with --severities 2,4,6 = the swept parameter's values; or "
        "--profile night-street with --severities 1,2 = levels; default: the profiles "
        "night-street, moving-subject and far-away). Degraded images stay in memory; their "
        "embeddings are cached, so a rerun is near instant and a killed sweep resumes.",
        "Recorded: --condition COLUMN (a manifest column) or --condition-from-name REGEX (a "
        "capture group of the file name) split the photos by the condition they were taken in; "
        "--reference-condition names the one the threshold is fixed on (default: the most "
        "frequent).",
        "Per condition: FTA, FNMR, FMR (1:1), FNIR, FPIR (1:N) with subject-bootstrap "
        "intervals, ratios to the reference condition and one sentence; the quality of every "
        "probe photo (built-in measures, or --quality FILE such as OFIQ's output), EDC curves "
        "with pAUC and the recommended quality gate with its cost.",
        "No face image is written unless --show-examples IMAGE names one: then that image under "
        "each condition goes to OUT/examples/ as PNG.",
    ]
)


def register(app: typer.Typer) -> None:
    app.command("capture", help=_HELP)(capture)


def _split(values: list[str] | None) -> list[str]:
    """Repeated or comma-separated names; a ``name:p=v,...`` spec stays whole (its own value)."""
    out: list[str] = []
    for v in values or []:
        if ":" in v:
            out.append(v.strip())
        else:
            out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def _one(values: list[float], option: str) -> float | None:
    if len(values) > 1:
        raise InputError(f"{option} takes one value here (the one threshold), not {len(values)}.")
    return values[0] if values else None


def capture(
    images: Path = typer.Argument(
        ..., help="Folder <subject>/<image> (LFW layout) or manifest CSV (path, subject, ...)."
    ),
    model: str = typer.Option("dlib-resnet", "--model", "-m", help="dlib-resnet, facenet, onnx."),
    model_option: list[str] | None = typer.Option(
        None, "--model-option", "-O", help="Model option key=value (repeatable)."
    ),
    degrade: list[str] | None = typer.Option(
        None,
        "--degrade",
        help="Degradations to sweep: names (defocus,motion,downscale,jpeg,exposure,noise,mask,"
        "sunglasses,rotate) or one spec with fixed parameters per option (motion:angle=90).",
    ),
    profile: list[str] | None = typer.Option(
        None, "--profile", help="Profiles to sweep: night-street, moving-subject, far-away."
    ),
    severities: list[str] | None = typer.Option(
        None,
        "--severities",
        help="--degrade: the swept parameter's values (defocus radius 2,4,6 px); --profile: the "
        "levels (1,2,3). Default: each sweep's own.",
    ),
    condition: str | None = typer.Option(
        None, "--condition", help="Recorded conditions: the manifest column holding them."
    ),
    condition_from_name: str | None = typer.Option(
        None,
        "--condition-from-name",
        help="Recorded conditions: a regular expression whose group (named 'condition', else "
        "the first) is found in each file name.",
    ),
    reference_condition: str | None = typer.Option(
        None,
        "--reference-condition",
        help="Recorded conditions: the one the threshold is fixed on (default: most frequent).",
    ),
    quality: Path | None = typer.Option(
        None,
        "--quality",
        help="Your own quality scores per image (OFIQ's CSV, or a table path,quality) for the "
        "EDC and the gates, instead of the built-in score.",
    ),
    fmr_target: list[str] | None = typer.Option(
        None,
        "--fmr-target",
        help="Fix the threshold on the reference condition at this FMR (default 1e-3).",
    ),
    fpir_target: list[str] | None = typer.Option(
        None, "--fpir-target", help="Fix the threshold at this FPIR (1:N) instead."
    ),
    threshold: list[str] | None = typer.Option(
        None, "--threshold", help="Use this similarity threshold instead."
    ),
    held_out: float = typer.Option(
        0.2, help="1:N: share (<1) or number of subjects kept out of the gallery (non-mated)."
    ),
    list_length: int = typer.Option(50, help="1:N candidates per search."),
    workers: int | None = typer.Option(
        None, "--workers", "-j", help="Worker processes (default: CPUs)."
    ),
    cache: Path | None = typer.Option(None, "--cache", help="Embedding cache folder."),
    bootstrap: int = C.bootstrap_option(1000),
    confidence: float = C.CONFIDENCE,
    seed: int = typer.Option(
        0, help="Seed of the bootstrap, the held-out subjects and the degradations' noise."
    ),
    show_examples: str | None = typer.Option(
        None,
        "--show-examples",
        help="Write this one image under every condition to OUT/examples/ (PNG). Off by "
        "default: outputs show figures, never faces.",
    ),
    out: Path | None = C.OUT,
    json_out: str | None = C.JSON,
    force: bool = C.FORCE,
    title: str = typer.Option("Capture conditions audit", help=C.TITLE_HELP),
    quiet: bool = C.QUIET,
) -> None:
    """Error rates by capture condition at one threshold, EDC curves and quality gates."""
    from faceaudit.audits.capture import ConditionsBy, audit_capture
    from faceaudit.capture.sweeps import build_sweeps
    from faceaudit.commands._common import parse_model
    from faceaudit.io.images import discover_images

    recorded = condition is not None or condition_from_name is not None
    if reference_condition is not None and not recorded:
        raise InputError(
            "--reference-condition names a recorded condition (with --condition or "
            "--condition-from-name); a synthetic sweep is always compared with the clean photos."
        )
    if recorded and (degrade or profile or severities):
        raise InputError(
            "--degrade, --profile and --severities render synthetic conditions; with "
            "--condition or --condition-from-name the conditions are the recorded ones."
        )
    fmr = _one(C.parse_floats(fmr_target, "--fmr-target"), "--fmr-target")
    fpir = _one(C.parse_floats(fpir_target, "--fpir-target"), "--fpir-target")
    value = _one(C.parse_floats(threshold, "--threshold"), "--threshold")
    sev = C.parse_floats(severities, "--severities") or None
    log = C.destination(out, json_out, force, quiet)
    name, options = parse_model(model, model_option)
    image_set = discover_images(images)
    scores = None
    if quality is not None:
        from faceaudit.io.quality_scores import read_quality_scores

        scores = read_quality_scores(quality)
    sweeps = conditions = None
    if recorded:
        conditions = ConditionsBy(
            column=condition, pattern=condition_from_name, reference=reference_condition
        )
    else:
        sweeps = build_sweeps(degrade=_split(degrade), profiles=_split(profile), severities=sev)
    run = audit_capture(
        image_set,
        model=name,
        model_options=options,
        workers=workers,
        cache_dir=cache,
        sweeps=sweeps,
        conditions=conditions,
        quality_scores=scores,
        held_out=held_out,
        fmr_target=fmr,
        fpir_target=fpir,
        threshold=value,
        list_length=list_length,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        show_examples=show_examples,
        title=title,
        progress=log,
    )
    C.finish(run, out, json_out, force, log)
