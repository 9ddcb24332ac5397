"""The report's sections, one module per analysis, and their registry.

Each analysis section reads only its own key of the results (strictly, through
:class:`faceaudit.report._data.Node`) and is shown exactly when that key is present. The order
below is the order of the report: what a hit means first, then the error rates it rests on, who
bears them, and the images and model. Methods, limitations and reproducibility (:mod:`.back`)
always close the report.
"""

from __future__ import annotations

from faceaudit.report.sections._base import Ctx, Section
from faceaudit.report.sections.acquisition import ACQUISITION, MODEL
from faceaudit.report.sections.capture import CAPTURE, QUALITY
from faceaudit.report.sections.demographics import DEMOGRAPHICS, IDENTIFICATION_DEMOGRAPHICS
from faceaudit.report.sections.identification import SECTION as IDENTIFICATION
from faceaudit.report.sections.impact import FIELD_LOG, IMPACT
from faceaudit.report.sections.scale import SECTION as SCALE
from faceaudit.report.sections.systems import SECTION as COMPARE
from faceaudit.report.sections.verification import SECTION as VERIFICATION

__all__ = ["SECTIONS", "Ctx", "Section"]

#: Every analysis section, in report order (results key -> section).
SECTIONS: tuple[Section, ...] = (
    IMPACT,
    FIELD_LOG,
    IDENTIFICATION,
    SCALE,
    VERIFICATION,
    IDENTIFICATION_DEMOGRAPHICS,
    DEMOGRAPHICS,
    COMPARE,
    CAPTURE,
    QUALITY,
    ACQUISITION,
    MODEL,
)
