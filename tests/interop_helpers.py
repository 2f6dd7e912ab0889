"""Helpers for the interop tests: tiny keras-hub models and tokenizers built on the spot.

Nothing is downloaded. Vocabularies come from the shipped corpora
(``zoo.corpora``): a byte-level BPE trained on tiny Shakespeare for GPT-2, a
WordPiece vocabulary of the movie-review corpus' frequent words plus single
characters for BERT, so real sentences tokenize into real pieces. Weights are
random with extra noise (the default initializations give near-uniform
outputs, which would make parity too easy to pass).
"""

import functools
import re
from collections import Counter

import numpy as np

from zoo.corpora import corpus_path

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TINY_GPT2 = dict(num_layers=2, num_heads=4, hidden_dim=32, intermediate_dim=64, max_sequence_length=64, dropout=0.0)
TINY_BERT = dict(num_layers=2, num_heads=4, hidden_dim=32, intermediate_dim=64, max_sequence_length=32, dropout=0.0)
# (batch, length) of the parity batches: two batch sizes and two lengths.
SHAPES = ((2, 11), (3, 19))


def sentences(corpus, count, offset=0):
    """``count`` real lines (> 20 characters) of a shipped corpus."""
    with open(corpus_path(corpus), encoding="utf-8", errors="replace") as file:
        lines = [line.strip() for line in file if len(line.strip()) > 20]
    return lines[offset: offset + count]


def gpt2_vocabulary():
    """``(vocabulary, merges)`` of a 400-token byte-level BPE trained on tiny Shakespeare (fresh copies)."""
    vocabulary, merges = _trained_byte_pair()
    return dict(vocabulary), list(merges)


@functools.lru_cache(maxsize=1)
def _trained_byte_pair():
    from zoo import tokenizers

    trained = tokenizers.train_byte_pair(sentences("tinyshakespeare.txt", 400), 400)
    return dict(trained.vocabulary), tuple(trained.merges)


def bert_vocabulary():
    """Special tokens, the corpus' 150 most frequent words, and every character alone and as ``##`` suffix."""
    words = Counter(w for line in sentences("rt-polarity.pos", 500) for w in re.findall(r"[a-z]+", line.lower()))
    characters = sorted({c for line in sentences("rt-polarity.pos", 500) for c in line.lower() if not c.isspace()})
    tokens = SPECIALS + [w for w, _ in words.most_common(150) if len(w) > 1] + characters
    return list(dict.fromkeys(tokens + ["##" + c for c in characters if c.isalnum()]))


def seeded(seed):
    """Make Keras' own initializers reproducible, so every run measures the same models."""
    import keras

    keras.utils.set_random_seed(seed)


def spread(model, seed=0, scale=0.1):
    """Add noise to every weight of a Keras model."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(np.asarray(variable) + rng.normal(0, scale, variable.shape).astype("float32"))
    return model


def keras_hub_gpt2(seed=0, scale=0.3):
    """A random keras-hub ``GPT2CausalLM`` with its preprocessor (tokenizer from tiny Shakespeare).

    ``scale`` 0.3: large enough that 20 greedy tokens vary instead of repeating one token.
    """
    import keras_hub

    seeded(seed)
    vocabulary, merges = gpt2_vocabulary()
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=vocabulary, merges=merges)
    backbone = spread(keras_hub.models.GPT2Backbone(vocabulary_size=len(vocabulary), **TINY_GPT2), seed, scale)
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=32)
    return keras_hub.models.GPT2CausalLM(backbone, preprocessor=preprocessor)


def keras_hub_bert_classifier(seed=0, num_classes=3):
    """A random keras-hub ``BertTextClassifier`` with its preprocessor (lower-casing WordPiece)."""
    import keras_hub

    seeded(seed)
    vocabulary = bert_vocabulary()
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    backbone = spread(keras_hub.models.BertBackbone(vocabulary_size=len(vocabulary), **TINY_BERT), seed)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=32)
    model = keras_hub.models.BertTextClassifier(backbone, num_classes=num_classes, dropout=0.0,
                                                preprocessor=preprocessor)
    spread(model.get_layer("logits"), seed + 1)
    return model


def keras_hub_bert_masked_lm(seed=0):
    """A random keras-hub ``BertMaskedLM`` (exact-GELU, 1e-5 head on a tanh-GELU, 1e-12 backbone), no preprocessor."""
    import keras_hub

    seeded(seed)
    backbone = spread(keras_hub.models.BertBackbone(vocabulary_size=len(bert_vocabulary()), **TINY_BERT), seed)
    model = keras_hub.models.BertMaskedLM(backbone, preprocessor=None)
    spread(model.get_layer("mlm_head"), seed + 1)
    return model


def id_batches(tokenize, corpus, start=None, end=None):
    """The parity batches (``SHAPES``) of real sentences: ids and padding masks, first row padded.

    ``start``/``end``: ids to put around each sentence (BERT's [CLS]/[SEP]).
    """
    batches = []
    for offset, (batch, length) in enumerate(SHAPES):
        ids = np.zeros((batch, length), "int32")
        mask = np.zeros((batch, length), "int32")
        for row, text in enumerate(sentences(corpus, batch, offset=10 * offset)):
            pieces = [int(i) for i in np.asarray(tokenize(text))]
            pieces = ([start] if start is not None else []) + pieces + ([end] if end is not None else [])
            pieces = pieces[: length - 3 if row == 0 else length]
            ids[row, : len(pieces)], mask[row, : len(pieces)] = pieces, 1
        batches.append({"token_ids": ids, "padding_mask": mask})
    return batches


def with_segments(batch):
    """A BERT batch: the second half of each row is segment 1."""
    segments = np.zeros_like(batch["token_ids"])
    segments[:, segments.shape[1] // 2:] = 1
    return {**batch, "segment_ids": segments}


def max_abs_diff(a, b, mask=None):
    """Max |a - b|, over the real (``mask``) positions when given."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if mask is not None:
        a, b = a[mask.astype(bool)], b[mask.astype(bool)]
    return float(np.max(np.abs(a - b)))
