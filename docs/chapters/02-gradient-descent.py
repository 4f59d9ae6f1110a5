# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {n_samples: 300, epochs: 10}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Gradient descent and the training loop
#
# **What you will learn:** how gradient descent walks downhill on a loss; why a learning rate
# that is too high oscillates or diverges and one that is too low crawls; when to stop; the
# training loop (forward → error → backward → update) written out by hand and matched with Keras;
# batch, mini-batch and stochastic gradient descent; and the optimizers SGD, momentum, Nesterov,
# Adagrad, RMSprop and Adam, from scratch and step for step equal to `keras.optimizers`.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took. **Uses:** NumPy, pandas, matplotlib, Keras,
# [`dlguide.gradient_descent`](../api/gradient_descent.md) and
# [`dlguide.optimizers`](../api/optimizers.md).

# %% tags=["parameters"]
seed = 0  # seeds the data and the shuffling
n_samples = 1000  # size of the linear-regression data set
epochs = 30  # passes over the data for batch vs. mini-batch vs. stochastic gradient descent

# %%
import inspect

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dlguide.gradient_descent import (
    gradient_descent,
    minibatch_gradient_descent,
    mse_loss_and_grads,
)
from dlguide.optimizers import SGD, Adagrad, Adam, RMSprop

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## The update rule
#
# Training a model means finding parameters $w$ that make a loss $J(w)$ small. The gradient
# $\nabla J(w)$ points uphill, in the direction where $J$ grows fastest. So take a small step the
# other way, and repeat:
#
# $$ w_{k+1} = w_k - \eta \, \nabla J(w_k). $$
#
# The step size $\eta > 0$ is the **learning rate**. Take the [course](../sources.md)'s bowl
# $J(w, b) = w^2 + b^2 + 6$. Its gradient is $(2w, 2b)$ and its minimum is $J = 6$ at
# $(0, 0)$. Along the line $b = 0$ it is a function of one variable, $J(w) = w^2 + 6$, and the
# update becomes
#
# $$ w_{k+1} = w_k - 2 \eta w_k = (1 - 2\eta)\, w_k. $$
#
# Everything depends on the factor $r = 1 - 2\eta$. If $0 < r < 1$, $w$ shrinks towards 0
# steadily; if $r$ is close to 1, it crawls. If $-1 < r < 0$, $w$ flips sign every step but still
# shrinks: it oscillates. If $|r| > 1$, it grows: gradient descent diverges.
#
# The loop itself is two lines: evaluate the gradient where you are, step against it.


# %%
def descend(grad, w0, learning_rate, steps):
    path = [w0]
    for _ in range(steps):
        w = path[-1]
        path.append(w - learning_rate * grad(w))  # w_{k+1} = w_k - eta * grad J(w_k)
    return np.array(path)


# %% [markdown]
# [`gradient_descent`][dlguide.gradient_descent.gradient_descent] is this loop plus the stopping
# rules of the next sections and a record of the loss; it returns every iterate. Try four
# learning rates for 10 steps from $w_0 = 3$, and check that `dlguide` takes exactly the steps of
# `descend`:


# %%
def bowl_1d(w):
    return float(w[0] ** 2 + 6)


def bowl_1d_grad(w):
    return 2 * w


rates_1d = {"too low": 0.05, "good": 0.3, "oscillates": 0.9, "too high": 1.05}
runs_1d = {
    label: gradient_descent(bowl_1d, bowl_1d_grad, np.array([3.0]), eta, max_epochs=10)
    for label, eta in rates_1d.items()
}
for label, eta in rates_1d.items():
    assert np.array_equal(runs_1d[label].path, descend(bowl_1d_grad, np.array([3.0]), eta, 10))
final_1d = {label: run.path[-1, 0] for label, run in runs_1d.items()}
for label, eta in rates_1d.items():
    assert abs(final_1d[label] - 3 * (1 - 2 * eta) ** 10) < 1e-12
assert abs(final_1d["too low"] - 1.046) < 5e-4
assert abs(final_1d["good"] - 0.0003) < 5e-5
assert abs(final_1d["oscillates"] - 0.322) < 5e-4
assert abs(final_1d["too high"] - 7.781) < 5e-4
oscillating = runs_1d["oscillates"].path[:, 0]
assert np.all(np.sign(oscillating[1:]) == -np.sign(oscillating[:-1]))
assert np.all(np.diff(np.abs(runs_1d["too high"].path[:, 0])) > 0)
pd.DataFrame({label: np.round(run.path[:, 0], 4) for label, run in runs_1d.items()}).rename_axis(
    "step"
).T


# %% caption="Ten gradient-descent steps on J(w) = w² + 6 from w = 3, for four learning rates."
grid = np.linspace(-8.5, 8.5, 200)
fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), sharey=True)
for ax, (label, run) in zip(axes, runs_1d.items()):
    ax.plot(grid, grid**2 + 6, color="0.7")
    ax.plot(run.path[:, 0], run.losses, "o-", ms=4)
    ax.plot(run.path[0, 0], run.losses[0], "ks", ms=6)
    ax.set(title=f"{label}: η = {rates_1d[label]}", xlabel="w")
axes[0].set_ylabel("J(w)")
plt.show()

# %% [markdown]
# After 10 steps, $w$ is 1.046 with $\eta = 0.05$ (still far: it crawls), 0.0003 with
# $\eta = 0.3$, 0.322 with $\eta = 0.9$ (its sign flips at every step) and 7.781 with
# $\eta = 1.05$, further out than where it started. Each is $3 r^{10}$.

# %% [markdown]
# ## Two dimensions: a round bowl and a narrow valley
#
# In two dimensions each direction has its own factor. On the round bowl both directions curve
# alike, so both factors are $1 - 2\eta$. Most losses are not round. Take the **ill-conditioned**
# quadratic
#
# $$ J(w_1, w_2) = \tfrac12 \left( w_1^2 + 10\, w_2^2 \right), \qquad
#    \nabla J = (w_1,\; 10\, w_2). $$
#
# Its curvature is 1 along $w_1$ and 10 along $w_2$: a long narrow valley. The factors are
# $1 - \eta$ and $1 - 10\eta$. The steep direction caps the learning rate ($\eta < 2/10$, or it
# diverges); the flat direction then decides how slowly it converges.

# %%
curvature = np.array([1.0, 10.0])


def valley(w):
    return float(0.5 * np.sum(curvature * w**2))


def valley_grad(w):
    return curvature * w


def bowl(w):
    return float(w @ w + 6)


def bowl_grad(w):
    return 2 * w


problems = {
    "bowl": (bowl, bowl_grad, np.array([3.0, 3.0]), 6.0, [0.05, 0.5, 0.9, 1.05]),
    "valley": (valley, valley_grad, np.array([3.0, 1.0]), 0.0, [0.01, 0.18, 0.195, 0.21]),
}

# %% caption="Thirty steps of gradient descent on the round bowl (top) and on the narrow valley (bottom), one learning rate per panel; the square marks the start."
fig, axes = plt.subplots(2, 4, figsize=(14, 6.4))
for row, (name, (J, grad, w0, J_min, rates)) in zip(axes, problems.items()):
    w1, w2 = np.meshgrid(np.linspace(-3.5, 3.5, 121), np.linspace(-3.5, 3.5, 121))
    Z = np.array([[J(np.array([a, b])) for a, b in zip(r1, r2)] for r1, r2 in zip(w1, w2)]) - J_min
    levels = np.geomspace(0.02, Z.max(), 12)
    for ax, eta in zip(row, rates):
        run = gradient_descent(J, grad, w0, eta, max_epochs=30)
        ax.contour(w1, w2, Z, levels=levels, colors="0.75", linewidths=0.8)
        ax.plot(run.path[:, 0], run.path[:, 1], "o-", ms=3, lw=1)
        ax.plot(*w0, "ks", ms=6)
        ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal", title=f"{name}: η = {eta}")
        ax.set(xlabel="w" if name == "bowl" else "$w_1$", ylabel="b" if name == "bowl" else "$w_2$")
fig.tight_layout()
plt.show()

# %% [markdown]
# On the bowl, $\eta = 0.05$ creeps towards the centre, $\eta = 0.5$ jumps to the minimum in a
# single step, $\eta = 0.9$ bounces from one side of the bowl to the other, and $\eta = 1.05$
# bounces further out each time. In the valley, $\eta = 0.01$ drops to the valley floor and then
# crawls along it, $\eta = 0.18$ zig-zags a little ($1 - 10\eta = -0.8$) but gets in fast,
# $\eta = 0.195$ zig-zags from wall to wall ($1 - 10\eta = -0.95$) and $\eta = 0.21$ is thrown
# out of the valley ($1 - 10\eta = -1.1$).
#
# Now count. Run each learning rate until $J$ is within $10^{-6}$ of its minimum (or it diverges,
# or 2000 steps pass), and put the counts next to the slowest factor
# $\rho = \max_i |1 - \eta \lambda_i|$, where $\lambda_i$ are the curvatures:

# %%
rates = [0.01, 0.05, 0.1, 0.18, 0.3, 0.5, 0.9, 1.05]
steps, rows = {}, []
for eta in rates:
    row = {"η": eta}
    for name, (J, grad, w0, J_min, _) in problems.items():
        run = gradient_descent(J, grad, w0, eta, max_epochs=2000, tol=J_min + 1e-6)
        lambdas = np.array([2.0, 2.0]) if name == "bowl" else curvature
        steps[name, eta] = run.n_steps if run.stop_reason == "threshold" else run.stop_reason
        row[f"{name}: ρ"] = float(np.max(np.abs(1 - eta * lambdas)))
        row[f"{name}: steps"] = steps[name, eta]
    rows.append(row)
steps_table = pd.DataFrame(rows).set_index("η")
assert steps["bowl", 0.01] == 414
assert steps["bowl", 0.5] == 1
assert steps["bowl", 0.1] == steps["bowl", 0.9] == 38
assert steps["bowl", 1.05] == "diverged"
assert steps["valley", 0.01] == 763
assert steps["valley", 0.18] == 39
assert min(s for (name, _), s in steps.items() if name == "valley" and s != "diverged") == 39
assert all(steps["valley", eta] == "diverged" for eta in rates if eta >= 0.3)
assert abs(steps_table.loc[0.18, "valley: ρ"] - 0.82) < 1e-12
assert round(1 - 10 * 0.18, 2) == -0.8 and round(1 - 10 * 0.195, 2) == -0.95  # the zig-zags
assert round(1 - 10 * 0.21, 2) == -1.1  # thrown out of the valley
assert all(abs(steps_table.loc[eta, "bowl: ρ"] - 0.8) < 1e-12 for eta in (0.1, 0.9))
etas = np.linspace(1e-4, 0.2, 20_001)  # the best ρ over all rates is (κ - 1)/(κ + 1)
best_rho = np.max(np.abs(1 - np.outer(etas, curvature)), axis=1).min()
assert abs(best_rho - 9 / 11) < 1e-4
steps_table


# %% [markdown]
# The bowl needs 414 steps at $\eta = 0.01$, one step at $\eta = 0.5$, and 38 steps both at
# $\eta = 0.1$ and at $\eta = 0.9$: the same $\rho = 0.8$, once from one side and once
# bouncing. It diverges at $\eta = 1.05$. The valley needs 763 steps at $\eta = 0.01$ and its
# best in this list is 39 steps at $\eta = 0.18$; from $\eta = 0.3$ on it diverges. The narrow
# valley can never be solved in one step: its best possible $\rho$ is
# $(\kappa - 1)/(\kappa + 1) = 9/11$, with the condition number $\kappa = 10/1$.

# %% [markdown]
# ## When to stop
#
# A real loss has no known minimum, so you need stopping rules. `gradient_descent` has three:
#
# - **max epochs** (`max_epochs`): a budget of updates;
# - **threshold** (`tol`): the loss is good enough;
# - **no improvement** (`patience`, `min_delta`): the loss has not beaten its best by at least
#   `min_delta` for `patience` epochs in a row. Keras' `EarlyStopping` callback uses the same
#   rule; the end of this section checks that.
#
# It also stops when the loss blows past `diverge_above` ($10^{10}$ by default).
# Each rule on the bowl:

# %%
w0 = np.array([3.0, 3.0])
stops = {
    "max epochs": gradient_descent(bowl, bowl_grad, w0, 0.01, max_epochs=100),
    "threshold": gradient_descent(bowl, bowl_grad, w0, 0.1, tol=6 + 1e-6),
    "no improvement": gradient_descent(bowl, bowl_grad, w0, 1.0, patience=5),
    "divergence guard": gradient_descent(bowl, bowl_grad, w0, 1.05),
}
assert [run.stop_reason for run in stops.values()] == [
    "max_epochs",
    "threshold",
    "no_improvement",
    "diverged",
]
assert stops["max epochs"].n_steps == 100
assert inspect.signature(gradient_descent).parameters["diverge_above"].default == 1e10
assert abs(stops["max epochs"].losses[-1] - 6.317) < 5e-4
assert stops["threshold"].n_steps == 38
assert stops["no improvement"].n_steps == 5
assert np.all(stops["no improvement"].losses == 24.0)
pd.DataFrame(
    {
        "steps": [run.n_steps for run in stops.values()],
        "final J": [run.losses[-1] for run in stops.values()],
        "stop_reason": [run.stop_reason for run in stops.values()],
    },
    index=list(stops),
)


# %% [markdown]
# The budget of 100 steps at $\eta = 0.01$ ends at $J = 6.317$, still far from 6. With
# $\eta = 1$ the update sends $(3, 3)$ to $(-3, -3)$ and back, the loss stays at 24, and patience
# runs out after 5 steps.
#
# Keras' `EarlyStopping(patience, min_delta)` counts the epochs since the loss last beat its best
# by more than `min_delta` and stops at `patience`. Feed it the losses of three runs, the starting
# loss $J(w_0)$ as its epoch 0, and it stops at the same step as `gradient_descent` each time:

# %%
stop_steps = {}
for eta, patience, min_delta in [(1.0, 5, 0.0), (0.01, 3, 0.05), (0.05, 4, 0.01)]:
    run = gradient_descent(bowl, bowl_grad, w0, eta, patience=patience, min_delta=min_delta)
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=patience, min_delta=min_delta)
    stopper.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    stopper.model.stop_training = False
    stopper.on_train_begin()
    for epoch, loss in enumerate(run.losses):
        stopper.on_epoch_end(epoch, {"loss": loss})
        if stopper.model.stop_training:
            break
    stop_steps[f"η={eta}, patience={patience}, min_delta={min_delta}"] = (
        run.n_steps,
        stopper.stopped_epoch,
    )
    assert run.stop_reason == "no_improvement" and stopper.stopped_epoch == run.n_steps
pd.DataFrame(stop_steps, index=["gradient_descent: steps", "EarlyStopping: stopped epoch"]).T

# %% [markdown]
# ## The training loop: forward → error → backward → update
#
# With data, the loss is an average over examples, and one pass of gradient descent has four
# steps. Take linear regression, $\hat y = X w + b$, on $n$ examples with the mean squared error:
#
# 1. **Forward:** predict with the current parameters, $\hat y = X w + b$.
# 2. **Error:** compare with the targets, $e = \hat y - y$, and score it,
#    $J = \frac1n \sum_i e_i^2$.
# 3. **Backward:** the gradient of the loss with respect to each parameter,
#    $\nabla_w J = \frac2n X^\top e$ and $\partial J / \partial b = \frac2n \sum_i e_i$. For a
#    deep network this is backpropagation, the subject of
#    [chapter 3](03-backpropagation.md).
# 4. **Update:** step against the gradient, $w \leftarrow w - \eta \nabla_w J$,
#    $b \leftarrow b - \eta\, \partial J/\partial b$.
#
# Make a data set with known answers, $y = 3 x_1 - 2 x_2 + 1$ plus noise, and write the loop out:

# %%
rng = np.random.default_rng(seed)
X = rng.normal(size=(n_samples, 2))
y = X @ np.array([3.0, -2.0]) + 1.0 + 0.5 * rng.normal(size=n_samples)

eta, loop_epochs = 0.1, 100
w, b = np.zeros(2), 0.0
loop_losses = []
for _ in range(loop_epochs):
    y_hat = X @ w + b  # 1. forward
    error = y_hat - y  # 2. error
    loop_losses.append(np.mean(error**2))
    grad_w = 2 / n_samples * X.T @ error  # 3. backward
    grad_b = 2 / n_samples * error.sum()
    w, b = w - eta * grad_w, b - eta * grad_b  # 4. update

print(f"after {loop_epochs} epochs: w = {np.round(w, 4)}, b = {b:.4f}")

# %% [markdown]
# [`mse_loss_and_grads`][dlguide.gradient_descent.mse_loss_and_grads] is steps 1 to 3 as one
# function, and
# [`minibatch_gradient_descent`][dlguide.gradient_descent.minibatch_gradient_descent] with the
# whole data set as one batch runs this loop step for step (its weights equal ours to $10^{-12}$).
# The loop lands on the least-squares solution (to within $10^{-6}$), and Keras `fit` with one
# batch and `keras.optimizers.SGD` runs the very same loop: its weights agree with ours to within
# $10^{-4}$ (Keras computes in 32-bit floats).

# %%
least_squares, *_ = np.linalg.lstsq(np.c_[X, np.ones(n_samples)], y, rcond=None)
loss0, grad_w0, grad_b0 = mse_loss_and_grads(X, y, np.zeros(2), 0.0)
ours = minibatch_gradient_descent(X, y, eta, n_samples, loop_epochs, shuffle=False)

model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=eta), loss="mse")
history = model.fit(X, y, batch_size=n_samples, epochs=loop_epochs, shuffle=False, verbose=0)
kernel, bias = model.get_weights()

assert abs(loss0 - loop_losses[0]) < 1e-12
assert np.allclose(np.r_[ours.w, ours.b], np.r_[w, b], rtol=0, atol=1e-12)
assert np.allclose(np.r_[w, b], least_squares, atol=1e-6)
assert np.allclose(np.r_[w, b], np.r_[kernel[:, 0], bias], atol=1e-4)
assert np.allclose(loop_losses, history.history["loss"], rtol=1e-4)
pd.DataFrame(
    {
        "w1": [w[0], least_squares[0], kernel[0, 0]],
        "w2": [w[1], least_squares[1], kernel[1, 0]],
        "b": [b, least_squares[2], bias[0]],
    },
    index=["our loop", "least squares", "Keras fit"],
)


# %% [markdown]
# ## Batch, mini-batch and stochastic gradient descent
#
# The loop above computes the gradient on all $n$ examples before each update: **batch gradient
# descent**, one update per epoch. The gradient on a random subset (a **mini-batch**) is a noisy
# but unbiased estimate of it, and far cheaper. **Stochastic gradient descent** (SGD) goes all the
# way: one example per update, $n$ updates per epoch.
# [`minibatch_gradient_descent`][dlguide.gradient_descent.minibatch_gradient_descent] runs all
# three; only `batch_size` changes. Same data, same $\eta = 0.05$, `epochs` passes, and the loss
# on the whole data set recorded after every update:

# %%
batch_sizes = {"batch": n_samples, "mini-batch (32)": 32, "stochastic (1)": 1}
fits = {
    label: minibatch_gradient_descent(X, y, 0.05, batch_size, epochs, seed=seed)
    for label, batch_size in batch_sizes.items()
}
best_loss = np.mean((np.c_[X, np.ones(n_samples)] @ least_squares - y) ** 2)

summary = pd.DataFrame(
    {
        "updates per epoch": [fit.updates_per_epoch for fit in fits.values()],
        "loss after 1 epoch": [fit.epoch_losses[1] for fit in fits.values()],
        "final loss": [fit.losses[-1] for fit in fits.values()],
        "std of loss in last epoch": [
            fit.losses[-fit.updates_per_epoch :].std() for fit in fits.values()
        ],
    },
    index=list(fits),
)
after_one = summary["loss after 1 epoch"]
assert after_one["stochastic (1)"] < after_one["mini-batch (32)"] < after_one["batch"]
assert after_one["batch"] > 5
assert np.all(np.diff(fits["batch"].losses) < 0)
spread = summary["std of loss in last epoch"]
assert spread["stochastic (1)"] > 10 * spread["mini-batch (32)"]
assert summary["final loss"].idxmin() == "mini-batch (32)"
assert (summary["final loss"] >= best_loss).all()
summary


# %% caption="Whole-data loss during training, against epochs (left) and against updates (right); the dashed line is the least-squares minimum."
fig, (ax_epoch, ax_update) = plt.subplots(1, 2, figsize=(13, 4.2))
for label, fit in fits.items():
    updates = np.arange(len(fit.losses))
    ax_epoch.plot(updates / fit.updates_per_epoch, fit.losses, label=label, lw=1)
    ax_update.plot(updates[1:], fit.losses[1:], label=label, lw=1)
for ax in (ax_epoch, ax_update):
    ax.axhline(best_loss, color="k", ls="--", lw=1, label="least-squares minimum")
    ax.set(yscale="log", ylabel="mean squared error (whole data set)")
ax_epoch.set(xlabel="epoch")
ax_update.set(xscale="log", xlabel="update")
ax_epoch.legend()
plt.show()

# %% [markdown]
# Per epoch, the more updates the faster the start: after one epoch the loss ranks stochastic <
# mini-batch < batch, and batch gradient descent is still above 5. Batch gradient descent is the
# only smooth one: its loss falls at every update. SGD never settles: in the last epoch its loss
# fluctuates at least 10 times more (standard deviation) than mini-batch's, because each single
# example pulls the line its own way. Mini-batch ends closest to the minimum: the usual
# compromise, and what Keras `fit` does unless you pass a `batch_size`.

# %% [markdown]
# ## Optimizers from scratch
#
# Plain gradient descent uses only the current gradient. Optimizers keep a little state to do
# better. With $g$ the gradient, every operation element by element, and the Keras defaults:
#
# | optimizer | update | `keras.optimizers` |
# | --- | --- | --- |
# | [`SGD`][dlguide.optimizers.SGD] | $\theta \leftarrow \theta - \eta g$ | `SGD()` |
# | momentum | $v \leftarrow \mu v - \eta g$, $\;\theta \leftarrow \theta + v$ | `SGD(momentum=μ)` |
# | Nesterov | $v \leftarrow \mu v - \eta g$, $\;\theta \leftarrow \theta + \mu v - \eta g$ | `SGD(momentum=μ, nesterov=True)` |
# | [`Adagrad`][dlguide.optimizers.Adagrad] | $a \leftarrow a + g^2$, $\;\theta \leftarrow \theta - \eta g / \sqrt{a + \epsilon}$, $a_0 = 0.1$ | `Adagrad()` |
# | [`RMSprop`][dlguide.optimizers.RMSprop] | $s \leftarrow \rho s + (1 - \rho) g^2$, $\;\theta \leftarrow \theta - \eta g / \sqrt{s + \epsilon}$ | `RMSprop()` |
# | [`Adam`][dlguide.optimizers.Adam] | $m \leftarrow \beta_1 m + (1 - \beta_1) g$, $\;v \leftarrow \beta_2 v + (1 - \beta_2) g^2$, $\;\theta \leftarrow \theta - \alpha_t m / (\sqrt{v} + \epsilon)$ | `Adam()` |
#
# with $\alpha_t = \eta \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$ in Adam, the bias correction of
# its two running averages that start at zero. Momentum smooths the steps: the zig-zag across the
# valley cancels, the steady pull along it adds up. Adagrad, RMSprop and Adam divide each
# coordinate by the size of its recent gradients, so the steep and the flat direction move at
# similar speeds.
#
# Each optimizer is a small class. `step(params, grads)` returns the new parameters and keeps the
# state (`v`, `a`, `s`, `m`) as NumPy arrays. Here is the whole of Adam's update:

# %%
print(inspect.getsource(Adam.update))

# %% [markdown]
# Race them down the valley from $(3, 1)$, all with $\eta = 0.1$ (and $\mu = 0.5$ for the two
# momentum methods), until $J < 10^{-6}$ or 1000 steps:


# %%
def race(optimizer, max_steps=1000, tol=1e-6):
    w = np.array([3.0, 1.0])
    path = [w]
    while len(path) <= max_steps and valley(w) >= tol:
        w = optimizer.step(w, valley_grad(w))
        path.append(w)
    return np.array(path)


def make_optimizers():
    return {
        "SGD": (SGD(0.1), keras.optimizers.SGD(0.1)),
        "momentum": (SGD(0.1, momentum=0.5), keras.optimizers.SGD(0.1, momentum=0.5)),
        "Nesterov": (
            SGD(0.1, momentum=0.5, nesterov=True),
            keras.optimizers.SGD(0.1, momentum=0.5, nesterov=True),
        ),
        "Adagrad": (Adagrad(0.1), keras.optimizers.Adagrad(0.1)),
        "RMSprop": (RMSprop(0.1), keras.optimizers.RMSprop(0.1)),
        "Adam": (Adam(0.1), keras.optimizers.Adam(0.1)),
    }


paths = {name: race(ours) for name, (ours, _) in make_optimizers().items()}
race_table = pd.DataFrame(
    {
        "steps": [len(p) - 1 for p in paths.values()],
        "final J": [valley(p[-1]) for p in paths.values()],
    },
    index=list(paths),
)
race_steps = race_table["steps"]
assert race_steps.to_dict() == {
    "SGD": 73,
    "momentum": 19,
    "Nesterov": 29,
    "Adagrad": 1000,
    "RMSprop": 52,
    "Adam": 146,
}
assert race_table.loc["Adagrad", "final J"] > 1e-4
assert paths["SGD"][1, 1] == 0.0
assert np.any(np.diff([valley(w) for w in paths["Adam"]]) > 0)
race_table


# %% caption="Six optimizers on the valley J = (w₁² + 10 w₂²)/2 with η = 0.1: their first 40 steps (left) and the loss at every step (right)."
fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(13, 4.6))
w1, w2 = np.meshgrid(np.linspace(-1, 3.5, 121), np.linspace(-1.5, 1.5, 121))
levels = np.geomspace(0.005, 15, 14)
ax_path.contour(w1, w2, 0.5 * (w1**2 + 10 * w2**2), levels=levels, colors="0.75", linewidths=0.8)
for name, path in paths.items():
    ax_path.plot(path[:41, 0], path[:41, 1], "o-", ms=2, lw=1, label=name)
    ax_loss.plot([valley(w) for w in path], lw=1, label=name)
ax_path.set(xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
ax_loss.set(xlabel="step", ylabel="J(w)", yscale="log")
ax_loss.axhline(1e-6, color="k", ls="--", lw=1)
ax_loss.legend()
plt.show()

# %% [markdown]
# Plain SGD needs 73 steps; with this $\eta$ its first step lands exactly on the valley floor
# ($1 - 10\eta = 0$) and it then walks along it. Momentum cuts that to 19 and Nesterov to 29. RMSprop needs 52. Adam
# needs 146: its steps are about $\eta$ long whatever the gradient's size, so it overshoots the
# minimum and circles in, and its loss goes up on the way. Adagrad has not arrived after 1000
# steps ($J$ is still above $10^{-4}$): its accumulator only grows, so its steps only shrink.
# Rankings like this depend on the problem and on the hyperparameters; exercise 2 below changes
# the momentum and reorders them.

# %% [markdown]
# ## The same numbers as Keras
#
# These classes are not loose imitations: they follow `keras.optimizers` term by term (where
# $\epsilon$ sits, the bias correction, the initial accumulator). Drive each one and its Keras
# twin for 100 steps in 32-bit floats, feeding both the same gradient, computed at Keras'
# parameters, and record the largest difference in the parameters along the way:


# %%
def compare_with_keras(ours, theirs, n_steps=100):
    theta = np.array([3.0, 1.0], dtype=np.float32)
    variable = keras.Variable(theta)
    largest = 0.0
    for _ in range(n_steps):
        grad = (curvature * variable.numpy()).astype(np.float32)
        theirs.apply_gradients([(grad, variable)])
        theta = ours.step(theta, grad)
        largest = max(largest, float(np.abs(theta - variable.numpy()).max()))
    return largest


keras_gap = pd.Series(
    {name: compare_with_keras(*pair) for name, pair in make_optimizers().items()},
    name="max |ours - Keras| over 100 steps",
)
assert (keras_gap < 1e-6).all()
assert Adagrad().initial_accumulator_value == 0.1
assert keras.optimizers.Adagrad().initial_accumulator_value == 0.1
keras_gap.to_frame()


# %% [markdown]
# Every difference is below $10^{-6}$, and the defaults agree too (Adagrad's accumulator starts at
# 0.1 in both). `tests/test_optimizers.py` makes the same check on a small tanh network, with
# other hyperparameters as well.

# %% [markdown]
# ## Summary
#
# - Gradient descent repeats $w \leftarrow w - \eta \nabla J(w)$. On a quadratic each direction
#   shrinks by $1 - \eta\lambda$: too small an $\eta$ crawls, $|1 - \eta\lambda| > 1$ diverges,
#   negative factors oscillate.
# - On an ill-conditioned loss the steep direction caps $\eta$ and the flat one sets the pace:
#   at the best rate of our list the valley takes 39 steps, the round bowl 1.
# - Stop on a budget of epochs, a loss threshold, or no improvement for `patience` epochs.
# - Training is the loop forward → error → backward → update; Keras `fit` with `SGD` runs the same
#   loop and lands on the same weights.
# - Mini-batches trade the exact gradient for many cheap updates; single examples (SGD) start
#   fastest but never settle.
# - Momentum, Nesterov, Adagrad, RMSprop and Adam keep a little state per parameter; the
#   `dlguide.optimizers` classes match `keras.optimizers` to below $10^{-6}$.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** For the valley, the rate with the smallest contraction factor is
# $\eta^* = 2 / (\lambda_{\min} + \lambda_{\max})$. Compute it and its $\rho$, then count the steps it
# takes to reach $J < 10^{-6}$ from $(3, 1)$. Does it beat $\eta = 0.18$?

# %% tags=["solution"]
eta_star = 2 / (curvature.min() + curvature.max())
rho_star = float(np.max(np.abs(1 - eta_star * curvature)))
run_star = gradient_descent(
    valley, valley_grad, np.array([3.0, 1.0]), eta_star, max_epochs=2000, tol=1e-6
)
print(
    f"η* = {eta_star:.4f}, ρ = {rho_star:.4f}: {run_star.n_steps} steps (η = 0.18: {steps['valley', 0.18]})"
)
assert abs(rho_star - 9 / 11) < 1e-12 and abs(rho_star - best_rho) < 1e-4
assert rho_star < steps_table.loc[0.18, "valley: ρ"]
# No: ρ is the worst direction's factor. At η = 0.18 the steep direction, which holds most of the
# starting loss, shrinks by 0.8 per step instead of 9/11, and that wins at this threshold.
assert run_star.n_steps == 41 > steps["valley", 0.18]

# %% [markdown]
# **Exercise 2.** Race the momentum and Nesterov optimizers again with $\mu = 0.9$ instead of 0.5.
# Are they faster?

# %% tags=["solution"]
heavy = {
    "momentum": race(SGD(0.1, momentum=0.9)),
    "Nesterov": race(SGD(0.1, momentum=0.9, nesterov=True)),
}
heavy_steps = {name: len(path) - 1 for name, path in heavy.items()}
print({name: (race_steps[name], n) for name, n in heavy_steps.items()}, "(μ = 0.5, μ = 0.9)")
# Slower: with μ = 0.9 the velocity remembers too much, overshoots the floor and circles in.
assert heavy_steps == {"momentum": 112, "Nesterov": 44}
assert all(heavy_steps[name] > race_steps[name] for name in heavy_steps)

# %% [markdown]
# **Exercise 3.** Run stochastic gradient descent (`batch_size=1`) again with $\eta = 0.005$
# instead of 0.05. Does it settle closer to the least-squares minimum, and does its loss still
# fluctuate as much in the last epoch?

# %% tags=["solution"]
slow_sgd = minibatch_gradient_descent(X, y, 0.005, 1, epochs, seed=seed)
gaps = {
    "η = 0.05": fits["stochastic (1)"].losses[-1] - best_loss,
    "η = 0.005": slow_sgd.losses[-1] - best_loss,
}
slow_spread = slow_sgd.losses[-slow_sgd.updates_per_epoch :].std()
print({label: f"{gap:.2e}" for label, gap in gaps.items()}, "above the minimum")
print(f"std in last epoch: {slow_spread:.2e} (η = 0.05: {spread['stochastic (1)']:.2e})")
# Each single-example step is 10 times shorter, so the noise it adds is smaller too.
assert gaps["η = 0.005"] < gaps["η = 0.05"]
assert slow_spread < spread["stochastic (1)"]
