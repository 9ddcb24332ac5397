"""Words for operating points chosen on the data: what their intervals mean, what the choice
costs (its optimism), and why a target is not supported.

An operating point "FNMR at FMR target" (or FNIR at an FPIR target) has its threshold chosen on
these data; every bootstrap replicate re-chooses its own (:mod:`faceaudit.stats.operating`), so
the interval is for the system's rate at the target. The same count's interval at the threshold
held fixed is given beside it. A threshold chosen on a sample flatters it: on new people it gives
a slightly different false-positive rate and a worse false-negative rate than it showed where it
was chosen; the bootstrap estimates by how much (the ``optimism`` object of results.json).
"""

from __future__ import annotations

import math
from typing import Any

from faceaudit.report import format as fmt
from faceaudit.report._data import Node

__all__ = ["optimism_sentence", "support_text", "threshold_detail"]


def threshold_detail(o: Node, confidence: float) -> str:
    """``(95% CI 0.121–0.124 over replicates)`` for a re-chosen threshold, else ``""``."""
    ci = o.get("threshold_ci")
    if not ci:
        return ""
    lo, hi = (fmt.fmt_threshold(v) for v in ci)
    return f"({fmt.fmt_confidence(confidence)} CI {lo}–{hi} over replicates)"


def support_text(target: Any, have: Any, noun: str, support: Node | None) -> str:
    """The words instead of a figure the data cannot support.

    With the ``support`` object: ``not supported by the data (needs ≥ 37 non-mated comparisons
    from ≥ 30 people; have 1,200 from 12)``; without it the comparisons rule alone.
    """
    if support is None:
        need = ""
        if fmt.is_number(target) and target > 0:
            need = f" = {fmt.fmt_count(math.ceil(3 / target - 1e-9))}"
        have_s = fmt.fmt_count(have) if have is not None else "fewer"
        return f"not supported by the data (needs ≥ 3/target{need} {noun}; have {have_s})"
    people = support.opt_int("n_subjects")
    need = f"needs ≥ {fmt.fmt_count(support.int('min_comparisons'))} {noun}"
    got = f"have {fmt.fmt_count(support.int('n_comparisons'))}"
    if people is not None:
        need += f" from ≥ {fmt.fmt_count(support.int('min_subjects'))} people"
        got += f" from {fmt.fmt_count(people)}"
    return f"not supported by the data ({need}; {got})"


def optimism_sentence(o: Node, fp: str, fn: str, label: str) -> str | None:
    """What choosing this point's threshold on the data costs, in words (None without a
    bootstrap estimate). ``fp``/``fn`` are ``fmr``/``fnmr`` or ``fpir``/``fnir``."""
    opt = o.get("optimism")
    if opt is None:
        return None
    ratio, gap = opt.opt_num(f"{fp}_realised_ratio"), opt.opt_num(f"{fn}_optimism")
    corrected = opt.opt_num(f"{fn}_bias_corrected")
    if ratio is None or gap is None:
        return None
    up, dn = fp.upper(), fn.upper()
    if gap > 0:
        looks = (
            f"an {dn} about {fmt.fmt_num(gap * 100, 2)} percentage points worse than it looks "
            "where it was chosen"
        )
    else:
        looks = f"no worse an {dn} than it looks where it was chosen"
    text = (
        f"A threshold chosen on the data flatters it. At {label}, the bootstrap estimates that a "
        f"threshold chosen this way gives, on new people, an {up} of "
        f"{fmt.fmt_num(ratio, 2)}× the target on average and {looks}"
    )
    if corrected is not None:
        text += f" (bias-corrected {dn}: {fmt.fmt_num(corrected)})"
    return text + "."
