"""Training WordPiece, SentencePiece and byte-level BPE vocabularies on a corpus (keras-hub's trainers)."""

import os

import keras_hub
import tensorflow as tf

from zoo.tokenizers.byte_pair import byte_pair_tokenizer
from zoo.tokenizers.sentencepiece import sentencepiece_tokenizer
from zoo.tokenizers.vocabulary_files import BERT_SPECIAL_TOKENS, GPT2_END_OF_TEXT, is_path
from zoo.tokenizers.wordpiece import wordpiece_tokenizer


def _corpus_data(corpus):
    """keras-hub trainers take a tf.data.Dataset of strings or a list of filenames."""
    if isinstance(corpus, tf.data.Dataset):
        return corpus
    if is_path(corpus):
        corpus = [corpus]
    corpus = list(corpus)
    if not corpus:
        raise ValueError("The training corpus is empty: pass text lines, files or a tf.data.Dataset.")
    if all(is_path(item) and os.path.isfile(item) for item in corpus):
        return [os.fspath(item) for item in corpus]
    if not all(isinstance(item, str) for item in corpus):
        raise TypeError("corpus must be a tf.data.Dataset, a list of file paths, or a list of strings.")
    return tf.data.Dataset.from_tensor_slices(corpus)


def train_wordpiece(
    corpus,
    vocabulary_size,
    lowercase=True,
    strip_accents=True,
    reserved_tokens=BERT_SPECIAL_TOKENS,
):
    """Learn a WordPiece vocabulary (keras-hub ``compute_word_piece_vocabulary``,
    i.e. tensorflow-text's BERT vocabulary learner) and return its tokenizer.

    corpus: text lines, text file paths, or a ``tf.data.Dataset`` of strings.
    """
    tokens = keras_hub.tokenizers.compute_word_piece_vocabulary(
        _corpus_data(corpus),
        vocabulary_size,
        lowercase=lowercase,
        strip_accents=strip_accents,
        reserved_tokens=list(reserved_tokens),
    )
    oov = "[UNK]" if "[UNK]" in tokens else tokens[0]
    return wordpiece_tokenizer(tokens, lowercase=lowercase, strip_accents=strip_accents, oov_token=oov)


def train_sentencepiece(corpus, vocabulary_size, model_type="unigram", lowercase=False):
    """Learn a SentencePiece model (``model_type`` "unigram" or "bpe") with keras-hub's
    ``compute_sentence_piece_proto`` and return its tokenizer."""
    if model_type not in ("unigram", "bpe", "word", "char"):
        raise ValueError(f"model_type must be 'unigram', 'bpe', 'word' or 'char', got {model_type!r}.")
    proto = keras_hub.tokenizers.compute_sentence_piece_proto(
        _corpus_data(corpus), vocabulary_size, model_type=model_type, lowercase=lowercase
    )
    return sentencepiece_tokenizer(proto)


def _corpus_lines(corpus):
    """Text lines from a list of strings, a list of text files, or a tf.data.Dataset of strings."""
    data = _corpus_data(corpus)
    if isinstance(data, tf.data.Dataset):
        for item in data.as_numpy_iterator():
            yield item.decode("utf-8") if isinstance(item, bytes) else str(item)
        return
    for path in data:
        with open(path, encoding="utf-8") as file:
            yield from (line.rstrip("\n") for line in file)


def train_byte_pair(corpus, vocabulary_size, special_tokens=(GPT2_END_OF_TEXT,), min_frequency=2):
    """Learn a GPT-2 style byte-level BPE (vocab.json + merges) with Hugging Face
    ``tokenizers`` (a keras-hub dependency) and return it as :func:`byte_pair_tokenizer`.

    Byte-level: every byte is in the base vocabulary, so no text is ever unknown.
    """
    import tempfile

    from tokenizers import ByteLevelBPETokenizer

    trainer = ByteLevelBPETokenizer(add_prefix_space=False)
    trainer.train_from_iterator(_corpus_lines(corpus), vocab_size=int(vocabulary_size),
                                min_frequency=int(min_frequency), special_tokens=list(special_tokens),
                                show_progress=False)
    with tempfile.TemporaryDirectory() as folder:
        vocab, merges = trainer.save_model(folder)
        return byte_pair_tokenizer(vocab, merges, unsplittable_tokens=list(special_tokens))
