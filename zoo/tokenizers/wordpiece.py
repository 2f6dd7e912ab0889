"""WordPiece (BERT): keras-hub's tokenizer, with Hugging Face ``BertTokenizer``'s normalization on request."""

import keras
import keras_hub
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.tokenizers.vocabulary_files import BERT_SPECIAL_TOKENS, read_vocabulary_list


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
