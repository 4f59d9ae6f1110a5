r"""One Keras model, several backends: which are installed, and how the same training runs on each.

Keras 3 is a front end. The arrays and the gradient computation underneath come from a *backend* —
TensorFlow, JAX or PyTorch — chosen once per process by the `KERAS_BACKEND` environment variable,
before `keras` is first imported. To compare backends you therefore start one fresh Python process
per backend; [`run_in_backend`][dlguide.backends.run_in_backend] does that, and
[`train_in_backends`][dlguide.backends.train_in_backends] collects the results in a table.

The model every backend trains is the same small multilayer perceptron on scikit-learn's bundled
8×8 digits (1,797 images, 10 classes; no download): inputs $x \in [0, 1]^{64}$, one hidden ReLU
layer and a softmax output,

$$ \hat y = \operatorname{softmax}\bigl(W_2 \max(0, W_1 x + b_1) + b_2\bigr), $$

trained with Adam on the cross-entropy $-\log \hat y_{y}$ and scored by its accuracy on a stratified
held-out quarter of the data. Same seed, same split — but each backend draws its own random initial
weights and sums in its own order, so the accuracies agree only to within a point or two.

Examples:
    >>> from dlguide.backends import BACKENDS, available_backends
    >>> versions = available_backends()
    >>> tuple(versions) == BACKENDS
    True
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata, util
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BACKENDS",
    "BackendRunError",
    "available_backends",
    "run_in_backend",
    "train_in_backends",
]

BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch")
"""The Keras 3 backends this module knows, in the order tables list them."""

# The importable module of each backend and the distributions (pip names) that provide it.
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos"),
    "jax": ("jax",),
    "torch": ("torch",),
}

_RESULT_MARKER = "DLGUIDE_BACKEND_RESULT "

# The script each subprocess runs: `python -c _WORKER_CODE '<json config>'`. It imports keras only
# after KERAS_BACKEND is set (by the parent, in the child's environment), trains, and prints one
# result line. Anything that goes wrong ends the process with a traceback on stderr.
_WORKER_CODE = f"""
import json, sys, time
config = json.loads(sys.argv[1])
start = time.perf_counter()
import keras
import_seconds = time.perf_counter() - start
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")  # pixel values 0..16 -> [0, 1]
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, stratify=y, random_state=config["seed"]
)
keras.utils.set_random_seed(config["seed"])
model = keras.Sequential([
    keras.Input(shape=(64,)),
    keras.layers.Dense(config["hidden_units"], activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=config["learning_rate"]),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
start = time.perf_counter()
model.fit(x_train, y_train, epochs=config["epochs"], batch_size=config["batch_size"], verbose=0)
fit_seconds = time.perf_counter() - start
_, accuracy = model.evaluate(x_test, y_test, batch_size=len(x_test), verbose=0)
print({_RESULT_MARKER!r} + json.dumps({{
    "keras_backend": keras.backend.backend(),
    "test_accuracy": float(accuracy),
    "fit_seconds": fit_seconds,
    "import_seconds": import_seconds,
    "n_params": model.count_params(),
    "n_test": len(x_test),
}}))
"""


class BackendRunError(RuntimeError):
    """Training in a backend's subprocess failed; the message carries the end of its stderr."""


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


def _installed_version(backend: str) -> str | None:
    """Version of the distribution that provides `backend`, or None; nothing is imported."""
    if util.find_spec(_MODULES[backend]) is None:
        return None
    for distribution in _DISTRIBUTIONS[backend]:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"  # importable (e.g. built from source) but no known distribution metadata


def available_backends() -> dict[str, str | None]:
    r"""Which Keras backends are installed, without importing any of them.

    A backend counts as installed when its module can be found (`importlib.util.find_spec`); its
    version comes from the package metadata (`importlib.metadata.version`), so the check takes
    milliseconds instead of the seconds an `import tensorflow` takes.

    Returns:
        `{backend: version}` for every name in `BACKENDS`, in that order, with `None` for a backend
        that is not installed and `"unknown"` for one importable without package metadata.

    Examples:
        >>> versions = available_backends()
        >>> sorted(versions) == sorted(BACKENDS)
        True
        >>> all(v is None or isinstance(v, str) for v in versions.values())
        True
    """
    return {backend: _installed_version(backend) for backend in BACKENDS}


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_in_backend(
    backend: str,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    hidden_units: int = 32,
    learning_rate: float = 1e-2,
    seed: int = 0,
    timeout: float = 600.0,
) -> dict[str, Any]:
    r"""Train the digits MLP under one backend, in a fresh Python process.

    The child process gets a copy of this process's environment with `KERAS_BACKEND` set to
    `backend` (whatever it was here), runs the training script in this module, and prints its
    result as one JSON line. The child checks nothing itself; this function checks that Keras in
    the child really ran on `backend`.

    The model has $64 h + h + 10 h + 10 = 75 h + 10$ parameters for $h$ hidden units (2,410 for
    the default $h = 32$).

    Args:
        backend: `"tensorflow"`, `"jax"` or `"torch"`.
        epochs: Passes over the 1,347 training images.
        batch_size: Images per gradient step.
        hidden_units: Width $h$ of the hidden layer.
        learning_rate: Adam's step size.
        seed: Seed of the train/test split and of `keras.utils.set_random_seed`.
        timeout: Seconds before the child is killed (and `BackendRunError` raised).

    Returns:
        A dict with `backend`, `version`, `status` (`"ok"` or `"not installed"` — a backend that is
        not installed is reported, not run), and for `"ok"`: `test_accuracy` (on the 450 held-out
        images), `fit_seconds` (the `fit` call alone), `import_seconds` (`import keras`, which
        loads the backend), `n_params` and `n_test` (the number of test images); these are
        `None` for a backend that is not installed.

    Raises:
        ValueError: If `backend` is not one of `BACKENDS` or a size is not a positive integer.
        BackendRunError: If the child process fails, times out, prints no result or ran on a
            different backend; the message holds the end of its stderr.

    Examples:
        >>> row = run_in_backend("tensorflow", epochs=5)  # doctest: +SKIP
        >>> row["status"], row["test_accuracy"] > 0.85  # doctest: +SKIP
        ('ok', True)
    """
    _check_backend(backend)
    config = {
        "epochs": _positive_int(epochs, "epochs"),
        "batch_size": _positive_int(batch_size, "batch_size"),
        "hidden_units": _positive_int(hidden_units, "hidden_units"),
        "learning_rate": float(learning_rate),
        "seed": int(seed),
    }
    if not config["learning_rate"] > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    row: dict[str, Any] = {
        "backend": backend,
        "version": available_backends()[backend],
        "status": "not installed",
        "test_accuracy": None,
        "fit_seconds": None,
        "import_seconds": None,
        "n_params": None,
        "n_test": None,
    }
    if row["version"] is None:
        return row

    env = dict(os.environ, KERAS_BACKEND=backend)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter short
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WORKER_CODE, json.dumps(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BackendRunError(f"{backend}: training timed out after {timeout} s") from error
    if done.returncode != 0:
        raise BackendRunError(
            f"{backend}: the training process exited with code {done.returncode}:\n"
            + _tail(done.stderr)
        )
    results = [
        line.removeprefix(_RESULT_MARKER)
        for line in done.stdout.splitlines()
        if line.startswith(_RESULT_MARKER)
    ]
    if len(results) != 1:
        raise BackendRunError(
            f"{backend}: expected one result line, got {len(results)}; stdout ends with:\n"
            + _tail(done.stdout)
        )
    result = json.loads(results[0])
    if result["keras_backend"] != backend:
        raise BackendRunError(
            f"asked for backend {backend!r}, but Keras in the child ran on "
            f"{result['keras_backend']!r}"
        )
    del result["keras_backend"]
    row.update(result, status="ok")
    return row


def train_in_backends(
    backends: tuple[str, ...] | list[str] | None = None,
    *,
    errors: Literal["raise", "report"] = "raise",
    **training: Any,
) -> pd.DataFrame:
    r"""Train the same digits MLP under each backend, one subprocess each, and tabulate the results.

    Backends run one after another (never in parallel, so the timings do not compete for cores).
    A backend that is not installed gets a row with status `"not installed"`; it is listed, not
    left out.

    Args:
        backends: The backends to try, default all of `BACKENDS`.
        errors: What a failing installed backend does: `"raise"` raises its `BackendRunError`;
            `"report"` records `"failed: <last line of its error>"` as its status and goes on.
        **training: Passed to [`run_in_backend`][dlguide.backends.run_in_backend]: `epochs`,
            `batch_size`, `hidden_units`, `learning_rate`, `seed`, `timeout`.

    Returns:
        A DataFrame with one row per backend and the columns `backend`, `version`, `status`,
        `test_accuracy`, `fit_seconds`, `import_seconds`, `n_params`, `n_test` (missing values
        are NaN or `<NA>`).

    Raises:
        ValueError: If a backend name is unknown or repeated, the list is empty, or `errors` is
            neither `"raise"` nor `"report"`.
        BackendRunError: With `errors="raise"`, if an installed backend fails.

    Examples:
        >>> table = train_in_backends(["tensorflow", "jax"], epochs=5)  # doctest: +SKIP
        >>> table["status"].tolist()  # doctest: +SKIP
        ['ok', 'ok']
    """
    import pandas as pd

    names = list(BACKENDS if backends is None else backends)
    if isinstance(backends, str) or not names:
        raise ValueError(f"backends must be a non-empty list of backend names, got {backends!r}")
    for name in names:
        _check_backend(name)
    if len(set(names)) != len(names):
        raise ValueError(f"backends must not repeat a name, got {names}")
    if errors not in ("raise", "report"):
        raise ValueError(f"errors must be 'raise' or 'report', got {errors!r}")

    rows = []
    for name in names:
        try:
            rows.append(run_in_backend(name, **training))
        except BackendRunError as error:
            if errors == "raise":
                raise
            last_line = str(error).strip().splitlines()[-1]
            rows.append(
                {
                    "backend": name,
                    "version": available_backends()[name],
                    "status": f"failed: {last_line}",
                }
            )
    columns = ["backend", "version", "status", "test_accuracy", "fit_seconds", "import_seconds"]
    table = pd.DataFrame(rows, columns=[*columns, "n_params", "n_test"])
    table[columns[3:]] = table[columns[3:]].astype(float)
    table[["n_params", "n_test"]] = table[["n_params", "n_test"]].astype("Int64")
    return table
