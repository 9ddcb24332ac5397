"""``audit_candidates`` and ``audit_search``: the 1:N audit, black box or from embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from faceaudit import params
from faceaudit.analyses.identification import DEFAULT_FPIR_TARGETS, IdentificationResult, identify
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.data import CandidateSearch, EmbeddingSet
from faceaudit.io.embeddings import overlap_warnings
from faceaudit.stats.identification import SearchOutcomes, search_outcomes

__all__ = ["INDEXES", "audit_candidates", "audit_search"]

#: Search indexes: exact brute force, or approximate (recall measured and reported).
INDEXES = ("flat", "ivf", "hnsw")

SYNTHETIC_WARNING = "SYNTHETIC embeddings (faceaudit synth): these figures describe a simulation."


def _common(fpir_targets, thresholds, rank, bootstrap, confidence, seed) -> dict:
    return {
        "fpir_targets": params.rate_targets("fpir_targets", fpir_targets),
        "thresholds": params.thresholds("thresholds", thresholds),
        "rank": None if rank is None else params.count("rank", rank, minimum=1),
        "bootstrap": params.bootstrap_replicates("bootstrap", bootstrap),
        "confidence": params.confidence_level("confidence", confidence),
        "seed": params.seed_value("seed", seed),
    }


def _settings(kw: dict) -> dict:
    return {
        "fpir_targets": list(kw["fpir_targets"]),
        "thresholds": list(kw["thresholds"]),
        "bootstrap": kw["bootstrap"],
        "confidence": kw["confidence"],
        "seed": kw["seed"],
        "bootstrap_unit": "subject",
    }


def _check_rank(rank: int | None, list_length: int) -> None:
    if rank is not None and rank > list_length:
        raise params.ParameterError(
            "rank",
            rank,
            f"is beyond the candidate lists, which hold {list_length} candidates; give a rank "
            f"of at most {list_length}.",
        )


def _threshold_warnings(outcomes: SearchOutcomes, thresholds) -> list[str]:
    import numpy as np

    from faceaudit.audits.scores import outside_warnings

    seen = np.concatenate([outcomes.nonmated_top, outcomes.mate_score])
    seen = seen[np.isfinite(seen)]
    if not seen.size or not thresholds:
        return []
    return outside_warnings(thresholds, float(seen.min()), float(seen.max()))


def _finish(
    title: str,
    outcomes: SearchOutcomes,
    result: IdentificationResult,
    kw: dict,
    *,
    inputs,
    settings: dict,
    synthetic: bool,
    demographics: GroupBy | None,
    progress: Progress,
    attachments=None,
    data_warnings=(),
) -> Run:
    warnings = [*data_warnings, *result.warnings, *_threshold_warnings(outcomes, kw["thresholds"])]
    if synthetic:
        warnings.insert(0, SYNTHETIC_WARNING)
    run = Run(
        title=title + (" — SYNTHETIC data" if synthetic else ""),
        analyses={"identification": result},
        inputs=tuple(inputs),
        settings=settings,
        warnings=tuple(warnings),
        synthetic=synthetic,
        attachments=attachments or {},
    )
    groups = None
    if demographics is not None:
        from faceaudit.analyses.demographics import identification_differentials

        with progress.stage(f"1:N demographic differentials by {','.join(demographics.by)}"):
            groups = demographics.metadata.groups(demographics.by, [str(u) for u in outcomes.units])
            demo = identification_differentials(
                outcomes,
                groups,
                threshold=demographics.threshold_from,
                rank=kw["rank"],
                bootstrap=kw["bootstrap"],
                confidence=kw["confidence"],
                seed=kw["seed"],
            )
        run = run.with_analysis(
            demo.results_key,
            demo,
            inputs=() if demo.metadata is None else (demo.metadata,),
            settings=demographics.settings(demo),
            warnings=demo.warnings,
        )
    return with_impact(run, outcomes, result, kw, groups=groups, progress=progress)


def with_impact(run: Run, outcomes: SearchOutcomes, result, kw: dict, *, groups, progress) -> Run:
    """``run`` with what a hit means at the strictest supported FPIR target (``impact``)."""
    from faceaudit.audits._impact import (
        DEFAULT_ENCOUNTERS_PER_DAY,
        headline_threshold,
        search_impact,
    )

    head = headline_threshold(result)
    if head is None:
        return run
    with progress.stage("what a hit means (operational impact)"):
        impact = search_impact(
            outcomes,
            head[1],
            bootstrap=kw["bootstrap"],
            confidence=kw["confidence"],
            seed=kw["seed"],
            groups=groups,
        )
    if impact is None:
        return run
    return run.with_analysis(
        "impact",
        impact,
        settings={
            "impact_fpir_target": head[0],
            "impact_encounters_per_day": DEFAULT_ENCOUNTERS_PER_DAY,
        },
        warnings=impact.warnings,
    )


def audit_candidates(
    search: CandidateSearch,
    *,
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    thresholds: Sequence[float] = (),
    rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    demographics: GroupBy | None = None,
    title: str = "1:N identification audit",
    progress: Progress = SILENT,
) -> Run:
    """1:N audit of a black-box system's candidate lists (NIST FRTE).

    Parameters
    ----------
    search : CandidateSearch
        From :func:`faceaudit.io.candidates.load_candidate_search`.
    fpir_targets : sequence of float
        For each, the threshold with the lowest FNIR at FPIR <= target.
    thresholds : sequence of float
        Also report the rates at these thresholds (e.g. the system's own).
    rank : int, optional
        Rank criterion R of FNIR(N, R, T); default: the list length L.
    bootstrap, confidence, seed
        Subject-bootstrap replicates (0: none), two-sided level, seed.
    demographics : GroupBy, optional
        Per-probe-group FPIR and FNIR at one global threshold.
    """
    kw = _common(fpir_targets, thresholds, rank, bootstrap, confidence, seed)
    _check_rank(kw["rank"], search.lists.list_length)
    outcomes = search_outcomes(
        search.lists,
        search.truth,
        gallery_size=search.gallery_size,
        gallery_subjects=search.gallery_subjects,
    )
    with progress.stage(
        f"computing rates ({search.truth.probes.size:,} searches"
        + (f", {kw['bootstrap']} bootstrap replicates)" if kw["bootstrap"] else ")")
    ):
        result = identify(outcomes, source="candidates", **kw)
    settings = _settings(kw)
    settings.update(source="candidate lists", gallery_size=search.gallery_size)
    return _finish(
        title,
        outcomes,
        result,
        kw,
        inputs=search.inputs,
        settings=settings,
        synthetic=False,
        data_warnings=search.warnings,
        demographics=demographics,
        progress=progress,
    )


def audit_search(
    gallery: EmbeddingSet,
    probes: EmbeddingSet | None = None,
    *,
    held_out: float = 0.2,
    enrol: str | Sequence[str] = "first",
    list_length: int = 50,
    index: str = "flat",
    index_params: dict | None = None,
    chunk_size: int = 4096,
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    thresholds: Sequence[float] = (),
    rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    demographics: GroupBy | None = None,
    write_candidates: bool = False,
    title: str = "1:N identification audit",
    progress: Progress = SILENT,
) -> Run:
    """1:N audit from embeddings: search the probes against the enrolled gallery, then audit.

    Parameters
    ----------
    gallery : EmbeddingSet
        The gallery; or, with ``probes=None``, one set split here: ``held_out`` subjects (a share
        < 1 or a number, drawn with ``seed``) are not enrolled and their samples become non-mated
        searches, every other subject enrols its first sample and its others are mated searches.
    probes : EmbeddingSet, optional
        Probe embeddings; a probe whose subject is not enrolled is a non-mated search.
    enrol : str or sequence of str
        ``"first"`` sample per subject (NIST FRTE), ``"all"``, or the enrolled sample ids.
    list_length : int
        Candidates returned per search (L).
    index, index_params
        ``"flat"`` (exact), ``"ivf"`` or ``"hnsw"`` (approximate: recall measured and reported).
    chunk_size : int
        Probes searched per chunk (bounds memory).
    write_candidates : bool
        Put the candidate lists in the black-box format into the output folder
        (``candidates.csv``, ``truth.csv``, ``gallery_subjects.txt``), so that
        :func:`audit_candidates` on them reproduces this audit.

    Other parameters are those of :func:`audit_candidates`.
    """
    from faceaudit.compare.search import search_gallery, split_enrolment

    kw = _common(fpir_targets, thresholds, rank, bootstrap, confidence, seed)
    list_length = params.count("list_length", list_length, minimum=1)
    _check_rank(kw["rank"], list_length)
    chunk_size = params.count("chunk_size", chunk_size, minimum=1)
    index = params.choice("index", index, INDEXES)
    index_params = dict(index_params or {})
    settings: dict = _settings(kw)
    inputs = list(gallery.inputs)
    data_warnings = list(gallery.warnings)
    if probes is None:
        n_subjects = len(set(gallery.subjects.tolist()))
        held = params.held_out_subjects("held_out", held_out, n_subjects)
        gallery, probes = split_enrolment(gallery, held_out=held, seed=kw["seed"])
        settings.update(held_out=held_out, split="first sample of each non-held-out subject")
    else:
        inputs += [i for i in probes.inputs if i not in inputs]
        data_warnings += [w for w in probes.warnings if w not in data_warnings]
        if isinstance(gallery, EmbeddingSet):  # a sharded gallery stays on disk: not compared
            data_warnings += overlap_warnings(gallery, probes)
    synthetic = gallery.synthetic or probes.synthetic
    settings.update(
        source="embeddings",
        enrol=enrol if isinstance(enrol, str) else "list of sample ids",
        list_length=list_length,
        index=index,
        index_params=index_params,
        chunk_size=chunk_size,
    )
    with progress.bar(f"searching ({index})", "probes") as update:
        found = search_gallery(
            gallery,
            probes,
            list_length=list_length,
            enrol=enrol if isinstance(enrol, str) else list(enrol),
            index=index,
            index_params=index_params,
            chunk_size=chunk_size,
            progress=update,
            seed=kw["seed"],
        )
    del gallery, probes  # free the embeddings before the metrics
    with progress.stage(
        f"computing rates ({found.truth.probes.size:,} searches"
        + (f", {kw['bootstrap']} bootstrap replicates)" if kw["bootstrap"] else ")")
    ):
        outcomes = search_outcomes(
            found.lists,
            found.truth,
            gallery_size=found.gallery_size,
            gallery_subjects=found.gallery_subjects,
        )
        approx = found.approximate.to_json() if found.approximate is not None else None
        result = identify(
            outcomes, source="embeddings", synthetic=synthetic, approximate_search=approx, **kw
        )
    progress.note(
        f"searched {found.truth.probes.size:,} probes against {found.n_templates:,} templates "
        f"of {found.gallery_size:,} enrolled subjects"
    )
    if found.approximate is not None:
        progress.note(
            f"approximate index {index}: recall@{list_length} vs exact = "
            f"{found.approximate.recall_at_l:.4f} on {found.approximate.n_probes_checked} probes"
        )
    settings["gallery_size"] = found.gallery_size
    return _finish(
        title,
        outcomes,
        result,
        kw,
        inputs=inputs,
        settings=settings,
        synthetic=synthetic,
        demographics=demographics,
        progress=progress,
        attachments=_candidate_files(found) if write_candidates else None,
        data_warnings=data_warnings,
    )


def _candidate_files(found) -> dict:
    """Writers of the search's candidate lists in the black-box format (see ``audit_search``)."""
    import numpy as np
    import pandas as pd

    def candidates(path: Path) -> None:
        found.lists.to_frame().to_csv(path, index=False)

    def truth(path: Path) -> None:
        enrolled = np.isin(found.truth.subjects, found.gallery_subjects)
        pd.DataFrame(
            {
                "probe": found.truth.probes,
                "subject": np.where(enrolled, found.truth.subjects, ""),
                "person": found.truth.subjects,
            }
        ).to_csv(path, index=False)

    def gallery_subjects(path: Path) -> None:
        path.write_text("\n".join(found.gallery_subjects.tolist()) + "\n", encoding="utf-8")

    return {
        "candidates.csv": candidates,
        "truth.csv": truth,
        "gallery_subjects.txt": gallery_subjects,
    }
