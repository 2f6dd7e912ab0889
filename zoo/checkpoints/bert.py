"""Hugging Face BERT <-> zoo ``Bert`` (and its heads): config fields and weight mapping.

Covers ``BertModel`` (no name prefix) and the task models that nest it under
``bert.``: ``BertForMaskedLM`` / ``BertForPreTraining`` (``cls.predictions``
-> ``BertMaskedLM``), ``BertForSequenceClassification`` (``classifier`` ->
``BertClassifier``) and ``BertForTokenClassification`` (-> ``BertTokenClassifier``).
MiniLM and the other small BERTs are the same architecture at other sizes.

Layout: PyTorch ``nn.Linear`` stores weights as (out, in); a Keras ``Dense``
kernel is (in, out), so every dense weight is transposed. Embedding tables
and LayerNorm scales/offsets copy as they are.

The mapping is written once, in the import direction; ``hf_export`` runs the
same functions backwards (``export_source``) to write a checkpoint.
"""

import warnings

from zoo.checkpoints import hf_config
from zoo.checkpoints.hf_folder import CheckpointError
from zoo.checkpoints.tensor_source import TensorSource, assign_all

SIZE_FIELDS = (
    "vocabulary_size", "hidden_dim", "num_layers", "num_heads",
    "intermediate_dim", "max_sequence_length", "num_segments",
)
# zoo Bert field -> (Hugging Face config.json names, the first is written; default when absent, None = required).
# Read by zoo_config (import) and written by hf_config_of (export).
FIELDS = {
    "vocabulary_size": (("vocab_size",), None),
    "hidden_dim": (("hidden_size",), None),
    "num_layers": (("num_hidden_layers",), None),
    "num_heads": (("num_attention_heads",), None),
    "intermediate_dim": (("intermediate_size",), None),
    "max_sequence_length": (("max_position_embeddings",), 512),
    "num_segments": (("type_vocab_size",), 2),
    "dropout": (("hidden_dropout_prob",), 0.1),
    "layer_norm_epsilon": (("layer_norm_eps",), 1e-12),
}
ACTIVATION_FIELD = "hidden_act"
# Tensors that are buffers or duplicates, never weights to import.
IGNORED = ("position_ids", "cls.predictions.decoder.bias")
# zoo task -> the transformers class that holds it (its checkpoints nest BERT under "bert.").
ARCHITECTURES = {
    "backbone": "BertModel",
    "masked_lm": "BertForMaskedLM",
    "classifier": "BertForSequenceClassification",
    "token_classifier": "BertForTokenClassification",
}
# Heads whose transformers class has no pooler (add_pooling_layer=False).
WITHOUT_POOLER = ("masked_lm", "token_classifier")


def zoo_config(config):
    """zoo ``Bert`` keyword arguments from a Hugging Face BERT ``config.json`` dict."""
    hf_config.refuse(config, "position_embedding_type", "absolute", "zoo BERT uses learned absolute positions")
    hf_config.refuse(config, "is_decoder", False, "zoo BERT is an encoder; use GPT for decoding")
    hf_config.refuse(config, "add_cross_attention", False, "zoo BERT has no cross-attention")
    return {**hf_config.read_fields(config, FIELDS), "activation": hf_config.activation(config, ACTIVATION_FIELD)}


def hf_config_of(config):
    """The Hugging Face ``config.json`` fields of a zoo ``BertConfig`` (dataclass fields as a dict)."""
    return {
        "model_type": "bert",
        **hf_config.write_fields(config, FIELDS),
        "attention_probs_dropout_prob": config["dropout"],  # zoo has one dropout rate
        ACTIVATION_FIELD: hf_config.hf_activation(config["activation"]),
        "position_embedding_type": "absolute",
    }


def detect_task(config, tensors):
    """``(task, prefix)``: which zoo model the checkpoint's tensors call for.

    task is ``"masked_lm"`` (has ``cls.predictions``), ``"classifier"`` /
    ``"token_classifier"`` (has ``classifier``; the architecture tells which)
    or ``"backbone"``.
    """
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""
    architectures = " ".join(config.get("architectures") or [])
    if "cls.predictions.transform.dense.weight" in tensors:
        return "masked_lm", prefix
    if "classifier.weight" in tensors:
        if "MultipleChoice" in architectures:
            raise CheckpointError(
                f"{architectures} (multiple choice) is not supported; zoo imports BertModel, "
                "BertForMaskedLM, BertForPreTraining, BertForSequenceClassification and "
                "BertForTokenClassification."
            )
        if "TokenClassification" in architectures:
            return "token_classifier", prefix
        return "classifier", prefix
    return "backbone", prefix


def num_labels(config):
    """The label count config.json declares (``id2label`` wins over ``num_labels``)."""
    id2label = config.get("id2label")
    return len(id2label) if id2label else int(config.get("num_labels", 2))


def build_model(config, tensors):
    """The zoo model for this checkpoint, with every weight imported.

    Returns the model; warns about checkpoint tensors it did not use.
    """
    import zoo

    kwargs = zoo_config(config)
    task, prefix = detect_task(config, tensors)
    source = TensorSource(tensors, prefix, hf_config.summary(kwargs, SIZE_FIELDS))
    backbone = zoo.Bert(**kwargs, name="bert")
    if task == "masked_lm":
        model = zoo.BertMaskedLM(backbone, name="bert_masked_lm")
        ignore = IGNORED + ("cls.seq_relationship",)  # next-sentence head: not in zoo
    elif task in ("classifier", "token_classifier"):
        labels = num_labels(config)
        if labels < 2:
            raise CheckpointError(
                f"config.json declares {labels} label(s); zoo's BERT classifiers need at least 2 "
                "(regression heads are not supported)."
            )
        family = zoo.BertClassifier if task == "classifier" else zoo.BertTokenClassifier
        dropout = config.get("classifier_dropout") or kwargs["dropout"]
        model = family(backbone, num_classes=labels, dropout=dropout, name=f"bert_{task}")
        ignore = IGNORED
    else:
        model, ignore = backbone, IGNORED
    pairs, left_at_init = task_pairs(model, task, source, kwargs)

    if task in WITHOUT_POOLER:
        left_at_init = [name for name in left_at_init if name != "pooler"]  # these heads never use it
    unused = source.untaken(ignore)
    assign_all(pairs)
    if unused or left_at_init:
        warnings.warn(
            "BERT import: "
            + (f"checkpoint tensors not used: {unused[:8]}{' ...' if len(unused) > 8 else ''}. " if unused else "")
            + (f"zoo weights not in the checkpoint (left at initialization): {left_at_init}." if left_at_init else ""),
            stacklevel=3,
        )
    return model


def task_pairs(model, task, source, c):
    """``(pairs, left_at_init)``: every ``(zoo variable, checkpoint tensor)`` of ``model``, a ``task`` model.

    The one BERT mapping: import runs it on a checkpoint's tensors,
    export (``hf_export``) on writable buffers.
    """
    backbone = model if task == "backbone" else model.backbone
    pairs, left_at_init = backbone_pairs(backbone, source, c)
    if task == "masked_lm":
        pairs += masked_lm_pairs(model, source, c)
    elif task in ("classifier", "token_classifier"):
        pairs += classifier_pairs(model, source, c, model.num_classes)
    return pairs, left_at_init


def _dense(source, layer, name, in_dim, out_dim, prefixed=True):
    """A Hugging Face nn.Linear (out, in) -> Keras Dense kernel (in, out) and bias."""
    return [
        (layer.kernel, source.take(f"{name}.weight", (out_dim, in_dim), prefixed=prefixed).T),
        (layer.bias, source.take(f"{name}.bias", (out_dim,), prefixed=prefixed)),
    ]


def _norm(source, layer, name, dim):
    # Very old checkpoints (converted from TF) spell LayerNorm weights gamma/beta.
    return [
        (layer.gamma, source.take(f"{name}.weight", (dim,), aliases=(f"{name}.gamma",))),
        (layer.beta, source.take(f"{name}.bias", (dim,), aliases=(f"{name}.beta",))),
    ]


def backbone_pairs(backbone, source, c):
    """``(pairs, left_at_init)`` for the encoder: embeddings, blocks, pooler."""
    d, inner = c["hidden_dim"], c["intermediate_dim"]
    emb = backbone.embeddings
    pairs = [
        (emb.token_embedding.embeddings, source.take("embeddings.word_embeddings.weight", (c["vocabulary_size"], d))),
        (emb.position_embedding.position_embeddings,
         source.take("embeddings.position_embeddings.weight", (c["max_sequence_length"], d))),
        (emb.segment_embedding.embeddings, source.take("embeddings.token_type_embeddings.weight", (c["num_segments"], d))),
        *_norm(source, backbone.embeddings_norm, "embeddings.LayerNorm", d),
    ]
    for i, block in enumerate(backbone.blocks):
        hf = f"encoder.layer.{i}"
        attention = block.self_attention
        pairs += _dense(source, attention.query_dense, f"{hf}.attention.self.query", d, d)
        pairs += _dense(source, attention.key_dense, f"{hf}.attention.self.key", d, d)
        pairs += _dense(source, attention.value_dense, f"{hf}.attention.self.value", d, d)
        pairs += _dense(source, attention.output_dense, f"{hf}.attention.output.dense", d, d)
        pairs += _norm(source, block.attention_norm, f"{hf}.attention.output.LayerNorm", d)
        pairs += _dense(source, block.feed_forward.intermediate_dense, f"{hf}.intermediate.dense", d, inner)
        pairs += _dense(source, block.feed_forward.output_dense, f"{hf}.output.dense", inner, d)
        pairs += _norm(source, block.output_norm, f"{hf}.output.LayerNorm", d)
    left_at_init = []
    if source.has("pooler.dense.weight"):
        pairs += _dense(source, backbone.pooler, "pooler.dense", d, d)
    else:  # BertForMaskedLM is saved without a pooler
        left_at_init.append("pooler")
    return pairs, left_at_init


def masked_lm_pairs(model, source, c):
    """``cls.predictions`` -> ``masked_lm_head``; its decoder must be tied to the word embeddings."""
    d, vocabulary = c["hidden_dim"], c["vocabulary_size"]
    head = model.masked_lm_head
    pairs = _dense(source, head.transform, "cls.predictions.transform.dense", d, d, prefixed=False)
    pairs += [
        (head.norm.gamma, source.take("cls.predictions.transform.LayerNorm.weight", (d,), prefixed=False,
                                      aliases=("cls.predictions.transform.LayerNorm.gamma",))),
        (head.norm.beta, source.take("cls.predictions.transform.LayerNorm.bias", (d,), prefixed=False,
                                     aliases=("cls.predictions.transform.LayerNorm.beta",))),
        (head.output_bias, source.take("cls.predictions.bias", (vocabulary,), prefixed=False,
                                       aliases=("cls.predictions.decoder.bias",))),
    ]
    if source.has("cls.predictions.decoder.weight", prefixed=False):
        decoder = source.take("cls.predictions.decoder.weight", (vocabulary, d), prefixed=False)
        embeddings = source.take("embeddings.word_embeddings.weight", (vocabulary, d))
        if not (decoder == embeddings).all():
            raise CheckpointError(
                "cls.predictions.decoder.weight differs from the word embeddings: this "
                "checkpoint's MLM output layer is not tied, and zoo's BertMaskedLM ties them."
            )
    return pairs


def classifier_pairs(model, source, c, labels):
    """``classifier`` (labels, hidden) -> the zoo head's ``classifier`` Dense."""
    return _dense(source, model.get_layer("classifier"), "classifier", c["hidden_dim"], labels, prefixed=False)
