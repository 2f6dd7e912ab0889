"""keras-hub <-> zoo, the minGPT way: random keras-hub GPT-2 / BERT models built from tiny
configs, imported with zoo.from_keras_hub (in memory and from save_to_preset folders),
compared on real sentences of the shipped corpora at two batch sizes and lengths
(<= 1e-5), greedy tokens and tokenizer ids identical; then back with zoo.to_keras_hub,
and an imported model through the zoo's export."""

import keras
import keras_hub
import numpy as np
import pytest

import zoo
from interop_helpers import (id_batches, keras_hub_bert_classifier, keras_hub_bert_masked_lm, keras_hub_gpt2, max_abs_diff,
                             sentences, with_segments)
from zoo.cli import main

ATOL = 1e-5


@pytest.fixture(scope="module")
def gpt2():
    source = keras_hub_gpt2()
    model, tokenizer = zoo.from_keras_hub(source)
    return source, model, tokenizer


@pytest.fixture(scope="module")
def bert():
    source = keras_hub_bert_classifier()
    model, tokenizer = zoo.from_keras_hub(source)
    return source, model, tokenizer


def _gpt2_batches(source):
    return id_batches(source.preprocessor.tokenizer, "tinyshakespeare.txt")


def _bert_batches(source):
    tokenizer = source.preprocessor.tokenizer
    return [with_segments(b) for b in id_batches(tokenizer, "rt-polarity.pos", start=tokenizer.cls_token_id,
                                                 end=tokenizer.sep_token_id)]


def test_gpt2_causal_lm_logits_and_hidden_states_match(gpt2):
    source, model, _ = gpt2
    assert type(model) is zoo.Gpt and model.config.activation == "gelu_tanh"
    hidden = keras.Model(model.inputs, model.get_layer("final_norm").output)
    worst_logits = worst_hidden = 0.0
    for batch in _gpt2_batches(source):
        worst_logits = max(worst_logits, max_abs_diff(model(batch), source(batch), batch["padding_mask"]))
        worst_hidden = max(worst_hidden, max_abs_diff(hidden(batch), source.backbone(batch), batch["padding_mask"]))
    print(f"keras-hub GPT2CausalLM -> zoo: logits max abs diff {worst_logits:.2e}, hidden {worst_hidden:.2e}")
    assert worst_logits <= ATOL and worst_hidden <= ATOL


def test_gpt2_backbone_alone_imports_the_same_weights(gpt2):
    source, model, _ = gpt2
    from_backbone, tokenizer = zoo.from_keras_hub(source.backbone)
    assert tokenizer is None  # a backbone has no preprocessor
    for a, b in zip(model.weights, from_backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    _, given = zoo.from_keras_hub(source.backbone, tokenizer=source.preprocessor.tokenizer)  # or one passed in
    text = sentences("tinyshakespeare.txt", 1, offset=9)[0]
    assert np.asarray(given(text)).tolist() == np.asarray(source.preprocessor.tokenizer(text)).tolist()


@pytest.mark.parametrize("family", ["gpt2", "bert"])
def test_tokenizer_ids_identical(family, gpt2, bert):
    source, _, converted = gpt2 if family == "gpt2" else bert
    corpus, special = (("tinyshakespeare.txt", "<|endoftext|>the end") if family == "gpt2"
                       else ("rt-polarity.pos", "Naïve CAFÉ [SEP] ½"))
    reference = source.preprocessor.tokenizer
    for text in sentences(corpus, 25) + [special]:
        assert np.asarray(converted(text)).tolist() == np.asarray(reference(text)).tolist(), text


def test_greedy_tokens_identical_and_to_keras_hub_round_trip(gpt2, tmp_path):
    source, model, tokenizer = gpt2
    prompt = [int(i) for i in np.asarray(tokenizer(sentences("tinyshakespeare.txt", 1, offset=3)[0]))][:8]

    lm = keras_hub.models.GPT2CausalLM(source.backbone, preprocessor=None)
    lm.compile(sampler="greedy")
    ids = np.zeros((1, len(prompt) + 20), "int32")
    ids[0, : len(prompt)] = prompt
    mask = (np.arange(ids.shape[1]) < len(prompt))[None].astype("int32")
    expected = [int(i) for i in lm.generate({"token_ids": ids, "padding_mask": mask}, stop_token_ids=None)
                ["token_ids"][0, len(prompt):]]
    generated = zoo.generate(model, prompt, max_new_tokens=20, sampler="greedy")
    print(f"GPT-2 greedy, 20 tokens: zoo {generated} keras-hub {expected}")
    assert generated == expected and len(set(generated)) > 3  # a varied continuation, not one token repeated

    zoo.to_keras_hub(model, tmp_path / "preset", tokenizer=tokenizer)
    reloaded = keras_hub.models.GPT2CausalLM.from_preset(str(tmp_path / "preset"))
    text = sentences("tinyshakespeare.txt", 1)[0]
    assert np.asarray(reloaded.preprocessor.tokenizer(text)).tolist() == np.asarray(tokenizer(text)).tolist()
    batch = _gpt2_batches(source)[1]
    diff = max_abs_diff(reloaded(batch), model(batch), batch["padding_mask"])
    print(f"zoo Gpt -> keras-hub preset: logits max abs diff {diff:.2e}")
    assert diff <= ATOL


def test_preset_folder_round_trip_through_the_cli(gpt2, tmp_path, capsys):
    """save_to_preset -> `zoo import --from keras-hub` -> zoo.load: the same model and ids as in memory."""
    source, model, tokenizer = gpt2
    source.save_to_preset(str(tmp_path / "preset"))
    out = tmp_path / "zoo-folder"
    assert main(["import", "--from", "keras-hub", str(tmp_path / "preset"), "--out", str(out)]) == 0
    assert "reload check max abs diff" in capsys.readouterr().out
    loaded = zoo.load(str(out))
    assert isinstance(loaded.model, zoo.Gpt)
    batch = _gpt2_batches(source)[0]
    np.testing.assert_array_equal(np.asarray(loaded.model(batch)), np.asarray(model(batch)))
    for text in sentences("tinyshakespeare.txt", 5, offset=5):
        assert loaded.encode(text) == np.asarray(source.preprocessor.tokenizer(text)).tolist()


def test_bert_backbone_and_classifier_match(bert):
    source, model, _ = bert
    assert type(model) is zoo.BertClassifier and model.num_classes == 3
    backbone, _ = zoo.from_keras_hub(source.backbone)
    assert type(backbone) is zoo.Bert
    worst = {"logits": 0.0, "sequence_output": 0.0, "pooled_output": 0.0}
    for batch in _bert_batches(source):
        worst["logits"] = max(worst["logits"], max_abs_diff(model(batch), source(batch)))
        ours, theirs = backbone(batch), source.backbone(batch)
        worst["sequence_output"] = max(worst["sequence_output"], max_abs_diff(
            ours["sequence_output"], theirs["sequence_output"], batch["padding_mask"]))
        worst["pooled_output"] = max(worst["pooled_output"], max_abs_diff(ours["pooled_output"], theirs["pooled_output"]))
    print(f"keras-hub BERT -> zoo: max abs diff {worst}")
    assert max(worst.values()) <= ATOL


def test_bert_presets_both_ways(bert, tmp_path):
    source, model, tokenizer = bert
    batch = _bert_batches(source)[1]
    source.save_to_preset(str(tmp_path / "classifier"))
    from_preset, from_preset_tokenizer = zoo.from_keras_hub(str(tmp_path / "classifier"))
    assert max_abs_diff(from_preset(batch), source(batch)) <= ATOL
    assert from_preset_tokenizer.get_vocabulary() == tokenizer.get_vocabulary()

    zoo.to_keras_hub(model, tmp_path / "out-classifier", tokenizer=tokenizer)
    reloaded = keras_hub.models.BertTextClassifier.from_preset(str(tmp_path / "out-classifier"))
    diff = max_abs_diff(reloaded(batch), model(batch))
    zoo.to_keras_hub(model.backbone, tmp_path / "out-backbone", tokenizer=tokenizer)
    backbone = keras_hub.models.Backbone.from_preset(str(tmp_path / "out-backbone"))
    keras_hub_tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(str(tmp_path / "out-backbone"))
    hidden_diff = max_abs_diff(backbone(batch)["sequence_output"], model.backbone(batch)["sequence_output"],
                               batch["padding_mask"])
    print(f"zoo BERT -> keras-hub presets: classifier logits {diff:.2e}, hidden {hidden_diff:.2e}")
    assert diff <= ATOL and hidden_diff <= ATOL
    text = sentences("rt-polarity.pos", 1, offset=7)[0]
    assert np.asarray(keras_hub_tokenizer(text)).tolist() == np.asarray(tokenizer(text)).tolist()


def _with_mask_positions(batch, count=3):
    """Masked positions inside each row's tokens: evenly spaced over its length."""
    lengths = np.asarray(batch["padding_mask"]).sum(axis=1)
    positions = np.stack([np.linspace(1, max(length - 2, 1), count).astype("int32") for length in lengths])
    return {**batch, "mask_positions": positions}


def test_bert_masked_lm_both_ways(bert, tmp_path):
    source = keras_hub_bert_masked_lm()
    model, tokenizer = zoo.from_keras_hub(source)
    assert tokenizer is None and type(model) is zoo.BertMaskedLM
    assert (model.head_activation, model.head_layer_norm_epsilon) == ("gelu", 1e-5)
    batches = [_with_mask_positions(b) for b in _bert_batches(bert[0])]
    worst = max(max_abs_diff(model(batch), source(batch)) for batch in batches)

    source.save_to_preset(str(tmp_path / "masked-lm"))
    from_preset, _ = zoo.from_keras_hub(str(tmp_path / "masked-lm"))
    preset_diff = max_abs_diff(from_preset(batches[0]), source(batches[0]))
    zoo.to_keras_hub(model, tmp_path / "out-masked-lm")
    reloaded = keras_hub.models.BertMaskedLM.from_preset(str(tmp_path / "out-masked-lm"))
    back_diff = max(max_abs_diff(reloaded(batch), model(batch)) for batch in batches)
    print(f"keras-hub BertMaskedLM -> zoo: logits {worst:.2e}; from its preset {preset_diff:.2e}; "
          f"zoo -> keras-hub preset {back_diff:.2e}")
    assert worst <= ATOL and preset_diff <= ATOL and back_diff <= ATOL


def test_an_imported_model_exports_and_passes_validation(bert, tmp_path):
    from export import export

    _, model, tokenizer = bert
    with pytest.warns(UserWarning, match="keras-hub's normalization"):  # its HF tokenizer files
        report = export(zoo.TextModel(model, tokenizer), tmp_path / "export", formats=["onnx", "huggingface"])
    assert report["passed"]
    assert set(report["artifacts"]) == {"onnx", "huggingface"}
    assert all(a["validation"]["passed"] for a in report["artifacts"].values())
    hf = tmp_path / "export" / "huggingface" / model.name
    assert {p.name for p in hf.iterdir()} >= {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"}
