"""Degraded variants of images through the embedding pipeline: the same workers, the same cache.

A :class:`Variant` is one image of an :class:`~faceaudit.io.images.ImageSet` rendered through a
chain of degradations (:mod:`faceaudit.capture`) with a seed and the eye centres that place the
chain on the face. :meth:`EmbeddingSession.embed` embeds a list of variants exactly as
:func:`~faceaudit.embedding.pipeline.embed_images` embeds images: in worker processes, each
outcome committed to the cache as it arrives (a killed run resumes), output in input order, one
bad image never stopping the run. The empty chain is the image as stored.

In the worker (:func:`_work_variant`) the image bytes are decoded
(:func:`~faceaudit.io.images.decode_image`), degraded in memory
(:func:`~faceaudit.capture.degrade.apply_chain`; a degraded image is never written anywhere),
represented by the recognizer and, when asked, measured
(:func:`~faceaudit.capture.quality.measure_quality`, with the recognizer's landmarks on the
degraded image).

Cache keys
----------
A variant is stored under the **derived image key** (:func:`variant_key`)::

    sha256(image_sha256 | chain_key | each spec's cache_key | seed | eyes)

in the ``image_sha256`` column, beside the model key, so a rerun of a sweep is served from the
cache and a new degradation, parameter, library version, seed or eye position is computed anew.
The empty chain's key is the image's own SHA-256: the clean images share their rows with
``faceaudit embed`` and ``faceaudit audit``. Eye centres are rounded to :data:`EYE_DECIMALS`
decimals of a pixel *before* use, so the key names exactly what was computed. Quality measures
go to the cache's ``quality`` table under the same key (:mod:`faceaudit.embedding.cache`); an
embedding cached without them (e.g. by ``faceaudit embed``) gets them measured, not re-embedded.

Seeds: :func:`image_seed` derives each image's seed from its SHA-256 and the run's seed, so noise
differs between photos and is the same on every rerun.

Examples
--------
>>> from faceaudit.capture import Degradation
>>> v = Variant(0, (Degradation("defocus", {"radius": 2}),), seed=7,
...             eyes=((30.004, 52.0), (62.0, 52.0)))
>>> v.eyes
((30.0, 52.0), (62.0, 52.0))
>>> variant_key("ab" * 32, Variant(0)) == "ab" * 32      # the untouched image: its own SHA-256
True
>>> len(variant_key("ab" * 32, v))
64
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from faceaudit.capture.degrade import Degradation, apply_chain, chain_key
from faceaudit.capture.quality import measure_quality, quality_key
from faceaudit.embedding._variant_types import (
    EYE_DECIMALS,
    Variant,
    VariantOutcome,
    VariantResult,
    image_seed,
    variant_key,
)
from faceaudit.embedding._workers import _WORKER, _Outcome, _Pool, default_workers
from faceaudit.embedding.cache import CacheEntry, EmbeddingCache, default_cache_dir
from faceaudit.embedding.pipeline import _Runner
from faceaudit.embedding.result import EmbeddingResult, EmbedProgress, EmbedStats
from faceaudit.io.images import DEFAULT_MAX_PIXELS, AcquisitionError, ImageSet, decode_image
from faceaudit.recognizers.base import DEFAULT_MODEL, Recognizer, file_sha256
from faceaudit.recognizers.registry import describe_model

__all__ = [
    "EYE_DECIMALS",
    "EmbeddingSession",
    "Variant",
    "VariantOutcome",
    "VariantResult",
    "embed_variants",
    "image_seed",
    "variant_key",
]

log = logging.getLogger("faceaudit.embedding")

# ---------------------------------------------------------------------------------------------
# Work on one variant (in a worker process, or in-process with workers=0)
# ---------------------------------------------------------------------------------------------


def _measure(image: np.ndarray, face: dict, layout: str | None) -> dict | None:
    try:
        lm = face.get("landmarks")
        if lm is not None and layout is not None:
            return measure_quality(image, landmarks=lm, layout=layout).to_json()
        return measure_quality(image, face_box=face.get("box")).to_json()
    except Exception as exc:  # a measure must never cost the embedding
        log.warning("quality measures failed: %s: %s", type(exc).__name__, exc)
        return None


def _variant_bytes(
    rec: Recognizer | None,
    data: bytes,
    chain_json: str,
    seed: int,
    eyes,
    layout: str | None,
    measure: bool,
    face: dict | None,
    max_pixels: int,
) -> _Outcome:
    """Decode, degrade, represent (unless ``face`` is given: measures only), measure."""
    try:
        image = decode_image(data, max_pixels=max_pixels)
    except AcquisitionError as exc:
        return _Outcome(exc.reason, exc.detail, None, None, None, None)
    try:
        specs = [Degradation.from_json(d) for d in json.loads(chain_json)]
        if specs:
            image = apply_chain(image, specs, eyes=eyes, seed=seed)
    except Exception as exc:
        detail = f"the degradation failed: {type(exc).__name__}: {exc}"
        return _Outcome("embed_error", detail[:500], None, None, None, None)
    height, width = image.shape[:2]
    embedding = None
    if face is None:
        try:
            rep = rec.represent(image)
        except AcquisitionError as exc:
            return _Outcome(exc.reason, exc.detail, width, height, None, None)
        except Exception as exc:  # never abort the run
            detail = f"{type(exc).__name__}: {exc}"
            return _Outcome("embed_error", detail[:500], width, height, None, None)
        face = rep.face.to_json()
        face["n_faces"] = rep.n_faces
        embedding = rep.embedding
    quality = _measure(image, face, layout) if measure else None
    return _Outcome("ok", "", width, height, embedding, face, quality)


def _work_variant(
    index: int, data: bytes, chain_json: str, seed: int, eyes, layout, measure, face
) -> tuple[int, _Outcome]:
    """The worker entry: image bytes, the chain as JSON, a seed and the eyes -> an outcome."""
    rec = _WORKER["rec"] if face is None else None
    out = _variant_bytes(
        rec, data, chain_json, seed, eyes, layout, measure, face, _WORKER["max_pixels"]
    )
    return index, out


# ---------------------------------------------------------------------------------------------
# The runner and the session
# ---------------------------------------------------------------------------------------------


class _VariantRunner(_Runner):
    """Tasks are variants, keyed by their derived image key."""

    def __init__(self, images, variants, pool, cache, progress, *, measure, layout, shas):
        super().__init__(len(variants), pool, cache, progress)
        self.records = images.records
        self.variants = variants
        self.measure, self.layout = measure, layout
        self.qkey = quality_key() if measure else None
        self.shas = shas  # (path, size, mtime_ns) -> SHA-256, shared by a session's runs
        self.sources: list[str | None] = [None] * self.n
        self.keys: list[str | None] = [None] * self.n
        self.partial: dict[int, _Outcome] = {}  # cached embedding waiting for its measures
        self.n_quality_computed = 0

    def _label(self, i: int) -> str:
        v = self.variants[i]
        chain = chain_key(v.chain)
        return self.records[v.record].sample + (f" [{chain}]" if chain else "")

    def _source(self, i: int) -> tuple[str | None, bytes | None, _Outcome | None]:
        """The stored image's SHA-256 (from the session's memo when the file is unchanged)."""
        path = Path(self.records[self.variants[i].record].path)
        try:
            st = path.stat()
            memo = (str(path), st.st_size, st.st_mtime_ns)
            if memo in self.shas:
                return self.shas[memo], None, None
            data = path.read_bytes()
        except FileNotFoundError:
            return None, None, _Outcome("missing", f"{path} does not exist", *([None] * 4))
        except OSError as exc:
            detail = f"{path} could not be read ({exc})"
            return None, None, _Outcome("unreadable", detail, *([None] * 4))
        sha = hashlib.sha256(data).hexdigest()
        self.shas[memo] = sha
        return sha, data, None

    def _lookup(self, i: int):
        sha, data, failed = self._source(i)
        if failed is not None:
            return failed, None, None
        self.sources[i] = sha
        key = variant_key(sha, self.variants[i])
        self.keys[i] = key
        entry = self.cache.get(key, self.key) if self.cache is not None else None
        if entry is not None:
            w, h = entry.width, entry.height
            outcome = _Outcome(entry.status, entry.detail or "", w, h, entry.embedding, entry.face)
            if not (self.measure and entry.ok):
                return outcome, key, None
            q = self.cache.get_quality(key, self.key, self.qkey)
            if q is not None:
                return replace(outcome, quality=q), key, None
            self.partial[i] = outcome  # measure it; the embedding stays the cached one
        if data is None:
            sha2, data, failed = self._read(i)
            if failed is not None:
                self.partial.pop(i, None)
                return failed, None, None
            if sha2 != sha:  # changed since the session read it
                self.partial.pop(i, None)
                self.shas = {k: v for k, v in self.shas.items() if v != sha}
                return self._lookup(i)
        return None, key, data

    def _read(self, i: int):
        path = Path(self.records[self.variants[i].record].path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None, None, _Outcome("missing", f"{path} does not exist", *([None] * 4))
        except OSError as exc:
            detail = f"{path} could not be read ({exc})"
            return None, None, _Outcome("unreadable", detail, *([None] * 4))
        return hashlib.sha256(data).hexdigest(), data, None

    def _args(self, i: int, data: bytes) -> tuple:
        v = self.variants[i]
        face = self.partial[i].face if i in self.partial else None
        eyes = None if v.eyes is None else [list(e) for e in v.eyes]
        return (data, v.chain_json, v.seed, eyes, self.layout, self.measure, face)

    def _task(self, i: int, payload: bytes) -> tuple[Callable, tuple]:
        return _work_variant, (i, *self._args(i, payload))

    def _compute_local(self, i: int, payload: bytes) -> _Outcome:
        args = self._args(i, payload)
        rec = self.pool.local() if args[-1] is None else None
        return _variant_bytes(rec, *args, self.max_pixels)

    def _store(self, i: int, outcome: _Outcome, key: str) -> None:
        quality = None if outcome.quality is None else (self.qkey, outcome.quality)
        entry = CacheEntry(
            outcome.status,
            outcome.detail,
            outcome.width,
            outcome.height,
            outcome.embedding,
            outcome.face,
        )
        self.cache.put(key, self.key, entry, quality=quality)

    def _record(self, i: int, outcome: _Outcome, *, cached: bool, sha: str | None) -> None:
        partial = self.partial.pop(i, None)
        if partial is not None and not cached:  # measures of a cached embedding
            if outcome.quality is not None:
                self.n_quality_computed += 1
                if self.cache is not None and sha is not None:
                    self.cache.put_quality(sha, self.key, self.qkey, outcome.quality)
            super()._record(i, replace(partial, quality=outcome.quality), cached=True, sha=sha)
            return
        if not cached and outcome.quality is not None:
            self.n_quality_computed += 1
        super()._record(i, outcome, cached=cached, sha=sha)


class EmbeddingSession:
    """One model, one cache and one pool of workers for several embedding runs.

    The workers start on the first image that needs computing and load the model once; they
    stay up until :meth:`close` (or the end of a ``with`` block), so a two-pass audit (clean
    images, then their degraded variants placed with the clean faces' eyes) pays for the start-up
    once.

    Parameters
    ----------
    model, options, workers, cache_dir, use_cache, max_pixels
        As in :func:`~faceaudit.embedding.pipeline.embed_images`.
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        options: dict | None = None,
        workers: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 0:
            raise ValueError("workers must be >= 0")
        self.model = model
        self.options = dict(options or {})
        self.cache = EmbeddingCache(cache_dir or default_cache_dir()) if use_cache else None
        try:
            hash_file = self.cache.file_sha256 if self.cache else file_sha256
            self.info = describe_model(model, self.options, hash_file=hash_file)
            if self.cache is not None:
                self.cache.register_model(self.info)
        except BaseException:
            self.close()
            raise
        self.pool = _Pool(model, self.options, self.info, self.workers, max_pixels)
        self._shas: dict = {}

    def __enter__(self) -> EmbeddingSession:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None and getattr(self, "pool", None) is not None:
            self.pool.terminate()
        self.close()

    def close(self) -> None:
        """Stop the workers and close the cache (every outcome is already committed)."""
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown()
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    def embed(
        self,
        images: ImageSet,
        variants: Sequence[Variant],
        *,
        measure: bool = False,
        layout: str | None = None,
        progress: Callable[[EmbedProgress], None] | None = None,
    ) -> VariantResult:
        """Embed ``variants`` of ``images`` (in order; see the module docstring).

        Parameters
        ----------
        images : ImageSet
        variants : sequence of Variant
        measure : bool
            Also measure each variant that yields a face (:func:`measure_quality`).
        layout : str, optional
            The model's landmark layout for the measures (``"dlib5"``, ``"five"``; see
            :func:`faceaudit.capture.geometry.layout_for_model`); without it the face box
            places the region.
        progress : callable, optional
            Called with an :class:`EmbedProgress` at the start and after every variant.

        Raises
        ------
        KeyboardInterrupt
            After terminating the workers; the cache keeps everything finished.
        """
        t0 = time.perf_counter()
        n = len(images.records)
        for v in variants:
            if not 0 <= v.record < n:
                raise ValueError(f"variant record {v.record} is not an index of the image set")
        runner = _VariantRunner(
            images,
            tuple(variants),
            self.pool,
            self.cache,
            progress,
            measure=measure,
            layout=layout,
            shas=self._shas,
        )
        runner.run(own_pool=False)
        self._shas = runner.shas
        outcomes = tuple(
            VariantOutcome(
                o.status,
                o.detail,
                o.width,
                o.height,
                o.embedding,
                o.face,
                o.quality,
                bool(runner.cached[i]),
                runner.sources[i],
                runner.keys[i],
            )
            for i, o in enumerate(runner.outcomes)
        )
        stats = EmbedStats(
            n_images=len(outcomes),
            n_cached=runner.n_cached,
            n_computed=runner.n_computed,
            n_failed=runner.n_failed,
            seconds=time.perf_counter() - t0,
            workers=self.workers,
        )
        return VariantResult(tuple(variants), outcomes, self.info, stats, runner.n_quality_computed)


def embed_variants(
    images: ImageSet,
    variants: Sequence[Variant],
    *,
    model: str = DEFAULT_MODEL,
    options: dict | None = None,
    workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    measure: bool = False,
    layout: str | None = None,
    progress: Callable[[EmbedProgress], None] | None = None,
) -> VariantResult:
    """One :meth:`EmbeddingSession.embed` run in a session of its own."""
    with EmbeddingSession(
        model=model,
        options=options,
        workers=workers,
        cache_dir=cache_dir,
        use_cache=use_cache,
        max_pixels=max_pixels,
    ) as session:
        return session.embed(images, variants, measure=measure, layout=layout, progress=progress)


def as_embedding_result(
    images: ImageSet, result: VariantResult, *, source: str = ""
) -> EmbeddingResult:
    """The untouched-image outcomes of ``result`` as an :class:`EmbeddingResult` (one per record).

    ``result`` must hold exactly one empty-chain variant per record, in record order.
    """
    from faceaudit.embedding.pipeline import _assemble

    if [v.record for v in result.variants] != list(range(len(images.records))) or any(
        v.chain for v in result.variants
    ):
        raise ValueError("as_embedding_result needs one untouched variant per record, in order")

    done = SimpleNamespace(
        outcomes=[
            _Outcome(o.status, o.detail, o.width, o.height, o.embedding, o.face)
            for o in result.outcomes
        ],
        n_cached=result.stats.n_cached,
        n_computed=result.stats.n_computed,
    )
    out = _assemble(images, result.model, done, result.stats.workers, result.stats.seconds)
    return replace(out, source=source) if source else out
