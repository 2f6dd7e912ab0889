"""The LSTM families export to ONNX ``LSTM`` ops (not ``Loop``s), and those
agree with Keras at every position of right-padded batches
(``export.onnx.lstm``); the masked ``Loop`` path stays available."""

import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from harness import tiny_model
from export import export
from export.onnx import conversion as onnx_export
from export.onnx import lstm as onnx_lstm
from export.model_info import describe
from zoo.layers import LstmStack
from zoo.layers.lstm_stack import trace_without_mask, tracing_without_mask

pytestmark = pytest.mark.slow  # minutes on 2 cores: the full run only (CI's 3.13 run takes -m 'not slow')

ATOL = 1e-4
# (batch, length, per-row lengths): two sizes, padded rows, a full row, a length-1 row
RIGHT_PADDED = ((3, 7, [7, 4, 1]), (5, 12, [12, 9, 3, 12, 6]))


def randomized(family, **overrides):
    """Distinct random weights: the initial ones repeat across layers and
    directions, which would hide a swapped direction or layer."""
    model = tiny_model(family, **overrides)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))
    return model


def right_padded(batch, length, lengths, vocabulary, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocabulary, (batch, length)).astype("int32")
    mask = (np.arange(length)[None, :] < np.asarray(lengths)[:, None]).astype("int32")
    return ids * mask, mask


def op_types(path_or_model):
    model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    return [node.op_type for node in model.graph.node]


def session(path_or_model):
    model = path_or_model if isinstance(path_or_model, str) else path_or_model.SerializeToString()
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def lstm_lm_batches():
    for i, (batch, length, lengths) in enumerate(RIGHT_PADDED):
        ids, mask = right_padded(batch, length, lengths, 19, seed=i)
        yield {"token_ids": ids, "padding_mask": mask}


def seq2seq_batches():
    for i, (batch, length, lengths) in enumerate(RIGHT_PADDED):
        source, source_mask = right_padded(batch, length, lengths, 17, seed=i)
        target_lengths = [max(1, n - 2) for n in lengths][::-1]
        target, target_mask = right_padded(batch, length - 2, target_lengths, 13, seed=10 + i)
        yield {"source_ids": source, "source_padding_mask": source_mask,
               "target_ids": target, "target_padding_mask": target_mask}


def test_lstm_lm_exports_lstm_kernels_that_match_keras(tmp_path):
    model = randomized("lstm_lm", name="lm")
    report = export(model, tmp_path / "lm", formats=["onnx"])
    assert report["passed"], str(report)
    path = report["artifacts"]["onnx"]["path"]
    ops = op_types(path)
    assert ops.count("LSTM") == model.config.num_layers and "Loop" not in ops and "Scan" not in ops

    run = session(path)
    for inputs in lstm_lm_batches():
        expected = np.asarray(model(inputs, training=False))
        got = run.run(["logits"], inputs)[0]
        assert got.shape == expected.shape
        assert np.max(np.abs(got - expected)) <= ATOL


def test_seq2seq_exports_lstm_kernels_that_match_keras(tmp_path):
    model = randomized("seq2seq", name="mt")
    report = export(model, tmp_path / "mt", formats=["onnx"])
    assert report["passed"], str(report)
    artifacts = report["artifacts"]
    layers = model.config.num_layers

    forward = onnx.load(artifacts["onnx"]["path"])
    ops = op_types(forward)
    assert ops.count("LSTM") == 2 * layers and "Loop" not in ops  # encoder + decoder layers
    directions = sorted(onnx.helper.get_attribute_value(a).decode()
                        for n in forward.graph.node if n.op_type == "LSTM"
                        for a in n.attribute if a.name == "direction")
    assert directions == ["bidirectional"] * layers + ["forward"] * layers
    run = session(artifacts["onnx"]["path"])
    for inputs in seq2seq_batches():
        expected = np.asarray(model(inputs, training=False))
        assert np.max(np.abs(run.run(["logits"], inputs)[0] - expected)) <= ATOL

    # the decoders' encoder graph: bidirectional LSTM kernels, outputs and final states as Keras
    encoder_path = artifacts["onnx_encoder"]["path"]
    ops = op_types(encoder_path)
    assert ops.count("LSTM") == layers and "Loop" not in ops
    encoder = session(encoder_path)
    for inputs in seq2seq_batches():
        source = {k: inputs[k] for k in ("source_ids", "source_padding_mask")}
        outputs, states = model.encode(source["source_ids"], source["source_padding_mask"], training=False)
        got_outputs, got_states = encoder.run(["encoder_outputs", "states"], source)
        assert np.max(np.abs(got_outputs - np.asarray(outputs))) <= ATOL
        for i, (h, c) in enumerate(states):
            assert np.max(np.abs(got_states[:, i, 0] - np.asarray(h))) <= ATOL
            assert np.max(np.abs(got_states[:, i, 1] - np.asarray(c))) <= ATOL
    assert artifacts["onnx_decoder"]["validation"]["greedy_tokens_identical"]


def test_masked_loop_path_stays_available():
    """``lstm_kernels=False`` (what benchmarks/onnx_lstm_kernels.py compares against)."""
    model = randomized("lstm_lm")
    graph, _ = onnx_export.convert_model(describe(model), lstm_kernels=False)
    ops = op_types(graph)
    assert "Loop" in ops and "LSTM" not in ops
    inputs = next(lstm_lm_batches())
    got = session(graph).run(["logits"], inputs)[0]
    assert np.max(np.abs(got - np.asarray(model(inputs)))) <= ATOL


def test_falls_back_to_the_masked_loop_when_a_mask_cannot_be_matched(monkeypatch):
    model = randomized("lstm_lm")
    monkeypatch.setattr(onnx_lstm, "masks_of_ids", lambda model, names: {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph, _ = onnx_export.convert_model(describe(model))
    assert any("ONNX LSTM kernels not used" in str(w.message) for w in caught)
    assert "Loop" in op_types(graph)


def test_lstm_stack_outputs_zeros_at_masked_steps_and_keeps_the_last_state():
    x = np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], "int32")
    for bidirectional in (False, True):
        stack = LstmStack(6, num_layers=2, bidirectional=bidirectional)
        outputs, states = stack(x, padding_mask=mask)
        truncated, truncated_states = stack(x[1:, :3], padding_mask=mask[1:, :3])
        outputs = np.asarray(outputs)
        assert np.all(outputs[1, 3:] == 0)
        np.testing.assert_allclose(outputs[1, :3], np.asarray(truncated)[0], atol=1e-6)
        for (h, c), (h_short, c_short) in zip(states, truncated_states):
            np.testing.assert_allclose(np.asarray(h)[1], np.asarray(h_short)[0], atol=1e-6)
            np.testing.assert_allclose(np.asarray(c)[1], np.asarray(c_short)[0], atol=1e-6)
        with trace_without_mask():
            assert tracing_without_mask()
            unmasked, _ = stack(x, padding_mask=mask)
        assert not tracing_without_mask()
        assert np.any(np.asarray(unmasked)[1, 3:] != 0)


@pytest.mark.parametrize("opset", [12, 17])
def test_sequence_lens_come_from_the_mask_of_the_lstm_input(opset):
    """Each LSTM node reads the row sums of the mask of the ids it was embedded
    from: the decoder's layers the target mask, though their states come from
    the encoder."""
    model = tiny_model("seq2seq")
    graph, _ = onnx_export.convert_model(describe(model), opset=opset)
    producers = {o: n for n in graph.graph.node for o in n.output}
    masks = []
    for node in graph.graph.node:
        if node.op_type == "LSTM":
            reduce_sum = producers[node.input[onnx_lstm.SEQUENCE_LENS_INPUT]]
            assert reduce_sum.op_type == "ReduceSum"
            masks.append(reduce_sum.input[0])
    assert sorted(masks) == ["source_padding_mask"] * 2 + ["target_padding_mask"] * 2
