"""The export path of attention converts with tf2onnx and runs in onnxruntime."""

import numpy as np
import onnxruntime as ort
import pytest

from harness import tiny_inputs, tiny_model
from export.onnx.conversion import to_onnx


def run_onnx(onnx_model, inputs):
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {name: np.asarray(value) for name, value in inputs.items()})


@pytest.mark.parametrize("family", ["gpt", "bert"])
def test_tiny_transformer_converts_and_matches_keras(family):
    model = tiny_model(family)
    onnx_model = to_onnx(model)
    op_types = {node.op_type for node in onnx_model.graph.node}
    assert "PartitionedCall" not in op_types and "Softmax" in op_types
    # a second batch size and length proves the axes are dynamic
    for batch, length in [(2, 6), (3, 11)]:
        inputs = tiny_inputs(family, batch=batch, length=length)
        inputs["padding_mask"][0, -2:] = 0
        expected = model(inputs)
        outputs = run_onnx(onnx_model, inputs)
        if family == "bert":
            names = [o.name for o in onnx_model.graph.output]
            got = dict(zip(names, outputs))
            for key in ("sequence_output", "pooled_output"):
                match = [v for n, v in got.items() if key in n]
                assert np.max(np.abs(match[0] - np.asarray(expected[key]))) <= 1e-4
        else:
            assert np.max(np.abs(outputs[0] - np.asarray(expected))) <= 1e-4


def test_opset_out_of_range():
    with pytest.raises(ValueError, match="opset must be between 7 and 18"):
        to_onnx(tiny_model("gpt"), opset=21)
