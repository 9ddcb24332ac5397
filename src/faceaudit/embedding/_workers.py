"""Worker processes of the embedding pipeline: one recognizer per process, bytes in, outcome out,
and a pool that can be stopped at once (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceaudit.io.images import (
    AcquisitionError,
    decode_image,
)
from faceaudit.recognizers.base import ModelInfo, Recognizer
from faceaudit.recognizers.registry import load_recognizer

log = logging.getLogger("faceaudit.embedding")

# ---------------------------------------------------------------------------------------------
# Work on one image (runs in a worker process, or in-process with workers=0)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    status: str  # "ok" or a failure reason
    detail: str
    width: int | None
    height: int | None
    embedding: np.ndarray | None
    face: dict | None
    quality: dict | None = None  # ImageQuality.to_json() (degraded variants, when asked)


def _represent_bytes(rec: Recognizer, data: bytes, max_pixels: int) -> _Outcome:
    width = height = None
    try:
        image = decode_image(data, max_pixels=max_pixels)
        height, width = image.shape[:2]
        rep = rec.represent(image)
    except AcquisitionError as exc:
        return _Outcome(exc.reason, exc.detail, width, height, None, None)
    except Exception as exc:  # a bug or a native-library error on this image: never abort the run
        detail = f"{type(exc).__name__}: {exc}"
        return _Outcome("embed_error", detail[:500], width, height, None, None)
    face = rep.face.to_json()
    face["n_faces"] = rep.n_faces
    return _Outcome("ok", "", width, height, rep.embedding, face)


_WORKER: dict[str, Any] = {}


def _init_worker(model: str, options: dict, info: dict, max_pixels: int) -> None:
    # Ctrl-C goes to the whole process group: the parent handles it and terminates us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    parent = os.getppid()

    def watchdog() -> None:  # exit if the parent dies (e.g. SIGKILL) instead of lingering
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watchdog, daemon=True).start()
    _WORKER["rec"] = load_recognizer(model, options, threads=1, info=ModelInfo.from_json(info))
    _WORKER["max_pixels"] = max_pixels


def _work(index: int, data: bytes) -> tuple[int, _Outcome]:
    return index, _represent_bytes(_WORKER["rec"], data, _WORKER["max_pixels"])


# ---------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _terminate(executor: ProcessPoolExecutor | None) -> None:
    if executor is None:
        return
    procs = list((getattr(executor, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(timeout=10)


class _Pool:
    """The worker processes of one model, started on first use and kept across runs.

    Several runs may share one pool (:class:`faceaudit.embedding.variants.EmbeddingSession`), so
    the model loads once per worker; a run that fails terminates it (the next run starts anew).
    ``workers == 0`` runs in this process with a recognizer loaded on first use.
    """

    def __init__(self, model: str, options: dict, info: ModelInfo, workers: int, max_pixels: int):
        self.model, self.options, self.info = model, options, info
        self.workers, self.max_pixels = workers, max_pixels
        self.executor: ProcessPoolExecutor | None = None
        self._local: Recognizer | None = None

    def get(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.model, self.options, self.info.to_json(), self.max_pixels),
            )
        return self.executor

    def local(self) -> Recognizer:
        if self._local is None:
            self._local = load_recognizer(self.model, self.options, info=self.info)
        return self._local

    def terminate(self) -> None:
        _terminate(self.executor)
        self.executor = None

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None
