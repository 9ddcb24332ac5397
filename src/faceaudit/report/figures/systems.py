"""Figures of the paired comparison of systems: the systems' DET curves overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import (
    ACCENT,
    GREY,
    MARK,
    MATED,
    NONMATED,
    OTHER,
    WARN,
    _new_figure,
    _rc,
    _set_log,
    log_limits,
    plain,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_COLOURS = (MATED, NONMATED, ACCENT, OTHER, WARN, MARK)
_STYLES = ("-", "--", "-.", ":")


def det_overlay_figure(
    curves: Sequence[tuple[str, Sequence[float | None], Sequence[float | None]]],
    *,
    marks: Sequence[tuple[str, float, float]] = (),
    rates: tuple[str, str] = ("fmr", "fnmr"),
    title: str = "DET curves of the compared systems",
) -> Figure:
    """Several systems' DET curves (FNMR against FMR, log axes spanning the data) on one plot.

    Parameters
    ----------
    curves : sequence of (name, fmr, fnmr)
        One curve per system; points where either rate is 0 (or None) are skipped (not drawable
        on log axes). Names are user strings, drawn as literal text (:func:`plain`).
    marks : sequence of (name, fmr, fnmr[, fnmr_ci])
        Operating points to mark (each system at its own threshold for a target), with a
        vertical bar for the FNMR's interval when ``fnmr_ci`` is given (the shared subject
        bootstrap's; a one-sided bound ``[0, b]`` draws from the plot's floor).
    rates : ("fmr", "fnmr") or ("fpir", "fnir")
        Which rates the curves hold (1:1 or 1:N): the axis labels.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.8, 4.6)
        _set_log(ax, "x")
        _set_log(ax, "y")
        all_x, all_y = [], []
        colour = {}
        for k, (name, fmr, fnmr) in enumerate(curves):
            xs, ys = [], []
            for x, y in zip(fmr, fnmr, strict=False):
                if x is not None and y is not None and x > 0 and y > 0:
                    xs.append(float(x))
                    ys.append(float(y))
            c = _COLOURS[k % len(_COLOURS)]
            colour[name] = c
            if xs:
                ax.plot(xs, ys, color=c, lw=1.5, ls=_STYLES[k // len(_COLOURS) % 4],
                        label=plain(name))  # fmt: skip
            all_x += xs
            all_y += ys
        bars = []
        for name, x, y, *ci in marks:
            if x and y and x > 0 and y > 0:
                c = colour.get(name, MARK)
                ax.plot([x], [y], "s", ms=4, color=c)
                all_x.append(x)
                all_y.append(y)
                lo, hi = ci[0] if ci and ci[0] else (None, None)
                if hi is not None and hi > 0:
                    bars.append((x, lo if lo and lo > 0 else None, hi, c))
                    all_y += [v for v in (lo, hi) if v and v > 0]
        x_lo, x_hi = log_limits(all_x)
        y_lo, y_hi = log_limits(all_y)
        lo = min(x_lo, y_lo)
        ax.plot([lo, 1], [lo, 1], color=GREY, lw=0.8, ls=":",
                label=f"{rates[0].upper()} = {rates[1].upper()}")  # fmt: skip
        if not all_x:
            ax.text(0.5, 0.5, "no curve: no errors of one kind observed", ha="center",
                    transform=ax.transAxes, color=GREY)  # fmt: skip
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        for x, lo, hi, c in bars:  # a bound [0, b] runs down to the floor of the plot
            ax.plot([x, x], [lo if lo is not None else y_lo, hi], color=c, lw=1.2, alpha=0.8)
        if rates == ("fpir", "fnir"):
            ax.set_xlabel("FPIR: share of searches of people not enrolled that return a candidate")
            ax.set_ylabel("FNIR: share of searches of enrolled people that miss them")
        else:
            ax.set_xlabel("FMR: share of non-mated comparisons accepted")
            ax.set_ylabel("FNMR: share of mated comparisons rejected")
        ax.set_title(
            plain(title, 80) + ("\n(bars: intervals at the operating points)" if bars else "")
        )
        ax.legend(loc="upper right")
    return fig


def group_difference_figure(
    panels: Sequence[tuple[str, Sequence[tuple[str, float, float, float, bool]]]],
    *,
    title: str = "Change in each group's rates between systems",
) -> Figure:
    """Per-group differences ``a - b`` (percentage points) with their paired intervals.

    Parameters
    ----------
    panels : sequence of (title, rows)
        One panel per rate (e.g. FMR, FNMR); ``rows``: ``(label, difference, low, high,
        supported)`` as fractions, drawn in points. Unsupported rows are grey and hatched (never
        hidden); a bar whose interval spans 0 is drawn hollow. Labels are literal text.
    """
    with _rc():
        n = max((len(rows) for _, rows in panels), default=1)
        fig, axes = _new_figure(9.0, max(2.6, 0.9 + 0.34 * n), ncols=max(len(panels), 1),
                                margins=None)  # fmt: skip
        for k, (ax, (name, rows)) in enumerate(zip(axes, panels, strict=False)):
            ypos = list(range(len(rows)))[::-1]
            colour = (NONMATED, MATED)[k % 2]
            for y, (_, d, lo, hi, ok) in zip(ypos, rows, strict=True):
                spans = lo <= 0.0 <= hi
                ax.barh(y, 100 * d, height=0.6, color="none" if spans or not ok else colour,
                        edgecolor=colour if ok else GREY, hatch=None if ok else "///", lw=0.9,
                        alpha=0.85)  # fmt: skip
                ax.errorbar([100 * d], [y], xerr=[[100 * (d - lo)], [100 * (hi - d)]],
                            fmt="none", ecolor=MARK if ok else GREY, capsize=3, lw=1.0)  # fmt: skip
            ax.axvline(0.0, color=GREY, lw=0.8)
            ax.set_yticks(ypos)
            ax.set_yticklabels([plain(r[0], 40) for r in rows])
            ax.set_title(plain(name, 60))
            ax.set_xlabel("difference, percentage points (paired CI)")
            ax.grid(axis="y", visible=False)
        fig.suptitle(plain(title, 100), fontsize=9)
    return fig


def fpir_fnir_overlay_figure(
    curves: Sequence[tuple[str, Sequence[float], Sequence[float | None], Sequence[float | None]]],
    *,
    xlabel: str = "threshold",
) -> Figure:
    """FPIR (dashed) and FNIR (solid) against the threshold, one colour per system, log y.

    ``curves``: ``(name, threshold, fpir, fnir)`` per system; zero rates are not drawable on the
    log axis and are skipped.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.8, 4.2)
        _set_log(ax, "y")
        every = []
        for k, (name, t, fpir, fnir) in enumerate(curves):
            c = _COLOURS[k % len(_COLOURS)]
            for rate, ls, what in ((fpir, "--", "FPIR"), (fnir, "-", "FNIR")):
                xs = [float(x) for x, v in zip(t, rate, strict=False) if v and v > 0]
                ys = [float(v) for v in rate if v and v > 0]
                if xs:
                    ax.plot(xs, ys, color=c, ls=ls, lw=1.4, label=f"{plain(name)}: {what}")
                every += ys
        ax.set_ylim(*log_limits(every))
        if not every:
            ax.text(0.5, 0.5, "no curve: no errors observed", ha="center",
                    transform=ax.transAxes, color=GREY)  # fmt: skip
        ax.set_xlabel(plain(xlabel, 80))
        ax.set_ylabel("rate (log)")
        ax.set_title("FPIR (dashed) and FNIR (solid) against threshold")
        ax.legend(loc="lower left", fontsize=7)
    return fig


def cmc_overlay_figure(
    curves: Sequence[tuple[str, Sequence[int], Sequence[float], Sequence[tuple | None]]],
) -> Figure:
    """Several systems' CMC curves (identification rate within rank r) with interval bands.

    ``curves``: ``(name, ranks, rates, cis)`` per system; ``cis[j]`` is ``(low, high)`` or None.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.8, 4.0)
        lows = []
        top = 1
        for k, (name, ranks, rates, cis) in enumerate(curves):
            c = _COLOURS[k % len(_COLOURS)]
            r = [int(x) for x in ranks]
            ax.plot(r, list(rates), "o-", color=c, ms=3, lw=1.4, drawstyle="steps-post",
                    label=plain(name))  # fmt: skip
            band = [(x, ci) for x, ci in zip(r, cis, strict=False) if ci]
            if band:
                ax.fill_between([x for x, _ in band], [ci[0] for _, ci in band],
                                [ci[1] for _, ci in band], step="post", color=c, alpha=0.15,
                                lw=0)  # fmt: skip
                lows += [ci[0] for _, ci in band]
            lows += list(rates)
            top = max(top, max(r, default=1))
        if top > 50:
            _set_log(ax, "x")
        else:
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(min(0.9 * min(lows), 1.0) if lows else 0.0, 1.0)
        ax.set_xlabel("rank r")
        ax.set_ylabel("share of mated searches, mate in top r")
        ax.set_title("CMC of the compared systems (bands: shared-bootstrap intervals)")
        ax.legend(loc="lower right")
    return fig
