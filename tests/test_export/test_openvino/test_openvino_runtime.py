"""OpenVINO over the zoo's ONNX exports: fp32 matches Keras, greedy decoding
over the past-state decoders is token-identical to ``zoo.generate``, and the
dynamic-int8 graph is read. Skipped without the ``openvino`` extra."""

import pytest

openvino = pytest.importorskip("openvino")

import numpy as np  # noqa: E402

import zoo.generation  # noqa: E402
from export import export  # noqa: E402
from export.onnx.generate import GptRunner, Seq2SeqRunner  # noqa: E402
from export.onnx.session import ort_session  # noqa: E402
from export.openvino.session import cpu_capabilities, ov_session  # noqa: E402
from harness import as_numpy_tree, tiny_inputs, tiny_model  # noqa: E402

HAS_BF16 = "BF16" in cpu_capabilities()
FP32_ATOL = 1e-4
BF16_ATOL = 5e-2  # bf16 keeps 8 bits of mantissa: ~1e-2 relative on the tiny models' O(1) outputs


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """family -> (Keras model, {artifact key: path}); GPT also with its int8 graph."""
    out, models = tmp_path_factory.mktemp("ov"), {}
    for family in ("bert", "gpt", "lstm_lm", "seq2seq"):
        model = tiny_model(family, **({"max_sequence_length": 32} if family == "gpt" else {}), name=f"t_{family}")
        report = export(model, out / family, formats=["onnx"], quantize="int8" if family == "gpt" else None)
        models[family] = model, {key: artifact["path"] for key, artifact in report["artifacts"].items()}
    return models


def _keras(model, inputs):
    outputs = as_numpy_tree(model(inputs, training=False))
    return outputs if isinstance(outputs, dict) else {None: outputs}


def _max_diff(session, model, inputs):
    names = [o.name for o in session.get_outputs()]
    values = dict(zip(names, session.run(None, {i.name: inputs[i.name] for i in session.get_inputs()})))
    expected = _keras(model, inputs)
    if list(expected) == [None]:
        expected = {names[0]: expected[None]}
    return max(float(np.max(np.abs(values[k] - v))) for k, v in expected.items())


@pytest.mark.parametrize("family", ["bert", "gpt", "lstm_lm", "seq2seq"])
def test_fp32_matches_keras_and_bf16_is_close(exported, family):
    model, paths = exported[family]
    shapes = [(2, 6), (1, 9)]  # the dynamic batch and sequence axes stay dynamic in OpenVINO
    fp32 = ov_session(paths["onnx"], "f32")
    diff = max(_max_diff(fp32, model, tiny_inputs(family, b, n)) for b, n in shapes)
    print(f"\n{family}: OpenVINO fp32 max abs diff vs Keras {diff:.2e}")
    assert diff <= FP32_ATOL
    if HAS_BF16:
        bf16 = ov_session(paths["onnx"], "bf16")
        diff16 = max(_max_diff(bf16, model, tiny_inputs(family, b, n)) for b, n in shapes)
        print(f"{family}: OpenVINO bf16 max abs diff vs Keras {diff16:.2e}")
        assert diff16 <= BF16_ATOL


def test_bf16_is_refused_where_the_cpu_has_none(monkeypatch):
    if HAS_BF16:
        core = openvino.Core

        class NoBf16Core(core):
            def get_property(self, device, name):
                value = super().get_property(device, name)
                return [c for c in value if c != "BF16"] if name == "OPTIMIZATION_CAPABILITIES" else value

        monkeypatch.setattr(openvino, "Core", NoBf16Core)
    with pytest.raises(RuntimeError, match="no BF16 capability"):
        ov_session("unused.onnx", "bf16")


def test_int8_graph_is_read_and_matches_onnxruntime(exported):
    model, paths = exported["gpt"]
    inputs = tiny_inputs("gpt", 2, 6)
    ort_logits = ort_session(paths["onnx_int8"]).run(None, inputs)[0]
    ov_logits = ov_session(paths["onnx_int8"]).run(None, inputs)[0]
    diff = float(np.max(np.abs(ort_logits - ov_logits)))
    quantization = _max_diff(ov_session(paths["onnx_int8"]), model, inputs)
    print(f"\ngpt int8: OpenVINO vs onnxruntime max abs diff {diff:.2e}, vs Keras fp32 {quantization:.2e}")
    assert diff <= 1e-3


def _assert_greedy_differs_only_at_near_ties(model, prompts, got, expected, tie):
    """bf16 greedy decoding follows float32's until float32's chosen token and bf16's are within
    bf16 rounding of each other (random tiny weights have such near-ties); after that the two
    continue from different text, so only the first difference is checked."""
    for prompt, tokens, reference in zip(prompts, got, expected):
        step = next((i for i, (a, b) in enumerate(zip(tokens, reference)) if a != b), None)
        if step is None:
            assert len(tokens) == len(reference), (prompt, tokens, reference)
            continue
        logits = np.asarray(model(np.array([prompt + reference[:step]], "int32"), training=False))[0, -1]
        gap = abs(float(logits[reference[step]]) - float(logits[tokens[step]]))
        assert gap <= tie, f"prompt {prompt}: bf16 chose {tokens[step]} at step {step}, float32 {reference[step]} " \
                           f"(float32 logits {gap:.3g} apart, more than bf16 rounding {tie})"


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_gpt_greedy_on_openvino_equals_zoo_generate(exported, precision):
    if precision == "bf16" and not HAS_BF16:
        pytest.skip("OpenVINO's CPU plugin lists no BF16 here")
    model, paths = exported["gpt"]
    openvino_runner = GptRunner(ov_session(paths["onnx_decoder"], precision))
    onnxruntime_runner = GptRunner(paths["onnx_decoder"])  # the path: onnxruntime, as before
    prompts = [[1, 2, 3, 4, 5], [7], [9, 10, 11]]
    for stop in (None, [3, 5]):
        expected = zoo.generation.generate(model, prompts, max_new_tokens=12, sampler="greedy", stop_token_ids=stop)
        got = openvino_runner.generate(prompts, 12, stop_token_ids=stop)
        if precision == "f32":
            assert got == expected
        else:
            _assert_greedy_differs_only_at_near_ties(model, prompts, got, expected, tie=2 * BF16_ATOL)
        assert onnxruntime_runner.generate(prompts, 12, stop_token_ids=stop) == expected
    # OpenVINO would read past the 32-row position table without an error; the runner refuses first.
    assert openvino_runner.max_sequence_length == 32
    with pytest.raises(ValueError, match="max_sequence_length 32"):
        openvino_runner.generate(prompts, 28)


def test_seq2seq_greedy_on_openvino_equals_zoo_generate(exported):
    model, paths = exported["seq2seq"]
    runner = Seq2SeqRunner(ov_session(paths["onnx_encoder"]), ov_session(paths["onnx_decoder"]))
    sources = [[1, 2, 3, 4, 5, 6], [7, 8], [9, 10, 11, 12]]
    expected = zoo.generation.generate(model, sources, max_new_tokens=10, sampler="greedy",
                                       start_token_id=1, stop_token_ids=[2])
    assert runner.generate(sources, 10, stop_token_ids=[2], start_token_id=1) == expected


def test_a_decoder_that_writes_its_past_in_place_is_refused_with_the_plain_one_named(tmp_path):
    """The fused decoder's GroupQueryAttention (onnxruntime's in-place past) is read by
    OpenVINO but fails at its first call; the session says so before, and names the way out."""
    model = tiny_model("gpt", hidden_dim=16, intermediate_dim=32, name="t_fused")  # heads of 8: in place
    paths = {key: artifact["path"] for key, artifact in
             export(model, tmp_path / "g", formats=["onnx"], optimize=True)["artifacts"].items()}
    with pytest.raises(ValueError, match=r"plain decoder \(<name>_decoder\)"):
        ov_session(paths["onnx_decoder_optimized"])
    prompts = [[1, 2, 3], [4]]
    assert GptRunner(ov_session(paths["onnx_decoder"])).generate(prompts, 6) == zoo.generation.generate(
        model, prompts, max_new_tokens=6, sampler="greedy")

