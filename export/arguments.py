"""The arguments ``export`` accepts (formats, quantization, tolerance, opset), checked
before any model is touched; TensorFlow-free so the command line and the package
face can name them cheaply."""

from export.errors import ExportError
from export.onnx.opset import check_opset

FORMATS = ("savedmodel", "onnx", "huggingface")
DEFAULT_FORMATS = ("savedmodel", "onnx")
QUANTIZE = (None, "int8")


def check_formats(formats):
    """``formats`` (a list or comma-separated string) as a list without repeats; ExportError if unknown."""
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    formats = list(dict.fromkeys(formats or []))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ExportError(
            f"Unknown export format(s) {unknown or formats}; valid formats: {', '.join(FORMATS)}."
        )
    return formats


def check_arguments(formats, quantize, atol, opset, optimize=False, fp16=False):
    """-> (formats, opset, atol) checked; ``atol`` None stays None (the spec's tolerance applies)."""
    formats = check_formats(formats)
    if quantize not in QUANTIZE:
        raise ExportError(f"quantize must be one of {QUANTIZE}, got {quantize!r}.")
    for flag, value in (("quantize", quantize), ("optimize", optimize), ("fp16", fp16)):
        if value and "onnx" not in formats:
            raise ExportError(f"{flag} applies to ONNX artifacts: add 'onnx' to formats.")
    return formats, check_opset(opset), None if atol is None else _positive_atol(atol)


def _positive_atol(atol):
    try:
        value = float(atol)
    except (TypeError, ValueError):
        value = -1.0
    if not value > 0:
        raise ExportError(f"atol must be a positive number (e.g. 1e-4 for float32), got {value!r}.")
    return value
