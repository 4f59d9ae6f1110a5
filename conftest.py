"""Doctest setup: `pytest` also runs every `Examples:` block in dlguide's docstrings.

The examples print NumPy arrays, so each one runs with NumPy's default print options (a test
that changed them cannot leak into an example), `np` already imported, and the non-interactive
matplotlib backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _numpy_defaults(doctest_namespace: dict[str, Any]) -> Iterator[None]:
    doctest_namespace["np"] = np
    with np.printoptions(
        precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False, floatmode="maxprec"
    ):
        yield
