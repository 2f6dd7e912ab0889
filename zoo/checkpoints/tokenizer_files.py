"""Hugging Face tokenizer files <-> zoo tokenizers.

Reading: BERT reads ``vocab.txt`` (casing from ``tokenizer_config.json``),
GPT-2 reads ``vocab.json`` + ``merges.txt``; either falls back to a
``tokenizer.json`` (the ``tokenizers`` library's single-file format, parsed
as plain JSON). The tokenizers themselves are built by :mod:`zoo.tokenizers`
(``wordpiece_tokenizer``, ``byte_pair_tokenizer``); this module only finds
files and reads their settings.

Writing (:func:`files_for`): the same files with the settings
``BertTokenizer`` / ``GPT2Tokenizer`` read, so ``AutoTokenizer`` loads them
and :func:`load_tokenizer` reads them back to the same zoo tokenizer.

Special tokens are not added: like Hugging Face's ``tokenize``, the
WordPiece tokenizer returns the ids of the text alone; BERT inputs are
``[CLS] ids [SEP]``.
"""

import os

from zoo.checkpoints.hf_folder import CheckpointError, read_json

# Per tokenizer format: the file sets that can make its tokenizer, in order of preference.
FILE_SETS = {
    "bert": (("vocab.txt",), ("tokenizer.json",)),
    "gpt2": (("vocab.json", "merges.txt"), ("tokenizer.json",)),
}


class TokenizerFilesMissing(CheckpointError, FileNotFoundError):
    """The folder has weights but none of the file sets its tokenizer needs."""


def find_files(folder, tokenizer_format):
    """The first complete file set for ``tokenizer_format`` in ``folder``, as full paths; else an error."""
    sets = FILE_SETS[tokenizer_format]
    for names in sets:
        paths = [os.path.join(folder, name) for name in names]
        if all(os.path.isfile(path) for path in paths):
            return paths
    wanted = " or ".join(" + ".join(names) for names in sets)
    missing = sorted({name for names in sets for name in names if not os.path.isfile(os.path.join(folder, name))})
    raise TokenizerFilesMissing(
        f"No tokenizer files in {folder!r}: a {tokenizer_format} tokenizer needs {wanted}; "
        f"missing: {', '.join(missing)}. Copy them from the checkpoint's source "
        "(they are saved by `tokenizer.save_pretrained(folder)`), or import the weights "
        "alone with from_huggingface(path, tokenizer=False) / `zoo import --no-tokenizer`."
    )


def load_tokenizer(folder, tokenizer_format):
    """The zoo tokenizer for a ``tokenizer_format`` ("bert" or "gpt2") checkpoint folder."""
    paths = find_files(folder, tokenizer_format)
    if paths[0].endswith("tokenizer.json"):
        return _from_tokenizer_json(paths[0], tokenizer_format, folder)
    from zoo import tokenizers

    settings = _tokenizer_config(folder)
    if tokenizer_format == "bert":
        lowercase, strip_accents = _bert_casing(folder)
        return tokenizers.wordpiece_tokenizer(
            paths[0], lowercase=lowercase, strip_accents=strip_accents, normalization="bert",
            # only an explicit split_special_tokens=false (as zoo writes it) matches [SEP] etc. in text
            special_tokens_in_strings=settings.get("split_special_tokens") is False,
        )
    return tokenizers.byte_pair_tokenizer(paths[0], paths[1], add_prefix_space=bool(settings.get("add_prefix_space")))


def _tokenizer_config(folder):
    """The folder's ``tokenizer_config.json`` as a dict (empty when absent)."""
    path = os.path.join(folder, "tokenizer_config.json")
    return (read_json(path) or {}) if os.path.isfile(path) else {}


def _bert_casing(folder, normalizer=None):
    """``(lowercase, strip_accents)`` as Hugging Face's BertTokenizer would use them.

    ``do_lower_case`` defaults to True; ``strip_accents`` None means "follow
    lowercase" (uncased models strip accents, cased ones keep them).
    """
    settings = _tokenizer_config(folder)
    if normalizer:  # tokenizer.json's BertNormalizer has the same two switches
        settings = {"do_lower_case": normalizer.get("lowercase", True),
                    "strip_accents": normalizer.get("strip_accents"), **settings}
    lowercase = bool(settings.get("do_lower_case", True))
    strip_accents = settings.get("strip_accents")
    return lowercase, lowercase if strip_accents is None else bool(strip_accents)


def _from_tokenizer_json(path, tokenizer_format, folder):
    from zoo import tokenizers

    spec = read_json(path)
    model = spec.get("model") or {}
    kind = model.get("type")
    if tokenizer_format == "bert":
        if kind != "WordPiece" or not isinstance(model.get("vocab"), dict):
            raise CheckpointError(f"{path} holds a {kind} tokenizer; a BERT checkpoint needs WordPiece.")
        lowercase, strip_accents = _bert_casing(folder, spec.get("normalizer") or {})
        return tokenizers.wordpiece_tokenizer(
            model["vocab"], lowercase=lowercase, strip_accents=strip_accents,
            oov_token=model.get("unk_token", "[UNK]"), normalization="bert",
        )
    if kind != "BPE" or not isinstance(model.get("vocab"), dict):
        raise CheckpointError(f"{path} holds a {kind} tokenizer; a GPT-2 checkpoint needs byte-level BPE.")
    return tokenizers.byte_pair_tokenizer(model["vocab"], model.get("merges") or [])


# Special tokens transformers' tokenizers are told about, when the vocabulary has them.
_BERT_SPECIALS = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]"}
_GPT2_END = "<|endoftext|>"


def files_for(tokenizer, tokenizer_format, max_length):
    """``{file name: text}`` of ``tokenizer`` (a zoo WordPiece or byte-level BPE) for a ``tokenizer_format`` folder.

    Raises a :class:`CheckpointError` naming the setting transformers'
    tokenizer cannot express; warns when ids may differ on rare characters.
    """
    import json

    from zoo import tokenizers

    kind = tokenizers.tokenizer_kind(tokenizer)
    wanted = {"bert": "wordpiece", "gpt2": "byte_pair"}[tokenizer_format]
    if kind != wanted:
        raise CheckpointError(
            f"A {tokenizer_format} checkpoint needs a {wanted} tokenizer; got a {kind} tokenizer "
            f"({type(tokenizer).__name__}). Pass the model's own tokenizer, or tokenizer=None."
        )
    settings = {"model_max_length": int(max_length)}
    if tokenizer_format == "bert":
        files = {"vocab.txt": "".join(f"{token}\n" for token in tokenizer.get_vocabulary())}
        settings.update(_wordpiece_settings(tokenizer))
    else:
        files = {
            "vocab.json": json.dumps(dict(tokenizer.vocabulary), ensure_ascii=False),
            "merges.txt": "#version: 0.2\n" + "".join(f"{merge}\n" for merge in tokenizer.merges),
        }
        settings.update(_byte_pair_settings(tokenizer))
    files["tokenizer_config.json"] = json.dumps(settings, indent=2, ensure_ascii=False)
    return files


def _wordpiece_settings(tokenizer):
    import warnings

    from zoo import tokenizers

    vocabulary = set(tokenizer.get_vocabulary())
    if isinstance(tokenizer, tokenizers.BertWordPieceTokenizer):
        lowercase, strip_accents = tokenizer.bert_lowercase, tokenizer.bert_strip_accents
    else:
        lowercase, strip_accents = bool(tokenizer.lowercase), bool(tokenizer.strip_accents)
        warnings.warn(
            "This WordPiece tokenizer uses keras-hub's normalization (NFKC case folding); "
            "transformers' BertTokenizer normalizes control, format and some accented or "
            "full-width characters differently, so ids can differ on such text. Tokenizers "
            "with normalization='bert' (all imported ones) match exactly.",
            stacklevel=4,
        )
    for field, default in (("split", True), ("split_on_cjk", True), ("suffix_indicator", "##")):
        if getattr(tokenizer, field) != default:
            raise CheckpointError(
                f"WordPiece {field}={getattr(tokenizer, field)!r} cannot be expressed for "
                f"transformers' BertTokenizer (it uses {field}={default!r})."
            )
    return {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": lowercase,
        "strip_accents": strip_accents,
        "tokenize_chinese_chars": True,
        # transformers matches special tokens written in the text unless told to split them
        "split_special_tokens": not tokenizer.special_tokens_in_strings,
        "unk_token": tokenizer.oov_token,
        **{name: token for name, token in _BERT_SPECIALS.items() if token in vocabulary},
    }


def _byte_pair_settings(tokenizer):
    extra = [t for t in tokenizer.unsplittable_tokens or [] if t != _GPT2_END]
    if extra:
        raise CheckpointError(
            f"unsplittable_tokens {extra} cannot be written for transformers' GPT2Tokenizer by zoo "
            f"(only {_GPT2_END!r} is); drop them or write the tokenizer files yourself."
        )
    settings = {"tokenizer_class": "GPT2Tokenizer", "add_prefix_space": bool(tokenizer.add_prefix_space)}
    if _GPT2_END in tokenizer.vocabulary:
        settings.update(bos_token=_GPT2_END, eos_token=_GPT2_END, unk_token=_GPT2_END)
    return settings
