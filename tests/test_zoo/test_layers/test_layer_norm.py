"""zoo's LayerNorm: Keras' LayerNormalization's values, lowered to XLA without ``Rsqrt``
(an MLIR-bridged op, slow to lower), and Keras' own graph inside an export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import LayerNorm, export_mode


def _pair(dtype="float32", **kwargs):
    rng = np.random.default_rng(0)
    ours, reference = LayerNorm(dtype=dtype, **kwargs), keras.layers.LayerNormalization(dtype=dtype, **kwargs)
    ours.build((None, 7, 24))
    reference.build((None, 7, 24))
    weights = [rng.normal(1.0, 0.3, w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


def _op_types(layer, x):
    graph = tf.function(layer).get_concrete_function(tf.TensorSpec(x.shape, x.dtype)).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("dtype, atol", [("float32", 2e-6), ("mixed_bfloat16", 0.02)])
def test_layer_norm_matches_keras(dtype, atol):
    x = np.random.default_rng(1).normal(0.5, 2.0, (3, 7, 24)).astype("float32")
    ours, reference = _pair(dtype, epsilon=1e-5)
    expected = np.asarray(reference(x), np.float32)
    for got in (ours(x), tf.function(ours, jit_compile=True)(x)):
        assert got.dtype == reference(x).dtype
        np.testing.assert_allclose(np.asarray(got, np.float32), expected, atol=atol)


def test_layer_norm_without_scale_or_shift_matches_keras():
    x = np.random.default_rng(2).normal(size=(2, 7, 24)).astype("float32")
    ours, reference = _pair(center=False, scale=False)
    np.testing.assert_allclose(ours(x), reference(x), atol=2e-6)


def test_layer_norm_traces_pow_and_exports_keras_graph():
    x = np.zeros((2, 7, 24), np.float32)
    ours, _ = _pair()
    assert "Pow" in _op_types(ours, x) and "Rsqrt" not in _op_types(ours, x)
    with export_mode():
        # The graph export.onnx.fusion matches to ONNX LayerNormalization.
        assert "Rsqrt" in _op_types(ours, x) and "Pow" not in _op_types(ours, x)


def test_layer_norm_over_other_axes_is_keras():
    x = np.random.default_rng(3).normal(size=(2, 7, 24)).astype("float32")
    ours, reference = LayerNorm(axis=1), keras.layers.LayerNormalization(axis=1)
    np.testing.assert_allclose(ours(x), reference(x), atol=2e-6)
    assert "Rsqrt" in _op_types(ours, x)
