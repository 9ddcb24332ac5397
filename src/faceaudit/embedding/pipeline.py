"""Images in, embeddings out: the parallel, cached, resumable embedding pipeline.

:func:`embed_images` reads a folder ``<subject>/<image>`` or a manifest CSV, and for every image:
reads its bytes, hashes them (SHA-256), takes the embedding from the cache when present, and
otherwise sends the bytes to a worker process that decodes safely
(:func:`~faceaudit.io.images.decode_image`), runs the recognizer and returns the L2-normalised
embedding or the reason it failed (a failure to acquire, FTA). The parent writes each outcome to
the cache as it arrives, so a run stopped at any point resumes without recomputing anything stored.

Guarantees
----------
- **Deterministic output**: rows come out in discovery order (sorted names for a folder, row order
  for a manifest) whatever the number of workers or the order they finish in; each worker runs the
  model single-threaded, so numbers do not depend on the worker count.
- **One bad file never aborts a run**: every failure becomes a :class:`Failure` with its reason (see
  :data:`~faceaudit.io.images.FTA_REASONS`). A worker that dies (e.g. a crash inside a native
  library) is replaced; the images it held are retried one at a time and an image that kills a
  worker twice is recorded as ``worker_crash``.
- **Clean interruption**: on Ctrl-C (KeyboardInterrupt) the workers are terminated, every finished
  outcome is already committed to the cache, and the exception propagates.

Parallelism uses processes (``spawn``), not threads: dlib and OpenCV hold the interpreter lock
while they compute. A run served entirely from the cache starts no process and loads no model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from faceaudit.embedding._workers import (
    _Outcome,
    _Pool,
    _represent_bytes,
    _work,
    default_workers,
)
from faceaudit.embedding.cache import CacheEntry, EmbeddingCache, default_cache_dir
from faceaudit.embedding.result import EmbeddingResult, EmbedProgress, EmbedStats, Failure
from faceaudit.io.images import (
    DEFAULT_MAX_PIXELS,
    ImageSet,
    discover_images,
)
from faceaudit.recognizers.base import DEFAULT_MODEL, ModelInfo, file_sha256
from faceaudit.recognizers.registry import describe_model

__all__ = [
    "EmbedProgress",
    "EmbedStats",
    "EmbeddingResult",
    "Failure",
    "default_workers",
    "embed_images",
]

log = logging.getLogger("faceaudit.embedding")


def embed_images(
    source: str | os.PathLike[str] | ImageSet,
    *,
    model: str = DEFAULT_MODEL,
    options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Callable[[EmbedProgress], None] | None = None,
) -> EmbeddingResult:
    """Embed every image of a folder or manifest with a recognizer, in parallel, with a cache.

    Parameters
    ----------
    source : path-like or ImageSet
        A folder ``<subject>/<image>`` or a manifest CSV (``path``, ``subject`` + metadata
        columns), see :func:`~faceaudit.io.images.discover_images`; or an ImageSet already found.
    model : str
        Registry name (``"dlib-resnet"``, ``"facenet"``, ``"onnx"``) or ``"module:Class"``.
    options : dict, optional
        Model options (e.g. ``{"detector": "cnn"}``; for ``onnx``: ``{"path": ..., "spec": ...}``).
    workers : int, optional
        Worker processes (default: the CPUs available). 0 runs everything in this process (with
        the model's default threading), which is handy for debugging.
    cache_dir : path-like, optional
        Cache folder (default :func:`~faceaudit.embedding.cache.default_cache_dir`).
    use_cache : bool
        False: neither read nor write a cache.
    max_pixels : int
        Largest image accepted (width x height), checked before decoding; larger is ``too_large``.
    progress : callable, optional
        Called with an :class:`EmbedProgress` once at the start and after every image.

    Returns
    -------
    EmbeddingResult

    Raises
    ------
    InputError
        A source, model, option or cache that cannot be used.
    KeyboardInterrupt
        After terminating the workers; the cache keeps everything finished.

    Examples
    --------
    >>> res = embed_images("lfw/", model="dlib-resnet", workers=2)     # doctest: +SKIP
    >>> res.embeddings.shape, res.failure_counts()                      # doctest: +SKIP
    ((13171, 128), {'no_face': 62})
    """
    t0 = time.perf_counter()
    images = source if isinstance(source, ImageSet) else discover_images(source)
    n_workers = default_workers() if workers is None else int(workers)
    if n_workers < 0:
        raise ValueError("workers must be >= 0")
    options = dict(options or {})
    cache = EmbeddingCache(cache_dir or default_cache_dir()) if use_cache else None
    try:
        info = describe_model(model, options, hash_file=cache.file_sha256 if cache else file_sha256)
        if cache is not None:
            cache.register_model(info)
        pool = _Pool(model, options, info, n_workers, max_pixels)
        runner = _ImageRunner(images, pool, cache, progress)
        runner.run(own_pool=True)
    finally:
        if cache is not None:
            cache.close()
    return _assemble(images, info, runner, n_workers, time.perf_counter() - t0)


class _Runner:
    """The scheduling loop: cache look-ups in order, a bounded window of work in the pool.

    Subclasses say what task ``i`` is (:meth:`_lookup`: its cached outcome, or its cache key and
    the payload to compute it from), how a worker computes it (:meth:`_task`), how this process
    computes it without workers (:meth:`_compute_local`) and how an outcome is stored
    (:meth:`_store`). The loop (window, crash retries, Ctrl-C) is the same for every kind of task.
    """

    def __init__(self, n: int, pool: _Pool, cache: EmbeddingCache | None, progress):
        self.n = n
        self.pool = pool
        self.info = pool.info
        self.workers, self.max_pixels = pool.workers, pool.max_pixels
        self.cache = cache
        self.progress = progress
        self.key = pool.info.cache_key
        self.outcomes: list[_Outcome | None] = [None] * n
        self.cached = np.zeros(n, dtype=bool)
        self.done = self.n_cached = self.n_computed = self.n_failed = 0
        self.pool_worked = False  # a worker has returned a result in this run

    # -- what a task is (subclasses) ------------------------------------------------------------

    def _lookup(self, i: int) -> tuple[_Outcome | None, str | None, Any]:
        """Task ``i``'s outcome if known (cached, or unreadable), its cache key, its payload."""
        raise NotImplementedError

    def _task(self, i: int, payload: Any) -> tuple[Callable, tuple]:
        """The worker function and its arguments (picklable) for task ``i``."""
        raise NotImplementedError

    def _compute_local(self, i: int, payload: Any) -> _Outcome:
        raise NotImplementedError

    def _store(self, i: int, outcome: _Outcome, key: str) -> None:
        raise NotImplementedError

    def _label(self, i: int) -> str:
        return str(i)

    # -- bookkeeping ----------------------------------------------------------------------------

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                EmbedProgress(self.done, self.n, self.n_cached, self.n_computed, self.n_failed)
            )

    def _record(self, i: int, outcome: _Outcome, *, cached: bool, sha: str | None) -> None:
        self.outcomes[i] = outcome
        self.cached[i] = cached
        self.done += 1
        if cached:
            self.n_cached += 1
        elif sha is not None:
            self.n_computed += 1
            if self.cache is not None:
                self._store(i, outcome, sha)
        if outcome.status != "ok":
            self.n_failed += 1
            log.info("%s: %s (%s)", self._label(i), outcome.status, outcome.detail)
        self._report()

    def _finish_lookup(self, i: int, outcome: _Outcome, sha: str | None, payload: Any) -> None:
        self._record(i, outcome, cached=sha is not None and payload is None, sha=sha)

    # -- execution ------------------------------------------------------------------------------

    def _submit(self, i: int, payload: Any) -> Future:
        fn, args = self._task(i, payload)
        return self.pool.get().submit(fn, *args)

    def run(self, *, own_pool: bool) -> None:
        """Every task, in order; ``own_pool``: shut the pool down at the end."""
        self._report()
        try:
            if self.workers == 0:
                self._run_local()
            else:
                self._run_pool()
        except BaseException:
            self.pool.terminate()
            raise
        if own_pool:
            self.pool.shutdown()

    def _run_local(self) -> None:
        for i in range(self.n):
            outcome, sha, data = self._lookup(i)
            if outcome is not None:
                self._finish_lookup(i, outcome, sha, data)
                continue
            self._record(i, self._compute_local(i, data), cached=False, sha=sha)

    def _run_pool(self) -> None:
        n = self.n
        window = 2 * self.workers + 2
        pending: dict[Future, tuple[int, str, Any]] = {}
        suspects: deque[tuple[int, str, Any]] = deque()
        next_i = 0
        while next_i < n or pending or suspects:
            if suspects and not pending:
                self._retry_alone(suspects.popleft())
                continue
            while not suspects and next_i < n and len(pending) < window:
                i = next_i
                next_i += 1
                outcome, sha, data = self._lookup(i)
                if outcome is not None:
                    self._finish_lookup(i, outcome, sha, data)
                    continue
                pending[self._submit(i, data)] = (i, sha, data)
            if not pending:
                continue
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                i, sha, data = pending.pop(fut)
                try:
                    _, outcome = fut.result()
                except BrokenProcessPool:
                    suspects.append((i, sha, data))
                    continue
                self.pool_worked = True
                self._record(i, outcome, cached=False, sha=sha)
            if suspects:
                self._check_pool_started()
                # the pool is broken: every pending task failed with it; retry them one by one
                for fut, item in list(pending.items()):
                    try:
                        _, outcome = fut.result()
                        self._record(item[0], outcome, cached=False, sha=item[1])
                    except BrokenProcessPool:
                        suspects.append(item)
                pending.clear()
                self.pool.terminate()
                log.warning(
                    "a worker process died; retrying its %d image(s) one at a time", len(suspects)
                )

    def _check_pool_started(self) -> None:
        if not self.pool_worked:
            self.pool.terminate()
            raise RuntimeError(
                "the worker processes died before finishing any image (see the messages above): "
                "the model may fail to load, or the calling script starts work at import time. "
                "Guard a script's code with `if __name__ == '__main__':`, or pass workers=0 to "
                "run in this process and see the error."
            )

    def _retry_alone(self, item: tuple[int, str, Any]) -> None:
        i, sha, data = item
        try:
            _, outcome = self._submit(i, data).result()
        except BrokenProcessPool:
            self.pool.terminate()
            outcome = _Outcome(
                "worker_crash",
                "the worker process died on this image twice",
                None,
                None,
                None,
                None,
            )
            self._record(i, outcome, cached=False, sha=None)
            return
        self._record(i, outcome, cached=False, sha=sha)


class _ImageRunner(_Runner):
    """Tasks are the images of an ImageSet, keyed by the SHA-256 of their bytes."""

    def __init__(self, images: ImageSet, pool: _Pool, cache, progress):
        super().__init__(len(images.records), pool, cache, progress)
        self.records = images.records

    def _label(self, i: int) -> str:
        return self.records[i].sample

    def _store(self, i: int, outcome: _Outcome, key: str) -> None:
        self.cache.put(
            key,
            self.key,
            CacheEntry(
                outcome.status,
                outcome.detail,
                outcome.width,
                outcome.height,
                outcome.embedding,
                outcome.face,
            ),
        )

    def _lookup(self, i: int) -> tuple[_Outcome | None, str | None, bytes | None]:
        """Read and hash image ``i``; its cached outcome if any."""
        path = self.records[i].path
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return _Outcome("missing", f"{path} does not exist", None, None, None, None), None, None
        except OSError as exc:
            detail = f"{path} could not be read ({exc})"
            return _Outcome("unreadable", detail, None, None, None, None), None, None
        sha = hashlib.sha256(data).hexdigest()
        entry = self.cache.get(sha, self.key) if self.cache is not None else None
        if entry is None:
            return None, sha, data
        w, h = entry.width, entry.height
        if w is not None and h is not None and w * h > self.max_pixels:
            detail = f"{w} x {h} = {w * h} pixels exceeds the limit of {self.max_pixels} pixels"
            return _Outcome("too_large", detail, w, h, None, None), sha, None
        return (
            _Outcome(entry.status, entry.detail or "", w, h, entry.embedding, entry.face),
            sha,
            None,
        )

    def _task(self, i: int, payload: bytes) -> tuple[Callable, tuple]:
        return _work, (i, payload)

    def _compute_local(self, i: int, payload: bytes) -> _Outcome:
        return _represent_bytes(self.pool.local(), payload, self.max_pixels)


def _assemble(
    images: ImageSet, info: ModelInfo, runner: _Runner, workers: int, seconds: float
) -> EmbeddingResult:
    outcomes: Sequence[_Outcome] = runner.outcomes  # type: ignore[assignment]
    ok = [i for i, o in enumerate(outcomes) if o.status == "ok"]
    dim = info.dim
    emb = np.zeros((len(ok), dim), dtype=np.float32)
    for row, i in enumerate(ok):
        emb[row] = outcomes[i].embedding
    recs = images.records
    cols = images.metadata_columns
    metadata = {
        c: np.array([recs[i].metadata[k] for i in ok], dtype=str) for k, c in enumerate(cols)
    }
    failures = tuple(
        Failure(
            recs[i].sample,
            recs[i].subject,
            o.status,
            o.detail,
            dict(zip(cols, recs[i].metadata, strict=True)),
        )
        for i, o in enumerate(outcomes)
        if o.status != "ok"
    )
    stats = EmbedStats(
        n_images=len(recs),
        n_cached=runner.n_cached,
        n_computed=runner.n_computed,
        n_failed=len(failures),
        seconds=seconds,
        workers=workers,
    )
    return EmbeddingResult(
        embeddings=emb,
        subjects=np.array([recs[i].subject for i in ok], dtype=str).reshape(len(ok)),
        samples=np.array([recs[i].sample for i in ok], dtype=str).reshape(len(ok)),
        metadata=metadata,
        failures=failures,
        model=info,
        n_images=len(recs),
        source=str(images.source),
        stats=stats,
    )
