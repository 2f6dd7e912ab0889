"""Every public layer of ``zoo.layers`` through the shared harness
(``harness.run_layer_test``): config, weights, symbolic and eager calls,
``.keras`` round trip, one training step, mixed_bfloat16."""

import keras
import numpy as np
import pytest

from harness import run_layer_test
from zoo import layers

BATCH, LENGTH, SOURCE_LENGTH, DIM, VOCABULARY = 2, 5, 3, 8, 13
RNG = np.random.default_rng(0)
IDS = RNG.integers(0, VOCABULARY, (BATCH, LENGTH)).astype("int32")
HIDDEN = RNG.normal(size=(BATCH, LENGTH, DIM)).astype("float32")
SOURCE = RNG.normal(size=(BATCH, SOURCE_LENGTH, DIM)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], "int32")  # the second row right-padded
SOURCE_MASK = np.array([[1, 1, 1], [1, 1, 0]], "int32")
STATES = [(BATCH, DIM)] * 4  # (h, c) of two layers


def tied_head_kwargs():
    """A fresh token embedding per head: the head's output projection is that matrix."""
    return {"token_embedding": layers.TokenEmbedding(VOCABULARY, DIM)}


CASES = {  # class: (init_kwargs, input_data, expected_output_shape, trainable weights, options)
    layers.TokenEmbedding: ({"vocabulary_size": VOCABULARY, "embedding_dim": DIM}, {"inputs": IDS},
                            (BATCH, LENGTH, DIM), 1, {}),
    layers.PositionEmbedding: ({"sequence_length": 16, "embedding_dim": DIM},
                               {"inputs": IDS, "start_index": np.array([0, 3], "int32")},
                               (BATCH, LENGTH, DIM), 1, {}),
    layers.TokenAndPositionEmbedding: (
        {"vocabulary_size": VOCABULARY, "sequence_length": 16, "embedding_dim": DIM, "num_segments": 2},
        {"token_ids": IDS, "segment_ids": IDS % 2}, (BATCH, LENGTH, DIM), 3, {}),
    layers.MultiHeadAttention: (
        {"num_heads": 2, "head_dim": 4, "dropout": 0.1},
        {"query": HIDDEN, "value": SOURCE, "attention_mask": SOURCE_MASK[:, None, :].repeat(LENGTH, 1) > 0},
        (BATCH, LENGTH, DIM), 8, {}),
    layers.FeedForward: ({"intermediate_dim": 16, "activation": "gelu_tanh"}, {"inputs": HIDDEN},
                         (BATCH, LENGTH, DIM), 4, {}),
    layers.LayerNorm: ({"epsilon": 1e-5}, {"inputs": HIDDEN}, (BATCH, LENGTH, DIM), 2, {}),
    layers.TransformerEncoderBlock: ({"num_heads": 2, "intermediate_dim": 16},
                                     {"x": HIDDEN, "padding_mask": MASK}, (BATCH, LENGTH, DIM), 16, {}),
    layers.TransformerDecoderBlock: (
        {"num_heads": 2, "intermediate_dim": 16, "cross_attention": True},
        {"x": HIDDEN, "encoder_outputs": SOURCE, "padding_mask": MASK, "encoder_padding_mask": SOURCE_MASK},
        (BATCH, LENGTH, DIM), 26, {}),
    layers.LstmStack: ({"units": DIM, "num_layers": 2, "bidirectional": True},
                       {"inputs": HIDDEN, "padding_mask": MASK}, [(BATCH, LENGTH, DIM)] + STATES, 12, {}),
    layers.SourceAttention: ({"score": "additive", "units": 5},
                             {"query": HIDDEN, "keys": SOURCE, "source_padding_mask": SOURCE_MASK},
                             [(BATCH, LENGTH, DIM), (BATCH, LENGTH, SOURCE_LENGTH)], 3, {}),
    layers.MaskedLMHead: (tied_head_kwargs,
                          {"sequence_output": HIDDEN, "mask_positions": np.array([[1, 3], [0, 2]], "int32")},
                          (BATCH, 2, VOCABULARY), 6, {"mixed_output_dtype": "float32"}),
}


@pytest.mark.parametrize("layer_cls", list(CASES), ids=lambda cls: cls.__name__)
def test_layer(layer_cls):
    init_kwargs, input_data, shape, num_trainable, options = CASES[layer_cls]
    run_layer_test(layer_cls, init_kwargs, input_data, shape,
                   expected_num_trainable_weights=num_trainable, **options)


def test_every_public_layer_has_a_case():
    """A layer added to ``zoo.layers`` without a harness entry fails here."""
    public = {obj for obj in vars(layers).values()
              if isinstance(obj, type) and issubclass(obj, keras.layers.Layer)}
    assert public == set(CASES)
