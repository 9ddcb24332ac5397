"""The streamed all-vs-all pass keeps to its memory formula (docs/scale-out.md) within 1.5x:

    peak RSS ~= R0 + 4 n d + 50 MB + 10 x W x b^2 bytes

(R0: the process before the pass; n samples of d dimensions held as float32; W threads; b rows per
block; the 50 MB are BLAS buffers, thread stacks and the grid's temporaries). No term grows with
the number of pairs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CHILD = r"""
import json, sys
import numpy as np
from faceaudit.compare.execute import InProcess
from faceaudit.compare.stream import StreamedComparisons
n, d, block, threads = map(int, sys.argv[1:5])
rng = np.random.default_rng(0)
x = rng.normal(size=(n, d)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
c = StreamedComparisons(x, [f"s{k // 5}" for k in range(n)], block=block,
                        executor=InProcess(threads))
_ = c.pair_counts
before = int(open("/proc/self/statm").read().split()[1]) * 4096
s = c.summary
# VmHWM is this process's own high-water mark (ru_maxrss would include the parent's at fork)
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0]
peak = int(hwm.split()[1]) * 1024
print(json.dumps({"before": before, "peak": peak, "pairs": s.mated.n + s.nonmated.n}))
"""


@pytest.mark.parametrize(("n", "block", "threads"), [(8000, 1024, 2), (8000, 2048, 2),
                                                     (8000, 2048, 1)])  # fmt: skip
def test_peak_memory_follows_the_formula(n, block, threads):
    d = 64
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(d), str(block), str(threads)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    r = json.loads(out.stdout)
    assert r["pairs"] == n * (n - 1) // 2
    formula = r["before"] + 50 * 2**20 + 10 * threads * block**2
    ratio = r["peak"] / formula
    assert 1 / 1.5 <= ratio <= 1.5, (r, formula, ratio)
