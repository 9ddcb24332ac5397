"""Plain-language sentences of the demographic analysis: one per differential."""

from __future__ import annotations

import math
from dataclasses import dataclass

from faceaudit.analyses._demographics_types import RULE_OF_30, CrossCell, GroupRates
from faceaudit.data import SubjectGroups
from faceaudit.stats.estimate import Rate
from faceaudit.stats.support import MIN_SUBJECTS

# ---------------------------------------------------------------------------------------------
# Shared core


@dataclass(frozen=True)
class _Vocabulary:
    mode: str
    fp: str  # "fmr"
    fn: str  # "fnmr"
    fp_upper: str
    fn_upper: str
    fp_sentence: str  # "people in group {g} are falsely matched"
    fp_those: str  # "as often as those in group {b}"
    fn_sentence: str
    fp_what: str  # "non-mated comparisons within the group"
    fn_what: str
    fp_pool: str  # "non-mated comparisons" (the whole data set's)
    fp_error: str  # "false matches"
    fn_error: str


_VERIFY = _Vocabulary(
    "verification",
    "fmr",
    "fnmr",
    "FMR",
    "FNMR",
    "people in group {g} are falsely matched",
    "as often as those in group {b}",
    "people in group {g} are falsely rejected",
    "non-mated comparisons within the group",
    "mated comparisons",
    "non-mated comparisons",
    "false matches",
    "false non-matches",
)
_IDENTIFY = _Vocabulary(
    "identification",
    "fpir",
    "fnir",
    "FPIR",
    "FNIR",
    "searches of people in group {g} who are not enrolled return a false candidate",
    "as often as those of group {b}",
    "searches of enrolled people in group {g} miss their mate",
    "non-mated searches",
    "mated searches",
    "non-mated searches",
    "false candidates",
    "missed mates",
)


def _fx(r: float) -> str:
    """A ratio for a sentence: ``0.27``, ``8.3``, ``12.0``, ``140``."""
    if r < 1:
        return f"{r:.2g}"
    return f"{r:.1f}" if r < 100 else f"{r:.0f}"


def _fr(x: float) -> str:
    """A rate for a sentence: 3 significant digits."""
    return f"{x:.3g}"


# ---------------------------------------------------------------------------------------------
# Sentences


def _pct(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def _sentences(
    vocab: _Vocabulary,
    rows: list[GroupRates],
    cross: list[CrossCell],
    fp_best: int | None,
    fn_best: int | None,
    overall_fp: float | None,
    overall_fn: float | None,
    confidence: float,
    groups: SubjectGroups,
    min_subjects: int = MIN_SUBJECTS,
) -> list[str]:
    out: list[tuple[float, str]] = []  # (priority, sentence): higher first
    for kind, best, overall in (("fp", fp_best, overall_fp), ("fn", fn_best, overall_fn)):
        out.extend(_rate_sentences(vocab, kind, rows, best, overall, confidence, min_subjects))
    out.sort(key=lambda p: -p[0])
    sentences = [s for _, s in out]
    if cross and len(rows) > 1:
        ok = [c for c in cross if c.supported and c.fmr.count > 0]
        if ok:
            top = max(ok, key=lambda c: c.fmr.value)
            where = (
                f"people of group {top.probe_group} compared with people of group "
                f"{top.reference_group}"
                if top.probe_group != top.reference_group
                else f"people of group {top.probe_group} compared with others of that group"
            )
            ci = top.fmr.ci
            ci_txt = f" ({_pct(confidence)} CI {_fr(ci[0])}–{_fr(ci[1])})" if ci else ""
            sentences.append(
                f"Across groups, the highest false match rate at this threshold is for {where}: "
                f"{_fr(top.fmr.value)}{ci_txt}."
            )
    n_without = len(groups.subjects_without_metadata)
    if n_without:
        sentences.append(
            f"{n_without} subjects of the data have no metadata; they are counted in an "
            "'unknown' group, shown with the others."
        )
    return sentences


def _rate_sentences(
    vocab: _Vocabulary,
    kind: str,
    rows: list[GroupRates],
    best: int | None,
    overall: float | None,
    confidence: float,
    min_subjects: int = MIN_SUBJECTS,
) -> list[tuple[float, str]]:
    upper = vocab.fp_upper if kind == "fp" else vocab.fn_upper
    what = vocab.fp_what if kind == "fp" else vocab.fn_what
    errors = vocab.fp_error if kind == "fp" else vocab.fn_error
    out: list[tuple[float, str]] = []
    if overall is None:
        return out
    if overall == 0:
        return [
            (
                0.5,
                f"No {errors} at all at this threshold, so {upper} differentials between groups "
                "cannot be measured (every group's figure is a zero-error bound).",
            )
        ]
    if best is None:
        return [
            (
                0.5,
                f"No group has enough {what} and people (support rule) and at least one of the "
                f"{errors} to serve as the reference, so {upper} ratios between groups cannot be "
                "measured.",
            )
        ]
    bname = rows[best].group
    for g, row in enumerate(rows):
        rate = row.false_positive if kind == "fp" else row.false_negative
        ok = row.fp_supported if kind == "fp" else row.fn_supported
        ratio = row.fp_ratio if kind == "fp" else row.fn_ratio
        if g == best or ratio is None:
            if g != best and rate.n == 0:
                out.append(
                    (0.1, f"Group {row.group} has no {what}, so its {upper} cannot be measured.")
                )
            continue
        if not ok:
            people = rate.bound.n_units if rate.bound is not None else row.n_subjects
            if people < min_subjects:
                why = (
                    f"rests on too few people ({people:,} subjects; a supported figure needs at "
                    f"least {min_subjects}, Doddington's rule of 30 applied to people)"
                )
            else:
                why = (
                    f"has too few {what} ({rate.n:,}): even with no error the bound on them "
                    f"would exceed the {upper} over everyone ({_fr(overall)})"
                )
            out.append(
                (
                    0.2,
                    f"Group {row.group} {why}, so it cannot support an {upper} figure at this "
                    "threshold. Its figure is shown but flagged.",
                )
            )
            continue
        if ratio.upper_bound:
            out.append(
                (
                    1.5,
                    f"No {errors} were observed in group {row.group} (0 of {rate.n:,}): its "
                    f"{upper} is at most {_fr(rate.ci[1])} (a one-sided "
                    f"{_pct(rate.bound.level)} bound on its {rate.bound.n_units:,} subjects), "
                    "less than "
                    f"1/{_fx(1 / ratio.ci[1])} of group {bname}'s "
                    f"({_fr(_rate_of(rows[best], kind).value)}).",
                )
            )
            continue
        out.append(_ratio_sentence(vocab, kind, rows, g, best, confidence))
    return out


def _ratio_sentence(
    vocab: _Vocabulary, kind: str, rows: list[GroupRates], g: int, best: int, confidence: float
) -> tuple[float, str]:
    """``(priority, sentence)`` for group ``g``'s ratio to the best group (a measured one)."""
    row, bname, pct = rows[g], rows[best].group, _pct(confidence)
    upper = vocab.fp_upper if kind == "fp" else vocab.fn_upper
    errors = vocab.fp_error if kind == "fp" else vocab.fn_error
    lead = vocab.fp_sentence if kind == "fp" else vocab.fn_sentence
    those = vocab.fp_those if kind == "fp" else "as often as those in group {b}"
    rate = _rate_of(row, kind)
    ratio = row.fp_ratio if kind == "fp" else row.fn_ratio
    head = f"At this threshold, {lead.format(g=row.group)} {_fx(ratio.value)}×"
    tail = f" {those.format(b=bname)}"
    if ratio.ci is not None:
        ci = f" ({pct} CI {_fx(ratio.ci[0])}–{_fx(ratio.ci[1])})"
    elif ratio.ci_unbounded:
        low = "" if not math.isfinite(ratio.ci_low) else f"from {_fx(ratio.ci_low)}, "
        ci = f" ({pct} CI {low}with no finite upper limit)"
    else:
        ci = " (no confidence interval: bootstrap off)"
    covers = ratio.covers_one()
    if covers:
        text = (
            f"{head}{ci}{tail}; the interval includes 1, so the data cannot tell groups "
            f"{row.group} and {bname} apart on {upper}."
        )
        priority = 1.0 + min(ratio.value, 1e6) / 1e7
    else:
        text = f"{head}{ci}{tail}."
        priority = 2.0 + min(ratio.value, 1e6) / 1e7
        if kind == "fp":
            priority += 0.5
    few = [
        (name, c)
        for name, c in ((row.group, rate.count), (bname, _count(rows[best], kind)))
        if c < RULE_OF_30
    ]
    if few:
        parts = " and ".join(f"{c} in group {name}" for name, c in few)
        text += (
            f" These figures rest on few {errors} ({parts}; fewer than 30), so their relative "
            "uncertainty is large (Doddington's rule of 30)."
        )
    return priority, text


def _rate_of(row: GroupRates, kind: str) -> Rate:
    return row.false_positive if kind == "fp" else row.false_negative


def _count(row: GroupRates, kind: str) -> int:
    return _rate_of(row, kind).count
