"""Demographic differentials in words: one sentence per differential, made from the JSON figures.

The wording is the one :mod:`faceaudit.analyses.demographics` used for its ``sentences`` list, so
reports read the same; the most important differential comes first (supported FMR differentials,
then others; bounds; small groups; the highest cross-group FMR; subjects without metadata).
"""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report._data import Node

#: mode -> (fp, fn, lead_fp, those_fp, lead_fn, what_fp, what_fn, errors_fp, errors_fn)
VOCAB = {
    "verification": (
        "fmr",
        "fnmr",
        "people in group {g} are falsely matched",
        "as often as those in group {b}",
        "people in group {g} are falsely rejected",
        "non-mated comparisons within the group",
        "mated comparisons",
        "false matches",
        "false non-matches",
    ),
    "identification": (
        "fpir",
        "fnir",
        "searches of people in group {g} who are not enrolled return a false candidate",
        "as often as those of group {b}",
        "searches of enrolled people in group {g} miss their mate",
        "non-mated searches",
        "mated searches",
        "false candidates",
        "missed mates",
    ),
}
RULE_OF_30 = 30


def _fx(r: float) -> str:
    """A ratio: ``0.27``, ``8.3``, ``12.0``, ``140``."""
    if r < 1:
        return f"{r:.2g}"
    return f"{r:.1f}" if r < 100 else f"{r:.0f}"


def ratio_text(r: Node, confidence: float) -> str:
    """A group's ratio to the best group: ``8.3× (95% CI 5.1–12) vs male``."""
    conf, ref, ci = fmt.fmt_confidence(confidence), f" vs {r.str('reference_group')}", r["ci"]
    if r.bool("upper_bound"):
        return f"≤ {fmt.fmt_num(ci[1] if ci else None)}× (no errors observed){ref}"
    v = r.opt_num("value")
    if v is None:
        return "—"
    if ci:
        return f"{fmt.fmt_num(v)}× ({conf} CI {fmt.fmt_num(ci[0])}–{fmt.fmt_num(ci[1])}){ref}"
    if r.get("ci_unbounded"):
        low = r.get("ci_low")
        frm = f"from {fmt.fmt_num(low)}, " if low is not None else ""
        return f"{fmt.fmt_num(v)}× ({conf} CI {frm}no upper limit){ref}"
    return f"{fmt.fmt_num(v)}×{ref}"


def demographic_sentences(d) -> list[str]:
    """Plain statements of the differentials, the most important first.

    ``d`` is a demographics result (:class:`~faceaudit.analyses.demographics.DemographicsResult`),
    its ``to_json()`` mapping (the ``demographics`` key of results.json) or a :class:`Node` of it.
    """
    if not isinstance(d, Node):
        d = Node(d.to_json() if hasattr(d, "to_json") else d)
    fp, fn, *_ = VOCAB[d.str("mode")]
    conf = d.obj("bootstrap").num("confidence")
    rows = d.objs("groups")
    best = d.obj("best_group")
    out: list[tuple[float, str]] = []
    for kind, key in (("fp", fp), ("fn", fn)):
        overall = d.rate(f"overall_{key}")["value"]
        out += _rate_sentences(
            d.str("mode"), kind, rows, best.opt_str(key), overall, conf, d.int("min_subjects")
        )
    out.sort(key=lambda p: -p[0])
    sentences = [s for _, s in out]
    cross = d.objs("cross_fmr")
    ok = [c for c in cross if c.bool("supported") and c.rate("fmr")["count"] > 0]
    if ok and len(rows) > 1:
        top = max(ok, key=lambda c: c.rate("fmr")["value"])  # the first of equals, as the analysis
        pg, rg, r = top.str("probe_group"), top.str("reference_group"), top.rate("fmr")
        where = (
            f"people of group {pg} compared with people of group {rg}"
            if pg != rg
            else f"people of group {pg} compared with others of that group"
        )
        ci = (
            f" ({fmt.fmt_confidence(conf)} CI {r['ci'][0]:.3g}–{r['ci'][1]:.3g})" if r["ci"] else ""
        )
        sentences.append(
            f"Across groups, the highest false match rate at this threshold is for {where}: "
            f"{r['value']:.3g}{ci}."
        )
    n_without = d.obj("coverage").int("subjects_without_metadata")
    if n_without:
        sentences.append(
            f"{n_without} subjects of the data have no metadata; they are counted in an "
            "'unknown' group, shown with the others."
        )
    return sentences


def _rate_sentences(
    mode, kind, rows, best_name, overall, conf, min_subjects
) -> list[tuple[float, str]]:
    fp, fn, lead_fp, those_fp, lead_fn, what_fp, what_fn, err_fp, err_fn = VOCAB[mode]
    key = fp if kind == "fp" else fn
    upper, what, errors = (
        key.upper(),
        (what_fp, what_fn)[kind == "fn"],
        (err_fp, err_fn)[kind == "fn"],
    )
    lead = lead_fp if kind == "fp" else lead_fn
    those = those_fp if kind == "fp" else "as often as those in group {b}"
    if overall is None:
        return []
    if overall == 0:
        return [
            (
                0.5,
                f"No {errors} at all at this threshold, so {upper} differentials between "
                "groups cannot be measured (every group's figure is a zero-error bound).",
            )
        ]
    if best_name is None:
        return [
            (
                0.5,
                f"No group has enough {what} and people (support rule) and at least one of "
                f"the {errors} to serve as the reference, so {upper} ratios between groups "
                "cannot be measured.",
            )
        ]
    best = next(r for r in rows if r.str("group") == best_name)
    best_rate = best.rate(key)
    pct, out = fmt.fmt_confidence(conf), []
    for row in rows:
        name, rate, ratio = row.str("group"), row.rate(key), row.get(f"{key}_ratio")
        if row is best or ratio is None:
            if row is not best and rate["n"] == 0:
                out.append((0.1, f"Group {name} has no {what}, so its {upper} cannot be measured."))
            continue
        if not row.bool(f"{key}_supported"):
            bound = rate.get("bound")
            people = bound.int("n_units") if bound is not None else row.int("n_subjects")
            if people < min_subjects:
                why = (
                    f"rests on too few people ({people:,} subjects; a supported figure needs at "
                    f"least {min_subjects}, Doddington's rule of 30 applied to people)"
                )
            else:
                why = (
                    f"has too few {what} ({rate['n']:,}): even with no error the bound on them "
                    f"would exceed the {upper} over everyone ({overall:.3g})"
                )
            out.append(
                (
                    0.2,
                    f"Group {name} {why}, so it cannot support an {upper} figure at this "
                    "threshold. Its figure is shown but flagged.",
                )
            )
            continue
        if ratio.bool("upper_bound"):
            bound = rate["bound"]
            out.append(
                (
                    1.5,
                    f"No {errors} were observed in group {name} (0 of {rate['n']:,}): its "
                    f"{upper} is at most {rate['ci'][1]:.3g} (a one-sided "
                    f"{bound.num('confidence') * 100:g}% bound on its "
                    f"{bound.int('n_units'):,} subjects), less than "
                    f"1/{_fx(1 / ratio['ci'][1])} of group {best_name}'s "
                    f"({best_rate['value']:.3g}).",
                )
            )
            continue
        out.append(
            _ratio_sentence(row, key, ratio, (lead, those, errors), best_name, best_rate, kind, pct)
        )
    return out


def _ratio_sentence(row, key, ratio, words, best_name, best_rate, kind, pct):
    (lead, those, errors), upper = words, key.upper()
    name, rate, value = row.str("group"), row.rate(key), ratio.num("value")
    head = f"At this threshold, {lead.format(g=name)} {_fx(value)}×"
    tail = f" {those.format(b=best_name)}"
    low = ratio.get("ci_low")
    if ratio["ci"]:
        ci = f" ({pct} CI {_fx(ratio['ci'][0])}–{_fx(ratio['ci'][1])})"
        covers = ratio["ci"][0] <= 1.0 <= ratio["ci"][1]
    elif ratio.get("ci_unbounded"):
        ci = f" ({pct} CI {'' if low is None else f'from {_fx(low)}, '}with no finite upper limit)"
        covers = low is not None and low <= 1.0  # a null ci_low is an infinite one
    else:
        ci, covers = " (no confidence interval: bootstrap off)", False
    if covers:
        text = (
            f"{head}{ci}{tail}; the interval includes 1, so the data cannot tell groups "
            f"{name} and {best_name} apart on {upper}."
        )
        priority = 1.0 + min(value, 1e6) / 1e7
    else:
        text = f"{head}{ci}{tail}."
        priority = 2.0 + min(value, 1e6) / 1e7 + (0.5 if kind == "fp" else 0.0)
    few = [(n, c) for n, c in ((name, rate["count"]), (best_name, best_rate["count"])) if c < 30]
    if few:
        parts = " and ".join(f"{c} in group {n}" for n, c in few)
        text += (
            f" These figures rest on few {errors} ({parts}; fewer than 30), so their "
            "relative uncertainty is large (Doddington's rule of 30)."
        )
    return priority, text
