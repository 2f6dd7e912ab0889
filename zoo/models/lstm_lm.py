"""LSTM language model: token embedding -> stacked LSTM -> output projection.

The output projection is tied to the token embedding by default (Press &
Wolf, 2017); when ``hidden_dim != embedding_dim`` a Dense layer first maps
LSTM outputs down to the embedding width. ``step`` advances one token with
explicit (h, c) states, for generation.
"""

import dataclasses

import keras
from keras import ops

from zoo.layers import LstmStack, TokenEmbedding
from zoo.layers.lstm_stack import CUDNN_CHOICES
from zoo.models.base import ZooModel, check_choice, check_dropout, check_positive, config_from_kwargs


@dataclasses.dataclass
class LstmLMConfig:
    """Sizes and options of an LSTM LM."""

    vocabulary_size: int = 65
    num_layers: int = 2
    hidden_dim: int = 512
    embedding_dim: int = 0  # 0 = same as hidden_dim
    max_sequence_length: int = 0  # 0 = unbounded (an LSTM has no position limit)
    dropout: float = 0.1
    tie_embeddings: bool = True
    use_cudnn: object = False  # see zoo.layers.lstm_stack on cuDNN vs XLA

    def validate(self):
        check_positive(self, "vocabulary_size", "num_layers", "hidden_dim")
        if self.embedding_dim < 0 or self.max_sequence_length < 0:
            raise ValueError("embedding_dim and max_sequence_length must be >= 0 (0 = default).")
        check_dropout(self)
        check_choice(self, "use_cudnn", CUDNN_CHOICES)

    @property
    def resolved_embedding_dim(self):
        return self.embedding_dim or self.hidden_dim


@keras.saving.register_keras_serializable(package="zoo")
class LstmLM(ZooModel):
    """LSTM LM: ``{"token_ids", "padding_mask"}`` -> float32 logits (B, T, V).

    Masked (padded) steps carry the LSTM state through unchanged and output
    zeros, so in Keras left or right padding never changes the outputs at
    real positions. The exported ONNX graph (``LSTM`` ops with
    ``sequence_lens``) assumes right padding: see ``export.onnx.lstm``.
    """

    config_class = LstmLMConfig
    token_inputs = {"token_ids": "vocabulary_size"}
    mask_inputs = {"padding_mask": "token_ids"}

    def __init__(self, dtype=None, **kwargs):
        config = config_from_kwargs(LstmLMConfig, kwargs)
        embedding_dim = config.resolved_embedding_dim

        # === Layers ===
        token_embedding = TokenEmbedding(
            config.vocabulary_size,
            embedding_dim,
            embeddings_initializer=keras.initializers.RandomUniform(-0.1, 0.1),
            dtype=dtype,
            name="token_embedding",
        )
        dropout = keras.layers.Dropout(config.dropout, dtype=dtype, name="dropout")
        lstm = LstmStack(
            config.hidden_dim,
            num_layers=config.num_layers,
            dropout=config.dropout,
            use_cudnn=config.use_cudnn,
            dtype=dtype,
            name="lstm",
        )
        projection = None
        if config.tie_embeddings and embedding_dim != config.hidden_dim:
            projection = keras.layers.Dense(embedding_dim, dtype=dtype, name="projection")
        output_dense = None
        if not config.tie_embeddings:
            output_dense = keras.layers.Dense(config.vocabulary_size, dtype=dtype, name="output")

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = dropout(token_embedding(token_ids))
        x, _ = lstm(x, padding_mask=padding_mask)
        x = dropout(x)
        logits = self._logits(x, token_embedding, projection, output_dense)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=logits,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.config = config
        self.token_embedding = token_embedding
        self.lstm = lstm
        self.projection = projection
        self.output_dense = output_dense

    @staticmethod
    def _logits(x, token_embedding, projection, output_dense):
        if output_dense is not None:
            return output_dense(x)
        if projection is not None:
            x = projection(x)
        return token_embedding(x, reverse=True)

    def _check_length(self, inputs):
        if self.config.max_sequence_length:
            super()._check_length(inputs)

    def initial_states(self, batch_size):
        """Zero (h, c) for every layer."""
        zeros = ops.zeros((batch_size, self.config.hidden_dim), dtype=self.compute_dtype)
        return [(zeros, zeros) for _ in range(self.config.num_layers)]

    def step(self, token_ids, states):
        """One token per row: token_ids (B,) -> (float32 logits (B, V), new states)."""
        x = self.token_embedding(token_ids)
        x, states = self.lstm.step(x, states)
        logits = self._logits(x, self.token_embedding, self.projection, self.output_dense)
        return ops.cast(logits, "float32"), states
