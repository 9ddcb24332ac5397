"""The audit report: one self-contained HTML page and its figures, built from ``results.json``.

The report reads only the results dict (the content of ``results.json``) and never recomputes a
metric: whatever the engines wrote is what the reader sees, formatted with its confidence interval
and sample size. Sections appear only for the keys present (``verification``, ``identification``,
``scale``, ``acquisition``/``model``, ``demographics``, ``impact``); unknown keys are ignored.

Guarantees
----------
- Self-contained: CSS inline, figures inline as SVG; no script, font, stylesheet or image is loaded
  from anywhere, so the page opens offline and leaks nothing.
- Escaped: Jinja2 with autoescape on; every string from the results (titles, file paths, group
  names, warnings) is escaped in the page, and drawn as literal text in the figures.
- Honest: every rate carries its CI and n; a rule-of-3 bound reads "≤ x (rule of 3, no errors
  observed)", an unsupported operating point reads "not supported by the data (needs ≥ 3/target
  impostors; have n)" instead of a number; synthetic results carry a banner.
- Private by default: aggregate figures only; the list of failed images (file names) appears only
  when ``results["settings"]["show_identities"]`` is true.

Example
-------
>>> from pathlib import Path
>>> from faceaudit.report import write_report
>>> write_report(results, Path("out"))          # doctest: +SKIP
PosixPath('out/report.html')
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from faceaudit.report.sections import SECTIONS, ReportWarning, build_figures

__all__ = ["ReportWarning", "build_figures", "render_html", "write_report"]

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
            trim_blocks=False,
            lstrip_blocks=False,
            keep_trailing_newline=True,
        )
    return _ENV


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
        The results dict (``results.json`` content). Missing optional keys are tolerated.
    figures : mapping of str to str, optional
        Figure name -> SVG text, as made by :func:`faceaudit.report.figures.render_svg` from the
        figures of :func:`build_figures` (trusted: it is inlined as markup after its XML prolog
        and namespace URLs are stripped and its ids prefixed). Missing figures are left out.
    notes : sequence of str
        Extra warnings about the report itself (e.g. a figure that could not be drawn).
    """
    from markupsafe import Markup

    from faceaudit.report import figures as F
    from faceaudit.report.format import fmt_confidence
    from faceaudit.report.sections import confidence_of, header_context, summary_sentences

    inline = {
        name: Markup(F.inline_svg(svg, f"svg-{name}", _figure_label(name)))
        for name, svg in (figures or {}).items()
    }
    sections = [
        {
            "key": spec.key,
            "title": spec.title,
            "template": spec.template,
            "ctx": spec.context(results),
        }
        for spec in SECTIONS
        if spec.present(results)
    ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        h=header_context(results),
        summary=summary_sentences(results),
        confidence=fmt_confidence(confidence_of(results)),
        sections=sections,
        figures=inline,
        notes=[str(n) for n in notes],
    )


_LABELS = {
    "det": "DET curve: false non-match rate against false match rate, log axes",
    "score_histogram": "Histograms of genuine and impostor scores",
    "cmc": "Cumulative match characteristic",
    "fpir_fnir": "FPIR and FNIR against threshold",
    "fpir_gallery": "FPIR against gallery size, measured and extrapolated",
    "tail_fit": "Tail-fit diagnostic",
    "scale_validation": "Validation of the gallery-size extrapolation against measurement",
    "group_rates": "Per-group FMR and FNMR with confidence intervals",
    "cross_fmr": "Cross-group FMR heatmap",
    "id_group_rates": "Per-group FPIR and FNIR with confidence intervals",
    "id_cross_fmr": "Cross-group heatmap (1:N)",
    "ppv": "Positive predictive value against prevalence",
}


def _figure_label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


def write_report(results: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``out_dir/report.html`` and ``out_dir/figures/<name>.svg`` / ``.png``.

    Each figure is drawn once and rendered once to SVG and once to PNG. ``out_dir`` is created if
    needed; files in it are replaced (use :class:`faceaudit.output.OutputDir` around the call for an
    atomic, overwrite-checked output folder). Returns the path of ``report.html``.
    """
    from faceaudit.report import figures as F

    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    figs, notes = build_figures(results)
    svgs: dict[str, str] = {}
    if figs:
        fig_dir.mkdir(parents=True, exist_ok=True)
    for name, fig in figs.items():
        svg, png = F.render(fig)
        (fig_dir / f"{name}.svg").write_text(svg, encoding="utf-8")
        (fig_dir / f"{name}.png").write_bytes(png)
        svgs[name] = svg
    html = render_html(results, svgs, notes=notes)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
