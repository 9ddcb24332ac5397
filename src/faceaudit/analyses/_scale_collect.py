"""The one pass of the scale analysis: every search x template score, as a map/reduce over blocks
(:mod:`faceaudit.compare.nested`), in this process or on a Dask cluster.

Each search also gets its *tail propensity*: about its 99th-percentile score (for the validation
fit, over that part of the gallery only), which sorts searches into strata of similar tails
(:mod:`faceaudit.analyses._scale_tail`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Progress = Callable[[int, int], None]


def _f32_at_least(t: float) -> np.float32:
    """Smallest float32 >= t: for float32 s, ``s >= t`` iff ``s >= _f32_at_least(t)``."""
    t32 = np.float32(t)
    if float(t32) < t:
        t32 = np.nextafter(t32, np.float32(np.inf))
    return t32


@dataclass(frozen=True, eq=False)
class ScaleData:
    """What one streaming pass collects (see :func:`collect`)."""

    nonmated_prefix_max: np.ndarray  # (n_nonmated, n_sizes) top score within each prefix
    mated_mate_score: np.ndarray  # (n_mated,)
    mated_prefix_max: np.ndarray  # (n_mated, n_sizes) top non-mate score within each prefix
    n_templates: int
    n_total: int  # non-mated comparisons of non-mated searches
    count_ge_threshold_by_probe: np.ndarray  # (n_nonmated,) comparisons >= T
    pool_vals: np.ndarray  # largest comparison scores, descending
    pool_probe: np.ndarray
    pool_tmpl: np.ndarray
    val_size: int  # templates of the validation fit (0: none)
    val_vals: np.ndarray
    val_probe: np.ndarray
    val_tmpl: np.ndarray
    sample: np.ndarray  # uniform random sample of comparison scores (sorted)
    nonmated_propensity: np.ndarray  # (n_nonmated,) each search's tail propensity
    mated_propensity: np.ndarray  # (n_mated,) the same over its non-mate templates
    val_propensity: np.ndarray  # (n_nonmated,) over the validation fit's templates only
    val_sample: np.ndarray  # sample of the validation part's scores (sorted)


def collect(
    gallery,
    template_level_bounds: np.ndarray,
    template_subject: np.ndarray,
    nonmated: np.ndarray,
    mated: np.ndarray,
    mated_subject: np.ndarray,
    *,
    threshold: float,
    pool_size: int,
    val_templates: int,
    val_pool_size: int,
    sample_size: int = 200_000,
    block_elements: int = 1 << 24,
    probe_block: int | None = None,
    gallery_block: int | None = None,
    progress: Progress | None = None,
    seed: int = 0,
    work_dir=None,
) -> ScaleData:
    """One pass over all search x template scores, as a map/reduce over blocks.

    ``gallery`` rows are in nested order (an array, or a
    :class:`~faceaudit.compare.shards.Templates` of shards on disk);
    ``template_level_bounds[j]`` is the number of templates in the ``j``-th nested gallery. A
    job is ``probe_block`` searches x ``gallery_block`` templates
    (:mod:`faceaudit.compare.nested`), its scores made ``block_elements`` at a time; the jobs run
    on the current executor (in this process, or on Dask) and their summaries merge exactly, so
    the result does not depend on the block sizes or on where the jobs ran. The uniform sample
    of scores is drawn once over the flat index ``search x G + template`` (seeded), not per block.
    ``work_dir``: the block summaries are kept there and a rerun resumes from them.
    """
    from faceaudit.compare.nested import NestedSpec, nested_scores, sample_positions

    G = int(gallery.shape[0] if isinstance(gallery, np.ndarray) else gallery.n)
    starts = np.concatenate([[0], template_level_bounds[:-1]]).astype(np.int64)
    n_nm, n_m = nonmated.shape[0], mated.shape[0]
    rng = np.random.default_rng(seed + 1)
    pos = sample_positions(n_nm, G, sample_size, rng)
    vpos = np.empty(0, dtype=np.int64)
    if val_templates:  # the same share per search as the whole gallery's sample
        vpos = sample_positions(n_nm, val_templates, sample_size, rng)
    pb, gb = _blocks(G, max(n_nm, n_m, 1), block_elements, probe_block, gallery_block)
    spec = NestedSpec(
        starts=starts,
        n_templates=G,
        t32=_f32_at_least(threshold),
        val_templates=int(val_templates),
        pool_size=int(pool_size),
        val_pool_size=int(val_pool_size),
        sample_pos=pos,
        val_sample_pos=vpos,
        n_gallery_blocks=-(-G // gb),
    )
    got = nested_scores(
        gallery,
        np.asarray(template_subject, dtype=np.int64),
        nonmated,
        mated,
        np.asarray(mated_subject, dtype=np.int64),
        spec,
        probe_block=pb,
        gallery_block=gb,
        block_elements=block_elements,
        work_dir=work_dir,
        progress=progress,
    )
    pv, pp, pt = got.pool
    vv, vp, vt = got.val_pool
    return ScaleData(
        nonmated_prefix_max=np.maximum.accumulate(got.nonmated_level_max, axis=1).astype(float),
        mated_mate_score=got.mated_mate_score.astype(np.float64),
        mated_prefix_max=np.maximum.accumulate(got.mated_level_max, axis=1).astype(np.float64),
        n_templates=G,
        n_total=int(n_nm) * int(G),
        count_ge_threshold_by_probe=got.nonmated_count_ge,
        pool_vals=pv,
        pool_probe=pp,
        pool_tmpl=pt,
        val_size=int(val_templates),
        val_vals=vv,
        val_probe=vp,
        val_tmpl=vt,
        sample=got.sample,
        nonmated_propensity=got.nonmated_propensity,
        mated_propensity=got.mated_propensity,
        val_propensity=got.val_propensity,
        val_sample=got.val_sample,
    )


#: Searches per block by default (a multiple of 256).
PROBE_BLOCK = 512
#: Templates per gallery block by default: larger galleries are cut into blocks of this size.
GALLERY_BLOCK = 1 << 18


def _blocks(G, n_searches, block_elements, probe_block, gallery_block) -> tuple[int, int]:
    """``(searches, templates)`` per job: multiples of 256; the defaults keep a job's scores
    chunks of ``block_elements`` and the whole gallery one block up to :data:`GALLERY_BLOCK`."""
    from faceaudit.compare.blocks import TILE

    def tiles(n):
        return max(TILE, -(-int(n) // TILE) * TILE)

    gb = tiles(gallery_block) if gallery_block else tiles(min(G, GALLERY_BLOCK))
    pb = tiles(probe_block) if probe_block else tiles(min(n_searches, PROBE_BLOCK))
    return pb, gb


def propensity(S: np.ndarray) -> np.ndarray:
    """Each row's tail propensity: its ``r``-th largest score, ``r = max(1, round(columns /
    100))`` (about its 99th percentile; a mate set to -inf does not count).

    The row mean was tried as well: it sorted demographic clusters' searches less well (1.41x
    against 1.27x at FPIR 0.1, d = 32) and did no better on a homogeneous population."""
    n = S.shape[1]
    r = max(1, round(n / 100))
    return np.partition(S, n - r, axis=1)[:, n - r].astype(np.float64)
