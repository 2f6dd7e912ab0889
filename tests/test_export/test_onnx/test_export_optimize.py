"""Fusion into ONNX Runtime's contrib ops (with parity proven after the
rewrite), int8 dynamic quantization with its accuracy delta, float16, and
external data."""

import json
import os

import numpy as np
import onnx
import pytest

import zoo
from harness import tiny_model
from export import export
from export.onnx.generate import GptRunner
from zoo import cpu

pytestmark = pytest.mark.slow  # minutes on 2 cores: the full run only (CI's 3.13 run takes -m 'not slow')


def randomized(family, **overrides):
    """A tiny model whose every weight is distinct (the presets' shared
    initializers give equal query/key/value kernels, which hides wiring bugs)."""
    model = tiny_model(family, **overrides)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.2, weight.shape).astype("float32"))
    return model


@pytest.mark.parametrize("family,gelu", [("bert", "BiasGelu"), ("gpt", "FastGelu")])
def test_fused_graph_matches_keras(family, gelu, tmp_path):
    model = randomized(family, name="m")
    out = tmp_path / family
    report = export(model, out, formats=["onnx"], optimize=True, quantize="int8", fp16=True, decoders=False)
    optimized = report["artifacts"]["onnx_optimized"]
    assert optimized["validation"]["passed"], str(report)
    assert all(r["max_abs_diff"] <= 1e-4 for r in optimized["validation"]["outputs"].values())
    final = optimized["fused_ops"]["final_graph"]
    layers = model.config.num_layers
    assert final["MultiHeadAttention"] == layers
    # every LayerNorm fused, and left apart from its residual Add (SkipLayerNormalization is slower on CPU)
    assert final["LayerNormalization"] == 2 * layers + 1 and "SkipLayerNormalization" not in final
    assert final[gelu] == layers
    ops = {n.op_type for n in onnx.load(optimized["path"]).graph.node}
    assert not {"Softmax", "Erf", "Tanh", "GlobalAveragePool"} & ops if family == "gpt" else "Softmax" not in ops

    int8 = report["artifacts"]["onnx_int8"]
    assert int8["validation"]["gate"] is False
    delta = int8["quantization"]["outputs"]
    # 7-bit weights keep every u8*s8 pair sum inside int16, so AVX2 (VPMADDUBSW) and VNNI kernels
    # compute the same integers: measured GPT 0.0063, BERT 0.0051 on both an AVX2-only (2026-11-29)
    # and an AVX-512/VNNI machine (2026-12-06), against 0.165 on AVX2-only for the full-range int8
    # weights used before (which passed on VNNI only). The limit leaves 8x headroom over both.
    assert all(0 < d["max_abs_diff"] < 0.05 and d["argmax_agreement"] >= 0.9 for d in delta.values())
    settings = int8["quantization"]
    assert settings["per_channel"] and settings["reduce_range"] and settings["exporting_cpu"]["kind"] == cpu.cpu_kind()
    assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for n in onnx.load(int8["path"]).graph.node)
    fp16 = onnx.load(report["artifacts"]["onnx_fp16"]["path"])
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in fp16.graph.initializer)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["artifacts"]["onnx_optimized"]["fused_ops"]["final_graph"] == final
    assert "argmax_agreement" in json.dumps(manifest["artifacts"]["onnx_int8"]["quantization"])


def test_lstm_has_nothing_to_fuse_but_quantizes(tmp_path):
    report = export(randomized("lstm_lm"), tmp_path / "lm", formats=["onnx"], optimize=True, quantize="int8")
    assert "onnx_optimized" not in report["artifacts"] and "no fusions apply" in report["notes"][0]
    assert report["artifacts"]["onnx_int8"]["quantization"]["outputs"]["logits"]["max_abs_diff"] > 0


def test_external_data_layout(tmp_path):
    report = export(randomized("gpt", name="big", hidden_dim=32, intermediate_dim=64), tmp_path / "big", formats=["onnx"], decoders=False,
                    external_data=True)
    artifact = report["artifacts"]["onnx"]
    assert artifact["external_data"] and artifact["validation"]["passed"]
    folder = os.path.dirname(artifact["path"])
    assert len(os.listdir(folder)) > 1  # model.onnx + tensor files beside it (tensors > 1 KB)
    model = onnx.load(artifact["path"], load_external_data=False)
    assert any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


def test_fusion_handles_two_dimensional_projections(tmp_path):
    """With the presets' equal initial kernels, tf2onnx merges the q/k/v
    projections and reshapes a 2-D (B*T, H) MatMul straight to heads; the
    rewrite restores (B, T, H) for MultiHeadAttention."""
    report = export(tiny_model("bert", name="same"), tmp_path / "b", formats=["onnx"], optimize=True)
    optimized = report["artifacts"]["onnx_optimized"]
    assert optimized["validation"]["passed"] and optimized["fused_ops"]["final_graph"]["MultiHeadAttention"] == 2


def test_int8_task_metrics_with_a_tokenizer(tmp_path, monkeypatch):
    """Classifier accuracy on rt-polarity test and LM perplexity on held-out
    Tiny Shakespeare, Keras vs the int8 artifact."""
    import export.task_metrics as task_metrics
    import text_models
    import zoo.tokenizers as tok
    from zoo.corpora import corpus_path
    from zoo.model_folder import TextModel

    monkeypatch.setattr(task_metrics.classifier_accuracy, "__defaults__", (32, 32, False))
    text = open(corpus_path("tinyshakespeare.txt"), encoding="utf-8").read()
    lm = TextModel(tiny_model("gpt", vocabulary_size=65, max_sequence_length=80, name="char"),
                   tok.character_tokenizer(tok.character_vocabulary(text)))
    for key, model in (("lm", lm), ("clf", text_models.bert_text_model("classifier"))):
        report = export(model, tmp_path / key, formats=["onnx"], quantize="int8", decoders=False)
        task = report["artifacts"]["onnx_int8"]["quantization"]["task"]
        assert task["examples"] > 0 and abs(task["delta"]) < 0.5 and "error" not in task, task
        assert ("perplexity" in task["task"]) == (key == "lm")


def test_gpt_past_state_decoder_is_fused_and_decodes_the_same_tokens(tmp_path):
    """The decoder's attention appends to each layer's past and is masked by the
    graph's own mask; fused into GroupQueryAttention with that mask as an additive
    bias and the past as its own past_key/past_value (it writes the presents), the
    ONNX Runtime greedy loop still matches Keras - with the past growing by copies,
    and with one buffer per past written in place (I/O binding), as the graph declares."""
    model = randomized("gpt", name="g", hidden_dim=16, intermediate_dim=32)  # heads of 8: the kernel's minimum
    report = export(model, tmp_path / "g", formats=["onnx"], optimize=True)
    fused = report["artifacts"]["onnx_decoder_optimized"]
    assert fused["fused_ops"]["zoo_rewrites"]["GroupQueryAttention (past in place)"] == 2
    assert fused["fused_ops"]["final_graph"]["GroupQueryAttention"] == 2
    assert "MultiHeadAttention" not in fused["fused_ops"]["final_graph"]
    assert fused["validation"]["passed"] and fused["validation"]["greedy_tokens_identical"]
    assert fused["validation"]["outputs"]["logits"]["max_abs_diff"] <= 1e-4
    graph = onnx.load(fused["path"])
    assert {p.key: p.value for p in graph.metadata_props}["past_in_place"] == "1"
    attention = [n for n in graph.graph.node if n.op_type == "GroupQueryAttention"]
    assert all(len(n.input) == 11 and n.input[10] for n in attention)  # the mask as attention_bias
    for layer, node in enumerate(attention):
        assert list(node.input[3:5]) == [f"past_key_values.{layer}.key", f"past_key_values.{layer}.value"]
        assert list(node.output[1:]) == [f"present.{layer}.key", f"present.{layer}.value"]
    assert not [n for n in graph.graph.node if n.op_type == "Concat" and "present" in n.output[0]]
    prompts = [[5, 9, 2, 7, 1, 3, 8], [4, 6], [11, 3, 5]]  # unequal: left padding masked
    expected = zoo.generate(model, prompts, max_new_tokens=9)
    in_place, growing = GptRunner(fused["path"]), GptRunner(fused["path"], in_place=False)
    assert in_place.in_place and not growing.in_place
    assert in_place.generate(prompts, 9) == growing.generate(prompts, 9) == expected
    plain = report["artifacts"]["onnx_decoder"]["path"]
    assert not GptRunner(plain).in_place  # the plain graph appends: nothing to bind
    with pytest.raises(ValueError, match="past_in_place"):
        GptRunner(plain, in_place=True)


def test_heads_too_small_for_the_in_place_kernel_keep_multi_head_attention(tmp_path):
    """ONNX Runtime's GroupQueryAttention takes heads of 8, 16, ... values; with heads of 4
    the decoder keeps MultiHeadAttention (which appends), declares nothing, and still matches."""
    model = randomized("gpt", name="g")
    fused = export(model, tmp_path / "g", formats=["onnx"], optimize=True)["artifacts"]["onnx_decoder_optimized"]
    assert fused["fused_ops"]["final_graph"]["MultiHeadAttention"] == 2
    assert fused["fused_ops"]["zoo_rewrites"]["GroupQueryAttention (past in place)"] == 0
    assert fused["validation"]["greedy_tokens_identical"]
    runner = GptRunner(fused["path"])
    assert not runner.in_place
    assert runner.generate([[5, 9, 2], [4]], 5) == zoo.generate(model, [[5, 9, 2], [4]], max_new_tokens=5)
