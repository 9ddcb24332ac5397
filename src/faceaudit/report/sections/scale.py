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
        cell = (
            rate_cell(p.rate("fpir"), ctx.confidence)
            if kind == "measured"
            else band_cell(p.band("fpir"), ctx.confidence)
        )
        rows.append(Row((Cell(fmt.fmt_count(p.int("gallery_size"))), cell, Cell(kind)), kind))
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
            )
        )
        for d in s.objs("threshold_needed")
    )
    cols = (Col("Gallery size N", num=True), Col("FPIR target"), Col("Threshold needed"))
    return Table(cols, rows)


def _tail(s: Node, ctx: Ctx):
    t = s.obj("tail_fit")
    pairs = [
        ("Tail threshold u", fmt.fmt_threshold(t.num("threshold_u"))),
        ("Shape ξ", fmt.fmt_num(t.num("shape"))),
        ("Scale σ", fmt.fmt_num(t.num("scale"))),
        (
            "Exceedances fitted",
            f"{fmt.fmt_num(t.num('n_exceedances'))} of "
            f"{fmt.fmt_num(t.num('n_total'))} impostor comparisons",
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


def _validation(s: Node, ctx: Ctx) -> list:
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
                    rate_cell(v.rate("measured"), ctx.confidence),
                    band_cell(v.band("extrapolated"), ctx.confidence),
                    Cell("—" if inside is None else ("yes" if inside else "NO")),
                )
            )
        )
    cols = (
        Col("Gallery size N", num=True),
        Col("Measured FPIR"),
        Col("Extrapolated FPIR"),
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
    own = ctx.own_warnings(s)
    if own:
        out.append(Bullets(own, "flags"))
    out += [
        Para(
            f"The threshold is held fixed at {fmt.fmt_threshold(s.num('threshold'))} while the "
            "gallery grows. Measured points come from real distractor galleries; extrapolated "
            "points come from a model of the impostor score tail (extreme-value theory) and "
            "assume searches are independent — treat them as estimates with their band, not "
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
