"""Quantized decoders: ``export(quantize="int8,int4")`` writes int8 and 4-bit
(``MatMulNBits``) forward graphs and past-state decoders, each runnable by an
onnxruntime-only client, and gates them on what they cost on real text."""

import os

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import zoo.tokenizers as tok
from export import export, quality_gate
from export.errors import ExportError, ValidationError
from export.model_info import describe
from export.onnx.generate import GptRunner, Seq2SeqRunner
from export.onnx.quantize import int4_block_size
from harness import tiny_model
from zoo.corpora import corpus_path
from zoo.data import multi30k_pairs
from zoo.model_folder import TextModel


def _ops(path):
    return {n.op_type for n in onnx.load(path).graph.node}


def _attribute(node, name):
    return next(helper.get_attribute_value(a) for a in node.attribute if a.name == name)


def _shakespeare_gpt():
    """A tiny GPT over Tiny Shakespeare's characters: scorable on the held-out text."""
    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        characters = sorted(set(file.read()))
    model = tiny_model("gpt", vocabulary_size=len(characters), hidden_dim=32, intermediate_dim=64,
                       max_sequence_length=96, name="chars")
    return TextModel(model, tok.character_tokenizer(characters))


def _multi30k_seq2seq():
    """A tiny seq2seq over Multi30k test characters, with start / stop tokens."""
    german, english = multi30k_pairs("test")
    source = sorted(set("".join(german).lower()) | set("".join(german)))
    target = ["^", "$"] + sorted(set("".join(english).lower()))
    model = tiny_model("seq2seq", source_vocabulary_size=len(source), target_vocabulary_size=len(target),
                       max_sequence_length=24, name="mt")
    return TextModel(model, tok.character_tokenizer(source), tok.character_tokenizer(target),
                     generation={"start_token_id": 0, "stop_token_ids": [1]})


def test_gpt_int8_and_int4_decoders_run_in_onnxruntime(tmp_path):
    model = tiny_model("gpt", max_sequence_length=32, name="lm", hidden_dim=16, intermediate_dim=32)  # heads of 8
    report = export(model, tmp_path / "lm", formats=["onnx"], optimize=True, quantize="int8,int4")
    artifacts = report["artifacts"]
    for key in ("onnx_int8", "onnx_int4", "onnx_decoder_int8", "onnx_decoder_int4"):
        assert key in artifacts, key
        assert artifacts[key]["validation"]["layout"]["passed"], key  # same contract as the float graph
        assert not artifacts[key]["validation"]["gate"]  # no text: recorded, not gated
        assert os.path.isfile(os.path.join(tmp_path, "lm", "onnx", f"lm{key[4:]}", "config.pbtxt"))
    assert "MatMulNBits" in _ops(artifacts["onnx_int4"]["path"])
    assert "MatMulNBits" in _ops(artifacts["onnx_decoder_int4"]["path"])
    assert "MatMulInteger" in _ops(artifacts["onnx_decoder_int8"]["path"])
    # Weights of 16 and 32 inputs: no block from 256 down divides both, so the smallest.
    block_size = artifacts["onnx_decoder_int4"]["quantization"]["block_size"]
    assert block_size == 32 and "blocks of 32" in artifacts["onnx_decoder_int4"]["quantization"]["weights"]
    kernels = [n for n in onnx.load(artifacts["onnx_decoder_int4"]["path"]).graph.node if n.op_type == "MatMulNBits"]
    assert kernels and all(_attribute(n, "block_size") == block_size for n in kernels)
    quality = artifacts["onnx_decoder_int4"]["quantization"]["task"]
    assert quality == {"measured": False, "note": "no tokenizer: the model has no text to be scored on"}
    # The int4 decoder is made from the fused one and decodes with the plain runner.
    assert artifacts["onnx_decoder_int4"]["quantization"]["source"].endswith("lm_decoder_optimized/1/model.onnx")
    tokens = GptRunner(artifacts["onnx_decoder_int4"]["path"]).generate([[1, 2, 3], [4]], 6)
    assert [len(row) for row in tokens] == [6, 6]
    for key in ("onnx_decoder", "onnx_decoder_optimized", "onnx_decoder_int8", "onnx_decoder_int4"):
        # Fusion and both quantizers keep the declared context (every runner enforces it) and
        # the fused attention's in-place past (every runner but the plain graph's binds it).
        runner = GptRunner(artifacts[key]["path"])
        assert runner.max_sequence_length == 32 and runner.in_place == (key != "onnx_decoder"), key
    # Its logits stay near the float model's (tiny random model, measured ~0.01-0.1).
    assert artifacts["onnx_decoder_int4"]["validation"]["outputs"]["logits"]["max_abs_diff"] < 0.5


@pytest.mark.parametrize("input_sizes, block_size", [
    ((768, 3072), 256),  # gpt2
    ((256, 1024), 256),  # gpt-mini
    ((384, 1536), 128),  # MiniLM
    ((128, 512), 128),  # gpt-nano
    ((16, 32), 32),  # nothing divides: the smallest block, padded
])
def test_int4_block_is_the_largest_that_divides_every_weight(input_sizes, block_size):
    weights = [numpy_helper.from_array(np.zeros((k, 4), np.float32), f"w{k}") for k in input_sizes]
    nodes = [helper.make_node("MatMul", [f"x{k}", f"w{k}"], [f"y{k}"]) for k in input_sizes]
    nodes.append(helper.make_node("MatMul", ["a", "b"], ["c"]))  # no constant weight: not quantized, not counted
    graph = helper.make_graph(nodes, "g", [], [], weights)
    assert int4_block_size(helper.make_model(graph)) == block_size


def test_gpt_quantized_decoder_is_scored_on_held_out_text(tmp_path):
    text_model = _shakespeare_gpt()
    report = export(text_model, tmp_path / "chars", formats=["onnx"], optimize=True, quantize="int4")
    quality = report["artifacts"]["onnx_decoder_int4"]["quantization"]["task"]
    assert quality["measured"] and quality["examples"] == 16 * 64
    assert quality["keras"] > 1 and quality["artifact"] > 1
    assert quality["change"] == pytest.approx(quality["artifact"] / quality["keras"] - 1)
    assert quality["passed"] == (quality["change"] <= 0.02)
    agreement = quality["greedy_agreement"]
    assert agreement["rows"] == 8 and 0 <= agreement["agreement"] <= 1
    next_token = quality["next_token_agreement"]
    assert next_token["positions"] == 16 * 64 and 0 <= next_token["agreement"] <= 1
    assert next_token["mean_kl_nats"] > -1e-6
    # Scored the same way, the float decoder agrees with Keras at every position.
    float_decoder = {"decoder": report["artifacts"]["onnx_decoder"]["path"]}
    same = quality_gate.decoder_quality(describe(text_model), float_decoder, float_decoder)
    assert same["next_token_agreement"]["agreement"] == 1.0 and abs(same["next_token_agreement"]["mean_kl_nats"]) < 1e-6
    assert same["greedy_agreement"]["agreement"] == 1.0 and same["change"] == pytest.approx(0, abs=1e-5)
    forward = report["artifacts"]["onnx_int4"]["quantization"]["task"]
    assert forward["limit"] == {"perplexity_increase": 0.02} and "passed" in forward


def test_seq2seq_quantized_decoder_is_scored_by_bleu(tmp_path):
    text_model = _multi30k_seq2seq()
    info = describe(text_model)
    report = export(text_model, tmp_path / "mt", formats=["onnx"], quantize="int8")
    artifacts = report["artifacts"]
    quality = artifacts["onnx_decoder_int8"]["quantization"]["task"]
    assert quality["measured"] and quality["examples"] == 100
    assert quality["passed"] == (-quality["change"] <= 0.5)
    assert 0 <= quality["greedy_agreement"]["agreement"] <= 1
    runner = Seq2SeqRunner(artifacts["onnx_encoder"]["path"], artifacts["onnx_decoder_int8"]["path"])
    assert len(runner.generate([[3, 4, 5]], 5, start_token_id=0)[0]) <= 5
    assert info.family == "seq2seq"


def test_text_the_tokenizer_cannot_read_is_recorded_not_fatal(tmp_path):
    import text_models

    text_model = text_models.gpt_text_model("character")  # letters a-t: Shakespeare has more
    report = export(text_model, tmp_path / "letters", formats=["onnx"], quantize="int4")
    quality = report["artifacts"]["onnx_decoder_int4"]["quantization"]["task"]
    assert quality["measured"] is False and "could not be scored" in quality["note"] and quality["error"]
    assert not report["artifacts"]["onnx_decoder_int4"]["validation"]["gate"]


def test_a_failed_quality_gate_writes_nothing_and_names_the_limit(tmp_path, monkeypatch):
    def over_the_limit(info, reference, quantized, limits=None, whole_split=False):
        return {"measured": True, "keras": 6.0, "artifact": 6.6, "change": 0.1,
                "limit": {"perplexity_increase": limits["perplexity_increase"]}, "passed": False}

    monkeypatch.setattr(quality_gate, "decoder_quality", over_the_limit)
    target = tmp_path / "gated"
    with pytest.raises(ValidationError) as error:
        export(tiny_model("gpt", max_sequence_length=32, name="lm"), target, formats=["onnx"], quantize="int4")
    message = str(error.value)
    assert "onnx_decoder_int4" in message and "10.00%" in message and "2.00% limit" in message
    assert "--max-perplexity-increase" in message
    assert not target.exists() and os.listdir(tmp_path) == []


def test_bad_quantize_arguments_are_refused_before_any_work(tmp_path):
    model = tiny_model("gpt", name="lm")
    with pytest.raises(ExportError, match="valid: int8, int4"):
        export(model, tmp_path / "x", formats=["onnx"], quantize="int3")
    with pytest.raises(ExportError, match="applies to ONNX"):
        export(model, tmp_path / "x", formats=["savedmodel"], quantize="int4")
    with pytest.raises(ExportError, match="perplexity_increase limit must be a number >= 0"):
        export(model, tmp_path / "x", formats=["onnx"], quantize="int4",
               quality_limits={"perplexity_increase": -1})
    assert not (tmp_path / "x").exists()
