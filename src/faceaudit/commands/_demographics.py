"""Shared ``--metadata FILE --by ATTR[,ATTR2] --threshold-from RULE`` options of the commands.

A command adds the options to its signature and, after its main analysis, calls
:func:`demographics_from_options` (1:1) or :func:`identification_demographics_from_options`
(1:N), then :func:`add_demographics` to put the result into ``results.json``::

    def errors(..., metadata: Path | None = METADATA_OPTION, by: str | None = BY_OPTION,
               threshold_from: str = THRESHOLD_FROM_OPTION,
               metadata_subject_column: str = METADATA_SUBJECT_COLUMN_OPTION):
        ...
        demo = demographics_from_options(data, metadata, by, threshold_from=threshold_from,
                                         subject_column=metadata_subject_column,
                                         bootstrap=bootstrap, confidence=confidence, seed=seed,
                                         verification=result)
        add_demographics(results, demo)

Both return / do nothing when neither option is given; giving one without the other is an
input error (exit status 2). :func:`check_demographics_options` runs the cheap checks (and reads
the small metadata file) up front, before a long score read, if a command wants to fail fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from faceaudit.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from faceaudit.analyses.demographics import DemographicsResult
    from faceaudit.analyses.verification import VerificationResult
    from faceaudit.data import ComparisonScores, SubjectMetadata
    from faceaudit.stats.identification import SearchOutcomes

__all__ = [
    "BY_OPTION",
    "METADATA_OPTION",
    "METADATA_SUBJECT_COLUMN_OPTION",
    "THRESHOLD_FROM_HELP",
    "THRESHOLD_FROM_OPTION",
    "add_demographics",
    "check_demographics_options",
    "demographics_from_options",
    "identification_demographics_from_options",
]

THRESHOLD_FROM_HELP = (
    "How --by fixes its one global threshold: 'all' = on the whole data set at FMR 1e-3 (1:N: "
    "FPIR 0.01), 'all@1e-4' for another target; a group name ('female', 'female@1e-4', or "
    "'group=NAME') = on that group's own comparisons; 'value=0.42' or '0.42' = that threshold "
    "(in the scores' own units)."
)

METADATA_OPTION = typer.Option(
    None,
    "--metadata",
    help="Subject metadata, CSV/TSV/Parquet: a 'subject' column and attribute columns "
    "(sex, age_band, ...). Use with --by.",
)
BY_OPTION = typer.Option(
    None,
    "--by",
    help="Demographic differentials by this metadata attribute, or the intersection of two "
    "(--by sex,age_band). Use with --metadata.",
)
THRESHOLD_FROM_OPTION = typer.Option("all", "--threshold-from", help=THRESHOLD_FROM_HELP)
METADATA_SUBJECT_COLUMN_OPTION = typer.Option(
    "subject", "--metadata-subject-column", help="Subject-id column of --metadata."
)


def check_demographics_options(
    metadata: Path | str | None,
    by: str | None,
    *,
    threshold_from: str | None = "all",
    subject_column: str = "subject",
) -> SubjectMetadata | None:
    """Validate the option combination and read the metadata file (small); None if unused.

    Raises
    ------
    InputError
        ``--metadata`` without ``--by`` or the reverse, a bad ``--by`` or ``--threshold-from``,
        or any problem in the metadata file.
    """
    from faceaudit.analyses.demographics import DEFAULT_FMR_TARGET, ThresholdRule
    from faceaudit.data import parse_by
    from faceaudit.io.metadata import read_metadata

    if metadata is None and by is None:
        return None
    if metadata is None:
        raise InputError(
            f"--by needs --metadata FILE: a table with a subject column and the attribute {by!r}."
        )
    if by is None:
        raise InputError(
            "--metadata needs --by ATTR (an attribute column of the metadata, or two separated "
            "by a comma) to say how to group subjects."
        )
    ThresholdRule.parse(threshold_from, default_target=DEFAULT_FMR_TARGET)
    meta = read_metadata(metadata, subject_column=subject_column)
    parse_by(by, meta)
    return meta


def demographics_from_options(
    data: ComparisonScores,
    metadata: Path | str | None,
    by: str | None,
    *,
    threshold_from: str | None = "all",
    subject_column: str = "subject",
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    verification: VerificationResult | None = None,
    meta: SubjectMetadata | None = None,
) -> DemographicsResult | None:
    """1:1 demographic differentials from the CLI options, or None when they are not given.

    Parameters
    ----------
    data : ComparisonScores
        The scores the command read (with probe and reference subject ids).
    metadata, by, threshold_from, subject_column
        The option values (see the module docstring).
    bootstrap, confidence, seed
        The command's own bootstrap settings.
    verification : VerificationResult, optional
        The command's 1:1 result on ``data``: its threshold at the FMR target is reused.
    meta : SubjectMetadata, optional
        The metadata already read by :func:`check_demographics_options` (not read again).
    """
    from faceaudit.analyses.demographics import verification_differentials

    if meta is None:
        meta = check_demographics_options(
            metadata, by, threshold_from=threshold_from, subject_column=subject_column
        )
    if meta is None:
        return None
    groups = meta.groups([p.strip() for p in by.split(",")], data.subjects)
    return verification_differentials(
        data,
        groups,
        threshold=threshold_from,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        verification=verification,
    )


def identification_demographics_from_options(
    outcomes: SearchOutcomes,
    metadata: Path | str | None,
    by: str | None,
    *,
    threshold_from: str | None = "all",
    subject_column: str = "subject",
    rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    meta: SubjectMetadata | None = None,
) -> DemographicsResult | None:
    """1:N demographic differentials (per probe group FPIR, FNIR) from the CLI options."""
    from faceaudit.analyses.demographics import identification_differentials

    if meta is None:
        meta = check_demographics_options(
            metadata, by, threshold_from=threshold_from, subject_column=subject_column
        )
    if meta is None:
        return None
    groups = meta.groups([p.strip() for p in by.split(",")], [str(u) for u in outcomes.units])
    return identification_differentials(
        outcomes,
        groups,
        threshold=threshold_from,
        rank=rank,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )


def add_demographics(results: dict, demo: DemographicsResult | None) -> None:
    """Put ``demo`` into a results dict: its key, the metadata file in ``inputs``, warnings.

    The key is ``demographics`` (1:1) or ``identification_demographics`` (1:N). Does nothing
    when ``demo`` is None.
    """
    if demo is None:
        return
    results[demo.results_key] = demo.to_json()
    if demo.metadata is not None:
        inputs = results.setdefault("inputs", [])
        entry = demo.metadata.to_json()
        if entry not in inputs:
            inputs.append(entry)
    settings = results.setdefault("settings", {})
    settings["demographics_by"] = demo.attribute
    settings["demographics_threshold_from"] = demo.threshold_rule
    warnings = results.setdefault("warnings", [])
    for w in demo.warnings:
        if w not in warnings:
            warnings.append(w)
