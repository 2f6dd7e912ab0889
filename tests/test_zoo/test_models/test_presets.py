"""Presets: names, published parameter counts, overrides, errors."""

import pytest

import zoo


def test_list_models_has_the_published_and_small_presets():
    names = zoo.list_models()
    for name in ["bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base", "bert-large",
                 "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt-nano", "gpt-mini"]:
        assert name in names
    assert any(n.startswith("lstm-lm-") for n in names)
    assert any(n.startswith("seq2seq-lstm-") for n in names)


@pytest.mark.parametrize(
    "name, parameters",
    [
        ("bert-base", 109_482_240),  # HF BertModel with pooler
        ("gpt2", 124_439_808),  # HF GPT2Model, LM head tied
    ],
)
def test_parameter_counts_match_published_models(name, parameters):
    assert zoo.build(name).count_params() == parameters


@pytest.mark.parametrize(
    "name, layers, hidden",
    [("bert-tiny", 2, 128), ("bert-mini", 4, 256), ("bert-small", 4, 512), ("bert-medium", 8, 512)],
)
def test_small_bert_sizes(name, layers, hidden):
    preset = zoo.PRESETS[name]
    assert (preset.config["num_layers"], preset.config["hidden_dim"]) == (layers, hidden)
    assert preset.config["vocabulary_size"] == 30522


def test_overrides_apply():
    model = zoo.build("gpt-nano", num_layers=1, vocabulary_size=30)
    assert model.config.num_layers == 1 and model.config.vocabulary_size == 30


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown model 'gpt5'.*bert-base.*gpt2"):
        zoo.build("gpt5")


def test_unknown_override_lists_fields():
    with pytest.raises(ValueError, match="Unknown config field.*'hidden_size'.*hidden_dim"):
        zoo.build("bert-tiny", hidden_size=64)


def test_heads_must_divide_hidden_dim():
    with pytest.raises(ValueError, match=r"hidden_dim \(130\) must be divisible by num_heads \(4\)"):
        zoo.build("gpt-nano", hidden_dim=130)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(num_layers=0), "num_layers must be a positive integer"),
        (dict(dropout=1.5), "dropout must be in"),
        (dict(activation="swishy"), "activation must be one of"),
    ],
)
def test_invalid_config_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        zoo.build("bert-tiny", **overrides)
