"""zoo's export tooling: SavedModel and ONNX artifacts validated against Keras.

    from export import export
    report = export(model, "artifacts/gpt2", formats=["savedmodel", "onnx"], optimize=True, quantize="int8")
    print(report)

One concept per file: ``savedmodel`` (TF Serving folder, signatures),
``onnx`` (tf2onnx conversion, axis names, external data), ``triton``
(model-repository entries), ``onnx_decoders`` (decoders with past state and
an onnxruntime greedy loop), ``optimize`` (fusion, int8, fp16),
``validate`` (Keras vs artifact), ``manifest`` (manifest.json),
``staging`` (safe writing), ``pipeline`` (``export`` itself).
"""

from export.errors import ExportError, ValidationError
from export.pipeline import FORMATS, ExportReport, export

__all__ = ["FORMATS", "ExportError", "ExportReport", "ValidationError", "export"]
