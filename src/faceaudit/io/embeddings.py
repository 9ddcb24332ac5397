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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceaudit.errors import InputError
from faceaudit.io._checks import sha256_of as file_sha256  # one file hash for the package

__all__ = ["EmbeddingSet", "read_embeddings", "write_embeddings", "file_sha256"]

_NPZ = {".npz"}
_PARQUET = {".parquet", ".pq"}
_BLOCK = 1 << 16  # rows per block when checking and normalising


@dataclass(frozen=True)
class EmbeddingSet:
    """Embeddings of samples with their subjects.

    Attributes
    ----------
    embeddings : ndarray, float32, shape (n, d)
        L2-normalised unless read with ``normalise=False``.
    subjects : ndarray of str, shape (n,)
    samples : ndarray of str, shape (n,)
        Unique sample ids.
    groups : ndarray of str or None
    path : str or None
        Where the set was read from.
    metadata : dict
        File metadata; ``metadata.get("synthetic")`` is True for :mod:`faceaudit.synth` output.
    """

    embeddings: np.ndarray
    subjects: np.ndarray
    samples: np.ndarray
    groups: np.ndarray | None = None
    path: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))

    def subset(self, index: np.ndarray) -> EmbeddingSet:
        """Rows selected by a boolean mask or an index array (copies the selected rows)."""
        return EmbeddingSet(
            self.embeddings[index],
            self.subjects[index],
            self.samples[index],
            None if self.groups is None else self.groups[index],
            self.path,
            self.metadata,
        )

    @classmethod
    def from_arrays(
        cls,
        embeddings: np.ndarray,
        subjects,
        *,
        samples=None,
        groups=None,
        metadata: dict | None = None,
        normalise: bool = True,
        path: str | None = None,
    ) -> EmbeddingSet:
        """Validate arrays (as :func:`read_embeddings` does) and build a set."""
        emb, subj, samp, grp = _validate(
            embeddings,
            subjects,
            samples,
            groups,
            path=path,
            npz=True,
            normalise=normalise,
            copy=True,
        )
        return cls(emb, subj, samp, grp, path, dict(metadata or {}))


def _where(i: int, npz: bool) -> str:
    return f"embeddings[{i}]" if npz else f"row {i + 1}"


def _narrow(arr: np.ndarray) -> np.ndarray:
    """A fixed-width str array at the width of its longest value (files may over-allocate)."""
    arr = arr.astype(str, copy=False)
    if arr.size and arr.dtype.kind == "U":
        width = max(1, int(np.strings.str_len(arr).max()))
        if width * 4 < arr.dtype.itemsize:
            arr = arr.astype(f"<U{width}")
    return arr


def _as_str_array(values, name: str, path, npz: bool) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return _narrow(arr)
    if arr.dtype.kind == "f":
        raise InputError(
            f"{name} are floating-point numbers; subject and sample ids must be strings or "
            "integers.",
            path=path,
        )
    if arr.dtype.kind == "O":
        bad = [i for i, v in enumerate(arr) if not isinstance(v, str | int | np.integer)]
        if bad:
            raise InputError(
                f"{name} must be strings or integers; {_where(bad[0], npz)} holds {arr[bad[0]]!r}.",
                path=path,
            )
    return _narrow(arr)


def _validate(
    embeddings, subjects, samples, groups, *, path, npz: bool, normalise: bool, copy: bool = False
):
    emb = np.asarray(embeddings)
    if emb.ndim != 2:
        raise InputError(
            f"embeddings must be a 2-d array (one row per sample), got shape {emb.shape}.",
            path=path,
        )
    if emb.dtype.kind not in "fiu":
        raise InputError(
            f"embeddings must be numbers, got dtype {emb.dtype}.",
            path=path,
        )
    n, d = emb.shape
    if n == 0 or d == 0:
        raise InputError(f"the file holds no embeddings (shape {emb.shape}).", path=path)
    if copy or emb.dtype != np.float32 or not emb.flags.writeable or not emb.flags.c_contiguous:
        emb = np.array(emb, dtype=np.float32, order="C")  # ours to normalise in place
    # row norms, in blocks (no full-size temporary); NaN/inf rows give non-finite norms
    norms = np.empty(n, dtype=np.float64)
    for start in range(0, n, _BLOCK):
        block = emb[start : start + _BLOCK]
        norms[start : start + block.shape[0]] = np.sqrt(
            np.einsum("ij,ij->i", block, block, dtype=np.float64)
        )
    finite = np.isfinite(norms)
    if not finite.all():
        i = int(np.argmin(finite))
        raise InputError(
            f"{_where(i, npz)} contains a NaN or infinite value; remove that sample or fix it.",
            path=path,
        )
    subj = _as_str_array(subjects, "subjects", path, npz)
    if subj.ndim != 1 or subj.shape[0] != n:
        raise InputError(
            f"subjects has shape {subj.shape} but embeddings has {n} rows; give one subject per "
            "embedding row.",
            path=path,
        )
    empty = np.char.str_len(subj) == 0
    if empty.any():
        i = int(np.argmax(empty))
        raise InputError(f"{_where(i, npz)} has an empty subject id.", path=path)
    if samples is None:
        samp = _narrow(np.arange(n))
    else:
        samp = _as_str_array(samples, "samples", path, npz)
        if samp.shape != (n,):
            raise InputError(
                f"samples has shape {samp.shape}; give one sample id per embedding row ({n}).",
                path=path,
            )
        ordered = np.sort(samp)  # one copy; locations are looked up only on failure
        same = ordered[1:] == ordered[:-1]
        if same.any():
            dup = ordered[1:][np.argmax(same)]
            rows = np.nonzero(samp == dup)[0][:2]
            raise InputError(
                f"sample id {str(dup)!r} appears more than once ({_where(int(rows[0]), npz)} and "
                f"{_where(int(rows[1]), npz)}); sample ids must be unique.",
                path=path,
            )
    grp = None
    if groups is not None:
        grp = _as_str_array(groups, "groups", path, npz)
        if grp.shape != (n,):
            raise InputError(
                f"groups has shape {grp.shape}; give one group per embedding row ({n}).",
                path=path,
            )
    if normalise:
        zero = norms == 0
        if zero.any():
            i = int(np.argmax(zero))
            raise InputError(
                f"{_where(i, npz)} is the zero vector, which has no direction to compare; remove "
                "that sample.",
                path=path,
            )
        for start in range(0, n, _BLOCK):
            emb[start : start + _BLOCK] /= norms[start : start + _BLOCK, None].astype(np.float32)
    return emb, subj, samp, grp


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
    emb, subj, samp, grp = _validate(
        arrays["embeddings"],
        arrays["subjects"],
        arrays.get("samples"),
        arrays.get("groups"),
        path=path,
        npz=True,
        normalise=normalise,
    )
    return EmbeddingSet(emb, subj, samp, grp, str(path), metadata)


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

    emb, subj, samp, grp = _validate(
        emb,
        col_np("subject"),
        col_np("sample"),
        col_np("group"),
        path=path,
        npz=False,
        normalise=normalise,
    )
    return EmbeddingSet(emb, subj, samp, grp, str(path), metadata)


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
