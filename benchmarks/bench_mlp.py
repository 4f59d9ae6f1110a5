"""From-scratch NumPy MLP against the same MLP in Keras/TensorFlow, on CPU.

Both train the same architecture (784-256-128-10, ReLU, ReLU, softmax, categorical cross-entropy,
plain SGD, batch 128, float32) on the same seeded synthetic data, starting from the same weights.
The script prints

- seconds per epoch for each, and their ratio (goal: NumPy within 1.5x of Keras);
- the floating-point operations per epoch of the MLP's matrix products, the GFLOP/s that NumPy's
  training achieves with them, and the GFLOP/s of a plain 1024x1024 float32 matmul on this machine.

Timings are the median of several repeats after a warm-up call, taken with `time.perf_counter`;
NumPy and Keras repeats alternate so both see the same background load. Both get the same number
of threads, `$BENCH_THREADS` (default 1): OpenBLAS and TensorFlow each spin up one thread per core,
and on a small shared machine two busy-waiting pools slow each other down many times over, which
would measure the load rather than the code. Run it with `python benchmarks/bench_mlp.py` (about
30-60 s on 2 cores).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from threadpoolctl import threadpool_limits

from dlguide import backprop as bp
from dlguide.neurons import init_network

SIZES = (784, 256, 128, 10)
ACTIVATIONS = ("relu", "relu", "softmax")
N_SAMPLES = 4096
BATCH_SIZE = 128
LEARNING_RATE = 0.01
EPOCHS_PER_CALL = 2
REPEATS = 5
MATMUL_N = 1024
THREADS = int(os.environ.get("BENCH_THREADS", "1"))


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded inputs in [0, 1) shaped like flattened 28x28 images, and one-hot labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((N_SAMPLES, SIZES[0]), dtype=np.float32)
    y = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], N_SAMPLES)]
    return x, y


def flops_per_epoch(sizes: tuple[int, ...] = SIZES, n: int = N_SAMPLES) -> int:
    """Multiply-adds of the matrix products of one epoch, counted as 2 FLOPs each.

    Per layer and example: forward $a W$ and the weight gradient $a^\\top \\delta$ cost
    $2 n_{in} n_{out}$ each; the backward product $\\delta W^\\top$ costs the same but is skipped
    for the first layer. Element-wise work (activations, updates) is not counted.
    """
    per_example = sum(6 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return n * (per_example - 2 * sizes[0] * sizes[1])


def median_time(fn, repeats: int = REPEATS) -> float:
    """Median wall time of `repeats` calls of `fn`, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_gflops(n: int = MATMUL_N) -> float:
    """GFLOP/s of a plain float32 `n x n @ n x n` NumPy matmul (2 n^3 FLOPs)."""
    rng = np.random.default_rng(1)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    return 2 * n**3 / median_time(lambda: a @ b, repeats=10) / 1e9


def main() -> dict[str, float]:
    """Run the benchmark, print a table and return the figures."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    import keras

    with threadpool_limits(limits=THREADS, user_api="blas"):
        return _run(keras)


def _run(keras) -> dict[str, float]:

    x, y = make_data()
    network = init_network(list(SIZES), list(ACTIVATIONS), seed=0, dtype=np.float32)

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((SIZES[0],))]
        + [keras.layers.Dense(n, activation=a) for n, a in zip(SIZES[1:], ACTIVATIONS, strict=True)]
    )
    for dense, layer in zip(model.layers, network, strict=True):
        dense.set_weights([layer["weights"], layer["biases"]])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE),
        loss="categorical_crossentropy",
    )

    def numpy_epochs() -> None:
        bp.train(
            network,
            x,
            y,
            "categorical_crossentropy",
            learning_rate=LEARNING_RATE,
            epochs=EPOCHS_PER_CALL,
            batch_size=BATCH_SIZE,
        )

    def keras_epochs() -> None:
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS_PER_CALL, verbose=0)

    numpy_epochs()  # warm-up: first-touch allocations
    keras_epochs()  # warm-up: traces and compiles the train step
    numpy_times, keras_times = [], []
    for _ in range(REPEATS):  # alternate so both see the same background load
        for fn, times in ((numpy_epochs, numpy_times), (keras_epochs, keras_times)):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) / EPOCHS_PER_CALL)
    numpy_s = statistics.median(numpy_times)
    keras_s = statistics.median(keras_times)

    flops = flops_per_epoch()
    mlp_gflops = flops / numpy_s / 1e9
    keras_gflops = flops / keras_s / 1e9
    peak = matmul_gflops()

    figures = {
        "numpy_s_per_epoch": numpy_s,
        "keras_s_per_epoch": keras_s,
        "numpy_over_keras": numpy_s / keras_s,
        "matmul_gflops": peak,
        "numpy_mlp_gflops": mlp_gflops,
        "keras_mlp_gflops": keras_gflops,
        "numpy_mlp_over_matmul": mlp_gflops / peak,
    }
    arch = "-".join(map(str, SIZES))
    print(
        f"MLP {arch} ({', '.join(ACTIVATIONS)}), float32, {N_SAMPLES} samples, "
        f"batch {BATCH_SIZE}, SGD, {THREADS} thread(s); median of {REPEATS} x {EPOCHS_PER_CALL} "
        "epochs"
    )
    print(f"matrix-product work per epoch: {flops / 1e9:.2f} GFLOP")
    rows = [
        ("NumPy (dlguide.backprop)", f"{numpy_s:.3f} s/epoch", f"{mlp_gflops:.1f} GFLOP/s"),
        ("Keras/TensorFlow", f"{keras_s:.3f} s/epoch", f"{keras_gflops:.1f} GFLOP/s"),
        ("ratio NumPy / Keras (goal <= 1.5)", f"{numpy_s / keras_s:.2f}", ""),
        (f"plain matmul {MATMUL_N}x{MATMUL_N} float32", "", f"{peak:.1f} GFLOP/s"),
        ("ratio NumPy MLP / matmul", "", f"{mlp_gflops / peak:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'time':>14}  {'throughput':>14}")
    for name, t, g in rows:
        print(f"{name:{width}}  {t:>14}  {g:>14}")
    return figures


if __name__ == "__main__":
    main()
