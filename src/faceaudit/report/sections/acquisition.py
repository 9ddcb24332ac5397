"""The ``acquisition`` and ``model`` sections of an image audit: failures to acquire, the model."""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report import sentences as words
from faceaudit.report._data import Node
from faceaudit.report.blocks import (
    Cell,
    Col,
    Fact,
    Facts,
    Heading,
    Para,
    Row,
    Table,
    facts,
    rate_text,
)
from faceaudit.report.sections._base import Ctx, Section


def acquisition_blocks(a: Node, ctx: Ctx) -> list:
    out: list = [
        Para(words.acquisition_summary(a, ctx.confidence), "lead"),
        facts(
            [
                ("Images", fmt.fmt_count(a.int("n_images"))),
                ("Images with no usable face", fmt.fmt_count(a.int("n_failed"))),
                ("Failure to acquire (FTA)", rate_text(a.rate("fta"), ctx.confidence)),
            ]
        ),
    ]
    reasons = sorted(a.obj("by_reason").items(), key=lambda kv: -kv[1])
    if reasons:
        rows = tuple(Row((Cell(str(k)), Cell(fmt.fmt_count(v)))) for k, v in reasons)
        out += [
            Heading("Why images failed"),
            Table((Col("Reason"), Col("Images", num=True)), rows, "compact"),
        ]
    failures = a.objs("failures")
    if failures and ctx.show_identities:
        rows = tuple(
            Row(
                (
                    Cell(f.str("image"), mono=True),
                    Cell(f.opt_str("subject") or ""),
                    Cell(f.str("reason")),
                    Cell(f.opt_str("detail") or ""),
                )
            )
            for f in failures
        )
        cols = (Col("Image"), Col("Subject"), Col("Reason"), Col("Detail"))
        out += [Heading("Failed images"), Table(cols, rows, "compact")]
    elif failures:
        out.append(
            Para(
                f"The list of the {len(failures)} failed images is in results.json; it "
                "is not shown here to protect privacy (set show_identities to include "
                "it).",
                "note",
            )
        )
    return out


def model_blocks(m: Node, ctx: Ctx) -> list:
    sha = m.str("weights_sha256")
    rows = [
        Fact("Model", m.str("id")),
        Fact("Version", m.str("version")),
        Fact("Embedding size", fmt.fmt_count(m.int("dim"))),
        Fact("Weights SHA-256", sha),
    ]
    config = m.obj("config")
    if config:
        rows.append(
            Fact("Config", ", ".join(f"{k}: {fmt.fmt_value(v)}" for k, v in config.items()))
        )
    for name, digest in m.obj("files").items():
        rows.append(Fact(f"File {name}", str(digest)))
    return [Facts(tuple(rows))]


ACQUISITION = Section(
    "acquisition",
    "Images: failures to acquire",
    acquisition_blocks,
    None,
    lambda a, ctx: [words.acquisition_summary(a, ctx.confidence)],
)
MODEL = Section("model", "Recognition model", model_blocks)
