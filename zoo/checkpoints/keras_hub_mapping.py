"""keras-hub BERT and GPT-2 <-> zoo: configuration fields and weights by variable path.

keras-hub names every variable by its layer path (``variable.path``), e.g.
``transformer_layer_0/self_attention/query/kernel``; the mapping asks a
source for those names with the shapes the configuration implies
(``TensorSource``: a missing or mis-shaped variable is named before anything
is assigned). keras-hub's attention projections are ``EinsumDense`` kernels
(hidden, heads, head_dim) and (heads, head_dim, hidden) where zoo's are
``Dense`` (hidden, hidden): reshapes of the same numbers, nothing transposed.

keras-hub fixes some settings in code rather than in its config (both
models use tanh-approximated GELU; the LayerNorm epsilon is 1e-12 for BERT
and 1e-5 for GPT-2): :data:`FIXED` holds them, so import sets them on the
zoo model and export refuses a zoo model that differs, naming the field.

The mapping is written once, in the import direction; ``keras_hub_export``
runs it backwards (``export_source``).
"""

from zoo.checkpoints import hf_config
from zoo.checkpoints.hf_folder import CheckpointError
from zoo.checkpoints.tensor_source import TensorSource

SIZE_FIELDS = ("vocabulary_size", "hidden_dim", "num_layers", "num_heads", "intermediate_dim", "max_sequence_length")
# keras-hub backbone config fields that zoo's config has under the same names.
FIELDS = {
    "gpt2": SIZE_FIELDS + ("dropout",),
    "bert": SIZE_FIELDS + ("num_segments", "dropout"),
}
# zoo fields whose value keras-hub's backbones hard-code.
FIXED = {
    "gpt2": {"activation": "gelu_tanh", "layer_norm_epsilon": 1e-5},
    "bert": {"activation": "gelu_tanh", "layer_norm_epsilon": 1e-12},
}
# What keras-hub's BertMaskedLM hard-codes in its head (its backbone: tanh GELU, 1e-12).
MASKED_LM_HEAD = {"head_activation": "gelu", "head_layer_norm_epsilon": 1e-5}
# The attention layer's name inside keras-hub's transformer layers.
ATTENTION = {"gpt2": "self_attention", "bert": "self_attention_layer"}


class KerasHubSource(TensorSource):
    """A keras-hub model's variables, ``{variable.path: array}``, handed out by path."""

    MISSING = (
        "The keras-hub model has no variable {name!r}{aliases}, which its configuration "
        "({summary}) calls for: it is not the keras-hub architecture it claims to be."
    )
    MISMATCH = (
        "keras-hub variable {name!r} has shape {shape}, but the model's configuration ({summary}) "
        "implies {expected}: its weights and config disagree."
    )


def zoo_config(family, keras_hub_config):
    """zoo keyword arguments from a keras-hub backbone's ``get_config()``."""
    missing = [name for name in FIELDS[family] if name not in keras_hub_config]
    if missing:
        raise CheckpointError(f"The keras-hub {family} configuration has no {', '.join(missing)}.")
    return {**{name: keras_hub_config[name] for name in FIELDS[family]}, **FIXED[family]}


def keras_hub_config(family, zoo_fields, model_name):
    """keras-hub backbone arguments from a zoo config; raises naming a field keras-hub fixes otherwise."""
    for name, value in FIXED[family].items():
        if zoo_fields[name] != value:
            raise CheckpointError(
                f"{model_name} has {name}={zoo_fields[name]!r}, but keras-hub's "
                f"{'GPT2Backbone' if family == 'gpt2' else 'BertBackbone'} always uses "
                f"{name}={value!r}; it cannot express this model. (Build the zoo model with "
                f"{name}={value!r} to move it to keras-hub.)"
            )
    return {name: zoo_fields[name] for name in FIELDS[family]}


def summary(kwargs):
    return hf_config.summary(kwargs, SIZE_FIELDS)


def _dense(source, layer, path, in_dim, out_dim):
    return [
        (layer.kernel, source.take(f"{path}/kernel", (in_dim, out_dim))),
        (layer.bias, source.take(f"{path}/bias", (out_dim,))),
    ]


def _norm(source, layer, path, dim):
    return [(layer.gamma, source.take(f"{path}/gamma", (dim,))), (layer.beta, source.take(f"{path}/beta", (dim,)))]


def _attention(source, attention, path, d, heads):
    """keras-hub's EinsumDense q/k/v (d, heads, head_dim) and output (heads, head_dim, d) -> Dense (d, d)."""
    head_dim = d // heads
    pairs = []
    projections = ((attention.query_dense, "query"), (attention.key_dense, "key"), (attention.value_dense, "value"))
    for dense, name in projections:
        pairs += [
            (dense.kernel, source.take(f"{path}/{name}/kernel", (d, heads, head_dim)).reshape(d, d)),
            (dense.bias, source.take(f"{path}/{name}/bias", (heads, head_dim)).reshape(d)),
        ]
    output = attention.output_dense
    return pairs + [
        (output.kernel, source.take(f"{path}/attention_output/kernel", (heads, head_dim, d)).reshape(d, d)),
        (output.bias, source.take(f"{path}/attention_output/bias", (d,))),
    ]


def _embeddings(source, embeddings, c):
    d = c["hidden_dim"]
    pairs = [
        (embeddings.token_embedding.embeddings, source.take("token_embedding/embeddings", (c["vocabulary_size"], d))),
        (embeddings.position_embedding.position_embeddings,
         source.take("position_embedding/embeddings", (c["max_sequence_length"], d))),
    ]
    if "num_segments" in c:
        pairs.append((embeddings.segment_embedding.embeddings,
                      source.take("segment_embedding/embeddings", (c["num_segments"], d))))
    return pairs


def _block(source, block, i, family, c):
    """One transformer layer; keras-hub's layer norms sit where zoo's do (pre-LN GPT-2, post-LN BERT)."""
    d, inner, path = c["hidden_dim"], c["intermediate_dim"], f"transformer_layer_{i}"
    second_norm = block.feed_forward_norm if family == "gpt2" else block.output_norm
    return [
        *_attention(source, block.self_attention, f"{path}/{ATTENTION[family]}", d, c["num_heads"]),
        *_norm(source, block.attention_norm, f"{path}/self_attention_layer_norm", d),
        *_dense(source, block.feed_forward.intermediate_dense, f"{path}/feedforward_intermediate_dense", d, inner),
        *_dense(source, block.feed_forward.output_dense, f"{path}/feedforward_output_dense", inner, d),
        *_norm(source, second_norm, f"{path}/feedforward_layer_norm", d),
    ]


def _masked_lm_head(source, head, d, vocabulary_size):
    """keras-hub's ``mlm_head``: the same transform -> LayerNorm -> tied logits + bias as the zoo's head."""
    return [
        *_dense(source, head.transform, "mlm_head/intermediate_dense", d, d),
        *_norm(source, head.norm, "mlm_head/intermediate_layer_norm", d),
        (head.output_bias, source.take("mlm_head/output_bias", (vocabulary_size,))),
    ]


def weight_pairs(model, family, task, source, c):
    """Every ``(zoo variable, keras-hub variable array)`` of a zoo ``model`` for a keras-hub ``task``.

    ``task``: ``"backbone"`` / ``"causal_lm"`` (no weights of its own: the LM
    head is the token embedding), ``"classifier"`` (``logits`` Dense) or
    ``"masked_lm"`` (``mlm_head``).
    """
    backbone = model.backbone if task in ("classifier", "masked_lm") else model
    d = c["hidden_dim"]
    pairs = _embeddings(source, backbone.embeddings, c)
    if family == "bert":
        pairs += _norm(source, backbone.embeddings_norm, "embeddings_layer_norm", d)
    for i, block in enumerate(backbone.blocks):
        pairs += _block(source, block, i, family, c)
    if family == "gpt2":
        pairs += _norm(source, backbone.final_norm, "layer_norm", d)
    else:
        pairs += _dense(source, backbone.pooler, "pooled_dense", d, d)
    if task == "classifier":
        pairs += _dense(source, model.get_layer("classifier"), "logits", d, model.num_classes)
    if task == "masked_lm":
        pairs += _masked_lm_head(source, model.masked_lm_head, d, c["vocabulary_size"])
    return pairs
