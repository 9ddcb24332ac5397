"""Offline face recognizers behind one protocol: detect, pick a face, landmarks, align, embed.

Built-in models (all run offline from files shipped in PyPI packages):

``dlib-resnet`` (default)
    dlib's ResNet 128-D descriptor, HOG (or CNN) detector, 5-point landmarks, dlib's face chip
    (:mod:`faceaudit.recognizers.dlib_resnet`).
``facenet``
    FaceNet 512-D through OpenCV dnn, MTCNN detector, similarity alignment to the ArcFace template
    (:mod:`faceaudit.recognizers.facenet`).
``onnx``
    Your own ONNX model with a declared preprocessing spec (:mod:`faceaudit.recognizers.onnx`).

Every embedding is L2-normalised, so the comparison score is the cosine similarity (inner product;
higher = more similar). A model's :class:`ModelInfo` (id, version, weights SHA-256, dimension,
settings) goes into results.json as ``model``.

Examples
--------
>>> from faceaudit.io.images import read_image
>>> from faceaudit.recognizers import load_recognizer
>>> rec = load_recognizer("dlib-resnet")                               # doctest: +SKIP
>>> rep = rec.represent(read_image("alice/1.jpg"))                     # doctest: +SKIP
>>> rep.embedding.shape, rep.face.box                                  # doctest: +SKIP
((128,), (41.0, 52.0, 126.0, 137.0))
"""

from faceaudit.recognizers.base import (
    DEFAULT_MODEL,
    Face,
    ModelInfo,
    Recognizer,
    Representation,
    pick_face,
)
from faceaudit.recognizers.registry import (
    BUILTIN_MODELS,
    available_models,
    describe_model,
    load_recognizer,
)

__all__ = [
    "BUILTIN_MODELS",
    "DEFAULT_MODEL",
    "Face",
    "ModelInfo",
    "Recognizer",
    "Representation",
    "available_models",
    "describe_model",
    "load_recognizer",
    "pick_face",
]
