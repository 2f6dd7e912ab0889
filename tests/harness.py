"""The shared test harness: tiny configurations of every family (keras-hub style:
small vocabularies, 2 layers, a handful of hidden units), and inputs for them."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402

TINY = {
    "gpt": dict(vocabulary_size=23, num_layers=2, num_heads=2, hidden_dim=8,
                intermediate_dim=16, max_sequence_length=16, dropout=0.0),
    "bert": dict(vocabulary_size=29, num_layers=2, num_heads=2, hidden_dim=8,
                 intermediate_dim=16, max_sequence_length=16, dropout=0.0),
    "lstm_lm": dict(vocabulary_size=19, num_layers=2, hidden_dim=8, embedding_dim=6, dropout=0.0),
    "seq2seq": dict(source_vocabulary_size=17, target_vocabulary_size=13, num_layers=2,
                    hidden_dim=8, dropout=0.0, max_sequence_length=16),
}
FAMILIES = tuple(TINY)
CLASSES = {"gpt": zoo.Gpt, "bert": zoo.Bert, "lstm_lm": zoo.LstmLM, "seq2seq": zoo.Seq2Seq}


def tiny_model(family, **overrides):
    return CLASSES[family](**{**TINY[family], **overrides})


def tiny_inputs(family, batch=2, length=6, seed=0):
    """Random ids in range for ``family``'s tiny config, with all-ones masks."""
    rng = np.random.default_rng(seed)
    config = TINY[family]
    if family == "seq2seq":
        return {
            "source_ids": rng.integers(0, config["source_vocabulary_size"], (batch, length)).astype("int32"),
            "source_padding_mask": np.ones((batch, length), "int32"),
            "target_ids": rng.integers(0, config["target_vocabulary_size"], (batch, length - 1)).astype("int32"),
            "target_padding_mask": np.ones((batch, length - 1), "int32"),
        }
    inputs = {
        "token_ids": rng.integers(0, config["vocabulary_size"], (batch, length)).astype("int32"),
        "padding_mask": np.ones((batch, length), "int32"),
    }
    if family == "bert":
        inputs["segment_ids"] = np.zeros((batch, length), "int32")
    return inputs


def as_numpy_tree(outputs):
    if isinstance(outputs, dict):
        return {k: np.asarray(v) for k, v in outputs.items()}
    return np.asarray(outputs)


def max_abs_diff(a, b):
    a, b = as_numpy_tree(a), as_numpy_tree(b)
    if isinstance(a, dict):
        return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
    return float(np.max(np.abs(a - b)))
