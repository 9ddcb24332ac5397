"""Protocols matched to embeddings and images: pairs resolved, image folders checked, templates
pooled (formats: :mod:`faceaudit.io.protocols`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faceaudit.data.embeddings import EmbeddingSet
from faceaudit.data.protocols import (
    AMBIGUOUS,
    MISSING,
    PairProtocol,
    ResolvedPairs,
    TemplateEmbeddings,
    TemplateMetadata,
    match_samples,
    normalise_sample_id,
    pool_template_features,
)
from faceaudit.errors import InputError

# ------------------------------------------------------------------------------------------------
# Resolution against embeddings and images


def _check_missing(missing: str) -> str:
    if missing not in ("error", "fta"):
        raise InputError(
            f"missing={missing!r} is not known; use 'error' (refuse) or 'fta' (count the pairs "
            "as failures to acquire)."
        )
    return missing


def resolve_pairs(
    protocol: PairProtocol, embeddings: EmbeddingSet, *, missing: str = "error"
) -> ResolvedPairs:
    """Match a protocol's sample ids to the rows of an embedding set.

    A protocol sample matches an embedding's sample id by path, tolerating extra or missing
    leading folders (:func:`faceaudit.data.protocols.match_samples`). Subjects the protocol does
    not name are taken from the embeddings; where both name one and they differ, the protocol's
    label still decides mated / non-mated and a warning counts the pairs.

    Parameters
    ----------
    protocol : PairProtocol
    embeddings : EmbeddingSet
    missing : {"error", "fta"}
        A sample without an embedding: refuse (InputError naming the protocol line), or count
        its pairs as failures to acquire (``NaN`` scores).

    Returns
    -------
    ResolvedPairs
        ``cosine_scores(embeddings.embeddings)`` gives one score per pair.

    Raises
    ------
    InputError
        A sample that several embeddings match; a sample without an embedding (``missing=
        "error"``).
    """
    _check_missing(missing)
    n = protocol.n
    uniq, inv = np.unique(np.concatenate([protocol.first, protocol.second]), return_inverse=True)
    rows_u = match_samples(uniq, embeddings.samples)
    rows = rows_u[inv.reshape(-1)]
    r1, r2 = rows[:n].copy(), rows[n:].copy()
    where = embeddings.path or "the embeddings"
    amb = (r1 == AMBIGUOUS) | (r2 == AMBIGUOUS)
    if amb.any():
        i = int(np.argmax(amb))
        s = protocol.first[i] if r1[i] == AMBIGUOUS else protocol.second[i]
        leaf = normalise_sample_id(str(s)).rsplit("/", 1)[-1]
        hits = [str(x) for x in embeddings.samples.tolist() if str(x).endswith(leaf)][:2]
        raise InputError(
            f"sample {s!r} matches several samples of {where} ({', '.join(hits)}); give the "
            "embeddings' sample ids as paths relative to the data set's folder.",
            **protocol.location(i),
        )
    lost = (r1 == MISSING) | (r2 == MISSING)
    warnings: list[str] = []
    if lost.any():
        if missing == "error":
            i = int(np.argmax(lost))
            s = protocol.first[i] if r1[i] == MISSING else protocol.second[i]
            example = embeddings.samples[0] if embeddings.n else "none"
            raise InputError(
                f"sample {s!r} has no embedding in {where} ({embeddings.n} samples, e.g. "
                f"{str(example)!r}); embed it, or pass missing='fta' to count its pairs as "
                "failures to acquire.",
                **protocol.location(i),
            )
        n_lost_samples = int(np.count_nonzero(rows_u == MISSING))
        warnings.append(
            f"{n_lost_samples} sample(s) of the protocol have no embedding: {int(lost.sum())} of "
            f"{n} pairs are failures to acquire."
        )
    emb_subj = embeddings.subjects
    subj = []
    disagree = 0
    for side, r in ((protocol.first_subject, r1), (protocol.second_subject, r2)):
        have = r >= 0
        from_emb = np.where(have, emb_subj[np.where(have, r, 0)], "").astype(str)
        known = np.char.str_len(side) > 0
        disagree += int(np.count_nonzero(known & have & (side != from_emb)))
        subj.append(np.where(known, side, from_emb))
    if disagree:
        warnings.append(
            f"{disagree} pair side(s) name a subject that differs from the embeddings' subject; "
            "the protocol's labels and subjects are used."
        )
    resolved = protocol.with_subjects(subj[0], subj[1], warnings=warnings)
    return ResolvedPairs(resolved, r1, r2, tuple(warnings))


def check_image_folder(
    protocol: PairProtocol | TemplateMetadata, folder: str | os.PathLike[str]
) -> list[Path]:
    """The image files a protocol names under ``folder``, in order of first use.

    Raises
    ------
    InputError
        ``folder`` is not a folder; an image is not there (naming the protocol line that uses
        it first). Samples are looked up as given, then with their leading folders dropped one
        by one (a protocol may name ``lfw/A/A_0001.jpg`` for a folder that is ``lfw`` itself).
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError("is not a folder; give the data set's image folder.", path=folder)
    if isinstance(protocol, TemplateMetadata):
        samples, first_at = np.unique(protocol.samples, return_index=True)
    else:
        both = np.concatenate([protocol.first, protocol.second])
        samples, first_at = np.unique(both, return_index=True)
    order = np.argsort(first_at)
    out = []
    for k in order:
        s = str(samples[k])
        parts = s.split("/")
        found = None
        for start in range(len(parts)):
            cand = root.joinpath(*parts[start:])
            if cand.is_file():
                found = cand
                break
        if found is None:
            i = int(first_at[k])
            if isinstance(protocol, TemplateMetadata):
                loc = protocol.location(i)
            else:
                loc = protocol.location(i % protocol.n)
            raise InputError(f"image {s!r} is not in {root}.", **loc)
        out.append(found)
    return out


def template_embeddings(
    embeddings: EmbeddingSet,
    metadata: TemplateMetadata,
    *,
    media: bool = True,
    weights=None,
    normalise_images: bool = True,
    missing: str = "error",
) -> TemplateEmbeddings:
    """Pool image embeddings into one embedding per template (IJB-B/C).

    Pooling (:func:`faceaudit.data.protocols.pool_template_features`): L2-normalise each image's
    embedding, average within each media (all frames of one video) when ``media``, sum over the
    template's media and L2-normalise again: insightface's IJB evaluation with its norm and
    detector-score weighting off (for its "N1D1" mode read the embeddings with
    ``normalise=False`` and pass ``normalise_images=False, weights=face_scores``).

    Parameters
    ----------
    embeddings : EmbeddingSet
        The images' embeddings; sample ids are matched to the metadata's file names by path.
    metadata : TemplateMetadata
    media : bool
        Average a media's frames first (default); False: every image counts once.
    weights : array-like of float, shape (embeddings.n,), optional
        Per-embedding weights (e.g. the detector's face score).
    normalise_images : bool
    missing : {"error", "fta"}
        An image without an embedding: refuse, or pool the template from its other images (a
        template with none left is listed in ``empty``, and its pairs become failures to
        acquire with ``resolve_pairs(..., missing="fta")``).

    Returns
    -------
    TemplateEmbeddings
    """
    _check_missing(missing)
    uniq, inv = np.unique(metadata.samples, return_inverse=True)
    rows_u = match_samples(uniq, embeddings.samples)
    rows = rows_u[inv.reshape(-1)]
    where = embeddings.path or "the embeddings"
    if (rows == AMBIGUOUS).any():
        i = int(np.argmax(rows == AMBIGUOUS))
        raise InputError(
            f"image {metadata.samples[i]!r} matches several samples of {where}; give the "
            "embeddings' sample ids as paths relative to the data set's folder.",
            **metadata.location(i),
        )
    warnings = list(metadata.warnings)
    lost = rows == MISSING
    if lost.any():
        if missing == "error":
            i = int(np.argmax(lost))
            raise InputError(
                f"image {metadata.samples[i]!r} of template {metadata.templates[i]} has no "
                f"embedding in {where}; embed it, or pass missing='fta'.",
                **metadata.location(i),
            )
        warnings.append(
            f"{int(lost.sum())} of {metadata.n} template images have no embedding; their "
            "templates are pooled from the others."
        )
    tids, t_code = np.unique(metadata.templates, return_inverse=True)
    t_code = t_code.reshape(-1)
    # per embedding row: its template (an image may serve several templates: one row per use)
    use = ~lost
    feats = embeddings.embeddings[rows[use]]
    w = None
    if weights is not None:
        w_all = np.asarray(weights, dtype=np.float64)
        if w_all.shape != (embeddings.n,):
            raise InputError(
                f"weights has shape {w_all.shape}; give one weight per embedding ({embeddings.n})."
            )
        w = w_all[rows[use]]
    media_codes = None
    if media:
        m = np.where(np.char.str_len(metadata.media) > 0, metadata.media, "")
        # an image without a media id is its own media
        key = np.where(m != "", np.char.add("m:", m), np.char.add("s:", metadata.samples))
        _, media_codes = np.unique(key[use], return_inverse=True)
    pooled, n_img, n_med = pool_template_features(
        feats,
        t_code[use],
        tids.size,
        media_index=media_codes,
        weights=w,
        normalise_images=normalise_images,
    )
    has = n_img > 0
    zero = has & (np.linalg.norm(pooled, axis=1) == 0)
    if zero.any():
        raise InputError(
            f"template {tids[int(np.argmax(zero))]}: its image features sum to the zero vector; "
            "it has no direction to compare."
        )
    subject_of = metadata.template_subjects()
    subj = np.array([subject_of.get(t, "") or t for t in tids[has].tolist()], dtype=str)
    rule = (
        ("L2-normalised image features" if normalise_images else "image features (norm kept)")
        + (", weighted" if weights is not None else "")
        + (", averaged within each media, then" if media else ",")
        + " summed over the template and L2-normalised"
    )
    if (~has).any():
        warnings.append(f"{int((~has).sum())} template(s) have no embedded image.")
    es = EmbeddingSet(
        pooled[has],
        subj.reshape(int(has.sum())),
        tids[has].astype(str),
        None,
        embeddings.path,
        {**embeddings.metadata, "templates": True, "pooling": rule},
        embeddings.inputs + metadata.inputs,
        tuple(warnings),
    )
    return TemplateEmbeddings(es, n_img[has], n_med[has], tids[~has], rule, tuple(warnings))
