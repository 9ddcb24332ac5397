"""The built-in, clearly SYNTHETIC audit behind ``faceaudit demo``: the whole pipeline end to end.

Data: :func:`faceaudit.synth.synthesize` draws ``DEMO_SUBJECTS`` identities with
``DEMO_SAMPLES`` 128-D embeddings each (mated cosine mean 0.5, per-sample quality log-spread 0.4:
photos of uneven quality, as in the field), in two demographic groups of equal size: ``A``
(cohesion 0, identities spread like everyone else's) and ``B`` (cohesion 0.06: its identities
cluster slightly, so non-mated comparisons within B score higher, as some demographic groups do
in NIST IR 8280). This gives an EER near 1.5% and an FNMR near 5% at FMR 1e-3. Seeded: the same
seed, the same report.

Audit, as a user would run it on real embeddings:

1. 1:1 — all-vs-all comparisons of the samples: FMR/FNMR, DET, EER, FNMR at FMR targets, subject
   bootstrap intervals (:func:`faceaudit.analyses.verification.verify`);
2. demographics — per-group FMR/FNMR and the cross-group matrix at the FMR 1e-3 threshold;
3. 1:N — 30% of subjects held out (non-mated searches), the rest enrol their first sample;
   FPIR/FNIR/CMC (:func:`faceaudit.analyses.identification.identify_embeddings`);
4. gallery scale — FPIR at the 1:N threshold for FPIR 1% on nested galleries, extrapolated to
   2.7 x 10^8 enrolled people with a fitted tail (:func:`faceaudit.analyses.scale.scale`).
"""

from __future__ import annotations

from faceaudit import params
from faceaudit.audits.run import SILENT, Progress, Run

DEMO_SUBJECTS = 1500
DEMO_SAMPLES = 4
DEMO_GROUPS = ("A:1:0.0", "B:1:0.06")
DEMO_SEED = 20261129


def audit_demo(*, seed: int = DEMO_SEED, bootstrap: int = 1000, progress: Progress = SILENT) -> Run:
    """Run the synthetic end-to-end audit (see the module docstring); the same seed, the same run.

    >>> run = audit_demo(bootstrap=0)                                     # doctest: +SKIP
    >>> sorted(run.analyses)                                              # doctest: +SKIP
    ['demographics', 'identification', 'scale', 'verification']
    """
    from faceaudit.analyses.demographics import verification_differentials
    from faceaudit.analyses.identification import identify_embeddings
    from faceaudit.analyses.scale import scale
    from faceaudit.analyses.verification import verify
    from faceaudit.audits.identification import with_impact
    from faceaudit.compare.allpairs import all_pairs_scores
    from faceaudit.compare.search import split_enrolment
    from faceaudit.data import EmbeddingSet, SubjectMetadata
    from faceaudit.stats.identification import search_outcomes
    from faceaudit.synth import GroupSpec, synthesize

    seed = params.seed_value("seed", seed)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    step = progress.stage
    with step(f"synthesising {DEMO_SUBJECTS} x {DEMO_SAMPLES} embeddings"):
        data = synthesize(
            DEMO_SUBJECTS,
            DEMO_SAMPLES,
            dim=128,
            mated_mean=0.5,
            quality_spread=0.4,
            groups=[GroupSpec.parse(g) for g in DEMO_GROUPS],
            seed=seed,
        )
        eset = EmbeddingSet.from_arrays(
            data.embeddings, data.subjects, samples=data.samples, groups=data.groups
        )
    with step("1:1 all-vs-all comparisons"):
        comparisons = all_pairs_scores(data.embeddings, data.subjects)
    with step(f"1:1 audit ({bootstrap} subject-bootstrap replicates)"):
        verification = verify(comparisons, bootstrap=bootstrap, seed=0)
    with step("demographic differentials by group"):
        groups_of = dict(zip(data.subjects.tolist(), data.groups.tolist(), strict=True))
        meta = SubjectMetadata.from_mapping({"group": groups_of})
        demographics = verification_differentials(
            comparisons,
            meta.groups(["group"], comparisons.subjects),
            bootstrap=bootstrap,
            seed=0,
            verification=verification,
        )
    gallery, probes = split_enrolment(eset, held_out=0.3, seed=0)
    with step("1:N searches"):
        identification, found = identify_embeddings(
            gallery, probes, bootstrap=bootstrap, seed=0, synthetic=True
        )
    supported = [op for op in identification.operating_points if op.supported]
    threshold = float(supported[-1].threshold) if supported else 0.5
    with step("gallery-size scaling to 2.7 x 10^8"):
        scaled = scale(gallery, probes, threshold=threshold, bootstrap=200, seed=0, synthetic=True)
    run = _demo_run(seed, bootstrap, data, threshold,
                    {"verification": verification, "demographics": demographics,
                     "identification": identification, "scale": scaled})  # fmt: skip
    outcomes = search_outcomes(
        found.lists,
        found.truth,
        gallery_size=found.gallery_size,
        gallery_subjects=found.gallery_subjects,
    )
    kw = {"bootstrap": bootstrap, "confidence": 0.95, "seed": 0}
    return with_impact(run, outcomes, identification, kw, groups=None, progress=progress)


def _demo_run(seed: int, bootstrap: int, data, threshold: float, analyses: dict) -> Run:
    """The demo's run record: its analyses, the synthetic input and the settings behind it."""
    from faceaudit.data import InputFile

    return Run(
        title="faceaudit demo — SYNTHETIC data",
        analyses=analyses,
        inputs=(
            InputFile(
                path=f"<synthetic embeddings: faceaudit.synth, seed {seed}>",
                sha256="",
                records=int(data.embeddings.shape[0]),
            ),
        ),
        synthetic=True,
        settings={
            "orientation": "similarity",
            "bootstrap": bootstrap,
            "confidence": 0.95,
            "seed": 0,
            "bootstrap_unit": analyses["verification"].bootstrap.unit,
            "n_bootstrap_units": analyses["verification"].bootstrap.n_units,
            "data": "synthetic: faceaudit.audits.demo (parameters in its docstring)",
            "data_seed": seed,
            "synth": data.metadata(),
            "held_out": 0.3,
            "scale_threshold": threshold,
        },
        warnings=(
            "These are SYNTHETIC embeddings generated by faceaudit demo; they describe no real "
            "system and no real people.",
            *analyses["verification"].warnings,
        ),
    )
