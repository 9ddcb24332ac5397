"""Streamed all-vs-all comparisons: blocks go straight into summaries; no array of all scores.

:class:`StreamedComparisons` stands for every unordered pair of an embedding set (the pairs,
scores and subject conventions of :mod:`faceaudit.compare.blocks`). Nothing is computed until a
product is asked for; each product is one map/merge over blocks (:mod:`faceaudit.compare.execute`)
of an accumulator (:mod:`faceaudit.compare.accumulate`):

1. :attr:`summary` — pass 1: the mergeable distributions of the mated and non-mated scores (exact
   counts on the grid, exact extremes), each block's score range, and the mated scores themselves
   when there are at most ``keep_mated`` of them (usually: they grow with n, not n^2);
2. :meth:`score_sets` — :class:`~faceaudit.stats.scoreset.ScoreSet` objects on which the engine's
   exact functions run unchanged; the non-mated one is a
   :class:`~faceaudit.stats.stream.StreamedScoreSet` whose exact look inside a grid cell
   recomputes **only the blocks whose score range reaches that cell** and keeps just the scores in
   it (:meth:`cell_values`);
3. the tables a bootstrap and the demographics consume, one pass each for the thresholds or cells
   they are given: :meth:`unit_counts_ge`, :meth:`unit_cell_histograms`, :meth:`group_tables`.

Memory (in-process, ``W`` threads, ``b`` rows per block, ``d`` dimensions, ``n`` samples):
``4 n d`` (the embeddings, float32; a memory map on workers) ``+ W x b^2 x 12`` bytes (a block's
float32 scores, its binned bits and one temporary) ``+ 2 MB`` per block summary in flight (grid
counts, ``2 x tail`` exact values per side) ``+ 12 x min(n_mated, keep_mated)`` bytes for the
mated scores, plus the tables a later pass asks for (``n_subjects x`` thresholds or cells).
``docs/scale-out.md`` gives the measured figures; ``tests/test_scaleout_memory.py`` checks the
formula within 1.5x.

Precision contract: with ``precision="float32"`` (the default) a score is the float32 inner product
of the float32 embeddings, the same bits whatever the block size or worker
(:mod:`faceaudit.compare.blocks`); it differs from the float64 product by at most ``d x 2^-24``
(7.6e-6 for d = 128; typically ~1e-7). Every rate is the exact count of those scores at its
threshold, so a rate can differ from one on float64 products only through comparisons whose
scores lie that close to the threshold; thresholds agree to ~1e-6, far below the 4 significant
digits a report prints. ``precision="float64"`` gives the products
:func:`~faceaudit.compare.allpairs.all_pairs_scores` makes.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from faceaudit.compare._stream_tasks import (
    BlockTask,
    EmbeddingFiles,
    _atomic_save,
    _Bar,
)
from faceaudit.compare.accumulate import (
    CellValues,
    GroupTables,
    PairSummaries,
    PairSummary,
    PairUnitCountsGE,
    UnitCellHistograms,
    UnitCountsGE,
    _side,
)
from faceaudit.compare.allpairs import _check, pair_counts, subject_codes
from faceaudit.compare.blocks import DEFAULT_BLOCK, BlockPlan, block_pair_counts
from faceaudit.compare.execute import Executor, current_executor
from faceaudit.errors import InputError
from faceaudit.stats.distribution import DEFAULT_TAIL
from faceaudit.stats.grid import cells_of
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.stream import StreamedScoreSet

__all__ = [
    "KEEP_MATED",
    "MATERIALISE_LIMIT",
    "EmbeddingFiles",
    "StreamedComparisons",
    "stream_all_pairs",
]

#: Mated scores kept in memory exactly (12 bytes each) when there are at most this many.
KEEP_MATED = 1 << 23
#: A view of one side may be materialised (e.g. for the exact DET curve) up to this many scores.
MATERIALISE_LIMIT = 1 << 22


class StreamedComparisons:
    """All-vs-all comparisons of L2-normalised embeddings, never materialised (module docstring).

    Parameters
    ----------
    embeddings : ndarray, shape (n, d)
        L2-normalised rows (checked: squared norms within 1e-3 of 1), float32 or float64.
    subjects : sequence of str, length n
    block : int
        Rows per block (rounded up to a multiple of 256); memory grows with its square.
    precision : {"float32", "float64"}
        Of the inner products (see the precision contract above).
    tail : int
        Exact extreme scores kept per side.
    failed_subjects : sequence of str, optional
        Subjects of images that failed to acquire: their lost comparisons are counted for the
        generalised rates, as :func:`~faceaudit.compare.allpairs.all_pairs_scores` does.
    keep_mated : int
        Keep the mated scores in memory when there are at most this many.
    executor : Executor, optional
        Where blocks are computed (default: :func:`~faceaudit.compare.execute.current_executor`).
    work_dir : path, optional
        Work folder: every block product is written there atomically, keyed by the inputs and
        settings, and read back by a rerun (resume). Workers of a cluster read the embeddings
        from it, so it must be on storage they share.
    progress : audit Progress or callable(done, total), optional
    """

    def __init__(
        self,
        embeddings: np.ndarray,
        subjects: Sequence,
        *,
        block: int = DEFAULT_BLOCK,
        precision: str = "float32",
        tail: int = DEFAULT_TAIL,
        failed_subjects: Sequence | None = None,
        keep_mated: int = KEEP_MATED,
        executor: Executor | None = None,
        work_dir: str | Path | None = None,
        progress=None,
    ) -> None:
        names, codes = subject_codes(subjects)
        x = _check(embeddings, len(codes))
        if x.dtype != np.float32 and precision == "float32":
            x = np.ascontiguousarray(x, dtype=np.float32)
        self.embeddings = x
        self.subjects = names
        self.codes = codes
        self.n_units = len(names)
        self.n_mated, self.n_nonmated = pair_counts(subjects)
        if self.n_mated == 0:
            raise InputError(
                "no mated pair: every subject has a single embedded sample, so FNMR cannot be "
                "measured; give at least two images of some subjects."
            )
        if self.n_nonmated == 0:
            raise InputError("no non-mated pair: all samples belong to one subject.")
        self.plan = BlockPlan(x.shape[0], block, precision)
        self.tail = int(tail)
        self.pair_counts = block_pair_counts(codes, self.plan)
        self.mated_fta = self.nonmated_fta = 0
        if failed_subjects is not None and len(failed_subjects):
            all_gen, all_imp = pair_counts(
                list(map(str, subjects)) + list(map(str, failed_subjects))
            )
            self.mated_fta = all_gen - self.n_mated
            self.nonmated_fta = all_imp - self.n_nonmated
        self.keep_mated = self.n_mated <= int(keep_mated)
        self.executor = executor if executor is not None else current_executor()
        self.progress = _Bar(progress)
        self._work_root = None if work_dir is None else Path(work_dir)
        self._tmp: str | None = None
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    # -- data, keys and the work folder ------------------------------------------------------
    @cached_property
    def data_key(self) -> str:
        h = hashlib.sha256()
        h.update(f"{self.embeddings.shape}|{self.plan.block}|{self.plan.precision}|".encode())
        for start in range(0, self.embeddings.shape[0], 1 << 16):
            h.update(np.ascontiguousarray(self.embeddings[start : start + (1 << 16)]).tobytes())
        h.update(np.ascontiguousarray(self.codes).tobytes())
        return h.hexdigest()[:24]

    @property
    def work_dir(self) -> Path | None:
        """This input's folder inside the work folder (created on first use)."""
        root = self._work_root
        if root is None and self.executor.needs_files:
            root = self.executor.files_dir()
        if root is None:
            return None
        d = root / f"allpairs-{self.data_key}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _data(self):
        if not self.executor.needs_files:
            return self.embeddings, self.codes
        d = self.work_dir
        files = EmbeddingFiles(str(d / "embeddings.npy"), str(d / "codes.npy"))
        if not Path(files.embeddings).exists():
            _atomic_save(Path(files.embeddings), self.embeddings)
        if not Path(files.codes).exists():
            _atomic_save(Path(files.codes), np.asarray(self.codes, dtype=np.int32))
        return files

    def close(self) -> None:
        """Remove the temporary work folder (if one was made for a local cluster)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one pass ----------------------------------------------------------------------------
    def run(self, accumulator, block_ids: Sequence[int] | None = None, description: str = ""):
        """Map ``accumulator`` over the blocks (all, or ``block_ids``) and merge the products."""
        ids = list(range(self.plan.n_blocks)) if block_ids is None else [int(b) for b in block_ids]
        key = f"{self.data_key}-{accumulator.key()}"
        data = self._data()
        if isinstance(data, EmbeddingFiles):
            task = BlockTask(data, None, self.plan, accumulator, key)
        else:
            task = BlockTask(data[0], data[1], self.plan, accumulator, key)
        store = None
        if self.work_dir is not None and self._work_root is not None:
            store = str(self.work_dir / accumulator.key())
        weights = [int(self.plan.n_pairs(b)) for b in ids]
        if not ids:
            return None
        with self.progress(description or "all-vs-all comparisons") as update:
            return self.executor.map_reduce(
                task, ids, accumulator.merge, weights=weights, store=store, progress=update
            )

    @cached_property
    def summary(self) -> PairSummary:
        """Pass 1 (computed once): both sides' distributions, block ranges, kept mated scores."""
        acc = PairSummaries(tail=self.tail, keep_mated=self.keep_mated)
        s = self.run(acc, description=f"all-vs-all: {self.plan.total_pairs:,} pairs")
        assert s.mated.n == self.n_mated and s.nonmated.n == self.n_nonmated
        return s

    # -- the second look ---------------------------------------------------------------------
    def blocks_reaching(self, side: str, cells: Sequence[int]) -> list[int]:
        """Blocks whose ``side`` scores span a range that contains any of ``cells``."""
        k = 0 if side == "mated" else 2
        cells = np.unique(np.asarray(list(cells), dtype=np.int64))
        out = []
        for bid, r in sorted(self.summary.ranges.items()):
            lo, hi = r[k], r[k + 1]
            if lo < 0:
                continue
            j = np.searchsorted(cells, lo)
            if j < cells.size and cells[j] <= hi:
                out.append(bid)
        return out

    def cell_values(self, side: str, cells: Sequence[int]) -> dict[int, np.ndarray]:
        """``{cell: sorted exact scores}`` of ``side`` in ``cells``: one pass over the blocks
        that reach them (none if no block does)."""
        cells = sorted({int(c) for c in cells})
        out = {c: np.empty(0) for c in cells}
        if not cells:
            return out
        if side == "mated" and self.keep_mated:
            v = self.mated_values()[0]
            cx = cells_of(v)
            return {c: np.sort(v[cx == c]) for c in cells}
        ids = self.blocks_reaching(side, cells)
        found = self.run(
            CellValues(side, np.asarray(cells, dtype=np.int64)),
            ids,
            description=f"exact look inside {len(cells)} grid cell(s): {len(ids)} block(s)",
        )
        if found is None:
            return out
        v = found[0]
        cx = cells_of(v)
        return {c: np.sort(v[cx == c]) for c in cells}

    # -- score sets for the engine -----------------------------------------------------------
    def mated_values(self) -> tuple[np.ndarray, np.ndarray]:
        """Kept mated ``(scores, subject codes)`` in block order (``keep_mated`` only)."""
        kept = self.summary.mated_values
        if kept is None:
            raise ValueError("the mated scores were not kept (more than keep_mated)")
        ids = sorted(kept)
        if not ids:
            return np.empty(0), np.empty(0, dtype=np.int32)
        return (
            np.concatenate([kept[b][0] for b in ids]),
            np.concatenate([kept[b][1] for b in ids]).astype(np.int32),
        )

    def score_set(self, side: str) -> ScoreSet:
        """The engine's view of ``side`` (units: probe subjects)."""
        s = self.summary
        if side == "mated" and self.keep_mated:
            v, u = self.mated_values()
            return ScoreSet(v, units=u, distribution=s.mated, tail=self.tail)
        dist = s.mated if side == "mated" else s.nonmated
        return StreamedScoreSet(
            dist,
            look=lambda cells: self.cell_values(side, cells),
            scores=self.view(side, 0),
            units=self.view(side, 1),
        )

    def score_sets(self) -> tuple[ScoreSet, ScoreSet, int]:
        """``(mated, non-mated, n_units)``: the two sides as the engine's score sets."""
        return self.score_set("mated"), self.score_set("nonmated"), self.n_units

    #: Scores are cosine similarities (higher = more similar).
    orientation = "similarity"

    def streamed_design(self) -> tuple:
        """What the 1:1 analyses need to resample these comparisons by subject, two-way:
        ``(mated, non-mated, reference_units, n_units, "two-way", n_nonmated_subjects,
        n_mated_subjects)`` (see :func:`faceaudit.analyses.verification.score_sets`). The
        reference units are a streamed view: the analyses read them in order, block by block."""
        per = np.bincount(self.codes, minlength=self.n_units)
        n_gen_subjects = int((per >= 2).sum())
        n_imp_subjects = self.n_units if self.n_units >= 2 else 0
        mated, nonmated, n = self.score_sets()
        refs = self.view("nonmated", 2)
        return mated, nonmated, refs, n, "two-way", n_imp_subjects, n_gen_subjects

    # -- tables for the bootstrap and the demographics ---------------------------------------
    def unit_counts_ge(self, side: str, thresholds: Sequence[float]) -> np.ndarray:
        """Per-subject ``[n, >= t_1, ...]`` of ``side`` (:func:`stats.bootstrap.unit_counts_ge`)."""
        t = np.asarray(thresholds, dtype=np.float64)
        if side == "mated" and self.keep_mated:
            return UnitCountsGE(side, t, self.n_units).__call__(_KeptBlock(self))
        return self.run(UnitCountsGE(side, t, self.n_units), description="bootstrap tables")

    def pair_unit_counts_ge(self, thresholds: Sequence[float]) -> list:
        """Two-way non-mated table: per column (all, ``>= t_1``, ...) a sparse (probe subject x
        reference subject) count matrix (``accumulate.PairUnitCountsGE``)."""
        acc = PairUnitCountsGE(np.asarray(thresholds, dtype=np.float64), self.n_units)
        return self.run(acc, description="two-way bootstrap tables")

    def unit_cell_histograms(self, side: str, cells: np.ndarray):
        """Sparse per-subject counts of ``side`` in ``cells`` (for the bootstrap of the EER)."""
        acc = UnitCellHistograms(side, np.asarray(cells, dtype=np.int64), self.n_units)
        if side == "mated" and self.keep_mated:
            return acc(_KeptBlock(self))
        return self.run(acc, description="bootstrap tables (EER)")

    def group_tables(self, threshold: float, group_of_unit: np.ndarray, n_groups: int):
        """``(negatives (n_units, G, 2), positives (n_units, 2))`` at ``threshold``, as
        :func:`faceaudit.stats.groups.group_counts` makes them."""
        acc = GroupTables(float(threshold), np.asarray(group_of_unit, np.int64), int(n_groups))
        return self.run(acc, description="per-group tables")

    # -- views: slices of one side in all_pairs_scores order, computed on demand ------------
    def view(self, side: str, what: int) -> _View:
        return _View(self, side, what)

    def _side_block(self, side: str, block_id: int):
        with self._cache_lock:
            hit = self._cache.get((side, block_id))
            if hit is not None:
                self._cache.move_to_end((side, block_id))
                return hit
        task = BlockTask(self.embeddings, self.codes, self.plan, None, "")
        v, u, ru = _side(task.block(block_id), side)
        item = (np.asarray(v), np.asarray(u, np.int32), np.asarray(ru, np.int32))
        with self._cache_lock:
            self._cache[(side, block_id)] = item
            while len(self._cache) > 3:
                self._cache.popitem(last=False)
        return item

    def to_comparison_scores(self):
        """All the scores as the ``ComparisonScores`` of ``all_pairs_scores`` (materialised)."""
        from faceaudit.data import ComparisonScores

        parts = self.run(_Collect(), description=f"all-vs-all: {self.plan.total_pairs:,} pairs")
        ids = sorted(parts)
        g = [parts[b][0] for b in ids]
        i = [parts[b][1] for b in ids]

        def cat(seq, k, dtype):
            return np.concatenate([p[k] for p in seq]).astype(dtype, copy=False)

        return ComparisonScores(
            mated=cat(g, 0, np.float64),
            nonmated=cat(i, 0, np.float64),
            mated_subject=cat(g, 1, np.int32),
            nonmated_subject=cat(i, 1, np.int32),
            nonmated_reference_subject=cat(i, 2, np.int32),
            subjects=list(self.subjects),
            mated_fta=int(self.mated_fta),
            nonmated_fta=int(self.nonmated_fta),
            orientation="similarity",
        )


class _KeptBlock:
    """The kept mated scores posing as one block for the accumulators' mated side."""

    def __init__(self, comps: StreamedComparisons) -> None:
        self._v, self._u = comps.mated_values()

    def mated(self):
        return self._v, self._u


class _Collect:
    """Accumulator that keeps every comparison (for :meth:`to_comparison_scores`)."""

    def key(self) -> str:
        return "collect"

    def __call__(self, blk):
        g, gu = blk.mated()
        v, u, ru = blk.nonmated()
        return {blk.block_id: ((g, gu), (v.astype(np.float64), u, ru))}

    def merge(self, a, b):
        return {**a, **b}


class _View:
    """One side's scores (``what=0``), probe codes (1) or reference codes (2), sliceable.

    Slices are computed from the blocks that hold them (a few blocks cached); ``np.asarray`` of a
    view materialises it, allowed up to :data:`MATERIALISE_LIMIT` scores.
    """

    ndim = 1

    def __init__(self, comps: StreamedComparisons, side: str, what: int) -> None:
        self.comps = comps
        self.side = side
        self.what = what
        col = 0 if side == "mated" else 1
        self.offsets = np.concatenate([[0], np.cumsum(comps.pair_counts[:, col])])

    @property
    def dtype(self) -> np.dtype:
        if self.what:
            return np.dtype(np.int32)
        return np.dtype(np.float64) if self.side == "mated" else self.comps.plan.dtype

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a streamed view takes contiguous slices only")
        start, stop, _ = key.indices(len(self))
        if stop <= start:
            return np.empty(0, dtype=self.dtype)
        first = int(np.searchsorted(self.offsets, start, side="right")) - 1
        last = int(np.searchsorted(self.offsets, stop, side="left")) - 1
        parts = []
        for b in range(first, last + 1):
            lo, hi = int(self.offsets[b]), int(self.offsets[b + 1])
            if hi <= lo:
                continue
            arr = self.comps._side_block(self.side, b)[self.what]
            parts.append(arr[max(start, lo) - lo : min(stop, hi) - lo])
        return np.concatenate(parts).astype(self.dtype, copy=False)

    def __array__(self, dtype=None, copy=None):
        if len(self) > MATERIALISE_LIMIT:
            raise MemoryError(
                f"refusing to materialise {len(self):,} streamed comparisons (limit "
                f"{MATERIALISE_LIMIT:,}); this computation needs a streamed implementation"
            )
        out = self[0 : len(self)]
        return out if dtype is None else out.astype(dtype)


def stream_all_pairs(embeddings, subjects, **kwargs) -> StreamedComparisons:
    """Shorthand for :class:`StreamedComparisons` ``(embeddings, subjects, **kwargs)``."""
    return StreamedComparisons(embeddings, subjects, **kwargs)
