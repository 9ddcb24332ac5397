"""Where numbers become words: every plain-language sentence of the report is made here.

This package is the one place; its parts: this module (rates, headline figures, impact, field
logs), :mod:`.demographics` (one sentence per differential) and :mod:`.methods` (threshold
provenance, interval methods, limitations).

Inputs are parts of the results dict read strictly (:class:`faceaudit.report._data.Node`); the
functions return plain ``str`` that the HTML template escapes and the Markdown writer escapes.
Numbers inside the sentences are formatted by :mod:`faceaudit.report.format`, so a sentence and
the table beside it print a figure the same way.

Conventions
-----------
- How often, in words: rates from 0.2 up as percentages (``87%``), smaller ones as ``1 in X``
  with X to 2 significant digits (``1 in 310,000``); the tables keep the precise figure.
- A zero-error bound says that no error was seen and gives the bound (one-sided, at the
  intervals' level, on the people it rests on); a figure the data cannot support says so
  instead of giving a number.
- Every sentence that gives a rate gives its interval and the n it rests on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from faceaudit.report import format as fmt
from faceaudit.report._data import Node
from faceaudit.report.blocks import rate_text
from faceaudit.report.sentences.demographics import demographic_sentences, ratio_text
from faceaudit.report.sentences.methods import (
    interval_methods,
    limitations,
    threshold_provenance,
)
from faceaudit.report.sentences.operating import (
    optimism_sentence,
    support_text,
    threshold_detail,
)


def one_in(x: Any) -> str:
    """``1 in 310,000`` for ``3.2e-6`` (X rounded to 2 significant digits)."""
    if not fmt.is_number(x) or x <= 0:
        return "none"
    inv = 1.0 / x
    if inv < 10:
        return f"1 in {inv:.2g}"
    exp = max(math.floor(math.log10(inv)) - 1, 0)
    rounded = round(inv / 10**exp) * 10**exp
    return f"1 in {int(rounded):,}"


def share(x: Any) -> str:
    """How often, in words: ``1 in 310,000`` for small rates, ``87%`` from 0.2 up."""
    if not fmt.is_number(x):
        return "—"
    if x >= 0.2:
        return f"{x * 100:.0f}%"
    return one_in(x)


FMR_VERBS = ("is falsely matched", "are falsely matched", "was falsely matched")
FNMR_VERBS = ("is wrongly rejected", "are wrongly rejected", "was wrongly rejected")
FPIR_VERBS = ("returns a wrong candidate", "return a wrong candidate", "returned a wrong candidate")
FNIR_VERBS = ("misses them", "miss them", "missed them")


def rate_phrase(rate: Node, confidence: float, noun: str, verbs: tuple[str, str, str]) -> str:
    """A rate in words: ``about 1 in 10,000 non-mated comparisons is falsely matched (...)``.

    ``verbs`` = (singular, plural, past singular). A bound says no error was seen.
    """
    sing, plural, past = verbs
    v = rate["value"]
    if rate["upper_bound"]:
        bound = rate["ci"][1] if rate["ci"] else None
        return (
            f"none of the {fmt.fmt_count(rate['n'])} {noun} {past}: the true rate is at most "
            f"about {one_in(bound)} (≤ {fmt.fmt_num(bound)}; {fmt.bound_words(rate)})"
        )
    if v is None:
        return f"no {noun} were available to measure how often one {sing}"
    pct = v >= 0.2

    def words(x: float) -> str:
        return f"{x * 100:.0f}%" if pct else one_in(x)

    head = f"about {words(v)} of {noun} {plural}" if pct else f"about {words(v)} {noun} {sing}"
    conf = fmt.fmt_confidence(confidence)
    if rate["ci"]:
        lo, hi = rate["ci"]
        ci = (
            f"{conf} CI up to {words(hi)}"
            if lo <= 0 and not pct
            else (f"{conf} CI {words(lo)} to {words(hi)}")
        )
        return f"{head} ({fmt.fmt_num(v)}; {ci})"
    return f"{head} ({fmt.fmt_num(v)}; no CI)"


# ---------------------------------------------------------------------------------------------
# Headline figures of the 1:1, 1:N, scale and image analyses


def headline_point(ops: Sequence[Node], key: str, rate_key: str, preferred: Any) -> Node | None:
    """The operating point a summary leads with.

    ``preferred`` target if supported; else the smallest supported target at which errors were
    observed (an estimate says more than a bound); else the smallest supported one.
    """
    supported = [o for o in ops if o.bool("supported") and o[key] is not None]
    if not supported:
        return None
    if fmt.is_number(preferred):
        for o in supported:
            if math.isclose(o.num(key), preferred, rel_tol=1e-9):
                return o
    observed = [o for o in supported if not o.rate(rate_key)["upper_bound"]]
    return min(observed or supported, key=lambda o: o.num(key))


def verification_summary(v: Node, confidence: float) -> str:
    ops = v.objs("operating_points")
    op = headline_point(ops, "fmr_target", "fmr", v.opt_num("headline_fmr_target"))
    n_imp, n_gen = fmt.fmt_count(v.int("n_nonmated")), fmt.fmt_count(v.int("n_mated"))
    if op is not None:
        t = fmt.fmt_threshold(op.opt_num("threshold"))
        fmr_p = rate_phrase(op.rate("fmr"), confidence, "non-mated comparisons", FMR_VERBS)
        fnmr_p = rate_phrase(op.rate("fnmr"), confidence, "mated comparisons", FNMR_VERBS)
        return (
            f"At threshold {t} (chosen for FMR ≤ {fmt.target_text(op['fmr_target'])}), {fmr_p}, "
            f"based on n = {n_imp} non-mated comparisons; and {fnmr_p}, based on n = {n_gen} "
            "mated comparisons."
        )
    eer = v.obj("eer")
    ci = f" ({fmt.fmt_ci(eer, confidence)})" if eer["ci"] else ""
    return (
        f"No FMR target is supported by this much data; at the equal-error threshold "
        f"{fmt.fmt_threshold(eer.num('threshold'))} about {one_in(eer.num('value'))} "
        f"comparisons of either kind is wrong (EER {fmt.fmt_num(eer['value'])}{ci}), based "
        f"on n = {n_imp} non-mated and {n_gen} mated comparisons."
    )


def identification_summary(i: Node, confidence: float) -> str:
    ops = i.objs("operating_points")
    op = headline_point(ops, "fpir_target", "fpir", None)
    n_non, n_mat = fmt.fmt_count(i.int("n_nonmated")), fmt.fmt_count(i.int("n_mated"))
    if op is None:
        return (
            f"No FPIR target is supported by {n_non} non-mated searches: the data cannot show how "
            "often a search for someone not enrolled returns a wrong candidate at these targets."
        )
    fpir_p = rate_phrase(
        op.rate("fpir"), confidence, "searches for someone not enrolled", FPIR_VERBS
    )
    fnir_p = rate_phrase(op.rate("fnir"), confidence, "searches for an enrolled person", FNIR_VERBS)
    return (
        f"Searching a gallery of {fmt.fmt_count(i.int('gallery_size'))} people at threshold "
        f"{fmt.fmt_threshold(op.num('threshold'))}, {fpir_p}, based on n = {n_non} non-mated "
        f"searches; and {fnir_p}, based on n = {n_mat} mated searches."
    )


def scale_summary(s: Node, confidence: float) -> str | None:
    points = s.objs("points")
    if not points:
        return None
    biggest = max(points, key=lambda p: (p.int("gallery_size"), not p.bool("measured")))
    f = biggest.obj("fpir")
    v = f.opt_num("value")
    if v is None:
        return None
    measured = biggest.bool("measured")
    how = "measured" if measured else "extrapolated from a fitted score tail, not measured"
    if not measured and biggest.get("beyond_data"):
        how = "extrapolated from a fitted score tail beyond the data, not measured"
    ci = f"; {fmt.fmt_ci(f, confidence)}" if f["ci"] else ""
    how_often = (
        f"about {share(v)} of searches for someone not enrolled would"
        if v >= 0.2
        else f"about {one_in(v)} searches for someone not enrolled would"
    )
    n = f"; n = {fmt.fmt_count(s.int('n_nonmated'))} non-mated searches" if measured else ""
    return (
        f"With {fmt.fmt_count(biggest.int('gallery_size'))} people enrolled, at threshold "
        f"{fmt.fmt_threshold(s.num('threshold'))}, {how_often} return at least one false "
        f"candidate (FPIR {fmt.fmt_num(v)}{ci}; {how}{n})."
    )


def beyond_data_text(b: Node, n_total: float, threshold: float | None = None) -> str:
    """The beyond-the-data flag in words a judge understands (``b``: a ``scale_beyond``)."""
    fmr = b.num("fmr")
    at = f" at threshold {fmt.fmt_threshold(threshold)}" if threshold is not None else ""
    chance = "zero" if fmr <= 0 else f"about {one_in(fmr)}"
    head = (
        f"Extrapolated beyond the data. The model puts the chance that one comparison with a "
        f"stranger is a false match{at} at {chance}."
    )
    body = (
        f" These data hold {fmt.fmt_count(n_total)} such comparisons, so the rarest event "
        f"they can show is 1 in {fmt.fmt_count(n_total)}"
    )
    times = b.opt_num("times_below")
    lower = b.get("fmr_band_lower")
    if times is not None and times > 1:
        body += f", and this is {fmt.fmt_num(times)} times rarer still"
    elif b.get("basis") == "band" and fmt.is_number(lower):
        rarest = "zero" if lower <= 0 else one_in(lower)
        body += (
            f"; the figure itself is within that, but its band reaches down to {rarest}, "
            "so these data cannot rule out a chance rarer than they can show"
        )
    return (
        head
        + body
        + ". No comparison here can confirm or refute it: the figure is a projection of the "
        "fitted tail, and its band, not the figure, says how far off it may be."
    )


def acquisition_summary(a: Node, confidence: float) -> str:
    return (
        f"{fmt.fmt_count(a.int('n_failed'))} of {fmt.fmt_count(a.int('n_images'))} images gave "
        f"no usable face: failure to acquire (FTA) {rate_text(a.rate('fta'), confidence)}. "
        "They are counted as failures, not dropped."
    )


# ---------------------------------------------------------------------------------------------
# What a hit means (impact) and what a field log shows


def _pct_ci(e: Node, confidence: float) -> str:
    if not e["ci"]:
        return "no interval"
    lo, hi = e["ci"]
    return f"{fmt.fmt_confidence(confidence)} CI {fmt.fmt_pct(lo)}–{fmt.fmt_pct(hi)}"


def wrong_hits_phrase(point: Node, confidence: float, who: str = "hits shown to an officer") -> str:
    """``about 1 in 6.2 hits shown to an officer is the wrong person (PPV 84%, 95% CI ...)``."""
    ppv, fd = point.band("ppv"), point.band("false_discovery")
    if ppv["value"] is None:
        return f"what a hit means cannot be said: {ppv.get('reason') or 'PPV is undefined'}"
    v = fd.num("value")
    ppv_s = f"PPV {fmt.fmt_pct(ppv['value'])}, {_pct_ci(ppv, confidence)}"
    if v == 0:
        return f"no wrong person is expected among the {who} ({ppv_s})"
    if v >= 0.5:
        return f"about {fmt.fmt_pct(v)} of {who} are the wrong person ({ppv_s})"
    ci = ""
    if fd["ci"]:
        lo, hi = fd["ci"]
        low_end = one_in(lo) if lo > 0 else "none"
        ci = f" ({fmt.fmt_confidence(confidence)} CI {one_in(hi)} to {low_end})"
    return f"about {one_in(v)}{ci} {who} is the wrong person ({ppv_s})"


def _expected(e: Node, confidence: float) -> str:
    text = fmt.fmt_num(e["value"])
    if e["ci"]:
        lo, hi = e["ci"]
        text += f" ({fmt.fmt_confidence(confidence)} CI {fmt.fmt_num(lo)}–{fmt.fmt_num(hi)})"
    return text


def per_day_sentence(point: Node, encounters: float, confidence: float) -> str | None:
    """Expected correct hits, wrong hits (of enrolled / not enrolled people) and misses a day."""
    day = point.opt_obj("per_day")
    if day is None:
        return None
    wm, wn = day.band("wrong_hit_mated"), day.band("wrong_hit_nonmated")
    return (
        f"Of {fmt.fmt_num(encounters)} people searched a day, expect about "
        f"{_expected(day.band('correct_hit'), confidence)} correct hits, "
        f"{_expected(day.band('wrong_hit'), confidence)} wrong hits "
        f"({fmt.fmt_num(wm['value'], 2)} of enrolled people shown someone else, "
        f"{fmt.fmt_num(wn['value'], 2)} of people not enrolled) and "
        f"{_expected(day.band('miss'), confidence)} misses (enrolled people not found)."
    )


def headline_points(points: Sequence[Node]) -> list[Node]:
    """The prevalences a verdict states: the user's own, else those nearest 0.1%, 1% and 10%."""
    given = [p for p in points if p.bool("user_given")]
    if given:
        return given
    chosen: list[Node] = []
    for want in (0.01, 0.001, 0.1):
        near = min(points, key=lambda p: abs(math.log(p.num("prevalence") / want)))
        if near not in chosen:
            chosen.append(near)
    return chosen


def impact_sentences(imp: Node, confidence: float) -> list[str]:
    """The verdict of an impact analysis: what one hit means, a day's outcomes, per group."""
    points = headline_points(imp.objs("points"))
    rates = imp.obj("rates")
    n = (
        f"n = {fmt.fmt_count(rates.opt_int('n_mated'))} mated and "
        f"{fmt.fmt_count(rates.opt_int('n_nonmated'))} non-mated searches"
    )
    basis = imp.obj("fpir_at_gallery").str("basis")
    head, rest = points[0], points[1:]
    out = [
        f"Under these assumptions — a gallery of {fmt.fmt_count(imp.int('gallery_size'))}, "
        f"FPIR {basis} at that size, and {fmt.fmt_pct(head.num('prevalence'))} of the people "
        f"searched truly enrolled — {wrong_hits_phrase(head, confidence)}; based on {n}."
    ]
    if rest:
        out.append(
            "If instead "
            + "; if ".join(
                f"{fmt.fmt_pct(p.num('prevalence'))} are enrolled, "
                + wrong_hits_phrase(p, confidence, "hits")
                for p in rest
            )
            + "."
        )
    day = per_day_sentence(head, imp.num("encounters_per_day"), confidence)
    if day:
        out.append(day)
    for g in imp.objs("groups"):
        basis_g = g.opt_str("prevalence_basis")
        assumed = f"basis: {basis_g}" if basis_g else "no basis stated: an assumption only"
        out.append(
            f"For group {g.str('group')} (assumed prevalence {fmt.fmt_pct(g.num('prevalence'))}; "
            f"{assumed}), {wrong_hits_phrase(g, confidence, 'hits')}."
        )
    return out


def field_log_sentences(log: Node) -> list[str]:
    """A field log in words: the PPV of an alert and the false alerts per face scanned."""
    conf = log.num("confidence")
    counts = log.obj("counts")
    src = log.opt_str("source")
    where = f"In the field log of {src}" if src else "In the field log given"
    ppv = log.rate("ppv")
    if ppv["value"] is None:
        out = [f"{where}, no alert was verified, so the share of wrong alerts cannot be said."]
    else:
        out = [
            f"{where}, {fmt.fmt_count(counts.int('confirmed_wrong'))} of "
            f"{fmt.fmt_count(ppv['n'])} verified alerts were the wrong person: "
            f"{wrong_hits_phrase(log, conf, 'alerts')}."
        ]
    per_face = log.rate("false_alerts_per_face")
    if per_face["value"] is not None:
        out.append(
            f"Per face scanned, {rate_phrase(per_face, conf, 'faces', ('raises a false alert', 'raise a false alert', 'raised a false alert'))}"  # noqa: E501
            f", over {fmt.fmt_count(counts.opt_int('scanned'))} faces."
        )
    return out


__all__ = [
    "FMR_VERBS",
    "beyond_data_text",
    "FNMR_VERBS",
    "FPIR_VERBS",
    "FNIR_VERBS",
    "acquisition_summary",
    "demographic_sentences",
    "field_log_sentences",
    "headline_point",
    "headline_points",
    "identification_summary",
    "impact_sentences",
    "interval_methods",
    "limitations",
    "one_in",
    "optimism_sentence",
    "per_day_sentence",
    "rate_phrase",
    "ratio_text",
    "scale_summary",
    "share",
    "support_text",
    "threshold_detail",
    "threshold_provenance",
    "verification_summary",
    "wrong_hits_phrase",
]
