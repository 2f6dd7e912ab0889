"""Benchmark inputs: seeded random ids of the right shape, and the prompts for generation.

Every runtime of a case gets the same ids (converted to its own types by
its runner). Sequences are full length (masks all ones), the usual setting
for latency numbers; numpy only, so ONNX Runtime and torch cases need no
TensorFlow.
"""

import numpy as np


def forward_inputs(family, config, batch, length, seed=0):
    """{input name: int32 array (batch, length)} for the zoo model of ``family``."""
    rng = np.random.default_rng(seed)
    ones = np.ones((batch, length), np.int32)
    if family == "seq2seq":
        return {
            "source_ids": rng.integers(0, config["source_vocabulary_size"], (batch, length)).astype(np.int32),
            "source_padding_mask": ones,
            "target_ids": rng.integers(0, config["target_vocabulary_size"], (batch, length)).astype(np.int32),
            "target_padding_mask": ones.copy(),
        }
    inputs = {
        "token_ids": rng.integers(0, config["vocabulary_size"], (batch, length)).astype(np.int32),
        "padding_mask": ones,
    }
    if family == "bert":
        inputs["segment_ids"] = np.zeros((batch, length), np.int32)
    return inputs


def prompts(family, config, batch, length, seed=0):
    """A (batch, length) int32 array of prompt ids (seq2seq: source sentences)."""
    vocabulary = config["source_vocabulary_size"] if family == "seq2seq" else config["vocabulary_size"]
    low = 2 if vocabulary > 4 else 0  # keep ids 0/1 (padding, start) out of prompts
    return np.random.default_rng(seed).integers(low, vocabulary, (batch, length)).astype(np.int32)
