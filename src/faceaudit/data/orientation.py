"""Which way scores point, converted at exactly two places: the reader and the results writer.

Inside faceaudit every score and threshold is **similarity-oriented** (higher = more similar; a
comparison matches when ``score >= threshold``, ISO/IEC 19795-1). A file of **distance** scores
(lower = more similar) is negated once, when it is read, and every threshold goes back to the
file's own units only when results are written (the ``to_json`` of a result), with
:func:`to_file_units`. Negation is exact in floating point, so nothing is lost either way.

>>> to_similarity(0.3, DISTANCE), to_file_units(-0.3, DISTANCE)
(-0.3, 0.3)
"""

from __future__ import annotations

import numpy as np

__all__ = ["DISTANCE", "ORIENTATIONS", "SIMILARITY", "to_file_units", "to_similarity"]

SIMILARITY = "similarity"
DISTANCE = "distance"
ORIENTATIONS = (SIMILARITY, DISTANCE)


def to_similarity(values, orientation: str):
    """Scores or thresholds in a file's units -> the similarity orientation used inside."""
    if orientation == SIMILARITY:
        return values
    if orientation == DISTANCE:
        return -values if isinstance(values, np.ndarray) else -float(values)
    raise ValueError(f"orientation must be one of {ORIENTATIONS}, not {orientation!r}")


def to_file_units(values, orientation: str):
    """Similarity-oriented thresholds -> the units of the file the scores came from."""
    return to_similarity(values, orientation)  # negation is its own inverse
