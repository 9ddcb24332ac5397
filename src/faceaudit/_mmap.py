"""Streaming over memory-mapped score files in O(chunk) resident memory."""

from __future__ import annotations

import mmap

import numpy as np


def release_pages(scores: np.ndarray, start: int, stop: int) -> None:
    """Let the kernel drop a read-only memory-mapped file's pages once a chunk is done.

    The pages stay in the page cache (a later pass re-reads them cheaply); they just stop counting
    against this process, so streaming a 10^8-score ``.npy`` costs O(chunk) resident memory.
    """
    mm = getattr(scores, "_mmap", None)
    if mm is None or getattr(scores, "mode", "") != "r" or not hasattr(mm, "madvise"):
        return
    try:
        base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
        lo = scores[start:stop].ctypes.data - base
        hi = lo + min(stop, len(scores)) * scores.itemsize - start * scores.itemsize
        lo -= lo % mmap.PAGESIZE
        if hi > lo:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (ValueError, OSError, AttributeError):  # not fatal: memory use stays as it was
        return
