"""tf2onnx conversion of one traced function, with weights bound after conversion.

The function is traced inside ``zoo.layers.export_mode()``, so attention runs
on its inline (export-friendly) path: tf2onnx cannot convert the nested XLA
function of the default path. The weights are traced as graph inputs and
bound as initializers after the conversion (:func:`convert_function`), which
keeps tf2onnx's time and memory independent of the model's size; dynamic
axes get the symbolic names the caller's contract declares (:func:`name_axes`).

The forward model (``export.onnx.conversion``), the LSTM-kernel path
(``export.onnx.lstm``) and the decoders (``export.onnx.decoders``) all
convert through here.
"""

import contextlib
import gc
import os
import re
import traceback

import keras
import numpy as np
import tensorflow as tf
import tf2onnx
from onnx import numpy_helper

from export.onnx.constant_folding import fold_constants
from export.onnx.opset import DEFAULT_OPSET, MAX_OPSET, RECOMMENDED_MIN_OPSET, check_opset
from zoo.layers import export_mode

CATCH_ERRORS = tf2onnx.constants.ENV_TF2ONNX_CATCH_ERRORS


@contextlib.contextmanager
def _optimizer_errors_raised():
    """Run tf2onnx's graph optimizer without its per-pass safety copies.

    When catching errors (its default) tf2onnx deep-copies the whole graph
    before each optimizer pass so it can skip a pass that fails: 36 copies for
    bert-base, whose export call took 21.0 s with them and 12.8 s without
    (measured 2026-12-06, AVX-512/VNNI). Setting its environment switch
    turns that off for the duration of a conversion (a user's own setting is
    left alone); :func:`_from_function` converts again with the copies if a
    pass then fails.
    """
    if CATCH_ERRORS in os.environ:
        yield
        return
    os.environ[CATCH_ERRORS] = "FALSE"
    try:
        yield
    finally:
        os.environ.pop(CATCH_ERRORS, None)


def _raised_by_optimizer(error):
    return any(os.path.join("tf2onnx", "optimizer") in frame.filename
               for frame in traceback.extract_tb(error.__traceback__))


def _from_function(traced, signature, opset):
    try:
        with _optimizer_errors_raised():
            return tf2onnx.convert.from_function(traced, input_signature=signature, opset=opset)
    except Exception as error:
        if CATCH_ERRORS in os.environ or not _raised_by_optimizer(error):
            raise
    # A pass failed: convert again as tf2onnx does by default, skipping the pass that fails.
    return tf2onnx.convert.from_function(traced, input_signature=signature, opset=opset)


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
    the ops on them folded (:mod:`export.onnx.constant_folding`).
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
            onnx_model, _ = _from_function(traced, ordered, opset)
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
