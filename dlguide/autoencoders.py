r"""Autoencoder pieces: PSNR, the reparameterisation trick and a variational autoencoder for Keras.

An **autoencoder** learns an encoder $z = f(x)$ and a decoder $\hat x = g(z)$ that reconstructs its
input through a small code $z$. Its quality is the reconstruction error; for images in $[0, 1]$,
[`psnr`][dlguide.autoencoders.psnr] turns a mean squared error into decibels.

A **variational autoencoder** (VAE) makes the code random. The encoder outputs the mean $\mu(x)$
and the log-variance $\log \sigma^2(x)$ of a Gaussian
$q(z \mid x) = \mathcal N(\mu, \operatorname{diag} \sigma^2)$; the decoder reads a sample of it.
Training maximises the evidence lower bound (ELBO),

$$ \log p(x) \ge \mathbb E_{q(z \mid x)}\big[\log p(x \mid z)\big]
   - \operatorname{KL}\big(q(z \mid x) \,\|\, \mathcal N(0, I)\big), $$

that is, it minimises a **reconstruction** term plus a **KL** term that pulls every $q(z \mid x)$
towards the standard normal prior. [`Sampling`][dlguide.autoencoders.Sampling] draws
$z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$ (the
reparameterisation trick: the randomness sits in $\varepsilon$, so gradients flow to $\mu$ and
$\sigma$), [`kl_divergence`][dlguide.autoencoders.kl_divergence] is the KL term in closed form,
and [`VAE`][dlguide.autoencoders.VAE] puts an encoder and a decoder together and trains on both
terms with a plain `fit`, under any Keras backend.

Examples:
    >>> import numpy as np
    >>> from dlguide.autoencoders import kl_divergence, psnr
    >>> kl_divergence(np.zeros((1, 2)), np.zeros((1, 2)))  # q equals the prior
    array([0.])
    >>> psnr(np.zeros((1, 4)), np.full((1, 4), 0.1)).round(2)  # MSE 0.01 -> 20 dB
    array([20.])
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array, check_real

__all__ = ["VAE", "Sampling", "kl_divergence", "psnr"]


def psnr(x: ArrayLike, x_hat: ArrayLike, *, max_value: float = 1.0) -> NDArray[np.float64]:
    r"""Peak signal-to-noise ratio of each image, in decibels.

    $$ \operatorname{PSNR}(x, \hat x) = 10 \log_{10} \frac{m^2}{\operatorname{MSE}(x, \hat x)}, $$

    with $m$ the largest possible pixel value (`max_value`) and the MSE taken over all pixels of
    one image. Each halving of the error adds about 3 dB; identical images give $+\infty$. This is
    `tf.image.psnr` for images in any layout.

    Args:
        x: Reference images, shape `(n, ...)`: the first axis counts images.
        x_hat: Images to compare with them, the same shape.
        max_value: $m$, e.g. 1.0 for images scaled to $[0, 1]$ or 255 for bytes.

    Returns:
        The PSNR of each image, shape `(n,)`.

    Raises:
        ValueError: If the shapes differ, there is no pixel axis, a value is not finite, or
            `max_value` is not positive.

    Examples:
        >>> x = np.zeros((2, 2, 2))
        >>> psnr(x, x + np.array([0.1, 0.01])[:, None, None]).round(1)
        array([20., 40.])
    """
    a = as_finite_array(x, "x")
    b = as_finite_array(x_hat, "x_hat")
    if a.shape != b.shape:
        raise ValueError(f"x and x_hat must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim < 2:
        raise ValueError(f"x must have shape (n, ...) with at least one pixel axis, got {a.shape}")
    m = check_real(max_value, "max_value", positive=True)
    mse = np.mean((a - b).reshape(len(a), -1) ** 2, axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(m**2 / mse)


def kl_divergence(z_mean: Any, z_log_var: Any) -> Any:
    r"""KL divergence of $\mathcal N(\mu, \operatorname{diag} \sigma^2)$ from $\mathcal N(0, I)$.

    Per sample, in closed form:

    $$ \operatorname{KL} = \frac12 \sum_{d=1}^{D}
       \big(\mu_d^2 + \sigma_d^2 - \log \sigma_d^2 - 1\big), $$

    zero exactly when $\mu = 0$ and $\sigma = 1$. It takes $\log \sigma^2$, which the encoder
    outputs, rather than $\sigma$, so no positivity constraint is needed. Written with
    `keras.ops`, so it works on NumPy arrays and inside a model under any backend.

    Args:
        z_mean: $\mu$, shape `(n, D)`.
        z_log_var: $\log \sigma^2$, shape `(n, D)`.

    Returns:
        The KL divergence of each sample in nats, shape `(n,)` (a NumPy array for NumPy input, a
        backend tensor otherwise).

    Raises:
        ValueError: If the two shapes differ.

    Examples:
        >>> kl_divergence(np.array([[1.0, 0.0]]), np.array([[0.0, np.log(4.0)]])).round(4)
        array([1.3069])
    """
    if not hasattr(z_mean, "shape"):
        z_mean = np.asarray(z_mean, dtype=np.float64)
    if not hasattr(z_log_var, "shape"):
        z_log_var = np.asarray(z_log_var, dtype=np.float64)
    if tuple(z_mean.shape) != tuple(z_log_var.shape):
        raise ValueError(
            f"z_mean and z_log_var must have the same shape, got {tuple(z_mean.shape)} and "
            f"{tuple(z_log_var.shape)}"
        )
    xp: Any = np if isinstance(z_mean, np.ndarray) and isinstance(z_log_var, np.ndarray) else ops
    return 0.5 * xp.sum(xp.square(z_mean) + xp.exp(z_log_var) - z_log_var - 1.0, axis=-1)


class Sampling(keras.layers.Layer):
    r"""The reparameterisation trick: $z = \mu + \sigma \odot \varepsilon$.

    Called on `[z_mean, z_log_var]`, it returns one sample $z$ of
    $\mathcal N(\mu, \operatorname{diag} \sigma^2)$ per row: $\varepsilon \sim \mathcal N(0, I)$ and
    $\sigma = \exp(\tfrac12 \log \sigma^2)$. $z$ is a differentiable function of $\mu$ and
    $\log \sigma^2$ ($\partial z / \partial \mu = 1$), so gradient descent can train the encoder
    through the sampling step. Every call draws fresh noise, in training and in inference alike.

    Args:
        seed: Seed of the noise (a `keras.random.SeedGenerator` is built from it).
        **kwargs: Passed on to `keras.layers.Layer` (e.g. `name`).

    Examples:
        >>> sampling = Sampling(seed=0)
        >>> z = sampling([np.full((10_000, 1), 3.0), np.full((10_000, 1), np.log(0.25))])
        >>> z = keras.ops.convert_to_numpy(z)
        >>> round(float(z.mean()), 1), round(float(z.std()), 1)  # mean 3, standard deviation 0.5
        (3.0, 0.5)
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any) -> Any:
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


class VAE(keras.Model):
    r"""A variational autoencoder: encoder, [`Sampling`][dlguide.autoencoders.Sampling], decoder.

    `fit(x, x)` minimises the negative ELBO per image,

    $$ \mathcal L = \underbrace{-\sum_{i} \big[x_i \log \hat x_i
       + (1 - x_i) \log (1 - \hat x_i)\big]}_{\text{reconstruction}}
       + \beta \, \underbrace{\operatorname{KL}\big(q(z \mid x) \,\|\,
       \mathcal N(0, I)\big)}_{\text{KL}}, $$

    averaged over the batch: the binary cross-entropy summed over the pixels (the negative
    log-likelihood of a Bernoulli decoder) and [`kl_divergence`][dlguide.autoencoders.kl_divergence]
    with weight $\beta$ (`kl_weight`; $\beta = 1$ is the ELBO). The target `y` is what the decoder
    should reproduce: `x` itself, or the clean images when `x` is noisy. The history records the
    two terms (`reconstruction_loss`, `kl_loss`) and their sum (`loss`) per epoch, and with
    `validation_data` the same on the validation set (`val_...`).

    Called on a batch, the model returns a dict with the `reconstruction` $\hat x$ (decoded from
    one sample $z$), `z_mean` and `z_log_var`. Use `vae.encoder` and `vae.decoder` on their own to
    encode and to generate.

    Args:
        encoder: A Keras model from images to `[z_mean, z_log_var]`, each of shape `(n, D)`.
        decoder: A Keras model from codes `(n, D)` to images in $(0, 1)$ (a sigmoid output),
            shaped like the encoder's input.
        kl_weight: $\beta \ge 0$.
        seed: Seed of the sampling noise.
        **kwargs: Passed on to `keras.Model` (e.g. `name`).

    Examples:
        >>> inputs = keras.Input((4,))
        >>> z_mean, z_log_var = keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)
        >>> encoder = keras.Model(inputs, [z_mean, z_log_var])
        >>> decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, "sigmoid")])
        >>> vae = VAE(encoder, decoder, seed=0)
        >>> vae.compile(optimizer="adam")
        >>> x = np.random.default_rng(0).random((32, 4)).astype("float32")
        >>> history = vae.fit(x, x, epochs=2, verbose=0)
        >>> sorted(history.history)
        ['kl_loss', 'loss', 'reconstruction_loss']
    """

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        *,
        kl_weight: float = 1.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, keras.Model):
                raise TypeError(f"{name} must be a keras.Model, got {type(part).__name__}")
        if isinstance(kl_weight, bool) or check_real(kl_weight, "kl_weight") < 0:
            raise ValueError(f"kl_weight must be a number >= 0, got {kl_weight}")
        self.encoder = encoder
        self.decoder = decoder
        self.kl_weight = float(kl_weight)
        self.sampling = Sampling(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.total_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs: Any, training: bool | None = None) -> dict[str, Any]:
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var])
        reconstruction = self.decoder(z, training=training)
        return {"reconstruction": reconstruction, "z_mean": z_mean, "z_log_var": z_log_var}

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        target = x if y is None else y
        per_pixel = keras.losses.binary_crossentropy(
            ops.expand_dims(target, -1), ops.expand_dims(y_pred["reconstruction"], -1)
        )  # (n, ...): one value per pixel
        reconstruction = ops.mean(ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), 1))
        kl = ops.mean(kl_divergence(y_pred["z_mean"], y_pred["z_log_var"]))
        total = reconstruction + self.kl_weight * kl
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.total_tracker.update_state(total)
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return self.get_metrics_result()

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.total_tracker, self.reconstruction_tracker, self.kl_tracker]
