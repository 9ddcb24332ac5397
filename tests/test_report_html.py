"""The HTML report: content, formatting of every rate, missing sections, figure files."""

from __future__ import annotations

import html
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from faceaudit.report import ReportError, render_html, write_report
from test_report_fixtures import ANALYSES, full_results, rate, verification_only


def text_of(page: str) -> str:
    """Visible text of a page: figures and CSS dropped, tags removed, entities decoded, spaces
    collapsed (so assertions read like what a reader sees)."""
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    block = r"td|th|tr|li|p|h\d|br|table|thead|tbody|div|section|ul|dl|dd|dt|fig\w*|nav|header"
    page = re.sub(rf"</?(?:{block})\b[^>]*>", " ", page)
    page = re.sub(r"<[^>]+>", "", page)
    return re.sub(r"\s+", " ", html.unescape(page))


@pytest.fixture(scope="module")
def full_report(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    path = write_report(full_results(), out)
    return out, path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Content of a full report


def test_write_report_returns_report_path(full_report):
    out, page = full_report
    assert (out / "report.html").is_file()
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")


def test_clean_report_has_no_urls_or_scripts(full_report):
    _, page = full_report
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert " src=" not in page and "<link" not in page and "<img" not in page


def test_synthetic_banner(full_report):
    _, page = full_report
    assert 'class="banner synthetic"' in page
    assert "SYNTHETIC DATA" in text_of(page)
    real = render_html(verification_only(synthetic=False))
    assert "SYNTHETIC DATA" not in text_of(real)
    assert 'class="banner synthetic"' not in real


def test_plain_language_verdict_leads(full_report):
    _, page = full_report
    t = text_of(page)
    # Headline: smallest supported FMR target with observed errors (1e-4): FMR 95 / 10^6.
    # 1 / 9.5e-5 = 10,526 -> "1 in 11,000"; CI 7.8e-5..1.1e-4 -> 1 in 13,000 (12,821) to 9,100.
    sentence = (
        "At threshold 0.5 (chosen for FMR ≤ 10⁻⁴), about 1 in 11,000 non-mated comparisons is "
        "falsely matched (9.50×10⁻⁵; 95% CI 1 in 13,000 to 1 in 9,100), based on n = 1,000,000 "
        "non-mated comparisons; and about 1 in 43 mated comparisons is wrongly rejected "
        "(0.0231; 95% CI 1 in 50 to 1 in 38), based on n = 10,000 mated comparisons."
    )
    assert sentence in t
    # The verdict comes before every section.
    assert t.index("Verdict in plain language") < t.index(sentence) < t.index("Operating points")


def test_eer_and_verification_facts(full_report):
    t = text_of(full_report[1])
    assert "EER 0.0123 (95% CI 0.0101–0.0149) at threshold 0.41235" in t
    assert "FMR = 0.0122 and FNMR = 0.0124" in t
    assert "Non-mated comparisons (different people) 1,000,000" in t
    assert "Area under the ROC curve (AUC) 0.998765" in t
    assert "Threshold units: similarity." in t


def test_operating_points_show_ci_and_n(full_report):
    t = text_of(full_report[1])
    assert "9.50×10⁻⁵ (95% CI 7.80×10⁻⁵–1.10×10⁻⁴; 95 of 1,000,000)" in t
    assert "0.0231 (95% CI 0.0201–0.0262; 231 of 10,000)" in t
    # Generalised rates (FTA counted) get their own columns.
    assert "Generalised FMR" in t
    assert "0.0991 (95% CI 0.0972–0.101; 99,100 of 1,000,000)" in t


def test_rule_of_three_bound_text(full_report):
    t = text_of(full_report[1])
    # 0 of 1,000,000 non-mated comparisons at FMR target 1e-5: bound 1 - 0.025^(1/n) = 3.69e-6.
    assert (
        "≤ 3.69×10⁻⁶ (no errors observed; one-sided 97.5% bound on 1,000,000 comparisons; 0 of "
        "1,000,000)"
    ) in t
    # Identification: 0 of 3,000 non-mated searches -> ≤ 0.00123.
    assert (
        "≤ 0.00123 (no errors observed; one-sided 97.5% bound on 3,000 comparisons; 0 of 3,000)"
    ) in t


def test_unsupported_targets_show_text_not_number(full_report):
    t = text_of(full_report[1])
    assert (
        "10⁻⁶ not supported by the data (needs ≥ 3/target = 3,000,000 non-mated comparisons; "
        "have 1,000,000) no"
    ) in t
    assert (
        "not supported by the data (needs ≥ 3/target = 10,000 non-mated searches; have 3,000)"
    ) in t


def test_identification_section(full_report):
    t = text_of(full_report[1])
    assert "Gallery size N (enrolled people) 100,000" in t
    assert "0.0967 (95% CI 0.086–0.108; 290 of 3,000)" in t
    assert (  # wrong person at rank 1
        "≤ 9.22×10⁻⁴ (no errors observed; one-sided 97.5% bound on 4,000 comparisons; 0 of 4,000)"
    ) in t
    assert "approximate index (hnsw)" in t and "recall against exact search was 0.987" in t
    assert "Rank r" in t and " 1 0.9 (95% CI 0.88–0.995; 3,600 of 4,000)" in t
    assert "Candidates returned per search 20" in t
    assert "Thresholds fixed on chosen on these data (FPIR <= target, lowest FNIR)" in t
    assert "Bootstrap 1,000 replicates by subject" in t
    assert "Investigation mode (no threshold" in t
    assert "(FPIR at T = 0) 1 (95% CI 1–1; 3,000 of 3,000)" in t
    assert "mate not in the top 1 (FNIR) 0.1 (95% CI 0.09–0.11; 400 of 4,000)" in t
    assert "Approximate search: see recall." in t


def test_scale_section(full_report):
    t = text_of(full_report[1])
    assert "270,000,000" in t
    assert "extrapolated from a fitted score tail beyond the data, not measured" in t
    assert "100 2.00×10⁻⁴ (95% CI 1.40×10⁻⁴–2.80×10⁻⁴; 0 of 800) measured" in t
    # Extrapolated grid condensed to decades, measured sizes and the largest; the rest counted.
    assert "1,000,000 0.865 (95% CI 0.432–1) extrapolated" in t
    assert " 200 3.99×10⁻⁴" not in t
    assert "4 more extrapolated gallery sizes are listed in results.json" in t
    assert "270,000,000 0.01 0.8123 (95% CI 0.79–0.83)" in t  # threshold needed
    assert "FMR at the threshold (from gpd) 2.00×10⁻⁶ (95% CI 1.50×10⁻⁶–2.60×10⁻⁶)" in t
    assert "Shape ξ -0.12" in t and "Shape (95% band) -0.15 – -0.09" in t
    assert "Bootstrap 200 replicates, resampling probe subject x gallery subject" in t
    assert "Extrapolation assumes independent comparisons." in t
    assert "1,000 measured 0.994 (95% CI 0.99–0.998; 1,590 of 1,600)" in t  # rank-1
    assert "270,000,000 expected (model) 0.862 (95% CI 0.655–0.922) 0.85" in t
    assert "fitted again on only 1,000 distractors" in t
    assert "10,000 10x 0.02 (95% CI 0.011–0.03; 16 of 800) 0.018 (95% CI 0.012–0.027) 0.9 yes" in t
    assert "Self-validation: predicted 0.018" in t and "lies inside the band" in t
    # beyond the data: said in words, in the table of points and of thresholds needed
    assert "Extrapolated beyond the data. The model puts the chance" in t
    assert "1 in 8,000,000" in t and "3,378 times rarer still" in t
    assert "270,000,000 1 (95% CI 0.5–1) extrapolated beyond the data" in t
    assert "(95% CI 0.79–0.83) 3.70×10⁻¹¹ yes" in t
    assert "1,234 exceedances chosen among 300, 617, 1,234, 2,468" in t


def test_scale_warning_already_listed_at_top_is_not_repeated():
    res = full_results()
    res["warnings"].append("Extrapolation assumes independent comparisons.")
    assert text_of(render_html(res)).count("Extrapolation assumes independent comparisons.") == 1


def test_acquisition_and_model(full_report):
    _, page = full_report
    t = text_of(page)
    assert (
        "3 of 400 images gave no usable face: failure to acquire (FTA) 0.0075 (95% CI 0–0.018; "
        "3 of 400). They are counted as failures, not dropped."
    ) in t
    assert "0.0075 (95% CI 0–0.018; 3 of 400)" in t
    assert "no_face 2" in t and "decode_error 1" in t
    # Privacy by default: reasons are counted, file names are not listed.
    assert "s01/1.pgm" not in page
    assert "not shown here to protect privacy" in t
    assert "Model dlib-resnet" in t and "Embedding size 128" in t
    assert "Failure to acquire (FTA) 0.0075 (95% CI 0–0.018; 3 of 400)" in t
    assert "Config detector: hog, upsample: 1" in t
    assert f"Weights SHA-256 {'cd' * 32}" in t


def test_failed_images_listed_only_when_asked():
    res = full_results()
    res["settings"]["show_identities"] = True
    page = render_html(res)
    assert "s01/1.pgm" in page and "s09/3.pgm" in page
    assert "s09/3.pgm s09 decode_error truncated file" in text_of(page)
    assert "not shown here to protect privacy" not in page


def test_acquisition_reasons_come_from_by_reason():
    res = full_results()
    res["acquisition"]["by_reason"] = {"too_small": 4, "x": 1}
    t = text_of(render_html(res))
    assert "too_small 4" in t and "x 1" in t


def test_demographics_section(full_report):
    page = full_report[1]
    t = text_of(page)
    assert "Groups by sex." in t
    assert "fixed on: whole data set, FMR 1e-4" in t
    assert "falsely matched 8.3× (95% CI 5.1–12.0) as often" in t
    assert "the data cannot tell groups female and male apart on FNMR." in t
    assert "8.30×10⁻⁴ (95% CI 6.50×10⁻⁴–0.001; 83 of 100,000)" in t
    # Ratios to the best group, with the engine's three interval forms.
    assert "8.3× (95% CI 5.1–12) vs male" in t
    assert "1.5× (95% CI from 0.8, no upper limit) vs male" in t
    assert "≤ 500× (no errors observed) vs male" in t
    # The small group is shown (never hidden) and flagged.
    assert "unknown 4" in t
    assert "⚠ not supported by the data" in t
    assert "≤ 0.0596 (no errors observed; one-sided 97.5% bound on 60 comparisons; 0 of 60)" in t
    assert "fewer than 30 FMR errors (rule of 30)" in t  # male: the engine's flag
    assert "includes 4 subjects without metadata" in t
    assert "FMR max over geomean 2.9 (95% CI 2.1–3.8)" in t
    assert "FNMR max over geomean 1.22 (95% CI from 0.9, no upper limit)" in t
    assert "FMR groups compared female, male" in t
    assert "FMR of the whole data set at this threshold 1.00×10⁻⁴ (no CI; 100 of 1,000,000)" in t
    assert "Lowest-error group (reference of the ratios) FMR: male; FNMR: male" in t
    assert "Bootstrap 1,000 replicates by subject, stratified by group" in t
    assert "Rule of 30 (Doddington et al. 2000)" in t
    assert "4 of 254 subjects in the data have no row in the metadata." in t
    # Cross-group matrix table beside the heatmap; unsupported cells marked.
    assert "Probe \\ reference female male unknown" in t
    assert (
        "female 8.30×10⁻⁴ (95% CI 5.53×10⁻⁴–0.00119; 83 of 100,000) 5.00×10⁻⁵ (95% CI "
        "3.33×10⁻⁵–7.14×10⁻⁵; 5 of 100,000) ≤ 0.00735 (no errors observed; one-sided 97.5% bound "
        "on 500 comparisons; 0 of 500) "
        "not supported"
    ) in t
    # Coverage is reported; example subject ids only with show_identities.
    assert "Subjects without metadata 4" in t
    assert "subj-0042" not in page


def test_demographics_subject_examples_only_when_identities_allowed():
    res = full_results()
    res["settings"]["show_identities"] = True
    assert "subj-0042, subj-0043" in text_of(render_html(res))


def test_identification_demographics_section(full_report):
    page = full_report[1]
    t = text_of(page)
    assert '<section id="identification_demographics">' in page
    assert "Demographic differentials in 1:N search" in t
    assert "FPIR (non-mated searches by the group)" in t
    assert "0.133 (95% CI 0.11–0.16; 200 of 1,500)" in t
    assert "2.2× (95% CI 1.6–3) vs 60+" in t
    assert "The threshold itself is not supported by the data" in t
    assert "FPIR max over min 2.2 (95% CI 1.6–3)" in t
    # the per-group FPIR holds for this gallery's make-up (docs/validation.md, 400 data sets)
    assert "its FPIR and its interval hold for a gallery of this make-up" in t
    assert 'id="fig-id_group_rates"' in page
    assert (
        "searches of people in group 18-30 who are not enrolled return a false candidate 2.2× "
        "(95% CI 1.6–3.0) as often as those of group 60+."
    ) in t


def test_header_inputs_settings_warnings(full_report):
    _, page = full_report
    t = text_of(page)
    assert "Audit of system X (synthetic)" in t
    assert "faceaudit 0.1.0 · created 2026-11-29T00:00:00+00:00" in t
    assert f"/data/scores.csv {'ab' * 32} 1,010,000" in t
    assert "Bootstrap resamples (B) 1,000" in t
    assert "Confidence level 95%" in t
    assert "Bootstrap unit subject" in t
    assert "Command: faceaudit audit photos/ --by sex --out audit/" in t
    assert "Random seed 42" in t
    assert "Bootstrap by comparison for the non-mated set: no subject ids." in t


def test_confidence_level_follows_settings():
    res = verification_only()
    res["settings"]["confidence"] = 0.9
    t = text_of(render_html(res))
    assert "90% CI 7.80×10⁻⁵–1.10×10⁻⁴" in t
    assert "95% CI" not in t.replace("95% confidence", "")


def test_distance_orientation_is_explained():
    res = verification_only()
    res["settings"]["orientation"] = "distance"
    t = text_of(render_html(res))
    assert "Scores are distances: lower means more alike" in t
    assert "Score orientation distance" in t


def test_headline_target_can_be_chosen():
    res = verification_only()
    res["verification"]["headline_fmr_target"] = 0.1
    t = text_of(render_html(res))
    assert "At threshold 0.1234 (chosen for FMR ≤ 0.1), about 1 in 10 non-mated" in t


def test_summary_when_only_bounds_or_nothing_supported():
    res = verification_only()
    ops = res["verification"]["operating_points"]
    res["verification"]["operating_points"] = [ops[2], ops[3]]  # bound at 1e-5, unsupported 1e-6
    t = text_of(render_html(res))
    assert "none of the 1,000,000 non-mated comparisons was falsely matched" in t
    assert (
        "at most about 1 in 270,000 (≤ 3.69×10⁻⁶; no errors observed; one-sided 97.5% bound on "
        "1,000,000 comparisons)"
    ) in t
    res["verification"]["operating_points"] = [ops[3]]
    t = text_of(render_html(res))
    assert "No FMR target is supported by this much data" in t
    assert "EER 0.0123 (95% CI 0.0101–0.0149)" in t


def test_results_json_roundtrip_renders_the_same():
    res = full_results()
    assert render_html(json.loads(json.dumps(res))) == render_html(res)


# ---------------------------------------------------------------------------------------------
# Missing sections and keys


SECTION_TITLES = {
    "verification": "1:1 verification errors",
    "identification": "1:N identification errors",
    "scale": "Gallery size: how false candidates grow with N",
    "acquisition": "Images: failures to acquire",
    "model": "Recognition model",
    "demographics": "Demographic differentials: who bears the errors",
    "identification_demographics": "Demographic differentials in 1:N search",
    "impact": "What a hit means in the field",
    "field_log": "What a field log shows",
    "compare": "Paired comparison of systems",
}


#: Sections of image runs under capture conditions, checked on real runs in test_capture_cli.py.
CAPTURE_TITLES = {"capture": "Capture conditions", "quality": "Image quality"}


def test_the_titles_cover_every_section():
    from faceaudit.report.sections import SECTIONS

    assert {s.key: s.title for s in SECTIONS} == SECTION_TITLES | CAPTURE_TITLES


@pytest.mark.parametrize("key", sorted(SECTION_TITLES))
def test_each_section_exactly_when_its_key_is_present(key):
    page = render_html(full_results(**{key: None}))
    assert f'<section id="{key}">' not in page
    assert SECTION_TITLES[key] not in page
    for other, title in SECTION_TITLES.items():
        if other != key:
            assert f'<section id="{other}">' in page, other
            assert title in page
    for back in ("methods", "limitations", "reproducibility"):
        assert f'<section id="{back}">' in page


def test_exact_index_note():
    res = full_results()
    res["identification"]["index"] = {"kind": "flat", "exact": True}
    assert "Search was exact (flat index)" in text_of(render_html(res))


def test_model_alone_gives_the_model_section_only():
    res = verification_only(model=full_results()["model"])
    page = render_html(res)
    assert '<section id="model">' in page and '<section id="acquisition">' not in page
    t = text_of(page)
    assert "Model dlib-resnet" in t and "Embedding size 128" in t


def test_header_only_results_render_with_an_empty_verdict():
    res = {k: v for k, v in full_results().items() if k not in ANALYSES}
    page = render_html(res)
    assert "<h1>Audit of system X (synthetic)</h1>" in page
    assert "No analysis ran" in page
    assert '<section id="reproducibility">' in page


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        (("verification", "operating_points", 1, "fnmr"), "verification.operating_points[1].fnmr"),
        (("verification", "eer", "threshold"), "$.verification.eer.threshold"),
        (("identification", "cmc", 0, "count"), "$.identification.cmc[0].count"),
        (("scale", "tail_fit", "threshold_u"), "$.scale.tail_fit.threshold_u"),
        (("demographics", "groups", 0, "fmr_supported"), "demographics.groups[0].fmr_supported"),
        (("impact", "points", 0, "ppv"), "$.impact.points[0].ppv"),
        (("field_log", "counts", "alerts"), "$.field_log.counts.alerts"),
        (("acquisition", "fta"), "$.acquisition.fta"),
        (("settings",), "$.settings"),
    ],
)
def test_a_missing_field_raises_a_report_error_naming_it(path, needle):
    res = full_results()
    node = res
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]
    with pytest.raises(ReportError, match=re.escape(needle)):
        render_html(res)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("verification", "operating_points", 0, "fmr", "ci"), [0.1]),
        (("verification", "n_nonmated"), "many"),
        (("identification", "operating_points", 0, "supported"), "yes"),
        (("demographics", "groups"), {}),
    ],
)
def test_a_mistyped_field_raises_a_report_error(path, value):
    res = full_results()
    node = res
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(ReportError):
        render_html(res)


def test_a_renamed_analysis_key_is_an_error_not_a_missing_section():
    res = full_results()
    res["verify"] = res.pop("verification")
    with pytest.raises(ReportError, match="verify"):
        render_html(res)


def test_write_report_writes_nothing_when_the_results_are_bad(tmp_path):
    res = full_results()
    del res["scale"]["points"]
    with pytest.raises(ReportError):
        write_report(res, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_demographic_sentences_are_made_from_the_figures_not_read():
    res = full_results()
    res["demographics"]["sentences"] = ["a stale sentence the report must not show"]
    assert "stale sentence" not in render_html(res)


def test_bad_figure_data_gives_a_note_not_a_crash(tmp_path):
    res = verification_only()
    res["verification"]["histogram"]["edges"] = [0.0, 1.0]  # wrong length for the counts
    with pytest.warns(UserWarning, match="could not be drawn"):
        path = write_report(res, tmp_path)
    page = path.read_text(encoding="utf-8")
    assert "could not be drawn" in text_of(page)
    assert "Operating points" in page
    assert "could not be drawn" in (tmp_path / "report.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Figure files


EXPECTED_FIGURES = {
    "id_group_rates",
    "scale_validation",
    "det",
    "score_histogram",
    "cmc",
    "fpir_fnir",
    "fpir_gallery",
    "tail_fit",
    "group_rates",
    "cross_fmr",
    "ppv",
    "compare_det",
}


def test_figure_files_exist_and_are_valid(full_report):
    from PIL import Image

    out, page = full_report
    names = {p.stem for p in (out / "figures").iterdir()}
    assert names == EXPECTED_FIGURES
    for name in EXPECTED_FIGURES:
        svg = (out / "figures" / f"{name}.svg").read_text(encoding="utf-8")
        root = ET.fromstring(svg.encode("utf-8"))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert "<metadata" not in svg  # no Dublin Core block (it carries URLs)
        png = (out / "figures" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(png)) as im:
            im.verify()
        with Image.open(io.BytesIO(png)) as im:
            assert 300 <= im.width <= 1000 and 200 <= im.height <= 800
        # Each figure is inlined in the page, once.
        assert page.count(f'id="fig-{name}"') == 1


def test_figures_are_inlined_with_unique_ids(full_report):
    _, page = full_report
    ids = re.findall(r'\sid="([^"]+)"', page)
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes
    # every local reference points at an id that exists
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', page))
    assert refs <= set(ids)


def test_verification_only_writes_two_figures(tmp_path):
    write_report(verification_only(), tmp_path)
    assert (tmp_path / "report.md").is_file()
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "det.png",
        "det.svg",
        "score_histogram.png",
        "score_histogram.svg",
    ]


def test_no_figures_folder_without_figures(tmp_path):
    write_report({k: v for k, v in full_results().items() if k not in ANALYSES}, tmp_path)
    assert (tmp_path / "report.html").is_file()
    assert not (tmp_path / "figures").exists()


def test_rate_fixture_helper_matches_contract():
    from faceaudit.stats.estimate import make_rate

    got, want = rate(0, 1000, bound=True), make_rate(0, 1000, None, n_units=1000).to_json()
    assert got["ci"] == pytest.approx(want["ci"])
    assert {**got, "ci": None} == {**want, "ci": None}


def test_unsupported_point_with_null_rate_uses_the_nonmated_count():
    # As the engine writes it: every field of the rate null.
    t = text_of(render_html(verification_only()))
    assert "needs ≥ 3/target = 3,000,000 non-mated comparisons; have 1,000,000)" in t


def test_versions_and_seeds_in_settings():
    res = verification_only(versions={"python": "3.11.7", "numpy": "2.4.0"})
    res["settings"]["data_seed"] = 20261129
    t = text_of(render_html(res))
    assert "Versions faceaudit 0.1.0 python 3.11.7 numpy 2.4.0" in t
    assert "Random seed 42" in t and "Data seed 20261129" in t
