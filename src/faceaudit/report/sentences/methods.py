"""Methods and limitations in words: threshold provenance, interval methods, what data cannot
support (small n, bounds, extrapolation, assumptions)."""

from __future__ import annotations

import math

from faceaudit.report import format as fmt
from faceaudit.report._data import Node
from faceaudit.report.sentences.demographics import VOCAB


def _targets(ops: list[Node], key: str) -> str:
    return ", ".join(fmt.target_text(o[key]) for o in ops if o[key] is not None)


def _people_tested(res: Node) -> int | None:
    """The people a subject bootstrap resampled (1:1 first, else 1:N), None without one."""
    for key in ("verification", "identification"):
        boot = res[key].get("bootstrap") if key in res else None
        if boot is not None and boot.get("unit") == "subject" and boot.get("n_units"):
            return int(boot["n_units"])
    return None


def _rare_kinds_text(people: int, confidence: float) -> str:
    """What no interval on ``people`` people can hold: a kind of person absent from them.

    A kind with population share ``q`` is missing from ``k`` people with chance ``(1 - q)^k``,
    more than ``1 - confidence`` when ``q < -ln(1 - confidence) / k`` (about 3 / k at 95%).
    Validation: with 100 people, 2% strong "wolf-lambs" were absent from 13% of the data sets
    and FMR intervals covered 1 of those 15 (``docs/validation.md``).
    """
    alpha = 1.0 - float(confidence)
    one_in = people / -math.log(alpha) if 0 < alpha < 1 else float("nan")
    return (
        f"The intervals describe people like the {fmt.fmt_count(people)} tested: a kind of "
        f"person rarer than about 1 in {fmt.fmt_count(round(one_in))} has more than a "
        f"{fmt.fmt_confidence(alpha)} chance of not being among them, and errors such people "
        "would cause (someone many others resemble, a rare look-alike) are in no figure or "
        "interval here."
    )


def limitations(res: Node) -> list[str]:
    """What these data cannot support, in plain words (small n, bounds, extrapolation, ...)."""
    out, s = [], res.obj("settings")
    if res.bool("synthetic"):
        out.append("The data are synthetic: no figure here is a finding about any real system.")
    if s.get("bootstrap") == 0:
        out.append("No bootstrap was run: rates carry no interval (bounds aside).")
    if s.get("bootstrap_unit") == "comparison":
        out.append(
            "Without subject ids the bootstrap resamples comparisons, not people: "
            "intervals are probably too narrow."
        )
    if (people := _people_tested(res)) is not None:
        out.append(_rare_kinds_text(people, s.get("confidence", 0.95)))
    for key, tk, rk, noun in (
        ("verification", "fmr_target", "fmr", "non-mated comparisons"),
        ("identification", "fpir_target", "fpir", "non-mated searches"),
    ):
        if key not in res:
            continue
        ops, up = res.obj(key).objs("operating_points"), rk.upper()
        unsupported = [o for o in ops if not o.bool("supported")]
        bounds = [o for o in ops if o.bool("supported") and o.rate(rk)["upper_bound"]]
        if t := _targets(unsupported, tk):
            out.append(
                f"{up} targets {t} are not supported by the data: too few {noun} to "
                "show a rate that small, so no figure is given."
            )
        if t := _targets(bounds, tk):
            out.append(
                f"At {up} targets {t} no error was observed: the {up} is a one-sided "
                "upper bound, not an estimate."
            )
    for key in ("demographics", "identification_demographics"):
        if key in res:
            out += _group_limits(res.obj(key))
    if "scale" in res:
        out += _scale_limits(res.obj("scale"))
    if "impact" in res:
        imp = res.obj("impact")
        out.append(
            "What a hit means depends on the prevalence, which the audit cannot measure: "
            "the figures are given across a range of assumed values."
        )
        if imp.obj("fpir_at_gallery").str("basis") == "extrapolated":
            out.append(
                "The impact figures use an FPIR extrapolated to the field's gallery size, "
                "not measured there."
            )
        if g := [x.str("group") for x in imp.objs("groups") if not x.opt_str("prevalence_basis")]:
            out.append(f"No basis was stated for the prevalence of group(s) {', '.join(g)}.")
    if "identification" in res and res.obj("identification").opt_obj("approximate_search"):
        out.append("Searches used an approximate index: an exact search may rank differently.")
    return out


def _group_limits(d: Node) -> list[str]:
    fp, fn, *_ = VOCAB[d.str("mode")]
    out = []
    if not d.bool("threshold_supported"):
        out.append(
            f"The demographic threshold ({d.str('threshold_source')}) is not supported by "
            "the data; the differentials are measured at it all the same."
        )
    for key in (fp, fn):
        groups = d.objs("groups")
        if bad := [g.str("group") for g in groups if not g.bool(f"{key}_supported")]:
            out.append(
                f"Too few comparisons to support the {key.upper()} of group(s) "
                f"{', '.join(bad)} (support rule: comparisons and people): shown, but flagged."
            )
        if few := [g.str("group") for g in groups if g.bool(f"{key}_few_errors")]:
            out.append(
                f"The {key.upper()} of group(s) {', '.join(few)} rests on fewer than 30 "
                "errors (rule of 30): wide relative uncertainty."
            )
    return out


def _scale_limits(s: Node) -> list[str]:
    target, largest = s.int("target_gallery_size"), s.int("gallery_size")
    out = []
    if target > largest:
        out.append(
            f"FPIR at {fmt.fmt_count(target)} enrolled is extrapolated "
            f"{fmt.fmt_num(target / max(largest, 1), 2)}× beyond the largest measured "
            f"gallery ({fmt.fmt_count(largest)}), by a model of each search's score tail "
            "(FPIR the mean over searches, not one pooled rate, which would overstate it)."
        )
    b = s.opt_obj("beyond_data")
    if b is not None and b.bool("flagged"):
        out.append(
            "The false-match rate per comparison that this extrapolation rests on is rarer than "
            "anything these comparisons can show: the extrapolated figures are beyond the data."
            if b.get("basis") != "band"
            else "The false-match rate per comparison that this extrapolation rests on is "
            "within what these comparisons can show, but its band is not: the data cannot rule "
            "out that the extrapolated figures are beyond them."
        )
    val = s.opt_obj("validation")
    if val is None or "skipped" in val:
        out.append("The extrapolation could not be checked against measurement on these data.")
    elif off := [
        fmt.fmt_count(p.int("gallery_size")) for p in val.objs("points") if p["inside"] is False
    ]:
        out.append(f"The extrapolation missed the measured FPIR at N = {', '.join(off)}.")
    return out


def threshold_provenance(res: Node) -> list[str]:
    """Which data fixed each threshold, one sentence per analysis that has one."""
    out = []
    if "verification" in res:
        ops = res.obj("verification").objs("operating_points")
        given = [fmt.fmt_threshold(o["threshold"]) for o in ops if o["fmr_target"] is None]
        text = (
            "1:1: each FMR target's threshold was chosen on these data (the inputs listed under "
            "Reproducibility) as the one with the lowest FNMR at FMR ≤ target."
        )
        if given:
            text += (
                f" Threshold(s) {', '.join(given)} were given, fixed elsewhere, and applied "
                "unchanged."
            )
        out.append(text)
    if "identification" in res:
        i = res.obj("identification")
        given = [
            fmt.fmt_threshold(o["threshold"])
            for o in i.objs("operating_points")
            if o["fpir_target"] is None
        ]
        text = f"1:N: thresholds {i.str('threshold_source')}."
        if given:
            text += f" Threshold(s) {', '.join(given)} were given and applied unchanged."
        out.append(text)
    if "scale" in res:
        s, settings = res.obj("scale"), res.obj("settings")
        source = settings.get("threshold_source") or "set for this run"
        out.append(
            f"Gallery size: one threshold, {fmt.fmt_threshold(s.num('threshold'))}, held fixed "
            f"for every gallery size ({source})."
        )
    for key, name in (("demographics", "1:1"), ("identification_demographics", "1:N")):
        if key in res:
            d = res.obj(key)
            out.append(
                f"Demographics ({name}): one global threshold, "
                f"{fmt.fmt_threshold(d.opt_num('threshold'))}, fixed on "
                f"{d.str('threshold_source')} and applied to every group."
            )
    if "impact" in res:
        imp = res.obj("impact")
        t = imp.opt_num("threshold")
        at = f"threshold {fmt.fmt_threshold(t)}" if t is not None else "the 1:N threshold"
        n = fmt.fmt_count(imp.int("gallery_size"))
        out.append(f"Impact: the 1:N rates at {at}, for a gallery of {n}.")
    return out


def interval_methods(res: Node) -> list[str]:
    """How each interval was made, in words."""
    s = res.obj("settings")
    conf = fmt.fmt_confidence(s.get("confidence", 0.95))
    out = [
        f"Intervals are at {conf} confidence. With no error observed, a rate is given as an "
        "exact binomial upper bound at the one-sided level of each end of the interval "
        "(97.5% for a 95% interval: 1 − 0.025^(1/k), about 3.7/k), counted on the k "
        "independent people it rests on, not on their comparisons; marked “≤”. With every "
        "trial an error, likewise a lower bound, marked “≥”."
    ]
    if "bootstrap" in s:
        unit = s.get("bootstrap_unit", "subject")
        out.append(
            f"Rates: {_interval_words(res)}bootstrap, {fmt.fmt_count(s['bootstrap'])} "
            f"replicates, resampling {unit}s (comparisons that share a person are not "
            "independent; ISO/IEC 19795-1), seed " + str(s.get("seed", "not recorded")) + "."
        )
    if "verification" in res:
        out.append(
            "Generalised FMR/FNMR (failures to acquire counted): exact binomial "
            "(Clopper–Pearson) intervals."
        )
    if "identification" in res:
        two_way = (res["identification"].get("bootstrap") or {}).get("design") == "two-way"
        who = (
            "the searched people and the gallery subjects of the wrongly returned candidates "
            "(a false positive involves both)"
            if two_way
            else "the searched people"
        )
        out.append(
            f"1:N: bootstrap over {who}, mated and non-mated searches in the same replicate; "
            "the threshold for an FPIR target is re-chosen in every replicate for its FNIR."
        )
    if "scale" in res:
        out.append(
            "Gallery size: two-way bootstrap (probe and gallery subjects resampled together), "
            "the generalised Pareto tail refitted in each replicate."
        )
    if "demographics" in res or "identification_demographics" in res:
        out.append(
            "Demographics: subjects resampled within their group, one draw for all groups, so "
            "ratios and summaries have joint intervals; a ratio's reference (the group with the "
            "lowest rate) is re-chosen in every replicate to measure how much choosing it on "
            "the data flatters it, and the ratio's interval is corrected by that; the "
            "threshold stays fixed."
        )
    if "identification_demographics" in res:
        out.append(
            "1:N by group: a group's false positives come mostly from people of that group in "
            "the gallery, so its FPIR and its interval hold for a gallery of this make-up; a "
            "gallery with another demographic mix has other rates."
        )
    if "compare" in res:
        out.append(
            "System comparison: one bootstrap shared by every system (replicate r resamples the "
            "same people for all of them), each system's operating points re-chosen inside every "
            "replicate; a difference's interval is the percentile interval of the paired "
            "replicate differences; McNemar's exact test at fixed thresholds treats comparisons "
            "as independent; p-values are adjusted across the pairs of systems."
        )
    if "impact" in res:
        out.append(
            "Impact: every figure computed on each joint bootstrap replicate of (FPIR, FNIR at "
            "rank 1, wrong person at rank 1); percentile intervals, no linearisation."
        )
    if "field_log" in res:
        out.append("Field log: exact (Clopper–Pearson) intervals on the disclosed counts.")
    return out


def _interval_words(res) -> str:
    """How the rates' intervals were formed from the replicates (``bootstrap.interval``)."""
    for key in ("verification", "identification", "demographics", "identification_demographics"):
        node = res.opt_obj(key) if key in res else None
        boot = node.opt_obj("bootstrap") if node is not None and "bootstrap" in node else None
        if boot is not None and boot.get("interval") == "korn-graubard":
            return (
                "Korn–Graubard intervals (exact binomial at the effective number of independent "
                "comparisons that the replicates' variance implies, so a rate carried by a few "
                "people gets the wider, skewed interval it needs) from a "
            )
    return "percentile "
