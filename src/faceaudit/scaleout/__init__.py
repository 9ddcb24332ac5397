"""Audits at evaluation scale: the 1:1 audit and its demographics on streamed comparisons.

The comparisons of an all-vs-all audit of embeddings are never materialised
(:class:`faceaudit.compare.stream.StreamedComparisons`); this package runs the 1:1 analyses on
them and returns the very result types of :mod:`faceaudit.analyses` (same figures, same
``results.json``).

Bridge, for now: :func:`verify_streamed` is :func:`faceaudit.analyses.verification.verify` with
its two inputs swapped — the score sets come from ``comparisons.score_sets()`` and the bootstrap's
per-subject tables from ``comparisons.unit_counts_ge`` / ``unit_cell_histograms`` (one pass each)
instead of from chunks of a score array. Once ``verify`` and the demographics take a comparisons
source with those methods, this package reduces to a call of them (``docs/scale-out.md``,
"Integration"); ``tests/test_scaleout_equivalence.py`` holds the two paths equal meanwhile.
"""

from faceaudit.scaleout.demographics import verification_differentials_streamed
from faceaudit.scaleout.verification import verify_streamed

__all__ = ["verification_differentials_streamed", "verify_streamed"]
