"""The GPT decoder block: pre-LayerNorm causal self-attention (+ optional
cross-attention) + feed-forward, with a key/value cache for decoding."""

import keras
from keras import ops

from zoo.layers.feed_forward import FeedForward
from zoo.layers.layer_norm import LayerNorm
from zoo.layers.masks import attention_mask
from zoo.layers.multi_head_attention import MultiHeadAttention


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderBlock(keras.layers.Layer):
    """``x = x + attn(LN(x)); [x = x + cross(LN(x), enc)]; x = x + ffn(LN(x))``.

    Args:
        num_heads, intermediate_dim: attention heads and FFN width.
        dropout: on attention weights, residual branches and FFN output.
        activation: FFN activation (GPT-2 uses ``"gelu_tanh"``).
        layer_norm_epsilon: 1e-5 for GPT-2.
        cross_attention: add a cross-attention sub-block over encoder outputs.
        use_xla: XLA-compiled attention core.

    Call::

        y = block(x, padding_mask=None)                        # full pass
        y, cache = block(x, cache=c, cache_update_index=i,     # cached step
                         padding_mask=key_padding_over_cache)
        y, past = block(x, past=(keys, values),                # step appended to a past
                        padding_mask=key_padding_over_past_and_new)
        y = block(x, encoder_outputs=e, encoder_padding_mask=m)  # with cross-attn
        mask = TransformerDecoderBlock.self_attention_mask(x, padding_mask, cache=c, cache_update_index=i)
        y, cache = block(x, cache=c, cache_update_index=i, self_attention_mask=mask)

    A stack of blocks over caches or pasts of one length builds the
    self-attention mask once (:meth:`self_attention_mask`) and passes it to
    every block, where it stands for ``padding_mask``: gpt2's twelve
    identical masks were 812 of the 4,884 graph nodes its decode loop traced.
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="gelu_tanh",
        layer_norm_epsilon=1e-5,
        cross_attention=False,
        use_xla=True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.cross_attention = bool(cross_attention)
        self.use_xla = bool(use_xla)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

        def norm(name):
            return LayerNorm(
                epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name=name
            )

        self.attention_norm = norm("attention_norm")
        self.cross_attention_norm = norm("cross_attention_norm") if cross_attention else None
        self.feed_forward_norm = norm("feed_forward_norm")
        self.feed_forward = FeedForward(
            intermediate_dim,
            activation=activation,
            dropout=dropout,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self.residual_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def _attention(self, hidden_dim, name):
        return MultiHeadAttention(
            self.num_heads,
            hidden_dim // self.num_heads,
            dropout=self.dropout,
            use_xla=self.use_xla,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, x_shape, encoder_outputs_shape=None):
        hidden_dim = x_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden_dim {hidden_dim} is not divisible by num_heads {self.num_heads}."
            )
        self.self_attention = self._attention(hidden_dim, "self_attention")
        self.self_attention.build(x_shape)
        self.attention_norm.build(x_shape)
        if self.cross_attention:
            self.cross_attention_layer = self._attention(hidden_dim, "cross_attention")
            self.cross_attention_layer.build(x_shape, encoder_outputs_shape or x_shape)
            self.cross_attention_norm.build(x_shape)
        self.feed_forward_norm.build(x_shape)
        self.feed_forward.build(x_shape)
        self.built = True

    @staticmethod
    def self_attention_mask(x, padding_mask=None, cache=None, cache_update_index=None, past=None):
        """The causal (B or 1, T, keys) mask of the self-attention of a call with these arguments."""
        query_length = ops.shape(x)[1]
        if cache is not None:
            key_length = ops.shape(cache)[2]
            offset = 0 if cache_update_index is None else cache_update_index
        elif past is not None:
            offset = ops.shape(past[0])[2]
            key_length = offset + query_length
        else:
            key_length, offset = query_length, 0
        return attention_mask(
            query_length, key_length, padding_mask, causal=True, query_offset=offset
        )

    def call(
        self,
        x,
        encoder_outputs=None,
        padding_mask=None,
        encoder_padding_mask=None,
        cache=None,
        cache_update_index=None,
        past=None,
        self_attention_mask=None,
        training=None,
    ):
        query_length = ops.shape(x)[1]
        self_mask = self_attention_mask
        if self_mask is None:
            self_mask = self.self_attention_mask(x, padding_mask, cache, cache_update_index, past)

        attended = self.self_attention(
            self.attention_norm(x),
            attention_mask=self_mask,
            cache=cache,
            cache_update_index=cache_update_index,
            past=past,
            training=training,
        )
        if cache is not None:
            attended, cache = attended
        elif past is not None:
            attended, past = attended
        x = x + self.residual_dropout(attended, training=training)

        if self.cross_attention:
            if encoder_outputs is None:
                raise ValueError(
                    "This decoder block has cross_attention=True: pass `encoder_outputs`."
                )
            cross_mask = attention_mask(
                query_length, ops.shape(encoder_outputs)[1], encoder_padding_mask
            )
            crossed = self.cross_attention_layer(
                self.cross_attention_norm(x),
                encoder_outputs,
                attention_mask=cross_mask,
                training=training,
            )
            x = x + self.residual_dropout(crossed, training=training)

        x = x + self.feed_forward(self.feed_forward_norm(x), training=training)
        if cache is not None:
            return x, cache
        return x if past is None else (x, past)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim,
            dropout=self.dropout,
            activation=self.activation,
            layer_norm_epsilon=self.layer_norm_epsilon,
            cross_attention=self.cross_attention,
            use_xla=self.use_xla,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
