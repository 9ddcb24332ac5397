"""The registry of recognizers: built-in model names, plug-ins by ``"package.module:Class"``.

A name of the form ``"package.module:Class"`` loads any importable
:class:`~faceaudit.recognizers.base.Recognizer` subclass, which is how tests and plug-ins add models
that worker processes can also load.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from faceaudit.errors import InputError
from faceaudit.recognizers.base import DEFAULT_MODEL, ModelInfo, Recognizer, file_sha256

__all__ = [
    "BUILTIN_MODELS",
    "available_models",
    "describe_model",
    "load_recognizer",
    "recognizer_class",
]

#: Built-in models: registry name -> ``"module:Class"``.
BUILTIN_MODELS: dict[str, str] = {
    "dlib-resnet": "faceaudit.recognizers.dlib_resnet:DlibResnet",
    "facenet": "faceaudit.recognizers.facenet:FaceNet",
    "onnx": "faceaudit.recognizers.onnx:OnnxRecognizer",
}


def available_models() -> list[str]:
    """Names of the built-in models."""
    return list(BUILTIN_MODELS)


def recognizer_class(name: str) -> type[Recognizer]:
    """The class behind a model name: a built-in name or ``"package.module:Class"``.

    Raises
    ------
    InputError
        Unknown name, or a path that does not name a Recognizer subclass.
    """
    target = BUILTIN_MODELS.get(name)
    if target is None:
        if ":" not in name or name.startswith("onnx:"):
            raise InputError(
                f"unknown model {name!r}; choose one of {', '.join(BUILTIN_MODELS)} (or "
                "'package.module:Class' for a plug-in recognizer)."
            )
        target = name
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"model {name!r} cannot be loaded ({exc}).") from None
    if not (isinstance(cls, type) and issubclass(cls, Recognizer)):
        raise InputError(f"model {name!r} is not a faceaudit Recognizer class.")
    return cls


def describe_model(
    name: str = DEFAULT_MODEL,
    options: Mapping[str, Any] | None = None,
    *,
    hash_file: Callable[[Path], str] = file_sha256,
) -> ModelInfo:
    """The :class:`ModelInfo` of a model with options, without loading its network."""
    cls = recognizer_class(name)
    opts = dict(options or {})
    cls.resolve_options(opts)
    return cls.describe(hash_file=hash_file, **opts)


def load_recognizer(
    name: str = DEFAULT_MODEL,
    options: Mapping[str, Any] | None = None,
    *,
    threads: int | None = None,
    info: ModelInfo | None = None,
) -> Recognizer:
    """Build a ready-to-use recognizer (loads its network).

    Examples
    --------
    >>> rec = load_recognizer("dlib-resnet")                # doctest: +SKIP
    >>> rec.represent(read_image("face.jpg")).embedding.shape  # doctest: +SKIP
    (128,)
    """
    return recognizer_class(name)(threads=threads, info=info, **dict(options or {}))
