"""Tokenizers: thin factories over keras-hub (tensorflow-text inside graphs).

    tok = wordpiece_tokenizer("bert/vocab.txt")                  # BERT
    tok = byte_pair_tokenizer("gpt2/vocab.json", "gpt2/merges.txt")  # GPT-2
    tok = character_tokenizer(character_vocabulary(text))        # tiny Shakespeare
    tok = train_wordpiece(corpus, 8000) / train_byte_pair(corpus, 8000) / train_sentencepiece(corpus, 8000)
    save_tokenizer(tok, "folder"); tok = load_tokenizer("folder")

Every factory returns a keras-hub tokenizer layer (or, for characters, a
small ``keras_hub.tokenizers.Tokenizer`` subclass built from TF string ops),
so ``tok(strings)`` works eagerly, inside ``tf.function`` and inside
``tf.data.Dataset.map``: keras-hub switches to its TensorFlow /
tensorflow-text path whenever it is traced. No WordPiece or BPE logic lives
here; this module only reads vocabulary files, picks defaults and
saves/loads assets.

Vocabulary files are read here (not by keras-hub) so that loading works under
Keras safe mode, and in-memory lists/dicts are accepted everywhere a path is.
"""

import json
import os

import keras
import keras_hub
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from keras_hub.src.utils.tensor_utils import preprocessing_function

TOKENIZER_CONFIG = "tokenizer.json"
GPT2_END_OF_TEXT = "<|endoftext|>"
BERT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


# --- reading vocabularies ----------------------------------------------------


def _is_path(value):
    return isinstance(value, (str, os.PathLike))


def _check_file(path, what):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file {path!r} does not exist.")
    return path


def read_vocabulary_list(vocabulary):
    """A WordPiece/character vocabulary: a path to a one-token-per-line file, or a list."""
    if _is_path(vocabulary):
        with open(_check_file(vocabulary, "Vocabulary"), encoding="utf-8") as file:
            tokens = [line.rstrip("\n").rstrip("\r") for line in file]
        # A trailing newline is not an empty token.
        while tokens and tokens[-1] == "":
            tokens.pop()
        return tokens
    if isinstance(vocabulary, dict):
        return [token for token, _ in sorted(vocabulary.items(), key=lambda item: item[1])]
    try:
        return [str(token) for token in vocabulary]
    except TypeError:
        raise TypeError(
            f"vocabulary must be a file path or a list of tokens, got {type(vocabulary).__name__}."
        ) from None


def read_vocabulary_dict(vocabulary):
    """A BPE vocabulary: a path to ``vocab.json`` ({token: id}), a dict, or a list (id = index)."""
    if _is_path(vocabulary):
        with open(_check_file(vocabulary, "Vocabulary"), encoding="utf-8") as file:
            try:
                vocabulary = json.load(file)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"Vocabulary file {os.fspath(vocabulary)!r} is not JSON ({error}); "
                    "byte-level BPE expects GPT-2's vocab.json ({token: id})."
                ) from None
    if isinstance(vocabulary, dict):
        return {str(token): int(index) for token, index in vocabulary.items()}
    if isinstance(vocabulary, (list, tuple)):
        return {str(token): index for index, token in enumerate(vocabulary)}
    raise TypeError(
        f"vocabulary must be a vocab.json path, a dict or a list, got {type(vocabulary).__name__}."
    )


def read_merges(merges):
    """BPE merge rules: a path to ``merges.txt`` or a list of ``"a b"`` strings.

    The ``#version`` header line and blank lines are dropped.
    """
    if _is_path(merges):
        with open(_check_file(merges, "Merges"), encoding="utf-8") as file:
            merges = [line.rstrip("\n").rstrip("\r") for line in file]
    try:
        merges = [" ".join(m) if isinstance(m, (tuple, list)) else str(m) for m in merges]
    except TypeError:
        raise TypeError(
            f"merges must be a merges.txt path or a list of 'a b' strings, got {type(merges).__name__}."
        ) from None
    return [m for m in merges if m.strip() and not m.lstrip().startswith("#version")]


# --- factories ---------------------------------------------------------------


def wordpiece_tokenizer(
    vocabulary,
    lowercase=True,
    strip_accents=True,
    sequence_length=None,
    oov_token="[UNK]",
    special_tokens=None,
    special_tokens_in_strings=False,
    normalization="keras_hub",
):
    """BERT's WordPiece (keras-hub ``WordPieceTokenizer``, tf-text ``FastWordpieceTokenizer``).

    Args:
        vocabulary: path to a ``vocab.txt`` (one token per line) or a list of tokens.
        lowercase, strip_accents: BERT "uncased" models use both (the default);
            "cased" models use neither.
        sequence_length: pad/truncate dense outputs to this length (None = ragged).
        oov_token: must be in the vocabulary.
        special_tokens: tokens never split (default: the BERT specials that
            are in the vocabulary); matched in raw text only if
            ``special_tokens_in_strings``.
        normalization: ``"keras_hub"`` (its own: NFKC case folding) or
            ``"bert"``: Hugging Face ``BertTokenizer``'s (drop control and
            format characters, every Unicode space is a space, NFD accent
            stripping, plain lower-casing), for id parity with imported
            checkpoints. See :class:`BertWordPieceTokenizer`.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}.")
    tokens = read_vocabulary_list(vocabulary)
    if oov_token not in tokens:
        raise ValueError(
            f"The out-of-vocabulary token {oov_token!r} is not in the vocabulary "
            f"({len(tokens)} tokens, first {tokens[:5]}). Add it, or pass oov_token=<a token that is>."
        )
    if special_tokens is None:
        special_tokens = [t for t in BERT_SPECIAL_TOKENS if t in tokens]
    cls = BertWordPieceTokenizer if normalization == "bert" else keras_hub.tokenizers.WordPieceTokenizer
    return cls(
        vocabulary=tokens,
        sequence_length=sequence_length,
        lowercase=lowercase,
        strip_accents=strip_accents,
        oov_token=oov_token,
        special_tokens=list(special_tokens),
        special_tokens_in_strings=special_tokens_in_strings,
    )


NORMALIZATIONS = ("keras_hub", "bert")


def _python_strings(tensor):
    """A string tensor as str / nested lists of str (keras-hub's eager path wants Python)."""
    value = tensor.numpy()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return [_python_strings(tf.constant(v)) if isinstance(v, np.ndarray) else v.decode("utf-8")
            for v in value]


@keras.saving.register_keras_serializable(package="zoo")
class BertWordPieceTokenizer(keras_hub.tokenizers.WordPieceTokenizer):
    r"""keras-hub WordPiece behind Hugging Face ``BertTokenizer``'s text normalization.

    keras-hub lower-cases with NFKC case folding (``straße`` -> ``strasse``,
    ``ﬁ`` -> ``fi``, full-width letters -> ASCII) and keeps control/format
    characters; BERT's reference tokenizer drops control and format
    characters (``\p{C}`` except tab/newline), maps every Unicode space to
    ``" "``, strips accents by NFD + removing marks, and lower-cases per
    character. This class does exactly that with TF string ops (so it runs in
    graphs), then hands the text to keras-hub with its own lower-casing and
    accent stripping off. Splitting and WordPiece are keras-hub's.
    """

    def __init__(self, vocabulary=None, lowercase=True, strip_accents=True, **kwargs):
        kwargs.pop("normalization", None)
        super().__init__(vocabulary=vocabulary, lowercase=False, strip_accents=False, **kwargs)
        self.bert_lowercase = bool(lowercase)
        self.bert_strip_accents = bool(strip_accents)

    def normalize(self, inputs):
        x = tf.convert_to_tensor(inputs, dtype=tf.string)
        x = tf.strings.regex_replace(x, r"[\x{0}\x{FFFD}]|[^\P{C}\t\n\r]", "")
        x = tf.strings.regex_replace(x, r"[\t\n\r\p{Z}]", " ")
        if self.bert_strip_accents:
            x = tf.strings.regex_replace(tf_text.normalize_utf8(x, "NFD"), r"\p{Mn}", "")
        if self.bert_lowercase:
            x = tf.strings.lower(x, encoding="utf-8")
        return x

    def tokenize(self, inputs):
        normalized = self.normalize(inputs)
        if not self._use_tf_workflow():
            normalized = _python_strings(normalized)
        return super().tokenize(normalized)

    def get_config(self):
        config = super().get_config()
        config.update(lowercase=self.bert_lowercase, strip_accents=self.bert_strip_accents,
                      normalization="bert")
        return config


def byte_pair_tokenizer(
    vocabulary,
    merges,
    sequence_length=None,
    add_prefix_space=False,
    unsplittable_tokens=None,
):
    """GPT-2's byte-level BPE (keras-hub ``BytePairTokenizer``).

    Args:
        vocabulary: path to ``vocab.json`` or a {token: id} dict (or a list, id = index).
        merges: path to ``merges.txt`` or a list of ``"a b"`` rules, highest priority first.
        sequence_length: pad/truncate dense outputs to this length (None = ragged).
        add_prefix_space: prepend a space, so a leading word tokenizes like a middle one.
        unsplittable_tokens: strings kept whole, e.g. ``"<|endoftext|>"`` (the
            default, when it is in the vocabulary).
    """
    vocabulary = read_vocabulary_dict(vocabulary)
    merges = read_merges(merges)
    if unsplittable_tokens is None:
        unsplittable_tokens = [GPT2_END_OF_TEXT] if GPT2_END_OF_TEXT in vocabulary else []
    missing = [t for t in unsplittable_tokens if t not in vocabulary]
    if missing:
        raise ValueError(f"unsplittable_tokens {missing} are not in the vocabulary; add them or drop them.")
    return keras_hub.tokenizers.BytePairTokenizer(
        vocabulary=vocabulary,
        merges=merges,
        sequence_length=sequence_length,
        add_prefix_space=add_prefix_space,
        unsplittable_tokens=list(unsplittable_tokens) or None,
    )


def sentencepiece_tokenizer(proto, sequence_length=None, add_bos=False, add_eos=False):
    """A SentencePiece model (keras-hub ``SentencePieceTokenizer``) from a ``.model`` path or bytes."""
    if _is_path(proto):
        with open(_check_file(proto, "SentencePiece model"), "rb") as file:
            proto = file.read()
    return keras_hub.tokenizers.SentencePieceTokenizer(
        proto=proto, sequence_length=sequence_length, add_bos=add_bos, add_eos=add_eos
    )


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
        with open(_check_file(vocabulary, "Character vocabulary"), encoding="utf-8") as file:
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


# --- training vocabularies -----------------------------------------------------


def _corpus_data(corpus):
    """keras-hub trainers take a tf.data.Dataset of strings or a list of filenames."""
    if isinstance(corpus, tf.data.Dataset):
        return corpus
    if _is_path(corpus):
        corpus = [corpus]
    corpus = list(corpus)
    if not corpus:
        raise ValueError("The training corpus is empty: pass text lines, files or a tf.data.Dataset.")
    if all(_is_path(item) and os.path.isfile(item) for item in corpus):
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


# --- saving and loading ------------------------------------------------------

_KINDS = {
    "wordpiece": keras_hub.tokenizers.WordPieceTokenizer,
    "byte_pair": keras_hub.tokenizers.BytePairTokenizer,
    "sentencepiece": keras_hub.tokenizers.SentencePieceTokenizer,
    "character": CharacterTokenizer,
}


def tokenizer_kind(tokenizer):
    """The short name ("wordpiece", "byte_pair", ...) under which a tokenizer is saved."""
    for kind, cls in _KINDS.items():
        if type(tokenizer) is cls:
            return kind
    for kind, cls in _KINDS.items():
        if isinstance(tokenizer, cls):
            return kind
    raise TypeError(
        f"Cannot save a {type(tokenizer).__name__}: zoo saves {', '.join(c.__name__ for c in _KINDS.values())}."
    )


def describe_tokenizer(tokenizer):
    """The JSON-able description written next to the assets: kind + config."""
    config = {k: v for k, v in tokenizer.get_config().items() if k not in ("dtype", "name", "trainable", "config_file", "vocabulary", "proto")}
    config = json.loads(json.dumps(config, default=str))
    return {"kind": tokenizer_kind(tokenizer), "config": config}


def save_tokenizer(tokenizer, folder):
    """Write the tokenizer's assets and ``tokenizer.json`` into ``folder`` (created)."""
    os.makedirs(folder, exist_ok=True)
    tokenizer.save_assets(folder)
    with open(os.path.join(folder, TOKENIZER_CONFIG), "w", encoding="utf-8") as file:
        json.dump(describe_tokenizer(tokenizer), file, indent=2, ensure_ascii=False)
    return folder


def load_tokenizer(folder, description=None):
    """Rebuild a tokenizer saved with :func:`save_tokenizer` (or described by ``description``)."""
    folder = os.fspath(folder)
    if description is None:
        path = os.path.join(folder, TOKENIZER_CONFIG)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No {TOKENIZER_CONFIG} in {folder!r}: save it with save_tokenizer().")
        with open(path, encoding="utf-8") as file:
            description = json.load(file)
    kind, config = description.get("kind"), dict(description.get("config", {}))
    if kind not in _KINDS:
        raise ValueError(f"Unknown tokenizer kind {kind!r} in {folder!r}; known: {', '.join(_KINDS)}.")
    if kind == "wordpiece":
        return wordpiece_tokenizer(
            os.path.join(folder, "vocabulary.txt"),
            lowercase=config.get("lowercase", False),
            strip_accents=config.get("strip_accents", False),
            sequence_length=config.get("sequence_length"),
            oov_token=config.get("oov_token", "[UNK]"),
            special_tokens=config.get("special_tokens") or [],
            special_tokens_in_strings=config.get("special_tokens_in_strings", False),
            normalization=config.get("normalization", "keras_hub"),
        )
    if kind == "byte_pair":
        return byte_pair_tokenizer(
            os.path.join(folder, "vocabulary.json"),
            os.path.join(folder, "merges.txt"),
            sequence_length=config.get("sequence_length"),
            add_prefix_space=config.get("add_prefix_space", False),
            unsplittable_tokens=config.get("unsplittable_tokens") or [],
        )
    if kind == "sentencepiece":
        return sentencepiece_tokenizer(
            os.path.join(folder, "vocabulary.spm"),
            sequence_length=config.get("sequence_length"),
            add_bos=config.get("add_bos", False),
            add_eos=config.get("add_eos", False),
        )
    tokenizer = CharacterTokenizer(sequence_length=config.get("sequence_length"))
    tokenizer.load_assets(folder)
    return tokenizer
