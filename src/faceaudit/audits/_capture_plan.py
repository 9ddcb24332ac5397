"""The validated options of ``audit_capture``: what is compared with what, at which threshold.

Every option-combination check of the capture audit lives here (and in :class:`ConditionsBy`
and :func:`faceaudit.capture.sweeps.build_sweeps`), with messages naming the library parameters;
the ``capture`` command adds only the checks that concern its own flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faceaudit import params
from faceaudit.audits._capture_conditions import (
    ConditionsBy,
    _choose_reference,
    parse_threshold_rule,
)
from faceaudit.audits._capture_parts import _find_image, _layout
from faceaudit.capture.sweeps import CLEAN, Sweep, build_sweeps
from faceaudit.errors import InputError
from faceaudit.io.images import ImageSet


@dataclass(frozen=True)
class CapturePlan:
    """One capture audit's options, validated and resolved.

    ``rule`` holds the ``fmr_target`` / ``fpir_target`` / ``threshold`` keywords of
    :func:`faceaudit.analyses.capture.capture_conditions` (one of them set; targets are rates in
    (0, 1], the threshold a similarity). ``labels`` is each image's recorded condition (empty
    for a synthetic sweep); ``sweeps`` the synthetic sweeps (empty with recorded conditions);
    ``example`` the index of the image ``show_examples`` names.
    """

    model: str
    workers: int | None
    held: float | int
    list_length: int
    bootstrap: int
    confidence: float
    seed: int
    rule: dict
    conditions: ConditionsBy | None
    labels: tuple[str, ...]
    ref_name: str
    ref_rule: str
    sweeps: tuple[Sweep, ...]
    layout: str | None
    example: int | None

    @property
    def recorded(self) -> bool:
        """Conditions recorded with the photos (else a synthetic sweep)."""
        return self.conditions is not None

    @property
    def mode(self) -> str:
        return "recorded" if self.recorded else "synthetic"

    @property
    def eligible_text(self) -> str:
        """Which photo of each subject enrols (the split's ``references`` rule)."""
        if self.recorded:
            return (
                f"each subject's first photo in the reference condition {self.ref_name!r} that "
                "yields a face"
            )
        return "each subject's first image that yields a face, clean"


def capture_plan(
    images: ImageSet,
    *,
    model: str,
    workers: int | None,
    sweeps: Sequence[Sweep] | None,
    conditions: ConditionsBy | None,
    held_out: float | int,
    fmr_target: float | None,
    fpir_target: float | None,
    threshold: float | None,
    list_length: int,
    bootstrap: int,
    confidence: float,
    seed: int,
    show_examples: str | None,
) -> CapturePlan:
    """The :class:`CapturePlan` of ``audit_capture``'s keywords (same names, same meanings).

    Raises
    ------
    InputError
        A value out of its domain (a :class:`~faceaudit.params.ParameterError` naming the
        parameter) or options that do not go together: ``conditions`` with ``sweeps`` or with
        ``show_examples``; two threshold rules; a sweep needing eye centres with a model whose
        landmark layout is not known.
    """
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    list_length = params.count("list_length", list_length, minimum=1)
    if workers is not None:
        workers = params.count("workers", workers)
    held = params.held_out_subjects("held_out", held_out)
    rule = threshold_keywords(conditions, fmr_target, fpir_target, threshold)
    if conditions is not None and sweeps:
        raise InputError(
            "capture conditions are either recorded with the photos or rendered synthetically; "
            "give conditions or sweeps, not both."
        )
    if conditions is not None and show_examples is not None:
        raise params.ParameterError(
            "show_examples",
            show_examples,
            "shows the synthetic degradations of one image; with recorded conditions there is "
            "nothing to render.",
        )
    labels: tuple[str, ...] = ()
    if conditions is not None:
        labels = conditions.labels(images)
        ref_name, ref_rule = _choose_reference(labels, conditions.reference)
        sweeps = ()
    else:
        sweeps = tuple(sweeps) if sweeps else build_sweeps()
        ref_name, ref_rule = CLEAN, "the photos as taken (before any degradation)"
    layout = _layout(model)
    if conditions is None and layout is None and any(s.needs_eyes for s in sweeps):
        raise InputError(
            f"the landmark layout of model {model!r} is not known, so the eye centres that "
            "downscale needs cannot be found; sweep other degradations with this model."
        )
    example = None if show_examples is None else _find_image(images, show_examples)
    return CapturePlan(
        model=model,
        workers=workers,
        held=held,
        list_length=list_length,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        rule=rule,
        conditions=conditions,
        labels=labels,
        ref_name=ref_name,
        ref_rule=ref_rule,
        sweeps=sweeps,
        layout=layout,
        example=example,
    )


def threshold_keywords(
    conditions: ConditionsBy | None,
    fmr_target: float | None,
    fpir_target: float | None,
    threshold: float | None,
) -> dict:
    """How the one threshold is fixed: ``{fmr_target, fpir_target, threshold}``, one not None.

    The rule is ``conditions.threshold_from`` when that is given (recorded conditions), else the
    keyword given (at most one), else an FMR target of
    :data:`faceaudit.analyses.capture.DEFAULT_FMR_TARGET` (1e-3).
    """
    from faceaudit.analyses.capture import DEFAULT_FMR_TARGET

    given = [x is not None for x in (fmr_target, fpir_target, threshold)]
    if conditions is not None and conditions.threshold_from is not None:
        if any(given):
            raise InputError(
                "the threshold rule is given twice: ConditionsBy(threshold_from=...) and "
                "fmr_target, fpir_target or threshold; give one of the two."
            )
        return parse_threshold_rule(conditions.threshold_from)
    if sum(given) > 1:
        raise InputError(
            "fix the one threshold one way: an FMR target, an FPIR target or a threshold value."
        )
    if not any(given):
        fmr_target = DEFAULT_FMR_TARGET
    if fmr_target is not None:
        fmr_target = params.rate_targets("fmr_targets", [fmr_target])[0]
    if fpir_target is not None:
        fpir_target = params.rate_targets("fpir_targets", [fpir_target])[0]
    if threshold is not None:
        threshold = params.finite_number("threshold", threshold)
    return {"fmr_target": fmr_target, "fpir_target": fpir_target, "threshold": threshold}
