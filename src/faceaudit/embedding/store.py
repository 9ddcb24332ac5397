"""Write and read the output of ``faceaudit embed``: Parquet (default) or ``.npz``.

Parquet
    One row per embedded image: ``subject`` (string), ``sample`` (string: the image path relative
    to the source), ``embedding`` (``fixed_size_list<float32>[dim]``, L2-normalised), then the
    manifest's metadata columns (strings). The schema's key-value metadata ``faceaudit`` holds JSON:
    ``{"format": "faceaudit-embeddings", "version": 1, "faceaudit_version", "source", "model":
    {id, version, weights_sha256, dim, config, files}, "acquisition": {n_images, n_failed,
    by_reason, failures: [{image, subject, reason, detail}]}, "metadata_columns": [...]}``.
``.npz``
    Arrays ``embeddings`` (float32, n x dim), ``subjects``, ``samples`` (str), ``groups`` (str,
    when the manifest has a ``group`` column), ``meta_<column>`` for the other metadata columns,
    and ``metadata`` (a 0-d str array holding the JSON above). Loadable with
    ``numpy.load(path, allow_pickle=False)``.

Both are what :func:`faceaudit.io.embeddings.read_embeddings` reads. Files are written atomically
(a temporary file in the same folder, fsync, rename) and contain no timestamp, so the same images
and model give byte-identical files.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from faceaudit._version import __version__
from faceaudit.embedding.result import EmbeddingResult, Failure
from faceaudit.errors import InputError
from faceaudit.recognizers.base import ModelInfo

__all__ = ["FORMAT", "read_embedding_result", "save_embeddings"]

FORMAT = "faceaudit-embeddings"
_PARQUET = (".parquet", ".pq")
_NPZ = (".npz",)


def _header(result: EmbeddingResult) -> dict:
    return {
        "format": FORMAT,
        "version": 1,
        "faceaudit_version": __version__,
        "source": result.source,
        "model": result.model.to_json(),
        "acquisition": {
            "n_images": int(result.n_images),
            "n_failed": int(result.n_failed),
            "by_reason": result.failure_counts(),
            "failures": [f.to_json() for f in result.failures],
        },
        "metadata_columns": list(result.metadata),
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, force: bool, write) -> None:
    if path.exists() and not force:
        raise InputError("the file already exists; pass --force to replace it.", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644 & ~_umask())  # as open() would have made it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _string_array(pa, values):
    """A pyarrow string array from Python strings, without pyarrow's pandas checks."""
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(
        len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))
    )


def save_embeddings(
    result: EmbeddingResult, path: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write an :class:`EmbeddingResult` as Parquet (``.parquet``/``.pq``) or ``.npz``.

    Refuses an existing file unless ``force``; writes atomically. Returns the path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _PARQUET + _NPZ:
        raise InputError(
            f"unknown output format {suffix or '(no suffix)'!r}; name the file .parquet or .npz.",
            path=path,
        )
    header = json.dumps(_header(result), ensure_ascii=False, allow_nan=False)
    emb = np.ascontiguousarray(result.embeddings, dtype=np.float32)
    if suffix in _PARQUET:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Arrays are built from buffers: pa.array() would import pandas (about a second), which
        # would dominate a run served from the cache.
        values = pa.Array.from_buffers(
            pa.float32(), emb.size, [None, pa.py_buffer(emb.reshape(-1))]
        )
        names = ["subject", "sample", "embedding"]
        arrays = [
            _string_array(pa, result.subjects),
            _string_array(pa, result.samples),
            pa.FixedSizeListArray.from_arrays(values, result.dim),
        ]
        for name, column in result.metadata.items():
            names.append(name)
            arrays.append(_string_array(pa, column))
        table = pa.Table.from_arrays(arrays, names=names)
        table = table.replace_schema_metadata({"faceaudit": header})
        _atomic(path, force, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    else:
        arrays = {
            "embeddings": emb,
            "subjects": np.asarray(result.subjects, dtype=str),
            "samples": np.asarray(result.samples, dtype=str),
            "metadata": np.array(header),
        }
        for name, values in result.metadata.items():
            key = "groups" if name == "group" else f"meta_{name}"
            arrays[key] = np.asarray(values, dtype=str)

        def write(tmp: str) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)

        _atomic(path, force, write)
    return path


def read_embedding_result(path: str | os.PathLike[str]) -> EmbeddingResult:
    """Read back a file written by :func:`save_embeddings` (model, failures and metadata too).

    Raises
    ------
    InputError
        Not such a file (wrong format, no faceaudit metadata).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file.", path=path)
    suffix = path.suffix.lower()
    meta_cols: dict[str, np.ndarray] = {}
    try:
        if suffix in _PARQUET:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(b"faceaudit")
            header = json.loads(raw) if raw else {}
            col = table.column("embedding").combine_chunks()
            dim = col.type.list_size
            emb = col.flatten().to_numpy().astype(np.float32).reshape(len(col), dim)
            subjects = np.array(table.column("subject").to_pylist(), dtype=str)
            samples = np.array(table.column("sample").to_pylist(), dtype=str)
            for name in header.get("metadata_columns", []):
                meta_cols[name] = np.array(table.column(name).to_pylist(), dtype=str)
        elif suffix in _NPZ:
            with np.load(path, allow_pickle=False) as npz:
                header = json.loads(str(npz["metadata"])) if "metadata" in npz.files else {}
                emb = np.asarray(npz["embeddings"], dtype=np.float32)
                subjects = np.asarray(npz["subjects"], dtype=str)
                samples = np.asarray(npz["samples"], dtype=str)
                for name in header.get("metadata_columns", []):
                    key = "groups" if name == "group" else f"meta_{name}"
                    meta_cols[name] = np.asarray(npz[key], dtype=str)
        else:
            raise InputError("not a .parquet or .npz file.", path=path)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot be read as faceaudit embeddings ({exc}).", path=path) from None
    if header.get("format") != FORMAT:
        raise InputError(
            "this file was not written by `faceaudit embed` (no faceaudit-embeddings metadata).",
            path=path,
        )
    acq = header["acquisition"]
    failures = tuple(
        Failure(f["image"], f["subject"], f["reason"], f.get("detail", ""), f.get("metadata", {}))
        for f in acq["failures"]
    )
    return EmbeddingResult(
        embeddings=emb,
        subjects=subjects,
        samples=samples,
        metadata=meta_cols,
        failures=failures,
        model=ModelInfo.from_json(header["model"]),
        n_images=int(acq["n_images"]),
        source=str(header.get("source", "")),
    )
