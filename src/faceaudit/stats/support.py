"""Whether the data can support a rate: enough comparisons **and** enough people.

Two conditions, both required (:func:`support`):

1. **Comparisons** (rule of 3 at the intervals' level, ISO/IEC 19795-1): ``n`` comparisons (or
   searches) can show a rate ``target`` only if a zero count's bound reaches it,
   ``n * target >= -ln(alpha)`` with ``alpha = (1 - confidence) / 2`` (3.69/target at 95%;
   the classical 3/target is the 95% one-sided level).
2. **People** (Doddington's rule of 30, applied to the independent units): at least
   :data:`MIN_SUBJECTS` distinct subjects must contribute. Comparisons of a few people, however
   many, do not sample the variation between people; a rate they "support" describes those few.
   Without subject ids the condition cannot be checked; the comparisons are then taken as
   independent (and the results say so).

G. Doddington, M. Przybocki, A. Martin, D. Reynolds, *The NIST speaker recognition evaluation*,
Speech Communication 31 (2000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MIN_SUBJECTS", "SUPPORT_RULE", "Support", "min_comparisons", "support"]

#: Fewest distinct subjects a supported rate rests on (Doddington's rule of 30 on people).
MIN_SUBJECTS = 30

SUPPORT_RULE = (
    "A target rate is supported when (1) the comparisons (searches) are numerous enough that a "
    "zero count's one-sided bound at the intervals' level, -ln((1 - confidence)/2)/n, reaches "
    "the target (the rule of 3: 3.69/target at 95%), and (2) at least 30 distinct subjects "
    "contribute (Doddington's rule of 30 applied to people, the independent units). Without "
    "subject ids only (1) is checked."
)


def min_comparisons(target: float, confidence: float = 0.95) -> int:
    """Fewest comparisons whose zero count's bound reaches ``target``: ``ceil(-ln(alpha)/t)``."""
    alpha = (1.0 - float(confidence)) / 2.0
    return int(math.ceil(-math.log(alpha) / float(target) - 1e-9))


@dataclass(frozen=True)
class Support:
    """The support of one rate: what it rests on and whether that is enough."""

    n_comparisons: int
    n_subjects: int | None
    min_comparisons: int
    min_subjects: int = MIN_SUBJECTS

    @property
    def comparisons_ok(self) -> bool:
        return self.n_comparisons >= self.min_comparisons

    @property
    def subjects_ok(self) -> bool | None:
        """None when subjects are unknown (the condition cannot be checked)."""
        return None if self.n_subjects is None else self.n_subjects >= self.min_subjects

    @property
    def supported(self) -> bool:
        return self.comparisons_ok and self.subjects_ok is not False

    def to_json(self) -> dict:
        return {
            "supported": self.supported,
            "n_comparisons": int(self.n_comparisons),
            "n_subjects": None if self.n_subjects is None else int(self.n_subjects),
            "min_comparisons": int(self.min_comparisons),
            "min_subjects": int(self.min_subjects),
            "comparisons_ok": self.comparisons_ok,
            "subjects_ok": self.subjects_ok,
        }


def support(
    target: float,
    n_comparisons: int,
    n_subjects: int | None,
    confidence: float = 0.95,
    min_subjects: int = MIN_SUBJECTS,
) -> Support:
    """:class:`Support` of a rate ``target`` on ``n_comparisons`` from ``n_subjects`` people."""
    return Support(
        int(n_comparisons), n_subjects, min_comparisons(target, confidence), int(min_subjects)
    )
