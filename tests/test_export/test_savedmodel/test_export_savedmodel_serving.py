"""SavedModels as TF Serving runs them: the TF1 session loader, XLA off.

Every family's ``serving_default`` and every text signature is run in a
fresh process by ``export.savedmodel.session`` (``tf.compat.v1`` loader in a
session, ``tensorflow::DisableXlaCompilation()`` as a stock
``tensorflow_model_server`` calls it) and compared with Keras; the export
gate refuses a SavedModel the TF1 loader cannot run; ``saved_model_cli run``
works; ``models.config`` parses with TF Serving's own protos; a hand-edited
folder fails with the file named.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import text_models
import zoo
import zoo.tokenizers as tok
from harness import tiny_model
from export import ExportError, ValidationError, export
from export import inputs as inputs_lib
from export.savedmodel import writer as savedmodel_export
from export import validate
from export.manifest import read_manifest
from export.model_info import describe
from export.savedmodel.session import run_many_in_subprocess
from export.savedmodel.serving_check import check_savedmodel
from export.savedmodel.text_signatures import check_text_signatures, compare_text, text_cases
from zoo.cli import main
from zoo.model_folder import TextModel

pytestmark = pytest.mark.slow  # 2-3.5 min on 2 shared cores: the full run only (CI's 3.13 run takes -m 'not slow'; its exports still pass the gate)
ATOL = 1e-4


def lstm_text_model():
    """Tiny LSTM LM (vocabulary 19) + 17 characters: the sample texts' letters and a space."""
    return TextModel(tiny_model("lstm_lm", name="tiny_lstm"), tok.character_tokenizer(list("abcdefghijklmnop ")))


def models():
    """One model per family. BERT and the LSTM LM come with tokenizers, so their
    ``embed_text`` and ``generate`` run too; ``predict_text`` is checked through the
    export gate below, GPT's and seq2seq's ``generate`` through it in test_export_text."""
    backbone = tiny_model("bert", name="tiny_bert_heads")
    return {
        "gpt": tiny_model("gpt", name="tiny_gpt"),
        "bert": text_models.bert_text_model(),
        "bert_classifier": zoo.BertClassifier(backbone, num_classes=2, name="tiny_classifier"),
        "bert_masked_lm": zoo.BertMaskedLM(backbone, name="tiny_mlm"),
        "bert_token_classifier": zoo.BertTokenClassifier(backbone, num_classes=3, name="tiny_tagger"),
        "lstm_lm": lstm_text_model(),
        "seq2seq": tiny_model("seq2seq", name="tiny_seq2seq"),
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Each family written by ``save_savedmodel``, then all of them run by the TF1 loader
    in one fresh process: -> {family: {"model", "path", "references", "cases", "summary", "outputs"}}."""
    root = tmp_path_factory.mktemp("served")
    results = {}
    for family, model in models().items():
        info = describe(model)
        # generate_xla on one generating family: enough to show it needs XLA (it is slow to trace)
        path, signatures = savedmodel_export.save_savedmodel(info, str(root / family), generate_xla=family == "lstm_lm")
        batches = inputs_lib.validation_batches(info)
        cases = text_cases(info, list(signatures)) if info.tokenizer is not None else {}
        feeds = {"serving_default": batches, **{name: [case["inputs"]] for name, case in cases.items()}}
        results[family] = {"model": model, "path": path, "feeds": feeds, "cases": cases,
                           "references": [validate.keras_outputs(info, b) for b in batches]}
        if "generate_xla" in signatures:  # where XLA is on (TF2 here), it gives zoo.generate's text
            results[family]["tf2"] = check_text_signatures(info, path, ATOL, cases)
    ran = run_many_in_subprocess([(r["path"], r.pop("feeds")) for r in results.values()])
    for result, (summary, outputs) in zip(results.values(), ran):
        result.update(summary=summary, outputs=outputs)
    return results


@pytest.mark.parametrize("family", ["gpt", "bert", "bert_classifier", "bert_masked_lm", "bert_token_classifier",
                                    "lstm_lm", "seq2seq"])
def test_serving_default_in_tf1_session(served, family):
    result = served[family]
    summary, outputs = result["summary"], result["outputs"]
    assert summary["files"] == [] and "error" not in summary, summary
    assert summary["signatures"]["serving_default"]["batches"] == 2
    for i, reference in enumerate(result["references"]):
        for name, value in reference.items():
            got = outputs[f"serving_default/{i}/{name}"]
            assert got.shape == value.shape
            np.testing.assert_allclose(got, value, atol=ATOL, rtol=0)


@pytest.mark.parametrize("family, signature", [("bert", "embed_text"), ("lstm_lm", "generate")])
def test_text_signature_in_tf1_session(served, family, signature):
    """Tokenizer tables initialized by the SavedModel's init op; same numbers / text as Keras."""
    result = served[family]
    assert "error" not in result["summary"]["signatures"][signature], result["summary"]
    got = {k.split("/", 2)[2]: v for k, v in result["outputs"].items() if k.startswith(f"{signature}/0/")}
    check = compare_text(signature, got, result["cases"][signature]["expected"], ATOL)
    assert check["passed"], check


def test_generate_xla_fails_without_xla_and_generate_does_not(served):
    """The runner reproduces stock TF Serving (XLA compilation disabled): the jit
    signature fails on its first call, the plain ``generate`` of the same SavedModel runs."""
    summary = served["lstm_lm"]["summary"]
    assert "XLA compilation disabled" in summary["signatures"]["generate_xla"]["error"]
    assert summary["signatures"]["generate"]["batches"] == 1
    tf2 = served["lstm_lm"]["tf2"]["generate_xla"]
    assert tf2["passed"] and tf2["savedmodel"] == tf2["keras"]


def test_saved_model_cli_run(served, tmp_path):
    """TF's own ``saved_model_cli run`` (a TF1 session) gives Keras' logits. (A model
    without a tokenizer: the stock tool does not load tensorflow-text's kernels.)"""
    result = served["bert_token_classifier"]
    inputs = {"token_ids": np.array([[2, 5, 6, 3], [2, 7, 3, 0]], np.int32),
              "segment_ids": np.zeros((2, 4), np.int32),
              "padding_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]], np.int32)}
    np.savez(tmp_path / "inputs.npz", **inputs)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    run = subprocess.run(
        [cli, "run", "--dir", result["path"], "--tag_set", "serve", "--signature_def", "serving_default",
         "--outdir", str(tmp_path / "cli"), "--inputs", ";".join(f"{k}={tmp_path / 'inputs.npz'}[{k}]" for k in inputs)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert run.returncode == 0, run.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "cli" / "logits.npy"), np.asarray(result["model"](inputs)),
                               atol=ATOL, rtol=0)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One full export (the gate included) of a model with a text signature."""
    out = tmp_path_factory.mktemp("export") / "classifier"
    return out, export(text_models.bert_text_model("classifier"), out, formats=["savedmodel"])


def test_export_gate_records_the_tf1_check(exported):
    out, report = exported
    check = report["artifacts"]["savedmodel"]["tf1_session"]
    assert check["passed"] and "tf.compat.v1" in check["loader"]
    assert check["signatures"]["serving_default"]["outputs"]["logits"]["max_abs_diff"] <= ATOL
    assert check["signatures"]["predict_text"]["max_abs_diff"] <= ATOL
    manifest = read_manifest(out)["artifacts"]["savedmodel"]
    assert manifest["tf1_session"]["signatures"]["predict_text"]["passed"]
    assert manifest["serving"]["signatures"]["predict_text"].startswith("stock")


def test_models_config_parses_with_tf_serving_protos(exported):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    out, report = exported
    config = text_format.Parse((out / "savedmodel" / "models.config").read_text(),
                               model_server_config_pb2.ModelServerConfig())
    (entry,) = config.model_config_list.config
    assert entry.name == "sentiment" and entry.model_platform == "tensorflow"
    assert os.path.isabs(entry.base_path) and entry.base_path == str(out / "savedmodel" / "sentiment")
    assert os.path.isfile(os.path.join(entry.base_path, "1", "saved_model.pb"))
    assert report["artifacts"]["savedmodel"]["serving"]["models_config"] == "savedmodel/models.config"


def _legacy_save(info, model_folder, text=True, generate_xla=True):
    """How the zoo wrote SavedModels before: a tf.Module holding the Keras model.
    TF2's loader runs it; the TF1 session loader finds its variables uninitialized."""
    module = tf.Module()
    module.model = info.model
    path = os.path.join(model_folder, savedmodel_export.VERSION)
    function = savedmodel_export.serving_function(info)
    signatures = {"serving_default": savedmodel_export.concrete(function)}
    tf.saved_model.save(module, path, signatures=signatures)
    return path, savedmodel_export.describe_signatures(signatures)


def test_gate_refuses_a_savedmodel_tf_serving_cannot_run(tmp_path, monkeypatch):
    monkeypatch.setattr(savedmodel_export, "save_savedmodel", _legacy_save)
    out = tmp_path / "lm"
    with pytest.raises(ValidationError, match="Validation failed for savedmodel") as caught:
        export(tiny_model("lstm_lm", name="legacy"), out, formats=["savedmodel"])
    artifact = caught.value.report["artifacts"]["savedmodel"]
    assert artifact["validation"]["outputs"]["logits"]["passed"]  # the TF2 loader alone let it through
    assert not artifact["tf1_session"]["passed"]
    assert "does not exist" in artifact["tf1_session"]["signatures"]["serving_default"]["error"]
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".")]


@pytest.mark.parametrize("remove, message", [
    ("variables/variables.index", "variables.index: missing"),
    ("variables/variables.data-00000-of-00001", "variables.data-00000-of-00001: missing"),
    ("saved_model.pb", "saved_model.pb: missing"),
])
def test_hand_edited_folder_names_the_file(exported, tmp_path, remove, message):
    out, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    os.remove(copy / "savedmodel" / "sentiment" / "1" / remove)
    with pytest.raises(ExportError, match=message):
        check_savedmodel(copy)


def test_zoo_check_export_on_an_intact_and_a_broken_export(exported, tmp_path, capsys):
    """``zoo check-export``: loads and runs every signature with the TF1 loader; a
    truncated weights file fails with the loader's error, exit status 2."""
    out, _ = exported
    assert main(["check-export", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "serving_default (ok)" in printed and "predict_text (ok)" in printed
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    data = copy / "savedmodel" / "sentiment" / "1" / "variables" / "variables.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])
    assert main(["check-export", str(copy / "savedmodel" / "sentiment")]) == 2
    error = capsys.readouterr().err
    assert "fails under the TF1 session loader" in error and "while restoring the weights" in error
    assert "variables.data-00000-of-00001" in error and "Read less bytes than requested" in error
