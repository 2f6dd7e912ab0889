"""Reading vocabulary and merges files, and the special tokens BERT and GPT-2 vocabularies hold.

Files are read here (not by keras-hub) so that loading works under Keras safe
mode, and in-memory lists/dicts are accepted everywhere a path is.
"""

import json
import os

GPT2_END_OF_TEXT = "<|endoftext|>"
BERT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def is_path(value):
    return isinstance(value, (str, os.PathLike))


def check_file(path, what):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file {path!r} does not exist.")
    return path


def read_vocabulary_list(vocabulary):
    """A WordPiece/character vocabulary: a path to a one-token-per-line file, or a list."""
    if is_path(vocabulary):
        with open(check_file(vocabulary, "Vocabulary"), encoding="utf-8") as file:
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
    if is_path(vocabulary):
        with open(check_file(vocabulary, "Vocabulary"), encoding="utf-8") as file:
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
    if is_path(merges):
        with open(check_file(merges, "Merges"), encoding="utf-8") as file:
            merges = [line.rstrip("\n").rstrip("\r") for line in file]
    try:
        merges = [" ".join(m) if isinstance(m, (tuple, list)) else str(m) for m in merges]
    except TypeError:
        raise TypeError(
            f"merges must be a merges.txt path or a list of 'a b' strings, got {type(merges).__name__}."
        ) from None
    return [m for m in merges if m.strip() and not m.lstrip().startswith("#version")]
