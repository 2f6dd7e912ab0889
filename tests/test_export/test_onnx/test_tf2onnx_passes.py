"""tf2onnx runs its optimizer without per-pass graph copies during a zoo
conversion; a pass that fails then costs a second conversion, not the export."""

import os

import numpy as np
import tf2onnx.optimizer.identity_optimizer as identity_optimizer

from export.onnx.tf_function import CATCH_ERRORS
from export.onnx.conversion import to_onnx
from export.validate import keras_outputs, onnx_runner
from export.model_info import describe
from harness import tiny_inputs, tiny_model


def test_switch_is_set_only_during_the_conversion(monkeypatch):
    monkeypatch.delenv(CATCH_ERRORS, raising=False)
    seen = []
    original = identity_optimizer.IdentityOptimizer._optimize

    def spy(self, graph):
        seen.append(os.environ.get(CATCH_ERRORS))
        return original(self, graph)

    monkeypatch.setattr(identity_optimizer.IdentityOptimizer, "_optimize", spy)
    to_onnx(tiny_model("gpt"))
    assert seen and set(seen) == {"FALSE"}
    assert CATCH_ERRORS not in os.environ


def test_a_failing_pass_falls_back_to_the_safe_conversion(monkeypatch):
    monkeypatch.delenv(CATCH_ERRORS, raising=False)
    calls = []

    def broken(self, graph):
        calls.append(os.environ.get(CATCH_ERRORS))
        raise RuntimeError("a broken optimizer pass")

    monkeypatch.setattr(identity_optimizer.IdentityOptimizer, "_optimize", broken)
    model = tiny_model("gpt")
    onnx_model = to_onnx(model)
    assert calls[0] == "FALSE" and None in calls  # failed without the copies, then skipped with them
    inputs = tiny_inputs("gpt")
    expected = keras_outputs(describe(model), inputs)
    got = onnx_runner(onnx_model.SerializeToString())(inputs)
    assert np.max(np.abs(got["logits"] - expected["logits"])) < 1e-4
