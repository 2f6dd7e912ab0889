"""Every family x {SavedModel, ONNX} on tiny configs: laid out for TF Serving /
Triton, validated against Keras at two batch sizes and lengths, recorded in
manifest.json."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from harness import tiny_inputs, tiny_model
from export import export
from export.manifest import verify_files


@pytest.mark.parametrize("family", ["gpt", "bert", "lstm_lm", "seq2seq"])
def test_family_exports_savedmodel_and_onnx(family, tmp_path):
    model = tiny_model(family, name=f"tiny_{family}")
    out = tmp_path / "artifacts"
    report = export(model, out, formats=["savedmodel", "onnx"], decoders=False)
    assert report["passed"], str(report)
    name = f"tiny_{family}"

    # TF Serving layout, serving_default with dynamic batch and length
    saved = out / "savedmodel" / name / "1"
    assert (saved / "saved_model.pb").is_file()
    signature = report["artifacts"]["savedmodel"]["signatures"]["serving_default"]
    assert all(spec["shape"] == [None, None] and spec["dtype"] == "int32" for spec in signature["inputs"].values())
    # Triton layout with named inputs/outputs and symbolic axes
    entry = out / "onnx" / name
    assert (entry / "1" / "model.onnx").is_file()
    config = (entry / "config.pbtxt").read_text()
    assert f'name: "{name}"' in config and 'platform: "onnxruntime_onnx"' in config
    onnx_sig = report["artifacts"]["onnx"]["signatures"]["model"]
    assert set(onnx_sig["inputs"]) == set(model.input)
    for spec in onnx_sig["inputs"].values():
        assert spec["shape"][0] == "batch" and isinstance(spec["shape"][1], str)
    assert report["artifacts"]["onnx"]["opset"] == 17

    for key in ("savedmodel", "onnx"):
        validation = report["artifacts"][key]["validation"]
        assert validation["batches"][0] != validation["batches"][1]
        assert all(row["max_abs_diff"] <= 1e-4 for row in validation["outputs"].values())

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"]["config"] == report_config(model)
    assert manifest["libraries"]["tensorflow"] == tf.__version__
    assert manifest["opset"] == 17 and verify_files(out) == []
    assert any(f["path"].endswith("model.onnx") and len(f["sha256"]) == 64 for f in manifest["files"])
    assert manifest["artifacts"]["onnx"]["path"] == f"onnx/{name}/1/model.onnx"  # relative to the folder
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no staging leftovers

    # the SavedModel, loaded fresh, runs a third shape
    inputs = tiny_inputs(family, batch=1, length=5)
    loaded = tf.saved_model.load(str(saved)).signatures["serving_default"]
    got = loaded(**{k: tf.constant(v) for k, v in inputs.items()})
    expected = model(inputs)
    expected = expected if isinstance(expected, dict) else {"logits": expected}
    for key, value in expected.items():
        np.testing.assert_allclose(got[key].numpy(), np.asarray(value), atol=1e-4)


def report_config(model):
    import dataclasses

    return json.loads(json.dumps(dataclasses.asdict(model.config)))


def test_bert_classifier_head_exports(tmp_path):
    import zoo

    model = zoo.BertClassifier(tiny_model("bert"), num_classes=3, name="clf")
    report = export(model, tmp_path / "clf", formats="onnx", decoders=False)
    assert report["passed"]
    assert report["artifacts"]["onnx"]["signatures"]["model"]["outputs"]["logits"]["shape"] == ["batch", 3]
