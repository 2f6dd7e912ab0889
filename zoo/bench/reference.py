"""Reference outputs of the zoo Keras model, written by the prepare step for runtimes
that must measure their own difference from it.

* ``write``: its logits on every bench input of a suite entry, per shape.

Peers that carry the zoo model's weights (``keras-lstm``, ``torch-lstm``)
must prove they compute the same function before their times mean
anything. The prepare step already holds the zoo model, so it writes its
logits for each (batch, length) once (``write``); a peer compares its own
output on the same inputs (``zoo.bench.inputs``, same seed) with
``max_abs_diff``, which needs only numpy - the torch peer's process never
imports TensorFlow - and reads the reference one batch row at a time, so
the comparison adds about one row's logits to the peer's peak memory.

* ``write_batch``: its inputs and every output on one small fixed batch
  (``BATCH_SHAPE``), for runtimes that read an exported artifact other than
  the way export validated it (OpenVINO, at its own precision).
"""

import os

import numpy as np

from zoo.bench import inputs as inputs_lib

ARTIFACT = "reference_logits"
BATCH_SHAPE = (2, 8)  # batch, length of write_batch's inputs


def file_name(batch, length):
    return f"b{batch}_t{length}.npy"


def write(model, family, config, shapes, folder):
    """Save ``model``'s float32 logits for every (batch, length) of ``shapes``; return the folder."""
    os.makedirs(folder, exist_ok=True)
    for batch, length in sorted({(b, t) for b, t, *_ in shapes}):
        x = inputs_lib.forward_inputs(family, config, batch, length)
        logits = np.asarray(model(x, training=False), dtype=np.float32)
        np.save(os.path.join(folder, file_name(batch, length)), logits)
    return folder


def _rows(path):
    """The saved array's rows (first axis), one at a time, read straight from the file."""
    with open(path, "rb") as file:
        version = np.lib.format.read_magic(file)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise ValueError(f"{path}: .npy format {version} is not read here (np.save writes 1.0).")
        shape, fortran_order, dtype = readers[version](file)
        if fortran_order:
            raise ValueError(f"{path}: expected a C-ordered array.")
        row_shape = shape[1:]
        count = int(np.prod(row_shape))
        for _ in range(shape[0]):
            yield np.fromfile(file, dtype=dtype, count=count).reshape(row_shape)


def max_abs_diff(folder, batch, length, logits):
    """Largest |logits - reference| at this shape; ValueError if the shapes differ or a file is missing."""
    path = os.path.join(folder, file_name(batch, length))
    if not os.path.exists(path):
        raise ValueError(f"No reference logits for batch {batch}, length {length} in {folder}.")
    logits = np.asarray(logits)
    worst, rows = 0.0, 0
    for i, row in enumerate(_rows(path)):
        if i >= logits.shape[0] or row.shape != logits.shape[1:]:
            raise ValueError(f"Logits of shape {logits.shape} do not match the reference's rows {row.shape} "
                             f"at batch {batch}, length {length}.")
        worst = max(worst, float(np.max(np.abs(logits[i].astype(np.float32) - row))))
        rows += 1
    if rows != logits.shape[0]:
        raise ValueError(f"Logits have {logits.shape[0]} rows, the reference {rows}.")
    return worst


def write_batch(model, family, config, path):
    """Save fixed inputs (``input:<name>``) and the model's outputs (``output:<name>``; one unnamed output: ``output:``)."""
    x = inputs_lib.forward_inputs(family, config, *BATCH_SHAPE)
    y = model(x, training=False)
    outputs = {f"output:{k}": np.asarray(v, np.float32) for k, v in y.items()} if isinstance(y, dict) else {
        "output:": np.asarray(y, np.float32)}
    np.savez(path, **{f"input:{k}": v for k, v in x.items()}, **outputs)
    return path


def batch_max_abs_diff(session, reference_path):
    """Max abs difference of ``session``'s outputs (an onnxruntime-like session) from the
    Keras outputs ``write_batch`` saved, on the same inputs; None if no output is shared."""
    data = np.load(reference_path)
    names = [i.name for i in session.get_inputs()]
    outputs = session.run(None, {n: data[f"input:{n}"] for n in names})
    output_names = [o.name for o in session.get_outputs()]
    if len(output_names) == 1 and "output:" in data:
        expected = {output_names[0]: data["output:"]}
    else:
        expected = {n: data[f"output:{n}"] for n in output_names if f"output:{n}" in data}
    diffs = [float(np.max(np.abs(out - expected[n]))) for n, out in zip(output_names, outputs) if n in expected]
    return max(diffs) if diffs else None
