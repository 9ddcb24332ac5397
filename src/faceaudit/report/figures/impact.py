"""The impact figure: PPV of a hit against prevalence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import (
    ACCENT,
    OTHER,
    _new_figure,
    _rc,
    _set_log,
    log_limits,
    plain,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def ppv_figure(
    prevalence: Sequence[float],
    ppv: Sequence[float],
    *,
    lo: Sequence[float] | None = None,
    hi: Sequence[float] | None = None,
    groups: Sequence[tuple[str, float, float]] = (),
) -> Figure:
    """Positive predictive value of a hit against prevalence (log x), with its CI band.

    ``ppv``, ``lo`` and ``hi`` may hold NaN where the PPV or its interval is undefined (left as
    gaps). ``groups`` are ``(label, prevalence, ppv)`` markers: each group at its assumed
    prevalence.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.9, margins=(0.8, 0.55, 0.2, 0.45))
        _set_log(ax, "x")
        x = [float(v) for v in prevalence]
        if lo is not None and hi is not None:
            ax.fill_between(
                x, [float(v) for v in lo], [float(v) for v in hi], color=ACCENT, alpha=0.22,
                lw=0, label="confidence band",
            )  # fmt: skip
        ax.plot(x, [float(v) for v in ppv], color=ACCENT, lw=1.6, label="PPV")
        markers = ("o", "s", "^", "D", "v", "P", "X")
        for k, (label, pi, value) in enumerate(groups):
            ax.plot([pi], [value], markers[k % len(markers)], color=OTHER, ms=6, mfc="white",
                    mew=1.4, ls="none", label=f"group {plain(label, 24)}")  # fmt: skip
        xs = x + [g[1] for g in groups]
        if xs:
            ax.set_xlim(*log_limits(xs, upper=1.0))
        ax.set_ylim(0, 1)
        ax.set_xlabel("prevalence: share of searched people who are enrolled (log)")
        ax.set_ylabel("PPV: P(hit shows the right person)")
        ax.set_title("What one hit means: positive predictive value")
        ax.legend(loc="lower right")
    return fig
