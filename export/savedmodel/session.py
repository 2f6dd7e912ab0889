"""Run a SavedModel the way TF Serving does: the TF1 session loader, XLA off.

    python -m export.savedmodel.session out/savedmodel/<name>/1            # load + run every signature
    python export/savedmodel/session.py PATH --inputs in.npz --outputs out.npz
    python export/savedmodel/session.py --jobs jobs.json    # several SavedModels, one process

TF Serving does not use TF2's ``tf.saved_model.load``: it loads the
MetaGraphDef into a session, runs the saver's restore op and the init op
(lookup-table initializers), then feeds and fetches the signatures' tensors
by name. This module does exactly that with ``tf.compat.v1.saved_model.loader``
in a ``tf.compat.v1.Session``, in a process of its own (graph mode and the
XLA switch below are process-wide, so the exporting process stays clean).

XLA: ``tensorflow_model_server`` calls ``tensorflow::DisableXlaCompilation()``
at start-up unless given ``--xla_cpu_compilation_enabled=true``; every
``jit_compile`` function then fails on its first call. The runner calls the
same function (exported by ``libtensorflow_cc``) before loading, so a
signature that passes here needs no XLA; ``--xla`` leaves XLA on.
Signatures in :data:`XLA_SIGNATURES` are skipped while XLA is off.

Inputs: an ``.npz`` whose keys are ``<signature>/<batch>/<input name>``
(strings as bytes arrays, scalars as 0-d arrays): exactly those signatures
run. Without one, every signature gets a small default batch built from its
SignatureDef (ids of 1, the texts of :data:`DEFAULT_TEXTS`,
``max_new_tokens`` 4), except :data:`XLA_SIGNATURES` while XLA is off.
Outputs go to ``--outputs`` as ``<signature>/<batch>/<output name>``. The
last line on stdout is a JSON summary: per signature the batches run or the
error, and the file problems found before loading (:func:`file_problems`).
``--jobs`` takes a JSON list of ``{"path", "inputs", "outputs"}`` and prints
a list of summaries: one TensorFlow import for many SavedModels, each in a
graph and session of its own.

Run as a script path (``python export/savedmodel/session.py``) it imports
only numpy, TensorFlow and tensorflow-text (the tokenizer kernels, which TF
Serving links in): nothing from the zoo, as on a server.
"""

import argparse
import ctypes
import glob
import json
import os
import re
import sys
import time

import numpy as np

SERVE_TAG = "serve"
XLA_SIGNATURES = ("generate_xla",)  # need a server started with --xla_cpu_compilation_enabled=true
DEFAULT_TEXTS = ("a fine idea", "he nailed a deal")


def file_problems(path):
    """What is missing or empty in the SavedModel folder ``path`` (empty list = complete).

    The TF1 loader does not say this itself: without ``variables.index`` it
    restores nothing and the first run fails on an uninitialized variable.
    """
    problems = []
    if not os.path.isdir(path):
        return [f"{path}: no such folder"]
    pb = os.path.join(path, "saved_model.pb")
    if not os.path.isfile(pb):
        problems.append(f"{pb}: missing (the graph and signatures)")
    elif os.path.getsize(pb) == 0:
        problems.append(f"{pb}: empty")
    index = os.path.join(path, "variables", "variables.index")
    shards = sorted(glob.glob(os.path.join(path, "variables", "variables.data-*-of-*")))
    if not os.path.isfile(index):
        problems.append(f"{index}: missing (the index of the weights; without it the loader restores nothing)")
    elif os.path.getsize(index) == 0:
        problems.append(f"{index}: empty")
    counts = {int(m.group(1)) for m in (re.search(r"-of-(\d+)$", s) for s in shards) if m}
    if len(counts) > 1:
        problems.append(f"{os.path.join(path, 'variables')}: weight shards of different sets {sorted(shards)}")
    expected = max(counts) if counts else 1
    for shard in range(expected):
        name = os.path.join(path, "variables", f"variables.data-{shard:05d}-of-{expected:05d}")
        if not os.path.isfile(name):
            problems.append(f"{name}: missing (weights shard {shard + 1} of {expected})")
    return problems


def disable_xla():
    """Turn XLA compilation off for this process, as ``tensorflow_model_server`` does."""
    import tensorflow as tf

    library = ctypes.CDLL(os.path.join(os.path.dirname(tf.__file__), "libtensorflow_cc.so.2"))
    library._ZN10tensorflow21DisableXlaCompilationEv()  # tensorflow::DisableXlaCompilation()


def default_inputs(signature_def):
    """{input name: array} for a SignatureDef: a small batch any model of the zoo accepts."""
    from tensorflow.core.framework import types_pb2

    inputs = {}
    for name, info in signature_def.inputs.items():
        rank = len(info.tensor_shape.dim)
        if info.dtype == types_pb2.DT_STRING:
            inputs[name] = np.asarray(DEFAULT_TEXTS, dtype="S")
        elif rank == 0:
            inputs[name] = np.asarray(4, np.int32)
        else:
            inputs[name] = np.ones((2, 5), np.int32)
    return inputs


def _feeds(npz, signatures, xla):
    """{signature: [{input: array}, ...]} from the npz keys, or defaults for every signature."""
    if npz is None:
        return {k: [default_inputs(s)] for k, s in signatures.items()
                if not k.startswith("__") and (xla or k not in XLA_SIGNATURES)}
    feeds = {}
    for key in npz.files:
        signature, batch, name = key.split("/", 2)
        batches = feeds.setdefault(signature, {})
        batches.setdefault(int(batch), {})[name] = npz[key]
    return {k: [v[i] for i in sorted(v)] for k, v in feeds.items()}


def _storable(value):
    value = np.asarray(value)
    return value.astype("S") if value.dtype == object else value


def run(path, npz=None, xla=False):
    """Load ``path`` in a TF1 session and run the signatures; -> (summary, {key: array}).

    ``xla``: whether this process left XLA on (see :func:`disable_xla`); it
    only decides which signatures run by default.
    """
    summary = {"path": path, "xla": bool(xla), "files": file_problems(path), "signatures": {}}
    outputs = {}
    if summary["files"]:
        summary["error"] = "incomplete SavedModel folder: " + "; ".join(summary["files"])
        return summary, outputs
    import tensorflow as tf

    try:
        import tensorflow_text  # noqa: F401 - registers the tokenizer kernels
    except ImportError:
        pass
    start = time.perf_counter()
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, [SERVE_TAG], path)
        except Exception as error:  # noqa: BLE001 - reported, not raised
            where = ""
            if "RestoreV2" in str(error):  # TF names the op, not the file it read
                shards = sorted(os.listdir(os.path.join(path, "variables")))
                where = f" while restoring the weights from variables/{{{', '.join(shards)}}}"
            summary["error"] = f"load failed{where}: {type(error).__name__}: {_first_line(error)}"
            return summary, outputs
        summary["load_seconds"] = round(time.perf_counter() - start, 2)
        signatures = meta_graph.signature_def
        if npz is None and not xla:
            for name in sorted(set(signatures) & set(XLA_SIGNATURES)):
                summary["signatures"][name] = {"skipped": "needs XLA (--xla_cpu_compilation_enabled=true)"}
        for name, batches in _feeds(npz, signatures, xla).items():
            if name not in signatures:
                summary["signatures"][name] = {"error": f"no signature {name!r} (has {sorted(signatures)})"}
                continue
            signature = signatures[name]
            fetches = {k: v.name for k, v in signature.outputs.items()}
            try:
                began = time.perf_counter()
                for i, inputs in enumerate(batches):
                    feed = {signature.inputs[k].name: v for k, v in inputs.items()}
                    for key, value in session.run(fetches, feed).items():
                        outputs[f"{name}/{i}/{key}"] = _storable(value)
                summary["signatures"][name] = {"batches": len(batches),
                                               "seconds": round(time.perf_counter() - began, 2)}
            except Exception as error:  # noqa: BLE001 - reported per signature
                summary["signatures"][name] = {"error": f"{type(error).__name__}: {_first_line(error)}"}
    return summary, outputs


def _first_line(error):
    """The informative line of a TensorFlow error (not its "Graph execution error:" header)."""
    lines = [line for line in str(error).strip().splitlines()
             if line.strip() and line.strip() != "Graph execution error:"]
    important = [line for line in lines if "does not exist" in line or "XLA compilation disabled" in line]
    return ((important or lines or [type(error).__name__])[0]).strip()[:400]


def run_in_subprocess(path, feeds=None, xla=False, timeout=900):
    """Run :func:`run` on ``path`` in a fresh Python process; -> (summary, {key: array}).

    ``feeds``: {signature: [{input: array}, ...]} or None for the defaults.
    One process covers every signature and batch (importing TensorFlow costs seconds).
    """
    return run_many_in_subprocess([(path, feeds)], xla, timeout)[0]


def run_many_in_subprocess(jobs, xla=False, timeout=900):
    """:func:`run` on each (path, feeds) of ``jobs`` in one fresh process; -> [(summary, outputs)]."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tf1-session-") as folder:
        specs = []
        for i, (path, feeds) in enumerate(jobs):
            spec = {"path": os.path.abspath(path), "outputs": os.path.join(folder, f"outputs-{i}.npz")}
            if feeds is not None:
                arrays = {f"{name}/{b}/{key}": np.asarray(value) for name, batches in feeds.items()
                          for b, inputs in enumerate(batches) for key, value in inputs.items()}
                arrays = {k: (v.astype("S") if v.dtype.kind in "OU" else v) for k, v in arrays.items()}
                spec["inputs"] = os.path.join(folder, f"inputs-{i}.npz")
                np.savez(spec["inputs"], **arrays)
            specs.append(spec)
        with open(os.path.join(folder, "jobs.json"), "w", encoding="utf-8") as file:
            json.dump(specs, file)
        command = [sys.executable, os.path.abspath(__file__), "--jobs", os.path.join(folder, "jobs.json")]
        if xla:
            command.append("--xla")
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        environment.pop("TF_XLA_FLAGS", None)  # the server's defaults, not this process' tuning
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
        lines = done.stdout.strip().splitlines()
        try:
            summaries = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])[:600]
            error = f"the TF1 loader process exited with {done.returncode}: {tail}"
            summaries = [{"path": s["path"], "signatures": {}, "files": [], "error": error} for s in specs]
        results = []
        for spec, summary in zip(specs, summaries):
            outputs = dict(np.load(spec["outputs"])) if os.path.exists(spec["outputs"]) else {}
            results.append((summary, outputs))
    return results


def _run_job(path, inputs, outputs, xla):
    npz = np.load(inputs) if inputs else None
    summary, arrays = run(path, npz, xla=xla)
    if outputs:
        np.savez(outputs, **arrays)
    return summary


def _failed(summary):
    return bool(summary.get("error") or any("error" in s for s in summary["signatures"].values()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", help="a SavedModel folder (e.g. out/savedmodel/<name>/1)")
    parser.add_argument("--inputs", help="npz of <signature>/<batch>/<input> arrays (default: a small batch each)")
    parser.add_argument("--outputs", help="write the outputs here (npz)")
    parser.add_argument("--jobs", help='JSON list of {"path", "inputs", "outputs"}: several SavedModels')
    parser.add_argument("--xla", action="store_true", help="leave XLA on (a server with --xla_cpu_compilation_enabled=true)")
    args = parser.parse_args(argv)
    if not args.xla:
        disable_xla()
    if args.jobs:
        with open(args.jobs, encoding="utf-8") as file:
            jobs = json.load(file)
        summaries = [_run_job(j["path"], j.get("inputs"), j.get("outputs"), args.xla) for j in jobs]
        print(json.dumps(summaries))
        return 1 if any(_failed(s) for s in summaries) else 0
    if not args.path:
        parser.error("give a SavedModel folder or --jobs")
    summary = _run_job(args.path, args.inputs, args.outputs, args.xla)
    print(json.dumps(summary))
    return 1 if _failed(summary) else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # everything is written: skip TensorFlow's interpreter teardown (seconds)
