"""zoo's export tooling: SavedModel and ONNX artifacts validated against Keras.

    from export import export
    report = export(model, "artifacts/gpt2", formats=["savedmodel", "onnx"], optimize=True, quantize="int8")
    print(report)

Layout: ``pipeline`` (``export`` itself), ``arguments``, ``model_info`` (what
is being exported), ``specs/`` (one export spec per model family: outputs,
decoder parts, fusion, text signatures, corpus, task metric, tolerance),
``inputs`` (validation batches), ``validate`` (Keras vs artifact),
``report``, ``manifest``, ``staging`` (safe writing), ``layout_gate``
(contract and Triton checks on every ONNX artifact), ``task_metrics``,
``huggingface``, ``errors``; ``onnx/`` (conversion, LSTM kernels, decoders,
generate loop, contract, session, fusion, optimize), ``savedmodel/``
(writer, text signatures, TF1 session, TF Serving check and config),
``triton/`` (model-repository entries and their check).

Importing ``export`` is cheap (no TensorFlow, tf2onnx or Keras): :func:`export`
imports the pipeline on its first call.
"""

from export.arguments import FORMATS
from export.errors import ExportError, ValidationError
from export.report import ExportReport


def export(model, out_dir, **options):
    """Export ``model`` to ``out_dir`` and return an :class:`ExportReport`.

    The arguments and behaviour are those of ``export.pipeline.export``, which
    this imports (with TensorFlow and tf2onnx) on first use.
    """
    from zoo import startup

    startup.import_tensorflow()  # quietly: TensorFlow's start-up noise is filtered
    from export import pipeline

    return pipeline.export(model, out_dir, **options)


def check_savedmodel(path):
    """Check the SavedModel(s) at ``path`` as TF Serving would load them; -> {folder: summary}.

    See ``export.savedmodel.serving_check.check_savedmodel``; imported on first
    use, so ``python -m export.savedmodel.serving_check`` runs that module cleanly.
    """
    from export.savedmodel import serving_check

    return serving_check.check_savedmodel(path)


__all__ = ["FORMATS", "ExportError", "ExportReport", "ValidationError", "check_savedmodel", "export"]
