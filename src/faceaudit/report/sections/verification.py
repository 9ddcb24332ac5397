"""The ``verification`` section: 1:1 errors (ISO/IEC 19795-1 FMR, FNMR, EER, generalised rates)."""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report import sentences as words
from faceaudit.report._data import Node
from faceaudit.report.blocks import Cell, Col, Figure, Heading, Para, Row, Table, facts, rate_cell
from faceaudit.report.sections._base import Ctx, Section

_RECHOSEN = "threshold re-chosen in every replicate"

_FACTS = (
    ("n_mated", "Mated comparisons (same person)"),
    ("n_nonmated", "Non-mated comparisons (different people)"),
    ("mated_fta", "Mated comparisons with no score (failure to acquire)"),
    ("nonmated_fta", "Non-mated comparisons with no score (failure to acquire)"),
)


def _note(v: Node, ctx: Ctx) -> str:
    if ctx.orientation == "distance":
        note = (
            "Scores are distances: lower means more alike, and a comparison is a match when the "
            "distance is at or below the threshold. Thresholds are shown in the file's own units."
        )
    else:
        note = (
            "Scores are similarities: higher means more alike, and a comparison is a match when "
            "the score is at or above the threshold."
        )
    return note + f" Threshold units: {v.str('threshold_units')}."


def _eer_text(eer: Node, ctx: Ctx) -> str:
    ci = fmt.fmt_ci(eer, ctx.confidence)
    return (
        f"EER {fmt.fmt_num(eer.num('value'))} ({ci}) at threshold "
        f"{fmt.fmt_threshold(eer.num('threshold'))}; there FMR = {fmt.fmt_num(eer.num('fmr'))} "
        f"and FNMR = {fmt.fmt_num(eer.num('fnmr'))}."
    )


def _ops_table(v: Node, ctx: Ctx) -> Table:
    ops = v.objs("operating_points")
    has_gen = any("generalized_fmr" in o for o in ops)
    has_fixed = any(o.get("fnmr_interval") == _RECHOSEN for o in ops)
    cols = [
        Col("FMR target"),
        Col("Threshold"),
        Col("FMR (false matches)"),
        Col("FNMR (false non-matches)"),
    ]
    if has_fixed:
        cols.append(Col("FNMR, interval at this fixed threshold"))
    if has_gen:
        cols += [Col("Generalised FMR"), Col("Generalised FNMR")]
    cols.append(Col("Supported"))
    rows = []
    for o in ops:
        target = o.opt_num("fmr_target")
        label = fmt.target_text(target) if target is not None else "given threshold"
        fmr, fnmr = o.rate("fmr"), o.rate("fnmr")
        if not o.bool("supported"):
            have = fmr["n"] if fmr["n"] is not None else v.int("n_nonmated")
            text = words.support_text(target, have, "non-mated comparisons", o.get("support"))
            span = 3 + 2 * has_gen + has_fixed
            cells = [Cell(label), Cell(text, unsupported=True, span=span), Cell("no")]
            rows.append(Row(tuple(cells), "unsupported-row"))
            continue
        cells = [
            Cell(label),
            Cell(
                fmt.fmt_threshold(o.opt_num("threshold")), words.threshold_detail(o, ctx.confidence)
            ),
            rate_cell(fmr, ctx.confidence),
            rate_cell(fnmr, ctx.confidence),
        ]
        if has_fixed:
            rechosen = o.get("fnmr_interval") == _RECHOSEN
            cells.append(
                rate_cell(o.rate("fnmr_fixed_threshold"), ctx.confidence) if rechosen else Cell("—")
            )
        if has_gen:
            for key in ("generalized_fmr", "generalized_fnmr"):
                cells.append(rate_cell(o.rate(key), ctx.confidence) if key in o else Cell("—"))
        cells.append(Cell("yes"))
        rows.append(Row(tuple(cells)))
    return Table(tuple(cols), tuple(rows), "ops")


def _rechosen_notes(v: Node) -> list:
    """What the FNMR intervals of targets mean, and what choosing the threshold costs."""
    ops = [o for o in v.objs("operating_points") if o.get("fnmr_interval") == _RECHOSEN]
    if not ops:
        return []
    out = [
        Para(
            "The FNMR interval of an FMR target is for the system's FNMR at that FMR: every "
            "bootstrap replicate chooses its own threshold, so the threshold's own uncertainty "
            "is in it (the threshold column gives the replicates' range). The next column holds "
            "the threshold fixed, answering another question: the FNMR at exactly this "
            "threshold.",
            "note",
        )
    ]
    head = words.headline_point(ops, "fmr_target", "fmr", v.get("headline_fmr_target")) or ops[0]
    label = f"FMR ≤ {fmt.target_text(head.num('fmr_target'))}"
    if sentence := words.optimism_sentence(head, "fmr", "fnmr", label):
        out.append(Para(sentence))
    return out


def blocks(v: Node, ctx: Ctx) -> list:
    pairs = [(label, fmt.fmt_count(v.int(key))) for key, label in _FACTS]
    pairs.append(("Area under the ROC curve (AUC)", f"{v.num('auc'):.6f}"))
    return [
        Para(words.verification_summary(v, ctx.confidence), "lead"),
        Para(_note(v, ctx), "note"),
        facts(pairs),
        Heading("Equal error rate"),
        Para(_eer_text(v.obj("eer"), ctx)),
        Heading("Operating points"),
        Para(
            "For each FMR target, the threshold that gives the lowest FNMR while keeping FMR at "
            "or below the target on this data. “Given threshold” rows are thresholds fixed "
            "elsewhere and applied unchanged.",
            "note",
        ),
        _ops_table(v, ctx),
        *_rechosen_notes(v),
        Figure(
            "det",
            "DET curve: each point is one threshold; lower-left is better. Squares mark the FMR "
            "targets, the circle the equal error rate. Both axes are logarithmic and span the "
            "data.",
        ),
        Figure(
            "score_histogram",
            "Score distributions of mated and non-mated comparisons, each as a share of its own "
            "total; the right panel uses a log scale to show the tails, where errors happen. "
            "Dashed lines: thresholds of the operating points.",
        ),
    ]


def figures(v: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    marks, thresholds = [], []
    for o in v.objs("operating_points"):
        if not o.bool("supported"):
            continue
        target = o.opt_num("fmr_target")
        label = f"FMR ≤ {fmt.target_text(target)}" if target is not None else "given"
        x, y = o.rate("fmr")["value"], o.rate("fnmr")["value"]
        if x is not None and y is not None:
            marks.append((x, y, label))
        if o.opt_num("threshold") is not None:
            thresholds.append((o.num("threshold"), label))
    eer = v.obj("eer")
    thresholds.append((eer.num("threshold"), "EER"))
    det, hist = v.obj("det"), v.obj("histogram")
    out = {}
    if det.list("fmr"):
        out["det"] = F.det_figure(
            det.list("fmr"), det.list("fnmr"), operating_points=marks, eer=eer.num("value")
        )
    units = v.str("threshold_units")
    xlabel = "distance" if units == "distance" else "similarity score"
    if hist.list("edges"):
        edges = hist.list("edges")
        scale = _axis_scale(edges)
        if scale != 1.0:  # a span near the float range: drawn in units of 10^k
            edges = [e / scale for e in edges]
            thresholds = [(t / scale, label) for t, label in thresholds]
            xlabel += f" (×{fmt.fmt_num(scale)})"
        out["score_histogram"] = F.score_histogram_figure(
            edges,
            hist.list("mated"),
            hist.list("nonmated"),
            thresholds=thresholds,
            xlabel=xlabel,
        )
    return out


def _axis_scale(edges: list[float]) -> float:
    """1, or the power of ten that brings a score axis spanning more than 10^100 (placeholder
    scores such as +-1e308) within range of matplotlib's arithmetic."""
    import math

    big = max(abs(edges[0]), abs(edges[-1]))
    if not math.isfinite(big) or big < 1e100:
        return 1.0
    return 10.0 ** math.floor(math.log10(big))


SECTION = Section(
    "verification",
    "1:1 verification errors",
    blocks,
    figures,
    lambda v, ctx: [words.verification_summary(v, ctx.confidence)],
)
