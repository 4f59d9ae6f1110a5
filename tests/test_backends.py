"""Tests for dlguide.backends: real training on TensorFlow and JAX, honest reporting otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata, util

import numpy as np
import pandas as pd
import pytest

from dlguide import backends
from dlguide.backends import (
    BACKENDS,
    BackendRunError,
    available_backends,
    run_in_backend,
    train_in_backends,
)

EPOCHS = 3  # small for speed; with Adam(1e-2) 3 epochs reach ~0.94 on the 450 test digits
MIN_ACCURACY = 0.85  # chance is 0.10; measured 0.93-0.96 on TensorFlow and JAX
N_PARAMS = 64 * 32 + 32 + 32 * 10 + 10  # 2,410 for the default 32 hidden units


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    # The parent process asks for a backend that is not installed (or at least not the one each
    # child needs): if a child inherited it, that child would fail or run on the wrong backend.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_BACKEND", "torch" if util.find_spec("torch") is None else "jax")
        return train_in_backends(epochs=EPOCHS)


def test_available_backends_reports_installed_versions():
    versions = available_backends()
    assert tuple(versions) == BACKENDS
    assert versions["tensorflow"] in {
        _version_or_none(d) for d in ("tensorflow", "tensorflow-cpu")
    } - {None}
    assert versions["jax"] == metadata.version("jax")
    expected_torch = None if util.find_spec("torch") is None else metadata.version("torch")
    assert versions["torch"] == expected_torch


def _version_or_none(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def test_available_backends_imports_no_backend():
    code = (
        "import sys; from dlguide.backends import available_backends; available_backends(); "
        "print([m for m in ('tensorflow', 'jax', 'torch', 'keras') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.slow  # trains real models, one subprocess per backend (~20-60 s)
def test_tensorflow_and_jax_really_train(table):
    assert table["backend"].tolist() == list(BACKENDS)  # every backend listed, none hidden
    ran = table.set_index("backend").loc[["tensorflow", "jax"]]
    assert ran["status"].tolist() == ["ok", "ok"]
    assert (ran["test_accuracy"] > MIN_ACCURACY).all(), ran["test_accuracy"]
    assert (ran["test_accuracy"] <= 1.0).all()
    assert (ran["n_params"] == N_PARAMS).all()
    assert (ran["n_test"] == 450).all()  # a stratified quarter of the 1,797 digits
    assert (ran["fit_seconds"] > 0).all() and (ran["import_seconds"] > 0).all()
    assert ran.loc["tensorflow", "version"] == available_backends()["tensorflow"]
    assert ran.loc["jax", "version"] == available_backends()["jax"]
    # Same data, seed and model: the backends agree to within a few test images (0.04 = 18 of 450).
    assert abs(ran.loc["tensorflow", "test_accuracy"] - ran.loc["jax", "test_accuracy"]) < 0.04


@pytest.mark.slow  # trains real models, one subprocess per backend (~20-60 s)
def test_torch_row_matches_what_is_installed(table):
    torch = table.set_index("backend").loc["torch"]
    if util.find_spec("torch") is None:
        assert torch["status"] == "not installed"
        assert pd.isna(torch["version"]) and np.isnan(torch["test_accuracy"])
    else:
        assert torch["status"] == "ok" and torch["test_accuracy"] > MIN_ACCURACY


def test_not_installed_backends_are_listed_and_not_run(monkeypatch):
    monkeypatch.setattr(
        backends,
        "available_backends",
        lambda: {"tensorflow": "2.21.0", "jax": None, "torch": None},
    )

    def no_subprocess(*args, **kwargs):
        raise AssertionError("a backend that is not installed must not be run")

    monkeypatch.setattr(backends.subprocess, "run", no_subprocess)
    table = train_in_backends(["jax", "torch"], epochs=1)
    assert table["backend"].tolist() == ["jax", "torch"]
    assert table["status"].tolist() == ["not installed", "not installed"]
    assert table["test_accuracy"].isna().all() and table["fit_seconds"].isna().all()
    assert table["version"].isna().all() and table["n_test"].isna().all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: run_in_backend("theano"), "backend must be one of"),
        (lambda: run_in_backend("TensorFlow"), "backend must be one of"),
        (lambda: run_in_backend("jax", epochs=0), "epochs must be a positive integer"),
        (lambda: run_in_backend("jax", batch_size=2.5), "batch_size must be a positive integer"),
        (lambda: run_in_backend("jax", learning_rate=-1.0), "learning_rate must be positive"),
        (lambda: train_in_backends(["tensorflow", "mxnet"]), "backend must be one of"),
        (lambda: train_in_backends(["jax", "jax"]), "must not repeat"),
        (lambda: train_in_backends("jax"), "non-empty list"),
        (lambda: train_in_backends([]), "non-empty list"),
        (lambda: train_in_backends(["jax"], errors="ignore"), "errors must be"),
    ],
)
def test_invalid_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# The failure paths below swap the training script for a tiny one, so they cost a Python start-up.


def test_a_failing_backend_raises_with_its_error(monkeypatch):
    monkeypatch.setattr(backends, "_WORKER_CODE", "raise RuntimeError('boom in the child')")
    with pytest.raises(BackendRunError, match=r"(?s)exited with code 1.*RuntimeError: boom"):
        run_in_backend("tensorflow")


def test_a_failing_backend_is_reported_in_the_table(monkeypatch):
    monkeypatch.setattr(backends, "_WORKER_CODE", "raise RuntimeError('boom in the child')")
    table = train_in_backends(["tensorflow"], errors="report")
    assert table["status"].tolist() == ["failed: RuntimeError: boom in the child"]
    assert table["version"].tolist() == [available_backends()["tensorflow"]]
    assert np.isnan(table["test_accuracy"].iloc[0])


def test_a_child_on_the_wrong_backend_is_an_error(monkeypatch):
    result = {"keras_backend": "torch", "test_accuracy": 1.0, "fit_seconds": 1.0}
    result |= {"import_seconds": 1.0, "n_params": 1, "n_test": 1}
    line = backends._RESULT_MARKER + json.dumps(result)
    monkeypatch.setattr(backends, "_WORKER_CODE", f"print({line!r})")
    with pytest.raises(BackendRunError, match="ran on 'torch'"):
        run_in_backend("tensorflow")


def test_a_child_without_result_or_too_slow_is_an_error(monkeypatch):
    monkeypatch.setattr(backends, "_WORKER_CODE", "print('hello')")
    with pytest.raises(BackendRunError, match="expected one result line, got 0"):
        run_in_backend("tensorflow")
    monkeypatch.setattr(backends, "_WORKER_CODE", "import time; time.sleep(30)")
    with pytest.raises(BackendRunError, match="timed out after 1"):
        run_in_backend("tensorflow", timeout=1)


def test_the_child_gets_the_requested_backend_in_its_environment(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    seen = {"keras_backend": "__KB__", "n_test": 0}
    line = backends._RESULT_MARKER + json.dumps(seen)
    code = f"import os; print({line!r}.replace('__KB__', os.environ['KERAS_BACKEND']))"
    monkeypatch.setattr(backends, "_WORKER_CODE", code)
    assert run_in_backend("jax")["status"] == "ok"  # the child saw KERAS_BACKEND=jax, not torch
