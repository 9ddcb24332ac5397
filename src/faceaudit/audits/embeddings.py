"""``audit_embeddings``: the 1:1 audit of every pair of an embedding set, streamed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from faceaudit import params
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.compare.blocks import DEFAULT_BLOCK, PRECISIONS
from faceaudit.data import EmbeddingSet

__all__ = ["audit_embeddings"]


def audit_embeddings(
    embeddings: EmbeddingSet,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    demographics: GroupBy | None = None,
    block: int = DEFAULT_BLOCK,
    precision: str = "float32",
    work_dir: str | Path | None = None,
    executor=None,
    title: str = "1:1 verification audit",
    progress: Progress = SILENT,
) -> Run:
    """1:1 audit of all-vs-all comparisons of ``embeddings``, never materialising the scores.

    Every unordered pair of samples is compared once (cosine similarity); pairs of one subject
    are mated, others non-mated, and the figures, intervals (subject bootstrap) and
    demographics are those :func:`audit_scores` gives on
    :func:`~faceaudit.compare.allpairs.all_pairs_scores` of the same embeddings.

    Parameters
    ----------
    embeddings : EmbeddingSet
        From :func:`faceaudit.io.embeddings.read_embeddings` (the formats ``identify`` reads).
    fmr_targets, thresholds, bootstrap, confidence, seed, demographics, title
        As for :func:`audit_scores` (thresholds in cosine-score units).
    block : int
        Rows per block of comparisons (memory ~ 12 x block^2 bytes per thread; rounded up to a
        multiple of 256). Any block size gives the same figures.
    precision : {"float32", "float64"}
        Of the inner products (``docs/scale-out.md``, precision contract).
    work_dir : path, optional
        Work folder keyed by inputs and settings: block products are written there as they are
        made and a rerun resumes from them. Needed on a cluster (shared storage).
    executor : faceaudit.compare.execute.Executor, optional
        Where blocks are computed; default the one in force (in-process unless the caller is
        inside :func:`faceaudit.compare.execute.use_executor`).
    """
    from faceaudit.analyses.demographics import verification_differentials
    from faceaudit.analyses.verification import verify
    from faceaudit.compare.stream import StreamedComparisons

    fmr_targets = params.rate_targets("fmr_targets", fmr_targets)
    thresholds = params.thresholds("thresholds", thresholds)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    block = params.count("block", block, minimum=1)
    precision = params.choice("precision", precision, PRECISIONS)
    comps = StreamedComparisons(
        embeddings.embeddings,
        embeddings.subjects,
        block=block,
        precision=precision,
        executor=executor,
        work_dir=work_dir,
        progress=progress,
    )
    with comps:
        result = verify(
            comps,
            fmr_targets=fmr_targets,
            thresholds=thresholds,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
        )
        progress.note(
            f"compared {embeddings.n:,} embeddings all-vs-all: {comps.n_mated:,} mated and "
            f"{comps.n_nonmated:,} non-mated pairs, in {comps.plan.n_blocks:,} blocks "
            f"({comps.executor!r})"
        )
        run = Run(
            title=title + (" — SYNTHETIC data" if embeddings.synthetic else ""),
            analyses={"verification": result},
            inputs=tuple(embeddings.inputs),
            settings={
                "orientation": "similarity",
                "fmr_targets": list(fmr_targets),
                "bootstrap": bootstrap,
                "confidence": confidence,
                "seed": seed,
                "bootstrap_unit": result.bootstrap.unit,
                "n_bootstrap_units": result.bootstrap.n_units,
                "comparisons": "all-vs-all of embeddings (cosine similarity)",
                "comparison_blocks": comps.plan.to_json(),
            },
            warnings=(*embeddings.warnings, *result.warnings),
            synthetic=embeddings.synthetic,
        )
        if demographics is not None:
            from faceaudit.analyses.demographics import DEFAULT_FMR_TARGET, ThresholdRule

            rule = ThresholdRule.parse(
                demographics.threshold_from, default_target=DEFAULT_FMR_TARGET
            )
            with progress.stage(f"demographic differentials by {','.join(demographics.by)}"):
                groups = demographics.metadata.groups(demographics.by, comps.subjects)
                demo = verification_differentials(
                    comps,
                    groups,
                    threshold=rule.in_similarity("similarity"),
                    bootstrap=bootstrap,
                    confidence=confidence,
                    seed=seed,
                    verification=result,
                )
            run = run.with_analysis(
                demo.results_key,
                demo,
                inputs=() if demo.metadata is None else (demo.metadata,),
                settings=demographics.settings(demo),
                warnings=demo.warnings,
            )
    return run
