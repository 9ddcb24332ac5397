"""The image audit: embed photos, then the 1:1 and 1:N audits on the embeddings, counting every
failure to acquire.

1:1: all-vs-all comparisons of the embedded images (each unordered pair once), streamed in blocks
into the score arrays; comparisons lost to failed images are counted as failures to acquire for
the generalised rates (ISO/IEC 19795-1). 1:N: ``held_out`` subjects are not enrolled (their images
are non-mated searches); every other subject enrols its first image (NIST FRTE practice) and its
other images are mated searches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from faceaudit.analyses.identification import IdentificationResult, identify_embeddings
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS, VerificationResult, verify
from faceaudit.data import ComparisonScores
from faceaudit.embedding.result import EmbeddingResult
from faceaudit.errors import InputError
from faceaudit.stats.identification import SearchOutcomes, search_outcomes


@dataclass(frozen=True)
class ImageAuditResult:
    """What the image audit found; ``to_json`` gives the results.json keys."""

    embedding: EmbeddingResult
    comparisons: ComparisonScores
    verification: VerificationResult
    identification: IdentificationResult | None
    acquisition: dict
    warnings: tuple[str, ...]
    outcomes: SearchOutcomes | None = None  # the 1:N searches, per search

    def analyses(self) -> dict:
        """results.json key -> result: verification, acquisition, model (and identification)."""
        out = {
            "verification": self.verification,
            "acquisition": self.acquisition,
            "model": self.embedding.model,
        }
        if self.identification is not None:
            out["identification"] = self.identification
        return out

    def to_json(self) -> dict:
        return {k: v.to_json() if hasattr(v, "to_json") else v for k, v in self.analyses().items()}


def audit_embeddings(
    embedding: EmbeddingResult,
    *,
    held_out: float | int = 0.2,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    fpir_targets: Sequence[float] | None = None,
    list_length: int = 50,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ImageAuditResult:
    """Run the 1:1 and 1:N audits on an :class:`EmbeddingResult` (see the module docstring)."""
    from faceaudit.compare.allpairs import all_pairs_scores
    from faceaudit.compare.search import split_enrolment

    if embedding.embeddings.shape[0] < 2:
        raise InputError(
            f"only {embedding.embeddings.shape[0]} of {embedding.n_images} images yielded a face: "
            "nothing to compare.",
            path=embedding.source,
        )
    comparisons = all_pairs_scores(
        embedding.embeddings,
        embedding.subjects,
        failed_subjects=[f.subject for f in embedding.failures],
    )
    verification = verify(
        comparisons,
        fmr_targets=fmr_targets,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    warnings = list(verification.warnings)
    identification = outcomes = None
    eset = embedding.to_embedding_set()
    try:
        gallery, probes = split_enrolment(eset, held_out=held_out, seed=seed)
    except ValueError as exc:
        raise InputError(f"held_out = {held_out!r}: {exc}") from None
    if gallery.n and probes.n:
        kw = {"bootstrap": bootstrap, "confidence": confidence, "seed": seed}
        if fpir_targets is not None:
            kw["fpir_targets"] = fpir_targets
        identification, found = identify_embeddings(
            gallery, probes, list_length=list_length, progress=progress, **kw
        )
        outcomes = search_outcomes(
            found.lists,
            found.truth,
            gallery_size=found.gallery_size,
            gallery_subjects=found.gallery_subjects,
        )
        warnings += list(identification.warnings)
    else:
        warnings.append("1:N skipped: the split left no gallery or no probes (too few subjects).")
    acquisition = embedding.acquisition(confidence=confidence, bootstrap=bootstrap)
    return ImageAuditResult(
        embedding=embedding,
        comparisons=comparisons,
        verification=verification,
        identification=identification,
        acquisition=acquisition,
        warnings=tuple(warnings),
        outcomes=outcomes,
    )
