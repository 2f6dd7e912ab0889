"""Saving a tokenizer's assets with a ``tokenizer.json`` description, and loading it back."""

import json
import os

import keras_hub

from zoo.tokenizers.byte_pair import byte_pair_tokenizer
from zoo.tokenizers.character import CharacterTokenizer
from zoo.tokenizers.sentencepiece import sentencepiece_tokenizer
from zoo.tokenizers.wordpiece import wordpiece_tokenizer

TOKENIZER_CONFIG = "tokenizer.json"


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
