"""The arguments ``export`` accepts (formats, quantization, tolerance, opset), checked
before any model is touched; TensorFlow-free so the command line and the package
face can name them cheaply."""

from export.errors import ExportError
from export.onnx.opset import check_opset

FORMATS = ("savedmodel", "onnx", "huggingface")
DEFAULT_FORMATS = ("savedmodel", "onnx")
QUANTIZE_MODES = ("int8", "int4")  # export.onnx.quantize.QUANTIZE_MODES, without importing onnx


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


def check_quantize(quantize):
    """``quantize`` (None, a mode, a comma-separated string or a list) as a tuple of modes."""
    if quantize is None:
        return ()
    if isinstance(quantize, str):
        quantize = [q.strip() for q in quantize.split(",") if q.strip()]
    modes = tuple(dict.fromkeys(quantize))
    unknown = [q for q in modes if q not in QUANTIZE_MODES]
    if unknown or not modes:
        raise ExportError(
            f"Unknown quantize mode(s) {unknown or list(modes)}; valid: {', '.join(QUANTIZE_MODES)} "
            "(or several, comma-separated: 'int8,int4')."
        )
    return modes


def check_quality_limits(limits):
    """``limits`` ({"perplexity_increase": fraction, "bleu_drop": points}) checked: numbers >= 0."""
    checked = {}
    for key, value in (limits or {}).items():
        if key not in ("perplexity_increase", "bleu_drop"):
            raise ExportError(f"Unknown quality limit {key!r}; valid: perplexity_increase, bleu_drop.")
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if not number >= 0:
            raise ExportError(f"The {key} limit must be a number >= 0, got {value!r}.")
        checked[key] = number
    return checked


def check_arguments(formats, quantize, atol, opset, optimize=False, fp16=False):
    """-> (formats, quantize modes, opset, atol) checked; ``atol`` None stays None (the spec's tolerance applies)."""
    formats = check_formats(formats)
    modes = check_quantize(quantize)
    for flag, value in (("quantize", modes), ("optimize", optimize), ("fp16", fp16)):
        if value and "onnx" not in formats:
            raise ExportError(f"{flag} applies to ONNX artifacts: add 'onnx' to formats.")
    return formats, modes, check_opset(opset), None if atol is None else _positive_atol(atol)


def _positive_atol(atol):
    try:
        value = float(atol)
    except (TypeError, ValueError):
        value = -1.0
    if not value > 0:
        raise ExportError(f"atol must be a positive number (e.g. 1e-4 for float32), got {value!r}.")
    return value
