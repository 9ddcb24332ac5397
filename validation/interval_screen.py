"""Screen candidate interval methods on the same bootstrap replicates (issue 10, intervals).

For a coverage configuration (:mod:`validation.coverage`), each repetition runs the tool once;
the replicate rates it hands to its interval function are captured (:func:`validation.adapter.
capture_replicates`) and every candidate interval is formed from them, so all candidates see the
same data sets and the same replicates. Coverage against the configuration's truth, per figure
and candidate, with Monte-Carlo standard errors.

Candidates: ``percentile``; ``kg`` (Korn-Graubard: Clopper-Pearson at the effective count
``p n_eff``, ``n_eff = p (1 - p) / V_boot`` capped at ``n``); ``kg_df`` (with Korn & Graubard's
``(z / t_df)^2`` factor, ``df`` = subjects - 1); ``kg_owen`` (two-way figures only: ``V_boot - 2
p (1 - p) / n``, the pigeonhole bootstrap's own excess, Owen 2007); ``bc`` (bias-corrected
percentile); ``bca`` (BCa with the acceleration from the replicates' skewness, ``a = skew / 6``);
``logit_t`` (normal on the logit with the bootstrap s.e., delta method).

Usage::

    nice -n 10 uv run python -m validation.interval_screen --config verify_crossed --reps 100 \
        --out validation/results/intervals/screen_verify_crossed.json
"""

from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np
from scipy.stats import kurtosis, norm, skew

from validation import adapter
from validation.coverage import CONFIGS, TARGET_HIGH, TARGET_LOW

CANDIDATES = (
    "percentile",
    "kg",
    "kg_df",
    "kg_owen",
    "kg_kurt",
    "kg_kurt_owen",
    "bca",
    "logit_t",
    "kg_sat",
    "kg_sat_owen",
    "bca_inf",
)


def candidates(
    reps: np.ndarray,
    count: int,
    n: int,
    conf: float,
    df: int,
    two_way: bool,
    weights: np.ndarray | None = None,
):
    """Every candidate interval of one figure from its replicate rates (and, for the
    influence-based candidates, the replicates' subject multiplicities)."""
    from faceaudit.stats.intervals import korn_graubard, percentile  # API: engine's intervals

    r = reps[np.isfinite(reps)]
    p = count / n
    out = {}
    out["percentile"] = tuple(float(v) for v in percentile(r, conf))
    if count == 0 or count == n or r.size < 2:
        return {k: out["percentile"] for k in CANDIDATES}
    v = float(np.var(r, ddof=1))
    iid = p * (1 - p) / n
    for name, vv, d in (
        ("kg", max(v, iid), None),
        ("kg_df", max(v, iid), df),
        ("kg_owen", max(v - 2 * iid, iid) if two_way else max(v, iid), None),
    ):
        lo, hi = korn_graubard(np.array([p]), np.array([vv]), np.array([n]), conf, df=d)
        out[name] = (float(lo[0]), float(hi[0]))
    # Satterthwaite-like degrees of freedom from the replicates' excess kurtosis (~ sum s^4 /
    # (sum s^2)^2 of the subjects' contributions), counted only where it clears its noise
    kurt = float(kurtosis(r)) - 2.0 * math.sqrt(24.0 / r.size)
    dk = int(min(df or 10**6, max(1.0, 1.0 / kurt))) if kurt > 0 else df
    for name, vv in (
        ("kg_kurt", max(v, iid)),
        ("kg_kurt_owen", max(v - 2 * iid, iid) if two_way else max(v, iid)),
    ):
        lo, hi = korn_graubard(np.array([p]), np.array([vv]), np.array([n]), conf, df=dk)
        out[name] = (float(lo[0]), float(hi[0]))
    if weights is not None and np.isfinite(reps).all():
        # each subject's influence: Cov_b(w_i, rate*) = s_i var(w_i) (var ~ 1)
        s_i = (weights - weights.mean(axis=0)).T @ (reps - reps.mean()) / (reps.size - 1)
        s2, s4 = float(np.sum(s_i**2)), float(np.sum(s_i**4))
        dsat = int(min(df or 10**6, max(1.0, s2**2 / s4))) if s4 > 0 else df
        for name, vv in (
            ("kg_sat", max(v, iid)),
            ("kg_sat_owen", max(v - 2 * iid, iid) if two_way else max(v, iid)),
        ):
            lo, hi = korn_graubard(np.array([p]), np.array([vv]), np.array([n]), conf, df=dsat)
            out[name] = (float(lo[0]), float(hi[0]))
        acc_inf = float(np.sum(s_i**3) / (6 * s2**1.5)) if s2 > 0 else 0.0
    a2 = (1 - conf) / 2
    z = norm.ppf([a2, 1 - a2])
    share = float(np.mean(r < p) + 0.5 * np.mean(r == p))
    z0 = float(norm.ppf(min(max(share, 1e-6), 1 - 1e-6)))
    for name, acc in (("bca", float(skew(r)) / 6.0 if np.std(r) > 0 else 0.0),):
        q = norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        out[name] = tuple(float(x) for x in np.quantile(r, q))
    if weights is not None and np.isfinite(reps).all():
        q = norm.cdf(z0 + (z0 + z) / (1 - acc_inf * (z0 + z)))
        out["bca_inf"] = tuple(float(x) for x in np.quantile(r, q))
    se = math.sqrt(max(v, iid)) / (p * (1 - p))
    lg = math.log(p / (1 - p)) + z * se
    out["logit_t"] = tuple(float(1 / (1 + math.exp(-x))) for x in lg)
    return out


def _screen_rep(cfg, r: int, st: dict, boot: int) -> dict:
    with adapter.capture_replicates() as calls:
        out, cond = cfg.rep(r, st, boot)
    figs = {}
    subjects = st.get("model", {}).get("n_subjects") or st.get("design", {}).get("n_nonmated")
    df = int(subjects) - 1 if subjects else None
    weights = None
    if cfg.name.startswith("verify"):  # the tool's own multiplicities: all subjects, seed r
        weights = adapter.verify_weights(int(subjects), boot, r)
    for key, reps, count, n in adapter.captured_figures(out, calls):
        two_way = key.startswith("fmr")  # 1:1 non-mated comparisons: product weights
        truth = cond.get(key, st["truth"].get(key))
        if truth is None or count is None or n is None or n == 0:
            continue
        figs[key] = {
            "truth": truth,
            "estimate": count / n,
            "intervals": candidates(reps, count, n, 0.95, df, two_way, weights),
        }
    return figs


def summarise(records: list[dict]) -> dict:
    keys = sorted({k for rec in records for k in rec})
    out = {}
    for key in keys:
        rows = [rec[key] for rec in records if key in rec]
        out[key] = {}
        for c in CANDIDATES:
            if any(c not in iv["intervals"] for iv in rows):
                continue
            cov = [iv["intervals"][c][0] <= iv["truth"] <= iv["intervals"][c][1] for iv in rows]
            high = [iv["truth"] > iv["intervals"][c][1] for iv in rows]
            w = [iv["intervals"][c][1] - iv["intervals"][c][0] for iv in rows]
            p = float(np.mean(cov))
            out[key][c] = {
                "coverage": p,
                "mc_se": math.sqrt(p * (1 - p) / len(cov)),
                "miss_high": float(np.mean(high)),
                "mean_width": float(np.mean(w)),
                "reps": len(cov),
            }
    return out


def table(summary: dict) -> str:
    head = "| figure | " + " | ".join(CANDIDATES) + " |"
    rows = [head, "|---" * (len(CANDIDATES) + 1) + "|"]
    for key, by in summary.items():
        cells = []
        for c in CANDIDATES:
            if c not in by:
                cells.append("–")
                continue
            s = by[c]
            mark = "" if TARGET_LOW <= s["coverage"] <= TARGET_HIGH else "*"
            cells.append(f"{100 * s['coverage']:.1f}{mark} ({100 * s['miss_high']:.1f})")
        rows.append(f"| {key.replace('|', '/')} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m validation.interval_screen")
    ap.add_argument("--config", required=True)
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--only",
        help="comma-separated repetitions to run (e.g. the misses of a "
        "narrower candidate), instead of 0 .. reps - 1",
    )
    a = ap.parse_args(argv)
    wanted = [int(x) for x in a.only.split(",")] if a.only else list(range(a.reps))
    cfg = CONFIGS[a.config]
    doc = {"config": a.config, "bootstrap": a.boot, "records": []}
    if os.path.exists(a.out):
        with open(a.out) as fh:
            doc = json.load(fh)
    if "setup" not in doc:
        st = cfg.setup()
        st.pop("_mc_nonmated_top", None)
        doc["setup"] = st
    st = doc["setup"]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    doc.setdefault("reps", list(range(len(doc["records"]))))
    todo = [r for r in wanted if r not in set(doc["reps"])]
    for i, r in enumerate(todo):
        doc["records"].append(_screen_rep(cfg, r, st, a.boot))
        doc["reps"].append(r)
        if (i + 1) % 10 == 0 or i + 1 == len(todo):
            doc["summary"] = summarise(doc["records"])
            doc["engine_version"] = adapter.engine_version()
            with open(a.out + ".tmp", "w") as fh:
                json.dump(doc, fh, separators=(",", ":"))
            os.replace(a.out + ".tmp", a.out)
            print(f"{a.config}: {i + 1}/{len(todo)}", flush=True)
    print(table(doc["summary"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
