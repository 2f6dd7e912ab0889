"""Convert a zoo model's forward pass to ONNX, and write it.

Inputs keep the model's input names, outputs are named after the model's
outputs (``logits``, ``sequence_output``, ...), and every axis that is
dynamic in TensorFlow gets the symbolic name its contract declares
(``batch``, ``sequence``, ``source_sequence``: ``export.onnx.contract``)
instead of tf2onnx's ``unk__N``. Models with LSTM stacks get ONNX ``LSTM``
kernels (``export.onnx.lstm``); the conversion itself is
``export.onnx.tf_function``.

Models whose weights pass ~2 GB cannot be one protobuf: they are written as
``model.onnx`` plus ``model.onnx.data`` (:func:`save_onnx`).
"""

import os

import onnx
import tensorflow as tf

from export.model_info import describe
from export.onnx import contract, lstm
from export.onnx.model_file import write_model
from export.onnx.tf_function import DEFAULT_OPSET, convert_function

EXTERNAL_DATA_BYTES = 1_800_000_000  # above this, weights go to external files (protobuf limit is 2 GiB)


def input_signature(model):
    """One ``tf.TensorSpec`` per model input, named after it, batch and length dynamic."""
    return {
        name: tf.TensorSpec((None,) * len(tensor.shape), tensor.dtype, name=name)
        for name, tensor in model.input.items()
    }


def needs_external_data(model):
    """True when the model's weights are too big for a single ONNX protobuf."""
    size = sum(int(tf.size(v.value)) * v.value.dtype.size for v in model.weights)
    return size > EXTERNAL_DATA_BYTES


def model_axis_names(info):
    """Symbolic axis names of a model's inputs and outputs, from its declared
    contract (``export.onnx.contract.forward``)."""
    return contract.forward(info).axis_names()


def model_function(info):
    """``f(**inputs) -> {output name: float32 tensor}`` for the model's forward pass."""
    model = info.model

    def forward(**inputs):
        outputs = model({n: inputs[n] for n in info.input_names}, training=False)
        if not isinstance(outputs, dict):
            outputs = {info.output_names[0]: outputs}
        return {k: tf.cast(outputs[k], tf.float32) for k in info.output_names}

    return forward


def to_onnx(model, opset=DEFAULT_OPSET, info=None):
    """Return an ``onnx.ModelProto`` computing ``model``'s named outputs from its named inputs."""
    return convert_model(info or describe(model), opset)[0]


def convert_model(info, opset=DEFAULT_OPSET, external_data=None, lstm_kernels=True):
    """``(ModelProto, external_data)`` for ``info``'s forward pass.

    ``external_data`` (None = decide by size) says whether :func:`save_onnx`
    should write the weights to a file beside ``model.onnx``.
    ``lstm_kernels``: models with LSTM stacks get ONNX ``LSTM`` ops
    (:mod:`export.onnx.lstm`); False keeps Keras' masked loop (an ONNX
    ``Loop`` per LSTM layer), for comparison.
    """
    external = needs_external_data(info.model) if external_data is None else bool(external_data)
    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in info.input_names}
    if lstm_kernels and lstm.has_lstm_stacks(info.model):
        axes = model_axis_names(info)
        return lstm.convert_with_lstm_kernels(model_function(info), specs, opset, axes, info.model), external
    model = convert_function(model_function(info), specs, opset, model_axis_names(info), variables=info.model.weights)
    return model, external


def save_onnx(onnx_model, path, external_data=None):
    """Write ``path``; with ``external_data`` (None = when the weights pass ~1.8 GB,
    the protobuf limit being 2 GiB) the initializers go to ``model.onnx.data`` beside it.
    A single file is written piece by piece (:func:`export.onnx.model_file.write_model`)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if external_data is None:
        external_data = sum(len(t.raw_data) for t in onnx_model.graph.initializer) > EXTERNAL_DATA_BYTES
    if external_data:
        onnx.save_model(onnx_model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
    else:
        write_model(onnx_model, path)
    return path
