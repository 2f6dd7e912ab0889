"""zoo.training.optimizer: layer-wise learning-rate decay scales each layer's step by its
depth; the weight EMA is what the model ends training with."""

import keras
import numpy as np
import pytest

import zoo
from zoo.training.layer_decay import depth_of, layer_scales
from zoo.training.optimizer import adamw

pytestmark = pytest.mark.slow  # minutes on 2 cores: the full run only (CI's 3.13 run takes -m 'not slow')

OPTIONS = dict(learning_rate=1e-2, min_learning_rate=1e-2, warmup_steps=0, weight_decay=0.0, beta_2=0.99,
               clipnorm=0.0)


def _tiny_bert():
    model = zoo.Bert(vocabulary_size=50, num_layers=3, num_heads=2, hidden_dim=8, intermediate_dim=16,
                     max_sequence_length=16)
    ids = np.ones((2, 4), "int32")
    model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": ids})
    return model


def test_depth_comes_from_the_shared_layer_names():
    assert depth_of("embeddings/token_embedding/embeddings", 6) == 0
    assert depth_of("embeddings_norm/gamma", 6) == 0
    assert depth_of("block_0/feed_forward/output/kernel", 6) == 1
    assert depth_of("bert/block_5/self_attention/value/bias", 6) == 6
    assert depth_of("classifier/kernel", 6) == 7


def test_each_layer_steps_by_its_factor():
    model = _tiny_bert()
    scales = dict(zip((v.path for v in model.trainable_weights), layer_scales(model.trainable_weights, 0.5)))
    assert scales["embeddings/token_embedding/embeddings"] == 0.5 ** 4
    assert scales["block_2/feed_forward/output/kernel"] == 0.5
    assert scales["pooler/kernel"] == 1.0

    optimizer = adamw({**OPTIONS, "layer_decay": 0.5}, total_steps=10)
    before = [v.numpy().copy() for v in model.trainable_weights]
    optimizer.apply([np.ones(v.shape, "float32") for v in model.trainable_weights], model.trainable_weights)
    # Adam's first step is lr * sign(gradient): the step shows the factor directly.
    for variable, old in zip(model.trainable_weights, before):
        step = np.abs(old - variable.numpy()).max()
        np.testing.assert_allclose(step, 1e-2 * scales[variable.path], rtol=1e-3, err_msg=variable.path)


def test_layer_decay_needs_transformer_blocks_and_a_valid_rate():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="block_<i>"):
        adamw({**OPTIONS, "layer_decay": 0.8}, total_steps=10).build(model.trainable_weights)
    with pytest.raises(ValueError, match=r"layer_decay must be in \(0, 1\]"):
        adamw({**OPTIONS, "layer_decay": 1.5}, total_steps=10)


def test_training_ends_with_the_weight_average():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=adamw({**OPTIONS, "ema_momentum": 0.5}, total_steps=10), loss="mse")
    model.fit(np.ones((4, 1)), np.full((4, 1), 5.0), batch_size=4, epochs=3, verbose=0)
    average = model.optimizer._model_variables_moving_average[0].numpy()
    np.testing.assert_allclose(model.weights[0].numpy(), average)
    with pytest.raises(ValueError, match="ema_momentum"):
        adamw({**OPTIONS, "ema_momentum": 1.0}, total_steps=10)
