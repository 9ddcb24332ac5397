"""The floor: load the impostor ``.npy`` array and sort it, nothing else.

Any exact 1:1 error-rate tool must at least read every impostor score and order them (or do
equivalent work), so this process bounds from below what ``faceaudit errors`` can cost.

Usage: ``python numpy_floor.py IMPOSTOR.npy``; prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main() -> None:
    start = time.perf_counter()  # after imports: load + compute
    impostor = np.load(sys.argv[1])
    impostor.sort()  # in place: the minimum memory a sort needs
    out = {
        "tool": "numpy-floor",
        "n_impostor": int(impostor.size),
        "min": float(impostor[0]),
        "max": float(impostor[-1]),
    }
    out["compute_s"] = round(time.perf_counter() - start, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
