# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {n_train: 4000, n_test: 2000, linear_epochs: 10, depth_seeds: 2}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 0. What deep learning is, and why depth helps
#
# **What you will learn:**
#
# - what deep learning is used for, and which chapter of this book builds each kind of network;
# - why it took off around 2012 — data, compute and better algorithms — measured on the machine that
#   built this page;
# - how a network that learns its own features compares with a classifier on raw pixels and one on
#   hand-designed features;
# - what depth buys: how many parameters a shallow and a deep network need to draw the same
#   function, and what training finds when both get the same budget;
# - how to read the rest of the book: profiles, run stamps, downloads and the status page.
#
# **Runs on:** any CPU; the run stamp above says how long it took here. **Uses:** NumPy, Keras,
# scikit-learn, scikit-image and [`dlguide.data`][dlguide.data].
#
# This book follows IBM's *Introduction to Deep Learning & Neural Networks with Keras* course
# (DL0101EN), which opens the same way: what deep learning is for, and why now.

# %% tags=["parameters"]
seed = 0
n_train = 20_000  # Fashion-MNIST training images for the feature-engineering comparison
n_test = 10_000  # Fashion-MNIST test images it is scored on (the whole test set)
linear_epochs = 20  # epochs of the linear classifiers
cnn_epochs = 8  # epochs of the small convolutional network
depth_steps = 4_000  # optimizer steps for each network of the shallow-vs-deep comparison
depth_seeds = 3  # random initialisations of each network

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from skimage.feature import hog
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from dlguide.data import DATASETS, load_fashion_mnist

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## What deep learning is for
#
# Deep learning is machine learning with neural networks of many layers, trained end to end from
# examples. Each layer turns the previous layer's output into a new representation, and training
# adjusts every layer at once so that the last one solves the task. The course lists these
# applications; the right-hand column says where this book builds the kind of network behind each.
#
# | application | what the network does | in this book |
# | --- | --- | --- |
# | colour restoration | predicts the colours of a greyscale photo, pixel by pixel | convolutional networks ([chapter 9](09-convolutional-networks.md)) and autoencoders ([chapter 12](12-autoencoders-and-rbms.md)) are its building blocks; the full system is beyond the book |
# | speech enactment | makes a face in a video move its lips to a new audio track | beyond the book |
# | handwriting generation | writes a given text as pen strokes in a person's style | recurrent networks ([chapter 10](10-recurrent-networks.md)) are its core; the generator itself is beyond the book |
# | image classification | names what a photo shows | [chapter 8](08-classification.md) (dense networks), [chapter 9](09-convolutional-networks.md) (CNNs), [chapter 13](13-aircraft-damage.md) (transfer learning) |
# | object detection and segmentation | finds and outlines objects in an image | convolutional features ([chapter 9](09-convolutional-networks.md)); detection heads are beyond the book |
# | speech recognition | turns audio into text | sequence models ([chapter 10](10-recurrent-networks.md) and [chapter 11](11-transformers.md)); audio front ends are beyond the book |
# | natural-language processing | translates, answers, summarises | [chapter 10](10-recurrent-networks.md) (recurrent translator), [chapter 11](11-transformers.md) (transformers) |
# | reinforcement learning | learns actions from rewards | beyond the book |
#
# The rest of this chapter measures the three reasons usually given for why deep learning took
# off when it did — compute, data and algorithms — and then what depth itself buys.

# %% [markdown]
# ## Compute: how fast this machine multiplies matrices
#
# Almost all the arithmetic of a neural network is matrix multiplication: a dense layer computes
# $XW$ for a whole batch $X$ at once. Multiplying an $m \times k$ matrix by a $k \times n$ one
# takes $2mkn$ floating-point operations (a multiply and an add per term). Libraries hand this to
# tuned BLAS kernels (NumPy) or to XLA and oneDNN (TensorFlow), which use every vector unit of the
# CPU — and, on a GPU, thousands of cores. The cell times a float32 product of two
# $1024 \times 1024$ matrices in NumPy and in Keras, and the same product written as Python loops
# on a small $48 \times 48$ matrix.


# %%
def best_time(fn, repeats=5):
    """The fastest of `repeats` runs of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def python_matmul(a, b):
    """Matrix product as three nested Python loops: the definition, with no library help."""
    n, k, m = len(a), len(b), len(b[0])
    return [[sum(a[i][p] * b[p][j] for p in range(k)) for j in range(m)] for i in range(n)]


rng = np.random.default_rng(seed)
n = 1024
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a_k, b_k = keras.ops.convert_to_tensor(a), keras.ops.convert_to_tensor(b)
keras.ops.convert_to_numpy(keras.ops.matmul(a_k, b_k))  # warm-up: the first call compiles

small = 48
a_small, b_small = a[:small, :small].tolist(), b[:small, :small].tolist()
gflops = {
    "NumPy (BLAS), 1024×1024": 2 * n**3 / best_time(lambda: a @ b) / 1e9,
    "Keras ops, 1024×1024": 2
    * n**3
    / best_time(lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a_k, b_k)))
    / 1e9,
    "Python loops, 48×48": 2
    * small**3
    / best_time(lambda: python_matmul(a_small, b_small), repeats=2)
    / 1e9,
}
throughput = pd.Series(gflops, name="GFLOP/s").round(3)
speedup = gflops["NumPy (BLAS), 1024×1024"] / gflops["Python loops, 48×48"]
print(throughput.to_string())
print(f"NumPy is {speedup:,.0f} times faster than the Python loops")
assert np.allclose(
    np.array(python_matmul(a_small, b_small)), a_small @ np.array(b_small), atol=1e-3
)
assert speedup > 100

# %% [markdown]
# The loops compute exactly the same numbers (the cell checks it), yet the library is more than
# a hundred times faster (the cell prints by how much on this machine). That gap, multiplied again by a GPU, is
# what made it practical to train networks with millions of weights on millions of examples. The
# run stamp at the top of the page names the device these figures come from; on a GPU runner the
# Keras figure is far higher.
#
# ## Data: the data sets of this book
#
# Networks with many weights need many examples. Every data set the book uses is registered in
# [`dlguide.data`][dlguide.data] with its origin, licence and checksum, so the sizes below are read
# from the registry, not typed in.

# %%
datasets = pd.DataFrame(
    [
        {
            "data set": name,
            "files": len(ds.files),
            "MB": sum(f.size for f in ds.files) / 1e6,
            "what it is": ds.description,
        }
        for name, ds in DATASETS.items()
    ]
).set_index("data set")
(x_train_all, y_train_all), (x_test_all, y_test_all) = load_fashion_mnist()
print(f"Fashion-MNIST: {len(x_train_all):,} training and {len(x_test_all):,} test images")
assert (len(x_train_all), len(x_test_all)) == (60_000, 10_000)
datasets.round(2)

# %% [markdown]
# Fashion-MNIST alone is 70,000 labelled images. ImageNet, the data set on which deep networks
# first beat every other method in 2012, has over a million; the MobileNet weights that
# [chapter 13](13-aircraft-damage.md) reuses were trained on it.
#
# ## Algorithms: one change, measured
#
# Better algorithms were the third ingredient: the ReLU activation, better initialisation, dropout,
# batch normalisation, adaptive optimizers. Here is one of them on its own. The same network — six
# hidden layers of 32 units, the same weight initialiser, plain SGD — is trained for twenty epochs
# on scikit-learn's handwritten digits, once with sigmoid activations and once with ReLU.
# [Chapter 4](04-activations.md) explains what you see.

# %%
digits = load_digits()
xd_train, xd_val, yd_train, yd_val = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.25, stratify=digits.target, random_state=seed
)


def deep_mlp(activation, depth=6, width=32):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((64,))]
        + [keras.layers.Dense(width, activation=activation) for _ in range(depth)]
        + [keras.layers.Dense(10, activation="softmax")]
    )
    # steps_per_execution: several batches per call into the backend. The updates are the same;
    # only the Python overhead per batch shrinks (chapter 8 explains it).
    model.compile(
        keras.optimizers.SGD(0.1),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=16,
    )
    return model


activation_accuracy = {}
for activation in ["sigmoid", "relu"]:
    model = deep_mlp(activation)
    history = model.fit(
        xd_train, yd_train, validation_data=(xd_val, yd_val), epochs=20, batch_size=32, verbose=0
    )
    activation_accuracy[activation] = history.history["val_accuracy"]
activation_table = pd.DataFrame(activation_accuracy, index=range(1, 21)).rename_axis("epoch")
print(activation_table.iloc[[0, 9, 19]].round(3).to_string())
assert activation_accuracy["relu"][-1] > 0.9
assert max(activation_accuracy["sigmoid"]) < 0.2

# %% [markdown]
# With sigmoid units the deep network never gets above 0.2 validation accuracy — chance, with ten
# balanced classes, is 0.1; with ReLU it ends above 0.9. Nothing else changed.
#
# ## Less feature engineering, measured
#
# Before deep learning, a vision system was mostly hand-designed features: edge detectors,
# histograms of gradient orientations, colour statistics — and then a simple classifier on top.
# Deep learning replaces the hand design with layers that learn their own features. The next cells
# compare, on the same Fashion-MNIST split:
#
# 1. a linear classifier (softmax regression: one dense layer) on the raw pixels;
# 2. the same linear classifier on **HOG** features (histograms of oriented gradients, the
#    classic hand-designed image descriptor, from scikit-image);
# 3. a small convolutional network ([chapter 9](09-convolutional-networks.md)) that learns its features from the pixels.

# %%
rng = np.random.default_rng(seed)
train_idx = rng.choice(len(x_train_all), n_train, replace=False)
test_idx = rng.choice(len(x_test_all), n_test, replace=False)
x_train, y_train = x_train_all[train_idx] / 255.0, y_train_all[train_idx]
x_test, y_test = x_test_all[test_idx] / 255.0, y_test_all[test_idx]


def hog_features(images):
    return np.stack(
        [
            hog(image, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2))
            for image in images
        ]
    )


hog_train, hog_test = hog_features(x_train), hog_features(x_test)
print(
    f"{x_train.shape[1] * x_train.shape[2]} raw pixels vs {hog_train.shape[1]} HOG features per image"
)


def linear_accuracy(features_train, features_test, epochs=linear_epochs):
    """Test accuracy of softmax regression (one dense layer) trained on the given features."""
    keras.utils.set_random_seed(seed)
    classifier = keras.Sequential(
        [keras.Input((features_train.shape[1],)), keras.layers.Dense(10, activation="softmax")]
    )
    classifier.compile(
        "adam", "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=16
    )
    classifier.fit(features_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    return classifier.evaluate(features_test, y_test, verbose=0)[1]


accuracy = {
    "linear, raw pixels": linear_accuracy(x_train.reshape(n_train, -1), x_test.reshape(n_test, -1)),
    "linear, HOG features": linear_accuracy(hog_train, hog_test),
}

# %% [markdown]
# The network gets the raw pixels and nothing else. Its two convolutional layers play the role of
# HOG's gradient filters and histograms, except that their filters are learned.

# %%
keras.utils.set_random_seed(seed)
cnn = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=16)
cnn.fit(x_train[..., None], y_train, epochs=cnn_epochs, batch_size=32, verbose=0)
accuracy["small CNN, learned features"] = cnn.evaluate(x_test[..., None], y_test, verbose=0)[1]
features_table = pd.Series(accuracy, name="test accuracy").round(4).to_frame()
raw, hog_acc, learned = accuracy.values()
assert hog_acc > raw + 0.02 and learned > raw + 0.02
features_table

# %% [markdown]
# Hand-designed HOG features beat raw pixels by more than two points: the engineering was worth
# something. The network, given only pixels, also beats the raw-pixel classifier by more than two
# points, and nobody designed its features — which is the point. Compare its row with HOG's: with
# few images and epochs the two are close; the full profile trains on five times more images. The
# network has its own price, though: it has to be trained, and it has settings of its own (layers,
# filters, epochs) that the following chapters teach you to choose.
#
# ## Shallow vs deep at the same parameter budget
#
# A network with one hidden layer can approximate any continuous function if it is wide enough
# (the universal approximation theorem). So why go deep? Because some functions are *compositional*:
# built by repeating a simple step. A sawtooth with $2^k$ teeth is the "tent" map
# $t(x) = 2\,\mathrm{ReLU}(x) - 4\,\mathrm{ReLU}(x - \tfrac12)$ folded into itself $k + 1$ times,
# and a deep ReLU network can spend one layer per fold, where a shallow one must place every kink
# with a unit of its own.
#
# First what each shape *can* represent. Below, the weights of deep networks of width 2 are set by
# hand so that each hidden layer computes one fold; one hidden layer needs a unit for each of the
# $2 \cdot \text{teeth} - 1$ kinks of the sawtooth.


# %%
def sawtooth(x, teeth=4):
    """A triangle wave on [0, 1] with `teeth` peaks, values in [0, 1]."""
    return 1 - 2 * np.abs((x * teeth) % 1.0 - 0.5)


def folded_tent(folds):
    """A ReLU network with `folds` hidden layers of 2 units that computes the tent map `folds` times."""
    model = keras.Sequential(
        [keras.Input((1,))]
        + [keras.layers.Dense(2, activation="relu") for _ in range(folds)]
        + [keras.layers.Dense(1)]
    )
    # The two units of a layer compute ReLU(u) and ReLU(u - 1/2); the next layer reads
    # t(u) = 2 ReLU(u) - 4 ReLU(u - 1/2) from them, so each layer applies the tent map once more.
    relu_halves = np.array([0.0, -0.5])
    tent = np.array([[2.0], [-4.0]])
    model.layers[0].set_weights([np.ones((1, 2)), relu_halves])
    for layer in model.layers[1:-1]:
        layer.set_weights([tent @ np.ones((1, 2)), relu_halves])
    model.layers[-1].set_weights([tent, np.zeros(1)])
    return model


x_grid = np.linspace(0, 1, 1001, dtype="float32")[:, None]
exact = {}
for teeth in [4, 16, 64]:
    deep_exact = folded_tent(folds=int(np.log2(teeth)) + 1)
    error = np.abs(keras.ops.convert_to_numpy(deep_exact(x_grid)) - sawtooth(x_grid, teeth)).max()
    exact[teeth] = {
        "deep, width 2: parameters": deep_exact.count_params(),
        "max error": error,
        "one hidden layer: units needed": 2 * teeth - 1,
        "one hidden layer: parameters": 3 * (2 * teeth - 1) + 1,
    }
    assert error < 1e-4
exact_table = pd.DataFrame.from_dict(exact, orient="index").rename_axis("teeth")
deep_parameters = exact_table["deep, width 2: parameters"]
assert deep_parameters[4] == 19 and deep_parameters[64] == 43
assert (np.diff(deep_parameters) == 2 * 6).all()  # teeth ×4 = two doublings = two more layers
assert exact_table.loc[64, "one hidden layer: parameters"] == 382
exact_table

# %% [markdown]
# Each doubling of the teeth costs the deep network one layer (6 parameters) and the shallow one
# twice the units: 64 teeth take 43 parameters deep and 382 shallow.
#
# Representing is not learning, though. The experiment: fit the four-tooth sawtooth from 1,000
# random points, once with one hidden layer of 120 ReLU units and once with four hidden layers of
# 10. Both have exactly 361 parameters — more than enough for either shape — and are trained the
# same way from random weights: `depth_steps` full-batch steps of Adam with a cosine-decayed
# learning rate, repeated for `depth_seeds` seeds.

# %%
rng = np.random.default_rng(seed)
x_fit = rng.uniform(0, 1, (1000, 1)).astype("float32")
y_fit = sawtooth(x_fit).astype("float32")
y_grid = sawtooth(x_grid)


def relu_network(hidden, init_seed):
    keras.utils.set_random_seed(init_seed)
    model = keras.Sequential(
        [keras.Input((1,))]
        + [keras.layers.Dense(units, activation="relu") for units in hidden]
        + [keras.layers.Dense(1)]
    )
    schedule = keras.optimizers.schedules.CosineDecay(1e-2, depth_steps)
    model.compile(keras.optimizers.Adam(schedule), "mse", steps_per_execution=200)
    return model


# One epoch over `depth_steps` copies of the data, in order, is `depth_steps` full-batch steps;
# steps_per_execution runs them 200 per call into the backend instead of one by one.
x_copies, y_copies = np.tile(x_fit, (depth_steps, 1)), np.tile(y_fit, (depth_steps, 1))
architectures = {"shallow: 1 × 120": [120], "deep: 4 × 10": [10, 10, 10, 10]}
test_mse, fits = {}, {}
for init_seed in range(depth_seeds):
    for name, hidden in architectures.items():
        model = relu_network(hidden, init_seed)
        assert model.count_params() == 361
        model.fit(x_copies, y_copies, batch_size=len(x_fit), shuffle=False, verbose=0)
        prediction = keras.ops.convert_to_numpy(model(x_grid))
        test_mse[name, init_seed] = np.mean((prediction - y_grid) ** 2)
        fits.setdefault(name, prediction)  # the first seed's fit, drawn below
depth_table = pd.Series(test_mse).unstack(0)[list(architectures)].rename_axis("seed")
print(f"variance of the target (the MSE of predicting its mean): {y_grid.var():.4f}")
shallow_mse, deep_mse = (depth_table[name] for name in architectures)
deep_fits = int((deep_mse < 0.01).sum())
print(f"test MSE below 0.01: deep for {deep_fits} of {depth_seeds} seeds, shallow for none")
assert (shallow_mse > 0.01).all()
assert deep_fits < depth_seeds
depth_table.round(4)

# %% caption="The four-tooth sawtooth (grey), the fits of a shallow (1 × 120) and a deep (4 × 10) ReLU network with 361 parameters each after the same training (first seed), and the 19-parameter deep network whose weights were set by hand."
fits["deep, set by hand: 3 × 2"] = keras.ops.convert_to_numpy(folded_tent(folds=3)(x_grid))
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
for ax, (name, prediction) in zip(axes, fits.items(), strict=True):
    ax.plot(x_grid, y_grid, color="grey", lw=3, alpha=0.5, label="target")
    ax.plot(x_grid, prediction, label="network")
    ax.set(title=name, xlabel="$x$")
axes[0].set_ylabel("$f(x)$")
axes[0].legend()
plt.show()

# %% [markdown]
# The result depends on where training starts, so read the table seed by seed (the same seed also
# gives other initial weights under TensorFlow than under JAX, so a build on the other backend
# shows other rows). Two things held for every seed: the shallow network never brought its test
# error below 0.01 — one hidden layer of 120 units smooths over the teeth — and the deep network
# did not reliably do better: the printed count says from how many starts it got below 0.01. The
# deep shape *can* draw the sawtooth exactly with 19 of its 361 parameters, but gradient descent
# from random weights finds such a fit only from some starts, if at all; a narrow deep ReLU
# network is hard to train (units die, gradients shrink through the layers). Depth buys what a
# network can represent; whether training finds it is another question. Depth pays off when
# training can use it:
# the algorithmic changes above, and the initialisation, normalisation and residual connections of
# later chapters, exist for exactly this. On the small tabular data of
# [chapter 7](07-regression.md), two or three layers are plenty.
#
# ## A map of network types
#
# | network | what it is good at | chapter |
# | --- | --- | --- |
# | dense (fully connected) | fixed-size vectors: tabular data, small images flattened | [1](01-neurons.md)–[8](08-classification.md) |
# | convolutional (CNN) | images and other grids: shared local filters | [9](09-convolutional-networks.md), and transfer learning in [13](13-aircraft-damage.md) |
# | recurrent (RNN, LSTM, GRU) | sequences read step by step: time series, text | [10](10-recurrent-networks.md) |
# | transformer | sequences with attention between every pair of positions: translation, language models | [11](11-transformers.md) |
# | autoencoder, restricted Boltzmann machine | unsupervised: compression, denoising, generation, anomalies | [12](12-autoencoders-and-rbms.md) |
# | generative adversarial network (GAN) | generating realistic images | beyond this book |
#
# ## How to read this book
#
# - **Every page ran.** Each chapter is a notebook that the build executes from top to bottom; the
#   outputs, tables and figures are what the code printed and drew. The box at the top of each
#   chapter is its **run stamp**: when it ran, on which device, with which versions, how long it
#   took, and which profile.
# - **Two profiles.** The `fast` profile (small subsets, few epochs) runs every chapter on a laptop
#   CPU; the `full` profile uses the sizes you would use on a GPU. The note under each chapter's
#   parameter cell says which values the profile changed.
# - **Numbers are checked.** A number stated in the prose is asserted by the cell that computes it,
#   so a page cannot go on claiming what the code no longer does.
# - **Run it yourself.** Every chapter offers its notebook for download and an *Open in Colab* link;
#   the [build status](../status.md) page lists every chapter with its run time.
# - **The package.** What a chapter teaches from scratch lives in `dlguide`; the
#   [API reference](../api/index.md) shows each function with its formula and source.
#
# ## Summary
#
# - Deep learning trains many-layer networks end to end; each layer learns a representation.
# - Compute: a tuned matrix multiply is orders of magnitude faster than the same arithmetic in Python
#   loops, and matrix multiplication is most of what a network does.
# - Algorithms: swapping sigmoid for ReLU is the difference between a deep network that learns
#   and one that does not.
# - Features: hand-designed HOG features beat raw pixels, and so does a small CNN that learns its
#   features from the pixels alone.
# - Depth: a deep ReLU network can represent a compositional function with exponentially fewer
#   parameters than a shallow one, but trained from random weights it does not reliably find that
#   fit: representing is not learning.
#
# ## Exercises
#
# **Exercise 1.** A dense layer maps a batch of 128 Fashion-MNIST images (784 pixels) to 100 units.
# How many floating-point operations does its matrix product take, and how long would it take at the
# NumPy throughput measured above?

# %% tags=["solution"]
flops = 2 * 128 * 784 * 100
seconds = flops / (gflops["NumPy (BLAS), 1024×1024"] * 1e9)
print(f"{flops:,} FLOPs, about {seconds * 1e3:.2f} ms at the measured NumPy throughput")
assert flops == 20_070_400

# %% [markdown]
# **Exercise 2.** Count the parameters of the two networks of the shallow-vs-deep experiment by
# hand (a dense layer from $m$ to $n$ units has $mn + n$) and check your count against Keras.


# %% tags=["solution"]
def dense_parameters(widths):
    """Parameters of a chain of dense layers with the given widths, input first."""
    return sum(m * n + n for m, n in zip(widths[:-1], widths[1:], strict=True))


counts = {
    "shallow": dense_parameters([1, 120, 1]),
    "deep": dense_parameters([1, 10, 10, 10, 10, 1]),
}
print(counts)
assert counts == {"shallow": 361, "deep": 361}
assert counts["deep"] == relu_network([10, 10, 10, 10], seed).count_params()

# %% [markdown]
# **Exercise 3.** HOG with 4 × 4-pixel cells, 2 × 2-cell blocks and 9 orientations: how many
# features does it give for a 28 × 28 image? (The blocks slide one cell at a time.)

# %% tags=["solution"]
cells = 28 // 4
blocks = cells - 2 + 1
length = blocks * blocks * 2 * 2 * 9
print(f"{blocks} × {blocks} blocks of 2 × 2 cells × 9 orientations = {length} features")
assert length == hog_train.shape[1] == 1296
