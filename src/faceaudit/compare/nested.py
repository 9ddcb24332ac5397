"""The map of the scale analysis: a block of searches x a block of the gallery -> a small summary.

The gallery is in the scale analysis's *nested order* (a seeded order of subjects; nested gallery
``j`` is its first ``starts[j + 1]`` templates, the last one the whole gallery). Every search
(probe) is scored against every template once; what the analysis keeps of it
(:class:`faceaudit.analyses._scale_collect.ScaleData`) is a function of per-block summaries merged
exactly:

=========================  ==========================================  =========================
per search                 kept per block                              merge
=========================  ==========================================  =========================
top score of each level    maximum over the level's templates          maximum
scores >= T (non-mated)    count                                       sum
the mate's score (mated)   maximum over its templates                  maximum
tail propensity            the block's ``r`` largest scores            the ``r`` largest of both
                           (``r = max(1, round(G / 100))``; mates are  (then the ``r``-th: exact)
                           -inf)
=========================  ==========================================  =========================

and over all non-mated comparisons: the pool of the largest ``pool_size`` scores with their
(search, template) indices, ties at the cut all kept (the union of two pools, cut again, is the
pool of the union: exact); the same over the validation part (the first ``val_templates``
templates); and the scores at fixed sample positions (drawn once, on the client, over the flat
index ``search x G + template``, so the sample does not depend on how the work is cut).

A **job** is ``(side, p0, p1, g0, g1)``: the searches ``[p0, p1)`` of one side (non-mated or
mated) against the templates ``[g0, g1)``. Its task computes the scores column chunk by column
chunk with :func:`~faceaudit.compare.blocks.cross_scores` (the fixed 256 x 256 tile grid, one BLAS
thread per call), so every score has the same bits whatever the block sizes or the worker. Blocks
start on that grid (their sizes are multiples of :data:`~faceaudit.compare.blocks.TILE`). A search
block's partial is *finished* (its ``r`` largest reduced to the propensity) as soon as every
gallery block has been merged into it, so a finished run holds O(searches x levels), not O(r).

Memory per task: ``4 x pb x chunk`` bytes of scores (and a bool temporary), plus the running
``r`` largest, ``4 x pb x min(r, gb)`` bytes, which is also the size of its product (with the
pools, ``<= 20 x pool_size`` bytes): ``pb`` searches per block, ``gb`` templates per gallery block.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from faceaudit.compare.blocks import TILE, cross_scores

__all__ = [
    "NestedScores",
    "NestedSpec",
    "NestedSummary",
    "NestedTask",
    "jobs_for",
    "merge_summaries",
    "nested_scores",
    "sample_positions",
]

NONMATED, MATED = 0, 1


def rank_of(n_columns: int) -> int:
    """The propensity's rank: the ``r``-th largest of ``n_columns`` scores (about the 99th
    percentile)."""
    return max(1, round(n_columns / 100))


@dataclass(frozen=True, eq=False)
class NestedSpec:
    """What every task needs besides the data (small: pickled once per run)."""

    starts: np.ndarray  # (n_levels,) first template of each nested level
    n_templates: int
    t32: np.float32  # smallest float32 >= the threshold
    val_templates: int
    pool_size: int
    val_pool_size: int
    sample_pos: np.ndarray  # sorted flat positions search x G + template (non-mated)
    val_sample_pos: np.ndarray  # sorted flat positions search x V + template
    n_gallery_blocks: int

    @property
    def rank(self) -> int:
        return rank_of(self.n_templates)

    @property
    def val_rank(self) -> int:
        return rank_of(self.val_templates)


def _keep_top(top: np.ndarray | None, s: np.ndarray, r: int, *, in_place=False) -> np.ndarray:
    """The ``r`` largest values of each row of ``[top, s]`` (all of them if fewer); with
    ``in_place``, ``s`` is partitioned where it lies (no copy of a chunk of scores)."""
    if in_place and s.shape[1] > r:
        s.partition(s.shape[1] - r, axis=1)
        s = s[:, s.shape[1] - r :]
    cat = s if top is None else np.concatenate([top, s], axis=1)
    if cat.shape[1] > r:
        cat = np.partition(cat, cat.shape[1] - r, axis=1)[:, cat.shape[1] - r :]
    return np.ascontiguousarray(cat)


@dataclass(eq=False)
class _Rows:
    """One block of searches, over the gallery blocks merged so far."""

    side: int
    p0: int
    covered: int
    level_max: np.ndarray  # (rows, n_levels) float32, -inf where no template was seen
    count: np.ndarray | None  # non-mated: scores >= T
    mate: np.ndarray | None  # mated: the mate's score (float32)
    top: np.ndarray | None  # the r largest (None once finished)
    vtop: np.ndarray | None  # the same over the validation part (non-mated)
    prop: np.ndarray | None = None  # finished: the propensity (float64)
    vprop: np.ndarray | None = None

    def finish(self, spec: NestedSpec) -> _Rows:
        if self.covered < spec.n_gallery_blocks or self.prop is not None:
            return self
        prop = self.top.min(axis=1).astype(np.float64)  # the r-th largest: exactly r are kept
        vprop = None
        if self.vtop is not None:
            vprop = self.vtop.min(axis=1).astype(np.float64)
        return replace(self, top=None, vtop=None, prop=prop, vprop=vprop)


def _merge_rows(a: _Rows, b: _Rows, spec: NestedSpec) -> _Rows:
    def opt(x, y, f):
        return None if x is None else f(x, y)

    return _Rows(
        a.side,
        a.p0,
        a.covered + b.covered,
        np.maximum(a.level_max, b.level_max),
        opt(a.count, b.count, np.add),
        opt(a.mate, b.mate, np.maximum),
        _keep_top(a.top, b.top, spec.rank),
        opt(a.vtop, b.vtop, lambda x, y: _keep_top(x, y, spec.val_rank)),
    ).finish(spec)


@dataclass(eq=False)
class _Pool:
    """The largest ``size`` scores with their (search, template) indices; ties at the cut kept."""

    size: int
    vals: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    probe: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    tmpl: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def cut(self, vals, probe, tmpl) -> _Pool:
        if vals.size > self.size:
            kth = np.partition(vals, vals.size - self.size)[vals.size - self.size]
            keep = vals >= kth
            vals, probe, tmpl = vals[keep], probe[keep], tmpl[keep]
        return _Pool(self.size, vals, probe, tmpl)

    def merged(self, other: _Pool) -> _Pool:
        return self.cut(
            *(np.concatenate([x, y]) for x, y in zip(self.parts, other.parts, strict=True))
        )

    @property
    def parts(self):
        return self.vals, self.probe, self.tmpl

    @property
    def floor(self) -> float:
        """Scores below this cannot enter the pool (-inf while it is not full)."""
        return -np.inf if self.vals.size < self.size else float(self.vals.min())

    def add(self, s: np.ndarray, p0: int, c0: int) -> _Pool:
        """With the scores of the matrix ``s`` (rows from search ``p0``, columns from ``c0``)."""
        flat = s.reshape(-1)
        floor = self.floor
        if floor == -np.inf and flat.size > 4 * self.size:
            # a cut from a strided subsample: at least ``size`` scores lie above it, usually
            step = flat.size // (2 * self.size)
            sub = flat[::step]
            q = sub.size - max(1, (2 * self.size) // step) - 1
            floor = float(np.partition(sub, q)[q]) if q > 0 else -np.inf
            if np.count_nonzero(flat >= floor) < self.size:
                floor = -np.inf
        if floor == -np.inf and flat.size > self.size:
            floor = float(np.partition(flat, flat.size - self.size)[flat.size - self.size])
        idx = np.flatnonzero(flat >= floor)
        r, c = np.divmod(idx, s.shape[1])
        new = _Pool(self.size, flat[idx], r + p0, c + c0)
        return self.merged(new)

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Descending scores (float64); ties by search, then template."""
        order = np.lexsort((self.tmpl, self.probe, -self.vals.astype(np.float64)))
        return self.vals[order].astype(np.float64), self.probe[order], self.tmpl[order]


@dataclass(eq=False)
class NestedSummary:
    """The merged product of any set of jobs (see the module docstring)."""

    rows: dict
    pool: _Pool
    vpool: _Pool
    sample: list
    vsample: list


def merge_summaries(a: NestedSummary, b: NestedSummary, spec: NestedSpec) -> NestedSummary:
    """The exact merge of two summaries of disjoint jobs (associative, commutative)."""
    rows = dict(a.rows)
    for key, rb in b.rows.items():
        ra = rows.get(key)
        rows[key] = rb if ra is None else _merge_rows(ra, rb, spec)
    return NestedSummary(
        rows,
        a.pool.merged(b.pool),
        a.vpool.merged(b.vpool),
        a.sample + b.sample,
        a.vsample + b.vsample,
    )


@dataclass(frozen=True)
class _MergeSpec:
    rank: int
    val_rank: int
    n_gallery_blocks: int


class Merge:
    """``merge(a, b)`` for the executor: :func:`merge_summaries` with the run's spec."""

    def __init__(self, spec: NestedSpec) -> None:
        # only what a merge reads: a Dask merge task carries it, not the sample positions
        self.spec = _MergeSpec(spec.rank, spec.val_rank, spec.n_gallery_blocks)

    def __call__(self, a: NestedSummary, b: NestedSummary) -> NestedSummary:
        return merge_summaries(a, b, self.spec)


def jobs_for(
    n_nonmated: int, n_mated: int, n_templates: int, probe_block: int, gallery_block: int
) -> list[tuple[int, int, int, int, int]]:
    """Jobs, search block by search block (so a block's partial finishes early)."""
    jobs = []
    for side, n in ((NONMATED, n_nonmated), (MATED, n_mated)):
        for p0 in range(0, n, probe_block):
            for g0 in range(0, n_templates, gallery_block):
                jobs.append(
                    (side, p0, min(n, p0 + probe_block), g0, min(n_templates, g0 + gallery_block))
                )
    return jobs


def round_to_tile(n: int) -> int:
    return max(TILE, -(-int(n) // TILE) * TILE)


class NestedTask:
    """``task(job_id) -> NestedSummary`` of one job; picklable when its data are files.

    ``probes`` maps a side to its searches (an array, or the path of a ``.npy`` a worker
    memory-maps); ``templates`` is a :class:`~faceaudit.compare.shards.Templates` in nested order.
    """

    def __init__(self, probes, templates, template_subject, mated_subject, spec, jobs, chunk, key):
        self.probes = probes
        self.templates = templates
        self.template_subject = template_subject
        self.mated_subject = mated_subject
        self.spec = spec
        self.jobs = jobs
        self.chunk = int(chunk)
        self._key = key

    def key(self) -> str:
        return self._key

    def _searches(self, side: int, p0: int, p1: int) -> np.ndarray:
        src = self.probes[side]
        if isinstance(src, str):
            from faceaudit.compare._stream_tasks import _open

            src = _open(src)
        return np.ascontiguousarray(src[p0:p1], dtype=np.float32)

    def __call__(self, job_id: int) -> NestedSummary:
        side, p0, p1, g0, g1 = self.jobs[job_id]
        spec = self.spec
        q = self._searches(side, p0, p1)
        n_levels = spec.starts.size
        rows = _Rows(
            side,
            p0,
            1,
            np.full((p1 - p0, n_levels), -np.inf, dtype=np.float32),
            np.zeros(p1 - p0, dtype=np.int64) if side == NONMATED else None,
            np.full(p1 - p0, -np.inf, dtype=np.float32) if side == MATED else None,
            None,
            None,
        )
        pools = [_Pool(spec.pool_size), _Pool(spec.val_pool_size)]
        samples: list = [[], []]
        for c0 in range(g0, g1, self.chunk):
            c1 = min(g1, c0 + self.chunk)
            s = cross_scores(q, self.templates.rows(c0, c1))
            self.templates.release(c0, c1)
            if side == MATED:
                self._mated(rows, s, p0, c0)
            else:
                self._nonmated(rows, s, pools, samples, p0, c0)
            self._levels(rows, s, c0)
            rows.top = _keep_top(rows.top, s, spec.rank, in_place=True)  # s's last use
        if side == NONMATED and spec.val_templates and rows.vtop is None:
            rows.vtop = np.empty((p1 - p0, 0), np.float32)  # no validation template here
        return NestedSummary(
            {(side, p0): rows.finish(spec)},
            pools[0],
            pools[1],
            [np.concatenate(samples[0])] if samples[0] else [],
            [np.concatenate(samples[1])] if samples[1] else [],
        )

    def _levels(self, rows: _Rows, s: np.ndarray, c0: int) -> None:
        """Each nested level's top score among the columns ``[c0, c0 + s.shape[1])``."""
        starts = self.spec.starts
        c1 = c0 + s.shape[1]
        lo = int(np.searchsorted(starts, c0, side="right")) - 1
        hi = int(np.searchsorted(starts, c1, side="left"))
        bounds = np.clip(starts[lo:hi], c0, c1) - c0
        part = np.maximum.reduceat(s, bounds, axis=1)
        rows.level_max[:, lo:hi] = np.maximum(rows.level_max[:, lo:hi], part)

    def _mated(self, rows: _Rows, s: np.ndarray, p0: int, c0: int) -> None:
        c1 = c0 + s.shape[1]
        own = self.mated_subject[p0 : p0 + s.shape[0], None]
        mask = self.template_subject[None, c0:c1] == own
        if mask.any():
            rows.mate = np.maximum(rows.mate, np.where(mask, s, -np.inf).max(axis=1))
            s[mask] = -np.inf  # the rest sees non-mate templates only

    def _nonmated(self, rows: _Rows, s, pools, samples, p0: int, c0: int) -> None:
        spec = self.spec
        rows.count += np.count_nonzero(s >= spec.t32, axis=1)
        pools[0] = pools[0].add(s, p0, c0)
        samples[0].append(_at_positions(s, spec.sample_pos, spec.n_templates, p0, c0))
        v = spec.val_templates
        if c0 < v:
            sv = s[:, : min(s.shape[1], v - c0)]
            rows.vtop = _keep_top(rows.vtop, sv, spec.val_rank)
            pools[1] = pools[1].add(sv, p0, c0)
            samples[1].append(_at_positions(sv, spec.val_sample_pos, v, p0, c0))

    def __getstate__(self):
        if not all(isinstance(p, str) for p in self.probes.values()):
            raise TypeError("a scale task over in-memory searches runs in this process only")
        return self.__dict__


def _at_positions(s: np.ndarray, pos: np.ndarray, width: int, p0: int, c0: int) -> np.ndarray:
    """The scores of ``s`` (rows from ``p0``, columns from ``c0``) at the flat positions ``pos``
    (``row x width + column``, sorted)."""
    r, c = s.shape
    lo, hi = np.searchsorted(pos, [p0 * width, (p0 + r) * width])
    row, col = np.divmod(pos[lo:hi], width)
    keep = (col >= c0) & (col < c0 + c)
    return s[row[keep] - p0, col[keep] - c0].astype(np.float64)


def sample_positions(n_rows: int, width: int, sample_size: int, rng) -> np.ndarray:
    """Flat positions of a uniform sample (with replacement) of ``n_rows x width`` scores, about
    ``sample_size`` of them: a binomial count, then uniform positions (sorted)."""
    n = int(n_rows) * int(width)
    per_row = sample_size / max(n_rows, 1)
    k = rng.binomial(n, min(1.0, per_row / max(width, 1)))
    if not k:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.integers(0, n, size=k))


# -- the client: one map/reduce over every job ---------------------------------------------------
@dataclass(frozen=True, eq=False)
class NestedScores:
    """Every search's figures over the whole gallery, and the pools and samples (float64)."""

    nonmated_level_max: np.ndarray  # (n_nonmated, n_levels) float32: top score per level
    nonmated_count_ge: np.ndarray  # (n_nonmated,) scores >= T
    nonmated_propensity: np.ndarray
    val_propensity: np.ndarray
    mated_mate_score: np.ndarray  # (n_mated,) float32
    mated_level_max: np.ndarray  # (n_mated, n_levels) float32, the mate excluded
    mated_propensity: np.ndarray
    pool: tuple[np.ndarray, np.ndarray, np.ndarray]  # descending; ties by search, template
    val_pool: tuple[np.ndarray, np.ndarray, np.ndarray]
    sample: np.ndarray  # sorted
    val_sample: np.ndarray


def nested_scores(
    templates,
    template_subject: np.ndarray,
    nonmated: np.ndarray,
    mated: np.ndarray,
    mated_subject: np.ndarray,
    spec: NestedSpec,
    *,
    probe_block: int,
    gallery_block: int,
    block_elements: int,
    executor=None,
    work_dir=None,
    progress=None,
) -> NestedScores:
    """Map every job of the run over ``executor`` (default: the current one) and merge.

    ``templates``: the gallery in nested order, an array or a
    :class:`~faceaudit.compare.shards.Templates` (shards on disk). ``work_dir``: block products
    are kept there (a rerun resumes from them); on a cluster the workers read the searches (and an
    in-memory gallery) from files written there.
    """
    from faceaudit.compare import _nested_files as F
    from faceaudit.compare.execute import current_executor

    executor = executor if executor is not None else current_executor()
    n_nm, n_m = nonmated.shape[0], mated.shape[0]
    pb, gb = round_to_tile(probe_block), round_to_tile(gallery_block)
    chunk = min(gb, round_to_tile(max(1, block_elements // pb)))
    jobs = jobs_for(n_nm, n_m, spec.n_templates, pb, gb)
    key = F.run_key(templates, template_subject, nonmated, mated, mated_subject, spec, pb, gb)
    probes, tmpl = {NONMATED: nonmated, MATED: mated}, F.as_templates(templates)
    if executor.needs_files:
        folder = F.files_folder(executor, work_dir, key)
        probes, tmpl = F.on_disk(folder, probes, templates)
    task = NestedTask(probes, tmpl, template_subject, mated_subject, spec, jobs, chunk, key)
    store = None if work_dir is None else str(F.store_folder(work_dir, key))
    weights = [(p1 - p0) * (g1 - g0) for _, p0, p1, g0, g1 in jobs]
    total = executor.map_reduce(
        task, range(len(jobs)), Merge(spec), weights=weights, store=store, progress=progress
    )
    return _assemble(total, spec, n_nm, n_m)


def _assemble(total: NestedSummary | None, spec: NestedSpec, n_nm: int, n_m: int) -> NestedScores:
    n_levels = spec.starts.size
    rows = {} if total is None else total.rows
    sides = {}
    for side, n in ((NONMATED, n_nm), (MATED, n_m)):
        parts = sorted((p0, r) for (sd, p0), r in rows.items() if sd == side)
        assert sum(r.level_max.shape[0] for _, r in parts) == n
        assert all(r.prop is not None for _, r in parts), "a search block is missing a part"
        sides[side] = [r for _, r in parts]

    def cat(side, attr, width=None, dtype=np.float64):
        got = [getattr(r, attr) for r in sides[side]]
        if got:
            return np.concatenate(got)
        return np.empty((0, width) if width else 0, dtype=dtype)

    empty = _Pool(1)
    pool = total.pool if total is not None else empty
    vpool = total.vpool if total is not None else empty

    def sample(parts):
        return np.sort(np.concatenate(parts)) if parts else np.empty(0)

    return NestedScores(
        nonmated_level_max=cat(NONMATED, "level_max", n_levels, np.float32),
        nonmated_count_ge=cat(NONMATED, "count", dtype=np.int64),
        nonmated_propensity=cat(NONMATED, "prop"),
        val_propensity=cat(NONMATED, "vprop") if spec.val_templates else np.zeros(n_nm),
        mated_mate_score=cat(MATED, "mate", dtype=np.float32),
        mated_level_max=cat(MATED, "level_max", n_levels, np.float32),
        mated_propensity=cat(MATED, "prop"),
        pool=pool.sorted(),
        val_pool=vpool.sorted() if spec.val_templates else _Pool(1).sorted(),
        sample=sample(total.sample if total is not None else []),
        val_sample=sample(total.vsample if total is not None else []),
    )
