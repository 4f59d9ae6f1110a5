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
# # 1. Neurons and forward propagation
#
# **What you will learn:** how a biological neuron inspires the artificial one; what a weighted
# sum, a bias and an activation function are; how inputs travel through input, hidden and output
# layers (forward propagation); and how to check a hand computation against NumPy and Keras.
#
# **Runs on:** any CPU; the run stamp at the end of the page says how long it took. **Uses:** NumPy, Keras, matplotlib and
# [`dlguide.neurons`](../api/neurons.md).

# %% [markdown]
# ## From the biological neuron to the artificial one
#
# A biological neuron has three parts that matter here. **Dendrites** receive signals from other
# neurons. The **soma**, the cell body, combines those signals. When the combined signal is strong
# enough, the neuron fires: an electrical impulse runs down its **axon**. At the axon's ends, the
# **synapses** pass the signal on to the dendrites of the next neurons. A synapse can be strong or
# weak, so some inputs count more than others.
#
# An artificial neuron keeps that shape and makes it arithmetic:
#
# - each input $x_i$ arrives along a connection with a **weight** $w_i$ (the synapse's strength);
# - the neuron adds the weighted inputs and a **bias** $b$ (how easily it fires):
#   $z = \sum_i w_i x_i + b$;
# - an **activation function** turns that sum into the neuron's output, $a = f(z)$.
#
# In this chapter $f$ is the **sigmoid**, $\sigma(z) = 1 / (1 + e^{-z})$. It squashes any number
# into $(0, 1)$, like a soft version of "fire or don't". [Chapter 4](04-activations.md) compares
# it with the other activation functions in use.
#
# ## Layers
#
# Neurons are arranged in **layers**. The **input layer** just holds the inputs. Each **hidden
# layer** takes the previous layer's outputs as its inputs. The **output layer** produces the
# network's answer. In a *fully connected* (dense) layer every neuron sees every output of the
# previous layer. Computing the layers one after another, from input to output, is called
# **forward propagation**.

# %% tags=["parameters"]
seed = 0  # seed of the random network in the second half of the chapter

# %%
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from dlguide.neurons import dense, draw_network, forward_propagate, initialize_network

keras.utils.set_random_seed(seed)

# %% [markdown]
# ## A small network, by hand
#
# Take a network with two inputs, one hidden layer of two neurons and one output neuron (a 2-2-1
# network), with these inputs, weights and biases:
#
# | | value |
# | --- | --- |
# | inputs | $x_1 = 0.5$, $x_2 = 0.85$ |
# | weights into hidden neuron 1 | $w_1 = 0.9$ (from $x_1$), $w_2 = 0.42$ (from $x_2$) |
# | weights into hidden neuron 2 | $w_3 = 0.46$ (from $x_1$), $w_4 = 0.92$ (from $x_2$) |
# | weights into the output neuron | $w_5 = 0.66$ (from $a_{1,1}$), $w_6 = 0.05$ (from $a_{1,2}$) |
# | biases | $b_{1,1} = 0.06$, $b_{1,2} = 0.34$, $b_2 = 0.42$ |
#
# The first hidden neuron computes $z_{1,1} = x_1 w_1 + x_2 w_2 + b_{1,1}$ and
# $a_{1,1} = \sigma(z_{1,1})$. The second does the same with its own weights. The output neuron
# then treats $a_{1,1}$ and $a_{1,2}$ as its inputs. Follow it in plain Python first: no arrays,
# one multiplication at a time.

# %%
x1, x2 = 0.5, 0.85
w1, w2, w3, w4, w5, w6 = 0.9, 0.42, 0.46, 0.92, 0.66, 0.05
b11, b12, b2 = 0.06, 0.34, 0.42


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


z11 = x1 * w1 + x2 * w2 + b11
z12 = x1 * w3 + x2 * w4 + b12
a11, a12 = sigmoid(z11), sigmoid(z12)
z2 = a11 * w5 + a12 * w6 + b2
output_by_hand = sigmoid(z2)

print(f"z11 = {z11:.4f}   a11 = {a11:.4f}")
print(f"z12 = {z12:.4f}   a12 = {a12:.4f}")
print(f"z2  = {z2:.4f}   output = {output_by_hand:.4f}")
assert round(z11, 3) == 0.867
assert round(z12, 3) == 1.352
assert round(a11, 4) == 0.7041
assert round(a12, 4) == 0.7945
assert round(z2, 4) == 0.9244
assert round(output_by_hand, 4) == 0.7159


# %% [markdown]
# The cell also asserts every value it prints, so this page cannot go on showing numbers the code
# no longer computes. Keep the output, **0.7159**, in mind: NumPy and Keras must reproduce it.

# %% [markdown]
# ## The same network with `dlguide`
#
# Writing one line per neuron does not scale. Put the weights of a layer in a matrix $W$ with one
# row per input and one column per neuron, and the biases in a vector $b$. Then a whole layer is
#
# $$ z = x W + b, \qquad a = \sigma(z). $$
#
# [`dense`][dlguide.neurons.dense] builds a layer from such arrays, with the sigmoid as its
# activation unless you name another, and checks that their shapes agree.
# [`forward_propagate`][dlguide.neurons.forward_propagate] runs the layers in order and returns the
# output together with every layer's activations.

# %%
network = [
    dense(weights=[[w1, w3], [w2, w4]], biases=[b11, b12], activation="sigmoid"),
    dense(weights=[[w5], [w6]], biases=[b2], activation="sigmoid"),
]
output_numpy, activations = forward_propagate(network, [x1, x2])

pd.DataFrame(
    {
        "layer": ["input", "hidden", "output"],
        "activations": [np.round(a, 4).tolist() for a in activations],
    }
)

# %% [markdown]
# ## The same network in Keras
#
# A Keras `Dense` layer computes exactly $\sigma(xW + b)$ when you give it a sigmoid activation,
# and it stores $W$ with the same layout: shape `(inputs, units)`. So you can load the weights
# above into a Keras model and ask it for its prediction.

# %%
model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        keras.layers.Dense(2, activation="sigmoid", name="hidden"),
        keras.layers.Dense(1, activation="sigmoid", name="output"),
    ]
)
model.set_weights([layer[key] for layer in network for key in ("weights", "biases")])
output_keras = model.predict(np.array([[x1, x2]]), verbose=0)[0]

assert abs(output_numpy[0] - output_by_hand) < 1e-12
assert abs(float(output_keras[0]) - output_by_hand) < 1e-6
assert round(float(output_numpy[0]), 4) == 0.7159
pd.DataFrame(
    {
        "computed by": ["hand (math)", "dlguide (NumPy)", "Keras Dense"],
        "output": [output_by_hand, output_numpy[0], float(output_keras[0])],
    }
)


# %% [markdown]
# All three agree. Keras computes in 32-bit floats, so agreement to $10^{-6}$ is what you can ask
# for; the hand computation and NumPy both use 64-bit floats and agree far more closely.

# %% [markdown]
# ## A bigger network
#
# [`initialize_network`][dlguide.neurons.initialize_network] builds a network of any shape with
# random weights and biases. Here is one with 5 inputs, three hidden layers of 3, 2 and 3
# neurons, and one output. The seed makes it the same network every time you run this page.

# %% caption="A 5-3-2-3-1 fully connected network: every neuron feeds every neuron of the next layer."
layer_sizes = [5, 3, 2, 3, 1]
big_network = initialize_network(
    num_inputs=5, num_hidden_layers=3, num_nodes_hidden=[3, 2, 3], num_nodes_output=1, seed=seed
)

fig, ax = plt.subplots(figsize=(7, 4))
draw_network(layer_sizes, ax=ax)
ax.set_title("Structure of the 5-3-2-3-1 network")
plt.show()

# %% [markdown]
# Each layer's weight matrix has one row per neuron of the previous layer and one column per
# neuron of its own, so the shapes read off the network's structure:

# %%
pd.DataFrame(
    {
        "layer": [f"hidden {i}" for i in (1, 2, 3)] + ["output"],
        "weights shape": [layer["weights"].shape for layer in big_network],
        "biases shape": [layer["biases"].shape for layer in big_network],
    }
)

# %% [markdown]
# Feed it five random inputs and look at what each layer passes on:

# %%
rng = np.random.default_rng(seed)
inputs = np.round(rng.uniform(size=5), 2)
output, activations = forward_propagate(big_network, inputs)

for name, values in zip(["input", "hidden 1", "hidden 2", "hidden 3", "output"], activations):
    print(f"{name:>8}: {np.round(values, 4)}")
assert [a.shape for a in activations] == [(5,), (3,), (2,), (3,), (1,)]
assert all(np.all((a > 0) & (a < 1)) for a in activations[1:])


# %% [markdown]
# The shapes follow the structure, and every activation after the input lies in $(0, 1)$: that is
# the sigmoid's range.

# %% [markdown]
# ## When the input does not fit
#
# A network with 5 inputs cannot take 4. `dlguide` says so, naming what it expected and what it
# got, instead of broadcasting its way to a wrong answer:

# %%
try:
    forward_propagate(big_network, [0.1, 0.2, 0.3, 0.4])
except ValueError as error:
    print(f"ValueError: {error}")

# %% [markdown]
# ## Summary
#
# - An artificial neuron computes a weighted sum of its inputs plus a bias, $z = w^\top x + b$,
#   and passes it through an activation function, $a = \sigma(z)$.
# - A dense layer does this for all its neurons at once: $a = \sigma(xW + b)$.
# - Forward propagation applies the layers in order; the last layer's activations are the output.
# - The 2-2-1 example gives 0.7159 by hand, with NumPy and with Keras.
#
# Next, [chapter 2](02-gradient-descent.md) shows how a network finds good weights on its own.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Change $w_6$ from 0.05 to 0.5. Predict, before you run it, whether the output of
# the 2-2-1 network goes up or down, then check with `forward_propagate` and by hand.

# %% tags=["solution"]
bigger_w6 = [dict(layer) for layer in network]
bigger_w6[1]["weights"] = np.array([[w5], [0.5]])
output_w6, _ = forward_propagate(bigger_w6, [x1, x2])
print(f"output with w6 = 0.5: {output_w6[0]:.4f} (was {output_by_hand:.4f})")
# a12 > 0 and the sigmoid increases, so a larger w6 raises z2 by (0.5 - 0.05) * a12 and the output.
assert abs(output_w6[0] - sigmoid(z2 + (0.5 - w6) * a12)) < 1e-12
assert output_w6[0] > output_by_hand

# %% [markdown]
# **Exercise 2.** Build a Keras model for the 5-3-2-3-1 network, load `big_network`'s weights into
# it and check that it reproduces `output`.

# %% tags=["solution"]
big_model = keras.Sequential(
    [keras.Input(shape=(5,))]
    + [
        keras.layers.Dense(n, activation=layer["activation"])
        for n, layer in zip(layer_sizes[1:], big_network)
    ]
)
big_model.set_weights([layer[key] for layer in big_network for key in ("weights", "biases")])
output_big_keras = np.asarray(big_model(inputs[None, :].astype("float32")))[0]
print(f"dlguide: {output[0]:.6f}   Keras: {output_big_keras[0]:.6f}")
assert abs(float(output_big_keras[0]) - output[0]) < 1e-6

# %% [markdown]
# **Exercise 3.** Give both layers of the 2-2-1 network the activation $\tanh$ instead of the
# sigmoid. Compute the output with `dense(..., activation="tanh")` and by hand with `math.tanh`.
# Can it still be read as a firing probability?

# %% tags=["solution"]
tanh_network = [dict(layer, activation="tanh") for layer in network]
output_tanh, _ = forward_propagate(tanh_network, [x1, x2])
h1, h2 = math.tanh(z11), math.tanh(z12)
by_hand_tanh = math.tanh(h1 * w5 + h2 * w6 + b2)
print(f"tanh output: {output_tanh[0]:.4f} (by hand {by_hand_tanh:.4f})")
assert abs(output_tanh[0] - by_hand_tanh) < 1e-12
# tanh ranges over (-1, 1), not (0, 1): an output is no longer a probability without rescaling.
assert round(by_hand_tanh, 4) != round(output_by_hand, 4)
