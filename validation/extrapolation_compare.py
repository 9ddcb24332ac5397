"""Before / after table of the extrapolation study (``docs/validation.md``).

Usage::

    uv run python -m validation.extrapolation_compare \\
        validation/results/baseline/extrapolation.json \\
        validation/results/after/extrapolation_a.json validation/results/after/extrapolation_b.json

The first file is the baseline, the others are pooled as "after". Per (generator, d, FPIR
level): the geometric mean of extrapolated / measured FPIR over seeds with its Monte-Carlo
standard error (``x/÷ exp(s.e. of the mean log ratio)``), band coverage (seeds whose band holds
the measured value), and for "after" how many seeds the tool flagged as beyond the data.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from validation.extrapolation import _escaped, summarise


def _records(paths: list[str]) -> list[dict]:
    out: list[dict] = []
    for p in paths:
        with open(p) as fh:
            out += json.load(fh)["records"]
    return out


def _ratio(r: dict) -> str:
    x = np.array(r["ratios"], dtype=float)
    if not np.all(x > 0):
        return f"{r['ratio_geomean']:.2f}"
    if x.size < 2:
        return f"{r['ratio_geomean']:.2f}"
    se = float(np.std(np.log(x), ddof=1) / math.sqrt(x.size))
    return f"{r['ratio_geomean']:.2f} ×÷{math.exp(se):.2f}"


def table(before: list[dict], after: list[dict]) -> str:
    b = {(r["generator"], r["dim"], r["level"]): r for r in summarise(before)}
    a = {(r["generator"], r["dim"], r["level"]): r for r in summarise(after)}
    lines = [
        "| generator | d | FPIR | before: ratio (±MC) | before: band | after: ratio "
        "(±MC) | after: band | after: flagged | target | after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(a):
        g, d, lv = key
        ra, rb = a[key], b.get(key)
        before_ratio = _ratio(rb) if rb else "—"
        before_band = f"{rb['band_inside']}/{rb['seeds']}" if rb else "—"
        lines.append(
            f"| {g} | {d} | {lv:g} | {before_ratio} | {before_band} | {_ratio(ra)} "
            f"| {ra['band_inside']}/{ra['seeds']} | {ra['n_flagged']}/{ra['seeds']}"
            f"{_escaped(ra)} "
            f"| {ra['target']} | {'pass' if ra['pass'] else '**FAIL**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    before, after = _records(argv[:1]), _records(argv[1:])
    print(table(before, after))
    s = summarise(after)
    for lv in sorted({r["level"] for r in s}):
        rows = [r for r in s if r["level"] == lv]
        inside = sum(r["band_inside"] for r in rows)
        seeds = sum(r["seeds"] for r in rows)
        p = inside / seeds
        print(
            f"\nFPIR {lv:g}: band coverage {inside}/{seeds} = {p:.1%} "
            f"(± {math.sqrt(p * (1 - p) / seeds):.1%}); "
            f"{sum(r['pass'] for r in rows)}/{len(rows)} configurations pass; "
            f"{sum(r['n_flagged'] for r in rows)}/{seeds} runs flagged beyond the data, "
            f"{sum(r.get('n_escaped', 0) for r in rows)} escaped (neither flagged nor within "
            "the range)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
