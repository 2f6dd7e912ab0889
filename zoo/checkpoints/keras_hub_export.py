"""``to_keras_hub(model, preset_dir)``: a zoo GPT or BERT -> a keras-hub preset folder.

    zoo.to_keras_hub(model, "my_preset/", tokenizer=tokenizer)
    keras_hub.models.GPT2CausalLM.from_preset("my_preset/")     # local, no download

| zoo | keras-hub (``save_to_preset``) |
|---|---|
| ``Gpt`` | ``GPT2CausalLM`` (+ ``GPT2CausalLMPreprocessor`` with a tokenizer) |
| ``Bert`` | ``BertBackbone`` (+ ``BertTokenizer``) |
| ``BertClassifier`` | ``BertTextClassifier`` (+ ``BertTextClassifierPreprocessor``) |

The keras-hub model is built from the zoo config (keras-hub's fixed
settings must match: ``keras_hub_mapping.FIXED``), its variables filled by
the import mapping run backwards (``export_source``), and saved by keras-hub's
own ``save_to_preset`` into a folder beside the target that is renamed into
place only when complete (``export.staging``).
"""

import dataclasses
import os

from zoo.checkpoints import export_source, keras_hub_mapping, keras_hub_tokenizers
from zoo.checkpoints.hf_export import unwrap
from zoo.checkpoints.hf_folder import CheckpointError

# zoo class -> (family, task)
KINDS = {"Gpt": ("gpt2", "causal_lm"), "Bert": ("bert", "backbone"), "BertClassifier": ("bert", "classifier"),
         "BertMaskedLM": ("bert", "masked_lm")}
REFUSED = {"BertTokenClassifier": "keras-hub has no BERT token classifier task."}


def _check_masked_lm_head(model):
    """keras-hub's BertMaskedLM fixes its head's activation and epsilon; the zoo head must use the same."""
    for field, value in keras_hub_mapping.MASKED_LM_HEAD.items():
        if getattr(model, field) != value:
            raise CheckpointError(
                f"BertMaskedLM has {field}={getattr(model, field)!r}, but keras-hub's BertMaskedLM always uses "
                f"{field}={value!r} (exact GELU, LayerNorm epsilon 1e-5 in the head); it cannot express this "
                f"model. Write the backbone alone (model.backbone), or the masked LM with zoo.to_huggingface."
            )


def model_kind(model):
    """``(family, task)`` of a zoo model keras-hub can hold, else an error naming what can."""
    name = type(model).__name__
    if name in REFUSED:
        raise CheckpointError(f"Cannot write a zoo {name} as a keras-hub preset: {REFUSED[name]}")
    if name not in KINDS:
        raise CheckpointError(
            f"Cannot write a {name} as a keras-hub preset; zoo writes {', '.join(KINDS)} "
            "(as keras-hub's GPT2CausalLM, BertBackbone, BertTextClassifier, BertMaskedLM)."
        )
    if KINDS[name][1] == "masked_lm":
        _check_masked_lm_head(model)
    if KINDS[name][1] == "classifier" and model.pooling != "cls":
        raise CheckpointError(
            f"BertClassifier has pooling={model.pooling!r}, but keras-hub's BertTextClassifier classifies "
            "the pooler's [CLS] vector (pooling='cls'); it cannot express this model. Write the backbone "
            "alone (model.backbone), or keep the classifier as a zoo model folder."
        )
    return KINDS[name]


def _keras_hub_model(model, family, task, config, tokenizer):
    import keras_hub

    length = model.config.max_sequence_length
    if family == "gpt2":
        preprocessor = tokenizer and keras_hub.models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=length)
        return keras_hub.models.GPT2CausalLM(keras_hub.models.GPT2Backbone(**config), preprocessor=preprocessor)
    backbone = keras_hub.models.BertBackbone(**config)
    if task == "backbone":
        return backbone
    if task == "masked_lm":
        preprocessor = tokenizer and keras_hub.models.BertMaskedLMPreprocessor(tokenizer, sequence_length=length)
        return keras_hub.models.BertMaskedLM(backbone, preprocessor=preprocessor)
    preprocessor = tokenizer and keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=length)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=model.num_classes, dropout=model.dropout,
                                               preprocessor=preprocessor)


def build_keras_hub(model, tokenizer=None):
    """``(keras-hub model, keras-hub tokenizer or None)`` computing what the zoo ``model`` computes."""
    family, task = model_kind(model)
    fields = dataclasses.asdict(model.config)
    config = keras_hub_mapping.keras_hub_config(family, fields, type(model).__name__)
    keras_hub_tokenizer = None if tokenizer is None else keras_hub_tokenizers.to_keras_hub(tokenizer, family)
    target = _keras_hub_model(model, family, task, config, keras_hub_tokenizer)
    source = export_source.ExportSource()
    pairs = keras_hub_mapping.weight_pairs(model, family, task, source, fields)
    tensors = export_source.fill(pairs, source)
    variables = {variable.path: variable for variable in target.weights}
    if set(variables) != set(tensors):  # the mapping and keras-hub's layers disagree: a zoo bug
        raise AssertionError(f"keras-hub variables without a zoo weight: {sorted(set(variables) - set(tensors))[:5]}; "
                             f"zoo weights without a keras-hub variable: {sorted(set(tensors) - set(variables))[:5]}")
    for path, array in tensors.items():
        variables[path].assign(array.astype(variables[path].dtype))
    return target, keras_hub_tokenizer


def to_keras_hub(model, preset_dir, tokenizer=None, force=False):
    """Write ``model`` as a keras-hub preset folder; returns its path.

    Args:
        model: a zoo ``Gpt``, ``Bert``, ``BertClassifier`` or ``BertMaskedLM`` (head
            ``head_activation="gelu"``, ``head_layer_norm_epsilon=1e-5``) (or a ``TextModel``
            bringing its tokenizer) whose activation and LayerNorm epsilon are
            keras-hub's (tanh GELU; 1e-5 for GPT-2, 1e-12 for BERT).
        preset_dir: the folder to create; must not exist (or be empty) unless ``force``.
        tokenizer: a zoo byte-level BPE (GPT) or keras-hub-normalized WordPiece
            (BERT) tokenizer to save with it (default: the TextModel's).
        force: replace an existing folder once the new one is complete.

    Raises :class:`CheckpointError` naming what keras-hub cannot express;
    nothing is written then.
    """
    from export.staging import check_target, staged_output

    model, tokenizer, _ = unwrap(model, tokenizer)
    model_kind(model)
    check_target(preset_dir, force)
    if tokenizer is not None and tokenizer.vocabulary_size() > model.config.vocabulary_size:
        raise CheckpointError(
            f"The tokenizer has {tokenizer.vocabulary_size()} tokens but the model's vocabulary_size is "
            f"{model.config.vocabulary_size}; pass the tokenizer the model was trained with."
        )
    target, keras_hub_tokenizer = build_keras_hub(model, tokenizer)
    with staged_output(preset_dir, force=force) as staging:
        target.save_to_preset(staging)
        if keras_hub_tokenizer is not None and not hasattr(target, "preprocessor"):
            keras_hub_tokenizer.save_to_preset(staging)  # a backbone preset keeps its tokenizer beside it
    return os.path.abspath(os.fspath(preset_dir))
