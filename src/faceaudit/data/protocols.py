"""Standard verification protocols as domain types: fixed pair lists with subjects and folds.

A published benchmark number is only reproducible on the benchmark's own pairs, split into its own
folds. :class:`PairProtocol` holds such a list — LFW View 2, CFP frontal-frontal / frontal-profile,
AgeDB-30-style lists, or the pairs of templates of an IJB-B/C-style 1:1 protocol — as arrays of
**sample ids** (an image's path relative to the data set's folder, POSIX separators, which is how
:func:`faceaudit.io.images.discover_images` and ``faceaudit embed`` name samples), whether each pair
is mated, the subjects of both sides (for the subject bootstrap) and the fold of each pair. Every
pair remembers the file and line it was read from, so that a later problem (a sample without an
embedding) is reported where the user can fix it.

Template protocols (IJB-B/C) add :class:`TemplateMetadata`: which images (or video frames) make
up each template, with the template's subject and the media (photo or video) each image came from.
Templates are pooled into one embedding each (:func:`pool_template_features`), after which the
template ids are the "samples" of an ordinary :class:`PairProtocol`: one path for both kinds.

Conventions: scores are similarities (higher = more similar), a pair is declared a match when
``score >= threshold``; a pair whose score is missing (``NaN``: a side without a usable embedding)
is a failure to acquire, counted by :meth:`PairProtocol.comparison_scores` as ISO/IEC 19795-1 does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from faceaudit.data.embeddings import EmbeddingSet
from faceaudit.data.inputs import InputFile
from faceaudit.data.scores import ComparisonScores

__all__ = [
    "PairProtocol",
    "ResolvedPairs",
    "TemplateEmbeddings",
    "TemplateMetadata",
    "match_samples",
    "normalise_sample_id",
    "pool_template_features",
]

#: ``match_samples`` result for a wanted id that no available sample matches.
MISSING = -1
#: ``match_samples`` result for a wanted id that several available samples match equally well.
AMBIGUOUS = -2


@dataclass(frozen=True)
class PairProtocol:
    """A fixed list of comparisons (pairs of samples), each mated or not, possibly in folds.

    Attributes
    ----------
    name : str
        E.g. ``"LFW View 2"``, ``"CFP-FP"``, ``"pair list"``.
    first, second : ndarray of str, shape (n,)
        Sample ids of the two sides of each pair (relative image paths, or template ids).
    mated : ndarray of bool, shape (n,)
        True for a pair of the same person ("matched", "same", label 1), as the protocol says.
    first_subject, second_subject : ndarray of str, shape (n,)
        Subject of each side; ``""`` where the protocol does not name it (see
        :func:`faceaudit.io.protocols.resolve_pairs`, which fills it from the embeddings).
    folds : ndarray of int64, shape (n,)
        Fold of each pair, ``1..n_folds``; 0 everywhere when the protocol defines no folds.
    n_folds : int
    origin : ndarray of int32, shape (n,)
        Index into ``sources`` of the file each pair was read from.
    lines : ndarray of int64, shape (n,)
        1-based line of that file.
    sources : tuple of str
        The files, as given.
    inputs : tuple of InputFile
        The files with their checksums.
    convention : str
        How the benchmark's published figure is computed (for reports), e.g. LFW's 10-fold mean
        accuracy with the threshold chosen on the 9 training folds.
    warnings : tuple of str
        Data-quality findings of the reader, with counts.
    """

    name: str
    first: np.ndarray
    second: np.ndarray
    mated: np.ndarray
    first_subject: np.ndarray
    second_subject: np.ndarray
    folds: np.ndarray
    n_folds: int
    origin: np.ndarray
    lines: np.ndarray
    sources: tuple[str, ...]
    inputs: tuple[InputFile, ...] = ()
    convention: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.first.shape[0])

    @property
    def n_mated(self) -> int:
        return int(np.count_nonzero(self.mated))

    @property
    def n_nonmated(self) -> int:
        return self.n - self.n_mated

    def location(self, i: int) -> dict:
        """``path`` and ``line`` of pair ``i`` (keyword arguments of :class:`InputError`)."""
        return {"path": self.sources[int(self.origin[i])], "line": int(self.lines[i])}

    def samples(self) -> np.ndarray:
        """The distinct sample ids the pairs use, in order of first use."""
        both = np.empty(2 * self.n, dtype=np.result_type(self.first, self.second))
        both[0::2], both[1::2] = self.first, self.second
        _, first_at = np.unique(both, return_index=True)
        return both[np.sort(first_at)]

    def with_subjects(self, first_subject, second_subject, *, warnings=()) -> PairProtocol:
        """The same protocol with the subjects of both sides replaced (and warnings added)."""
        return replace(
            self,
            first_subject=np.asarray(first_subject).astype(str),
            second_subject=np.asarray(second_subject).astype(str),
            warnings=self.warnings + tuple(warnings),
        )

    def comparison_scores(self, scores) -> ComparisonScores:
        """The pairs' scores as the 1:1 engine takes them (faceaudit's usual FMR/FNMR/EER).

        Parameters
        ----------
        scores : array-like of float, shape (n,)
            One similarity score per pair, in protocol order; ``NaN`` for a failure to acquire.

        Returns
        -------
        ComparisonScores
            Mated pairs as mated, non-mated as non-mated; subject codes of the first side
            (mated, non-mated probe) and second side (non-mated reference) when every pair names
            both subjects, else none (the bootstrap then resamples comparisons, and a warning
            says so).
        """
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != (self.n,):
            raise ValueError(f"scores must have shape ({self.n},), one per pair; got {s.shape}")
        if np.isinf(s).any():
            raise ValueError("scores must be finite (NaN marks a failure to acquire)")
        ok = ~np.isnan(s)
        m = self.mated
        warnings = list(self.warnings)
        known = (np.char.str_len(self.first_subject) > 0) & (
            np.char.str_len(self.second_subject) > 0
        )
        if known.all():
            names, codes = np.unique(
                np.concatenate([self.first_subject, self.second_subject]), return_inverse=True
            )
            codes = codes.astype(np.int32)
            c1, c2 = codes[: self.n], codes[self.n :]
            subjects = [str(x) for x in names]
            gs, isub, iref = c1[m & ok], c1[~m & ok], c2[~m & ok]
        else:
            subjects, gs, isub, iref = [], None, None, None
            warnings.append(
                f"{int(np.count_nonzero(~known))} of {self.n} pairs do not name both subjects; "
                "intervals resample comparisons, not subjects."
            )
        return ComparisonScores(
            mated=s[m & ok],
            nonmated=s[~m & ok],
            mated_subject=gs,
            nonmated_subject=isub,
            nonmated_reference_subject=iref,
            subjects=subjects,
            mated_fta=int(np.count_nonzero(m & ~ok)),
            nonmated_fta=int(np.count_nonzero(~m & ~ok)),
            inputs=list(self.inputs),
            warnings=warnings,
        )


@dataclass(frozen=True)
class ResolvedPairs:
    """A :class:`PairProtocol` matched to the rows of an embedding matrix.

    ``first_row`` / ``second_row`` index the rows (-1: the sample has no embedding, a failure to
    acquire). Built by :func:`faceaudit.io.protocols.resolve_pairs`.
    """

    protocol: PairProtocol
    first_row: np.ndarray
    second_row: np.ndarray
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_fta(self) -> int:
        """Pairs with a side that has no embedding."""
        return int(np.count_nonzero((self.first_row < 0) | (self.second_row < 0)))

    def cosine_scores(self, embeddings: np.ndarray, *, block: int = 1 << 16) -> np.ndarray:
        """Inner products of the pairs' L2-normalised rows (cosine similarity), ``NaN`` for FTA.

        ``embeddings`` is the matrix the rows index (``EmbeddingSet.embeddings``); computed in
        blocks of ``block`` pairs, in float64.
        """
        x = np.asarray(embeddings)
        out = np.full(self.protocol.n, np.nan)
        ok = np.flatnonzero((self.first_row >= 0) & (self.second_row >= 0))
        for start in range(0, ok.size, block):
            idx = ok[start : start + block]
            a = x[self.first_row[idx]].astype(np.float64, copy=False)
            b = x[self.second_row[idx]].astype(np.float64, copy=False)
            out[idx] = np.einsum("ij,ij->i", a, b)
        return out


@dataclass(frozen=True)
class TemplateMetadata:
    """Which images (or video frames) make up each template of a template protocol (IJB-B/C).

    Attributes
    ----------
    templates : ndarray of str, shape (n,)
        Template id of each image row (a template is one or more rows).
    samples : ndarray of str, shape (n,)
        The image: its sample id (relative path, e.g. ``img/1234.jpg`` or ``frames/5_1.png``).
    subjects : ndarray of str, shape (n,)
        The template's subject (``""`` when the file does not say, e.g. insightface's
        ``*_face_tid_mid.txt``).
    media : ndarray of str, shape (n,)
        The media (a photo, or one video) the image came from (``""`` when unknown: each image
        is then its own media).
    origin, lines, sources, inputs, warnings
        As in :class:`PairProtocol`.
    """

    templates: np.ndarray
    samples: np.ndarray
    subjects: np.ndarray
    media: np.ndarray
    origin: np.ndarray
    lines: np.ndarray
    sources: tuple[str, ...]
    inputs: tuple[InputFile, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.templates.shape[0])

    def location(self, i: int) -> dict:
        return {"path": self.sources[int(self.origin[i])], "line": int(self.lines[i])}

    def template_subjects(self) -> dict[str, str]:
        """Template id -> subject (``""`` when unknown)."""
        return dict(zip(self.templates.tolist(), self.subjects.tolist(), strict=True))


@dataclass(frozen=True)
class TemplateEmbeddings:
    """One pooled embedding per template (:func:`faceaudit.io.protocols.template_embeddings`).

    Attributes
    ----------
    embeddings : EmbeddingSet
        Sample ids are the template ids, subjects the templates' subjects (the template id where
        the metadata names none); only templates with at least one embedded image.
    n_images, n_media : ndarray of int64
        Images and media pooled into each row of ``embeddings``.
    empty : ndarray of str
        Templates none of whose images has an embedding (their pairs are failures to acquire).
    pooling : str
        The pooling rule, in words (for reports).
    warnings : tuple of str
    """

    embeddings: EmbeddingSet
    n_images: np.ndarray
    n_media: np.ndarray
    empty: np.ndarray
    pooling: str
    warnings: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------
# Sample ids


def normalise_sample_id(sample: str) -> str:
    """A sample id as a clean POSIX relative path: ``\\`` -> ``/``, no ``.``, ``..`` resolved.

    ``..`` that climbs above the start is dropped (``../Data/a.jpg`` -> ``Data/a.jpg``), which is
    how a protocol file's path relative to its own folder becomes one relative to the data set.

    Examples
    --------
    >>> normalise_sample_id("./lfw\\\\A/A_0001.jpg")
    'lfw/A/A_0001.jpg'
    >>> normalise_sample_id("../Data/Images/001/frontal/01.jpg")
    'Data/Images/001/frontal/01.jpg'
    """
    parts: list[str] = []
    for p in sample.replace("\\", "/").split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if parts:
                parts.pop()
            continue
        parts.append(p)
    return "/".join(parts)


def match_samples(wanted, available) -> np.ndarray:
    """Rows of ``available`` sample ids that the ``wanted`` ids name, by path suffix.

    A wanted id matches an available one when they are equal after
    :func:`normalise_sample_id`, or when one is the other with leading folders removed
    (``lfw/A/A_0001.jpg`` and ``A/A_0001.jpg``), on whole path components. The longest such
    match wins; a match on the file name alone is taken only when it is unique.

    Returns
    -------
    ndarray of int64
        The row, :data:`MISSING` (-1) when nothing matches, :data:`AMBIGUOUS` (-2) when several
        available ids match equally well on two or more path components.

    Examples
    --------
    >>> match_samples(["Data/Images/001/frontal/01.jpg", "x.jpg"], ["001/frontal/01.jpg"]).tolist()
    [0, -1]
    """
    avail = [normalise_sample_id(str(a)) for a in np.asarray(available).tolist()]
    want = [normalise_sample_id(str(w)) for w in np.asarray(wanted).tolist()]
    exact: dict[str, int] = {}
    for i, a in enumerate(avail):
        exact.setdefault(a, i)
    out = np.full(len(want), MISSING, dtype=np.int64)
    todo = []
    for k, w in enumerate(want):
        row = exact.get(w)
        if row is None:
            todo.append(k)
        else:
            out[k] = row
    if not todo:
        return out
    # every component suffix of every available id -> rows (an id "a/b/c" gives "a/b/c", "b/c", "c")
    suffixes: dict[str, list[int]] = {}
    for i, a in enumerate(avail):
        parts = a.split("/")
        for s in range(len(parts)):
            suffixes.setdefault("/".join(parts[s:]), []).append(i)
    for k in todo:
        parts = want[k].split("/")
        for s in range(len(parts)):
            rows = suffixes.get("/".join(parts[s:]))
            if rows is None:
                continue
            distinct = sorted(set(rows))
            if len(distinct) == 1:
                out[k] = distinct[0]
            elif len(parts) - s >= 2:
                out[k] = AMBIGUOUS
            break
    return out


# ------------------------------------------------------------------------------------------------
# Template pooling


def pool_template_features(
    features: np.ndarray,
    template_index: np.ndarray,
    n_templates: int,
    *,
    media_index: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    normalise_images: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool image features into one L2-normalised feature per template.

    The pooling (insightface's IJB-B/C evaluation, ``image2template_feature``, with the images'
    features L2-normalised first):

    1. each image feature is L2-normalised (``normalise_images``; pass False to keep the norm,
       as insightface's "N1" mode does) and multiplied by its weight (e.g. the detector's face
       score, insightface's "D1" mode; default 1);
    2. the features of one **media** (the frames of one video, or one photo) are averaged, so a
       video of 300 frames counts as much as one photo;
    3. the media features of a template are summed (equivalently averaged: the direction is what
       counts) and the sum is L2-normalised.

    Parameters
    ----------
    features : ndarray, shape (n, d)
    template_index : ndarray of int, shape (n,)
        Template (``0..n_templates-1``) of each row; rows with a negative index are ignored
        (images without an embedding).
    n_templates : int
    media_index : ndarray of int, shape (n,), optional
        Media of each row (any integer codes; only equality within a template matters). None:
        every image is its own media (plain mean of the image features).
    weights : ndarray of float, shape (n,), optional

    Returns
    -------
    pooled : ndarray of float32, shape (n_templates, d)
        Unit rows; a template with no image (or whose features cancel to zero) is a zero row.
    n_images : ndarray of int64, shape (n_templates,)
    n_media : ndarray of int64, shape (n_templates,)

    Examples
    --------
    >>> f = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> pooled, n_img, n_med = pool_template_features(
    ...     f, np.array([0, 0, 0]), 1, media_index=np.array([7, 8, 8]))
    >>> np.round(pooled.astype(float), 4).tolist(), n_img.tolist(), n_med.tolist()
    ([[0.7071, 0.7071]], [3], [2])
    """
    x = np.asarray(features, dtype=np.float64)
    t = np.asarray(template_index, dtype=np.int64)
    if x.ndim != 2 or t.shape != (x.shape[0],):
        raise ValueError("features must be (n, d) and template_index (n,)")
    keep = t >= 0
    x, t = x[keep], t[keep]
    if normalise_images:
        norms = np.linalg.norm(x, axis=1)
        x = x / np.where(norms > 0, norms, 1.0)[:, None]
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)[keep]
        x = x * w[:, None]
    if media_index is None:
        m = np.arange(t.size, dtype=np.int64)
    else:
        m = np.asarray(media_index, dtype=np.int64)[keep]
    # one code per (template, media) pair
    key = np.stack([t, m], axis=1)
    pairs, media_code = np.unique(key, axis=0, return_inverse=True)
    media_code = media_code.reshape(-1)
    counts = np.bincount(media_code, minlength=pairs.shape[0]).astype(np.float64)
    media_sum = np.zeros((pairs.shape[0], x.shape[1]))
    np.add.at(media_sum, media_code, x)
    media_mean = media_sum / counts[:, None]
    pooled = np.zeros((n_templates, x.shape[1]))
    np.add.at(pooled, pairs[:, 0], media_mean)
    norms = np.linalg.norm(pooled, axis=1)
    pooled = pooled / np.where(norms > 0, norms, 1.0)[:, None]
    n_images = np.bincount(t, minlength=n_templates).astype(np.int64)
    n_media = np.bincount(pairs[:, 0], minlength=n_templates).astype(np.int64)
    return pooled.astype(np.float32), n_images, n_media
