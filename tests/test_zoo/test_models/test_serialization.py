"""Keras API round trips beyond the harness: BERT heads keep their tie, layer
config variants, fresh processes, ``zoo.load``. Each class's own config and
``.keras`` round trips run in ``test_models_harness`` / ``test_layers_harness``."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from harness import max_abs_diff, tiny_inputs, tiny_model
from zoo import layers


@pytest.mark.parametrize("head", ["masked_lm", "classifier", "token_classifier"])
def test_bert_heads_round_trip(head, tmp_path):
    backbone = tiny_model("bert")
    inputs = tiny_inputs("bert")
    if head == "masked_lm":
        model = zoo.BertMaskedLM(backbone)
        inputs["mask_positions"] = np.array([[1, 3], [2, 4]], "int32")
    elif head == "classifier":
        model = zoo.BertClassifier(backbone, num_classes=3)
    else:
        model = zoo.BertTokenClassifier(backbone, num_classes=5)
    path = str(tmp_path / "task.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert max_abs_diff(model(inputs), loaded(inputs)) == 0.0
    if head == "masked_lm":  # the tie survives loading
        assert loaded.masked_lm_head.token_embedding is loaded.backbone.token_embedding


LAYER_CASES = [
    layers.TokenEmbedding(11, 4),
    layers.PositionEmbedding(9, 4, kind="sinusoidal"),
    layers.TokenAndPositionEmbedding(11, 9, 4, num_segments=2),
    layers.MultiHeadAttention(2, 3, dropout=0.1, use_xla=False),
    layers.FeedForward(16, activation="gelu_tanh"),
    layers.TransformerEncoderBlock(2, 16),
    layers.TransformerDecoderBlock(2, 16, cross_attention=True),
    layers.LstmStack(8, num_layers=2, bidirectional=True),
    layers.SourceAttention("additive", units=5),
]


@pytest.mark.parametrize("layer", LAYER_CASES, ids=lambda layer: type(layer).__name__)
def test_layer_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is type(layer)


def test_load_in_a_fresh_process(tmp_path):
    model = tiny_model("gpt")
    ids = tiny_inputs("gpt")["token_ids"]
    path = str(tmp_path / "gpt.keras")
    model.save(path)
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "expected.npy", np.asarray(model(ids)))
    script = (
        "import sys, numpy as np, keras, zoo.models\n"  # zoo.models registers the classes
        "m = keras.saving.load_model(sys.argv[1])\n"
        "ids = np.load(sys.argv[2]); expected = np.load(sys.argv[3])\n"
        "print('MAXDIFF', float(np.max(np.abs(np.asarray(m(ids)) - expected))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, path, str(tmp_path / "ids.npy"), str(tmp_path / "expected.npy")],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "MAXDIFF 0.0" in result.stdout


def test_zoo_load_file_and_folder(tmp_path):
    model = tiny_model("lstm_lm")
    (tmp_path / "run").mkdir()
    model.save(str(tmp_path / "run" / "model.keras"))
    assert isinstance(zoo.load(tmp_path / "run" / "model.keras"), zoo.LstmLM)
    assert isinstance(zoo.load(tmp_path / "run"), zoo.LstmLM)
    with pytest.raises(FileNotFoundError, match="No model at"):
        zoo.load(tmp_path / "missing")
