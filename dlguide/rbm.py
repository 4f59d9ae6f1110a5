r"""A Bernoulli restricted Boltzmann machine in NumPy, trained by contrastive divergence.

An RBM has $V$ binary visible units $v \in \{0, 1\}^V$ (the pixels), $H$ binary hidden units
$h \in \{0, 1\}^H$ (the features), a weight matrix $W$ of shape `(V, H)` and biases $b$ (visible,
shape `(V,)`) and $c$ (hidden, shape `(H,)`). It assigns every joint state an energy and a
probability,

$$ E(v, h) = -b^\top v - c^\top h - v^\top W h, \qquad
   p(v, h) = \frac{e^{-E(v, h)}}{Z}, \qquad Z = \sum_{v, h} e^{-E(v, h)}. $$

There are no connections inside a layer ("restricted"), so given one layer the units of the other
are independent, and each is a logistic unit:

$$ p(h_j = 1 \mid v) = \sigma\big(c_j + (v^\top W)_j\big), \qquad
   p(v_i = 1 \mid h) = \sigma\big(b_i + (W h)_i\big). $$

Summing $h$ out gives the **free energy** $F(v)$, with $p(v) = e^{-F(v)} / Z$:

$$ F(v) = -b^\top v - \sum_{j=1}^{H} \operatorname{softplus}\big(c_j + (v^\top W)_j\big). $$

The gradient of the log-likelihood is a difference of two correlations, one under the data and one
under the model, $\partial \log p(v) / \partial W = \langle v h^\top \rangle_\text{data} -
\langle v h^\top \rangle_\text{model}$. The model term needs samples from $p(v, h)$; **contrastive
divergence** (CD-$k$) takes them from a Gibbs chain started at the data and run for only $k$ steps.

A batch of $n$ visible vectors is a matrix of shape `(n, V)`, one vector per row. Functions that
draw random numbers take a `numpy.random.Generator` and call only its `random(shape)` method.

Examples:
    >>> import numpy as np
    >>> from dlguide.rbm import init_rbm, train_rbm, log_likelihood
    >>> data = np.array([[1, 1, 0, 0], [0, 0, 1, 1]] * 8)
    >>> rbm = init_rbm(4, 2, seed=0)
    >>> trained, history = train_rbm(rbm, data, epochs=200, batch_size=4, learning_rate=0.5)
    >>> bool(log_likelihood(trained, data).mean() > log_likelihood(rbm, data).mean())
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_finite_array, check_int, check_real
from .activations import _FORMULAS

__all__ = [
    "MAX_ENUMERATED_UNITS",
    "RBM",
    "History",
    "cd_gradients",
    "cd_step",
    "energy",
    "free_energy",
    "gibbs_step",
    "hidden_probs",
    "impute",
    "init_rbm",
    "log_likelihood",
    "log_partition",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "sample",
    "train_rbm",
    "visible_probs",
]

Array = NDArray[np.float64]
MAX_ENUMERATED_UNITS = 20
"""`log_partition` enumerates $2^m$ states of the smaller layer; $m$ may be at most this."""


@dataclass(frozen=True)
class RBM:
    """The parameters of a Bernoulli RBM (also used for a gradient of the same shapes).

    Attributes:
        weights: $W$, shape `(V, H)`: `weights[i, j]` couples visible unit $i$ and hidden unit $j$.
        visible_bias: $b$, shape `(V,)`.
        hidden_bias: $c$, shape `(H,)`.
    """

    weights: Array
    visible_bias: Array
    hidden_bias: Array

    @property
    def n_visible(self) -> int:
        """$V$, the number of visible units."""
        return int(self.weights.shape[0])

    @property
    def n_hidden(self) -> int:
        """$H$, the number of hidden units."""
        return int(self.weights.shape[1])


@dataclass
class History:
    """What [`train_rbm`][dlguide.rbm.train_rbm] records, one value per epoch.

    Attributes:
        reconstruction_error: Mean over the epoch's batches of the
            [`reconstruction_error`][dlguide.rbm.reconstruction_error] of each batch, measured
            before that batch's update.
    """

    reconstruction_error: list[float] = field(default_factory=list)


# --- input checks (at the public entry points only) ----------------------------------------------
def _check_rbm(rbm: object) -> RBM:
    if not isinstance(rbm, RBM):
        raise TypeError(f"rbm must be an RBM (see init_rbm), got {type(rbm).__name__}")
    return rbm


def _check_layer(
    value: ArrayLike, name: str, width: int, *, binary: bool, allow_nan: bool = False
) -> Array:
    """`value` as a float array of shape (n, width): binary, or in [0, 1] when `binary` is False."""
    if allow_nan:
        array = np.asarray(value, dtype=np.float64)
        as_finite_array(np.where(np.isnan(array), 0.0, array), name, ndim=2)
    else:
        array = as_finite_array(value, name, ndim=2)
    if array.shape[1] != width:
        raise ValueError(f"{name} must have {width} columns (one per unit), got {array.shape[1]}")
    known = array[~np.isnan(array)] if allow_nan else array
    if binary and not np.isin(known, (0.0, 1.0)).all():
        raise ValueError(
            f"{name} must be binary (0 or 1) for a Bernoulli RBM, got values such as "
            f"{known[~np.isin(known, (0.0, 1.0))][0]:g}; binarise it first, e.g. x > 0.5"
        )
    if not binary and (known.min() < 0 or known.max() > 1):
        raise ValueError(
            f"{name} must hold values in [0, 1], got values from {known.min():g} to {known.max():g}"
        )
    return array


_sigmoid = _FORMULAS["sigmoid"]  # the book's one sigmoid, from dlguide.activations


def _softplus(x: Array) -> Array:
    return np.logaddexp(0.0, x)  # = log(1 + e^x), without overflow


def _bernoulli(p: Array, rng: np.random.Generator) -> Array:
    """One binary sample per entry: 1 with probability p."""
    return (rng.random(p.shape) < p).astype(np.float64)


# --- the model -----------------------------------------------------------------------------------
def init_rbm(n_visible: int, n_hidden: int, *, scale: float = 0.01, seed: int = 0) -> RBM:
    r"""A new RBM: small random weights $W_{ij} \sim \mathcal N(0, \text{scale}^2)$, zero biases.

    This is scikit-learn's `BernoulliRBM` initialisation (and Hinton's recommendation).

    Args:
        n_visible: $V$, at least 1.
        n_hidden: $H$, at least 1.
        scale: Standard deviation of the initial weights, > 0.
        seed: Seed of the random weights.

    Returns:
        An [`RBM`][dlguide.rbm.RBM].

    Raises:
        TypeError: If a size or the seed is not an int.
        ValueError: If a size is below 1 or `scale` is not positive.

    Examples:
        >>> rbm = init_rbm(784, 64)
        >>> rbm.weights.shape, rbm.visible_bias.shape, rbm.hidden_bias.shape
        ((784, 64), (784,), (64,))
    """
    n_visible = check_int(n_visible, "n_visible", 1)
    n_hidden = check_int(n_hidden, "n_hidden", 1)
    scale = check_real(scale, "scale", positive=True)
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    weights = rng.normal(scale=scale, size=(n_visible, n_hidden))
    return RBM(weights, np.zeros(n_visible), np.zeros(n_hidden))


def energy(rbm: RBM, v: ArrayLike, h: ArrayLike) -> Array:
    r"""The energy $E(v, h) = -b^\top v - c^\top h - v^\top W h$ of each pair of rows.

    Args:
        rbm: The model.
        v: Visible states, shape `(n, V)`, binary.
        h: Hidden states, shape `(n, H)`, binary.

    Returns:
        $E$, shape `(n,)`.

    Raises:
        ValueError: If a width is wrong, a value is not binary or not finite, or `v` and `h` have
            different numbers of rows.

    Examples:
        >>> rbm = RBM(np.array([[2.0]]), np.array([0.5]), np.array([-1.0]))
        >>> energy(rbm, [[1], [1]], [[1], [0]])  # -0.5 + 1 - 2 and -0.5
        array([-1.5, -0.5])
    """
    rbm = _check_rbm(rbm)
    v = _check_layer(v, "v", rbm.n_visible, binary=True)
    h = _check_layer(h, "h", rbm.n_hidden, binary=True)
    if len(v) != len(h):
        raise ValueError(f"v and h must have the same number of rows, got {len(v)} and {len(h)}")
    return -(v @ rbm.visible_bias) - h @ rbm.hidden_bias - np.sum((v @ rbm.weights) * h, axis=1)


def free_energy(rbm: RBM, v: ArrayLike) -> Array:
    r"""The free energy $F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j + (v^\top W)_j)$.

    $e^{-F(v)} = \sum_h e^{-E(v, h)}$, so $p(v) = e^{-F(v)} / Z$: a lower free energy means a
    more probable $v$.

    Args:
        rbm: The model.
        v: Visible vectors, shape `(n, V)`, values in $[0, 1]$ (binary for the identity above).

    Returns:
        $F(v)$, shape `(n,)`.

    Raises:
        ValueError: If the width is wrong or a value lies outside $[0, 1]$ or is not finite.

    Examples:
        >>> rbm = RBM(np.zeros((3, 2)), np.zeros(3), np.zeros(2))
        >>> free_energy(rbm, [[0, 1, 0]])  # -2 log 2: both hidden units free
        array([-1.38629436])
    """
    rbm = _check_rbm(rbm)
    v = _check_layer(v, "v", rbm.n_visible, binary=False)
    return -(v @ rbm.visible_bias) - _softplus(v @ rbm.weights + rbm.hidden_bias).sum(axis=1)


def hidden_probs(rbm: RBM, v: ArrayLike) -> Array:
    r"""$p(h_j = 1 \mid v) = \sigma(c_j + (v^\top W)_j)$ for every row of `v`: the RBM's features.

    Args:
        rbm: The model.
        v: Visible vectors, shape `(n, V)`, values in $[0, 1]$.

    Returns:
        Probabilities, shape `(n, H)`.

    Raises:
        ValueError: If the width is wrong or a value lies outside $[0, 1]$ or is not finite.

    Examples:
        >>> rbm = RBM(np.array([[2.0, -2.0]]), np.zeros(1), np.zeros(2))
        >>> hidden_probs(rbm, [[0], [1]]).round(3)
        array([[0.5  , 0.5  ],
               [0.881, 0.119]])
    """
    rbm = _check_rbm(rbm)
    v = _check_layer(v, "v", rbm.n_visible, binary=False)
    return _sigmoid(v @ rbm.weights + rbm.hidden_bias)


def visible_probs(rbm: RBM, h: ArrayLike) -> Array:
    r"""$p(v_i = 1 \mid h) = \sigma(b_i + (W h)_i)$ for every row of `h`.

    Args:
        rbm: The model.
        h: Hidden vectors, shape `(n, H)`, values in $[0, 1]$.

    Returns:
        Probabilities, shape `(n, V)`.

    Raises:
        ValueError: If the width is wrong or a value lies outside $[0, 1]$ or is not finite.

    Examples:
        >>> rbm = RBM(np.array([[2.0], [-2.0]]), np.zeros(2), np.zeros(1))
        >>> visible_probs(rbm, [[1]]).round(3)
        array([[0.881, 0.119]])
    """
    rbm = _check_rbm(rbm)
    h = _check_layer(h, "h", rbm.n_hidden, binary=False)
    return _sigmoid(h @ rbm.weights.T + rbm.visible_bias)


def gibbs_step(rbm: RBM, v: ArrayLike, rng: np.random.Generator) -> tuple[Array, Array]:
    r"""One step of block Gibbs sampling: $h \sim p(h \mid v)$, then $v' \sim p(v \mid h)$.

    Each unit is sampled as $\mathbb 1[u < p]$ with $u$ uniform on $[0, 1)$: first
    `rng.random((n, H))` for the hidden layer, then `rng.random((n, V))` for the visible one.

    Args:
        rbm: The model.
        v: The current visible states, shape `(n, V)`, values in $[0, 1]$.
        rng: The random generator.

    Returns:
        `(v_next, h)`: the new visible states, shape `(n, V)`, and the hidden states sampled on
        the way, shape `(n, H)`, both binary.

    Raises:
        ValueError: If the width is wrong or a value lies outside $[0, 1]$ or is not finite.

    Examples:
        >>> rbm = RBM(np.array([[50.0]]), np.array([-25.0]), np.array([-25.0]))
        >>> gibbs_step(rbm, [[1.0]], np.random.default_rng(0))  # strong coupling: stays on
        (array([[1.]]), array([[1.]]))
    """
    h = _bernoulli(hidden_probs(rbm, v), rng)
    return _bernoulli(visible_probs(rbm, h), rng), h


# --- learning ------------------------------------------------------------------------------------
def cd_gradients(rbm: RBM, v: ArrayLike, k: int, rng: np.random.Generator) -> RBM:
    r"""The CD-$k$ estimate of the log-likelihood gradient on a batch.

    Run a Gibbs chain from the data $v^{(0)} = v$ for $k$ steps,
    $v^{(0)} \to h^{(0)} \to v^{(1)} \to \dots \to v^{(k)}$ (see
    [`gibbs_step`][dlguide.rbm.gibbs_step]), and compare the statistics at both ends of it.
    With $q^{(t)} = p(h = 1 \mid v^{(t)})$ and means over the $n$ rows of the batch,

    $$ \Delta W = \langle v^{(0)} q^{(0)\top} \rangle - \langle v^{(k)} q^{(k)\top} \rangle, \quad
       \Delta b = \langle v^{(0)} - v^{(k)} \rangle, \quad
       \Delta c = \langle q^{(0)} - q^{(k)} \rangle. $$

    These point *uphill* on the log-likelihood: add them (times a learning rate) to the parameters.

    Args:
        rbm: The model.
        v: A batch of binary data, shape `(n, V)`.
        k: Gibbs steps, at least 1.
        rng: The random generator (it draws $2k$ uniform arrays, in chain order).

    Returns:
        $(\Delta W, \Delta b, \Delta c)$ as an [`RBM`][dlguide.rbm.RBM] of the same shapes.

    Raises:
        TypeError: If `k` is not an int.
        ValueError: If the width is wrong, the data is not binary or not finite, or `k < 1`.

    Examples:
        >>> rbm = init_rbm(4, 2)
        >>> grad = cd_gradients(rbm, [[1, 0, 1, 0]], k=1, rng=np.random.default_rng(0))
        >>> grad.weights.shape
        (4, 2)
    """
    rbm = _check_rbm(rbm)
    v0 = _check_layer(v, "v", rbm.n_visible, binary=True)
    k = check_int(k, "k", 1)
    q0 = hidden_probs(rbm, v0)
    vk = v0
    for _ in range(k):
        vk, _h = gibbs_step(rbm, vk, rng)
    qk = hidden_probs(rbm, vk)
    n = len(v0)
    return RBM(
        weights=(v0.T @ q0 - vk.T @ qk) / n,
        visible_bias=(v0 - vk).mean(axis=0),
        hidden_bias=(q0 - qk).mean(axis=0),
    )


def cd_step(
    rbm: RBM, v: ArrayLike, *, learning_rate: float, k: int = 1, rng: np.random.Generator
) -> RBM:
    r"""One CD-$k$ update: $\theta \leftarrow \theta + \eta \, \Delta\theta$ for $\theta = W, b, c$.

    $\Delta\theta$ comes from [`cd_gradients`][dlguide.rbm.cd_gradients].

    Args:
        rbm: The model (not changed).
        v: A batch of binary data, shape `(n, V)`.
        learning_rate: $\eta > 0$.
        k: Gibbs steps, at least 1.
        rng: The random generator.

    Returns:
        The updated model, a new [`RBM`][dlguide.rbm.RBM].

    Raises:
        TypeError: If `k` is not an int or `learning_rate` not a number.
        ValueError: If the width is wrong, the data is not binary or not finite, `k < 1` or
            $\eta \le 0$.

    Examples:
        >>> rbm = init_rbm(4, 2)
        >>> new = cd_step(rbm, [[1, 0, 1, 0]], learning_rate=0.1, rng=np.random.default_rng(0))
        >>> new.weights.shape == rbm.weights.shape
        True
    """
    eta = check_real(learning_rate, "learning_rate", positive=True)
    grad = cd_gradients(rbm, v, k, rng)
    return RBM(
        rbm.weights + eta * grad.weights,
        rbm.visible_bias + eta * grad.visible_bias,
        rbm.hidden_bias + eta * grad.hidden_bias,
    )


def train_rbm(
    rbm: RBM,
    data: ArrayLike,
    *,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 0.05,
    k: int = 1,
    seed: int = 0,
) -> tuple[RBM, History]:
    r"""Train an RBM by mini-batch CD-$k$: one [`cd_step`][dlguide.rbm.cd_step] per batch.

    Each epoch shuffles the rows of `data`, cuts them into batches of `batch_size` (the last one may
    be smaller) and updates the parameters once per batch. Before each update it measures the
    batch's [`reconstruction_error`][dlguide.rbm.reconstruction_error]; the history holds the
    epoch's mean.

    Args:
        rbm: The starting model, e.g. from [`init_rbm`][dlguide.rbm.init_rbm] (not changed).
        data: Binary training data, shape `(n, V)`.
        epochs: Passes over the data, at least 1.
        batch_size: Rows per update, at least 1.
        learning_rate: $\eta > 0$.
        k: Gibbs steps per update, at least 1.
        seed: Seed for the shuffles and the Gibbs chains.

    Returns:
        `(trained, history)`: the trained [`RBM`][dlguide.rbm.RBM] and a
        [`History`][dlguide.rbm.History].

    Raises:
        TypeError: If a count is not an int or `learning_rate` not a number.
        ValueError: If the width is wrong, the data is not binary or not finite, or a count or
            the learning rate is out of range.

    Examples:
        >>> data = np.random.default_rng(0).integers(0, 2, size=(100, 6))
        >>> trained, history = train_rbm(init_rbm(6, 3), data, epochs=3, batch_size=10)
        >>> len(history.reconstruction_error)
        3
    """
    rbm = _check_rbm(rbm)
    data = _check_layer(data, "data", rbm.n_visible, binary=True)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    k = check_int(k, "k", 1)
    check_real(learning_rate, "learning_rate", positive=True)
    rng = np.random.default_rng(check_int(seed, "seed", 0))

    history = History()
    for _ in range(epochs):
        order = rng.permutation(len(data))
        errors = []
        for start in range(0, len(data), batch_size):
            batch = data[order[start : start + batch_size]]
            errors.append(reconstruction_error(rbm, batch) * len(batch))
            rbm = cd_step(rbm, batch, learning_rate=learning_rate, k=k, rng=rng)
        history.reconstruction_error.append(float(np.sum(errors) / len(data)))
    return rbm, history


# --- evaluation ----------------------------------------------------------------------------------
def reconstruction_error(rbm: RBM, v: ArrayLike) -> float:
    r"""Mean squared error of the mean-field reconstruction $\hat v$ of `v`.

    The reconstruction goes up and back down with probabilities instead of samples:
    $q = p(h = 1 \mid v)$, then $\hat v = p(v = 1 \mid q)$, and

    $$ \frac{1}{nV} \sum_{r=1}^{n} \sum_{i=1}^{V} (v_{ri} - \hat v_{ri})^2 $$

    It is cheap and easy to read, but it is not what CD optimises: use it to watch training, and
    [`pseudo_log_likelihood`][dlguide.rbm.pseudo_log_likelihood] or (for tiny models)
    [`log_likelihood`][dlguide.rbm.log_likelihood] to compare models.

    Args:
        rbm: The model.
        v: Visible vectors, shape `(n, V)`, values in $[0, 1]$.

    Returns:
        The mean squared error, a float in $[0, 1]$.

    Raises:
        ValueError: If the width is wrong or a value lies outside $[0, 1]$ or is not finite.

    Examples:
        >>> rbm = RBM(np.zeros((2, 1)), np.zeros(2), np.zeros(1))
        >>> reconstruction_error(rbm, [[1, 0]])  # reconstructs 0.5 everywhere
        0.25
    """
    v_hat = visible_probs(rbm, hidden_probs(rbm, v))
    return float(np.mean((np.asarray(v, dtype=np.float64) - v_hat) ** 2))


def pseudo_log_likelihood(rbm: RBM, v: ArrayLike, *, chunk_size: int = 4_000_000) -> Array:
    r"""The exact pseudo-log-likelihood $\sum_i \log p(v_i \mid v_{-i})$ of every row of `v`.

    Flipping unit $i$ of $v$ gives $\tilde v^{(i)}$, and
    $p(v_i \mid v_{-i}) = \sigma\big(F(\tilde v^{(i)}) - F(v)\big)$, which needs no $Z$. Flipping
    $v_i$ moves the hidden inputs $a = c + W^\top v$ by $(1 - 2 v_i) W_{i,:}$, so

    $$ F(\tilde v^{(i)}) - F(v) = -(1 - 2v_i)\, b_i
       - \sum_j \Big[\operatorname{softplus}\big(a_j + (1 - 2 v_i) W_{ij}\big)
       - \operatorname{softplus}(a_j)\Big]. $$

    All $V$ flips of a row are computed at once. scikit-learn's `BernoulliRBM.score_samples`
    estimates the same sum from one random flip per row ($V$ times one term).

    Args:
        rbm: The model.
        v: Binary visible vectors, shape `(n, V)`.
        chunk_size: At most this many numbers ($\text{rows} \times V \times H$) are held at once.

    Returns:
        The pseudo-log-likelihood (in nats, $\le 0$), shape `(n,)`.

    Raises:
        ValueError: If the width is wrong or the data is not binary or not finite.

    Examples:
        >>> rbm = RBM(np.zeros((3, 2)), np.zeros(3), np.zeros(2))
        >>> pseudo_log_likelihood(rbm, [[0, 1, 1]])  # 3 log(1/2)
        array([-2.07944154])
    """
    rbm = _check_rbm(rbm)
    v = _check_layer(v, "v", rbm.n_visible, binary=True)
    chunk_size = check_int(chunk_size, "chunk_size", 1)
    rows = max(1, chunk_size // (rbm.n_visible * rbm.n_hidden))
    result = np.empty(len(v))
    for start in range(0, len(v), rows):
        vc = v[start : start + rows]  # (r, V)
        a = vc @ rbm.weights + rbm.hidden_bias  # (r, H)
        sign = 1.0 - 2.0 * vc  # (r, V): +1 flips 0 -> 1, -1 flips 1 -> 0
        shifted = a[:, None, :] + sign[:, :, None] * rbm.weights[None, :, :]  # (r, V, H)
        delta_f = -sign * rbm.visible_bias - (_softplus(shifted) - _softplus(a)[:, None, :]).sum(2)
        result[start : start + rows] = -_softplus(-delta_f).sum(axis=1)  # log sigma(delta_f)
    return result


def log_partition(rbm: RBM) -> float:
    r"""The exact $\log Z$, summing over every state of the smaller layer.

    With $H \le V$, sum the visible units out analytically and enumerate the $2^H$ hidden states:

    $$ \log Z = \log \sum_{h \in \{0,1\}^H} \exp\Big(c^\top h
       + \sum_{i=1}^{V} \operatorname{softplus}\big(b_i + (W h)_i\big)\Big), $$

    and symmetrically with $-F(v)$ over the $2^V$ visible states when $V < H$. This is only
    feasible for tiny models, which is what it is for: checking the rest of this module.

    Args:
        rbm: The model; $\min(V, H)$ must be at most 20.

    Returns:
        $\log Z$.

    Raises:
        ValueError: If both layers have more than 20 units.

    Examples:
        >>> rbm = RBM(np.zeros((3, 2)), np.zeros(3), np.zeros(2))
        >>> bool(np.isclose(log_partition(rbm), 5 * np.log(2)))  # 2^5 states, all of energy 0
        True
    """
    rbm = _check_rbm(rbm)
    m = min(rbm.n_visible, rbm.n_hidden)
    if m > MAX_ENUMERATED_UNITS:
        raise ValueError(
            f"log_partition enumerates 2^min(V, H) states; min(V, H) must be at most "
            f"{MAX_ENUMERATED_UNITS}, got V={rbm.n_visible}, H={rbm.n_hidden}"
        )
    states = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1  # (2^m, m), all bit patterns
    states = states.astype(np.float64)
    if rbm.n_hidden <= rbm.n_visible:
        log_terms = states @ rbm.hidden_bias + _softplus(
            states @ rbm.weights.T + rbm.visible_bias
        ).sum(axis=1)
    else:
        log_terms = -free_energy(rbm, states)
    top = log_terms.max()
    return float(top + np.log(np.exp(log_terms - top).sum()))


def log_likelihood(rbm: RBM, v: ArrayLike) -> Array:
    r"""The exact $\log p(v) = -F(v) - \log Z$ of every row (tiny models only, see
    [`log_partition`][dlguide.rbm.log_partition]).

    Args:
        rbm: The model; $\min(V, H) \le 20$.
        v: Binary visible vectors, shape `(n, V)`.

    Returns:
        $\log p(v)$ in nats, shape `(n,)`.

    Raises:
        ValueError: If the width is wrong, the data is not binary or not finite, or the model is
            too large to enumerate.

    Examples:
        >>> rbm = RBM(np.zeros((3, 2)), np.zeros(3), np.zeros(2))
        >>> log_likelihood(rbm, [[0, 1, 1]]).round(4)  # uniform over 8 vectors: log(1/8)
        array([-2.0794])
    """
    rbm = _check_rbm(rbm)
    v = _check_layer(v, "v", rbm.n_visible, binary=True)
    return -free_energy(rbm, v) - log_partition(rbm)


# --- using a trained RBM -------------------------------------------------------------------------
def sample(
    rbm: RBM, n_samples: int, *, n_steps: int = 1000, seed: int = 0, start: ArrayLike | None = None
) -> Array:
    r"""Run `n_samples` Gibbs chains for `n_steps` steps and return $p(v = 1 \mid h)$ at the end.

    Without `start`, each chain starts from uniform random bits. The last visible *probabilities*
    (not the binary samples) are returned: they are the "fantasy" images, less noisy to look at.

    Args:
        rbm: The model.
        n_samples: Number of chains, at least 1 (ignored if `start` is given).
        n_steps: Gibbs steps per chain, at least 1.
        seed: Seed of the chains.
        start: Optional binary starting states, shape `(n, V)`.

    Returns:
        Probabilities, shape `(n_samples, V)`.

    Raises:
        TypeError: If a count is not an int.
        ValueError: If a count is below 1, or `start` has the wrong width or is not binary.

    Examples:
        >>> rbm = RBM(np.array([[50.0]]), np.array([-25.0]), np.array([-25.0]))
        >>> sample(rbm, 2, n_steps=10, start=[[0], [1]]).round(3)  # each chain keeps its state
        array([[0.],
               [1.]])
    """
    rbm = _check_rbm(rbm)
    n_steps = check_int(n_steps, "n_steps", 1)
    n_samples = check_int(n_samples, "n_samples", 1)
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    if start is None:
        v = _bernoulli(np.full((n_samples, rbm.n_visible), 0.5), rng)
    else:
        v = _check_layer(start, "start", rbm.n_visible, binary=True)
    for _ in range(n_steps - 1):
        v, _h = gibbs_step(rbm, v, rng)
    return visible_probs(rbm, _bernoulli(hidden_probs(rbm, v), rng))


def impute(
    rbm: RBM,
    v: ArrayLike,
    *,
    n_steps: int = 200,
    burn_in: int = 50,
    initial: ArrayLike | float = 0.5,
    seed: int = 0,
) -> Array:
    r"""Fill the missing entries (`NaN`) of binary vectors by Gibbs sampling with the rest clamped.

    The observed units keep their values; the missing ones start at `initial` and are resampled
    from $p(v \mid h)$ at every step, with $h \sim p(h \mid v)$. After `burn_in` steps, the
    probabilities $p(v_i = 1 \mid h)$ of the missing units are averaged over the remaining steps:
    an estimate of $p(v_i = 1 \mid v_\text{observed})$.

    Args:
        rbm: The model.
        v: Binary visible vectors with `NaN` where a value is missing, shape `(n, V)`.
        n_steps: Gibbs steps, more than `burn_in`.
        burn_in: Steps discarded before averaging, at least 0.
        initial: Starting value of the missing units: one number in $[0, 1]$, or an array of shape
            `(V,)` (e.g. the training mean of each unit). Values between 0 and 1 are treated as
            probabilities for the first hidden step.
        seed: Seed of the chains.

    Returns:
        `v` with every `NaN` replaced by a probability in $[0, 1]$, shape `(n, V)`.

    Raises:
        TypeError: If a count is not an int.
        ValueError: If the width is wrong, an observed value is not binary, `initial` is out of
            range, or `n_steps <= burn_in`.

    Examples:
        >>> rbm = RBM(np.array([[4.0], [4.0]]), np.array([-2.0, -2.0]), np.array([-4.0]))
        >>> filled = impute(rbm, [[1, np.nan], [0, np.nan]])  # the hidden unit makes v2 copy v1
        >>> bool(filled[0, 1] > 0.7 and filled[1, 1] < 0.3)
        True
    """
    rbm = _check_rbm(rbm)
    v = _check_layer(v, "v", rbm.n_visible, binary=True, allow_nan=True)
    burn_in = check_int(burn_in, "burn_in", 0)
    n_steps = check_int(n_steps, "n_steps", burn_in + 1)
    fill = _check_layer(
        np.broadcast_to(np.asarray(initial, dtype=np.float64), (1, rbm.n_visible)),
        "initial",
        rbm.n_visible,
        binary=False,
    )
    rng = np.random.default_rng(check_int(seed, "seed", 0))

    missing = np.isnan(v)
    current = np.where(missing, fill, v)
    total = np.zeros_like(current)
    for step in range(n_steps):
        h = _bernoulli(hidden_probs(rbm, current), rng)
        p = visible_probs(rbm, h)
        current = np.where(missing, _bernoulli(p, rng), v)
        if step >= burn_in:
            total += p
    return np.where(missing, total / (n_steps - burn_in), v)
