"""The floor: load the non-mated ``.npy`` array and sort it, nothing else.

Any exact 1:1 error-rate tool must at least read every non-mated score and order them (or do
equivalent work), so this process bounds from below what ``faceaudit errors`` can cost.

Usage: ``python numpy_floor.py NON-MATED.npy``; prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main() -> None:
    start = time.perf_counter()  # after imports: load + compute
    nonmated = np.load(sys.argv[1])
    nonmated.sort()  # in place: the minimum memory a sort needs
    out = {
        "tool": "numpy-floor",
        "n_nonmated": int(nonmated.size),
        "min": float(nonmated[0]),
        "max": float(nonmated[-1]),
    }
    out["compute_s"] = round(time.perf_counter() - start, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
