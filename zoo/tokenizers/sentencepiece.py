"""SentencePiece: keras-hub's ``SentencePieceTokenizer`` from a ``.model`` file or its bytes."""

import keras_hub

from zoo.tokenizers.vocabulary_files import check_file, is_path


def sentencepiece_tokenizer(proto, sequence_length=None, add_bos=False, add_eos=False):
    """A SentencePiece model (keras-hub ``SentencePieceTokenizer``) from a ``.model`` path or bytes."""
    if is_path(proto):
        with open(check_file(proto, "SentencePiece model"), "rb") as file:
            proto = file.read()
    return keras_hub.tokenizers.SentencePieceTokenizer(
        proto=proto, sequence_length=sequence_length, add_bos=add_bos, add_eos=add_eos
    )
