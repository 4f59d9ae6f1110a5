"""Tests for dlguide.rbm: every quantity against exhaustive enumeration of a tiny RBM, a CD-1 step
computed by hand, scikit-learn's BernoulliRBM as a reference, and rejection of bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM

from dlguide import rbm as R


def random_rbm(n_visible: int, n_hidden: int, seed: int = 0, scale: float = 1.0) -> R.RBM:
    rng = np.random.default_rng(seed)
    return R.RBM(
        rng.normal(scale=scale, size=(n_visible, n_hidden)),
        rng.normal(scale=scale, size=n_visible),
        rng.normal(scale=scale, size=n_hidden),
    )


def all_states(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def energy_by_hand(rbm: R.RBM, v: np.ndarray, h: np.ndarray) -> float:
    """E(v, h) with explicit sums, one pair at a time."""
    e = -sum(rbm.visible_bias[i] * v[i] for i in range(len(v)))
    e -= sum(rbm.hidden_bias[j] * h[j] for j in range(len(h)))
    e -= sum(v[i] * rbm.weights[i, j] * h[j] for i in range(len(v)) for j in range(len(h)))
    return e


def joint_table(rbm: R.RBM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (v, h) pair and its unnormalised probability exp(-E), by enumeration."""
    vs, hs = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    weights = np.array([[math.exp(-energy_by_hand(rbm, v, h)) for h in hs] for v in vs])
    return vs, hs, weights  # weights[a, b] = exp(-E(vs[a], hs[b]))


# --- energies and conditionals against enumeration ------------------------------------------------
def test_energy_matches_explicit_sums() -> None:
    rbm = random_rbm(5, 3, seed=1)
    vs, hs = all_states(5), all_states(3)
    pairs = [(v, h) for v in vs for h in hs]
    v = np.array([p[0] for p in pairs])
    h = np.array([p[1] for p in pairs])
    expected = [energy_by_hand(rbm, a, b) for a, b in pairs]
    np.testing.assert_allclose(R.energy(rbm, v, h), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(5, 3), (4, 6), (7, 2)])
def test_free_energy_and_conditionals_match_enumeration(n_visible: int, n_hidden: int) -> None:
    rbm = random_rbm(n_visible, n_hidden, seed=n_visible + n_hidden)
    vs, hs, w = joint_table(rbm)
    # F(v) = -log sum_h exp(-E(v, h))
    np.testing.assert_allclose(R.free_energy(rbm, vs), -np.log(w.sum(axis=1)), rtol=1e-10)
    # p(h_j = 1 | v) = sum_h h_j exp(-E) / sum_h exp(-E)
    np.testing.assert_allclose(R.hidden_probs(rbm, vs), (w @ hs) / w.sum(1, keepdims=True))
    # p(v_i = 1 | h) likewise, summing over v
    np.testing.assert_allclose(R.visible_probs(rbm, hs), (w.T @ vs) / w.sum(0)[:, None])


@pytest.mark.parametrize(
    ("n_visible", "n_hidden"), [(10, 6), (6, 6), (3, 9), (1, 1)], ids=["10x6", "6x6", "3x9", "1x1"]
)
def test_log_partition_is_exact(n_visible: int, n_hidden: int) -> None:
    rbm = random_rbm(n_visible, n_hidden, seed=3, scale=0.5)
    vs, hs = all_states(n_visible), all_states(n_hidden)
    energies = -(vs @ rbm.visible_bias)[:, None] - (hs @ rbm.hidden_bias)[None, :]
    energies -= vs @ rbm.weights @ hs.T  # every (v, h) pair at once, 2^(V+H) terms
    log_z = np.log(np.exp(-energies).sum())
    assert R.log_partition(rbm) == pytest.approx(log_z, rel=1e-12)


def test_log_likelihood_is_a_distribution() -> None:
    rbm = random_rbm(8, 4, seed=5)
    assert np.exp(R.log_likelihood(rbm, all_states(8))).sum() == pytest.approx(1.0, rel=1e-12)


def test_pseudo_log_likelihood_matches_conditionals_by_enumeration() -> None:
    rbm = random_rbm(6, 4, seed=6)
    vs = all_states(6)
    log_p = R.log_likelihood(rbm, vs)
    index = {tuple(v): a for a, v in enumerate(vs)}
    expected = []
    for v in vs:
        total = 0.0
        for i in range(6):
            flipped = v.copy()
            flipped[i] = 1 - flipped[i]
            p_v, p_f = np.exp(log_p[index[tuple(v)]]), np.exp(log_p[index[tuple(flipped)]])
            total += math.log(p_v / (p_v + p_f))  # log p(v_i | v_-i)
        expected.append(total)
    np.testing.assert_allclose(R.pseudo_log_likelihood(rbm, vs), expected, rtol=1e-10)
    # chunking changes nothing
    np.testing.assert_allclose(R.pseudo_log_likelihood(rbm, vs, chunk_size=1), expected, rtol=1e-10)


def test_matches_scikit_learn_bernoulli_rbm() -> None:
    """Copy a fitted BernoulliRBM's parameters; its transform, free energy and stochastic
    pseudo-likelihood must agree with ours."""
    rng = np.random.default_rng(0)
    x = (rng.random((60, 12)) < 0.3).astype(float)
    skl = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(x)
    rbm = R.RBM(skl.components_.T, skl.intercept_visible_, skl.intercept_hidden_)
    np.testing.assert_allclose(R.hidden_probs(rbm, x), skl.transform(x), rtol=1e-10)
    np.testing.assert_allclose(R.free_energy(rbm, x), skl._free_energy(x), rtol=1e-10)
    # sklearn flips one random unit per row and multiplies by V: each score is V times one of the
    # terms log p(v_i | v_-i) that our exact sum adds up
    scores = skl.score_samples(x)
    for row, score in zip(x, scores, strict=True):
        terms = []
        for i in range(12):
            flipped = row.copy()
            flipped[i] = 1 - flipped[i]
            f = R.free_energy(rbm, np.stack([row, flipped]))
            terms.append(12 * -np.logaddexp(0, -(f[1] - f[0])))
        assert np.min(np.abs(np.array(terms) - score)) < 1e-9
        assert R.pseudo_log_likelihood(rbm, row[None])[0] == pytest.approx(sum(terms) / 12)


# --- contrastive divergence ----------------------------------------------------------------------
class FixedUniforms:
    """A stand-in for np.random.Generator whose random(shape) returns given arrays in order."""

    def __init__(self, *arrays: list[list[float]]) -> None:
        self.arrays = [np.array(a, dtype=float) for a in arrays]

    def random(self, shape: tuple[int, ...]) -> np.ndarray:
        out = self.arrays.pop(0)
        assert out.shape == tuple(shape)
        return out


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_cd1_step_matches_hand_computation() -> None:
    # V = 2, H = 1, W = [[1], [-1]], zero biases, one data vector v0 = (1, 0).
    rbm = R.RBM(np.array([[1.0], [-1.0]]), np.zeros(2), np.zeros(1))
    # q0 = sigma(1) = 0.731 > u = 0.5, so h0 = 1; p(v | h0) = (sigma(1), sigma(-1)) = (0.731, 0.269)
    # and u = (0.9, 0.1) gives v1 = (0, 1); then q1 = sigma(-1).
    rng = FixedUniforms([[0.5]], [[0.9, 0.1]])
    new = R.cd_step(rbm, [[1.0, 0.0]], learning_rate=0.1, k=1, rng=rng)  # type: ignore[arg-type]
    q0, q1 = sigmoid(1.0), sigmoid(-1.0)
    # dW = v0 q0 - v1 q1 = [[1 * q0 - 0 * q1], [0 * q0 - 1 * q1]]
    np.testing.assert_allclose(new.weights, [[1.0 + 0.1 * q0], [-1.0 - 0.1 * q1]], rtol=1e-12)
    np.testing.assert_allclose(new.visible_bias, [0.1 * (1 - 0), 0.1 * (0 - 1)], rtol=1e-12)
    np.testing.assert_allclose(new.hidden_bias, [0.1 * (q0 - q1)], rtol=1e-12)
    assert rbm.weights[0, 0] == 1.0  # the old model is untouched


@pytest.mark.parametrize("k", [1, 3])
def test_cd_k_gradients_replay_the_gibbs_chain(k: int) -> None:
    rbm = random_rbm(7, 4, seed=2)
    v0 = (np.random.default_rng(1).random((5, 7)) < 0.5).astype(float)
    grad = R.cd_gradients(rbm, v0, k, np.random.default_rng(42))
    replay = np.random.default_rng(42)

    def sig(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    v = v0
    for _ in range(k):
        h = (replay.random((5, 4)) < sig(v @ rbm.weights + rbm.hidden_bias)).astype(float)
        v = (replay.random((5, 7)) < sig(h @ rbm.weights.T + rbm.visible_bias)).astype(float)
    q0, qk = sig(v0 @ rbm.weights + rbm.hidden_bias), sig(v @ rbm.weights + rbm.hidden_bias)
    np.testing.assert_allclose(grad.weights, (v0.T @ q0 - v.T @ qk) / 5, rtol=1e-10)
    np.testing.assert_allclose(grad.visible_bias, (v0 - v).mean(0), rtol=1e-10)
    np.testing.assert_allclose(grad.hidden_bias, (q0 - qk).mean(0), rtol=1e-10)


def tiny_data(n: int = 200, seed: int = 0) -> np.ndarray:
    """Noisy copies of three 8-bit prototypes: a distribution a 4-unit RBM can learn."""
    rng = np.random.default_rng(seed)
    prototypes = np.array(
        [[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0, 1, 0]], dtype=float
    )
    x = prototypes[rng.integers(0, 3, size=n)]
    flip = rng.random(x.shape) < 0.05
    return np.where(flip, 1 - x, x)


def test_training_increases_the_exact_log_likelihood() -> None:
    data = tiny_data()
    rbm = R.init_rbm(8, 4, scale=0.1, seed=0)
    curve = [R.log_likelihood(rbm, data).mean()]
    for epoch in range(15):
        rbm, _ = R.train_rbm(rbm, data, epochs=2, batch_size=10, learning_rate=0.1, seed=epoch)
        curve.append(R.log_likelihood(rbm, data).mean())
    assert curve[0] == pytest.approx(-8 * math.log(2), abs=0.1)  # near uniform at the start
    assert curve[-1] > curve[0] + 2.0  # nats per vector gained
    assert np.mean(np.diff(curve) > 0) >= 0.8  # it climbs in (nearly) every stretch


def test_train_rbm_is_reproducible_and_records_reconstruction_error() -> None:
    data = tiny_data()
    start = R.init_rbm(8, 4, seed=1)
    a, history = R.train_rbm(start, data, epochs=20, batch_size=20, learning_rate=0.2, seed=3)
    b, _ = R.train_rbm(start, data, epochs=20, batch_size=20, learning_rate=0.2, seed=3)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert len(history.reconstruction_error) == 20
    assert history.reconstruction_error[-1] < 0.5 * history.reconstruction_error[0]
    assert R.reconstruction_error(a, data) < R.reconstruction_error(start, data)


# --- sampling and imputation against exact distributions -----------------------------------------
def test_gibbs_chains_reach_the_model_distribution() -> None:
    rbm = random_rbm(5, 3, seed=4)
    vs = all_states(5)
    p = np.exp(R.log_likelihood(rbm, vs))
    expected_mean = p @ vs  # E[v_i] under the model
    fantasies = R.sample(rbm, 4000, n_steps=100, seed=0)
    np.testing.assert_allclose(fantasies.mean(axis=0), expected_mean, atol=0.03)


def test_impute_estimates_the_exact_conditional() -> None:
    rbm = random_rbm(6, 3, seed=7)
    vs = all_states(6)
    p = np.exp(R.log_likelihood(rbm, vs))
    observed = {0: 1.0, 2: 0.0, 3: 1.0}  # units 1, 4, 5 are missing
    keep = np.all([vs[:, i] == value for i, value in observed.items()], axis=0)
    exact = (p[keep] @ vs[keep]) / p[keep].sum()  # E[v | observed units]
    v = np.full((1, 6), np.nan)
    for i, value in observed.items():
        v[0, i] = value
    filled = R.impute(rbm, np.repeat(v, 500, axis=0), n_steps=150, burn_in=20, seed=1)
    np.testing.assert_array_equal(filled[:, [0, 2, 3]], np.tile([1.0, 0.0, 1.0], (500, 1)))
    np.testing.assert_allclose(filled.mean(axis=0), exact, atol=0.02)


# --- bad input -----------------------------------------------------------------------------------
RBM_4x3 = R.init_rbm(4, 3)
OK = np.array([[0, 1, 1, 0], [1, 0, 0, 1]], dtype=float)
RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, OK * 0.5, epochs=1), ValueError, "binary", id="grey-data"
        ),
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, OK * 255, epochs=1), ValueError, "binary", id="0-255-data"
        ),
        pytest.param(
            lambda: R.cd_step(RBM_4x3, [[0, 2, 1, 0]], learning_rate=0.1, rng=RNG),
            ValueError,
            "binary",
            id="cd-step-non-binary",
        ),
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, OK[:, :3], epochs=1),
            ValueError,
            "4 columns",
            id="train-wrong-width",
        ),
        pytest.param(
            lambda: R.visible_probs(RBM_4x3, OK), ValueError, "3 columns", id="h-wrong-width"
        ),
        pytest.param(
            lambda: R.free_energy(RBM_4x3, [0, 1, 1, 0]), ValueError, "2 dimension", id="1-d-v"
        ),
        pytest.param(
            lambda: R.hidden_probs(RBM_4x3, [[0, np.nan, 1, 0]]),
            ValueError,
            "finite",
            id="nan-v",
        ),
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, [[0, np.nan, 1, 0]], epochs=1),
            ValueError,
            "finite",
            id="nan-data",
        ),
        pytest.param(
            lambda: R.hidden_probs(RBM_4x3, [[0, 1.5, 1, 0]]), ValueError, r"\[0, 1\]", id="v>1"
        ),
        pytest.param(
            lambda: R.cd_gradients(RBM_4x3, OK, 0, RNG), ValueError, "k must be at least 1", id="k0"
        ),
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, OK, epochs=1, k=-2),
            ValueError,
            "k must be at least 1",
            id="k-negative",
        ),
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, OK, epochs=1, k=1.0),
            TypeError,
            "k must be an int",
            id="k-float",
        ),
        pytest.param(
            lambda: R.train_rbm(RBM_4x3, OK, epochs=0), ValueError, "epochs", id="zero-epochs"
        ),
        pytest.param(
            lambda: R.cd_step(RBM_4x3, OK, learning_rate=0.0, rng=RNG),
            ValueError,
            "learning_rate must be > 0",
            id="zero-learning-rate",
        ),
        pytest.param(
            lambda: R.energy(RBM_4x3, OK, [[0, 1, 0]]), ValueError, "same number of rows", id="rows"
        ),
        pytest.param(
            lambda: R.free_energy("rbm", OK), TypeError, "must be an RBM", id="not-an-rbm"
        ),
        pytest.param(lambda: R.init_rbm(0, 3), ValueError, "n_visible", id="no-visible-units"),
        pytest.param(
            lambda: R.log_partition(R.init_rbm(30, 21)),
            ValueError,
            "at most 20",
            id="too-big-for-Z",
        ),
        pytest.param(
            lambda: R.impute(RBM_4x3, [[0.5, np.nan, 1, 0]]),
            ValueError,
            "binary",
            id="impute-grey-observed",
        ),
        pytest.param(
            lambda: R.impute(RBM_4x3, [[0, np.nan, 1, 0]], n_steps=10, burn_in=10),
            ValueError,
            "n_steps must be at least 11",
            id="impute-burn-in-too-long",
        ),
        pytest.param(
            lambda: R.impute(RBM_4x3, [[0, np.inf, 1, 0]]),
            ValueError,
            "finite",
            id="impute-inf",
        ),
        pytest.param(
            lambda: R.sample(RBM_4x3, 2, start=[[0, 1, 1]]), ValueError, "4 columns", id="start"
        ),
    ],
)
def test_bad_input_is_rejected(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()
