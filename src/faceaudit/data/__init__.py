"""Domain types: what every layer of faceaudit passes around, below the readers and the engine.

``io`` fills them from files, ``compare`` and ``embedding`` produce them, ``stats`` and
``analyses`` consume them; none of them reads a file. Frozen where they can be; arrays inside are
never copied on the way through.

- :class:`InputFile` — an input as read: path as given, SHA-256, records.
- :class:`ComparisonScores` — 1:1 mated / non-mated scores (similarity-oriented), subject codes,
  failures to acquire.
- :class:`CandidateLists`, :class:`ProbeTruth`, :class:`CandidateSearch` — 1:N candidate lists,
  the probes' ground truth and the gallery they were searched against.
- :class:`EmbeddingSet` — embeddings with subjects, sample ids and optional groups.
- :class:`SubjectMetadata`, :class:`SubjectGroups` — subject attributes and the split of a data
  set's subjects into (demographic) groups.
"""

from faceaudit.data.candidates import CandidateLists, CandidateSearch, ProbeTruth
from faceaudit.data.embeddings import EmbeddingSet, validate_embeddings
from faceaudit.data.inputs import InputFile
from faceaudit.data.metadata import SubjectGroups, SubjectMetadata, parse_by
from faceaudit.data.scores import ComparisonScores

__all__ = [
    "CandidateLists",
    "CandidateSearch",
    "ComparisonScores",
    "EmbeddingSet",
    "InputFile",
    "ProbeTruth",
    "SubjectGroups",
    "SubjectMetadata",
    "parse_by",
    "validate_embeddings",
]
