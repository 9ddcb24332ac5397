"""What resampling the gallery side of 1:N costs: ``identify`` two-way vs one-way (issue 10).

The two-way 1:N bootstrap (:func:`faceaudit.stats.identification.search_design`) weighs every
non-mated search by its probe's times its top candidate's gallery subject's multiplicity, and
every mated search's wrong rank-1 candidate likewise; the one-way fallback (the same outcomes
without the candidates' subjects) resamples the searchers only. Both run the same library call
(:func:`faceaudit.analyses.identification.identify`, default 1000 replicates, one FPIR target and
two fixed thresholds) on the same outcomes, interleaved, in one process; the figure is the ratio
of the medians. Target (issue 10, item 7, by analogy with 1:1): at most 3x the one-way bootstrap.

Data (seeded): ``--searches`` searches (default 300,000: a third mated) over a gallery of
``--gallery`` subjects (default 50,000), candidate lists of 20; a non-mated search's top
candidate is a random gallery subject, with 5% of the false positives on 50 "wolves".

Run from the repository root::

    uv run python benchmarks/bench_identify_boot.py             # 3 repeats
    uv run python benchmarks/bench_identify_boot.py --quick     # 30,000 searches, 1 repeat

Results: ``benchmarks/results/identify_boot.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from faceaudit.analyses.identification import identify
from faceaudit.data import CandidateLists, ProbeTruth
from faceaudit.stats.identification import search_outcomes

OUT = Path(__file__).resolve().parent / "results" / "identify_boot.md"


def outcomes(n_searches: int, n_gallery: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    L = 20
    subjects = np.array([f"g{i:07d}" for i in range(n_gallery)])
    n_m = n_searches // 3
    n_nm = n_searches - n_m
    cand = rng.integers(0, n_gallery, size=(n_searches, L))
    mates = rng.integers(0, n_gallery, size=n_m)
    hit = rng.random(n_m) < 0.9
    cand[:n_m][hit, 0] = mates[hit]
    wolves = rng.random(n_nm) < 0.05
    cand[n_m:][wolves, 0] = rng.integers(0, 50, size=int(wolves.sum()))
    scores = np.sort(rng.normal(0.3, 0.1, size=(n_searches, L)), axis=1)[:, ::-1]
    scores[:n_m][hit, 0] = rng.normal(0.75, 0.1, size=int(hit.sum()))
    scores[n_m:][wolves, 0] += 0.3
    scores = -np.sort(-scores, axis=1)
    probes = np.array([f"p{i}" for i in range(n_searches)])
    truth = np.concatenate([subjects[mates], np.full(n_nm, "")])
    persons = np.concatenate([subjects[mates], np.array([f"x{i}" for i in range(n_nm)])])
    lists = CandidateLists(probes, cand, scores, subjects)
    return search_outcomes(lists, ProbeTruth(probes, truth, persons=persons),
                           gallery_size=n_gallery, gallery_subjects=subjects)  # fmt: skip


def run(o, boot: int) -> float:
    t0 = time.perf_counter()
    identify(o, fpir_targets=[0.01], thresholds=[0.5, 0.6], bootstrap=boot, seed=1)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--searches", type=int, default=300_000)
    ap.add_argument("--gallery", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.searches, a.gallery, a.repeats = 30_000, 5_000, 1
    two = outcomes(a.searches, a.gallery)
    one = replace(two, nonmated_top_subject=None, wrong_top1_subject=None)
    times = {"two-way": [], "one-way": [], "no bootstrap": []}
    for _ in range(a.repeats):
        times["one-way"].append(run(one, a.bootstrap))
        times["two-way"].append(run(two, a.bootstrap))
        times["no bootstrap"].append(run(two, 0))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["two-way"] / med["one-way"]
    load = os.getloadavg()[0]
    lines = [
        "# 1:N bootstrap: two-way (searchers x gallery subjects) vs one-way",
        "",
        f"{dt.date.today()}, {a.searches:,} searches, gallery {a.gallery:,}, B = {a.bootstrap}, "
        f"{a.repeats} repeat(s) interleaved, load {load:.1f} on {os.cpu_count()} cores"
        + (" (smoke run)" if a.quick else ""),
        "",
        "| case | median s | runs |",
        "|---|---|---|",
        *[
            f"| {k} | {med[k]:.2f} | {', '.join(f'{x:.2f}' for x in v)} |" for k, v in times.items()
        ],  # fmt: skip
        "",
        f"two-way / one-way: **{ratio:.2f}x** (target: at most 3x)",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not a.quick:
        OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
