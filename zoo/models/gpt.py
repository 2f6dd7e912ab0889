"""GPT: a decoder-only transformer language model (GPT-2 layout).

token + learned position embeddings -> pre-LN decoder blocks -> final
LayerNorm -> LM head tied to the token embedding. ``call_with_cache`` runs
one or more new tokens against a fixed-size key/value cache, which is what
the compiled decode loop in ``zoo.generation`` drives; ``call_with_past``
appends them to a past that grows, which is what the exported ONNX decoder
runs.
"""

import dataclasses

import keras
from keras import ops

from zoo.layers import LayerNorm, TokenAndPositionEmbedding, TransformerDecoderBlock, call_stack
from zoo.models.base import ZooModel, config_from_kwargs
from zoo.models.transformer_config import TransformerConfig


@dataclasses.dataclass
class GptConfig(TransformerConfig):
    """Sizes and options of a GPT. Defaults are GPT-2 small (124M)."""

    vocabulary_size: int = 50257
    num_layers: int = 12
    num_heads: int = 12
    hidden_dim: int = 768
    intermediate_dim: int = 3072
    max_sequence_length: int = 1024
    activation: str = "gelu_tanh"
    layer_norm_epsilon: float = 1e-5


@keras.saving.register_keras_serializable(package="zoo")
class Gpt(ZooModel):
    """GPT language model: ``{"token_ids", "padding_mask"}`` -> logits (B, T, V).

    ``padding_mask`` may be omitted (all ones), and a bare id tensor may be
    passed instead of the dict. Logits are float32 even under mixed precision.
    """

    config_class = GptConfig
    token_inputs = {"token_ids": "vocabulary_size"}
    mask_inputs = {"padding_mask": "token_ids"}

    def __init__(self, dtype=None, **kwargs):
        config = config_from_kwargs(GptConfig, kwargs)
        init = keras.initializers.RandomNormal(stddev=0.02)

        # === Layers ===
        embeddings = TokenAndPositionEmbedding(
            config.vocabulary_size,
            config.max_sequence_length,
            config.hidden_dim,
            initializer=init,
            dtype=dtype,
            name="embeddings",
        )
        embeddings_dropout = keras.layers.Dropout(config.dropout, dtype=dtype, name="embeddings_dropout")
        blocks = [
            TransformerDecoderBlock(
                config.num_heads,
                config.intermediate_dim,
                dropout=config.dropout,
                activation=config.activation,
                layer_norm_epsilon=config.layer_norm_epsilon,
                use_xla=config.use_xla_attention,
                kernel_initializer=init,
                dtype=dtype,
                name=f"block_{i}",
            )
            for i in range(config.num_layers)
        ]
        final_norm = LayerNorm(
            epsilon=config.layer_norm_epsilon, dtype=dtype, name="final_norm"
        )
        to_float32 = keras.layers.Activation("linear", dtype="float32", name="logits")

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = embeddings_dropout(embeddings(token_ids))
        for block in blocks:
            x = block(x, padding_mask=padding_mask)
        x = final_norm(x)
        logits = to_float32(embeddings.token_embedding(x, reverse=True))
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=logits,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.config = config
        self.embeddings = embeddings
        self.blocks = blocks
        self.final_norm = final_norm

    @property
    def token_embedding(self):
        return self.embeddings.token_embedding

    def initial_layer_caches(self, batch_size, cache_length=None):
        """One (batch, 2, cache_length, heads, head_dim) zero tensor per layer.

        The compiled decode loop carries these: each step writes its keys and
        values into every layer's own buffer, which XLA updates in place. A
        single stacked tensor would be sliced and re-stacked (copied whole)
        every step.
        """
        c = self.config
        cache_length = cache_length or c.max_sequence_length
        shape = (batch_size, 2, cache_length, c.num_heads, c.hidden_dim // c.num_heads)
        return [ops.zeros(shape, dtype=self.compute_dtype) for _ in range(c.num_layers)]

    def call_with_cache(
        self, token_ids, cache, cache_update_index, padding_mask=None, start_index=None,
        last_logits_only=False,
    ):
        """Run new tokens against the cache.

        Args:
            token_ids: (B, T) new tokens, written at positions
                ``cache_update_index .. cache_update_index + T - 1``.
            cache: one (B, 2, cache_length, heads, head_dim) tensor per
                layer, from ``initial_layer_caches`` or a previous call.
            cache_update_index: int or scalar tensor.
            padding_mask: (B, cache_length) real keys, for padded batches.
            start_index: position ids of the first new token (scalar or (B,));
                defaults to ``cache_update_index``.
            last_logits_only: project only the last new token onto the
                vocabulary (logits (B, 1, V)): reading a prompt needs no more,
                and the LM head over every prompt token costs a third of it.
        Returns ``(logits (B, T, V) float32, hidden (B, T, D), cache)``, the
        cache as a list of the layers' updated tensors.
        """
        start = cache_update_index if start_index is None else start_index
        return self._run_blocks(
            token_ids, start, padding_mask,
            [dict(cache=c, cache_update_index=cache_update_index) for c in cache],
            scored=(lambda h: h[:, -1:]) if last_logits_only else None,
        )

    def initial_past(self, batch_size):
        """An empty past: (keys, values) per layer, each (batch, heads, 0, head_dim)."""
        c = self.config
        shape = (batch_size, c.num_heads, 0, c.hidden_dim // c.num_heads)
        return [(ops.zeros(shape, self.compute_dtype), ops.zeros(shape, self.compute_dtype))
                for _ in range(c.num_layers)]

    def call_with_past(self, token_ids, past, padding_mask=None, start_index=None, logits_positions=None):
        """Run new tokens after a past that grows (the exported ONNX decoder's form).

        Args:
            token_ids: (B, T) new tokens.
            past: (keys, values) per layer, each (B, heads, past_length,
                head_dim): from ``initial_past`` or a previous call's.
            padding_mask: (B, past_length + T) real keys, for padded batches.
            start_index: position ids of the first new token (scalar or (B,));
                defaults to ``past_length``.
            logits_positions: (B, K) int, which of the T new tokens get
                logits (each row its own); None for all of them. Decoding
                needs only the last, and projecting a long prompt onto the
                vocabulary is about a third of reading it.
        Returns ``(logits (B, K or T, V) float32, hidden (B, T, D), past)``, the
        past with this call's keys and values appended (past_length + T).
        """
        start = ops.shape(past[0][0])[2] if start_index is None else start_index

        def scored(hidden):
            # One Gather over the (B * T, D) rows. take_along_axis would add transposes that an
            # exported graph then feeds into the LM head's MatMul (ONNX Runtime's FusedMatMul
            # with a transposed input: a slower kernel at batch > 1).
            shape = ops.shape(hidden)
            rows = ops.reshape(hidden, (-1, shape[2]))
            first_row = ops.expand_dims(ops.arange(shape[0], dtype="int32") * ops.cast(shape[1], "int32"), -1)
            return ops.take(rows, first_row + ops.cast(logits_positions, "int32"), axis=0)

        return self._run_blocks(token_ids, start, padding_mask, [dict(past=p) for p in past],
                                scored=None if logits_positions is None else scored)

    def _run_blocks(self, token_ids, start, padding_mask, block_states, scored=None):
        """Embeddings, each block with its cache or past, final norm and LM head over
        ``scored(hidden)`` (default: every token); -> (logits, hidden, states)."""
        x = self.embeddings(token_ids, start_index=start)
        # Every block attends over a cache or past of the same length: one mask serves them all.
        mask = TransformerDecoderBlock.self_attention_mask(x, padding_mask, **block_states[0])
        x, states = call_stack(self.blocks, x, block_states, self_attention_mask=mask)
        hidden = self.final_norm(x)
        projected = hidden if scored is None else scored(hidden)
        logits = ops.cast(self.token_embedding(projected, reverse=True), "float32")
        return logits, hidden, states
