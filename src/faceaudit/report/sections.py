"""From a results dict to what the report shows: section contexts, summary sentences, figures.

Each section reads only its own key of the results dict (``verification``, ``identification``,
``scale``, ``acquisition``/``model``, ``demographics``, ``impact``) and is left out when the key is
absent. Nothing is recomputed: numbers are formatted (``faceaudit.report.format``), never derived,
except counting failure reasons and picking which operating point leads the summary.

Contexts hold plain strings; the template escapes every one of them (autoescape), so a file path,
group name or title can never inject markup.

Keys read beyond the documented results.json contract (all optional)
-------------------------------------------------------------------
- ``verification.headline_fmr_target``: the FMR target the summary sentence leads with (default:
  the smallest supported target).
- ``identification.headline_fpir_target``: likewise for 1:N.
- ``scale.threshold_needed``: a dict or list of dicts
  ``{gallery_size, fpir_target, threshold, ci?}``.
- ``scale.tail_fit``: scalars are listed; ``tail_fit.diagnostic = {score, empirical, fitted, lo?,
  hi?}`` (exceedance probabilities) draws the diagnostic plot; ``tail_fit.threshold_u`` marks u.
- ``scale.points[].fpir`` may be a full rate (count, n) for measured points.
- ``acquisition.by_reason`` (or ``reasons``): ``{reason: count}`` used when given, else counted
  from ``failures``.
- ``demographics.groups[].fmr_ratio`` / ``fnmr_ratio``: ``{value, ci}`` ratios to the best group;
  ``fmr_supported`` / ``fnmr_supported`` override ``supported`` per rate; ``flags``: list of str.
- ``impact``: scalars listed, ``impact.sentences`` shown, ``impact.curve = {prevalence, ppv, lo?,
  hi?}`` draws PPV against prevalence.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from faceaudit.report import format as fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from faceaudit.report.figures import Point


class ReportWarning(UserWarning):
    """A figure or section could not be drawn from the results given; the report says so."""


# ---------------------------------------------------------------------------------------------
# Small helpers


def _as_dict(x: Any) -> dict:
    return x if isinstance(x, Mapping) else {}


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, list | tuple) else []


def confidence_of(results: Mapping[str, Any]) -> float:
    c = _as_dict(results.get("settings")).get("confidence")
    return float(c) if fmt.is_number(c) and 0 < c < 1 else 0.95


def _target_text(target: Any) -> str:
    """``10⁻⁴`` for 1e-4, ``0.003`` for 0.003."""
    if not fmt.is_number(target) or target <= 0:
        return fmt.fmt_num(target)
    e = math.log10(target)
    if abs(e - round(e)) < 1e-9 and round(e) <= -2:
        return fmt.fmt_sci(target, 1).replace("1×", "")
    return fmt.fmt_num(target)


def rate_cell(
    rate: Any,
    confidence: float,
    *,
    supported: bool = True,
    unsupported_text: str | None = None,
) -> dict[str, Any]:
    """What a table cell shows for one rate: ``value``, ``detail`` and flags for styling."""
    r = _as_dict(rate)
    if not supported:
        return {
            "value": "",
            "detail": unsupported_text or "not supported by the data",
            "bound": False,
            "unsupported": True,
        }
    if not r and not fmt.is_number(rate):
        return {"value": "—", "detail": "", "bound": False, "unsupported": False}
    if not r:
        return {"value": fmt.fmt_num(rate), "detail": "", "bound": False, "unsupported": False}
    value = fmt.fmt_rate_value(r)
    sample = fmt.fmt_n(r)
    if r.get("upper_bound"):
        n = r.get("n")
        detail = "(rule of 3, no errors observed" + (
            f"; n = {fmt.fmt_count(n)})" if n is not None else ")"
        )
    elif fmt.rate_value(r) is None:
        detail = ""
    else:
        detail = f"({fmt.fmt_ci(r, confidence)}" + (f"; {sample})" if sample else ")")
    return {
        "value": value,
        "detail": detail,
        "bound": bool(r.get("upper_bound")),
        "unsupported": False,
    }


def unsupported_text(target: Any, have: Any, noun: str) -> str:
    """The text shown instead of a figure the data cannot support.

    E.g. ``not supported by the data (needs ≥ 3/target = 30,000 impostor comparisons;
    have 12,000)``.
    """
    need = ""
    if fmt.is_number(target) and target > 0:
        need = f" = {fmt.fmt_count(math.ceil(3 / target - 1e-9))}"
    have_s = fmt.fmt_count(have) if have is not None else "fewer"
    return f"not supported by the data (needs ≥ 3/target{need} {noun}; have {have_s})"


def _short_hash(h: Any) -> str:
    s = str(h or "")
    return s[:12] + "…" if len(s) > 12 else s


def _rate_phrase(rate: Any, confidence: float, noun: str, verbs: tuple[str, str, str]) -> str:
    """A rate in words, e.g. ``about 1 in 10,000 impostor comparisons is falsely matched (...)``.

    ``verbs`` = (singular, plural, past singular): ("is falsely matched", "are falsely matched",
    "was falsely matched"). Rates from 0.2 up are given as percentages, smaller ones as "1 in X";
    a rule-of-3 bound says no error was seen and gives the bound.
    """
    sing, plural, past = verbs
    r = _as_dict(rate)
    v = fmt.rate_value(r)
    if r.get("upper_bound"):
        ci = r.get("ci")
        bound = ci[1] if isinstance(ci, list | tuple) and len(ci) == 2 else None
        return (
            f"none of the {fmt.fmt_count(r.get('n'))} {noun} {past}: the true rate is at most "
            f"about {fmt.one_in(bound)} (≤ {fmt.fmt_num(bound)}, rule of 3, no errors observed)"
        )
    if v is None:
        return f"no {noun} were available to measure how often one {sing}"
    pct = v >= 0.2

    def words(x: float) -> str:
        return f"{x * 100:.0f}%" if pct else fmt.one_in(x)

    head = f"about {words(v)} of {noun} {plural}" if pct else f"about {words(v)} {noun} {sing}"
    ci = r.get("ci")
    conf = fmt.fmt_confidence(confidence)
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(fmt.is_number(c) for c in ci):
        lo, hi = float(ci[0]), float(ci[1])
        ci_s = (
            f"{conf} CI up to {words(hi)}"
            if lo <= 0 and not pct
            else f"{conf} CI {words(lo)} to {words(hi)}"
        )
        return f"{head} ({fmt.fmt_num(v)}; {ci_s})"
    return f"{head} ({fmt.fmt_num(v)}; no CI)"


_FMR_VERBS = ("is falsely matched", "are falsely matched", "was falsely matched")
_FNMR_VERBS = ("is wrongly rejected", "are wrongly rejected", "was wrongly rejected")
_FPIR_VERBS = (
    "returns a wrong candidate",
    "return a wrong candidate",
    "returned a wrong candidate",
)
_FNIR_VERBS = ("misses them", "miss them", "missed them")


# ---------------------------------------------------------------------------------------------
# Header


def header_context(results: Mapping[str, Any]) -> dict[str, Any]:
    settings = _as_dict(results.get("settings"))
    inputs = []
    for item in _as_list(results.get("inputs")):
        d = _as_dict(item)
        inputs.append(
            {
                "path": str(d.get("path", "")),
                "sha256": str(d.get("sha256") or ""),
                "sha256_short": _short_hash(d.get("sha256")),
                "records": fmt.fmt_count(d.get("records")),
            }
        )
    labels = {
        "orientation": "Score orientation",
        "bootstrap": "Bootstrap resamples (B)",
        "confidence": "Confidence level",
        "bootstrap_unit": "Bootstrap unit",
        "seed": "Random seed",
    }
    rows = []
    for key, label in labels.items():
        if key in settings:
            v = settings[key]
            if key == "confidence":
                text = fmt.fmt_confidence(v)
            elif key == "orientation":
                text = {
                    "similarity": "similarity (higher = more alike; match if score ≥ threshold)",
                    "distance": "distance (lower = more alike; match if distance ≤ threshold)",
                }.get(str(v), str(v))
            elif key == "bootstrap_unit":
                text = {
                    "subject": "subject (people resampled; comparisons sharing a person stay "
                    "together)",
                    "comparison": "comparison (no subject ids: intervals may be too narrow)",
                }.get(str(v), str(v))
            elif key == "seed":
                text = str(v)
            else:
                text = fmt.fmt_value(v)
            rows.append({"label": label, "value": text})
    for key, v in settings.items():
        if key in labels or key == "show_identities":
            continue
        if isinstance(v, str | int | float | bool) or v is None:
            text = str(v) if "seed" in key and isinstance(v, int) else fmt.fmt_value(v)
            rows.append({"label": fmt.humanize_key(key), "value": text})
    versions = _as_dict(results.get("versions"))
    if versions:
        rows.append(
            {
                "label": "Software versions",
                "value": ", ".join(f"{k} {v}" for k, v in versions.items()),
            }
        )
    return {
        "title": str(results.get("title") or "faceaudit report"),
        "version": str(results.get("faceaudit_version") or "unknown"),
        "created": str(results.get("created") or ""),
        "synthetic": bool(results.get("synthetic")),
        "inputs": inputs,
        "settings": rows,
        "warnings": [str(w) for w in _as_list(results.get("warnings"))],
    }


# ---------------------------------------------------------------------------------------------
# Verification (1:1)


def _headline_op(ops: list[dict], key: str, rate_key: str, preferred: Any) -> dict | None:
    """The operating point the summary leads with.

    ``preferred`` target if given and supported; else the smallest supported target at which
    errors were observed (an estimate says more than a bound); else the smallest supported one.
    """
    supported = [o for o in ops if o.get("supported", True) and fmt.is_number(o.get(key))]
    if not supported:
        return None
    if fmt.is_number(preferred):
        for o in supported:
            if math.isclose(o[key], preferred, rel_tol=1e-9):
                return o
    observed = [o for o in supported if not _as_dict(o.get(rate_key)).get("upper_bound")]
    return min(observed or supported, key=lambda o: o[key])


def verification_summary(v: Mapping[str, Any], confidence: float) -> str:
    ops = [_as_dict(o) for o in _as_list(v.get("operating_points"))]
    op = _headline_op(ops, "fmr_target", "fmr", v.get("headline_fmr_target"))
    n_imp = fmt.fmt_count(v.get("n_impostor"))
    n_gen = fmt.fmt_count(v.get("n_genuine"))
    if op is not None:
        t = fmt.fmt_threshold(op.get("threshold"))
        fmr_p = _rate_phrase(op.get("fmr"), confidence, "impostor comparisons", _FMR_VERBS)
        fnmr_p = _rate_phrase(op.get("fnmr"), confidence, "genuine comparisons", _FNMR_VERBS)
        return (
            f"At threshold {t} (chosen for FMR ≤ {_target_text(op.get('fmr_target'))}), {fmr_p}, "
            f"based on n = {n_imp} impostor comparisons; and {fnmr_p}, based on n = {n_gen} "
            "genuine comparisons."
        )
    eer = _as_dict(v.get("eer"))
    if fmt.is_number(eer.get("value")):
        ci = eer.get("ci")
        ci_s = (
            f" ({fmt.fmt_confidence(confidence)} CI {fmt.fmt_num(ci[0])}–{fmt.fmt_num(ci[1])})"
            if isinstance(ci, list | tuple) and len(ci) == 2
            else ""
        )
        return (
            f"No FMR target is supported by this much data; at the equal-error threshold "
            f"{fmt.fmt_threshold(eer.get('threshold'))} about {fmt.one_in(eer['value'])} "
            f"comparisons of either kind is wrong (EER {fmt.fmt_num(eer['value'])}{ci_s}), based "
            f"on n = {n_imp} impostor and {n_gen} genuine comparisons."
        )
    return f"Verification results based on n = {n_imp} impostor and {n_gen} genuine comparisons."


def verification_context(v: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    conf = confidence_of(results)
    orientation = _as_dict(results.get("settings")).get("orientation", "similarity")
    units = str(v.get("threshold_units") or "")
    facts = []
    for key, label in (
        ("n_genuine", "Genuine comparisons (same person)"),
        ("n_impostor", "Impostor comparisons (different people)"),
        ("genuine_fta", "Genuine comparisons with no score (failure to acquire)"),
        ("impostor_fta", "Impostor comparisons with no score (failure to acquire)"),
    ):
        if key in v:
            facts.append({"label": label, "value": fmt.fmt_value(v[key], conf)})
    if fmt.is_number(v.get("auc")):
        facts.append({"label": "Area under the ROC curve (AUC)", "value": f"{v['auc']:.6f}"})

    eer = _as_dict(v.get("eer"))
    eer_ctx = None
    if eer:
        ci = eer.get("ci")
        eer_ctx = {
            "value": fmt.fmt_num(eer.get("value")),
            "ci": (
                f"{fmt.fmt_confidence(conf)} CI {fmt.fmt_num(ci[0])}–{fmt.fmt_num(ci[1])}"
                if isinstance(ci, list | tuple) and len(ci) == 2
                else "no CI"
            ),
            "threshold": fmt.fmt_threshold(eer.get("threshold")),
            "fmr": fmt.fmt_value(eer.get("fmr"), conf) if "fmr" in eer else None,
            "fnmr": fmt.fmt_value(eer.get("fnmr"), conf) if "fnmr" in eer else None,
        }

    rows = []
    has_gen = False
    for o in _as_list(v.get("operating_points")):
        o = _as_dict(o)
        supported = bool(o.get("supported", True))
        have = _as_dict(o.get("fmr")).get("n")
        if have is None:
            have = v.get("n_impostor")
        row = {
            "target": _target_text(o.get("fmr_target")),
            "threshold": fmt.fmt_threshold(o.get("threshold")) if supported else "—",
            "supported": supported,
            "unsupported_text": unsupported_text(o.get("fmr_target"), have, "impostor comparisons"),
            "fmr": rate_cell(o.get("fmr"), conf),
            "fnmr": rate_cell(o.get("fnmr"), conf),
            "gfmr": None,
            "gfnmr": None,
        }
        if "generalized_fmr" in o or "generalized_fnmr" in o:
            has_gen = True
            row["gfmr"] = rate_cell(o.get("generalized_fmr"), conf)
            row["gfnmr"] = rate_cell(o.get("generalized_fnmr"), conf)
        rows.append(row)

    if orientation == "distance":
        note = (
            "Scores are distances: lower means more alike, and a comparison is a match when the "
            "distance is at or below the threshold. Thresholds are shown in the file's own units."
        )
    else:
        note = (
            "Scores are similarities: higher means more alike, and a comparison is a match when "
            "the score is at or above the threshold."
        )
    if units:
        note += f" Threshold units: {units}."
    return {
        "summary": verification_summary(v, conf),
        "note": note,
        "facts": facts,
        "eer": eer_ctx,
        "rows": rows,
        "has_generalized": has_gen,
        "figures": [
            (
                "det",
                "DET curve: each point is one threshold; lower-left is better. Squares mark "
                "the FMR targets, the circle the equal error rate. Both axes are logarithmic and "
                "span the data.",
            ),
            (
                "score_histogram",
                "Score distributions of genuine and impostor comparisons, each as "
                "a share of its own total; the right panel uses a log scale to show the tails, "
                "where errors happen. Dashed lines: thresholds of the operating points.",
            ),
        ],
    }


def verification_figures(v: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Figure]:
    from faceaudit.report import figures as F

    out: dict[str, Figure] = {}
    det = _as_dict(v.get("det"))
    ops = [_as_dict(o) for o in _as_list(v.get("operating_points"))]
    marks = []
    thresholds = []
    for o in ops:
        if not o.get("supported", True):
            continue
        x, y = fmt.rate_value(o.get("fmr")), fmt.rate_value(o.get("fnmr"))
        label = f"FMR ≤ {_target_text(o.get('fmr_target'))}"
        if x is not None and y is not None:
            marks.append((x, y, label))
        if fmt.is_number(o.get("threshold")):
            thresholds.append((float(o["threshold"]), label))
    eer = _as_dict(v.get("eer"))
    if fmt.is_number(eer.get("threshold")):
        thresholds.append((float(eer["threshold"]), "EER"))
    if _as_list(det.get("fmr")) and _as_list(det.get("fnmr")):
        out["det"] = F.det_figure(
            det["fmr"],
            det["fnmr"],
            operating_points=marks,
            eer=eer.get("value") if fmt.is_number(eer.get("value")) else None,
        )
    hist = _as_dict(v.get("histogram"))
    if _as_list(hist.get("edges")) and "genuine" in hist and "impostor" in hist:
        orientation = _as_dict(results.get("settings")).get("orientation", "similarity")
        units = str(v.get("threshold_units") or "")
        kind = "distance" if orientation == "distance" else "similarity score"
        xlabel = f"{kind} ({units})" if units and units not in kind else kind
        out["score_histogram"] = F.score_histogram_figure(
            hist["edges"], hist["genuine"], hist["impostor"], thresholds=thresholds, xlabel=xlabel
        )
    return out


# ---------------------------------------------------------------------------------------------
# Identification (1:N)


def identification_summary(i: Mapping[str, Any], confidence: float) -> str | None:
    ops = [_as_dict(o) for o in _as_list(i.get("operating_points"))]
    op = _headline_op(ops, "fpir_target", "fpir", i.get("headline_fpir_target"))
    if op is None:
        return None
    n_gal = fmt.fmt_count(i.get("gallery_size"))
    fpir_p = _rate_phrase(
        op.get("fpir"), confidence, "searches for someone not enrolled", _FPIR_VERBS
    )
    fnir_p = _rate_phrase(
        op.get("fnir"), confidence, "searches for an enrolled person", _FNIR_VERBS
    )
    return (
        f"Searching a gallery of {n_gal} people at threshold "
        f"{fmt.fmt_threshold(op.get('threshold'))}, {fpir_p}, based on n = "
        f"{fmt.fmt_count(i.get('n_nonmated'))} non-mated searches; and {fnir_p}, based on n = "
        f"{fmt.fmt_count(i.get('n_mated'))} mated searches."
    )


def _cmc_rate(c: Mapping[str, Any]) -> Any:
    """A CMC entry's rate: a full rate dict, or the engine's flat ``{rate, ci, count, n}``."""
    r = c.get("rate")
    if isinstance(r, Mapping):
        return r
    if "ci" in c or "n" in c:
        return {"value": r, "ci": c.get("ci"), "count": c.get("count"), "n": c.get("n")}
    return r


def identification_context(i: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    conf = confidence_of(results)
    facts = [
        {"label": label, "value": fmt.fmt_value(i[key], conf)}
        for key, label in (
            ("gallery_size", "Gallery size N (enrolled people)"),
            ("n_mated", "Mated searches (person is enrolled)"),
            ("n_nonmated", "Non-mated searches (person is not enrolled)"),
            ("list_length", "Candidates returned per search"),
            ("rank_criterion", "A mate counts as found within rank"),
        )
        if key in i
    ]
    if i.get("threshold_source"):
        facts.append({"label": "Thresholds fixed on", "value": str(i["threshold_source"])})
    boot = _as_dict(i.get("bootstrap"))
    if boot:
        facts.append(
            {
                "label": "Bootstrap",
                "value": f"{fmt.fmt_count(boot.get('replicates'))} replicates by "
                f"{boot.get('unit', 'subject')}",
            }
        )
    rows = []
    for o in _as_list(i.get("operating_points")):
        o = _as_dict(o)
        supported = bool(o.get("supported", True))
        have = _as_dict(o.get("fpir")).get("n")
        if have is None:
            have = i.get("n_nonmated")
        rows.append(
            {
                "target": fmt.fmt_num(o.get("fpir_target")),
                "threshold": fmt.fmt_threshold(o.get("threshold")) if supported else "—",
                "supported": supported,
                "unsupported_text": unsupported_text(
                    o.get("fpir_target"), have, "non-mated searches"
                ),
                "fpir": rate_cell(o.get("fpir"), conf),
                "fnir": rate_cell(o.get("fnir"), conf),
                "wrong_top1": rate_cell(o.get("wrong_top1"), conf),
            }
        )
    cmc = [_as_dict(c) for c in _as_list(i.get("cmc"))]
    cmc_rows = []
    shown = {1, 5, 10, 20, 50, 100}
    for k, c in enumerate(cmc):
        if c.get("rank") in shown or k == len(cmc) - 1:
            cmc_rows.append(
                {"rank": fmt.fmt_count(c.get("rank")), "rate": fmt.fmt_rate(_cmc_rate(c), conf)}
            )
    inv = _as_dict(i.get("investigation"))
    inv_rows = []
    if inv:
        if "fpir_any_candidate" in inv:
            inv_rows.append(
                {
                    "label": "Non-mated searches returning any candidate (FPIR at T = 0)",
                    "value": fmt.fmt_rate(inv["fpir_any_candidate"], conf),
                }
            )
        for f in map(_as_dict, _as_list(inv.get("fnir"))):
            inv_rows.append(
                {
                    "label": f"Mated searches with the mate not in the top {f.get('rank')} (FNIR)",
                    "value": fmt.fmt_rate(f.get("fnir"), conf),
                }
            )
    index = _as_dict(i.get("index"))
    index_note = None
    if index:
        kind = str(index.get("kind", "unknown"))
        if index.get("exact") or kind.lower() in {"exact", "flat", "brute-force", "bruteforce"}:
            index_note = f"Search was exact ({kind} index): every gallery entry was compared."
        else:
            recall = index.get("recall")
            rtext = fmt.fmt_value(recall, conf) if recall is not None else "not measured"
            index_note = (
                f"Searches used an approximate index ({kind}). Its recall against exact search "
                f"was {rtext}: an approximate search can miss true top candidates, so rates may "
                "differ slightly from an exact search."
            )
    return {
        "summary": identification_summary(i, conf),
        "facts": facts,
        "rows": rows,
        "cmc_rows": cmc_rows,
        "inv_rows": inv_rows,
        "index_note": index_note,
        "warnings": [
            str(w)
            for w in _as_list(i.get("warnings"))
            if str(w) not in {str(x) for x in _as_list(results.get("warnings"))}
        ],
        "figures": [
            (
                "cmc",
                "Cumulative match characteristic: share of mated searches whose mate is "
                "among the top r candidates (no threshold).",
            ),
            (
                "fpir_fnir",
                "FPIR and FNIR as the threshold moves: raising it removes false "
                "candidates (FPIR falls) but misses more enrolled people (FNIR rises). Log scale.",
            ),
        ],
    }


def identification_figures(i: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Figure]:
    from faceaudit.report import figures as F

    out: dict[str, Figure] = {}
    cmc = [_as_dict(c) for c in _as_list(i.get("cmc"))]
    cmc = [
        c for c in cmc if fmt.is_number(c.get("rank")) and fmt.rate_value(c.get("rate")) is not None
    ]
    if cmc:
        out["cmc"] = F.cmc_figure(
            [int(c["rank"]) for c in cmc], [fmt.rate_value(c["rate"]) for c in cmc]
        )
    curve = _as_dict(i.get("curve"))
    if _as_list(curve.get("threshold")):
        marks = [
            (float(o["threshold"]), f"FPIR ≤ {fmt.fmt_num(o.get('fpir_target'))}")
            for o in map(_as_dict, _as_list(i.get("operating_points")))
            if o.get("supported", True) and fmt.is_number(o.get("threshold"))
        ]
        out["fpir_fnir"] = F.fpir_fnir_figure(
            curve["threshold"], curve.get("fpir", []), curve.get("fnir", []), marks=marks
        )
    return out


# ---------------------------------------------------------------------------------------------
# Gallery scale


def _point(rate: Any, *, supported: bool = True) -> Point:
    from faceaudit.report.figures import Point

    r = _as_dict(rate)
    ci = r.get("ci")
    lo = hi = None
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(fmt.is_number(c) for c in ci):
        lo, hi = float(ci[0]), float(ci[1])
    return Point(fmt.rate_value(r if r else rate), lo, hi, bool(r.get("upper_bound")), supported)


def scale_summary(s: Mapping[str, Any], confidence: float) -> str | None:
    points = [
        _as_dict(p)
        for p in _as_list(s.get("points"))
        if fmt.is_number(_as_dict(p).get("gallery_size"))
    ]
    if not points:
        return None
    biggest = max(points, key=lambda p: p["gallery_size"])
    f = _as_dict(biggest.get("fpir"))
    v = fmt.rate_value(f)
    if v is None:
        return None
    how = (
        "measured"
        if biggest.get("measured")
        else "extrapolated from a fitted score tail, not measured"
    )
    ci = f.get("ci")
    ci_s = (
        f"; {fmt.fmt_confidence(confidence)} CI {fmt.fmt_num(ci[0])}–{fmt.fmt_num(ci[1])}"
        if isinstance(ci, list | tuple) and len(ci) == 2
        else ""
    )
    how_often = (
        f"about {fmt.share(v)} of searches for someone not enrolled would"
        if v >= 0.2
        else f"about {fmt.one_in(v)} searches for someone not enrolled would"
    )
    return (
        f"With {fmt.fmt_count(biggest['gallery_size'])} people enrolled, at threshold "
        f"{fmt.fmt_threshold(s.get('threshold'))}, {how_often} return at least one false "
        f"candidate (FPIR {fmt.fmt_num(v)}{ci_s}; {how})."
    )


def _band_text(d: Any, confidence: float, *, threshold: bool = False) -> str:
    """``0.66 (95% CI 0.64–0.71)`` for ``{value, ci}`` (thresholds with 6 significant digits)."""
    d = _as_dict(d)
    f = fmt.fmt_threshold if threshold else fmt.fmt_num
    v = d.get("value", d.get("threshold"))
    ci = d.get("ci")
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(fmt.is_number(c) for c in ci):
        return f"{f(v)} ({fmt.fmt_confidence(confidence)} CI {f(ci[0])}–{f(ci[1])})"
    return f(v)


def scale_context(s: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    conf = confidence_of(results)
    points = [_as_dict(p) for p in _as_list(s.get("points"))]
    measured_sizes = {p.get("gallery_size") for p in points if p.get("measured")}
    sizes = [p.get("gallery_size") for p in points if fmt.is_number(p.get("gallery_size"))]
    largest = max(sizes) if sizes else None

    def shown(p: dict) -> bool:
        # All measured points; extrapolated ones at powers of ten, at measured sizes and at the
        # largest size (the full grid is in results.json).
        n = p.get("gallery_size")
        if p.get("measured") or n in measured_sizes or n == largest or not fmt.is_number(n):
            return True
        e = math.log10(n) if n > 0 else 0.5
        return abs(e - round(e)) < 1e-9

    rows = [
        {
            "gallery_size": fmt.fmt_count(p.get("gallery_size")),
            "fpir": rate_cell(p.get("fpir"), conf),
            "kind": "measured" if p.get("measured") else "extrapolated",
        }
        for p in points
        if shown(p)
    ]
    rows_hidden = len(points) - len(rows)
    facts = []
    for key, label in (
        ("gallery_size", "Largest measured gallery (distractors enrolled)"),
        ("target_gallery_size", "Extrapolated to gallery size"),
        ("n_nonmated", "Non-mated searches"),
        ("n_mated", "Mated searches"),
    ):
        if key in s:
            facts.append({"label": label, "value": fmt.fmt_value(s[key], conf)})
    fmr_t = _as_dict(s.get("fmr_at_threshold"))
    if fmr_t:
        source = f" (from {fmr_t['source']})" if fmr_t.get("source") else ""
        facts.append({"label": f"FMR at the threshold{source}", "value": _band_text(fmr_t, conf)})
    if isinstance(s.get("model"), str):
        facts.append({"label": "Extrapolation model", "value": s["model"]})
    boot = _as_dict(s.get("bootstrap"))
    if boot:
        unit = f", resampling {boot['unit']}" if boot.get("unit") else ""
        facts.append(
            {
                "label": "Bootstrap",
                "value": f"{fmt.fmt_count(boot.get('replicates'))} replicates{unit}",
            }
        )
    needed = s.get("threshold_needed")
    needed_rows = []
    for d in _as_list(needed) if isinstance(needed, list) else [needed] if needed else []:
        d = _as_dict(d)
        needed_rows.append(
            {
                "gallery_size": fmt.fmt_count(d.get("gallery_size")),
                "fpir_target": fmt.fmt_num(d.get("fpir_target")),
                "threshold": _band_text(d, conf, threshold=True),
            }
        )
    tail = _as_dict(s.get("tail_fit"))
    tail_rows = [
        {"label": fmt.humanize_key(k), "value": fmt.fmt_value(v, conf)}
        for k, v in tail.items()
        if not isinstance(v, Mapping | list | tuple) or (isinstance(v, Mapping) and "value" in v)
    ]
    for k, v in _as_dict(tail.get("band")).items():
        if isinstance(v, list | tuple) and len(v) == 2:
            tail_rows.append(
                {
                    "label": f"{fmt.humanize_key(k)} ({fmt.fmt_confidence(conf)} band)",
                    "value": f"{fmt.fmt_num(v[0])} – {fmt.fmt_num(v[1])}",
                }
            )
    rank1 = _as_dict(s.get("rank1_accuracy"))
    rank1_rows = []
    for m in map(_as_dict, _as_list(rank1.get("measured"))):
        rank1_rows.append(
            {
                "gallery_size": fmt.fmt_count(m.get("gallery_size")),
                "kind": "measured",
                "value": fmt.fmt_rate(m.get("rate"), conf),
                "above": "",
            }
        )
    for e in map(_as_dict, _as_list(rank1.get("expected"))):
        rank1_rows.append(
            {
                "gallery_size": fmt.fmt_count(e.get("gallery_size")),
                "kind": "expected (model)",
                "value": _band_text(e.get("rank1_accuracy"), conf),
                "above": _band_text(e.get("rank1_above_threshold"), conf)
                if "rank1_above_threshold" in e
                else "",
            }
        )
    validation = _as_dict(s.get("validation"))
    val_rows = []
    for v in map(_as_dict, _as_list(validation.get("points"))):
        inside = v.get("inside")
        val_rows.append(
            {
                "gallery_size": fmt.fmt_count(v.get("gallery_size")),
                "measured": rate_cell(v.get("measured"), conf),
                "extrapolated": _band_text(v.get("extrapolated"), conf),
                "inside": "—" if inside is None else ("yes" if inside else "NO"),
            }
        )
    val_note = ""
    if validation:
        val_note = (
            f"Validation: the tail was fitted again on only "
            f"{fmt.fmt_count(validation.get('fit_gallery_size'))} distractors and extrapolated "
            "to the larger galleries that were also measured. Where the measured FPIR falls "
            "inside the extrapolation band, the model held up."
        )
        if validation.get("skipped"):
            val_note += f" Skipped: {validation['skipped']}."
    return {
        "summary": scale_summary(s, conf),
        "threshold": fmt.fmt_threshold(s.get("threshold")),
        "facts": facts,
        "warnings": [
            str(w)
            for w in _as_list(s.get("warnings"))
            if str(w) not in {str(x) for x in _as_list(results.get("warnings"))}
        ],
        "rows_hidden": rows_hidden,
        "rows": rows,
        "needed_rows": needed_rows,
        "tail_rows": tail_rows,
        "rank1_rows": rank1_rows,
        "val_rows": val_rows,
        "val_note": val_note,
        "figures": [
            (
                "fpir_gallery",
                "FPIR against gallery size (log-log). Dots with bars: measured on real "
                "distractor galleries, with confidence intervals. Dashed line and shaded band: "
                "extrapolation from the fitted score tail, with its band — a model, not a "
                "measurement.",
            ),
            (
                "tail_fit",
                "Tail-fit diagnostic: the fitted generalised Pareto tail should follow "
                "the empirical exceedance probabilities; a gap means the extrapolation is not "
                "trustworthy.",
            ),
            (
                "scale_validation",
                "Validation of the extrapolation: a tail fitted on a small gallery (dashed line, "
                "band) against FPIR measured on the larger galleries (dots with CI bars).",
            ),
        ],
    }


def scale_figures(s: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Figure]:
    from faceaudit.report import figures as F

    out: dict[str, Figure] = {}
    measured, extrapolated = [], []
    for p in map(_as_dict, _as_list(s.get("points"))):
        if not fmt.is_number(p.get("gallery_size")):
            continue
        pair = (float(p["gallery_size"]), _point(p.get("fpir")))
        (measured if p.get("measured") else extrapolated).append(pair)
    if measured or extrapolated:
        measured.sort(key=lambda t: t[0])
        extrapolated.sort(key=lambda t: t[0])
        thr = s.get("threshold")
        out["fpir_gallery"] = F.fpir_gallery_figure(
            measured, extrapolated, threshold=float(thr) if fmt.is_number(thr) else None
        )
    validation = _as_dict(s.get("validation"))
    v_meas, v_extr = [], []
    for v in map(_as_dict, _as_list(validation.get("points"))):
        if fmt.is_number(v.get("gallery_size")):
            n = float(v["gallery_size"])
            if v.get("measured"):
                v_meas.append((n, _point(v.get("measured"))))
            if v.get("extrapolated"):
                v_extr.append((n, _point(v.get("extrapolated"))))
    if v_meas and v_extr:
        fit_n = validation.get("fit_gallery_size")
        out["scale_validation"] = F.fpir_gallery_figure(
            sorted(v_meas, key=lambda t: t[0]),
            sorted(v_extr, key=lambda t: t[0]),
            title="Validation: extrapolation from a small fit vs measurement"
            + (f"\n(tail fitted on {int(fit_n):,} distractors)" if fmt.is_number(fit_n) else ""),
        )
    diag = _as_dict(_as_dict(s.get("tail_fit")).get("diagnostic"))
    if _as_list(diag.get("score")) and _as_list(diag.get("empirical")):
        u = _as_dict(s.get("tail_fit")).get("threshold_u")
        out["tail_fit"] = F.tail_fit_figure(
            diag["score"],
            diag["empirical"],
            diag.get("fitted", []),
            lo=diag.get("lo"),
            hi=diag.get("hi"),
            threshold_u=float(u) if fmt.is_number(u) else None,
        )
    return out


# ---------------------------------------------------------------------------------------------
# Acquisition and model


def acquisition_summary(a: Mapping[str, Any], confidence: float) -> str | None:
    if not a:
        return None
    fta = _as_dict(a.get("fta"))
    rate = f": failure to acquire (FTA) {fmt.fmt_rate(fta, confidence)}" if fta else ""
    return (
        f"{fmt.fmt_count(a.get('n_failed'))} of {fmt.fmt_count(a.get('n_images'))} images gave "
        f"no usable face{rate}. They are counted as failures, not dropped."
    )


def acquisition_context(results: Mapping[str, Any]) -> dict[str, Any]:
    conf = confidence_of(results)
    a = _as_dict(results.get("acquisition"))
    m = _as_dict(results.get("model"))
    show_ids = bool(_as_dict(results.get("settings")).get("show_identities"))
    failures = [_as_dict(f) for f in _as_list(a.get("failures"))]
    reasons = a.get("by_reason", a.get("reasons"))
    if isinstance(reasons, Mapping):
        counts = Counter({str(k): int(v) for k, v in reasons.items() if fmt.is_number(v)})
    else:
        counts = Counter(str(f.get("reason", "unknown")) for f in failures)
    facts = []
    if "n_images" in a:
        facts.append({"label": "Images", "value": fmt.fmt_count(a["n_images"])})
    if "n_failed" in a:
        facts.append({"label": "Images with no usable face", "value": fmt.fmt_count(a["n_failed"])})
    fta = rate_cell(a.get("fta"), conf) if "fta" in a else None
    model_rows = []
    for key, label in (("id", "Model"), ("version", "Version"), ("dim", "Embedding size")):
        if key in m:
            model_rows.append({"label": label, "value": fmt.fmt_value(m[key]), "title": ""})
    if "weights_sha256" in m:
        model_rows.append(
            {
                "label": "Weights SHA-256",
                "value": _short_hash(m["weights_sha256"]),
                "title": str(m["weights_sha256"]),
            }
        )
    for key, v in m.items():
        if key in {"config", "files"} and isinstance(v, Mapping) and v:
            text = ", ".join(f"{k}: {fmt.fmt_value(x)}" for k, x in v.items())
            model_rows.append({"label": fmt.humanize_key(key), "value": text, "title": ""})
        elif key not in {"id", "version", "dim", "weights_sha256"} and isinstance(
            v, str | int | float | bool
        ):
            model_rows.append(
                {"label": fmt.humanize_key(key), "value": fmt.fmt_value(v), "title": ""}
            )
    return {
        "summary": acquisition_summary(a, conf),
        "facts": facts,
        "fta": fta,
        "reasons": [{"reason": k, "count": fmt.fmt_count(c)} for k, c in counts.most_common()],
        "show_identities": show_ids,
        "failures": [
            {
                "image": str(f.get("image", "")),
                "subject": str(f.get("subject") or ""),
                "reason": str(f.get("reason", "")),
                "detail": str(f.get("detail") or ""),
            }
            for f in failures
        ]
        if show_ids
        else [],
        "n_failures_listed": len(failures),
        "model_rows": model_rows,
        "figures": [],
    }


# ---------------------------------------------------------------------------------------------
# Demographics


_DEMO_LABELS = {
    "verification": {
        "fp": "fmr",
        "fn": "fnmr",
        "fp_col": "FMR (impostor pairs within the group)",
        "fn_col": "FNMR (genuine pairs)",
        "fp_axis": "false match rate (log)",
        "fn_axis": "false non-match rate (log)",
    },
    "identification": {
        "fp": "fpir",
        "fn": "fnir",
        "fp_col": "FPIR (non-mated searches by the group)",
        "fn_col": "FNIR (mated searches by the group)",
        "fp_axis": "false positive identification rate (log)",
        "fn_axis": "false negative identification rate (log)",
    },
}


def _demo_labels(d: Mapping[str, Any]) -> dict[str, str]:
    return _DEMO_LABELS["identification" if d.get("mode") == "identification" else "verification"]


def _rate_ok(g: Mapping[str, Any], key: str) -> bool:
    return bool(g.get(f"{key}_supported", g.get("supported", True)))


def _group_flags(g: Mapping[str, Any], fp: str, fn: str) -> list[str]:
    flags = [str(f) for f in _as_list(g.get("flags"))]
    if not g.get("supported", True):
        flags.append("too few comparisons to support a figure")
    for key in (fp, fn):
        r = _as_dict(g.get(key))
        few = g.get(f"{key}_few_errors")
        if few is None:
            few = fmt.is_number(r.get("count")) and 0 < r["count"] < 30
        if r.get("upper_bound"):
            flags.append(f"no {key.upper()} errors observed: figure is a bound")
        elif few:
            flags.append(f"fewer than 30 {key.upper()} errors (rule of 30): wide interval")
    return flags


def fmt_ratio(r: Any, confidence: float) -> str:
    """A group's ratio to the best group: ``8.3× (95% CI 5.1–12) vs male``."""
    if not isinstance(r, Mapping):
        return fmt.fmt_value(r, confidence)
    conf = fmt.fmt_confidence(confidence)
    ref = f" vs {r['reference_group']}" if r.get("reference_group") else ""
    ci = r.get("ci")
    if r.get("upper_bound"):
        hi = ci[1] if isinstance(ci, list | tuple) and len(ci) == 2 else None
        return f"≤ {fmt.fmt_num(hi)}× (no errors observed){ref}"
    v = fmt.rate_value(r)
    if v is None:
        return "—"
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(fmt.is_number(c) for c in ci):
        return f"{fmt.fmt_num(v)}× ({conf} CI {fmt.fmt_num(ci[0])}–{fmt.fmt_num(ci[1])}){ref}"
    if r.get("ci_unbounded") and fmt.is_number(r.get("ci_low")):
        return f"{fmt.fmt_num(v)}× ({conf} CI from {fmt.fmt_num(r['ci_low'])}, no upper limit){ref}"
    return f"{fmt.fmt_num(v)}×{ref}"


def _coverage_rows(cov: Mapping[str, Any], show_ids: bool) -> list[dict[str, str]]:
    """Metadata coverage; example subject ids only when identities may be shown."""
    rows = []
    for k, v in cov.items():
        if k.endswith("_examples"):
            if show_ids and v:
                rows.append({"label": fmt.humanize_key(k), "value": fmt.fmt_value(v)})
            continue
        if isinstance(v, Mapping):
            text = ", ".join(f"{kk}: {fmt.fmt_value(vv)}" for kk, vv in v.items()) or "none"
        else:
            text = fmt.fmt_value(v)
        rows.append({"label": fmt.humanize_key(k), "value": text})
    return rows


def demographics_context(d: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    conf = confidence_of(results)
    lab = _demo_labels(d)
    fp, fn = lab["fp"], lab["fn"]
    show_ids = bool(_as_dict(results.get("settings")).get("show_identities"))
    groups = []
    has_ratio = False
    for g in map(_as_dict, _as_list(d.get("groups"))):
        fp_ok, fn_ok = _rate_ok(g, fp), _rate_ok(g, fn)
        groups.append(
            {
                "group": str(g.get("group", "")),
                "n_subjects": fmt.fmt_count(g.get("n_subjects")),
                "fp": rate_cell(g.get(fp), conf),
                "fn": rate_cell(g.get(fn), conf),
                "fp_ok": fp_ok,
                "fn_ok": fn_ok,
                "supported": fp_ok and fn_ok,
                "flags": _group_flags(g, fp, fn),
                "fp_ratio": fmt_ratio(g[f"{fp}_ratio"], conf) if f"{fp}_ratio" in g else "",
                "fn_ratio": fmt_ratio(g[f"{fn}_ratio"], conf) if f"{fn}_ratio" in g else "",
            }
        )
        has_ratio = has_ratio or f"{fp}_ratio" in g or f"{fn}_ratio" in g
    facts = []
    for key in (fp, fn):
        if f"overall_{key}" in d:
            facts.append(
                {
                    "label": f"{key.upper()} of the whole data set at this threshold",
                    "value": fmt.fmt_rate(d[f"overall_{key}"], conf),
                }
            )
    best = _as_dict(d.get("best_group"))
    if best:
        facts.append(
            {
                "label": "Lowest-error group (reference of the ratios)",
                "value": "; ".join(f"{k.upper()}: {v}" for k, v in best.items()),
            }
        )
    boot = _as_dict(d.get("bootstrap"))
    if boot:
        strat = ", stratified by group" if boot.get("stratified_by_group") else ""
        facts.append(
            {
                "label": "Bootstrap",
                "value": f"{fmt.fmt_count(boot.get('replicates'))} replicates by "
                f"{boot.get('unit', 'subject')}{strat}",
            }
        )
    summary = _as_dict(d.get("summary"))
    summary_rows = [
        {"label": fmt.humanize_key(k), "value": fmt.fmt_value(v, conf)} for k, v in summary.items()
    ]
    probes, refs, cells, ok = _cross_matrix(d)
    matrix_rows = []
    if probes and len(refs) <= 8:
        for pg in probes:
            row = []
            for rg in refs:
                if (pg, rg) not in cells:
                    row.append("—")
                else:
                    text = fmt.fmt_rate_value(cells[(pg, rg)])
                    row.append(text if ok[(pg, rg)] else f"{text} (n/s)")
            matrix_rows.append({"group": pg, "cells": row})
    top_warnings = {str(x) for x in _as_list(results.get("warnings"))}
    threshold_note = ""
    if d.get("threshold_supported") is False:
        threshold_note = (
            "The threshold itself is not supported by the data (too few comparisons to observe "
            "its target rate); the differentials below are measured at it all the same."
        )
    return {
        "labels": lab,
        "attribute": fmt.fmt_value(d.get("attribute")) if "attribute" in d else "",
        "threshold": fmt.fmt_threshold(d.get("threshold")),
        "threshold_source": str(d.get("threshold_source") or "not stated"),
        "threshold_note": threshold_note,
        "facts": facts,
        "groups": groups,
        "has_ratio": has_ratio,
        "summary_rows": summary_rows,
        "sentences": [str(s) for s in _as_list(d.get("sentences"))],
        "rules": [str(r) for r in _as_list(d.get("rules"))],
        "coverage_rows": _coverage_rows(_as_dict(d.get("coverage")), show_ids),
        "warnings": [str(w) for w in _as_list(d.get("warnings")) if str(w) not in top_warnings],
        "matrix_refs": refs if matrix_rows else [],
        "matrix_rows": matrix_rows,
        "figures": [
            (
                _demo_fig(d, "group_rates"),
                "Per-group error rates at one global threshold, with confidence "
                "intervals (whiskers). Hatched grey rows: not supported by the data; dotted bars: "
                "no errors observed, the bar reaches the rule-of-3 upper bound. Log scale.",
            ),
            (
                _demo_fig(d, "cross_fmr"),
                "Cross-group false match rate: how often a probe from the row group "
                "is falsely matched to a person of the column group. Log colour scale; "
                "'≤' marks rule-of-3 bounds, 'n/s' unsupported cells.",
            ),
        ],
    }


def _demo_fig(d: Mapping[str, Any], name: str) -> str:
    return f"id_{name}" if d.get("mode") == "identification" else name


def _cross_matrix(d: Mapping[str, Any]) -> tuple[list[str], list[str], dict, dict]:
    probes: list[str] = []
    refs: list[str] = []
    cells: dict[tuple[str, str], Any] = {}
    ok: dict[tuple[str, str], bool] = {}
    for c in map(_as_dict, _as_list(d.get("cross_fmr"))):
        pg, rg = str(c.get("probe_group", "")), str(c.get("reference_group", ""))
        if pg not in probes:
            probes.append(pg)
        if rg not in refs:
            refs.append(rg)
        cells[(pg, rg)] = c.get("fmr")
        ok[(pg, rg)] = bool(c.get("supported", True))
    return probes, refs, cells, ok


def demographics_figures(d: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Figure]:
    from faceaudit.report import figures as F

    lab = _demo_labels(d)
    fp, fn = lab["fp"], lab["fn"]
    out: dict[str, Figure] = {}
    groups = [_as_dict(g) for g in _as_list(d.get("groups"))]
    if groups:
        names, fp_pts, fn_pts = [], [], []
        for g in groups:
            fp_ok, fn_ok = _rate_ok(g, fp), _rate_ok(g, fn)
            name = str(g.get("group", ""))
            if not (fp_ok and fn_ok):
                name += " (n/s)"
            names.append(name)
            fp_pts.append(_point(g.get(fp), supported=fp_ok))
            fn_pts.append(_point(g.get(fn), supported=fn_ok))
        thr = d.get("threshold")
        out[_demo_fig(d, "group_rates")] = F.group_rates_figure(
            names,
            fp_pts,
            fn_pts,
            threshold=float(thr) if fmt.is_number(thr) else None,
            titles=(lab["fp_col"], lab["fn_col"]),
            xlabels=(lab["fp_axis"], lab["fn_axis"]),
        )
    probes, refs, cells, ok = _cross_matrix(d)
    if probes and refs:
        matrix = [
            [
                _point(cells[(pg, rg)], supported=ok[(pg, rg)]) if (pg, rg) in cells else None
                for rg in refs
            ]
            for pg in probes
        ]
        out[_demo_fig(d, "cross_fmr")] = F.cross_fmr_figure(probes, refs, matrix)
    return out


# ---------------------------------------------------------------------------------------------
# Impact


def impact_context(imp: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    conf = confidence_of(results)
    rows = [
        {"label": fmt.humanize_key(k), "value": fmt.fmt_value(v, conf)}
        for k, v in imp.items()
        if k not in {"curve", "sentences"}
        and (not isinstance(v, Mapping | list | tuple) or (isinstance(v, Mapping) and "value" in v))
    ]
    return {
        "rows": rows,
        "sentences": [str(s) for s in _as_list(imp.get("sentences"))],
        "figures": [
            (
                "ppv",
                "Positive predictive value: the chance that a hit is really the searched "
                "person, as a function of how many searched people are truly in the gallery.",
            ),
        ],
    }


def impact_figures(imp: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Figure]:
    from faceaudit.report import figures as F

    curve = _as_dict(imp.get("curve"))
    if _as_list(curve.get("prevalence")) and _as_list(curve.get("ppv")):
        return {
            "ppv": F.ppv_figure(
                curve["prevalence"], curve["ppv"], lo=curve.get("lo"), hi=curve.get("hi")
            )
        }
    return {}


# ---------------------------------------------------------------------------------------------
# Registry


class SectionSpec:
    """One report section: which results keys trigger it and how to build it."""

    def __init__(
        self,
        key: str,
        title: str,
        template: str,
        keys: Sequence[str],
        context: Callable[[Mapping[str, Any]], dict[str, Any]],
        figures: Callable[[Mapping[str, Any]], dict[str, Figure]] | None,
    ) -> None:
        self.key, self.title, self.template, self.keys = key, title, template, tuple(keys)
        self.context, self.figures = context, figures

    def present(self, results: Mapping[str, Any]) -> bool:
        return any(isinstance(results.get(k), Mapping) and results.get(k) for k in self.keys)


def _one(key: str, fn: Callable) -> Callable[[Mapping[str, Any]], Any]:
    return lambda results: fn(_as_dict(results.get(key)), results)


SECTIONS: list[SectionSpec] = [
    SectionSpec(
        "verification",
        "1:1 verification errors",
        "_verification.html.j2",
        ["verification"],
        _one("verification", verification_context),
        _one("verification", verification_figures),
    ),
    SectionSpec(
        "identification",
        "1:N identification errors",
        "_identification.html.j2",
        ["identification"],
        _one("identification", identification_context),
        _one("identification", identification_figures),
    ),
    SectionSpec(
        "scale",
        "Gallery size: how false candidates grow with N",
        "_scale.html.j2",
        ["scale"],
        _one("scale", scale_context),
        _one("scale", scale_figures),
    ),
    SectionSpec(
        "acquisition",
        "Images and recognition model",
        "_acquisition.html.j2",
        ["acquisition", "model"],
        acquisition_context,
        None,
    ),
    SectionSpec(
        "demographics",
        "Demographic differentials: who bears the errors",
        "_demographics.html.j2",
        ["demographics"],
        _one("demographics", demographics_context),
        _one("demographics", demographics_figures),
    ),
    SectionSpec(
        "identification_demographics",
        "Demographic differentials in 1:N search",
        "_demographics.html.j2",
        ["identification_demographics"],
        _one("identification_demographics", demographics_context),
        _one("identification_demographics", demographics_figures),
    ),
    SectionSpec(
        "impact",
        "Impact in the field",
        "_impact.html.j2",
        ["impact"],
        _one("impact", impact_context),
        _one("impact", impact_figures),
    ),
]


def summary_sentences(results: Mapping[str, Any]) -> list[str]:
    """The plain-language summary at the top of the report, one sentence per analysis present."""
    conf = confidence_of(results)
    out: list[str | None] = []
    if _as_dict(results.get("verification")):
        out.append(verification_summary(_as_dict(results["verification"]), conf))
    if _as_dict(results.get("identification")):
        out.append(identification_summary(_as_dict(results["identification"]), conf))
    if _as_dict(results.get("scale")):
        out.append(scale_summary(_as_dict(results["scale"]), conf))
    if _as_dict(results.get("acquisition")):
        out.append(acquisition_summary(_as_dict(results["acquisition"]), conf))
    for key in ("demographics", "identification_demographics"):
        sentences = _as_list(_as_dict(results.get(key)).get("sentences"))
        if sentences:
            out.append(str(sentences[0]))
    return [s for s in out if s]


def build_figures(results: Mapping[str, Any]) -> tuple[dict[str, Figure], list[str]]:
    """Every figure the results allow, by name, plus a note for each that could not be drawn.

    A figure that fails (malformed data) never stops the report: it is left out, a
    :class:`ReportWarning` is issued and the returned note says which and why.
    """
    figures: dict[str, Figure] = {}
    notes: list[str] = []
    for spec in SECTIONS:
        if spec.figures is None or not spec.present(results):
            continue
        try:
            figures.update(spec.figures(results))
        except Exception as exc:  # noqa: BLE001 - a bad figure must not lose the whole report
            msg = (
                f"The figures of section '{spec.title}' could not be drawn "
                f"({type(exc).__name__}: {exc}); the tables are complete."
            )
            warnings.warn(msg, ReportWarning, stacklevel=2)
            notes.append(msg)
    return figures, notes
