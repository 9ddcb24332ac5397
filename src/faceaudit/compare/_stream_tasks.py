"""The work units of a streamed all-vs-all comparison: the embeddings as files a worker opens,
one block's task, atomic saves, and the progress bar's adapter."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceaudit.compare.blocks import BlockPlan, make_block


@dataclass(frozen=True)
class EmbeddingFiles:
    """Where workers read the data: L2-normalised float32 embeddings and int32 subject codes
    (``.npy``, memory-mapped on first use and cached per worker process)."""

    embeddings: str
    codes: str


_OPEN: dict[str, np.ndarray] = {}
_OPEN_LOCK = threading.Lock()


def _open(path: str) -> np.ndarray:
    with _OPEN_LOCK:
        arr = _OPEN.get(path)
        if arr is None:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            _OPEN[path] = arr
        return arr


class BlockTask:
    """``task(block_id) -> accumulator product``: picklable when its data are files."""

    def __init__(self, data, codes, plan: BlockPlan, accumulator, key: str) -> None:
        self.data = data
        self.codes = codes
        self.plan = plan
        self.accumulator = accumulator
        self._key = key

    def key(self) -> str:
        return self._key

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.data, EmbeddingFiles):
            return _open(self.data.embeddings), _open(self.data.codes)
        return self.data, self.codes

    def block(self, block_id: int):
        emb, codes = self.arrays()
        return make_block(emb, codes, self.plan, block_id)

    def __call__(self, block_id: int):
        return self.accumulator(self.block(block_id))

    def __getstate__(self):
        if not isinstance(self.data, EmbeddingFiles):
            raise TypeError("a block task over in-memory arrays runs in this process only")
        return self.__dict__


def _atomic_save(path: Path, arr: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Bar:
    """A progress bar per pass from an audit ``Progress`` (``bar(description, unit)``)."""

    def __init__(self, progress) -> None:
        self.progress = progress

    @contextlib.contextmanager
    def __call__(self, description: str):
        if self.progress is None:
            yield None
            return
        if callable(self.progress) and not hasattr(self.progress, "bar"):
            yield self.progress
            return
        with self.progress.bar(description, "pairs") as update:
            yield update
