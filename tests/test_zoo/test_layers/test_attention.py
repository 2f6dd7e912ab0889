"""The attention core, masks and multi-head attention with its KV cache."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import (
    MultiHeadAttention,
    attention_mask,
    dot_product_attention,
    export_mode,
    in_export_mode,
)
from zoo.layers import attention_core


def random(shape, seed):
    return tf.random.stateless_normal(shape, seed=(seed, 0))


@pytest.mark.parametrize("masked", [False, True])
def test_xla_path_equals_export_path(masked):
    q, k, v = random((2, 5, 3, 4), 1), random((2, 7, 3, 4), 2), random((2, 7, 3, 4), 3)
    mask = attention_mask(5, 7, padding_mask=np.array([[1] * 7, [1] * 4 + [0] * 3])) if masked else None
    xla = dot_product_attention(q, k, v, mask=mask, use_xla=True)
    plain = dot_product_attention(q, k, v, mask=mask, use_xla=False)
    with export_mode():
        assert in_export_mode()
        exported = dot_product_attention(q, k, v, mask=mask, use_xla=True)
    assert not in_export_mode()
    assert np.max(np.abs(xla - plain)) <= 1e-6
    assert np.max(np.abs(xla - exported)) <= 1e-6


def test_export_mode_traces_no_nested_function():
    q = random((1, 3, 2, 4), 4)
    with export_mode():
        graph = tf.function(lambda x: dot_product_attention(x, x, x)).get_concrete_function(q).graph
    op_types = {op.type for op in graph.get_operations()}
    assert not op_types & {"PartitionedCall", "StatefulPartitionedCall"}
    graph = tf.function(lambda x: dot_product_attention(x, x, x)).get_concrete_function(q).graph
    assert op_types != {op.type for op in graph.get_operations()}  # default path calls the XLA core


def test_core_is_inlined_inside_an_outer_xla_compilation():
    seen = []

    @tf.function(jit_compile=True)
    def outer(x):
        seen.append(attention_core.inside_xla_compilation())
        return dot_product_attention(x, x, x)

    outer(random((1, 3, 2, 4), 5))
    assert seen == [True]
    assert not attention_core.inside_xla_compilation()


def test_masks_padding_causal_and_offset():
    padding = np.array([[1, 1, 0], [0, 1, 1]])
    m = np.asarray(attention_mask(3, 3, padding_mask=padding, causal=True))
    expected_row0 = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 0]], bool)
    expected_row1 = np.array([[0, 0, 0], [0, 1, 0], [0, 1, 1]], bool)
    assert (m[0] == expected_row0).all() and (m[1] == expected_row1).all()
    # one query at absolute position 2 of a length-5 cache
    m = np.asarray(attention_mask(1, 5, causal=True, query_offset=2))
    assert (m[0, 0] == np.array([1, 1, 1, 0, 0], bool)).all()
    assert attention_mask(2, 2) is None


def test_masked_keys_get_zero_weight_and_rows_sum_to_one():
    q = random((1, 2, 1, 4), 6)
    k = random((1, 4, 1, 4), 7)
    mask = attention_mask(2, 4, padding_mask=np.array([[1, 1, 1, 0]]))
    _, weights = dot_product_attention(q, k, k, mask=mask, return_weights=True)
    weights = np.asarray(weights)
    assert np.all(weights[..., 3] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)


def test_kv_cache_step_by_step_equals_full_causal_pass():
    mha = MultiHeadAttention(num_heads=2, head_dim=4)
    x = random((2, 5, 8), 8)
    full = mha(x, attention_mask=attention_mask(5, 5, causal=True))
    cache = tf.zeros((2, 2, 5, 2, 4))
    steps = []
    for t in range(5):
        out, cache = mha(
            x[:, t : t + 1],
            attention_mask=attention_mask(1, 5, causal=True, query_offset=t),
            cache=cache,
            cache_update_index=t,
        )
        steps.append(out)
    assert cache.shape == (2, 2, 5, 2, 4)  # fixed size: never grows
    assert np.max(np.abs(np.concatenate(steps, axis=1) - full)) <= 1e-5


def test_cross_attention_with_precomputed_cache():
    mha = MultiHeadAttention(num_heads=2, head_dim=3)
    query, memory = random((2, 4, 6), 9), random((2, 7, 5), 10)
    direct = mha(query, memory)
    k = tf.reshape(mha.key_dense(memory), (2, 7, 2, 3))
    v = tf.reshape(mha.value_dense(memory), (2, 7, 2, 3))
    out, _ = mha(query, cache=tf.stack([k, v], axis=1))
    assert np.max(np.abs(out - direct)) <= 1e-6
