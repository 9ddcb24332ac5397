"""A crash-safe, append-only embedding cache keyed by (image bytes SHA-256, model computation).

One SQLite database per cache folder, in write-ahead-log mode. Each processed image is one row,
inserted in its own transaction (``INSERT OR IGNORE``: rows are never updated or deleted), so:

- a run killed at any moment (SIGKILL, power cut aside) keeps every row it committed, and the next
  run resumes from there, recomputing only the images not yet stored;
- several processes may share one cache (SQLite locks; a writer waits up to a minute);
- a rerun over the same images reads embeddings back instead of computing them.

Keys: ``image_sha256`` is the SHA-256 of the file's bytes (so a renamed or copied file is still a
hit, and an edited one is not), or for a degraded variant of an image the derived key of
:func:`faceaudit.embedding.variants.variant_key` (source SHA-256, degradation chain, seed, eyes);
``model_key`` is :attr:`ModelInfo.cache_key` (model id, version, weights checksum and every
setting that changes the output). Outcomes stored: an embedding, or a
model-side failure to acquire (``no_face``, ``too_small``). Reading failures (``decode_error``,
``too_large``, ...) are not stored: they are cheap to find again and depend on reader settings.
The ``quality`` table holds the image quality measures (:mod:`faceaudit.capture.quality`) of an
image key under the model whose landmarks placed the face region, and the measures' version;
:meth:`EmbeddingCache.put` stores an embedding and its measures in one transaction.

Location: :func:`default_cache_dir`, i.e. ``$FACEAUDIT_CACHE``, else
``$XDG_CACHE_HOME/faceaudit``, else ``~/.cache/faceaudit``.

Durability: ``synchronous=NORMAL`` in WAL mode: a committed row survives the process being killed
(the log is in the operating system's hands); after a power loss the database stays consistent but
the last rows may be lost. Those rows are then simply recomputed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceaudit.errors import InputError

__all__ = ["CacheEntry", "EmbeddingCache", "default_cache_dir"]

DB_NAME = "embeddings-v1.sqlite3"

#: Failure reasons that depend only on the image bytes and the model: these are cached.
CACHED_FAILURES = frozenset({"no_face", "too_small"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    image_sha256 TEXT NOT NULL,
    model_key    TEXT NOT NULL,
    status       TEXT NOT NULL,          -- 'ok' or a failure reason
    detail       TEXT,
    width        INTEGER,
    height       INTEGER,
    dim          INTEGER,
    embedding    BLOB,                   -- float32, little-endian, dim values
    face         TEXT,                   -- JSON: box, score, landmarks, n_faces
    created      REAL NOT NULL,
    PRIMARY KEY (image_sha256, model_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
    model_key TEXT PRIMARY KEY,
    info      TEXT NOT NULL,             -- ModelInfo.to_json()
    created   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS quality (
    image_sha256 TEXT NOT NULL,          -- the image key (derived for a degraded image)
    model_key    TEXT NOT NULL,          -- whose landmarks placed the face region
    quality_key  TEXT NOT NULL,          -- the measures' version (faceaudit.capture.quality)
    measures     TEXT NOT NULL,          -- JSON: ImageQuality.to_json()
    created      REAL NOT NULL,
    PRIMARY KEY (image_sha256, model_key, quality_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS file_hashes (
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256   TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
"""


def default_cache_dir() -> Path:
    """``$FACEAUDIT_CACHE``, else ``$XDG_CACHE_HOME/faceaudit``, else ``~/.cache/faceaudit``."""
    env = os.environ.get("FACEAUDIT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "faceaudit"


@dataclass(frozen=True)
class CacheEntry:
    """One stored outcome: ``status == "ok"`` with an embedding, or a failure reason."""

    status: str
    detail: str | None
    width: int | None
    height: int | None
    embedding: np.ndarray | None
    face: dict | None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class EmbeddingCache:
    """The cache in folder ``path`` (created if needed). Use as a context manager, or close().

    Parameters
    ----------
    path : path-like
        The cache folder.
    read_only : bool
        Open for reading only (no folder is created; a missing database holds nothing).
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.folder = Path(path)
        self.file = self.folder / DB_NAME
        self.read_only = read_only
        try:
            if read_only:
                uri = f"file:{self.file}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
            else:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(self.file), timeout=60.0, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise InputError(
                f"the embedding cache cannot be opened ({exc}); pass another --cache folder, or "
                "--no-cache, or delete the damaged file.",
                path=self.file,
            ) from None

    # -- context manager ------------------------------------------------------------------------

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (every row is already committed)."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None

    # -- models -----------------------------------------------------------------------------------

    def register_model(self, info) -> None:
        """Record a model description under its key (for people inspecting the cache)."""
        self._db.execute(
            "INSERT OR IGNORE INTO models (model_key, info, created) VALUES (?, ?, ?)",
            (info.cache_key, json.dumps(info.to_json(), sort_keys=True), time.time()),
        )

    def file_sha256(self, path: Path) -> str:
        """SHA-256 of a (model) file, remembered by (path, size, mtime) so reruns skip hashing."""
        from faceaudit.recognizers.base import file_sha256

        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
        row = self._db.execute(
            "SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?", key
        ).fetchone()
        if row:
            return row[0]
        digest = file_sha256(path)
        if not self.read_only:
            self._db.execute(
                "INSERT OR IGNORE INTO file_hashes (path, size, mtime_ns, sha256) "
                "VALUES (?, ?, ?, ?)",
                (*key, digest),
            )
        return digest

    # -- entries --------------------------------------------------------------------------------

    def get(self, image_sha256: str, model_key: str) -> CacheEntry | None:
        """The stored outcome for this image and model, or None."""
        try:
            row = self._db.execute(
                "SELECT status, detail, width, height, dim, embedding, face FROM embeddings "
                "WHERE image_sha256 = ? AND model_key = ?",
                (image_sha256, model_key),
            ).fetchone()
        except sqlite3.OperationalError:  # read-only and no table yet
            return None
        if row is None:
            return None
        status, detail, width, height, dim, blob, face = row
        emb = None
        if status == "ok":
            emb = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            if dim is None or emb.shape[0] != dim:
                return None  # a damaged row: recompute
        return CacheEntry(status, detail, width, height, emb, json.loads(face) if face else None)

    def put(
        self,
        image_sha256: str,
        model_key: str,
        entry: CacheEntry,
        *,
        quality: tuple[str, dict] | None = None,
    ) -> None:
        """Store one outcome (committed before returning; an existing row is kept).

        ``quality``: ``(quality_key, measures)`` stored with it, in the same transaction.
        """
        if entry.status != "ok" and entry.status not in CACHED_FAILURES:
            return
        blob = None
        dim = None
        if entry.status == "ok":
            emb = np.ascontiguousarray(entry.embedding, dtype="<f4")
            blob, dim = emb.tobytes(), int(emb.shape[0])
        row = (
            image_sha256,
            model_key,
            entry.status,
            entry.detail,
            entry.width,
            entry.height,
            dim,
            blob,
            json.dumps(entry.face) if entry.face is not None else None,
            time.time(),
        )
        sql = (
            "INSERT OR IGNORE INTO embeddings (image_sha256, model_key, status, detail, width, "
            "height, dim, embedding, face, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        if quality is None:
            self._db.execute(sql, row)
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(sql, row)
            self._put_quality(image_sha256, model_key, *quality)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- quality measures ----------------------------------------------------------------------

    def get_quality(self, image_sha256: str, model_key: str, quality_key: str) -> dict | None:
        """The stored quality measures of this image key, or None."""
        try:
            row = self._db.execute(
                "SELECT measures FROM quality WHERE image_sha256 = ? AND model_key = ? AND "
                "quality_key = ?",
                (image_sha256, model_key, quality_key),
            ).fetchone()
        except sqlite3.OperationalError:  # read-only and no table yet
            return None
        return None if row is None else json.loads(row[0])

    def put_quality(
        self, image_sha256: str, model_key: str, quality_key: str, measures: dict
    ) -> None:
        """Store the quality measures of an image key (an existing row is kept)."""
        self._put_quality(image_sha256, model_key, quality_key, measures)

    def _put_quality(self, image_sha256, model_key, quality_key, measures) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO quality (image_sha256, model_key, quality_key, measures, "
            "created) VALUES (?, ?, ?, ?, ?)",
            (image_sha256, model_key, quality_key, json.dumps(measures), time.time()),
        )

    def count_quality(self) -> int:
        """Quality rows stored."""
        try:
            return int(self._db.execute("SELECT COUNT(*) FROM quality").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def count(self, model_key: str | None = None) -> int:
        """Rows stored (for one model key, or in all)."""
        try:
            if model_key is None:
                return int(self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM embeddings WHERE model_key = ?", (model_key,)
                ).fetchone()[0]
            )
        except sqlite3.OperationalError:
            return 0
