"""Capture-condition figures: error rates against the severity of a degradation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import MATED, NONMATED, OTHER, Point, _new_figure, _rc, plain

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_COLOURS = (MATED, NONMATED, OTHER)


def sweep_figure(
    panels: Sequence[tuple[str, str, Sequence[float], dict[str, Sequence[Point]]]],
    reference: dict[str, Point] | None = None,
) -> Figure:
    """One panel per sweep: each rate (with its interval) against the swept parameter.

    ``panels`` holds ``(title, x label, x values, {rate label: points})``; the rates share a linear
    axis from 0 to 1. A point with no value (no comparison could be made) is left out; a
    zero-error bound is drawn as a downward triangle at the bound. ``reference`` (rate label ->
    its value on the reference condition) is drawn as a dashed line in every panel.
    """
    with _rc():
        n = max(1, len(panels))
        fig, axes = _new_figure(min(3.4 * n + 0.6, 11.0), 3.6, ncols=n, margins=None)
        for ax, (title, xlabel, xs, series) in zip(axes, panels, strict=False):
            for k, (label, points) in enumerate(series.items()):
                colour = _COLOURS[k % len(_COLOURS)]
                px = [x for x, p in zip(xs, points, strict=True) if p.value is not None]
                pts = [p for p in points if p.value is not None]
                if not pts:
                    continue
                ys = [p.value for p in pts]
                lo = [p.value - p.lo if p.lo is not None else 0.0 for p in pts]
                hi = [p.hi - p.value if p.hi is not None else 0.0 for p in pts]
                ax.errorbar(
                    px, ys, yerr=[lo, hi], fmt="o-", color=colour, ms=4, capsize=3, lw=1.2,
                    label=plain(label),
                )  # fmt: skip
                for x, p in zip(px, pts, strict=True):
                    if p.bound and p.hi is not None:
                        ax.plot([x], [p.hi], marker="v", color=colour, ms=5, ls="none")
            for k, (label, p) in enumerate((reference or {}).items()):
                if p.value is not None:
                    ax.axhline(p.value, color=_COLOURS[k % len(_COLOURS)], ls="--", lw=0.9,
                               alpha=0.7, label=plain(f"{label}, clean"))  # fmt: skip
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel(plain(xlabel))
            ax.set_ylabel("rate")
            ax.set_title(plain(title))
            ax.legend(loc="best")
    return fig


def edc_figure(curves: dict[str, tuple[Sequence[float], Sequence[Point]]], limit: float) -> Figure:
    """Error versus discard: each error rate (with its interval band) as the lowest-quality share
    of photos is discarded, up to the pAUC limit marked by a dotted line (ISO/IEC 29794-1)."""
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.8)
        for k, (label, (xs, points)) in enumerate(curves.items()):
            colour = _COLOURS[k % len(_COLOURS)]
            keep = [(x, p) for x, p in zip(xs, points, strict=True) if p.value is not None]
            if not keep:
                continue
            x = [a for a, _ in keep]
            ax.plot(x, [p.value for _, p in keep], "o-", color=colour, ms=3, lw=1.3,
                    label=plain(label))  # fmt: skip
            if all(p.lo is not None and p.hi is not None for _, p in keep):
                ax.fill_between(x, [p.lo for _, p in keep], [p.hi for _, p in keep],
                                color=colour, alpha=0.15, lw=0)  # fmt: skip
        ax.axvline(limit, color="#999999", ls=":", lw=1)
        ax.set_xlabel("share of lowest-quality photos discarded")
        ax.set_ylabel("error rate at the fixed threshold")
        ax.set_title("Error versus discard (EDC)")
        ax.legend(loc="best")
    return fig
