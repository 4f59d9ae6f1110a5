"""Shared test setup: the data mirror, a non-interactive matplotlib backend, seeded Keras."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
_MIRROR = ROOT.parent / "shared" / "data"
if "DLGUIDE_DATA_MIRROR" not in os.environ and _MIRROR.is_dir():
    os.environ["DLGUIDE_DATA_MIRROR"] = str(_MIRROR)
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
