"""From-scratch NumPy convolution (dlguide.convolution.conv2d) against keras.layers.Conv2D, on CPU.

Both compute the same layer, 32 filters of 3x3 with `padding="same"` and a bias, on the same batch
of 128 Fashion-MNIST test images (28x28x1, float32), starting from the same weights. The script
prints the milliseconds per forward pass of each and their ratio in one run (goal: NumPy within
3x of Keras), and the same for the backward pass (`conv2d_backward` against `tf.GradientTape` on the
layer: input, kernel and bias gradients).

Timings are the median of several repeats after a warm-up call, taken with `time.perf_counter`;
NumPy and Keras repeats alternate so both see the same background load. Both get the same number
of threads, `$BENCH_THREADS` (default 1), for the reason given in `bench_mlp.py`: two busy-waiting
thread pools on a small shared machine measure the load rather than the code. The Keras layer runs
compiled (`tf.function`), as it does inside `fit`. Run it with `python benchmarks/bench_conv.py`
(about 20 s on 2 cores).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from threadpoolctl import threadpool_limits

from dlguide.convolution import conv2d, conv2d_backward
from dlguide.data import load_fashion_mnist

BATCH = 128
FILTERS = 32
KERNEL = 3
PADDING = "same"
REPEATS = 15
THREADS = int(os.environ.get("BENCH_THREADS", "1"))


def make_inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """128 Fashion-MNIST test images in [0, 1] and a seeded kernel and bias."""
    _, (x_test, _) = load_fashion_mnist()
    x = (x_test[:BATCH].astype(np.float32) / 255.0)[..., np.newaxis]
    rng = np.random.default_rng(seed)
    kernel = rng.normal(scale=0.3, size=(KERNEL, KERNEL, 1, FILTERS)).astype(np.float32)
    bias = rng.normal(scale=0.1, size=FILTERS).astype(np.float32)
    return x, kernel, bias


def alternate(fns: dict[str, object], repeats: int = REPEATS) -> dict[str, float]:
    """Median seconds per call of each function; one warm-up call each, then alternating calls."""
    for fn in fns.values():
        fn()  # type: ignore[operator]
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()  # type: ignore[operator]
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> dict[str, float]:
    """Run the benchmark, print a table and return the figures."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    import keras

    with threadpool_limits(limits=THREADS, user_api="blas"):
        return _run(tf, keras)


def _run(tf, keras) -> dict[str, float]:
    x, kernel, bias = make_inputs()
    layer = keras.layers.Conv2D(FILTERS, KERNEL, padding=PADDING)
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    x_tensor = tf.constant(x)
    grad_out = np.random.default_rng(1).normal(size=(BATCH, 28, 28, FILTERS)).astype(np.float32)

    keras_forward = tf.function(lambda t: layer(t))

    @tf.function
    def keras_backward(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            loss = tf.reduce_sum(layer(t) * grad_out)
        return tape.gradient(loss, [t, layer.kernel.value, layer.bias.value])

    # the two implementations agree before anything is timed
    np.testing.assert_allclose(
        conv2d(x, kernel, bias, padding=PADDING), keras_forward(x_tensor).numpy(), atol=1e-5
    )
    forward = alternate(
        {
            "numpy": lambda: conv2d(x, kernel, bias, padding=PADDING),
            "keras": lambda: keras_forward(x_tensor).numpy(),
        }
    )
    backward = alternate(
        {
            "numpy": lambda: conv2d_backward(grad_out, x, kernel, padding=PADDING),
            "keras": lambda: [g.numpy() for g in keras_backward(x_tensor)],
        }
    )
    figures = {
        "numpy_forward_ms": 1e3 * forward["numpy"],
        "keras_forward_ms": 1e3 * forward["keras"],
        "forward_numpy_over_keras": forward["numpy"] / forward["keras"],
        "numpy_backward_ms": 1e3 * backward["numpy"],
        "keras_backward_ms": 1e3 * backward["keras"],
        "backward_numpy_over_keras": backward["numpy"] / backward["keras"],
    }
    print(
        f"Conv2D {FILTERS} filters {KERNEL}x{KERNEL} padding={PADDING!r} on {BATCH} Fashion-MNIST "
        f"images 28x28x1, float32, {THREADS} thread(s); median of {REPEATS} calls"
    )
    rows = [
        ("forward", figures["numpy_forward_ms"], figures["keras_forward_ms"]),
        (
            "backward (input, kernel, bias)",
            figures["numpy_backward_ms"],
            figures["keras_backward_ms"],
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'NumPy ms':>10}  {'Keras ms':>10}  {'NumPy / Keras':>14}")
    for name, ours, theirs in rows:
        print(f"{name:{width}}  {ours:10.2f}  {theirs:10.2f}  {ours / theirs:14.2f}")
    print("goal: forward ratio <= 3")
    return figures


if __name__ == "__main__":
    main()
