"""Reading a local keras-hub preset folder (``save_to_preset``) safely.

A preset is ``config.json`` (the backbone, a serialized Keras object),
``model.weights.h5``, optionally ``task.json`` (+ ``task.weights.h5``) for a
task model, and ``tokenizer.json`` + ``assets/tokenizer/*`` for its
tokenizer. Before keras-hub sees anything, every JSON file is parsed here
and its class checked against the ones zoo converts, and every file those
classes need is checked to be present, so an unsupported architecture or an
incomplete folder gets an error that names it. The model is then loaded by
keras-hub's own ``from_preset`` on the local folder (nothing is downloaded)
inside Keras' safe mode, which refuses serialized Python code (lambdas);
the task's preprocessor is not deserialized. The tokenizer is converted
from ``tokenizer.json`` and its asset files (``keras_hub_tokenizers``).
"""

import json
import os

from zoo.checkpoints import keras_hub_tokenizers
from zoo.checkpoints.hf_folder import CheckpointError, check_folder, read_json

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
TASK_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_ASSETS = os.path.join("assets", "tokenizer")
# registered names zoo converts -> the keras_hub.models class that loads them
BACKBONES = {"keras_hub>GPT2Backbone": "GPT2Backbone", "keras_hub>BertBackbone": "BertBackbone"}
TASKS = {
    "keras_hub>GPT2CausalLM": "GPT2CausalLM",
    "keras_hub>BertTextClassifier": "BertTextClassifier",
    "keras_hub>BertMaskedLM": "BertMaskedLM",
}
# tasks with weights of their own (keras-hub would leave a missing head at random initialization)
TASKS_WITH_WEIGHTS = ("BertTextClassifier", "BertMaskedLM")
# tokenizer registered name -> its asset files
TOKENIZERS = {
    "keras_hub>GPT2Tokenizer": ("vocabulary.json", "merges.txt"),
    "keras_hub>BertTokenizer": ("vocabulary.txt",),
}


def _require(folder, name):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{folder!r} has no {name}, which a keras-hub preset of this kind needs "
            f"(found: {', '.join(sorted(os.listdir(folder))) or 'nothing'}). Re-save it with "
            "`model.save_to_preset(folder)`."
        )
    return path


def _registered(folder, name, known, what):
    spec = read_json(_require(folder, name))
    registered = spec.get("registered_name") if isinstance(spec, dict) else None
    if registered not in known:
        hint = ""
        if isinstance(spec, dict) and "model_type" in spec:
            hint = " It is a Hugging Face config.json: use zoo.from_huggingface / `zoo import PATH`."
        raise CheckpointError(
            f"{os.path.join(folder, name)} describes {registered or 'no Keras object'}; zoo converts keras-hub "
            f"{what} {', '.join(v.split('>')[-1] for v in known)}.{hint}"
        )
    return spec


def read_tokenizer(folder):
    """The zoo tokenizer of a preset folder, or None when it has no ``tokenizer.json``."""
    if not os.path.isfile(os.path.join(folder, TOKENIZER_FILE)):
        return None
    spec = _registered(folder, TOKENIZER_FILE, TOKENIZERS, "tokenizers")
    paths = [_require(folder, os.path.join(TOKENIZER_ASSETS, name)) for name in TOKENIZERS[spec["registered_name"]]]
    class_name = spec["registered_name"].split(">")[-1]
    from zoo import tokenizers

    if len(paths) == 2:
        vocabulary, merges = tokenizers.read_vocabulary_dict(paths[0]), tokenizers.read_merges(paths[1])
        return keras_hub_tokenizers.to_zoo(class_name, spec.get("config") or {}, vocabulary, merges)
    return keras_hub_tokenizers.to_zoo(class_name, spec.get("config") or {}, tokenizers.read_vocabulary_list(paths[0]))


def inspect(folder):
    """``(folder, class name)``: the keras-hub class the preset holds (its task's when it has ``task.json``).

    Checks the JSON files and the weights file are there and consistent; loads nothing.
    """
    folder = check_folder(folder)
    backbone = _registered(folder, CONFIG_FILE, BACKBONES, "backbones")
    _require(folder, WEIGHTS_FILE)
    if not os.path.isfile(os.path.join(folder, TASK_FILE)):
        return folder, BACKBONES[backbone["registered_name"]]
    task = _registered(folder, TASK_FILE, TASKS, "tasks")
    nested = ((task.get("config") or {}).get("backbone") or {}).get("registered_name")
    if nested != backbone["registered_name"]:
        raise CheckpointError(
            f"{folder}: task.json's backbone is {nested}, config.json's is "
            f"{backbone['registered_name']}; the files come from different presets."
        )
    if TASKS[task["registered_name"]] in TASKS_WITH_WEIGHTS:
        _require(folder, TASK_WEIGHTS_FILE)
    return folder, TASKS[task["registered_name"]]


def load_model(folder):
    """The keras-hub model of a preset folder (its task model when it has ``task.json``)."""
    import keras_hub
    from keras.src.saving.serialization_lib import SafeModeScope  # Keras' own safe-mode switch

    folder, class_name = inspect(folder)
    is_task = class_name in TASKS.values()
    try:
        with SafeModeScope(True):
            if not is_task:
                return keras_hub.models.Backbone.from_preset(folder)
            return getattr(keras_hub.models, class_name).from_preset(folder, preprocessor=None)
    except (ValueError, KeyError, TypeError, OSError, json.JSONDecodeError) as error:
        # Keras names the layer that failed on the message's second line: keep the lines together.
        message = " ".join(line.strip() for line in str(error).splitlines() if line.strip())[:500]
        raise CheckpointError(
            f"keras-hub could not load the preset {folder!r} ({type(error).__name__}: {message}). "
            f"Its files do not belong together (config.json, {WEIGHTS_FILE}"
            f"{', ' + TASK_FILE + ', ' + TASK_WEIGHTS_FILE if is_task else ''}); re-save the model with `save_to_preset`."
        ) from error
