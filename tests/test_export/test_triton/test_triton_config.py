"""Triton model-repository entries checked by Triton's own schema: every
config.pbtxt parses strictly into tritonclient's ``ModelConfig`` and agrees
with its ONNX graph; a hand-edited config fails ``check_entry`` (and the
export gate) with the file and what is wrong."""

import pathlib
import shutil

import onnx
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from export import layout_gate
from export.triton import config_check as triton_check
from export.model_info import describe
from export.onnx.contract import graph_signature
from serving_exports import exported

TYPES = {"float32": model_config_pb2.TYPE_FP32, "int32": model_config_pb2.TYPE_INT32}
UNBATCHED = set()  # every artifact's tensors are batch-first (the GPT decoder's pasts too)


def _entries(folder):
    return sorted(p for p in pathlib.Path(folder, "onnx").iterdir() if p.is_dir())


def _expected_dims(shape, batched):
    dims = [d if isinstance(d, int) else -1 for d in (shape[1:] if batched else shape)]
    return (dims, None) if dims else ([1], [])


@pytest.mark.parametrize("family", ["gpt", "seq2seq"])
def test_configs_parse_strictly_and_agree_with_their_graphs(family):
    _, _, folder = exported(family)
    for entry in _entries(folder):
        config = text_format.Parse((entry / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
        graph = graph_signature(onnx.load(str(entry / "1" / "model.onnx"), load_external_data=False))
        assert config.name == entry.name and config.platform == "onnxruntime_onnx"
        batched = entry.name not in UNBATCHED
        assert config.max_batch_size == (8 if batched else 0), entry.name
        assert config.HasField("dynamic_batching") == batched, entry.name
        for declared, tensors in ((config.input, graph["inputs"]), (config.output, graph["outputs"])):
            assert [t.name for t in declared] == list(tensors), entry.name
            for tensor in declared:
                spec = tensors[tensor.name]
                assert tensor.data_type == TYPES[spec["dtype"]]
                if batched:
                    assert spec["shape"][0] == "batch"
                dims, reshape = _expected_dims(spec["shape"], batched)
                assert list(tensor.dims) == dims, (entry.name, tensor.name)
                assert tensor.HasField("reshape") == (reshape is not None), (entry.name, tensor.name)
                if reshape is not None:
                    assert list(tensor.reshape.shape) == reshape
        assert triton_check.check_entry(entry) == [], entry.name
    assert triton_check.main([folder]) == 0


def test_the_text_reader_reads_what_tritonclient_reads(monkeypatch):
    readings = {}
    for family in ("gpt", "seq2seq"):
        for entry in _entries(exported(family)[2]):
            readings[entry] = triton_check.read_config(entry / "config.pbtxt")
    monkeypatch.setattr(triton_check, "triton_model_config", lambda: None)
    for entry, reading in readings.items():
        assert triton_check.read_config(entry / "config.pbtxt") == reading, entry.name


@pytest.fixture
def edited_decoder(tmp_path):
    """A copy of the GPT decoder's entry whose config names an input its graph lacks."""
    _, _, folder = exported("gpt")
    entry = tmp_path / "onnx" / "tiny_gpt_decoder"
    shutil.copytree(pathlib.Path(folder, "onnx", "tiny_gpt_decoder"), entry)
    config = entry / "config.pbtxt"
    config.write_text(config.read_text().replace('"first_position_id"', '"position_offset"'))
    return entry


@pytest.mark.parametrize("reader", ["tritonclient", "text"])
def test_a_hand_edited_config_fails_the_check(edited_decoder, reader, monkeypatch):
    if reader == "text":
        monkeypatch.setattr(triton_check, "triton_model_config", lambda: None)
    problems = triton_check.check_entry(edited_decoder)
    config = str(edited_decoder / "config.pbtxt")
    assert any(p.startswith(config) and "input 'position_offset' is not an input of the graph" in p
               for p in problems), problems
    assert any("the graph's input 'first_position_id' is missing" in p for p in problems), problems
    assert triton_check.main([str(edited_decoder.parent)]) == 1


def test_strict_parsing_rejects_an_unknown_field(edited_decoder):
    config = edited_decoder / "config.pbtxt"
    config.write_text(config.read_text().replace("max_batch_size:", "max_batch_sizes:"))
    (problem,) = triton_check.check_entry(edited_decoder)
    assert problem.startswith(f"{config}: not a valid Triton ModelConfig") and "max_batch_sizes" in problem


def test_the_export_gate_fails_an_entry_whose_config_disagrees(edited_decoder):
    model, _, _ = exported("gpt")
    path = edited_decoder / "1" / "model.onnx"
    signatures = {"model": graph_signature(onnx.load(str(path), load_external_data=False))}
    _, validation = layout_gate.gate(describe(model), "onnx_decoder", str(path), signatures,
                                     {"passed": True, "atol": 1e-4, "outputs": {}}, str(edited_decoder.parents[1]))
    assert not validation["passed"] and validation["gate"]
    assert "onnx/tiny_gpt_decoder/config.pbtxt: input 'position_offset'" in validation["error"]


def test_a_graph_with_a_scalar_input_is_served_unbatched():
    """A tensor without a leading batch axis (here a scalar) keeps max_batch_size 0 with
    every dim declared, the scalar as dims [1] reshaped to [] (Triton wants rank >= 1)."""
    from onnx import TensorProto, helper

    from export.triton.repository import config_text

    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "offset"], ["y"])], "scalar",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("offset", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    config = text_format.Parse(config_text("scalar", helper.make_model(graph)), model_config_pb2.ModelConfig())
    assert config.max_batch_size == 0 and not config.HasField("dynamic_batching")
    offset = next(t for t in config.input if t.name == "offset")
    assert list(offset.dims) == [1] and list(offset.reshape.shape) == []
    assert [list(t.dims) for t in config.input if t.name == "x"] == [[-1, 3]]
