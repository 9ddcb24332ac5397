"""The ``scale`` section: FPIR as the gallery grows, measured and extrapolated (tail fit)."""

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
from faceaudit.report.sections._base import Ctx, Section, point


def _shown(points: list[Node]) -> list[Node]:
    """All measured points; extrapolated ones at powers of ten, measured sizes and the largest."""
    measured = {p.int("gallery_size") for p in points if p.bool("measured")}
    largest = max((p.int("gallery_size") for p in points), default=None)

    def keep(p: Node) -> bool:
        n = p.int("gallery_size")
        if p.bool("measured") or n in measured or n == largest or n <= 0:
            return True
        return abs(math.log10(n) - round(math.log10(n))) < 1e-9

    return [p for p in points if keep(p)]


def _points_table(s: Node, ctx: Ctx) -> tuple[Table, int]:
    points = s.objs("points")
    shown = _shown(points)
    rows = []
    for p in shown:
        kind = "measured" if p.bool("measured") else "extrapolated"
        label = "extrapolated beyond the data" if p.get("beyond_data") else kind
        cell = (
            rate_cell(p.rate("fpir"), ctx.confidence)
            if kind == "measured"
            else band_cell(p.band("fpir"), ctx.confidence)
        )
        rows.append(Row((Cell(fmt.fmt_count(p.int("gallery_size"))), cell, Cell(label)), kind))
    cols = (Col("Gallery size N", num=True), Col("FPIR"), Col("Source"))
    return Table(cols, tuple(rows)), len(points) - len(shown)


def _facts(s: Node, ctx: Ctx):
    fmr_t, boot = s.obj("fmr_at_threshold"), s.obj("bootstrap")
    return facts(
        [
            (
                "Largest measured gallery (distractors enrolled)",
                fmt.fmt_count(s.int("gallery_size")),
            ),
            ("Extrapolated to gallery size", fmt.fmt_count(s.int("target_gallery_size"))),
            ("Non-mated searches", fmt.fmt_count(s.int("n_nonmated"))),
            ("Mated searches", fmt.fmt_count(s.int("n_mated"))),
            (
                f"FMR at the threshold (from {fmr_t.str('source')})",
                fmt.fmt_band(fmr_t, ctx.confidence),
            ),
            ("Extrapolation model", s.str("model")),
            (
                "Bootstrap",
                f"{fmt.fmt_count(boot.int('replicates'))} replicates, resampling "
                f"{boot.str('unit')}",
            ),
        ]
    )


def _needed(s: Node, ctx: Ctx) -> Table:
    rows = tuple(
        Row(
            (
                Cell(fmt.fmt_count(d.int("gallery_size"))),
                Cell(fmt.fmt_num(d.num("fpir_target"))),
                band_cell(d, ctx.confidence, threshold=True),
                Cell(fmt.fmt_num(d.opt_num("fmr"))),
                Cell("yes" if d.get("beyond_data") else "no"),
            )
        )
        for d in s.objs("threshold_needed")
    )
    cols = (
        Col("Gallery size N", num=True),
        Col("FPIR target"),
        Col("Threshold needed"),
        Col("FMR per comparison there"),
        Col("Beyond the data"),
    )
    return Table(cols, rows)


def _beyond(s: Node) -> list:
    """The beyond-the-data flag of FPIR at T, in plain words, when it fires."""
    b = s.opt_obj("beyond_data")
    if b is None or not b.bool("flagged"):
        return []
    n_total = s.obj("tail_fit").num("n_total")
    return [Para(words.beyond_data_text(b, n_total, s.num("threshold")), "unsupported")]


def _choice(s: Node) -> list:
    """How the tail threshold was chosen, and the strata of searches."""
    t = s.obj("tail_fit")
    c = t.opt_obj("choice")
    out = []
    if c is not None:
        band = ", ".join(fmt.fmt_count(k) for k in c.list("band_n_exceedances"))
        cands = ", ".join(fmt.fmt_count(k) for k in c.list("candidates"))
        out.append(
            Para(
                f"Tail threshold: {c.str('rule')}; {fmt.fmt_count(c.int('n_exceedances'))} "
                f"exceedances chosen among {cands}. "
                f"The band mixes refits at {band} "
                "exceedances, so it carries the uncertainty of that choice, not sampling "
                "error alone; within the data it is centred on the estimate (refitted "
                "replicates fall below it more often than the estimate falls below the truth).",
                "note",
            )
        )
    strata = t.objs("strata") if t.get("strata") else []
    if strata:
        rows = tuple(
            Row(
                (
                    Cell(fmt.fmt_count(st.int("n_searches"))),
                    Cell(" – ".join(fmt.fmt_threshold(x) for x in st.list("propensity"))),
                    Cell(fmt.fmt_threshold(st.num("threshold_u"))),
                    Cell(fmt.fmt_num(st.num("shape"))),
                    Cell(fmt.fmt_count(st.obj("choice").int("n_exceedances"))),
                )
            )
            for st in strata
        )
        cols = (
            Col("Searches", num=True),
            Col("Their 99th-percentile scores"),
            Col("Tail threshold u"),
            Col("Shape ξ (of w)"),
            Col("Exceedances"),
        )
        out += [
            Para(
                "Searches differ (some faces resemble many others), so FPIR is the mean over "
                "searches of each one's chance of a false candidate, not one pooled rate "
                "(pooling over-states it). Searches are grouped by how high their scores run, "
                "and each group's score tail is fitted on its own:",
                "note",
            ),
            Table(cols, rows),
        ]
    return out


def _tail(s: Node, ctx: Ctx):
    t = s.obj("tail_fit")
    pairs = [
        ("Tail threshold u", fmt.fmt_threshold(t.num("threshold_u"))),
        ("Shape ξ", fmt.fmt_num(t.num("shape"))),
        ("Scale σ", fmt.fmt_num(t.num("scale"))),
        (
            "Exceedances fitted",
            f"{fmt.fmt_num(t.num('n_exceedances'))} of "
            f"{fmt.fmt_num(t.num('n_total'))} non-mated comparisons",
        ),
        ("Endpoint (fitted maximum score)", fmt.fmt_threshold(t.opt_num("endpoint"))),
    ]
    band = t.obj("band")
    for key, label in (("shape", "Shape"), ("scale", "Scale")):
        b = band[key]
        if b and None not in b:
            pairs.append(
                (
                    f"{label} ({fmt.fmt_confidence(ctx.confidence)} band)",
                    f"{fmt.fmt_num(b[0])} – {fmt.fmt_num(b[1])}",
                )
            )
    return facts(pairs)


def _rank1(s: Node, ctx: Ctx) -> Table:
    r1 = s.obj("rank1_accuracy")
    rows = [
        Row(
            (
                Cell(fmt.fmt_count(m.int("gallery_size"))),
                Cell("measured"),
                rate_cell(m.rate("rate"), ctx.confidence),
                Cell(""),
            )
        )
        for m in r1.objs("measured")
    ] + [
        Row(
            (
                Cell(fmt.fmt_count(e.int("gallery_size"))),
                Cell("expected (model)"),
                band_cell(e.band("rank1_accuracy"), ctx.confidence),
                band_cell(e.band("rank1_above_threshold"), ctx.confidence),
            )
        )
        for e in r1.objs("expected")
    ]
    cols = (
        Col("Gallery size N", num=True),
        Col("Source"),
        Col("Rank-1 accuracy"),
        Col("Rank 1 and above the threshold"),
    )
    return Table(cols, tuple(rows))


def _validation(s: Node, ctx: Ctx) -> list:  # noqa: C901
    val = s.opt_obj("validation")
    if val is None:
        return [
            Heading("Does the extrapolation hold?"),
            Para(
                "Not validated: the gallery is too small to refit the tail on a part of it "
                "and compare with measurement.",
                "unsupported",
            ),
        ]
    note = (
        f"The tail was fitted again on only {fmt.fmt_count(val.int('fit_gallery_size'))} "
        "distractors and extrapolated to the larger galleries that were also measured. Where the "
        "measured FPIR falls inside the extrapolation band, the model held up."
    )
    check = val.opt_obj("check") if "check" in val else None
    if check is not None and check["inside"] is not None:
        verdict = "inside" if check["inside"] else "OUTSIDE"
        predicted = fmt.fmt_band(check.band("extrapolated"), ctx.confidence)
        note += (
            f" Self-validation: predicted {predicted}"
            f" at N = {fmt.fmt_count(check.int('gallery_size'))}, measured "
            f"{fmt.fmt_rate(check.rate('measured'), ctx.confidence)}: the measured value lies "
            f"{verdict} the band."
        )
    if "skipped" in val:
        return [
            Heading("Does the extrapolation hold?"),
            Para(f"{note} Skipped: {val.str('skipped')}.", "note"),
        ]
    rows = []
    for v in val.objs("points"):
        inside = v["inside"]
        rows.append(
            Row(
                (
                    Cell(fmt.fmt_count(v.int("gallery_size"))),
                    Cell(fmt.fmt_num(v.opt_num("growth")) + "x" if v.get("growth") else "—"),
                    rate_cell(v.rate("measured"), ctx.confidence),
                    band_cell(v.band("extrapolated"), ctx.confidence),
                    Cell(fmt.fmt_num(v.opt_num("ratio")) if v.get("ratio") is not None else "—"),
                    Cell("—" if inside is None else ("yes" if inside else "NO")),
                )
            )
        )
    cols = (
        Col("Gallery size N", num=True),
        Col("Growth"),
        Col("Measured FPIR"),
        Col("Extrapolated FPIR"),
        Col("Predicted / measured"),
        Col("Inside the band"),
    )
    return [Heading("Does the extrapolation hold?"), Para(note, "note"), Table(cols, tuple(rows))]


def blocks(s: Node, ctx: Ctx) -> list:
    table, hidden = _points_table(s, ctx)
    out: list = []
    summary = words.scale_summary(s, ctx.confidence)
    if summary:
        out.append(Para(summary, "lead"))
    out.append(_facts(s, ctx))
    out += _beyond(s)
    own = ctx.own_warnings(s)
    if own:
        out.append(Bullets(own, "flags"))
    out += [
        Para(
            f"The threshold is held fixed at {fmt.fmt_threshold(s.num('threshold'))} while the "
            "gallery grows. Measured points come from real distractor galleries; extrapolated "
            "points come from a model of the non-mated score tail (extreme-value theory), "
            "averaged over the searches — treat them as estimates with their band, not "
            "measurements.",
            "note",
        ),
        table,
    ]
    if hidden:
        out.append(
            Para(
                f"{hidden} more extrapolated gallery sizes are listed in results.json "
                "and drawn in the figure.",
                "note",
            )
        )
    out += [
        Heading("Threshold needed to hold FPIR at a target"),
        _needed(s, ctx),
        Heading("Tail fit"),
        _tail(s, ctx),
        *_choice(s),
        Heading("Rank-1 accuracy as the gallery grows"),
        _rank1(s, ctx),
    ]
    out += _validation(s, ctx)
    out += [
        Figure(
            "fpir_gallery",
            "FPIR against gallery size (log-log). Dots with bars: measured on "
            "real distractor galleries, with confidence intervals. Dashed line and shaded "
            "band: extrapolation from the fitted score tail, with its band — a model, not a "
            "measurement.",
        ),
        Figure(
            "tail_fit",
            "Tail-fit diagnostic: the fitted generalised Pareto tail should "
            "follow the empirical exceedance probabilities; a gap means the extrapolation is "
            "not trustworthy.",
        ),
        Figure(
            "scale_validation",
            "Validation of the extrapolation: a tail fitted on a small "
            "gallery (dashed line, band) against FPIR measured on the larger galleries (dots "
            "with CI bars).",
        ),
    ]
    return out


def _size(pair: tuple) -> float:
    return pair[0]


def figures(s: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    out = {}
    measured, extrapolated = [], []
    for p in s.objs("points"):
        (measured if p.bool("measured") else extrapolated).append(
            (float(p.int("gallery_size")), point(p.obj("fpir")))
        )
    if measured or extrapolated:
        out["fpir_gallery"] = F.fpir_gallery_figure(
            sorted(measured, key=_size),
            sorted(extrapolated, key=_size),
            threshold=s.num("threshold"),
        )
    val = s.opt_obj("validation")
    if val is not None and "points" in val and val.objs("points"):
        pts = val.objs("points")
        out["scale_validation"] = F.fpir_gallery_figure(
            [(float(v.int("gallery_size")), point(v.rate("measured"))) for v in pts],
            [(float(v.int("gallery_size")), point(v.band("extrapolated"))) for v in pts],
            title="Validation: extrapolation from a small fit vs measurement\n(tail fitted on "
            f"{val.int('fit_gallery_size'):,} distractors)",
        )
    tail = s.obj("tail_fit")
    diag = tail.opt_obj("diagnostic")
    if diag is not None and diag.list("score"):
        out["tail_fit"] = F.tail_fit_figure(
            diag.list("score"),
            diag.list("empirical"),
            diag.list("fitted"),
            lo=diag.get("lo"),
            hi=diag.get("hi"),
            threshold_u=tail.num("threshold_u"),
        )
    return out


def _verdict(s: Node, ctx: Ctx) -> list[str]:
    summary = words.scale_summary(s, ctx.confidence)
    return [summary] if summary else []


SECTION = Section(
    "scale", "Gallery size: how false candidates grow with N", blocks, figures, _verdict
)
