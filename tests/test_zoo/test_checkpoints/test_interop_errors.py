"""Bad interop input gets a clear error and changes nothing: keras-hub architectures the zoo
does not have, preset folders with missing or mismatched files, zoo models keras-hub cannot
express, and output folders that exist (refused unless force; never left half-written)."""

import json
import os
import shutil

import keras
import keras_hub
import pytest

import zoo
from export import ExportError, export
from interop_helpers import TINY_BERT, bert_vocabulary, keras_hub_bert_classifier, keras_hub_gpt2
from zoo.checkpoints import CheckpointError
from zoo.cli import main


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """A good GPT2CausalLM preset (with tokenizer) to break in copies."""
    folder = tmp_path_factory.mktemp("good") / "preset"
    keras_hub_gpt2().save_to_preset(str(folder))
    return folder


def _copy(preset, tmp_path):
    shutil.copytree(preset, tmp_path / "preset")
    return tmp_path / "preset"


def _edit(path, edit):
    spec = json.loads(path.read_text())
    edit(spec)
    path.write_text(json.dumps(spec))


def test_keras_hub_architectures_the_zoo_does_not_have(tmp_path):
    distil = keras_hub.models.DistilBertBackbone(vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=8,
                                                 intermediate_dim=16, max_sequence_length=16)
    supported = r"GPT2Backbone, GPT2CausalLM, BertBackbone, BertTextClassifier and BertMaskedLM; got a DistilBertBackbone"
    with pytest.raises(CheckpointError, match=supported):
        zoo.from_keras_hub(distil)
    distil.save_to_preset(str(tmp_path / "distil"))
    with pytest.raises(CheckpointError, match=r"describes keras_hub>DistilBertBackbone; zoo converts keras-hub backbones GPT2Backbone, BertBackbone"):
        zoo.from_keras_hub(tmp_path / "distil")

    masked_lm = keras_hub.models.BertMaskedLM(
        keras_hub.models.BertBackbone(vocabulary_size=len(bert_vocabulary()), **TINY_BERT), preprocessor=None)
    masked_lm.masked_lm_head.intermediate_activation = keras.activations.get("silu")
    with pytest.raises(CheckpointError, match=r"BertMaskedLM head activation 'silu'.*'gelu' \(exact\) or 'relu'"):
        zoo.from_keras_hub(masked_lm)


def test_variables_without_a_place_in_the_zoo_are_named(preset):
    model = keras_hub_gpt2()
    model.backbone.enable_lora(2)
    with pytest.raises(CheckpointError, match=r"no place for: \['transformer_layer_0/self_attention/query/lora_kernel_a'"):
        zoo.from_keras_hub(model)


def test_preset_with_missing_files(preset, tmp_path, capsys):
    folder = _copy(preset, tmp_path)
    (folder / "assets" / "tokenizer" / "merges.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"no assets/tokenizer/merges\.txt"):
        zoo.from_keras_hub(folder)
    model, tokenizer = zoo.from_keras_hub(folder, tokenizer=False)  # the weights alone still import
    assert isinstance(model, zoo.Gpt) and tokenizer is None
    (folder / "model.weights.h5").unlink()
    assert main(["import", "--from", "keras-hub", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert "has no model.weights.h5" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        zoo.from_keras_hub(tmp_path / "nowhere")


def test_classifier_preset_without_its_head_weights(tmp_path):
    keras_hub_bert_classifier().save_to_preset(str(tmp_path / "classifier"))
    (tmp_path / "classifier" / "task.weights.h5").unlink()  # keras-hub would leave the head random
    with pytest.raises(FileNotFoundError, match=r"has no task\.weights\.h5"):
        zoo.from_keras_hub(tmp_path / "classifier")


def test_preset_with_mismatched_files(preset, tmp_path):
    folder = _copy(preset, tmp_path)
    _edit(folder / "config.json", lambda spec: spec["config"].update(num_layers=3))
    _edit(folder / "task.json", lambda spec: spec["config"]["backbone"]["config"].update(num_layers=3))
    with pytest.raises(CheckpointError, match=r"keras-hub could not load the preset .*do not belong together"):
        zoo.from_keras_hub(folder, tokenizer=False)

    folder = _copy(preset, tmp_path / "b")
    _edit(folder / "task.json", lambda spec: spec["config"]["backbone"].update(registered_name="keras_hub>BertBackbone"))
    with pytest.raises(CheckpointError, match="come from different presets"):
        zoo.from_keras_hub(folder)

    folder = _copy(preset, tmp_path / "c")
    vocabulary = json.loads((folder / "assets" / "tokenizer" / "vocabulary.json").read_text())
    vocabulary.update({f"extra{i}": len(vocabulary) + i for i in range(5)})
    (folder / "assets" / "tokenizer" / "vocabulary.json").write_text(json.dumps(vocabulary))
    with pytest.raises(CheckpointError, match=r"tokenizer has \d+ tokens but the model's vocabulary_size is \d+"):
        zoo.from_keras_hub(folder)

    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(CheckpointError, match="It is a Hugging Face config.json"):
        zoo.from_keras_hub(tmp_path / "hf")


def test_zoo_models_keras_hub_cannot_express_are_refused_by_field(tmp_path):
    one_layer = {**TINY_BERT, "num_layers": 1}
    bert = zoo.Bert(vocabulary_size=len(bert_vocabulary()), **one_layer)  # exact GELU, the zoo default
    cases = [
        (bert, r"activation='gelu', but keras-hub's BertBackbone always uses activation='gelu_tanh'"),
        (zoo.Gpt(vocabulary_size=40, layer_norm_epsilon=1e-6, **one_layer),
         r"layer_norm_epsilon=1e-06, but keras-hub's GPT2Backbone always uses layer_norm_epsilon=1e-05"),
        (zoo.BertMaskedLM(zoo.Bert(vocabulary_size=40, activation="gelu_tanh", **one_layer)), "exact GELU"),
        (zoo.BertTokenClassifier(bert), "keras-hub has no BERT token classifier"),
        (zoo.BertClassifier(zoo.Bert(vocabulary_size=40, activation="gelu_tanh", **one_layer), pooling="mean"),
         r"pooling='mean', but keras-hub's BertTextClassifier classifies the pooler's \[CLS\] vector"),
        (zoo.LstmLM(vocabulary_size=19, num_layers=1, hidden_dim=8, embedding_dim=6), "zoo writes Gpt, Bert, BertClassifier"),
    ]
    for model, message in cases:
        with pytest.raises(CheckpointError, match=message):
            zoo.to_keras_hub(model, tmp_path / "preset")
        assert not (tmp_path / "preset").exists()
    hf_normalized = zoo.tokenizers.wordpiece_tokenizer(bert_vocabulary(), normalization="bert")
    tanh_bert = zoo.Bert(vocabulary_size=len(bert_vocabulary()), activation="gelu_tanh", **one_layer)
    with pytest.raises(CheckpointError, match="normalization='bert'"):
        zoo.to_keras_hub(tanh_bert, tmp_path / "preset", tokenizer=hf_normalized)
    assert not (tmp_path / "preset").exists()


def test_zoo_models_transformers_has_no_class_for(tmp_path):
    lstm = zoo.LstmLM(vocabulary_size=19, num_layers=1, hidden_dim=8, embedding_dim=6)
    with pytest.raises(CheckpointError, match=r"Cannot write a LstmLM .*zoo writes Bert, BertMaskedLM, BertClassifier, BertTokenClassifier, Gpt"):
        zoo.to_huggingface(lstm, tmp_path / "hf")
    with pytest.raises(ExportError, match="format 'huggingface': Cannot write a LstmLM"):
        export(lstm, tmp_path / "export", formats=["onnx", "huggingface"])
    assert not (tmp_path / "hf").exists() and not (tmp_path / "export").exists()
    keras_hub_head = zoo.BertMaskedLM(zoo.Bert(vocabulary_size=40, **{**TINY_BERT, "num_layers": 1}),
                                      head_layer_norm_epsilon=1e-5)
    with pytest.raises(CheckpointError, match=r"head_layer_norm_epsilon=1e-05 cannot be expressed .*"
                                              r"BertForMaskedLM's head uses the encoder's layer_norm_epsilon"):
        zoo.to_huggingface(keras_hub_head, tmp_path / "hf")
    mean_pooling = zoo.BertClassifier(zoo.Bert(vocabulary_size=40, **{**TINY_BERT, "num_layers": 1}), pooling="mean")
    with pytest.raises(CheckpointError, match=r"pooling='mean' cannot be expressed .*BertForSequenceClassification"):
        zoo.to_huggingface(mean_pooling, tmp_path / "hf")
    small_vocabulary = zoo.Bert(vocabulary_size=10, **{**TINY_BERT, "num_layers": 1})
    with pytest.raises(CheckpointError, match=r"tokenizer has \d+ tokens but the model's vocabulary_size is 10"):
        zoo.to_huggingface(small_vocabulary, tmp_path / "hf",
                           tokenizer=zoo.tokenizers.wordpiece_tokenizer(bert_vocabulary(), normalization="bert"))
    assert not (tmp_path / "hf").exists()


def test_existing_output_folders_are_refused_unless_force_and_never_half_written(tmp_path, monkeypatch):
    model = zoo.Bert(vocabulary_size=40, **{**TINY_BERT, "num_layers": 1})
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    keras_hub_ready = zoo.Bert(vocabulary_size=40, activation="gelu_tanh", **{**TINY_BERT, "num_layers": 1})
    for write, target in ((zoo.to_huggingface, model), (zoo.to_keras_hub, keras_hub_ready)):
        with pytest.raises(ExportError, match="already exists and is not empty; pass force=True"):
            write(target, taken)
        assert os.listdir(taken) == ["keep.txt"]

    import safetensors.numpy

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.numpy, "save_file", disk_full)
    with pytest.raises(OSError, match="No space left"):
        zoo.to_huggingface(model, taken, force=True)
    assert os.listdir(taken) == ["keep.txt"]  # the old folder is untouched
    assert sorted(os.listdir(tmp_path)) == ["taken"]  # and no temporary folder is left beside it
    monkeypatch.undo()
    zoo.to_huggingface(model, taken, force=True)
    assert sorted(os.listdir(taken)) == ["config.json", "model.safetensors"]
