"""The runtimes a suite can name, what each needs, and why one may be skipped.

This module is only the registry (no TensorFlow import): the code that runs
a case lives in ``zoo.bench.zoo_runners`` (the zoo model on Keras, TF,
SavedModel, ONNX Runtime, OpenVINO) and ``zoo.bench.peers`` (keras-hub, transformers;
the LSTM peers in ``zoo.bench.lstm_peers``).

``tasks`` says what a runtime can do: ``forward`` (one model call) and/or
``generate`` (greedy decoding). For generation the zoo's runtime is
``tf-function-xla`` (``zoo.generate``: one XLA-compiled loop), ``ort-cpu``
(the exported ONNX decoder with past state, stepped by onnxruntime),
``ort-cpu-fused`` (GPT: the same decoder with fused attention), ``ort-cpu-int8``
and ``ort-cpu-int4`` (that decoder with int8 / 4-bit weights) and ``ov-cpu``
/ ``ov-cpu-bf16`` (the float decoder stepped by OpenVINO).

OpenVINO (``ov-*``, the optional ``openvino`` extra) reads the zoo's ONNX
artifacts as they are, like ONNX Runtime: ``ov-cpu`` the plain export in
fp32 (the precision hint set explicitly: OpenVINO's CPU default is bf16 on
CPUs with AMX / AVX-512 BF16), ``ov-cpu-bf16`` the same graph with bf16
inference precision (only where OpenVINO's CPU plugin lists ``BF16``) and
``ov-cpu-int8`` onnxruntime's dynamic-int8 graph (``DynamicQuantizeLinear`` +
``MatMulInteger``, which OpenVINO's ONNX frontend reads and computes as
onnxruntime does, though slower than its own fp32 graph: measured 2-6x at
bert-mini / gpt-mini batch 1; it is kept to show that). OpenVINO also reads
the fused graph (``onnx_optimized``: onnxruntime's contrib operators
MultiHeadAttention and FastGelu / BiasGelu, ONNX LayerNormalization; tried on
the tiny GPT and BERT with a padded row, 9e-8 from onnxruntime), but it is not offered as a
runtime: those fusions are written for onnxruntime's kernels, and OpenVINO
makes its own fusions from the plain graph.
"""

import dataclasses
import importlib.util

from zoo.bench import reference

TASKS = ("forward", "generate")
TRANSFORMER_FAMILIES = ("bert", "gpt")
LSTM_FAMILIES = ("lstm_lm", "seq2seq")
ALL_FAMILIES = ("bert", "gpt", "lstm_lm", "seq2seq")


@dataclasses.dataclass(frozen=True)
class Runtime:
    name: str
    kind: str  # "zoo" or "peer"
    description: str
    tasks: tuple = ("forward",)
    artifact: str = "keras"  # which exported file the case loads: keras, savedmodel, onnx, onnx_fused, onnx_int8,
    # none, reference_logits (the LSTM peers: the .keras file's weights + the zoo's logits to check parity with)
    uses_tensorflow: bool = True
    device: str = "cpu"  # cpu or gpu
    families: tuple = ALL_FAMILIES
    generate_families: tuple = ("gpt", "lstm_lm", "seq2seq")


RUNTIMES = {r.name: r for r in (
    Runtime("keras-eager", "zoo", "Keras model called eagerly (attention core XLA-compiled)"),
    Runtime("tf-function", "zoo", "tf.function over the Keras model (what predict runs)"),
    Runtime("tf-function-xla", "zoo", "tf.function(jit_compile=True); generation: zoo.generate's XLA loop",
            tasks=("forward", "generate")),
    Runtime("savedmodel", "zoo", "exported SavedModel, serving_default signature", artifact="savedmodel"),
    Runtime("ort-cpu", "zoo", "ONNX Runtime CPU on the tf2onnx export; generation: ONNX decoder with past state",
            tasks=("forward", "generate"), artifact="onnx", uses_tensorflow=False, generate_families=("gpt", "seq2seq")),
    Runtime("ort-cpu-fused", "zoo", "ONNX Runtime CPU on the fused graph (export optimize=True); "
            "generation: the fused GPT decoder with past state", tasks=("forward", "generate"),
            artifact="onnx_optimized", uses_tensorflow=False, families=TRANSFORMER_FAMILIES,
            generate_families=("gpt",)),
    Runtime("ort-cpu-int8", "zoo", "ONNX Runtime CPU on the dynamic-int8 graph (export quantize='int8'); "
            "generation: the int8 decoder (GPT: made from the fused one)", tasks=("forward", "generate"),
            artifact="onnx_int8", uses_tensorflow=False, generate_families=("gpt", "seq2seq")),
    Runtime("ort-cpu-int4", "zoo", "ONNX Runtime CPU on the 4-bit weight-only graph (export quantize='int4', "
            "MatMulNBits); generation: the int4 decoder (GPT: made from the fused one)",
            tasks=("forward", "generate"), artifact="onnx_int4", uses_tensorflow=False,
            generate_families=("gpt", "seq2seq")),
    Runtime("ov-cpu", "zoo", "OpenVINO CPU on the tf2onnx export, fp32 (precision hint f32); "
            "generation: the ONNX decoder with past state", tasks=("forward", "generate"), artifact="onnx",
            uses_tensorflow=False, generate_families=("gpt", "seq2seq")),
    Runtime("ov-cpu-bf16", "zoo", "OpenVINO CPU on the tf2onnx export with bf16 inference precision "
            "(CPUs with AVX-512 BF16 / AMX); generation: the ONNX decoder with past state",
            tasks=("forward", "generate"), artifact="onnx", uses_tensorflow=False,
            generate_families=("gpt", "seq2seq")),
    Runtime("ov-cpu-int8", "zoo", "OpenVINO CPU on the dynamic-int8 graph (export quantize='int8'), fp32 elsewhere",
            artifact="onnx_int8", uses_tensorflow=False),
    Runtime("tf-gpu", "zoo", "tf.function on /GPU:0", device="gpu"),
    Runtime("ort-cuda", "zoo", "ONNX Runtime CUDAExecutionProvider on the tf2onnx export",
            artifact="onnx", uses_tensorflow=False, device="gpu"),
    Runtime("keras-hub", "peer", "keras-hub model of the same configuration under tf.function "
            "(generation: GPT2CausalLM.generate as compiled by default)", tasks=("forward", "generate"),
            artifact="none", families=TRANSFORMER_FAMILIES, generate_families=("gpt",)),
    Runtime("keras-hub-xla", "peer", "the keras-hub model compiled with XLA (jit_compile=True)",
            tasks=("forward", "generate"), artifact="none", families=TRANSFORMER_FAMILIES, generate_families=("gpt",)),
    Runtime("transformers-torch", "peer", "Hugging Face transformers on torch (CPU, inference_mode)",
            tasks=("forward", "generate"), artifact="none", uses_tensorflow=False,
            families=TRANSFORMER_FAMILIES, generate_families=("gpt",)),
    Runtime("keras-lstm", "peer", "the zoo model rebuilt from plain keras.layers.LSTM (Keras' default "
            "implementation) with the zoo's weights, tf.function; parity-checked", artifact=reference.ARTIFACT,
            families=LSTM_FAMILIES, generate_families=()),
    Runtime("torch-lstm", "peer", "the zoo model rebuilt with torch.nn.LSTM with the zoo's weights "
            "(CPU, inference_mode); parity-checked", artifact=reference.ARTIFACT, uses_tensorflow=False,
            families=LSTM_FAMILIES, generate_families=()),
)}

PEER_PACKAGES = {"keras-hub": ("keras_hub",), "keras-hub-xla": ("keras_hub",),
                 "transformers-torch": ("torch", "transformers"), "keras-lstm": (), "torch-lstm": ("torch",)}
OPENVINO_RUNTIMES = ("ov-cpu", "ov-cpu-bf16", "ov-cpu-int8")


def _installed(module):
    return importlib.util.find_spec(module) is not None


def skip_reason(runtime_name, family, task, machine):
    """Why ``runtime_name`` cannot run this (family, task) here, or None if it can.

    ``machine`` is the probe's result (GPUs seen by TensorFlow, onnxruntime
    providers, OpenVINO's CPU capabilities).
    """
    runtime = RUNTIMES[runtime_name]
    if task not in runtime.tasks:
        if runtime.kind == "zoo" and task == "generate":
            return ("generation runs on tf-function-xla (zoo.generate's compiled loop), ort-cpu "
                    "(ONNX decoder), ort-cpu-fused (fused GPT decoder), ort-cpu-int8 / ort-cpu-int4 "
                    "(quantized decoders) and ov-cpu / ov-cpu-bf16 (the ONNX decoder on OpenVINO); "
                    "this runtime has no decode loop")
        return f"{runtime_name} does not support task {task!r}"
    families = runtime.generate_families if task == "generate" else runtime.families
    if family not in families:
        if runtime.kind == "peer":
            return f"{runtime_name} has no model of the {family} family"
        return f"{runtime_name} does not apply to the {family} family for {task} (supported: {', '.join(families)})"
    if runtime.kind == "peer":
        missing = [m for m in PEER_PACKAGES[runtime_name] if not _installed(m)]
        if missing:
            return f"not installed: {', '.join(missing)} (pip install -e '.[hf]')"
    if runtime_name in OPENVINO_RUNTIMES:
        if not _installed("openvino"):
            return "not installed: openvino (pip install -e '.[openvino]')"
        capabilities = machine.get("openvino_cpu_capabilities")
        if runtime_name == "ov-cpu-bf16" and "BF16" not in (capabilities or []):
            found = ", ".join(capabilities) if capabilities else "not probed"
            return ("no bf16: OpenVINO's CPU plugin lists no BF16 capability on this CPU (it needs AVX-512 BF16 "
                    f"or AMX; OPTIMIZATION_CAPABILITIES: {found})")
    if runtime_name == "tf-gpu" and not machine.get("tensorflow_gpus"):
        return "no GPU: TensorFlow sees no GPU device (install the 'gpu' extra on a CUDA machine)"
    if runtime_name == "ort-cuda" and "CUDAExecutionProvider" not in machine.get("onnxruntime_providers", []):
        return ("no GPU: onnxruntime has no CUDAExecutionProvider (installed providers: "
                f"{', '.join(machine.get('onnxruntime_providers', [])) or 'none'}; install onnxruntime-gpu)")
    return None
