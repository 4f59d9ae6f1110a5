r"""Serve a trained Keras image classifier over HTTP with FastAPI.

[`create_app`][dlguide.serve.create_app] loads a `.keras` model once, in safe mode, and returns a
FastAPI application with two routes:

- `POST /predict` takes one uploaded image (a multipart form field named `file`) and answers
  `{"class": ..., "class_index": ..., "probability": ..., "probabilities": {...},
  "model_version": ...}`;
- `GET /health` answers `{"status": "ok", "model_version": ..., "classes": [...],
  "input_size": [h, w]}`.

An upload goes through [`decode_image`][dlguide.serve.decode_image] (Pillow: bytes to an RGB array)
and [`predict_image`][dlguide.serve.predict_image] (resize as Keras' image loaders do, then the
model). Bad requests get a 4xx answer with a message, never a 500: a body above the size limit gets
413 before anything is parsed or decoded, an empty upload or a truncated image 422, something that
is not an image 415, and a request without a file 422. Start the service from a shell with
`python -m dlguide.serve model.keras --classes crack,dent` (it runs uvicorn; `--help` lists the
options).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import threading
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import keras
import numpy as np
from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import JSONResponse
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field

from dlguide._checks import check_int, check_names

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "ImageError",
    "create_app",
    "decode_image",
    "main",
    "model_version",
    "predict_image",
]

DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest request body the service reads, in bytes (5 MiB); larger ones get 413."""

DEFAULT_MAX_PIXELS = 40_000_000
"""Largest image the service decodes, in pixels (width × height); larger ones get 413."""

# Pillow modes whose pixels are not 8-bit: converting them to RGB would clip or rescale silently.
_NOT_8_BIT = {"I", "F", "I;16", "I;16B", "I;16L", "I;16N"}


class ImageError(ValueError):
    """An upload that cannot be used as an image; `status_code` is the HTTP status to answer.

    Attributes:
        status_code: 413 (too many pixels), 415 (not an image, or an unsupported pixel format) or
            422 (empty, truncated or corrupt).
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    r"""Decode an uploaded image file into an RGB array, as the model expects.

    Greyscale, palette, CMYK and RGBA images are converted to RGB (an alpha channel is dropped, as
    `keras.utils.image_dataset_from_directory` does). The image size is read from the header and
    checked against `max_pixels` before the pixels are decoded. EXIF orientation is not applied,
    again as in Keras' loaders, so the service sees what the model saw in training.

    Args:
        data: The file's bytes (JPEG, PNG, BMP, GIF, TIFF, WebP, ...: whatever Pillow reads).
        max_pixels: Largest accepted width × height.

    Returns:
        uint8 array of shape `(height, width, 3)`.

    Raises:
        ImageError: With `status_code` 422 if `data` is empty or the image is truncated or
            corrupt, 415 if it is not an image or has 16-bit or floating-point pixels, 413 if it
            has more than `max_pixels` pixels.

    Examples:
        >>> import io
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.new("L", (4, 3), color=200).save(buffer, format="PNG")
        >>> pixels = decode_image(buffer.getvalue())
        >>> pixels.shape, pixels.dtype, int(pixels[0, 0, 2])
        ((3, 4, 3), dtype('uint8'), 200)
        >>> try:
        ...     decode_image(b"hello")
        ... except ImageError as err:
        ...     print(err.status_code, err)
        415 the upload is not an image file Pillow can read (JPEG, PNG, ...)
    """
    if not data:
        raise ImageError(422, "the upload is empty: send an image file")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(
            415, "the upload is not an image file Pillow can read (JPEG, PNG, ...)"
        ) from None
    except Image.DecompressionBombError as err:
        raise ImageError(413, str(err)) from None
    except Exception as err:  # a header Pillow recognises but cannot parse: bytes missing or wrong
        raise ImageError(422, f"the image is truncated or corrupt ({err})") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            413, f"the image has {width}x{height} pixels; at most {max_pixels:,} are accepted"
        )
    if image.mode in _NOT_8_BIT:
        raise ImageError(
            415, f"{image.mode!r} images (16-bit or float pixels) are not supported; send 8-bit"
        )
    try:
        image.load()
        rgb = image.convert("RGB")
    except Exception as err:  # decoders raise OSError, SyntaxError, ValueError, EOFError, ...
        raise ImageError(422, f"the image is truncated or corrupt ({err})") from None
    return np.asarray(rgb, dtype=np.uint8)


def predict_image(
    model: keras.Model, image: np.ndarray, class_names: Sequence[str]
) -> dict[str, Any]:
    r"""Classify one RGB image with a Keras model that takes a fixed-size RGB batch.

    The image is resized to the model's input size with bilinear interpolation, as
    `keras.utils.image_dataset_from_directory` resizes (no anti-aliasing), and passed as float32
    values in $[0, 255]$: any rescaling belongs inside the model. A model with one sigmoid output
    gives $p = P(\text{class } 1)$, so the probabilities are $(1 - p, p)$; a model with $k$ outputs
    gives them directly (softmax). The predicted class is the most probable one.

    Args:
        model: A Keras model with input shape `(None, h, w, 3)` and output shape `(None, 1)`
            (two classes) or `(None, k)`.
        image: uint8 or float array `(height, width, 3)`, values in $[0, 255]$.
        class_names: One name per class, in label order.

    Returns:
        `{"class": name, "class_index": i, "probability": p_i, "probabilities": {name: p}}`.

    Examples:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(1, activation="sigmoid",
        ...                                              kernel_initializer="zeros")])
        >>> answer = predict_image(model, np.zeros((20, 30, 3), "uint8"), ["crack", "dent"])
        >>> answer["class"], answer["probability"], answer["probabilities"]
        ('crack', 0.5, {'crack': 0.5, 'dent': 0.5})
    """
    height, width = model.input_shape[1:3]
    batch = keras.ops.image.resize(
        np.asarray(image, dtype="float32")[None], (height, width), interpolation="bilinear"
    )
    output = np.asarray(keras.ops.convert_to_numpy(model.predict_on_batch(batch)), "float64")[0]
    probabilities = np.array([1.0 - output[0], output[0]]) if output.size == 1 else output
    index = int(np.argmax(probabilities))
    return {
        "class": class_names[index],
        "class_index": index,
        "probability": float(probabilities[index]),
        "probabilities": {
            name: float(p) for name, p in zip(class_names, probabilities, strict=True)
        },
    }


def model_version(path: str | Path) -> str:
    r"""Name a model file's version by its content: `<file name>@sha256:<first 12 hex digits>`.

    Two files with the same bytes have the same version, and retraining changes it, whatever the
    file is called.

    Args:
        path: The model file.

    Returns:
        For example `'damage.keras@sha256:3f2a9c01b7de'`.
    """
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{path.name}@sha256:{digest[:12]}"


class Prediction(BaseModel):
    """What `POST /predict` answers."""

    model_config = ConfigDict(populate_by_name=True)

    class_: str = Field(alias="class", description="the predicted class")
    class_index: int = Field(description="its label, the position in the class list")
    probability: float = Field(description="the model's probability for that class")
    probabilities: dict[str, float] = Field(description="the probability of every class")
    model_version: str


class Health(BaseModel):
    """What `GET /health` answers."""

    status: str
    model_version: str
    classes: list[str]
    input_size: list[int]


_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]


class _LimitBody:
    """ASGI middleware: answer 413 to a request body above `max_bytes` before the app parses it.

    A declared `Content-Length` above the limit is refused without reading the body; a body sent
    without one (chunked) is counted as it arrives and refused once it passes the limit.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than the limit of {self.max_bytes:,} bytes"
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            status = 413 if declared.isdigit() else 400
            detail = message if declared.isdigit() else "invalid Content-Length header"
            await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> _Message:
            nonlocal received
            chunk = await receive()
            received += len(chunk.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, message)  # FastAPI answers it while parsing the form
            return chunk

        await self.app(scope, limited_receive, send)


def create_app(
    model_path: str | Path,
    class_names: Sequence[str],
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    version: str | None = None,
) -> FastAPI:
    r"""Build the FastAPI application that serves a `.keras` image classifier.

    The model is loaded once, here, with `safe_mode=True` (a file cannot run arbitrary code such as
    a `Lambda` layer's pickled function), and warmed up with one prediction so the first request
    is not slow. Predictions run one at a time: TensorFlow already uses every core for one.

    Args:
        model_path: A `.keras` file of a model with input `(None, h, w, 3)` taking values in
            $[0, 255]$ and output `(None, 1)` (sigmoid, two classes) or `(None, k)` (softmax).
        class_names: One name per class, in label order, e.g. `["crack", "dent"]`.
        max_upload_bytes: Largest request body, in bytes; larger requests get 413 unread.
        max_pixels: Largest image, in pixels; larger images get 413 undecoded.
        version: The model version reported with every answer; by default
            [`model_version`][dlguide.serve.model_version] of the file.

    Returns:
        The application; run it with `uvicorn.run(app)` or call it with
        `fastapi.testclient.TestClient(app)`.

    Raises:
        TypeError: If `model_path` is not a path, `class_names` not a sequence of strings, or a
            limit not an int.
        ValueError: If the file does not exist or is not a `.keras` file, a limit is below 1, or
            the model's input or output shape does not fit an RGB classifier of `class_names`.

    Examples:
        >>> app = create_app("damage.keras", ["crack", "dent"])  # doctest: +SKIP
        >>> from fastapi.testclient import TestClient  # doctest: +SKIP
        >>> TestClient(app).get("/health").json()["status"]  # doctest: +SKIP
        'ok'
    """
    if not isinstance(model_path, str | Path):
        raise TypeError(f"model_path must be a str or Path, got {type(model_path).__name__}")
    path = Path(model_path)
    if path.suffix != ".keras" or not path.is_file():
        raise ValueError(f"model_path must be an existing .keras file, got {str(path)!r}")
    names = check_names(class_names, "class_names")
    max_upload_bytes = check_int(max_upload_bytes, "max_upload_bytes", 1)
    max_pixels = check_int(max_pixels, "max_pixels", 1)

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    input_shape, output_shape = tuple(model.input_shape), tuple(model.output_shape)
    if len(input_shape) != 4 or input_shape[3] != 3 or None in input_shape[1:3]:
        raise ValueError(f"the model must take (None, h, w, 3) images, it takes {input_shape}")
    n_outputs = output_shape[-1]
    if len(output_shape) != 2 or not (
        n_outputs == len(names) or (n_outputs == 1 == len(names) - 1)
    ):
        raise ValueError(
            f"the model's output shape {output_shape} does not fit {len(names)} classes {names}: "
            "expected (None, 1) for two classes or (None, k) for k classes"
        )
    version = version or model_version(path)
    lock = threading.Lock()
    predict_image(model, np.zeros((*input_shape[1:3], 3), "uint8"), names)  # warm-up

    app = FastAPI(
        title="dlguide image classifier",
        description=f"Classifies an uploaded image as one of {', '.join(names)}.",
        version=version,
    )
    app.add_middleware(_LimitBody, max_bytes=max_upload_bytes)

    @app.get("/health", response_model=Health)
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model_version": version,
            "classes": list(names),
            "input_size": list(input_shape[1:3]),
        }

    @app.post(
        "/predict",
        response_model=Prediction,
        responses={
            413: {"description": "body or image too large"},
            415: {"description": "not an image"},
            422: {"description": "no file, an empty file, or a broken image"},
        },
    )
    def predict(file: Annotated[UploadFile, File(description="the image file")]) -> dict[str, Any]:
        try:
            pixels = decode_image(file.file.read(), max_pixels=max_pixels)
        except ImageError as err:
            raise HTTPException(err.status_code, str(err)) from None
        with lock:
            answer = predict_image(model, pixels, names)
        return {**answer, "model_version": version}

    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: serve a model with uvicorn (`python -m dlguide.serve --help`)."""
    parser = argparse.ArgumentParser(
        prog="python -m dlguide.serve", description="Serve a .keras image classifier over HTTP."
    )
    parser.add_argument("model", help="the .keras model file")
    parser.add_argument("--classes", required=True, help="class names in label order: crack,dent")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-upload-bytes", type=int, default=DEFAULT_MAX_UPLOAD_BYTES)
    args = parser.parse_args(argv)
    import uvicorn

    app = create_app(args.model, args.classes.split(","), max_upload_bytes=args.max_upload_bytes)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
