"""The position-wise feed-forward network of a transformer block."""

import math

import keras
from keras import ops

from zoo.layers.initializers import clone_initializer

ACTIVATIONS = ("gelu", "gelu_tanh", "relu")


def gelu_exact(x):
    """x * Phi(x), written with erf: TensorFlow's own exact GELU lowers to
    ``Erfc``, which tf2onnx cannot convert; ``Erf`` converts, and it is the
    pattern onnxruntime fuses into its Gelu kernel."""
    return 0.5 * x * (1.0 + ops.erf(x * (1.0 / math.sqrt(2.0))))


def resolve_activation(name):
    """Map a config name to a function: exact GELU (BERT), tanh GELU (GPT-2), ReLU."""
    if name == "gelu":
        return gelu_exact
    if name == "gelu_tanh":
        return lambda x: keras.activations.gelu(x, approximate=True)
    if name == "relu":
        return keras.activations.relu
    raise ValueError(f"Unknown activation {name!r}; choose one of {ACTIVATIONS}.")


@keras.saving.register_keras_serializable(package="zoo")
class FeedForward(keras.layers.Layer):
    """Dense(intermediate_dim, activation) -> Dense(hidden) -> dropout.

    Args:
        intermediate_dim: width of the inner layer (4 x hidden in BERT/GPT).
        activation: ``"gelu"`` (exact), ``"gelu_tanh"`` or ``"relu"``.
        dropout: dropout on the output while training.
    """

    def __init__(
        self,
        intermediate_dim,
        activation="gelu",
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.intermediate_dim = int(intermediate_dim)
        self.activation = activation
        self.activation_fn = resolve_activation(activation)
        self.dropout = float(dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="intermediate",
        )
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def build(self, inputs_shape):
        self.intermediate_dense.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
            inputs_shape[-1],
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="output",
        )
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.built = True

    def call(self, inputs, training=None):
        x = self.activation_fn(self.intermediate_dense(inputs))
        return self.output_dropout(self.output_dense(x), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            intermediate_dim=self.intermediate_dim,
            activation=self.activation,
            dropout=self.dropout,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
