"""LSTM encoder-decoder with attention (Luong et al., 2015).

Encoder: source embedding -> stacked (by default bidirectional) LSTM; its
final (h, c) per layer start the decoder. Decoder: target embedding ->
stacked LSTM -> attention over encoder outputs (dot / general / additive,
respecting source padding) -> ``tanh(W [context; h])`` -> vocabulary logits
(tied to the target embedding by default).

Attention reads the decoder LSTM's output at each step (no input feeding),
so the teacher-forced call runs the decoder over the whole target at once
and ``decode_step`` computes exactly the same numbers one token at a time.
"""

import dataclasses

import keras
from keras import ops

from zoo.layers import LstmStack, SourceAttention, TokenEmbedding
from zoo.layers.lstm_stack import CUDNN_CHOICES
from zoo.layers.source_attention import SCORES
from zoo.models.base import ZooModel, check_choice, check_dropout, check_positive, config_from_kwargs


@dataclasses.dataclass
class Seq2SeqConfig:
    """Sizes and options of an LSTM encoder-decoder."""

    source_vocabulary_size: int = 8000
    target_vocabulary_size: int = 8000
    num_layers: int = 2
    hidden_dim: int = 256
    embedding_dim: int = 0  # 0 = same as hidden_dim
    max_sequence_length: int = 128
    attention: str = "general"
    bidirectional_encoder: bool = True
    dropout: float = 0.2
    tie_embeddings: bool = True
    use_xla_attention: bool = True
    use_cudnn: object = False

    def validate(self):
        check_positive(
            self,
            "source_vocabulary_size",
            "target_vocabulary_size",
            "num_layers",
            "hidden_dim",
            "max_sequence_length",
        )
        if self.embedding_dim < 0:
            raise ValueError("embedding_dim must be >= 0 (0 = same as hidden_dim).")
        if self.bidirectional_encoder and self.hidden_dim % 2:
            raise ValueError(
                f"hidden_dim ({self.hidden_dim}) must be even with a bidirectional "
                "encoder: each direction gets hidden_dim // 2."
            )
        check_choice(self, "attention", SCORES)
        check_dropout(self)
        check_choice(self, "use_cudnn", CUDNN_CHOICES)

    @property
    def resolved_embedding_dim(self):
        return self.embedding_dim or self.hidden_dim


@keras.saving.register_keras_serializable(package="zoo")
class Seq2Seq(ZooModel):
    """Teacher-forced call: ``{"source_ids", "source_padding_mask",
    "target_ids", "target_padding_mask"}`` -> float32 logits (B, T_target, V).

    For inference: ``encode`` once, then ``decode_step`` per token.
    """

    config_class = Seq2SeqConfig
    token_inputs = {"source_ids": "source_vocabulary_size", "target_ids": "target_vocabulary_size"}
    mask_inputs = {"source_padding_mask": "source_ids", "target_padding_mask": "target_ids"}

    def __init__(self, dtype=None, **kwargs):
        config = config_from_kwargs(Seq2SeqConfig, kwargs)
        embedding_dim = config.resolved_embedding_dim
        init = keras.initializers.RandomUniform(-0.1, 0.1)

        # === Layers ===
        self_layers = dict(
            source_embedding=TokenEmbedding(
                config.source_vocabulary_size, embedding_dim, init, dtype=dtype, name="source_embedding"
            ),
            target_embedding=TokenEmbedding(
                config.target_vocabulary_size, embedding_dim, init, dtype=dtype, name="target_embedding"
            ),
            encoder=LstmStack(
                config.hidden_dim,
                num_layers=config.num_layers,
                bidirectional=config.bidirectional_encoder,
                dropout=config.dropout,
                use_cudnn=config.use_cudnn,
                dtype=dtype,
                name="encoder",
            ),
            decoder=LstmStack(
                config.hidden_dim,
                num_layers=config.num_layers,
                dropout=config.dropout,
                use_cudnn=config.use_cudnn,
                dtype=dtype,
                name="decoder",
            ),
            attention=SourceAttention(
                config.attention, use_xla=config.use_xla_attention, dtype=dtype, name="attention"
            ),
            combine=keras.layers.Dense(config.hidden_dim, activation="tanh", dtype=dtype, name="combine"),
            dropout=keras.layers.Dropout(config.dropout, dtype=dtype, name="dropout"),
            projection=(
                keras.layers.Dense(embedding_dim, dtype=dtype, name="projection")
                if config.tie_embeddings and embedding_dim != config.hidden_dim
                else None
            ),
            output_dense=(
                None
                if config.tie_embeddings
                else keras.layers.Dense(config.target_vocabulary_size, dtype=dtype, name="output")
            ),
        )
        # Set before the graph is built: encode/decode below read them.
        self._seq2seq_layers = self_layers
        self.config = config

        # === Functional model ===
        inputs = {
            name: keras.Input((None,), dtype="int32", name=name)
            for name in ("source_ids", "source_padding_mask", "target_ids", "target_padding_mask")
        }
        encoder_outputs, states = self.encode(inputs["source_ids"], inputs["source_padding_mask"])
        logits, _ = self.decode(
            inputs["target_ids"],
            encoder_outputs,
            states,
            inputs["source_padding_mask"],
            target_padding_mask=inputs["target_padding_mask"],
        )
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self.config = config
        for name, layer in self_layers.items():
            setattr(self, name, layer)

    def __getattr__(self, name):
        layers = self.__dict__.get("_seq2seq_layers")
        if layers is not None and name in layers:
            return layers[name]
        raise AttributeError(name)

    def encode(self, source_ids, source_padding_mask=None, training=None):
        """source (B, S) -> (encoder_outputs (B, S, hidden), [(h, c)] per layer)."""
        x = self.dropout(self.source_embedding(source_ids), training=training)
        return self.encoder(x, padding_mask=source_padding_mask, training=training)

    def _attend_and_project(self, decoder_outputs, encoder_outputs, source_padding_mask, training):
        context, weights = self.attention(decoder_outputs, encoder_outputs, source_padding_mask)
        x = self.combine(ops.concatenate([context, decoder_outputs], axis=-1))
        x = self.dropout(x, training=training)
        if self.output_dense is not None:
            return self.output_dense(x), weights
        if self.projection is not None:
            x = self.projection(x)
        return self.target_embedding(x, reverse=True), weights

    def decode(
        self,
        target_ids,
        encoder_outputs,
        states,
        source_padding_mask=None,
        target_padding_mask=None,
        training=None,
    ):
        """Teacher-forced decoder over all target positions.

        Returns (logits (B, T, V), attention weights (B, T, S)).
        """
        x = self.dropout(self.target_embedding(target_ids), training=training)
        x, _ = self.decoder(x, padding_mask=target_padding_mask, initial_states=states, training=training)
        return self._attend_and_project(x, encoder_outputs, source_padding_mask, training)

    def decode_step(self, target_ids, states, encoder_outputs, source_padding_mask=None):
        """One token per row: target_ids (B,) -> (float32 logits (B, V), states, weights (B, S))."""
        x = self.target_embedding(target_ids)
        x, states = self.decoder.step(x, states)
        logits, weights = self._attend_and_project(
            x[:, None, :], encoder_outputs, source_padding_mask, training=False
        )
        return ops.cast(logits[:, 0], "float32"), states, weights[:, 0]
