"""The extrapolation validated: fit on 10^4 synthetic distractors, check the measurement at 10^6."""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.analyses.scale import scale
from faceaudit.data import EmbeddingSet
from faceaudit.synth import synthesize


@pytest.mark.slow
def test_extrapolated_fpir_at_a_million_lies_in_its_band_around_the_measured_value():
    # 10^6 distractors (one template per subject) and 1000 non-mated searches (other subjects)
    gal = synthesize(1_000_000, 1, dim=32, mated_mean=0.7, seed=101, subject_prefix="g")
    out = synthesize(1000, 1, dim=32, mated_mean=0.7, seed=102, subject_prefix="n")
    g = EmbeddingSet(gal.embeddings, gal.subjects, gal.samples, metadata=gal.metadata())
    p = EmbeddingSet(out.embeddings, out.subjects, out.samples, metadata=out.metadata())
    del gal
    r = scale(g, p, threshold=0.72, validation_fit_size=10_000, bootstrap=200, seed=0)
    v = r.validation
    assert v is not None and v["fit_gallery_size"] == 10_000
    assert v["tail_fit"]["n_total"] == 1000 * 10_000  # the fit saw 10^4 distractors only
    check = v["check"]
    assert check["gallery_size"] == 1_000_000
    measured = check["measured"]["value"]
    lo, hi = check["extrapolated"]["ci"]
    assert 0.3 < measured < 0.95  # a threshold where FPIR at 10^6 is far from 0 and 1
    assert lo <= measured <= hi and check["inside"] is True
    assert 0.0 < lo and hi < 1.0  # an informative band, not [0, 1]
    # and the smaller nested galleries agree too
    for pt in v["points"]:
        assert pt["inside"], pt
    # the full-data fit (all 10^6 distractors) reproduces the measured curve closely
    for n, rate in r.measured:
        ext = dict(r.extrapolated)[n]
        assert ext.value == pytest.approx(rate.value, abs=max(0.05, 3 * np.sqrt(rate.value / 1000)))
