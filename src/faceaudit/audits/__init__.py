"""One call per audit: domain types in, a :class:`~faceaudit.audits.run.Run` out.

=====================  ==========================================================================
:func:`audit_scores`   1:1 comparison scores -> FMR, FNMR, EER, DET, FNMR at FMR targets
:func:`audit_embeddings`  every pair of an embedding set, streamed -> the same 1:1 audit at scale
:func:`audit_candidates`  black-box 1:N candidate lists -> FPIR, FNIR, CMC, wrong person at rank 1
:func:`audit_search`   embeddings searched 1:N here -> the same, from a gallery and probes
:func:`audit_scale`    FPIR(N, T) on nested galleries, extrapolated to N (e.g. 2.7 x 10^8)
:func:`audit_images`   photos -> embeddings (cached) -> 1:1 + 1:N + failures to acquire
:func:`audit_capture`  error rates by capture condition (synthetic or recorded), quality gates
:func:`audit_compare`  two or more systems on the same people -> paired differences, McNemar
:func:`audit_compare_models`  the same photos through several models -> audit_compare on all pairs
:func:`audit_demo`     the whole audit on built-in synthetic data
:func:`audit_impact`   1:N counts -> expected wrong hits per day, PPV of a hit across prevalence
:func:`audit_field_log`  a deployment's disclosed counts -> PPV of an alert, false alerts per face
=====================  ==========================================================================

Each takes keyword-only parameters, validated in one place (:mod:`faceaudit.params`), and an
optional ``demographics=GroupBy(metadata, "sex,age_band")``; the command line calls exactly these
functions, so ``faceaudit errors ...`` and ``audit_scores(load_scores(...)).write(out)`` write the
same ``results.json``.
"""

from faceaudit.audits.capture import ConditionsBy, audit_capture
from faceaudit.audits.compare import audit_compare
from faceaudit.audits.compare_models import audit_compare_models
from faceaudit.audits.demo import audit_demo
from faceaudit.audits.embeddings import audit_embeddings
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.identification import audit_candidates, audit_search
from faceaudit.audits.images import audit_images
from faceaudit.audits.impact import SearchCounts, audit_field_log, audit_impact
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.audits.scale import audit_scale
from faceaudit.audits.scores import audit_scores

__all__ = [
    "SILENT",
    "ConditionsBy",
    "GroupBy",
    "Progress",
    "Run",
    "SearchCounts",
    "audit_candidates",
    "audit_capture",
    "audit_compare",
    "audit_compare_models",
    "audit_demo",
    "audit_embeddings",
    "audit_field_log",
    "audit_images",
    "audit_impact",
    "audit_scale",
    "audit_scores",
    "audit_search",
]
