"""ONNX decoders with past state: an onnxruntime greedy loop over them is
token-identical to Keras greedy decoding (``zoo.generate``)."""

from types import SimpleNamespace

import numpy as np
import pytest

import zoo.generation
from harness import tiny_model
from export import export
from export.onnx.generate import GptRunner, Seq2SeqRunner


def test_gpt_decoder_with_past_matches_keras_greedy(tmp_path):
    model = tiny_model("gpt", max_sequence_length=32, name="lm")
    report = export(model, tmp_path / "lm", formats=["onnx"])
    decoder = report["artifacts"]["onnx_decoder"]
    assert decoder["validation"]["passed"] and decoder["validation"]["greedy_tokens_identical"]
    inputs = decoder["signatures"]["model"]["inputs"]
    for layer in range(2):
        assert inputs[f"past_key_values.{layer}.key"]["shape"] == ["batch", 2, "past_sequence", 4]
        assert inputs[f"past_key_values.{layer}.value"]["shape"] == ["batch", 2, "past_sequence", 4]
    outputs = decoder["signatures"]["model"]["outputs"]
    assert outputs["present.1.value"]["shape"] == ["batch", 2, "total_sequence", 4]
    config = (tmp_path / "lm" / "onnx" / "lm_decoder" / "config.pbtxt").read_text()
    assert 'name: "past_key_values.0.key"' in config and "dynamic_batching" in config  # batch-first: Triton batches

    runner = GptRunner(decoder["path"])
    prompts = [[1, 2, 3, 4, 5], [7], [9, 10, 11]]
    for stop in (None, [3, 5]):
        expected = zoo.generation.generate(model, prompts, max_new_tokens=20, sampler="greedy", stop_token_ids=stop)
        assert runner.generate(prompts, 20, stop_token_ids=stop) == expected

    windows = np.array([[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8]], np.int32)  # every token scored: the forward pass
    assert np.abs(runner.window_logits(windows) - np.asarray(model(windows))).max() < 1e-4

    assert runner.max_sequence_length == 32  # declared in the graph's metadata
    runner.generate(prompts, 27)  # 5 + 27 = 32 positions: the whole table
    with pytest.raises(ValueError, match="needs 33 positions.*max_sequence_length 32"):
        runner.generate(prompts, 28)


def test_gpt_runner_refuses_a_decoder_with_the_old_fixed_size_cache():
    class OldDecoder:  # the inputs of a GPT decoder exported before the past per layer
        def get_inputs(self):
            return [SimpleNamespace(name=n, shape=s) for n, s in (
                ("token_ids", ["batch", "new_tokens"]), ("past_key_values", ["batch", 2, 2, "cache_sequence", 2, 4]),
                ("cache_index", []), ("key_padding_mask", ["batch", "cache_sequence"]),
                ("first_position_id", ["batch"]))]

    with pytest.raises(ValueError, match="older fixed-size cache.*Export the model again"):
        GptRunner(OldDecoder())


def test_seq2seq_decoder_with_states_matches_keras_greedy(tmp_path):
    model = tiny_model("seq2seq", name="mt")
    report = export(model, tmp_path / "mt", formats=["onnx"])
    artifacts = report["artifacts"]
    assert artifacts["onnx_decoder"]["validation"]["greedy_tokens_identical"]
    decoder_inputs = artifacts["onnx_decoder"]["signatures"]["model"]["inputs"]
    assert set(decoder_inputs) == {"target_ids", "past_states", "encoder_outputs", "source_padding_mask"}

    runner = Seq2SeqRunner(artifacts["onnx_encoder"]["path"], artifacts["onnx_decoder"]["path"])
    sources = [[1, 2, 3, 4, 5, 6], [7, 8], [9, 10, 11, 12]]
    expected = zoo.generation.generate(model, sources, max_new_tokens=12, sampler="greedy",
                                       start_token_id=1, stop_token_ids=[2])
    assert runner.generate(sources, 12, stop_token_ids=[2], start_token_id=1) == expected


@pytest.mark.parametrize("family", ["bert", "lstm_lm"])
def test_no_decoder_for_other_families(family, tmp_path):
    report = export(tiny_model(family), tmp_path / "x", formats=["onnx"])
    assert set(report["artifacts"]) == {"onnx"}
