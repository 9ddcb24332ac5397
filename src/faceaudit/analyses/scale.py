"""Gallery scaling: FPIR at a fixed threshold as the gallery grows, measured and extrapolated.

* **Measured.** The enrolled gallery is put in a seeded random order of subjects; nested galleries
  are its first 10^2, 3x10^2, 10^3, ... subjects and the whole. Each non-mated search (its subject
  is not enrolled) is scored against every gallery template once, and its top score within each
  prefix gives FPIR(N, T) at every size in the same pass. Mated searches give the measured
  rank-1 accuracy (mate scores above every distractor of the prefix; the mate is always present).
* **Extrapolated.** The impostor comparisons of the non-mated searches (all of them, streamed;
  only the largest few are kept) give a generalised Pareto tail (:mod:`faceaudit.stats.tail`),
  hence FMR(T), hence FPIR(N, T) = 1 - (1 - FMR(T))^N at any N (default 2.7 x 10^8), the
  threshold that holds each FPIR target at that N, and the expected rank-1 accuracy at N,
  ``mean over mated searches of (1 - FMR(mate score))^(N - 1)`` (with and without the threshold).
* **Band.** A two-way bootstrap: probe subjects and gallery subjects are resampled (weights), the
  tail is refitted on the weighted excesses above the same tail threshold, and every extrapolated
  figure is recomputed; the band is the percentile interval.
* **Validated.** When the gallery holds at least 10x ``validation_fit_size`` subjects, a second fit
  on the first ``validation_fit_size`` distractors only is extrapolated to the whole gallery and
  compared with the measured FPIR there (``inside``: the measured value lies within the band).

A threshold below the tail threshold uses the exact empirical FMR(T) instead of the fit (band:
probe-subject bootstrap).
"""

from __future__ import annotations

import warnings as warnings_
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.compare.search import Enrolment, enrol_gallery
from faceaudit.data import EmbeddingSet
from faceaudit.stats.bootstrap import percentile_interval
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.tail import (
    TailFit,
    default_tail_count,
    fit_gpd,
    fmr_for_fpir,
    fpir_from_fmr,
    mean_excess,
    qq_points,
)

__all__ = ["DEFAULT_TARGET_GALLERY_SIZE", "ScaleResult", "scale", "nested_sizes", "ScaleData"]

DEFAULT_TARGET_GALLERY_SIZE = 270_000_000
DEFAULT_FPIR_TARGETS = (0.1, 0.01, 0.003, 0.001)
STABILITY_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
Progress = Callable[[int, int], None]


def nested_sizes(n: int, start: int = 100) -> list[int]:
    """10^2, 3x10^2, 10^3, 3x10^3, ... below ``n``, then ``n``."""
    out = []
    p = start
    while p < n:
        out.append(p)
        if 3 * p < n:
            out.append(3 * p)
        p *= 10
    out.append(n)
    return sorted(set(out))


def extrapolation_sizes(n_max: int, target: int) -> list[int]:
    """1, 2, 5 x 10^k from 100 to ``target``, plus ``n_max`` and ``target``."""
    out = {int(target), int(n_max)}
    k = 2
    while 10**k <= target:
        for m in (1, 2, 5):
            if m * 10**k <= target:
                out.add(m * 10**k)
        k += 1
    return sorted(v for v in out if v >= 1)


def _f32_at_least(t: float) -> np.float32:
    """Smallest float32 >= t: for float32 s, ``s >= t`` iff ``s >= _f32_at_least(t)``."""
    t32 = np.float32(t)
    if float(t32) < t:
        t32 = np.nextafter(t32, np.float32(np.inf))
    return t32


class _Pool:
    """The largest ``size`` values of a stream, with their probe and template indices."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self.cut = -np.inf
        self.vals: list[np.ndarray] = []
        self.probe: list[np.ndarray] = []
        self.tmpl: list[np.ndarray] = []
        self.count = 0

    def add(self, block: np.ndarray, probe_offset: int) -> None:
        flat = block.reshape(-1)
        if self.cut == -np.inf and flat.size > self.size:
            # start with the block's own k-th largest as the cut
            self.cut = float(np.partition(flat, flat.size - self.size)[flat.size - self.size])
            idx = np.flatnonzero(flat >= self.cut)
        else:
            idx = np.flatnonzero(flat >= self.cut)
        if idx.size == 0:
            return
        r, c = np.divmod(idx, block.shape[1])
        self.vals.append(flat[idx].astype(np.float64))
        self.probe.append((r + probe_offset).astype(np.int64))
        self.tmpl.append(c.astype(np.int64))
        self.count += idx.size
        if self.count > 2 * self.size:
            self._shrink()

    def _shrink(self) -> None:
        v = np.concatenate(self.vals)
        p = np.concatenate(self.probe)
        t = np.concatenate(self.tmpl)
        if v.size > self.size:
            kth = np.partition(v, v.size - self.size)[v.size - self.size]
            keep = v >= kth  # ties at the cut are all kept
            v, p, t = v[keep], p[keep], t[keep]
            self.cut = float(kth)
        self.vals, self.probe, self.tmpl = [v], [p], [t]
        self.count = v.size

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._shrink()
        order = np.argsort(-self.vals[0], kind="stable")
        return self.vals[0][order], self.probe[0][order], self.tmpl[0][order]


@dataclass(frozen=True, eq=False)
class ScaleData:
    """What one streaming pass collects (see :func:`collect`)."""

    nonmated_prefix_max: np.ndarray  # (n_nonmated, n_sizes) top score within each prefix
    mated_mate_score: np.ndarray  # (n_mated,)
    mated_prefix_max: np.ndarray  # (n_mated, n_sizes) top non-mate score within each prefix
    n_templates: int
    n_total: int  # impostor comparisons of non-mated searches
    count_ge_threshold_by_probe: np.ndarray  # (n_nonmated,) comparisons >= T
    pool_vals: np.ndarray  # largest comparison scores, descending
    pool_probe: np.ndarray
    pool_tmpl: np.ndarray
    val_size: int  # templates of the validation fit (0: none)
    val_vals: np.ndarray
    val_probe: np.ndarray
    val_tmpl: np.ndarray
    sample: np.ndarray  # uniform random sample of comparison scores (sorted)


def collect(
    gallery: np.ndarray,
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
    progress: Progress | None = None,
    seed: int = 0,
) -> ScaleData:
    """One pass over all probe x gallery scores, chunk by chunk (memory ~ ``block_elements``).

    ``gallery`` rows are in nested order; ``template_level_bounds[j]`` is the number of templates
    in the ``j``-th nested gallery.
    """
    G = gallery.shape[0]
    starts = np.concatenate([[0], template_level_bounds[:-1]]).astype(np.int64)
    n_levels = starts.size
    rows_per = max(1, int(block_elements // max(G, 1)))
    t32 = _f32_at_least(threshold)
    rng = np.random.default_rng(seed + 1)
    n_nm, n_m = nonmated.shape[0], mated.shape[0]
    total_rows = n_nm + n_m
    pool = _Pool(pool_size)
    vpool = _Pool(val_pool_size) if val_templates else None
    nm_max = np.empty((n_nm, n_levels), dtype=np.float32)
    count_ge = np.zeros(n_nm, dtype=np.int64)
    per_row_sample = sample_size / max(n_nm, 1)
    samples = []
    done = 0
    if progress:
        progress(0, total_rows)
    for s in range(0, n_nm, rows_per):
        e = min(n_nm, s + rows_per)
        S = nonmated[s:e] @ gallery.T
        block = np.maximum.reduceat(S, starts, axis=1)
        nm_max[s:e] = np.maximum.accumulate(block, axis=1)
        count_ge[s:e] = np.count_nonzero(S >= t32, axis=1)
        pool.add(S, s)
        if vpool is not None:
            vpool.add(S[:, :val_templates], s)
        k = rng.binomial((e - s) * G, min(1.0, per_row_sample / G))
        if k:
            samples.append(S.reshape(-1)[rng.integers(0, S.size, size=k)].astype(np.float64))
        done += e - s
        if progress:
            progress(done, total_rows)
    m_score = np.empty(n_m, dtype=np.float64)
    m_max = np.empty((n_m, n_levels), dtype=np.float32)
    for s in range(0, n_m, rows_per):
        e = min(n_m, s + rows_per)
        S = mated[s:e] @ gallery.T
        mask = template_subject[None, :] == mated_subject[s:e, None]
        m_score[s:e] = np.where(mask, S, -np.inf).max(axis=1)
        S[mask] = -np.inf
        block = np.maximum.reduceat(S, starts, axis=1)
        m_max[s:e] = np.maximum.accumulate(block, axis=1)
        done += e - s
        if progress:
            progress(done, total_rows)
    pv, pp, pt = pool.arrays() if n_nm else (np.empty(0), np.empty(0, int), np.empty(0, int))
    if vpool is not None and n_nm:
        vv, vp, vt = vpool.arrays()
    else:
        vv, vp, vt = np.empty(0), np.empty(0, int), np.empty(0, int)
    sample = np.sort(np.concatenate(samples)) if samples else np.empty(0)
    return ScaleData(
        nonmated_prefix_max=nm_max.astype(np.float64),
        mated_mate_score=m_score,
        mated_prefix_max=m_max.astype(np.float64),
        n_templates=G,
        n_total=int(n_nm) * int(G),
        count_ge_threshold_by_probe=count_ge,
        pool_vals=pv,
        pool_probe=pp,
        pool_tmpl=pt,
        val_size=int(val_templates),
        val_vals=vv,
        val_probe=vp,
        val_tmpl=vt,
        sample=sample,
    )


@dataclass(frozen=True)
class Band:
    """A point estimate with a bootstrap percentile band."""

    value: float | None
    ci: tuple[float, float] | None

    def to_json(self) -> dict:
        def f(v):
            return None if v is None or not np.isfinite(v) else float(v)

        ci = None if self.ci is None else [f(self.ci[0]), f(self.ci[1])]
        return {"value": f(self.value), "ci": ci}


@dataclass(frozen=True)
class ScaleResult:
    """Everything ``faceaudit scale`` found; ``to_json()`` is the ``scale`` key of results.json."""

    threshold: float
    target_gallery_size: int
    gallery_size: int
    n_nonmated: int
    n_mated: int
    measured: tuple[tuple[int, Rate], ...]
    extrapolated: tuple[tuple[int, Band], ...]
    fmr_at_threshold: Band
    fmr_source: str
    fit: TailFit
    fit_band: dict
    thresholds_for_targets: tuple[tuple[float, Band], ...]
    rank1_measured: tuple[tuple[int, Rate], ...]
    rank1_expected: tuple[tuple[int, Band, Band], ...]
    diagnostic: dict
    validation: dict | None
    bootstrap: dict
    synthetic: bool
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        points = [
            {"gallery_size": n, "fpir": r.to_json(), "measured": True} for n, r in self.measured
        ]
        points += [
            {"gallery_size": n, "fpir": b.to_json(), "measured": False}
            for n, b in self.extrapolated
        ]
        points.sort(key=lambda p: (p["gallery_size"], not p["measured"]))
        return {
            "threshold": self.threshold,
            "points": points,
            "target_gallery_size": self.target_gallery_size,
            "gallery_size": self.gallery_size,
            "n_nonmated": self.n_nonmated,
            "n_mated": self.n_mated,
            "model": "independence: FPIR(N) = 1 - (1 - FMR_tail(T))^N",
            "fmr_at_threshold": {**self.fmr_at_threshold.to_json(), "source": self.fmr_source},
            "tail_fit": {
                **self.fit.to_json(),
                "threshold_u": self.fit.threshold,
                "band": self.fit_band,
                "diagnostic": self.diagnostic.get("tail_curve"),
            },
            "threshold_needed": [
                {"fpir_target": t, "gallery_size": self.target_gallery_size, **b.to_json()}
                for t, b in self.thresholds_for_targets
            ],
            "rank1_accuracy": {
                "measured": [
                    {"gallery_size": n, "rate": r.to_json()} for n, r in self.rank1_measured
                ],
                "expected": [
                    {
                        "gallery_size": n,
                        "rank1_accuracy": a.to_json(),
                        "rank1_above_threshold": b.to_json(),
                    }
                    for n, a, b in self.rank1_expected
                ],
            },
            "diagnostic": self.diagnostic,
            "validation": self.validation,
            "bootstrap": dict(self.bootstrap),
            "synthetic": self.synthetic,
            "warnings": list(self.warnings),
        }


class _GroupedBootstrap:
    """Subject-bootstrap multiplicities, drawn exactly but cheaply for many units.

    Resampling ``n`` units with replacement gives multiplicities ~ Multinomial(n, 1/n each).
    Units whose individual weight is needed (``special``: those in the tail excesses, mated
    searches) stay separate categories; every other unit only matters through its row of counts,
    so units with identical rows are merged into one category (a merge of the multinomial's cells
    is again multinomial). Each replicate then costs O(special + distinct rows), not O(n).

    ``batches()`` yields ``(w_special (b, m), totals (b, n_cols))``: the multiplicity of each
    special unit, and the weighted column sums over all units.
    """

    def __init__(
        self, rows: np.ndarray, special: np.ndarray, n_boot: int, seed: int, batch: int = 50
    ) -> None:
        n = rows.shape[0]
        self.n, self.n_boot, self.seed, self.batch = n, int(n_boot), int(seed), int(batch)
        sp = np.nonzero(special)[0]
        self.special_pos = np.full(n, -1, dtype=np.int64)
        self.special_pos[sp] = np.arange(sp.size)
        rest = rows[~special]
        if rest.shape[0]:
            uniq, counts = np.unique(rest, axis=0, return_counts=True)
        else:
            uniq, counts = np.empty((0, rows.shape[1])), np.empty(0, dtype=np.int64)
        self.m = sp.size
        self.cat_rows = np.vstack([rows[sp], uniq])
        p = np.concatenate([np.full(sp.size, 1.0 / n), counts / n])
        self.p = p / p.sum()

    def batches(self):
        rng = np.random.default_rng(self.seed)
        done = 0
        while done < self.n_boot:
            b = min(self.batch, self.n_boot - done)
            w = rng.multinomial(self.n, self.p, size=b).astype(np.float64)
            yield w[:, : self.m], w @ self.cat_rows
            done += b


def _unit_table(units: np.ndarray, hits: np.ndarray, n_units: int) -> np.ndarray:
    """``(n_units, 1 + n_cols)``: searches per unit, then events per unit in each column."""
    table = np.zeros((n_units, 1 + hits.shape[1]))
    table[:, 0] = np.bincount(units, minlength=n_units)
    for j in range(hits.shape[1]):
        table[:, 1 + j] = np.bincount(units, weights=hits[:, j], minlength=n_units)
    return table


def _weighted_fit(y, w, u, n_total_w, start=None) -> TailFit | None:
    try:
        xi, sigma, _ = fit_gpd(y, w, start=start)
    except ValueError:
        return None
    return TailFit(u, xi, sigma, float(w.sum()), float(n_total_w))


def _fit_from_pool(vals: np.ndarray, k: int, n_total: int) -> tuple[TailFit, np.ndarray]:
    """Fit over the k largest of a descending pool; returns the fit and the excess mask."""
    k = min(k, vals.size - 1)
    u = float(vals[k])
    mask = vals > u
    xi, sigma, _ = fit_gpd(vals[mask] - u)
    return TailFit(u, xi, sigma, float(mask.sum()), float(n_total)), mask


def _fmr_model(fit: TailFit, sample: np.ndarray, pool: np.ndarray, n_total: int):
    """FMR(s) for arbitrary scores: the tail fit above u, the exact pool below it where the pool
    reaches, else the uniform sample's empirical survival."""
    pool_asc = np.sort(pool)

    def fmr(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        out = np.empty_like(s)
        tail = s >= fit.threshold
        out[tail] = fit.fmr(s[tail])
        rest = ~tail
        if rest.any():
            cnt = pool_asc.size - np.searchsorted(pool_asc, s[rest], side="left")
            from_pool = cnt / n_total
            in_pool = pool_asc.size and (s[rest] >= pool_asc[0])
            if sample.size:
                emp = (sample.size - np.searchsorted(sample, s[rest], side="left")) / sample.size
            else:
                emp = np.ones(rest.sum())
            out[rest] = np.where(in_pool, from_pool, np.maximum(emp, from_pool))
        return out

    return fmr


def _rank1_expected(fmr_of_mates: np.ndarray, sizes, above: np.ndarray | None, w=None):
    """Mean over mated searches of (1 - FMR(mate))^(N - 1) [times 1(mate >= T)]."""
    out = []
    for n in sizes:
        p = np.exp((n - 1) * np.log1p(-np.clip(fmr_of_mates, 0, 1 - 1e-16)))
        if above is not None:
            p = p * above
        out.append(np.average(p, weights=w) if p.size else np.nan)
    return np.array(out)


def scale(
    gallery: EmbeddingSet | Enrolment,
    probes: EmbeddingSet,
    *,
    threshold: float,
    target_gallery_size: int = DEFAULT_TARGET_GALLERY_SIZE,
    enrol="first",
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    tail_count: int | None = None,
    validation_fit_size: int = 10_000,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    block_elements: int = 1 << 24,
    progress: Progress | None = None,
    synthetic: bool | None = None,
) -> ScaleResult:
    """Measure FPIR(N, T) on nested galleries and extrapolate it to ``target_gallery_size``.

    Parameters
    ----------
    gallery : EmbeddingSet or Enrolment
        The distractor gallery (and the mates of mated probes); ``enrol`` picks templates.
    probes : EmbeddingSet
        Probes whose subject is not enrolled are non-mated searches (they drive FPIR and the tail
        fit); the others are mated searches (rank-1 accuracy).
    threshold : float
        T, in cosine-score units.
    target_gallery_size : int
        N to extrapolate to (default 2.7e8).
    fpir_targets : sequence of float
        FPIR targets whose threshold at ``target_gallery_size`` is reported.
    tail_count : int, optional
        Excesses in the GPD fit (default :func:`faceaudit.stats.tail.default_tail_count`).
    validation_fit_size : int
        Distractors of the validation fit (run when the gallery has >= 10x as many subjects).
    bootstrap : int
        Replicates of the two-way (probe subject x gallery subject) bootstrap band.
    confidence : float
    seed : int
        Seeds the nested order of the gallery and the bootstrap.
    block_elements : int
        Scores computed per chunk (memory ~ 4 bytes x this).
    progress : callable(done, total), optional
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if target_gallery_size < 1:
        raise ValueError("target_gallery_size must be >= 1")
    if not isinstance(gallery, Enrolment):
        if synthetic is None:
            synthetic = gallery.synthetic or probes.synthetic
        gallery = enrol_gallery(gallery, enrol)
    synthetic = bool(synthetic)
    from faceaudit.errors import InputError

    if gallery.embeddings.shape[1] != probes.dim:
        raise InputError(
            f"the probe embeddings have {probes.dim} dimensions but the gallery's have "
            f"{gallery.embeddings.shape[1]}; both must come from the same model.",
            path=probes.path,
        )
    warnings: list[str] = []
    rng = np.random.default_rng(seed)
    n_subj = gallery.gallery_size
    # nested order: a random order of subjects; templates grouped by subject in that order
    subj_rank = np.empty(n_subj, dtype=np.int64)
    subj_rank[rng.permutation(n_subj)] = np.arange(n_subj)
    order = np.argsort(subj_rank[gallery.template_subject], kind="stable")
    g_emb = np.ascontiguousarray(gallery.embeddings[order])
    g_subj = gallery.template_subject[order]
    tmpl_per_rank = np.bincount(subj_rank[g_subj], minlength=n_subj)
    cum_tmpl = np.cumsum(tmpl_per_rank)
    sizes = np.array(nested_sizes(n_subj), dtype=np.int64)
    bounds = cum_tmpl[sizes - 1]

    psub = probes.subjects.astype(str)
    code = np.searchsorted(gallery.subjects, psub)
    code_c = np.clip(code, 0, n_subj - 1)
    is_mated = gallery.subjects[code_c] == psub
    nm_idx, m_idx = np.nonzero(~is_mated)[0], np.nonzero(is_mated)[0]
    n_nm, n_m = nm_idx.size, m_idx.size
    if n_nm == 0:
        raise InputError(
            "no probe is a non-mated search (every probe's subject is enrolled); FPIR needs "
            "probes of people who are not in the gallery.",
            path=probes.path,
        )
    G = g_emb.shape[0]
    n_total = n_nm * G
    k = int(tail_count) if tail_count else default_tail_count(n_total)
    if k < 50:
        raise InputError(
            f"only {n_total} impostor comparisons: too few for a tail fit (need >= 1000)."
        )
    k = min(k, n_total // 2)
    pool_size = int(min(n_total - 1, max(STABILITY_FACTORS) * k + 1))
    val_templates = 0
    if validation_fit_size and n_subj >= 10 * validation_fit_size:
        val_templates = int(cum_tmpl[validation_fit_size - 1])
    val_total = n_nm * val_templates
    k_val = default_tail_count(val_total) if val_templates else 0
    data = collect(
        g_emb,
        bounds,
        g_subj,
        np.ascontiguousarray(probes.embeddings[nm_idx]),
        np.ascontiguousarray(probes.embeddings[m_idx]),
        code_c[m_idx],
        threshold=threshold,
        pool_size=pool_size,
        val_templates=val_templates,
        val_pool_size=k_val + 1,
        block_elements=block_elements,
        progress=progress,
        seed=seed,
    )
    del g_emb

    # units: probe subjects (mated and non-mated share the unit space), gallery subjects
    punits, pcode = np.unique(psub, return_inverse=True)
    nm_unit, m_unit = pcode[nm_idx], pcode[m_idx]
    n_pu = punits.size

    # --- measured FPIR on nested galleries, rank-1 accuracy measured ------------------------
    # exact counts per bootstrap unit: column 0 = searches, column 1 + j = events at size j
    t = float(threshold)
    nm_hit = data.nonmated_prefix_max >= t
    nm_table = _unit_table(nm_unit, nm_hit, n_pu)
    m_hit = data.mated_mate_score[:, None] > data.mated_prefix_max  # mate above all distractors
    m_table = _unit_table(m_unit, m_hit, n_pu)
    meas_reps: list[np.ndarray] = []
    r1m_reps: list[np.ndarray] = []

    # --- tail fit -------------------------------------------------------------------------
    fit, exc_mask = _fit_from_pool(data.pool_vals, k, n_total)
    if fit.shape >= 0.5:
        warnings.append(
            f"The fitted tail is heavy (shape {fit.shape:.2f} >= 0.5): extrapolation far beyond "
            "the data is unreliable; check the tail-fit diagnostic."
        )
    fmr_source = "gpd" if t >= fit.threshold else "empirical"
    if fmr_source == "gpd":
        fmr_t = float(fit.fmr(t))
    else:
        fmr_t = float(data.count_ge_threshold_by_probe.sum() / n_total)
        warnings.append(
            f"The threshold {t:g} is below the tail threshold {fit.threshold:g}: FMR(T) is the "
            "empirical rate, not the fitted tail."
        )
    ext_sizes = extrapolation_sizes(int(sizes[-1]), int(target_gallery_size))
    ext_sizes = sorted(set(ext_sizes) | {int(s) for s in sizes})
    fpir_ext = fpir_from_fmr(fmr_t, np.array(ext_sizes))
    fmr_needed = fmr_for_fpir(np.array(fpir_targets, dtype=float), target_gallery_size)
    fmr_fn = _fmr_model(fit, data.sample, data.pool_vals, n_total)

    def threshold_for(fit_: TailFit, p: np.ndarray) -> np.ndarray:
        thr = fit_.threshold_for_fmr(p)
        # above the fitted tail's reach: the exact pool (k-th largest of n_total)
        kk = np.floor(p * n_total).astype(np.int64)
        from_pool = np.where(
            kk < data.pool_vals.size,
            data.pool_vals[np.clip(kk, 0, data.pool_vals.size - 1)],
            np.nan,
        )
        return np.where(np.isnan(thr), np.nextafter(from_pool, np.inf), thr)

    thr_targets = threshold_for(fit, fmr_needed)
    mate_fmr = fmr_fn(data.mated_mate_score) if n_m else np.empty(0)
    above = (data.mated_mate_score >= t).astype(float) if n_m else None
    r1_sizes = sorted(
        {int(sizes[-1]), int(target_gallery_size)}
        | {10**e for e in range(2, 10) if 10**e <= target_gallery_size}
    )
    r1_all = _rank1_expected(mate_fmr, r1_sizes, None) if n_m else np.full(len(r1_sizes), np.nan)
    r1_thr = _rank1_expected(mate_fmr, r1_sizes, above) if n_m else np.full(len(r1_sizes), np.nan)

    tail_grid = _tail_grid(data.pool_vals, fit.threshold)
    # --- bootstrap band ----------------------------------------------------------------------
    reps = {k_: [] for k_ in ("fmr", "fpir", "thr", "xi", "sigma", "r1", "r1t", "tail")}
    gunits = subj_rank[g_subj]  # gallery unit of each template = its subject's nested rank
    n_gu = n_subj
    exc_y = data.pool_vals[exc_mask] - fit.threshold
    exc_pu = nm_unit[data.pool_probe[exc_mask]]
    exc_gu = gunits[data.pool_tmpl[exc_mask]]
    # probe-unit rows: [non-mated searches, hits per size, comparisons >= T, mated searches,
    # rank-1 hits per size]
    unit_ge = np.bincount(nm_unit, weights=data.count_ge_threshold_by_probe, minlength=n_pu)
    p_rows = np.column_stack([nm_table, unit_ge, m_table])
    n_cols = nm_table.shape[1]
    p_special = np.zeros(n_pu, dtype=bool)
    p_special[exc_pu] = True
    p_special[m_unit] = True  # each mated search's own mate score enters the rank-1 model
    g_rows = np.bincount(gunits, minlength=n_gu).astype(float)[:, None]
    g_special = np.zeros(n_gu, dtype=bool)
    g_special[exc_gu] = True
    if bootstrap:
        pboot = _GroupedBootstrap(p_rows, p_special, bootstrap, seed)
        gboot = _GroupedBootstrap(g_rows, g_special, bootstrap, seed + 1)
        exc_pi, exc_gi = pboot.special_pos[exc_pu], gboot.special_pos[exc_gu]
        m_pi = pboot.special_pos[m_unit]
        for (wp_b, tp_b), (wg_b, tg_b) in zip(pboot.batches(), gboot.batches(), strict=True):
            with np.errstate(invalid="ignore", divide="ignore"):
                meas_reps.append(tp_b[:, 1:n_cols] / tp_b[:, :1])
                if n_m:
                    r1m_reps.append(tp_b[:, n_cols + 2 :] / tp_b[:, n_cols + 1 : n_cols + 2])
            for wp, tp, wg, tg in zip(wp_b, tp_b, wg_b, tg_b, strict=True):
                n_w = float(tp[0]) * float(tg[0])  # weighted comparisons
                if n_w == 0:
                    continue
                w = wp[exc_pi] * wg[exc_gi]
                f = _weighted_fit(exc_y, w, fit.threshold, n_w, (fit.shape, fit.scale))
                if f is None:
                    continue
                if fmr_source == "gpd":
                    fm = float(f.fmr(t))
                else:
                    fm = float(tp[n_cols]) / (float(tp[0]) * G)
                reps["fmr"].append(fm)
                reps["fpir"].append(fpir_from_fmr(fm, np.array(ext_sizes)))
                thr_b = f.threshold_for_fmr(fmr_needed)
                reps["thr"].append(np.where(np.isnan(thr_b), thr_targets, thr_b))
                reps["tail"].append(f.fmr(tail_grid))
                reps["xi"].append(f.shape)
                reps["sigma"].append(f.scale)
                if n_m:
                    mf = _fmr_model(f, data.sample, data.pool_vals, n_total)(data.mated_mate_score)
                    wm = wp[m_pi]
                    if wm.sum() > 0:
                        reps["r1"].append(_rank1_expected(mf, r1_sizes, None, wm))
                        reps["r1t"].append(_rank1_expected(mf, r1_sizes, above, wm))

    def rates(table, reps_list, n):
        cis = None
        if reps_list:
            with warnings_.catch_warnings():
                warnings_.simplefilter("ignore", RuntimeWarning)  # all-NaN: no searches drawn
                cis = percentile_interval(np.concatenate(reps_list), confidence).T
        out = []
        for j, size in enumerate(sizes):
            ci = None if cis is None else (float(cis[j][0]), float(cis[j][1]))
            out.append(
                (int(size), make_rate(int(table[:, 1 + j].sum()), n, ci, confidence=confidence))
            )
        return out

    measured = rates(nm_table, meas_reps, n_nm)
    rank1_measured = rates(m_table, r1m_reps, n_m) if n_m else []

    def band(key, j=None):
        if not reps[key]:
            return None
        arr = np.array(reps[key], dtype=float)
        if j is not None:
            arr = arr[:, j]
        if np.isnan(arr).all():
            return None
        lo, hi = percentile_interval(arr, confidence)
        return (float(lo), float(hi))

    extrapolated = tuple(
        (n, Band(float(fpir_ext[j]), band("fpir", j))) for j, n in enumerate(ext_sizes)
    )
    thresholds_for_targets = tuple(
        (float(tg), Band(float(thr_targets[j]), band("thr", j)))
        for j, tg in enumerate(fpir_targets)
    )
    rank1_expected = tuple(
        (n, Band(float(r1_all[j]), band("r1", j)), Band(float(r1_thr[j]), band("r1t", j)))
        for j, n in enumerate(r1_sizes)
    )
    fit_band = {"shape": band("xi"), "scale": band("sigma")}

    # --- diagnostic -------------------------------------------------------------------------
    diagnostic = _diagnostic(data, fit, k, n_total, t, target_gallery_size, tail_grid)
    if reps["tail"]:
        lohi = percentile_interval(np.array(reps["tail"]), confidence)
        diagnostic["tail_curve"]["lo"] = _floats(lohi[0])
        diagnostic["tail_curve"]["hi"] = _floats(lohi[1])

    # --- validation -------------------------------------------------------------------------
    validation = None
    if val_templates:
        validation = _validate(
            data,
            sizes,
            measured,
            nm_unit,
            gunits,
            n_pu,
            val_templates,
            validation_fit_size,
            t,
            bootstrap,
            confidence,
            seed,
        )
    else:
        warnings.append(
            f"No validation of the extrapolation: it needs a gallery of at least "
            f"{10 * validation_fit_size:,} subjects (this one has {n_subj:,})."
        )
    if synthetic:
        warnings.append("Synthetic embeddings: these figures describe a simulation, not a system.")
    return ScaleResult(
        threshold=t,
        target_gallery_size=int(target_gallery_size),
        gallery_size=int(n_subj),
        n_nonmated=int(n_nm),
        n_mated=int(n_m),
        measured=tuple(measured),
        extrapolated=extrapolated,
        fmr_at_threshold=Band(fmr_t, band("fmr")),
        fmr_source=fmr_source,
        fit=fit,
        fit_band=fit_band,
        thresholds_for_targets=thresholds_for_targets,
        rank1_measured=tuple(rank1_measured),
        rank1_expected=rank1_expected,
        diagnostic=diagnostic,
        validation=validation,
        bootstrap={
            "replicates": int(bootstrap),
            "confidence": float(confidence),
            "unit": "probe subject x gallery subject (two-way)",
            "n_probe_units": int(n_pu),
            "n_gallery_units": int(n_gu),
            "seed": int(seed),
        },
        synthetic=synthetic,
        warnings=tuple(warnings),
    )


def _floats(a) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64)]


def _tail_grid(vals: np.ndarray, u: float, n_points: int = 200) -> np.ndarray:
    """Scores at which the tail diagnostic compares empirical and fitted FMR: ``n_points``
    quantiles of the pool's values at or above the tail threshold ``u``."""
    tail = vals[vals >= u]
    if not tail.size:
        return np.empty(0)
    return np.unique(np.quantile(tail, np.linspace(0, 1, n_points)))


def _diagnostic(
    data: ScaleData, fit: TailFit, k: int, n_total: int, t: float, target: int, grid: np.ndarray
):
    vals = data.pool_vals
    qm, qe = qq_points(fit, vals[: int(fit.n_exceedances) + 1])
    mu, me, mn = mean_excess(vals)
    stability = []
    for f in STABILITY_FACTORS:
        kk = int(round(f * k))
        if kk < 20 or kk >= vals.size:
            continue
        try:
            ft, _ = _fit_from_pool(vals, kk, n_total)
        except ValueError:
            continue
        fm = float(ft.fmr(t)) if t >= ft.threshold else None
        stability.append(
            {
                "n_exceedances": kk,
                "tail_threshold": ft.threshold,
                "shape": ft.shape,
                "scale": ft.scale,
                "fmr_at_threshold": fm,
                "fpir_at_target_size": None if fm is None else float(fpir_from_fmr(fm, target)),
            }
        )
    # empirical vs fitted survival over the pool's range
    asc = np.sort(vals)
    emp = (asc.size - np.searchsorted(asc, grid, side="left")) / n_total
    fitted = fit.fmr(grid)
    return {
        "qq": {"fitted": _floats(qm), "empirical": _floats(qe)},
        "mean_excess": {
            "threshold": _floats(mu),
            "mean_excess": _floats(me),
            "n_above": _floats(mn),
        },
        "stability": stability,
        "tail_curve": {
            "score": _floats(grid),
            "empirical": _floats(emp),
            "fitted": _floats(fitted),
        },
    }


def _validate(
    data,
    sizes,
    measured,
    nm_unit,
    gunits,
    n_pu,
    val_templates,
    val_subjects,
    t,
    bootstrap,
    confidence,
    seed,
):
    """Fit on the first ``val_subjects`` distractors only; compare with the measured FPIR."""
    n_nm = data.nonmated_prefix_max.shape[0]
    n_total_v = n_nm * val_templates
    kv = min(default_tail_count(n_total_v), data.val_vals.size - 1)
    fit_v, mask_v = _fit_from_pool(data.val_vals, kv, n_total_v)
    if t >= fit_v.threshold:
        fm = float(fit_v.fmr(t))
    else:
        return {
            "fit_gallery_size": int(val_subjects),
            "skipped": "the threshold is below the validation fit's tail threshold",
        }
    check_sizes = [int(n) for n in sizes if n > val_subjects]
    pred = fpir_from_fmr(fm, np.array(check_sizes, dtype=float))
    reps = []
    if bootstrap:
        y = data.val_vals[mask_v] - fit_v.threshold
        pu = nm_unit[data.val_probe[mask_v]]
        gu = gunits[data.val_tmpl[mask_v]]  # < val_subjects: the fit's distractors come first
        p_rows = np.bincount(nm_unit, minlength=n_pu).astype(float)[:, None]
        g_rows = np.bincount(gunits[:val_templates], minlength=val_subjects).astype(float)[:, None]
        p_special = np.zeros(n_pu, dtype=bool)
        p_special[pu] = True
        g_special = np.zeros(int(val_subjects), dtype=bool)
        g_special[gu] = True
        pboot = _GroupedBootstrap(p_rows, p_special, bootstrap, seed + 11)
        gboot = _GroupedBootstrap(g_rows, g_special, bootstrap, seed + 12)
        pi, gi = pboot.special_pos[pu], gboot.special_pos[gu]
        for (wp_b, tp_b), (wg_b, tg_b) in zip(pboot.batches(), gboot.batches(), strict=True):
            for wp, tp, wg, tg in zip(wp_b, tp_b, wg_b, tg_b, strict=True):
                n_w = float(tp[0]) * float(tg[0])
                if n_w == 0:
                    continue
                f = _weighted_fit(
                    y, wp[pi] * wg[gi], fit_v.threshold, n_w, (fit_v.shape, fit_v.scale)
                )
                if f is not None:
                    reps.append(fpir_from_fmr(float(f.fmr(t)), np.array(check_sizes, float)))
    bands = percentile_interval(np.array(reps), confidence).T if reps else None
    meas = dict(measured)
    points = []
    for j, n in enumerate(check_sizes):
        b = None if bands is None else (float(bands[j][0]), float(bands[j][1]))
        m = meas[n]
        points.append(
            {
                "gallery_size": n,
                "measured": m.to_json(),
                "extrapolated": Band(float(pred[j]), b).to_json(),
                "inside": None if b is None else bool(b[0] <= m.value <= b[1]),
            }
        )
    last = points[-1] if points else None
    return {
        "fit_gallery_size": int(val_subjects),
        "tail_fit": fit_v.to_json(),
        "points": points,
        "check": last,
    }
