"""zoo's export tooling: SavedModel and ONNX artifacts validated against Keras.

    from export import export
    report = export(model, "artifacts/gpt2", formats=["savedmodel", "onnx"], optimize=True, quantize="int8")
    print(report)

One concept per file: ``pipeline`` (``export`` itself), ``staging`` (safe
writing), ``model_info`` (what is being exported), ``inputs`` (validation
batches), ``validate`` (Keras vs artifact), ``manifest`` (manifest.json),
``savedmodel`` (TF Serving folder, ``serving_default``), ``text_signatures``
(tokenizer in the graph: ``predict_text``, ``embed_text``, ``generate``),
``savedmodel_session`` (a SavedModel run as TF Serving runs it: TF1 session
loader, XLA off, in its own process), ``serving_check`` (that run vs Keras:
the TF Serving gate; ``check_savedmodel`` for an existing folder),
``serving_config`` (TF Serving's ``models.config``),
``onnx`` (tf2onnx conversion, axis names, external data), ``onnx_contract``
(every ONNX input/output declared: dtype, named axes, meaning), ``triton``
(model-repository entries), ``triton_check`` (configs vs Triton's schema and
the graph), ``layout_gate`` (both checks on every written ONNX artifact),
``onnx_decoders`` (decoders with past state),
``onnx_generate`` (onnxruntime greedy loop over them), ``fusion`` (rewrite
into ONNX Runtime's fused ops), ``optimize`` (fusion + ORT optimizer, int8,
fp16), ``task_metrics`` (int8's cost on the task), ``errors``.
"""

from export.errors import ExportError, ValidationError
from export.pipeline import FORMATS, ExportReport, export
from export.serving_check import check_savedmodel

__all__ = ["FORMATS", "ExportError", "ExportReport", "ValidationError", "check_savedmodel", "export"]
