"""Convert a zoo model (or any traced function of it) to ONNX with tf2onnx.

The model is traced inside ``zoo.layers.export_mode()``, so attention runs
on its inline (export-friendly) path: tf2onnx cannot convert the nested XLA
function of the default path. Inputs keep the model's input names, outputs
are named after the model's outputs (``logits``, ``sequence_output``, ...),
and every axis that is dynamic in TensorFlow gets a readable symbolic name
(``batch``, ``sequence``; decoders add ``past_sequence``, ``source_sequence``)
instead of tf2onnx's ``unk__N``.

Models whose weights pass ~2 GB cannot be one protobuf: they are converted
with tf2onnx's large-model mode and written as ``model.onnx`` plus external
tensor files next to it (:func:`save_onnx`).
"""

import os

import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

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


def convert_function(function, specs, opset=DEFAULT_OPSET, axis_names=None, large_model=False):
    """tf2onnx-convert ``function(**specs) -> dict`` traced in export mode.

    Returns ``(onnx.ModelProto, external_tensors)``; ``external_tensors`` is
    None unless ``large_model`` (then it maps file names to bytes).
    ``axis_names``: {input or output name: [axis names]} for dynamic axes.
    """
    opset = check_opset(opset)
    if large_model and "product" not in np.__dict__:
        np.product = np.prod  # tf2onnx 1.17's large-model path still calls np.product (removed in NumPy 2)
    names = list(specs)
    ordered = [specs[n] for n in names]

    def positional(*tensors):
        return function(**dict(zip(names, tensors)))

    with export_mode():
        traced = tf.function(positional, input_signature=ordered)
        try:
            onnx_model, storage = tf2onnx.convert.from_function(
                traced, input_signature=ordered, opset=opset, large_model=large_model
            )
        except Exception as error:
            if opset < RECOMMENDED_MIN_OPSET:
                raise ValueError(
                    f"tf2onnx could not convert this model at opset {opset} ({error}); "
                    f"use opset {RECOMMENDED_MIN_OPSET}..{MAX_OPSET}."
                ) from error
            raise
    if axis_names:
        name_axes(onnx_model, axis_names)
    tensors = dict(storage.name_to_tensor_data) if storage is not None else None
    return onnx_model, tensors


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
    """Default axis names for a model's inputs and outputs."""
    names = {}
    for name in info.input_names:
        if name.startswith("target"):
            names[name] = ["batch", "target_sequence"]
        elif name == "mask_positions":
            names[name] = ["batch", "masked_positions"]
        else:
            names[name] = ["batch", "source_sequence" if name.startswith("source") else "sequence"]
    for name in info.output_names:
        if name == "pooled_output" or info.family == "bert_classifier":
            names[name] = ["batch", None]
        elif info.family == "seq2seq":
            names[name] = ["batch", "target_sequence", None]
        elif info.family == "bert_masked_lm":
            names[name] = ["batch", "masked_positions", None]
        else:
            names[name] = ["batch", "sequence", None]
    return names


def model_function(info):
    """``f(**inputs) -> {output name: float32 tensor}`` for the model's forward pass."""
    model = info.model

    def forward(**inputs):
        outputs = model({n: inputs[n] for n in info.input_names}, training=False)
        if not isinstance(outputs, dict):
            outputs = {info.output_names[0]: outputs}
        return {k: tf.cast(outputs[k], tf.float32) for k in info.output_names}

    return forward


def to_onnx(model, opset=DEFAULT_OPSET, large_model=False, info=None):
    """Return an ``onnx.ModelProto`` computing ``model``'s named outputs from its named inputs.

    (With ``large_model`` the weights are not inside the proto: use
    :func:`convert_model` and :func:`save_onnx` instead.)
    """
    from export.model_info import describe

    info = info or describe(model)
    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in info.input_names}
    onnx_model, _ = convert_function(
        model_function(info), specs, opset, model_axis_names(info), large_model=large_model
    )
    return onnx_model


# tf2onnx's large-model mode keeps the weights out of the TensorFlow GraphDef it
# optimizes; see convert_model.
LOW_MEMORY_CONVERSION = False  # measured on bert-base: 18.8 GB peak vs 15.8 GB without; no gain, so off


def inline_external(onnx_model, tensors):
    """Put tf2onnx's external tensors back into the ModelProto (for models < 2 GB)."""
    for tensor in onnx_model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = {entry.key: entry.value for entry in tensor.external_data}["location"]
            tensor.raw_data = tensors[location]
            del tensor.external_data[:]
            tensor.data_location = onnx.TensorProto.DEFAULT
    return onnx_model


def convert_model(info, opset=DEFAULT_OPSET, external_data=None):
    """(ModelProto, external tensors or None) for ``info``'s forward pass.

    With ``LOW_MEMORY_CONVERSION`` the conversion always runs in tf2onnx's
    large-model mode (weights stay out of the GraphDef that TensorFlow's
    optimizer copies around) and small models get their tensors inlined again.
    """
    large = needs_external_data(info.model) if external_data is None else bool(external_data)
    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in info.input_names}
    model, tensors = convert_function(model_function(info), specs, opset, model_axis_names(info),
                                      large_model=large or LOW_MEMORY_CONVERSION)
    if tensors is not None and not large:
        model, tensors = inline_external(model, tensors), None
    return model, tensors


def save_onnx(onnx_model, path, external_tensors=None):
    """Write ``path`` (and, for large models, its external tensor files beside it)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if external_tensors:
        for name, data in external_tensors.items():
            with open(os.path.join(directory, name), "wb") as file:
                file.write(data)
    weights = sum(len(t.raw_data) for t in onnx_model.graph.initializer)
    if not external_tensors and weights > EXTERNAL_DATA_BYTES:
        # e.g. an optimized or quantized copy of a large model: one external file beside it
        onnx.save_model(onnx_model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
    else:
        onnx.save_model(onnx_model, path)
    return path
