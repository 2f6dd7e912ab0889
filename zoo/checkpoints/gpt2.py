"""Hugging Face GPT-2 <-> zoo ``Gpt``: config fields and weight mapping.

Covers ``GPT2Model`` (no name prefix) and ``GPT2LMHeadModel`` (``transformer.``
prefix, ``lm_head`` tied to the token embedding, as zoo's ``Gpt`` is).

Layout: GPT-2 uses ``Conv1D`` modules whose weights are stored (in, out),
which is already a Keras ``Dense`` kernel, so nothing is transposed. The
attention's ``c_attn`` is one fused (hidden, 3 x hidden) projection; its
columns are [query | key | value] and are split into zoo's three Dense layers.

The mapping is written once, in the import direction; ``hf_export`` runs the
same functions backwards (``export_source``) to write a checkpoint.
"""

import warnings

import numpy as np

from zoo.checkpoints import hf_config
from zoo.checkpoints.hf_folder import CheckpointError
from zoo.checkpoints.tensor_source import TensorSource, assign_all

SIZE_FIELDS = ("vocabulary_size", "hidden_dim", "num_layers", "num_heads", "intermediate_dim", "max_sequence_length")
# zoo Gpt field -> (Hugging Face config.json names, the first is written; default when absent, None = required).
# Read by zoo_config (import) and written by hf_config_of (export).
FIELDS = {
    "vocabulary_size": (("vocab_size",), None),
    "hidden_dim": (("n_embd", "hidden_size"), None),
    "num_layers": (("n_layer", "num_hidden_layers"), None),
    "num_heads": (("n_head", "num_attention_heads"), None),
    "max_sequence_length": (("n_positions", "n_ctx"), None),
    "dropout": (("resid_pdrop",), 0.1),
    "layer_norm_epsilon": (("layer_norm_epsilon",), 1e-5),
}
ACTIVATION_FIELD = "activation_function"
INTERMEDIATE_FIELD = "n_inner"  # absent or null: 4 x hidden
ARCHITECTURE = "GPT2LMHeadModel"  # zoo's Gpt has the tied LM head; it nests GPT-2 under "transformer."
# Causal-mask buffers saved by older transformers versions; not weights.
IGNORED = (".attn.bias", ".attn.masked_bias")


def zoo_config(config):
    """zoo ``Gpt`` keyword arguments from a Hugging Face GPT-2 ``config.json`` dict."""
    hf_config.refuse(config, "scale_attn_by_inverse_layer_idx", False, "zoo scales scores by 1/sqrt(head_dim) only")
    hf_config.refuse(config, "scale_attn_weights", True, "zoo always scales attention scores")
    hf_config.refuse(config, "add_cross_attention", False, "zoo GPT has no cross-attention")
    kwargs = hf_config.read_fields(config, FIELDS)
    kwargs["intermediate_dim"] = config.get(INTERMEDIATE_FIELD) or 4 * kwargs["hidden_dim"]
    kwargs["activation"] = hf_config.activation(config, ACTIVATION_FIELD)
    return kwargs


def hf_config_of(config):
    """The Hugging Face ``config.json`` fields of a zoo ``GptConfig`` (dataclass fields as a dict)."""
    return {
        "model_type": "gpt2",
        **hf_config.write_fields(config, FIELDS),
        INTERMEDIATE_FIELD: config["intermediate_dim"],
        "embd_pdrop": config["dropout"],  # zoo has one dropout rate
        "attn_pdrop": config["dropout"],
        ACTIVATION_FIELD: hf_config.hf_activation(config["activation"]),
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "tie_word_embeddings": True,
    }


def build_model(config, tensors):
    """The zoo ``Gpt`` for this checkpoint, with every weight imported."""
    import zoo

    if any(name.startswith("score.") for name in tensors):
        raise CheckpointError(
            "This is a GPT2ForSequenceClassification checkpoint (it has a 'score' head); zoo "
            "imports GPT2Model and GPT2LMHeadModel only."
        )
    kwargs = zoo_config(config)
    prefix = "transformer." if "transformer.wte.weight" in tensors else ""
    source = TensorSource(tensors, prefix, hf_config.summary(kwargs, SIZE_FIELDS))
    model = zoo.Gpt(**kwargs, name="gpt2")
    pairs = weight_pairs(model, source, kwargs)
    unused = source.untaken(IGNORED)
    assign_all(pairs)
    if unused:
        warnings.warn(f"GPT-2 import: checkpoint tensors not used: {unused[:8]}", stacklevel=3)
    return model


def _norm(source, layer, name, dim):
    return [
        (layer.gamma, source.take(f"{name}.weight", (dim,))),
        (layer.beta, source.take(f"{name}.bias", (dim,))),
    ]


def _conv1d(source, layer, name, in_dim, out_dim):
    """A GPT-2 Conv1D (in, out) is a Keras Dense kernel as it is."""
    return [
        (layer.kernel, source.take(f"{name}.weight", (in_dim, out_dim))),
        (layer.bias, source.take(f"{name}.bias", (out_dim,))),
    ]


def weight_pairs(model, source, c):
    """``(variable, array)`` for embeddings, every block and the final norm."""
    d, inner, vocabulary = c["hidden_dim"], c["intermediate_dim"], c["vocabulary_size"]
    emb = model.embeddings
    wte = source.take("wte.weight", (vocabulary, d))
    pairs = [
        (emb.token_embedding.embeddings, wte),
        (emb.position_embedding.position_embeddings, source.take("wpe.weight", (c["max_sequence_length"], d))),
    ]
    for i, block in enumerate(model.blocks):
        hf = f"h.{i}"
        attention = block.self_attention
        qkv_kernel = source.take(f"{hf}.attn.c_attn.weight", (d, 3 * d))  # (D, 3D): [q | k | v]
        qkv_bias = source.take(f"{hf}.attn.c_attn.bias", (3 * d,))
        for dense, kernel, bias in zip(
            (attention.query_dense, attention.key_dense, attention.value_dense),
            np.split(qkv_kernel, 3, axis=1),
            np.split(qkv_bias, 3),
        ):
            pairs += [(dense.kernel, kernel), (dense.bias, bias)]
        pairs += _conv1d(source, attention.output_dense, f"{hf}.attn.c_proj", d, d)
        pairs += _norm(source, block.attention_norm, f"{hf}.ln_1", d)
        pairs += _norm(source, block.feed_forward_norm, f"{hf}.ln_2", d)
        pairs += _conv1d(source, block.feed_forward.intermediate_dense, f"{hf}.mlp.c_fc", d, inner)
        pairs += _conv1d(source, block.feed_forward.output_dense, f"{hf}.mlp.c_proj", inner, d)
    pairs += _norm(source, model.final_norm, "ln_f", d)
    if source.has("lm_head.weight", prefixed=False):
        lm_head = source.take("lm_head.weight", (vocabulary, d), prefixed=False)
        if not (lm_head == wte).all():
            raise CheckpointError(
                "lm_head.weight differs from transformer.wte.weight: this checkpoint's LM head "
                "is not tied to the token embedding, and zoo's Gpt ties them."
            )
    return pairs
