"""Layer normalization that XLA lowers cheaply: Keras' own layer, with 1 / sqrt written as a power.

TensorFlow hands ``Rsqrt`` to XLA through its MLIR bridge, which builds and
legalizes one MLIR module per op (about 4 ms each on the machines measured
here), where ``Pow`` has a direct kernel (well under a millisecond). A GPT-2
decode loop holds 50 layer norms, and TensorFlow lowers the whole loop again
before every lookup in its persistent compilation cache, so the power form
takes about 0.2 s off every first compiled call, warm cache or cold.

The values are Keras' within float rounding (the same mean, variance, scale
and shift, in the same order). Exports keep Keras' graph (``Rsqrt``), the
pattern ``export.onnx.fusion`` turns into ONNX ``LayerNormalization``. Any
other configuration (RMS scaling, axes other than the last) is Keras' own.
"""

import keras
from keras import ops

from zoo.layers.attention_core import in_export_mode


@keras.saving.register_keras_serializable(package="zoo")
class LayerNorm(keras.layers.LayerNormalization):
    """``keras.layers.LayerNormalization`` over the last axis, lowered to XLA without ``Rsqrt``."""

    def _normalizes_last_axis(self, rank):
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        return len(axes) == 1 and axes[0] in (-1, rank - 1)

    def call(self, inputs):
        if in_export_mode() or self.rms_scaling or not self._normalizes_last_axis(len(inputs.shape)):
            return super().call(inputs)
        # In at least float32, as Keras computes it for half-precision inputs.
        x = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = ops.moments(x, axes=[-1], keepdims=True)
        inverse = ops.power(variance + self.epsilon, -0.5)
        if self.gamma is not None:
            inverse = inverse * ops.cast(self.gamma, x.dtype)
        shift = -mean * inverse
        if self.beta is not None:
            shift = shift + ops.cast(self.beta, x.dtype)
        return ops.cast(x * inverse + shift, self.compute_dtype)
