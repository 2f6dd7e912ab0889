"""The zoo's own runtimes: how each loads its artifact and runs one benchmark call.

``load(runtime, task, facts)`` returns ``(make_call, load_seconds, artifact)``:
``make_call(batch, length, new_tokens)`` prepares inputs for one shape
(outside the timing) and returns a no-argument function that runs the
model once and blocks until the result is on the host (numpy). An
``artifact["check"]``, if present, is called by the worker after the timing
(so first calls stay cold) and returns facts that replace the artifact's:
the OpenVINO runtimes measure their own max abs difference from Keras there
(``zoo.bench.reference.batch_max_abs_diff``). ``facts`` is
what ``zoo.bench.artifacts.prepare`` wrote: family, config, artifact paths.

Imports are local to each runtime so an ONNX Runtime or OpenVINO case never
imports TensorFlow (its peak memory is then the runtime's own). OpenVINO
cases open the same ONNX files through ``export.openvino.session``, whose
sessions answer ``get_inputs()`` / ``run()`` as onnxruntime's do, so forward
calls and the greedy loops are the same code for both runtimes.
"""

import time

import numpy as np

from zoo.bench import inputs as inputs_lib
from zoo.bench import reference as reference_lib

ARTIFACT_OF = {"keras-eager": "keras", "tf-function": "keras", "tf-function-xla": "keras", "tf-gpu": "keras",
               "savedmodel": "savedmodel", "ort-cpu": "onnx", "ort-cpu-fused": "onnx_optimized",
               "ort-cpu-int8": "onnx_int8", "ort-cpu-int4": "onnx_int4", "ort-cuda": "onnx",
               "ov-cpu": "onnx", "ov-cpu-bf16": "onnx", "ov-cpu-int8": "onnx_int8"}
# Generation: the artifact each zoo runtime decodes with.
GENERATE_ARTIFACT_OF = {"tf-function-xla": "keras", "ort-cpu": "onnx_decoder",
                        "ort-cpu-fused": "onnx_decoder_optimized", "ort-cpu-int8": "onnx_decoder_int8",
                        "ort-cpu-int4": "onnx_decoder_int4", "ov-cpu": "onnx_decoder", "ov-cpu-bf16": "onnx_decoder"}
# OpenVINO's inference precision per runtime (always explicit: its CPU default is bf16 where the CPU has it).
OPENVINO_PRECISION = {"ov-cpu": "f32", "ov-cpu-bf16": "bf16", "ov-cpu-int8": "f32"}


def _numpy_tree(outputs):
    if isinstance(outputs, dict):
        return {k: np.asarray(v) for k, v in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(v) for v in outputs]
    return np.asarray(outputs)


def _artifact(facts, key):
    artifact = facts["artifacts"].get(key)
    if artifact is None:
        error = facts["errors"].get(key, "not exported")
        raise RuntimeError(f"The {key} artifact is missing: its export failed ({error}).")
    return artifact


def _keras_model(path):
    import keras

    import zoo.models  # noqa: F401  (registers the zoo's classes for deserialization)

    return keras.saving.load_model(path, compile=False)


def _tf_forward(runtime, facts):
    import tensorflow as tf

    start = time.perf_counter()
    model = _keras_model(_artifact(facts, "keras")["path"])
    load_seconds = time.perf_counter() - start

    def forward(x):
        return model(x, training=False)

    if runtime == "keras-eager":
        function = forward
    elif runtime == "tf-function-xla":
        function = tf.function(forward, jit_compile=True)
    else:  # tf-function, tf-gpu: one trace for every shape
        names = list(model.input) if isinstance(model.input, dict) else None
        signature = [{n: tf.TensorSpec((None, None), tf.int32, name=n) for n in names}]
        function = tf.function(forward, input_signature=signature)
    device = "/GPU:0" if runtime == "tf-gpu" else "/CPU:0"

    def make_call(batch, length, _):
        with tf.device(device):
            x = {k: tf.constant(v) for k, v in inputs_lib.forward_inputs(facts["family"], facts["config"], batch, length).items()}

        def call():
            with tf.device(device):
                return _numpy_tree(function(x))
        return call

    return make_call, load_seconds


def _savedmodel_forward(facts):
    import tensorflow as tf

    start = time.perf_counter()
    function = tf.saved_model.load(_artifact(facts, "savedmodel")["path"]).signatures["serving_default"]
    load_seconds = time.perf_counter() - start

    def make_call(batch, length, _):
        x = {k: tf.constant(v) for k, v in inputs_lib.forward_inputs(facts["family"], facts["config"], batch, length).items()}
        return lambda: _numpy_tree(function(**x))

    return make_call, load_seconds


def _session_opener(runtime):
    """``open(path)`` -> an onnxruntime session, or an OpenVINO one with the same ``get_inputs`` / ``run``."""
    if runtime.startswith("ov-"):
        from export.openvino.session import ov_session

        return lambda path: ov_session(path, precision=OPENVINO_PRECISION[runtime])
    from export.onnx.session import ort_session

    providers = ("CUDAExecutionProvider", "CPUExecutionProvider") if runtime == "ort-cuda" else ("CPUExecutionProvider",)
    return lambda path: ort_session(path, providers)


def _onnx_forward(runtime, facts):
    start = time.perf_counter()
    session = _session_opener(runtime)(_artifact(facts, ARTIFACT_OF[runtime])["path"])
    load_seconds = time.perf_counter() - start
    artifact = _artifact(facts, ARTIFACT_OF[runtime])
    if runtime.startswith("ov-"):  # export validated the graph in onnxruntime: OpenVINO's own difference, measured
        reference = facts.get("reference")
        artifact = {**artifact, "max_abs_diff": None,
                    "check": lambda: {"max_abs_diff": reference_lib.batch_max_abs_diff(session, reference)
                                      if reference else None}}
    names = [i.name for i in session.get_inputs()]

    def make_call(batch, length, _):
        x = inputs_lib.forward_inputs(facts["family"], facts["config"], batch, length)
        feed = {n: x[n] for n in names}
        return lambda: session.run(None, feed)

    return make_call, load_seconds, artifact


def _zoo_generate(facts):
    from zoo.generation import generate

    start = time.perf_counter()
    model = _keras_model(_artifact(facts, "keras")["path"])
    load_seconds = time.perf_counter() - start
    family = facts["family"]

    def make_call(batch, length, new_tokens):
        prompts = inputs_lib.prompts(family, facts["config"], batch, length).tolist()
        options = {"start_token_id": 1} if family == "seq2seq" else {}

        def call():
            out = generate(model, prompts, max_new_tokens=new_tokens, sampler="greedy", **options)
            if any(len(row) != new_tokens for row in out):
                raise RuntimeError(f"zoo.generate returned {[len(r) for r in out]} tokens, expected {new_tokens} each.")
            return out
        return call

    return make_call, load_seconds


def _onnx_generate(runtime, facts):
    """The greedy loop of ``export.onnx.generate`` over the runtime's decoder (onnxruntime or OpenVINO)."""
    family = facts["family"]
    start = time.perf_counter()
    from export.onnx import generate as onnx_generate

    open_session = _session_opener(runtime)
    if family == "gpt":
        runner = onnx_generate.GptRunner(open_session(_artifact(facts, GENERATE_ARTIFACT_OF[runtime])["path"]))
    else:
        runner = onnx_generate.Seq2SeqRunner(open_session(_artifact(facts, "onnx_encoder")["path"]),
                                               open_session(_artifact(facts, GENERATE_ARTIFACT_OF[runtime])["path"]))
    load_seconds = time.perf_counter() - start

    def make_call(batch, length, new_tokens):
        prompts = inputs_lib.prompts(family, facts["config"], batch, length).tolist()
        options = {"start_token_id": 1} if family == "seq2seq" else {}
        return lambda: runner.generate(prompts, new_tokens, **options)

    return make_call, load_seconds


def load(runtime, task, facts):
    """(make_call, load_seconds, artifact facts) for a zoo runtime."""
    if task == "generate":
        if runtime == "tf-function-xla":
            make_call, seconds = _zoo_generate(facts)
            return make_call, seconds, facts["artifacts"]["keras"]
        if runtime in GENERATE_ARTIFACT_OF:
            key = GENERATE_ARTIFACT_OF[runtime]
            make_call, seconds = _onnx_generate(runtime, facts)
            decoder = _artifact(facts, key)
            encoder = facts["artifacts"].get("onnx_encoder") or {}
            size = decoder["size_bytes"] + encoder.get("size_bytes", 0)
            artifact = {**decoder, "size_bytes": size}
            if runtime.startswith("ov-"):  # the decoder was validated in onnxruntime, not in OpenVINO
                artifact["max_abs_diff"] = None
            return make_call, seconds, artifact
        raise ValueError(f"{runtime} has no generation loop.")
    if runtime in ("keras-eager", "tf-function", "tf-function-xla", "tf-gpu"):
        make_call, seconds = _tf_forward(runtime, facts)
    elif runtime == "savedmodel":
        make_call, seconds = _savedmodel_forward(facts)
    elif runtime.startswith(("ort-", "ov-")):
        return _onnx_forward(runtime, facts)
    else:
        raise ValueError(f"{runtime!r} is not a zoo runtime.")
    return make_call, seconds, _artifact(facts, ARTIFACT_OF[runtime])
