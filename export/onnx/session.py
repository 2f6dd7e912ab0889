"""ONNX Runtime sessions as export opens them: one place for the options.

Logs are kept to errors (ONNX Runtime's warnings are advice for PyTorch
exports). ``validation=True`` is for a session that runs a few batches and is
dropped: no pre-packed weight copies and no memory arena to keep. Thread
counts are left to ONNX Runtime unless given (benchmarks pin them).

numpy and onnxruntime only, imported when a session is opened, so the
``zoo bench`` workers can use it without TensorFlow.
"""


def ort_session(path, providers=("CPUExecutionProvider",), validation=False, intra_op_threads=None,
                inter_op_threads=None):
    """An ``onnxruntime.InferenceSession`` of ``path`` (a file or serialized model bytes)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if validation:
        options.add_session_config_entry("session.disable_prepacking", "1")
        options.enable_cpu_mem_arena = False
    if intra_op_threads:
        options.intra_op_num_threads = int(intra_op_threads)
    if inter_op_threads:
        options.inter_op_num_threads = int(inter_op_threads)
    return ort.InferenceSession(path, options, providers=list(providers))
