"""The block map of an all-vs-all comparison: which pairs a block holds and how its scores are made.

Every unordered pair of distinct samples ``i < j`` (input order) belongs to exactly one **block**:
the rows ``[a0, a1)`` times the columns ``[b0, b1)`` of the upper triangle, for row blocks
``a <= b`` of :attr:`BlockPlan.block` rows each (row-major order of blocks; in a diagonal block only
the pairs ``i < j``). A pair is **mated** (genuine) when both samples have the same subject, else
**non-mated** (impostor); the non-mated pair's *probe* is the earlier sample ``i`` (its row), its
*reference* the later ``j`` (its column), as :func:`faceaudit.compare.allpairs.all_pairs_scores`
defines them. Within a block, pairs are taken row-major, so the concatenation of all blocks is the
order of ``all_pairs_scores``.

Scores are inner products of the L2-normalised embeddings (cosine similarity) computed by BLAS
(``precision="float32"``, the default, or ``"float64"``, as ``all_pairs_scores`` makes them by
default). A BLAS product's bits depend on the shape of the call and on the CPU's kernel (OpenBLAS
picks one per machine: the Haswell sgemm happens to give every element the same bits whatever the
shape, the AVX-512 one does not), so the products are made on a fixed global grid of :data:`TILE`
x ``TILE`` tiles, every tile its own call on contiguous copies of its rows: every block size, and
every worker on the same machine, gives the same bits (checked by ``tests/test_compare_blocks.py``).
The number of BLAS threads changes the bits too (AVX-512 sgemm), so every product runs on one BLAS
thread: blocks are parallel across workers, not inside one product.

Block sizes are rounded up to a multiple of :data:`TILE` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = [
    "DEFAULT_BLOCK",
    "PRECISIONS",
    "TILE",
    "Block",
    "BlockPlan",
    "block_scores",
    "cross_scores",
    "mated_pairs",
    "products",
]

#: Rows per block by default: 2048 x 2048 = 4.2 million pairs (16 MiB of float32 scores).
DEFAULT_BLOCK = 2048
#: Block sizes are multiples of this many rows, and products are made tile by tile.
TILE = 256
PRECISIONS = ("float32", "float64")


@dataclass(frozen=True)
class BlockPlan:
    """How ``n`` samples are cut into blocks of ``block`` rows, and the precision of the products.

    >>> p = BlockPlan(600, 300)
    >>> p.block, p.n_blocks, [p.bounds(k) for k in range(p.n_blocks)]
    (512, 3, [(0, 512, 0, 512), (0, 512, 512, 600), (512, 600, 512, 600)])
    """

    n: int
    block: int = DEFAULT_BLOCK
    precision: str = "float32"

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError("an all-vs-all comparison needs at least 2 samples")
        if self.block < 1:
            raise ValueError("block must be >= 1")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        object.__setattr__(self, "block", -(-int(self.block) // TILE) * TILE)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.precision)

    @property
    def n_row_blocks(self) -> int:
        return -(-self.n // self.block)

    @cached_property
    def _pairs(self) -> np.ndarray:
        k = self.n_row_blocks
        a, b = np.triu_indices(k)
        return np.stack([a, b], axis=1)

    @property
    def n_blocks(self) -> int:
        return int(self._pairs.shape[0])

    def bounds(self, block_id: int) -> tuple[int, int, int, int]:
        """``(a0, a1, b0, b1)``: the rows and columns of block ``block_id``."""
        a, b = (int(v) for v in self._pairs[block_id])
        s = self.block
        return a * s, min(self.n, (a + 1) * s), b * s, min(self.n, (b + 1) * s)

    def n_pairs(self, block_id: int) -> int:
        a0, a1, b0, b1 = self.bounds(block_id)
        r, c = a1 - a0, b1 - b0
        return r * (r - 1) // 2 if a0 == b0 else r * c

    @property
    def total_pairs(self) -> int:
        return self.n * (self.n - 1) // 2

    def to_json(self) -> dict:
        return {"block": self.block, "precision": self.precision, "n_blocks": self.n_blocks}


def block_scores(embeddings: np.ndarray, plan: BlockPlan, block_id: int) -> np.ndarray:
    """The ``(a1 - a0, b1 - b0)`` matrix of scores of block ``block_id`` (rows x columns).

    ``embeddings`` may be a memory map; only the block's rows are read.
    """
    from threadpoolctl import threadpool_limits

    a0, a1, b0, b1 = plan.bounds(block_id)
    dtype = plan.dtype
    out = np.empty((a1 - a0, b1 - b0), dtype=dtype)
    with threadpool_limits(1, user_api="blas"):
        _tiles(embeddings, out, a0, a1, b0, b1, dtype)
    return out


def _tiles(embeddings, out, a0, a1, b0, b1, dtype) -> None:
    for t0 in range(a0, a1, TILE):
        t1 = min(a1, t0 + TILE)
        xa = np.array(embeddings[t0:t1], dtype=dtype, order="C", copy=True)
        for u0 in range(b0, b1, TILE):
            u1 = min(b1, u0 + TILE)
            # a separate copy for the columns, so numpy calls gemm (not syrk) on diagonal tiles too
            xb = np.array(embeddings[u0:u1], dtype=dtype, order="C", copy=True)
            out[t0 - a0 : t1 - a0, u0 - b0 : u1 - b0] = xa @ xb.T


def cross_scores(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` made on the :data:`TILE` x ``TILE`` grid, one BLAS call per tile, one thread.

    For rows ``a`` and ``b`` that start on the global tile grid of their own sets (a block of
    probes and a block of the gallery, each starting at a multiple of ``TILE``), every score has
    the bits it has in any other block cut, on any worker: the product the scale analysis maps.
    """
    from threadpoolctl import threadpool_limits

    dtype = np.result_type(a.dtype, b.dtype)
    out = np.empty((a.shape[0], b.shape[0]), dtype=dtype)
    tiles = [
        (t0, np.array(a[t0 : t0 + TILE], dtype=dtype, order="C", copy=True))
        for t0 in range(0, a.shape[0], TILE)
    ]
    with threadpool_limits(1, user_api="blas"):
        for u0 in range(0, b.shape[0], TILE):
            xb = np.array(b[u0 : u0 + TILE], dtype=dtype, order="C", copy=True)
            for t0, xa in tiles:
                out[t0 : t0 + TILE, u0 : u0 + TILE] = xa @ xb.T
    return out


def products(a: np.ndarray, b: np.ndarray, threads: int = 2) -> np.ndarray:
    """``a @ b.T`` with the same bits whatever the BLAS thread setting of the process.

    Each call runs on one BLAS thread (the thread count changes an AVX-512 sgemm's bits); the
    rows of ``a`` are split into ``threads`` fixed parts computed in parallel Python threads
    (numpy releases the GIL), so the speed of a multi-threaded product is kept. The parts depend
    only on ``a``'s row count, so equal inputs give equal bits.
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    out = np.empty((a.shape[0], b.shape[0]), dtype=np.result_type(a, b))
    cuts = np.linspace(0, a.shape[0], max(1, threads) + 1).astype(int)
    parts = [(i, j) for i, j in zip(cuts[:-1], cuts[1:], strict=True) if j > i]

    def one(part):
        i, j = part
        out[i:j] = a[i:j] @ b.T

    with threadpool_limits(1, user_api="blas"):
        if len(parts) == 1:
            one(parts[0])
        else:
            with ThreadPoolExecutor(len(parts)) as pool:
                list(pool.map(one, parts))
    return out


def mated_pairs(
    row_codes: np.ndarray, col_codes: np.ndarray, diagonal: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Local ``(row, column)`` indices of the mated pairs of a block, row-major.

    O(r log r + mated pairs): subjects are matched by sorting, never by an r x c mask. In a
    diagonal block only pairs ``row < column`` count.

    >>> mated_pairs(np.array([0, 1, 0]), np.array([0, 1, 0]), True)
    (array([0]), array([2]))
    """
    oa = np.argsort(row_codes, kind="stable")
    ob = np.argsort(col_codes, kind="stable")
    sa, sb = row_codes[oa], col_codes[ob]
    common = np.intersect1d(sa, sb)
    if common.size == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    la = np.searchsorted(sa, common, "left")
    na = np.searchsorted(sa, common, "right") - la
    lb = np.searchsorted(sb, common, "left")
    nb = np.searchsorted(sb, common, "right") - lb
    sizes = na * nb
    grp = np.repeat(np.arange(common.size), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    off = np.arange(int(sizes.sum())) - start[grp]
    gi = oa[la[grp] + off // nb[grp]].astype(np.int64)
    gj = ob[lb[grp] + off % nb[grp]].astype(np.int64)
    if diagonal:
        keep = gi < gj
        gi, gj = gi[keep], gj[keep]
    order = np.lexsort((gj, gi))
    return gi[order], gj[order]


@dataclass
class Block:
    """One block's comparisons: the score matrix and what is mated in it.

    Accumulators read from it either the matrix with the mated pairs' indices (fast paths), or
    the comparisons as 1-D arrays in row-major order (:meth:`nonmated`, :meth:`mated`), exactly
    as :func:`~faceaudit.compare.allpairs.all_pairs_scores` orders them.
    """

    block_id: int
    bounds: tuple[int, int, int, int]
    scores: np.ndarray
    row_codes: np.ndarray
    col_codes: np.ndarray

    @property
    def diagonal(self) -> bool:
        return self.bounds[0] == self.bounds[2]

    @cached_property
    def mated_index(self) -> tuple[np.ndarray, np.ndarray]:
        return mated_pairs(self.row_codes, self.col_codes, self.diagonal)

    @cached_property
    def _nonmated_mask(self) -> np.ndarray:
        r, c = self.scores.shape
        mask = np.ones((r, c), dtype=bool)
        if self.diagonal:
            mask &= np.arange(c)[None, :] > np.arange(r)[:, None]
        gi, gj = self.mated_index
        mask[gi, gj] = False
        return mask

    def mated(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scores as float64, subject codes)`` of the mated pairs."""
        gi, gj = self.mated_index
        return self.scores[gi, gj].astype(np.float64), self.row_codes[gi]

    def nonmated(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(scores in the matrix dtype, probe codes, reference codes)`` of the non-mated pairs."""
        mask = self._nonmated_mask
        shape = self.scores.shape
        rows = np.broadcast_to(self.row_codes.astype(np.int32)[:, None], shape)[mask]
        cols = np.broadcast_to(self.col_codes.astype(np.int32)[None, :], shape)[mask]
        return self.scores[mask], rows, cols

    def nonmated_scores(self) -> np.ndarray:
        """The non-mated pairs' scores only (matrix dtype, row-major)."""
        return self.scores[self._nonmated_mask]

    def n_nonmated(self) -> int:
        r, c = self.scores.shape
        total = r * (r - 1) // 2 if self.diagonal else r * c
        return total - int(self.mated_index[0].size)


def make_block(embeddings: np.ndarray, codes: np.ndarray, plan: BlockPlan, block_id: int) -> Block:
    """Compute block ``block_id`` of ``plan`` (scores and subject codes)."""
    a0, a1, b0, b1 = plan.bounds(block_id)
    s = block_scores(embeddings, plan, block_id)
    codes = np.asarray(codes)
    return Block(block_id, (a0, a1, b0, b1), s, codes[a0:a1], codes[b0:b1])


def block_pair_counts(codes: np.ndarray, plan: BlockPlan) -> np.ndarray:
    """``(n_blocks, 2)`` exact numbers of mated and non-mated pairs per block, from codes only."""
    codes = np.asarray(codes, dtype=np.int64)
    k = int(codes.max()) + 1 if codes.size else 0
    out = np.zeros((plan.n_blocks, 2), dtype=np.int64)
    per_row_block = []
    for a in range(plan.n_row_blocks):
        c = codes[a * plan.block : (a + 1) * plan.block]
        per_row_block.append(np.bincount(c, minlength=k).astype(np.int64))
    for bid in range(plan.n_blocks):
        a0, _, b0, _ = plan.bounds(bid)
        ha, hb = per_row_block[a0 // plan.block], per_row_block[b0 // plan.block]
        if a0 == b0:
            gen = int((ha * (ha - 1) // 2).sum())
        else:
            gen = int((ha * hb).sum())
        out[bid] = (gen, plan.n_pairs(bid) - gen)
    return out
