"""Bootstrap replicate counts of one score set at any thresholds, as weighted merges of tables.

:class:`ReplicateCounts` answers, for every replicate of a :class:`~faceaudit.stats.bootstrap.
Resampler`, "how many (weighted) scores are ``>= t``" at thresholds asked for in any order and in
several rounds (an operating point re-chosen in each replicate first needs the counts at the
full-data threshold, then in a window around it). Every answer is exact and every round refers
to the same replicates:

- **subject bootstrap**: the replicates' multiplicities are re-drawn from the seeded stream for
  each round (the same stream, the same replicates); a round counts, in one pass over the scores,
  only the scores between each new threshold and the nearest threshold already answered (its
  *anchor*) into per-subject (one-way) or per (probe, reference) cell (two-way) tables
  (:class:`~faceaudit.stats.pairs.IntervalTables`), and a replicate's count at a new threshold is
  its anchor's count plus or minus the weighted merge of the tables in between. The first round
  counts the whole line, which gives each replicate's total (the denominator of its rates).
- **comparison bootstrap** (no subject ids): a replicate's counts in the first round's intervals
  are Multinomial(n, full-data proportions); a later round splits an interval's replicate count
  among its sub-intervals by the conditional multinomial (full-data proportions within it), which
  is exactly what resampling comparisons with replacement gives.

Nothing is re-sorted per replicate; a round costs one pass over the scores plus, per replicate,
the occupied cells of its tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.grid import cells_of
from faceaudit.stats.pairs import IntervalTables, slot_counts
from faceaudit.stats.scoreset import ScoreSet

__all__ = ["ReplicateCounts"]

#: Weights per block of replicates computed at once (replicates x units).
_BLOCK_CELLS = 1 << 22


class ReplicateCounts:
    """Replicate counts of scores ``>= t`` of one score set, consistent across rounds.

    Parameters
    ----------
    scores : ScoreSet
        With ``units`` for a subject bootstrap.
    resampler : Resampler
        ``n_units > 0``: subject bootstrap (its multiplicities); 0: comparison bootstrap.
    reference_units : int array, optional
        The second subject of each score: two-way weights ``w_probe * w_reference``.
    stream : int
        Random stream of the comparison bootstrap (distinct per score set).
    """

    def __init__(
        self,
        scores: ScoreSet,
        resampler: Resampler,
        *,
        reference_units: np.ndarray | None = None,
        stream: int = 0,
    ) -> None:
        if resampler.by_subject and scores.units is None:
            raise ValueError("a subject bootstrap needs the unit of every score")
        self.scores = scores
        self.resampler = resampler
        self.reference_units = reference_units if resampler.by_subject else None
        self.n_boot = int(resampler.n_boot)
        self._rng = None if resampler.by_subject else resampler.rng(stream)
        self._cuts = np.empty(0)
        self._ge = np.zeros((self.n_boot, 0))
        self.total: np.ndarray | None = None
        self.rounds = 0
        self.cells_counted = 0  # occupied cells of all rounds' tables (cost per replicate)

    @property
    def mode(self) -> str:
        if not self.resampler.by_subject:
            return "comparison"
        return "two-way" if self.reference_units is not None else "one-way"

    def _approx_ge(self, t: np.ndarray) -> np.ndarray:
        """Scores in the cells at or above each threshold's cell (for planning only)."""
        d = self.scores.distribution
        suffix = np.concatenate([np.cumsum(d.counts[::-1])[::-1], [0]])
        return suffix[np.searchsorted(d.cells, cells_of(t), side="left")].astype(np.float64)

    def _weight_blocks(self) -> Iterator[np.ndarray]:
        """The replicates' multiplicities (the seeded stream), in blocks of rows."""
        rows = max(self.resampler.batch, _BLOCK_CELLS // max(self.resampler.n_units, 1))
        held: list[np.ndarray] = []
        n = 0
        for w in self.resampler.weight_batches():
            held.append(w)
            n += w.shape[0]
            if n >= rows:
                yield np.concatenate(held)
                held, n = [], 0
        if held:
            yield np.concatenate(held)

    def ge(self, thresholds) -> np.ndarray:
        """``(n_boot, len(thresholds))`` replicate counts of scores ``>= t`` (exact)."""
        t = np.asarray(thresholds, dtype=np.float64).ravel()
        if np.isnan(t).any():
            raise ValueError("threshold is NaN")
        new = np.setdiff1d(np.unique(t), self._cuts)
        if new.size or self.total is None:
            self._round(new)
        return self._ge[:, np.searchsorted(self._cuts, t)]

    def lt(self, thresholds) -> np.ndarray:
        """Replicate counts of scores ``< t``."""
        ge = self.ge(thresholds)
        return self.total[:, None] - ge

    # -- one round ------------------------------------------------------------------------------
    def _round(self, new: np.ndarray) -> None:
        first = self.total is None
        known = self._cuts
        cuts = np.union1d(known, new)
        # slot i of ``cuts``: [c_i, c_{i+1}) (slot 0 from -inf, the last to +inf)
        is_new = np.isin(cuts, new)
        if first:
            wanted = np.arange(cuts.size + 1)
        else:
            wanted = self._plan(cuts, is_new)
        tables = IntervalTables(
            self.scores,
            cuts,
            wanted,
            max(self.resampler.n_units, 1),
            reference_units=self.reference_units,
            approx_counts=self._slot_approx(cuts, wanted),
        ) if self.resampler.by_subject else None  # fmt: skip
        if tables is not None:
            slot_reps = np.concatenate(
                [tables.replicate(w) for w in self._weight_blocks()]
            ) if self.n_boot else np.zeros((0, wanted.size))  # fmt: skip
            self.cells_counted += tables.nnz
        else:
            slot_reps = self._multinomial_slots(cuts, wanted, first)
        self._compose(cuts, wanted, slot_reps, first)
        self.rounds += 1

    def _slot_approx(self, cuts: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        ge = np.concatenate([[float(self.scores.n)], self._approx_ge(cuts), [0.0]])
        return (ge[:-1] - ge[1:])[wanted]

    def _plan(self, cuts: np.ndarray, is_new: np.ndarray) -> np.ndarray:
        """Slots to count: for each run of new cuts between two known ones (or the ends), every
        gap between consecutive points but the largest, which neither side needs."""
        ge = np.concatenate([[float(self.scores.n)], self._approx_ge(cuts), [0.0]])
        slot_size = ge[:-1] - ge[1:]  # approximate scores in each slot
        wanted: list[int] = []
        i, k = 0, cuts.size
        while i < k:
            if not is_new[i]:
                i += 1
                continue
            j = i
            while j + 1 < k and is_new[j + 1]:
                j += 1
            # new cuts i..j between known cuts i-1 and j+1: their gaps are slots i .. j+1
            gaps = np.arange(i, j + 2)
            skip = gaps[int(np.argmax(slot_size[gaps]))]
            wanted.extend(int(g) for g in gaps if g != skip)
            i = j + 1
        return np.array(sorted(set(wanted)), dtype=np.int64)

    def _compose(self, cuts, wanted, slot_reps, first: bool) -> None:
        """Replicate counts at every cut from the anchors and the new slots' counts."""
        B, k = self.n_boot, cuts.size
        slot = np.zeros((B, k + 1))
        slot[:, wanted] = slot_reps
        have = np.zeros(k + 1, dtype=bool)
        have[wanted] = True
        ge = np.full((B, k), np.nan)
        known_pos = np.searchsorted(cuts, self._cuts)
        ge[:, known_pos] = self._ge
        if first:
            self.total = slot.sum(axis=1)
            ge = np.cumsum(slot[:, ::-1], axis=1)[:, ::-1][:, 1:]
        else:
            # walk down from each known cut (or from beyond +inf, count 0) through counted slots
            for m in range(k - 1, -1, -1):
                if np.isnan(ge[0, m]) if B else False:
                    if have[m + 1]:
                        above = ge[:, m + 1] if m + 1 < k else 0.0
                        ge[:, m] = above + slot[:, m + 1]
            for m in range(k):  # and up from each known cut (or the total below -inf)
                if B and np.isnan(ge[0, m]) and have[m]:
                    below = ge[:, m - 1] if m > 0 else self.total
                    ge[:, m] = below - slot[:, m]
        self._cuts, self._ge = cuts, ge

    def _multinomial_slots(self, cuts, wanted, first: bool) -> np.ndarray:
        """Comparison bootstrap: replicate counts of the slots by (conditional) multinomials."""
        full = slot_counts(self.scores, cuts)
        B = self.n_boot
        if first:
            n = int(full.sum())
            p = full / n if n else np.full(full.size, 1.0 / full.size)
            return self._rng.multinomial(n, p, size=B).astype(np.float64)[:, wanted]
        out = np.zeros((B, cuts.size + 1))
        known = np.isin(cuts, self._cuts)
        lo = 0  # slot index where the current gap between known cuts starts
        for m in range(cuts.size + 1):
            end = m == cuts.size or known[m]
            if not end:
                continue
            gap = np.arange(lo, m + 1)  # slots lo .. m lie between known cut lo-1 and cut m
            if gap.size > 1:
                # the replicate's count in the whole gap, from its known ends
                top = self._ge[:, np.searchsorted(self._cuts, cuts[m])] if m < cuts.size else 0
                bottom = self.total if lo == 0 else self._ge[
                    :, np.searchsorted(self._cuts, cuts[lo - 1])
                ]  # fmt: skip
                n_gap = np.rint(bottom - top).astype(np.int64)
                f = full[gap].astype(np.float64)
                if f.sum() > 0:
                    out[:, gap] = self._rng.multinomial(n_gap, f / f.sum()).astype(np.float64)
            lo = m + 1
        return out[:, wanted]
