"""From per-image outcomes to the capture analysis's inputs: the split, references and probes.

The split (one rule for recorded and synthetic conditions):

* ``held_out`` subjects (a share or a number, drawn with the seed as
  :func:`faceaudit.compare.search.split_enrolment` draws them) are not enrolled in the 1:N
  gallery: their probes are non-mated searches;
* each subject's **reference** is its first image, in input order, that is *eligible* (taken in
  the reference condition; every image for a synthetic sweep, whose reference condition is the
  photos as taken) and yields a usable face; it is compared, clean, with every probe (1:1) and,
  unless held out, enrols in the gallery (1:N);
* every other image is a **probe**, in its own condition (recorded), or in every condition of the
  sweep (synthetic). A subject without a usable reference has probes but no mated comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.analyses._capture_types import ProbeObservations, References

__all__ = ["Observation", "Split", "probe_observations", "references_of", "split_subjects"]


@dataclass(frozen=True, eq=False)
class Split:
    """Who is enrolled and which image is each subject's reference.

    ``names`` are the sorted subject ids and ``codes`` each image's subject code; ``reference``
    is the reference image of each subject (-1: none usable); ``held`` marks held-out subjects.
    """

    names: tuple[str, ...]
    codes: np.ndarray
    reference: np.ndarray
    held: np.ndarray
    held_out: float | int

    @property
    def is_reference(self) -> np.ndarray:
        out = np.zeros(self.codes.size, dtype=bool)
        out[self.reference[self.reference >= 0]] = True
        return out

    def to_json(self, rule: str) -> dict:
        has = self.reference >= 0
        return {
            "references": rule,
            "held_out": self.held_out,
            "n_subjects": len(self.names),
            "n_with_reference": int(has.sum()),
            "n_enrolled": int((has & ~self.held).sum()),
            "n_held_out": int(self.held.sum()),
            "n_reference_photos": int(has.sum()),
            "n_probe_photos": int(self.codes.size - has.sum()),
        }


def split_subjects(
    subjects: Sequence[str],
    acquired: np.ndarray,
    eligible: np.ndarray,
    *,
    held_out: float | int,
    seed: int,
) -> Split:
    """The split of the module docstring; ``acquired`` / ``eligible`` per image."""
    names, codes = np.unique(np.asarray(subjects, dtype=str), return_inverse=True)
    n = names.size
    n_out = held_out
    if isinstance(n_out, float) and 0 < n_out < 1:
        n_out = int(round(n_out * n))
    n_out = min(int(n_out), n)
    rng = np.random.default_rng(seed)
    held = np.zeros(n, dtype=bool)
    held[rng.choice(n, n_out, replace=False)] = True
    reference = np.full(n, -1, dtype=np.int64)
    ok = np.flatnonzero(np.asarray(acquired, bool) & np.asarray(eligible, bool))
    for i in ok[::-1]:  # the first one in input order wins
        reference[codes[i]] = i
    return Split(tuple(str(s) for s in names), codes.astype(np.int64), reference, held, held_out)


def references_of(
    split: Split,
    embeddings: np.ndarray,
    samples: Sequence[str],
    quality: np.ndarray | None = None,
) -> References:
    """The :class:`References` of a split; ``embeddings`` / ``quality`` are per image."""
    subj = np.flatnonzero(split.reference >= 0)
    rows = split.reference[subj]
    return References(
        embeddings=np.ascontiguousarray(embeddings[rows], dtype=np.float32),
        subject=subj.astype(np.int64),
        enrolled=~split.held[subj],
        sample=np.asarray(samples, dtype=str)[rows],
        quality=None if quality is None else np.asarray(quality, dtype=np.float64)[rows],
    )


@dataclass(frozen=True)
class Observation:
    """One probe photo in one condition: the image it comes from and what the recognizer gave."""

    image: int
    condition: int
    photo: str
    status: str
    embedding: np.ndarray | None = None
    quality: float = float("nan")
    measures: Mapping[str, float] | None = None


def probe_observations(
    split: Split, samples: Sequence[str], rows: Sequence[Observation], dim: int
) -> ProbeObservations:
    """Stack observations into :class:`ProbeObservations` (measures: the union of names)."""
    n = len(rows)
    emb = np.zeros((n, dim), dtype=np.float32)
    acquired = np.zeros(n, dtype=bool)
    for k, o in enumerate(rows):
        if o.status == "ok":
            emb[k] = o.embedding
            acquired[k] = True
    names = sorted({m for o in rows if o.measures for m in o.measures})
    measures = {
        m: np.array(
            [
                np.nan if not o.measures or o.measures.get(m) is None else float(o.measures[m])
                for o in rows
            ]
        )
        for m in names
    }
    image = np.array([o.image for o in rows], dtype=np.int64)
    sample = np.asarray(samples, dtype=str)
    return ProbeObservations(
        condition=np.array([o.condition for o in rows], dtype=np.int64),
        subject=split.codes[image] if n else np.zeros(0, dtype=np.int64),
        photo=np.array([o.photo for o in rows], dtype=str),
        sample=sample[image] if n else np.zeros(0, dtype=str),
        acquired=acquired,
        embeddings=emb,
        reason=np.array(["" if o.status == "ok" else o.status for o in rows], dtype=str),
        quality=np.array([o.quality for o in rows], dtype=np.float64),
        measures=measures,
    )
