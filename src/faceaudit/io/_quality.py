"""Data-quality checks the score readers make while streaming: self-comparisons, repeated pairs.

Both need the identity of each comparison's two samples. Ids are hashed to 64 bits, chunk by
chunk (a chunk's distinct ids are hashed once, FNV-1a over their bytes, then finalised with
splitmix64), so no table of ids is ever kept:

- a **self-comparison** (probe id equals reference id) is counted exactly;
- **repeated pairs** are counted on the pairs' hashes: exactly while at most
  :attr:`PairCounter.LIMIT` pairs have been seen, and beyond that on a deterministic hash sample
  (a pair is kept when its hash falls below a threshold that halves as needed, so every copy of a
  pair is kept or dropped together): the count is scaled up and reported as an estimate. Memory
  stays under 32 bytes x LIMIT (16 MiB) whatever the file's size.

Two different ids share a hash with probability about 2^-64: the counts are exact in practice.
"""

from __future__ import annotations

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.io._tabular import scalar, to_numpy

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")

__all__ = ["PairCounter", "hash_codes", "hash_ids"]


def _grown(values: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=values.dtype)  # (numpy.resize would fill the rest by repeating)
    out[: values.shape[0]] = values
    return out


def _repeats(values: np.ndarray) -> int:
    """Elements equal to an earlier one (sorting a copy: faster than numpy.unique here)."""
    if values.shape[0] < 2:
        return 0
    ordered = np.sort(values)
    return int(np.count_nonzero(ordered[1:] == ordered[:-1]))


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_K = np.uint64(0x9E3779B97F4A7C15)
#: ``_LOW_BYTES[k]``: a uint64 mask of the k low bytes (little-endian: the first k bytes).
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
#: Longest id hashed byte by byte with numpy; longer ones (rare) are hashed by hashlib.
_LONG = 64


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _hash_strings(arr: pa.Array) -> np.ndarray:
    """64-bit hashes of the values of a (large_)string array without nulls.

    Each value's bytes are read as a window of ``8 * W`` bytes (W = words of the longest value,
    up to 64 bytes) from the contiguous data buffer, zeroed past the value's end, and the W
    8-byte words are folded in with splitmix64 seeded by the length: a few vectorised passes.
    Values longer than 64 bytes (rare) are hashed with BLAKE2b.
    """
    n = len(arr)
    large = pa.types.is_large_string(arr.type)
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)
    offs = offs[arr.offset : arr.offset + n + 1].astype(np.int64)
    starts, lengths = offs[:-1] - offs[0], np.diff(offs)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    width = 8 * ((min(int(lengths.max()), _LONG) + 7) // 8)
    h = lengths.astype(np.uint64) * _K
    if width:
        pad = np.zeros(int(offs[-1] - offs[0]) + width, dtype=np.uint8)
        pad[: pad.size - width] = data[offs[0] : offs[-1]]
        block = np.lib.stride_tricks.sliding_window_view(pad, width)[starts].view(np.uint64)
        with np.errstate(over="ignore"):
            for w in range(width // 8):  # each word, cut to the bytes inside the value
                h ^= block[:, w] & _LOW_BYTES[np.clip(lengths - 8 * w, 0, 8)]
                _mix(h)
    long = np.flatnonzero(lengths > _LONG)
    if long.size:
        import hashlib

        for i in long.tolist():
            raw = data[offs[0] + starts[i] : offs[0] + starts[i] + lengths[i]].tobytes()
            h[i] = int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little")
    return _mix(h)


def hash_codes(codes: np.ndarray) -> np.ndarray:
    """uint64 hashes of integer codes (ids already coded consistently across chunks)."""
    return _mix(codes.astype(np.int64).view(np.uint64) ^ _K)


def hash_ids(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """uint64 hashes of one chunk of ids (text, integers, or dictionary-encoded; no nulls)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        enc = column
    elif pa.types.is_integer(column.type):
        values = to_numpy(column).astype(np.int64).view(np.uint64)
        return _mix(values ^ _K)
    else:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = pc.cast(column, pa.string())
        return _hash_strings(column)
    values = enc.dictionary
    if pa.types.is_integer(values.type):
        hashed = _mix(to_numpy(values).astype(np.int64).view(np.uint64) ^ _K)
    else:
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = pc.cast(values, pa.string())
        hashed = _hash_strings(values)
    idx = enc.indices
    if idx.null_count:
        idx = pc.fill_null(idx, scalar(0).cast(idx.type))
    idx = to_numpy(idx)
    return hashed[idx]


class PairCounter:
    """Counts self-comparisons and repeated (probe, reference) pairs over a stream of chunks.

    Parameters
    ----------
    probe, reference : str
        What the two ids are called in the file (for the messages).
    self_check : bool
        Count self-comparisons (False where the two ids are not of one kind, e.g. bob's 4-column
        ``claimed_id`` and ``test_label``).
    """

    #: Pairs counted exactly before the hash sample thins (two uint64 hashes each, in buffers of
    #: twice this: 16 MiB).
    LIMIT = 1 << 19

    def __init__(self, probe: str, reference: str, *, self_check: bool = True) -> None:
        self.probe, self.reference = probe, reference
        self.self_check = self_check
        self.rows = 0
        self.self_comparisons = 0
        self.first_self: int | None = None
        self._shift = 0  # a pair is kept when its hash < 2^(64 - shift)
        self._u = np.empty(0, dtype=np.uint64)  # unordered pair hashes (a-b == b-a)
        self._o = np.empty(0, dtype=np.uint64)  # ordered pair hashes
        self._kept = 0

    def add(
        self,
        first_row: int,
        probe: np.ndarray,
        reference: np.ndarray,
        index: np.ndarray | None = None,
    ) -> None:
        """Add one chunk: the hashes of its probe and reference ids (from :func:`hash_ids`);
        ``index`` gives each element's row within the chunk when rows were dropped."""
        self.rows += probe.shape[0]
        if self.self_check:
            same = probe == reference
            k = int(np.count_nonzero(same))
            if k:
                if self.first_self is None:
                    j = int(np.argmax(same))
                    self.first_self = first_row + (j if index is None else int(index[j]))
                self.self_comparisons += k
        with np.errstate(over="ignore"):
            u = np.minimum(probe, reference)
            u *= _K
            u += np.maximum(probe, reference)
            _mix(u)
            if self._shift:  # the ordered hash only for the pairs the sample keeps
                keep = self._keep(u)
                u, probe, reference = u[keep], probe[keep], reference[keep]
            o = probe * _K
            o += reference
            _mix(o)
        for start in range(0, u.shape[0], self.LIMIT):
            self._append(u[start : start + self.LIMIT], o[start : start + self.LIMIT])

    def _append(self, u: np.ndarray, o: np.ndarray) -> None:
        k = u.shape[0]
        if self._kept + k > self._u.shape[0]:
            if self._u.shape[0] < 2 * self.LIMIT:
                size = max(min(2 * self.LIMIT, 2 * (self._kept + k)), min(1 << 16, 2 * self.LIMIT))
                self._u = _grown(self._u[: self._kept], size)
                self._o = _grown(self._o[: self._kept], size)
            while self._kept + k > self._u.shape[0]:  # full: thin the sample in place
                self._thin()
                keep = self._keep(u)
                u, o, k = u[keep], o[keep], int(np.count_nonzero(keep))
        self._u[self._kept : self._kept + k] = u
        self._o[self._kept : self._kept + k] = o
        self._kept += k

    def _keep(self, u: np.ndarray) -> np.ndarray:
        return (u >> np.uint64(64 - self._shift)) == 0

    def _thin(self) -> None:
        self._shift += 1
        u, o = self._u[: self._kept], self._o[: self._kept]
        keep = self._keep(u)
        k = int(np.count_nonzero(keep))
        self._u[:k], self._o[:k] = u[keep], o[keep]
        self._kept = k

    def repeats(self) -> tuple[int, int, bool]:
        """``(same_order, swapped, estimated)``: comparisons repeating an earlier pair in the
        same order, and with probe and reference swapped (scaled up from the sample when
        ``estimated``)."""
        scale = 1 << self._shift
        dup_u = _repeats(self._u[: self._kept])
        dup_o = _repeats(self._o[: self._kept])
        return dup_o * scale, (dup_u - dup_o) * scale, self._shift > 0

    def warnings(self, where_row) -> list[str]:
        """Plain sentences with counts; ``where_row(i)`` names the location of data row ``i``."""
        out = []
        if self.self_comparisons:
            n = self.self_comparisons
            out.append(
                f"{n} of {self.rows} comparisons compare a sample with itself ({self.probe} "
                f"equals {self.reference}; the first at {where_row(self.first_self)}). A sample "
                "compared with itself scores as similar as anything can, so these comparisons "
                "make the system look more accurate than it is: remove them."
            )
        same, swapped, estimated = self.repeats()
        if same or swapped:
            about = "about " if estimated else ""
            parts = []
            if same:
                parts.append(f"{same} in the same order")
            if swapped:
                parts.append(f"{swapped} with {self.probe} and {self.reference} swapped")
            sample = (
                f" (estimated from a 1-in-{1 << self._shift} hash sample of the pairs)"
                if estimated
                else ""
            )
            out.append(
                f"{about}{same + swapped} of {self.rows} comparisons repeat a "
                f"({self.probe}, {self.reference}) pair compared before ({', '.join(parts)})"
                f"{sample}. A repeat counts the same evidence again (a symmetric comparator "
                "scores a swapped pair the same): rates lean on the repeated pairs and intervals "
                "come out too narrow. Keep one comparison per pair of samples."
            )
        return out
