"""Convert a zoo model (or any traced function of it) to ONNX with tf2onnx.

The model is traced inside ``zoo.layers.export_mode()``, so attention runs
on its inline (export-friendly) path: tf2onnx cannot convert the nested XLA
function of the default path. Inputs keep the model's input names, outputs
are named after the model's outputs (``logits``, ``sequence_output``, ...),
and every axis that is dynamic in TensorFlow gets the symbolic name its
contract declares (``batch``, ``sequence``, ``source_sequence``; decoders add
``new_tokens``, ``cache_sequence``: ``export.onnx_contract``) instead of
tf2onnx's ``unk__N``.

The weights are traced as graph inputs and bound as initializers after the
conversion (:func:`convert_function`), which keeps tf2onnx's time and memory
independent of the model's size. Models whose weights pass ~2 GB cannot be
one protobuf: they are written as ``model.onnx`` plus ``model.onnx.data``
(:func:`save_onnx`).
"""

import gc
import os
import re

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from onnx import numpy_helper

from export.constant_folding import fold_constants
from zoo.layers import export_mode

MIN_OPSET, MAX_OPSET = 7, 18  # tf2onnx's range
RECOMMENDED_MIN_OPSET = 13  # older opsets lack ops the zoo's graphs use (e.g. Range, Einsum-free Softmax axes)
DEFAULT_OPSET = 17
EXTERNAL_DATA_BYTES = 1_800_000_000  # above this, weights go to external files (protobuf limit is 2 GiB)


def check_opset(opset):
    """Return ``opset`` as an int, or raise a ValueError naming the valid range."""
    try:
        value = int(opset)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(opset, bool) or not MIN_OPSET <= value <= MAX_OPSET:
        raise ValueError(
            f"opset must be between {MIN_OPSET} and {MAX_OPSET} (tf2onnx's range; "
            f"{RECOMMENDED_MIN_OPSET}+ for zoo models, default {DEFAULT_OPSET}), got {opset!r}."
        )
    return value


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


def _weight_input_names(variables):
    """A unique, TensorFlow-valid input name per variable, from its Keras path."""
    names, seen = [], set()
    for variable in variables:
        stem = re.sub(r"[^A-Za-z0-9_.\-/]", "_", getattr(variable, "path", None) or variable.name).lstrip("_/.-")
        name, k = stem or "weight", 1
        while name in seen:
            name, k = f"{stem}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def _to_numpy(value):
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def bind_weights(onnx_model, weights):
    """Turn the graph inputs named in ``weights`` ({name: variable or array}) into
    initializers, copying one weight at a time."""
    graph = onnx_model.graph
    used = {name for node in graph.node for name in node.input}
    kept = [value for value in graph.input if value.name not in weights]
    del graph.input[:]
    graph.input.extend(kept)
    for name, array in weights.items():
        if name in used:
            graph.initializer.append(numpy_helper.from_array(_to_numpy(array), name))
    return onnx_model


def convert_function(function, specs, opset=DEFAULT_OPSET, axis_names=None, variables=None):
    """tf2onnx-convert ``function(**specs) -> dict`` traced in export mode.

    ``variables`` (normally ``model.weights``) are traced as extra graph
    inputs through ``keras.StatelessScope`` rather than frozen into the
    TensorFlow graph as constants: tf2onnx then works on a graph without
    hundreds of megabytes of constants, which TensorFlow's freezing and
    Grappler would otherwise copy several times (bert-base: minutes and
    ~16 GB). After conversion the inputs are bound back as initializers and
    the ops on them folded (:mod:`export.constant_folding`).
    ``axis_names``: {input or output name: [axis names]} for dynamic axes.
    Returns an ``onnx.ModelProto`` (weights inside; see :func:`save_onnx` for
    models over 2 GB).
    """
    opset = check_opset(opset)
    names = list(specs)
    variables = list(variables or [])
    weight_names = _weight_input_names(variables)
    ordered = [specs[n] for n in names] + [
        tf.TensorSpec(v.shape, v.dtype, name=n) for v, n in zip(variables, weight_names)]

    def positional(*tensors):
        inputs = dict(zip(names, tensors[: len(names)]))
        with keras.StatelessScope(state_mapping=list(zip(variables, tensors[len(names):]))):
            return function(**inputs)

    with export_mode():
        traced = tf.function(positional, input_signature=ordered)
        try:
            onnx_model, _ = tf2onnx.convert.from_function(traced, input_signature=ordered, opset=opset)
            del traced  # its TensorFlow graphs are not needed any more
            gc.collect()
        except Exception as error:
            if opset < RECOMMENDED_MIN_OPSET:
                raise ValueError(
                    f"tf2onnx could not convert this model at opset {opset} ({error}); "
                    f"use opset {RECOMMENDED_MIN_OPSET}..{MAX_OPSET}."
                ) from error
            raise
    if variables:
        bind_weights(onnx_model, dict(zip(weight_names, variables)))
        fold_constants(onnx_model)
    if axis_names:
        name_axes(onnx_model, axis_names)
    return onnx_model


def name_axes(onnx_model, axis_names):
    """Replace dynamic dims of graph inputs/outputs by the given symbolic names."""
    for value in list(onnx_model.graph.input) + list(onnx_model.graph.output):
        wanted = axis_names.get(value.name)
        if not wanted:
            continue
        dims = value.type.tensor_type.shape.dim
        for dim, axis in zip(dims, wanted):
            if axis is not None and not dim.HasField("dim_value"):
                dim.dim_param = axis


def model_axis_names(info):
    """Symbolic axis names of a model's inputs and outputs, from its declared
    contract (``export.onnx_contract.forward``)."""
    from export.onnx_contract import forward

    return forward(info).axis_names()


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
    return convert_model(info or _describe(model), opset)[0]


def _describe(model):
    from export.model_info import describe

    return describe(model)


def convert_model(info, opset=DEFAULT_OPSET, external_data=None, lstm_kernels=True):
    """``(ModelProto, external_data)`` for ``info``'s forward pass.

    ``external_data`` (None = decide by size) says whether :func:`save_onnx`
    should write the weights to a file beside ``model.onnx``.
    ``lstm_kernels``: models with LSTM stacks get ONNX ``LSTM`` ops
    (:mod:`export.onnx_lstm`); False keeps Keras' masked loop (an ONNX
    ``Loop`` per LSTM layer), for comparison.
    """
    external = needs_external_data(info.model) if external_data is None else bool(external_data)
    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in info.input_names}
    if lstm_kernels:
        from export import onnx_lstm  # (it imports this module)

        if onnx_lstm.has_lstm_stacks(info.model):
            axes = model_axis_names(info)
            return onnx_lstm.convert_with_lstm_kernels(model_function(info), specs, opset, axes, info.model), external
    model = convert_function(model_function(info), specs, opset, model_axis_names(info), variables=info.model.weights)
    return model, external


def save_onnx(onnx_model, path, external_data=None):
    """Write ``path``; with ``external_data`` (None = when the weights pass ~1.8 GB,
    the protobuf limit being 2 GiB) the initializers go to ``model.onnx.data`` beside it."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if external_data is None:
        external_data = sum(len(t.raw_data) for t in onnx_model.graph.initializer) > EXTERNAL_DATA_BYTES
    if external_data:
        onnx.save_model(onnx_model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
    else:
        onnx.save_model(onnx_model, path)
    return path
