"""The public entry points: list, build and load models."""

import dataclasses
import os

import keras

from zoo import model_folder
from zoo.model_folder import MODEL_FILE
from zoo.models import FAMILIES
from zoo.presets import PRESETS, get_preset


def list_models():
    """Preset names, sorted."""
    return sorted(PRESETS)


def build(name, **overrides):
    """Build the preset ``name`` with config fields changed by ``overrides``.

    >>> model = zoo.build("gpt2", vocabulary_size=50257, dropout=0.0)

    Unknown names list the valid ones; unknown fields list the family's fields.
    """
    preset = get_preset(name)
    family = FAMILIES[preset.family]
    fields = {f.name for f in dataclasses.fields(family.config_class)} | {"dtype", "name"}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"Unknown config field(s) {unknown} for {name!r} ({family.__name__}). "
            f"Valid fields: {', '.join(sorted(fields))}."
        )
    config = {**preset.config, **overrides}
    config.setdefault("name", name.replace("-", "_"))
    return family(**config)


def load(path, compile=True):
    """Load a zoo model from a ``.keras`` file or a model folder holding ``model.keras``.

    A folder saved with a tokenizer (``zoo.model_folder.save_model_folder``)
    returns a ``TextModel`` that takes strings (``.model``, ``.tokenizer``,
    ``.generate``); otherwise the plain Keras model is returned.
    Uses Keras safe mode: no arbitrary code (lambdas, pickles) is executed.
    """
    path = os.fspath(path)
    folder = None
    if os.path.isdir(path):
        folder, path = path, os.path.join(path, MODEL_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No model at {path!r}: pass a .keras file or a folder containing {MODEL_FILE}."
        )
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (ValueError, OSError, KeyError) as error:
        raise ValueError(
            f"Could not load {path!r} as a Keras model ({error}). Is it a .keras file "
            "saved by zoo (model.save('m.keras'))?"
        ) from error
    if folder is not None and model_folder.has_tokenizer(folder):
        return model_folder.load_model_folder(folder, compile=compile, model=model)
    return model
