"""``faceaudit embed``: images -> embeddings file, in parallel, with a resumable cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faceaudit.commands._common import parse_model
from faceaudit.commands._progress import err_console, image_bar
from faceaudit.errors import InputError

__all__ = ["embed", "embed_with_progress", "parse_model", "register"]

_HELP = "\n\n".join(
    [
        "Embed face images with an offline recognizer; write Parquet (or .npz).",
        "IMAGES is a folder of <subject>/<image> files (the LFW layout) or a manifest CSV with "
        "columns path (relative to the CSV's folder) and subject, plus any metadata columns "
        "(carried through).",
        "Models: dlib-resnet (default; dlib ResNet 128-D, HOG detector), facenet (FaceNet 512-D "
        "via OpenCV, MTCNN detector), onnx:MODEL.onnx (your model, with a preprocessing spec "
        "MODEL.onnx.json beside it). Model options with -O key=value, e.g. -O detector=cnn, "
        "-O face=centre, -O upsample=2.",
        "Images without a usable face are failures to acquire (no_face, decode_error, too_large, "
        "too_small, not_an_image, ...): listed in the output's metadata and in OUT.log, never "
        "fatal.",
        "Every result is cached by (image bytes SHA-256, model, settings) in --cache (default "
        "$FACEAUDIT_CACHE, else $XDG_CACHE_HOME/faceaudit, else ~/.cache/faceaudit): a rerun is "
        "near instant and a killed run resumes where it stopped.",
    ]
)


def register(app: typer.Typer) -> None:
    app.command("embed", help=_HELP)(embed)


def embed(
    images: Annotated[Path, typer.Argument(help="Folder <subject>/<image>, or manifest CSV.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .parquet (or .npz).")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="dlib-resnet, facenet, or onnx:PATH.onnx.")
    ] = "dlib-resnet",
    model_option: Annotated[
        list[str] | None,
        typer.Option("--model-option", "-O", help="Model option key=value (repeat)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-j", min=0, help="Worker processes (default: CPUs; 0: in-process)."
        ),
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Cache folder (default: see above).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write a cache.")
    ] = False,
    max_pixels: Annotated[
        int,
        typer.Option("--max-pixels", min=1, help="Refuse larger images (too_large), pixels."),
    ] = 80_000_000,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing output file.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
) -> None:
    from faceaudit.embedding.log import write_embed_log
    from faceaudit.embedding.store import save_embeddings
    from faceaudit.io.images import discover_images

    if out.suffix.lower() not in (".parquet", ".pq", ".npz"):
        raise InputError("name the output .parquet (or .npz).", path=out)
    if out.exists() and not force:
        raise InputError("the output file already exists; pass --force to replace it.", path=out)
    name, options = parse_model(model, model_option)
    image_set = discover_images(images)
    console = err_console
    result = embed_with_progress(
        image_set,
        model=name,
        options=options,
        workers=workers,
        cache_dir=cache,
        use_cache=not no_cache,
        max_pixels=max_pixels,
        quiet=quiet,
        console=console,
    )
    save_embeddings(result, out, force=force)
    write_embed_log(result, image_set, out)
    if not quiet:
        _summary(console, result, out)


def embed_with_progress(image_set, *, model: str, quiet: bool, console, **kwargs):
    """:func:`~faceaudit.embedding.pipeline.embed_images` behind a progress bar (rate, ETA).

    Ctrl-C terminates the workers (every finished image is in the cache) and exits with 130:
    Typer turns KeyboardInterrupt into a return value that a non-standalone caller may drop.
    """
    from faceaudit.embedding.pipeline import embed_images

    progress_cb, bar = (None, None) if quiet else image_bar(console, len(image_set), model)
    try:
        return embed_images(image_set, model=model, progress=progress_cb, **kwargs)
    except KeyboardInterrupt:
        if bar is not None:
            bar.stop()
            bar = None
        console.print("interrupted: finished images are cached; rerun to resume.")
        raise SystemExit(130) from None
    finally:
        if bar is not None:
            bar.stop()


def _summary(console, result, out: Path) -> None:
    from faceaudit.embedding.log import log_path

    s = result.stats
    counts = ", ".join(f"{k} {v}" for k, v in result.failure_counts().items()) or "none"
    console.print(
        f"embedded {result.embeddings.shape[0]} of {result.n_images} images with "
        f"{result.model.id} (dim {result.model.dim}); failures to acquire: {counts}"
    )
    if s is not None:
        console.print(
            f"cache: {s.n_cached} reused, {s.n_computed} computed; {s.seconds:.2f} s "
            f"({s.images_per_second:.1f} images/s, {s.workers} worker(s))"
        )
    for f in result.failures[:5]:
        console.print(f"  FTA {f.reason}: {f.image}", markup=False)
    if result.n_failed > 5:
        console.print(f"  ... {result.n_failed - 5} more in {log_path(out)}", markup=False)
    console.print(f"wrote {out} and {log_path(out)}", markup=False)
