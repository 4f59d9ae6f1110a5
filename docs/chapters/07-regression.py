# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {n_repeats: 3, curve_epochs: 60}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Regression with Keras
#
# **What you will learn:** how to build and train a regression network in Keras; how to compare
# set-ups fairly by repeating an experiment over many random splits; what normalising the inputs,
# training longer, adding layers and scaling the target each do; how to build a wide & deep model
# with the functional API and judge it with $R^2$ and a residual plot; and how to read learning
# curves for underfitting and overfitting.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took. The fast
# profile repeats each set-up over 3 splits, the full profile over 50, as the IBM
# [course](../sources.md) does.
# **Uses:** Keras, scikit-learn, pandas, [`dlguide.data`](../api/data.md) and
# [`dlguide.experiments`](../api/experiments.md).

# %% tags=["parameters"]
n_repeats = 50  # random splits per set-up
epochs = 50  # training epochs of the course experiment (set-up C doubles them)
curve_epochs = 200  # epochs of the wide & deep model
seed = 0

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from dlguide.data import load_concrete
from dlguide.experiments import repeated_split_scores, summarize
from dlguide.plotting import plot_history

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## The data
#
# The course's data set is Yeh's concrete compressive strength table: 1,030 concrete mixtures,
# eight predictors (seven ingredient amounts in kg/m³ and the age in days) and the target
# `Strength` in MPa. [Chapter 6](06-data-preparation.md) looked at it closely.

# %%
concrete = load_concrete()
X = concrete.drop(columns="Strength").to_numpy("float32")
y = concrete["Strength"].to_numpy("float32")
assert X.shape == (1030, 8) and y.shape == (1030,)
assert abs(y.mean() - 35.8) < 0.05 and abs(y.std(ddof=1) - 16.7) < 0.05
assert concrete["Superplasticizer"].between(0, 32.2).all()
assert concrete["Coarse Aggregate"].between(801, 1145).all()
concrete.describe().T[["mean", "std", "min", "max"]].round(1)


# %% [markdown]
# The predictors' scales differ widely: `Superplasticizer` lies between 0 and 32.2 kg/m³,
# `Coarse Aggregate` between 801 and 1,145 kg/m³. The target has mean 35.8 MPa and standard
# deviation 16.7 MPa.

# %% [markdown]
# ## The model
#
# A regression network ends in one linear unit: $\hat y = w^\top h + b$, with no activation, so
# it can output any real number. It is trained with the mean squared error,
# $\text{MSE} = \frac{1}{n} \sum_i (y_i - \hat y_i)^2$, in MPa². The course's network has one
# hidden layer of 10 ReLU units (an 8-10-1 network) and trains with Adam.


# %%
def build_regressor(n_features, hidden_layers=1):
    model = keras.Sequential([keras.Input((n_features,))])
    for _ in range(hidden_layers):
        model.add(keras.layers.Dense(10, activation="relu"))
    model.add(keras.layers.Dense(1))
    # steps_per_execution=32: up to 32 batches per call into the backend. The updates are the
    # same; only the Python overhead per batch shrinks.
    model.compile(optimizer="adam", loss="mean_squared_error", steps_per_execution=32)
    return model


build_regressor(8).summary()

# %% [markdown]
# ## One split is one sample
#
# Train once on a 70/30 split and you get one test MSE. Train again on another split and with
# other initial weights, and you get another. Which of the two is "the" score of the model? Neither:
# the score is a random variable, and comparing two set-ups on one split each compares two random
# draws.
#
# So the course repeats each set-up over many random splits and reports the mean and standard
# deviation of the test MSE. [`repeated_split_scores`][dlguide.experiments.repeated_split_scores]
# does exactly that, and does it properly: split $r$ uses the seed `seed + r` for the split, the
# initial weights and the shuffling, so every run can be reproduced, and all set-ups see the same
# splits; and normalisation statistics come from the training rows of each split only, never from
# the test rows.
#
# The four set-ups of the course:
#
# | set-up | inputs | hidden layers | epochs |
# | --- | --- | --- | --- |
# | A | raw | 1 × 10 | 50 |
# | B | z-scored | 1 × 10 | 50 |
# | C | z-scored | 1 × 10 | 100 |
# | D | z-scored | 3 × 10 | 50 |
#
# A fifth one, E, is what this chapter adds: B with the **target** z-scored as well (the score is
# still computed in MPa²). The next cell trains $5 \times$ `n_repeats` models.

# %%
common = dict(n_repeats=n_repeats, test_size=0.3, seed=seed)
results = [
    repeated_split_scores(build_regressor, X, y, epochs=epochs, name="A", **common),
    repeated_split_scores(build_regressor, X, y, epochs=epochs, normalize=True, name="B", **common),
    repeated_split_scores(
        build_regressor, X, y, epochs=2 * epochs, normalize=True, name="C", **common
    ),
    repeated_split_scores(
        lambda n: build_regressor(n, hidden_layers=3),
        X,
        y,
        epochs=epochs,
        normalize=True,
        name="D",
        **common,
    ),
    repeated_split_scores(
        build_regressor,
        X,
        y,
        epochs=epochs,
        normalize=True,
        normalize_target=True,
        name="E",
        **common,
    ),
]
A, B, C, D, E = results

# %% [markdown]
# [`summarize`][dlguide.experiments.summarize] puts the results side by side; the last column
# holds the course's published figures (mean ± standard deviation over 50 unseeded runs).

# %%
table = summarize(results)
table["course"] = ["501.6 ± 931.5", "379.7 ± 135.5", "162.4 ± 17.0", "126.0 ± 17.6", "—"]
assert B.mean > C.mean > D.mean
assert B.median > C.median > D.median
assert 250 < B.median < 450 and 140 < C.median < 200 and 95 < D.median < 140
course = {"B": (379.7, 135.5), "C": (162.4, 17.0), "D": (126.0, 17.6)}  # mean, std
for r in (B, C, D):  # each mean lies within two of the course's standard deviations of its mean
    assert abs(r.mean - course[r.name][0]) < 2 * course[r.name][1], r.name
assert A.median < B.median
assert 1030 - int(np.ceil(0.3 * 1030)) == 721  # training rows of a 70/30 split
steps = int(np.ceil(0.7 * 1030 / 32)) * 50
assert steps == 1150 and abs(steps * 1e-3 - 1.15) < 1e-9  # ≈ 1 MPa of bias drift at most
assert E.mean < min(r.mean for r in (A, B, C, D))
assert E.median < min(r.median for r in (A, B, C, D))
assert E.mean < 126.0 - 2 * 17.6  # two course standard deviations below the course's D
assert 40 < E.median < 90
table[["repeats", "mean ± std", "median", "min", "max", "course"]].round(1)


# %% caption="Test MSE of each set-up over the random splits (log scale); the box spans the middle half of the runs, the line is the median, circles are single runs beyond the whiskers, the diamonds are the course's means."
fig, ax = plt.subplots(figsize=(7, 4))
ax.boxplot([r.scores for r in results], showfliers=True)
ax.set_xticks(range(1, 6), ["A: raw", "B: z-scored", "C: 100 epochs", "D: 3 layers", "E: + target"])
ax.plot(range(1, 5), [501.6, 379.7, 162.4, 126.0], "D", color="tab:red", label="course mean")
ax.set_yscale("log")
ax.set_xlabel("set-up")
ax.set_ylabel("test MSE (MPa², log scale)")
ax.legend()
plt.show()

# %% [markdown]
# ## What the numbers say
#
# The assertions in the cells below use ranges rather than exact values: TensorFlow and JAX draw
# different random numbers from the same seeds, and the ranges hold under both.
#
# **Training longer helps, and so does depth.** Normalised inputs give a test MSE in the
# hundreds after 50 epochs (B); doubling the epochs (C) and stacking three hidden layers (D) each
# lower it clearly, on average and on the median run. B, C and D agree with the course: each mean
# lies within two of the course's standard deviations of the course's mean.

# %% [markdown]
# **Raw inputs (A) are not simply worse.** The course reports A as the worst set-up, with a
# standard deviation almost twice its mean. Look at the median instead: the typical raw-input run
# *beats* the typical normalised run of B. What makes A's mean large is a few runs that fail to
# train in 50 epochs. With inputs in the hundreds, the first predictions are hundreds of MPa off,
# and on some splits and initial weights the network is still far from the data after 50 epochs:
# its *training* error stays as high as its test error. How many such runs land among your splits
# decides A's mean, which is why the course's 501.6 ± 931.5 cannot be reproduced and is best read
# as "unreliable". Normalising the inputs guards against such runs; it does not make the typical
# run better at 50 epochs.

# %% [markdown]
# **Why B is slow: the target's scale.** Adam moves every weight by about its learning rate,
# $10^{-3}$, per step. With 721 training rows in batches of 32, 50 epochs are
# $23 \times 50 = 1{,}150$ steps, so the output bias can drift by about 1 MPa, while the target's
# mean is 35.8 MPa. With z-scored inputs the hidden units are of order 1, so reaching the target's
# scale takes many steps: B underfits, and training longer (C) or multiplying paths (D) helps. With
# raw inputs the hidden units are in the hundreds, so on most runs the output reaches the target's
# scale quickly.
#
# Scale the target too, $y' = (y - \bar y) / s_y$, and the network has nothing to catch up with
# (E). The test MSE, measured in MPa² after mapping the predictions back, drops below every set-up
# above, on the mean and on the median run, after only 50 epochs and with one hidden layer. It also
# beats every course set-up: E's mean lies more than two of the course's standard deviations below
# the course's best, D's 126.0 ± 17.6.

# %% [markdown]
# ## A wide & deep model with the functional API
#
# `keras.Sequential` stacks layers in a line. The **functional API** wires them as a graph: you
# call each layer on a tensor and get a tensor back. A *wide & deep* model (Cheng et al., 2016)
# feeds the inputs through a deep stack *and* straight to the output, so the output layer sees
# both the learned features and the raw (normalised) inputs: a linear model and a network in one.
#
# For this model, take a single 70/15/15 split: the validation set watches training, the test set
# is scored once at the end. A `Normalization` layer adapted on the training rows z-scores the
# inputs inside the model, and the target is z-scored with the training rows' mean and standard
# deviation.

# %%
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.15, random_state=seed)
X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.15 / 0.85, random_state=seed
)
y_mean, y_std = y_fit.mean(), y_fit.std()

keras.utils.set_random_seed(seed)
normalizer = keras.layers.Normalization(name="zscore")
normalizer.adapt(X_fit)

inputs = keras.Input(shape=(8,), name="mixture")
scaled = normalizer(inputs)
deep = keras.layers.Dense(30, activation="relu", name="deep_1")(scaled)
deep = keras.layers.Dense(30, activation="relu", name="deep_2")(deep)
both = keras.layers.Concatenate(name="wide_and_deep")([scaled, deep])
output = keras.layers.Dense(1, name="strength")(both)
wide_deep = keras.Model(inputs=inputs, outputs=output, name="wide_deep")
wide_deep.compile(optimizer="adam", loss="mean_squared_error", steps_per_execution=32)
print(len(X_fit), len(X_val), len(X_test))
assert (len(X_fit), len(X_val), len(X_test)) == (720, 155, 155)
wide_deep.summary()


# %%
history = wide_deep.fit(
    X_fit,
    (y_fit - y_mean) / y_std,
    validation_data=(X_val, (y_val - y_mean) / y_std),
    epochs=curve_epochs,
    verbose=0,
)

# %% [markdown]
# The losses are in units of the scaled target; multiply by $s_y^2$ to read them in MPa². The
# **learning curves** show both per epoch:

# %% caption="Learning curves of the wide & deep model: training and validation MSE of the scaled target after each epoch."
ax = plot_history(history)
ax.set_yscale("log")
ax.set_ylabel("MSE of the scaled target (log scale)")
plt.show()

# %% [markdown]
# Now score the test set, once. $R^2 = 1 - \sum_i (y_i - \hat y_i)^2 / \sum_i (y_i - \bar y)^2$ is
# the share of the target's variance the model explains: 0 for predicting the mean, 1 for a
# perfect fit.

# %%
y_pred = y_mean + y_std * wide_deep.predict(X_test, verbose=0).ravel()
test_mse = mean_squared_error(y_test, y_pred)
test_r2 = r2_score(y_test, y_pred)
residuals = y_test - y_pred
print(f"test MSE {test_mse:.1f} MPa², R² {test_r2:.3f}")
assert test_r2 > 0.85
assert test_mse < 40 and test_mse < E.median
assert abs(residuals.mean()) < 2.0  # no large systematic bias, in MPa


# %% [markdown]
# The wide & deep model explains more than 85% of the variance of the strength on test mixtures
# it never saw, with a test MSE below 40 MPa², well under set-up E's.

# %% [markdown]
# A **residual plot** shows the errors $y_i - \hat y_i$ against the prediction. Residuals
# scattered evenly around zero mean no systematic error is left; a curve or a funnel would point to
# a pattern the model missed.

# %% caption="Residuals of the wide & deep model on the test set against its predictions; the dashed line is zero error."
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(y_pred, residuals, s=12, alpha=0.7)
ax.axhline(0.0, color="black", linestyle="--", linewidth=1)
ax.set_xlabel("predicted strength (MPa)")
ax.set_ylabel("residual: true − predicted (MPa)")
plt.show()

# %% [markdown]
# ## Underfitting and overfitting
#
# Learning curves tell you which way to go:
#
# - **Underfitting**: training and validation loss are both high and close together, often still
#   falling. The model is too small or has not trained long enough. Set-up B is a case: its loss
#   has not reached the target's scale after 50 epochs. Train longer, use a bigger model, or fix
#   the scaling.
# - **Overfitting**: training loss keeps falling while validation loss stops falling or rises.
#   The model memorises the training rows. Get more data, use a smaller model, regularise, or stop
#   at the epoch with the lowest validation loss.
#
# To provoke overfitting, give a large network (two layers of 128 units) only 60 training rows.

# %%
keras.utils.set_random_seed(seed)
big = keras.Sequential(
    [
        keras.Input((8,)),
        normalizer,
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(1),
    ]
)
big.compile(
    optimizer=keras.optimizers.Adam(0.003), loss="mean_squared_error", steps_per_execution=32
)
overfit = big.fit(
    X_fit[:60],
    (y_fit[:60] - y_mean) / y_std,
    validation_data=(X_val, (y_val - y_mean) / y_std),
    epochs=40,
    batch_size=16,
    verbose=0,
)

# %% caption="Learning curves of a 2 × 128 network trained on 60 rows: the training loss keeps falling, the validation loss does not."
ax = plot_history(overfit)
ax.set_yscale("log")
ax.set_ylabel("MSE of the scaled target (log scale)")
plt.show()

# %% [markdown]
# The training loss ends far below the validation loss, and the validation loss reached its
# lowest point in the first half of training. Every epoch after that fitted the 60 rows better
# and new mixtures no better.

# %%
train_loss = np.array(overfit.history["loss"])
val_loss = np.array(overfit.history["val_loss"])
best_epoch = int(val_loss.argmin()) + 1
print(
    f"final training loss {train_loss[-1]:.3f}, final validation loss {val_loss[-1]:.3f}, "
    f"best validation epoch {best_epoch}"
)
assert train_loss[-1] < 0.1 * val_loss[-1]
assert best_epoch <= 20


# %% [markdown]
# ## Summary
#
# - A regression network ends in a single linear unit and trains on the mean squared error.
# - One split gives one noisy score. Repeat over many seeded splits, fit every scaler on the
#   training rows of each split, and report the spread as well as the mean
#   ([`repeated_split_scores`][dlguide.experiments.repeated_split_scores]).
# - On the concrete data, training longer (C) and deeper (D) beat the 50-epoch normalised
#   baseline (B). Raw inputs (A) are unreliable rather than uniformly bad: the median run is good,
#   a few runs fail.
# - Scale the target as well as the inputs (E): with Adam's small steps, an unscaled target is the
#   main reason the course's networks underfit.
# - The functional API wires layers as a graph, e.g. a wide & deep model. Judge a regression
#   model on the test set with MSE, $R^2$ and a residual plot.
# - Learning curves show underfitting (both losses high) and overfitting (training loss far below
#   a stalled or rising validation loss).

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Compute the wide & deep model's test MSE and $R^2$ by hand from `residuals`, with
# the formulas above, and compare with scikit-learn's.

# %% tags=["solution"]
mse_by_hand = np.mean(residuals.astype("float64") ** 2)
r2_by_hand = 1 - np.sum(residuals.astype("float64") ** 2) / np.sum((y_test - y_test.mean()) ** 2)
print(f"by hand: MSE {mse_by_hand:.2f} MPa², R² {r2_by_hand:.4f}")
assert abs(mse_by_hand - test_mse) < 1e-3 * test_mse
assert abs(r2_by_hand - test_r2) < 1e-4

# %% [markdown]
# **Exercise 2.** What MSE and $R^2$ does the simplest model get: always predict the mean strength
# of the fitting rows, `y_mean`? How many times lower is the wide & deep model's MSE?

# %% tags=["solution"]
mean_pred = np.full_like(y_test, y_mean)
baseline_mse, baseline_r2 = mean_squared_error(y_test, mean_pred), r2_score(y_test, mean_pred)
print(
    f"predict the mean: MSE {baseline_mse:.1f} MPa², R² {baseline_r2:.3f}; "
    f"the model's MSE is {baseline_mse / test_mse:.1f} times lower"
)
# About 0, not exactly: y_mean is the fitting rows' mean, not the test rows'.
assert abs(baseline_r2) < 0.05
assert abs(baseline_mse - np.var(y_test) - (y_test.mean() - y_mean) ** 2) < 1e-2
assert baseline_mse / test_mse > 5

# %% [markdown]
# **Exercise 3.** Count the wide & deep model's trainable parameters by hand: two dense layers of
# 30 units, then one output unit that sees the 8 scaled inputs and the 30 deep features. Why does
# the `Normalization` layer add none?

# %% tags=["solution"]
by_hand_params = (8 * 30 + 30) + (30 * 30 + 30) + ((8 + 30) * 1 + 1)
trainable = sum(int(np.prod(w.shape)) for w in wide_deep.trainable_weights)
print(
    f"{by_hand_params} trainable parameters; the normalizer holds {normalizer.count_params()} fixed numbers"
)
assert by_hand_params == trainable == 1239
# Its mean and variance come from adapt(), not from gradients: they are non-trainable.
assert not normalizer.trainable_weights
