"""The demographic part of the ``compare`` section: did the upgrade reduce the differential?"""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report._data import Node
from faceaudit.report.blocks import Bullets, Cell, Col, Figure, Heading, Para, Row, Table
from faceaudit.report.sections._base import Ctx
from faceaudit.report.sentences.systems import pct, points
from faceaudit.report.sentences.systems_groups import SUMMARY_NAMES, group_difference_sentence

__all__ = ["group_blocks", "group_figures", "group_sentences", "group_verdict"]


def _labels(g: Node) -> dict[int, str]:
    return {p.int("index"): p.str("label") for p in g.objs("operating_points")}


def group_sentences(c: Node, ctx: Ctx) -> list[str]:
    if "demographics" not in c:
        return []
    g, adj = c.obj("demographics"), c.obj("adjustment")
    labels = _labels(g)
    return [
        group_difference_sentence(
            d,
            label=f"at {labels[d.int('operating_point')]}",
            confidence=ctx.confidence,
            pairs=adj.int("pairs"),
            method=adj.str("method"),
        )  # fmt: skip
        for d in g.objs("differences")
    ]


def group_verdict(c: Node, ctx: Ctx) -> list[str]:
    """The change of each rate's max / geometric mean at the first operating point (the rule)."""
    if "demographics" not in c:
        return []
    diffs = c.obj("demographics").objs("differences")
    keep = [i for i, d in enumerate(diffs)
            if d.int("operating_point") == 0 and d.str("figure").endswith("_geomean")]  # fmt: skip
    said = group_sentences(c, ctx)
    return [said[i] for i in keep]


def _value(v: Node, ratio: bool, ctx: Ctx) -> Cell:
    x = v.opt_num("value")
    if ratio:
        return Cell("—" if x is None else f"{x:.3g}")
    ci, n = v.get("ci"), v.opt_int("n")
    detail = []
    if ci:
        detail.append(f"{fmt.fmt_confidence(ctx.confidence)} CI {pct(ci[0])}–{pct(ci[1])}")
    if n is not None:
        detail.append(f"{fmt.fmt_count(v.opt_int('count'))} of {fmt.fmt_count(n)}")
    return Cell(pct(x), f"({'; '.join(detail)})" if detail else "")


def _table(g: Node, ctx: Ctx) -> Table:
    cols = (Col("Operating point"), Col("Figure"), Col("System a"), Col("System b"), Col("a"),
            Col("b"), Col("a − b (paired CI)"), Col("p (adjusted)"))  # fmt: skip
    labels = _labels(g)
    rows = []
    for d in g.objs("differences"):
        fig = d.str("figure")
        ratio = not fig.startswith("group_")
        up = d.str("rate").upper()
        if ratio:
            what = f"{up} {SUMMARY_NAMES[fig.split('_', 1)[1]]}"
            detail = "over " + ", ".join(d.strs("groups_compared"))
            lo, hi = d.list("ci")
            diff = Cell(f"{d.num('difference'):.3g}", f"({lo:.3g} to {hi:.3g})")
        else:
            what, detail = f"{up}, group {d.str('group')}", ""
            if not (d.bool("supported_a") and d.bool("supported_b")):
                detail = "not supported in " + " and ".join(
                    n for n, k in ((d.str("a"), "supported_a"), (d.str("b"), "supported_b"))
                    if not d.bool(k))  # fmt: skip
            lo, hi = d.list("ci")
            diff = Cell(points(d.num("difference")) + " points",
                        f"({points(lo)} to {points(hi)})")  # fmt: skip
        if d.bool("indistinguishable"):
            diff = Cell(diff.text, (diff.detail or "") + "; cannot tell apart")
        rows.append(Row((
            Cell(labels[d.int("operating_point")]), Cell(what, detail), Cell(d.str("a")),
            Cell(d.str("b")), _value(d.obj("value_a"), ratio, ctx),
            _value(d.obj("value_b"), ratio, ctx), diff,
            Cell(f"{fmt.fmt_num(d.num('p_value'), 2)} ({fmt.fmt_num(d.num('adjusted_p'), 2)})"),
        )))  # fmt: skip
    return Table(cols, tuple(rows), "compact")


def group_blocks(c: Node, ctx: Ctx) -> list:
    if "demographics" not in c:
        return []
    g = c.obj("demographics")
    fp, fn = (r.upper() for r in g.list("rates"))
    out = [Heading(f"Did the differential change? Groups by {g.str('attribute')}")]
    out.append(Para(
        f"Each group's {fp} and {fn} in every system, at each operating point, and the paired "
        f"change a − b: the same resampled people (drawn within their group) in every system "
        f"and replicate, thresholds fixed. The {fp}/{fn} max / geometric mean and max / min "
        "differentials are compared over the groups supported in every system. Groups with too "
        f"few comparisons or fewer than {g.int('min_subjects')} people are shown and flagged, "
        "never hidden.",
        "note",
    ))  # fmt: skip
    said = group_sentences(c, ctx)
    if not said:
        out.append(Para("No group difference could be computed (no bootstrap).", "note"))
        return out
    out.append(Bullets(tuple(said)))
    out.append(_table(g, ctx))
    out.append(Figure(
        "compare_group_differences",
        f"Change a − b in each group's {fp} and {fn} (percentage points, paired interval), at "
        f"{g.objs('operating_points')[0].str('label')}; hollow bars: the interval spans 0; grey "
        "hatched: not supported by the data in one of the systems.",
    ))  # fmt: skip
    return out


def group_figures(c: Node, ctx: Ctx) -> dict:
    if "demographics" not in c:
        return {}
    from faceaudit.report import figures as F

    g = c.obj("demographics")
    diffs = [d for d in g.objs("differences")
             if d.int("operating_point") == 0 and d.str("figure").startswith("group_")]  # fmt: skip
    if not diffs:
        return {}
    many = len({(d.str("a"), d.str("b")) for d in diffs}) > 1
    panels = []
    for rate in g.list("rates"):
        rows = []
        for d in diffs:
            if d.str("rate") != rate:
                continue
            label = d.str("group") + (f" ({d.str('a')} − {d.str('b')})" if many else "")
            lo, hi = d.list("ci")
            rows.append((label, d.num("difference"), float(lo), float(hi),
                         d.bool("supported_a") and d.bool("supported_b")))  # fmt: skip
        pair = "" if many else f": {diffs[0].str('a')} − {diffs[0].str('b')}"
        panels.append((f"{rate.upper()} by group{pair}", rows))
    return {"compare_group_differences": F.group_difference_figure(panels)}
