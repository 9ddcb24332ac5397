"""Rank-1 extrapolation: fit on a small gallery, compare with mated searches measured on a 100x one.

The scale analysis also extrapolates what a *mated* search meets in a larger gallery: FNIR at
rank 1 with the threshold (the mate is not the top candidate at or above T) and the share of
mated searches whose top candidate is the wrong person at or above T (NIST's rank-1 false
positive of a mated search; the impact analysis's "wrong hit"). This study checks them as
:mod:`validation.extrapolation` checks FPIR. For each generator, dimension and seed:

1. draw ``probes`` non-mated searches and a gallery of ``fit_size x growth`` subjects (one
   template each), the first ``fit_size`` the small gallery; the first ``mated`` subjects of the
   small gallery also give a fresh probe sample each (mated searches);
2. measure with numpy (not faceaudit), on the large gallery: every non-mated probe's top score,
   every mated probe's mate score and its highest non-mate score;
3. for FPIR levels 0.1 and 0.5 choose ``T`` so that the measured FPIR on the large gallery is the
   level; measured ``FNIR1 = share of mated searches with mate < T or a non-mate >= mate``,
   ``wrong = share with a non-mate >= max(T, mate)``, ``beaten = FNIR1 - share(mate < T)`` (the
   part a larger gallery adds, the one the tail model predicts);
4. run faceaudit's ``scale`` on the small gallery only (both kinds of searches), read the
   extrapolated FNIR1 and wrong-top-1 at the large gallery's size with their bands.

Recorded: ratios extrapolated / measured for ``wrong`` and for ``beaten`` (FNIR1 minus the share
below T, which is measured in the small gallery just as well), band coverage of FNIR1 and of
``wrong``. No targets are set by the issue for these figures; the FPIR ones (0.8-1.25, band
coverage >= 90%) are the yardstick.

Usage::

    uv run python -m validation.extrapolation_rank1 --seeds 10 --dims 32,128 --mated 3000 \\
        --out validation/results/rank1/rank1.json
    uv run python -m validation.extrapolation_rank1 --table validation/results/rank1/*.json

Resumable per (generator, dimension, seed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from validation import adapter
from validation.extrapolation import _write
from validation.generators import EMBEDDING_PRESETS, _FamilyBook, embedding_preset

LEVELS = (0.1, 0.5)
DIMS = (32, 128, 512)


def measure(pop, seed: int, *, n_probes: int, n_mated: int, fit_size: int, large: int,
            chunk: int = 10_000):  # fmt: skip
    """``(nonmated probes, mated probes, fit gallery, top score of each non-mated probe, mate
    score and highest non-mate score of each mated probe)`` on the large gallery, whose first
    ``fit_size`` templates are the fit gallery and whose first ``n_mated`` subjects are mated."""
    rng = np.random.default_rng([seed, 17])
    book = _FamilyBook(pop.dim)
    pid = pop.identities(rng, n_probes, book)
    P = pop.samples(rng, pid.mu)
    top = np.full(n_probes, -np.inf)
    fit_g, fit_mu = [], []
    Q = fit = mate = None
    q_top = np.full(n_mated, -np.inf)
    done = 0
    while done < large:
        n = min(chunk, large - done)
        if done < fit_size:
            n = min(n, fit_size - done)  # the fit gallery is exactly the first chunk(s)
        gid = pop.identities(rng, n, book, fresh=True)
        g = pop.samples(rng, gid.mu)
        if done < fit_size:
            fit_g.append(g)
            fit_mu.append(gid.mu)
            if done + n == fit_size:  # the fit gallery is complete: its first subjects search
                fit = np.concatenate(fit_g)
                Q = pop.samples(np.random.default_rng([seed, 29]), np.concatenate(fit_mu)[:n_mated])
                s = Q @ fit.T
                diag = np.arange(n_mated)
                mate = s[diag, diag].astype(np.float64)
                s[diag, diag] = -np.inf
                q_top = s.max(axis=1)
        else:
            q_top = np.maximum(q_top, (Q @ g.T).max(axis=1))
        top = np.maximum(top, (P @ g.T).max(axis=1))
        done += n
    return P, Q, fit, top.astype(np.float64), mate, q_top.astype(np.float64)


def run_one(generator: str, dim: int, seed: int, *, probes: int, mated: int, fit_size: int,
            growth: int, boot: int) -> dict:  # fmt: skip
    pop = embedding_preset(generator, dim)
    large = fit_size * growth
    t0 = time.time()
    P, Q, fit, top, mate, q_top = measure(
        pop, 2000 * dim + seed, n_probes=probes, n_mated=mated, fit_size=fit_size, large=large
    )
    t_measure = time.time() - t0
    desc = np.sort(top)[::-1]
    out = []
    for lv in LEVELS:
        T = float(desc[max(1, int(round(lv * probes))) - 1])
        below = float(np.mean(mate < T))
        fnir = float(np.mean((mate < T) | (q_top >= mate)))
        wrong = float(np.mean(q_top >= np.maximum(T, mate)))
        t1 = time.time()
        r = adapter.run_scale_rank1(fit, P, Q, threshold=T, target_gallery_size=large,
                                    bootstrap=boot, seed=seed)  # fmt: skip
        f, w = r["fnir_rank1"], r["wrong_top1"]
        out.append(
            {
                "level": lv,
                "threshold": T,
                "measured_fpir": float(np.mean(top >= T)),
                "measured_fnir_rank1": fnir,
                "measured_below_t": below,
                "measured_wrong_top1": wrong,
                "fnir_rank1": f.estimate,
                "fnir_rank1_band": [f.low, f.high],
                "fnir_inside": None if f.low is None else bool(f.low <= fnir <= f.high),
                "beaten_ratio": (f.estimate - below) / (fnir - below) if fnir > below else None,
                "wrong_top1": w.estimate,
                "wrong_top1_band": [w.low, w.high],
                "wrong_inside": None if w.low is None else bool(w.low <= wrong <= w.high),
                "wrong_ratio": w.estimate / wrong if wrong else None,
                "beyond_data": r["beyond_data"],
                "scale_seconds": time.time() - t1,
            }
        )
    return {"generator": generator, "dim": dim, "seed": seed, "probes": probes, "mated": mated,
            "fit_gallery": fit_size, "large_gallery": large, "measure_seconds": t_measure,
            "levels": out}  # fmt: skip


def summarise(records: list[dict]) -> list[dict]:
    """Per (generator, dim, level): geometric-mean ratios and band coverage over seeds."""
    rows = []
    for g, d in sorted({(r["generator"], r["dim"]) for r in records}):
        pts_all = [x for r in records if (r["generator"], r["dim"]) == (g, d) for x in r["levels"]]
        for lv in LEVELS:
            pts = [x for x in pts_all if x["level"] == lv]
            if not pts:
                continue

            def gm(key, pts=pts):
                v = np.array([x[key] for x in pts if x[key] is not None], dtype=float)
                v = v[v > 0]
                return (float(np.exp(np.mean(np.log(v)))), int(v.size)) if v.size else (None, 0)

            rows.append(
                {
                    "generator": g,
                    "dim": d,
                    "level": lv,
                    "seeds": len(pts),
                    "wrong_ratio": gm("wrong_ratio"),
                    "beaten_ratio": gm("beaten_ratio"),
                    "wrong_inside": _covered(pts, "measured_wrong_top1", "wrong_top1_band"),
                    "fnir_inside": _covered(pts, "measured_fnir_rank1", "fnir_rank1_band"),
                    "measured_wrong": float(np.mean([x["measured_wrong_top1"] for x in pts])),
                    "measured_fnir": float(np.mean([x["measured_fnir_rank1"] for x in pts])),
                }  # fmt: skip
            )
    return rows


def _covered(pts: list[dict], measured: str, band: str) -> tuple[int, int]:
    """``(covered, assessable)``: runs whose band holds the measured rate, among the runs with
    a measured event (0 of ``mated`` searches bounds the rate only near 3 / mated, far above
    the bands' upper ends at d = 512, so it tests nothing)."""
    ok = [x for x in pts if x[measured] > 0 and x[band][0] is not None]
    return sum(x[band][0] <= x[measured] <= x[band][1] for x in ok), len(ok)


def format_table(rows: list[dict]) -> str:
    out = [
        "| generator | d | FPIR | seeds | measured FNIR1 / wrong | wrong: extrapolated / measured "
        "| beaten: extrapolated / measured | FNIR1 band covers | wrong band covers |",  # of runs
        # with a measured event
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def fmt(x):
        return "—" if x[0] is None else f"{x[0]:.2f} (n {x[1]})"

    def cov(x):
        return f"{x[0]}/{x[1]}" if x[1] else "— (none measured)"

    for r in rows:
        out.append(
            f"| {r['generator']} | {r['dim']} | {r['level']:g} | {r['seeds']} "
            f"| {r['measured_fnir']:.3f} / {r['measured_wrong']:.3f} | {fmt(r['wrong_ratio'])} "
            f"| {fmt(r['beaten_ratio'])} | {cov(r['fnir_inside'])} | {cov(r['wrong_inside'])} |"
        )
    tot = {k: [sum(r[k][i] for r in rows) for i in (0, 1)] for k in ("fnir_inside", "wrong_inside")}
    out.append(
        f"\nAll rows: FNIR1 band covers {cov(tot['fnir_inside'])}, "
        f"wrong band covers {cov(tot['wrong_inside'])} (runs with a measured event)."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m validation.extrapolation_rank1",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--generators", default="all", help=f"comma list of {EMBEDDING_PRESETS}")
    ap.add_argument("--dims", default=",".join(map(str, DIMS)))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--probes", type=int, default=3000, help="non-mated searches")
    ap.add_argument("--mated", type=int, default=3000, help="mated searches (<= --fit-size)")
    ap.add_argument("--fit-size", type=int, default=3000)
    ap.add_argument("--growth", type=int, default=100)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--out", help="the results file (resumed if it exists)")
    ap.add_argument("--table", nargs="+", metavar="JSON",
                    help="only print the table of these results files, pooled")  # fmt: skip
    a = ap.parse_args(argv)
    if a.table:
        recs = []
        for path in a.table:
            with open(path) as fh:
                recs += json.load(fh)["records"]
        print(format_table(summarise(recs)))
        return 0
    if not a.out:
        ap.error("--out is required unless --table is given")
    doc = {"records": [], "settings": {}}
    if os.path.exists(a.out):
        with open(a.out) as fh:
            doc = json.load(fh)
    gens = EMBEDDING_PRESETS if a.generators == "all" else tuple(a.generators.split(","))
    doc["settings"] = {"probes": a.probes, "mated": a.mated, "fit_gallery": a.fit_size,
                       "growth": a.growth, "bootstrap": a.boot,
                       "engine_version": adapter.engine_version()}  # fmt: skip
    done = {(r["generator"], r["dim"], r["seed"]) for r in doc["records"]}
    for seed in range(a.seeds):
        for g in gens:
            for d in (int(x) for x in a.dims.split(",")):
                if (g, d, seed) in done:
                    continue
                rec = run_one(g, d, seed, probes=a.probes, mated=a.mated, fit_size=a.fit_size,
                              growth=a.growth, boot=a.boot)  # fmt: skip
                doc["records"].append(rec)
                _write(a.out, doc)
                lv = ", ".join(f"{x['level']:g}: wrong {x['wrong_ratio'] or float('nan'):.2f}"
                               for x in rec["levels"])  # fmt: skip
                print(f"{g} d={d} seed={seed}: {lv}", flush=True)
    print(format_table(summarise(doc["records"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
