"""The BERT encoder block: post-LayerNorm self-attention + feed-forward."""

import keras

from zoo.layers.feed_forward import FeedForward
from zoo.layers.layer_norm import LayerNorm
from zoo.layers.masks import attention_mask
from zoo.layers.multi_head_attention import MultiHeadAttention


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """``x = LN(x + attn(x)); x = LN(x + ffn(x))`` (post-LN, as in BERT).

    Args:
        num_heads, intermediate_dim: attention heads and FFN width.
        dropout: on attention weights, attention output and FFN output.
        activation: FFN activation (``"gelu"``, ``"gelu_tanh"``, ``"relu"``).
        layer_norm_epsilon: 1e-12 for BERT.
        use_xla: XLA-compiled attention core.
    Call: ``block(x, padding_mask=None)`` with padding_mask (B, T), 1 = real.
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="gelu",
        layer_norm_epsilon=1e-12,
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
        self.use_xla = bool(use_xla)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.feed_forward = FeedForward(
            intermediate_dim,
            activation=activation,
            dropout=dropout,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self.attention_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.attention_norm = LayerNorm(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="attention_norm"
        )
        self.output_norm = LayerNorm(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="output_norm"
        )

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden_dim {hidden_dim} is not divisible by num_heads {self.num_heads}."
            )
        self.self_attention = MultiHeadAttention(
            self.num_heads,
            hidden_dim // self.num_heads,
            dropout=self.dropout,
            use_xla=self.use_xla,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="self_attention",
        )
        self.self_attention.build(inputs_shape)
        self.attention_norm.build(inputs_shape)
        self.feed_forward.build(inputs_shape)
        self.output_norm.build(inputs_shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        mask = None
        if padding_mask is not None:
            length = keras.ops.shape(x)[1]
            mask = attention_mask(length, length, padding_mask=padding_mask)
        attended = self.self_attention(x, attention_mask=mask, training=training)
        x = self.attention_norm(x + self.attention_dropout(attended, training=training))
        return self.output_norm(x + self.feed_forward(x, training=training))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim,
            dropout=self.dropout,
            activation=self.activation,
            layer_norm_epsilon=self.layer_norm_epsilon,
            use_xla=self.use_xla,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
