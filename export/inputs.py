"""Validation inputs: what the Keras model and each artifact are both run on.

Two batches of different batch size *and* length (the second proves the
artifact's axes are really dynamic), each with some padding. With a
tokenizer the ids come from real sentences of the shipped corpora (the
kind of text the model family is for: its spec's ``text_corpus``); without one (or when the corpus
holds characters the tokenizer rejects), from a seeded random draw over the
model's vocabulary.
"""

import numpy as np

from zoo.corpora import corpus_path

SHAPES = ((2, 8), (3, 13))  # (batch, length) of the two validation batches


def _sentences(corpus, count, offset):
    """``count`` sentences of the shipped ``corpus`` (path parts), spread from ``offset``."""
    with open(corpus_path(*corpus), encoding="utf-8", errors="replace") as file:
        lines = [line.strip() for line in file if len(line.strip()) > 20]
    return [lines[(offset + 7 * i) % len(lines)] for i in range(count)]


def _vocabulary(info, name):
    config = info.config
    if name in ("source_ids",):
        return config.get("source_vocabulary_size", 2)
    if name in ("target_ids",):
        return config.get("target_vocabulary_size", 2)
    if name == "segment_ids":
        return config.get("num_segments", 2)
    return config.get("vocabulary_size", 2)


def _tokenized(info, tokenizer, batch, length, offset):
    texts = _sentences(info.spec.text_corpus, batch, offset)
    ids = np.zeros((batch, length), "int32")
    mask = np.zeros((batch, length), "int32")
    for b, text in enumerate(texts):
        row = np.asarray(tokenizer.tokenize(text)).reshape(-1)[:length]
        if b == 0:
            row = row[: max(1, length - 2)]  # the first row is padded
        ids[b, : len(row)] = row
        mask[b, : len(row)] = 1
    return ids, mask


def sample_inputs(info, batch, length, seed=0):
    """One batch for ``info`` (from ``model_info.describe``): {input name: int32 array}."""
    rng = np.random.default_rng(seed)
    limit = info.config.get("max_sequence_length") or length
    length = min(length, limit)
    inputs = {}
    token_mask = {}
    for name in info.input_names:
        if name.endswith("padding_mask") or name == "mask_positions":
            continue
        if name == "segment_ids":
            continue
        this_length = length - 2 if name == "target_ids" else length
        tokenizer = info.target_tokenizer if name == "target_ids" else info.tokenizer
        ids = None
        if tokenizer is not None and name != "target_ids":
            try:
                ids, mask = _tokenized(info, tokenizer, batch, this_length, seed)
            except Exception:  # the corpus is outside this tokenizer's vocabulary: use ids
                ids = None
        if ids is None:
            ids = rng.integers(0, _vocabulary(info, name), (batch, this_length)).astype("int32")
            mask = np.ones((batch, this_length), "int32")
            mask[0, -2:] = 0  # the first row is padded
        inputs[name] = ids
        token_mask[name] = mask
    for name in info.input_names:
        if name == "segment_ids":
            first = next(iter(token_mask.values()))
            segments = np.zeros_like(first)
            segments[:, first.shape[1] // 2:] = 1
            inputs[name] = segments
        elif name.endswith("padding_mask"):
            source = "token_ids" if name == "padding_mask" else name.replace("_padding_mask", "_ids")
            inputs[name] = token_mask.get(source, next(iter(token_mask.values())))
        elif name == "mask_positions":
            inputs[name] = np.tile(np.arange(min(3, length), dtype="int32"), (batch, 1))
    return {name: inputs[name] for name in info.input_names}


def validation_batches(info, seed=0):
    """The two validation batches (see ``SHAPES``)."""
    return [sample_inputs(info, b, t, seed=seed + i) for i, (b, t) in enumerate(SHAPES)]
