"""Synthetic face embeddings with a known, documented score distribution.

For tests, benchmarks and demonstrations only: every output carries ``synthetic = True`` and the
parameters that made it, and faceaudit labels results computed from it as synthetic.

Model
-----
All vectors live in ``R^dim`` and are L2-normalised; a score is the cosine similarity (inner product
of the normalised vectors), higher = more similar.

* **Identities.** Subject ``i`` has an identity direction ``mu_i``: a unit vector drawn uniformly
  in the first ``k`` coordinates (``k <= dim``, see ``nonmated_std`` below). A subject of a
  demographic group ``g`` with cohesion ``rho_g`` is drawn around the group's own direction
  ``c_g``: ``mu_i = normalise(sqrt(rho_g) c_g + sqrt(1 - rho_g) u_i)`` with ``u_i`` uniform, so the
  identity directions of one group share a cosine of about ``rho_g``.
* **Samples.** A sample of subject ``i`` is ``x = normalise(mu_i + s * e)`` with ``e ~ N(0, I/dim)``
  (``|e| ~= 1``) and a noise scale ``s = sigma * exp(tau * z - tau^2 / 2)``, ``z ~ N(0, 1)`` drawn
  per sample (``tau`` = ``quality_spread``; ``tau = 0`` gives every sample the same noise).

Resulting scores, to first order in ``1/dim`` (checked by ``tests/test_synth_model.py``):

* mated (two samples of one subject): mean ``~= 1 / (1 + sigma^2)`` =: ``mated_mean``, so
  ``sigma = sqrt(1 / mated_mean - 1)``. With ``tau > 0`` the mated scores spread wider (samples
  of unequal quality) and their mean falls slightly below ``mated_mean``.
* non-mated (samples of two subjects): mean ``~= 0`` across groups; within a group of cohesion
  ``rho``, mean ``~= rho * mated_mean``; standard deviation
  ``nonmated_std^2 ~= (1/k + (2 sigma^2 + sigma^4)/dim) / (1 + sigma^2)^2``. Given a target
  ``nonmated_std`` the model solves this for the identity dimension ``k``; the smallest reachable
  value is ``1/sqrt(dim)`` (``k = dim``), which is the default.

References
----------
The "identity + noise on the hypersphere" model is the usual toy model of normalised face
embeddings (e.g. the von Mises-Fisher view of ArcFace/CosFace features).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = [
    "GroupSpec",
    "SynthParams",
    "SyntheticEmbeddings",
    "synthesize",
    "split_gallery_probes",
]


@dataclass(frozen=True)
class GroupSpec:
    """One synthetic demographic group.

    Parameters
    ----------
    name : str
        Group label written to the ``groups`` array.
    share : float
        Relative share of subjects (normalised over all groups).
    cohesion : float
        ``rho`` in [0, 1): how strongly the group's identities cluster around a shared group
        direction. Within-group non-mated scores have mean ``~= rho * mated_mean``; 0 gives a group
        whose non-mated scores look like everyone else's.
    mated_mean : float or None
        The group's own mated-score mean (its own noise scale); None uses the global value.
    quality_spread : float or None
        The group's own per-sample noise log-spread ``tau``; None uses the global value.
    """

    name: str
    share: float = 1.0
    cohesion: float = 0.0
    mated_mean: float | None = None
    quality_spread: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a group needs a non-empty name.")
        if not self.share > 0:
            raise ValueError(f"group {self.name!r}: share must be > 0, got {self.share}.")
        if not 0 <= self.cohesion < 1:
            raise ValueError(
                f"group {self.name!r}: cohesion must be in [0, 1), got {self.cohesion}."
            )
        if self.mated_mean is not None and not 0 < self.mated_mean < 1:
            raise ValueError(
                f"group {self.name!r}: mated_mean must be in (0, 1), got {self.mated_mean}."
            )
        if self.quality_spread is not None and self.quality_spread < 0:
            raise ValueError(f"group {self.name!r}: quality_spread must be >= 0.")

    @classmethod
    def parse(cls, text: str) -> GroupSpec:
        """Parse ``NAME[:SHARE[:COHESION[:MATED_MEAN[:QUALITY_SPREAD]]]]`` (CLI syntax)."""
        parts = text.split(":")
        if not parts[0]:
            raise ValueError(f"group spec {text!r} has no name.")
        try:
            nums = [float(p) if p else None for p in parts[1:]]
        except ValueError:
            raise ValueError(
                f"group spec {text!r}: expected NAME:SHARE:COHESION:MATED_MEAN:QUALITY_SPREAD "
                "with numbers after the name."
            ) from None
        if len(nums) > 4:
            raise ValueError(f"group spec {text!r} has more than 5 fields.")
        nums += [None] * (4 - len(nums))
        return cls(
            name=parts[0],
            share=1.0 if nums[0] is None else nums[0],
            cohesion=0.0 if nums[1] is None else nums[1],
            mated_mean=nums[2],
            quality_spread=nums[3],
        )


def noise_scale(mated_mean: float) -> float:
    """The noise scale ``sigma`` giving a mated-score mean of ``mated_mean`` (``tau = 0``)."""
    return math.sqrt(1.0 / mated_mean - 1.0)


def identity_dim(dim: int, mated_mean: float, nonmated_std: float | None) -> int:
    """Identity dimension ``k`` that targets ``nonmated_std`` (see the module docstring)."""
    if nonmated_std is None:
        return dim
    s2 = noise_scale(mated_mean) ** 2
    inv_k = nonmated_std**2 * (1.0 + s2) ** 2 - (2.0 * s2 + s2 * s2) / dim
    if inv_k <= 0 or 1.0 / inv_k > dim + 0.5:
        raise ValueError(
            f"nonmated_std {nonmated_std:g} is below the smallest value reachable in {dim} "
            f"dimensions ({1.0 / math.sqrt(dim):.4g} = 1/sqrt(dim)); raise it or raise dim."
        )
    return int(min(dim, max(1, round(1.0 / inv_k))))


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the synthetic model (see the module docstring for their meaning)."""

    dim: int = 128
    mated_mean: float = 0.7
    nonmated_std: float | None = None
    quality_spread: float = 0.0
    groups: tuple[GroupSpec, ...] = ()

    def __post_init__(self) -> None:
        if self.dim < 2:
            raise ValueError(f"dim must be >= 2, got {self.dim}.")
        if not 0 < self.mated_mean < 1:
            raise ValueError(f"mated_mean must be in (0, 1), got {self.mated_mean}.")
        if self.quality_spread < 0:
            raise ValueError("quality_spread must be >= 0.")
        if self.nonmated_std is not None and not self.nonmated_std > 0:
            raise ValueError("nonmated_std must be > 0.")
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"group names must be distinct, got {names}.")
        identity_dim(self.dim, self.mated_mean, self.nonmated_std)  # validates

    @property
    def k(self) -> int:
        return identity_dim(self.dim, self.mated_mean, self.nonmated_std)

    def expected(self) -> dict:
        """First-order expected mated mean and non-mated sd (for ``tau = 0``, no cohesion)."""
        s2 = noise_scale(self.mated_mean) ** 2
        imp_sd = math.sqrt(1.0 / self.k + (2 * s2 + s2 * s2) / self.dim) / (1.0 + s2)
        return {"mated_mean": 1.0 / (1.0 + s2), "nonmated_mean": 0.0, "nonmated_std": imp_sd}

    def to_json(self) -> dict:
        d = asdict(self)
        d["groups"] = [asdict(g) for g in self.groups]
        d["identity_dim"] = self.k
        d["expected"] = self.expected()
        return d


@dataclass(frozen=True)
class SyntheticEmbeddings:
    """Synthetic embeddings, one row per sample, always flagged ``synthetic``.

    Attributes
    ----------
    embeddings : ndarray, float32, shape (n, dim)
        L2-normalised sample embeddings.
    subjects : ndarray of str, shape (n,)
        Subject id per sample (``id0000000`` ...).
    samples : ndarray of str, shape (n,)
        Unique sample id per row (``<subject>/<j>``).
    groups : ndarray of str or None
        Group label per sample when groups were asked for.
    params : SynthParams
    seed : int
    """

    embeddings: np.ndarray
    subjects: np.ndarray
    samples: np.ndarray
    groups: np.ndarray | None
    params: SynthParams
    seed: int
    synthetic: bool = field(default=True)

    def metadata(self) -> dict:
        """The provenance written into output files and results (``synthetic: true``)."""
        return {
            "synthetic": True,
            "generator": "faceaudit.synth",
            "seed": self.seed,
            "params": self.params.to_json(),
        }

    def metadata_json(self) -> str:
        return json.dumps(self.metadata())

    def subset(self, mask_or_index: np.ndarray) -> SyntheticEmbeddings:
        """Rows selected by a boolean mask or an index array (a new object)."""
        return SyntheticEmbeddings(
            self.embeddings[mask_or_index],
            self.subjects[mask_or_index],
            self.samples[mask_or_index],
            None if self.groups is None else self.groups[mask_or_index],
            self.params,
            self.seed,
        )

    def save(self, path, *, force: bool = False) -> None:
        """Write ``.npz`` or ``.parquet`` (see :func:`faceaudit.io.embeddings.write_embeddings`)."""
        from faceaudit.io.embeddings import write_embeddings

        write_embeddings(
            path,
            self.embeddings,
            self.subjects,
            samples=self.samples,
            groups=self.groups,
            metadata=self.metadata(),
            force=force,
        )


def _unit_rows(a: np.ndarray) -> np.ndarray:
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    return a


def synthesize(
    n_subjects: int,
    samples_per_subject: int | Sequence[int] = 2,
    *,
    dim: int = 128,
    mated_mean: float = 0.7,
    nonmated_std: float | None = None,
    quality_spread: float = 0.0,
    groups: Sequence[GroupSpec | str] = (),
    seed: int = 0,
    subject_prefix: str = "id",
    chunk_rows: int = 65536,
) -> SyntheticEmbeddings:
    """Draw synthetic embeddings: ``n_subjects`` identities, each with noisy samples.

    Parameters
    ----------
    n_subjects : int
        Number of subjects (identities).
    samples_per_subject : int or sequence of int
        Samples per subject: one count for all, or one per subject.
    dim : int
        Embedding dimension.
    mated_mean : float
        Target mean of mated (same-subject) cosine scores, in (0, 1).
    nonmated_std : float or None
        Target standard deviation of non-mated cosine scores (>= ``1/sqrt(dim)``); None means
        ``1/sqrt(dim)``.
    quality_spread : float
        Log-sd ``tau`` of the per-sample noise scale (0 = every sample equally noisy).
    groups : sequence of GroupSpec or "NAME:SHARE:COHESION:MATED_MEAN:QUALITY_SPREAD" strings
        Optional demographic groups; subjects are assigned to groups in proportion to ``share``
        (exact counts by largest remainder, in a seeded random order).
    seed : int
        Seed of ``numpy.random.default_rng``: the same arguments give the same arrays.
    subject_prefix : str
        Prefix of subject ids.
    chunk_rows : int
        Rows generated at a time (memory stays ~ the output array plus one chunk).

    Returns
    -------
    SyntheticEmbeddings

    Examples
    --------
    >>> data = synthesize(50, 2, dim=64, seed=1)
    >>> data.embeddings.shape, data.synthetic
    ((100, 64), True)
    """
    specs = tuple(GroupSpec.parse(g) if isinstance(g, str) else g for g in groups)
    params = SynthParams(dim, mated_mean, nonmated_std, quality_spread, specs)
    if n_subjects < 1:
        raise ValueError("n_subjects must be >= 1.")
    per = np.broadcast_to(np.asarray(samples_per_subject, dtype=np.int64), (n_subjects,))
    if (per < 0).any():
        raise ValueError("samples_per_subject must be >= 0.")
    rng = np.random.default_rng(seed)
    k = params.k

    # group assignment (exact shares by largest remainder, random order)
    if specs:
        shares = np.array([g.share for g in specs], dtype=float)
        raw = shares / shares.sum() * n_subjects
        counts = np.floor(raw).astype(np.int64)
        rest = n_subjects - counts.sum()
        counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
        group_of = rng.permutation(np.repeat(np.arange(len(specs)), counts))
        directions = _unit_rows(rng.standard_normal((len(specs), k)))
        rho = np.array([g.cohesion for g in specs])
        g_mean = np.array([g.mated_mean or mated_mean for g in specs])
        g_tau = np.array(
            [quality_spread if g.quality_spread is None else g.quality_spread for g in specs]
        )
    else:
        group_of = np.zeros(n_subjects, dtype=np.int64)
        directions = np.zeros((1, k))
        rho = np.zeros(1)
        g_mean = np.array([mated_mean])
        g_tau = np.array([quality_spread])
    g_sigma = np.sqrt(1.0 / g_mean - 1.0)

    # identity directions, in the first k coordinates
    identities = np.empty((n_subjects, k), dtype=np.float32)
    for start in range(0, n_subjects, chunk_rows):
        stop = min(n_subjects, start + chunk_rows)
        u = _unit_rows(rng.standard_normal((stop - start, k)))
        gi = group_of[start:stop]
        r = rho[gi][:, None]
        identities[start:stop] = _unit_rows(np.sqrt(r) * directions[gi] + np.sqrt(1 - r) * u)

    n = int(per.sum())
    owner = np.repeat(np.arange(n_subjects), per)
    emb = np.empty((n, dim), dtype=np.float32)
    inv_sqrt_d = np.float32(1.0 / math.sqrt(dim))
    for start in range(0, n, chunk_rows):
        stop = min(n, start + chunk_rows)
        who = owner[start:stop]
        gi = group_of[who]
        tau = g_tau[gi]
        z = rng.standard_normal(stop - start)
        scale = (g_sigma[gi] * np.exp(tau * z - tau * tau / 2)).astype(np.float32)
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        block *= (scale * inv_sqrt_d)[:, None]
        block[:, :k] += identities[who]
        emb[start:stop] = _unit_rows(block)

    width = max(7, len(str(n_subjects - 1)))
    digits = np.strings.zfill(np.arange(n_subjects).astype(np.str_), width)
    subject_ids = np.strings.add(np.str_(subject_prefix), digits)
    subjects = subject_ids[owner]
    within = np.arange(n) - np.repeat(np.cumsum(per) - per, per)
    within_str = within.astype(f"<U{len(str(max(int(per.max()) - 1, 0)))}")
    samples = np.strings.add(np.strings.add(subjects, "/"), within_str)
    group_names = None
    if specs:
        group_names = np.array([g.name for g in specs])[group_of[owner]]
    return SyntheticEmbeddings(emb, subjects, samples.astype(str), group_names, params, seed)


def split_gallery_probes(
    data: SyntheticEmbeddings,
    *,
    held_out_subjects: int | float = 0.0,
    seed: int = 0,
    eligible: int | None = None,
) -> tuple[SyntheticEmbeddings, SyntheticEmbeddings]:
    """Split into a gallery (first sample of each enrolled subject) and probes (the rest).

    ``held_out_subjects`` (a count, or a share when < 1) subjects, chosen at random with ``seed``
    among the first ``eligible`` subjects (by id; default all), are not enrolled: all their
    samples become non-mated probes. Enrolled subjects' other samples are mated probes; an
    enrolled subject with one sample is a distractor (gallery only).
    """
    subjects = data.subjects
    uniq, first = np.unique(subjects, return_index=True)
    pool = len(uniq) if eligible is None else int(min(eligible, len(uniq)))
    n_out = held_out_subjects
    if isinstance(n_out, float) and 0 < n_out < 1:
        n_out = int(round(n_out * pool))
    n_out = int(n_out)
    if not 0 <= n_out <= pool:
        raise ValueError(f"held_out_subjects must be between 0 and {pool}.")
    rng = np.random.default_rng(seed)
    held = np.zeros(len(uniq), dtype=bool)
    held[rng.choice(pool, n_out, replace=False)] = True
    enrol = np.zeros(len(subjects), dtype=bool)
    enrol[first[~held]] = True
    enrol_idx = np.sort(np.nonzero(enrol)[0])
    probe_idx = np.nonzero(~enrol)[0]
    return data.subset(enrol_idx), data.subset(probe_idx)
