"""Smaller ONNX graphs: int8 and int4 weights, chosen to hold on every x86 CPU kind.

* :func:`quantize_int8`: ``onnxruntime.quantization.quantize_dynamic``
  (int8 weights, activations quantized on the fly) with :data:`INT8_SETTINGS`.
* :func:`quantize_int4`: ONNX Runtime's own weight-only quantizer
  (``MatMulNBitsQuantizer``): every MatMul with a constant weight becomes a
  ``MatMulNBits`` holding 4-bit blocks and their scales (:func:`int4_settings`).
  Decoding one token at batch 1 reads every weight once, so 4-bit weights cut
  what bounds it; the graph's inputs and outputs stay float32.
* :func:`accuracy_delta`: what a quantized graph costs against the Keras outputs
  (the task-level cost is ``export.task_metrics`` / ``export.quality_gate``).

Both quantizers write through a scratch folder beside the target, so a
failure leaves nothing at ``out_path``.
"""

import os
import tempfile

import numpy as np
import onnx

from export.arguments import QUANTIZE_MODES
from export.onnx.optimize import quiet


# One int8 graph that holds on every x86 CPU kind. Dynamic quantization runs
# uint8 activations x int8 weights. Without VNNI, ONNX Runtime's U8S8 kernels
# (VPMADDUBSW) add pairs of u8*s8 products into int16 and saturate: on an
# AVX2-only machine a GPT's logits moved by 0.165 with full-range weights.
# 7-bit weights (reduce_range) keep every pair sum inside int16, and per-channel
# scales win back the bit; measured on both tiny test models and trained ones
# (benchmarks/int8_modes.py). VNNI machines run the same graph exactly and lose
# only that bit, while U8U8 (the other documented remedy) gives up the fast U8S8
# kernels on every machine.
INT8_SETTINGS = {
    "method": "dynamic (onnxruntime.quantization.quantize_dynamic)",
    "activations": "uint8, per tensor, scale computed at run time",
    "weights": "int8 symmetric, per channel, reduce_range (7-bit)",
    "per_channel": True,
    "reduce_range": True,
    "weight_type": "QInt8",
}


def quantize_int8(source_path, out_path):
    """Dynamic int8 quantization of ``source_path`` into ``out_path``; -> the ModelProto."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(out_path)) as scratch:
        with quiet():
            quantize_dynamic(source_path, os.path.join(scratch, "model.onnx"), weight_type=QuantType.QInt8,
                             per_channel=INT8_SETTINGS["per_channel"], reduce_range=INT8_SETTINGS["reduce_range"],
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # contrib ops defeat shape inference
        model = onnx.load(os.path.join(scratch, "model.onnx"))
    return model


def accuracy_delta(references, run, batches):
    """What int8 costs on the validation batches: max/mean abs diff of each
    output and how often the arg-max (predicted token / class) still agrees."""
    stats = {}
    for inputs, expected in zip(batches, references):
        got = run(inputs)
        for name, reference in expected.items():
            actual = np.asarray(got[name], np.float32)
            entry = stats.setdefault(name, {"max_abs_diff": 0.0, "sum_abs": 0.0, "count": 0, "agree": 0, "total": 0})
            entry["max_abs_diff"] = max(entry["max_abs_diff"], float(np.max(np.abs(actual - reference))))
            entry["sum_abs"] += float(np.sum(np.abs(actual - reference)))
            entry["count"] += reference.size
            agree = np.argmax(actual, -1) == np.argmax(reference, -1)
            entry["agree"] += int(np.sum(agree))
            entry["total"] += agree.size
    return {
        "outputs": {
            name: {"max_abs_diff": e["max_abs_diff"], "mean_abs_diff": e["sum_abs"] / max(e["count"], 1),
                   "argmax_agreement": e["agree"] / max(e["total"], 1)}
            for name, e in stats.items()
        }
    }



# 4-bit weights in blocks along the input axis, symmetric (no zero points), one
# float scale per block. ``accuracy_level`` 4 lets the kernels multiply
# int8-quantized activations with the unpacked weights (the fast path ONNX
# Runtime's CPU kernels have). The block is the largest of INT4_BLOCK_SIZES
# that divides every quantized weight's input size, so no block is padded:
# 256 for gpt2 (768 / 3072) and gpt-mini (256 / 1024), 128 for gpt-nano or
# MiniLM (384). Larger blocks read a long prompt faster, since the kernel
# rescales each block's int8 dot products once: on gpt2's int4 decoder (ONNX
# Runtime 1.32, AVX-512/VNNI, batch 1) 64 new tokens after a 900-token prompt
# took 0.95 s with blocks of 256 and 1.07 s with 128; blocks of 32 were slower
# still. Their cost on trained models is measured with the rest
# (benchmarks/quantized_decoders.py).
INT4_BLOCK_SIZES = (256, 128, 64, 32)


def int4_settings(block_size):
    """What an int4 graph with ``block_size`` blocks is, as recorded in the manifest."""
    return {
        "method": "weight-only (onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer)",
        "weights": f"int4 symmetric, blocks of {block_size} along the input axis, float32 scale per block",
        "activations": "float32 in and out; int8 inside the kernel (accuracy_level 4)",
        "block_size": block_size,
        "is_symmetric": True,
        "accuracy_level": 4,
        "operator": "com.microsoft MatMulNBits",
    }


def int4_block_size(model):
    """The largest of :data:`INT4_BLOCK_SIZES` dividing the input size of every MatMul
    weight in ``model`` (a ModelProto); the smallest when none divides them all."""
    weights = {init.name: init.dims for init in model.graph.initializer}
    input_sizes = {weights[node.input[1]][0] for node in model.graph.node
                   if node.op_type == "MatMul" and len(weights.get(node.input[1], ())) == 2}
    for size in INT4_BLOCK_SIZES:
        if all(k % size == 0 for k in input_sizes):
            return size
    return INT4_BLOCK_SIZES[-1]


def quantize_int4(source_path):
    """Weight-only int4 (``MatMulNBits``) quantization of ``source_path``; -> (ModelProto, settings)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    source = onnx.load(source_path)
    settings = int4_settings(int4_block_size(source))
    config = DefaultWeightOnlyQuantConfig(block_size=settings["block_size"], is_symmetric=settings["is_symmetric"],
                                          accuracy_level=settings["accuracy_level"])
    with quiet():
        quantizer = MatMulNBitsQuantizer(source, algo_config=config)
        quantizer.process()
    model = quantizer.model.model
    quantized = sum(n.op_type == "MatMulNBits" for n in model.graph.node)
    if not quantized:
        raise ValueError(f"{source_path}: no MatMul with a constant weight to quantize to int4.")
    return model, settings


def quantize(mode, source_path, out_path):
    """The ``mode`` ("int8" or "int4") graph of ``source_path``; -> (ModelProto, settings)."""
    if mode == "int8":
        return quantize_int8(source_path, out_path), INT8_SETTINGS
    if mode == "int4":
        return quantize_int4(source_path)
    raise ValueError(f"quantize mode must be one of {QUANTIZE_MODES}, got {mode!r}.")
