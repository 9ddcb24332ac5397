"""A synthetic results dict with every report section, for the report tests (hand-made numbers).

Shapes follow the results.json contract; values are chosen so formatted output can be checked by
hand (e.g. FMR 3.2e-6 prints as ``3.20×10⁻⁶``, a rule-of-3 bound over 1,000,000 non-mated
comparisons prints as ``≤ 3.00×10⁻⁶``).
"""

from __future__ import annotations

import copy
import functools

import numpy as np


def rate(count: int, n: int, ci: tuple[float, float] | None = None, bound: bool = False) -> dict:
    rests_on = None
    if count == 0 and bound:
        ci = (0.0, 1 - 0.025 ** (1 / n))
        rests_on = {
            "side": "upper",
            "confidence": 0.975,
            "n_units": n,
            "unit": "comparison",
            "method": "exact binomial (Clopper-Pearson), one-sided, on independent units",
        }
    return {
        "value": count / n if n else None,
        "ci": None if ci is None else [float(ci[0]), float(ci[1])],
        "count": count,
        "n": n,
        "upper_bound": bound,
        "lower_bound": False,
        "bound": rests_on,
    }


def _det(n_points: int = 400, fmr_min: float = 1e-8) -> dict:
    t = np.linspace(0.0, 1.0, n_points)
    fmr = np.logspace(0, np.log10(fmr_min), n_points)
    fnmr = np.clip(0.01 * fmr**-0.25, 0, 1)
    fnmr[0] = 0.0  # lowest threshold: no misses (cannot be drawn on a log axis)
    return {"threshold": t.tolist(), "fmr": fmr.tolist(), "fnmr": fnmr.tolist()}


def _histogram() -> dict:
    edges = np.linspace(-1.0, 1.0, 101)
    centers = (edges[:-1] + edges[1:]) / 2
    gen = np.round(1e5 * np.exp(-0.5 * ((centers - 0.6) / 0.1) ** 2)).astype(int)
    imp = np.round(1e7 * np.exp(-0.5 * ((centers - 0.0) / 0.12) ** 2)).astype(int)
    return {"edges": edges.tolist(), "mated": gen.tolist(), "nonmated": imp.tolist()}


EMPTY = {
    "value": None,
    "ci": None,
    "count": None,
    "n": None,
    "upper_bound": False,
    "lower_bound": False,
    "bound": None,
}


def verification() -> dict:
    n_imp, n_gen = 1_000_000, 10_000
    return {
        "n_mated": n_gen,
        "n_nonmated": n_imp,
        "mated_fta": 12,
        "nonmated_fta": 340,
        "threshold_units": "similarity",
        "eer": {
            "value": 0.0123,
            "ci": [0.0101, 0.0149],
            "threshold": 0.41235,
            "fmr": 0.0122,
            "fnmr": 0.0124,
        },
        "auc": 0.998765,
        "auc_max_error": 0.0,
        "operating_points": [
            {
                "fmr_target": 1e-1,
                "threshold": 0.1234,
                "fmr": rate(99_000, n_imp, (0.097, 0.101)),
                "fnmr": rate(20, n_gen, (0.0013, 0.0029)),
                "supported": True,
                "generalized_fmr": rate(99_100, n_imp, (0.0972, 0.1012)),
                "generalized_fnmr": rate(32, n_gen, (0.0024, 0.0041)),
            },
            {
                "fmr_target": 1e-4,
                "threshold": 0.5,
                "fmr": rate(95, n_imp, (7.8e-5, 1.1e-4)),
                "fnmr": rate(231, n_gen, (0.0201, 0.0262)),
                "supported": True,
            },
            {
                "fmr_target": 1e-5,
                "threshold": 0.61,
                "fmr": rate(0, n_imp, bound=True),
                "fnmr": rate(1200, n_gen, (0.11, 0.13)),
                "supported": True,
            },
            {
                "fmr_target": 1e-6,
                "threshold": None,
                "fmr": dict(EMPTY),
                "fnmr": dict(EMPTY),
                "supported": False,
            },
        ],
        "headline_fmr_target": None,
        "det": _det(),
        "histogram": _histogram(),
    }


def _id_point(target, threshold, fpir, fnir, wrong, fnir1, supported=True) -> dict:
    return {
        "fpir_target": target,
        "threshold": threshold,
        "fpir": fpir,
        "fnir": fnir,
        "wrong_top1": wrong,
        "supported": supported,
        "rank": 20,
        "fnir_rank1": fnir1,
    }


def identification() -> dict:
    n_mated, n_non = 4000, 3000
    return {
        "gallery_size": 100_000,
        "n_mated": n_mated,
        "n_nonmated": n_non,
        "operating_points": [
            _id_point(0.1, 0.55, rate(290, n_non, (0.086, 0.108)),
                      rate(80, n_mated, (0.015, 0.025)), rate(12, n_mated, (0.0015, 0.0048)),
                      rate(90, n_mated, (0.018, 0.027))),
            _id_point(0.001, 0.7, rate(0, n_non, bound=True), rate(400, n_mated, (0.09, 0.11)),
                      rate(0, n_mated, bound=True), rate(410, n_mated, (0.092, 0.112))),
            _id_point(0.0003, None, dict(EMPTY), dict(EMPTY), dict(EMPTY), dict(EMPTY), False),
        ],
        # As the engine writes it: the rate flat, with its ci/count/n beside it.
        "cmc": [
            {
                "rank": r,
                "rate": round(0.9 + 0.09 * (1 - 1 / r), 4),
                "ci": [0.88, 0.995],
                "count": round(4000 * (0.9 + 0.09 * (1 - 1 / r))),
                "n": 4000,
            }
            for r in range(1, 21)
        ],
        "list_length": 20,
        "rank_criterion": 20,
        "threshold_source": "chosen on these data (FPIR <= target, lowest FNIR)",
        "investigation": {
            "threshold": None,
            "fpir_any_candidate": rate(3000, 3000, (1.0, 1.0)),
            "fnir": [{"rank": 1, "fnir": rate(400, 4000, (0.09, 0.11))}],
        },
        "curve": {
            "rank": 20,
            "threshold": np.linspace(0.3, 0.9, 50).tolist(),
            "fpir": np.logspace(0, -4, 50).tolist(),
            "fnir": np.logspace(-3, 0, 50).tolist(),
            "wrong_top1": np.logspace(-4, -2, 50).tolist(),
        },
        "index": {"kind": "hnsw", "exact": False, "recall": 0.987},
        "bootstrap": {"replicates": 1000, "confidence": 0.95, "unit": "subject", "n_units": 7000,
                      "seed": 0, "thresholds_fixed": True},
        "synthetic": False,
        "source": "embeddings",
        "approximate_search": {"index": "hnsw", "params": {"m": 32}, "list_length": 20,
                               "n_probes_checked": 500, "recall_at_l": 0.987,
                               "rank1_agreement": 0.995},
        "warnings": ["Approximate search: see recall."],
    }  # fmt: skip


def _tail_fit_core() -> dict:
    return {"threshold": 0.6, "shape": -0.12, "scale": 0.034, "n_exceedances": 1234.0,
            "n_total": 8_000_000.0, "exceedance_rate": 1.5425e-4, "endpoint": 0.8833}  # fmt: skip


def scale() -> dict:
    """Shaped like ``faceaudit.analyses.scale.ScaleResult.to_json()``."""
    pts = []
    for n in (100, 1000, 10_000):
        v = 1 - (1 - 2e-6) ** n
        c = round(v * 800)
        pts.append({"gallery_size": n, "fpir": rate(c, 800, (v * 0.7, v * 1.4)) | {"value": v},
                    "measured": True})  # fmt: skip
    # A dense extrapolation grid (1-2-5 steps), as the engine writes it.
    for n in (100, 200, 500, 1000, 2000, 5000, 10_000, 1_000_000, 270_000_000):
        v = 1 - (1 - 2e-6) ** n
        pts.append({"gallery_size": n, "fpir": {"value": v, "ci": [v * 0.5, min(1.0, v * 2)]},
                    "measured": False, "beyond_data": n > 1_000_000})  # fmt: skip
    pts.sort(key=lambda p: (p["gallery_size"], not p["measured"]))
    x = np.linspace(0.6, 0.9, 30)
    emp = np.exp(-30 * (x - 0.6)) * 1e-3
    curve = {"score": x.tolist(), "empirical": emp.tolist(), "fitted": (emp * 1.05).tolist()}
    check = {
        "gallery_size": 10_000,
        "measured": rate(16, 800, (0.011, 0.03)),
        "extrapolated": {"value": 0.018, "ci": [0.012, 0.027]},
        "growth": 10.0,
        "ratio": 0.9,
        "inside": True,
    }
    choice = {"rule": "parameter stability (Coles 2001, 4.3.4)", "n_exceedances": 1234,
              "candidates": [300, 617, 1234, 2468], "band_n_exceedances": [617, 1234]}  # fmt: skip
    stratum = {**_tail_fit_core(), "n_searches": 800, "propensity": [0.31, 0.42],
               "overdispersion": 0.12, "threshold_u": 0.45, "choice": choice}  # fmt: skip
    beyond = {"fmr": 3.7e-11, "smallest_fmr_shown": 1.25e-7, "times_below": 3378.0,
              "factor": 1.0, "flagged": True}  # fmt: skip
    return {
        "threshold": 0.6,
        "points": pts,
        "target_gallery_size": 270_000_000,
        "gallery_size": 10_000,
        "n_nonmated": 800,
        "n_mated": 1600,
        "model": "per search: FPIR(N) = mean over searches of 1 - (1 - p_i(T))^N",
        "fmr_at_threshold": {"value": 2e-6, "ci": [1.5e-6, 2.6e-6], "source": "gpd"},
        "tail_fit": {
            **_tail_fit_core(),
            "threshold_u": 0.6,
            "band": {"shape": [-0.15, -0.09], "scale": [0.031, 0.037]},
            "diagnostic": curve,
            "units": "w = -ln(1 - score)",
            "choice": choice,
            "strata": [stratum],
        },
        "beyond_data": beyond,
        "threshold_needed": [
            {
                "fpir_target": 0.01,
                "gallery_size": 270_000_000,
                "value": 0.8123,
                "ci": [0.79, 0.83],
                "fmr": 3.7e-11,
                "beyond_data": True,
            }  # fmt: skip
        ],
        "rank1_accuracy": {
            "measured": [{"gallery_size": 1000, "rate": rate(1590, 1600, (0.99, 0.998))}],
            "expected": [
                {
                    "gallery_size": 270_000_000,
                    "rank1_accuracy": {"value": 0.862, "ci": [0.655, 0.922]},
                    "rank1_above_threshold": {"value": 0.85, "ci": [0.64, 0.91]},
                }
            ],
        },
        "diagnostic": {
            "qq": {"fitted": [0.1, 0.2], "empirical": [0.11, 0.19]},
            "mean_excess": {
                "threshold": [0.6, 0.7],
                "mean_excess": [0.03, 0.02],
                "n_above": [1234.0, 300.0],
            },
            "stability": [
                {
                    "n_exceedances": 617,
                    "tail_threshold": 0.62,
                    "shape": -0.1,
                    "shape_se": 0.04,
                    "scale": 0.03,
                    "stable": True,
                    "chosen": False,
                    "in_band": True,
                    "fmr_at_threshold": 2.1e-6,
                    "fpir_at_target_size": 1.0,
                }
            ],
            "tail_curve": curve,
        },  # fmt: skip
        "validation": {
            "fit_gallery_size": 1000,
            "tail_fit": _tail_fit_core(),
            "choice": choice,
            "beyond_data": {**beyond, "flagged": False, "times_below": 0.5},
            "strata": [stratum],
            "points": [check],
            "check": check,
        },
        "bootstrap": {
            "replicates": 200,
            "confidence": 0.95,
            "unit": "probe subject x gallery subject (two-way)",
            "n_probe_units": 800,
            "n_gallery_units": 10_000,
            "seed": 0,
        },  # fmt: skip
        "synthetic": False,
        "warnings": ["Extrapolation assumes independent comparisons."],
    }


def acquisition() -> dict:
    return {
        "n_images": 400,
        "n_failed": 3,
        "fta": rate(3, 400, (0.0, 0.018)),
        "by_reason": {"no_face": 2, "decode_error": 1},
        "failures": [
            {"image": "s01/1.pgm", "subject": "s01", "reason": "no_face", "detail": ""},
            {"image": "s02/7.pgm", "subject": "s02", "reason": "no_face", "detail": ""},
            {"image": "s09/3.pgm", "subject": "s09", "reason": "decode_error",
             "detail": "truncated file"},
        ],
    }  # fmt: skip


def _group(name, n, fp, fn, *, fp_ok=True, fn_ok=True, ratios=None, flags=(), keys=("fmr", "fnmr")):
    a, b = keys
    out = {
        "group": name,
        "n_subjects": n,
        a: fp,
        b: fn,
        "supported": fp_ok and fn_ok,
        f"{a}_supported": fp_ok,
        f"{b}_supported": fn_ok,
        f"{a}_few_errors": 0 < fp["count"] < 30,
        f"{b}_few_errors": 0 < fn["count"] < 30,
    }
    out.update(ratios or {})
    out["flags"] = list(flags)
    return out


def _summary(a: str, b: str, **values) -> dict:
    none = {"value": None, "ci": None}
    out = {f"{a}_max_over_geomean": none, f"{a}_max_over_min": none, f"{a}_groups_compared": [],
           f"{b}_max_over_geomean": none, f"{b}_max_over_min": none, f"{b}_groups_compared": [],
           "garbe": none, "garbe_alpha": 0.5, "garbe_groups_compared": []}  # fmt: skip
    out.update(values)
    return out


def _coverage(**kw) -> dict:
    out = {
        "subjects_in_data": 254,
        "subjects_in_metadata": 250,
        "subjects_without_metadata": 4,
        "subjects_without_metadata_examples": ["subj-0042", "subj-0043"],
        "metadata_subjects_not_in_data": 0,
        "metadata_subjects_not_in_data_examples": [],
        "unknown_values": {"sex": 4},
    }
    out.update(kw)
    return out


RULES = ["Rule of 3 (ISO/IEC 19795-1): ...", "Rule of 30 (Doddington et al. 2000): ..."]


def demographics() -> dict:
    """Shaped like ``faceaudit.analyses.demographics.DemographicsResult.to_json()`` (1:1)."""
    male = {"value": 1.0, "ci": [1.0, 1.0], "reference_group": "male", "upper_bound": False}
    groups = [
        _group("female", 120, rate(83, 100_000, (6.5e-4, 1.0e-3)), rate(45, 3000, (0.011, 0.02)),
               ratios={"fmr_ratio": {"value": 8.3, "ci": [5.1, 12.0], "reference_group": "male",
                                     "upper_bound": False},
                       "fnmr_ratio": {"value": 1.5, "ci": None, "reference_group": "male",
                                      "upper_bound": False, "ci_unbounded": True,
                                      "ci_low": 0.8}}),
        _group("male", 130, rate(10, 100_000, (5e-5, 1.6e-4)), rate(30, 3000, (0.007, 0.014)),
               ratios={"fmr_ratio": male, "fnmr_ratio": male},
               flags=["lowest FMR: reference of the FMR ratios"]),
        _group("unknown", 4, rate(0, 60, bound=True), rate(1, 20, (0.0, 0.15)), fp_ok=False,
               fn_ok=False, flags=["includes 4 subjects without metadata"],
               ratios={"fmr_ratio": {"value": 0.0, "ci": [0.0, 500.0], "reference_group": "male",
                                     "upper_bound": True}}),
    ]  # fmt: skip
    cross = []
    vals = {("female", "female"): 83, ("female", "male"): 5, ("male", "female"): 4,
            ("male", "male"): 10}  # fmt: skip
    for (p, r), c in vals.items():
        cross.append(
            {
                "probe_group": p,
                "reference_group": r,
                "fmr": rate(c, 100_000, (c / 1.5e5, c / 0.7e5)),
                "supported": True,
            }
        )
    cross.append({"probe_group": "female", "reference_group": "unknown",
                  "fmr": rate(0, 500, bound=True), "supported": False})  # fmt: skip
    return {
        "mode": "verification",
        "attribute": "sex",
        "attributes": ["sex"],
        "threshold": 0.5,
        "threshold_source": "whole data set, FMR 1e-4",
        "threshold_rule": {"kind": "all", "target": 1e-4, "group": None, "value": None},
        "min_subjects": 30,
        "threshold_supported": True,
        "overall_fmr": rate(100, 1_000_000),
        "overall_fnmr": rate(76, 6020),
        "groups": groups,
        "cross_fmr": cross,
        "best_group": {"fmr": "male", "fnmr": "male"},
        "summary": _summary(
            "fmr", "fnmr",
            fmr_max_over_geomean={"value": 2.9, "ci": [2.1, 3.8]},
            fnmr_max_over_geomean={"value": 1.22, "ci": None, "ci_unbounded": True,
                                   "ci_low": 0.9},
            fmr_max_over_min={"value": 8.3, "ci": [5.1, 12.0]},
            fmr_groups_compared=["female", "male"],
        ),
        "rules": RULES,
        "coverage": _coverage(),
        "metadata": {"path": "/data/subjects.csv", "sha256": "ef" * 32, "records": 250},
        "bootstrap": {"replicates": 1000, "confidence": 0.95, "unit": "subject",
                      "stratified_by_group": True, "n_units": 254, "seed": 0,
                      "threshold_fixed": True},
        "warnings": ["4 of 254 subjects in the data have no row in the metadata."],
    }  # fmt: skip


def identification_demographics() -> dict:
    """The 1:N form (``mode: identification``, rates ``fpir``/``fnir``)."""
    k = ("fpir", "fnir")
    ref = {"value": 1.0, "ci": [1.0, 1.0], "reference_group": "60+", "upper_bound": False}
    return {
        "mode": "identification",
        "attribute": "age band",
        "attributes": ["age band"],
        "threshold": 0.55,
        "threshold_source": "whole data set, FPIR target 0.1",
        "threshold_rule": {"kind": "all", "target": 0.1, "group": None, "value": None},
        "min_subjects": 30,
        "threshold_supported": False,
        "overall_fpir": rate(290, 3000),
        "overall_fnir": rate(80, 4000),
        "groups": [
            _group("18-30", 50, rate(200, 1500, (0.11, 0.16)), rate(40, 2000, (0.014, 0.027)),
                   keys=k, ratios={"fpir_ratio": {"value": 2.2, "ci": [1.6, 3.0],
                                                  "reference_group": "60+",
                                                  "upper_bound": False},
                                   "fnir_ratio": {"value": 1.0, "ci": [0.6, 1.6],
                                                  "reference_group": "60+",
                                                  "upper_bound": False}}),
            _group("60+", 40, rate(90, 1500, (0.048, 0.073)), rate(40, 2000, (0.014, 0.027)),
                   keys=k, ratios={"fpir_ratio": ref, "fnir_ratio": ref}),
        ],
        "cross_fmr": [],
        "best_group": {"fpir": "60+", "fnir": "60+"},
        "summary": _summary("fpir", "fnir", fpir_max_over_min={"value": 2.2, "ci": [1.6, 3.0]}),
        "rules": RULES,
        "coverage": _coverage(subjects_without_metadata=0,
                              subjects_without_metadata_examples=[], unknown_values={}),
        "metadata": None,
        "bootstrap": {"replicates": 1000, "confidence": 0.95, "unit": "subject",
                      "stratified_by_group": True, "n_units": 90, "seed": 0,
                      "threshold_fixed": True},
        "warnings": [],
    }  # fmt: skip


@functools.cache
def _compare_json() -> dict:
    from compare_systems_data import paired
    from faceaudit.analyses.system_comparison import compare_systems

    data = paired(
        n_subjects=20, shifts=(0.0, 0.4, 0.8), seed=3, names=("Vendor <A>", "B & co", "C")
    )
    r = compare_systems(data, fmr_targets=[1e-1, 1e-2], thresholds=[2.0], bootstrap=100)
    return r.to_json()


def compare() -> dict:
    """A ``compare`` section: three correlated systems, paired differences (computed)."""
    return copy.deepcopy(_compare_json())


def full_results(**overrides) -> dict:
    """Every section present; ``overrides`` replace top-level keys (None deletes one)."""
    res = {
        "faceaudit_version": "0.1.0",
        "created": "2026-11-29T00:00:00+00:00",
        "title": "Audit of system X (synthetic)",
        "synthetic": True,
        "inputs": [
            {"path": "/data/scores.csv", "sha256": "ab" * 32, "records": 1_010_000},
        ],
        "settings": {
            "orientation": "similarity",
            "bootstrap": 1000,
            "confidence": 0.95,
            "bootstrap_unit": "subject",
            "seed": 42,
            "command_line": ["faceaudit", "audit", "photos/", "--by", "sex", "--out", "audit/"],
        },
        "versions": {"python": "3.11.7", "numpy": "2.4.0"},
        "warnings": ["Bootstrap by comparison for the non-mated set: no subject ids."],
        "verification": verification(),
        "identification": identification(),
        "scale": scale(),
        "acquisition": acquisition(),
        "model": {
            "id": "dlib-resnet",
            "version": "19.24",
            "weights_sha256": "cd" * 32,
            "dim": 128,
            "config": {"detector": "hog", "upsample": 1},
            "files": {},
        },
        "demographics": demographics(),
        "identification_demographics": identification_demographics(),
        "impact": impact_json(),
        "field_log": field_log_result().to_json(),
        "compare": compare(),
    }
    for k, v in overrides.items():
        if v is None:
            res.pop(k, None)
        else:
            res[k] = v
    return copy.deepcopy(res)


ANALYSES = ("verification", "identification", "scale", "acquisition", "model", "demographics",
            "identification_demographics", "impact", "field_log", "compare")  # fmt: skip


def verification_only(**overrides) -> dict:
    res = full_results(**{k: None for k in ANALYSES if k != "verification"})
    res.update(overrides)
    return res


def test_fixture_is_plain_json():
    import json

    res = full_results()
    assert json.loads(json.dumps(res, allow_nan=False)) == res


def test_fixture_follows_the_schema():
    from test_results_schema import problems

    assert problems(full_results()) == []
    assert problems(verification_only()) == []


def test_fixture_overrides_delete_and_replace():
    res = full_results(scale=None, title="t")
    assert "scale" not in res and res["title"] == "t"
    assert set(verification_only()) >= {"verification", "inputs", "settings"}
    assert "demographics" not in verification_only()


# ---------------------------------------------------------------------------------------------
# Impact and field logs: made by the analysis itself (faceaudit.analyses.impact), not by hand


def impact_rates(fpir=0.01, fnir=0.1, wrong=0.01, *, n_mated=4000, n_nonmated=3000, seed=0, b=200):
    """1:N rates with joint bootstrap replicates (binomial draws on n searches)."""
    from faceaudit.analyses.impact import ImpactRates

    rng = np.random.default_rng(seed)
    f = rng.binomial(n_nonmated, fpir, b) / n_nonmated
    miss = rng.binomial(n_mated, fnir, b)
    w = np.minimum(miss, rng.binomial(n_mated, wrong, b)) / n_mated
    return ImpactRates(
        fpir, fnir, wrong, f, miss / n_mated, w, n_mated=n_mated, n_nonmated=n_nonmated
    )


def impact_result(*, groups: bool = True, **kw):
    """An ImpactResult as an identify/scale/audit run would carry it (band, groups, user point)."""
    from faceaudit.analyses.impact import GroupAssumption, operational_impact

    g = None
    if groups:
        g = {
            "A": GroupAssumption(
                impact_rates(0.008, 0.09, 0.008, seed=1), 0.01, "stated: 1 in 100"
            ),
            "B": GroupAssumption(impact_rates(0.03, 0.12, 0.02, seed=2), 0.002, None),
        }
    args = dict(
        gallery_size=100_000,
        encounters_per_day=1000,
        threshold=0.55,
        prevalence_points=[0.05],
        groups=g,
        fpir_basis="measured",
    )
    args.update(kw)
    return operational_impact(impact_rates(), **args)


_IMPACT: dict = {}


def impact_json() -> dict:
    """``impact_result().to_json()``, computed once per session (it is deterministic)."""
    if not _IMPACT:
        _IMPACT.update(impact_result().to_json())
    return copy.deepcopy(_IMPACT)


def field_log_result():
    """The Met's 2024-25 live facial recognition counts (docs/impact.md, section 7)."""
    from faceaudit.analyses.impact import field_log_figures

    return field_log_figures(
        2077,
        10,
        scanned=3_147_436,
        watchlist=10_000,
        unverified=0,
        gallery_sizes=[270_000_000],
        source="Metropolitan Police LFR, Sep 2024 - Sep 2025",
    )
