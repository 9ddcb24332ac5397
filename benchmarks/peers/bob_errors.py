"""Peer: bob.measure 6.1 (numba-jitted) on mated/non-mated ``.npy`` scores.

Runs in its own virtual environment (bob.measure 6.1 pins numpy 1.26; the benchmark creates it in
``benchmarks/_work/bobvenv``). Used the way a careful user would: sort both score sets once, then
``eer_threshold`` + ``farfrr`` for the EER ((FAR + FRR) / 2 at the threshold where they are closest)
and ``far_threshold`` + ``farfrr`` for FNMR at FMR 1e-3 and 1e-5 (the threshold where the FAR is at
most the target; bob accepts ``score >= threshold``, as faceaudit does).

Usage: ``python bob_errors.py MATED.npy NON-MATED.npy``; prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time

import bob.measure
import numpy as np

FMR_TARGETS = (1e-3, 1e-5)


def main() -> None:
    start = time.perf_counter()  # after imports: load + compute
    positives = np.sort(np.load(sys.argv[1]).astype(np.float64))
    negatives = np.load(sys.argv[2]).astype(np.float64)
    negatives.sort()
    threshold = bob.measure.eer_threshold(negatives, positives, is_sorted=True)
    far, frr = bob.measure.farfrr(negatives, positives, threshold)
    out = {
        "tool": "bob.measure",
        "n_mated": int(positives.size),
        "n_nonmated": int(negatives.size),
        "eer": float((far + frr) / 2),
        "eer_threshold": float(threshold),
    }
    for target in FMR_TARGETS:
        t = bob.measure.far_threshold(negatives, positives, far_value=target, is_sorted=True)
        _, frr_t = bob.measure.farfrr(negatives, positives, t)
        out[f"fnmr@{target:g}"] = float(frr_t)
        out[f"threshold@{target:g}"] = float(t)
    out["compute_s"] = round(time.perf_counter() - start, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
