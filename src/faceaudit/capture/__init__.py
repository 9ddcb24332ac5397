"""Capture conditions: synthetic degradations of probe photos, quality measures, quality gates.

Field photos are taken in the dark, of moving people, from far away. This package renders such
conditions on clean probes in physical units (:mod:`~faceaudit.capture.degrade`: blur radius in
pixels, exposure in stops, noise in digital numbers, inter-eye distance in pixels, ...), composes
them into named, graded profiles (:mod:`~faceaudit.capture.profiles`: ``night-street``,
``moving-subject``, ``far-away``) and measures each photo's quality
(:mod:`~faceaudit.capture.quality`), so that an audit can show what the conditions do to the error
rates at a threshold fixed on clean data, and whether a quality gate would help
(:mod:`faceaudit.stats.edc`: the error-versus-discard characteristic).

Nothing here writes images anywhere: degraded images live in memory (and, once wired into the
pipeline, in the embedding cache as embeddings keyed by the degradation), never in a report.
"""

from faceaudit.capture.degrade import (
    DEGRADATIONS,
    Degradation,
    apply,
    apply_chain,
    chain_key,
    parse_chain,
    parse_degradation,
    track_eyes,
)
from faceaudit.capture.geometry import eye_centres, inter_eye_distance, layout_for_model
from faceaudit.capture.profiles import PROFILES, Profile, get_profile
from faceaudit.capture.quality import ImageQuality, measure_quality

__all__ = [
    "DEGRADATIONS",
    "PROFILES",
    "Degradation",
    "ImageQuality",
    "Profile",
    "apply",
    "apply_chain",
    "chain_key",
    "eye_centres",
    "get_profile",
    "inter_eye_distance",
    "layout_for_model",
    "measure_quality",
    "parse_chain",
    "parse_degradation",
    "track_eyes",
]
