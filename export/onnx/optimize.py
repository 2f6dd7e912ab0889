"""Faster ONNX graphs: fusion and float16 (quantization: ``export.onnx.quantize``).

* :func:`optimize_onnx`: the zoo's own rewrite into fused operators
  (``export.onnx.fusion``), then ``onnxruntime.transformers.optimizer`` on top
  (``BiasGelu``; its ``SkipLayerNormalization`` is left out, being slower on
  CPU than what it replaces); the counts of fused ops
  go into the manifest. Only for specs that declare a ``Fusion`` (BERT and
  GPT): the LSTM families have nothing these fusions apply to.
* :func:`to_fp16`: ``onnxruntime.transformers.float16`` conversion with
  float32 inputs/outputs kept, for GPU execution providers.
"""

import collections
import contextlib
import logging

import onnx

from export.onnx import fusion

FUSED_OPS = ("MultiHeadAttention", "GroupQueryAttention", "Attention", "LayerNormalization", "SkipLayerNormalization",
             "EmbedLayerNormalization", "Gelu", "FastGelu", "BiasGelu")


@contextlib.contextmanager
def quiet():
    """ONNX Runtime's tools log advice meant for PyTorch exports; keep it out of the report."""
    loggers = [logging.getLogger(n) for n in ("", "onnxruntime", "onnxruntime.transformers",
                                              "onnxruntime.quantization.matmul_nbits_quantizer")]
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
    # Add + LayerNormalization, not SkipLayerNormalization: ONNX Runtime 1.32's CPU
    # SkipLayerNormalization kernel took 48.7 ms of a bert-base 8x128 run where the
    # Adds and LayerNormalization it replaces take 13.7 ms (profiled, AVX-512 kind).
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    with quiet():
        optimized = optimizer.optimize_model(
            rewritten, model_type=plan.model_type, num_heads=num_heads, hidden_size=hidden,
            opt_level=0, optimization_options=options,
        )
    ort_counts = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
    result = optimized.model
    final = collections.Counter(n.op_type for n in result.graph.node if n.op_type in FUSED_OPS)
    return result, {"zoo_rewrites": zoo_counts, "onnxruntime_fusions": ort_counts, "final_graph": dict(final)}


def to_fp16(source_path):
    """float16 weights and compute, float32 inputs/outputs (``keep_io_types``)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(onnx.load(source_path), keep_io_types=True)
