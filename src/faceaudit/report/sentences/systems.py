"""Sentences of the paired comparison of systems: one per difference.

``at FMR 10⁻³, B misses fewer mated pairs than A: 4.1% vs 6.3%, a difference of -2.2 points
(95% CI -3.0 to -1.4), paired by subject.`` The better system (lower error) is named first and
the difference is its rate minus the other's, in percentage points; when the paired interval
contains 0 (or, for more than two systems, the adjusted p-value exceeds the level) the sentence
says the data cannot tell them apart instead of naming a better one.
"""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report._data import Node

__all__ = ["difference_sentence", "pct", "points"]

_WHAT = {
    "fnmr_at_fmr": ("misses fewer mated pairs than", "FNMR"),
    "fnmr_at_threshold": ("misses fewer mated pairs than", "FNMR"),
    "fmr_at_threshold": ("falsely matches fewer non-mated pairs than", "FMR"),
    "eer": ("has a lower equal error rate than", "EER"),
    "fnir_at_fpir": ("misses fewer enrolled people than", "FNIR"),
    "fnir_at_threshold": ("misses fewer enrolled people than", "FNIR"),
    "fpir_at_threshold": ("raises fewer false alarms on people not enrolled than", "FPIR"),
    "fnir_rank1": ("puts the enrolled person at rank 1 more often than", "rank-1 misses"),
}


_METHODS = {"holm": "Holm", "bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}


def pct(x) -> str:
    """A rate as a percentage: ``6.3%``, ``0.042%`` (2 significant digits below 1%)."""
    if not fmt.is_number(x):
        return "—"
    p = 100.0 * float(x)
    if p == 0:
        return "0%"
    return f"{p:.1f}%" if abs(p) >= 1 else f"{p:.2g}%"


def points(x) -> str:
    """A difference of rates in percentage points: ``-2.2``, ``0.031``."""
    if not fmt.is_number(x):
        return "—"
    p = 100.0 * float(x)
    if p == 0:
        return "0"
    return f"{p:.1f}" if abs(p) >= 1 else f"{p:.2g}"


def where(d: Node, orientation_note: str = "") -> str:
    """Where the figure is taken: ``at FMR 10⁻³`` / ``at threshold 0.5`` / ``at the EER``."""
    fig = d.str("figure")
    if fig == "fnmr_at_fmr":
        return f"at FMR {fmt.target_text(d.num('target'))}"
    if fig == "fnir_at_fpir":
        return f"at FPIR {fmt.target_text(d.num('target'))}"
    if fig == "eer":
        return "at the equal error rate"
    if fig == "fnir_rank1":
        return "at rank 1, whatever the score"
    return f"at threshold {fmt.fmt_threshold(d.num('threshold_a'))}{orientation_note}"


def difference_sentence(d: Node, *, confidence: float, unit: str, pairs: int, method: str) -> str:
    """One sentence for one difference ``a - b`` (see the module docstring)."""
    fig = d.str("figure")
    verb, label = _WHAT[fig]
    a, b = d.str("a"), d.str("b")
    va, vb = d.obj("value_a").opt_num("value"), d.obj("value_b").opt_num("value")
    diff = d.num("difference")
    lo, hi = (float(v) for v in d.list("ci"))
    if diff > 0:  # name the lower-error system first
        a, b, va, vb, diff, lo, hi = b, a, vb, va, -diff, -hi, -lo
    conf = fmt.fmt_confidence(confidence)
    figures = (
        f"{pct(va)} vs {pct(vb)}, a difference of {points(diff)} points "
        f"({conf} CI {points(lo)} to {points(hi)}), paired by {unit}"
    )
    adjusted = ""
    if pairs > 1 and method != "none":
        q = fmt.fmt_num(d.num("adjusted_p"), 2)
        adjusted = f"; {_METHODS.get(method, method)}-adjusted p = {q} over {pairs} pairs"
    head = where(d)
    if d.bool("indistinguishable") or diff == 0:
        return (
            f"{head[0].upper()}{head[1:]}, {a} and {b} ({label}): {figures}{adjusted}; the data "
            "cannot tell them apart."
        )
    return f"{head[0].upper()}{head[1:]}, {a} {verb} {b}: {figures}{adjusted}."
