# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {window_epochs: 15, bptt_steps: 40, mt_max_words: 5, mt_max_pairs: 6000, mt_vocab: 5000, mt_units: 32, mt_epochs: 4, min_bleu: 0.0, dense_margin: -0.05}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10. Recurrent networks
#
# **What you will learn:**
#
# - what a recurrent layer computes: a SimpleRNN, an LSTM and a GRU cell written from their
#   equations in NumPy, equal to Keras' layers with the same weights;
# - backpropagation through time, and why gradients vanish or explode over long sequences,
#   measured; what gates and gradient clipping do about it;
# - how to forecast a real time series (Mauna Loa CO₂) honestly: missing values, a
#   chronological split, windows, scaling fitted on the training part, and baselines first;
# - how an encoder–decoder translates English into Spanish with teacher forcing, greedy decoding
#   and corpus BLEU, and where its fixed-size context vector falls short.
#
# **Runs on:** CPU, in about a minute (fast profile: 6,000 sentence pairs of at most five
# words, small models, few epochs). The translator is meant for the full profile (every pair of
# at most 20 words, a larger model, 15 epochs; a GPU helps); the fast profile only runs its
# pipeline. **Uses:** Keras, [`dlguide.recurrent`][dlguide.recurrent],
# [`dlguide.text`][dlguide.text] and [`dlguide.data`][dlguide.data].
#
# Recurrent networks read a sequence one element at a time and carry a state from step to step.
# The course notes list where that fits: **text** (the next word depends on the words before),
# **speech** (audio frames), **time series** (sensor readings, prices, the weather),
# **handwriting** (pen strokes) and **genomes** (DNA as a sequence of bases). This chapter builds
# the layers by hand, then applies them to a time series and to text.

# %% tags=["parameters"]
seed = 0
window = 24  # months of history per forecast
window_epochs = 150  # most epochs per forecasting model (early stopping ends it sooner)
dense_margin = 0.0  # ppm: the best recurrent model must beat the dense network by more than this
bptt_steps = 60  # sequence length for the gradient measurements
mt_max_words = 20  # longest sentence (words, either side) in the translation data
mt_max_pairs = None  # None: every pair of the split; else a subset of about this many pairs
mt_vocab = 15_000  # vocabulary per language
mt_units = 256  # GRU units per encoder direction (the decoder has twice as many)
mt_epochs = 15
min_bleu = 5.0  # the corpus BLEU the translator must beat on the test split

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dlguide import recurrent, text
from dlguide.data import CO2_SOURCE, load_co2
from dlguide.diagnostics import gradients

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## The recurrence by hand
#
# A recurrent layer applies the same **cell** at every time step $t = 1, \dots, T$. The simplest
# cell mixes the input $x_t$ (a row of $d$ numbers) with the previous state $h_{t-1}$ ($n$
# numbers):
#
# $$h_t = \tanh(x_t W + h_{t-1} U + b), \qquad h_0 = 0,$$
#
# with $W$ of shape $(d, n)$, $U$ of shape $(n, n)$ and $b$ of length $n$, shared by all steps.
# The loop over time is the whole idea, so here it is written out, for a batch of sequences of
# shape `(batch, T, d)`:


# %%
def simple_rnn_by_hand(x, W, U, b):
    h = np.zeros((x.shape[0], W.shape[1]))  # h_0 = 0
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t, :] @ W + h @ U + b)  # h_t = tanh(x_t W + h_{t-1} U + b)
        states.append(h)
    return np.stack(states, axis=1)  # (batch, T, n)


x = np.random.default_rng(seed).normal(size=(4, 10, 3)).astype("float32")
keras_rnn = keras.layers.SimpleRNN(5, return_sequences=True)
keras_out = keras.ops.convert_to_numpy(keras_rnn(x))
W, U, b = keras_rnn.get_weights()
ours = simple_rnn_by_hand(x, W, U, b)
rnn_gap = float(np.abs(ours - keras_out).max())
print(f"W {W.shape}, U {U.shape}, b {b.shape}; largest difference from Keras: {rnn_gap:.1e}")
assert rnn_gap < 1e-5
assert np.allclose(ours, recurrent.simple_rnn(x, W, U, b, return_sequences=True), atol=1e-12)

# %% [markdown]
# Keras' `SimpleRNN` computes exactly this loop; with `return_sequences=False` (the default) it
# returns only $h_T$. The same function lives in the package as
# [`recurrent.simple_rnn`][dlguide.recurrent.simple_rnn].
#
# ### LSTM and GRU
#
# Gated cells add small sigmoid "valves" that decide what to keep. An **LSTM** carries a second
# state, the cell state $c_t$, and computes four blocks from one matrix product (Keras stacks
# them as input, forget, candidate, output):
#
# $$\begin{aligned}
# i_t &= \sigma(x_t W_i + h_{t-1} U_i + b_i), & f_t &= \sigma(x_t W_f + h_{t-1} U_f + b_f),\\
# g_t &= \tanh(x_t W_g + h_{t-1} U_g + b_g), & o_t &= \sigma(x_t W_o + h_{t-1} U_o + b_o),\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, & h_t &= o_t \odot \tanh(c_t).
# \end{aligned}$$
#
# A **GRU** has one state and two gates, update $z_t$ and reset $r_t$. Keras' default
# (`reset_after=True`) applies the reset gate after the recurrent product and keeps two biases:
#
# $$\begin{aligned}
# z_t &= \sigma(x_t W_z + b^x_z + h_{t-1} U_z + b^h_z), \quad
# r_t = \sigma(x_t W_r + b^x_r + h_{t-1} U_r + b^h_r),\\
# \tilde h_t &= \tanh\big(x_t W_h + b^x_h + r_t \odot (h_{t-1} U_h + b^h_h)\big), \quad
# h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t.
# \end{aligned}$$
#
# [`lstm_cell`][dlguide.recurrent.lstm_cell] and [`gru_cell`][dlguide.recurrent.gru_cell] are
# these equations line by line; [`lstm`][dlguide.recurrent.lstm] and
# [`gru`][dlguide.recurrent.gru] unroll them. Fed the weights of Keras' layers, they give Keras'
# outputs, and the parameter counts follow from the shapes: $n(d+n+1)$ for SimpleRNN,
# $4n(d+n+1)$ for LSTM and $3n(d+n+2)$ for GRU (two biases).

# %%
d, n = x.shape[2], 5
rows = []
for name, layer_cls, ours_fn, formula in [
    ("SimpleRNN", keras.layers.SimpleRNN, recurrent.simple_rnn, n * (d + n + 1)),
    ("LSTM", keras.layers.LSTM, recurrent.lstm, 4 * n * (d + n + 1)),
    ("GRU", keras.layers.GRU, recurrent.gru, 3 * n * (d + n + 2)),
]:
    layer = layer_cls(n)
    expected = keras.ops.convert_to_numpy(layer(x))  # h_T, shape (4, 5)
    gap = float(np.abs(ours_fn(x, *layer.get_weights()) - expected).max())
    rows.append(
        {
            "layer": name,
            "parameters": layer.count_params(),
            "formula": formula,
            "max |ours − Keras|": gap,
        }
    )
cells = pd.DataFrame(rows).set_index("layer")
cells

# %%
assert (cells["parameters"] == cells["formula"]).all()
assert (cells["max |ours − Keras|"] < 1e-5).all()

# %% [markdown]
# ## Backpropagation through time
#
# Training unrolls the loop and backpropagates through every step. If the loss depends on the
# last state $h_T$, the chain rule gives
#
# $$\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}
# \prod_{k=t+1}^{T} \frac{\partial h_k}{\partial h_{k-1}},$$
#
# a product of $T - t$ Jacobians. For the SimpleRNN each factor is
# $\operatorname{diag}(1 - h_k^2)\,U^\top$: if its norm stays below 1 the product **vanishes**
# geometrically, above 1 it **explodes**. [`state_gradient_norms`][dlguide.recurrent.state_gradient_norms]
# unrolls a Keras cell on a random sequence and records
# $\lVert \partial L/\partial h_t \rVert$ for $L = \tfrac12\lVert h_T\rVert^2$ with the
# automatic differentiation of whichever backend Keras runs on. We compare the three cells at Keras' initial weights, and the gated cells once
# more with their gates biased towards remembering (forget-gate bias $+3$ for the LSTM, so
# $f_t \approx \sigma(3) = 0.95$; update-gate bias $+3$ for the GRU, so $z_t \approx 0.95$).

# %%
x_long = np.random.default_rng(seed).normal(size=(8, bptt_steps, 3)).astype("float32")


def remembering(cell, block, gates):
    """Build `cell` and add 3 to the bias of gate block `block` (of `gates` blocks)."""
    cell.build((None, 3))
    weights = cell.get_weights()
    bias = weights[2]
    size = bias.shape[-1] // gates
    bias[..., block * size : (block + 1) * size] += 3.0
    cell.set_weights([weights[0], weights[1], bias])
    return cell


keras.utils.set_random_seed(seed)
cells_to_compare = {
    "SimpleRNN": keras.layers.SimpleRNNCell(32),
    "LSTM": keras.layers.LSTMCell(32),
    "GRU": keras.layers.GRUCell(32),
    "LSTM, forget bias +3": remembering(keras.layers.LSTMCell(32), block=1, gates=4),
    "GRU, update bias +3": remembering(keras.layers.GRUCell(32), block=0, gates=3),
}
grad_norms = {
    name: recurrent.state_gradient_norms(cell, x_long) for name, cell in cells_to_compare.items()
}
# Ratio of the gradient at the first step to the gradient at the last step.
decay = pd.Series(
    {name: g[0] / g[-1] for name, g in grad_norms.items()}, name="‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"
)
decay.to_frame().style.format("{:.1e}")

# %% caption="Gradient norm ‖∂L/∂h_t‖ at each step t, relative to the last step, for a loss on the last state (log scale)."
fig, ax = plt.subplots(figsize=(7, 4))
for name, g in grad_norms.items():
    ax.semilogy(
        np.arange(1, bptt_steps + 1), g / g[-1], label=name, ls="--" if "+3" in name else "-"
    )
ax.set_xlabel("time step t")
ax.set_ylabel("‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
ax.legend()
plt.show()

# %%
assert decay["SimpleRNN"] < 1e-3  # vanished after the sequence length
assert decay["LSTM, forget bias +3"] > 100 * decay["LSTM"]
assert decay["GRU, update bias +3"] > 100 * decay["GRU"]
assert decay["LSTM, forget bias +3"] > 100 * decay["SimpleRNN"]

# %% [markdown]
# At their initial weights all three cells forget quickly; the GRU's update gate starts at
# $\sigma(0) = 0.5$, so each step halves what passes straight through. The difference is that the
# gated cells have a knob: the additive path $c_t = f_t \odot c_{t-1} + \dots$ (or
# $h_t = z_t \odot h_{t-1} + \dots$) carries the gradient almost unchanged when the gate is near 1,
# and training can learn to open it. Keras already starts the LSTM's forget gate at bias 1
# (`unit_forget_bias=True`) for this reason. A SimpleRNN can only keep its gradient by making
# $U$ larger, and that road leads to explosion.
#
# ### Exploding gradients and clipping
#
# Without the squashing $\tanh$, a recurrent matrix with gain above 1 makes the gradient grow
# geometrically. Here a linear SimpleRNN whose $U$ is an orthogonal matrix scaled by 1.5, on the
# first 30 steps of the same sequences (longer ones overflow float32):

# %%
keras.utils.set_random_seed(seed)
exploding = keras.layers.SimpleRNNCell(
    32, activation="linear", recurrent_initializer=keras.initializers.Orthogonal(gain=1.5)
)
x_short = x_long[:, :30]
g = recurrent.state_gradient_norms(exploding, x_short)
growth = g[0] / g[-1]
print(f"‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = {growth:.2e}   (1.5^29 = {1.5**29:.2e})")
assert np.isclose(growth, 1.5**29, rtol=1e-2)

# %% [markdown]
# The ratio is exactly $1.5^{T-1}$: an orthogonal $U$ times 1.5 stretches every vector by 1.5.
# The weight gradients are as large, and one optimiser step with them would throw the weights
# away. **Gradient clipping** rescales a gradient whose norm exceeds a threshold: Keras
# optimisers take `clipnorm` (each weight tensor's gradient separately) or `global_clipnorm` (all
# together). Below, [`gradients`][dlguide.diagnostics.gradients] differentiates the mean squared
# last state $h_T$ with respect to that layer's weights (on any backend, like
# `state_gradient_norms`), then one SGD step (learning rate 0.01) applies it, without and with
# `clipnorm=1.0`:

# %%
layer = keras.Sequential([keras.Input(x_short.shape[1:]), keras.layers.RNN(exploding)])
h_target = np.zeros((len(x_short), exploding.units), "float32")  # L: mean squared h_T
weight_grads = gradients(layer, x_short, h_target, loss="mean_squared_error")


def step_sizes(optimizer):
    """Norm of the change of each weight tensor after one step of `optimizer`."""
    before = [v.numpy().copy() for v in layer.trainable_variables]
    optimizer.apply_gradients(zip(weight_grads, layer.trainable_variables))
    after = [v.numpy() for v in layer.trainable_variables]
    for var, value in zip(layer.trainable_variables, before):
        var.assign(value)  # undo the step
    return [float(np.linalg.norm(a - b)) for a, b in zip(after, before)]


clipping = pd.DataFrame(
    {
        "gradient norm": [float(np.linalg.norm(gr)) for gr in weight_grads],
        "step, SGD": step_sizes(keras.optimizers.SGD(0.01)),
        "step, SGD clipnorm=1": step_sizes(keras.optimizers.SGD(0.01, clipnorm=1.0)),
    },
    index=["kernel W", "recurrent kernel U", "bias b"],
)
clipping.style.format("{:.3g}")

# %%
assert clipping["gradient norm"].min() > 1e6
assert np.allclose(clipping["step, SGD"], 0.01 * clipping["gradient norm"], rtol=1e-3)
assert np.allclose(clipping["step, SGD clipnorm=1"], 0.01, rtol=1e-3)

# %% [markdown]
# Without clipping the step is the learning rate times a gradient of over a million; with
# `clipnorm=1.0` each tensor moves by exactly $0.01 \times 1$, in the gradient's direction.
# Clipping does not fix the cause, but it keeps one bad batch from wrecking the weights.

# %% [markdown]
# ## Forecasting a real series: CO₂ at Mauna Loa
#
# [`load_co2`][dlguide.data.load_co2] returns the weekly CO₂ concentration that statsmodels ships
# with its data sets:

# %%
print(CO2_SOURCE)
co2 = load_co2()
print(f"{len(co2)} weeks, {int(co2.isna().sum())} of them missing")
assert len(co2) == 2284 and int(co2.isna().sum()) == 59

# %% [markdown]
# **Cleaning.** We forecast monthly values, so we average the weeks of each month; a month whose
# weeks are all missing stays missing, and we fill those few by linear interpolation in time
# (each gap lies between two measured months). Interpolation uses the next month too, which is
# fine for building a history, but never for a target we evaluate: the filled months are
# listed, and they all lie in the training period.

# %%
monthly = co2.resample("MS").mean()
gaps = monthly.index[monthly.isna()]
monthly = monthly.interpolate("time")
print(f"{len(monthly)} months, {len(gaps)} filled: {', '.join(gaps.strftime('%Y-%m'))}")
assert monthly.notna().all() and len(gaps) == 5 and gaps.max() < pd.Timestamp("1986-01-01")

# %% [markdown]
# **A chronological split.** Shuffling a time series before splitting would let the model see
# the future. We train on 1958–1985, choose epochs on 1986–1993 and test on 1994–2001.

# %%
series = monthly.to_numpy()
train_end = int(np.searchsorted(monthly.index, pd.Timestamp("1986-01-01")))
val_end = int(np.searchsorted(monthly.index, pd.Timestamp("1994-01-01")))
print(f"train {train_end} months, validation {val_end - train_end}, test {len(series) - val_end}")

# %% caption="Monthly CO₂ at Mauna Loa (ppm) with the training, validation and test periods."
fig, ax = plt.subplots(figsize=(8, 3.5))
for (lo, hi), name in zip(
    [(0, train_end), (train_end, val_end), (val_end, len(series))], ["train", "validation", "test"]
):
    ax.plot(monthly.index[lo:hi], series[lo:hi], label=name)
ax.set_xlabel("month")
ax.set_ylabel("CO₂ (ppm)")
ax.legend()
plt.show()

# %% [markdown]
# **Windows.** Each example is `window` = 24 months of history and the next month as target.
# `keras.utils.timeseries_dataset_from_array` cuts them: window $i$ is `series[i : i + 24]` and
# its target `series[i + 24]`. A window belongs to the split of its **target** month, so a test
# window may look back into the validation period (that is the past, which a forecaster has) but
# no target is ever seen in training.
#
# **Scaling without leaks.** The series climbs out of the range of the training years: test values
# are higher than anything seen in training, and a network with $\tanh$ units extrapolates badly.
# We therefore feed each window **relative to its last value** and predict the change to the next
# month, then divide by one scale, the standard deviation of the training windows' values. The
# scale is fitted on the training windows only.

# %%
next_month = np.append(series[window:], [np.nan] * window)  # target of the window starting at i
windows_ds = keras.utils.timeseries_dataset_from_array(
    series, targets=next_month, sequence_length=window, batch_size=len(series)
)
windows, targets = (np.asarray(a) for a in next(iter(windows_ds)))
windows, targets = windows[:-1], targets[:-1]  # the last window's target lies after the data
target_index = np.arange(window, len(series))  # month index of each window's target
part = {
    "train": target_index < train_end,
    "validation": (target_index >= train_end) & (target_index < val_end),
    "test": target_index >= val_end,
}
last = windows[:, -1]
scale = float((windows - last[:, None])[part["train"]].std())
inputs = ((windows - last[:, None]) / scale)[..., None]  # (examples, 24, 1)
outputs = (targets - last) / scale
print({k: int(v.sum()) for k, v in part.items()}, f"scale = {scale:.3f} ppm")
assert np.array_equal(windows[5], series[5 : 5 + window]) and targets[5] == series[5 + window]
assert len(targets) == len(series) - window and not np.isnan(targets).any()


def test_mae(pred_ppm):
    """Mean absolute error on the test months, in ppm."""
    return float(np.abs(pred_ppm - targets[part["test"]]).mean())


# %% [markdown]
# **Baselines first.** *Last value* predicts next month = this month. The series is seasonal
# (plants take up CO₂ in the northern summer), so *seasonal naive* predicts the value of twelve
# months earlier. A *dense network* on the same scaled window is the learned baseline: anything
# recurrent must beat it to earn its keep.

# %%
results = {
    "last value": test_mae(windows[part["test"], -1]),
    "seasonal naive (12 months ago)": test_mae(windows[part["test"], -12]),
}


def fit_and_score(model):
    """Train on the training windows (early stopping on validation), return test MAE in ppm."""
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(
        inputs[part["train"]],
        outputs[part["train"]],
        validation_data=(inputs[part["validation"]], outputs[part["validation"]]),
        epochs=window_epochs,
        batch_size=64,
        verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True)],
    )
    change = keras.ops.convert_to_numpy(model(inputs[part["test"]]))[:, 0]
    return test_mae(last[part["test"]] + change * scale), model


def one_layer(layer):
    return keras.Sequential([keras.Input((window, 1)), layer, keras.layers.Dense(1)])


keras.utils.set_random_seed(seed)
results["dense network (window → 32 → 1)"], _ = fit_and_score(
    keras.Sequential(
        [
            keras.Input((window, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(32, "relu"),
            keras.layers.Dense(1),
        ]
    )
)
recurrent_models = {
    "SimpleRNN(32)": keras.layers.SimpleRNN(32),
    "LSTM(32)": keras.layers.LSTM(32),
    "GRU(32)": keras.layers.GRU(32),
}
fitted = {}
for name, layer in recurrent_models.items():
    keras.utils.set_random_seed(seed)
    results[name], fitted[name] = fit_and_score(one_layer(layer))
forecast = pd.Series(results, name="test MAE (ppm)").to_frame()
forecast.style.format("{:.3f}")

# %% [markdown]
# The best recurrent model must beat both naive baselines, and the dense network by more than
# `dense_margin`. The fast profile trains every model for a few epochs only, too few to separate
# the best recurrent model from the dense network reliably: which of the two comes out ahead
# depends on the initial weights, and those differ between Keras backends even with the same
# seed. So `dense_margin` lets the fast run's recurrent model finish slightly behind, where the
# full run must beat the dense network.

# %%
naive = forecast.iloc[:2, 0]
dense = forecast.iloc[2, 0]
best_recurrent = forecast.iloc[3:, 0].idxmin()
best = forecast.loc[best_recurrent].iloc[0]
print(
    f"best recurrent: {best_recurrent}, {best:.3f} ppm; best naive {naive.min():.3f} ppm; dense network {dense:.3f} ppm"
)
assert best < naive.min()
assert best < dense - dense_margin

# %% [markdown]
# Last value misses the seasonal swing and seasonal naive misses a year of growth; the networks
# learn both from the window.
#
# **Why no bidirectional layer here.** `keras.layers.Bidirectional` runs a second copy of the
# layer from the end of the sequence to its start, so its output at step $t$ depends on steps
# *after* $t$. A forecaster that emits a prediction at every step would then read the future it
# is asked to predict: its validation scores would be too good and useless in production. (Run
# over a finished window of past months it would not cheat, but it adds nothing a forecaster
# needs: what matters is the most recent past, which the forward direction already ends on.)
# Bidirectional layers belong where the whole input is known before the output is produced, such
# as a sentence to translate, below.

# %% caption="Test period: measured monthly CO₂ and the one-month-ahead forecasts of the best recurrent model."
best_change = keras.ops.convert_to_numpy(fitted[best_recurrent](inputs[part["test"]]))[:, 0]
fig, ax = plt.subplots(figsize=(8, 3.5))
test_months = monthly.index[target_index[part["test"]]]
ax.plot(test_months, targets[part["test"]], label="measured")
ax.plot(
    test_months, last[part["test"]] + best_change * scale, "--", label=f"forecast, {best_recurrent}"
)
ax.set_xlabel("month")
ax.set_ylabel("CO₂ (ppm)")
ax.legend()
plt.show()

# %% [markdown]
# ## Sequence to sequence: English → Spanish
#
# A forecaster maps a sequence to one number. A translator maps a sequence to another sequence of
# a different length. The classic recurrent answer is an **encoder–decoder**: an encoder reads the
# English sentence and compresses it into its final state, the **context vector**; a decoder
# starts from that state and writes Spanish one word at a time.
#
# The data are the 118,964 English–Spanish pairs of the Tatoeba project (data set `"spa_eng"`,
# verified by the SHA-256 of the extracted `spa-eng/spa.txt`). [`dlguide.text`][dlguide.text]
# loads them and makes the book's fixed split, which [chapter 11](11-transformers.md) reuses for a
# transformer: 70 % train, 15 % validation, 15 % test, **by English sentence**, so a test
# sentence never appears in training, not even with another translation. This profile keeps
# sentences of at most `mt_max_words` words and, if `mt_max_pairs` is set, a subset of that size
# taken inside each split.

# %%
split = text.load_splits(max_words=mt_max_words, max_pairs=mt_max_pairs)
print(split.sizes())
train_sources = {english for english, _ in split.train}
assert not train_sources & {english for english, _ in split.test}
split.train[:3]

# %% [markdown]
# [`make_vectorizers`][dlguide.text.make_vectorizers] adapts one `TextVectorization` layer per
# language on the training pairs only (lower case, punctuation removed, at most `mt_vocab` words;
# rarer words become `[UNK]`). Spanish sentences are wrapped in `[start] … [end]`.
#
# **Teacher forcing.** During training the decoder does not read its own guesses: at step $t$ it
# is given the *true* previous word and learns to predict the next. Its inputs are the target
# tokens without the last one, its targets the same tokens shifted one step left:

# %%
sequence_length = mt_max_words + 2  # [start] + words + [end] fits in sequence_length + 1 tokens
source_vec, target_vec = text.make_vectorizers(
    split.train, vocab_size=mt_vocab, sequence_length=sequence_length
)
target_words = target_vec.get_vocabulary()
(enc_tokens, dec_inputs), dec_targets = text.teacher_forcing_arrays(
    split.train[:1], source_vec, target_vec
)
pd.DataFrame(
    {
        "decoder input": [target_words[i] for i in dec_inputs[0]],
        "decoder target": [target_words[i] for i in dec_targets[0]],
    }
).T

# %% [markdown]
# The model: a **bidirectional** GRU encoder (legitimate here: the whole English sentence is known
# before translation starts) whose two final states, concatenated, are the context vector; a GRU
# decoder that starts from it; and a softmax over the Spanish vocabulary at every decoder step.
# `mask_zero=True` tells the GRUs and the loss to skip padding.

# %%
keras.utils.set_random_seed(seed)
encoder_tokens = keras.Input((None,), dtype="int64", name="english")
decoder_tokens = keras.Input((None,), dtype="int64", name="spanish_so_far")
embedded = keras.layers.Embedding(source_vec.vocabulary_size(), mt_units, mask_zero=True)(
    encoder_tokens
)
_, forward_state, backward_state = keras.layers.Bidirectional(
    keras.layers.GRU(mt_units, return_state=True)
)(embedded)
context = keras.layers.Concatenate(name="context_vector")([forward_state, backward_state])
decoded = keras.layers.Embedding(len(target_words), mt_units, mask_zero=True)(decoder_tokens)
decoded = keras.layers.GRU(2 * mt_units, return_sequences=True)(decoded, initial_state=context)
next_word = keras.layers.Dense(len(target_words), activation="softmax")(decoded)
translator = keras.Model([encoder_tokens, decoder_tokens], next_word)
translator.compile(
    keras.optimizers.Adam(5e-3),
    keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
    metrics=["accuracy"],
)
# Create Adam's state now: with TensorFlow, variables created inside fit()'s first trace of the
# training step make it trace the whole step (both GRUs) a second time.
translator.optimizer.build(translator.trainable_variables)
print(f"{translator.count_params():,} parameters; context vector of {2 * mt_units} numbers")

# %%
train_ds = text.make_dataset(split.train, source_vec, target_vec, batch_size=128, shuffle_seed=seed)
val_ds = text.make_dataset(split.validation, source_vec, target_vec, batch_size=512)
start = time.perf_counter()
# train_ds is shuffled by make_dataset, so fit must not try to shuffle it again
history = translator.fit(
    train_ds, validation_data=val_ds, epochs=mt_epochs, shuffle=False, verbose=0
)
seconds_per_epoch = (time.perf_counter() - start) / mt_epochs
print(
    f"{seconds_per_epoch:.1f} s per epoch; last epoch: train accuracy {history.history['accuracy'][-1]:.3f}, "
    f"validation accuracy {history.history['val_accuracy'][-1]:.3f} (next-word, padding excluded)"
)

# %% [markdown]
# ### Real inference: greedy decoding
#
# At test time there is no true previous word. [`greedy_decode`][dlguide.text.greedy_decode]
# starts from `[start]`, asks the model for the next word's probabilities, appends the most
# likely word, and repeats until `[end]` or the length limit. It only needs a function from
# (English tokens, Spanish tokens so far) to next-word scores, so the transformer of chapter 11
# plugs into the same code. Here that function runs the whole model on the prefix and keeps the
# last position; [`translate`][dlguide.text.translate] wraps the vectorising around it. We
# translate **every** test sentence.


# %%
def next_token_scores(source_tokens, decoder_tokens):
    probabilities = translator([source_tokens, decoder_tokens], training=False)  # (b, t, V)
    return keras.ops.convert_to_numpy(probabilities[:, -1, :])


test_english = [english for english, _ in split.test]
test_spanish = [spanish for _, spanish in split.test]
start = time.perf_counter()
hypotheses = text.translate(next_token_scores, test_english, source_vec, target_vec, batch_size=512)
print(f"{len(hypotheses)} test sentences translated in {time.perf_counter() - start:.1f} s")
pd.DataFrame({"English": test_english, "reference": test_spanish, "model": hypotheses}).head(10)

# %% [markdown]
# **BLEU** compares each output with its reference by overlapping word $n$-grams
# ($n = 1, \dots, 4$), pooled over the whole test split, with a penalty for outputs shorter than
# the references. [`corpus_bleu`][dlguide.text.corpus_bleu] computes it with sacrebleu after the
# same lower-casing and punctuation removal as the model's vocabulary; a perfect translation
# scores 100.

# %%
bleu = text.corpus_bleu(hypotheses, test_spanish)
print(f"corpus BLEU on {len(hypotheses)} test sentences: {bleu:.2f}")
assert np.isclose(text.corpus_bleu(test_spanish, test_spanish), 100.0)
assert bleu > min_bleu
assert all(len(h.split()) <= sequence_length for h in hypotheses)

# %% [markdown]
# Read the score with the profile in mind. In the fast profile the model sees a few thousand short
# pairs for a few epochs: it learns frequent words and the shape of a Spanish sentence, not
# translation, and its BLEU is close to zero. The full profile trains on every training pair of
# at most 20 words with a larger model; its BLEU is the one to compare with the transformer of
# chapter 11.
#
# %% [markdown]
# ## Why attention came next
#
# Everything the decoder knows about the English sentence must pass through one vector of
# `2 * mt_units` numbers, however long the sentence. Plotting BLEU by source length, from the
# translations above, shows how the quality holds up as sentences grow (each point is the corpus
# BLEU of the test sentences of that length):

# %% caption="Corpus BLEU of the test translations grouped by the length of the English sentence (words); the bars count sentences."
lengths = np.array([text.word_count(e) for e in test_english])
by_length = pd.DataFrame(
    [
        {
            "English words": k,
            "sentences": int((lengths == k).sum()),
            "BLEU": text.corpus_bleu(
                [h for h, n in zip(hypotheses, lengths) if n == k],
                [r for r, n in zip(test_spanish, lengths) if n == k],
            ),
        }
        for k in np.unique(lengths)
        if (lengths == k).sum() >= 20
    ]
).set_index("English words")
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(by_length.index, by_length["BLEU"], "o-")
ax.set_xlabel("length of the English sentence (words)")
ax.set_ylabel("corpus BLEU")
ax2 = ax.twinx()
ax2.bar(by_length.index, by_length["sentences"], alpha=0.2, color="grey")
ax2.set_ylabel("test sentences")
plt.show()
by_length.style.format({"BLEU": "{:.2f}"})

# %% [markdown]
# Two limits are built into this design, whatever the profile. The context vector has a fixed
# size, so a long sentence must be squeezed as hard as a short one; and the decoder sees the
# English words only through it, never directly. (In the fast profile every sentence has at most
# five words and BLEU is near zero at every length, so the plot cannot show a trend; the full
# profile's sentences run to 20 words.) **Attention** removes both limits: at every output step
# the decoder looks back at *all* encoder states and weights them by relevance.
# [Chapter 11](11-transformers.md) builds a transformer on exactly this split and scores it with
# exactly this BLEU.
#
# ## Summary
#
# - A recurrent layer is one cell applied at every time step with shared weights; SimpleRNN,
#   LSTM and GRU differ only in the cell. The NumPy versions in
#   [`dlguide.recurrent`][dlguide.recurrent] equal Keras' layers with the same weights.
# - Backpropagation through time multiplies one Jacobian per step, so gradients vanish or explode
#   geometrically with distance. Gates give an additive path that can keep the gradient alive;
#   `clipnorm` caps the size of an exploding step.
# - Forecasting: clean, split in time order, cut windows, fit scaling on the training part, and
#   beat naive baselines and a dense network before claiming anything for a recurrent model.
# - An encoder–decoder is trained with teacher forcing and used with greedy decoding; corpus BLEU
#   on the whole test split measures it. Its single context vector is the bottleneck that
#   attention removes.
#
# ## Exercises
#
# **Exercise 1.** Keras can also build the original GRU, which resets the state *before* the
# recurrent product (`reset_after=False`) and keeps one bias. How many parameters does it have for
# $d = 3$ inputs and $n = 8$ units? Check with Keras.

# %% tags=["solution"] title="Solution to exercise 1"
d_in, units = 3, 8
classic_gru = keras.layers.GRU(units, reset_after=False)
classic_gru.build((None, None, d_in))
print(classic_gru.count_params(), "=", 3 * units * (d_in + units + 1))
assert classic_gru.count_params() == 3 * units * (d_in + units + 1)  # one bias instead of two

# %% [markdown]
# **Exercise 2.** Seasonal naive misses a year of growth. Add it back: predict
# $\hat y_t = y_{t-12} + \bar g$, where $\bar g$ is the mean twelve-month change over the
# *training* months only. Does this "seasonal naive with drift" beat plain seasonal naive? Does it
# beat the best recurrent model?

# %% tags=["solution"] title="Solution to exercise 2"
train_series = series[:train_end]
drift = float(np.mean(train_series[12:] - train_series[:-12]))  # ppm per year, training months only
drift_mae = test_mae(windows[part["test"], -12] + drift)
print(f"drift {drift:.2f} ppm/year; test MAE {drift_mae:.3f} ppm")
print(forecast.loc[["seasonal naive (12 months ago)", best_recurrent]])
assert drift_mae < results["seasonal naive (12 months ago)"]

# %% [markdown]
# **Exercise 3.** Reproduce the trained LSTM forecaster's first test prediction with
# [`recurrent.lstm`][dlguide.recurrent.lstm] and the weights of its two layers.

# %% tags=["solution"] title="Solution to exercise 3"
lstm_model = fitted["LSTM(32)"]
lstm_layer, dense_layer = lstm_model.layers
first_window = inputs[part["test"]][:1]
h_last = recurrent.lstm(first_window, *lstm_layer.get_weights())
kernel, bias = dense_layer.get_weights()
ours = h_last @ kernel + bias
keras_prediction = keras.ops.convert_to_numpy(lstm_model(first_window))
print(ours, keras_prediction)
assert np.allclose(ours, keras_prediction, atol=1e-5)

# %% [markdown]
# **Exercise 4.** Translate sentences of your own, including one with a word the vocabulary has
# never seen. What does the model do with it? Check that every output respects the length limit.

# %% tags=["solution"] title="Solution to exercise 4"
mine = ["I am hungry.", "Tom is my friend.", "Where is the zeppelin?"]
outputs_mine = text.translate(next_token_scores, mine, source_vec, target_vec)
for english, spanish in zip(mine, outputs_mine):
    print(f"{english!r:28} → {spanish!r}")
print("'zeppelin' is in the English vocabulary:", "zeppelin" in source_vec.get_vocabulary())
assert all(len(o.split()) <= sequence_length for o in outputs_mine)
