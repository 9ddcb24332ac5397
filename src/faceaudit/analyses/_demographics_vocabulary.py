"""The words of the demographic analysis in 1:1 and 1:N: which rate is which, and how to say it.

The sentences themselves are made from results.json by the report
(:func:`faceaudit.report.sentences.demographic_sentences`), the one place numbers become words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Vocabulary:
    """Names of the two error rates of a mode and the words the analysis's warnings use."""

    mode: str  # "verification" / "identification"
    fp: str  # "fmr" / "fpir"
    fn: str  # "fnmr" / "fnir"
    fp_upper: str
    fn_upper: str
    fp_what: str  # "non-mated comparisons within the group"
    fp_pool: str  # "non-mated comparisons" (the whole data set's)


_VERIFY = _Vocabulary(
    "verification", "fmr", "fnmr", "FMR", "FNMR", "non-mated comparisons within the group",
    "non-mated comparisons",
)  # fmt: skip
_IDENTIFY = _Vocabulary(
    "identification", "fpir", "fnir", "FPIR", "FNIR", "non-mated searches", "non-mated searches"
)
