"""A zoo tokenizer from a Hugging Face folder's tokenizer files.

BERT reads ``vocab.txt`` (casing from ``tokenizer_config.json``), GPT-2 reads
``vocab.json`` + ``merges.txt``; either falls back to a ``tokenizer.json``
(the ``tokenizers`` library's single-file format, parsed as plain JSON).
The tokenizers themselves are built by :mod:`zoo.tokenizers`
(``wordpiece_tokenizer``, ``byte_pair_tokenizer``); this module only finds
files and reads their settings.

Special tokens are not added: like Hugging Face's ``tokenize``, the
WordPiece tokenizer returns the ids of the text alone; BERT inputs are
``[CLS] ids [SEP]``.
"""

import os

from zoo.checkpoints.hf_folder import CheckpointError, read_json

# Per family: the file sets that can make its tokenizer, in order of preference.
FILE_SETS = {
    "bert": (("vocab.txt",), ("tokenizer.json",)),
    "gpt2": (("vocab.json", "merges.txt"), ("tokenizer.json",)),
}


class TokenizerFilesMissing(CheckpointError, FileNotFoundError):
    """The folder has weights but none of the file sets its tokenizer needs."""


def find_files(folder, family):
    """The first complete file set for ``family`` in ``folder``, as full paths; else an error."""
    sets = FILE_SETS[family]
    for names in sets:
        paths = [os.path.join(folder, name) for name in names]
        if all(os.path.isfile(path) for path in paths):
            return paths
    wanted = " or ".join(" + ".join(names) for names in sets)
    missing = sorted({name for names in sets for name in names if not os.path.isfile(os.path.join(folder, name))})
    raise TokenizerFilesMissing(
        f"No tokenizer files in {folder!r}: a {family} tokenizer needs {wanted}; "
        f"missing: {', '.join(missing)}. Copy them from the checkpoint's source "
        "(they are saved by `tokenizer.save_pretrained(folder)`), or import the weights "
        "alone with from_huggingface(path, tokenizer=False) / `zoo import --no-tokenizer`."
    )


def load_tokenizer(folder, family):
    """The zoo tokenizer for a ``family`` ("bert" or "gpt2") checkpoint folder."""
    paths = find_files(folder, family)
    if paths[0].endswith("tokenizer.json"):
        return _from_tokenizer_json(paths[0], family, folder)
    from zoo import tokenizers

    if family == "bert":
        lowercase, strip_accents = _bert_casing(folder)
        return tokenizers.wordpiece_tokenizer(
            paths[0], lowercase=lowercase, strip_accents=strip_accents, normalization="bert"
        )
    return tokenizers.byte_pair_tokenizer(paths[0], paths[1])


def _bert_casing(folder, normalizer=None):
    """``(lowercase, strip_accents)`` as Hugging Face's BertTokenizer would use them.

    ``do_lower_case`` defaults to True; ``strip_accents`` None means "follow
    lowercase" (uncased models strip accents, cased ones keep them).
    """
    settings = {}
    path = os.path.join(folder, "tokenizer_config.json")
    if os.path.isfile(path):
        settings = read_json(path) or {}
    if normalizer:  # tokenizer.json's BertNormalizer has the same two switches
        settings = {"do_lower_case": normalizer.get("lowercase", True),
                    "strip_accents": normalizer.get("strip_accents"), **settings}
    lowercase = bool(settings.get("do_lower_case", True))
    strip_accents = settings.get("strip_accents")
    return lowercase, lowercase if strip_accents is None else bool(strip_accents)


def _from_tokenizer_json(path, family, folder):
    from zoo import tokenizers

    spec = read_json(path)
    model = spec.get("model") or {}
    kind = model.get("type")
    if family == "bert":
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
