"""keras-hub tokenizers <-> zoo tokenizers (WordPiece for BERT, byte-level BPE for GPT-2).

zoo's tokenizers *are* keras-hub tokenizer layers (``zoo.tokenizers``), so a
conversion carries the vocabulary (and merges) and the settings that change
ids: casing, accent stripping, special tokens, prefix space. WordPiece keeps
keras-hub's own normalization (``normalization="keras_hub"``), so ids are
identical by construction; a zoo tokenizer with Hugging Face's normalization
(``"bert"``, every tokenizer imported from Hugging Face) is refused on the way
to keras-hub, which cannot express it.

A preset folder's tokenizer is converted from ``tokenizer.json`` (read as
JSON) and its asset files, never deserialized: keras-hub would need safe mode
off to read a vocabulary file.
"""

from zoo.checkpoints.hf_folder import CheckpointError

# keras-hub tokenizer classes zoo converts, by the family they serve.
WORDPIECE = ("BertTokenizer", "WordPieceTokenizer")
BYTE_PAIR = ("GPT2Tokenizer", "BytePairTokenizer")
# Special tokens keras-hub's BertTokenizer registers itself (never split when in strings).
BERT_SPECIALS = ("[CLS]", "[SEP]", "[PAD]", "[MASK]")
GPT2_END = "<|endoftext|>"
# WordPiece options zoo's factory keeps at keras-hub's defaults.
WORDPIECE_DEFAULTS = {"split": True, "split_on_cjk": True, "suffix_indicator": "##"}


def to_zoo(class_name, config, vocabulary, merges=None):
    """The zoo tokenizer for a keras-hub tokenizer of ``class_name`` with ``config`` (its ``get_config()``).

    ``vocabulary``: a list of tokens (WordPiece) or ``{token: id}`` (BPE);
    ``merges``: BPE merge rules.
    """
    from zoo import tokenizers

    if class_name in BYTE_PAIR:
        return tokenizers.byte_pair_tokenizer(
            vocabulary, merges,
            add_prefix_space=bool(config.get("add_prefix_space", False)),
            unsplittable_tokens=list(config.get("unsplittable_tokens") or []),
        )
    if class_name not in WORDPIECE:
        raise CheckpointError(
            f"keras-hub tokenizer {class_name} is not supported; zoo converts {', '.join(WORDPIECE + BYTE_PAIR)}."
        )
    for field, default in WORDPIECE_DEFAULTS.items():
        if config.get(field, default) != default:
            raise CheckpointError(
                f"keras-hub {class_name} {field}={config[field]!r} is not supported; zoo's WordPiece "
                f"uses {field}={default!r}."
            )
    specials = list(BERT_SPECIALS if class_name == "BertTokenizer" else ()) + list(config.get("special_tokens") or [])
    return tokenizers.wordpiece_tokenizer(
        vocabulary,
        lowercase=bool(config.get("lowercase", False)),
        strip_accents=bool(config.get("strip_accents", False)),
        oov_token=config.get("oov_token", "[UNK]"),
        special_tokens=list(dict.fromkeys(specials)),
        special_tokens_in_strings=bool(config.get("special_tokens_in_strings", False)),
        normalization="keras_hub",
    )


def from_keras_hub(tokenizer):
    """The zoo tokenizer for an in-memory keras-hub tokenizer."""
    known = WORDPIECE + BYTE_PAIR
    name = next((c.__name__ for c in type(tokenizer).__mro__ if c.__name__ in known), type(tokenizer).__name__)
    if name in BYTE_PAIR:
        return to_zoo(name, tokenizer.get_config(), dict(tokenizer.vocabulary), list(tokenizer.merges))
    return to_zoo(name, tokenizer.get_config(), tokenizer.get_vocabulary())


def to_keras_hub(tokenizer, family):
    """keras-hub's ``BertTokenizer`` / ``GPT2Tokenizer`` with the zoo ``tokenizer``'s ids."""
    import keras_hub

    from zoo import tokenizers

    kind = tokenizers.tokenizer_kind(tokenizer)
    wanted = {"bert": "wordpiece", "gpt2": "byte_pair"}[family]
    if kind != wanted:
        raise CheckpointError(f"A keras-hub {family} preset needs a {wanted} tokenizer; got a {kind} tokenizer.")
    if family == "gpt2":
        if GPT2_END not in tokenizer.vocabulary:
            raise CheckpointError(f"keras-hub's GPT2Tokenizer needs {GPT2_END!r} in the vocabulary; this one has none.")
        return keras_hub.models.GPT2Tokenizer(
            vocabulary=dict(tokenizer.vocabulary), merges=list(tokenizer.merges),
            add_prefix_space=tokenizer.add_prefix_space, unsplittable_tokens=tokenizer.unsplittable_tokens,
        )
    if isinstance(tokenizer, tokenizers.BertWordPieceTokenizer):
        raise CheckpointError(
            "This WordPiece tokenizer has normalization='bert' (Hugging Face BertTokenizer's text "
            "cleaning), which keras-hub's BertTokenizer cannot express: ids would differ on control, "
            "format and some accented characters."
        )
    vocabulary = tokenizer.get_vocabulary()
    missing = [token for token in BERT_SPECIALS if token not in vocabulary]
    if missing:
        raise CheckpointError(f"keras-hub's BertTokenizer needs {missing} in the vocabulary.")
    config = tokenizer.get_config()
    return keras_hub.models.BertTokenizer(
        vocabulary=vocabulary, lowercase=tokenizer.lowercase, strip_accents=tokenizer.strip_accents,
        oov_token=tokenizer.oov_token, special_tokens=config.get("special_tokens"),
        special_tokens_in_strings=tokenizer.special_tokens_in_strings,
    )
