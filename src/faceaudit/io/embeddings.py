"""Read and write face embeddings with their subject ids, validating every record.

Formats
-------
``.npz``
    Arrays ``embeddings`` (float, n x d) and ``subjects`` (str or int, n); optional ``samples``
    (unique sample ids, n; default: the row index ``"0"``, ``"1"``, ...), ``groups`` (str, n) and
    ``metadata`` (a 0-d str array holding JSON, e.g. ``{"synthetic": true, ...}``). Loaded with
    ``allow_pickle=False``: object arrays are refused.
``.parquet`` / ``.pq``
    Columns ``subject`` (string or integer), ``embedding`` (fixed-size list of floats, or a list
    column whose rows all have one length), optional ``sample`` (unique) and ``group``. File-level
    key ``faceaudit`` in the schema metadata holds the JSON metadata.

Bad input raises :class:`faceaudit.errors.InputError` naming the file, the row (``embeddings[i]``,
0-based, for ``.npz``; ``row i``, 1-based, for Parquet) and the problem.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from faceaudit.data.embeddings import EmbeddingSet, validate_embeddings
from faceaudit.data.inputs import InputFile
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest
from faceaudit.io._checks import sha256_of as file_sha256  # one file hash for the package

__all__ = [
    "duplicate_warnings",
    "file_sha256",
    "overlap_warnings",
    "read_embeddings",
    "read_sample_ids",
    "write_embeddings",
]

_NPZ = {".npz"}
_PARQUET = {".parquet", ".pq"}
_BLOCK = 1 << 16  # rows per block when checking and normalising


def _source(path: Path, records: int) -> tuple[InputFile, ...]:
    return (InputFile(str(path), PendingDigest(path), records),)


def _read_npz(path: Path, normalise: bool) -> EmbeddingSet:
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as exc:  # zipfile/ValueError/OSError variants
        raise InputError(f"cannot be read as a .npz archive ({exc}).", path=path) from None
    with npz:
        keys = set(npz.files)
        missing = {"embeddings", "subjects"} - keys
        if missing:
            raise InputError(
                f"the .npz archive lacks the array(s) {sorted(missing)} (it has {sorted(keys)}); "
                "save it with np.savez(path, embeddings=..., subjects=...).",
                path=path,
            )
        try:
            arrays = {
                k: npz[k] for k in ("embeddings", "subjects", "samples", "groups") if k in keys
            }
            meta_raw = npz["metadata"] if "metadata" in keys else None
        except ValueError as exc:
            raise InputError(
                f"an array in the archive cannot be loaded without pickle ({exc}); store ids as "
                "fixed-width strings (np.array(ids, dtype=str)).",
                path=path,
            ) from None
    metadata = {}
    if meta_raw is not None:
        try:
            metadata = json.loads(str(meta_raw))
        except json.JSONDecodeError:
            raise InputError("the 'metadata' array is not valid JSON.", path=path) from None
    emb, subj, samp, grp = validate_embeddings(
        arrays["embeddings"],
        arrays["subjects"],
        arrays.get("samples"),
        arrays.get("groups"),
        path=path,
        npz=True,
        normalise=normalise,
    )
    return _with_warnings(
        EmbeddingSet(emb, subj, samp, grp, str(path), metadata, _source(path, len(subj)))
    )


def _read_parquet(path: Path, normalise: bool) -> EmbeddingSet:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InputError(f"cannot be read as a Parquet file ({exc}).", path=path) from None
    cols = set(table.column_names)
    missing = {"subject", "embedding"} - cols
    if missing:
        raise InputError(
            f"the Parquet file lacks the column(s) {sorted(missing)} (it has "
            f"{sorted(cols)}); expected 'subject', 'embedding' and optionally 'sample', 'group'.",
            path=path,
        )
    metadata = {}
    raw = (table.schema.metadata or {}).get(b"faceaudit")
    if raw:
        try:
            metadata = json.loads(raw)
        except json.JSONDecodeError:
            metadata = {}
    for name in ("subject", "embedding", "sample", "group"):
        if name in cols and table.column(name).null_count:
            i = int(np.argmax(table.column(name).is_null().to_numpy(zero_copy_only=False)))
            raise InputError(f"column '{name}' is empty (null) in row {i + 1}.", path=path)
    col = table.column("embedding").combine_chunks()
    typ = col.type
    if pa.types.is_fixed_size_list(typ):
        d = typ.list_size
        values = col.flatten()
    elif pa.types.is_list(typ) or pa.types.is_large_list(typ):
        lengths = col.value_lengths().to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != lengths[0]).any():
            i = int(np.argmax(lengths != lengths[0]))
            raise InputError(
                f"row {i + 1}: the embedding has {lengths[i]} values but row 1 has {lengths[0]}; "
                "every embedding must have the same length.",
                path=path,
            )
        d = int(lengths[0]) if len(lengths) else 0
        values = col.flatten()
    else:
        raise InputError(
            f"column 'embedding' has type {typ}; expected a list of floats per row.", path=path
        )
    if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        raise InputError(
            f"column 'embedding' holds {values.type} values; expected floats.", path=path
        )
    if values.null_count:
        flat = int(np.argmax(values.is_null().to_numpy(zero_copy_only=False)))
        raise InputError(
            f"row {flat // max(d, 1) + 1}: the embedding contains a null value.", path=path
        )
    emb = values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    emb = emb.reshape(len(col), d) if d else emb.reshape(len(col), 0)
    if not emb.flags.writeable:
        emb = emb.copy()

    def col_np(name):
        return table.column(name).to_numpy() if name in cols else None

    emb, subj, samp, grp = validate_embeddings(
        emb,
        col_np("subject"),
        col_np("sample"),
        col_np("group"),
        path=path,
        npz=False,
        normalise=normalise,
    )
    return _with_warnings(
        EmbeddingSet(emb, subj, samp, grp, str(path), metadata, _source(path, len(subj)))
    )


def _with_warnings(eset: EmbeddingSet) -> EmbeddingSet:
    found = duplicate_warnings(eset)
    if not found:
        return eset
    from dataclasses import replace

    return replace(eset, warnings=(*eset.warnings, *found))


def _row_keys(emb: np.ndarray) -> np.ndarray:
    """A 64-bit key per row from its first 16 bytes (rows with equal keys are then compared
    in full): cheap whatever the dimension."""
    n, d = emb.shape
    head = np.zeros((n, 16), dtype=np.uint8)
    raw = np.ascontiguousarray(emb[:, : min(d, 4)]).view(np.uint8)
    head[:, : raw.shape[1]] = raw
    words = head.view(np.uint64)
    with np.errstate(over="ignore"):
        return words[:, 0] * np.uint64(0x9E3779B97F4A7C15) ^ words[:, 1]


def _equal_rows(a: np.ndarray, ka: np.ndarray, b: np.ndarray, kb: np.ndarray):
    """Pairs ``(i, j)`` with ``a[i] == b[j]`` exactly (byte for byte), each i once."""
    order = np.argsort(kb, kind="stable")
    sorted_kb = kb[order]
    lo = np.searchsorted(sorted_kb, ka, side="left")
    hi = np.searchsorted(sorted_kb, ka, side="right")
    cand = np.flatnonzero(hi > lo)
    first = order[lo[cand]]
    same = np.ones(cand.size, dtype=bool)
    for start in range(0, cand.size, 1 << 14):  # the first key match of each, compared in bulk
        block = slice(start, start + (1 << 14))
        same[block] = (a[cand[block]] == b[first[block]]).all(axis=1)
    pairs = list(zip(cand[same].tolist(), first[same].tolist(), strict=True))
    for i in cand[~same][(hi - lo)[cand[~same]] > 1].tolist():  # later matches of the rest
        for j in order[lo[i] + 1 : hi[i]].tolist():
            if np.array_equal(a[i], b[j]):
                pairs.append((i, j))
                break
    return pairs


def duplicate_warnings(eset: EmbeddingSet) -> list[str]:
    """Sentences with counts about exact copies of an embedding within one set.

    A copy (the same image embedded twice under two sample ids) scores with its original as
    high as a comparison can: as a mated pair it inflates mated scores, and labelled with two
    subjects it is a certain false match. Read sets carry these in their ``warnings``.
    """
    emb = eset.embeddings
    keys = _row_keys(emb)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    cand = np.flatnonzero(sk[1:] == sk[:-1])
    copies, other_subject = 0, 0
    seen = set()
    for c in cand.tolist():
        i, j = int(order[c]), int(order[c + 1])
        if j in seen:
            continue
        if np.array_equal(emb[i].view(np.uint8), emb[j].view(np.uint8)):
            seen.add(j)
            copies += 1
            other_subject += bool(eset.subjects[i] != eset.subjects[j])
    if not copies:
        return []
    where = f" in {eset.path}" if eset.path else ""
    return [
        f"{copies} of {eset.n} embeddings{where} are exact copies of another embedding of the "
        f"set ({other_subject} of them labelled with a different subject). A copy scores with "
        "its original as high as a comparison can: as a mated pair it inflates the mated "
        "scores, labelled as two people it is a certain false match. The same image was "
        "probably enrolled twice: remove the copies."
    ]


def _explicit_samples(eset: EmbeddingSet) -> bool:
    """False when the sample ids are the default row numbers ("0", "1", ...)."""
    return not np.array_equal(eset.samples, np.arange(eset.n).astype(eset.samples.dtype))


def overlap_warnings(gallery: EmbeddingSet, probes: EmbeddingSet) -> list[str]:
    """Sentences with counts about probes that are also in the gallery.

    Two checks: probe sample ids that are gallery sample ids (when both sets have sample ids of
    their own), and probe embeddings identical, byte for byte, to a gallery embedding (whatever
    the ids). Either way a probe finds itself in the gallery at the top score, so 1:N accuracy
    looks better than it is: the gallery used as its own probes, or overlapping splits. Costs one
    sort of 64-bit keys per set; rows are compared in full only where keys agree.
    """
    out = []
    if _explicit_samples(gallery) and _explicit_samples(probes):
        shared = np.intersect1d(gallery.samples, probes.samples)
        if shared.size:
            ex = ", ".join(repr(str(x)) for x in shared[:3])
            out.append(
                f"{shared.size} of {probes.n} probe samples are also gallery samples (the same "
                f"sample id, e.g. {ex}). A probe searched against a gallery that holds it finds "
                "itself at the top score, so 1:N accuracy looks better than it is: use probes "
                "that are not enrolled."
            )
    if gallery.dim == probes.dim:
        pairs = _equal_rows(
            probes.embeddings,
            _row_keys(probes.embeddings),
            gallery.embeddings,
            _row_keys(gallery.embeddings),
        )
        if pairs:
            i, j = pairs[0]
            out.append(
                f"{len(pairs)} of {probes.n} probe embeddings are identical to a gallery "
                f"embedding (e.g. probe {str(probes.samples[i])!r} and gallery sample "
                f"{str(gallery.samples[j])!r}): the same image is in both, and such a search "
                "finds its own copy at the top score. Use probe images that are not enrolled."
            )
    return out


def read_embeddings(path: str | os.PathLike[str], *, normalise: bool = True) -> EmbeddingSet:
    """Read an embeddings file (``.npz`` or Parquet; see the module docstring).

    Parameters
    ----------
    path : path-like
    normalise : bool
        L2-normalise every row (in place, float32), as cosine-similarity search needs.

    Returns
    -------
    EmbeddingSet

    Raises
    ------
    InputError
        Missing file, unknown extension, missing arrays/columns, bad shapes, NaN/inf values,
        zero vectors, empty subject ids, duplicate sample ids.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file; check the path.", path=path)
    suffix = path.suffix.lower()
    if suffix in _NPZ:
        return _read_npz(path, normalise)
    if suffix in _PARQUET:
        return _read_parquet(path, normalise)
    raise InputError(
        f"unknown embeddings format {suffix!r}; use .npz (arrays 'embeddings', 'subjects') or "
        ".parquet (columns 'subject', 'sample', 'embedding').",
        path=path,
    )


def write_embeddings(
    path: str | os.PathLike[str],
    embeddings: np.ndarray,
    subjects,
    *,
    samples=None,
    groups=None,
    metadata: dict | None = None,
    force: bool = False,
) -> None:
    """Write embeddings atomically as ``.npz`` (uncompressed) or Parquet.

    Refuses an existing file unless ``force``. ``metadata`` (JSON-serialisable) is stored with the
    data (``metadata`` array / Parquet schema key ``faceaudit``).
    """
    path = Path(path)
    if path.exists() and not force:
        raise InputError("the file already exists; pass --force to replace it.", path=path)
    suffix = path.suffix.lower()
    if suffix not in _NPZ | _PARQUET:
        raise InputError(
            f"unknown embeddings format {suffix!r}; name the file .npz or .parquet.", path=path
        )
    emb = np.ascontiguousarray(embeddings, dtype=np.float32)
    subjects = np.asarray(subjects).astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        if suffix in _NPZ:
            arrays = {"embeddings": emb, "subjects": subjects}
            if samples is not None:
                arrays["samples"] = np.asarray(samples).astype(str)
            if groups is not None:
                arrays["groups"] = np.asarray(groups).astype(str)
            if metadata:
                arrays["metadata"] = np.array(json.dumps(metadata))
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            n, d = emb.shape
            cols = {"subject": pa.array(subjects)}
            if samples is not None:
                cols["sample"] = pa.array(np.asarray(samples).astype(str))
            cols["embedding"] = pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), d)
            if groups is not None:
                cols["group"] = pa.array(np.asarray(groups).astype(str))
            table = pa.table(cols)
            if metadata:
                table = table.replace_schema_metadata({"faceaudit": json.dumps(metadata)})
            pq.write_table(table, tmp)
        os.chmod(tmp, 0o644 & ~_umask())  # mkstemp made it 0600; others' files are 0644
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_sample_ids(path: str | os.PathLike[str]) -> list[str]:
    """Sample ids listed one per line (blank lines and ``#`` comments ignored), e.g. the samples
    that enrol in a gallery.

    Raises
    ------
    InputError
        A missing or unreadable file, or one that lists no id.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(
            "is not a file; the enrolment takes 'first', 'all' or a file naming the enrolled "
            "sample ids (one per line).",
            path=p,
        )
    from faceaudit.io.lines import id_lines

    ids, _ = id_lines(p, path)
    if not ids.size:
        raise InputError("lists no sample id.", path=p)
    return [str(i) for i in ids.tolist()]
