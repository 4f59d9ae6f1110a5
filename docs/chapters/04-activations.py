# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {epochs: 15}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Activation functions and the vanishing gradient
#
# **What you will learn:**
#
# - the common activation functions, their derivatives, and how to compute them without overflow;
# - why a deep stack of sigmoid layers barely learns: you measure its gradients layer by layer
#   and watch them vanish, then train it next to a ReLU network;
# - what exploding gradients look like and where gradient clipping comes in;
# - which activation to use in hidden layers and which on the output layer.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took.
#
# Every function here lives in [`dlguide.activations`][dlguide.activations], each with its
# derivative and its formula in the docstring, and is tested against `keras.activations` and
# TensorFlow's autodiff.

# %% tags=["parameters"]
epochs = 40  # training epochs for each deep network
seed = 0

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from dlguide import activations as act
from dlguide.diagnostics import gradient_norms, gradients

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## Why a network needs a non-linearity
#
# A neuron computes $a = f(z)$ with $z = w^\top x + b$ (see [chapter 1](01-neurons.md)).
# Without $f$, two layers compute $W_2(W_1 x + b_1) + b_2$, which is again one linear map:
# depth buys nothing. One line of NumPy shows it: two random linear layers give exactly what the
# single layer with $W = W_2 W_1$ and $b = W_2 b_1 + b_2$ gives.

# %%
rng = np.random.default_rng(seed)
W1, b1, W2, b2 = (
    rng.normal(size=(5, 3)),
    rng.normal(size=5),
    rng.normal(size=(2, 5)),
    rng.normal(size=2),
)
x_batch = rng.normal(size=(3, 10))  # 10 inputs as columns
two_layers = W2 @ (W1 @ x_batch + b1[:, None]) + b2[:, None]
one_layer = (W2 @ W1) @ x_batch + (W2 @ b1 + b2)[:, None]
assert np.allclose(two_layers, one_layer, rtol=1e-12, atol=1e-12)
float(np.abs(two_layers - one_layer).max())

# %% [markdown]
# The activation $f$ bends the map. Backpropagation ([chapter 3](03-backpropagation.md)) also
# multiplies by $f'(z)$ at every layer, so the shape of $f'$ decides how well the error signal
# travels back.
#
# [`get`][dlguide.activations.get] looks up an activation by name and returns its `fn` and `grad`.

# %%
list(act.ACTIVATIONS)

# %% [markdown]
# ## Every function and its derivative
#
# Ten of them act on each number separately. The solid line is $f(z)$, the dashed one $f'(z)$.
# Leaky ReLU is drawn with slope $\alpha = 0.1$ so you can see it; its default is 0.01.

# %% caption="The ten elementwise activations (solid) and their derivatives (dashed) on z ∈ [-4, 4]."
z = np.linspace(-4, 4, 801)
fig, axes = plt.subplots(2, 5, figsize=(14, 5.6), sharex=True)
for ax, name in zip(axes.flat, [n for n in act.ACTIVATIONS if n != "softmax"], strict=True):
    if name == "leaky_relu":
        f, df, title = act.leaky_relu(z, 0.1), act.leaky_relu_grad(z, 0.1), "leaky_relu (α=0.1)"
    else:
        f, df, title = act.get(name).fn(z), act.get(name).grad(z), name
    ax.plot(z, f, label="$f(z)$")
    ax.plot(z, df, "--", label="$f'(z)$")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(title=title, xlabel="$z$", ylim=(-2, 4.2))
for ax in axes[:, 0]:
    ax.set_ylabel("$f(z)$ and $f'(z)$")
axes[0, 0].legend(loc="upper left")
fig.tight_layout()

# %% [markdown]
# Three families stand out:
#
# - **Step:** its derivative is zero everywhere, so gradient descent gets no signal at all.
# - **Squashing** (sigmoid, tanh, arctan): bounded outputs, and derivatives that fade to zero in
#   both tails. A unit there is *saturated*.
# - **Rectifiers** (ReLU, leaky ReLU, ELU, SELU, GELU): for $z > 0$ the derivative is 1 (SELU: a
#   constant $\lambda \approx 1.05$; GELU: close to 1), so the signal passes unchanged.
#
# The sigmoid's slope is small even at its best:
#
# $$\sigma'(z) = \sigma(z)\bigl(1 - \sigma(z)\bigr) \le \tfrac14, \qquad \tanh'(z) = 1 -
# \tanh^2(z) \le 1.$$
#
# Both peak at $z = 0$. Check it on a fine grid that contains 0 exactly:

# %%
grid = np.arange(-10_000, 10_001) / 1000  # -10 to 10 in steps of 0.001
slope = act.sigmoid_grad(grid)
assert slope.max() == 0.25 and grid[slope.argmax()] == 0.0
assert act.tanh_grad(0.0) == 1.0 and act.tanh_grad(grid).max() == 1.0
assert round(act.SELU_SCALE, 2) == 1.05 and act.leaky_relu_grad(-1.0) == 0.01  # as stated above
slope.max(), grid[slope.argmax()], float(act.tanh_grad(0.0))

# %% [markdown]
# ## Stable formulas
#
# Written naively, $\sigma(z) = 1/(1 + e^{-z})$ overflows for $z = -10^4$: $e^{10^4}$ is beyond
# the largest float64 (about $1.8 \times 10^{308}$). The library evaluates $e^{-|z|}$ instead,
# which never exceeds 1:
#
# $$\sigma(z) = \begin{cases} 1/(1 + e^{-|z|}) & z \ge 0 \\ e^{-|z|}/(1 + e^{-|z|}) & z < 0
# \end{cases}$$
#
# Softmax has the same trap. Subtracting the largest logit $m$ changes nothing mathematically,
# $e^{z_i - m} / \sum_j e^{z_j - m}$, but keeps every exponent at or below 0.

# %%
logits = np.array([1000.0, 1001.0, 1002.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum()  # inf / inf
stable = act.softmax(logits)
assert f"{np.finfo(np.float64).max:.1e}" == "1.8e+308"
assert np.isnan(naive).all()
assert np.allclose(stable, act.softmax(logits - 1000), rtol=1e-15)
with np.errstate(over="raise"):  # any overflow inside would raise FloatingPointError
    tails = act.sigmoid([-1e4, 1e4]), act.sigmoid_grad([-1e4, 1e4])
naive, stable.round(4), tails

# %% [markdown]
# ## Softmax and its Jacobian-vector product
#
# [`softmax`][dlguide.activations.softmax] maps a vector of logits to probabilities, so its
# derivative is a matrix: $J = \operatorname{diag}(s) - s s^\top$ with $s =
# \operatorname{softmax}(z)$. Backpropagation never needs $J$ itself, only $J v$, which
# [`softmax_jvp`][dlguide.activations.softmax_jvp] computes in $O(n)$ as $s \odot (v - \langle
# s, v\rangle)$. With two logits $[z, 0]$ softmax *is* the sigmoid: $e^z / (e^z + 1) = \sigma(z)$.

# %% caption="Softmax of the logits [z, 1, 0]: raising one logit moves probability to its class."
zs = np.linspace(-6, 6, 241)
probs = act.softmax(np.stack([zs, np.ones_like(zs), np.zeros_like(zs)], axis=-1))
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, label in enumerate(["class 0 (logit z)", "class 1 (logit 1)", "class 2 (logit 0)"]):
    ax.plot(zs, probs[:, k], label=label)
ax.set(xlabel="logit $z$ of class 0", ylabel="softmax probability")
ax.legend()
fig.tight_layout()

# %%
z3, v3 = np.array([2.0, 1.0, 0.1]), np.array([1.0, -2.0, 0.5])
assert np.allclose(act.softmax_jvp(z3, v3), act.softmax_jacobian(z3) @ v3, atol=1e-15)
assert np.allclose(act.softmax_jacobian(z3).sum(axis=1), 0.0, atol=1e-15)  # rows sum to 0
pair = act.softmax(np.stack([zs, np.zeros_like(zs)], axis=-1))[:, 0]
assert np.allclose(pair, act.sigmoid(zs), rtol=1e-13)
act.softmax_jacobian(z3).round(3)

# %% [markdown]
# ## The vanishing gradient, in theory
#
# In a chain of layers, the chain rule multiplies one factor $f'(z_l)$ per layer (together with
# the weights). With sigmoids every such factor is at most $\frac14$, so after 10 layers the
# activation factors alone shrink the gradient by at least $0.25^{10} \approx 9.5 \times 10^{-7}$:

# %%
assert abs(0.25**10 - 9.5e-7) < 1e-8
0.25**10

# %% [markdown]
# ## The vanishing gradient, measured
#
# Now measure it in a real network. The data: scikit-learn's bundled handwritten digits, 1,797
# images of 8×8 pixels, ten classes. You keep 20 % aside for validation.

# %%
X, y = load_digits(return_X_y=True)
assert X.shape == (1797, 64) and len(np.unique(y)) == 10
X = X / 16.0  # pixel values 0..16 -> 0..1
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=0.2, random_state=seed, stratify=y
)
X_train.shape, X_val.shape

# %% [markdown]
# Both networks have 10 hidden layers of 32 units and an output layer for the 10 classes. They
# differ only in the hidden activation. Both use Keras' default Glorot-uniform initialisation, from the same seed,
# so they even start from identical weights.
#
# The output layer is linear: it returns the ten logits, and the loss applies the softmax itself
# (`from_logits=True`), computing $\log \operatorname{softmax}$ stably as in the section above.
# Had you put the softmax in the layer, Keras on JAX or PyTorch would take the log of
# probabilities clipped at $10^{-7}$, and every example whose correct class gets less than that
# would contribute no gradient at all.
#
# [`gradient_norms`][dlguide.diagnostics.gradient_norms] differentiates the loss on a batch with
# respect to every layer's weight matrix $W$ and returns the norm
# $\lVert \partial L / \partial W \rVert$ of each, first layer first. It uses the automatic
# differentiation of whichever backend Keras runs on, so this chapter runs unchanged on
# TensorFlow and JAX.

# %%
depth, width = 10, 32
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_mlp(activation, kernel_initializer="glorot_uniform"):
    keras.utils.set_random_seed(seed)
    hidden = [
        keras.layers.Dense(width, activation=activation, kernel_initializer=kernel_initializer)
        for _ in range(depth)
    ]
    return keras.Sequential([keras.Input((64,)), *hidden, keras.layers.Dense(10)])  # logits


def kernel_gradient_norms(model):
    """Norm of dLoss/dW for each layer's weight matrix, first layer first, on the training set."""
    norms = gradient_norms(model, X_train, y_train, from_logits=True)  # {layer name: norm}
    return np.array(list(norms.values()))


norms = {name: kernel_gradient_norms(make_mlp(name)) for name in ["sigmoid", "tanh", "relu"]}
color = {"sigmoid": "C0", "relu": "C1", "tanh": "C2"}  # the same colour for a network everywhere
layer = np.arange(1, depth + 2)  # 10 hidden layers and the output layer
pd.DataFrame(norms, index=pd.Index(layer, name="layer")).map("{:.2e}".format)

# %% caption="Gradient norm of each layer's weights at initialisation: sigmoid's fades towards the input."
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, values in norms.items():
    ax.semilogy(layer, values, "o-", color=color[name], label=name)
ax.set(xlabel="layer (1 = next to the input, 11 = output)", ylabel="‖∂L/∂W‖ at initialisation")
ax.set_xticks(layer)
ax.legend()
fig.tight_layout()

# %% [markdown]
# Read the sigmoid line from right to left: each layer divides the gradient by roughly four.
# That is the $\frac14$ bound at work: Glorot weights keep $\|W^\top \delta\|$ about the same size,
# so the factor $\sigma'(z) \le \frac14$ is what remains. By the first layer, sigmoid's gradient
# is more than a thousand times smaller than ReLU's. Tanh, whose slope is 1 at 0, does not fade.

# %%
ratio_first = norms["sigmoid"][0] / norms["relu"][0]
per_layer = (norms["sigmoid"][-1] / norms["sigmoid"][0]) ** (1 / depth)  # geometric mean factor
assert ratio_first < 1e-3, ratio_first
assert 3 < per_layer < 6, per_layer
assert norms["tanh"][0] > 0.1 * norms["tanh"][-1]
f"first-layer ratio sigmoid/ReLU = {ratio_first:.1e}, shrink factor per layer = {per_layer:.1f}"

# %% [markdown]
# A small gradient on the first layers means they hardly move. Train both networks with the same
# optimizer (SGD with momentum) and watch.

# %%
history = {}
for name in ["sigmoid", "relu"]:
    model = make_mlp(name)
    model.compile(keras.optimizers.SGD(0.02, momentum=0.9), loss_fn, metrics=["accuracy"])
    fit = model.fit(
        X_train, y_train, validation_data=(X_val, y_val), epochs=epochs, batch_size=64, verbose=0
    )
    history[name] = fit.history

# %% caption="Training loss and validation accuracy of the 10-layer sigmoid and ReLU networks."
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
for name, h in history.items():
    ax_loss.plot(range(1, epochs + 1), h["loss"], color=color[name], label=name)
    ax_acc.plot(range(1, epochs + 1), h["val_accuracy"], color=color[name], label=name)
ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)")
ax_acc.set(xlabel="epoch", ylabel="validation accuracy")
ax_acc.axhline(0.1, color="grey", ls=":", label="chance (10 classes)")
ax_acc.legend()
fig.tight_layout()

# %% [markdown]
# The sigmoid network stays at chance level, below 20 % validation accuracy, and its loss stays
# near $\ln 10 \approx 2.30$, the loss of a uniform guess. The ReLU network, same depth, same
# data, same optimizer, passes 50 %.

# %%
final = {name: h["val_accuracy"][-1] for name, h in history.items()}
assert final["sigmoid"] < 0.2 and final["relu"] > 0.5, final
assert abs(history["sigmoid"]["loss"][-1] - np.log(10)) < 0.05 and round(np.log(10), 2) == 2.30
final

# %% [markdown]
# ## Exploding gradients and clipping
#
# The opposite failure happens when each layer *multiplies* the gradient by more than 1.
# Initialise the ReLU network with weights drawn from $\mathcal N(0, 0.5^2)$ instead of Glorot's
# variance $2/(32 + 32)$: each layer now doubles the signal, forwards and backwards, and the
# gradients come out more than ten thousand times larger.

# %% caption="Gradient norms per layer of the ReLU network: Glorot initialisation vs. N(0, 0.5²)."
big = make_mlp("relu", keras.initializers.RandomNormal(stddev=0.5))
norms_big = kernel_gradient_norms(big)
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.semilogy(layer, norms["relu"], "o-", color=color["relu"], label="ReLU, Glorot uniform")
ax.semilogy(layer, norms_big, "s-", color="C3", label="ReLU, N(0, 0.5²)")
ax.set(xlabel="layer (1 = next to the input, 11 = output)", ylabel="‖∂L/∂W‖ at initialisation")
ax.set_xticks(layer)
ax.legend()
fig.tight_layout()

# %% [markdown]
# This time the line is flat, not sloped. A weight gradient is the product of the layer's input,
# which doubles on the way forward, and its error signal $\delta$, which doubles on the way back;
# the two effects balance, so every layer's gradient is blown up by about the same factor.
# Check the forward doubling and the size of the blow-up:

# %%
kernel = keras.ops.convert_to_numpy(make_mlp("relu").layers[1].kernel)  # a 32 -> 32 hidden layer
glorot_var = float(np.var(kernel))
assert abs(glorot_var / (2 / (32 + 32)) - 1) < 0.15, glorot_var
rms = []  # root-mean-square activation after each hidden layer, forwards
a = X_train
for hidden_layer in big.layers[:-1]:
    a = keras.ops.convert_to_numpy(hidden_layer(a))
    rms.append(float(np.sqrt(np.mean(a**2))))
growth = (rms[-1] / rms[0]) ** (1 / (depth - 1))
assert 1.5 < growth < 3, growth
assert (norms_big / norms["relu"]).min() > 1e4
f"forward growth per layer {growth:.2f}, smallest gradient ratio {(norms_big / norms['relu']).min():.1e}"

# %% [markdown]
# One SGD step with such a gradient throws the weights far away. **Gradient clipping** caps the
# step: with `clipnorm=1.0`, Keras rescales each variable's gradient to norm at most 1 before the
# update, so no weight matrix moves by more than the learning rate. (`global_clipnorm` caps the
# norm of all gradients together.) Clipping is standard in recurrent networks and transformers,
# where long chains make explosions likely. It treats the symptom; a sensible initialisation
# and activation, as above, treat the cause.
#
# [`gradients`][dlguide.diagnostics.gradients] returns the raw gradients, one array per weight,
# which you hand to the optimizer yourself.

# %%
before = [keras.ops.convert_to_numpy(w) for w in big.trainable_weights]
grads = gradients(big, X_train, y_train, from_logits=True)  # in trainable_weights order
keras.optimizers.SGD(learning_rate=0.05, clipnorm=1.0).apply(grads, big.trainable_weights)
after = [keras.ops.convert_to_numpy(w) for w in big.trainable_weights]
moves = [np.linalg.norm(w - b) for w, b in zip(after, before, strict=True)]
assert max(moves) <= 0.05 * (1 + 1e-5)
f"largest raw gradient norm {max(np.linalg.norm(g) for g in grads):.0f}, largest move {max(moves):.3f}"

# %% [markdown]
# ## Which activation where
#
# | where | use | why |
# | --- | --- | --- |
# | hidden layers | ReLU (default); leaky ReLU or ELU if many units die; GELU in transformers; SELU with LeCun-normal init for self-normalising MLPs | derivative 1 for $z > 0$: gradients pass through deep stacks |
# | hidden layers of RNN/LSTM cells | tanh (and sigmoid for gates) | bounded state; gates need values in $(0, 1)$ |
# | output, regression | linear | any real value |
# | output, binary or multi-label | sigmoid, one unit per label | a probability in $(0, 1)$ per label |
# | output, multi-class (one label) | softmax | probabilities that sum to 1 |
# | nowhere (history) | binary step | derivative 0: no gradient to learn from |
#
# In Keras you name them: `keras.layers.Dense(64, activation="relu")`, and
# `Dense(1, activation="sigmoid")` or `Dense(10, activation="softmax")` for the output, or, as
# in this chapter, a linear output and `from_logits=True` in the loss.
#
# ## Summary
#
# - An activation bends the linear map of a layer; its derivative scales the error signal on its
#   way back through that layer.
# - $\sigma' \le \frac14$ (maximum at $z = 0$), so ten sigmoid layers can shrink a gradient by
#   $0.25^{10} \approx 9.5 \times 10^{-7}$. You measured it: at initialisation the first layer of a
#   10-layer sigmoid network gets a gradient more than a thousand times smaller than the ReLU
#   network's, and it does not learn in the same budget.
# - $\tanh'(0) = 1$ and rectifiers have slope 1 for $z > 0$: gradients keep their size.
# - Too large a per-layer gain explodes gradients instead; clipping caps the step.
# - Compute activations stably: $e^{-|z|}$ for the sigmoid, subtract the maximum in softmax.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** The tanh is a rescaled sigmoid: $\tanh(z) = 2\sigma(2z) - 1$. Check it on `grid`
# against Keras' tanh, and derive from it that $\tanh'(z) = 4\sigma'(2z)$. Why does that make its
# peak slope 1?

# %% tags=["solution"]
rescaled = 2 * act.sigmoid(2 * grid) - 1
keras_tanh = keras.ops.convert_to_numpy(keras.activations.tanh(keras.ops.convert_to_tensor(grid)))
assert np.allclose(rescaled, keras_tanh, atol=1e-6)
assert np.allclose(act.tanh_grad(grid), 4 * act.sigmoid_grad(2 * grid), rtol=1e-12)
# The peak: 4 × σ'(0) = 4 × 1/4 = 1.
print(
    f"max |2σ(2z) - 1 - tanh z| = {np.abs(rescaled - np.tanh(grid)).max():.1e}; peak slope {4 * slope.max()}"
)
assert 4 * slope.max() == act.tanh_grad(0.0) == 1.0

# %% [markdown]
# **Exercise 2.** Where is GELU's derivative $\Phi(z) + z\varphi(z)$ smallest? Find it on `grid`
# with [`gelu_grad`][dlguide.activations.gelu_grad], then in closed form (set the second
# derivative $(2 - z^2)\varphi(z)$ to zero). What does a negative slope mean for a unit?

# %% tags=["solution"]
from math import erfc

gelu_slope = act.gelu_grad(grid)
z_min = grid[gelu_slope.argmin()]
phi = np.exp(-1.0) / np.sqrt(2 * np.pi)  # φ(-√2) = e^{-1}/√(2π)
closed_min = 0.5 * erfc(1.0) - np.sqrt(2) * phi  # Φ(-√2) - √2 φ(-√2)
print(
    f"smallest slope {gelu_slope.min():.4f} at z = {z_min} (closed form: {closed_min:.4f} at -√2)"
)
assert abs(z_min + np.sqrt(2)) < 1e-3
assert abs(gelu_slope.min() - closed_min) < 1e-6
# Negative: for z < -0.75 raising the input lowers the output, so a gradient step there pushes
# the pre-activation the "wrong" way, though only weakly (the slope is never below -0.13).
assert -0.13 < closed_min < 0

# %% [markdown]
# **Exercise 3.** For 1,000 classes, compute the softmax backward pass $J v$ both with the full
# [`softmax_jacobian`][dlguide.activations.softmax_jacobian] and with
# [`softmax_jvp`][dlguide.activations.softmax_jvp]. Do they agree, and how many numbers does
# each have to hold?

# %% tags=["solution"]
rng_ex = np.random.default_rng(seed)
z_big, v_big = rng_ex.normal(size=1000), rng_ex.normal(size=1000)
full = act.softmax_jacobian(z_big)
s_big = act.softmax(z_big)
assert np.allclose(full @ v_big, act.softmax_jvp(z_big, v_big), atol=1e-15)
assert np.allclose(act.softmax_jvp(z_big, v_big), s_big * (v_big - s_big @ v_big), atol=1e-15)
print(f"Jacobian: {full.size:,} numbers, O(n²) work; JVP: {s_big.size:,} numbers, O(n) work")
assert full.size == 1000 * s_big.size
