"""The report holds a section exactly for each analysis that ran, and ``report.html`` and
``report.md`` show the same figures as ``results.json`` (every rate with its interval and n)."""

from __future__ import annotations

import math
import re

import pytest

from faceaudit.report import render_html, render_markdown
from faceaudit.report.blocks import band_cell, rate_cell
from faceaudit.report.sections import SECTIONS
from test_report_fixtures import full_results
from test_report_html import text_of
from test_results_schema import CASES, golden

KEYS = {s.key for s in SECTIONS}
SKIP = {"det", "histogram", "curve", "diagnostic", "per_encounter", "qq", "tail_curve"}


def md_text(md: str) -> str:
    """What a reader of the rendered Markdown sees: markup and escapes removed."""
    md = re.sub(r"\\(.)", r"\1", md.replace("**", "").replace("*", ""))
    md = md.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", md.replace("|", " "))


def shown_figures(res: dict) -> list[tuple[str, str]]:
    """(path, text) of every rate and band the report must show, as its cell prints it."""
    conf = res["settings"].get("confidence", 0.95)
    out: list[tuple[str, str]] = []

    def cell_text(c) -> str:
        return f"{c.text} {c.detail}".strip()

    def walk(x, path):
        if isinstance(x, dict):
            keys = set(x)
            if {"value", "ci", "count", "n", "upper_bound"} <= keys and x["value"] is not None:
                out.append((path, cell_text(rate_cell(x, conf))))
                return
            if keys in ({"value", "ci"}, {"value", "ci", "reason"}) and x["value"] is not None:
                if not path.endswith("wrong_one_in"):
                    out.append((path, cell_text(band_cell(x, conf))))
                return
            for k, v in x.items():
                if k not in SKIP:
                    walk(v, f"{path}.{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")

    for key in KEYS & set(res):
        walk(res[key], key)
    return [(p, t) for p, t in out if _shown(res, p)]


# Figures results.json holds that the report leaves to results.json (or shows another way):
# per-encounter shares and sums of the outcomes shown, 1 - PPV, the groups' day counts; capture
# conditions' ratios to the reference (their differences are shown) and each condition's EDC
# points (its pAUC is shown, and the pooled EDC in full).
_NOT_SHOWN = re.compile(
    r"(\.(hit|wrong_hit|nonmated_no_hit|mated_no_hit|false_discovery)$)"
    r"|(^impact\.groups\[\d+\]\.(per_day|per_year|rates\.(wrong_top1|mated_no_hit)))"
    r"|(^impact\.rates\.mated_no_hit$)"
    r"|(^capture\.conditions\[\d+\]\.vs_reference\.\w+\.ratio$)"
    r"|(^quality\.conditions\[\d+\]\.edc\.\w+\.points\[\d+\]\.rate$)"
)


def _decade(x: float) -> bool:
    return abs(math.log10(x) - round(math.log10(x))) < 1e-9


def _shown(res: dict, path: str) -> bool:
    """Whether the report shows this figure (the rest is listed in results.json, as it says)."""
    if path == "impact.rates.mated_no_hit":
        return True
    if _NOT_SHOWN.search(path) and not path.startswith("field_log"):
        return False
    if m := re.match(r"identification\.cmc\[(\d+)\]", path):
        cmc, k = res["identification"]["cmc"], int(m.group(1))
        return cmc[k]["rank"] in {1, 5, 10, 20, 50, 100} or k == len(cmc) - 1
    if m := re.match(r"scale\.points\[(\d+)\]", path):
        pts = res["scale"]["points"]
        p, measured = pts[int(m.group(1))], {q["gallery_size"] for q in pts if q["measured"]}
        n = p["gallery_size"]
        return n in measured or n == max(q["gallery_size"] for q in pts) or _decade(n)
    if m := re.match(r"impact\.points\[(\d+)\]", path):
        pts, k = res["impact"]["points"], int(m.group(1))
        p = pts[k]
        return p["user_given"] or _decade(p["prevalence"]) or k in (0, len(pts) - 1)
    return True


def _cases():
    return [*CASES, "full"]


def results_of(case: str) -> dict:
    return full_results() if case == "full" else golden(case)


@pytest.mark.parametrize("case", _cases())
def test_a_section_exactly_for_each_analysis_that_ran(case):
    res = results_of(case)
    page = render_html(res)
    for key in KEYS:
        assert (f'<section id="{key}">' in page) == (key in res), key
    for key in ("verdict", "methods", "limitations", "reproducibility"):
        assert f'<section id="{key}"' in page
    # The verdict comes first, then the analyses, then the back matter.
    order = [page.index(f'<section id="{k}"') for k in ("verdict", "methods", "reproducibility")]
    assert order == sorted(order)


@pytest.mark.parametrize("case", _cases())
def test_html_and_markdown_show_every_figure_of_results_json(case):
    res = results_of(case)
    html_text = text_of(render_html(res))
    md = md_text(render_markdown(res))
    figures = shown_figures(res)
    assert len(figures) >= 3
    missing_html = [(p, t) for p, t in figures if t not in html_text]
    missing_md = [(p, t) for p, t in figures if t not in md]
    assert not missing_html, missing_html[:5]
    assert not missing_md, missing_md[:5]


def test_demo_report_holds_every_section_and_its_verdict():
    res = golden("demo")
    page = render_html(res)
    t = text_of(page)
    for key in ("verification", "demographics", "identification", "scale"):
        assert f'<section id="{key}">' in page
    v = t.split("Verdict in plain language", 1)[1].split("Warnings", 1)[0]
    assert "Searching a gallery of 1,050 people at threshold 0.394181" in v
    assert "based on n = 1,800 non-mated searches" in v
    assert "people in group B are falsely matched 3.2×" in v
    assert "SYNTHETIC DATA" in t
    lim = t.split("Limitations", 2)[2].split("Reproducibility", 1)[0]
    assert "The data are synthetic" in lim
    assert "FPIR targets 10⁻³ are not supported by the data" in lim
    assert "extrapolated" in lim


def test_markdown_numbers_equal_the_html_numbers():
    res = full_results()
    num = re.compile(r"\d[\d,]*(?:\.\d+)?(?:×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?")
    html_nums = num.findall(text_of(render_html(res)).split("Verdict in plain language", 1)[1])
    md_nums = num.findall(md_text(render_markdown(res)).split("Verdict in plain language", 1)[1])
    assert html_nums == md_nums
