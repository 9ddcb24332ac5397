"""1:N search of probe embeddings against an enrolled gallery (faiss), as top-L candidate lists.

Scores are inner products of L2-normalised float32 vectors (cosine similarity, higher = more
similar). The exact search is brute force (``faiss.knn`` with ``METRIC_INNER_PRODUCT``, BLAS
blocks) over the gallery array as given — no copy of the gallery is made — with the probes taken
``chunk_size`` at a time, so memory is the gallery plus ``O(chunk_size * (d + L))``.

An approximate index (``"ivf"``: IndexIVFFlat; ``"hnsw"``: IndexHNSWFlat) may be used instead; its
recall against the exact search is then measured on a sample of probes and must be reported beside
any result that used it (:class:`ApproximateSearch`).

Gallery
-------
NIST FRTE enrols one sample per subject; so does :func:`search_gallery` by default (the first
sample of each subject in file order). ``enrol="all"`` enrols every sample, and candidate lists
stay subject-level: a subject's best-scoring sample stands for it. Or name the enrolled samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from faceaudit.compare.enrolment import Enrolment, enrol_gallery, split_enrolment
from faceaudit.data import CandidateLists, EmbeddingSet, ProbeTruth

__all__ = [
    "ApproximateSearch",
    "GallerySearch",
    "Enrolment",
    "enrol_gallery",
    "search_topk",
    "search_gallery",
    "split_enrolment",
]

Progress = Callable[[int, int], None]
INDEXES = ("flat", "ivf", "hnsw")


@dataclass(frozen=True)
class ApproximateSearch:
    """How an approximate index compared with exact search on the same probes.

    ``recall_at_l``: mean over checked probes of |approximate list ∩ exact list| / |exact list|
    (subject level, list length ``list_length``); ``rank1_agreement``: share of checked probes
    whose rank-1 candidate is the same.
    """

    index: str
    params: dict
    list_length: int
    n_probes_checked: int
    recall_at_l: float
    rank1_agreement: float

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "params": dict(self.params),
            "list_length": self.list_length,
            "n_probes_checked": self.n_probes_checked,
            "recall_at_l": self.recall_at_l,
            "rank1_agreement": self.rank1_agreement,
        }


@dataclass(frozen=True)
class GallerySearch:
    """Result of :func:`search_gallery`: candidate lists plus everything the metrics need."""

    lists: CandidateLists
    truth: ProbeTruth
    gallery_size: int
    gallery_subjects: np.ndarray
    n_templates: int
    n_unused_gallery_samples: int
    approximate: ApproximateSearch | None


def _build_index(gallery: np.ndarray, index: str, params: dict, seed: int):
    import faiss

    n, d = gallery.shape
    if index == "ivf":
        nlist = int(params.get("nlist") or max(1, min(n // 39, int(4 * math.sqrt(n)))))
        quantizer = faiss.IndexFlatIP(d)
        idx = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        n_train = min(n, max(nlist * 64, 10_000))
        train = gallery[np.sort(rng.choice(n, n_train, replace=False))] if n_train < n else gallery
        idx.train(train)
        idx.add(gallery)
        idx.nprobe = int(params.get("nprobe") or min(nlist, 16))
        params.update(nlist=nlist, nprobe=idx.nprobe)
        return idx
    if index == "hnsw":
        m = int(params.get("m") or 32)
        idx = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = int(params.get("ef_construction") or 80)
        idx.add(gallery)
        idx.hnsw.efSearch = int(params.get("ef_search") or 128)
        params.update(m=m, ef_construction=idx.hnsw.efConstruction, ef_search=idx.hnsw.efSearch)
        return idx
    raise ValueError(f"index must be one of {INDEXES}, got {index!r}.")


def search_topk(
    gallery: np.ndarray,
    probes: np.ndarray,
    k: int,
    *,
    chunk_size: int = 4096,
    index: str = "flat",
    index_params: dict | None = None,
    progress: Progress | None = None,
    seed: int = 0,
    unit_rows: int | None = None,
    _built=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` gallery rows per probe by inner product.

    Parameters
    ----------
    gallery, probes : ndarray, float32, shape (n, d) / (m, d)
        L2-normalised rows (not checked here; :func:`faceaudit.io.embeddings.read_embeddings`
        normalises).
    k : int
        Candidates per probe (clipped to the gallery size).
    chunk_size : int
        Probes searched per call (bounds memory and sets the progress granularity).
    index : {"flat", "ivf", "hnsw"}
        ``"flat"`` is exact (ties: lower gallery row first, see the module docstring).
    index_params : dict, optional
        ``nlist``, ``nprobe`` (ivf); ``m``, ``ef_construction``, ``ef_search`` (hnsw). Filled in
        with the values used.
    progress : callable(done, total), optional
    unit_rows : int, optional
        The exact search runs over units of this many gallery rows (default
        :data:`faceaudit.compare.shards.UNIT_ROWS`), merged exactly: a gallery in shards is
        searched in the same units, so both give the same bits and candidates.

    Returns
    -------
    scores : ndarray, float32, shape (m, k)
        Non-increasing along rows; ``-inf`` where fewer than ``k`` candidates were found.
    indices : ndarray, int64, shape (m, k)
        Gallery row of each candidate; ``-1`` where none.
    """
    gallery = np.ascontiguousarray(gallery, dtype=np.float32)
    probes = np.ascontiguousarray(probes, dtype=np.float32)
    if gallery.ndim != 2 or probes.ndim != 2 or gallery.shape[1] != probes.shape[1]:
        raise ValueError(
            f"gallery {gallery.shape} and probes {probes.shape} must be 2-d with one dimension."
        )
    n, m = gallery.shape[0], probes.shape[0]
    k_eff = max(0, min(int(k), n))
    scores = np.full((m, k), -np.inf, dtype=np.float32)
    indices = np.full((m, k), -1, dtype=np.int64)
    if k_eff == 0 or m == 0:
        return scores, indices
    params = index_params if index_params is not None else {}
    if index == "flat":
        from faceaudit.compare.execute import InProcess
        from faceaudit.compare.shards import Templates, sharded_topk

        def by_probe(done: int, total: int) -> None:
            progress(done // n, total // n)

        s_, i_ = sharded_topk(
            Templates(array=gallery),
            probes,
            k_eff,
            chunk_size=chunk_size,
            unit_rows=unit_rows,
            executor=InProcess(),
            progress=by_probe if progress else None,
        )
        scores[:, :k_eff] = s_
        indices[:, :k_eff] = i_
        return scores, indices
    idx = None
    if index != "flat":
        idx = _built if _built is not None else _build_index(gallery, index, params, seed)
    done = 0
    if progress:
        progress(0, m)
    for start in range(0, m, chunk_size):
        stop = min(m, start + chunk_size)
        d_, i_ = idx.search(probes[start:stop], k_eff)
        bad = i_ < 0
        if bad.any():
            d_ = np.where(bad, -np.inf, d_)
        scores[start:stop, :k_eff] = d_
        indices[start:stop, :k_eff] = i_
        done = stop
        if progress:
            progress(done, m)
    return scores, indices


def _subject_lists(
    scores: np.ndarray, indices: np.ndarray, template_subject: np.ndarray, L: int
) -> tuple[np.ndarray, np.ndarray]:
    """Collapse template-level top-k to subject-level top-L (best template per subject)."""
    m, k = indices.shape
    valid = indices >= 0
    codes = np.where(valid, template_subject[np.where(valid, indices, 0)], -1)
    # first occurrence of each subject along each row (rows are sorted by score)
    order = np.argsort(codes, axis=1, kind="stable")
    sc = np.take_along_axis(codes, order, axis=1)
    first_sorted = np.ones_like(sc, dtype=bool)
    first_sorted[:, 1:] = sc[:, 1:] != sc[:, :-1]
    first = np.zeros_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    first &= valid
    pos = np.cumsum(first, axis=1) - 1
    keep = first & (pos < L)
    rows, cols = np.nonzero(keep)
    out_c = np.full((m, L), -1, dtype=np.int64)
    out_s = np.full((m, L), -np.inf)
    out_c[rows, pos[rows, cols]] = codes[rows, cols]
    out_s[rows, pos[rows, cols]] = scores[rows, cols]
    return out_c, out_s


def search_gallery(
    gallery: EmbeddingSet | Enrolment,
    probes: EmbeddingSet,
    *,
    list_length: int = 50,
    enrol: str | Iterable[str] = "first",
    chunk_size: int = 4096,
    index: str = "flat",
    index_params: dict | None = None,
    recall_probes: int = 1000,
    progress: Progress | None = None,
    seed: int = 0,
    unit_rows: int | None = None,
) -> GallerySearch:
    """Search every probe against the enrolled gallery; subject-level top-L candidate lists.

    A probe whose subject is enrolled is a mated search; any other probe is non-mated (NIST FRTE).

    Parameters
    ----------
    gallery : EmbeddingSet or Enrolment
        The gallery file (``enrol`` picks its templates) or an :class:`Enrolment`.
    probes : EmbeddingSet
    list_length : int
        L, candidates returned per search.
    enrol : "first", "all" or sample ids
        See :func:`enrol_gallery`.
    chunk_size, index, index_params, progress, seed
        See :func:`search_topk`.
    recall_probes : int
        With an approximate index, how many probes (random, seeded) are also searched exactly to
        measure its recall.
    unit_rows : int, optional
        The exact search runs over units of this many templates (default
        :data:`faceaudit.compare.shards.UNIT_ROWS`), whether the gallery is in memory, in
        shards or searched on a cluster: the same units give the same results.

    Returns
    -------
    GallerySearch
    """
    if not isinstance(gallery, Enrolment):
        gallery = enrol_gallery(gallery, enrol)
    if gallery.dim != probes.dim:
        from faceaudit.errors import InputError

        raise InputError(
            f"the probe embeddings have {probes.dim} dimensions but the gallery's have "
            f"{gallery.dim}; both must come from the same model.",
            path=probes.path,
        )
    L = int(list_length)
    if L < 1:
        raise ValueError("list_length must be >= 1.")
    multi = gallery.max_templates
    k = min(len(gallery.template_subject), L * max(multi, 1))
    params = dict(index_params or {})
    built = None
    from faceaudit.compare.execute import current_executor

    executor = current_executor()
    in_units = gallery.templates is not None or executor.needs_files
    if in_units and index != "flat":
        from faceaudit.errors import InputError

        raise InputError(
            f"index = {index!r}: a gallery in shards or on a cluster is searched exactly "
            "(index 'flat')."
        )
    if in_units:
        scores, indices = _search_in_units(
            gallery, probes, k, executor, chunk_size, unit_rows, progress
        )
    else:
        if index != "flat":
            built = _build_index(gallery.embeddings, index, params, seed)
        scores, indices = search_topk(
            gallery.embeddings,
            probes.embeddings,
            k,
            chunk_size=chunk_size,
            index=index,
            index_params=params,
            progress=progress,
            seed=seed,
            unit_rows=unit_rows,
            _built=built,
        )
    codes, sc = _subject_lists(scores, indices, gallery.template_subject, L)
    approx = None
    if index != "flat":
        approx = _recall(gallery, probes, codes, k, L, index, params, recall_probes, chunk_size,
                         seed)  # fmt: skip
    lists = CandidateLists(probes.samples.astype(str), codes, sc, gallery.subjects)
    truth = ProbeTruth(probes.samples.astype(str), probes.subjects, probes.groups)
    return GallerySearch(
        lists,
        truth,
        gallery.gallery_size,
        gallery.subjects,
        int(len(gallery.template_subject)),
        gallery.n_unused,
        approx,
    )


def _search_in_units(gallery, probes, k, executor, chunk_size, unit_rows, progress):
    """The exact search over search units: a gallery in shards, or on a cluster's workers (an
    in-memory gallery is written to the executor's files folder for them)."""
    from faceaudit.compare.shards import Templates, sharded_topk

    templates = gallery.templates or Templates(array=gallery.embeddings)
    if executor.needs_files and templates.array is not None:
        templates = _templates_on_disk(gallery.embeddings, executor.files_dir())
    return sharded_topk(
        templates,
        probes.embeddings,
        k,
        chunk_size=chunk_size,
        unit_rows=unit_rows,
        executor=executor,
        work_dir=executor.files_dir() if executor.needs_files else None,
        progress=None if progress is None else _per_probe(progress, templates.n),
    )


def _recall(gallery, probes, codes, k, L, index, params, recall_probes, chunk_size, seed):
    """An approximate index against exact search on ``recall_probes`` random probes (seeded):
    the share of the exact top-L subjects it also returns, and rank-1 agreement."""
    rng = np.random.default_rng(seed)
    n_check = min(probes.n, int(recall_probes))
    pick = np.sort(rng.choice(probes.n, n_check, replace=False))
    es, ei = search_topk(gallery.embeddings, probes.embeddings[pick], k, chunk_size=chunk_size)
    ec, _ = _subject_lists(es, ei, gallery.template_subject, L)
    ac = codes[pick]
    inter = np.array(
        [
            len(set(a[a >= 0].tolist()) & set(e[e >= 0].tolist()))
            for a, e in zip(ac, ec, strict=True)
        ]
    )
    denom = np.maximum((ec >= 0).sum(axis=1), 1)
    return ApproximateSearch(
        index,
        params,
        L,
        int(n_check),
        float(np.mean(inter / denom)) if n_check else float("nan"),
        float(np.mean(ac[:, 0] == ec[:, 0])) if n_check else float("nan"),
    )


def _per_probe(progress: Progress, n_templates: int) -> Progress:
    """A progress in comparisons shown in probes."""
    n = max(1, int(n_templates))
    return lambda done, total: progress(done // n, total // n)


def _templates_on_disk(embeddings: np.ndarray, folder):
    """The enrolled templates written once as a shard file the workers read by path."""
    import hashlib
    from pathlib import Path

    from faceaudit.compare._stream_tasks import _atomic_save
    from faceaudit.compare.shards import GalleryShards, Templates

    h = hashlib.sha256(np.ascontiguousarray(embeddings, dtype=np.float32).tobytes()).hexdigest()
    path = Path(folder) / f"templates-{h[:20]}.npy"
    if not path.exists():
        _atomic_save(path, np.ascontiguousarray(embeddings, dtype=np.float32))
    n, d = embeddings.shape
    return Templates(shards=GalleryShards((str(path),), (int(n),), int(d)))
