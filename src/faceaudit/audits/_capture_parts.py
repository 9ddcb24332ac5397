"""The small parts of ``audit_capture``: landmarks and quality of a photo, the synthetic
conditions and their cached variants, the sweeps' JSON, example images, warnings.

The options are validated in :mod:`faceaudit.audits._capture_plan`, the photos embedded in
:mod:`faceaudit.audits._capture_embed`."""

from __future__ import annotations

import re
from pathlib import Path

from faceaudit import params
from faceaudit.capture.sweeps import CLEAN, Sweep
from faceaudit.errors import InputError
from faceaudit.io.images import ImageSet


def _layout(model: str) -> str | None:
    from faceaudit.capture.geometry import layout_for_model

    try:
        return layout_for_model(model)
    except InputError:
        return None


def _eyes(face: dict | None, layout: str | None):
    from faceaudit.capture.geometry import eye_centres

    if face is None or layout is None or face.get("landmarks") is None:
        return None
    return eye_centres(face["landmarks"], layout)


def _find_image(images: ImageSet, name: str) -> int:
    target = Path(name)
    for i, r in enumerate(images.records):
        if r.sample == name or r.sample == target.as_posix():
            return i
    resolved = target.resolve() if target.exists() else None
    for i, r in enumerate(images.records):
        if resolved is not None and Path(r.path).resolve() == resolved:
            return i
    tail = "/" + target.as_posix().lstrip("/")
    hits = [i for i, r in enumerate(images.records) if r.sample.endswith(tail)]
    if len(hits) == 1:
        return hits[0]
    raise params.ParameterError(
        "show_examples",
        name,
        "is not one of the images audited; name it by its path or by its id in the set "
        f"(e.g. {images.records[0].sample!r}).",
    )


def _quality_value(q: dict | None) -> tuple[float, dict | None]:
    if not q:
        return float("nan"), None
    score = q.get("score")
    numbers = {k: v for k, v in q.items() if k != "score" and isinstance(v, int | float)}
    return (float("nan") if score is None else float(score)), numbers


def _sweep_json(sweep: Sweep) -> dict:
    out = sweep.to_json()
    out["levels"] = [
        {
            "severity": 0,
            "condition": CLEAN,
            "label": "clean photos",
            "meaning": "the photos as taken",
            "value": None,
            "chain": [],
        },
        *out["levels"],
    ]
    return out


def _split_warnings(split, recorded: bool, ref_name: str) -> list[str]:
    missing = [n for n, r in zip(split.names, split.reference, strict=True) if r < 0]
    if not missing:
        return []
    where = f"in the reference condition {ref_name!r} " if recorded else ""
    return [
        f"{len(missing)} of {len(split.names)} subjects have no photo {where}that yields a face "
        f"(e.g. {missing[0]!r}): they have no reference, so their probes count only as "
        "non-mated."
    ]


def _examples_writer(images, index, outcome, sweeps, layout, seed):
    """``write(folder)``: the chosen image under every condition, as PNGs, and an index."""
    from faceaudit.embedding.variants import image_seed
    from faceaudit.io.images import read_image

    record = images.records[index]

    def write(folder: Path) -> None:
        from PIL import Image

        from faceaudit.capture.degrade import apply_chain
        from faceaudit.output import dump_json

        folder.mkdir(parents=True, exist_ok=True)
        image = read_image(record.path)
        eyes = _eyes(outcome.face, layout)
        entries = [{"file": "00-clean.png", "condition": CLEAN, "chain": []}]
        Image.fromarray(image).save(folder / "00-clean.png", format="PNG")
        k = 0
        for sweep in sweeps:
            for level in sweep.levels:
                k += 1
                v = _variant(sweep, level, index, outcome, eyes, seed, image_seed)
                if v.eyes is None and any(s.kind.eyes == "required" for s in v.chain):
                    entries.append(
                        {
                            "file": None,
                            "condition": level.name,
                            "chain": [],
                            "skipped": "no eye centres: the image yields no face",
                        }
                    )
                    continue
                out = apply_chain(image, v.chain, eyes=v.eyes, seed=v.seed)
                name = f"{k:02d}-{_slug(level.name)}.png"
                Image.fromarray(out).save(folder / name, format="PNG")
                entries.append(
                    {"file": name, "condition": level.name, "chain": [s.to_json() for s in v.chain]}
                )
        index_json = {"image": record.sample, "examples": entries}
        (folder / "index.json").write_text(dump_json(index_json), encoding="utf-8")

    return write


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:80]


def _synthetic_conditions(sweeps):
    from faceaudit.analyses.capture import Condition

    conds = [
        Condition(CLEAN, "clean photos", "clean", None, 0, None, "the photos as taken", (), False)
    ]
    levels = []
    for s in sweeps:
        for lv in s.levels:
            conds.append(
                Condition(
                    lv.name,
                    lv.label,
                    s.kind,
                    s.name,
                    lv.severity,
                    lv.value,
                    lv.meaning,
                    tuple(d.to_json() for d in lv.chain),
                    s.scaled_to_face,
                )
            )
            levels.append((s, lv))
    return conds, levels


def _variant(sweep, level, i, outcome, eyes, seed, image_seed):
    from faceaudit.capture.geometry import inter_eye_distance
    from faceaudit.embedding.variants import Variant

    ied = None if eyes is None else inter_eye_distance(eyes)
    chain = sweep.chain_for(level, ied=ied)
    uses = any(s.kind.eyes != "unused" for s in chain)
    return Variant(i, chain, image_seed(outcome.image_sha256, seed), eyes if uses else None)


def _cache_note(what: str, result) -> str:
    s = result.stats
    return (
        f"{what}: {s.n_images:,} images, cache: {s.n_cached:,} reused, {s.n_computed:,} "
        f"computed ({s.n_failed:,} failures to acquire)"
    )
