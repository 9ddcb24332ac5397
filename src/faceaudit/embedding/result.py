"""What embedding a set of images gives: embeddings, failures to acquire, counts, the model.

:class:`EmbeddingResult` (with :class:`Failure`, :class:`EmbedStats`, :class:`EmbedProgress`) is
what :func:`faceaudit.embedding.pipeline.embed_images` returns and the store writes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from faceaudit.recognizers.base import ModelInfo
from faceaudit.stats.bootstrap import Resampler, UnitTable
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.intervals import rate_interval, subject_df

__all__ = ["EmbedProgress", "EmbedStats", "EmbeddingResult", "Failure"]

# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One failure to acquire: the image (sample id), its subject, the reason and a detail."""

    image: str
    subject: str
    reason: str
    detail: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        out = {
            "image": self.image,
            "subject": self.subject,
            "reason": self.reason,
            "detail": self.detail,
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


@dataclass(frozen=True)
class EmbedStats:
    """How a run went: images served from the cache, computed, failed; wall time in seconds."""

    n_images: int
    n_cached: int
    n_computed: int
    n_failed: int
    seconds: float
    workers: int

    @property
    def images_per_second(self) -> float:
        return self.n_images / self.seconds if self.seconds > 0 else math.inf

    def to_json(self) -> dict:
        return {
            "n_images": self.n_images,
            "n_cached": self.n_cached,
            "n_computed": self.n_computed,
            "n_failed": self.n_failed,
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
        }


@dataclass(frozen=True)
class EmbedProgress:
    """Progress so far, passed to the ``progress`` callback after every image."""

    done: int
    total: int
    cached: int
    computed: int
    failed: int


@dataclass(frozen=True, eq=False)
class EmbeddingResult:
    """Embeddings of the images that yielded a face, and the failures of the others.

    Attributes
    ----------
    embeddings : ndarray, float32, shape (n_ok, dim)
        L2-normalised rows, in input order (failed images left out).
    subjects, samples : ndarray of str, shape (n_ok,)
        Subject id and sample id (path relative to the source) of each row.
    metadata : dict of str -> ndarray of str
        Manifest columns carried through, one value per row.
    failures : tuple of Failure
        Every image without an embedding, in input order.
    model : ModelInfo
    n_images : int
        Images attempted (rows + failures).
    source : str
        The folder or manifest read.
    stats : EmbedStats or None
        How the run went (cache hits, time); not part of the data.
    """

    embeddings: np.ndarray
    subjects: np.ndarray
    samples: np.ndarray
    metadata: dict[str, np.ndarray]
    failures: tuple[Failure, ...]
    model: ModelInfo
    n_images: int
    source: str = ""
    stats: EmbedStats | None = None

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def failure_counts(self) -> dict[str, int]:
        """Failures by reason, most frequent first."""
        return dict(Counter(f.reason for f in self.failures).most_common())

    def fta(self, *, confidence: float = 0.95, bootstrap: int = 1000, seed: int = 0) -> Rate:
        """The failure-to-acquire rate (ISO/IEC 19795-1) with a subject-bootstrap interval.

        Images of one person share acquisition conditions, so subjects (not images) are resampled
        with replacement, ``bootstrap`` times; the interval is the percentile interval of the
        resampled rates. With no failure (or only failures) the exact one-sided bound at the
        intervals' level on the number of subjects is reported instead
        (:func:`~faceaudit.stats.estimate.make_rate`).
        """
        n = self.n_images
        count = self.n_failed
        ci = None
        subj_all = list(self.subjects) + [f.subject for f in self.failures]
        _, codes = np.unique(np.asarray(subj_all, dtype=str), return_inverse=True)
        n_subjects = int(codes.max()) + 1 if codes.size else 0
        if n and count and bootstrap > 0:
            failed = np.zeros((len(subj_all), 1))
            failed[len(self.subjects) :] = 1
            table = UnitTable.of_events(codes, failed, n_subjects)  # [images, failed]
            # one batch of all replicates (the random stream of this figure since it existed)
            res = Resampler(table.n_units, bootstrap, seed, batch=bootstrap)
            tot = table.replicate(res.weights())
            reps = tot[:, 1] / tot[:, 0]
            df = subject_df(res, reps, count / n, max(n_subjects - 1, 1))
            lo, hi = rate_interval(reps, count, n, confidence, df=df)
            ci = (float(lo), float(hi))
        return make_rate(
            count, n, ci, confidence=confidence, n_units=n_subjects or None, unit="subject"
        )

    def acquisition(self, *, confidence: float = 0.95, bootstrap: int = 1000) -> dict:
        """The ``acquisition`` block of results.json.

        ``{n_images, n_failed, fta: {value, ci, ...}, by_reason, failures: [{image, reason, ...}]}``
        """
        return {
            "n_images": int(self.n_images),
            "n_failed": int(self.n_failed),
            "fta": self.fta(confidence=confidence, bootstrap=bootstrap).to_json(),
            "by_reason": self.failure_counts(),
            "failures": [f.to_json() for f in self.failures],
        }

    def to_embedding_set(self, *, group_column: str = "group"):
        """The embedded samples as a :class:`faceaudit.data.EmbeddingSet` (1:N input).

        ``groups`` comes from the manifest column ``group_column`` when there is one; the model
        and acquisition go into ``metadata``.
        """
        from faceaudit.data import EmbeddingSet

        return EmbeddingSet.from_arrays(
            self.embeddings,
            self.subjects,
            samples=self.samples,
            groups=self.metadata.get(group_column),
            metadata={"model": self.model.to_json(), "source": self.source},
        )

    def to_json(self) -> dict:
        """Everything but the embeddings: source, model, acquisition (no interval), stats."""
        return {
            "source": self.source,
            "model": self.model.to_json(),
            "n_embeddings": int(self.embeddings.shape[0]),
            "metadata_columns": list(self.metadata),
            "acquisition": {
                "n_images": int(self.n_images),
                "n_failed": int(self.n_failed),
                "by_reason": self.failure_counts(),
                "failures": [f.to_json() for f in self.failures],
            },
            "stats": None if self.stats is None else self.stats.to_json(),
        }
