"""``to_huggingface(model, folder)``: a zoo BERT or GPT -> a Hugging Face checkpoint folder.

    zoo.to_huggingface(model, "my-bert/", tokenizer=tokenizer)
    transformers.AutoModel.from_pretrained("my-bert/")          # offline, on torch

Writes ``config.json``, ``model.safetensors`` (the ``safetensors`` numpy API:
raw tensors and a JSON header, nothing pickled) and, with a tokenizer, the
tokenizer files transformers reads (``vocab.txt`` or ``vocab.json`` +
``merges.txt``, and ``tokenizer_config.json``).

| zoo model | transformers class |
|---|---|
| ``Bert`` | ``BertModel`` |
| ``BertMaskedLM`` | ``BertForMaskedLM`` |
| ``BertClassifier`` | ``BertForSequenceClassification`` |
| ``BertTokenClassifier`` | ``BertForTokenClassification`` |
| ``Gpt`` | ``GPT2LMHeadModel`` (LM head tied to the token embedding) |

The weights go through the import mapping run backwards (``export_source``),
and the config through the import's field tables; the written config is read
back with the importer and must give the model's own configuration, so a
field transformers cannot express is refused by name. Everything is computed
before the folder is touched; the folder is written beside its final place
and renamed into it (``export.staging``), so a failure leaves nothing.
"""

import dataclasses
import json
import os

from zoo.checkpoints import bert, export_source, gpt2, tokenizer_files
from zoo.checkpoints.hf_folder import CONFIG_FILE, SAFETENSORS_FILE, CheckpointError

# zoo class name -> (Hugging Face family, zoo task)
KINDS = {
    "Bert": ("bert", "backbone"),
    "BertMaskedLM": ("bert", "masked_lm"),
    "BertClassifier": ("bert", "classifier"),
    "BertTokenClassifier": ("bert", "token_classifier"),
    "Gpt": ("gpt2", "causal_lm"),
}
MAPPINGS = {"bert": bert, "gpt2": gpt2}


def model_kind(model):
    """``(family, task)`` of a zoo model transformers has a class for, else an error naming those."""
    kind = KINDS.get(type(model).__name__)
    if kind is None:
        raise CheckpointError(
            f"Cannot write a {type(model).__name__} as a Hugging Face checkpoint; zoo writes "
            f"{', '.join(KINDS)} (as transformers' BERT and GPT-2 classes)."
        )
    return kind


def unwrap(model, tokenizer):
    """``(keras model, tokenizer, generation)``: a TextModel brings its own tokenizer and defaults."""
    if hasattr(model, "tokenizer") and hasattr(model, "model"):
        return model.model, model.tokenizer if tokenizer is None else tokenizer, dict(model.generation)
    return model, tokenizer, {}


def _zoo_fields(model):
    return dataclasses.asdict(model.config)


def _check_head_follows_backbone(model):
    """BertForMaskedLM's head uses the encoder's ``hidden_act`` and ``layer_norm_eps``: no field of its own."""
    for field, backbone_field in (("head_activation", "activation"), ("head_layer_norm_epsilon", "layer_norm_epsilon")):
        value = getattr(model, field)
        if value is not None and value != getattr(model.config, backbone_field):
            raise CheckpointError(
                f"BertMaskedLM {field}={value!r} cannot be expressed in a Hugging Face bert config.json: "
                f"BertForMaskedLM's head uses the encoder's {backbone_field} "
                f"({getattr(model.config, backbone_field)!r}). Build the head with {field}=None to move it."
            )


def hf_config(model, end_token_id=None):
    """The ``config.json`` dict for ``model``; raises naming a field transformers cannot express."""
    family, task = model_kind(model)
    mapping, fields = MAPPINGS[family], _zoo_fields(model)
    config = mapping.hf_config_of(fields)
    if family == "bert":
        config["architectures"] = [bert.ARCHITECTURES[task]]
        if task == "masked_lm":
            _check_head_follows_backbone(model)
        if task == "classifier" and model.pooling != "cls":
            raise CheckpointError(
                f"BertClassifier pooling={model.pooling!r} cannot be expressed in a Hugging Face bert "
                "config.json: BertForSequenceClassification classifies the pooler's [CLS] vector "
                "(pooling='cls'). Write the backbone alone (model.backbone), or keep the classifier as "
                "a zoo model folder."
            )
        if task in ("classifier", "token_classifier"):
            labels = {str(i): f"LABEL_{i}" for i in range(model.num_classes)}
            config.update(id2label=labels, label2id={v: int(k) for k, v in labels.items()},
                          classifier_dropout=model.dropout)
    else:
        config["architectures"] = [gpt2.ARCHITECTURE]
        if end_token_id is not None:
            config.update(bos_token_id=int(end_token_id), eos_token_id=int(end_token_id))
    read_back = mapping.zoo_config(config)
    for name, value in read_back.items():
        if fields[name] != value:
            raise CheckpointError(
                f"{type(model).__name__} {name}={fields[name]!r} cannot be expressed in a Hugging Face "
                f"{family} config.json (it would load as {name}={value!r})."
            )
    return config


def hf_tensors(model):
    """``{Hugging Face tensor name: float32 array}``: the import mapping run backwards."""
    family, task = model_kind(model)
    fields = _zoo_fields(model)
    if family == "bert":
        prefix = "" if task == "backbone" else "bert."
        present = () if task in bert.WITHOUT_POOLER else (prefix + "pooler.dense.weight",)
        source = export_source.ExportSource(prefix, present)
        pairs, _ = bert.task_pairs(model, task, source, fields)
    else:  # GPT2LMHeadModel: lm_head is tied, so it is not written (transformers re-ties it)
        source = export_source.ExportSource("transformer.")
        pairs = gpt2.weight_pairs(model, source, fields)
    return export_source.fill(pairs, source)


def _end_token_id(tokenizer, generation):
    stops = generation.get("stop_token_ids") or []
    if tokenizer is not None and "<|endoftext|>" in tokenizer.get_vocabulary():
        return int(tokenizer.token_to_id("<|endoftext|>"))
    return stops[0] if stops else None


def _check_vocabulary(model, tokenizer):
    size, limit = tokenizer.vocabulary_size(), model.config.vocabulary_size
    if size > limit:
        raise CheckpointError(
            f"The tokenizer has {size} tokens but the model's vocabulary_size is {limit}: ids "
            f"{limit}..{size - 1} would be out of range. Pass the tokenizer the model was trained with."
        )


def to_huggingface(model, folder, tokenizer=None, force=False):
    """Write ``model`` as a Hugging Face checkpoint folder; returns the folder's path.

    Args:
        model: a zoo ``Bert``, ``BertMaskedLM``, ``BertClassifier``,
            ``BertTokenClassifier`` or ``Gpt``, or a ``TextModel``
            (``zoo.load(folder)``) whose tokenizer and stop token are used.
        folder: the folder to create; it must not exist (or be empty) unless ``force``.
        tokenizer: a zoo WordPiece (BERT) or byte-level BPE (GPT-2) tokenizer
            whose files to write too (default: the TextModel's, else none).
        force: replace an existing folder (only once the new one is complete).

    Raises :class:`CheckpointError` for a model or tokenizer transformers
    cannot express (naming the field), ``export.ExportError`` for an
    existing folder without ``force``; nothing is written then.
    """
    from export.staging import check_target, staged_output

    model, tokenizer, generation = unwrap(model, tokenizer)
    family, _ = model_kind(model)
    check_target(folder, force)  # before the work, so a taken folder fails fast
    config = hf_config(model, _end_token_id(tokenizer, generation) if family == "gpt2" else None)
    files = {}
    if tokenizer is not None:
        _check_vocabulary(model, tokenizer)
        files = tokenizer_files.files_for(tokenizer, family, model.config.max_sequence_length)
    tensors = hf_tensors(model)

    from safetensors.numpy import save_file

    with staged_output(folder, force=force) as staging:
        with open(os.path.join(staging, CONFIG_FILE), "w", encoding="utf-8") as file:
            json.dump(config, file, indent=2)
        save_file(tensors, os.path.join(staging, SAFETENSORS_FILE), metadata={"format": "pt"})
        for name, text in files.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8") as file:
                file.write(text)
    return os.path.abspath(os.fspath(folder))
