"""Characters (nanoGPT's tiny Shakespeare): a small keras-hub ``Tokenizer`` on TensorFlow string ops."""

import json
import os

import keras
import keras_hub
import tensorflow as tf
from keras_hub.src.utils.tensor_utils import preprocessing_function

from zoo.tokenizers.vocabulary_files import check_file


def character_vocabulary(text):
    """The sorted distinct characters of ``text`` (nanoGPT's tiny-Shakespeare vocabulary)."""
    if not isinstance(text, str) or not text:
        raise ValueError("character_vocabulary needs a non-empty string of text.")
    return sorted(set(text))


def character_tokenizer(vocabulary, sequence_length=None):
    """One id per character, id = position in ``vocabulary``.

    ``vocabulary``: a list of characters, a string of them (e.g.
    ``"".join(character_vocabulary(text))``), or a path to a saved
    ``characters.json`` (a JSON list; a text file cannot hold the newline).
    """
    if isinstance(vocabulary, os.PathLike) or (
        isinstance(vocabulary, str) and vocabulary.endswith(".json") and os.path.isfile(vocabulary)
    ):
        with open(check_file(vocabulary, "Character vocabulary"), encoding="utf-8") as file:
            vocabulary = json.load(file)
    return CharacterTokenizer(vocabulary=list(vocabulary), sequence_length=sequence_length)


@keras.saving.register_keras_serializable(package="zoo")
class CharacterTokenizer(keras_hub.tokenizers.Tokenizer):
    """Character-level tokenizer from TF string ops and a static hash table.

    keras-hub's ``UnicodeCodepointTokenizer`` maps characters to code points;
    char-level LMs (nanoGPT, char-rnn) instead number the corpus' sorted
    characters 0..V-1, which is what this does. Unknown characters raise
    (eagerly and in graphs) rather than silently mapping to some id.
    The vocabulary asset is JSON (a list), since characters include newlines.
    """

    VOCAB_FILENAME = "characters.json"

    def __init__(self, vocabulary=None, sequence_length=None, dtype="int32", **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        self.sequence_length = sequence_length
        self.file_assets = [self.VOCAB_FILENAME]
        self.set_vocabulary(vocabulary)

    def set_vocabulary(self, vocabulary):
        if vocabulary is None:
            self.vocabulary = None
            return
        vocabulary = list(vocabulary)
        bad = [c for c in vocabulary if not isinstance(c, str) or len(c) != 1]
        if bad or len(set(vocabulary)) != len(vocabulary):
            raise ValueError(
                "A character vocabulary must be distinct single characters "
                f"(bad entries: {bad[:5]}); build one with character_vocabulary(text)."
            )
        self.vocabulary = vocabulary
        keys = tf.constant(vocabulary)
        ids = tf.range(len(vocabulary), dtype="int32")
        self._to_id = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, ids), -1)
        self._to_char = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(ids, keys), "")

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, self.VOCAB_FILENAME), "w", encoding="utf-8") as file:
            json.dump(self.vocabulary, file, ensure_ascii=False)

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, self.VOCAB_FILENAME), encoding="utf-8") as file:
            self.set_vocabulary(json.load(file))

    def _check_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError("No vocabulary set: pass vocabulary=character_vocabulary(text).")

    def get_vocabulary(self):
        self._check_vocabulary()
        return list(self.vocabulary)

    def vocabulary_size(self):
        self._check_vocabulary()
        return len(self.vocabulary)

    def id_to_token(self, id):
        self._check_vocabulary()
        if not 0 <= int(id) < len(self.vocabulary):
            raise ValueError(f"id {id} is outside the vocabulary (size {len(self.vocabulary)}).")
        return self.vocabulary[int(id)]

    def token_to_id(self, token):
        self._check_vocabulary()
        if token not in self.vocabulary:
            raise ValueError(f"Character {token!r} is not in the vocabulary.")
        return self.vocabulary.index(token)

    @preprocessing_function
    def tokenize(self, inputs):
        self._check_vocabulary()
        inputs = tf.convert_to_tensor(inputs)
        unbatched = inputs.shape.rank == 0
        if unbatched:
            inputs = inputs[None]
        chars = tf.strings.unicode_split(inputs, "UTF-8")
        ids = tf.ragged.map_flat_values(self._to_id.lookup, chars)
        check = tf.debugging.assert_non_negative(
            ids.flat_values,
            message="Text contains characters that are not in this tokenizer's vocabulary.",
        )
        with tf.control_dependencies([check]):
            ids = tf.identity(ids)
        ids = tf.cast(ids, self.compute_dtype)
        if self.sequence_length:
            ids = ids.to_tensor(shape=(None, self.sequence_length))
        return ids[0] if unbatched else ids

    @preprocessing_function
    def detokenize(self, inputs):
        self._check_vocabulary()
        if not isinstance(inputs, tf.RaggedTensor):
            inputs = tf.convert_to_tensor(inputs)
        unbatched = inputs.shape.rank == 1
        if unbatched:
            inputs = inputs[None]
        chars = tf.ragged.map_flat_values(self._to_char.lookup, tf.cast(inputs, "int32")) \
            if isinstance(inputs, tf.RaggedTensor) else self._to_char.lookup(tf.cast(inputs, "int32"))
        text = tf.strings.reduce_join(chars, axis=-1)
        return text[0] if unbatched else text

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs)

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary=None, sequence_length=self.sequence_length)  # vocabulary is an asset
        return config
