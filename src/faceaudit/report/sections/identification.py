"""The ``identification`` section: open-set 1:N errors (NIST FRTE FPIR, FNIR, CMC)."""

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
from faceaudit.report.sections._base import Ctx, Section

_SHOWN_RANKS = {1, 5, 10, 20, 50, 100}
_RECHOSEN = "threshold re-chosen in every replicate"


def _facts(i: Node, ctx: Ctx):
    boot = i.obj("bootstrap")
    pairs = [
        ("Gallery size N (enrolled people)", fmt.fmt_count(i.int("gallery_size"))),
        ("Mated searches (person is enrolled)", fmt.fmt_count(i.int("n_mated"))),
        ("Non-mated searches (person is not enrolled)", fmt.fmt_count(i.int("n_nonmated"))),
        ("Candidates returned per search", fmt.fmt_count(i.int("list_length"))),
        ("A mate counts as found within rank", fmt.fmt_count(i.int("rank_criterion"))),
        ("Thresholds fixed on", i.str("threshold_source")),
        ("Bootstrap", f"{fmt.fmt_count(boot.int('replicates'))} replicates by {boot.str('unit')}"),
    ]
    return facts(pairs)


def _index_note(i: Node, ctx: Ctx) -> str | None:
    index = i.opt_obj("index")
    if index is None:
        return None
    kind = index.str("kind")
    if index.bool("exact"):
        return f"Search was exact ({kind} index): every gallery entry was compared."
    recall = index.get("recall")
    rtext = fmt.fmt_num(recall) if recall is not None else "not measured"
    return (
        f"Searches used an approximate index ({kind}). Its recall against exact search was "
        f"{rtext}: an approximate search can miss true top candidates, so rates may differ "
        "slightly from an exact search."
    )


def _ops_table(i: Node, ctx: Ctx) -> Table:
    ops = i.objs("operating_points")
    has_fixed = any(o.get("fnir_interval") == _RECHOSEN for o in ops)
    cols = (
        Col("FPIR target"),
        Col("Threshold"),
        Col("FPIR (false candidates)"),
        Col(f"FNIR (mate not in the top {i.int('rank_criterion')})"),
        *((Col("FNIR, interval at this fixed threshold"),) if has_fixed else ()),
        Col("FNIR at rank 1"),
        Col("Wrong person at rank 1"),
        Col("Supported"),
    )
    rows = []
    for o in ops:
        target = o.opt_num("fpir_target")
        label = fmt.fmt_num(target) if target is not None else "given threshold"
        fpir = o.rate("fpir")
        if not o.bool("supported"):
            have = fpir["n"] if fpir["n"] is not None else i.int("n_nonmated")
            text = words.support_text(target, have, "non-mated searches", o.get("support"))
            rows.append(
                Row(
                    (Cell(label), Cell(text, unsupported=True, span=5 + has_fixed), Cell("no")),
                    "unsupported-row",
                )
            )
            continue
        fixed = ()
        if has_fixed:
            rechosen = o.get("fnir_interval") == _RECHOSEN
            fixed_cell = rate_cell(o.rate("fnir_fixed_threshold"), ctx.confidence)
            fixed = (fixed_cell if rechosen else Cell("—"),)
        cells = (
            Cell(label),
            Cell(fmt.fmt_threshold(o.num("threshold")), words.threshold_detail(o, ctx.confidence)),
            rate_cell(fpir, ctx.confidence),
            rate_cell(o.rate("fnir"), ctx.confidence),
            *fixed,
            rate_cell(o.rate("fnir_rank1"), ctx.confidence),
            rate_cell(o.rate("wrong_top1"), ctx.confidence),
            Cell("yes"),
        )
        rows.append(Row(cells))
    return Table(cols, tuple(rows), "ops")


def _cmc_rate(c: Node) -> dict:
    return {
        "value": c.opt_num("rate"),
        "ci": c["ci"],
        "count": c.int("count"),
        "n": c.int("n"),
        "upper_bound": False,
    }


def _cmc_table(i: Node, ctx: Ctx) -> Table:
    cmc = i.objs("cmc")
    rows = [
        Row((Cell(fmt.fmt_count(c.int("rank"))), rate_cell(_cmc_rate(c), ctx.confidence)))
        for k, c in enumerate(cmc)
        if c.int("rank") in _SHOWN_RANKS or k == len(cmc) - 1
    ]
    cols = (Col("Rank r"), Col("Share of mated searches with the mate in the top r"))
    return Table(cols, tuple(rows), "compact")


def _investigation(i: Node, ctx: Ctx):
    inv = i.obj("investigation")
    pairs = [
        (
            "Non-mated searches returning any candidate (FPIR at T = 0)",
            rate_text(inv.rate("fpir_any_candidate"), ctx.confidence),
        )
    ]
    for f in inv.objs("fnir"):
        pairs.append(
            (
                f"Mated searches with the mate not in the top {f.int('rank')} (FNIR)",
                rate_text(f.rate("fnir"), ctx.confidence),
            )
        )
    return facts(pairs)


def _rechosen_notes(i: Node) -> list:
    """What the FNIR intervals of targets mean, and what choosing the threshold costs."""
    ops = [o for o in i.objs("operating_points") if o.get("fnir_interval") == _RECHOSEN]
    if not ops:
        return []
    out = [
        Para(
            "The FNIR interval of an FPIR target is for the system's FNIR at that FPIR: every "
            "bootstrap replicate chooses its own threshold (the threshold column gives their "
            "range). The next column holds the threshold fixed: the FNIR at exactly this "
            "threshold. The other rates are at the fixed threshold.",
            "note",
        )
    ]
    head = words.headline_point(ops, "fpir_target", "fpir", None) or ops[0]
    label = f"FPIR ≤ {fmt.fmt_num(head.num('fpir_target'))}"
    if sentence := words.optimism_sentence(head, "fpir", "fnir", label):
        out.append(Para(sentence))
    return out


def blocks(i: Node, ctx: Ctx) -> list:
    out: list = [Para(words.identification_summary(i, ctx.confidence), "lead"), _facts(i, ctx)]
    own = ctx.own_warnings(i)
    if own:
        out.append(Bullets(own, "flags"))
    note = _index_note(i, ctx)
    if note:
        out.append(Para(note, "note"))
    out += [
        Heading("Operating points"),
        Para(
            "For each FPIR target, the threshold that gives the lowest FNIR while keeping FPIR at "
            "or below the target. “Wrong person at rank 1” is the share of searches for an "
            "enrolled person whose top candidate, above the threshold, is someone else — what a "
            "field app would show first.",
            "note",
        ),
        _ops_table(i, ctx),
        *_rechosen_notes(i),
    ]
    if i.objs("cmc"):
        out += [Heading("Rank-based accuracy (CMC)"), _cmc_table(i, ctx)]
    out += [
        Heading("Investigation mode (no threshold: every candidate list is shown to a person)"),
        _investigation(i, ctx),
        Figure(
            "cmc",
            "Cumulative match characteristic: share of mated searches whose mate is "
            "among the top r candidates (no threshold).",
        ),
        Figure(
            "fpir_fnir",
            "FPIR and FNIR as the threshold moves: raising it removes false "
            "candidates (FPIR falls) but misses more enrolled people (FNIR "
            "rises). Log scale.",
        ),
    ]
    return out


def figures(i: Node, ctx: Ctx) -> dict:
    from faceaudit.report import figures as F

    out = {}
    cmc = [c for c in i.objs("cmc") if c.opt_num("rate") is not None]
    if cmc:
        out["cmc"] = F.cmc_figure([c.int("rank") for c in cmc], [c.num("rate") for c in cmc])
    curve = i.obj("curve")
    if curve.list("threshold"):
        marks = [
            (o.num("threshold"), f"FPIR ≤ {fmt.fmt_num(o['fpir_target'])}")
            for o in i.objs("operating_points")
            if o.bool("supported") and o.opt_num("threshold") is not None
        ]
        out["fpir_fnir"] = F.fpir_fnir_figure(
            curve.list("threshold"), curve.list("fpir"), curve.list("fnir"), marks=marks
        )
    return out


SECTION = Section(
    "identification",
    "1:N identification errors",
    blocks,
    figures,
    lambda i, ctx: [words.identification_summary(i, ctx.confidence)],
)
