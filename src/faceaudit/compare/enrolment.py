"""Enrolment: which samples of a gallery file become templates, and the single-file split into a
gallery and probes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from faceaudit.data import EmbeddingSet

__all__ = ["Enrolment", "enrol_gallery", "split_enrolment"]


@dataclass(frozen=True)
class Enrolment:
    """The enrolled gallery: templates (rows of ``embeddings``) and their subjects.

    For a gallery in shards ``embeddings`` is None and ``templates`` reads them from disk.
    """

    embeddings: np.ndarray | None
    template_subject: np.ndarray  # int64 code into ``subjects`` per template
    subjects: np.ndarray  # str, enrolled subject ids (sorted)
    samples: np.ndarray  # str, sample id per template
    n_unused: int  # gallery-file samples not enrolled
    templates: object = None  # faceaudit.compare.shards.Templates for a sharded gallery

    @property
    def dim(self) -> int:
        if self.embeddings is not None:
            return int(self.embeddings.shape[1])
        return int(self.templates.shards.dim)

    @property
    def gallery_size(self) -> int:
        return int(len(self.subjects))

    @property
    def max_templates(self) -> int:
        return int(np.bincount(self.template_subject).max()) if len(self.template_subject) else 0


def enrol_gallery(gallery, enrol: str | Iterable[str] = "first", *, path=None) -> Enrolment:
    """Choose the enrolled templates of a gallery file.

    Parameters
    ----------
    gallery : EmbeddingSet or faceaudit.compare.shards.ShardedGallery
        L2-normalised embeddings (in memory or in shards on disk).
    enrol : "first", "all", or an iterable of sample ids
        ``"first"`` (default, as NIST): the first sample of each subject in file order;
        ``"all"``: every sample; otherwise exactly the named samples.
    """
    from faceaudit.errors import InputError

    names = code = None
    if isinstance(enrol, str) and enrol == "first":
        # one stable argsort serves both "first sample per subject" and the subject codes
        order = np.argsort(gallery.subjects, kind="stable")
        ordered = gallery.subjects[order]
        new = np.ones(order.size, dtype=bool)
        new[1:] = ordered[1:] != ordered[:-1]
        if new.all():  # one sample per subject (the usual gallery): everything enrols
            names = ordered
            code = np.empty(order.size, dtype=np.int64)
            code[order] = np.arange(order.size)
            idx = np.arange(order.size)
        else:
            idx = np.sort(order[new])
        del order, ordered, new
    elif isinstance(enrol, str) and enrol == "all":
        idx = np.arange(gallery.n)
    elif isinstance(enrol, str):
        raise ValueError(f"enrol must be 'first', 'all' or sample ids, got {enrol!r}.")
    else:
        wanted = np.asarray(list(enrol), dtype=str)
        pos = {s: i for i, s in enumerate(gallery.samples.tolist())}
        missing = [s for s in wanted.tolist() if s not in pos]
        if missing:
            raise InputError(
                f"sample {missing[0]!r} named for enrolment is not in the gallery file"
                + (f" ({len(missing)} samples are missing)" if len(missing) > 1 else "")
                + ".",
                path=path or gallery.path,
            )
        idx = np.unique(np.array([pos[s] for s in wanted.tolist()], dtype=np.int64))
        if len(idx) == 0:
            raise InputError("no sample was named for enrolment.", path=path or gallery.path)
    from faceaudit.compare.shards import ShardedGallery, Templates

    if isinstance(gallery, ShardedGallery):
        every = len(idx) == gallery.n
        subj = gallery.subjects if every else gallery.subjects[idx]
        samples = gallery.samples if every else gallery.samples[idx]
        if not every:
            names = None
        if names is None:
            names, code = np.unique(subj, return_inverse=True)
        templates = Templates(shards=gallery.shards, index=None if every else np.asarray(idx))
        return Enrolment(
            None, code.astype(np.int64), names, samples, gallery.n - len(idx), templates
        )
    if len(idx) == gallery.n:  # every sample enrols: no copies
        emb, subj, samples = gallery.embeddings, gallery.subjects, gallery.samples
    else:
        emb = np.ascontiguousarray(gallery.embeddings[idx])
        subj, samples = gallery.subjects[idx], gallery.samples[idx]
        names = None
    if names is None:
        names, code = np.unique(subj, return_inverse=True)
    return Enrolment(emb, code.astype(np.int64), names, samples, gallery.n - len(idx))


def split_enrolment(
    data: EmbeddingSet, *, held_out: float | int = 0.2, seed: int = 0
) -> tuple[EmbeddingSet, EmbeddingSet]:
    """Split one embeddings file into a gallery and probes (single-file mode).

    ``held_out`` subjects (a share < 1 or a count), chosen at random with ``seed``, are not
    enrolled: their samples are non-mated probes. Each other subject enrols its first sample; its
    remaining samples are mated probes.
    """
    uniq, first = np.unique(data.subjects, return_index=True)
    n_out = held_out
    if isinstance(n_out, float) and 0 < n_out < 1:
        n_out = int(round(n_out * len(uniq)))
    n_out = int(n_out)
    if not 0 <= n_out <= len(uniq):
        raise ValueError(f"held_out must be between 0 and {len(uniq)} subjects.")
    rng = np.random.default_rng(seed)
    held = np.zeros(len(uniq), dtype=bool)
    held[rng.choice(len(uniq), n_out, replace=False)] = True
    enrol = np.zeros(data.n, dtype=bool)
    enrol[first[~held]] = True
    return data.subset(np.nonzero(enrol)[0]), data.subset(np.nonzero(~enrol)[0])
