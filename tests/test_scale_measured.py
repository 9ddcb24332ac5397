"""Gallery scaling: the streaming pass against brute force; the result's invariants; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faceaudit.analyses.scale import collect, extrapolation_sizes, nested_sizes, scale
from faceaudit.data import EmbeddingSet
from faceaudit.synth import synthesize


def test_sizes():
    assert nested_sizes(5000) == [100, 300, 1000, 3000, 5000]
    assert nested_sizes(50) == [50]
    assert nested_sizes(1000) == [100, 300, 1000]
    s = extrapolation_sizes(5000, 10**6)
    assert s[0] == 100 and s[-1] == 10**6 and 5000 in s and 200_000 in s


def test_collect_matches_brute_force():
    rng = np.random.default_rng(0)

    def unit(n, d=8):
        x = rng.standard_normal((n, d)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    g, nm, m = unit(500), unit(37), unit(11)
    tsub = np.arange(500)
    msub = rng.integers(0, 500, size=11)
    bounds = np.array([100, 300, 500])
    data = collect(
        g,
        bounds,
        tsub,
        nm,
        m,
        msub,
        threshold=0.5,
        pool_size=300,
        val_templates=100,
        val_pool_size=50,
        block_elements=1000,
    )
    s = nm.astype(np.float64) @ g.T.astype(np.float64)
    for j, b in enumerate(bounds):
        np.testing.assert_allclose(data.nonmated_prefix_max[:, j], s[:, :b].max(1), atol=1e-6)
    assert data.count_ge_threshold_by_probe.tolist() == (s >= 0.5).sum(1).tolist()
    # the pools keep the largest scores, with the search and template of each
    top = np.sort(s.ravel())[::-1]
    np.testing.assert_allclose(data.pool_vals[:300], top[:300], atol=1e-6)
    np.testing.assert_allclose(
        data.val_vals[:50], np.sort(s[:, :100].ravel())[::-1][:50], atol=1e-6
    )
    i, t = data.pool_probe[:20], data.pool_tmpl[:20]
    np.testing.assert_allclose(s[i, t], data.pool_vals[:20], atol=1e-6)
    # tail propensity: each search's 5th largest score of 500 (its 99th percentile), and over
    # the validation part (100 templates) its largest
    np.testing.assert_allclose(data.nonmated_propensity, np.sort(s, 1)[:, -5], atol=1e-6)
    np.testing.assert_allclose(data.val_propensity, s[:, :100].max(1), atol=1e-6)
    sm = m.astype(np.float64) @ g.T.astype(np.float64)
    np.testing.assert_allclose(data.mated_mate_score, sm[np.arange(11), msub], atol=1e-6)
    sm[np.arange(11), msub] = -np.inf
    np.testing.assert_allclose(data.mated_prefix_max[:, 1], sm[:, :300].max(1), atol=1e-6)


@pytest.fixture(scope="module")
def small_scale():
    gal = synthesize(6000, 2, dim=24, mated_mean=0.6, seed=1)
    out = synthesize(300, 1, dim=24, mated_mean=0.6, seed=2, subject_prefix="n")
    es = EmbeddingSet.from_arrays(
        gal.embeddings, gal.subjects, samples=gal.samples, metadata=gal.metadata()
    )
    first = es.subset(np.arange(es.n) % 2 == 0)
    mated = es.subset(np.nonzero(np.arange(es.n) % 2 == 1)[0][:500])
    probes = EmbeddingSet(
        np.concatenate([mated.embeddings, out.embeddings]),
        np.concatenate([mated.subjects, out.subjects]),
        np.concatenate([mated.samples, out.samples]),
        metadata={"synthetic": True},
    )
    return (
        first,
        probes,
        scale(first, probes, threshold=0.7, target_gallery_size=10**7, bootstrap=100, seed=5),
    )


def test_measured_fpir_equals_brute_force_on_the_whole_gallery(small_scale):
    gal, probes, r = small_scale
    nm = ~np.isin(probes.subjects, gal.subjects)
    s = probes.embeddings[nm].astype(np.float64) @ gal.embeddings.T.astype(np.float64)
    n, rate = r.measured[-1]
    assert n == 6000 and rate.n == nm.sum() == 300
    assert rate.count == np.sum(s.max(1) >= 0.7)
    sm = probes.embeddings[~nm].astype(np.float64) @ gal.embeddings.T.astype(np.float64)
    col = np.searchsorted(gal.subjects, probes.subjects[~nm])
    mate = sm[np.arange(sm.shape[0]), col]
    sm[np.arange(sm.shape[0]), col] = -np.inf
    assert r.rank1_measured[-1][1].count == np.sum(mate > sm.max(1))


def test_result_invariants_and_json(small_scale):
    _, _, r = small_scale
    counts = [rate.count for _, rate in r.measured]
    assert counts == sorted(counts)  # nested galleries: FPIR never falls as N grows
    ext = [b.value for _, b in r.extrapolated]
    assert ext == sorted(ext) and r.extrapolated[-1][0] == 10**7
    for _, b in r.extrapolated:
        assert b.ci[0] <= b.value <= b.ci[1] + 1e-12
    thr = [b.value for _, b in r.thresholds_for_targets]  # targets 0.1 ... 0.001
    assert thr == sorted(thr)
    # every search's standardised T lies in the fitted tail (u is in standardised units)
    assert r.fmr_source == "gpd"
    j = r.to_json()
    json.dumps(j, allow_nan=False)
    assert j["threshold"] == 0.7
    kinds = {p["measured"] for p in j["points"]}
    assert kinds == {True, False}
    for p in j["points"]:
        keys = {"gallery_size", "fpir", "measured"} | (set() if p["measured"] else {"beyond_data"})
        assert set(p) == keys and "ci" in p["fpir"]
    d = j["tail_fit"]["diagnostic"]
    assert len(d["score"]) == len(d["empirical"]) == len(d["fitted"]) == len(d["lo"])
    assert None not in d["fitted"] and None not in d["lo"]
    # a gallery of 6,000: the self-validation fits on its first tenth and predicts the whole
    v = j["validation"]
    assert v["fit_gallery_size"] == 600 and v["check"]["gallery_size"] == 6000
    assert v["tail_fit"]["n_total"] == 300 * 600
    assert not any("No validation" in w for w in j["warnings"])
    choice = j["tail_fit"]["choice"]
    assert choice["n_exceedances"] in choice["candidates"]
    assert set(choice["band_n_exceedances"]) <= set(choice["candidates"])
    chosen = [s for s in j["diagnostic"]["stability"] if s["chosen"]]
    assert len(chosen) == 1 and chosen[0]["n_exceedances"] == j["tail_fit"]["n_exceedances"]
    assert j["synthetic"] is True


def test_cli_scale(tmp_path, capsys):
    from faceaudit import cli
    from faceaudit.synth import split_gallery_probes

    d = synthesize(300, 2, dim=16, seed=3)
    g, p = split_gallery_probes(d, held_out_subjects=150, seed=1)
    g.save(tmp_path / "g.npz")
    p.save(tmp_path / "p.npz")
    cli.main(
        [
            "scale",
            "--gallery",
            str(tmp_path / "g.npz"),
            "--probes",
            str(tmp_path / "p.npz"),
            "--threshold",
            "0.6",
            "--gallery-size",
            "1e6",
            "--out",
            str(tmp_path / "o"),
            "--bootstrap",
            "100",
            "-q",
        ]
    )
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["scale"]["target_gallery_size"] == 10**6 and res["synthetic"] is True
    assert (tmp_path / "o" / "report.html").is_file()
    # every probe enrolled: no non-mated search -> a clear error, exit 2
    with pytest.raises(SystemExit) as info:
        cli.main(
            [
                "scale",
                "--gallery",
                str(tmp_path / "g.npz"),
                "--probes",
                str(tmp_path / "g.npz"),
                "--threshold",
                "0.6",
                "--json",
                "-",
                "-q",
            ]
        )
    assert info.value.code == 2
    assert "no probe is a non-mated search" in capsys.readouterr().err


def test_a_tail_count_beyond_half_the_comparisons_is_refused_not_clamped(tmp_path, capsys):
    """It used to be clamped silently (FMR(T) then moved 5x); now exit 2 naming the limit."""
    from faceaudit import cli
    from faceaudit.synth import split_gallery_probes

    d = synthesize(300, 2, dim=16, seed=3)
    g, p = split_gallery_probes(d, held_out_subjects=150, seed=1)
    g.save(tmp_path / "g.npz")
    p.save(tmp_path / "p.npz")
    with pytest.raises(SystemExit) as exc:
        cli.main(["scale", "--gallery", str(tmp_path / "g.npz"), "--probes",
                  str(tmp_path / "p.npz"), "--threshold", "0.6", "--tail-count", "10000000",
                  "--bootstrap", "0", "--json", "-"])  # fmt: skip
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--tail-count 10000000" in err and "give at most" in err


def test_the_impact_replicates_of_fpir_agree_with_its_band(small_scale):
    # the joint replicates carried to the impact analysis: FPIR's moved as its band is
    # (recentred within the data: median at the estimate), the plain replicates beyond it
    gal, probes, _ = small_scale
    for t, flagged in ((0.75, False), (0.8, True)):
        r = scale(gal, probes, threshold=t, target_gallery_size=60_000, bootstrap=100, seed=5)
        assert r.beyond_data["flagged"] is flagged
        band = dict(r.extrapolated)[60_000]
        assert 0.01 < band.value < 0.9 and r.impact_rates.fpir == band.value
        reps = r.impact_rates.fpir_replicates
        assert reps.size >= 50 and np.isfinite(reps).all()
        lo, hi = np.quantile(reps, [0.025, 0.975])
        if flagged:
            assert (lo, hi) == pytest.approx(band.ci, rel=1e-9)
            assert float(np.median(reps)) != pytest.approx(band.value, rel=1e-3)
        else:
            assert float(np.median(reps)) == pytest.approx(band.value, rel=1e-9)
            assert (lo, hi) == pytest.approx(band.ci, rel=0.02)  # up to interpolation
