"""The declared contract of the ONNX artifacts (``export.onnx.contract``): in
manifest.json for every artifact, equal to what each graph really has, and
the README's decoder tables generated from it."""

import json
import os
import pathlib

import onnx
import pytest

from export import layout_gate
from export.onnx import contract as onnx_contract
from export.model_info import describe
from serving_exports import exported
from harness import REPO_ROOT

README = pathlib.Path(REPO_ROOT) / "README.md"
ARTIFACTS = {
    "gpt": {"onnx", "onnx_decoder", "onnx_optimized", "onnx_decoder_optimized", "onnx_int8", "onnx_decoder_int8",
            "onnx_fp16"},
    "seq2seq": {"onnx", "onnx_encoder", "onnx_decoder"},
}


def _graph_dims(value):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value.type.tensor_type.shape.dim]


@pytest.mark.parametrize("family", ["gpt", "seq2seq"])
def test_manifest_declares_every_tensor_and_the_graphs_agree(family):
    model, _, folder = exported(family)
    manifest = json.loads(pathlib.Path(folder, "manifest.json").read_text())
    assert set(manifest["artifacts"]) == ARTIFACTS[family]
    info = describe(model)
    for key, artifact in manifest["artifacts"].items():
        declared = artifact["signatures"]["model"]
        graph = onnx.load(os.path.join(folder, artifact["path"]), load_external_data=False).graph
        for side, values in (("inputs", graph.input), ("outputs", graph.output)):
            assert list(declared[side]) == [v.name for v in values], (key, side)
            for value in values:
                spec = declared[side][value.name]
                dims = _graph_dims(value)
                assert spec["shape"] == dims, (key, value.name)
                assert len(spec["axes"]) == len(dims) and all(isinstance(a, str) and a for a in spec["axes"])
                # a dynamic axis is named in the graph exactly as declared
                assert all(a == d for a, d in zip(spec["axes"], dims) if isinstance(d, str)), (key, value.name)
                assert spec["dtype"] == onnx.helper.tensor_dtype_to_np_dtype(
                    value.type.tensor_type.elem_type).name
                assert spec["meaning"].endswith(".") and len(spec["meaning"].split()) >= 5
        contract = onnx_contract.for_artifact(info, key)
        assert contract.mismatches(onnx_contract.graph_signature(
            onnx.load(os.path.join(folder, artifact["path"]), load_external_data=False))) == [], key
        assert artifact["validation"]["layout"]["passed"], key
    decoder = manifest["artifacts"]["onnx_decoder"]["signatures"]["model"]
    assert decoder["usage"] and all(line.endswith(".") for line in decoder["usage"])


def test_gpt_decoder_declares_pasts_and_positions():
    _, report, _ = exported("gpt")
    inputs = report["artifacts"]["onnx_decoder"]["signatures"]["model"]["inputs"]
    pasts = [f"past_key_values.{layer}.{kind}" for layer in range(2) for kind in ("key", "value")]
    assert list(inputs) == ["token_ids", *pasts, "key_padding_mask", "first_position_id", "logits_positions"]
    assert inputs["logits_positions"]["axes"] == ["batch", "scored_tokens"]
    assert all(inputs[name]["axes"] == ["batch", "heads", "past_sequence", "head_dim"] for name in pasts)
    assert inputs["key_padding_mask"]["axes"] == ["batch", "total_sequence"]
    assert inputs["first_position_id"]["axes"] == ["batch"]
    outputs = report["artifacts"]["onnx_decoder"]["signatures"]["model"]["outputs"]
    assert list(outputs) == ["logits", *(name.replace("past_key_values.", "present.") for name in pasts)]
    assert "left-padded" in " ".join(report["artifacts"]["onnx_decoder"]["signatures"]["model"]["usage"])


def test_gate_names_the_file_and_tensor_when_graph_and_declaration_differ(monkeypatch):
    model, report, folder = exported("gpt")
    info = describe(model)
    path = report["artifacts"]["onnx_decoder"]["path"]
    signature = onnx_contract.graph_signature(onnx.load(path, load_external_data=False))
    declared = onnx_contract.gpt_decoder(model.config)
    renamed = onnx_contract.Tensor("position_offset", "int32", onnx_contract._axes("batch"), "Old name.")
    inputs = tuple(renamed if t.name == "first_position_id" else t for t in declared.inputs)
    wrong = onnx_contract.Contract(inputs, declared.outputs, declared.usage)
    monkeypatch.setattr(onnx_contract, "for_artifact", lambda info, key: wrong)
    _, problems = layout_gate.check(info, "onnx_decoder", path, signature, folder)
    assert "onnx/tiny_gpt_decoder/1/model.onnx: declared input 'position_offset' is not in the graph" in problems
    assert "onnx/tiny_gpt_decoder/1/model.onnx: graph input 'first_position_id' is not declared" in problems


def test_readme_tables_are_the_declaration():
    readme = README.read_text(encoding="utf-8")
    gpt = {"num_layers": 12, "num_heads": 12, "hidden_dim": 768, "vocabulary_size": 50257}
    seq2seq = {"num_layers": 2, "hidden_dim": 256, "target_vocabulary_size": 8000}
    for contract in (onnx_contract.gpt_decoder(gpt), onnx_contract.seq2seq_encoder(seq2seq),
                     onnx_contract.seq2seq_decoder(seq2seq)):
        assert onnx_contract.markdown_table(contract) in readme
        for line in contract.usage:
            assert f"- {line}" in readme
