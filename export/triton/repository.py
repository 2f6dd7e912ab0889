"""Triton model-repository entries for ONNX artifacts.

A Triton model repository is a folder of models, each ``<name>/config.pbtxt``
plus numbered version folders (``<name>/1/model.onnx``). The config declares
the ONNX Runtime backend (``platform: "onnxruntime_onnx"``) and every
input/output with its name, data type and dims (-1 = dynamic).

Batching (:func:`batchable`): Triton's dynamic batcher concatenates requests
along a batch axis that must be the first dim of *every* input and output,
and then leaves that axis out of ``dims``. The forward models and the
seq2seq encoder/decoder and the GPT decoder qualify (every tensor is declared
``batch``-first, ``export.onnx.contract``), so they get ``max_batch_size: 8``
(requests of up to 8 rows; :data:`MAX_BATCH_SIZE`, or
``write_entry(max_batch_size=...)``) and ``dynamic_batching { }``; Triton
batches only requests whose other dims agree (GPT decoder steps over pasts of
the same length). A graph with a tensor that is not batch-first keeps
``max_batch_size: 0`` with every dim declared, and a scalar is declared as
``dims: [ 1 ]`` reshaped to ``[ ]`` (Triton wants rank >= 1).

The text is written here without Triton's protobuf classes, so export does
not need ``tritonclient`` at run time; ``export.triton.config_check`` parses it with
Triton's own ``ModelConfig`` (when ``tritonclient`` is installed) and checks
it against the graph.
"""

import os

from export.onnx.contract import graph_signature

# numpy dtype name -> Triton DataType
TRITON_TYPES = {
    "float32": "TYPE_FP32",
    "float16": "TYPE_FP16",
    "bfloat16": "TYPE_BF16",
    "float64": "TYPE_FP64",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "bool": "TYPE_BOOL",
    "int8": "TYPE_INT8",
    "uint8": "TYPE_UINT8",
}
MAX_BATCH_SIZE = 8
BATCH_AXIS = "batch"


def batchable(signature):
    """True when every input and output's first axis is the dynamic ``batch`` axis."""
    tensors = list(signature["inputs"].values()) + list(signature["outputs"].values())
    return all(t["shape"] and t["shape"][0] == BATCH_AXIS for t in tensors)


def triton_dims(shape, batched):
    """(dims, reshape or None) for a graph shape: -1 for dynamic axes, the batch
    axis left out when ``batched``; a scalar is ``[1]`` reshaped to ``[]``."""
    dims = [d if isinstance(d, int) else -1 for d in (shape[1:] if batched else shape)]
    return ([1], []) if not dims else (dims, None)


def triton_type(dtype, name):
    if dtype not in TRITON_TYPES:
        raise ValueError(f"ONNX tensor {name!r} has a dtype Triton configs do not cover ({dtype}).")
    return TRITON_TYPES[dtype]


def _tensor_entry(name, spec, batched):
    dims, reshape = triton_dims(spec["shape"], batched)
    reshape_text = "" if reshape is None else "\n    reshape: { shape: [ ] }"
    return (f'  {{\n    name: "{name}"\n    data_type: {triton_type(spec["dtype"], name)}\n'
            f'    dims: [ {", ".join(map(str, dims))} ]{reshape_text}\n  }}')


def config_text(name, onnx_model, max_batch_size=MAX_BATCH_SIZE):
    """The ``config.pbtxt`` text for ``onnx_model`` served as ``name``."""
    signature = graph_signature(onnx_model)
    batched = max_batch_size > 0 and batchable(signature)
    if batched:
        head = (f"# Triton batches requests along the first axis (batch), left out of dims.\n"
                f"max_batch_size: {int(max_batch_size)}\n")
        tail = "dynamic_batching { }\n"
    else:
        head = ("# max_batch_size 0: not every input and output has the batch axis first (a scalar is\n"
                "# shared by all rows), so each request carries its whole batch.\n"
                "max_batch_size: 0\n")
        tail = ""
    inputs = ",\n".join(_tensor_entry(n, s, batched) for n, s in signature["inputs"].items())
    outputs = ",\n".join(_tensor_entry(n, s, batched) for n, s in signature["outputs"].items())
    return (f'name: "{name}"\nplatform: "onnxruntime_onnx"\n{head}'
            f"input [\n{inputs}\n]\noutput [\n{outputs}\n]\n{tail}")


def write_entry(repository, name, onnx_model, external_data=None, version="1", max_batch_size=MAX_BATCH_SIZE):
    """Write ``repository/name/{config.pbtxt, version/model.onnx}``; return the model path."""
    from export.onnx.conversion import save_onnx

    entry = os.path.join(repository, name)
    text = config_text(name, onnx_model, max_batch_size)
    path = save_onnx(onnx_model, os.path.join(entry, version, "model.onnx"), external_data)
    with open(os.path.join(entry, "config.pbtxt"), "w", encoding="utf-8") as file:
        file.write(text)
    return path
