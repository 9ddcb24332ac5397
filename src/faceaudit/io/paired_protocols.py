"""Several systems on one standard protocol (LFW, CFP, pair lists), from each one's embeddings.

``faceaudit compare --protocol lfw pairs.txt --embeddings A.parquet --embeddings B.parquet``: the
protocol's pairs (:mod:`faceaudit.io.protocols`) are the comparisons, the same for every system;
each system's embeddings of the data set's images (as ``faceaudit embed`` writes them, sample ids
= image paths) are matched to the protocol's samples (:func:`~faceaudit.io.protocols.
resolve_pairs`) and each pair scored by cosine similarity (higher = more similar). Row ``i`` is
protocol pair ``i`` for every system (coverage join ``"protocol pairs"``); a sample a system has
no embedding for is an error, or with ``missing="fta"`` a failure to acquire of that system's
pairs. The subjects are the protocol's (the bootstrap's units); the folds ride along so that the
benchmark's own convention (cross-validated accuracy, mean and spread over folds) is reported
beside the paired intervals.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from faceaudit.data.paired_scores import Coverage, PairedScores, SystemCoverage
from faceaudit.data.protocols import PairProtocol
from faceaudit.errors import InputError
from faceaudit.io.paired_scores import system_names

__all__ = ["PROTOCOLS", "read_paired_protocol", "read_protocol"]

PathLike = str | os.PathLike[str]

#: Protocol kinds: LFW pairs.txt, CFP (frontal-profile, frontal-frontal: the data set's root
#: folder), and generic pair lists (``path1 path2 label [fold]``).
PROTOCOLS = ("lfw", "cfp-fp", "cfp-ff", "pairs")


def read_protocol(kind: str, path: PathLike, *, folds: int | None = None) -> PairProtocol:
    """The protocol of ``kind`` (one of :data:`PROTOCOLS`) read from ``path``."""
    from faceaudit.io.protocols import read_cfp_pairs, read_lfw_pairs, read_pair_list

    kind = str(kind).lower()
    if kind == "lfw":
        return read_lfw_pairs(path)
    if kind in ("cfp-fp", "cfp-ff"):
        return read_cfp_pairs(path, protocol=kind[-2:].upper())
    if kind == "pairs":
        return read_pair_list(path, folds=folds)
    raise InputError(
        f"unknown protocol {kind!r}; give one of {', '.join(PROTOCOLS)} (pairs: a list of "
        "'path1 path2 label [fold]')."
    )


def read_paired_protocol(
    kind: str,
    path: PathLike,
    embeddings: Sequence[PathLike],
    *,
    names: Sequence[str] | None = None,
    folds: int | None = None,
    missing: str = "error",
) -> PairedScores:
    """Read a protocol and score its pairs with each system's embeddings (cosine similarity).

    Parameters
    ----------
    kind, path
        The protocol (:func:`read_protocol`).
    embeddings : sequence of path
        One embeddings file per system (``.npz`` or Parquet, as ``faceaudit identify`` reads).
    names : sequence of str, optional
        One distinct name per system (default: the embeddings files' names).
    folds : int, optional
        Pair lists without a fold column: split into this many consecutive folds.
    missing : {"error", "fta"}
        A protocol sample a system has no embedding for: an error, or failures to acquire.

    Raises
    ------
    InputError
        Fewer than two embeddings files, names missing or repeated, any problem of a file, a
        protocol sample without an embedding (``missing="error"``).
    """
    from faceaudit.io.embeddings import read_embeddings
    from faceaudit.io.protocols import resolve_pairs

    embeddings = list(embeddings)
    if len(embeddings) < 2:
        raise InputError(
            "comparing systems on a protocol needs at least two embeddings files (one per "
            f"system); got {len(embeddings)}."
        )
    names = system_names(embeddings, names)
    proto = read_protocol(kind, path, folds=folds)
    scores, warnings, inputs = [], list(proto.warnings), list(proto.inputs)
    resolved = None
    for name, e in zip(names, embeddings, strict=True):
        emb = read_embeddings(e)
        pairs = resolve_pairs(proto, emb, missing=missing)
        resolved = resolved or pairs.protocol
        scores.append(pairs.cosine_scores(emb.embeddings))
        warnings += [f"{name}: {w}" for w in pairs.warnings]
        inputs += list(getattr(emb, "inputs", ()) or ())
        if pairs.n_fta:
            warnings.append(
                f"{name}: {pairs.n_fta:,} of {proto.n:,} protocol pairs have a sample without an "
                "embedding; they count as failures to acquire of this system."
            )
    p = resolved
    first = np.asarray(p.first_subject).astype(str)
    second = np.asarray(p.second_subject).astype(str)
    known = bool(((np.char.str_len(first) > 0) & (np.char.str_len(second) > 0)).all())
    if known:
        subjects, codes = np.unique(np.concatenate([first, second]), return_inverse=True)
        ps, rs = codes[: p.n].astype(np.int32), codes[p.n :].astype(np.int32)
        subject_list = [str(s) for s in subjects]
    else:
        ps = rs = None
        subject_list = []
    mated = np.asarray(p.mated, dtype=bool)
    cov = Coverage("protocol pairs", p.n, int(mated.sum()), int((~mated).sum()),
                   tuple(SystemCoverage(n, p.n, 0) for n in names))  # fmt: skip
    return PairedScores(
        names=names,
        scores=tuple(scores),
        mated=mated,
        probe_subject=ps,
        reference_subject=rs,
        subjects=subject_list,
        orientation="similarity",
        coverage=cov,
        inputs=inputs,
        warnings=list(dict.fromkeys(warnings)),
        folds=np.asarray(p.folds) if p.n_folds >= 2 else None,
        protocol=p.name,
    )
