"""``report.md``: the report as Markdown, for pasting into documents.

Drawn from the same :class:`~faceaudit.report.page.Page` as ``report.html`` (the same blocks,
sentences and formatted numbers), so the two show the same figures. Every text is escaped for
Markdown: characters that would start emphasis, links, code, tables or raw HTML are backslashed
or written as entities, so a group named ``<script>`` stays text when the file is rendered.
Figures are referenced as ``figures/<name>.png`` (written beside the report).
"""

from __future__ import annotations

import re

from faceaudit.report.blocks import Cell
from faceaudit.report.page import Page

_SPECIAL = re.compile(r"([\\`*_\[\]{}#+!|~])")


def md(text: str, *, line_start: bool = False) -> str:
    """``text`` as inert Markdown: special characters backslashed, ``< > &`` as entities.

    ``line_start``: the text begins a line, where ``1.`` would start an ordered list.
    """
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _SPECIAL.sub(r"\\\1", s)
    s = re.sub(r"\s*\n\s*", " ", s)  # one line: a newline could start a heading or a list
    if line_start:
        s = re.sub(r"^(\s*)(\d+)([.)])", r"\1\2\\\3", s)  # "1." would start an ordered list
    return s


def _cell(c: Cell) -> str:
    text = md(c.text)
    if c.unsupported:
        text = f"*{text}*"
    elif c.bound or c.detail:
        text = f"**{text}**" if text else text
    return f"{text} {md(c.detail)}".strip() if c.detail else text


def _table(b) -> list[str]:
    head = [md(c.label) for c in b.cols]
    out = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---:" if c.num else "---" for c in b.cols) + "|",
    ]
    for r in b.rows:
        cells: list[str] = []
        for c in r.cells:
            cells.append(_cell(c))
            cells += [""] * (c.span - 1)
        out.append("| " + " | ".join(cells) + " |")
    return out + [""]


def _block(b, figures: set[str]) -> list[str]:
    kind = b.block
    if kind == "para":
        text = md(b.text, line_start=True)
        return [f"*{text}*" if b.kind == "unsupported" else text, ""]
    if kind == "heading":
        return [f"### {md(b.text)}", ""]
    if kind == "bullets":
        return [f"- {md(s)}" for s in b.items] + [""]
    if kind == "facts":
        rows = ["| | |", "|---|---|"] + [f"| {md(r.label)} | {md(r.value)} |" for r in b.rows]
        return rows + [""]
    if kind == "table":
        return _table(b)
    if kind == "figure" and b.name in figures:
        return [f"![{md(b.caption)}](figures/{b.name}.png)", "", f"*{md(b.caption)}*", ""]
    return []


def render_markdown(page: Page, figures: set[str] | frozenset[str] = frozenset()) -> str:
    """The Markdown text of ``page``; ``figures`` are the names of the figures written."""
    out = [
        f"# {md(page.title)}",
        "",
        f"faceaudit {md(page.version)} · created {md(page.created)}",
        "",
    ]
    if page.synthetic:
        out += [
            "> **SYNTHETIC DATA** — these results come from generated data, not from a real "
            "face-recognition system or real people. Do not quote them as findings about any "
            "system.",
            "",
        ]
    out += ["## Verdict in plain language", ""]
    out += [f"- {md(s)}" for s in page.verdict] or [
        "No analysis ran: there are no results to summarise."
    ]
    out += ["", md(page.hint, line_start=True), ""]
    if page.warnings:
        out += ["## Warnings", ""] + [f"- {md(w)}" for w in page.warnings] + [""]
    out += ["Contents: " + " · ".join(md(s.title) for s in page.all_sections), ""]
    for s in page.all_sections:
        out += [f"## {md(s.title)}", ""]
        for b in s.blocks:
            out += _block(b, set(figures))
    out += ["---", "", md(page.footer, line_start=True)]
    return "\n".join(out).rstrip() + "\n"
