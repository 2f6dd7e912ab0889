"""OpenVINO sessions over the zoo's ONNX artifacts, shaped like ONNX Runtime's.

Why a facade rather than OpenVINO's own API at each call site: the greedy
loops (``export.onnx.generate``) and the benchmark runtimes are written
against ``onnxruntime.InferenceSession``'s ``get_inputs()`` / ``run(names,
feed)``. :class:`OpenVinoSession` offers exactly those, so only "open the
graph and run one call" differs between the runtimes - the padding layout,
cache handling and greedy loop are shared and give identical tokens.

What OpenVINO reads: the plain ONNX export (``onnx``), the GPT and seq2seq
decoders and seq2seq encoder (``onnx_decoder``, ``onnx_encoder``; ONNX
``LSTM`` ops included) and onnxruntime's dynamic-int8 graph (``onnx_int8``:
``DynamicQuantizeLinear`` + ``MatMulInteger``), all through its ONNX frontend
with the dynamic axes left dynamic (measured: fp32 matches onnxruntime to
~1e-7 on every family's tiny graphs). Not the fused GPT decoder and the
quantized ones made from it: their ``GroupQueryAttention`` (which writes the
past in place in onnxruntime) OpenVINO 2026.4 reads but fails to run, so
they are refused with a pointer to the plain decoder.

Precision: OpenVINO's CPU plugin runs in bf16 by default on CPUs with AMX or
AVX-512 BF16, which silently changes the numbers, so ``precision`` is always
set explicitly (``INFERENCE_PRECISION_HINT``): ``"f32"`` unless asked.
``"bf16"`` is only honoured where the plugin lists ``BF16`` in its
``OPTIMIZATION_CAPABILITIES`` (see :func:`cpu_capabilities`); elsewhere
OpenVINO would quietly fall back to f32, so this raises instead.

Threads: the ``LATENCY`` performance hint (one stream running each call on
all the cores OpenVINO picks), the setting for the single calls that
``zoo bench`` times; ``threads`` pins ``INFERENCE_NUM_THREADS``.

numpy, openvino (imported when a session is opened) and the declared contract
(``export.onnx.contract``, plain Python) only, so the
``zoo bench`` workers can use it without TensorFlow.
"""

import types

import numpy as np

from export.onnx.contract import PAST_IN_PLACE_KEY

PRECISIONS = ("f32", "bf16")
INSTALL_HINT = "pip install -e '.[openvino]'"


def _openvino():
    try:
        import openvino
    except ImportError as error:
        raise ImportError(f"OpenVINO is not installed ({INSTALL_HINT}).") from error
    return openvino


def cpu_capabilities():
    """The CPU plugin's ``OPTIMIZATION_CAPABILITIES`` (e.g. ``["BF16", "FP32", "INT8", ...]``)."""
    return list(_openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def _onnx_metadata(model):
    """``{key: value}`` of the ONNX file's ``metadata_props``, which OpenVINO's ONNX reader keeps in
    the model's runtime info under ``framework``."""
    if not model.has_rt_info(["framework"]):
        return {}
    return {key: str(value.astype(str)) for key, value in model.get_rt_info()["framework"].items()}


class _Port:
    """One input or output as ``onnxruntime.NodeArg`` describes it: name, shape (str for a dynamic axis), type."""

    def __init__(self, port, index):
        self.name = port.get_any_name()
        shape = port.get_partial_shape()
        self.shape = [d.get_length() if d.is_static else f"dim{index}_{axis}" for axis, d in enumerate(shape)]
        self.type = f"tensor({port.get_element_type().get_type_name()})"


class OpenVinoSession:
    """An ONNX graph compiled by OpenVINO for the CPU, with ``onnxruntime.InferenceSession``'s ``run``.

    ``run(output_names, feed)`` takes numpy inputs by name and returns numpy
    outputs (copies, safe to feed back in) in the order asked (all, in the
    graph's order, for ``None``).
    """

    def __init__(self, path, precision="f32", threads=None, performance_hint="LATENCY"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
        ov = _openvino()
        core = ov.Core()
        if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise RuntimeError("OpenVINO's CPU plugin lists no BF16 capability on this CPU (it needs AVX-512 BF16 "
                               "or AMX); it would silently run f32.")
        config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": performance_hint}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        self.path = str(path)
        self.precision = precision
        model = core.read_model(self.path)
        self.metadata = _onnx_metadata(model)
        if self.metadata.get(PAST_IN_PLACE_KEY) == "1":
            raise ValueError(
                f"{self.path} is a fused or quantized GPT decoder: its attention is ONNX Runtime's "
                "GroupQueryAttention, which OpenVINO reads but fails to run (a Reshape shape check at the first "
                "call, OpenVINO 2026.4). Give OpenVINO the plain decoder (<name>_decoder), which it runs with "
                "the same tokens; OpenVINO makes its own fusions from it.")
        self.compiled = core.compile_model(model, "CPU", config)
        self.request = self.compiled.create_infer_request()
        self._inputs = [_Port(p, i) for i, p in enumerate(self.compiled.inputs)]
        self._outputs = [_Port(p, i) for i, p in enumerate(self.compiled.outputs)]
        self._output_index = {name: i for i, p in enumerate(self.compiled.outputs) for name in p.get_names()}

    def get_inputs(self):
        return list(self._inputs)

    def get_modelmeta(self):
        """The ONNX file's ``metadata_props``, as ``onnxruntime``'s ``get_modelmeta().custom_metadata_map``."""
        return types.SimpleNamespace(custom_metadata_map=dict(self.metadata))

    def get_outputs(self):
        return list(self._outputs)

    def run(self, output_names, feed):
        results = list(self.request.infer({name: np.asarray(value) for name, value in feed.items()}).values())
        if output_names is None:
            return results
        return [results[self._output_index[name]] for name in output_names]


def ov_session(path, precision="f32", threads=None):
    """An :class:`OpenVinoSession` of the ONNX file ``path`` on the CPU plugin at ``precision`` (``f32``/``bf16``)."""
    return OpenVinoSession(path, precision=precision, threads=threads)
