"""The model folder: a Keras model plus the tokenizer(s) that turn text into its ids.

    folder/
      model.keras          the model (keras.saving format, loads without custom_objects)
      tokenizer.json       what the tokenizers are + generation defaults (small, human-readable)
      tokenizer/           assets of the (source) tokenizer: vocabulary.txt, vocabulary.json + merges.txt, ...
      target_tokenizer/    seq2seq only, when the target side has its own vocabulary

``save_model_folder(folder, model, tokenizer)`` writes it; ``zoo.load(folder)``
returns a :class:`TextModel` (which takes strings) when a tokenizer is present
and the plain Keras model otherwise. The JSON is versioned so later fields
can be added without breaking old folders.
"""

import json
import os

import keras

from zoo import generation

MODEL_FILE = "model.keras"


def _tokenizers():
    """``zoo.tokenizers``, imported when a tokenizer is saved or loaded (it loads keras-hub and tensorflow-text)."""
    from zoo import tokenizers

    return tokenizers
FOLDER_CONFIG = "tokenizer.json"
FORMAT_VERSION = 1
_SLOTS = ("tokenizer", "target_tokenizer")

# Tokens that end a sequence, by convention of the tokenizer families we ship.
_END_TOKENS = ("<|endoftext|>", "</s>", "<eos>", "[SEP]", "[EOS]")
_START_TOKENS = ("<s>", "<bos>", "[CLS]", "[BOS]", "<|endoftext|>")


def _special_id(tokenizer, candidates):
    if tokenizer is None:
        return None
    vocabulary = tokenizer.get_vocabulary()
    known = set(vocabulary)
    for token in candidates:
        if token in known:
            return int(tokenizer.token_to_id(token))
    return None


def default_generation_config(tokenizer, target_tokenizer=None):
    """Start/stop token ids guessed from the (target) tokenizer's special tokens."""
    output_tokenizer = target_tokenizer or tokenizer
    config = {}
    stop = _special_id(output_tokenizer, _END_TOKENS)
    if stop is not None:
        config["stop_token_ids"] = [stop]
    start = _special_id(output_tokenizer, _START_TOKENS)
    if start is not None:
        config["start_token_id"] = start
    return config


def save_model_folder(folder, model, tokenizer=None, *, target_tokenizer=None, generation=None):
    """Write ``model`` (and its tokenizer assets + ``tokenizer.json``) into ``folder``.

    Args:
        folder: created if missing; existing files of the same names are replaced.
        model: a Keras model (any zoo family).
        tokenizer: a tokenizer from :mod:`zoo.tokenizers` (the source side for seq2seq), or None.
        target_tokenizer: seq2seq only, when target ids use another vocabulary.
        generation: defaults for ``generate`` stored with the model, e.g.
            ``{"stop_token_ids": [50256], "start_token_id": 1}``; by default guessed
            from the tokenizer's special tokens.
    Returns the folder path.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}.")
    if target_tokenizer is not None and tokenizer is None:
        raise ValueError("target_tokenizer needs a (source) tokenizer too.")
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, MODEL_FILE))
    config_path = os.path.join(folder, FOLDER_CONFIG)
    if tokenizer is None:
        if os.path.exists(config_path):
            os.remove(config_path)  # a stale tokenizer must not be paired with a new model
        return folder
    description = {"format_version": FORMAT_VERSION}
    for slot, tok in zip(_SLOTS, (tokenizer, target_tokenizer)):
        if tok is None:
            continue
        assets = os.path.join(folder, slot)
        os.makedirs(assets, exist_ok=True)
        tok.save_assets(assets)
        description[slot] = {**_tokenizers().describe_tokenizer(tok), "assets": slot}
    if generation is None:
        generation = default_generation_config(tokenizer, target_tokenizer)
    description["generation"] = dict(generation)
    with open(config_path, "w", encoding="utf-8") as file:
        json.dump(description, file, indent=2, ensure_ascii=False)
    return folder


def has_tokenizer(folder):
    """True when ``folder`` is a model folder with tokenizer assets."""
    return os.path.isfile(os.path.join(os.fspath(folder), FOLDER_CONFIG))


def load_model_folder(folder, compile=True, model=None):
    """A :class:`TextModel` from a folder written by :func:`save_model_folder`.

    ``model``: an already loaded Keras model to pair with the tokenizer (else
    ``model.keras`` is loaded in safe mode).
    """
    folder = os.fspath(folder)
    with open(os.path.join(folder, FOLDER_CONFIG), encoding="utf-8") as file:
        description = json.load(file)
    version = description.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{os.path.join(folder, FOLDER_CONFIG)} has format_version {version!r}; this zoo "
            f"reads version {FORMAT_VERSION}. Upgrade zoo or re-save the folder."
        )
    if model is None:
        model = keras.saving.load_model(os.path.join(folder, MODEL_FILE), compile=compile, safe_mode=True)
    loaded = {
        slot: _tokenizers().load_tokenizer(os.path.join(folder, description[slot].get("assets", slot)),
                                            description[slot])
        for slot in _SLOTS
        if slot in description
    }
    return TextModel(model, loaded["tokenizer"], loaded.get("target_tokenizer"),
                     generation=description.get("generation", {}))


class TextModel:
    """A zoo model with its tokenizer: strings in, strings out.

    Attributes: ``model`` (the Keras model), ``tokenizer`` (source/prompt
    side), ``target_tokenizer`` (output side; the same as ``tokenizer``
    unless a seq2seq folder saved its own), ``generation`` (stored defaults
    such as ``stop_token_ids``).

        lm = zoo.load("runs/shakespeare-char")
        lm.generate("ROMEO:", max_new_tokens=100, sampler="top_p")   # -> str
        lm(["ROMEO:"])                                              # -> logits of the ids
    """

    def __init__(self, model, tokenizer, target_tokenizer=None, generation=None):
        if tokenizer is None:
            raise ValueError("A TextModel needs a tokenizer; use the Keras model directly otherwise.")
        self.model = model
        self.tokenizer = tokenizer
        self.target_tokenizer = target_tokenizer or tokenizer
        self.generation = dict(generation or {})

    def __repr__(self):
        return (f"TextModel({type(self.model).__name__} {self.model.name!r}, "
                f"tokenizer={type(self.tokenizer).__name__})")

    def encode(self, texts):
        """str -> list of ids; list of str -> list of lists of ids (ragged, no padding)."""
        return _to_id_lists(self.tokenizer.tokenize(texts))

    def decode(self, ids, target=True):
        """ids (list or (B, T) array) -> strings, with the target (output) tokenizer."""
        tokenizer = self.target_tokenizer if target else self.tokenizer
        if isinstance(ids, (list, tuple)) and len(ids) == 0:
            return ""  # e.g. a generation that stopped at once
        text = tokenizer.detokenize(ids)
        return _to_str(text)

    def generate(self, prompts, **kwargs):
        """``zoo.generate`` with this folder's tokenizer and generation defaults."""
        return generation.generate(self, prompts, **kwargs)

    def __call__(self, inputs, *args, **kwargs):
        return self.model(inputs, *args, **kwargs)

    def save(self, folder):
        return save_model_folder(
            folder,
            self.model,
            self.tokenizer,
            target_tokenizer=None if self.target_tokenizer is self.tokenizer else self.target_tokenizer,
            generation=self.generation,
        )


def _to_id_lists(ids):
    """Tokenizer output (list, array, tf (ragged) tensor) -> Python ints / lists of ints."""
    if hasattr(ids, "to_list"):
        ids = ids.to_list()
    elif hasattr(ids, "numpy"):
        ids = ids.numpy().tolist()
    elif hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, list) and ids and not isinstance(ids[0], (list, tuple)) and hasattr(ids[0], "tolist"):
        ids = [row.tolist() for row in ids]
    return ids


def _to_str(text):
    if hasattr(text, "numpy"):
        text = text.numpy()
    if hasattr(text, "tolist"):
        text = text.tolist()
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    if isinstance(text, list):
        return [_to_str(t) for t in text]
    return text
