# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Preparing data for Keras
#
# **What you will learn:** how to separate predictors from the target; how to clean a table
# (wrong types, missing values, duplicates) with pandas; how to split into training, validation
# and test sets, with stratification; how to scale with statistics of the training split only,
# and what goes wrong otherwise; how to encode targets for each Keras loss; how to shape and scale
# images; and how to augment images with Keras preprocessing layers.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took. **Uses:**
# pandas, scikit-learn, Keras and
# [`dlguide.data`](../api/data.md), with two real data sets: the concrete strength table of the
# next chapter and Fashion-MNIST.

# %% tags=["parameters"]
seed = 0  # seeds the splits, the dirt we inject and the augmentation layers

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder, MinMaxScaler, StandardScaler

from dlguide.data import FASHION_MNIST_CLASSES, load_concrete, load_fashion_mnist
from dlguide.plotting import plot_image_grid

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## Getting the data
#
# [`load_concrete`][dlguide.data.load_concrete] returns the concrete compressive strength table
# used in the IBM [course](../sources.md). Behind it, [`fetch`][dlguide.data.fetch] finds the
# file in a local mirror or cache, or downloads it from its canonical address, and checks its SHA-256 before
# anything reads it. A corrupted file raises an error that names it; it is never used silently.

# %%
concrete = load_concrete()
assert concrete.shape == (1030, 9)
assert concrete.columns[-1] == "Strength"
concrete.head()


# %% [markdown]
# Each of the 1,030 rows is one concrete mixture. Seven columns give the amount of an ingredient
# in kg per m³ of concrete, `Age` is in days, and `Strength` is the compressive strength in MPa.

# %% [markdown]
# ## Predictors and target
#
# The **target** is what the model should predict: `Strength`. The **predictors** (features) are
# what it may look at: the other eight columns. Keep them apart from the first line on. A target
# that sneaks into the predictors makes a perfect model that is useless.

# %%
predictors = concrete.drop(columns="Strength")
target = concrete["Strength"]
print(predictors.shape, target.shape)
assert predictors.shape == (1030, 8) and target.shape == (1030,)
assert "Strength" not in predictors.columns


# %% [markdown]
# ## Cleaning a table
#
# This table is clean except for one thing: it has no missing values, but it does contain
# duplicated rows.

# %%
print("missing values:", int(concrete.isna().sum().sum()))
print("duplicated rows:", int(concrete.duplicated().sum()))
assert concrete.isna().sum().sum() == 0
assert concrete.duplicated().sum() == 25


# %% [markdown]
# 25 rows repeat an earlier row exactly. When one copy lands in the training set and another in
# the test set, the model is tested on a row it has already seen. Drop exact duplicates before you
# split, unless they are real, separate measurements.

# %% [markdown]
# Real files are often dirtier. To practise, make a dirty copy: blank out a few `Water` values,
# append one copy of a row, and write a `?` (the UCI repository's marker for "unknown") into
# `Age`. Then write it to disk and read it back, as you would read a file you were given.

# %%
rng = np.random.default_rng(seed)
dirty = concrete.copy()
dirty.loc[rng.choice(len(dirty), size=12, replace=False), "Water"] = np.nan
dirty = pd.concat([dirty, dirty.iloc[[100]]], ignore_index=True)
dirty["Age"] = dirty["Age"].astype(str)
dirty.loc[rng.choice(len(dirty), size=5, replace=False), "Age"] = "?"
dirty.to_csv("concrete_dirty.csv", index=False)

raw = pd.read_csv("concrete_dirty.csv")
raw.dtypes

# %% [markdown]
# Two symptoms show up at once. `Age` is a text column (dtype `str`; `object` before pandas 3):
# pandas found text in it, so it kept every value as a string, and arithmetic on it would fail or,
# worse, concatenate. And
# `raw.isna()` finds the blanks in `Water`, but not the `?` in `Age`.

# %%
print(raw.isna().sum()[lambda s: s > 0])
print("duplicated rows:", int(raw.duplicated().sum()))
assert not pd.api.types.is_numeric_dtype(raw["Age"])
assert raw["Water"].isna().sum() == 12
assert raw.duplicated().sum() == 24


# %% [markdown]
# There are 12 blanks and 24 duplicated rows, not 25 + 1: some blanks and `?` landed on rows that
# had a twin, and those rows no longer match it.

# %% [markdown]
# Fix the type first. `pd.to_numeric(..., errors="coerce")` turns what is not a number into `NaN`,
# so the `?` become visible as missing values. Passing `na_values="?"` to `read_csv` does the
# same while reading. Then drop the duplicates and the rows with missing values.

# %%
clean = raw.copy()
clean["Age"] = pd.to_numeric(clean["Age"], errors="coerce")
print("missing after fixing the type:", clean.isna().sum()[lambda s: s > 0].to_dict())
deduplicated = clean.drop_duplicates()
clean = deduplicated.dropna().reset_index(drop=True)
print(len(raw), "rows →", len(deduplicated), "without duplicates →", len(clean), "complete rows")
assert len(raw) == 1031
assert pd.to_numeric(raw["Age"], errors="coerce").isna().sum() == 5
assert clean["Age"].dtype == np.float64
assert clean.isna().sum().sum() == 0 and clean.duplicated().sum() == 0
assert (len(deduplicated), len(clean)) == (1007, 990)


# %% [markdown]
# The 1,031 dirty rows become 1,007 without duplicates, and 990 once the 17 rows with a missing
# value (12 blanks, 5 `?`) are gone. With more missing values you
# would **impute** instead, e.g. fill in the median of the column. The median then has to come from
# the training split only, for the reason the next sections show.

# %% [markdown]
# ## Training, validation and test sets
#
# You need three disjoint sets:
#
# - the **training set** fits the weights;
# - the **validation set** chooses everything else: epochs, layer sizes, learning rate;
# - the **test set** is scored once, at the end, to report how good the final model is.
#
# If you pick the epoch with the best *test* score, the test set has become a validation set, and
# its score is optimistic. Never use the test set for validation.
#
# scikit-learn's `train_test_split` splits once. Split twice for 70/15/15: first hold out 30%,
# then cut the held-out part in half.

# %%
X_train, X_hold, y_train, y_hold = train_test_split(
    predictors, target, test_size=0.30, random_state=seed
)
X_val, X_test, y_val, y_test = train_test_split(X_hold, y_hold, test_size=0.5, random_state=seed)
print(len(X_train), len(X_val), len(X_test))
assert (len(X_train), len(X_val), len(X_test)) == (721, 154, 155)
assert not set(X_train.index) & set(X_val.index)
assert not set(X_train.index) & set(X_test.index)
assert not set(X_val.index) & set(X_test.index)


# %% [markdown]
# **Stratification.** For a classification task, a random split can give the classes unequal
# shares. Take 2,000 Fashion-MNIST training images and hold out 15% (300 images). Each class
# should get about 30 of them.

# %%
(x_train_full, y_train_full), (x_test_fm, y_test_fm) = load_fashion_mnist()
x_small, y_small = x_train_full[:2000], y_train_full[:2000]

_, _, _, y_plain = train_test_split(x_small, y_small, test_size=0.15, random_state=seed)
_, _, _, y_strat = train_test_split(
    x_small, y_small, test_size=0.15, random_state=seed, stratify=y_small
)
counts = pd.DataFrame(
    {"random split": np.bincount(y_plain), "stratified split": np.bincount(y_strat)},
    index=FASHION_MNIST_CLASSES,
)
assert len(y_plain) == len(y_strat) == 300
assert counts["random split"].min() == 23 and counts["random split"].max() == 40
assert counts["stratified split"].min() == 28 and counts["stratified split"].max() == 33
share = np.bincount(y_small) * 0.15
assert np.all(np.abs(counts["stratified split"].to_numpy() - share) < 1)
assert predictors["Superplasticizer"].max() < 33
assert abs(predictors["Coarse Aggregate"].mean() - 1000) < 50
counts.T


# %% [markdown]
# The random split gives between 23 and 40 images per class. With `stratify=y`, every class gets
# its share of the 2,000 to within one image: between 28 and 33. For a regression target you can
# stratify on bins of it, e.g. `stratify=pd.qcut(y, 5, labels=False)`.

# %% [markdown]
# ## Scaling, fitted on the training split
#
# The predictors live on very different scales: `Superplasticizer` stays below 33 kg/m³, while
# `Coarse Aggregate` is around 1,000. Gradient descent then takes tiny steps along some weights
# and huge ones along others (chapter 7 measures what that costs). Two common fixes:
#
# - **z-score** (standardisation): $x' = (x - \mu) / \sigma$, so each column has mean 0 and
#   standard deviation 1;
# - **min-max**: $x' = (x - \min) / (\max - \min)$, so each column spans $[0, 1]$.
#
# $\mu$, $\sigma$, $\min$ and $\max$ are *learned* from data, like weights. Compute them on the
# training split, and apply the same numbers to the validation and test splits.

# %%
mu = X_train.mean()
sigma = X_train.std(ddof=0)
X_train_z = (X_train - mu) / sigma
X_test_z = (X_test - mu) / sigma

scaler = StandardScaler().fit(X_train)
np.testing.assert_allclose(scaler.transform(X_test), X_test_z, atol=1e-12)
pd.DataFrame({"train mean": X_train_z.mean(), "test mean": X_test_z.mean()}).round(3).T + 0.0

# %% [markdown]
# The training columns have mean 0 exactly; the test columns only roughly, which is what unseen
# data looks like. `StandardScaler` computes the same numbers as the two lines by hand (it divides
# by $n$, i.e. `ddof=0`).
#
# `MinMaxScaler` works the same way. Fitted on the training rows, it maps them onto $[0, 1]$
# exactly; held-out rows can fall outside, because new data is not bound by the range seen so far.

# %%
min_max = MinMaxScaler().fit(X_train)
held_out = min_max.transform(pd.concat([X_val, X_test]))
n_outside = int(((held_out < -1e-9) | (held_out > 1 + 1e-9)).sum())  # beyond float rounding
scaled_train = min_max.transform(X_train)
print(f"training range: {scaled_train.min():.3f} to {scaled_train.max():.3f}")
print("held-out values outside [0, 1]:", n_outside, "of", held_out.size)
assert abs(min_max.transform(X_train).min()) < 1e-12
assert abs(min_max.transform(X_train).max() - 1.0) < 1e-12
assert n_outside == 1


# %% [markdown]
# **The leak.** A common mistake is to scale the whole table first and split afterwards. Then the
# test rows help choose $\mu$ and $\sigma$, and so they change the numbers the model is trained on:
# information flows from the test set into training, and the test score no longer measures
# performance on data the model has never seen. You can watch it happen. Put a typo into a single
# **test** row — an age of 3,650 days, one zero too many for a year — and compare the training
# inputs each pipeline produces.


# %%
def training_inputs(test_rows, leaky):
    if leaky:  # scale everything, then split: the test rows shape the scaler
        fitted = StandardScaler().fit(pd.concat([X_train, X_val, test_rows]))
    else:  # split, then scale: the scaler sees the training rows only
        fitted = StandardScaler().fit(X_train)
    return fitted.transform(X_train)


X_test_typo = X_test.copy()
X_test_typo.iloc[0, X_test.columns.get_loc("Age")] = 3650
for leaky in (False, True):
    shift = np.abs(training_inputs(X_test_typo, leaky) - training_inputs(X_test, leaky)).max()
    print(
        f"{'scale, then split' if leaky else 'split, then scale'}: training inputs move by "
        f"up to {shift:.2f}"
    )
honest_shift = np.abs(training_inputs(X_test_typo, False) - training_inputs(X_test, False)).max()
leaky_shift = np.abs(training_inputs(X_test_typo, True) - training_inputs(X_test, True)).max()
assert honest_shift == 0.0
assert 2.5 < leaky_shift < 2.7


# %% [markdown]
# With the split first, one test value cannot touch the training data. With the scaling first, it
# moves the training `Age` values, the oldest ones by more than 2.5 (scaled) units: the model is
# trained on different numbers because of a row it is later tested on. Fit every learned
# transformation — scaler, imputer, encoder — on the training split only.

# %% [markdown]
# **Inside the model.** Keras' `Normalization` layer learns $\mu$ and $\sigma$ with `adapt` and
# then scales its input in the forward pass. The statistics travel with the saved model, so nobody
# can forget to scale new inputs. Adapt it on the training split only, like the scaler:

# %%
normalizer = keras.layers.Normalization()
normalizer.adapt(X_train.to_numpy("float32"))
by_layer = keras.ops.convert_to_numpy(normalizer(X_test.to_numpy("float32")))
max_difference = np.abs(by_layer - scaler.transform(X_test)).max()
print(f"largest difference to StandardScaler: {max_difference:.1e}")
assert max_difference < 1e-5  # float32 layer against float64 scaler


# %% [markdown]
# ## Encoding targets
#
# Fashion-MNIST labels are integers 0 to 9, and `FASHION_MNIST_CLASSES` names them. Keras' two
# classification losses want them in different forms:
#
# | target form | example for "Dress" | output layer | loss |
# | --- | --- | --- | --- |
# | integer label | `3` | `Dense(10, activation="softmax")` | `sparse_categorical_crossentropy` |
# | one-hot vector | `[0,0,0,1,0,0,0,0,0,0]` | `Dense(10, activation="softmax")` | `categorical_crossentropy` |
# | 0/1 (two classes) | `1` | `Dense(1, activation="sigmoid")` | `binary_crossentropy` |
#
# `keras.utils.to_categorical` makes the one-hot form:

# %%
labels = y_train_full[:5]
one_hot = keras.utils.to_categorical(labels, num_classes=10)
print(labels)
print(one_hot)

# %% [markdown]
# Both losses compute the same number, $-\log p_{\text{true class}}$, averaged over the batch. The
# integer form saves memory with many classes; use whichever matches your labels.

# %%
probabilities = keras.ops.softmax(np.random.default_rng(seed).normal(size=(5, 10)))
sparse = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
dense = keras.losses.CategoricalCrossentropy()(one_hot, probabilities)
by_hand = -np.mean(np.log(keras.ops.convert_to_numpy(probabilities)[np.arange(5), labels]))
print(float(sparse), float(dense), by_hand)
assert one_hot.shape == (5, 10) and np.all(one_hot.argmax(axis=1) == labels)
assert abs(float(sparse) - float(dense)) < 1e-6 and abs(float(sparse) - by_hand) < 1e-5


# %% [markdown]
# When labels come as strings, `LabelEncoder` turns them into integers. It numbers the classes in
# **alphabetical** order, not in the order of the data set's documentation: "Ankle boot" gets 0,
# not 9. Keep the encoder (or its `classes_`) with the model, or predictions get wrong names.

# %%
encoder = LabelEncoder().fit(list(FASHION_MNIST_CLASSES))
print({str(name): code for code, name in enumerate(encoder.classes_)})
assert encoder.transform(["Ankle boot"])[0] == 0
assert FASHION_MNIST_CLASSES.index("Ankle boot") == 9


# %% [markdown]
# ## Images: scale, then flatten or keep the grid
#
# Fashion-MNIST images are 28×28 `uint8` arrays with values from 0 to 255. Divide by 255 to get
# `float32` values in $[0, 1]$. Keep the test images for the end, and take the validation set from
# the training images, stratified.

# %%
x_train_full = x_train_full.astype("float32") / 255.0
x_test_fm = x_test_fm.astype("float32") / 255.0
x_fit, x_val_fm, y_fit, y_val_fm = train_test_split(
    x_train_full, y_train_full, test_size=0.1, random_state=seed, stratify=y_train_full
)
print(x_fit.shape, x_val_fm.shape, x_test_fm.shape, x_fit.dtype, x_fit.min(), x_fit.max())
assert x_fit.shape == (54000, 28, 28) and x_val_fm.shape == (6000, 28, 28)
assert np.all(np.bincount(y_val_fm) == 600)
assert x_fit.min() == 0.0 and x_fit.max() == 1.0


# %% [markdown]
# A dense network wants each image as one vector of $28 \cdot 28 = 784$ numbers: flatten it with
# `reshape`, or put a `Flatten` layer first. A convolutional network wants the grid, plus a channel
# axis: shape `(28, 28, 1)`.

# %%
flat = x_fit[:3].reshape(-1, 28 * 28)
grid = x_fit[:3][..., np.newaxis]
print(flat.shape, grid.shape)

# %%
assert flat.shape == (3, 784) and grid.shape == (3, 28, 28, 1)
np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras.layers.Flatten()(x_fit[:3])), flat)

# %% caption="Eight Fashion-MNIST training images, scaled to [0, 1]; the title is the class."
fig = plot_image_grid(
    x_fit[:8], titles=[FASHION_MNIST_CLASSES[k] for k in y_fit[:8]], ncols=8, vmin=0.0, vmax=1.0
)
plt.show()

# %% [markdown]
# ## Augmentation
#
# More data helps, and for images you can invent plausible new examples: the same shirt, a little
# rotated, shifted or zoomed. Keras' preprocessing layers do this on the fly. Each call draws new
# random transformations, so every epoch sees slightly different images.

# %%
augment = keras.Sequential(
    [
        keras.layers.RandomFlip("horizontal", seed=seed),
        # up to ±0.05 of a full turn (±18°); "constant" fills the uncovered corners with black
        keras.layers.RandomRotation(0.05, fill_mode="constant", seed=seed),
        keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed),  # ±10% zoom
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),  # ±10% shift
    ],
    name="augment",
)
originals = x_fit[:8][..., np.newaxis]
augmented = keras.ops.convert_to_numpy(augment(originals, training=True))

# %% caption="Top row: eight training images. Bottom row: the same images after one random flip, rotation, zoom and translation."
fig = plot_image_grid(
    np.concatenate([originals, augmented])[..., 0],
    titles=[FASHION_MNIST_CLASSES[k] for k in y_fit[:8]] + ["augmented"] * 8,
    ncols=8,
    vmin=0.0,
    vmax=1.0,
)
plt.show()

# %% [markdown]
# The augmented images keep their shape and stay in $[0, 1]$. They differ from the originals, and
# the layers are only active in training: at inference (`training=False`, which `predict` and
# `evaluate` use) they pass images through unchanged.

# %%
changed = np.mean(np.abs(augmented - originals) > 1e-3)
print(f"share of pixels changed: {changed:.2f}")

# %%
assert augmented.shape == originals.shape
assert augmented.min() >= 0.0 and augmented.max() <= 1.0 + 1e-6
assert changed > 0.1
np.testing.assert_array_equal(
    keras.ops.convert_to_numpy(augment(originals, training=False)), originals
)

# %% [markdown]
# Put `augment` at the start of a model, right after `keras.Input`, so it runs on every training
# batch. Choose transformations that keep the label true: a flipped sneaker is still a sneaker,
# but a flipped "6" is not a "9", so digits get no flips.
#
# ## Summary
#
# - Separate the target from the predictors first.
# - Check types (`dtypes`), missing values (`isna`) and duplicates (`duplicated`) before anything
#   else; `pd.to_numeric(errors="coerce")` exposes text in numeric columns.
# - Split into training, validation and test sets (e.g. 70/15/15); stratify classification splits;
#   never tune on the test set.
# - Fit every learned transformation (scaler, imputer, `Normalization.adapt`) on the training split
#   only, then apply it unchanged to the other splits.
# - Integer labels go with `sparse_categorical_crossentropy`, one-hot vectors with
#   `categorical_crossentropy`; both give the same loss.
# - Scale images to $[0, 1]$; flatten them for dense layers, keep the grid for convolutions.
# - Augmentation layers create new training images on the fly and are off at inference.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Min-max scale the validation and test rows by hand with the training split's
# minimum and maximum, $(x - \min) / (\max - \min)$. Do you get `MinMaxScaler`'s numbers, and the
# same count of values outside $[0, 1]$?

# %% tags=["solution"]
low, high = X_train.min(), X_train.max()
by_hand_mm = (pd.concat([X_val, X_test]) - low) / (high - low)
assert np.allclose(by_hand_mm.to_numpy(), held_out, atol=1e-12)
outside = int(((by_hand_mm < -1e-9) | (by_hand_mm > 1 + 1e-9)).to_numpy().sum())
print(f"{outside} held-out values fall outside [0, 1]")
assert outside == n_outside

# %% [markdown]
# **Exercise 2.** Does the `Normalization` layer divide by the population standard deviation
# (divisor $n$) or by the sample one (divisor $n - 1$)? Compare its learned `variance` with both.

# %% tags=["solution"]
learned_var = keras.ops.convert_to_numpy(normalizer.variance)[0]
population, sample = X_train.var(ddof=0).to_numpy(), X_train.var(ddof=1).to_numpy()
print(
    f"largest relative gap: ddof=0 {np.max(np.abs(learned_var / population - 1)):.1e}, "
    f"ddof=1 {np.max(np.abs(learned_var / sample - 1)):.1e}"
)
assert np.allclose(learned_var, population, rtol=1e-5)  # like StandardScaler and sigma above
assert not np.allclose(learned_var, sample, rtol=1e-4)  # n/(n-1) = 721/720 is 1.4e-3 off

# %% [markdown]
# **Exercise 3.** Stratify the 70/15/15 concrete split on five quantile bins of `Strength`
# (`pd.qcut(target, 5, labels=False)`). Does every split then hold each bin in proportion? Are the
# three mean strengths closer than with the plain split?

# %% tags=["solution"]
bins = pd.qcut(target, 5, labels=False)
Xs_train, Xs_hold, ys_train, ys_hold = train_test_split(
    predictors, target, test_size=0.30, random_state=seed, stratify=bins
)
_, _, ys_val, ys_test = train_test_split(
    Xs_hold, ys_hold, test_size=0.5, random_state=seed, stratify=bins[ys_hold.index]
)
strat_splits = {"train": ys_train, "validation": ys_val, "test": ys_test}
shares = pd.DataFrame(
    {name: bins[ys.index].value_counts(normalize=True) for name, ys in strat_splits.items()}
)
assert (shares.max(axis=1) - shares.min(axis=1)).max() < 0.01  # every bin in proportion
plain_means = [y_train.mean(), y_val.mean(), y_test.mean()]
strat_means = [ys.mean() for ys in strat_splits.values()]
gap = {"plain": np.ptp(plain_means), "stratified": np.ptp(strat_means)}
print(
    {name: round(float(g), 2) for name, g in gap.items()},
    "MPa between the largest and smallest mean",
)
# Stratifying fixes the bins' shares, not the strengths within a bin: here the plain split's means
# happen to be closer. With 155 rows per held-out split, a gap of about 1 MPa is noise either way.
assert gap["stratified"] < 1.5 and gap["plain"] < 1.5
