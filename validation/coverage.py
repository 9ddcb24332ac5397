"""Coverage of every interval faceaudit prints, against a known population truth.

For a configuration (a generator from :mod:`validation.generators`, a design, thresholds), each
repetition draws a fresh data set from the population, runs the tool on it
(:mod:`validation.adapter`), and records each printed figure's estimate and interval. Over the
repetitions, for each figure:

* ``coverage``: share of repetitions whose interval contains the population truth
  (``low <= truth <= high``; a one-sided rule-of-3 bound ``[0, 3/n]`` counts like any interval),
  with its Monte-Carlo standard error ``sqrt(p (1 - p) / reps)``;
* ``miss_low`` / ``miss_high``: the interval lies entirely below / above the truth;
* ``mean_width`` of the interval, ``bias`` (mean estimate - truth) and ``rel_bias``;
* ``zero_width``: share of intervals of zero width (e.g. ``[1, 1]`` for 10 errors in 10);
* ``bound``: share of figures reported as a rule-of-3 bound (zero errors).

Targets: every 95% interval covers 92-98%.

Usage::

    uv run python -m validation.coverage --list
    uv run python -m validation.coverage --config verify_crossed --reps 200 \
        --out validation/results/verify_crossed.json

A run is resumable: the output file is rewritten (atomically) every few repetitions with every
repetition done so far; rerunning the same command continues where it stopped (the seed of
repetition ``r`` is fixed by the configuration and ``r``). ``--reps`` more than already done
extends the study. The population truth of a configuration is computed once and kept in the file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from validation import adapter
from validation.generators import (
    CrossedScoreModel,
    GroupSpec,
    SearchDesign,
    embedding_preset,
    monte_carlo_searches,
)

TARGET_LOW, TARGET_HIGH = 0.92, 0.98


# ---------------------------------------------------------------------------------------------
# Configurations


@dataclass
class Config:
    """One coverage study: ``setup()`` -> truth and call parameters (cached in the results file);
    ``rep(r, setup, boot)`` -> ``(intervals, per-rep truth overrides)``."""

    name: str
    description: str
    setup: Callable[[], dict]
    rep: Callable[[int, dict, int], tuple[dict[str, adapter.Interval], dict[str, float]]]
    default_boot: int = 1000
    extra_summary: Callable[[list[dict], dict], dict] | None = None
    notes: list[str] = field(default_factory=list)


def _seed(name: str, r: int) -> list[int]:
    return [zlib.crc32(name.encode()), r]


CONFIGS: dict[str, Config] = {}


def _register(c: Config) -> Config:
    CONFIGS[c.name] = c
    return c


# --- 1:1 -------------------------------------------------------------------------------------

INDEPENDENT = CrossedScoreModel(
    sd_wolf=0.0,
    sd_lamb=0.0,
    wolf_share=0.0,
    sd_pair=0.0,
    lookalike_share=0.0,
    sd_probe_sample=0.0,
    sd_nonmated_noise=1.0,
    sd_mated_subject=0.0,
    goat_share=0.0,
    sd_mated_sample=0.0,
    sd_mated_noise=0.85,
    mated_mean=4.2,
)
CROSSED = CrossedScoreModel()


def _verify_config(
    name: str,
    model: CrossedScoreModel,
    description: str,
    fmrs=(1e-3, 1e-2),
    fnmrs=(),
):
    """Thresholds at the population FMRs ``fmrs`` (and at the population FNMRs ``fnmrs``)."""
    targets = (1e-3, 1e-2)

    def setup() -> dict:
        ts = [model.threshold_for_fmr(a) for a in fmrs]
        ts += [model.mated_law().quantile(b) for b in fnmrs]
        truth = {}
        for k, t in enumerate(ts):
            truth[f"fmr@T{k}"] = model.fmr(t)
            truth[f"fnmr@T{k}"] = model.fnmr(t)
        for a in targets:
            truth[f"fnmr@fmr={a:g}"] = model.fnmr_at_fmr(a)
        truth["eer"] = model.eer()[0]
        return {
            "thresholds": ts,
            "true_fmr_at_thresholds": [model.fmr(t) for t in ts],
            "true_fnmr_at_thresholds": [model.fnmr(t) for t in ts],
            "fmr_targets": list(targets),
            "truth": truth,
            "truth_method": "analytic (finite normal mixture, root finding to 1e-12)",
            "model": _model_json(model),
            "n_mated": model.n_mated,
            "n_nonmated": model.n_nonmated,
        }

    def rep(r: int, st: dict, boot: int):
        s = model.sample(np.random.default_rng(_seed(name, r)))
        out = adapter.run_verify(
            s, thresholds=st["thresholds"], fmr_targets=st["fmr_targets"], bootstrap=boot, seed=r
        )
        cond = {}
        for a in st["fmr_targets"]:
            iv = out.get(f"fmr@fmr={a:g}")
            if iv is not None and iv.threshold is not None:
                # FMR at the data-chosen threshold: its truth is the population FMR there
                cond[f"fmr@fmr={a:g}"] = model.fmr(iv.threshold)
        return out, cond

    return _register(Config(name, description, setup, rep))


_verify_config(
    "verify_independent",
    INDEPENDENT,
    "Control: 300 subjects x 2 probes, NO subject, sample or pair effects (independent "
    "comparisons). Any bootstrap by subject should cover here; checks the harness.",
)
_verify_config(
    "verify_crossed",
    CROSSED,
    "300 subjects x 2 probes (600 mated, 179,400 non-mated); crossed wolf (probe) and lamb "
    "(reference) effects, 2% strong wolf-lambs (+1.5 on both sides), rare look-alike pairs "
    "(0.05% of pairs, +3.5), goats, probe-sample effects.",
)
_verify_config(
    "verify_crossed_small",
    CROSSED.with_(n_subjects=100),
    "As verify_crossed with 100 subjects (200 mated, 19,800 non-mated): few events "
    "(~20 false matches at FMR 1e-3).",
)


def _zero_config():
    name = "verify_zero_errors"
    model = CROSSED

    def setup() -> dict:
        n = model.n_nonmated
        t = model.threshold_for_fmr(4.0 / n)
        return {
            "thresholds": [t],
            "fmr_targets": [],
            "truth": {"fmr@T0": model.fmr(t), "fnmr@T0": model.fnmr(t)},
            "truth_method": "analytic (finite normal mixture)",
            "true_fmr": 4.0 / n,
            "n_nonmated": n,
            "independent_zero_probability": (1 - 4.0 / n) ** n,
            "model": _model_json(model),
        }

    def rep(r: int, st: dict, boot: int):
        s = model.sample(np.random.default_rng(_seed(name, r)))
        out = adapter.run_verify(
            s, thresholds=st["thresholds"], fmr_targets=[], bootstrap=boot, seed=r
        )
        return {k: v for k, v in out.items() if k.endswith("T0")}, {}

    def extra(records: list[dict], st: dict) -> dict:
        counts = np.array([rec["intervals"]["fmr@T0"]["count"] for rec in records])
        p = float(np.mean(counts == 0))
        return {
            "zero_error_frequency": p,
            "zero_error_mc_se": math.sqrt(p * (1 - p) / counts.size),
            "zero_error_if_independent": st["independent_zero_probability"],
            "zero_error_allowed": 0.05,
            "mean_count": float(counts.mean()),
            "expected_count": 4.0,
            "count_variance_over_poisson": float(counts.var() / max(counts.mean(), 1e-12)),
            "pass": p <= 0.05,
        }

    return _register(
        Config(
            name,
            "Zero-error check: threshold at a true FMR of 4/n (n = 179,400 non-mated comparisons), "
            "300 subjects x 2 probes, the verify_crossed population. With zero errors "
            "the tool prints the rule-of-3 bound 3/n < 4/n, which misses; a valid 95% bound must "
            "see zero errors at most 5% of the time.",
            setup,
            rep,
            default_boot=200,
            extra_summary=extra,
        )
    )


_zero_config()

_verify_config(
    "verify_saturated",
    CROSSED.with_(n_subjects=10, probes_per_subject=1),
    "Edge case: 10 subjects x 1 probe (10 mated, 90 non-mated); T0 at population FMR 0.1, "
    "T1 where the population FNMR is 0.8, so FNMR 10/10 happens (0.8^10 = 11% if independent): "
    "is [1, 1] printed as its interval?",
    fmrs=(1e-1,),
    fnmrs=(0.8,),
)


def _differentials_config():
    name = "differentials"
    model = CROSSED.with_(
        n_subjects=400,
        groups=(
            GroupSpec("A", 0.6, within_shift=0.0, mated_shift=0.0),
            GroupSpec("B", 0.4, within_shift=0.5, mated_shift=-0.6),
        ),
        cross_group_shift=-0.4,
    )

    def setup() -> dict:
        t = model.threshold_for_fmr(1e-3)
        truth = {}
        for g, spec in enumerate(model.groups):
            truth[f"fmr[{spec.name}]"] = model.fmr(t, g)
            truth[f"fnmr[{spec.name}]"] = model.fnmr(t, g)
        return {
            "threshold": t,
            "threshold_rule": "given: the population threshold of overall FMR 1e-3",
            "truth": truth,
            "truth_note": "a ratio's truth is the true rate of its group over the true rate of "
            "the tool's reference group in that repetition (per-rep truth)",
            "truth_method": "analytic (finite normal mixture per group)",
            "model": _model_json(model),
        }

    def rep(r: int, st: dict, boot: int):
        s = model.sample(np.random.default_rng(_seed(name, r)))
        out, refs = adapter.run_differentials(s, threshold=st["threshold"], bootstrap=boot, seed=r)
        return out, _ratio_truths(out, refs, st["truth"])

    return _register(
        Config(
            name,
            "1:1 demographic differentials at a given threshold: 400 subjects in groups A "
            "(60%) and B (40%); B's within-group non-mated scores +0.5, mated -0.6; cross-group "
            "non-mated comparisons -0.4. Crossed subject effects as verify_crossed.",
            setup,
            rep,
        )
    )


_differentials_config()


# --- 1:N -------------------------------------------------------------------------------------


def _identify_config(
    name: str,
    design: SearchDesign,
    description: str,
    levels=(0.1, 0.01),
    targets=(0.1,),
    mc_galleries: int = 400,
):
    def setup() -> dict:
        half = mc_galleries // 2
        a = monte_carlo_searches(design, zlib.crc32(name.encode()) + 1, half)
        b = monte_carlo_searches(design, zlib.crc32(name.encode()) + 2, half)
        ts = [float(np.quantile(a["nonmated_top"], 1 - lv)) for lv in levels]
        tstar = [float(np.quantile(a["nonmated_top"], 1 - tg)) for tg in targets]
        truth, se = {}, {}
        for k, t in enumerate(ts):
            truth[f"fpir@T{k}"], se[f"fpir@T{k}"] = _mc_rate(
                b["nonmated_top"] >= t, b["nonmated_gallery"]
            )
            truth[f"fnir@T{k}"], se[f"fnir@T{k}"] = _mc_rate(
                b["mate_effective"] < t, b["mated_gallery"]
            )
        for tg, t in zip(targets, tstar, strict=True):
            truth[f"fnir@fpir={tg:g}"], se[f"fnir@fpir={tg:g}"] = _mc_rate(
                b["mate_effective"] < t, b["mated_gallery"]
            )
        return {
            "thresholds": ts,
            "nominal_fpir_at_thresholds": list(levels),
            "fpir_targets": list(targets),
            "population_threshold_for_targets": tstar,
            "truth": truth,
            "truth_mc_se": se,
            "truth_method": (
                f"Monte-Carlo: {half} independent galleries (x {design.n_nonmated} non-mated and "
                f"{design.n_mated} mated subjects x {design.probes_per_subject} probes) chose the "
                f"thresholds; {half} others, independent, give the truth; s.e. by gallery cluster"
            ),
            "design": _design_json(design),
            "_mc_nonmated_top": None,
        }

    cache: dict = {}

    def rep(r: int, st: dict, boot: int):
        s = design.sample(np.random.default_rng(_seed(name, r)))
        out = adapter.run_identify(
            s, thresholds=st["thresholds"], fpir_targets=st["fpir_targets"], bootstrap=boot, seed=r
        )
        cond = {}
        if "pool" not in cache:  # population FPIR(t) at a data-chosen t, from a fresh MC pool
            p = monte_carlo_searches(design, zlib.crc32(name.encode()) + 3, 100)
            cache["pool"] = np.sort(p["nonmated_top"])
        pool = cache["pool"]
        for tg in st["fpir_targets"]:
            iv = out.get(f"fpir@fpir={tg:g}")
            if iv is not None and iv.threshold is not None:
                cond[f"fpir@fpir={tg:g}"] = _share_ge(pool, iv.threshold)
        # the same intervals against the truth for THIS gallery (probes random, gallery fixed)
        g = design.gallery_conditional(s, np.random.default_rng(_seed(name + "|g", r)))
        for k, t in enumerate(st["thresholds"]):
            for kind, arr, ge in (
                ("fpir", g["nonmated_top"], True),
                ("fnir", g["mate_effective"], False),
            ):
                key = f"{kind}@T{k}"
                if key in out:
                    out[f"{key}|gallery"] = out[key]
                    share = _share_ge(arr, t)
                    cond[f"{key}|gallery"] = share if ge else 1.0 - share
        return out, cond

    return _register(Config(name, description, setup, rep))


IDENT_POP = embedding_preset("lambs", 128).with_(noise=1.0, quality_spread=0.4)
_identify_config(
    "identify_lambs",
    SearchDesign(IDENT_POP, gallery_size=1000, n_mated=500, n_nonmated=1000, probes_per_subject=2),
    "1:N, d=128, lamb/hub population (10% lambs); gallery 1000; 500 mated and 1000 non-mated "
    "subjects x 2 probes (1000 mated, 2000 non-mated searches); thresholds at population FPIR "
    "0.1 and 0.01; FPIR target 0.1.",
)
_identify_config(
    "identify_clusters",
    SearchDesign(
        embedding_preset("clusters", 128).with_(noise=1.0, quality_spread=0.4),
        gallery_size=1000,
        n_mated=500,
        n_nonmated=1000,
        probes_per_subject=2,
    ),
    "1:N, d=128, four demographic clusters (55/25/12/8%, +1.2 s.d. within); same design as "
    "identify_lambs.",
)
_identify_config(
    "identify_small",
    SearchDesign(IDENT_POP, gallery_size=1000, n_mated=100, n_nonmated=350, probes_per_subject=2),
    "1:N with few events: as identify_lambs with 350 non-mated subjects x 2 probes (700 "
    "searches: ~7 false positives at FPIR 0.01) and 100 mated subjects x 2 probes.",
)


def _identify_differentials_config():
    name = "identify_differentials"
    design = SearchDesign(
        embedding_preset("clusters", 128).with_(noise=1.0, quality_spread=0.4),
        gallery_size=1000,
        n_mated=500,
        n_nonmated=1500,
        probes_per_subject=2,
    )
    mc_galleries = 400

    def setup() -> dict:
        half = mc_galleries // 2
        a = monte_carlo_searches(design, zlib.crc32(name.encode()) + 1, half)
        b = monte_carlo_searches(design, zlib.crc32(name.encode()) + 2, half)
        t = float(np.quantile(a["nonmated_top"], 1 - 0.1))
        truth, se = {}, {}
        for g in sorted(set(b["nonmated_group"].tolist())):
            m = b["nonmated_group"] == g
            truth[f"fpir[{g}]"], se[f"fpir[{g}]"] = _mc_rate(
                b["nonmated_top"][m] >= t, b["nonmated_gallery"][m]
            )
            m = b["mated_group"] == g
            truth[f"fnir[{g}]"], se[f"fnir[{g}]"] = _mc_rate(
                b["mate_effective"][m] < t, b["mated_gallery"][m]
            )
        return {
            "threshold": t,
            "threshold_rule": "given: the population threshold of overall FPIR 0.1",
            "truth": truth,
            "truth_mc_se": se,
            "truth_note": "a ratio's truth is the true rate of its group over the true rate of "
            "the tool's reference group in that repetition (per-rep truth)",
            "truth_method": f"Monte-Carlo, {half} + {half} independent galleries (as identify_*)",
            "design": _design_json(design),
        }

    def rep(r: int, st: dict, boot: int):
        s = design.sample(np.random.default_rng(_seed(name, r)))
        out, refs = adapter.run_identification_differentials(
            s, threshold=st["threshold"], bootstrap=boot, seed=r
        )
        cond = _ratio_truths(out, refs, st["truth"])
        # per-group FPIR against the truth for THIS gallery (its composition fixed)
        g = design.gallery_conditional(
            s, np.random.default_rng(_seed(name + "|g", r)), n_nonmated=40_000
        )
        for grp in sorted(set(g["nonmated_group"].tolist())):
            key = f"fpir[{grp}]"
            if key in out:
                top = g["nonmated_top"][g["nonmated_group"] == grp]
                out[f"{key}|gallery"] = out[key]
                cond[f"{key}|gallery"] = _share_ge(top, st["threshold"])
        return out, cond

    return _register(
        Config(
            name,
            "1:N demographic differentials at a given threshold (population FPIR 0.1): the "
            "clusters population at d=128, groups = the probe's cluster (55/25/12/8%); gallery "
            "1000; 500 mated and 1500 non-mated subjects x 2 probes.",
            setup,
            rep,
        )
    )


_identify_differentials_config()


# ---------------------------------------------------------------------------------------------
# Helpers


def _ratio_truths(out: dict, refs: dict[str, str], truth: dict[str, float]) -> dict[str, float]:
    """Per-rep truth of each ratio ``kind_ratio[g]``: true rate of g / true rate of the reference
    group the tool chose in this repetition; of each summary ``kind_max_over_min`` /
    ``_max_over_geomean``: over the true rates of the groups the tool compared."""
    cond = {}
    for key in out:
        if "_ratio[" not in key:
            continue
        kind, g = key.split("_ratio[")
        g = g[:-1]
        ref = refs.get(kind)
        den = truth.get(f"{kind}[{ref}]")
        num = truth.get(f"{kind}[{g}]")
        if ref is not None and den and num is not None:
            cond[key] = num / den
    for key in out:  # max / min and max / geometric mean over the groups the tool compared
        kind, _, stat = key.partition("_max_over_")
        if not stat:
            continue
        groups = [g for g in refs.get(f"{kind}_groups_compared", "").split(",") if g]
        true = np.array([truth.get(f"{kind}[{g}]", np.nan) for g in groups], dtype=float)
        if true.size >= 2 and np.all(true > 0):
            den = true.min() if stat == "min" else float(np.exp(np.log(true).mean()))
            cond[key] = float(true.max() / den)
    return cond


def _share_ge(sorted_values: np.ndarray, t: float) -> float:
    """Share of ``sorted_values`` (ascending) that are >= t."""
    n = sorted_values.size
    return float((n - np.searchsorted(sorted_values, t, side="left")) / n)


def _mc_rate(events: np.ndarray, cluster: np.ndarray) -> tuple[float, float]:
    """Mean of ``events`` and its standard error with clusters (galleries) as units."""
    events = events.astype(float)
    ids, inv = np.unique(cluster, return_inverse=True)
    tot = np.bincount(inv, weights=events)
    cnt = np.bincount(inv).astype(float)
    p = float(tot.sum() / cnt.sum())
    k = ids.size
    resid = tot - p * cnt
    se = math.sqrt(k / (k - 1) * float(np.sum(resid**2))) / float(cnt.sum()) if k > 1 else 0.0
    return p, se


def _model_json(m: CrossedScoreModel) -> dict:
    from dataclasses import asdict

    return asdict(m)


def _design_json(d: SearchDesign) -> dict:
    from dataclasses import asdict

    return asdict(d)


def summarise(records: list[dict], st: dict) -> dict:
    """Per figure: coverage +- MC s.e., misses by side, width, bias, zero-width and bound shares.

    Ratios to the reference group are also pooled over the non-reference groups
    (``fmr_ratio[any]``: every printed ratio interval of every repetition; its MC s.e. treats
    them as independent), since which group is the reference varies between repetitions.
    """
    keys = sorted({k for rec in records for k in rec["intervals"]})
    groups: dict[str, list[str]] = {k: [k] for k in keys}
    for k in keys:
        if "_ratio[" in k:
            groups.setdefault(k.split("[")[0] + "[any]", []).append(k)
    out = {}
    for name, members in groups.items():
        pairs = []
        for rec in records:
            for key in members:
                iv = rec["intervals"].get(key)
                truth = rec.get("truth", {}).get(key, st["truth"].get(key))
                if iv is not None and truth is not None:
                    pairs.append((key, iv, truth))
        out[name] = _summary(pairs, st)
    return out


def _summary(pairs: list[tuple[str, dict, float]], st: dict) -> dict:
    truths, covered, widths, ests, zero_w, bounds, lows, highs = [], [], [], [], [], [], [], []
    undefined = 0
    conditional = False
    for key, iv, truth in pairs:
        conditional |= key not in st["truth"]
        est, lo, hi = iv["estimate"], iv["low"], iv["high"]
        if "_ratio[" in key and hi is None and lo is not None:
            hi = math.inf  # an unbounded ratio interval [lo, infinity)
        if est is None or lo is None or hi is None:
            undefined += 1
            continue
        truths.append(truth)
        ests.append(est)
        lows.append(truth < lo)
        highs.append(truth > hi)
        covered.append(lo <= truth <= hi)
        widths.append(hi - lo)
        zero_w.append(hi - lo == 0)
        bounds.append(bool(iv.get("bound")))
    n = len(covered)
    if n == 0:
        return {"reps": 0, "undefined": undefined}
    p = float(np.mean(covered))
    truth_arr = np.array(truths)
    est_arr = np.array(ests)
    truth_ref = float(np.mean(truth_arr))
    w = np.array(widths)
    return {
        "reps": n,
        "undefined": undefined,
        "truth": truth_ref,
        "truth_is_per_rep": conditional,
        "coverage": p,
        "mc_se": math.sqrt(p * (1 - p) / n),
        "miss_low": float(np.mean(lows)),  # interval above the truth
        "miss_high": float(np.mean(highs)),  # interval below the truth
        "mean_width": float(np.mean(w[np.isfinite(w)])) if np.isfinite(w).any() else None,
        "unbounded": int(np.sum(~np.isfinite(w))),
        "mean_estimate": float(np.mean(est_arr)),
        "bias": float(np.mean(est_arr - truth_arr)),
        "bias_mc_se": float(np.std(est_arr - truth_arr, ddof=1) / math.sqrt(n)) if n > 1 else None,
        "rel_bias": float(np.mean(est_arr - truth_arr) / truth_ref) if truth_ref else None,
        "sd_estimate": float(np.std(est_arr, ddof=1)) if n > 1 else None,
        # how much wider a normal 95% interval would have to be: s.d. of (estimate - truth)
        # over the half-width / 1.96 the tool printed on average
        "width_factor_needed": (
            float(np.std(est_arr - truth_arr, ddof=1) * 3.92 / np.mean(w[np.isfinite(w)]))
            if n > 1 and np.isfinite(w).any() and np.mean(w[np.isfinite(w)]) > 0
            else None
        ),
        "zero_width": float(np.mean(zero_w)),
        "bound": float(np.mean(bounds)),
        "pass": TARGET_LOW <= p <= TARGET_HIGH,
    }


def _write(path: str, doc: dict) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"), default=_json_default)
    os.replace(tmp, path)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def run(
    name: str, reps: int, out: str, *, boot: int | None = None, every: int = 10, quiet=False
) -> dict:
    """Run (or resume, or extend) configuration ``name`` to ``reps`` repetitions into ``out``."""
    cfg = CONFIGS[name]
    boot = cfg.default_boot if boot is None else int(boot)
    doc = None
    if os.path.exists(out):
        with open(out) as fh:
            doc = json.load(fh)
        if doc.get("config") != name or doc.get("bootstrap") != boot:
            raise SystemExit(
                f"{out} holds config {doc.get('config')!r} with {doc.get('bootstrap')} replicates; "
                f"asked for {name!r} with {boot}. Use another --out."
            )
    if doc is None:
        t0 = time.time()
        st = cfg.setup()
        st.pop("_mc_nonmated_top", None)
        doc = {
            "config": name,
            "description": cfg.description,
            "engine_version": adapter.engine_version(),
            "bootstrap": boot,
            "confidence": 0.95,
            "setup": st,
            "setup_seconds": time.time() - t0,
            "records": [],
            "rep_seconds": 0.0,
        }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    now = adapter.engine_version()
    if len(doc["records"]) < reps and now != doc["engine_version"]:
        doc.setdefault("engine_versions_resumed", []).append([len(doc["records"]), now])
    st = doc["setup"]
    started = time.time()
    last_write = started
    while len(doc["records"]) < reps:
        r = len(doc["records"])
        t0 = time.time()
        intervals, cond = cfg.rep(r, st, boot)
        doc["records"].append(
            {
                "rep": r,
                "intervals": {k: v.to_json() for k, v in intervals.items()},
                "truth": cond,
            }
        )
        doc["rep_seconds"] += time.time() - t0
        if (r + 1) % every == 0 or time.time() - last_write > 30:
            doc["summary"] = summarise(doc["records"], st)
            _write(out, doc)
            last_write = time.time()
            if not quiet:
                print(f"{name}: {r + 1}/{reps} reps, {doc['rep_seconds']:.0f} s", flush=True)
    doc["summary"] = summarise(doc["records"], st)
    if cfg.extra_summary is not None:
        doc["extra"] = cfg.extra_summary(doc["records"], st)
    _write(out, doc)
    return doc


def format_table(doc: dict) -> str:
    """Markdown rows: figure | truth | coverage +- MC s.e. | misses | width | bias | pass."""
    rows = [
        "| figure | truth | coverage ± MC s.e. | miss low / high | mean width | bias (rel.) "
        "| s.d. error x 3.92 / width | zero-width | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in doc["summary"].items():
        key = name.replace("|", "\\|")  # "fpir@T0|gallery" inside a Markdown table
        if not s.get("reps"):
            rows.append(f"| {key} | – | not printed ({s.get('undefined')} reps) | | | | | | |")
            continue
        rel = "" if s["rel_bias"] is None else f" ({100 * s['rel_bias']:+.1f}%)"
        tr = f"{s['truth']:.4g}" + (" *" if s["truth_is_per_rep"] else "")
        rows.append(
            f"| {key} | {tr} | {100 * s['coverage']:.1f}% ± {100 * s['mc_se']:.1f} "
            f"| {100 * s['miss_low']:.1f} / {100 * s['miss_high']:.1f} "
            f"| {s['mean_width']:.3g} | {s['bias']:+.3g}{rel} "
            f"| {_num(s['width_factor_needed'], '.2f')} "
            f"| {100 * s['zero_width']:.1f}% "
            f"| {_verdict(s)} |"
        )
    return "\n".join(rows)


def _num(x, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def _verdict(s: dict) -> str:
    if s["pass"]:
        return "pass"
    return "**FAIL** (under)" if s["coverage"] < TARGET_LOW else "over"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m validation.coverage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--config", help="configuration name, or 'all'")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--boot", type=int, default=None, help="bootstrap replicates per run")
    ap.add_argument("--out", help="results JSON (resumable); with --config all: a folder")
    ap.add_argument("--list", action="store_true", help="list the configurations")
    ap.add_argument("--table", action="store_true", help="print a Markdown table of --out")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.list:
        for c in CONFIGS.values():
            print(f"{c.name}: {c.description}")
        return 0
    if a.table:
        with open(a.out) as fh:
            print(format_table(json.load(fh)))
        return 0
    if not a.config or not a.out:
        ap.error("--config and --out are required")
    names = list(CONFIGS) if a.config == "all" else [a.config]
    for n in names:
        if n not in CONFIGS:
            ap.error(f"unknown config {n!r}; see --list")
        path = os.path.join(a.out, f"{n}.json") if a.config == "all" else a.out
        doc = run(n, a.reps, path, boot=a.boot, quiet=a.quiet)
        print(
            f"\n## {n}  ({len(doc['records'])} reps, B = {doc['bootstrap']}, "
            f"{doc['rep_seconds']:.0f} s)\n"
        )
        print(format_table(doc))
        if "extra" in doc:
            print(json.dumps(doc["extra"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
