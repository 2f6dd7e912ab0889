"""The ONNX opsets export accepts: tf2onnx's range, the zoo's minimum, the default.

Kept apart from the conversion so that checking arguments imports no TensorFlow.
"""

MIN_OPSET, MAX_OPSET = 7, 18  # tf2onnx's range
RECOMMENDED_MIN_OPSET = 13  # older opsets lack ops the zoo's graphs use (e.g. Range, Einsum-free Softmax axes)
DEFAULT_OPSET = 17


def check_opset(opset):
    """Return ``opset`` as an int, or raise a ValueError naming the valid range."""
    try:
        value = int(opset)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(opset, bool) or not MIN_OPSET <= value <= MAX_OPSET:
        raise ValueError(
            f"opset must be between {MIN_OPSET} and {MAX_OPSET} (tf2onnx's range; "
            f"{RECOMMENDED_MIN_OPSET}+ for zoo models, default {DEFAULT_OPSET}), got {opset!r}."
        )
    return value
