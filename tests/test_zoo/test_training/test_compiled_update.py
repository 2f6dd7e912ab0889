"""zoo.training.compiled_update: the optimizer's weight decay and update steps run as one XLA call
when the train step is a plain graph, and train the same weights as Keras' own ops."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.training.optimizer import adamw

# Clipping acts (a small global norm), weights decay, the rate warms up: every part of the update is used.
OPTIONS = dict(learning_rate=1e-2, min_learning_rate=1e-3, warmup_steps=2, weight_decay=0.1, beta_2=0.99,
               clipnorm=0.05)


def _trained_weights(compile_update, **options):
    keras.utils.set_random_seed(0)
    backbone = zoo.Bert(vocabulary_size=60, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
                        max_sequence_length=16, dropout=0.0)
    model = zoo.BertClassifier(backbone, num_classes=2, dropout=0.0)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 60, (16, 6)).astype("int32")
    inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": np.ones_like(ids)}
    labels = rng.integers(0, 2, (16,))
    model.compile(optimizer=adamw({**OPTIONS, **options}, total_steps=8, compile_update=compile_update),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False)
    model(inputs)
    initial = {v.path: v.numpy() for v in model.trainable_weights}
    model.fit(inputs, labels, batch_size=4, epochs=2, shuffle=False, verbose=0)
    return initial, {v.path: v.numpy() for v in model.trainable_weights}


@pytest.mark.parametrize("options", [{}, {"layer_decay": 0.5}], ids=["adamw", "layer-decay"])
def test_compiled_update_trains_the_same_weights(options):
    initial, compiled = _trained_weights(True, **options)
    _, keras_ops = _trained_weights(False, **options)
    assert compiled.keys() == keras_ops.keys()
    # Every weight was updated but the key biases: they shift all of a query's scores alike, so softmax
    # gives them no gradient beyond rounding (and biases are not weight-decayed).
    unchanged = [path for path in compiled if np.allclose(compiled[path], initial[path])]
    assert unchanged == ["block_0/self_attention/key/bias", "block_1/self_attention/key/bias"]
    for path in compiled:  # the token embedding's gradient arrives as IndexedSlices
        np.testing.assert_allclose(compiled[path], keras_ops[path], rtol=1e-5, atol=1e-6, err_msg=path)


def _xla_calls(optimizer, variables):
    grads = [tf.ones_like(v) for v in variables]
    graph = tf.function(lambda: optimizer.apply(grads, variables)).get_concrete_function().graph
    return [op for op in graph.get_operations()
            if op.type in ("PartitionedCall", "StatefulPartitionedCall")
            and op.node_def.attr["_XlaMustCompile"].b]


def test_update_is_one_xla_call_only_when_asked_and_without_a_strategy():
    variables = [keras.Variable(np.ones((3, 2), "float32")), keras.Variable(np.zeros((2,), "float32"))]
    compiled = adamw(OPTIONS, total_steps=4, compile_update=True)
    compiled.build(variables)
    assert len(_xla_calls(compiled, variables)) == 1
    plain = adamw(OPTIONS, total_steps=4)
    plain.build(variables)
    assert _xla_calls(plain, variables) == []
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert not compiled.compiles_update()
