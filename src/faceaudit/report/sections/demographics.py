"""The ``demographics`` and ``identification_demographics`` sections (NIST IR 8280 style).

One global threshold, per-group rates with intervals, ratios to the best group, the cross-group
FMR matrix (1:1), summaries over the supported groups; small groups flagged, never hidden. The
sentences are made from the figures (:func:`faceaudit.report.sentences.demographic_sentences`).
"""

from __future__ import annotations

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
    facts,
    rate_cell,
    rate_text,
)
from faceaudit.report.sections._base import Ctx, Section, point

_LABELS = {
    "verification": (
        "fmr",
        "fnmr",
        "FMR (non-mated pairs within the group)",
        "FNMR (mated pairs)",
        "false match rate (log)",
        "false non-match rate (log)",
    ),
    "identification": (
        "fpir",
        "fnir",
        "FPIR (non-mated searches by the group)",
        "FNIR (mated searches by the group)",
        "false positive identification rate (log)",
        "false negative identification rate (log)",
    ),
}
MAX_MATRIX = 8  # reference groups beyond which the matrix is left to the figure


def _flags(g: Node, fp: str, fn: str) -> list[str]:
    out = list(g.strs("flags"))
    for key in (fp, fn):
        r = g.rate(key)
        if not g.bool(f"{key}_supported"):
            out.append(f"{key.upper()} not supported by the data (too few comparisons)")
        if r["upper_bound"]:
            out.append(f"no {key.upper()} errors observed: figure is a bound")
        elif g.bool(f"{key}_few_errors"):
            out.append(f"fewer than 30 {key.upper()} errors (rule of 30): wide interval")
    return out


def _groups_table(d: Node, ctx: Ctx) -> Table:
    fp, fn, fp_col, fn_col, *_ = _LABELS[d.str("mode")]
    groups = d.objs("groups")
    has_ratio = any(f"{fp}_ratio" in g or f"{fn}_ratio" in g for g in groups)
    cols = [Col("Group"), Col("Subjects", num=True), Col(fp_col), Col(fn_col)]
    if has_ratio:
        cols += [Col(f"{fp.upper()} ratio to best"), Col(f"{fn.upper()} ratio to best")]
    cols.append(Col("Flags"))
    rows = []
    for g in groups:
        cells = [Cell(g.str("group")), Cell(fmt.fmt_count(g.int("n_subjects")))]
        for key in (fp, fn):
            c = rate_cell(g.rate(key), ctx.confidence)
            if not g.bool(f"{key}_supported"):
                c = Cell(c.text, f"{c.detail} ⚠ not supported by the data".strip(), c.bound)
            cells.append(c)
        if has_ratio:
            for key in (fp, fn):
                r = g.get(f"{key}_ratio")
                cells.append(Cell(words.ratio_text(r, ctx.confidence) if r is not None else ""))
        cells.append(Cell("; ".join(_flags(g, fp, fn))))
        rows.append(Row(tuple(cells), "" if g.bool("supported") else "unsupported-row"))
    return Table(tuple(cols), tuple(rows), "groups")


def _facts(d: Node, ctx: Ctx):
    fp, fn, *_ = _LABELS[d.str("mode")]
    boot, best = d.obj("bootstrap"), d.obj("best_group")
    pairs = [
        (
            f"{k.upper()} of the whole data set at this threshold",
            rate_text(d.rate(f"overall_{k}"), ctx.confidence),
        )
        for k in (fp, fn)
    ]
    pairs.append(
        (
            "Lowest-error group (reference of the ratios)",
            "; ".join(f"{k.upper()}: {best.opt_str(k) or 'none'}" for k in (fp, fn)),
        )
    )
    pairs.append(
        (
            "Bootstrap",
            f"{fmt.fmt_count(boot.int('replicates'))} replicates by "
            f"{boot.str('unit')}, stratified by group",
        )
    )
    return facts(pairs)


def _matrix(d: Node) -> tuple[list[str], list[str], dict]:
    probes, refs, cells = [], [], {}
    for c in d.objs("cross_fmr"):
        pg, rg = c.str("probe_group"), c.str("reference_group")
        probes += [pg] if pg not in probes else []
        refs += [rg] if rg not in refs else []
        cells[(pg, rg)] = (c.rate("fmr"), c.bool("supported"))
    return probes, refs, cells


def _matrix_table(d: Node, confidence: float) -> Table | None:
    probes, refs, cells = _matrix(d)
    if not probes or len(refs) > MAX_MATRIX:
        return None
    rows = []
    for pg in probes:
        row = [Cell(pg, header=True)]
        for rg in refs:
            rate, ok = cells.get((pg, rg), (None, True))
            if rate is None:
                row.append(Cell("—"))
                continue
            c = rate_cell(rate, confidence)
            row.append(c if ok else Cell(c.text, f"{c.detail} not supported", c.bound))
        rows.append(Row(tuple(row)))
    return Table((Col("Probe \\ reference"), *(Col(r) for r in refs)), tuple(rows), "matrix")


def blocks(d: Node, ctx: Ctx) -> list:
    fp, fn, *_ = _LABELS[d.str("mode")]
    out: list = [
        Para(
            f"Groups by {d.str('attribute')}. One global threshold, "
            f"{fmt.fmt_threshold(d.opt_num('threshold'))} (fixed on: "
            f"{d.str('threshold_source')}), is applied to everyone, as a deployed system would. "
            "Small groups are flagged, never hidden.",
            "note",
        )
    ]
    if not d.bool("threshold_supported"):
        out.append(
            Para(
                "The threshold itself is not supported by the data (too few comparisons "
                "to observe its target rate); the differentials below are measured at it "
                "all the same.",
                "unsupported",
            )
        )
    sentences = words.demographic_sentences(d)
    if sentences:
        out.append(Bullets(tuple(sentences)))
    own = ctx.own_warnings(d)
    if own:
        out.append(Bullets(own, "flags"))
    out += [_facts(d, ctx), _groups_table(d, ctx), Heading("Summary of differentials")]
    summary = d.obj("summary")
    out.append(
        facts([(fmt.humanize_key(k), fmt.fmt_value(v, ctx.confidence)) for k, v in summary.items()])
    )
    matrix = _matrix_table(d, ctx.confidence)
    if matrix is not None:
        out += [Heading("Cross-group FMR (probe group × reference group)"), matrix]
    name = "id_" if d.str("mode") == "identification" else ""
    out += [
        Figure(
            f"{name}group_rates",
            "Per-group error rates at one global threshold, with "
            "confidence intervals (whiskers). Hatched grey rows: not supported by the data; "
            "dotted bars: no errors observed, the bar reaches the one-sided upper bound. Log "
            "scale.",
        ),
        Figure(
            f"{name}cross_fmr",
            "Cross-group false match rate: how often a probe from the row "
            "group is falsely matched to a person of the column group. Log colour scale; '≤' "
            "marks zero-error bounds, 'n/s' unsupported cells.",
        ),
        Heading("Metadata coverage"),
        _coverage(d.obj("coverage"), ctx),
        Heading("Rules applied"),
        Bullets(tuple(d.strs("rules")), "rules"),
    ]
    return out


def _coverage(cov: Node, ctx: Ctx):
    pairs = []
    for k, v in cov.items():
        if k.endswith("_examples"):
            if ctx.show_identities and v:
                pairs.append((fmt.humanize_key(k), ", ".join(map(str, v))))
            continue
        if isinstance(v, Node):
            text = ", ".join(f"{kk}: {fmt.fmt_count(vv)}" for kk, vv in v.items()) or "none"
        else:
            text = fmt.fmt_count(v)
        pairs.append((fmt.humanize_key(k), text))
    return facts(pairs)


def figures(d: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    fp, fn, fp_col, fn_col, fp_axis, fn_axis = _LABELS[d.str("mode")]
    name = "id_" if d.str("mode") == "identification" else ""
    out = {}
    groups = d.objs("groups")
    if groups:
        names = [g.str("group") + ("" if g.bool("supported") else " (n/s)") for g in groups]
        out[f"{name}group_rates"] = F.group_rates_figure(
            names,
            [point(g.rate(fp), supported=g.bool(f"{fp}_supported")) for g in groups],
            [point(g.rate(fn), supported=g.bool(f"{fn}_supported")) for g in groups],
            threshold=d.opt_num("threshold"),
            titles=(fp_col, fn_col),
            xlabels=(fp_axis, fn_axis),
        )
    probes, refs, cells = _matrix(d)
    if probes:
        matrix = [
            [
                point(cells[(p, r)][0], supported=cells[(p, r)][1]) if (p, r) in cells else None
                for r in refs
            ]
            for p in probes
        ]
        out[f"{name}cross_fmr"] = F.cross_fmr_figure(probes, refs, matrix)
    return out


def _verdict(d: Node, ctx: Ctx) -> list[str]:
    sentences = words.demographic_sentences(d)
    return sentences[:1]


DEMOGRAPHICS = Section(
    "demographics", "Demographic differentials: who bears the errors", blocks, figures, _verdict
)
IDENTIFICATION_DEMOGRAPHICS = Section(
    "identification_demographics",
    "Demographic differentials in 1:N search",
    blocks,
    figures,
    _verdict,
)
