"""Attention of an RNN decoder over encoder outputs (Luong and Bahdanau).

Scores:
* ``"dot"``      (Luong):    score(h, s) = h . s
* ``"general"``  (Luong):    score(h, s) = (W h) . s
* ``"additive"`` (Bahdanau): score(h, s) = v . tanh(W1 h + W2 s)

Dot and general are dot-product attention, so they run on the shared core
(``attention_core.dot_product_attention``, XLA path included) with one head
and no scaling; additive scores are computed here and then share the core's
masked softmax. Source padding is respected: weights over padded source
positions are exactly zero and sum to one over the real ones.
"""

import keras
from keras import ops

from zoo.layers.attention_core import dot_product_attention, masked_softmax
from zoo.layers.masks import attention_mask

SCORES = ("dot", "general", "additive")


@keras.saving.register_keras_serializable(package="zoo")
class SourceAttention(keras.layers.Layer):
    """Decoder states attend over encoder outputs.

    Args:
        score: ``"dot"``, ``"general"`` or ``"additive"``.
        units: hidden size of the additive score (defaults to the key width).
        use_xla: XLA-compiled core for dot/general.
    Call: ``context, weights = attn(query, keys, source_padding_mask=None)``
    with query (B, Tq, D), keys (B, Tk, D); returns context (B, Tq, D) and
    weights (B, Tq, Tk).
    """

    def __init__(self, score="general", units=None, use_xla=True, **kwargs):
        super().__init__(**kwargs)
        # Masks are explicit arguments in the zoo; accept (and drop) Keras' implicit ones.
        self.supports_masking = True
        if score not in SCORES:
            raise ValueError(f"Unknown attention score {score!r}; choose one of {SCORES}.")
        self.score = score
        self.units = units
        self.use_xla = bool(use_xla)

    def build(self, query_shape, keys_shape):
        key_dim = keys_shape[-1]
        if self.score == "dot" and query_shape[-1] != key_dim:
            raise ValueError(
                f"Dot attention needs query and key widths to match "
                f"({query_shape[-1]} vs {key_dim}); use score='general'."
            )
        if self.score == "general":
            self.query_projection = keras.layers.Dense(
                key_dim, use_bias=False, dtype=self.dtype_policy, name="general"
            )
            self.query_projection.build(query_shape)
        if self.score == "additive":
            units = self.units or key_dim
            self.query_projection = keras.layers.Dense(
                units, use_bias=False, dtype=self.dtype_policy, name="query"
            )
            self.key_projection = keras.layers.Dense(
                units, use_bias=False, dtype=self.dtype_policy, name="key"
            )
            self.score_vector = keras.layers.Dense(
                1, use_bias=False, dtype=self.dtype_policy, name="score"
            )
            self.query_projection.build(query_shape)
            self.key_projection.build(keys_shape)
            self.score_vector.build(tuple(keys_shape[:-1]) + (units,))
        self.built = True

    def call(self, query, keys, source_padding_mask=None):
        mask = attention_mask(
            ops.shape(query)[1], ops.shape(keys)[1], source_padding_mask
        )  # (B, Tq, Tk) or None
        if self.score == "additive":
            q = self.query_projection(query)[:, :, None, :]  # (B, Tq, 1, U)
            k = self.key_projection(keys)[:, None, :, :]  # (B, 1, Tk, U)
            scores = ops.squeeze(self.score_vector(ops.tanh(q + k)), -1)  # (B, Tq, Tk)
            weights = masked_softmax(scores, mask)
            context = ops.einsum("bqk,bkd->bqd", weights, keys)
            return context, weights
        if self.score == "general":
            query = self.query_projection(query)
        context, weights = dot_product_attention(
            query[:, :, None, :],  # one head: (B, Tq, 1, D)
            keys[:, :, None, :],
            keys[:, :, None, :],
            mask=mask,
            scale=1.0,
            use_xla=self.use_xla,
            return_weights=True,
        )
        return ops.squeeze(context, 2), ops.squeeze(weights, 1)

    def compute_output_spec(self, query, keys, source_padding_mask=None):
        dtype = self.compute_dtype
        return (
            keras.KerasTensor(tuple(query.shape[:-1]) + (keys.shape[-1],), dtype=dtype),
            keras.KerasTensor((query.shape[0], query.shape[1], keys.shape[1]), dtype=dtype),
        )

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(score=self.score, units=self.units, use_xla=self.use_xla)
        return config
