"""Validation is a gate and writing is safe: a perturbed artifact fails the
export and leaves nothing; a failed or interrupted export leaves the previous
one untouched; bad arguments are clear errors."""

import os

import keras
import numpy as np
import pytest

import export.onnx.conversion as onnx_export
import export.savedmodel.writer as savedmodel_export
from harness import tiny_model
from export import ExportError, ValidationError, export
from export.manifest import read_manifest, verify_files

FAST = dict(formats=["onnx"], decoders=False)


def _leftovers(folder):
    return [p for p in os.listdir(folder) if p.startswith(".")]


def test_perturbed_artifact_fails_validation_and_writes_nothing(tmp_path, monkeypatch):
    convert = onnx_export.convert_model

    def perturbed(*args, **kwargs):
        model, tensors = convert(*args, **kwargs)
        from onnx import numpy_helper

        rng = np.random.default_rng(0)
        for i, init in enumerate(model.graph.initializer):
            array = numpy_helper.to_array(init)
            if array.dtype == np.float32 and array.size >= 64:  # weight matrices, not constants
                noisy = array + rng.normal(0, 0.01, array.shape).astype(np.float32)
                model.graph.initializer[i].CopyFrom(numpy_helper.from_array(noisy, init.name))
        return model, tensors

    monkeypatch.setattr(onnx_export, "convert_model", perturbed)
    out = tmp_path / "gpt"
    with pytest.raises(ValidationError, match="Validation failed for onnx") as caught:
        export(tiny_model("gpt"), out, **FAST)
    row = caught.value.report["artifacts"]["onnx"]["validation"]["outputs"]["logits"]
    assert row["max_abs_diff"] > 1e-4 and not row["passed"]
    assert not out.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", [RuntimeError("simulated crash"), KeyboardInterrupt()])
def test_failed_export_leaves_previous_artifact_untouched(tmp_path, monkeypatch, failure):
    out = tmp_path / "lm"
    export(tiny_model("lstm_lm"), out, formats=["savedmodel", "onnx"], decoders=False)
    before = read_manifest(out)

    def crash(info, folder, text=True, **options):
        os.makedirs(os.path.join(folder, "1"))
        open(os.path.join(folder, "1", "partial.pb"), "wb").write(b"half")
        raise failure

    monkeypatch.setattr(savedmodel_export, "save_savedmodel", crash)
    with pytest.raises(type(failure)):
        export(tiny_model("lstm_lm"), out, formats=["savedmodel", "onnx"], decoders=False, force=True)
    assert read_manifest(out) == before and verify_files(out) == []
    assert _leftovers(tmp_path) == []


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "lm"
    first = export(tiny_model("lstm_lm"), out, **FAST)
    with pytest.raises(ExportError, match="already exists.*force"):
        export(tiny_model("lstm_lm"), out, **FAST)
    second = export(tiny_model("lstm_lm", name="other"), out, force=True, **FAST)
    assert second["passed"] and read_manifest(out)["source"]["name"] == "other"
    assert first["artifacts"]["onnx"]["path"] != second["artifacts"]["onnx"]["path"]
    assert _leftovers(tmp_path) == []


def test_unknown_format_lists_valid_ones(tmp_path):
    with pytest.raises(ExportError, match="Unknown export format.*tflite.*savedmodel, onnx"):
        export(tiny_model("gpt"), tmp_path / "x", formats=["onnx", "tflite"])


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="Cannot create the parent folder"):
        export(tiny_model("gpt"), blocker / "out", **FAST)
    with pytest.raises(ExportError, match="exists and is not a folder"):
        export(tiny_model("gpt"), blocker, **FAST)


def test_model_never_built(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ExportError, match="never built.*Call it once"):
        export(model, tmp_path / "x", **FAST)


@pytest.mark.parametrize("opset", [6, 19, "latest"])
def test_opset_out_of_range(tmp_path, opset):
    with pytest.raises(ValueError, match="opset must be between 7 and 18"):
        export(tiny_model("gpt"), tmp_path / "x", opset=opset, **FAST)


def test_bad_quantize_and_atol(tmp_path):
    with pytest.raises(ExportError, match=r"Unknown quantize mode\(s\) \['int3'\]; valid: int8, int4"):
        export(tiny_model("gpt"), tmp_path / "x", quantize="int3")
    with pytest.raises(ExportError, match="atol must be a positive number"):
        export(tiny_model("gpt"), tmp_path / "x", atol=0)


def test_optimize_needs_onnx(tmp_path):
    with pytest.raises(ExportError, match="optimize applies to ONNX"):
        export(tiny_model("gpt"), tmp_path / "x", formats=["savedmodel"], optimize=True)
