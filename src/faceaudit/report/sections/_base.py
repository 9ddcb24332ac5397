"""What every section shares: the reading context, the section record, small figure helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faceaudit.report import format as fmt
from faceaudit.report._data import Node, ReportError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from faceaudit.report.figures import Point


@dataclass(frozen=True)
class Ctx:
    """What a section may know besides its own key: the whole results and a few settings."""

    results: Node
    confidence: float
    show_identities: bool
    top_warnings: frozenset[str]
    orientation: str

    @classmethod
    def of(cls, results: Node) -> Ctx:
        settings = results.obj("settings")
        conf = settings.get("confidence", 0.95)
        if not fmt.is_number(conf) or not 0 < conf < 1:
            raise ReportError(f"$.settings.confidence must be in (0, 1), got {conf!r}.")
        return cls(
            results=results,
            confidence=float(conf),
            show_identities=bool(settings.get("show_identities", False)),
            top_warnings=frozenset(results.strs("warnings")),
            orientation=str(settings.get("orientation", "similarity")),
        )

    def own_warnings(self, node: Node) -> tuple[str, ...]:
        """An analysis' warnings that the report's top warning list does not already show."""
        return tuple(w for w in node.strs("warnings") if w not in self.top_warnings)


@dataclass(frozen=True)
class Section:
    """One report section: shown exactly when ``key`` is in the results.

    ``blocks(node, ctx)`` gives its content, ``figures(node, ctx)`` its matplotlib figures by
    name, ``verdict(node, ctx)`` its sentences for the verdict at the top of the report.
    """

    key: str
    title: str
    blocks: Callable[[Node, Ctx], list]
    figures: Callable[[Node, Ctx], dict[str, Figure]] | None = None
    verdict: Callable[[Node, Ctx], list[str]] | None = None


def point(rate: Mapping[str, Any], *, supported: bool = True) -> Point:
    """A figure point from a rate or band (``{value, ci, ...}``)."""
    from faceaudit.report.figures import Point

    ci = rate.get("ci")
    lo, hi = (float(ci[0]), float(ci[1])) if ci else (None, None)
    v = rate.get("value")
    return Point(None if v is None else float(v), lo, hi, bool(rate.get("upper_bound")), supported)
