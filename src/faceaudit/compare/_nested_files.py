"""Files and keys of the scale map (:mod:`faceaudit.compare.nested`): the run's key (what its
block products depend on), the work folder's layout, and the data written there for workers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from faceaudit.compare._stream_tasks import _atomic_save
from faceaudit.compare.shards import GalleryShards, Templates


def as_templates(templates) -> Templates:
    """The gallery in nested order as search units read it (an array is wrapped, not copied)."""
    return templates if isinstance(templates, Templates) else Templates(array=templates)


def _hash_array(h, arr: np.ndarray, step: int = 1 << 16) -> None:
    h.update(f"{arr.shape}|{arr.dtype}|".encode())
    for s in range(0, arr.shape[0], step):
        h.update(np.ascontiguousarray(arr[s : s + step]).tobytes())


def _hash_templates(h, templates) -> None:
    if not isinstance(templates, Templates) or templates.array is not None:
        arr = templates if not isinstance(templates, Templates) else templates.array
        _hash_array(h, np.asarray(arr, dtype=np.float32))
        return
    for f, r in zip(templates.shards.files, templates.shards.rows, strict=True):
        st = os.stat(f)
        h.update(f"{f}|{r}|{st.st_size}|{st.st_mtime_ns}|".encode())
    if templates.index is not None:
        _hash_array(h, np.asarray(templates.index, dtype=np.int64))


def run_key(templates, template_subject, nonmated, mated, mated_subject, spec, pb, gb) -> str:
    """What every block product depends on: the data, the settings and the block sizes."""
    h = hashlib.sha256(b"faceaudit-nested-1|")
    _hash_templates(h, templates)
    for arr in (template_subject, nonmated, mated, mated_subject, spec.starts, spec.sample_pos,
                spec.val_sample_pos):  # fmt: skip
        _hash_array(h, np.asarray(arr))
    h.update(
        f"{spec.n_templates}|{float(spec.t32)!r}|{spec.val_templates}|{spec.pool_size}|"
        f"{spec.val_pool_size}|{spec.n_gallery_blocks}|{pb}|{gb}".encode()
    )
    return h.hexdigest()[:24]


def store_folder(work_dir, key: str) -> Path:
    """Where a run's block products are kept: ``WORK/scale-<key>/blocks``."""
    d = Path(work_dir) / f"scale-{key}" / "blocks"
    d.mkdir(parents=True, exist_ok=True)
    return d


def files_folder(executor, work_dir, key: str) -> Path:
    """The folder the workers read this run's data from (shared storage)."""
    root = Path(work_dir) if work_dir is not None else executor.files_dir()
    d = root / f"scale-{key}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def on_disk(folder: Path, probes: dict, templates) -> tuple[dict, Templates]:
    """The searches as ``.npy`` paths, and the templates as shard files (an in-memory gallery is
    written once, in nested order)."""
    paths = {}
    for side, arr in probes.items():
        p = folder / f"searches-{side}.npy"
        if not p.exists():
            _atomic_save(p, np.ascontiguousarray(arr, dtype=np.float32))
        paths[side] = str(p)
    t = as_templates(templates)
    if t.array is not None:
        p = folder / "templates.npy"
        if not p.exists():
            _atomic_save(p, np.ascontiguousarray(t.array, dtype=np.float32))
        n, d = t.array.shape
        t = Templates(shards=GalleryShards((str(p),), (int(n),), int(d)))
    return paths, t
