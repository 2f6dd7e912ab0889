"""Validation: the Keras model and an artifact on the same inputs, per output.

For every validation batch (two batch sizes and lengths, see
``export.inputs``) both are run and, per output, the max absolute difference
is recorded against a tolerance. An artifact passes when every output of
every batch is within tolerance; ``export`` refuses to move a failing
artifact into place (see ``export.pipeline``).
"""

import numpy as np

from export.onnx.session import ort_session


def keras_outputs(info, inputs):
    """{output name: float32 numpy} from the Keras model."""
    outputs = info.model({k: np.asarray(v) for k, v in inputs.items()}, training=False)
    if not isinstance(outputs, dict):
        outputs = {info.output_names[0]: outputs}
    return {k: np.asarray(outputs[k], dtype=np.float32) for k in info.output_names}


def onnx_runner(path, providers=("CPUExecutionProvider",)):
    """``run(inputs) -> {output: numpy}`` over an onnxruntime session of ``path``."""
    session = ort_session(path, providers, validation=True)
    input_names = [i.name for i in session.get_inputs()]
    output_names = [o.name for o in session.get_outputs()]

    def run(inputs):
        values = session.run(output_names, {n: np.asarray(inputs[n]) for n in input_names})
        return dict(zip(output_names, values))

    return run


def savedmodel_runner(path, signature="serving_default"):
    """``run(inputs) -> {output: numpy}`` over a SavedModel signature."""
    import tensorflow as tf

    function = tf.saved_model.load(path).signatures[signature]

    def run(inputs):
        return {k: v.numpy() for k, v in function(**{k: tf.constant(v) for k, v in inputs.items()}).items()}

    return run


def compare(references, run, batches, atol):
    """Run ``run`` on each batch; return the validation record.

    references: list of {output: numpy} (Keras), one per batch.
    Returns {"atol", "passed", "outputs": {name: {"max_abs_diff", "passed"}},
    "batches": [[batch, length], ...]}.
    """
    per_output = {}
    for inputs, expected in zip(batches, references):
        got = run(inputs)
        for name, reference in expected.items():
            if name not in got:
                raise KeyError(f"The artifact has no output {name!r} (it has {sorted(got)}).")
            actual = np.asarray(got[name], dtype=np.float32)
            if actual.shape != reference.shape:
                diff = float("inf")
            else:
                diff = float(np.max(np.abs(actual - reference))) if reference.size else 0.0
            if not np.isfinite(diff):
                diff = float("inf")
            per_output[name] = max(per_output.get(name, 0.0), diff)
    outputs = {n: {"max_abs_diff": d, "passed": bool(d <= atol)} for n, d in per_output.items()}
    first = next(iter(batches[0].values()))
    return {
        "atol": float(atol),
        "passed": all(o["passed"] for o in outputs.values()),
        "outputs": outputs,
        "batches": [list(np.asarray(next(iter(b.values()))).shape) for b in batches] if first is not None else [],
    }


def run_checked(make_runner, path, references, batches, atol):
    """:func:`compare` over ``make_runner(path)``; an artifact that cannot even be
    loaded or run fails validation (with the runtime's error) instead of crashing."""
    try:
        return compare(references, make_runner(path), batches, atol)
    except Exception as error:  # noqa: BLE001 - reported as a failed validation
        message = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
        return {"atol": float(atol), "passed": False, "outputs": {}, "error": f"{type(error).__name__}: {message}"}


def format_table(report):
    """A plain-text table of a report's artifacts: path, size, per-output diff, pass/fail."""
    lines = [f"{'artifact':<28} {'output':<18} {'max abs diff':>13} {'atol':>9}  result  size"]
    for name, artifact in report["artifacts"].items():
        validation = artifact.get("validation") or {}
        outputs = validation.get("outputs") or {
            validation.get("error", "-")[:18]: {"max_abs_diff": float("nan"), "passed": validation.get("passed", True)}}
        for i, (output, row) in enumerate(outputs.items()):
            size = _human(artifact.get("size_bytes", 0)) if i == 0 else ""
            status = "pass" if row["passed"] else "FAIL"
            if not validation.get("gate", True):
                status = "info"
            lines.append(
                f"{name if i == 0 else '':<28} {output:<18} {row['max_abs_diff']:>13.3e} "
                f"{validation.get('atol') or float('nan'):>9.1e}  {status:<6}  {size}"
            )
        if validation.get("error"):
            lines.append(f"{'':<28} error: {validation['error']}")
    return "\n".join(lines)


def _human(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
