"""The report as one page model: header, verdict, analysis sections, back matter, figures.

:func:`build_page` reads the results dict strictly (:class:`~faceaudit.report._data.Node`) and
returns a :class:`Page` that both renderers draw (``templates/report.html.j2`` and
:mod:`faceaudit.report.markdown`). :func:`build_figures` draws the figures of the sections
present.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faceaudit.report import format as fmt
from faceaudit.report._data import Node, ReportError
from faceaudit.report.sections import SECTIONS, Ctx, back

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_HEADER = ("faceaudit_version", "created", "title", "synthetic", "inputs", "settings", "versions",
           "warnings")  # fmt: skip


class ReportWarning(UserWarning):
    """A figure could not be drawn from the results given; the report says so and goes on."""


@dataclass(frozen=True)
class PageSection:
    key: str
    title: str
    blocks: tuple


@dataclass(frozen=True)
class Page:
    title: str
    version: str
    created: str
    synthetic: bool
    confidence: str
    verdict: tuple[str, ...]
    warnings: tuple[str, ...]
    sections: tuple[PageSection, ...]
    back: tuple[PageSection, ...]

    @property
    def all_sections(self) -> tuple[PageSection, ...]:
        return self.sections + self.back


def read(results: Mapping[str, Any]) -> tuple[Node, Ctx]:
    """The results as a strict :class:`Node` with its context; the header must be complete."""
    node = Node(results)
    for key in _HEADER:
        node[key]  # noqa: B018 - a missing header key is a ReportError
    known = {s.key for s in SECTIONS} | set(_HEADER)
    unknown = sorted(set(node) - known)
    if unknown:
        raise ReportError(
            f"The results hold key(s) {', '.join(unknown)} that no report section reads; a "
            "renamed analysis key? (known: see docs/results.md)"
        )
    return node, Ctx.of(node)


def present(node: Node):
    """The sections whose key is in the results, in report order."""
    return [s for s in SECTIONS if s.key in node]


def verdict(node: Node, ctx: Ctx) -> tuple[str, ...]:
    """The plain-language verdict: every present section's headline sentences, in order."""
    out: list[str] = []
    for s in present(node):
        if s.verdict is not None:
            out += s.verdict(node.obj(s.key), ctx)
    return tuple(out)


def build_page(results: Mapping[str, Any], notes: Sequence[str] = ()) -> Page:
    node, ctx = read(results)
    sections = tuple(
        PageSection(s.key, s.title, tuple(s.blocks(node.obj(s.key), ctx))) for s in present(node)
    )
    tail = (
        PageSection("methods", "Methods", tuple(back.methods_blocks(node, ctx))),
        PageSection("limitations", "Limitations", tuple(back.limitations_blocks(node, ctx))),
        PageSection(
            "reproducibility", "Reproducibility", tuple(back.reproducibility_blocks(node, ctx))
        ),
    )
    return Page(
        title=node.str("title") or "faceaudit report",
        version=node.str("faceaudit_version"),
        created=node.str("created"),
        synthetic=node.bool("synthetic"),
        confidence=fmt.fmt_confidence(ctx.confidence),
        verdict=verdict(node, ctx),
        warnings=tuple(node.strs("warnings")) + tuple(str(n) for n in notes),
        sections=sections,
        back=tail,
    )


def build_figures(results: Mapping[str, Any]) -> tuple[dict[str, Figure], list[str]]:
    """Every figure of the sections present, by name, and a note for each that failed.

    Missing or mistyped fields raise :class:`ReportError`; a figure that fails to draw for any
    other reason is left out with a :class:`ReportWarning`, and the note says which and why.
    """
    node, ctx = read(results)
    figures: dict[str, Figure] = {}
    notes: list[str] = []
    for s in present(node):
        if s.figures is None:
            continue
        try:
            figures.update(s.figures(node.obj(s.key), ctx))
        except ReportError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad figure must not lose the whole report
            msg = (
                f"The figures of section '{s.title}' could not be drawn "
                f"({type(exc).__name__}: {exc}); the tables are complete."
            )
            warnings.warn(msg, ReportWarning, stacklevel=2)
            notes.append(msg)
    return figures, notes
