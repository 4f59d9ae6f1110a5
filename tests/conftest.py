"""Shared test setup: the data mirror, a non-interactive matplotlib backend, seeded Keras, and one
strict build of the book that the site and browser tests share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
_MIRROR = ROOT.parent / "shared" / "data"
if "DLGUIDE_DATA_MIRROR" not in os.environ and _MIRROR.is_dir():
    os.environ["DLGUIDE_DATA_MIRROR"] = str(_MIRROR)
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the `tensorflow_reference` tests unless Keras runs on TensorFlow: their reference
    differentiates Keras objects with tf.GradientTape, which sees nothing that JAX or PyTorch
    computes. CI runs the tests once per backend, so the TensorFlow leg runs them."""
    import keras

    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(
        reason=f"TensorFlow reference around Keras objects; Keras runs on {keras.backend.backend()}"
    )
    for item in items:
        if "tensorflow_reference" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book built once per test session: `mkdocs build --strict`, fast profile, on the
    session's Keras backend (`KERAS_BACKEND`, TensorFlow unless set: CI runs the tests once per
    backend, so each leg builds the book on its own; a chapter that pins a backend runs on it).

    `DLGUIDE_TEST_SITE=<folder>` tests a site already built there instead (handy while working on
    the browser tests; CI never sets it).
    """
    prebuilt = os.environ.get("DLGUIDE_TEST_SITE")
    if prebuilt:
        return Path(prebuilt).resolve()
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "DLGUIDE_PROFILE": "fast",
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "NO_MKDOCS_2_WARNING": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert result.returncode == 0, f"strict build failed:\n{result.stderr[-6000:]}"
    assert "WARNING" not in result.stderr, result.stderr
    return out
