# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {stuck_epochs: 50000}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Backpropagation
#
# **What you will learn:** how the chain rule gives the gradient of the loss for every weight of a
# network (the δ terms of backpropagation), first with numbers on the network of
# [chapter 1](01-neurons.md), then as a few matrix products for a whole batch; how to check a
# backward pass against finite differences; why the gradient of an early weight shrinks as a chain
# of sigmoid neurons grows; and how a 2-2-1 network learns XOR by hand, or gets stuck.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took. **Uses:**
# NumPy, matplotlib, Keras and
# [`dlguide.backprop`](../api/backprop.md).

# %% tags=["parameters"]
converging_seed = 3  # XOR initial weights that learn XOR
stuck_seed = 0  # XOR initial weights that get stuck
learning_rate = 0.1  # XOR, plain gradient descent, full batch
max_epochs = 300_000  # cap for the converging run; it stops once MAE <= 0.01
stuck_epochs = 300_000  # how long the stuck run keeps trying
keras_seed = 0

# %%
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dlguide.backprop import (
    gradient_check,
    gradients,
    numerical_gradients,
    relative_error,
    train,
)
from dlguide.neurons import dense, forward_propagate, init_network

keras.utils.set_random_seed(keras_seed)

# %% [markdown]
# ## One backward pass, with numbers
#
# Take the 2-2-1 sigmoid network of chapter 1: inputs $x = (0.5, 0.85)$, hidden neurons with
# weights $w_1, w_2$ and $w_3, w_4$, an output neuron with weights $w_5, w_6$, and biases
# $b_{1,1}, b_{1,2}, b_2$. Its output is 0.7159. Say the target for this input is $y = 1$ and the
# loss is the squared error $L = (a_2 - y)^2$.
#
# Training needs $\partial L / \partial w$ for every weight. The chain rule splits it into
# local pieces along the path from the weight to the loss. For $w_5$ the path is
# $w_5 \to z_2 \to a_2 \to L$:
#
# $$ \frac{\partial L}{\partial w_5} = \underbrace{\frac{\partial L}{\partial a_2}
#    \frac{\partial a_2}{\partial z_2}}_{\delta_2} \frac{\partial z_2}{\partial w_5}
#    = \underbrace{2(a_2 - y)\, a_2(1 - a_2)}_{\delta_2}\; a_{1,1}. $$
#
# The product $\delta_2 = \partial L / \partial z_2$ is the output neuron's **error term**.
# Every weight into that neuron reuses it: $\partial L/\partial w_6 = \delta_2\, a_{1,2}$ and
# $\partial L/\partial b_2 = \delta_2$. The sigmoid's derivative is $\sigma'(z) = a(1-a)$, written
# with the activation the forward pass already computed.

# %%
x1, x2, y = 0.5, 0.85, 1.0
w1, w2, w3, w4, w5, w6 = 0.9, 0.42, 0.46, 0.92, 0.66, 0.05
b11, b12, b2 = 0.06, 0.34, 0.42


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# forward pass, as in chapter 1
a11 = sigmoid(x1 * w1 + x2 * w2 + b11)
a12 = sigmoid(x1 * w3 + x2 * w4 + b12)
a2 = sigmoid(a11 * w5 + a12 * w6 + b2)
loss = (a2 - y) ** 2

# backward pass: the output neuron
delta2 = 2 * (a2 - y) * a2 * (1 - a2)
dw5, dw6, db2 = delta2 * a11, delta2 * a12, delta2
print(f"a2 = {a2:.4f}  L = {loss:.4f}  dL/da2 = {2 * (a2 - y):.4f}  delta2 = {delta2:.4f}")
print(f"dL/dw5 = {dw5:.4f}  dL/dw6 = {dw6:.4f}  dL/db2 = {db2:.4f}")

# %% [markdown]
# One step further back, the path from $w_1$ to the loss runs through the first hidden neuron:
# $w_1 \to z_{1,1} \to a_{1,1} \to z_2 \to a_2 \to L$. Everything after $a_{1,1}$ is already in
# $\delta_2$, so the hidden neuron's error term is
#
# $$ \delta_{1,1} = \delta_2\, w_5\, a_{1,1}(1 - a_{1,1}), \qquad
#    \frac{\partial L}{\partial w_1} = \delta_{1,1}\, x_1, \quad
#    \frac{\partial L}{\partial w_2} = \delta_{1,1}\, x_2. $$
#
# That is backpropagation: the error term of a layer is the next layer's error term, sent back
# through the connecting weight and multiplied by the local derivative.

# %%
delta11 = delta2 * w5 * a11 * (1 - a11)
delta12 = delta2 * w6 * a12 * (1 - a12)
by_hand = dict(w1=delta11 * x1, w2=delta11 * x2, w3=delta12 * x1, w4=delta12 * x2)
by_hand |= dict(w5=dw5, w6=dw6, b11=delta11, b12=delta12, b2=db2)
print(f"delta11 = {delta11:.4f}  delta12 = {delta12:.6f}")
assert round(a2, 4) == 0.7159
assert round(delta2, 4) == -0.1155
assert round(delta11, 4) == -0.0159 and round(delta12, 5) == -0.00094
assert all(g < 0 for g in by_hand.values())
pd.Series(by_hand, name="dL/dparameter").round(6).to_frame().T


# %% [markdown]
# The output's error term is $\delta_2 = -0.1155$; the hidden ones are much smaller,
# $\delta_{1,1} = -0.0159$ and $\delta_{1,2} = -0.00094$, because each step back multiplies by a
# weight and by $\sigma' \le \frac14$. $\delta_{1,2}$ is tiny because $w_6 = 0.05$: the output
# barely listens to the second hidden neuron, so its weights barely matter.
# Negative gradients mean that increasing each weight lowers the loss, which is right: the output
# 0.7159 is below its target 1.

# %% [markdown]
# ## The same pass for a whole batch
#
# Written with matrices, the same two rules hold for any depth and any batch. Stack $N$ inputs as
# the rows of $X$, so each layer computes $z^{(k)} = a^{(k-1)} W^{(k)} + b^{(k)}$ and
# $a^{(k)} = f(z^{(k)})$ with $a^{(0)} = X$. With $\delta^{(k)} = \partial L / \partial z^{(k)}$:
#
# $$ \delta^{(L)} = \frac{\partial L}{\partial a^{(L)}} \odot f'(z^{(L)}), \qquad
#    \delta^{(k-1)} = \big(\delta^{(k)} W^{(k)\top}\big) \odot f'(z^{(k-1)}), $$
#
# $$ \frac{\partial L}{\partial W^{(k)}} = a^{(k-1)\top} \delta^{(k)}, \qquad
#    \frac{\partial L}{\partial b^{(k)}} = \textstyle\sum_n \delta^{(k)}_{n,:}. $$
#
# The sum over rows adds up every example's contribution. That is the whole algorithm, and it
# fits in two short functions: the forward pass keeps every layer's activations, and the backward
# pass walks the layers from last to first. Here it is for sigmoid layers and the mean squared
# error $L = \frac{1}{NK}\sum (a^{(L)} - y)^2$, with $\sigma'(z) = a(1-a)$ written with the
# activations the forward pass kept. A layer is a dict of `"weights"` (one column per neuron, as
# in chapter 1 and in Keras) and `"biases"`.


# %%
def forward_pass(network, X):
    activations = [X]  # a^(0) = X, one example per row
    for layer in network:
        z = activations[-1] @ layer["weights"] + layer["biases"]
        activations.append(1.0 / (1.0 + np.exp(-z)))  # a^(k) = sigmoid(z^(k))
    return activations


def backward_pass(network, activations, Y):
    a = activations[-1]
    delta = 2 * (a - Y) / a.size * a * (1 - a)  # delta^(L) = dL/da * sigmoid'(z)
    grads = []
    for k in range(len(network) - 1, -1, -1):
        grads.insert(0, {"weights": activations[k].T @ delta, "biases": delta.sum(axis=0)})
        if k > 0:
            a = activations[k]
            delta = (delta @ network[k]["weights"].T) * a * (1 - a)  # delta^(k-1)
    return grads


# %% [markdown]
# [`dlguide.backprop`](../api/backprop.md) implements the same pass in
# [`backward`][dlguide.backprop.backward], for sigmoid, tanh, ReLU, linear and softmax layers and
# the mean squared error or cross-entropy losses, on the networks of
# [`dlguide.neurons`][dlguide.neurons]: [`dense`][dlguide.neurons.dense] builds one layer from
# given weights and [`init_network`][dlguide.neurons.init_network] a random network.
# [`gradients`][dlguide.backprop.gradients] runs the forward and the backward pass. On a random
# 3-5-4-2 sigmoid network and a batch of 16 rows, the two cells above give the same gradients, to
# the last few bits:

# %%
rng = np.random.default_rng(1)
net_342 = init_network([3, 5, 4, 2], "sigmoid", seed=1)
X_batch, Y_batch = rng.normal(size=(16, 3)), rng.uniform(size=(16, 2))
ours = backward_pass(net_342, forward_pass(net_342, X_batch), Y_batch)
_, reference = gradients(net_342, X_batch, Y_batch, "mse")
worst = max(
    np.max(np.abs(g[key] - r[key]) / np.max(np.abs(r[key])))
    for g, r in zip(ours, reference, strict=True)
    for key in ("weights", "biases")
)
assert worst < 1e-12
print(f"largest difference, relative to each array's largest entry: {worst:.1e}")

# %% [markdown]
# For one example the loss is our $(a_2 - y)^2$, so [`gradients`][dlguide.backprop.gradients]
# also reproduces the hand computation of the chapter-1 network:

# %%
network = [
    dense([[w1, w3], [w2, w4]], [b11, b12], "sigmoid"),
    dense([[w5], [w6]], [b2], "sigmoid"),
]
loss_value, grads = gradients(network, [[x1, x2]], [[y]], "mse")
assert abs(loss_value - loss) < 1e-15
assert np.allclose(
    grads[0]["weights"],
    [[by_hand["w1"], by_hand["w3"]], [by_hand["w2"], by_hand["w4"]]],
    rtol=1e-12,
)
assert np.allclose(grads[1]["weights"][:, 0], [dw5, dw6], rtol=1e-12)
grads[0]["weights"], grads[1]["weights"]

# %% [markdown]
# ## Checking a backward pass
#
# A backward pass can be wrong and still train, slowly. So check it against the definition of a
# derivative. Nudge one parameter $\theta$ by $\pm\varepsilon$ and measure the loss both times:
#
# $$ \frac{\partial L}{\partial \theta} \approx \frac{L(\theta + \varepsilon) -
#    L(\theta - \varepsilon)}{2 \varepsilon}. $$
#
# This central difference is accurate to $O(\varepsilon^2)$.
# [`gradient_check`][dlguide.backprop.gradient_check] does it for every parameter and returns the
# relative error $\lVert g_{\text{backprop}} - g_{\text{numeric}} \rVert /
# (\lVert g_{\text{backprop}} \rVert + \lVert g_{\text{numeric}} \rVert)$. In float64 a correct
# backward pass gives about $10^{-9}$ or less. Try it on the chapter-1 network and on a deeper one
# with tanh, ReLU and softmax layers and the cross-entropy loss:

# %%
rng = np.random.default_rng(0)
deep = init_network([4, 6, 5, 3], ["tanh", "relu", "softmax"], seed=0)
X_small = rng.normal(size=(8, 4))
Y_small = np.eye(3)[rng.integers(0, 3, size=8)]
errors = {
    "chapter-1 network, MSE": gradient_check(network, [[x1, x2]], [[y]], "mse"),
    "4-6-5-3 tanh/ReLU/softmax, cross-entropy": gradient_check(
        deep, X_small, Y_small, "categorical_crossentropy"
    ),
}
assert all(e < 1e-8 for e in errors.values())
errors


# %% [markdown]
# Now make the classic mistake: forget the sigmoid's derivative in the hidden layer. The check
# catches it at once.

# %%
_, acts = forward_propagate(network, [[x1, x2]])
delta_out = 2 * (acts[2] - y) * acts[2] * (1 - acts[2])
delta_hidden_wrong = delta_out @ network[1]["weights"].T  # missing: * a * (1 - a)
wrong = [
    {"weights": acts[0].T @ delta_hidden_wrong, "biases": delta_hidden_wrong.sum(axis=0)},
    {"weights": acts[1].T @ delta_out, "biases": delta_out.sum(axis=0)},
]
bug_error = relative_error(wrong, numerical_gradients(network, [[x1, x2]], [[y]], "mse"))
assert bug_error > 0.1
bug_error


# %% [markdown]
# The test suite runs the same check on many more networks, lets
# [hypothesis](https://hypothesis.readthedocs.io) invent random ones, and also compares every
# gradient with TensorFlow's automatic differentiation (`tf.GradientTape`) in float32.
#
# ## The gradient shrinks along a chain
#
# The hidden error terms above were smaller than the output's. The effect compounds with depth.
# Take a chain of single sigmoid neurons: input $x = 0.1$, a first neuron with $w_1 = 0.15$,
# $b_1 = 0.4$, then neurons with $w = 0.45$, $b = 0.65$, and target $0.25$. The chain rule gives
#
# $$ \frac{\partial L}{\partial w_1} = 2(a_n - y) \prod_{k=1}^{n} \sigma'(z_k)
#    \prod_{k=2}^{n} w_k \cdot x, $$
#
# one factor $w_k \sigma'(z_k)$ per neuron after the first. With $w = 0.45$ and $\sigma' \le
# \frac14$ each factor is at most $0.1125$.


# %%
def chain(n_neurons):
    weights = [0.15] + [0.45] * (n_neurons - 1)
    biases = [0.4] + [0.65] * (n_neurons - 1)
    return [dense([[w]], [b], "sigmoid") for w, b in zip(weights, biases)]


depths = np.arange(2, 11)
dL_dw1 = np.array(
    [gradients(chain(n), [[0.1]], [[0.25]], "mse")[1][0]["weights"][0, 0] for n in depths]
)
factors = dL_dw1[1:] / dL_dw1[:-1]
assert round(dL_dw1[0], 4) == 0.0020 and abs(dL_dw1[-1] - 8.6e-12) < 0.05e-12
assert np.all((factors > 0.085) & (factors < 0.1125))
assert abs(factors[-1] - 0.089) < 0.001
pd.DataFrame({"neurons": depths, "dL/dw1": dL_dw1}).set_index("neurons").T


# %% caption="The gradient of the loss with respect to the first weight of a chain of sigmoid neurons falls by a factor of about 11 with every neuron added."
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(depths, dL_dw1, "o-")
ax.set_xlabel("neurons in the chain")
ax.set_ylabel("dL/dw1 (log scale)")
ax.set_title("Gradient of the first weight vs. chain length")
plt.show()

# %% [markdown]
# With two neurons $\partial L/\partial w_1 = 0.0020$; with ten it is $8.6 \times 10^{-12}$.
# Every added neuron multiplies it by about 0.089, so a gradient step barely moves $w_1$: the
# early layers of a deep sigmoid network learn slowest. This is the **vanishing gradient**;
# [chapter 4](04-activations.md) measures it in a real network and shows how ReLU avoids it.

# %% [markdown]
# ## XOR by hand
#
# XOR outputs 1 when exactly one of its two inputs is 1. No single neuron can compute it: no
# straight line separates $\{(0,1), (1,0)\}$ from $\{(0,0), (1,1)\}$. A 2-2-1 sigmoid network can.
# Train one as the [course](../sources.md) does: full batch (all four examples in every step), learning rate
# 0.1, squared error. The starting weights and biases are drawn uniformly from $[-1, 1)$.
# [`train`][dlguide.backprop.train] runs the loop (forward, loss, backward, update) and stops
# once the mean absolute error (MAE) $\frac14 \sum |a - y|$ drops to 0.01.

# %%
X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_xor = np.array([[0.0], [1.0], [1.0], [0.0]])

start = init_network([2, 2, 1], "sigmoid", seed=converging_seed, scale=1.0)
solved, history = train(
    start,
    X_xor,
    Y_xor,
    "mse",
    learning_rate=learning_rate,
    epochs=max_epochs,
    tol=0.01,
    monitor="mae",
)
outputs, _ = forward_propagate(solved, X_xor)
print(f"stopped after {history.epochs:,} epochs, MAE {np.mean(np.abs(outputs - Y_xor)):.7f}")
mae_solved = np.mean(np.abs(outputs - Y_xor))
assert history.converged and mae_solved < 0.01
assert abs(history.epochs - 256_264) < 2_000  # the exact count can move a little with rounding
assert np.all(np.abs(outputs - Y_xor) < 0.012)
pd.DataFrame(
    {"x1": X_xor[:, 0], "x2": X_xor[:, 1], "target": Y_xor[:, 0], "output": outputs[:, 0].round(4)}
)


# %% [markdown]
# It needs **256,264 epochs** to reach an MAE below 0.01. Every output is within 0.012 of its
# target.

# %% [markdown]
# ## Why 256,264 epochs and not the course's 180,000
#
# The course reports an MAE of about 0.0085 after 180,000 epochs. Two things differ.
#
# **The step size.** Written out, the course updates each weight by $\eta \sum_n \delta_n \cdot
# (\text{input})$ with $\delta_n = (y_n - a_n)\, a_n (1 - a_n)$: the gradient of
# $\frac12 \sum_n (a_n - y_n)^2$, a *sum* with a $\frac12$. Here, as in Keras, the loss is the
# *mean* $\frac14 \sum_n (a_n - y_n)^2$, whose gradient is $\frac{2}{4} = \frac12$ as large. With
# the same $\eta = 0.1$, each of our steps is half the course's. Compare both on the same weights:

# %%
a_out, (_, a1, _) = forward_propagate(start, X_xor)
course_delta = (Y_xor - a_out) * a_out * (1 - a_out)
course_step_W2 = learning_rate * a1.T @ course_delta  # the course's update of the output weights
our_step_W2 = -learning_rate * gradients(start, X_xor, Y_xor, "mse")[1][1]["weights"]
assert np.allclose(course_step_W2 / our_step_W2, 2.0, rtol=1e-12)
course_step_W2 / our_step_W2


# %% [markdown]
# **The slow finish.** Near the solution the outputs sit close to 0 and 1, where the sigmoid is
# flat. Its derivative $a(1-a)$ is about as small as the error itself, so the error $e$ shrinks
# roughly like $de/dt \propto -e^3$, that is like $1/\sqrt{t}$: halving the error takes four
# times as many epochs. The recorded history shows it: from epoch 50,000 to epoch 200,000 (four
# times as many) the MAE falls by a factor of 0.45, close to $\frac12$.

# %%
tail_ratio = history.mae[200_000 - 1] / history.mae[50_000 - 1]
assert abs(tail_ratio - 0.45) < 0.01
tail_ratio

# %% [markdown]
# Put together: the course's 180,000 epochs are worth 360,000 of ours. Extrapolating our run's
# $1/\sqrt{t}$ tail from MAE 0.01 at 256,264 epochs gives
# $0.01 \sqrt{256{,}264 / 360{,}000} \approx 0.0084$ at that point, close to the course's 0.0085.
# The rest is the random start: the course does not seed its weights, and a different start
# changes the count.

# %%
extrapolated = 0.01 * math.sqrt(history.epochs / 360_000)
assert abs(extrapolated - 0.0085) < 0.0005
assert round(extrapolated, 4) == 0.0084
round(extrapolated, 4)

# %% [markdown]
# ## A seed that gets stuck
#
# Start from other random weights and the same training gets nowhere:

# %%
start_stuck = init_network([2, 2, 1], "sigmoid", seed=stuck_seed, scale=1.0)
stuck, history_stuck = train(
    start_stuck, X_xor, Y_xor, "mse", learning_rate=learning_rate, epochs=stuck_epochs
)
_, acts_stuck = forward_propagate(stuck, X_xor)
out_stuck = acts_stuck[2][:, 0]
assert np.all(np.abs(out_stuck[[0, 2]] - 0.5) < 0.01)
assert np.all(np.abs(out_stuck[[1, 3]] - Y_xor[[1, 3], 0]) < 0.05)
assert np.all(acts_stuck[1][[0, 2]] > 0.99)  # both hidden neurons saturated on (0,0) and (1,0)
assert np.max(np.abs(acts_stuck[1][0] - acts_stuck[1][2])) < 0.005  # same hidden code
assert 0.125 < history_stuck.loss[-1] < 0.128 and 0.25 < history_stuck.mae[-1] < 0.28
table = pd.DataFrame(X_xor, columns=["x1", "x2"]).assign(target=Y_xor[:, 0])
table[["hidden 1", "hidden 2"]] = acts_stuck[1].round(4)
table.assign(output=acts_stuck[2][:, 0].round(4))


# %% [markdown]
# After all those epochs the network outputs about 0.5 for $(0, 0)$ and $(1, 0)$ and gets the
# other two inputs right. Look at the hidden layer: both hidden neurons output almost exactly 1
# for both of these inputs. The output neuron sees the same two numbers for an input whose target
# is 0 and one whose target is 1, so the best it can do is answer 0.5 for both. The loss then
# approaches $\frac14(0.5^2 + 0.5^2) = 0.125$ and stays just above it, with an MAE just above 0.25.

# %% [markdown]
# To tell the two hidden codes apart, the hidden weights would have to change. But both hidden
# neurons are saturated on these inputs, so their derivatives $a(1-a)$ are nearly 0 and so are
# the error terms that would move them. The whole gradient has almost vanished:

# %%
grad_norm = math.sqrt(
    sum(
        np.sum(g["weights"] ** 2) + np.sum(g["biases"] ** 2)
        for g in gradients(stuck, X_xor, Y_xor, "mse")[1]
    )
)
assert grad_norm < 1e-3
assert history.mae[999] > 0.49 and history_stuck.mae[999] > 0.49  # epoch 1,000: on the plateau
assert abs(history.mae[9_999] - 0.11) < 0.005
grad_norm


# %% [markdown]
# For gradient descent this is a local minimum: the loss sits at 0.125 instead of 0, and nothing
# pulls it out. Strictly, it is a flat region rather than a minimum. Analyses of this very 2-2-1
# XOR network (L. Hamey, *XOR has no local minima*, 1998; I. Sprinkhuizen-Kuyper and E. Boers,
# *The local minima of the error surface of the 2-2-1 XOR network*, 1999) locate the traps where
# hidden neurons saturate on two of the patterns, as here, and show that a strictly downhill path
# to zero error exists from every finite weight setting. It is just too flat for gradient
# descent to follow. More hidden neurons, a different start or an adaptive optimizer usually
# avoid it.
#
# The two learning curves side by side. Both start on a plateau at an MAE of 0.5 that lasts a few
# thousand epochs. By epoch 10,000 the converging run is down to 0.11, and then it creeps along
# the $1/\sqrt{t}$ tail; the stuck run settles just above 0.25.

# %% caption="Mean absolute error of the two XOR runs, per epoch: one seed solves XOR, the other settles on a plateau with two outputs at 0.5."
fig, ax = plt.subplots(figsize=(6.5, 3.8))
epochs_axis = np.arange(1, history.epochs + 1)
ax.loglog(epochs_axis, history.mae, label=f"seed {converging_seed}: learns XOR")
ax.loglog(
    np.arange(1, history_stuck.epochs + 1), history_stuck.mae, label=f"seed {stuck_seed}: stuck"
)
ax.axhline(0.01, color="gray", linestyle=":", label="MAE 0.01")
ax.set_xlabel("epoch (log scale)")
ax.set_ylabel("mean absolute error (log scale)")
ax.set_title("XOR, 2-2-1 sigmoid network, learning rate 0.1")
ax.legend()
plt.show()

# %% [markdown]
# ## XOR in Keras
#
# In Keras the same network is a few lines. Plain SGD at 0.1 would need the same quarter of a
# million steps: the test suite checks that Keras' SGD steps equal those of
# [`train`][dlguide.backprop.train]. So use Adam, which scales each step by the recent size of
# the gradients and gets through the flat stretches much faster. Keras' bookkeeping for one
# epoch costs far more than one step on four rows, so instead of 1,500 epochs of 4 rows you give
# it 6 epochs of the 4 rows repeated 250 times, in order, with batches of 4: every batch is still
# the full XOR set.

# %%
keras.utils.set_random_seed(keras_seed)
model = keras.Sequential(
    [
        keras.Input((2,)),
        keras.layers.Dense(2, activation="sigmoid"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mse")
model.fit(
    np.tile(X_xor, (250, 1)),
    np.tile(Y_xor, (250, 1)),
    batch_size=4,
    epochs=6,
    shuffle=False,
    verbose=0,
)
keras_outputs = model.predict(X_xor, verbose=0)
keras_mae = float(np.mean(np.abs(keras_outputs - Y_xor)))
print(f"Keras, 1,500 Adam steps: outputs {keras_outputs[:, 0].round(4)}, MAE {keras_mae:.4f}")
assert keras_mae < 0.01


# %% [markdown]
# 1,500 Adam steps reach an MAE below 0.01, against 256,264 steps of plain gradient descent.
# Adam does not make the trap go away, though: with two hidden neurons some seeds still stick
# (try other seeds for `keras_seed`).
#
# ## Summary
#
# - Backpropagation is the chain rule organised by layer: the error term
#   $\delta^{(k)} = \partial L / \partial z^{(k)}$ of a layer is the next layer's error term sent
#   back through the weights, times the local derivative $f'(z^{(k)})$; then
#   $\partial L / \partial W^{(k)} = a^{(k-1)\top} \delta^{(k)}$.
# - For a batch, one backward pass is a few matrix products, about as costly as the forward pass.
# - Check a backward pass with central differences: a correct one agrees to about $10^{-9}$ in
#   float64, a bug shows up as an error of order $10^{-1}$.
# - Each sigmoid neuron in a chain multiplies the gradient of the early weights by $w \sigma'$,
#   here about 0.089: gradients vanish with depth.
# - A 2-2-1 sigmoid network learns XOR with plain gradient descent in 256,264 epochs (this seed,
#   $\eta = 0.1$, mean squared error), most of them spent on the slow $1/\sqrt t$ finish; another
#   seed gets stuck with two outputs at 0.5, where saturated hidden neurons stop the gradient.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Check $\partial L / \partial b_{1,1}$ of the chapter-1 network yourself: nudge
# $b_{1,1}$ by $\pm 10^{-5}$, recompute the loss by hand with `sigmoid`, and compare the central
# difference with the backward pass.


# %% tags=["solution"]
def loss_for_b11(b):
    h1, h2 = sigmoid(x1 * w1 + x2 * w2 + b), sigmoid(x1 * w3 + x2 * w4 + b12)
    return (sigmoid(h1 * w5 + h2 * w6 + b2) - y) ** 2


eps = 1e-5
numeric_b11 = (loss_for_b11(b11 + eps) - loss_for_b11(b11 - eps)) / (2 * eps)
print(f"central difference {numeric_b11:.8f}, backward pass {by_hand['b11']:.8f}")
assert abs(numeric_b11 - by_hand["b11"]) < 1e-9
assert abs(numeric_b11 - grads[0]["biases"][0]) < 1e-9

# %% [markdown]
# **Exercise 2.** Evaluate the chain-rule formula for $\partial L / \partial w_1$ by hand for the
# chain of two neurons and compare it with the first entry of `dL_dw1`. What is the factor that a
# third neuron would add?

# %% tags=["solution"]
a_1 = sigmoid(0.15 * 0.1 + 0.4)
a_2 = sigmoid(0.45 * a_1 + 0.65)
formula = 2 * (a_2 - 0.25) * a_1 * (1 - a_1) * a_2 * (1 - a_2) * 0.45 * 0.1
a_3 = sigmoid(0.45 * a_2 + 0.65)
third_factor = (
    0.45 * a_3 * (1 - a_3)
)  # one more w σ'(z), and a new 2(a_3 - y) in place of 2(a_2 - y)
print(
    f"formula {formula:.6e}, backprop {dL_dw1[0]:.6e}; a third neuron adds w σ'(z₃) = {third_factor:.4f}"
)
assert abs(formula - dL_dw1[0]) < 1e-15
assert abs(dL_dw1[1] - dL_dw1[0] * third_factor * (a_3 - 0.25) / (a_2 - 0.25)) < 1e-15

# %% [markdown]
# **Exercise 3.** With a sigmoid output and the binary cross-entropy
# $L = -[y \log a + (1 - y) \log(1 - a)]$, the output error term is just $\delta_2 = a_2 - y$: the
# $\sigma'$ factor cancels. Check it on the chapter-1 network with `gradients(...,
# "binary_crossentropy")`, and compare $|\delta_2|$ with the squared error's.

# %% tags=["solution"]
bce_value, bce_grads = gradients(network, [[x1, x2]], [[y]], "binary_crossentropy")
delta2_bce = a2 - y
print(f"L = {bce_value:.4f}; delta2: cross-entropy {delta2_bce:.4f}, squared error {delta2:.4f}")
assert abs(bce_value - -math.log(a2)) < 1e-12
assert np.allclose(bce_grads[1]["weights"][:, 0], [delta2_bce * a11, delta2_bce * a12], rtol=1e-12)
assert abs(bce_grads[1]["biases"][0] - delta2_bce) < 1e-12
# No a(1 - a) ≤ 1/4 factor: the error term stays large while the output is wrong.
assert abs(delta2_bce) > 2 * abs(delta2)
