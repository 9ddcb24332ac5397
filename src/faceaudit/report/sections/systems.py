"""The ``compare`` section: two or more systems on the same people, paired differences."""

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
    facts,
    rate_cell,
)
from faceaudit.report.sections._base import Ctx, Section
from faceaudit.report.sections._systems_groups import group_blocks, group_figures, group_verdict
from faceaudit.report.sentences.systems import difference_sentence, pct, points, where

_FIGURE = {
    "fnmr_at_fmr": "FNMR, each system at its own threshold for the FMR target",
    "fnmr_at_threshold": "FNMR at a given threshold",
    "fmr_at_threshold": "FMR at a given threshold",
    "eer": "EER",
    "fnir_at_fpir": "FNIR, each system at its own threshold for the FPIR target",
    "fnir_at_threshold": "FNIR at a given threshold",
    "fpir_at_threshold": "FPIR at a given threshold",
    "fnir_rank1": "Mated searches without the mate at rank 1",
}


_ADJUSTED = {
    "holm": "Holm's step-down: the chance of any false difference stays at the level",
    "bh": "Benjamini-Hochberg: the expected share of false differences stays at the level",
    "bonferroni": "Bonferroni",
    "none": "not adjusted",
}


def _unit(c: Node) -> str:
    return "subject" if c.obj("bootstrap").str("unit") == "subject" else "comparison"


def sentences(c: Node, ctx: Ctx) -> list[str]:
    adj = c.obj("adjustment")
    return [
        difference_sentence(
            d,
            confidence=ctx.confidence,
            unit=_unit(c),
            pairs=adj.int("pairs"),
            method=adj.str("method"),
        )  # fmt: skip
        for d in c.objs("differences")
    ]


def _value(v: Node, ctx: Ctx) -> Cell:
    ci = v.get("ci")
    n = v.opt_int("n")
    detail = []
    if ci:
        detail.append(f"{fmt.fmt_confidence(ctx.confidence)} CI {pct(ci[0])}–{pct(ci[1])}")
    if n is not None:
        detail.append(f"{fmt.fmt_count(v.opt_int('count'))} of {fmt.fmt_count(n)}")
    return Cell(pct(v.opt_num("value")), f"({'; '.join(detail)})" if detail else "")


def _differences_table(c: Node, ctx: Ctx) -> Table:
    cols = (Col("Figure"), Col("System a"), Col("System b"), Col("a"), Col("b"),
            Col("a − b, points (paired CI)"), Col("Unpaired CI"), Col("p (adjusted)"))  # fmt: skip
    rows = []
    for d in c.objs("differences"):
        lo, hi = d.list("ci")
        ulo, uhi = d.list("unpaired_ci")
        rows.append(
            Row(
                (
                    Cell(_FIGURE[d.str("figure")], where(d)),
                    Cell(d.str("a")),
                    Cell(d.str("b")),
                    _value(d.obj("value_a"), ctx),
                    _value(d.obj("value_b"), ctx),
                    Cell(
                        points(d.num("difference")),
                        f"({points(lo)} to {points(hi)})"
                        + ("; cannot tell apart" if d.bool("indistinguishable") else ""),
                    ),
                    Cell(f"{points(ulo)} to {points(uhi)}"),
                    Cell(
                        f"{fmt.fmt_num(d.num('p_value'), 2)} "
                        f"({fmt.fmt_num(d.num('adjusted_p'), 2)})"
                    ),
                )
            )  # fmt: skip
        )
    return Table(cols, tuple(rows), "compact")


def _points_table(c: Node, ctx: Ctx) -> Table:
    """Every system's operating points: its own threshold for each target, then the given ones."""
    ident = c.str("mode") == "identification"
    fp, fn = ("fpir", "fnir") if ident else ("fmr", "fnmr")
    cols = (Col("System"), Col("Operating point"), Col("Threshold"), Col(fp.upper()),
            Col(fn.upper()))  # fmt: skip
    rows = []
    for s in c.objs("systems"):
        for o in s.objs("operating_points"):
            target = o.opt_num(f"{fp}_target")
            label = (f"{fp.upper()} ≤ {fmt.target_text(target)}" if target is not None
                     else "given threshold")  # fmt: skip
            if not o.bool("supported"):
                rows.append(Row((Cell(s.str("name")), Cell(label),
                                 Cell("not supported by the data", unsupported=True, span=3)),
                                "unsupported-row"))  # fmt: skip
                continue
            rows.append(Row((
                Cell(s.str("name")), Cell(label), Cell(fmt.fmt_threshold(o.opt_num("threshold"))),
                rate_cell(o.rate(fp), ctx.confidence), rate_cell(o.rate(fn), ctx.confidence),
            )))  # fmt: skip
    return Table(cols, tuple(rows), "ops")


def _mcnemar_table(c: Node) -> Table:
    cols = (
        Col("Operating point"), Col("System a"), Col("System b"), Col("Compared", num=True),
        Col("Only a right", num=True), Col("Only b right", num=True), Col("p (adjusted)"),
    )  # fmt: skip
    rows = []
    for m in c.objs("mcnemar"):
        target = m.opt_num("target")
        rate = "FPIR" if c.str("mode") == "identification" else "FMR"
        label = (f"{rate} {fmt.target_text(target)} (own thresholds)" if target is not None
                 else f"threshold {fmt.fmt_threshold(m.num('threshold_a'))}")  # fmt: skip
        rows.append(Row((
            Cell(label), Cell(m.str("a")), Cell(m.str("b")), Cell(fmt.fmt_count(m.int("n"))),
            Cell(fmt.fmt_count(m.int("a_only_right"))), Cell(fmt.fmt_count(m.int("b_only_right"))),
            Cell(f"{fmt.fmt_num(m.num('p_value'), 2)} ({fmt.fmt_num(m.num('adjusted_p'), 2)})"),
        )))  # fmt: skip
    return Table(cols, tuple(rows), "compact")


def _coverage(c: Node) -> list:
    cov = c.obj("coverage")
    if c.str("mode") == "identification":
        lead = (
            f"{len(c.objs('systems'))} systems compared on the same "
            f"{fmt.fmt_count(cov.int('common'))} searches ({fmt.fmt_count(cov.int('common_mated'))}"
            f" of enrolled people, {fmt.fmt_count(cov.int('common_nonmated'))} of people not "
            "enrolled), the probes of one truth table; "
            + "; ".join(f"{s.str('name')} returned candidates for {fmt.fmt_count(s.int('rows'))}"
                        for s in cov.objs("systems")) + "."
        )  # fmt: skip
        return [Para(lead, "lead")]
    lead = (
        f"{len(c.objs('systems'))} systems compared on the {fmt.fmt_count(cov.int('common'))} "
        f"comparisons they share ({fmt.fmt_count(cov.int('common_mated'))} mated, "
        f"{fmt.fmt_count(cov.int('common_nonmated'))} non-mated), matched on "
        f"{cov.str('join')}."
    )
    out = [Para(lead, "lead")]
    if cov.bool("restricted_to_common"):
        out.append(Para(
            "The systems do not cover the same comparisons; those present for some systems only "
            "are left out, and every figure here is on the common set: "
            + "; ".join(f"{s.str('name')}: {fmt.fmt_count(s.int('rows'))} read, "
                        f"{fmt.fmt_count(s.int('only_this_system'))} not in every other"
                        for s in cov.objs("systems")) + ".",
            "note",
        ))  # fmt: skip
    return out


def _system_fact(s: Node, c: Node) -> str:
    if c.str("mode") == "identification":
        return (
            f"{fmt.fmt_count(s.int('n_mated'))} mated and {fmt.fmt_count(s.int('n_nonmated'))} "
            f"non-mated searches of a gallery of {fmt.fmt_count(s.int('gallery_size'))}; mate "
            f"not at rank 1 in {pct(s.obj('fnir_rank1').opt_num('value'))}"
        )
    return (
        f"{fmt.fmt_count(s.int('n_mated'))} mated, {fmt.fmt_count(s.int('n_nonmated'))} "
        f"non-mated scored; {fmt.fmt_count(s.int('mated_fta') + s.int('nonmated_fta'))} without "
        f"a score; EER {pct(s.obj('eer').opt_num('value'))}"
    )


def blocks(c: Node, ctx: Ctx) -> list:
    boot = c.obj("bootstrap")
    adj = c.obj("adjustment")
    out = _coverage(c)
    out.append(facts([(s.str("name"), _system_fact(s, c)) for s in c.objs("systems")]))
    method = (
        f"Intervals: one {boot.str('unit')} bootstrap of {fmt.fmt_count(boot.int('replicates'))} "
        f"replicates shared by all systems ({boot.str('paired')}). A difference is a − b in "
        "percentage points; its interval is the percentile interval of the paired replicate "
        "differences; the unpaired interval (pairing broken) is shown for contrast."
    )
    if adj.int("pairs") > 1:
        method += (
            f" With {adj.int('pairs')} pairs of systems, p-values are adjusted across the pairs, "
            f"per figure ({_ADJUSTED.get(adj.str('method'), adj.str('method'))}); a difference "
            "counts only when its interval excludes 0 and its adjusted p-value is at most the "
            "level."
        )
    out.append(Para(method, "note"))
    proto = c.obj("protocol") if "protocol" in c else None
    if proto is not None:
        out.append(Heading(f"The benchmark's own figure ({proto.str('name')})"))
        out.append(Para(proto.str("note") + ".", "note"))
        out.append(facts([
            (s.str("name"), f"accuracy {pct(s.num('mean_accuracy'))} ± {points(s.num('std'))} "
             f"points (sd over {s.int('k')} folds; SE {points(s.opt_num('standard_error'))})")
            for s in proto.objs("systems")
        ]))  # fmt: skip
    out.append(Heading("Each system's operating points"))
    out.append(_points_table(c, ctx))
    out.append(Heading("Differences"))
    said = sentences(c, ctx)
    if said:
        out.append(Bullets(tuple(said)))
        out.append(_differences_table(c, ctx))
    else:
        out.append(Para("No difference could be computed (no bootstrap, or no figure every "
                        "system supports).", "note"))  # fmt: skip
    out.append(Figure(
        "compare_det",
        "DET curves of the systems on the same "
        + ("searches (FNIR against FPIR)" if c.str("mode") == "identification" else "comparisons")
        + "; lower-left is better. Squares: each system at its own threshold for the targets. "
        "Both axes are logarithmic.",
    ))  # fmt: skip
    if c.str("mode") == "identification":
        out.append(Figure(
            "compare_fpir_fnir",
            "FPIR (dashed) and FNIR (solid) of each system against the threshold on the same "
            "searches; a threshold in the same units only when the systems' scores share a scale.",
        ))  # fmt: skip
        out.append(Figure(
            "compare_cmc",
            "Cumulative match characteristic of each system: the share of mated searches with "
            "the mate within the top r, whatever its score; bands: intervals from the shared "
            "subject bootstrap.",
        ))  # fmt: skip
    if c.objs("mcnemar"):
        out.append(Heading("McNemar's exact test on matched decisions"))
        out.append(Para(
            "Each system at a fixed threshold, decision by decision on the same comparisons; "
            "only the comparisons one system gets right and the other wrong count. The test "
            "treats comparisons as independent (those sharing a person are not): a check beside "
            "the subject-bootstrap intervals, not a substitute.",
            "note",
        ))  # fmt: skip
        out.append(_mcnemar_table(c))
    out += group_blocks(c, ctx)
    return out


def figures(c: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    fp, fn = ("fpir", "fnir") if c.str("mode") == "identification" else ("fmr", "fnmr")
    curves, marks = [], []
    for s in c.objs("systems"):
        det = s.obj("det")
        curves.append((s.str("name"), det.list(fp), det.list(fn)))
        for o in s.objs("operating_points"):
            if o.bool("supported") and o.opt_num(f"{fp}_target") is not None:
                rx, ry = o.rate(fp), o.rate(fn)
                if rx["value"] is not None and ry["value"] is not None:
                    marks.append((s.str("name"), rx["value"], ry["value"], ry["ci"]))
    out = {"compare_det": F.det_overlay_figure(curves, marks=marks, rates=(fp, fn))}
    if c.str("mode") == "identification":
        out.update(_search_figures(c))
    out.update(group_figures(c, ctx))
    return out


def _search_figures(c: Node) -> dict:
    """1:N: FPIR/FNIR against threshold and the CMC, the systems overlaid (when present)."""
    from faceaudit.report import figures as F

    systems = c.objs("systems")
    out = {}
    if all("threshold" in s.obj("det") for s in systems):
        out["compare_fpir_fnir"] = F.fpir_fnir_overlay_figure(
            [
                (
                    s.str("name"),
                    s.obj("det").list("threshold"),
                    s.obj("det").list("fpir"),
                    s.obj("det").list("fnir"),
                )
                for s in systems
            ]  # fmt: skip
        )
    if all(s.get("cmc") for s in systems):
        out["compare_cmc"] = F.cmc_overlay_figure(
            [
                (
                    s.str("name"),
                    [p.int("rank") for p in s.objs("cmc")],
                    [p.num("identification_rate") for p in s.objs("cmc")],
                    [p.get("ci") for p in s.objs("cmc")],
                )
                for s in systems
            ]  # fmt: skip
        )
    return out


def verdict(c: Node, ctx: Ctx) -> list[str]:
    return sentences(c, ctx)[:3] + group_verdict(c, ctx)[:2]


SECTION = Section("compare", "Paired comparison of systems", blocks, figures, verdict)
