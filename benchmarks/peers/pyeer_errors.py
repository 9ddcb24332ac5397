"""Peer: pyeer's ``get_eer_stats`` on mated/non-mated ``.npy`` scores.

``get_eer_stats`` is what pyeer's own ``geteerinf`` command calls: it builds the full FMR/FNMR curve
(sorting a Python list of (score, label) tuples), the EER (pyeer's convention: FVC2000 interval
midpoint), fixed operating points and summary statistics. pyeer's own ``fmr1000`` is the FNMR at the
FMR *closest* to 1e-3; for a like-for-like check this script also reports the lowest FNMR with
FMR <= target from pyeer's curve (``fnmr@1e-3``, ``fnmr@1e-5``), a negligible extra numpy step.

pyeer 0.5.6 imports ``pkg_resources`` (setuptools) only for its report writers; where setuptools is
absent this script puts an empty stand-in module in its place (see below).

Usage: ``python pyeer_errors.py MATED.npy NON-MATED.npy``; prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time
import types

import numpy as np

try:
    from pyeer.eer_info import get_eer_stats
except ModuleNotFoundError as exc:  # pyeer 0.5.6 imports pkg_resources (setuptools) at import time
    if exc.name != "pkg_resources":
        raise
    # pkg_resources is only used by pyeer's report writers (for its own version string), which
    # this benchmark does not call: an empty stand-in module lets the real code path import.
    sys.modules["pkg_resources"] = types.ModuleType("pkg_resources")
    from pyeer.eer_info import get_eer_stats

FMR_TARGETS = (1e-3, 1e-5)


def main() -> None:
    start = time.perf_counter()  # after imports: load + compute
    mated = np.load(sys.argv[1])
    nonmated = np.load(sys.argv[2])
    stats = get_eer_stats(mated, nonmated)
    fmr = np.asarray(stats.fmr)
    fnmr = np.asarray(stats.fnmr)
    out = {
        "tool": "pyeer",
        "n_mated": int(mated.size),
        "n_nonmated": int(nonmated.size),
        "eer": float(stats.eer),
        "eer_threshold": float(stats.eer_th),
        "pyeer_fmr1000": float(stats.fmr1000),
    }
    for target in FMR_TARGETS:
        ok = fmr <= target
        out[f"fnmr@{target:g}"] = float(fnmr[ok].min()) if ok.any() else None
    out["compute_s"] = round(time.perf_counter() - start, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
