"""Who bears the errors: the demographic split an audit call takes (``demographics=GroupBy(...)``).

>>> from faceaudit.data import SubjectMetadata
>>> meta = SubjectMetadata.from_mapping({"sex": {"s1": "f", "s2": "m"}})
>>> GroupBy(meta, "sex").by
('sex',)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faceaudit.data import SubjectMetadata, parse_by

__all__ = ["GroupBy"]


@dataclass(frozen=True, init=False)
class GroupBy:
    """Group subjects by one metadata attribute, or the intersection of several, at one threshold.

    Parameters
    ----------
    metadata : SubjectMetadata
        Subject attributes (:func:`faceaudit.io.metadata.read_metadata`).
    by : str or sequence of str
        ``"sex"``, ``"sex,age_band"`` or ``["sex", "age_band"]``; checked against ``metadata``.
    threshold_from : str
        How the one global threshold is fixed (:class:`faceaudit.analyses.demographics.
        ThresholdRule`): ``"all"`` (the whole data set at FMR 1e-3; FPIR 0.01 for 1:N),
        ``"all@1e-4"``, a group name (``"female"``, ``"female@1e-4"``), or ``"value=0.42"`` (in
        the scores' own units).
    """

    metadata: SubjectMetadata
    by: tuple[str, ...]
    threshold_from: str

    def __init__(
        self, metadata: SubjectMetadata, by: str | Sequence[str], threshold_from: str = "all"
    ) -> None:
        from faceaudit.analyses.demographics import DEFAULT_FMR_TARGET, ThresholdRule

        ThresholdRule.parse(threshold_from, default_target=DEFAULT_FMR_TARGET)
        object.__setattr__(self, "metadata", metadata)
        object.__setattr__(self, "by", tuple(parse_by(by, metadata)))
        object.__setattr__(self, "threshold_from", threshold_from)

    @staticmethod
    def settings(result) -> dict:
        """The settings a demographic result adds to its run."""
        return {
            "demographics_by": result.attribute,
            "demographics_threshold_from": dict(result.threshold_rule),
        }
