# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {epochs: 3}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Deep-learning libraries and tensors
#
# **What you will learn:** what TensorFlow, PyTorch, JAX and Keras are each for; what a tensor is
# (rank, shape, dtype) and how to compute with one — element-wise operations, broadcasting, the
# matrix product and reshaping — in `keras.ops` and NumPy side by side; how one Keras model trains
# unchanged on several backends; and the three ways to write a Keras model.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took. **Uses:**
# NumPy, Keras,
# scikit-learn's bundled digits, [`dlguide.backends`](../api/backends.md) and
# [`dlguide.plotting`](../api/plotting.md).

# %% tags=["parameters"]
seed = 0  # seeds the data split, the weights and the random tensors
epochs = 10  # epochs of the backend comparison

# %%
import os

import keras
import numpy as np
import pandas as pd
from keras import ops
from sklearn.datasets import load_digits

from dlguide.backends import BACKENDS, available_backends, train_in_backends
from dlguide.plotting import plot_image_grid

keras.utils.set_random_seed(seed)
rng = np.random.default_rng(seed)

# %% [markdown]
# ## Four libraries, four jobs
#
# | library | what it is | you reach for it when |
# | --- | --- | --- |
# | **TensorFlow** | Google's array and autodiff engine with a graph compiler (XLA), plus serving and mobile tools (TF Serving, LiteRT) | you deploy a model to servers, phones or browsers |
# | **PyTorch** | Meta's array and autodiff library; runs your Python line by line (eager) | you do research and want to step through every line in a debugger |
# | **JAX** | NumPy's API plus composable transformations: `grad`, `jit` (XLA), `vmap` | you want pure functions, fast compiled code and many accelerators |
# | **Keras** | a model-building front end: layers, `compile`, `fit`, `evaluate` — on top of any of the three | you want one model definition that runs on any of them |
#
# The first three are *backends*: they own the arrays and compute the gradients. Keras 3 is the
# layer above. It picks its backend once per process, from the `KERAS_BACKEND` environment
# variable, before `keras` is first imported; `keras.backend.backend()` tells you which one you
# got. [`available_backends`][dlguide.backends.available_backends] shows which backends this
# machine has, without importing any of them:

# %%
versions = available_backends()
pd.DataFrame(
    {
        "backend": list(versions),
        "installed version": [v or "not installed" for v in versions.values()],
    }
)

# %%
backend = keras.backend.backend()
print("this page runs on:", backend)
assert backend == os.environ.get("KERAS_BACKEND", "tensorflow")
assert versions["tensorflow"] is not None and versions["jax"] is not None


# %% [markdown]
# ## Tensors: rank, shape and dtype
#
# A **tensor** is an array of numbers with three properties:
#
# - its **rank** (or number of axes): 0 for a scalar, 1 for a vector, 2 for a matrix, and so on;
# - its **shape**: the length of each axis, e.g. `(32, 8, 8, 1)`;
# - its **dtype**: the type of every element, e.g. `float32`.
#
# Deep learning meets the same few ranks again and again. The digits data set gives real
# examples: 1,797 grey-scale images of 8×8 pixels. A batch of images is a rank-4 tensor
# `(batch, height, width, channels)`; the same images read row by row, as 8 time steps of 8
# values, are a batch of sequences `(batch, time steps, features)`.

# %%
digits = load_digits()
images = (digits.images / 16.0).astype("float32")[..., np.newaxis]  # pixels 0..16 -> [0, 1]
labels = digits.target

examples = {
    "scalar: one pixel": images[0, 3, 4, 0],
    "vector: one image row": images[0, 3, :, 0],
    "matrix: one image": images[0, :, :, 0],
    "3-D: 32 sequences of 8 steps x 8 features": images[:32, :, :, 0],
    "4-D: 32 images (batch, height, width, channels)": images[:32],
}
tensors = {name: ops.convert_to_tensor(value) for name, value in examples.items()}
assert [ops.ndim(t) for t in tensors.values()] == [0, 1, 2, 3, 4]
assert tuple(ops.shape(tensors["4-D: 32 images (batch, height, width, channels)"])) == (32, 8, 8, 1)
assert images.shape == (1797, 8, 8, 1)
pd.DataFrame(
    {
        "example": list(tensors),
        "rank": [ops.ndim(t) for t in tensors.values()],
        "shape": [tuple(ops.shape(t)) for t in tensors.values()],
        "dtype": [keras.backend.standardize_dtype(t.dtype) for t in tensors.values()],
    }
)


# %% [markdown]
# The rank-4 batch is what an image model takes in. Here are its first 16 images,
# drawn with [`plot_image_grid`][dlguide.plotting.plot_image_grid]:

# %% caption="The first 16 of the 1,797 digits, 8×8 pixels each; the title is the label."
fig = plot_image_grid(images[:16], titles=[f"label {y}" for y in labels[:16]], ncols=8)

# %% [markdown]
# **Dtypes differ between the libraries.** NumPy defaults to 64-bit numbers; Keras turns Python
# numbers into 32-bit ones, the precision neural networks train in. An existing `float64` NumPy
# array keeps its dtype on TensorFlow and PyTorch, but JAX stores it in 32 bits unless you switch
# on its 64-bit mode. Cast explicitly (`ops.cast(x, "float32")`) when it matters:

# %%
dtypes = pd.DataFrame(
    {
        "value": ["[1.0, 2.0]", "[1, 2]", "np.array([1.0, 2.0])"],
        "NumPy": [str(np.asarray([1.0, 2.0]).dtype), str(np.asarray([1, 2]).dtype), "float64"],
        "keras.ops": [
            keras.backend.standardize_dtype(ops.convert_to_tensor(v).dtype)
            for v in ([1.0, 2.0], [1, 2], np.array([1.0, 2.0]))
        ],
    }
)
assert dtypes["NumPy"].tolist() == ["float64", "int64", "float64"]
kept = "float32" if backend == "jax" else "float64"  # JAX runs without 64-bit mode by default
assert dtypes["keras.ops"].tolist() == ["float32", "int32", kept]
dtypes


# %% [markdown]
# ## Element-wise operations
#
# `+`, `*`, `exp`, `maximum` and the activation functions act on each element on its own: the
# result has the input's shape. `keras.ops` mirrors NumPy's names, so the two columns below read
# the same. `ops.convert_to_numpy` brings a backend tensor back to NumPy for the comparison.

# %%
a_np = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], dtype="float32")
b_np = np.array([[0.5, 0.5, 0.5], [2.0, 2.0, 2.0]], dtype="float32")
a, b = ops.convert_to_tensor(a_np), ops.convert_to_tensor(b_np)

side_by_side = {
    "a + b": (ops.add(a, b), a_np + b_np),
    "a * b": (ops.multiply(a, b), a_np * b_np),
    "exp(b)": (ops.exp(b), np.exp(b_np)),
    "relu(a)": (ops.relu(a), np.maximum(a_np, 0.0)),
    "sum over axis 1": (ops.sum(a, axis=1), a_np.sum(axis=1)),
}
for name, (with_keras, with_numpy) in side_by_side.items():
    keras_values = ops.convert_to_numpy(with_keras).astype("float64")  # float64 prints cleanly
    print(f"{name:>15}: keras.ops {np.round(keras_values, 4).tolist()}")
    print(f"{'':>15}  NumPy     {np.round(with_numpy.astype('float64'), 4).tolist()}")
for name, (with_keras, with_numpy) in side_by_side.items():
    np.testing.assert_allclose(
        ops.convert_to_numpy(with_keras), with_numpy, rtol=1e-6, err_msg=name
    )
assert ops.convert_to_numpy(ops.sum(a, axis=1)).tolist() == [2.0, -5.0]


# %% [markdown]
# ## Broadcasting
#
# An element-wise operation on two tensors of *different* shapes works when the shapes are
# compatible. Align them at the right, then, axis by axis:
#
# 1. a missing axis counts as length 1;
# 2. two lengths are compatible when they are equal or one of them is 1;
# 3. the result takes the larger length; the length-1 tensor is repeated along that axis.
#
# So `(1797, 64) - (64,)` subtracts one mean per pixel from every image, and
# `(32, 8, 8, 1) * (8, 1, 1)` scales each of the 8 pixel rows of every image by its own factor.
# `np.broadcast_shapes` applies the rules; the table checks them against the shape `keras.ops`
# really returns.

# %%
pairs = [((1797, 64), (64,)), ((32, 8, 8, 1), (8, 1, 1)), ((3, 1), (1, 4)), ((5, 1, 4), (3, 1))]
rows = []
for left, right in pairs:
    result = ops.add(ops.zeros(left), ops.zeros(right))
    rows.append((left, right, np.broadcast_shapes(left, right), tuple(ops.shape(result))))
broadcasting = pd.DataFrame(rows, columns=["left", "right", "rules give", "keras.ops gives"])
assert (broadcasting["rules give"] == broadcasting["keras.ops gives"]).all()
assert broadcasting["rules give"].tolist() == [(1797, 64), (32, 8, 8, 1), (3, 4), (5, 3, 4)]
broadcasting


# %% [markdown]
# Shapes `(2, 3)` and `(2,)` are *not* compatible: aligned at the right, 3 meets 2. Both
# libraries refuse, each with its own error type:

# %%
try:
    np.ones((2, 3)) + np.ones(2)
except ValueError as error:
    print(f"NumPy:     {type(error).__name__}: {error}")
try:
    ops.add(ops.ones((2, 3)), ops.ones(2))
except Exception as error:  # the error type belongs to the backend
    print(f"keras.ops: {type(error).__name__}")
flat = images.reshape(len(images), -1)  # (1797, 64)
centred = ops.convert_to_numpy(ops.subtract(flat, ops.mean(flat, axis=0)))
assert centred.shape == (1797, 64)
assert np.abs(centred.mean(axis=0)).max() < 1e-6  # float32 round-off


# %% [markdown]
# The per-pixel centring from the table, done and checked: after subtracting the mean image, every
# pixel has mean zero over the data set.

# %% [markdown]
# ## The matrix product
#
# The matrix product is not element-wise. For $A$ of shape `(m, k)` and $B$ of shape `(k, n)`,
# $(AB)_{ij} = \sum_{l} A_{il} B_{lj}$ has shape `(m, n)`: the inner lengths must agree and
# disappear. It is the heart of a dense layer, $y = xW + b$. With leading batch axes, the product
# is taken for every batch entry: `(5, 2, 3) @ (3, 4)` gives `(5, 2, 4)`.

# %%
A = rng.normal(size=(2, 3)).astype("float32")
B = rng.normal(size=(3, 4)).astype("float32")
batch = rng.normal(size=(5, 2, 3)).astype("float32")

AB_keras, AB_numpy = ops.matmul(A, B), A @ B
batched_keras, batched_numpy = ops.matmul(batch, B), batch @ B
print("A @ B:", tuple(ops.shape(AB_keras)), "  batch @ B:", tuple(ops.shape(batched_keras)))

# %%
np.testing.assert_allclose(ops.convert_to_numpy(AB_keras), AB_numpy, rtol=1e-5, atol=1e-6)
np.testing.assert_allclose(ops.convert_to_numpy(batched_keras), batched_numpy, rtol=1e-5, atol=1e-6)
assert AB_numpy.shape == (2, 4) and batched_numpy.shape == (5, 2, 4)

# %% [markdown]
# A Keras `Dense` layer is exactly that product plus a broadcast bias: its kernel $W$ has shape
# `(inputs, units)` and its bias `(units,)`.

# %%
dense = keras.layers.Dense(10)
out = ops.convert_to_numpy(dense(flat[:32]))
W, bias = (ops.convert_to_numpy(w) for w in dense.weights)
np.testing.assert_allclose(out, flat[:32] @ W + bias, rtol=1e-5, atol=1e-5)
assert W.shape == (64, 10) and bias.shape == (10,)

# %% [markdown]
# ## Reshaping
#
# Reshaping changes the shape, never the elements or their order: both libraries read and write
# elements in row-major order (the last axis fastest). `-1` means "whatever length is left". A
# dense network wants each 8×8 image as a vector of 64 pixels; `expand_dims` and `squeeze` add
# and remove axes of length 1, and `transpose` reorders axes.

# %%
batch_4d = images[:32]  # (32, 8, 8, 1)
reshapes = {
    "reshape(x, (32, -1))": (ops.reshape(batch_4d, (32, -1)), batch_4d.reshape(32, -1)),
    "squeeze(x, axis=-1)": (ops.squeeze(batch_4d, axis=-1), batch_4d.squeeze(axis=-1)),
    "expand_dims(x, 0)": (ops.expand_dims(batch_4d, 0), np.expand_dims(batch_4d, 0)),
    "transpose(x, (0, 3, 1, 2))": (
        ops.transpose(batch_4d, (0, 3, 1, 2)),
        batch_4d.transpose(0, 3, 1, 2),
    ),
}
pd.DataFrame(
    {
        "operation": list(reshapes),
        "keras.ops shape": [tuple(ops.shape(k)) for k, _ in reshapes.values()],
        "NumPy shape": [n.shape for _, n in reshapes.values()],
    }
)

# %%
for with_keras, with_numpy in reshapes.values():
    np.testing.assert_array_equal(ops.convert_to_numpy(with_keras), with_numpy)
flat_32 = ops.convert_to_numpy(ops.reshape(batch_4d, (32, -1)))
np.testing.assert_array_equal(flat_32[0, 8:16], batch_4d[0, 1, :, 0])  # pixels 8-15 = row 1

# %% [markdown]
# `transpose(x, (0, 3, 1, 2))` turns channels-last `(batch, height, width, channels)` into
# channels-first, the layout PyTorch's own layers use. Keras uses channels-last on every backend.
#
# ## One model, each installed backend
#
# Now the same Keras model — 64 pixels in, a hidden layer of 32 ReLU units, 10 softmax outputs —
# trained on the same digits split with the same seed, once per backend.
# [`train_in_backends`][dlguide.backends.train_in_backends] starts a fresh Python process for each
# backend with `KERAS_BACKEND` set, because a process cannot switch backends once `keras` is
# imported. A backend that is not installed is listed as such. One that is installed but fails
# stops this page with its error instead of vanishing from the table.

# %%
comparison = train_in_backends(BACKENDS, epochs=epochs, seed=seed)
ran = comparison.set_index("backend")
for backend in ("tensorflow", "jax"):
    assert ran.loc[backend, "status"] == "ok", ran.loc[backend, "status"]
    assert ran.loc[backend, "test_accuracy"] > 0.90
    assert ran.loc[backend, "n_params"] == 2410
    assert ran.loc[backend, "n_test"] == 450
assert abs(ran.loc["tensorflow", "test_accuracy"] - ran.loc["jax", "test_accuracy"]) < 0.04
assert ran.loc["torch", "status"] in {"ok", "not installed"}
comparison.round({"test_accuracy": 3, "fit_seconds": 2, "import_seconds": 2})


# %% [markdown]
# TensorFlow and JAX both train the model to above 90 % test accuracy on the 450 held-out digits,
# and agree with each other to within 4 points. They do not agree exactly: each backend draws its
# own random initial weights from the seed and adds up numbers in its own order. The times depend
# on the machine and on what else it runs, so read them as rough: JAX spends its first epoch
# compiling, and `import keras` is where a backend's start-up cost lands.

# %% [markdown]
# ## One model, three ways
#
# Keras offers three ways to write a model. Here is the network from the comparison written in each.
#
# **Sequential**: a list of layers, each feeding the next. The simplest, for a plain stack.

# %%
sequential = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ],
    name="sequential_mlp",
)

# %% [markdown]
# **Functional**: you call layers on symbolic tensors and hand Keras the inputs and outputs. The
# same stack here, but the functional API also builds graphs with several inputs, several outputs,
# branches and skip connections.

# %%
inputs = keras.Input(shape=(64,))
hidden = keras.layers.Dense(32, activation="relu")(inputs)
outputs = keras.layers.Dense(10, activation="softmax")(hidden)
functional = keras.Model(inputs, outputs, name="functional_mlp")

# %% [markdown]
# **Subclassing**: you write a Python class, create the layers in `__init__` and write the forward
# pass in `call`. This gives the most freedom (loops, conditions, custom logic in the forward
# pass). The cost: Keras cannot see the structure before you call the model, so you build it by
# calling it once.


# %%
class SubclassedMLP(keras.Model):
    def __init__(self, hidden_units=32, num_classes=10, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(hidden_units, activation="relu")
        self.classifier = keras.layers.Dense(num_classes, activation="softmax")

    def call(self, x):
        return self.classifier(self.hidden(x))


subclassed = SubclassedMLP(name="subclassed_mlp")
_ = subclassed(flat[:1])  # one call builds the weights

# %% [markdown]
# All three have $64 \cdot 32 + 32 = 2{,}080$ parameters in the hidden layer and
# $32 \cdot 10 + 10 = 330$ in the output layer: 2,410 in all.

# %%
models = [sequential, functional, subclassed]
counts = pd.DataFrame(
    {"model": [m.name for m in models], "parameters": [m.count_params() for m in models]}
)
assert counts["parameters"].tolist() == [2410, 2410, 2410]
assert [layer.count_params() for layer in sequential.layers] == [2080, 330]
counts


# %% [markdown]
# Same parameter count, and the same function too: copy the Sequential model's weights into the
# other two and all three give the same predictions.

# %%
functional.set_weights(sequential.get_weights())
subclassed.set_weights(sequential.get_weights())
predictions = [ops.convert_to_numpy(m(flat[:100])) for m in models]
np.testing.assert_allclose(predictions[1], predictions[0], atol=1e-6)
np.testing.assert_allclose(predictions[2], predictions[0], atol=1e-6)
print("largest difference:", max(np.abs(p - predictions[0]).max() for p in predictions[1:]))

# %% [markdown]
# ## Summary
#
# - TensorFlow, PyTorch and JAX own the arrays and the gradients; Keras 3 is a front end that runs
#   one model definition on any of them, chosen by `KERAS_BACKEND` once per process.
# - A tensor has a rank, a shape and a dtype. Images come in batches of shape
#   `(batch, height, width, channels)`, sequences in `(batch, time steps, features)`.
# - NumPy defaults to `float64`/`int64`; Keras turns Python numbers into `float32`/`int32`.
# - `keras.ops` mirrors NumPy: element-wise operations, broadcasting (align right; equal or 1),
#   `matmul`, `reshape`, `transpose` all give the same numbers and shapes.
# - The same digits MLP reaches above 90 % test accuracy on TensorFlow and on JAX, each run in its
#   own process.
# - Sequential, functional and subclassed versions of one model have the same 2,410 parameters and
#   compute the same function.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Predict the shape of `ops.add(ops.zeros((4, 1, 3)), ops.zeros((2, 1)))` with the
# broadcasting rules, then check it against Keras and NumPy.

# %% tags=["solution"]
# Align right: (4, 1, 3) with (_, 2, 1). Last axis 3 vs 1 -> 3; middle 1 vs 2 -> 2; first 4.
predicted = (4, 2, 3)
assert tuple(ops.shape(ops.add(ops.zeros((4, 1, 3)), ops.zeros((2, 1))))) == predicted
assert np.broadcast_shapes((4, 1, 3), (2, 1)) == predicted
predicted

# %% [markdown]
# **Exercise 2.** Scale each of the 1,797 digit images by its own brightness factor drawn from
# `rng.uniform(0.5, 1.5, ...)`, with one multiplication. Which shape must the factors have?

# %% tags=["solution"]
factors = rng.uniform(0.5, 1.5, size=(len(images), 1, 1, 1)).astype("float32")  # one per image
brightened = ops.convert_to_numpy(ops.multiply(images, factors))
assert brightened.shape == images.shape == (1797, 8, 8, 1)
assert np.allclose(brightened[7], images[7] * factors[7, 0, 0, 0])  # the loop you did not write
print(f"factors {factors.shape} broadcast against images {images.shape}")

# %% [markdown]
# **Exercise 3.** Put a `Dropout(0.5)` layer between the two layers of the Sequential model and
# copy its weights in. Does the parameter count change? Does the prediction, at inference and in
# training?

# %% tags=["solution"]
with_dropout = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.5, seed=seed),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
with_dropout.set_weights(sequential.get_weights())
assert with_dropout.count_params() == 2410  # dropout has no weights
at_inference = ops.convert_to_numpy(with_dropout(flat[:100], training=False))
in_training = ops.convert_to_numpy(with_dropout(flat[:100], training=True))
np.testing.assert_allclose(at_inference, predictions[0], atol=1e-6)  # off at inference
largest_change = np.abs(in_training - predictions[0]).max()
print(f"largest change in a probability when dropout is on: {largest_change:.3f}")
assert largest_change > 1e-3
