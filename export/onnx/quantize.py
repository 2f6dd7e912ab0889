"""Smaller ONNX graphs: int8 and int4 weights, chosen to hold on every x86 CPU kind.

* :func:`quantize_int8`: ``onnxruntime.quantization.quantize_dynamic``
  (int8 weights, activations quantized on the fly) with :data:`INT8_SETTINGS`.
* :func:`quantize_int4`: ONNX Runtime's own weight-only quantizer
  (``MatMulNBitsQuantizer``): every MatMul with a constant weight becomes a
  ``MatMulNBits`` holding 4-bit blocks and their scales (:data:`INT4_SETTINGS`).
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



# 4-bit weights in blocks of 128 along the input axis, symmetric (no zero
# points), one float scale per block. ``accuracy_level`` 4 lets the kernels
# multiply int8-quantized activations with the unpacked weights (the fast path
# ONNX Runtime's CPU kernels have). Blocks of 128 (GPTQ's and AWQ's usual
# group size) against 32: ONNX Runtime 1.32 reads a 900-token prompt through
# gpt2's int4 decoder in 0.72 s instead of 0.87 s and takes a decoding step in
# 4.0 instead of 4.4-5.1 ms (AVX-512/VNNI); their cost on trained models is
# measured with the rest (benchmarks/quantized_decoders.py).
INT4_BLOCK_SIZE = 128
INT4_SETTINGS = {
    "method": "weight-only (onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer)",
    "weights": f"int4 symmetric, blocks of {INT4_BLOCK_SIZE} along the input axis, float32 scale per block",
    "activations": "float32 in and out; int8 inside the kernel (accuracy_level 4)",
    "block_size": INT4_BLOCK_SIZE,
    "is_symmetric": True,
    "accuracy_level": 4,
    "operator": "com.microsoft MatMulNBits",
}


def quantize_int4(source_path):
    """Weight-only int4 (``MatMulNBits``) quantization of ``source_path``; -> the ModelProto."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    config = DefaultWeightOnlyQuantConfig(block_size=INT4_SETTINGS["block_size"],
                                          is_symmetric=INT4_SETTINGS["is_symmetric"],
                                          accuracy_level=INT4_SETTINGS["accuracy_level"])
    with quiet():
        quantizer = MatMulNBitsQuantizer(onnx.load(source_path), algo_config=config)
        quantizer.process()
    model = quantizer.model.model
    quantized = sum(n.op_type == "MatMulNBits" for n in model.graph.node)
    if not quantized:
        raise ValueError(f"{source_path}: no MatMul with a constant weight to quantize to int4.")
    return model


def quantize(mode, source_path, out_path):
    """The ``mode`` ("int8" or "int4") graph of ``source_path``; -> (ModelProto, settings)."""
    if mode == "int8":
        return quantize_int8(source_path, out_path), INT8_SETTINGS
    if mode == "int4":
        return quantize_int4(source_path), INT4_SETTINGS
    raise ValueError(f"quantize mode must be one of {QUANTIZE_MODES}, got {mode!r}.")
