"""Triton model-repository entries for ONNX artifacts.

A Triton model repository is a folder of models, each ``<name>/config.pbtxt``
plus numbered version folders (``<name>/1/model.onnx``). The config declares
the ONNX Runtime backend and every input/output with its name, data type and
dims (-1 = dynamic). ``max_batch_size: 0`` because the batch axis is part of
the declared dims (the zoo's graphs take explicit (batch, length) tensors).
"""

import os

import onnx

_TRITON_TYPES = {
    onnx.TensorProto.FLOAT: "TYPE_FP32",
    onnx.TensorProto.FLOAT16: "TYPE_FP16",
    onnx.TensorProto.INT32: "TYPE_INT32",
    onnx.TensorProto.INT64: "TYPE_INT64",
    onnx.TensorProto.BOOL: "TYPE_BOOL",
    onnx.TensorProto.INT8: "TYPE_INT8",
    onnx.TensorProto.UINT8: "TYPE_UINT8",
}


def _tensor_entry(value):
    tensor = value.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
    dtype = _TRITON_TYPES.get(tensor.elem_type)
    if dtype is None:
        raise ValueError(f"ONNX tensor {value.name!r} has a type Triton configs do not cover ({tensor.elem_type}).")
    reshape = ""
    if not dims:  # a scalar (e.g. a decoder's cache_index): Triton wants dims, so [1] reshaped to []
        dims, reshape = [1], "\n    reshape: { shape: [ ] }"
    return (f'  {{\n    name: "{value.name}"\n    data_type: {dtype}\n'
            f'    dims: [ {", ".join(map(str, dims))} ]{reshape}\n  }}')


def config_text(name, onnx_model):
    """The ``config.pbtxt`` text for ``onnx_model`` served as ``name``."""
    inputs = ",\n".join(_tensor_entry(v) for v in onnx_model.graph.input)
    outputs = ",\n".join(_tensor_entry(v) for v in onnx_model.graph.output)
    return (
        f'name: "{name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 0\n'
        f"input [\n{inputs}\n]\noutput [\n{outputs}\n]\n"
    )


def write_entry(repository, name, onnx_model, external_data=None, version="1"):
    """Write ``repository/name/{config.pbtxt, version/model.onnx}``; return the model path."""
    from export.onnx import save_onnx

    entry = os.path.join(repository, name)
    path = save_onnx(onnx_model, os.path.join(entry, version, "model.onnx"), external_data)
    with open(os.path.join(entry, "config.pbtxt"), "w", encoding="utf-8") as file:
        file.write(config_text(name, onnx_model))
    return path
