"""The ``impact`` and ``field_log`` sections: what one hit means in the field.

``impact`` (:func:`faceaudit.analyses.impact.operational_impact`): the PPV of a hit, "1 in X hits
is the wrong person", expected correct hits, wrong hits (of enrolled and of non-enrolled people)
and misses per day and per year, across prevalence and per group, with the FPIR basis stated.
``field_log`` (:func:`faceaudit.analyses.impact.field_log_figures`): a deployment's disclosed
counts as the PPV of an alert and false alerts per face, with exact intervals.
"""

from __future__ import annotations

import math

from faceaudit.report import format as fmt
from faceaudit.report import sentences as words
from faceaudit.report._data import Node
from faceaudit.report.blocks import (
    Bullets,
    Cell,
    Col,
    Figure,
    Heading,
    Para,
    Row,
    Table,
    band_cell,
    facts,
    rate_cell,
)
from faceaudit.report.sections._base import Ctx, Section

_RATES = (
    ("fpir", "FPIR: non-mated searches with a candidate at or above the threshold"),
    ("fnir_rank1", "FNIR at rank 1: mated searches whose mate is not shown"),
    ("wrong_top1", "Wrong person at rank 1: mated searches shown someone else"),
    ("mated_no_hit", "Mated searches with no hit (FNIR − wrong person at rank 1)"),
)


def _one_in_cell(e: Node, ctx: Ctx) -> Cell:
    if e["value"] is None:
        return Cell(str(e.get("reason") or "undefined"), unsupported=True)
    detail = ""
    if e["ci"]:
        lo, hi = e["ci"]
        detail = (
            f"({fmt.fmt_confidence(ctx.confidence)} CI {fmt.fmt_num(lo, 2)}–{fmt.fmt_num(hi, 2)})"
        )
    elif e.get("reason"):
        detail = f"({e['reason']})"
    return Cell(f"1 in {fmt.fmt_num(e['value'], 2)}", detail)


def _shown_points(points: list[Node]) -> list[Node]:
    """User-given prevalences, powers of ten and the ends of the grid (the rest: results.json)."""

    def keep(k: int, p: Node) -> bool:
        e = math.log10(p.num("prevalence"))
        return p.bool("user_given") or abs(e - round(e)) < 1e-9 or k in (0, len(points) - 1)

    return [p for k, p in enumerate(points) if keep(k, p)]


def _outcome_table(imp: Node, points: list[Node], period: str, ctx: Ctx) -> Table | None:
    if any(p.opt_obj(period) is None for p in points):
        return None
    cols = (
        Col("Prevalence"),
        Col("PPV of a hit"),
        Col("1 in X hits is the wrong person"),
        Col("Correct hits"),
        Col("Wrong hits: enrolled, shown someone else"),
        Col("Wrong hits: not enrolled"),
        Col("Misses: enrolled, not found"),
    )
    rows = []
    for p in points:
        o = p.obj(period)
        label = fmt.fmt_pct(p.num("prevalence")) + (" (given)" if p.bool("user_given") else "")
        rows.append(
            Row(
                (
                    Cell(label),
                    _ppv_cell(p, ctx),
                    _one_in_cell(p.band("wrong_one_in"), ctx),
                    *(
                        band_cell(o.band(k), ctx.confidence)
                        for k in ("correct_hit", "wrong_hit_mated", "wrong_hit_nonmated", "miss")
                    ),
                )
            )
        )
    return Table(cols, tuple(rows), "impact")


def _ppv_cell(p: Node, ctx: Ctx) -> Cell:
    c = band_cell(p.band("ppv"), ctx.confidence)
    band = p["ppv_over_fpir_band"]
    if band and None not in band:
        return Cell(
            c.text,
            f"{c.detail}; over the FPIR band {fmt.fmt_num(band[0])}–{fmt.fmt_num(band[1])}",
            c.bound,
            c.unsupported,
        )
    return c


def _rates_table(rates: Node, ctx: Ctx, n: tuple) -> Table:
    rows = tuple(
        Row((Cell(label), band_cell(rates.band(k), ctx.confidence))) for k, label in _RATES
    )
    cols = (
        Col(f"Rate at the threshold (n = {n[0]} mated, {n[1]} non-mated searches)"),
        Col("Value"),
    )
    return Table(cols, rows, "compact")


def _groups_table(imp: Node, ctx: Ctx) -> Table:
    cols = (
        Col("Group"),
        Col("Assumed prevalence"),
        Col("Basis of the assumption"),
        Col("FPIR"),
        Col("FNIR at rank 1"),
        Col("PPV of a hit"),
        Col("1 in X hits is the wrong person"),
    )
    rows = []
    for g in imp.objs("groups"):
        r = g.obj("rates")
        basis = g.opt_str("prevalence_basis")
        rows.append(
            Row(
                (
                    Cell(g.str("group")),
                    Cell(fmt.fmt_pct(g.num("prevalence"))),
                    Cell(basis or "none stated: an assumption only", unsupported=basis is None),
                    band_cell(r.band("fpir"), ctx.confidence),
                    band_cell(r.band("fnir_rank1"), ctx.confidence),
                    _ppv_cell(g, ctx),
                    _one_in_cell(g.band("wrong_one_in"), ctx),
                )
            )
        )
    return Table(cols, tuple(rows), "groups")


def _basis(imp: Node) -> str:
    fg, n = imp.obj("fpir_at_gallery"), fmt.fmt_count(imp.int("gallery_size"))
    thr = imp.opt_num("threshold")
    at = f" at threshold {fmt.fmt_threshold(thr)}" if thr is not None else ""
    if fg.str("basis") == "measured":
        return f"FPIR basis: measured on a gallery of {n}{at}, the size the field app searches."
    band = fg["band"]
    band_s = (
        f" with the band {fmt.fmt_num(band[0])}–{fmt.fmt_num(band[1])}"
        if band
        else (" without a band: its uncertainty, usually the largest here, is not shown")
    )
    return (
        f"FPIR basis: extrapolated to a gallery of {n}{at} (a model's figure, not a "
        f"measurement){band_s}."
    )


def impact_blocks(imp: Node, ctx: Ctx) -> list:
    rates = imp.obj("rates")
    n = (fmt.fmt_count(rates.opt_int("n_mated")), fmt.fmt_count(rates.opt_int("n_nonmated")))
    points = _shown_points(imp.objs("points"))
    out: list = [
        Bullets(tuple(words.impact_sentences(imp, ctx.confidence)), "sentences"),
        Para(_basis(imp), "note"),
    ]
    own = ctx.own_warnings(imp)
    if own:
        out.append(Bullets(own, "flags"))
    boot = imp.obj("bootstrap")
    out += [
        facts(
            [
                ("Gallery the app searches (N)", fmt.fmt_count(imp.int("gallery_size"))),
                ("People searched a day", fmt.fmt_num(imp.num("encounters_per_day"))),
                ("Days a year", fmt.fmt_num(imp.num("days_per_year"))),
                (
                    "Intervals",
                    f"{boot.str('interval')} over {boot.int('replicates')} joint "
                    "subject-bootstrap replicates"
                    if boot.int("replicates")
                    else str(boot.opt_str("reason") or "none"),
                ),
            ]
        ),
        Heading("The audit's rates this rests on"),
        _rates_table(rates, ctx, n),
        Heading("What a hit means, by prevalence (per day)"),
        Para(
            "Prevalence is the share of the people searched who are truly in the gallery. The "
            "audit cannot measure it: it depends on where the camera is and who is on the "
            "watchlist, so every figure is given across a range.",
            "note",
        ),
    ]
    for period, head in (("per_day", None), ("per_year", "The same, per year")):
        table = _outcome_table(imp, points, period, ctx)
        if table is not None:
            out += ([Heading(head)] if head else []) + [table]
    if imp.objs("groups"):
        out += [
            Heading("Per group, at each group's own assumed prevalence"),
            Para(
                "Each group's rates are its own, measured at the same threshold; its "
                "prevalence is an assumption about who is searched and who is enrolled, "
                "not a measurement.",
                "note",
            ),
            _groups_table(imp, ctx),
        ]
    hidden = len(imp.objs("points")) - len(points)
    if hidden:
        out.append(
            Para(f"{hidden} more prevalences are in results.json and in the figure.", "note")
        )
    out += [
        Figure(
            "ppv",
            "Positive predictive value of a hit (the chance that the person shown "
            "is the person photographed) against prevalence, log scale, with its "
            "confidence band; markers: each group at its assumed prevalence.",
        ),
        Heading("Assumptions"),
        Bullets(tuple(imp.strs("assumptions")), "rules"),
    ]
    return out


def impact_figures(imp: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    pts = imp.objs("points")
    ppv = [p.band("ppv") for p in pts]
    nan = float("nan")

    def end(b: Node, k: int) -> float:
        return b["ci"][k] if b["ci"] else nan

    groups = [
        (g.str("group"), g.num("prevalence"), g.band("ppv")["value"]) for g in imp.objs("groups")
    ]
    return {
        "ppv": F.ppv_figure(
            [p.num("prevalence") for p in pts],
            [nan if b["value"] is None else b["value"] for b in ppv],
            lo=[end(b, 0) for b in ppv],
            hi=[end(b, 1) for b in ppv],
            groups=[g for g in groups if g[2] is not None],
        )
    }


_LOG_RATES = (
    ("ppv", "PPV of an alert (verified alerts that were the right person)"),
    ("false_discovery", "Verified alerts that were the wrong person"),
    ("ppv_if_unverified_wrong", "PPV if every unverified alert was wrong"),
    ("ppv_if_unverified_correct", "PPV if every unverified alert was right"),
    ("alerts_per_face", "Alerts per face scanned"),
    ("false_alerts_per_face", "False alerts per face scanned (an estimate of FPIR)"),
    (
        "false_alerts_per_face_if_unverified_wrong",
        "False alerts per face, unverified counted wrong",
    ),
)


def _log_cell(r: Node, ctx: Ctx) -> Cell:
    if r["value"] is None:
        return Cell(f"not available: {r.get('reason') or 'no data'}", unsupported=True)
    return rate_cell(r, ctx.confidence)


def field_log_blocks(log: Node, ctx: Ctx) -> list:
    c = log.obj("counts")
    count_rows = [
        ("Alerts", c.int("alerts")),
        ("Confirmed wrong", c.int("confirmed_wrong")),
        ("Confirmed correct", c.int("confirmed_correct")),
        ("Never verified", c.int("unverified")),
        ("Faces scanned", c.opt_int("scanned")),
        ("Watchlist size", c.opt_int("watchlist")),
    ]
    rows = [Row((Cell(label), _log_cell(log.rate(k), ctx))) for k, label in _LOG_RATES]
    rows.insert(
        2,
        Row(
            (Cell("1 in X alerts is the wrong person"), _one_in_cell(log.band("wrong_one_in"), ctx))
        ),
    )
    fmr = log.band("implied_fmr")
    rows.append(
        Row(
            (
                Cell("Implied per-comparison FMR (independence model)"),
                band_cell(fmr, ctx.confidence)
                if fmr["value"] is not None
                else Cell(f"not available: {fmr.get('reason')}", unsupported=True),
            )
        )
    )
    out: list = [
        Bullets(tuple(words.field_log_sentences(log)), "sentences"),
        facts([(k, fmt.fmt_count(v) if v is not None else "not given") for k, v in count_rows]),
        Table((Col("Figure"), Col("Value")), tuple(rows), "compact"),
        Para(
            f"Intervals: {log.str('interval_method')}, at "
            f"{fmt.fmt_confidence(log.num('confidence'))}.",
            "note",
        ),
    ]
    ext = log.objs("gallery_extrapolation")
    if ext:
        erows = tuple(
            Row(
                (
                    Cell(fmt.fmt_count(e.int("gallery_size"))),
                    band_cell(e.band("expected_false_candidates"), ctx.confidence),
                    band_cell(e.band("fpir"), ctx.confidence),
                )
            )
            for e in ext
        )
        out += [
            Heading(
                "Carried to other gallery sizes (the independence model's figures, not "
                "measurements)"
            ),
            Table(
                (
                    Col("Gallery size N", num=True),
                    Col("Expected false candidates per search"),
                    Col("FPIR"),
                ),
                erows,
            ),
        ]
    own = ctx.own_warnings(log)
    if own:
        out.append(Bullets(own, "flags"))
    return out + [Heading("Assumptions"), Bullets(tuple(log.strs("assumptions")), "rules")]


IMPACT = Section(
    "impact",
    "What a hit means in the field",
    impact_blocks,
    impact_figures,
    lambda imp, ctx: words.impact_sentences(imp, ctx.confidence),
)
FIELD_LOG = Section(
    "field_log",
    "What a field log shows",
    field_log_blocks,
    None,
    lambda log, ctx: words.field_log_sentences(log),
)
