"""The building blocks of a report section, shared by the HTML and the Markdown output.

A section is a list of blocks (paragraphs, lists, fact tables, data tables, figures). Both
renderers (``templates/report.html.j2`` and :mod:`faceaudit.report.markdown`) draw the same
blocks, so ``report.html`` and ``report.md`` show the same numbers by construction. Every text
field is plain ``str``: each renderer escapes it for its own format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from faceaudit.report import format as fmt

__all__ = [
    "Bullets",
    "Cell",
    "Col",
    "Fact",
    "Facts",
    "Figure",
    "Heading",
    "Para",
    "Row",
    "Table",
    "rate_cell",
    "text_cell",
]


@dataclass(frozen=True)
class Para:
    """A paragraph; ``kind`` styles it: ``lead``, ``note``, ``unsupported`` or ``""``."""

    text: str
    kind: str = ""
    block: str = field(default="para", init=False)


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str
    block: str = field(default="heading", init=False)


@dataclass(frozen=True)
class Bullets:
    """A list of sentences; ``kind`` is ``sentences``, ``flags`` or ``rules``."""

    items: tuple[str, ...]
    kind: str = "sentences"
    block: str = field(default="bullets", init=False)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    title: str = ""  # the full text when ``value`` is shortened (e.g. a checksum)


@dataclass(frozen=True)
class Facts:
    """A two-column table of labelled values."""

    rows: tuple[Fact, ...]
    block: str = field(default="facts", init=False)


@dataclass(frozen=True)
class Cell:
    """One table cell: a figure (``text``) and its detail (interval and n), or a sentence.

    ``unsupported`` marks the text that stands where the data cannot support a figure; ``bound``
    a one-sided bound (no error, or every trial an error); ``span`` cells merged to the right.
    """

    text: str
    detail: str = ""
    bound: bool = False
    unsupported: bool = False
    span: int = 1
    header: bool = False
    mono: bool = False
    title: str = ""


@dataclass(frozen=True)
class Col:
    label: str
    num: bool = False


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    kind: str = ""  # "unsupported-row", "extrapolated", "measured"


@dataclass(frozen=True)
class Table:
    """A data table; ``kind`` is a CSS class (``ops``, ``groups``, ``matrix``, ``compact``)."""

    cols: tuple[Col, ...]
    rows: tuple[Row, ...]
    kind: str = ""
    block: str = field(default="table", init=False)


@dataclass(frozen=True)
class Figure:
    """A figure drawn by the section (``figures/<name>.svg``) with its caption."""

    name: str
    caption: str
    block: str = field(default="figure", init=False)


def facts(pairs: Sequence[tuple[str, str]]) -> Facts:
    """``Facts`` from ``(label, value)`` pairs."""
    return Facts(tuple(Fact(label, value) for label, value in pairs))


def text_cell(text: Any, **kw: Any) -> Cell:
    return Cell(text if isinstance(text, str) else fmt.fmt_num(text), **kw)


def rate_cell(
    rate: Mapping[str, Any], confidence: float, *, unsupported: str | None = None
) -> Cell:
    """A rate as a cell: ``0.0123`` with ``(95% CI 0.0101–0.0149; 123 of 10,000)``.

    A bound reads ``≤ 2.46×10⁻⁵`` ``(no errors observed; one-sided 97.5% bound on 150 subjects;
    0 of 10,000)`` (``≥`` when every trial erred); a rate with n = 0 reads ``no data``;
    ``unsupported`` is the text shown instead of any figure.
    """
    if unsupported is not None:
        return Cell(unsupported, unsupported=True)
    value = fmt.fmt_rate_value(rate)
    if rate.get("upper_bound") or rate.get("lower_bound"):
        sample = fmt.fmt_n(rate)
        detail = f"({fmt.bound_words(rate)}" + (f"; {sample})" if sample else ")")
        return Cell(value, detail, bound=True)
    if fmt.rate_value(rate) is None:
        return Cell(value)
    sample = fmt.fmt_n(rate)
    detail = f"({fmt.fmt_ci(rate, confidence)}" + (f"; {sample})" if sample else ")")
    return Cell(value, detail)


def rate_text(rate: Mapping[str, Any], confidence: float) -> str:
    """A rate in one line, as its table cell prints it (for fact tables)."""
    c = rate_cell(rate, confidence)
    return f"{c.text} {c.detail}".strip()


def band_cell(band: Mapping[str, Any], confidence: float, *, threshold: bool = False) -> Cell:
    """A modelled figure ``{value, ci}`` as a cell (no n: it is not a count)."""
    f = fmt.fmt_threshold if threshold else fmt.fmt_num
    value = band.get("value")
    if value is None:
        return Cell(str(band.get("reason") or "undefined"), unsupported=True)
    ci = band.get("ci")
    if ci:
        detail = f"({fmt.fmt_confidence(confidence)} CI {f(ci[0])}–{f(ci[1])})"
    else:
        detail = f"(no CI: {band['reason']})" if band.get("reason") else "(no CI)"
    return Cell(f(value), detail)
