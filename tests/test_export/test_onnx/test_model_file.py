"""``export.onnx.model_file.write_model``: the piecewise single-file writer
reads back as the same model ``onnx.save_model`` writes, and runs the same."""

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from export.onnx.model_file import write_model


def _model():
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((8, 8)).astype("float32"), f"w{i}") for i in range(3)]
    nodes = [helper.make_node("MatMul", ["x" if i == 0 else f"h{i}", f"w{i}"], [f"h{i + 1}"]) for i in range(3)]
    nodes.append(helper.make_node("Identity", ["h3"], ["y"]))
    graph = helper.make_graph(
        nodes, "three_matmuls",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", 8])],
        initializer=weights, doc_string="written piece by piece")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="zoo-test")
    helper.set_model_props(model, {"zoo.family": "test"})
    return model


def test_written_model_parses_equal_and_runs_like_onnx_save(tmp_path):
    model = _model()
    ours = write_model(model, str(tmp_path / "ours.onnx"))
    theirs = str(tmp_path / "theirs.onnx")
    onnx.save_model(model, theirs)

    assert onnx.load(ours) == onnx.load(theirs) == model
    onnx.checker.check_model(ours)
    x = np.random.default_rng(1).standard_normal((3, 8)).astype("float32")
    got = ort.InferenceSession(ours).run(None, {"x": x})[0]
    want = ort.InferenceSession(theirs).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, want)
