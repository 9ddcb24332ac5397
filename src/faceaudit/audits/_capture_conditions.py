"""Which condition each photo was taken in (recorded runs), and the threshold rule's words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from faceaudit import params
from faceaudit.errors import InputError
from faceaudit.io.images import ImageSet

__all__ = ["ConditionsBy", "image_conditions", "parse_threshold_rule"]


def parse_threshold_rule(text: str) -> dict:
    """``"fmr=1e-3"``, ``"fpir=0.01"`` or ``"value=0.42"`` as capture-threshold keywords."""
    kind, eq, value = str(text).strip().partition("=")
    kind = kind.strip().lower()
    if not eq or kind not in ("fmr", "fpir", "value"):
        raise params.ParameterError(
            "condition_threshold",
            text,
            "say how the one threshold is fixed on the reference condition: fmr=1e-3, "
            "fpir=0.01 or value=0.42 (a similarity).",
        )
    key = {"fmr": "fmr_target", "fpir": "fpir_target", "value": "threshold"}[kind]
    if kind == "value":
        v = params.finite_number("condition_threshold", value.strip())
    else:
        v = params.rate_targets("condition_threshold", [value.strip()])[0]
    out = {"fmr_target": None, "fpir_target": None, "threshold": None}
    out[key] = v
    return out


@dataclass(frozen=True)
class ConditionsBy:
    """Recorded capture conditions: a manifest column, or a capture group of the file name.

    Parameters
    ----------
    column : str, optional
        A manifest column holding each photo's condition (``normal``, ``leftlight``, ...).
    pattern : str, optional
        A regular expression searched in each file's name (the last part of its path): the group
        named ``condition`` if there is one, else the first group, else the whole match.
    reference : str, optional
        The reference condition (default: the most frequent; ties: the first by name).
    threshold_from : str, optional
        How the one threshold is fixed on the reference condition: ``"fmr=1e-3"``,
        ``"fpir=0.01"`` or ``"value=0.42"`` (a similarity). Default None: the ``fmr_target``,
        ``fpir_target`` or ``threshold`` of :func:`~faceaudit.audits.capture.audit_capture`
        says it (FMR 1e-3 if none does).
    """

    column: str | None = None
    pattern: str | None = None
    reference: str | None = None
    threshold_from: str | None = None

    def __post_init__(self) -> None:
        if self.column is not None and self.pattern is not None:
            raise InputError(
                "the capture conditions come from a manifest column (column=) or a file-name "
                "pattern (pattern=), not both."
            )
        if self.column is None and self.pattern is None:
            raise InputError(
                "say where the capture conditions are: a manifest column (column=) or a "
                "file-name pattern (pattern=), one of the two."
            )
        if self.pattern is not None:
            _compile(self.pattern)
        if self.threshold_from is not None:
            parse_threshold_rule(self.threshold_from)

    def labels(self, images: ImageSet) -> tuple[str, ...]:
        return image_conditions(images, column=self.column, pattern=self.pattern)

    def source(self) -> dict:
        if self.column is not None:
            return {"kind": "manifest column", "column": self.column}
        return {"kind": "file name", "pattern": self.pattern}


def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise params.ParameterError(
            "condition_from_name", pattern, f"is not a regular expression ({exc})."
        ) from None


def image_conditions(
    images: ImageSet, *, column: str | None = None, pattern: str | None = None
) -> tuple[str, ...]:
    """The capture condition of each image: a manifest column's value, or from the file name.

    Raises
    ------
    InputError
        No such column (or no manifest), an empty value (naming the line), a name the pattern
        does not match or matches emptily (naming the first such file and how many there are).
    """
    if (column is None) == (pattern is None):
        raise InputError("give a condition column or a file-name pattern, one of the two.")
    if column is not None:
        if column not in images.metadata_columns:
            have = ", ".join(images.metadata_columns) or "no metadata columns"
            what = "the manifest" if images.kind == "manifest" else "a folder (no manifest)"
            raise params.ParameterError(
                "condition",
                column,
                f"is not a column of {what} ({have}); give a manifest CSV with a condition "
                "column, or take the condition from the file names (condition_from_name).",
            )
        k = images.metadata_columns.index(column)
        out = []
        for r in images.records:
            v = r.metadata[k].strip()
            if not v:
                raise InputError(
                    f"the {column!r} value of {r.sample!r} is empty; give every photo its "
                    "condition.",
                    path=images.source,
                    line=r.line,
                )
            out.append(v)
        return tuple(out)
    rx = _compile(pattern)
    group = "condition" if "condition" in rx.groupindex else (1 if rx.groups else 0)
    out, bad = [], []
    for r in images.records:
        name = r.sample.rsplit("/", 1)[-1]
        m = rx.search(name)
        v = m.group(group) if m else None
        if not v:
            bad.append(r.sample)
            out.append("")
        else:
            out.append(v)
    if bad:
        raise params.ParameterError(
            "condition_from_name",
            pattern,
            f"does not give a condition for {len(bad)} of {len(out)} file names (the first is "
            f"{bad[0]!r}); make it match every name.",
        )
    return tuple(out)


def _choose_reference(labels: Sequence[str], given: str | None) -> tuple[str, str]:
    counts: dict[str, int] = {}
    for v in labels:
        counts[v] = counts.get(v, 0) + 1
    if given is not None:
        if given not in counts:
            raise params.ParameterError(
                "reference_condition",
                given,
                f"is not one of the conditions found ({', '.join(sorted(counts))}).",
            )
        return given, "named by the user"
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return best[0], f"the most frequent condition ({best[1]:,} photos)"
