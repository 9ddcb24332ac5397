"""Sentences of the paired demographic differences between systems: one per difference.

``At each system's own threshold for FMR 0.001 on the whole data set, in group female, B falsely
rejects fewer mated comparisons than A: FNMR 3.1% vs 5.0%, a difference of -1.9 points (95% CI
-2.8 to -1.0), paired by subject.`` For a summary over groups (max / geometric mean, max / min)
the system with the smaller differential is named first and the difference is in the summary's
own units (a ratio, 1 = no differential). When the paired interval contains 0 (or the adjusted
p-value exceeds the level with more than two systems) the sentence says the data cannot tell
them apart. A rate not supported by the data in a system is said so.
"""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report._data import Node
from faceaudit.report.sentences.systems import pct, points

__all__ = ["SUMMARY_NAMES", "group_difference_sentence"]

_VERB = {
    "fmr": "falsely matches fewer non-mated comparisons within the group than",
    "fnmr": "falsely rejects fewer mated comparisons than",
    "fpir": "returns fewer false candidates for the group's people not enrolled than",
    "fnir": "misses fewer of the group's enrolled people than",
}

#: Words for a summary figure's statistic.
SUMMARY_NAMES = {"max_over_geomean": "max / geometric mean", "max_over_min": "max / min"}

_METHODS = {"holm": "Holm", "bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}


def _ratio(x) -> str:
    return "—" if not fmt.is_number(x) else f"{float(x):.3g}"


def _signed(x) -> str:
    return "—" if not fmt.is_number(x) else f"{float(x):+.2g}".replace("+", "")


def group_difference_sentence(
    d: Node, *, label: str, confidence: float, pairs: int, method: str
) -> str:
    """One sentence for one :class:`~faceaudit.analyses._system_comparison_groups.
    GroupDifference` (its ``to_json``); ``label``: the operating point's words."""
    rate = d.str("rate")
    up = rate.upper()
    a, b = d.str("a"), d.str("b")
    va, vb = d.obj("value_a").opt_num("value"), d.obj("value_b").opt_num("value")
    sa, sb = d.bool("supported_a"), d.bool("supported_b")
    diff = d.num("difference")
    lo, hi = (float(v) for v in d.list("ci"))
    if diff > 0:  # name the lower one first
        a, b, va, vb, sa, sb, diff, lo, hi = b, a, vb, va, sb, sa, -diff, -hi, -lo
    conf = fmt.fmt_confidence(confidence)
    summary = not d.str("figure").startswith("group_")
    if summary:
        stat = SUMMARY_NAMES[d.str("figure").split("_", 1)[1]]
        over = ", ".join(d.strs("groups_compared"))
        what = f"the {up} differential ({stat} over groups {over})"
        figures = (f"{_ratio(va)} vs {_ratio(vb)}, a difference of {_signed(diff)} "
                   f"({conf} CI {_signed(lo)} to {_signed(hi)}), paired by subject")  # fmt: skip
        verb = f"has a smaller {up} differential than"
        head = f"{label[0].upper()}{label[1:]}"
    else:
        what = up
        figures = (f"{up} {pct(va)} vs {pct(vb)}, a difference of {points(diff)} points "
                   f"({conf} CI {points(lo)} to {points(hi)}), paired by subject")  # fmt: skip
        verb = _VERB[rate]
        head = f"{label[0].upper()}{label[1:]}, in group {d.str('group')}"
    if pairs > 1 and method != "none":
        q = fmt.fmt_num(d.num("adjusted_p"), 2)
        figures += f"; {_METHODS.get(method, method)}-adjusted p = {q} over {pairs} pairs"
    weak = [n for n, ok in ((a, sa), (b, sb)) if not ok]
    caveat = ""
    if weak:
        caveat = (f" (the group's {up} is not supported by the data in {' and '.join(weak)}: "
                  "too few comparisons or people behind it)")  # fmt: skip
    if d.bool("indistinguishable") or diff == 0:
        if summary:
            return (f"{head}, {a} and {b} on {what}: {figures}; the data cannot tell them "
                    f"apart{caveat}.")  # fmt: skip
        return f"{head}, {a} and {b} ({what}): {figures}; the data cannot tell them apart{caveat}."
    if summary:
        return f"{head}, {a} {verb} {b} ({stat} over groups {over}): {figures}."
    return f"{head}, {a} {verb} {b}: {figures}{caveat}."
