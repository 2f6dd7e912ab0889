"""Convert a zoo model to ONNX with tf2onnx.

The model is traced inside ``zoo.layers.export_mode()``, so attention runs
on its inline (export-friendly) path: tf2onnx cannot convert the nested XLA
function of the default path. Inputs keep the model's input names and get
dynamic batch and sequence axes.
"""

import tensorflow as tf
import tf2onnx

from zoo.layers import export_mode

MAX_OPSET = 18  # the newest opset tf2onnx supports


def input_signature(model):
    """One ``tf.TensorSpec`` per model input, named after it, batch and length dynamic."""
    return {
        name: tf.TensorSpec((None,) * len(tensor.shape), tensor.dtype, name=name)
        for name, tensor in model.input.items()
    }


def to_onnx(model, opset=17):
    """Return an ``onnx.ModelProto`` computing ``model``'s outputs from its named inputs."""
    if not 7 <= int(opset) <= MAX_OPSET:
        raise ValueError(f"opset must be between 7 and {MAX_OPSET} (tf2onnx's range), got {opset}.")
    specs = input_signature(model)
    names = list(specs)

    def serve(*tensors):
        return model(dict(zip(names, tensors)), training=False)

    with export_mode():
        function = tf.function(serve, input_signature=[specs[n] for n in names])
        onnx_model, _ = tf2onnx.convert.from_function(function, input_signature=[specs[n] for n in names], opset=int(opset))
    return onnx_model
