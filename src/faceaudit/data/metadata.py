"""Subject attributes (demographics) and the split of a data set's subjects into groups.

Values are stripped text. An empty value, or one of ``NA``, ``N/A``, ``NaN``, ``null``, ``None``,
``unknown``, ``?`` (any case), is an **unknown** value; unknown is a group of its own, named
``unknown``: counted and shown, never dropped. Grouping by several attributes makes one group per
combination of values present in the data, labelled ``"female × 18-30"`` (attribute label
``"sex × age_band"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.data.inputs import InputFile
from faceaudit.errors import InputError

__all__ = [
    "DEFAULT_MAX_GROUPS",
    "GROUP_SEPARATOR",
    "MISSING_WORDS",
    "UNKNOWN",
    "SubjectGroups",
    "SubjectMetadata",
    "parse_by",
]

#: The group of subjects whose attribute value is missing or unknown.
UNKNOWN = "unknown"
#: Spellings of a missing value (compared after stripping blanks and lower-casing).
MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "unknown", "?"})
#: Joins attribute names and values of an intersection: ``"sex × age_band"``, ``"female × 18-30"``.
GROUP_SEPARATOR = " × "
#: Most groups an analysis accepts (a numeric column such as age would make hundreds).
DEFAULT_MAX_GROUPS = 64


def _normalise(value: object) -> str:
    if value is None:
        return UNKNOWN
    text = str(value).strip()
    return UNKNOWN if text.lower() in MISSING_WORDS else text


@dataclass(frozen=True)
class SubjectMetadata:
    """Attributes of subjects: ``values[attribute][i]`` is the value for ``subjects[i]``.

    Values are stripped text, ``"unknown"`` for a missing value. Build it with
    :func:`read_metadata` or :meth:`from_mapping`.
    """

    subjects: tuple[str, ...]
    values: Mapping[str, tuple[str, ...]]
    source: InputFile | None = None
    subject_column: str = "subject"
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._index:
            self._index.update({s: i for i, s in enumerate(self.subjects)})

    @classmethod
    def from_mapping(
        cls, attributes: Mapping[str, Mapping[str, object]] | None = None, **by_attribute
    ) -> SubjectMetadata:
        """Build from ``{attribute: {subject: value}}`` (values normalised as a file's are).

        >>> m = SubjectMetadata.from_mapping({"sex": {"s1": "F", "s2": "M", "s3": ""}})
        >>> m.values["sex"]
        ('F', 'M', 'unknown')
        """
        attrs = dict(attributes or {}, **by_attribute)
        subjects: list[str] = []
        seen: set[str] = set()
        for mapping in attrs.values():
            for s in mapping:
                if str(s) not in seen:
                    seen.add(str(s))
                    subjects.append(str(s))
        values = {}
        for a, m in attrs.items():
            by_id = {str(k): v for k, v in m.items()}
            values[a] = tuple(_normalise(by_id.get(s)) for s in subjects)
        return cls(tuple(subjects), values)

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(self.values)

    def value(self, subject: str, attribute: str) -> str:
        """The subject's value of ``attribute`` (``"unknown"`` if the subject has no row)."""
        i = self._index.get(subject)
        return UNKNOWN if i is None else self.values[attribute][i]

    def groups(
        self,
        by: Sequence[str],
        data_subjects: Sequence[str],
        *,
        max_groups: int = DEFAULT_MAX_GROUPS,
    ) -> SubjectGroups:
        """Split the subjects of a data set into groups by one attribute or an intersection.

        Parameters
        ----------
        by : sequence of str
            Attribute names (see :func:`parse_by`); two or more make intersections.
        data_subjects : sequence of str
            The subject ids of the data, in code order (``ComparisonScores.subjects``, or the
            ``units`` of 1:N search outcomes).
        max_groups : int
            More groups than this is an error (a continuous attribute such as exact age would
            make one group per value: band it first).

        Raises
        ------
        InputError
            For an unknown attribute, or too many groups.
        """
        by = parse_by(list(by), self)
        where = self._where()
        data = [str(s) for s in data_subjects]
        rows = np.array([self._index.get(s, -1) for s in data], dtype=np.int64)
        labels = []
        unknown_values = {}
        for a in by:
            col = np.array(self.values[a] + (UNKNOWN,), dtype=object)  # last: no metadata row
            vals = col[rows]
            unknown_values[a] = int(np.count_nonzero(vals == UNKNOWN))
            labels.append(vals)
        if len(by) == 1:
            label = labels[0]
        else:
            label = np.array(
                [GROUP_SEPARATOR.join(t) for t in zip(*labels, strict=True)], dtype=object
            )
        names = sorted({str(x) for x in label}, key=_group_sort_key)
        if len(names) > max_groups:
            shown = ", ".join(repr(n) for n in names[:8])
            raise InputError(
                f"grouping by {GROUP_SEPARATOR.join(by)} makes {len(names)} groups ({shown}, ...), "
                f"more than {max_groups}; group by a banded column (e.g. age_band instead of age) "
                "or fewer attributes.",
                path=where,
            )
        code_of = {n: k for k, n in enumerate(names)}
        codes = np.array([code_of[str(x)] for x in label], dtype=np.int32)
        data_set = set(data)
        without = tuple(s for s, r in zip(data, rows, strict=True) if r < 0)
        not_in_data = tuple(s for s in self.subjects if s not in data_set)
        return SubjectGroups(
            attribute=GROUP_SEPARATOR.join(by),
            attributes=tuple(by),
            names=tuple(names),
            group_of_subject=codes,
            n_subjects=np.bincount(codes, minlength=len(names)).astype(np.int64),
            subjects_without_metadata=without,
            metadata_subjects_not_in_data=not_in_data,
            unknown_values=unknown_values,
            n_metadata_subjects=len(self.subjects),
            source=self.source,
        )

    def _where(self) -> str | None:
        return None if self.source is None else self.source.path


def _group_sort_key(name: str) -> tuple:
    """Groups in natural order, any with an unknown part after the known ones."""
    parts = name.split(GROUP_SEPARATOR)
    return (sum(p == UNKNOWN for p in parts), [(p == UNKNOWN, p.lower(), p) for p in parts])


@dataclass(frozen=True)
class SubjectGroups:
    """The subjects of one data set split into groups.

    Attributes
    ----------
    attribute : str
        ``"sex"``, or ``"sex × age_band"`` for an intersection.
    attributes : tuple of str
    names : tuple of str
        Group labels, in code order (natural order, groups with an unknown part last).
    group_of_subject : ndarray of int32
        Group code of each data subject (same order as the ``data_subjects`` given).
    n_subjects : ndarray of int64
        Data subjects per group.
    subjects_without_metadata : tuple of str
        Data subjects with no row in the metadata (their group is all-``unknown``).
    metadata_subjects_not_in_data : tuple of str
        Metadata subjects the data never mention.
    unknown_values : dict
        Per attribute, data subjects whose value is unknown (missing in the file, or no row).
    n_metadata_subjects : int
    source : InputFile or None
    """

    attribute: str
    attributes: tuple[str, ...]
    names: tuple[str, ...]
    group_of_subject: np.ndarray
    n_subjects: np.ndarray
    subjects_without_metadata: tuple[str, ...]
    metadata_subjects_not_in_data: tuple[str, ...]
    unknown_values: dict[str, int]
    n_metadata_subjects: int
    source: InputFile | None = None

    @property
    def n_groups(self) -> int:
        return len(self.names)

    def code(self, name: str) -> int:
        """The code of group ``name``; InputError listing the groups if there is none."""
        try:
            return self.names.index(name)
        except ValueError:
            shown = ", ".join(repr(n) for n in self.names)
            raise InputError(
                f"there is no group {name!r} in {self.attribute}; the groups are {shown}."
            ) from None

    def coverage_json(self, examples: int = 10) -> dict:
        """How data and metadata matched: counts plus a few example ids of each mismatch."""
        return {
            "subjects_in_data": int(self.group_of_subject.size),
            "subjects_in_metadata": int(self.n_metadata_subjects),
            "subjects_without_metadata": len(self.subjects_without_metadata),
            "subjects_without_metadata_examples": list(self.subjects_without_metadata[:examples]),
            "metadata_subjects_not_in_data": len(self.metadata_subjects_not_in_data),
            "metadata_subjects_not_in_data_examples": list(
                self.metadata_subjects_not_in_data[:examples]
            ),
            "unknown_values": {k: int(v) for k, v in self.unknown_values.items()},
        }

    def warnings(self) -> list[str]:
        """Plain sentences about subjects that did not match, for ``results.json`` warnings."""
        out = []
        n_without = len(self.subjects_without_metadata)
        if n_without:
            ex = ", ".join(self.subjects_without_metadata[:5])
            out.append(
                f"{n_without} of {self.group_of_subject.size} subjects in the data have no row in "
                f"the metadata (e.g. {ex}); they are counted in the group '{UNKNOWN}'."
            )
        n_absent = len(self.metadata_subjects_not_in_data)
        if n_absent:
            ex = ", ".join(self.metadata_subjects_not_in_data[:5])
            out.append(
                f"{n_absent} of {self.n_metadata_subjects} subjects in the metadata do not appear "
                f"in the data (e.g. {ex}); check that both use the same subject ids."
            )
        return out


def parse_by(by: str | Sequence[str], metadata: SubjectMetadata | None = None) -> list[str]:
    """Attribute names from ``"sex"`` / ``"sex,age_band"`` (checked against ``metadata``).

    Raises
    ------
    InputError
        For an empty name, a repeated one, or one the metadata do not have (the message lists
        the attribute columns found).
    """
    names = [p.strip() for p in by.split(",")] if isinstance(by, str) else [str(p) for p in by]
    if not names or any(not n for n in names):
        raise InputError(
            f"--by {by!r} names no attribute; give one attribute column (e.g. --by sex) or two "
            "separated by a comma (--by sex,age_band)."
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"--by names attribute {dup[0]!r} twice; give each attribute once.")
    if metadata is not None:
        missing = [n for n in names if n not in metadata.values]
        if missing:
            have = ", ".join(repr(a) for a in metadata.attributes) or "none"
            hint = _case_hint(missing[0], metadata.attributes)
            raise InputError(
                f"has no attribute column {missing[0]!r} (attribute columns found: {have}); "
                f"--by must name columns of the metadata file.{hint}",
                path=metadata._where(),
            )
    return names


def _case_hint(name: str, names: Iterable[str]) -> str:
    for n in names:
        if n.lower() == name.lower():
            return f" (Did you mean {n!r}? Names are case-sensitive.)"
    return ""
