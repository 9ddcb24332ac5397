"""The ``capture`` and ``quality`` sections: error rates per capture condition at one threshold,
and what image quality says about them (ISO/IEC 29794-1 EDC; docs/capture.md).

The analysis writes one plain sentence per condition (:mod:`faceaudit.analyses.capture`); the
report shows them beside the tables they summarise.
"""

from __future__ import annotations

from faceaudit.report import format as fmt
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
    rate_text,
)
from faceaudit.report.sections._base import Ctx, Section, point

_RATES_11 = (
    ("fta", "No usable face (FTA)"),
    ("fnmr", "FNMR"),
    ("generalized_fnmr", "Generalised FNMR"),
    ("fmr", "FMR"),
)
_RATES_1N = (("fnir", "FNIR"), ("generalized_fnir", "Generalised FNIR"), ("fpir", "FPIR"))


def _threshold_text(t: Node) -> str:
    value = fmt.fmt_threshold(t.opt_num("value"))
    rule, target = t.str("rule"), t.opt_num("target")
    how = {"fmr_target": "FMR", "fpir_target": "FPIR"}.get(rule)
    chosen = f"chosen for {how} ≤ {fmt.target_text(target)}" if how else "given"
    return f"{value} ({chosen} on {t.str('fixed_on')}; {t.str('held')})"


def _capture_facts(c: Node, ctx: Ctx):
    t, split, boot = c.obj("threshold"), c.obj("split"), c.obj("bootstrap")
    pairs = [
        ("Conditions from", c.obj("condition_source").str("kind")),
        ("Reference condition", f"{c.str('reference_condition')} ({c.str('reference_rule')})"),
        ("Threshold", _threshold_text(t)),
        ("Threshold units", t.str("units")),
        ("References (enrolment photos)", split.str("references")),
        ("People enrolled in the 1:N gallery", fmt.fmt_count(split.opt_int("n_enrolled"))),
        ("People held out (non-mated searches)", fmt.fmt_count(split.opt_int("n_held_out"))),
        ("Probe photos", fmt.fmt_count(split.opt_int("n_probe_photos"))),
    ]
    ref = t.obj("at_reference")
    for key in ("fmr", "fnmr", "fpir", "fnir"):
        pairs.append((f"{key.upper()} at the reference", rate_text(ref.rate(key), ctx.confidence)))
    reps = boot.opt_int("replicates") or 0
    pairs.append(
        ("Bootstrap", f"{fmt.fmt_count(reps)} replicates by {boot.str('unit')}" if reps else "none")
    )
    return facts(pairs)


def _rates_table(conds: list[Node], keys, ctx: Ctx) -> Table:
    cols = (Col("Condition"), Col("Photos", num=True), *(Col(label) for _, label in keys))
    rows = []
    for c in conds:
        cells = [Cell(c.str("label")), Cell(fmt.fmt_count(c.opt_int("n_photos")))]
        cells += [rate_cell(c.rate(k), ctx.confidence) for k, _ in keys]
        rows.append(Row(tuple(cells), "measured" if c.bool("reference") else ""))
    return Table(cols, tuple(rows), "groups")


def _change_table(conds: list[Node], ctx: Ctx) -> Table | None:
    keys = _RATES_11 + _RATES_1N
    rows = []
    for c in conds:
        vs = c.get("vs_reference")
        if vs is None:
            continue
        cells = [Cell(c.str("label"))]
        for k, _ in keys:
            d = vs.obj(k).obj("difference")
            cells.append(band_cell(d, ctx.confidence) if d.get("value") is not None else Cell("—"))
        rows.append(Row(tuple(cells)))
    if not rows:
        return None
    cols = (Col("Condition"), *(Col(f"Δ {label}") for _, label in keys))
    return Table(cols, tuple(rows), "groups")


def capture_blocks(c: Node, ctx: Ctx) -> list:
    conds = c.objs("conditions")
    sentences = c.strs("sentences")
    out: list = [Para(sentences[0], "lead")] if sentences else []
    out.append(_capture_facts(c, ctx))
    if own := ctx.own_warnings(c):
        out.append(Bullets(own, "flags"))
    out += [
        Heading("Error rates per condition (1:1)"),
        Para(
            "Every condition is scored at the one threshold fixed on the reference condition, as "
            "a deployed system would be. Generalised rates count a photo with no usable face as "
            "an error (ISO/IEC 19795-1).",
            "note",
        ),
        _rates_table(conds, _RATES_11, ctx),
        Heading("Error rates per condition (1:N)"),
        _rates_table(conds, _RATES_1N, ctx),
    ]
    if (change := _change_table(conds, ctx)) is not None:
        out += [
            Heading("Change from the reference condition"),
            Para(
                "Differences from the reference condition, with paired intervals (the same "
                "people in every bootstrap replicate); results.json also holds the ratios.",
                "note",
            ),
            change,
        ]
    if len(sentences) > 1:
        out += [Heading("In plain language"), Bullets(tuple(sentences[1:]))]
    if c.objs("sweeps"):
        out.append(
            Figure(
                "capture_sweeps",
                "FNMR and failure to acquire as each degradation grows, at the threshold fixed on "
                "the reference condition (dashed: their values on the clean photos); whiskers are "
                "confidence intervals, triangles zero-error bounds.",
            )
        )
    return out


def capture_figures(c: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    by_name = {c2.str("name"): c2 for c2 in c.objs("conditions")}
    shown = (("fnmr", "FNMR"), ("fta", "no usable face (FTA)"))
    panels = []
    for s in c.objs("sweeps"):
        levels = [
            lv
            for lv in s.objs("levels")
            if lv.str("condition") in by_name and lv.opt_num("value") is not None
        ]
        if not levels:
            continue
        xs = [lv.num("value") for lv in levels]
        series = {
            label: [point(by_name[lv.str("condition")].rate(key)) for lv in levels]
            for key, label in shown
        }
        panels.append((s.str("name"), f"{s.str('parameter')} ({s.str('unit')})", xs, series))
    ref = by_name.get(c.str("reference_condition"))
    reference = {label: point(ref.rate(key)) for key, label in shown} if ref is not None else None
    return {"capture_sweeps": F.sweep_figure(panels, reference)} if panels else {}


def _quality_table(q: Node) -> Table:
    measures = ("score", "sharpness", "inter_eye_distance", "mean_luminance")
    cols = (Col("Condition"), Col("Photos assessed", num=True))
    cols += tuple(Col(f"{m.replace('_', ' ')}: median (quartiles)") for m in measures)
    rows = []
    for c in q.objs("conditions"):
        cells = [Cell(c.str("condition")), Cell(fmt.fmt_count(c.int("n_assessed")))]
        ms = c.obj("measures")
        for m in measures:
            s = ms.get(m)
            if s is None or s.get("median") is None:
                cells.append(Cell("—"))
                continue
            q1, q3 = fmt.fmt_num(s.get("q1")), fmt.fmt_num(s.get("q3"))
            cells.append(Cell(fmt.fmt_num(s.num("median")), f"({q1}–{q3})"))
        rows.append(Row(tuple(cells)))
    return Table(cols, tuple(rows), "compact")


def _edc_table(edc: Node, ctx: Ctx) -> Table:
    errors = [k for k in edc if edc.get(k) is not None]
    cols = (Col("Lowest-quality share discarded"), *(Col(k.upper()) for k in errors))
    points = {k: edc.obj(k).objs("points") for k in errors}
    rows = []
    for i, p in enumerate(points[errors[0]]):
        cells = [
            Cell(fmt.fmt_num(p.num("discard")), f"(target {fmt.fmt_num(p.num('discard_target'))})")
        ]
        for k in errors:
            pts = points[k]
            cells.append(
                rate_cell(pts[i].rate("rate"), ctx.confidence) if i < len(pts) else Cell("—")
            )
        rows.append(Row(tuple(cells)))
    return Table(cols, tuple(rows), "compact")


def _pauc_text(e: Node, ctx: Ctx) -> str:
    pauc = e.obj("pauc")
    band = band_cell({"value": pauc.get("value"), "ci": pauc.get("ci")}, ctx.confidence)
    return (
        f"{band.text} {band.detail}; a score that knows nothing: "
        f"{fmt.fmt_num(pauc.get('random'))}, a perfect one: {fmt.fmt_num(pauc.get('best'))}"
    )


def _gates_table(gates: list[Node], err: str, fp: str, ctx: Ctx) -> Table:
    """One row per rejection share: ``err`` (FNMR/FNIR) before and after, the generalised rate
    (rejected photos counted as errors), the paired change; and ``fp`` (FMR/FPIR) when given."""
    has_fp = any(g.obj(fp).get("before") is not None for g in gates if fp in g)
    cols = [
        Col("Reject the lowest-quality share"),
        Col("Quality threshold"),
        Col("Photos rejected", num=True),
        Col(f"{err.upper()} before"),
        Col(f"{err.upper()} after"),
        Col(f"Generalised {err.upper()} after (rejects count)"),
        Col("Change (points)"),
    ]
    if has_fp:
        cols += [Col(f"{fp.upper()} before"), Col(f"{fp.upper()} after")]
    rows = []
    for g in gates:
        e, ph = g.obj(err), g.obj("photos")
        ci = e.get("change_ci")
        change = fmt.fmt_num(100 * e.num("change")) if e.get("change") is not None else "—"
        detail = ""
        if ci:
            lo, hi = (fmt.fmt_num(100 * v) for v in ci)
            detail = f"({fmt.fmt_confidence(ctx.confidence)} CI {lo} to {hi})"
        after = e.get("generalised_after")
        cells = [
            Cell(fmt.fmt_num(g.num("reject_target"))),
            Cell(fmt.fmt_num(g.opt_num("quality_threshold"))),
            Cell(f"{fmt.fmt_count(ph.int('rejected'))} of {fmt.fmt_count(ph.int('n'))}"),
            rate_cell(e.rate("before"), ctx.confidence),
            rate_cell(e.rate("after"), ctx.confidence),
            rate_cell(after, ctx.confidence) if after is not None else Cell("—"),
            Cell(change, detail),
        ]
        if has_fp:
            f = g.obj(fp)
            for key in ("before", "after"):
                r = f.get(key)
                cells.append(rate_cell(r, ctx.confidence) if r is not None else Cell("—"))
        rows.append(Row(tuple(cells)))
    return Table(tuple(cols), tuple(rows), "compact")


def quality_blocks(q: Node, ctx: Ctx) -> list:
    score = q.obj("score")
    out: list = []
    if sentences := q.strs("sentences"):
        out.append(Para(sentences[0], "lead"))
    out.append(
        facts(
            [
                ("Quality score", f"{score.str('description')} (source: {score.str('source')})"),
                (
                    "Photos assessed",
                    f"{fmt.fmt_count(q.int('n_assessed'))} of {fmt.fmt_count(q.int('n_photos'))}",
                ),
                ("Quality of a 1:1 comparison", q.str("pair_quality")),
                ("Ties in quality", q.str("edc_ties")),
            ]
        )
    )
    if own := ctx.own_warnings(q):
        out.append(Bullets(own, "flags"))
    if len(sentences) > 1:
        out.append(Bullets(tuple(sentences[1:])))
    out += [Heading("Quality per condition"), _quality_table(q)]
    pooled = q.obj("pooled")
    edc = pooled.obj("edc")
    errors = [k for k in edc if edc.get(k) is not None]
    if errors:
        limit = fmt.fmt_num(q.num("pauc_limit"))
        out += [
            Heading("Error versus discard (EDC), all conditions together"),
            Para(
                "Discarding the lowest-quality photos first: a useful quality score makes the "
                f"error rate fall. The area under the curve up to {limit} discarded (pAUC) sums "
                "it up: lower is better.",
                "note",
            ),
            facts([(f"pAUC of {k.upper()}", _pauc_text(edc.obj(k), ctx)) for k in errors]),
            Figure(
                "quality_edc",
                "Error versus discard, all conditions together: each error rate at the fixed "
                "threshold as the lowest-quality photos are discarded (shaded: "
                f"{fmt.fmt_confidence(ctx.confidence)} confidence band); the dotted line is "
                "where the pAUC stops.",
            ),
            _edc_table(edc, ctx),
        ]
        per = [
            (f"{c.str('condition')}: pAUC of {k.upper()}", _pauc_text(c.obj("edc").obj(k), ctx))
            for c in q.objs("conditions")
            for k in errors
            if c.obj("edc").get(k) is not None
        ]
        if per:
            out += [Heading("pAUC per condition"), facts(per)]
    gates = pooled.obj("gates")
    for mode, err, fp in (("verification", "fnmr", "fmr"), ("identification", "fnir", "fpir")):
        if gates.get(mode):
            table = _gates_table(gates.objs(mode), err, fp, ctx)
            out += [Heading(f"Quality gate ({mode})"), table]
    return out


def quality_figures(q: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    edc = q.obj("pooled").obj("edc")
    curves = {}
    for k in edc:
        e = edc.get(k)
        if e is None:
            continue
        pts = e.objs("points")
        curves[k.upper()] = ([p.num("discard") for p in pts], [point(p.rate("rate")) for p in pts])
    return {"quality_edc": F.edc_figure(curves, q.num("pauc_limit"))} if curves else {}


CAPTURE = Section(
    "capture",
    "Capture conditions",
    capture_blocks,
    capture_figures,
    lambda c, ctx: c.strs("sentences")[:1],
)
QUALITY = Section(
    "quality",
    "Image quality",
    quality_blocks,
    quality_figures,
    lambda q, ctx: q.strs("sentences")[:1],
)
