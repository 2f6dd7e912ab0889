"""call_stack: a stack of identical layers traced once, with each layer's own weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import tiny_model
from zoo.layers import call_stack, export_mode

CALLS = []  # one entry per Python execution of a layer's call: what tracing costs


class Scaled(keras.layers.Layer):
    """x -> (x @ kernel + shift, x's sum): an output and a state, like a decoder block."""

    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    def build(self, shape):
        self.kernel = self.add_weight(shape=(shape[-1], self.width), initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.width,), initializer="random_normal")

    def call(self, x, offset=0.0, shift=None):
        CALLS.append(self.name)
        return keras.ops.matmul(x, self.kernel) + self.bias + offset + shift, tf.reduce_sum(x)


def _stack(widths=(4, 4, 4)):
    layers, width = [], 4
    for i, out in enumerate(widths):
        layers.append(Scaled(out, name=f"layer_{i}"))
        layers[-1].build((2, width))
        width = out
    return layers


def _one_by_one(layers, x, per_layer, shift):
    states = []
    for layer, kwargs in zip(layers, per_layer):
        x, state = layer(x, shift=shift, **kwargs)
        states.append(state)
    return x, states


def test_traced_once_with_each_layers_weights():
    layers = _stack()
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 4)), tf.float32)
    per_layer = [{"offset": tf.constant(o)} for o in (0.5, 1.0, 1.5)]  # tensors: one trace serves them
    shift = tf.constant(0.25)
    expected, expected_states = _one_by_one(layers, x, per_layer, shift)

    CALLS.clear()
    got, states = tf.function(lambda x: call_stack(layers, x, per_layer, shift=shift))(x)
    assert CALLS == ["layer_0"]  # the first layer traced once; the others reuse its graph
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose([s.numpy() for s in states], [s.numpy() for s in expected_states], rtol=1e-6)


@pytest.mark.parametrize("where", ["eager", "export mode", "different shapes"])
def test_called_one_by_one(where):
    layers = _stack((4, 4, 4) if where != "different shapes" else (4, 3, 4))
    x = tf.ones((2, 4))
    per_layer = [{}, {}, {}]
    shift = tf.constant(0.0)
    expected, _ = _one_by_one(layers, x, per_layer, shift)
    CALLS.clear()
    if where == "eager":
        got, _ = call_stack(layers, x, per_layer, shift=shift)
    elif where == "export mode":
        with export_mode():
            got, _ = tf.function(lambda x: call_stack(layers, x, per_layer, shift=shift))(x)
    else:
        got, _ = tf.function(lambda x: call_stack(layers, x, per_layer, shift=shift))(x)
    assert CALLS == ["layer_0", "layer_1", "layer_2"]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_gpt_cached_pass_matches_block_by_block():
    """GPT's cached pass inside a tf.function (one traced block) equals the eager pass (each block)."""
    keras.utils.set_random_seed(0)
    model = tiny_model("gpt", num_layers=3, max_sequence_length=16)
    ids = tf.constant([[3, 7, 1, 9]])
    caches = model.initial_layer_caches(1, 16)
    eager_logits, _, eager_caches = model.call_with_cache(ids, caches, 0)
    traced_logits, _, traced_caches = tf.function(lambda i, c: model.call_with_cache(i, c, 0))(ids, caches)
    np.testing.assert_allclose(traced_logits.numpy(), eager_logits.numpy(), atol=1e-5)
    for traced, eager in zip(traced_caches, eager_caches):
        np.testing.assert_allclose(traced.numpy(), eager.numpy(), atol=1e-5)
