"""The bring-your-own ``onnx`` recognizer: the declared preprocessing is applied exactly.

The test model is written here byte by byte (ONNX is protobuf; no ``onnx`` package needed): it
flattens its input, so its "embedding" is the preprocessed crop itself and every step of the spec
(size, colour order, mean/std, layout) can be checked to the last bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faceaudit.errors import InputError
from faceaudit.io.images import read_image
from faceaudit.recognizers import describe_model, load_recognizer
from faceaudit.recognizers.align import warp_to_template

ORL = Path(__file__).resolve().parents[2] / "shared" / "data" / "orl_faces"


# -- a minimal protobuf writer for ONNX ---------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(
        _bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims
    )  # TensorShapeProto.dim: Dimension{dim_value=1 | dim_param=2}
    tensor_type = _int(1, 1) + _bytes(2, shape)  # elem_type FLOAT, shape
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))  # name, TypeProto.tensor_type


def flatten_model(input_dims: list[int | str], output_dim: int) -> bytes:
    """ModelProto: input 'data' -> Flatten(axis=1) -> output 'emb'."""
    node = _bytes(1, "data") + _bytes(2, "emb") + _bytes(3, "flat") + _bytes(4, "Flatten")
    graph = (
        _bytes(1, node)
        + _bytes(2, "g")
        + _bytes(11, _value_info("data", input_dims))
        + _bytes(12, _value_info("emb", ["N", output_dim]))
    )
    opset = _bytes(1, "") + _int(2, 13)
    return _int(1, 8) + _bytes(2, "faceaudit-test") + _bytes(7, graph) + _bytes(8, opset)


W, H = 24, 28


@pytest.fixture
def model_dir(tmp_path):
    (tmp_path / "nchw.onnx").write_bytes(flatten_model(["N", 3, H, W], 3 * H * W))
    (tmp_path / "nhwc.onnx").write_bytes(flatten_model(["N", H, W, 3], 3 * H * W))
    return tmp_path


def _spec(**kw) -> dict:
    spec = {
        "name": "flat",
        "version": "t1",
        "input_size": [W, H],
        "color": "BGR",
        "layout": "NCHW",
        "mean": [10.0, 20.0, 30.0],
        "std": [2.0, 4.0, 8.0],
    }
    spec.update(kw)
    return spec


def _expected(chip: np.ndarray, spec: dict) -> np.ndarray:
    x = chip.astype(np.float64)
    if spec["color"] == "BGR":
        x = x[:, :, ::-1]
    x = (x - np.array(spec["mean"])) / np.array(spec["std"])
    if spec["layout"] == "NCHW":
        x = x.transpose(2, 0, 1)
    return x.ravel()


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_preprocessing_is_exactly_the_declared_one(model_dir, layout):
    spec = _spec(layout=layout)
    path = model_dir / f"{layout.lower()}.onnx"
    rec = load_recognizer("onnx", {"path": str(path), "spec": spec}, threads=1)
    assert rec.info.id == "onnx:flat" and rec.info.dim == 3 * H * W
    assert rec.info.version.startswith("t1 (onnxruntime ")
    rng = np.random.default_rng(0)
    chip = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    got = rec.embed_aligned(chip)
    np.testing.assert_allclose(got, _expected(chip, spec), rtol=1e-6)


def test_sidecar_spec_and_checksum(model_dir):
    import hashlib

    path = model_dir / "nchw.onnx"
    (model_dir / "nchw.onnx.json").write_text(json.dumps(_spec()))
    info = describe_model("onnx", {"path": str(path)})
    assert info.weights_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.config["preprocessing"]["color"] == "BGR"
    other = describe_model("onnx", {"path": str(path), "spec": _spec(std=1.0)})
    assert other.cache_key != info.cache_key


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"color": "RGB"}, "input_size"),
        (_spec(color="YUV"), "'color'"),
        (_spec(layout="CHW"), "'layout'"),
        (_spec(std=[1, 0, 1]), "'std'"),
        (_spec(mean=[1, 2]), "'mean'"),
        (_spec(template=[[0, 0]] * 3), "'template'"),
        (_spec(colour="RGB"), "unknown spec key"),
        (_spec(dim=7), "dim 7 but the model gives"),
        (_spec(input_size=[32, 32]), "does not run on a 32 x 32"),
        (_spec(output="fc1"), "no output 'fc1'"),
    ],
)
def test_spec_errors_name_the_key(model_dir, spec, message):
    with pytest.raises(InputError, match=message):
        describe_model("onnx", {"path": str(model_dir / "nchw.onnx"), "spec": spec})


def test_missing_spec_and_broken_model(model_dir):
    with pytest.raises(InputError, match="no preprocessing spec found"):
        describe_model("onnx", {"path": str(model_dir / "nchw.onnx")})
    (model_dir / "junk.onnx").write_bytes(b"not a model")
    (model_dir / "junk.json").write_text(json.dumps(_spec()))
    with pytest.raises(InputError, match="onnxruntime cannot load"):
        describe_model("onnx", {"path": str(model_dir / "junk.onnx")})
    (model_dir / "bad.onnx").write_bytes(b"x")
    (model_dir / "bad.onnx.json").write_text("{not json")
    with pytest.raises(InputError, match="not a readable JSON"):
        describe_model("onnx", {"path": str(model_dir / "bad.onnx")})


@pytest.mark.skipif(not ORL.is_dir(), reason=f"ORL faces not found at {ORL}")
def test_whole_chain_on_a_real_face(model_dir):
    # MTCNN landmarks -> similarity warp onto the ArcFace template at 24 x 28 -> spec -> model
    spec = _spec(color="RGB", layout="NCHW")
    rec = load_recognizer("onnx", {"path": str(model_dir / "nchw.onnx"), "spec": spec})
    image = read_image(ORL / "s5" / "1.pgm")
    rep = rec.represent(image)
    (face,) = rec.detect(image)
    chip = warp_to_template(image, face.landmarks, rec.spec.template, (W, H))
    want = _expected(chip, spec)
    np.testing.assert_allclose(rep.embedding, want / np.linalg.norm(want), rtol=1e-5, atol=1e-7)


@pytest.mark.skipif(not ORL.is_dir(), reason=f"ORL faces not found at {ORL}")
def test_embed_command_with_an_onnx_model(model_dir, tmp_path):
    from faceaudit.cli import main
    from faceaudit.embedding import read_embedding_result

    (model_dir / "nchw.onnx.json").write_text(json.dumps(_spec()))
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,subject\n{ORL / 's5' / '1.pgm'},s5\n{ORL / 's6' / '1.pgm'},s6\n")
    out = tmp_path / "e.npz"
    model = f"onnx:{model_dir / 'nchw.onnx'}"
    main(["embed", str(manifest), "--out", str(out), "-m", model, "-j", "0", "--no-cache", "-q"])
    res = read_embedding_result(out)
    assert res.model.id == "onnx:flat" and res.embeddings.shape == (2, 3 * H * W)
