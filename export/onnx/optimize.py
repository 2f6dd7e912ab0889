"""Faster and smaller ONNX graphs: fusion, int8 dynamic quantization, float16.

* :func:`optimize_onnx`: the zoo's own rewrite into fused operators
  (``export.onnx.fusion``), then ``onnxruntime.transformers.optimizer`` on top
  (``SkipLayerNormalization``, ``BiasGelu``, ...); the counts of fused ops
  go into the manifest. Only for specs that declare a ``Fusion`` (BERT and
  GPT): the LSTM families have nothing these fusions apply to.
* :func:`quantize_int8`: ``onnxruntime.quantization.quantize_dynamic``
  (int8 weights, activations quantized on the fly) with the settings in
  :data:`INT8_SETTINGS` - and :func:`accuracy_delta` measures what it costs
  against the Keras outputs.
* :func:`to_fp16`: ``onnxruntime.transformers.float16`` conversion with
  float32 inputs/outputs kept, for GPU execution providers.
"""

import collections
import contextlib
import logging
import os
import tempfile

import numpy as np
import onnx

from export.onnx import fusion

FUSED_OPS = ("MultiHeadAttention", "Attention", "LayerNormalization", "SkipLayerNormalization",
             "EmbedLayerNormalization", "Gelu", "FastGelu", "BiasGelu")


@contextlib.contextmanager
def _quiet():
    """ONNX Runtime's tools log advice meant for PyTorch exports; keep it out of the report."""
    loggers = [logging.getLogger(n) for n in ("", "onnxruntime", "onnxruntime.transformers")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def optimize_onnx(base_path, info):
    """-> (optimized ModelProto, {"zoo_rewrites": {...}, "onnxruntime_fusions": {...}, "final_graph": {...}})."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    plan = info.spec.fusion
    num_heads, hidden = info.config[plan.num_heads_key], info.config[plan.hidden_key]
    model = onnx.load(base_path)
    rewritten, zoo_counts = fusion.rewrite(model, num_heads, causal=plan.causal, hidden=hidden)
    options = FusionOptions(plan.model_type)
    options.enable_embed_layer_norm = False  # the zoo's embeddings are not the pattern it expects
    with _quiet():
        optimized = optimizer.optimize_model(
            rewritten, model_type=plan.model_type, num_heads=num_heads, hidden_size=hidden,
            opt_level=0, optimization_options=options,
        )
    ort_counts = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
    result = optimized.model
    final = collections.Counter(n.op_type for n in result.graph.node if n.op_type in FUSED_OPS)
    return result, {"zoo_rewrites": zoo_counts, "onnxruntime_fusions": ort_counts, "final_graph": dict(final)}


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
        with _quiet():
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


def to_fp16(source_path):
    """float16 weights and compute, float32 inputs/outputs (``keep_io_types``)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(onnx.load(source_path), keep_io_types=True)
