"""Capture-sweep throughput: degraded probes embedded by faceaudit (2 workers) vs a plain loop.

Issue 12, item 5. The work is what the synthetic sweep of ``faceaudit capture`` does after the
clean pass: every probe photo degraded under each condition, in memory, and embedded with
dlib-resnet. Every contender is a WHOLE PROCESS (interpreter start, imports, model loading,
reading every image, degrading, embedding), timed by wall clock:

- ``plain``: one process, the loop a user would write with faceaudit's own primitives:
  ``read_image`` -> ``apply_chain`` -> ``Recognizer.represent`` (dlib's default threading), no
  cache, no quality measures;
- ``faceaudit -j 2``: :func:`faceaudit.embedding.variants.embed_variants` with 2 worker
  processes and an empty cache, **with** the quality measures the sweep also computes (so it does
  strictly more work than the plain loop);
- ``faceaudit cached``: the same again on the filled cache (a rerun of the sweep);
- ``faceaudit -j 1`` (unless ``--quick``): one worker, the pipeline's own overhead.

Images: ORL probes (``../shared/data/orl_faces``, never copied): subjects 1..S, images 2..10;
conditions: defocus radius 3 px, motion 8 px, noise 8 DN, JPEG quality 30 (no eye centres
needed, so no clean pass is timed). The same per-image seeds in every contender (the noise is
identical); embeddings are compared (``max |diff|``: the same model must give the same numbers).

Target (issue 12): faceaudit with 2 workers at >= 1.6x the plain loop's images/s on 2 cores.

Run from the repository root (with ``nice`` when the machine is shared)::

    nice uv run python benchmarks/bench_capture.py --subjects 16 --repeats 2
    uv run python benchmarks/bench_capture.py --quick      # 8 subjects, one repeat

Results: ``benchmarks/results/capture.md`` (raw runs in ``benchmarks/_work/capture/runs.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "orl_faces"
WORK = ROOT / "benchmarks" / "_work" / "capture"
RESULTS = ROOT / "benchmarks" / "results" / "capture.md"
CHAINS = ("defocus:radius=3", "motion:length=8", "noise:sigma=8", "jpeg:quality=30")


def _paths(subjects: int) -> list[Path]:
    return [DATA / f"s{s}" / f"{i}.pgm" for s in range(1, subjects + 1) for i in range(2, 11)]


def _manifest(subjects: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"probes-{subjects}.csv"
    lines = ["path,subject"] + [f"{p},{p.parent.name}" for p in _paths(subjects)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _variants(images):
    import hashlib

    from faceaudit.capture import parse_degradation
    from faceaudit.embedding.variants import Variant, image_seed

    chains = [(parse_degradation(c),) for c in CHAINS]
    out = []
    for chain in chains:
        for i, rec in enumerate(images.records):
            sha = hashlib.sha256(Path(rec.path).read_bytes()).hexdigest()
            out.append(Variant(i, chain, image_seed(sha, 0)))
    return out


# ---------------------------------------------------------------------------------------------
# The contenders (child processes of this script)
# ---------------------------------------------------------------------------------------------


def child_plain(subjects: int, out: Path) -> None:
    from faceaudit.capture import apply_chain
    from faceaudit.io.images import AcquisitionError, discover_images, read_image
    from faceaudit.recognizers import load_recognizer

    images = discover_images(_manifest(subjects))
    variants = _variants(images)
    rec = load_recognizer("dlib-resnet")
    t0 = time.perf_counter()
    emb = np.zeros((len(variants), 128))
    for k, v in enumerate(variants):
        image = read_image(images.records[v.record].path)
        degraded = apply_chain(image, v.chain, seed=v.seed)
        try:
            emb[k] = rec.represent(degraded).embedding
        except AcquisitionError:
            emb[k] = np.nan
    np.savez(out, embeddings=emb, loop_seconds=time.perf_counter() - t0)


def child_faceaudit(subjects: int, out: Path, workers: int, cache: Path) -> None:
    from faceaudit.embedding.variants import embed_variants
    from faceaudit.io.images import discover_images

    images = discover_images(_manifest(subjects))
    variants = _variants(images)
    res = embed_variants(
        images, variants, workers=workers, cache_dir=cache, measure=True, layout="dlib5"
    )
    emb = np.array([o.embedding if o.ok else np.full(128, np.nan) for o in res.outcomes])
    np.savez(
        out,
        embeddings=emb,
        loop_seconds=res.stats.seconds,
        computed=res.stats.n_computed,
        cached=res.stats.n_cached,
    )


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def _env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def _run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the whole process tree) of one contender."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, *args], check=True, env=_env(), stdout=subprocess.DEVNULL
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(subjects: int, repeats: int, quick: bool) -> dict:
    n = len(_paths(subjects)) * len(CHAINS)
    _run(["--child", "warmup", "--subjects", str(subjects)])  # bytecode cached for everyone
    runs: dict[str, list[dict]] = {}

    def record(name: str, timing: tuple[float, float], npz: Path) -> np.ndarray:
        d = np.load(npz)
        seconds, cpu = timing
        runs.setdefault(name, []).append(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "images_per_second": n / seconds,
                "loop_seconds": float(d["loop_seconds"]),
                **{k: int(d[k]) for k in ("computed", "cached") if k in d},
            }
        )
        return d["embeddings"]

    ref = None
    diffs = {}
    for _ in range(repeats):
        out = WORK / "plain.npz"
        ref = record("plain", _run(["--child", "plain", "--subjects", str(subjects), "--out",
                                    str(out)]), out)  # fmt: skip
        for workers in (2,) if quick else (2, 1):
            cache = WORK / f"cache-j{workers}"
            shutil.rmtree(cache, ignore_errors=True)
            out = WORK / f"fa{workers}.npz"
            args = ["--child", "faceaudit", "--subjects", str(subjects), "--workers",
                    str(workers), "--cache", str(cache), "--out", str(out)]  # fmt: skip
            got = record(f"faceaudit -j {workers}", _run(args), out)
            ok = np.isfinite(ref).all(axis=1) & np.isfinite(got).all(axis=1)
            same_fta = bool((np.isfinite(ref).all(axis=1) == np.isfinite(got).all(axis=1)).all())
            diffs[workers] = (float(np.abs(ref[ok] - got[ok]).max()), same_fta)
            if workers == 2:
                out = WORK / "cached.npz"
                args[-1] = str(out)
                record("faceaudit cached", _run(args), out)
    return {"n_images": n, "subjects": subjects, "runs": runs, "diffs": diffs}


def render(result: dict, note: str) -> str:
    runs = result["runs"]

    def best(name):
        return max(r["images_per_second"] for r in runs[name])

    plain = best("plain")
    two = best("faceaudit -j 2")
    lines = [
        "# Capture sweep throughput (benchmarks/bench_capture.py)",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}. {note}",
        "",
        f"{result['n_images']} degraded images: ORL subjects 1-{result['subjects']}, images "
        f"2-10, each under {', '.join(CHAINS)}; dlib-resnet. Whole processes (start, imports, "
        "model load, read, degrade, embed); best of the repeats.",
        "",
        "| contender | wall s (runs) | CPU s (best run) | images/s (best) | in-loop s | vs plain |",
        "|---|---|---|---|---|---|",
    ]
    for name, rs in runs.items():
        walls = ", ".join(f"{r['seconds']:.1f}" for r in rs)
        loop = min(r["loop_seconds"] for r in rs)
        cpu = min(rs, key=lambda r: r["seconds"])["cpu_seconds"]
        lines.append(
            f"| {name} | {walls} | {cpu:.1f} | {best(name):.1f} | {loop:.2f} | "
            f"{best(name) / plain:.2f}x |"
        )
    lines += [
        "",
        f"**Ratio faceaudit -j 2 / plain: {two / plain:.2f}x** (target >= 1.6x). faceaudit also "
        "measures every degraded image's quality (the plain loop does not). CPU seconds are the "
        "whole process tree's user + system time: a wall time well above CPU / cores means the "
        "contender waited for a core.",
        "",
        "Same numbers: "
        + "; ".join(
            f"-j {w}: max |embedding diff| {d:.1e}, same failures to acquire: {s}"
            for w, (d, s) in result["diffs"].items()
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--note", default="Shared machine: other work was running.")
    ap.add_argument("--child", choices=("plain", "faceaudit", "warmup"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", type=Path)
    args = ap.parse_args()
    if args.child == "plain":
        return child_plain(args.subjects, args.out)
    if args.child == "faceaudit":
        return child_faceaudit(args.subjects, args.out, args.workers, args.cache)
    if args.child == "warmup":
        import faceaudit.embedding.variants  # noqa: F401
        from faceaudit.recognizers import load_recognizer

        load_recognizer("dlib-resnet")
        return None
    if args.quick:
        args.subjects, args.repeats = 8, 1
    result = measure(args.subjects, args.repeats, args.quick)
    (WORK / "runs.json").write_text(json.dumps(result, indent=1))
    text = render(result, args.note)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
