"""Coverage of faceaudit's 1:1 intervals on crossed-effects data (people matter on both sides).

For each repetition: a fresh data set from :class:`crossed.Crossed` (closed-form truths), the
1:1 audit with the two-way bootstrap (default) and with the probe-only fallback (the reference
subject column dropped), and whether each nominal 95% interval covers the truth:

- ``fmr@t``, ``fnmr@t``: at the fixed threshold where the population FMR is the target;
- ``eer``: the population EER;
- ``fnmr@target``: the population FNMR at the population threshold for the FMR target (the
  system's FNMR at that FMR), by the re-chosen interval (``fnmr``) and by the fixed-threshold one
  (``fnmr_fixed_threshold``);
- ``zero``: at the threshold where the population FMR is 4 / (non-mated comparisons), how often
  no false match is observed, and how often the zero-error bound then fails to cover the truth
  (faceaudit's bound on subjects vs the rule of 3 on comparisons, 3/n).

Monte-Carlo standard error of a coverage ``p`` over ``R`` repetitions: ``sqrt(p (1 - p) / R)``.

    uv run python validation/crossed_coverage.py --reps 300 --bootstrap 400 \
        --out validation/coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crossed import Crossed  # noqa: E402

from faceaudit.analyses.verification import verify  # noqa: E402
from faceaudit.data import ComparisonScores  # noqa: E402


def _drop_reference(s: ComparisonScores) -> ComparisonScores:
    return ComparisonScores(s.mated, s.nonmated, s.mated_subject, s.nonmated_subject, None,
                            s.subjects)  # fmt: skip


def run(reps: int, bootstrap: int, target: float, model: Crossed, seed0: int) -> dict:
    t0 = model.threshold_for_fmr(target)
    truth = {
        "fmr@t": model.fmr(t0),
        "fnmr@t": model.fnmr(t0),
        "eer": model.eer(),
        "fnmr@target": model.fnmr(t0),
    }
    keys = ["fmr@t", "fnmr@t", "eer", "fnmr@target (re-chosen)", "fnmr@target (fixed)"]
    hits = {d: dict.fromkeys(keys, 0) for d in ("two-way", "probe-only")}
    widths = {d: {k: [] for k in keys} for d in hits}
    bias = {d: [] for d in hits}
    estimates = []
    n_imp = model.subjects * model.images * (model.subjects - 1) * model.images // 2
    t_zero = model.threshold_for_fmr(4.0 / n_imp)
    zero = {"zero_count": 0, "bound_fails": 0, "rule_of_3_fails": 0}
    start = time.time()
    for i in range(reps):
        data = model.sample(np.random.default_rng(seed0 + i))
        for design, d in (("two-way", data), ("probe-only", _drop_reference(data))):
            r = verify(d, fmr_targets=[target], thresholds=[t0, t_zero], bootstrap=bootstrap,
                       seed=i)  # fmt: skip
            op, at, z = r.operating_points[0], r.operating_points[1], r.operating_points[2]
            if design == "two-way" and z.fmr.count == 0:
                zero["zero_count"] += 1
                zero["bound_fails"] += bool(z.fmr.ci[1] < model.fmr(t_zero))
                zero["rule_of_3_fails"] += bool(3.0 / z.fmr.n < model.fmr(t_zero))
            cis = {
                "fmr@t": (at.fmr.ci, truth["fmr@t"]),
                "fnmr@t": (at.fnmr.ci, truth["fnmr@t"]),
                "eer": (r.eer.ci, truth["eer"]),
                "fnmr@target (re-chosen)": (op.fnmr.ci, truth["fnmr@target"]),
                "fnmr@target (fixed)": (op.fnmr_fixed.ci, truth["fnmr@target"]),
            }
            for k, (ci, v) in cis.items():
                hits[design][k] += bool(ci[0] <= v <= ci[1])
                widths[design][k].append(ci[1] - ci[0])
            if design == "two-way":
                estimates.append(op.fnmr.value)
                bias[design].append(op.optimism.fn_bias)
        if (i + 1) % 25 == 0:
            print(f"{i + 1}/{reps} repetitions, {time.time() - start:.0f} s", file=sys.stderr)
    out = {
        "model": model.__dict__,
        "target": target,
        "truth": truth,
        "repetitions": reps,
        "bootstrap": bootstrap,
        "nominal": 0.95,
        "coverage": {},
        "fnmr_at_target": {
            "mean_estimate": float(np.mean(estimates)),
            "truth": truth["fnmr@target"],
            "mean_bootstrap_bias_estimate": float(np.mean(bias["two-way"])),
            "estimate_sd": float(np.std(estimates)),
        },
        "zero_errors_at_fmr_4_over_n": {
            "true_fmr": model.fmr(t_zero),
            "share_with_zero_count": zero["zero_count"] / reps,
            "binomial_share_if_independent": float(np.exp(-4.0)),
            "faceaudit_bound_fails": zero["bound_fails"] / reps,
            "rule_of_3_on_comparisons_fails": zero["rule_of_3_fails"] / reps,
        },
        "seconds": round(time.time() - start, 1),
    }
    for design in hits:
        out["coverage"][design] = {
            k: {
                "coverage": h / reps,
                "mc_se": float(np.sqrt((h / reps) * (1 - h / reps) / reps)),
                "mean_width": float(np.mean(widths[design][k])),
            }
            for k, h in hits[design].items()
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--bootstrap", type=int, default=400)
    ap.add_argument("--target", type=float, default=1e-2)
    ap.add_argument("--subjects", type=int, default=80)
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--seed", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    res = run(a.reps, a.bootstrap, a.target, Crossed(a.subjects, a.images), a.seed)
    text = json.dumps(res, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
