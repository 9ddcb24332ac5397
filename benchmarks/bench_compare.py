"""What comparing two systems costs: ``audit_compare`` vs one system's ``audit_scores``.

Issue 14, item 7: comparing two systems on 10^7 comparisons each must cost at most 2.5x a
single-system ``errors`` run with the same bootstrap. Side by side, in one run, in one process
(both are library calls on data already in memory: what differs is the analysis, not the
reading), timed by wall clock:

- ``errors``: ``audit_scores(data.system(0), fmr_targets=(1e-3, 1e-5), bootstrap=B)``: the
  library call ``faceaudit errors`` makes, on system A alone;
- ``compare``: ``audit_compare(data, fmr_targets=(1e-3, 1e-5), bootstrap=B)``: both systems,
  one shared subject bootstrap, every difference (paired and unpaired intervals), McNemar.

Data (seeded, generated in memory): ``--rows`` comparisons (default 10^7) over 4000 subjects,
2% mated; a score per system = a shared part (the comparison's difficulty, common to both
systems) + the system's own noise, system B's mated scores shifted up by 0.05. Both subject
columns are known: the two-way subject bootstrap, ``B = 1000`` replicates by default, FMR-target
thresholds re-chosen in every replicate.

Cases run ``--repeats`` times, interleaved (a change in the machine's load hits both alike); the
table gives medians and the ratio of the medians.

Run from the repository root::

    uv run python benchmarks/bench_compare.py            # 10^7 rows, 3 repeats
    uv run python benchmarks/bench_compare.py --quick    # 10^6 rows, 1 repeat (smoke)

Results: ``benchmarks/results/compare.md`` (a smoke run says so at the top).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "compare.md"
SEED = 20240614
N_SUBJECTS = 4000
MATED_SHARE = 0.02
TARGETS = (1e-3, 1e-5)


def make_data(rows: int, seed: int = SEED):
    """Two correlated systems' scores on the same ``rows`` comparisons (PairedScores)."""
    from faceaudit.data.paired_scores import Coverage, PairedScores, SystemCoverage

    rng = np.random.default_rng(seed)
    mated = rng.random(rows) < MATED_SHARE
    ps = rng.integers(0, N_SUBJECTS, rows).astype(np.int32)
    other = rng.integers(1, N_SUBJECTS, rows).astype(np.int32)
    rs = np.where(mated, ps, (ps + other) % N_SUBJECTS).astype(np.int32)
    shared = np.where(mated, 0.7, 0.1) + rng.normal(0, 0.08, rows)
    a = shared + rng.normal(0, 0.06, rows)
    b = shared + rng.normal(0, 0.06, rows) + np.where(mated, 0.05, 0.0)
    names = ("A", "B")
    cov = Coverage("row order", rows, int(mated.sum()), int((~mated).sum()),
                   tuple(SystemCoverage(n, rows, 0) for n in names))  # fmt: skip
    subjects = [f"s{i:05d}" for i in range(N_SUBJECTS)]
    return PairedScores(names, (a, b), mated, ps, rs, subjects, "similarity", cov)


def run_errors(data, bootstrap: int):
    from faceaudit import audit_scores

    return audit_scores(data.system(0), fmr_targets=TARGETS, bootstrap=bootstrap)


def run_compare(data, bootstrap: int):
    from faceaudit import audit_compare

    return audit_compare(data, fmr_targets=TARGETS, bootstrap=bootstrap)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=float, default=1e7)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="10^6 rows, 1 repeat (smoke run)")
    args = ap.parse_args()
    rows = 10**6 if args.quick else int(args.rows)
    repeats = 1 if args.quick else args.repeats
    t0 = time.perf_counter()
    data = make_data(rows)
    print(f"data: {rows:,} comparisons x 2 systems in {time.perf_counter() - t0:.1f} s")
    times: dict[str, list[float]] = {"errors": [], "compare": []}
    last = {}
    for r in range(repeats):
        for case, fn in (("errors", run_errors), ("compare", run_compare)):
            t = time.perf_counter()
            last[case] = fn(data, args.bootstrap)
            times[case].append(time.perf_counter() - t)
            print(f"repeat {r + 1}: {case} {times[case][-1]:.2f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["compare"] / med["errors"]
    diffs = last["compare"]["compare"].differences
    d3 = next(d for d in diffs if d.figure == "fnmr_at_fmr" and d.target == 1e-3)
    lines = [
        "# `faceaudit compare` vs one system's `errors` (issue 14, item 7)",
        "",
        ("**Smoke run (--quick): not the benchmark's size.**\n" if args.quick else ""),
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(shared), Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}",
        f"- data: {rows:,} comparisons per system ({int(data.mated.sum()):,} mated), "
        f"{N_SUBJECTS} subjects, two-way subject bootstrap of {args.bootstrap} replicates, FMR "
        f"targets {', '.join(f'{t:g}' for t in TARGETS)} (thresholds re-chosen per replicate)",
        f"- repeats: {repeats}, interleaved; medians",
        "",
        "| case | median (s) | runs (s) |",
        "|---|---|---|",
        *(f"| {k} | {med[k]:.2f} | {', '.join(f'{v:.2f}' for v in times[k])} |" for k in times),
        "",
        f"**ratio compare / errors: {ratio:.2f}x** (target <= 2.5x)",
        "",
        f"Check: FNMR at FMR 1e-3, A - B = {d3.paired.estimate:.5f}, paired 95% CI "
        f"[{d3.paired.low:.5f}, {d3.paired.high:.5f}], unpaired [{d3.unpaired.low:.5f}, "
        f"{d3.unpaired.high:.5f}] (width ratio {d3.paired.width / d3.unpaired.width:.2f}).",
    ]
    text = "\n".join(line for line in lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
