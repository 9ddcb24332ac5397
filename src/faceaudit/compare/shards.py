"""1:N search of a gallery in shards: each shard searched exactly with faiss, top-k merged exactly.

A **sharded gallery** is a folder of memory-mapped ``.npy`` shards (L2-normalised float32
embeddings) with the subjects and sample ids of all rows and a manifest, written by
:func:`write_gallery_shards` (from any embeddings file, Parquet included, one input at a time) and
opened by :func:`read_gallery_shards` without reading the embeddings: a gallery larger than memory
is searched from disk, one *search unit* of rows at a time.

Exactness. The enrolled templates (the logical gallery, in row order) are cut into search units
of :data:`UNIT_ROWS` templates, whatever the shard files, and every exact search — an in-memory
gallery (:func:`faceaudit.compare.search.search_topk`), shards, a cluster — runs faiss on exactly
those units with the same probe chunks; faiss finds the candidates and :func:`rescore` gives
their scores in float64, rounded once, so a score has the same bits whatever the shape of the
call, faiss's thread count or the BLAS kernel. A gallery of up to ``UNIT_ROWS``
templates is one faiss call, as before. The top-k of each unit and their merge follow one rule:

    candidates are ranked by score (higher first), equal scores by gallery row (lower first), and
    the top k are the first k in that order.

faiss alone breaks ties in an implementation-defined way; :func:`knn_exact` asks it for a few more
candidates than needed and, when the k-th and the last returned scores still tie, widens the search
until every tied candidate is seen. So FPIR, FNIR and the candidate lists of a sharded search equal
those of one index exactly (``tests/test_compare_shards.py``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceaudit._mmap import release_pages
from faceaudit.compare._stream_tasks import _atomic_save
from faceaudit.data import EmbeddingSet, InputFile
from faceaudit.errors import InputError

__all__ = [
    "UNIT_ROWS",
    "MANIFEST",
    "GalleryShards",
    "ShardedGallery",
    "Templates",
    "knn_exact",
    "merge_topk",
    "read_gallery_shards",
    "search_units",
    "sharded_topk",
    "write_gallery_shards",
]

MANIFEST = "gallery.json"
#: Templates per search unit (128 MB at d = 128): every exact search, in memory, in shards or on a
#: cluster, runs over units of this many templates, so all give the same bits.
UNIT_ROWS = 1 << 18
FORMAT = "faceaudit-gallery-shards"


def faiss_block() -> int:
    """faiss's database block of its exact search (rows): search units are multiples of it."""
    import faiss

    return int(getattr(faiss.cvar, "distance_compute_blas_database_bs", 1024) or 1024)


def knn_exact(probes: np.ndarray, gallery: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` rows of ``gallery`` per probe by inner product, ties by lower row (module rule).

    Returns ``(scores float32 (m, k'), rows int64 (m, k'))`` with ``k' = min(k, len(gallery))``.
    """
    import faiss

    n, m = gallery.shape[0], probes.shape[0]
    k = max(0, min(int(k), n))
    if k == 0 or m == 0:
        return np.empty((m, k), np.float32), np.empty((m, k), np.int64)
    kk = min(n, k + max(8, k // 4))  # a margin: exact ties at the k-th score are then rare
    while True:
        d, i = faiss.knn(probes, gallery, kk, metric=faiss.METRIC_INNER_PRODUCT)
        if kk == n or not (d[:, k - 1] == d[:, kk - 1]).any():
            break
        kk = min(n, 2 * kk)  # a tie reaches past what was returned: see every tied candidate
    d = rescore(probes, gallery, i)
    order = np.lexsort((i, -d), axis=1)[:, :k]
    return np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1).astype(np.int64)


def rescore(probes: np.ndarray, gallery: np.ndarray, rows: np.ndarray, chunk: int = 256):
    """The inner products of each probe with its candidate ``rows``, summed in float64 and
    rounded once to float32 (``-inf`` where a row is ``-1``).

    faiss's own scores depend on its thread count and on the CPU's BLAS kernel in the last float32
    bit; these depend on neither (only on numpy's float64 sum, exact to ~1e-16), so a search
    gives the same bits with any threads, on a cluster's workers and, bar float32 rounding
    boundaries, on another machine. Costs ``m k d`` multiply-adds, against the search's ``m n d``.

    >>> q = np.array([[1.0, 0.0]], np.float32); g = np.array([[0.6, 0.8], [1.0, 0.0]], np.float32)
    >>> rescore(q, g, np.array([[1, 0]])).tolist()
    [[1.0, 0.6000000238418579]]
    """
    out = np.full(rows.shape, -np.inf, np.float32)
    for a in range(0, rows.shape[0], chunk):
        r = rows[a : a + chunk]
        ok = r >= 0
        cand = gallery[np.where(ok, r, 0)].astype(np.float64)  # (c, k, d)
        s = np.einsum("ikj,ij->ik", cand, probes[a : a + chunk].astype(np.float64))
        out[a : a + chunk] = np.where(ok, s, -np.inf).astype(np.float32)
    return out


def merge_topk(parts: Sequence[tuple[np.ndarray, np.ndarray]], k: int):
    """Merge per-unit top lists (global rows) into the top ``k`` by the module's rule."""
    d = np.concatenate([p[0] for p in parts], axis=1)
    i = np.concatenate([p[1] for p in parts], axis=1)
    k = min(k, d.shape[1])
    order = np.lexsort((i, -d), axis=1)[:, :k]
    return np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)


# -- the sharded gallery on disk ------------------------------------------------------------------
@dataclass(frozen=True)
class GalleryShards:
    """The shard files of a gallery (paths only: picklable, read by workers by path)."""

    files: tuple[str, ...]
    rows: tuple[int, ...]
    dim: int

    @property
    def n(self) -> int:
        return int(sum(self.rows))

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.rows)]).astype(np.int64)

    def arrays(self) -> list[np.ndarray]:
        from faceaudit.compare._stream_tasks import _open

        return [_open(f) for f in self.files]

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The gallery rows ``rows`` (sorted ascending), as a contiguous float32 array.

        A run of consecutive rows inside one shard is that shard's memory map itself (no copy;
        :meth:`release` lets its pages go after use); anything else is gathered into a copy.
        """
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.starts
        which = np.searchsorted(starts, rows, side="right") - 1
        arrs = self.arrays()
        if rows.size and which[0] == which[-1] and rows[-1] - rows[0] + 1 == rows.size:
            s = int(which[0])
            lo = int(rows[0] - starts[s])
            return arrs[s][lo : lo + rows.size]
        out = np.empty((rows.size, self.dim), dtype=np.float32)
        for s in np.unique(which):
            sel = np.flatnonzero(which == s)
            local = rows[sel] - starts[s]
            arr = arrs[int(s)]
            lo, hi = int(local[0]), int(local[-1]) + 1
            if hi - lo == local.size:  # a contiguous run: one slice
                out[sel[0] : sel[-1] + 1] = arr[lo:hi]
            else:
                out[sel] = arr[local]
            release_pages(arr, lo, hi)
        return out

    def release(self, rows: np.ndarray) -> None:
        """Let the pages of ``rows`` (as :meth:`take` read them) go from this process."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        starts = self.starts
        arrs = self.arrays()
        for s in np.unique(np.searchsorted(starts, rows[[0, -1]], side="right") - 1):
            lo = max(0, int(rows[0] - starts[s]))
            hi = min(self.rows[int(s)], int(rows[-1] - starts[s]) + 1)
            release_pages(arrs[int(s)], lo, hi)


@dataclass(frozen=True, eq=False)
class ShardedGallery:
    """A gallery whose embeddings stay on disk, in shards (duck-types ``EmbeddingSet`` for the
    1:N audit: subjects, samples, inputs, warnings, ``n``, ``dim``, ``synthetic``)."""

    shards: GalleryShards
    subjects: np.ndarray
    samples: np.ndarray
    path: str | None = None
    metadata: dict = field(default_factory=dict)
    inputs: tuple[InputFile, ...] = ()
    warnings: tuple[str, ...] = ()
    groups: None = None

    @property
    def n(self) -> int:
        return self.shards.n

    @property
    def dim(self) -> int:
        return self.shards.dim

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))

    @property
    def embeddings(self):
        raise InputError(
            "this analysis needs the gallery in memory; a sharded gallery serves 1:N search "
            "(faceaudit identify --gallery FOLDER --probes FILE).",
            path=self.path,
        )

    def subset(self, index):
        return self.embeddings  # raises: a sharded gallery is not split here


def write_gallery_shards(
    gallery: EmbeddingSet | Sequence[str | os.PathLike],
    folder: str | os.PathLike,
    *,
    shards: int = 4,
    rows_per_shard: int | None = None,
) -> ShardedGallery:
    """Write a sharded gallery folder from an embedding set or from embedding files.

    Given files (``.npz`` / Parquet, read one at a time, L2-normalised by the reader), each file
    becomes one shard; given a set, it is cut into ``shards`` shards (rounded to whole search units
    of :data:`UNIT_ROWS`, so that a unit is read from its shard's memory map without a copy), or
    shards of ``rows_per_shard`` rows. Shard files: ``shard-00000.npy`` ...; ``subjects.npy`` and
    ``samples.npy`` (fixed-width strings); ``gallery.json`` (the manifest, written last).
    """
    from faceaudit.io.embeddings import read_embeddings

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [gallery] if isinstance(gallery, EmbeddingSet) else list(gallery)
    files, rows, subj, samp, inputs, warnings = [], [], [], [], [], []
    dim = None
    metadata: dict = {}
    for src in sources:
        eset = src if isinstance(src, EmbeddingSet) else read_embeddings(src)
        metadata = metadata or dict(eset.metadata)
        inputs += list(eset.inputs)
        warnings += [w for w in eset.warnings if w not in warnings]
        if dim is None:
            dim = eset.dim
        elif eset.dim != dim:
            raise InputError(f"shard has {eset.dim} dimensions, the others {dim}.", path=eset.path)
        if rows_per_shard:
            step = int(rows_per_shard)
        elif isinstance(gallery, EmbeddingSet):  # whole search units per shard: no copies
            step = -(-eset.n // max(1, shards))
            step = -(-step // UNIT_ROWS) * UNIT_ROWS if eset.n > UNIT_ROWS else step
        else:
            step = eset.n
        for s in range(0, eset.n, max(1, step)):
            name = f"shard-{len(files):05d}.npy"
            part = np.ascontiguousarray(eset.embeddings[s : s + step], dtype=np.float32)
            _atomic_save(folder / name, part)
            files.append(name)
            rows.append(int(part.shape[0]))
        subj.append(np.asarray(eset.subjects).astype(str))
        samp.append(np.asarray(eset.samples).astype(str))
    subjects, samples = np.concatenate(subj), np.concatenate(samp)
    if np.unique(samples).size != samples.size:
        raise InputError("sample ids repeat across the gallery files; they must be unique.")
    _atomic_save(folder / "subjects.npy", subjects)
    _atomic_save(folder / "samples.npy", samples)
    manifest = {
        "format": FORMAT,
        "version": 1,
        "dim": int(dim),
        "shards": [{"file": f, "rows": r} for f, r in zip(files, rows, strict=True)],
        "metadata": metadata,
    }
    tmp = folder / f".{MANIFEST}.partial"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return read_gallery_shards(folder)


def read_gallery_shards(folder: str | os.PathLike) -> ShardedGallery:
    """Open a sharded gallery folder (the manifest and ids; embeddings stay memory-mapped)."""
    folder = Path(folder)
    mpath = folder / MANIFEST
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"a gallery folder needs its manifest {MANIFEST} (write one with "
            "faceaudit.compare.shards.write_gallery_shards).",
            path=folder,
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"the manifest is not valid JSON ({exc}).", path=mpath) from None
    if manifest.get("format") != FORMAT:
        raise InputError(f"the manifest's format is not {FORMAT!r}.", path=mpath)
    dim = int(manifest["dim"])
    files, rows = [], []
    for k, sh in enumerate(manifest["shards"]):
        p = folder / sh["file"]
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
        if arr.ndim != 2 or arr.shape[1] != dim or arr.shape[0] != int(sh["rows"]):
            raise InputError(
                f"shard {k} has shape {arr.shape}; the manifest says {sh['rows']} x {dim}.", path=p
            )
        if arr.dtype != np.float32:
            raise InputError(f"shard {k} is {arr.dtype}; shards hold float32.", path=p)
        files.append(str(p.resolve()))
        rows.append(int(sh["rows"]))
    subjects = np.load(folder / "subjects.npy", allow_pickle=False)
    samples = np.load(folder / "samples.npy", allow_pickle=False)
    n = int(sum(rows))
    if subjects.shape != (n,) or samples.shape != (n,):
        raise InputError(f"subjects/samples do not have one entry per row ({n}).", path=folder)
    from faceaudit.io._checks import PendingDigest

    inputs = (InputFile(str(mpath), PendingDigest(mpath), n),)
    return ShardedGallery(
        GalleryShards(tuple(files), tuple(rows), dim),
        subjects,
        samples,
        str(folder),
        dict(manifest.get("metadata") or {}),
        inputs,
    )


# -- searching templates in units -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Templates:
    """The enrolled templates as search units read them: rows of an in-memory array, or gallery
    rows ``index`` of shard files (memory-mapped)."""

    array: np.ndarray | None = None
    shards: GalleryShards | None = None
    index: np.ndarray | None = None

    @property
    def n(self) -> int:
        if self.array is not None:
            return int(self.array.shape[0])
        return int(self.index.size) if self.index is not None else self.shards.n

    def rows(self, t0: int, t1: int) -> np.ndarray:
        if self.array is not None:
            return np.ascontiguousarray(self.array[t0:t1], dtype=np.float32)
        rows = np.arange(t0, t1) if self.index is None else self.index[t0:t1]
        if rows.size > 1 and (np.diff(rows) < 0).any():  # e.g. a nested (shuffled) order
            order = np.argsort(rows, kind="stable")
            out = np.empty((rows.size, self.shards.dim), dtype=np.float32)
            out[order] = self.shards.take(rows[order])
            return out
        return self.shards.take(rows)

    def release(self, t0: int, t1: int) -> None:
        if self.array is None:
            rows = np.arange(t0, t1) if self.index is None else np.sort(self.index[t0:t1])
            self.shards.release(rows)

    def __getstate__(self):
        if self.array is not None:
            raise TypeError("in-memory templates are searched in this process only")
        return self.__dict__


def search_units(n: int, unit_rows: int | None = None) -> list[tuple[int, int]]:
    """Template ranges of the search units (a multiple of faiss's database block each)."""
    block = faiss_block()
    unit = max(block, -(-(unit_rows or UNIT_ROWS) // block) * block)
    return [(s, min(n, s + unit)) for s in range(0, n, unit)]


def search_threads() -> int:
    """faiss's threads in this process (its OpenMP maximum)."""
    import faiss

    return int(faiss.omp_get_max_threads())


class _UnitTask:
    """``task(job) -> (scores, global rows)`` of one probe chunk x one search unit.

    faiss's scores depend on its thread count (OpenMP and BLAS), so every unit is searched with
    the client's: units run one after the other in this process, and a worker sets the same
    count for the duration of the task.
    """

    parallel_inside = True

    def __init__(self, templates: Templates, probes, k: int, jobs, threads: int) -> None:
        self.templates = templates
        self.probes = probes
        self.k = k
        self.jobs = jobs
        self.threads = int(threads)

    def key(self) -> str:
        return f"unit-{id(self)}"

    def _probes(self, p0: int, p1: int) -> np.ndarray:
        if isinstance(self.probes, str):
            from faceaudit.compare._stream_tasks import _open

            return np.ascontiguousarray(_open(self.probes)[p0:p1], dtype=np.float32)
        return self.probes[p0:p1]

    def __call__(self, job_id: int):
        import faiss
        from threadpoolctl import threadpool_limits

        p0, p1, u0, u1 = self.jobs[job_id]
        q, g = self._probes(p0, p1), self.templates.rows(u0, u1)
        before = faiss.omp_get_max_threads()
        try:
            with threadpool_limits(self.threads):
                faiss.omp_set_num_threads(self.threads)
                d, i = knn_exact(q, g, self.k)
        finally:
            faiss.omp_set_num_threads(before)
            del g
            if job_id + 1 == len(self.jobs) or self.jobs[job_id + 1][2] != u0:
                self.templates.release(u0, u1)  # the unit's last probe chunk: let its pages go
        return {job_id: (d, i + u0)}

    def __getstate__(self):
        if not isinstance(self.probes, str):
            raise TypeError("in-memory probes are searched in this process only")
        return self.__dict__


def _merge_dicts(a: dict, b: dict) -> dict:
    return {**a, **b}


def sharded_topk(
    templates: Templates,
    probes: np.ndarray,
    k: int,
    *,
    chunk_size: int = 4096,
    unit_rows: int | None = None,
    executor=None,
    work_dir: str | os.PathLike | None = None,
    progress=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` templates per probe, unit by unit, merged by the module's rule.

    ``scores`` float32 ``(m, k)`` (``-inf`` past the gallery), ``indices`` int64 (``-1``).
    """
    from faceaudit.compare.execute import current_executor

    executor = executor if executor is not None else current_executor()
    probes = np.ascontiguousarray(probes, dtype=np.float32)
    m, n = probes.shape[0], templates.n
    out_s = np.full((m, k), -np.inf, dtype=np.float32)
    out_i = np.full((m, k), -1, dtype=np.int64)
    if m == 0 or n == 0 or k == 0:
        return out_s, out_i
    units = search_units(n, unit_rows)
    chunks = [(s, min(m, s + chunk_size)) for s in range(0, m, chunk_size)]
    # unit-major: in this process a unit's pages are read once for all probe chunks
    jobs = [(p0, p1, u0, u1) for u0, u1 in units for p0, p1 in chunks]
    probe_src: np.ndarray | str = probes
    tmp = None
    if executor.needs_files:
        if templates.array is not None:
            raise ValueError("a cluster searches templates from shard files")
        base = Path(work_dir) if work_dir is not None else Path(tmp := tempfile.mkdtemp())
        base.mkdir(parents=True, exist_ok=True)
        path = base / f"probes-{os.getpid()}-{id(probes)}.npy"
        _atomic_save(path, probes)
        probe_src = str(path)
    task = _UnitTask(templates, probe_src, k, jobs, search_threads())
    weights = [(p1 - p0) * (u1 - u0) for p0, p1, u0, u1 in jobs]
    try:
        found = executor.map_reduce(
            task, range(len(jobs)), _merge_dicts, weights=weights, progress=progress
        )
    finally:
        if tmp is not None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    for p0, p1 in chunks:
        parts = [found[j] for j, job in enumerate(jobs) if job[0] == p0]
        d, i = merge_topk(parts, k)
        out_s[p0:p1, : d.shape[1]] = d
        out_i[p0:p1, : i.shape[1]] = i
    return out_s, out_i
