# ---
# jupyter:
#   dlguide:
#     profiles:
#       fast: {n_train: 4096, n_val: 1024, ae_epochs: 8, conv_epochs: 3, side_epochs: 3, linear_epochs: 30, vae_epochs: 5, rbm_samples: 4096, n_hidden: 64, rbm_epochs: 6, n_pll: 300, n_impute: 500}
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 12. Autoencoders and restricted Boltzmann machines
#
# **What you will learn:** how an autoencoder compresses an image into a small code and rebuilds
# it; how a dense and a convolutional autoencoder compare with PCA, and why a *linear*
# autoencoder learns exactly PCA's subspace; how a denoising autoencoder removes Gaussian and
# masking noise; how the code of a two-unit bottleneck arranges the classes; how reconstruction
# error flags images of a class the model has never seen; how a variational autoencoder samples
# its code with the reparameterisation trick and trades reconstruction against a KL term; and how
# a restricted Boltzmann machine, written from scratch in NumPy and trained by contrastive
# divergence, learns features, dreams up images and fills in missing pixels.
#
# **Runs on:** CPU (fast profile: 4,096 training images, 3 to 30 epochs per model, a 64-unit
# RBM; the autoencoders and classifiers are scored on all 10,000 test images). The run stamp at
# the end of the page says how long it took.
# **Uses:** Keras, scikit-learn, SciPy, [`dlguide.autoencoders`][dlguide.autoencoders],
# [`dlguide.rbm`][dlguide.rbm] and [`dlguide.data`][dlguide.data].

# %% tags=["parameters"]
seed = 42
n_train = 54_000  # training images (drawn from Keras' 60,000 training images)
n_val = 6_000  # validation images, from the same 60,000
code_size = 16  # units in the bottleneck of every autoencoder and in PCA
ae_epochs = 30  # dense autoencoder
conv_epochs = 20  # convolutional autoencoder
side_epochs = 20  # denoising, 2-D and anomaly-detection autoencoders
linear_epochs = 60  # linear autoencoder
vae_epochs = 30
rbm_samples = 20_000  # training images for the RBMs and the logistic regressions
n_hidden = 256  # hidden units of both RBMs
rbm_epochs = 20
n_pll = 2_000  # test images scored by the pseudo-log-likelihood
n_impute = 2_000  # test images with missing pixels

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.linalg import subspace_angles
from scipy.stats import norm
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import BernoulliRBM

from dlguide import rbm
from dlguide.autoencoders import VAE, Sampling, kl_divergence, psnr
from dlguide.data import FASHION_MNIST_CLASSES, fashion_mnist_splits
from dlguide.plotting import plot_image_grid

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## The data
#
# An autoencoder needs no labels: the image is both the input and the target. Take Fashion-MNIST,
# scale the grey levels to $[0, 1]$, flatten each image into 784 numbers, and split a validation
# set off the training images. The labels serve only to colour plots, to pick an "unseen" class
# for anomaly detection and to test features at the end.

# %%
(x_train_images, y_train), (x_val_images, y_val), (x_test_images, y_test) = fashion_mnist_splits(
    n_train, n_val, seed
)
x_train, x_val, x_test = (
    images.reshape(len(images), 784).astype("float32") / 255.0
    for images in (x_train_images, x_val_images, x_test_images)
)
print(x_train.shape, x_val.shape, x_test.shape)
assert x_test.shape == (10_000, 784) and x_train.min() >= 0.0 and x_train.max() <= 1.0

# %% [markdown]
# ## A dense autoencoder
#
# The **encoder** squeezes 784 pixels through a hidden layer into a code of `code_size` = 16
# numbers, 49 times fewer; the **decoder** mirrors it back to 784 values in $(0, 1)$ (a sigmoid
# output). Training minimises the mean squared error between the input and its reconstruction.
# Nothing else tells the network what to keep: it has to find the 16 numbers that describe a
# garment best.


# %%
def dense_autoencoder(code_size, width=256):
    """An encoder 784 -> width -> code and a decoder code -> width -> 784, and both in a row."""
    encoder = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(code_size),  # a linear code
        ],
        name="encoder",
    )
    decoder = keras.Sequential(
        [
            keras.Input((code_size,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(784, activation="sigmoid"),
        ],
        name="decoder",
    )
    autoencoder = keras.Sequential([encoder, decoder], name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    # Adam's state is created now, not inside fit(): with TensorFlow, variables created during
    # the first trace of the training step make fit() trace it a second time.
    autoencoder.optimizer.build(autoencoder.trainable_variables)
    return encoder, decoder, autoencoder


def test_mse(model, x, target=None):
    """Mean squared reconstruction error over all pixels of all images."""
    target = x if target is None else target
    reconstruction = keras.ops.convert_to_numpy(model(x))  # one call: the test set fits in memory
    return float(np.mean((reconstruction - target) ** 2))


keras.utils.set_random_seed(seed)
encoder, decoder, autoencoder = dense_autoencoder(code_size)
autoencoder.fit(x_train, x_train, epochs=ae_epochs, batch_size=128, verbose=0)
dense_mse = test_mse(autoencoder, x_test)
print(f"dense autoencoder, code {code_size}: test MSE {dense_mse:.4f}")

# %% [markdown]
# ## A convolutional autoencoder
#
# Convolutions share their weights across the image and keep pixels' neighbourhoods together. Two
# strided convolutions take the image from 28×28 to 7×7 feature maps, a dense layer makes the
# same 16-number code, and transposed convolutions (the "reverse" of a strided convolution) grow
# it back to 28×28.


# %%
def conv_autoencoder(code_size):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),  # 14×14×16
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),  # 7×7×32
            layers.Flatten(),
            layers.Dense(code_size),  # the code
            layers.Dense(7 * 7 * 32, activation="relu"),
            layers.Reshape((7, 7, 32)),
            layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),
        ],
        name="conv_autoencoder",
    )


keras.utils.set_random_seed(seed)
conv_ae = conv_autoencoder(code_size)
conv_ae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse")
conv_ae.optimizer.build(conv_ae.trainable_variables)  # as in dense_autoencoder: one trace
x_train_2d, x_test_2d = x_train.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)
conv_ae.fit(x_train_2d, x_train_2d, epochs=conv_epochs, batch_size=128, verbose=0)
conv_mse = test_mse(conv_ae, x_test_2d)
print(f"convolutional autoencoder, code {code_size}: test MSE {conv_mse:.4f}")

# %% [markdown]
# ## Against PCA
#
# Principal component analysis is the classic linear compressor: it projects the centred data on
# the $k$ directions of largest variance and maps back. Among all *linear* codes of size $k$ it
# has the smallest squared error. Give it the same 16 numbers per image:

# %%
pca = PCA(n_components=code_size, random_state=seed).fit(x_train)
pca_reconstruction = pca.inverse_transform(pca.transform(x_test))
pca_mse = float(np.mean((pca_reconstruction - x_test) ** 2))
mse_table = pd.DataFrame(
    {
        "test MSE": [dense_mse, conv_mse, pca_mse],
        "parameters": [autoencoder.count_params(), conv_ae.count_params(), pca.components_.size],
    },
    index=["dense autoencoder", "convolutional autoencoder", f"PCA, {code_size} components"],
)
mse_table.round(4)

# %% [markdown]
# The dense autoencoder's nonlinear encoder and decoder beat the best linear code. All three are
# judged on the 10,000 test images, which none of them saw. The convolutional autoencoder has
# about seven times fewer parameters than the dense one and gets fewer epochs here; how it ranks
# depends on that training budget, and the table shows where this run left it.

# %%
assert dense_mse < pca_mse
assert max(dense_mse, conv_mse, pca_mse) < 0.05

# %% caption="Test images (top row) and their reconstructions from 16 numbers: dense autoencoder, convolutional autoencoder, PCA."
shown = x_test[:8]
rows = {
    "original": shown,
    "dense AE": autoencoder.predict(shown, verbose=0),
    "conv AE": conv_ae.predict(shown.reshape(-1, 28, 28, 1), verbose=0).reshape(-1, 784),
    "PCA": np.clip(pca_reconstruction[:8], 0, 1),
}
fig = plot_image_grid(
    np.concatenate(list(rows.values())).reshape(-1, 28, 28),
    titles=[name if i == 0 else "" for name in rows for i in range(8)],
    ncols=8,
    vmin=0,
    vmax=1,
)
plt.show()

# %% [markdown]
# ## A linear autoencoder learns PCA's subspace
#
# Remove the nonlinearities and the biases: encoder $z = E x$, decoder $\hat x = D z$, on centred
# data $x - \bar x$. Minimising $\lVert x - D E x \rVert^2$ is then PCA's own problem, and its
# minima are exactly the solutions whose decoder columns span the top-$k$ principal subspace
# (Baldi and Hornik, 1989). The weights themselves are not the principal components (any
# invertible mix of them works as well), so compare *subspaces*: the **principal angles**
# between the column space of $D$ and that of the top-$k$ components are all zero when the two
# coincide.

# %%
x_mean = x_train.mean(axis=0)
keras.utils.set_random_seed(seed)
linear_ae = keras.Sequential(
    [
        keras.Input((784,)),
        keras.layers.Dense(code_size, use_bias=False),
        keras.layers.Dense(784, use_bias=False),
    ]
)
linear_ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
linear_ae.optimizer.build(linear_ae.trainable_variables)
linear_ae.fit(x_train - x_mean, x_train - x_mean, epochs=linear_epochs, batch_size=256, verbose=0)
decoder_columns = keras.ops.convert_to_numpy(linear_ae.layers[1].kernel).T  # (784, k)
angles = np.degrees(subspace_angles(decoder_columns, pca.components_.T))[::-1]  # smallest first
linear_mse = test_mse(linear_ae, x_test - x_mean)
print(f"principal angles (degrees): {np.round(angles, 2)}")
print(f"linear AE test MSE {linear_mse:.4f}, PCA {pca_mse:.4f}")

# %% [markdown]
# The two subspaces agree except in their last directions: most angles are below 3°, and only
# the last two are larger. Those belong to the last principal components, whose variances
# nearly tie with the next ones left out; directions of almost equal variance are almost
# interchangeable, the loss barely changes between them, and gradient descent settles there
# slowly. The linear autoencoder's test error matches PCA's to within 2%.

# %%
assert np.sum(angles < 3.0) >= code_size - 2
assert abs(linear_mse - pca_mse) / pca_mse < 0.02

# %% caption="Principal angles between the linear autoencoder's decoder subspace and the top-16 PCA subspace, with the variance each principal component explains."
fig, ax = plt.subplots(figsize=(7, 4))
ax.bar(np.arange(1, code_size + 1), angles, color="tab:blue")
ax.set_xlabel("principal angle (sorted, smallest first)")
ax.set_ylabel("angle (degrees)", color="tab:blue")
twin = ax.twinx()
twin.plot(np.arange(1, code_size + 1), pca.explained_variance_ratio_, "o-", color="tab:orange")
twin.set_ylabel("explained variance of component k", color="tab:orange")
plt.show()

# %% [markdown]
# ## Denoising
#
# A **denoising autoencoder** gets a corrupted image as input and the clean image as target, so it
# must learn what garments look like rather than copy pixels. Use two kinds of noise: **Gaussian**
# noise ($x + \mathcal N(0, 0.3^2)$, clipped to $[0, 1]$) and **masking** noise (each pixel set to
# 0 with probability 0.4). One network learns both: half of the training images get each kind.
#
# Quality is measured as the **peak signal-to-noise ratio**,
# $\operatorname{PSNR} = 10 \log_{10}(1 / \operatorname{MSE})$ dB for images in $[0, 1]$
# ([`psnr`][dlguide.autoencoders.psnr]), per image and averaged over the test set.

# %%
rng = np.random.default_rng(seed)


def gaussian_noise(x, sigma=0.3):
    return np.clip(x + rng.normal(scale=sigma, size=x.shape), 0.0, 1.0).astype("float32")


def masking_noise(x, p=0.4):
    return np.where(rng.random(x.shape) < p, 0.0, x).astype("float32")


half = len(x_train) // 2
x_train_noisy = np.concatenate([gaussian_noise(x_train[:half]), masking_noise(x_train[half:])])
keras.utils.set_random_seed(seed)
_, _, denoiser = dense_autoencoder(64)  # a wider code: it must keep detail, not compress
denoiser.fit(x_train_noisy, x_train, epochs=side_epochs, batch_size=128, verbose=0)

noisy_test = {"Gaussian": gaussian_noise(x_test), "masking": masking_noise(x_test)}
denoised_test = {k: denoiser.predict(v, batch_size=1000, verbose=0) for k, v in noisy_test.items()}
psnr_table = pd.DataFrame(
    {
        "noisy input (dB)": [psnr(x_test, v).mean() for v in noisy_test.values()],
        "denoised (dB)": [psnr(x_test, v).mean() for v in denoised_test.values()],
    },
    index=[f"{k} noise" for k in noisy_test],
)
psnr_table["gain (dB)"] = psnr_table["denoised (dB)"] - psnr_table["noisy input (dB)"]
psnr_table.round(2)

# %% [markdown]
# Denoising gains several decibels for both kinds of noise; 3 dB is half the squared error.

# %%
assert (psnr_table["gain (dB)"] > 3.0).all()

# %% caption="Clean test images, their noisy versions and the denoiser's output, for Gaussian noise (rows 2-3) and masking noise (rows 4-5)."
images = [x_test[:8]]
for kind in noisy_test:
    images += [noisy_test[kind][:8], denoised_test[kind][:8]]
names = ["clean", "Gaussian", "denoised", "masked", "denoised"]
fig = plot_image_grid(
    np.concatenate(images).reshape(-1, 28, 28),
    titles=[name if i == 0 else "" for name in names for i in range(8)],
    ncols=8,
    vmin=0,
    vmax=1,
)
plt.show()

# %% [markdown]
# ## A two-number code
#
# Shrink the code to two numbers and you can draw it. Nobody told the network the classes, yet
# images of a class land near each other: the code organises what the images look like.

# %%
keras.utils.set_random_seed(seed)
encoder_2d, _, autoencoder_2d = dense_autoencoder(2)
autoencoder_2d.fit(x_train, x_train, epochs=side_epochs, batch_size=128, verbose=0)
codes_2d = encoder_2d.predict(x_test, batch_size=1000, verbose=0)
print(f"2-D code: test MSE {test_mse(autoencoder_2d, x_test):.4f}")

# %% caption="The 2-D code of the 10,000 test images, coloured by their (unused) class."
fig, ax = plt.subplots(figsize=(7, 6))
points = ax.scatter(codes_2d[:, 0], codes_2d[:, 1], c=y_test, cmap="tab10", s=3, alpha=0.6)
ax.legend(
    points.legend_elements()[0], FASHION_MNIST_CLASSES, fontsize=8, loc="best", markerscale=0.8
)
ax.set_xlabel("code unit 1")
ax.set_ylabel("code unit 2")
plt.show()

# %% [markdown]
# How well does the 2-D code separate the classes? A linear classifier on the two numbers,
# trained on the training codes, answers with a test accuracy far above the 10% of guessing:

# %%
code_classifier = LogisticRegression(max_iter=1000).fit(
    encoder_2d.predict(x_train, batch_size=1000, verbose=0), y_train
)
code_accuracy = code_classifier.score(codes_2d, y_test)
print(f"logistic regression on the 2-D code: test accuracy {code_accuracy:.3f}")
assert code_accuracy > 0.4

# %% [markdown]
# ## Anomaly detection
#
# An autoencoder reconstructs well what resembles its training data. Train it on nine classes and
# hold one out entirely, here *Bag*; at test time, the **reconstruction error** of an image is
# its anomaly score. The ROC-AUC is the probability that a random bag scores higher than a random
# image of the other nine classes (0.5 is chance, 1 is perfect).

# %%
anomaly_class = FASHION_MNIST_CLASSES.index("Bag")
normal = y_train != anomaly_class
keras.utils.set_random_seed(seed)
_, _, detector = dense_autoencoder(code_size)
detector.fit(x_train[normal], x_train[normal], epochs=side_epochs, batch_size=128, verbose=0)
scores = np.mean((detector.predict(x_test, batch_size=1000, verbose=0) - x_test) ** 2, axis=1)
is_anomaly = y_test == anomaly_class
anomaly_auc = roc_auc_score(is_anomaly, scores)
print(f"held-out class {FASHION_MNIST_CLASSES[anomaly_class]!r}: ROC-AUC {anomaly_auc:.3f}")
assert anomaly_auc > 0.7

# %% caption="Reconstruction error of test images: the nine training classes against the held-out bags."
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.linspace(0, np.quantile(scores, 0.995), 60)
ax.hist(scores[~is_anomaly], bins=bins, density=True, alpha=0.6, label="nine seen classes")
ax.hist(scores[is_anomaly], bins=bins, density=True, alpha=0.6, label="bags (never seen)")
ax.set_xlabel("reconstruction MSE of the image")
ax.set_ylabel("density")
ax.legend()
plt.show()

# %% [markdown]
# ## A variational autoencoder
#
# A plain autoencoder's code space has holes: decode a point between two codes and you may get
# noise. A **variational autoencoder** (VAE) makes the code random. For an image $x$ the encoder
# outputs a mean $\mu(x)$ and a log-variance $\log \sigma^2(x)$, the code is a sample
# $z \sim \mathcal N(\mu, \operatorname{diag} \sigma^2)$, and the loss is the negative evidence
# lower bound (ELBO), two terms:
#
# $$ \mathcal L(x) = \underbrace{-\mathbb E_{z}\big[\log p(x \mid z)\big]}_{\text{reconstruction}}
#    + \underbrace{\operatorname{KL}\big(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(0, I)\big)}_{\text{KL}}. $$
#
# The reconstruction term is the binary cross-entropy summed over the pixels; the KL term pulls
# every image's code distribution towards the standard normal, which fills the holes. Its closed
# form is $\tfrac12 \sum_d (\mu_d^2 + \sigma_d^2 - \log \sigma_d^2 - 1)$
# ([`kl_divergence`][dlguide.autoencoders.kl_divergence]).
#
# Sampling is not differentiable, but the **reparameterisation trick** moves the randomness
# aside: $z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$, so $z$
# is a smooth function of $\mu$ and $\sigma$ and gradients reach the encoder. That is all the
# [`Sampling`][dlguide.autoencoders.Sampling] layer does; check that it draws from the right
# distribution and that the closed-form KL agrees with a Monte-Carlo estimate
# $\mathbb E_z[\log q(z) - \log p(z)]$:

# %%
mu, log_var = np.array([[1.0, -0.5]]), np.array([[np.log(0.25), 0.4]])
z = keras.ops.convert_to_numpy(
    Sampling(seed=seed)([np.repeat(mu, 100_000, 0), np.repeat(log_var, 100_000, 0)])
)
sigma = np.exp(0.5 * log_var[0])
monte_carlo_kl = np.mean(
    norm.logpdf(z, mu[0], sigma).sum(axis=1) - norm.logpdf(z, 0.0, 1.0).sum(axis=1)
)
closed_form_kl = kl_divergence(mu, log_var)[0]
print(f"sample mean {z.mean(0).round(3)}, std {z.std(0).round(3)}; sigma {sigma.round(3)}")
print(f"KL: closed form {closed_form_kl:.4f}, Monte Carlo {monte_carlo_kl:.4f}")
np.testing.assert_allclose(z.mean(0), mu[0], atol=0.01)
np.testing.assert_allclose(z.std(0), sigma, rtol=0.01)
assert abs(closed_form_kl - monte_carlo_kl) < 0.01

# %% [markdown]
# Now the VAE itself, with a 2-D code so that you can look at it. The encoder has two heads;
# [`VAE`][dlguide.autoencoders.VAE] wires encoder, sampling and decoder together and logs both
# terms of the loss at every epoch.

# %%
keras.utils.set_random_seed(seed)
image = keras.Input((784,))
hidden = keras.layers.Dense(256, activation="relu")(image)
vae_encoder = keras.Model(
    image,
    [keras.layers.Dense(2, name="z_mean")(hidden), keras.layers.Dense(2, name="z_log_var")(hidden)],
    name="vae_encoder",
)
vae_decoder = keras.Sequential(
    [
        keras.Input((2,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(784, activation="sigmoid"),
    ],
    name="vae_decoder",
)
vae = VAE(vae_encoder, vae_decoder, seed=seed)
vae.compile(optimizer=keras.optimizers.Adam(2e-3))
vae_history = vae.fit(
    x_train,
    x_train,
    validation_data=(x_val, x_val),
    epochs=vae_epochs,
    batch_size=128,
    verbose=0,
).history
pd.DataFrame(vae_history).round(2).tail(3)

# %% [markdown]
# Training lowers the reconstruction term. The KL term does not go to zero: the encoder pays
# some nats per image for a code that tells images apart, as long as that buys a larger drop in
# the reconstruction term. The total, the negative ELBO, falls on the validation images too.

# %%
assert vae_history["reconstruction_loss"][-1] < vae_history["reconstruction_loss"][0]
assert vae_history["val_loss"][-1] < vae_history["val_loss"][0]
assert vae_history["kl_loss"][-1] > 1.0
np.testing.assert_allclose(
    vae_history["loss"],
    np.add(vae_history["reconstruction_loss"], vae_history["kl_loss"]),
    rtol=1e-4,
)

# %% caption="The two terms of the VAE loss per epoch (nats per image), on the training and the validation images."
epochs_axis = np.arange(1, vae_epochs + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, term in zip(axes, ["reconstruction_loss", "kl_loss"]):
    ax.plot(epochs_axis, vae_history[term], "o-", ms=3, label="training")
    ax.plot(epochs_axis, vae_history[f"val_{term}"], "s--", ms=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per image")
    ax.set_title(term.replace("_loss", " term"))
    ax.legend()
plt.show()

# %% [markdown]
# Because the codes follow the prior, decoding a regular grid of points spread by the normal
# distribution's quantiles gives a map of garments in which neighbours look alike:

# %% caption="Images decoded from a 12×12 grid over the VAE's 2-D latent space (normal quantiles from 5% to 95%); right, the test images' code means coloured by class."
grid = norm.ppf(np.linspace(0.05, 0.95, 12))
latent_grid = np.array([[zx, zy] for zy in grid[::-1] for zx in grid], dtype="float32")
decoded = vae.decoder.predict(latent_grid, verbose=0).reshape(12, 12, 28, 28)
mosaic = decoded.transpose(0, 2, 1, 3).reshape(12 * 28, 12 * 28)
vae_means = vae.encoder.predict(x_test, batch_size=1000, verbose=0)[0]
fig, axes = plt.subplots(1, 2, figsize=(13, 6))
axes[0].imshow(mosaic, cmap="gray", extent=[grid[0], grid[-1], grid[0], grid[-1]])
axes[0].set_xlabel("$z_1$")
axes[0].set_ylabel("$z_2$")
points = axes[1].scatter(vae_means[:, 0], vae_means[:, 1], c=y_test, cmap="tab10", s=3, alpha=0.6)
axes[1].legend(points.legend_elements()[0], FASHION_MNIST_CLASSES, fontsize=8, markerscale=0.8)
axes[1].set_xlabel("$\\mu_1$")
axes[1].set_ylabel("$\\mu_2$")
plt.show()

# %% [markdown]
# Compare the scatter with the plain autoencoder's: the VAE's code means stay near the origin,
# where the prior puts its mass, while the plain code's scale is whatever training happened to
# give it. The KL term is what holds them there. Each dimension's term is
# $\tfrac12(\mu^2 + \sigma^2 - \log \sigma^2 - 1)$ and $\sigma^2 - \log \sigma^2 - 1 \ge 0$, so the
# mean squared length of the code means can never exceed twice the mean KL term: the KL term is a
# budget on how far codes may stray.

# %%
vae_log_vars = vae.encoder.predict(x_test, batch_size=1000, verbose=0)[1]
mean_kl = float(np.mean(kl_divergence(vae_means.astype(float), vae_log_vars.astype(float))))
vae_sq, plain_sq = np.mean(np.sum(vae_means**2, 1)), np.mean(np.sum(codes_2d**2, 1))
print(f"mean squared length of the code: VAE {vae_sq:.2f}, plain autoencoder {plain_sq:.2f}")
print(f"twice the VAE's mean KL term on the test images: {2 * mean_kl:.2f}")
assert vae_sq <= 2 * mean_kl

# %% [markdown]
# ## A restricted Boltzmann machine from scratch
#
# A **restricted Boltzmann machine** (RBM) is an older, different kind of model: not a network
# that maps inputs to outputs but a probability distribution over binary images. It has visible
# units $v$ (the pixels), hidden units $h$ (the features) and an energy per joint state,
#
# $$ E(v, h) = -b^\top v - c^\top h - v^\top W h, \qquad p(v, h) \propto e^{-E(v, h)}. $$
#
# There are no connections within a layer, so each layer given the other is a row of independent
# logistic units, $p(h_j = 1 \mid v) = \sigma(c_j + (v^\top W)_j)$ and
# $p(v_i = 1 \mid h) = \sigma(b_i + (W h)_i)$. Summing out $h$ gives the **free energy**
# $F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j + (v^\top W)_j)$, with
# $p(v) \propto e^{-F(v)}$: probable images have low free energy. The module
# [`dlguide.rbm`][dlguide.rbm] implements these formulas in a few NumPy lines each; its tests
# check them against exhaustive enumeration of tiny RBMs.
#
# The RBM here is a *Bernoulli* RBM: its pixels are 0 or 1. Binarise the images at mid-grey.

# %%
v_train = (x_train[:rbm_samples] > 0.5).astype("float32")
v_test = (x_test > 0.5).astype("float32")
y_rbm = y_train[:rbm_samples]
print(f"{len(v_train)} binary training images; {v_train.mean():.3f} of the pixels are on")

# %% [markdown]
# ### Contrastive divergence
#
# The log-likelihood gradient is a difference of two correlations,
# $\partial \log p(v) / \partial W = \langle v h^\top \rangle_\text{data} - \langle v h^\top
# \rangle_\text{model}$. The second needs samples from the model. **Contrastive divergence**
# (CD-$k$) starts a Gibbs chain at the data, alternates $h \sim p(h \mid v)$ and
# $v \sim p(v \mid h)$ for $k$ steps, and uses the end of the chain instead. Here is one CD-1
# update written out, checked against [`cd_step`][dlguide.rbm.cd_step] with the same random draws:


# %%
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def cd1_update(W, b, c, v0, learning_rate, rng):
    q0 = sigmoid(v0 @ W + c)  # p(h = 1 | v0)
    h0 = (rng.random(q0.shape) < q0).astype(float)  # sample the hidden units
    p1 = sigmoid(h0 @ W.T + b)  # p(v = 1 | h0)
    v1 = (rng.random(p1.shape) < p1).astype(float)  # sample a "reconstruction"
    q1 = sigmoid(v1 @ W + c)
    n = len(v0)
    W = W + learning_rate * (v0.T @ q0 - v1.T @ q1) / n  # data minus model statistics
    b = b + learning_rate * (v0 - v1).mean(axis=0)
    c = c + learning_rate * (q0 - q1).mean(axis=0)
    return W, b, c


start = rbm.init_rbm(784, n_hidden, seed=seed)
batch = v_train[:32]
W, b, c = cd1_update(
    start.weights, start.visible_bias, start.hidden_bias, batch, 0.05, np.random.default_rng(0)
)
stepped = rbm.cd_step(start, batch, learning_rate=0.05, k=1, rng=np.random.default_rng(0))
np.testing.assert_allclose(W, stepped.weights, rtol=1e-10, atol=1e-15)
np.testing.assert_allclose(b, stepped.visible_bias, rtol=1e-10, atol=1e-15)
np.testing.assert_allclose(c, stepped.hidden_bias, rtol=1e-10, atol=1e-15)
print("the hand-written CD-1 update equals dlguide.rbm.cd_step")

# %% [markdown]
# [`train_rbm`][dlguide.rbm.train_rbm] repeats that update over shuffled mini-batches. Train a
# `n_hidden`-unit RBM with CD-1, and time it:

# %%
rbm_batch, rbm_lr = 32, 0.05
started = time.perf_counter()
model_rbm, rbm_history = rbm.train_rbm(
    start,
    v_train,
    epochs=rbm_epochs,
    batch_size=rbm_batch,
    learning_rate=rbm_lr,
    k=1,
    seed=seed,
)
our_seconds = time.perf_counter() - started
pd.Series(rbm_history.reconstruction_error, index=pd.RangeIndex(1, rbm_epochs + 1, name="epoch"))

# %% [markdown]
# The reconstruction error falls epoch after epoch. Free energy shows what the RBM has learnt:
# test garments get a far lower free energy (a higher probability) than images with the same
# share of pixels on, but scattered at random.

# %%
errors = np.array(rbm_history.reconstruction_error)
noise = (np.random.default_rng(seed).random(v_test.shape) < v_test.mean()).astype(float)
f_test, f_noise = rbm.free_energy(model_rbm, v_test), rbm.free_energy(model_rbm, noise)
print(f"mean free energy: test garments {f_test.mean():.1f}, random pixels {f_noise.mean():.1f}")
assert errors[-1] < 0.75 * errors[0] and np.mean(np.diff(errors) < 0) >= 0.8
assert f_test.mean() < f_noise.mean() and np.mean(f_test < f_noise.min()) > 0.9

# %% caption="Left: reconstruction error per epoch of CD-1 training. Right: free energy of test garments and of random images with the same pixel density."
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(np.arange(1, rbm_epochs + 1), errors, "o-")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("reconstruction MSE (training batches)")
axes[1].hist(f_test, bins=60, alpha=0.6, label="test garments")
axes[1].hist(f_noise, bins=60, alpha=0.6, label="random pixels")
axes[1].set_xlabel("free energy F(v)")
axes[1].set_ylabel("images")
axes[1].legend()
plt.show()

# %% [markdown]
# ### Filters and fantasies
#
# Each hidden unit's weights $W_{:, j}$ form a 28×28 **filter**: the pattern of pixels that turns
# it on (light) or off (dark). And because an RBM is a probability model, it can *generate*: run
# Gibbs chains from random pixels for a thousand steps and look at $p(v \mid h)$ at the end, the
# RBM's "fantasies".

# %% caption="The first 24 learned filters (weights of one hidden unit each; light = positive)."
fig = plot_image_grid(model_rbm.weights.T[:24].reshape(-1, 28, 28), ncols=12)
plt.show()

# %% caption="Fantasy images: p(v | h) after 1,000 Gibbs steps from random pixels, 16 independent chains."
fantasies = rbm.sample(model_rbm, 16, n_steps=1000, seed=seed)
fig = plot_image_grid(fantasies.reshape(-1, 28, 28), ncols=8, vmin=0, vmax=1)
plt.show()

# %% [markdown]
# ### Against scikit-learn's `BernoulliRBM`
#
# scikit-learn ships a Bernoulli RBM. Train it on the same binary images with the same number of
# hidden units, epochs, batch size and learning rate. (It uses *persistent* CD: its Gibbs chains
# carry on from one batch to the next instead of restarting at the data.) Copy its parameters
# into an [`RBM`][dlguide.rbm.RBM] and score both models on the same test images: the
# reconstruction error, and the **pseudo-log-likelihood** $\sum_i \log p(v_i \mid v_{-i})$
# ([`pseudo_log_likelihood`][dlguide.rbm.pseudo_log_likelihood]; higher is better), which needs
# no partition function.

# %%
started = time.perf_counter()
sk_rbm = BernoulliRBM(
    n_components=n_hidden,
    learning_rate=rbm_lr,
    batch_size=rbm_batch,
    n_iter=rbm_epochs,
    random_state=seed,
).fit(v_train)
sk_seconds = time.perf_counter() - started
sk_model = rbm.RBM(sk_rbm.components_.T, sk_rbm.intercept_visible_, sk_rbm.intercept_hidden_)
rbm_table = pd.DataFrame(
    {
        "test reconstruction MSE": [
            rbm.reconstruction_error(m, v_test) for m in (model_rbm, sk_model)
        ],
        f"pseudo-log-likelihood (first {n_pll} test images)": [
            rbm.pseudo_log_likelihood(m, v_test[:n_pll]).mean() for m in (model_rbm, sk_model)
        ],
        "training time (s)": [our_seconds, sk_seconds],
    },
    index=["dlguide.rbm (CD-1)", "sklearn BernoulliRBM (PCD-1)"],
)
rbm_table.round(4)

# %% [markdown]
# The from-scratch RBM and scikit-learn's end up alike: reconstruction errors
# within 10% of each other and pseudo-log-likelihoods within 5%.

# %%
mse_ours, mse_sk = rbm_table.iloc[:, 0]
pll_ours, pll_sk = rbm_table.iloc[:, 1]
assert abs(mse_ours - mse_sk) / mse_sk < 0.10
assert abs(pll_ours - pll_sk) / abs(pll_sk) < 0.05

# %% [markdown]
# ### RBM features for a classifier
#
# The hidden probabilities $p(h = 1 \mid v)$ are features learnt without labels. Feed them to a
# logistic regression and compare with the same classifier on the 784 raw binary pixels:


# %%
def logistic_accuracy(features_train, features_test):
    classifier = LogisticRegression(C=0.1, max_iter=500)
    classifier.fit(features_train, y_rbm)
    return classifier.score(features_test, y_test), classifier


raw_accuracy, raw_classifier = logistic_accuracy(v_train, v_test)
ours_accuracy, _ = logistic_accuracy(
    rbm.hidden_probs(model_rbm, v_train), rbm.hidden_probs(model_rbm, v_test)
)
sk_accuracy, _ = logistic_accuracy(sk_rbm.transform(v_train), sk_rbm.transform(v_test))
accuracy_table = pd.DataFrame(
    {
        "features": [784, n_hidden, n_hidden],
        "test accuracy": [raw_accuracy, ours_accuracy, sk_accuracy],
    },
    index=["raw binary pixels", "dlguide.rbm hidden units", "BernoulliRBM hidden units"],
)
accuracy_table.round(4)

# %% [markdown]
# With `n_hidden` numbers per image instead of 784, the RBM features lose less than 8 points of
# accuracy against the raw pixels (if they lose any). An RBM was once the standard way to *pre-train* such features for
# deep networks; today autoencoders and plain supervised training have taken over that role.

# %%
assert raw_accuracy - min(ours_accuracy, sk_accuracy) < 0.08
assert min(raw_accuracy, ours_accuracy, sk_accuracy) > 0.65

# %% [markdown]
# ### Filling in missing values
#
# A model of $p(v)$ can fill in what is missing: clamp the observed pixels, and let Gibbs
# sampling resample only the missing ones. Averaged over many steps, $p(v_i = 1 \mid h)$
# estimates $p(v_i = 1 \mid v_\text{observed})$ ([`impute`][dlguide.rbm.impute]; missing entries
# are `NaN`, scikit-learn's convention). Hide 30% of the pixels of test images at random and
# compare with the usual baseline, imputing each pixel's training mean (`SimpleImputer`).

# %%
truth = v_test[:n_impute]
missing = np.random.default_rng(seed).random(truth.shape) < 0.3
with_gaps = np.where(missing, np.nan, truth)
mean_imputer = SimpleImputer(strategy="mean").fit(v_train)
imputed = {
    "mean imputation": mean_imputer.transform(with_gaps),
    "RBM, Gibbs sampling": rbm.impute(
        model_rbm, with_gaps, n_steps=100, burn_in=20, initial=v_train.mean(axis=0), seed=seed
    ),
}
imputation_table = pd.DataFrame(
    {
        "MSE on missing pixels": [
            np.mean((v[missing] - truth[missing]) ** 2) for v in imputed.values()
        ],
        "wrong pixels after rounding": [
            np.mean((v[missing] > 0.5) != truth[missing]) for v in imputed.values()
        ],
    },
    index=list(imputed),
)
imputation_table.round(4)

# %% [markdown]
# The RBM uses the pixels it can see, and its error is far below that of mean imputation, which
# ignores them.

# %%
rbm_row, mean_row = (
    imputation_table.loc["RBM, Gibbs sampling"],
    imputation_table.loc["mean imputation"],
)
assert (rbm_row < 0.8 * mean_row).all()

# %% caption="Test images, the same with 30% of the pixels missing (grey), and the RBM's imputation."
shown_gaps = np.where(missing[:8], 0.5, truth[:8])
fig = plot_image_grid(
    np.concatenate([truth[:8], shown_gaps, imputed["RBM, Gibbs sampling"][:8]]).reshape(-1, 28, 28),
    titles=[
        name if i == 0 else "" for name in ("original", "30% missing", "RBM") for i in range(8)
    ],
    ncols=8,
    vmin=0,
    vmax=1,
)
plt.show()

# %% [markdown]
# ## Summary
#
# - An autoencoder learns a code by reconstructing its input. With 16 numbers per image, the
#   dense autoencoder's test error is below PCA's.
# - A linear autoencoder trained with MSE finds PCA's subspace: all but the last two principal
#   angles between the two are below 3°, and its error matches PCA's.
# - Trained on corrupted inputs, an autoencoder removes Gaussian and masking noise, gaining
#   several dB of PSNR.
# - A 2-D code arranges the classes without seeing labels; a VAE's code follows its normal prior,
#   so a grid over it decodes into a smooth map of garments. The VAE loss has a reconstruction
#   and a KL term; the reparameterisation trick makes its sampling trainable.
# - Reconstruction error detects a class the autoencoder never saw.
# - An RBM is a probability model over binary images, trained by contrastive divergence. The
#   from-scratch version matches scikit-learn's, its hidden units are usable features, and Gibbs
#   sampling with clamped pixels imputes missing values far better than the mean.
#
# ## Exercises
#
# **Exercise 1.** Use PCA as the anomaly detector: fit it with `code_size` components on the nine
# normal classes, score the test images by their PCA reconstruction error, and compare the
# ROC-AUC with the autoencoder's.

# %% tags=["solution"]
pca_normal = PCA(n_components=code_size, random_state=seed).fit(x_train[normal])
pca_scores = np.mean(
    (pca_normal.inverse_transform(pca_normal.transform(x_test)) - x_test) ** 2, axis=1
)
pca_auc = roc_auc_score(is_anomaly, pca_scores)
print(f"ROC-AUC: PCA {pca_auc:.3f}, autoencoder {anomaly_auc:.3f}")
assert 0.5 < pca_auc < 1.0

# %% [markdown]
# **Exercise 2.** Is the denoiser better than the plain autoencoder of the first section on the
# same noisy test images? Compute the mean PSNR of both for each kind of noise.

# %% tags=["solution"]
for kind, noisy in noisy_test.items():
    plain = psnr(x_test, autoencoder.predict(noisy, batch_size=1000, verbose=0)).mean()
    trained = psnr(x_test, denoised_test[kind]).mean()
    print(f"{kind} noise: plain autoencoder {plain:.2f} dB, denoiser {trained:.2f} dB")
    assert trained > plain

# %% [markdown]
# **Exercise 3.** Imbalanced data: suppose you had only 200 images of sandals. Train a small RBM
# on them and generate new sandals by Gibbs sampling, as extra training examples for the rare
# class. Does the raw-pixel logistic regression of this chapter recognise the generated images as
# sandals?

# %% tags=["solution"]
sandal = FASHION_MNIST_CLASSES.index("Sandal")
few_sandals = v_train[y_rbm == sandal][:200]
sandal_rbm, _ = rbm.train_rbm(
    rbm.init_rbm(784, 32, seed=seed), few_sandals, epochs=50, batch_size=20, learning_rate=0.05
)
new_sandals = rbm.sample(sandal_rbm, 50, n_steps=500, seed=seed) > 0.5
share = np.mean(raw_classifier.predict(new_sandals.astype(float)) == sandal)
print(f"{share:.0%} of 50 generated images are classified as sandals")
assert share > 0.5

# %% [markdown]
# **Exercise 4.** Hide the bottom half of each test image instead of random pixels. Does the RBM
# still beat mean imputation? (Think about what the RBM can infer from the top half alone, and
# why a confident guess costs more squared error than a hedged one when it is wrong.)

# %% tags=["solution"]
bottom = np.zeros_like(missing)
bottom[:, 392:] = True
with_bottom_gap = np.where(bottom, np.nan, truth)
for name, filled in {
    "mean imputation": mean_imputer.transform(with_bottom_gap),
    "RBM": rbm.impute(
        model_rbm, with_bottom_gap, n_steps=100, burn_in=20, initial=v_train.mean(axis=0), seed=seed
    ),
}.items():
    half_mse = np.mean((filled[bottom] - truth[bottom]) ** 2)
    print(f"{name}: MSE on the hidden half {half_mse:.4f}")
    assert 0.0 < half_mse < 0.3
