"""BERT's masked-LM head, tied to the token embedding."""

import keras
from keras import ops

from zoo.layers.feed_forward import resolve_activation
from zoo.layers.layer_norm import LayerNorm


@keras.saving.register_keras_serializable(package="zoo")
class MaskedLMHead(keras.layers.Layer):
    """Gather masked positions -> Dense + activation -> LayerNorm -> tied logits + bias.

    Args:
        token_embedding: the backbone's ``TokenEmbedding``; its matrix is the
            output projection (weights tied, as in BERT).
        activation: ``"gelu"`` for BERT.
        layer_norm_epsilon: 1e-12 for BERT.
    Call: ``head(sequence_output (B, T, D), mask_positions (B, P))`` ->
    float32 logits (B, P, vocabulary_size).
    """

    def __init__(self, token_embedding, activation="gelu", layer_norm_epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        if isinstance(token_embedding, dict):
            token_embedding = keras.layers.deserialize(token_embedding)
        self.token_embedding = token_embedding
        self.activation = activation
        self.activation_fn = resolve_activation(activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)

    def build(self, sequence_output_shape, mask_positions_shape=None):
        sequence_shape = sequence_output_shape
        dim = sequence_shape[-1]
        self.transform = keras.layers.Dense(dim, dtype=self.dtype_policy, name="transform")
        self.transform.build(sequence_shape)
        self.norm = LayerNorm(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="norm"
        )
        self.norm.build(sequence_shape)
        if not self.token_embedding.built:
            # A head rebuilt on its own (from_config, a symbolic call) owns the
            # matrix it projects with; in a BertMaskedLM the backbone built it.
            self.token_embedding.build()
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.token_embedding.vocabulary_size,), initializer="zeros"
        )
        self.built = True

    def call(self, sequence_output, mask_positions):
        positions = ops.cast(mask_positions, "int32")[:, :, None]  # (B, P, 1)
        x = ops.take_along_axis(sequence_output, positions, axis=1)  # (B, P, D)
        x = self.norm(self.activation_fn(self.transform(x)))
        logits = self.token_embedding(x, reverse=True)
        return ops.cast(logits + ops.cast(self.output_bias, logits.dtype), "float32")

    def compute_output_spec(self, sequence_output, mask_positions):
        shape = tuple(mask_positions.shape) + (self.token_embedding.vocabulary_size,)
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            token_embedding=keras.layers.serialize(self.token_embedding),
            activation=self.activation,
            layer_norm_epsilon=self.layer_norm_epsilon,
        )
        return config
