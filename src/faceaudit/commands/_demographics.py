"""The ``--metadata FILE --by ATTR[,ATTR2] --threshold-from RULE`` options, shared by commands."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.errors import InputError

THRESHOLD_FROM_HELP = (
    "How --by fixes its one global threshold: 'all' = on the whole data set at FMR 1e-3 (1:N: "
    "FPIR 0.01), 'all@1e-4' for another target; a group name ('female', 'female@1e-4', or "
    "'group=NAME') = on that group's own comparisons; 'value=0.42' or '0.42' = that threshold "
    "(in the scores' own units)."
)

METADATA = typer.Option(
    None,
    "--metadata",
    help="Subject metadata, CSV/TSV/Parquet: a 'subject' column and attribute columns "
    "(sex, age_band, ...). Use with --by.",
)
BY = typer.Option(
    None,
    "--by",
    help="Demographic differentials by this metadata attribute, or the intersection of two "
    "(--by sex,age_band). Use with --metadata.",
)
THRESHOLD_FROM = typer.Option("all", "--threshold-from", help=THRESHOLD_FROM_HELP)
METADATA_SUBJECT_COLUMN = typer.Option(
    "subject", "--metadata-subject-column", help="Subject-id column of --metadata."
)


def group_by(
    metadata: Path | None,
    by: str | None,
    threshold_from: str,
    subject_column: str,
    *,
    manifest=None,
):
    """The :class:`~faceaudit.audits.GroupBy` the options ask for, or None without them.

    Reads the (small) metadata file at once, so a bad one fails before a long computation; with
    ``manifest`` (an image set), ``--by`` alone takes the attributes from its columns.
    """
    from faceaudit.audits import GroupBy
    from faceaudit.io.metadata import read_metadata

    if metadata is None and by is None:
        return None
    if by is None:
        raise InputError(
            "--metadata needs --by ATTR (an attribute column of the metadata, or two separated "
            "by a comma) to say how to group subjects."
        )
    if metadata is None:
        if manifest is None:
            raise InputError(
                f"--by needs --metadata FILE: a table with a subject column and the attribute "
                f"{by!r}."
            )
        return GroupBy(manifest.subject_metadata(by), by, threshold_from)
    return GroupBy(read_metadata(metadata, subject_column=subject_column), by, threshold_from)
