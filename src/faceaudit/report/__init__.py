"""The audit report: ``report.html`` and ``report.md`` with their figures, from ``results.json``.

The report reads only the results dict (the content of ``results.json``, contract in
``docs/results.md`` and ``docs/results.schema.json``) and never recomputes a metric. It reads it
strictly: a field the report needs that is missing, or of the wrong type, raises
:class:`ReportError` naming its path; a section appears exactly when its key is present.

Layout, first page first
------------------------
1. a verdict in plain language (what one hit means when an impact analysis ran; otherwise the
   headline 1:1 and 1:N figures), then warnings;
2. each analysis that ran (:mod:`faceaudit.report.sections`: impact, field log, 1:N, gallery
   size, 1:1, demographics, images, model);
3. methods (definitions, which data fixed each threshold, interval methods, references),
   limitations the data impose, and reproducibility (command, input checksums, settings,
   versions, seeds).

Modules: :mod:`~faceaudit.report._data` (strict reading), :mod:`~faceaudit.report.format`
(numbers), :mod:`~faceaudit.report.sentences` (the one place numbers become words),
:mod:`~faceaudit.report.blocks` and :mod:`~faceaudit.report.page` (the page model both outputs
draw), :mod:`~faceaudit.report.figures` (matplotlib), :mod:`~faceaudit.report.markdown`.

Guarantees
----------
- Self-contained: CSS inline, figures inline as SVG; no script, font, stylesheet or image is
  loaded from anywhere (a Content-Security-Policy forbids it too), so the page opens offline and
  leaks nothing; it prints to A4 or Letter without cut tables or figures.
- Escaped: Jinja2 autoescape for HTML, Markdown escaping for ``report.md``; user strings are drawn
  as literal text in the figures.
- Honest: every rate carries its CI and n; a zero-error bound reads "≤ x (no errors observed;
  one-sided 97.5% bound on k subjects; 0 of n)"; a figure the data cannot support reads "not
  supported by the data (...)".
- Private by default: aggregate figures only; the failed images and example subject ids appear
  only when ``results["settings"]["show_identities"]`` is true.

Example
-------
>>> from faceaudit.report import write_report
>>> write_report(results, Path("out"))          # doctest: +SKIP
PosixPath('out/report.html')
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from faceaudit.report._data import ReportError
from faceaudit.report.page import ReportWarning, build_figures, build_page

__all__ = [
    "ReportError",
    "ReportWarning",
    "build_figures",
    "render_html",
    "render_markdown",
    "write_report",
]

_ENV = None


def _load_template(name: str) -> tuple[str, str, Any] | None:
    """Template source from the package data (works from a wheel, a zip or a source tree)."""
    res = importlib.resources.files("faceaudit.report").joinpath("templates", name)
    try:
        source = res.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return source, f"faceaudit/report/templates/{name}", lambda: True


def _environment():
    """The Jinja2 environment: package templates, autoescape always on, strict undefined."""
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            loader=jinja2.FunctionLoader(_load_template),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
    return _ENV


_LABELS = {
    "det": "DET curve: false non-match rate against false match rate, log axes",
    "compare_det": "DET curves of the compared systems, overlaid, log axes",
    "compare_group_differences": "Change in each group's rates between systems, paired intervals",
    "compare_fpir_fnir": "FPIR and FNIR against threshold, the compared systems overlaid",
    "compare_cmc": "Cumulative match characteristic of the compared systems, overlaid",
    "score_histogram": "Histograms of mated and non-mated scores",
    "cmc": "Cumulative match characteristic",
    "fpir_fnir": "FPIR and FNIR against threshold",
    "fpir_gallery": "FPIR against gallery size, measured and extrapolated",
    "tail_fit": "Tail-fit diagnostic",
    "scale_validation": "Validation of the gallery-size extrapolation against measurement",
    "group_rates": "Per-group FMR and FNMR with confidence intervals",
    "cross_fmr": "Cross-group FMR heatmap",
    "id_group_rates": "Per-group FPIR and FNIR with confidence intervals",
    "id_cross_fmr": "Cross-group heatmap (1:N)",
    "ppv": "Positive predictive value of a hit against prevalence",
}


def render_html(
    results: Mapping[str, Any],
    figures: Mapping[str, str] | None = None,
    *,
    notes: Sequence[str] = (),
) -> str:
    """The report page for ``results`` as one HTML string.

    Parameters
    ----------
    results : mapping
        The results dict (``results.json`` content), read strictly (:class:`ReportError`).
    figures : mapping of str to str, optional
        Figure name -> SVG text (:func:`faceaudit.report.figures.render_svg`), inlined after its
        XML prolog and namespace URLs are stripped and its ids prefixed. Missing ones are left out.
    notes : sequence of str
        Extra warnings about the report itself (e.g. a figure that could not be drawn).
    """
    from markupsafe import Markup

    from faceaudit.report import figures as F

    page = build_page(results, notes)
    inline = {
        name: Markup(F.inline_svg(svg, f"svg-{name}", _LABELS.get(name, name)))
        for name, svg in (figures or {}).items()
    }
    return _environment().get_template("report.html.j2").render(p=page, figures=inline)


def render_markdown(
    results: Mapping[str, Any], figures: Sequence[str] = (), *, notes: Sequence[str] = ()
) -> str:
    """``report.md`` for ``results``: the same page as :func:`render_html`, as Markdown.

    ``figures`` names the figures written to ``figures/<name>.png`` (referenced, not inlined).
    """
    from faceaudit.report.markdown import render_markdown as _render

    return _render(build_page(results, notes), frozenset(figures))


def write_report(results: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``report.html``, ``report.md`` and ``figures/<name>.svg`` / ``.png`` to ``out_dir``.

    The results are read (and checked) before anything is written; each figure is drawn once and
    rendered once to SVG and once to PNG. ``out_dir`` is created if needed; files in it are
    replaced (use :class:`faceaudit.output.OutputDir` around the call for an atomic,
    overwrite-checked folder). Returns the path of ``report.html``.
    """
    from faceaudit.report import figures as F

    out_dir = Path(out_dir)
    build_page(results)  # a ReportError before any file is written
    figs, notes = build_figures(results)
    svgs: dict[str, str] = {}
    pngs: dict[str, bytes] = {}
    for name, fig in figs.items():
        svgs[name], pngs[name] = F.render(fig)
    html = render_html(results, svgs, notes=notes)
    text = render_markdown(results, list(svgs), notes=notes)
    out_dir.mkdir(parents=True, exist_ok=True)
    if svgs:
        (out_dir / "figures").mkdir(exist_ok=True)
    for name in svgs:
        (out_dir / "figures" / f"{name}.svg").write_text(svgs[name], encoding="utf-8")
        (out_dir / "figures" / f"{name}.png").write_bytes(pngs[name])
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
