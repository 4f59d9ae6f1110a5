"""Tests for dlguide.autoencoders: the KL term against Monte Carlo and numerical integration, its
gradients and the reparameterisation trick against tf.GradientTape, PSNR against tf.image.psnr,
the VAE's logged loss terms against a hand computation, and rejection of bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

from dlguide.autoencoders import VAE, Sampling, kl_divergence, psnr


# --- KL divergence -------------------------------------------------------------------------------
def test_kl_divergence_is_zero_only_at_the_prior() -> None:
    assert kl_divergence(np.zeros((3, 4)), np.zeros((3, 4))).tolist() == [0.0, 0.0, 0.0]
    assert np.all(kl_divergence(np.full((1, 2), 0.1), np.zeros((1, 2))) > 0)
    assert np.all(kl_divergence(np.zeros((1, 2)), np.full((1, 2), -0.1)) > 0)


@pytest.mark.parametrize(("mu", "log_var"), [(0.0, 0.0), (1.5, -1.0), (-2.0, 0.7), (0.3, -3.0)])
def test_kl_divergence_matches_numerical_integration(mu: float, log_var: float) -> None:
    q = stats.norm(mu, np.exp(0.5 * log_var))
    p = stats.norm(0.0, 1.0)
    exact, _ = integrate.quad(lambda z: q.pdf(z) * (q.logpdf(z) - p.logpdf(z)), -30, 30)
    assert kl_divergence(np.array([[mu]]), np.array([[log_var]]))[0] == pytest.approx(
        exact, abs=1e-8
    )


def test_kl_divergence_matches_monte_carlo_in_several_dimensions() -> None:
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=3), rng.normal(scale=0.5, size=3)
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.normal(size=(400_000, 3))
    log_q = stats.norm(mu, sigma).logpdf(z).sum(axis=1)
    log_p = stats.norm(0, 1).logpdf(z).sum(axis=1)
    estimate = np.mean(log_q - log_p)
    assert kl_divergence(mu[None], log_var[None])[0] == pytest.approx(estimate, abs=0.01)


@pytest.mark.tensorflow_reference
def test_kl_divergence_on_tensors_and_its_gradients() -> None:
    mu = tf.constant([[0.5, -1.0], [2.0, 0.0]], dtype=tf.float64)
    log_var = tf.constant([[0.0, -0.5], [1.0, 0.3]], dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([mu, log_var])
        kl = kl_divergence(mu, log_var)
        total = tf.reduce_sum(kl)
    d_mu, d_log_var = tape.gradient(total, [mu, log_var])
    np.testing.assert_allclose(kl.numpy(), kl_divergence(mu.numpy(), log_var.numpy()))
    np.testing.assert_allclose(d_mu.numpy(), mu.numpy())  # d/d mu of mu^2 / 2
    np.testing.assert_allclose(d_log_var.numpy(), 0.5 * (np.exp(log_var.numpy()) - 1))


# --- the reparameterisation trick ----------------------------------------------------------------
def test_sampling_draws_from_the_right_gaussian() -> None:
    mu = np.tile(np.array([[-1.0, 2.0]], dtype="float32"), (50_000, 1))
    log_var = np.tile(np.log(np.array([[0.25, 4.0]], dtype="float32")), (50_000, 1))
    z = keras.ops.convert_to_numpy(Sampling(seed=1)([mu, log_var]))
    np.testing.assert_allclose(z.mean(axis=0), [-1.0, 2.0], atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), [0.5, 2.0], rtol=0.02)


@pytest.mark.tensorflow_reference
def test_gradients_flow_through_the_sample() -> None:
    mu = tf.Variable([[0.5, -1.0, 0.0]])
    log_var = tf.Variable([[0.0, 1.0, -2.0]])
    layer = Sampling(seed=3)
    with tf.GradientTape(persistent=True) as tape:
        z = layer([mu, log_var])
        total = tf.reduce_sum(z)
    epsilon = (z - mu) / tf.exp(0.5 * log_var)  # the noise this call drew
    np.testing.assert_allclose(tape.gradient(total, mu).numpy(), np.ones((1, 3)))
    np.testing.assert_allclose(
        tape.gradient(total, log_var).numpy(),
        (0.5 * tf.exp(0.5 * log_var) * epsilon).numpy(),
        rtol=1e-5,
    )


def test_sampling_is_seeded() -> None:
    x = [np.zeros((4, 2), "float32"), np.zeros((4, 2), "float32")]
    a = keras.ops.convert_to_numpy(Sampling(seed=7)(x))
    b = keras.ops.convert_to_numpy(Sampling(seed=7)(x))
    np.testing.assert_array_equal(a, b)
    assert Sampling(seed=7).get_config()["seed"] == 7


# --- PSNR ----------------------------------------------------------------------------------------
def test_psnr_matches_tensorflow() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((6, 28, 28, 1))
    noisy = np.clip(
        x + rng.normal(scale=np.linspace(0.01, 0.5, 6)[:, None, None, None], size=x.shape), 0, 1
    )
    expected = tf.image.psnr(x, noisy, max_val=1.0).numpy()
    np.testing.assert_allclose(psnr(x, noisy), expected, rtol=1e-6)
    np.testing.assert_allclose(psnr(255 * x, 255 * noisy, max_value=255), expected, rtol=1e-6)


def test_psnr_of_identical_images_is_infinite() -> None:
    assert psnr(np.ones((1, 3)), np.ones((1, 3)))[0] == np.inf


# --- the VAE -------------------------------------------------------------------------------------
def make_vae(kl_weight: float = 1.0) -> VAE:
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    encoder = keras.Model(inputs, [keras.layers.Dense(2)(hidden), keras.layers.Dense(2)(hidden)])
    decoder = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, "relu"), keras.layers.Dense(6, "sigmoid")]
    )
    return VAE(encoder, decoder, kl_weight=kl_weight, seed=0)


def test_vae_logs_its_two_terms_exactly() -> None:
    keras.utils.set_random_seed(0)
    vae = make_vae(kl_weight=0.5)
    vae.compile(optimizer="adam")
    # make the decoder ignore z, so the reconstruction term does not depend on the noise
    last = vae.decoder.layers[-1]
    last.set_weights([np.zeros_like(last.kernel), np.linspace(-1, 1, 6).astype("float32")])
    x = np.random.default_rng(1).random((40, 6)).astype("float32")
    scores = vae.evaluate(x, x, batch_size=40, verbose=0, return_dict=True)

    z_mean, z_log_var = (keras.ops.convert_to_numpy(t) for t in vae.encoder(x))
    kl = kl_divergence(z_mean.astype(float), z_log_var.astype(float)).mean()
    p = 1 / (1 + np.exp(-np.linspace(-1, 1, 6)))
    reconstruction = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1).mean()
    assert scores["kl_loss"] == pytest.approx(kl, rel=1e-4)
    assert scores["reconstruction_loss"] == pytest.approx(reconstruction, rel=1e-4)
    assert scores["loss"] == pytest.approx(reconstruction + 0.5 * kl, rel=1e-4)


def test_vae_trains_and_records_both_terms() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = np.repeat(np.eye(6, dtype="float32")[:3], 50, axis=0)  # three one-hot patterns
    x = np.clip(x + 0.05 * rng.random(x.shape, dtype="float32"), 0, 1)
    vae = make_vae()
    vae.compile(optimizer=keras.optimizers.Adam(0.01))
    history = vae.fit(x, x, validation_data=(x, x), epochs=30, batch_size=30, verbose=0).history
    assert set(history) == {
        "loss",
        "reconstruction_loss",
        "kl_loss",
        "val_loss",
        "val_reconstruction_loss",
        "val_kl_loss",
    }
    np.testing.assert_allclose(
        history["loss"], np.add(history["reconstruction_loss"], history["kl_loss"]), rtol=1e-5
    )
    assert history["reconstruction_loss"][-1] < 0.7 * history["reconstruction_loss"][0]
    out = vae(x[:4])
    assert tuple(out["reconstruction"].shape) == (4, 6) and tuple(out["z_mean"].shape) == (4, 2)


# --- bad input -----------------------------------------------------------------------------------
DECODER = keras.Sequential([keras.Input((2,)), keras.layers.Dense(6, "sigmoid")])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: psnr(np.zeros((2, 3)), np.zeros((2, 4))), ValueError, "same shape", id="shapes"
        ),
        pytest.param(lambda: psnr(np.zeros(3), np.zeros(3)), ValueError, "pixel axis", id="1-d"),
        pytest.param(
            lambda: psnr(np.zeros((1, 2)), np.array([[0.0, np.nan]])),
            ValueError,
            "finite",
            id="nan",
        ),
        pytest.param(
            lambda: psnr(np.zeros((1, 2)), np.zeros((1, 2)), max_value=0),
            ValueError,
            "max_value must be > 0",
            id="max-value",
        ),
        pytest.param(
            lambda: kl_divergence(np.zeros((2, 3)), np.zeros((2, 2))),
            ValueError,
            "same shape",
            id="kl-shapes",
        ),
        pytest.param(
            lambda: VAE("encoder", DECODER), TypeError, "encoder must be a keras.Model", id="enc"
        ),
        pytest.param(
            lambda: VAE(DECODER, DECODER, kl_weight=-1.0), ValueError, "kl_weight", id="negative-kl"
        ),
    ],
)
def test_bad_input_is_rejected(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()
