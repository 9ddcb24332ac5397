"""Figures of the 1:1 and 1:N error analyses: DET, score histograms, CMC, FPIR/FNIR."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import (
    GREY,
    MARK,
    MATED,
    NONMATED,
    _finite_positive,
    _new_figure,
    _rc,
    _set_log,
    log_limits,
    plain,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def det_figure(
    fmr: Sequence[float],
    fnmr: Sequence[float],
    *,
    operating_points: Sequence[tuple[float, float, str]] = (),
    eer: float | None = None,
    title: str = "DET curve",
) -> Figure:
    """Detection error trade-off: FNMR against FMR, both on log axes spanning the data.

    Parameters
    ----------
    fmr, fnmr : sequences of float
        The curve, one point per threshold (rates in [0, 1]); points where either rate is 0 are not
        drawable on log axes and are skipped.
    operating_points : sequence of (fmr, fnmr, label)
        Points to mark (e.g. the FNMR at each supported FMR target).
    eer : float, optional
        Equal error rate, marked on the diagonal FMR = FNMR.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.6, 4.6)
        xs, ys = [], []
        for x, y in zip(fmr, fnmr, strict=False):
            if x is not None and y is not None and x > 0 and y > 0:
                xs.append(float(x))
                ys.append(float(y))
        op_x = [p[0] for p in operating_points]
        op_y = [p[1] for p in operating_points]
        extra = [eer] if eer else []
        x_lo, x_hi = log_limits(xs + op_x + extra)
        y_lo, y_hi = log_limits(ys + op_y + extra)
        _set_log(ax, "x")
        _set_log(ax, "y")
        if xs:
            ax.plot(xs, ys, color=NONMATED, lw=1.6, label="DET curve")
        else:
            ax.text(
                0.5,
                0.5,
                "no curve: no errors of one kind observed",
                ha="center",
                transform=ax.transAxes,
                color=GREY,
            )
        lo = min(x_lo, y_lo)
        ax.plot([lo, 1], [lo, 1], color=GREY, lw=0.8, ls=":", label="FMR = FNMR")
        if eer and eer > 0:
            ax.plot([eer], [eer], "o", color=MARK, ms=6, mfc="white", label=f"EER {eer:.3g}")
        drawn = False
        for x, y, label in operating_points:
            if x is None or y is None or x <= 0 or y <= 0:
                continue
            ax.plot([x], [y], "s", color=MATED, ms=5, label=None if drawn else "operating points")
            ax.annotate(
                plain(label),
                (x, y),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
                color=MATED,
            )
            drawn = True
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        ax.set_xlabel("FMR: share of non-mated comparisons accepted")
        ax.set_ylabel("FNMR: share of mated comparisons rejected")
        ax.set_title(plain(title, 80))
        ax.legend(loc="upper right")
    return fig


def score_histogram_figure(
    edges: Sequence[float],
    mated: Sequence[float],
    nonmated: Sequence[float],
    *,
    thresholds: Sequence[tuple[float, str]] = (),
    xlabel: str = "score",
) -> Figure:
    """Mated and non-mated score histograms, each as a share of its class; linear and log y.

    Two panels side by side: the left (linear y) shows the bulk, the right (log y) the tails, where
    the errors are. Vertical lines mark ``thresholds`` (value, label).
    """
    import numpy as np
    from matplotlib.colors import to_rgba

    with _rc():
        fig, axes = _new_figure(9.0, 3.6, ncols=2)
        e = np.asarray(edges, dtype=float)
        g = np.asarray(mated, dtype=float)
        i = np.asarray(nonmated, dtype=float)
        g_share = g / g.sum() if g.sum() > 0 else g
        i_share = i / i.sum() if i.sum() > 0 else i
        for ax, log in zip(axes, (False, True), strict=True):
            for share, colour, label in (
                (i_share, NONMATED, "nonmated"),
                (g_share, MATED, "mated"),
            ):
                ax.stairs(
                    share,
                    e,
                    fill=True,
                    facecolor=to_rgba(colour, 0.35),
                    edgecolor=colour,
                    lw=1.0,
                    label=label,
                )
            if log:
                _set_log(ax, "y")
                pos = _finite_positive(list(g_share) + list(i_share))
                if pos:
                    top = min(1.5, 10.0 ** math.ceil(math.log10(max(pos) * 3)))
                    ax.set_ylim(10.0 ** math.floor(math.log10(min(pos))), top)
            for t, _ in thresholds:
                ax.axvline(t, color=MARK, lw=0.8, ls="--")
            if log:
                for t, label in _merge_close(thresholds, float(e[-1] - e[0]) if e.size else 1.0):
                    ax.annotate(
                        plain(label, 60),
                        (t, 1),
                        xycoords=("data", "axes fraction"),
                        rotation=90,
                        fontsize=7,
                        va="top",
                        ha="right",
                        xytext=(-2, -2),
                        textcoords="offset points",
                        bbox={
                            "boxstyle": "square,pad=0.1",
                            "fc": "white",
                            "ec": "none",
                            "alpha": 0.85,
                        },
                    )
            ax.set_xlabel(plain(xlabel, 80))
            ax.set_ylabel("share of class per bin" + (" (log)" if log else ""))
            ax.set_title("tails (log scale)" if log else "score distributions")
        axes[0].legend(loc="best")
    return fig


def _merge_close(
    marks: Sequence[tuple[float, str]], span: float, gap: float = 0.05
) -> list[tuple[float, str]]:
    """Threshold labels with neighbours closer than ``gap`` x ``span`` merged (no overlap)."""
    out: list[tuple[float, str]] = []
    for t, label in sorted(marks, key=lambda m: m[0]):
        if out and abs(t - out[-1][0]) < gap * abs(span):
            out[-1] = (out[-1][0], f"{out[-1][1]}, {label}")
        else:
            out.append((t, label))
    return out


def cmc_figure(ranks: Sequence[int], rates: Sequence[float]) -> Figure:
    """Cumulative match characteristic: share of mated searches with the mate within rank r."""
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.8)
        ax.plot(list(ranks), list(rates), "o-", color=MATED, ms=3, lw=1.4, drawstyle="steps-post")
        if ranks and max(ranks) > 50:
            _set_log(ax, "x")
        else:
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(min(0.9 * min(rates), 1.0) if rates else 0.0, 1.0)
        ax.set_xlabel("rank r")
        ax.set_ylabel("share of mated searches, mate in top r")
        ax.set_title("Cumulative match characteristic (CMC)")
    return fig


def fpir_fnir_figure(
    threshold: Sequence[float],
    fpir: Sequence[float],
    fnir: Sequence[float],
    *,
    marks: Sequence[tuple[float, str]] = (),
    xlabel: str = "threshold",
) -> Figure:
    """FPIR and FNIR against the threshold, log y spanning the data; ``marks`` are thresholds."""
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.8)
        t = [float(x) for x in threshold]
        fp = [v if v and v > 0 else float("nan") for v in fpir]
        fn = [v if v and v > 0 else float("nan") for v in fnir]
        _set_log(ax, "y")
        ax.plot(t, fp, color=NONMATED, lw=1.5, label="FPIR (non-mated searches with a candidate)")
        ax.plot(t, fn, color=MATED, lw=1.5, label="FNIR (mated searches missing the mate)")
        ax.set_ylim(*log_limits(list(fpir) + list(fnir)))
        for x, label in marks:
            ax.axvline(x, color=MARK, lw=0.8, ls="--")
            ax.annotate(
                plain(label),
                (x, 1),
                xycoords=("data", "axes fraction"),
                rotation=90,
                fontsize=7,
                va="top",
                ha="right",
                xytext=(-2, -2),
                textcoords="offset points",
            )
        ax.set_xlabel(plain(xlabel, 80))
        ax.set_ylabel("rate (log)")
        ax.set_title("Open-set identification errors vs threshold")
        ax.legend(loc="lower left")
    return fig
