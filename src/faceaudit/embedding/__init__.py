"""Images to embeddings: the parallel, cached, resumable pipeline and its output files.

>>> from faceaudit.embedding import embed_images, save_embeddings     # doctest: +SKIP
>>> result = embed_images("orl_faces/", model="dlib-resnet", workers=2)  # doctest: +SKIP
>>> save_embeddings(result, "emb.parquet")                             # doctest: +SKIP

See :mod:`faceaudit.embedding.pipeline` (guarantees), :mod:`faceaudit.embedding.cache` (where the
cache lives and why a killed run loses nothing) and :mod:`faceaudit.embedding.store` (file layout).
"""

from faceaudit.embedding.cache import EmbeddingCache, default_cache_dir
from faceaudit.embedding.pipeline import (
    EmbeddingResult,
    EmbedProgress,
    EmbedStats,
    Failure,
    default_workers,
    embed_images,
)
from faceaudit.embedding.store import read_embedding_result, save_embeddings

__all__ = [
    "EmbedProgress",
    "EmbedStats",
    "EmbeddingCache",
    "EmbeddingResult",
    "Failure",
    "default_cache_dir",
    "default_workers",
    "embed_images",
    "read_embedding_result",
    "save_embeddings",
]
