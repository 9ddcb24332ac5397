"""Peer: scikit-learn's ``roc_curve`` on mated/non-mated ``.npy`` scores.

Computes what ``faceaudit errors --bootstrap 0`` reports as point estimates: the EER (at the ROC
point where |FNMR - FMR| is smallest, reported as (FMR + FNMR) / 2) and the lowest FNMR with
FMR <= target for FMR targets 1e-3 and 1e-5. ``drop_intermediate=False`` keeps every threshold, so
the operating points are exact (a match is ``score >= threshold``, as in faceaudit).

Usage: ``python sklearn_errors.py MATED.npy NON-MATED.npy``; prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from sklearn.metrics import roc_curve

FMR_TARGETS = (1e-3, 1e-5)


def main() -> None:
    start = time.perf_counter()  # after imports: load + compute
    mated = np.load(sys.argv[1])
    nonmated = np.load(sys.argv[2])
    labels = np.concatenate([np.ones(mated.size, np.int8), np.zeros(nonmated.size, np.int8)])
    scores = np.concatenate([mated, nonmated])
    fmr, tmr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    fnmr = 1.0 - tmr
    k = int(np.argmin(np.abs(fnmr - fmr)))
    out = {
        "tool": "scikit-learn",
        "n_mated": int(mated.size),
        "n_nonmated": int(nonmated.size),
        "eer": float((fmr[k] + fnmr[k]) / 2),
        "eer_threshold": float(thresholds[k]),
    }
    for target in FMR_TARGETS:
        # fmr is non-decreasing along the curve and so is tmr: the last point with
        # fmr <= target has the lowest FNMR.
        j = int(np.searchsorted(fmr, target, side="right")) - 1
        out[f"fnmr@{target:g}"] = float(fnmr[j])
        out[f"threshold@{target:g}"] = float(thresholds[j])
    out["compute_s"] = round(time.perf_counter() - start, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
