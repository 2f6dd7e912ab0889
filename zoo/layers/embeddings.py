"""Token, position and segment embeddings.

``TokenEmbedding`` doubles as the tied LM head (``reverse=True`` multiplies
hidden states by the transposed embedding matrix), which is how GPT, BERT's
masked-LM head and the LSTM LM share input and output embeddings.

Out-of-range token ids: when a layer runs eagerly, ids outside
``[0, vocabulary_size)`` raise a ``ValueError`` that names the first bad id.
Inside a graph (``tf.function``, ``fit``, ``predict``) the check would cost a
device sync per step, so it is skipped; TensorFlow's gather then raises
``InvalidArgumentError: indices[...] = N is not in [0, V)`` on CPU, while
GPUs and XLA-compiled graphs return zeros / clamp silently. Validate ids
eagerly (or with ``zoo.check_token_ids``) when they come from outside.
"""

import math

import keras
import numpy as np
from keras import ops

from zoo.layers.initializers import clone_initializer
from zoo.token_ids import check_token_ids


def executing_eagerly():
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    return True


@keras.saving.register_keras_serializable(package="zoo")
class TokenEmbedding(keras.layers.Layer):
    """Token id -> vector lookup; with ``reverse=True``, vector -> logits.

    Args:
        vocabulary_size: number of token ids.
        embedding_dim: vector size.
        embeddings_initializer: initializer of the (vocabulary, dim) matrix.
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        embeddings_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        # Masks are explicit arguments in the zoo; accept (and drop) Keras' implicit ones.
        self.supports_masking = True
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, inputs_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.vocabulary_size, self.embedding_dim),
            initializer=clone_initializer(self.embeddings_initializer),
        )
        self.built = True

    def call(self, inputs, reverse=False):
        if reverse:
            # (B, T, D) @ (D, V) -> (B, T, V)
            return ops.matmul(inputs, ops.transpose(ops.cast(self.embeddings, inputs.dtype)))
        if executing_eagerly():
            check_token_ids(inputs, self.vocabulary_size)
        return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

    def compute_output_spec(self, inputs, reverse=False):
        if reverse:
            shape = tuple(inputs.shape[:-1]) + (self.vocabulary_size,)
            return keras.KerasTensor(shape, dtype=self.compute_dtype)
        shape = tuple(inputs.shape) + (self.embedding_dim,)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            embeddings_initializer=keras.initializers.serialize(
                self.embeddings_initializer
            ),
        )
        return config


def sinusoidal_table(sequence_length, dim, max_wavelength=10000.0):
    """The fixed (sequence_length, dim) table of "Attention Is All You Need"."""
    positions = np.arange(sequence_length, dtype=np.float64)[:, None]
    rates = np.exp(-math.log(max_wavelength) * np.arange(0, dim, 2) / dim)
    table = np.zeros((sequence_length, dim))
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates[: dim // 2])
    return table.astype("float32")


@keras.saving.register_keras_serializable(package="zoo")
class PositionEmbedding(keras.layers.Layer):
    """Position vectors for positions ``start_index .. start_index + T - 1``.

    Args:
        sequence_length: the longest sequence the model supports.
        embedding_dim: vector size.
        kind: ``"learned"`` (a trained table, BERT/GPT) or ``"sinusoidal"``
            (fixed sines and cosines, no weights).
    Call with a (B, T) or (B, T, D) tensor; ``start_index`` (a scalar or a
    (B,) tensor) offsets positions for cached decoding. Returns (B or 1, T, D).
    """

    KINDS = ("learned", "sinusoidal")

    def __init__(
        self,
        sequence_length,
        embedding_dim,
        kind="learned",
        initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(
                f"Unknown position embedding kind {kind!r}; choose one of {self.KINDS}."
            )
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.kind = kind
        self.initializer = keras.initializers.get(initializer)

    def build(self, inputs_shape=None):
        if self.kind == "learned":
            self.position_embeddings = self.add_weight(
                name="embeddings",
                shape=(self.sequence_length, self.embedding_dim),
                initializer=clone_initializer(self.initializer),
            )
        else:
            self.position_embeddings = ops.convert_to_tensor(
                sinusoidal_table(self.sequence_length, self.embedding_dim)
            )
        self.built = True

    def call(self, inputs, start_index=0):
        length = ops.shape(inputs)[1]
        static_length = inputs.shape[1]
        if static_length is not None and static_length > self.sequence_length:
            raise ValueError(
                f"Sequence length {static_length} exceeds this model's "
                f"max_sequence_length {self.sequence_length}. Truncate the input "
                "or build the model with a larger `max_sequence_length`."
            )
        start_index = ops.convert_to_tensor(start_index, "int32")
        if executing_eagerly():
            last = int(ops.convert_to_numpy(ops.max(start_index))) + int(length)
            if last > self.sequence_length:
                raise ValueError(
                    f"Positions up to {last - 1} were requested but this model "
                    f"supports positions < {self.sequence_length} "
                    "(max_sequence_length). Shorten the input or the generation."
                )
        positions = ops.arange(length, dtype="int32")
        if len(start_index.shape) == 0:
            positions = (positions + start_index)[None, :]  # (1, T)
        else:
            positions = start_index[:, None] + positions[None, :]  # (B, T)
        table = ops.cast(self.position_embeddings, self.compute_dtype)
        return ops.take(table, positions, axis=0)

    def compute_output_spec(self, inputs, start_index=0):
        return keras.KerasTensor(
            (None, inputs.shape[1], self.embedding_dim), dtype=self.compute_dtype
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            sequence_length=self.sequence_length,
            embedding_dim=self.embedding_dim,
            kind=self.kind,
            initializer=keras.initializers.serialize(self.initializer),
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """token + position (+ segment) embeddings, summed.

    Args:
        vocabulary_size, sequence_length, embedding_dim: table sizes.
        num_segments: >0 adds a segment ("token type") table (BERT).
        position_kind: ``"learned"`` or ``"sinusoidal"``.
        initializer: initializer for every table.
    Call: ``layer(token_ids, segment_ids=None, start_index=0)``.
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        num_segments=0,
        position_kind="learned",
        initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.num_segments = int(num_segments)
        self.position_kind = position_kind
        self.initializer = keras.initializers.get(initializer)
        self.token_embedding = TokenEmbedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer=self.initializer,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length,
            embedding_dim,
            kind=position_kind,
            initializer=self.initializer,
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.segment_embedding = None
        if self.num_segments > 0:
            self.segment_embedding = TokenEmbedding(
                num_segments,
                embedding_dim,
                embeddings_initializer=self.initializer,
                dtype=self.dtype_policy,
                name="segment_embedding",
            )

    def build(self, inputs_shape=None):
        self.token_embedding.build()
        self.position_embedding.build()
        if self.segment_embedding is not None:
            self.segment_embedding.build()
        self.built = True

    def call(self, token_ids, segment_ids=None, start_index=0):
        x = self.token_embedding(token_ids)
        x = x + self.position_embedding(token_ids, start_index=start_index)
        if self.segment_embedding is not None:
            if segment_ids is None:
                segment_ids = ops.zeros_like(token_ids)
            x = x + self.segment_embedding(segment_ids)
        return x

    def compute_output_spec(self, token_ids, segment_ids=None, start_index=0):
        return keras.KerasTensor(
            tuple(token_ids.shape) + (self.embedding_dim,), dtype=self.compute_dtype
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            sequence_length=self.sequence_length,
            embedding_dim=self.embedding_dim,
            num_segments=self.num_segments,
            position_kind=self.position_kind,
            initializer=keras.initializers.serialize(self.initializer),
        )
        return config
