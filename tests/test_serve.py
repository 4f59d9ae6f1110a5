"""Tests for dlguide.serve: the FastAPI image-classification service, through httpx's TestClient.

A small CNN is built and saved once per module; every request goes through the real application
(multipart parsing, the body-size middleware, Pillow decoding, the model). One real photograph of
the aircraft damage test set must get the same answer from the service as from the model in
memory fed the image the way `keras.utils.image_dataset_from_directory` loads it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dlguide import serve

CLASSES = ["crack", "dent"]
SIZE = 32
LIMIT = 300_000  # bytes: larger than any test image below, smaller than the oversized upload
REPO = Path(__file__).resolve().parents[1]


def _real_image() -> Path | None:
    value = os.environ.get("DLGUIDE_DATA_MIRROR", "")
    mirror = Path(value) if value else REPO.parent / "shared" / "data"
    found = sorted((mirror / "aircraft_damage_dataset_v1" / "test" / "dent").glob("*.jpg"))
    return found[0] if found else None


REAL_IMAGE = _real_image()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded CNN (RGB 32x32 in, one sigmoid unit out) saved as a .keras file."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid", bias_initializer="ones"),
        ]
    )
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def model(model_file: Path) -> keras.Model:
    return keras.models.load_model(model_file)


@pytest.fixture(scope="module")
def client(model_file: Path) -> Iterator[TestClient]:
    with TestClient(serve.create_app(model_file, CLASSES, max_upload_bytes=LIMIT)) as c:
        yield c


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _photo(mode: str = "RGB") -> Image.Image:
    """A seeded 48x40 noise picture in the given Pillow mode."""
    pixels = np.random.default_rng(1).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    return Image.fromarray(pixels).convert(mode)


def _post(client: TestClient, payload: bytes, name: str = "upload") -> object:
    return client.post("/predict", files={"file": (name, payload, "application/octet-stream")})


# ------------------------------------------------------------------------------------------------
# Happy paths
# ------------------------------------------------------------------------------------------------


def test_health(client: TestClient, model_file: Path) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "model_version": serve.model_version(model_file),
        "classes": CLASSES,
        "input_size": [SIZE, SIZE],
    }


def test_prediction_fields(client: TestClient, model_file: Path) -> None:
    r = _post(client, _encode(_photo(), "PNG"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"class", "class_index", "probability", "probabilities", "model_version"}
    assert body["class"] == CLASSES[body["class_index"]]
    assert body["probability"] == max(body["probabilities"].values())
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["model_version"] == serve.model_version(model_file)


@pytest.mark.skipif(REAL_IMAGE is None, reason="no data mirror with the aircraft damage images")
def test_real_image_gets_the_in_process_answer(client: TestClient, model: keras.Model) -> None:
    assert REAL_IMAGE is not None
    payload = REAL_IMAGE.read_bytes()
    body = client.post("/predict", files={"file": ("photo.jpg", payload, "image/jpeg")}).json()
    # In process, loaded as image_dataset_from_directory loads it: TF's decoder, bilinear resize.
    pixels = tf.image.resize(tf.io.decode_image(payload, channels=3), (SIZE, SIZE))
    p_dent = float(model.predict(pixels[None], verbose=0)[0, 0])
    assert body["class"] == CLASSES[int(p_dent > 0.5)]
    assert body["probabilities"]["dent"] == pytest.approx(p_dent, abs=1e-4)
    # ... and exactly what the module's own two steps give.
    direct = serve.predict_image(model, serve.decode_image(payload), CLASSES)
    assert body["probabilities"] == direct["probabilities"]


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        pytest.param("L", "PNG", id="greyscale-png"),
        pytest.param("L", "JPEG", id="greyscale-jpeg"),
        pytest.param("LA", "PNG", id="greyscale-alpha-png"),
        pytest.param("RGBA", "PNG", id="rgba-png"),
        pytest.param("P", "GIF", id="palette-gif"),
        pytest.param("1", "BMP", id="one-bit-bmp"),
        pytest.param("CMYK", "JPEG", id="cmyk-jpeg"),
        pytest.param("RGB", "WEBP", id="rgb-webp"),
    ],
)
def test_other_modes_are_converted_to_rgb(
    client: TestClient, model: keras.Model, mode: str, fmt: str
) -> None:
    payload = _encode(_photo(mode), fmt)
    r = _post(client, payload)
    assert r.status_code == 200, r.text
    expected = Image.open(io.BytesIO(payload)).convert("RGB")
    direct = serve.predict_image(model, np.asarray(expected), CLASSES)
    assert r.json()["probabilities"] == direct["probabilities"]


# ------------------------------------------------------------------------------------------------
# Refusals: 4xx with a message, never a 500
# ------------------------------------------------------------------------------------------------


def _truncated_jpeg() -> bytes:
    jpeg = _encode(_photo(), "JPEG")
    return jpeg[: len(jpeg) // 2]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        pytest.param(b"", 422, "empty", id="empty-file"),
        pytest.param(b"just some text\n", 415, "not an image", id="text-file"),
        pytest.param(b"%PDF-1.4\n" + bytes(200), 415, "not an image", id="pdf-header"),
        pytest.param(_truncated_jpeg(), 422, "truncated or corrupt", id="truncated-jpeg"),
        pytest.param(b"\xff\xd8\xff\xe0" + bytes(100), 415, "not an image", id="jpeg-magic-only"),
        pytest.param(
            _encode(Image.new("I;16", (8, 8)), "PNG"), 415, "16-bit", id="sixteen-bit-png"
        ),
    ],
)
def test_bad_uploads_get_4xx(client: TestClient, payload: bytes, status: int, message: str) -> None:
    r = _post(client, payload)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param({}, id="no-body"),
        pytest.param({"files": {"image": ("x.png", b"abc")}}, id="wrong-field-name"),
        pytest.param({"data": {"file": "not a file"}}, id="text-field-not-file"),
        pytest.param({"json": {"file": "x"}}, id="json-body"),
    ],
)
def test_request_without_a_file_gets_422(client: TestClient, request_kwargs: dict) -> None:
    r = client.post("/predict", **request_kwargs)
    assert r.status_code == 422
    assert "file" in r.text


def test_oversized_upload_gets_413_before_decoding(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversized upload was decoded")

    monkeypatch.setattr(serve, "decode_image", must_not_decode)
    r = _post(client, b"\xff" * (LIMIT + 1))
    assert r.status_code == 413
    assert f"{LIMIT:,} bytes" in r.json()["detail"]


def test_oversized_chunked_upload_gets_413(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body without Content-Length is counted as it arrives."""
    monkeypatch.setattr(serve, "decode_image", lambda *a, **k: pytest.fail("decoded"))
    boundary = "bound"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(LIMIT // 10_000 + 2):
            yield b"\xff" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        "/predict",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert "larger than the limit" in r.json()["detail"]


def test_too_many_pixels_gets_413(model_file: Path) -> None:
    small = TestClient(serve.create_app(model_file, CLASSES, max_pixels=40 * 40))
    assert _post(small, _encode(_photo(), "PNG")).status_code == 413  # 48 x 40 pixels
    ok = _post(small, _encode(_photo().resize((40, 40)), "PNG"))
    assert ok.status_code == 200


JPEG = _encode(_photo(), "JPEG")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.tuples(st.integers(0, len(JPEG) - 1), st.integers(0, 255)), max_size=8),
    length=st.integers(0, len(JPEG)),
)
def test_damaged_jpegs_never_get_a_500(
    client: TestClient, cuts: list[tuple[int, int]], length: int
) -> None:
    payload = bytearray(JPEG)
    for position, value in cuts:
        payload[position] = value
    r = _post(client, bytes(payload[:length]))
    assert r.status_code in (200, 413, 415, 422), r.text


# ------------------------------------------------------------------------------------------------
# create_app's arguments, safe mode, versions, command line
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"model_path": 3}, TypeError, "str or Path", id="path-not-str"),
        pytest.param({"model_path": "missing.keras"}, ValueError, "existing .keras", id="missing"),
        pytest.param({"class_names": "crack,dent"}, TypeError, "list or tuple", id="names-str"),
        pytest.param({"class_names": ["dent"]}, ValueError, "at least two", id="one-name"),
        pytest.param({"class_names": ["a", "a"]}, ValueError, "distinct", id="same-names"),
        pytest.param({"class_names": ["a", "b", "c"]}, ValueError, "does not fit", id="3-names"),
        pytest.param({"max_upload_bytes": 0}, ValueError, "at least 1", id="zero-limit"),
        pytest.param({"max_pixels": 1.5}, TypeError, "int", id="float-pixels"),
    ],
)
def test_create_app_rejects_bad_arguments(
    model_file: Path, kwargs: dict, error: type[Exception], match: str
) -> None:
    arguments = {"model_path": model_file, "class_names": CLASSES} | kwargs
    with pytest.raises(error, match=match):
        serve.create_app(**arguments)


def test_create_app_rejects_other_files_and_shapes(tmp_path: Path) -> None:
    h5 = tmp_path / "model.h5"
    h5.write_bytes(b"")
    with pytest.raises(ValueError, match=r"existing \.keras file"):
        serve.create_app(h5, CLASSES)
    grey = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    grey.save(tmp_path / "grey.keras")
    with pytest.raises(ValueError, match=r"\(None, h, w, 3\)"):
        serve.create_app(tmp_path / "grey.keras", CLASSES)


def test_safe_mode_refuses_lambda_layers(tmp_path: Path) -> None:
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Lambda(lambda x: x * 2.0),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        serve.create_app(tmp_path / "lambda.keras", CLASSES)


def test_softmax_model_with_three_classes(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")]
    )
    model.save(tmp_path / "three.keras")
    app = serve.create_app(tmp_path / "three.keras", ["a", "b", "c"], version="v7")
    body = _post(TestClient(app), _encode(_photo(), "PNG")).json()
    assert set(body["probabilities"]) == {"a", "b", "c"} and body["model_version"] == "v7"
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


def test_model_version_follows_the_bytes(tmp_path: Path, model_file: Path) -> None:
    copy = tmp_path / "renamed.keras"
    copy.write_bytes(model_file.read_bytes())
    version = serve.model_version(model_file)
    assert version.startswith("tiny.keras@sha256:") and len(version.split(":")[1]) == 12
    assert serve.model_version(copy).split("@")[1] == version.split("@")[1]


def test_command_line_runs_uvicorn(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    serve.main([str(model_file), "--classes", "crack,dent", "--port", "8123"])
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert TestClient(seen["app"]).get("/health").json()["classes"] == CLASSES
