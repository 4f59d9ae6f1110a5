"""Exit non-zero unless the configured Keras backend sees a GPU (used by `nox -s gpu`)."""

from __future__ import annotations

import os
import sys


def gpu_names(backend: str) -> list[str]:
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    raise ValueError(f"KERAS_BACKEND must be jax, torch or tensorflow, got {backend!r}")


if __name__ == "__main__":
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    names = gpu_names(backend)
    if not names:
        sys.exit(f"no GPU visible to the {backend} backend")
    print(f"{backend} sees {len(names)} GPU(s): {', '.join(names)}")
