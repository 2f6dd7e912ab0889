"""``from_keras_hub(model_or_preset_dir)``: a keras-hub BERT / GPT-2 -> ``(zoo model, tokenizer)``.

    model, tokenizer = zoo.from_keras_hub(keras_hub.models.GPT2CausalLM(...))
    model, tokenizer = zoo.from_keras_hub("my_preset/")        # a local save_to_preset folder

| keras-hub | zoo |
|---|---|
| ``GPT2Backbone``, ``GPT2CausalLM`` | ``Gpt`` (its LM head is the tied token embedding, as keras-hub's) |
| ``BertBackbone`` | ``Bert`` |
| ``BertTextClassifier`` | ``BertClassifier`` |

Weights are read by variable path and shape-checked before any is assigned
(``keras_hub_mapping``); a keras-hub variable the mapping does not use (LoRA
adapters, quantization scales) is an error, never silently dropped. The
tokenizer (the task's preprocessor's, or the preset's ``tokenizer.json``)
becomes the zoo tokenizer with the same ids (``keras_hub_tokenizers``).
"""

import os

import keras

from zoo.checkpoints import keras_hub_mapping, keras_hub_preset, keras_hub_tokenizers
from zoo.checkpoints.hf_folder import CheckpointError
from zoo.checkpoints.tensor_source import assign_all

# keras-hub class -> (family, task), tasks before the backbones they contain.
CLASSES = {
    "GPT2CausalLM": ("gpt2", "causal_lm"),
    "BertTextClassifier": ("bert", "classifier"),
    "BertMaskedLM": ("bert", "masked_lm"),
    "GPT2Backbone": ("gpt2", "backbone"),
    "BertBackbone": ("bert", "backbone"),
}
SUPPORTED = "GPT2Backbone, GPT2CausalLM, BertBackbone, BertTextClassifier and BertMaskedLM"


def _kind(class_name):
    kind = CLASSES.get(class_name)
    if kind is None:
        raise CheckpointError(
            f"zoo converts keras-hub {SUPPORTED}; got a {class_name}, an architecture the zoo does not have."
        )
    return kind


def classify(model):
    """``(family, task)`` of an in-memory keras-hub model, or an error naming what is supported."""
    import keras_hub

    name = next((name for name in CLASSES if isinstance(model, getattr(keras_hub.models, name))), type(model).__name__)
    return _kind(name)


def _check_convertible(model, family, task):
    backbone = model.backbone if task in ("causal_lm", "classifier", "masked_lm") else model
    mode = getattr(backbone.dtype_policy, "quantization_mode", None)
    if mode:
        raise CheckpointError(f"The keras-hub model is quantized ({mode}); zoo imports float weights only.")
    if task == "classifier":
        activation = keras.activations.serialize(model.activation)
        if activation not in (None, "linear"):
            raise CheckpointError(
                f"BertTextClassifier activation={activation!r}: zoo's BertClassifier outputs logits "
                "(activation=None); apply the activation to its outputs instead."
            )
    return backbone


def _masked_lm_head_settings(model):
    """The zoo ``BertMaskedLM`` head arguments of keras-hub's ``mlm_head``; refuses an activation zoo lacks."""
    head = model.masked_lm_head
    activation = keras.activations.serialize(head.intermediate_activation)
    if activation not in ("gelu", "relu"):
        raise CheckpointError(
            f"BertMaskedLM head activation {activation!r}: zoo's masked-LM head takes 'gelu' (exact) or 'relu'."
        )
    return {"head_activation": activation, "head_layer_norm_epsilon": float(head.layer_norm_epsilon)}


def build_model(model):
    """The zoo model with every weight of the in-memory keras-hub ``model``."""
    import zoo

    family, task = classify(model)
    backbone = _check_convertible(model, family, task)
    head_settings = _masked_lm_head_settings(model) if task == "masked_lm" else None  # checked before building
    kwargs = keras_hub_mapping.zoo_config(family, backbone.get_config())
    if family == "gpt2":
        zoo_model = zoo.Gpt(**kwargs, name="gpt2")
    else:
        zoo_model = zoo.Bert(**kwargs, name="bert")
        if task == "classifier":
            zoo_model = zoo.BertClassifier(zoo_model, num_classes=model.num_classes, dropout=model.dropout,
                                           name="bert_classifier")
        elif task == "masked_lm":
            zoo_model = zoo.BertMaskedLM(zoo_model, **head_settings, name="bert_masked_lm")
    tensors = {variable.path: variable.value for variable in model.weights}  # read as numpy when taken
    source = keras_hub_mapping.KerasHubSource(tensors, "", keras_hub_mapping.summary(kwargs))
    pairs = keras_hub_mapping.weight_pairs(zoo_model, family, task, source, kwargs)
    unused = source.untaken()
    if unused:
        raise CheckpointError(
            f"The keras-hub model has variables zoo's {type(zoo_model).__name__} has no place for: "
            f"{unused[:8]}{' ...' if len(unused) > 8 else ''} (LoRA adapters or extra layers?). "
            "Merge or remove them first; nothing was imported."
        )
    assign_all(pairs)
    return zoo_model


def _own_tokenizer(model):
    preprocessor = getattr(model, "preprocessor", None)
    tokenizer = getattr(preprocessor, "tokenizer", None)
    return None if tokenizer is None else keras_hub_tokenizers.from_keras_hub(tokenizer)


def from_keras_hub(model_or_preset_dir, tokenizer=True):
    """Import a keras-hub model (in memory, or a local preset folder); returns ``(model, tokenizer)``.

    Args:
        model_or_preset_dir: a keras-hub ``GPT2Backbone``, ``GPT2CausalLM``,
            ``BertBackbone``, ``BertTextClassifier`` or ``BertMaskedLM``, or the path of a folder
            written by its ``save_to_preset`` (loaded locally, in safe mode).
        tokenizer: True for the model's own tokenizer (its preprocessor's,
            or the preset's ``tokenizer.json``; None when it has none), False
            for none, or a keras-hub tokenizer to convert.

    Raises :class:`CheckpointError` (or ``FileNotFoundError`` for a missing
    file) naming the architecture, file, setting or variable that cannot be
    imported; nothing is built then.
    """
    zoo_tokenizer = None
    if isinstance(model_or_preset_dir, (str, os.PathLike)):
        folder, class_name = keras_hub_preset.inspect(model_or_preset_dir)
        _kind(class_name)  # an unsupported architecture is refused before anything is loaded
        if tokenizer is True:
            zoo_tokenizer = keras_hub_preset.read_tokenizer(folder)
        source = keras_hub_preset.load_model(folder)
    else:
        source = model_or_preset_dir
        classify(source)
        if tokenizer is True:
            zoo_tokenizer = _own_tokenizer(source)
    if tokenizer not in (True, False, None):
        zoo_tokenizer = keras_hub_tokenizers.from_keras_hub(tokenizer)
    limit = getattr(source, "backbone", source).vocabulary_size
    if zoo_tokenizer is not None and zoo_tokenizer.vocabulary_size() > limit:
        raise CheckpointError(
            f"The tokenizer has {zoo_tokenizer.vocabulary_size()} tokens but the model's vocabulary_size is "
            f"{limit}: they do not belong together."
        )
    return build_model(source), zoo_tokenizer
