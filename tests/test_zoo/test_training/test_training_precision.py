"""zoo.training.precision: what ``precision="auto"`` picks on each kind of machine, and the
rebuilt model it trains in bf16 (same weights, bf16 compute, outputs close to float32's)."""

import types

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.training
from zoo.training import precision

BF16_CPU = frozenset({"avx", "avx2", "fma", "avx512f", "avx512_bf16"})
AVX2_CPU = frozenset({"avx", "avx2", "fma"})
AMX_CPU = frozenset({"avx", "avx2", "avx512f", "amx_tile", "amx_bf16"})


def _gpt(hidden_dim):
    return zoo.Gpt(vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=hidden_dim,
                   intermediate_dim=2 * hidden_dim, max_sequence_length=16)


@pytest.fixture(scope="module")
def wide_gpt():
    return _gpt(precision.MIN_BF16_WIDTH)


def test_auto_picks_bf16_without_xla_for_a_wide_transformer_on_a_bf16_cpu(wide_gpt):
    for flags in (BF16_CPU, AMX_CPU):
        chosen = precision.choose("auto", True, wide_gpt, flags=flags, has_gpu=False)
        assert (chosen.policy, chosen.jit_compile) == ("mixed_bfloat16", False), chosen
    bert = zoo.BertClassifier(zoo.Bert(vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=256,
                                       intermediate_dim=64, max_sequence_length=16))
    assert precision.choose("auto", True, bert, flags=BF16_CPU, has_gpu=False).policy == "mixed_bfloat16"


@pytest.mark.parametrize("case, flags, has_gpu, width, why", [
    ("AVX2-only CPU", AVX2_CPU, False, 256, "no bf16 dot-product units"),
    ("GPU", BF16_CPU, True, 256, "GPU"),
    ("narrow model", BF16_CPU, False, 128, "too narrow"),
])
def test_auto_keeps_float32_and_xla_elsewhere(case, flags, has_gpu, width, why):
    chosen = precision.choose("auto", True, _gpt(width), flags=flags, has_gpu=has_gpu)
    assert (chosen.policy, chosen.jit_compile) == ("float32", True), case
    assert why in chosen.reason, chosen.reason


def test_auto_keeps_float32_for_an_lstm():
    lstm = zoo.LstmLM(vocabulary_size=40, hidden_dim=512, num_layers=1)
    chosen = precision.choose("auto", True, lstm, flags=BF16_CPU, has_gpu=False)
    assert chosen.policy == "float32" and "GPT and BERT only" in chosen.reason


def test_an_explicit_precision_is_kept_as_asked(wide_gpt):
    for asked, jit in (("float32", True), ("mixed_bfloat16", True), ("float32", False)):
        chosen = precision.choose(asked, jit, wide_gpt, flags=BF16_CPU, has_gpu=False)
        assert (chosen.policy, chosen.jit_compile) == (asked, jit)


def test_rebuilt_model_computes_in_bf16_with_the_same_weights(wide_gpt):
    rebuilt = precision.rebuilt_in(wide_gpt, "mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    assert rebuilt.dtype_policy.name == "mixed_bfloat16"
    assert all(w.dtype == "float32" for w in rebuilt.weights)
    for before, after in zip(wide_gpt.get_weights(), rebuilt.get_weights()):
        np.testing.assert_array_equal(before, after)
    ids = np.random.default_rng(0).integers(0, 40, size=(2, 16)).astype("int32")
    reference = keras.ops.convert_to_numpy(wide_gpt(ids))
    logits = keras.ops.convert_to_numpy(rebuilt(ids))
    assert logits.dtype == np.float32  # the zoo's logits stay float32 under mixed precision
    spread = np.abs(reference).max()
    assert np.abs(logits - reference).max() < 0.05 * spread  # bf16 rounding, not another model


def test_auto_run_records_the_precision_it_chose(tmp_path, monkeypatch):
    """A recipe run under 'auto' on a (pretended) bf16 CPU trains the rebuilt bf16 model,
    saves a float32 model folder and names the choice in metrics.json."""
    monkeypatch.setattr(precision.cpu, "has_bf16_dot_product", lambda flags=None: True)
    monkeypatch.setattr(precision, "MIN_BF16_WIDTH", 16)
    metrics = zoo.training.run_recipe(
        "gpt-shakespeare-char", str(tmp_path / "run"), verbose=0, model="gpt-nano",
        model_overrides="num_layers=1,hidden_dim=16,num_heads=2,intermediate_dim=32", block_size=16,
        batch_size=8, iterations=20, eval_interval=10, eval_windows=64, warmup_steps=2, learning_rate=3e-3)
    assert (metrics["precision"], metrics["jit_compile"]) == ("mixed_bfloat16", False)
    assert "bf16 units" in metrics["precision_reason"]
    assert metrics["history"][-1]["loss"] < metrics["history"][0]["loss"]
    loaded = zoo.load(str(tmp_path / "run" / "model"))
    assert loaded.model.dtype_policy.name == "float32"


def test_auto_is_the_default_of_the_char_lm_and_fine_tuning_recipes_only():
    defaults = {name: zoo.training.recipe_options(name)["precision"][0] for name in zoo.training.list_recipes()}
    assert {name for name, value in defaults.items() if value == "auto"} == {
        "gpt-shakespeare-char", "lstm-shakespeare-char", "bert-sentiment"}, defaults
    assert set(defaults.values()) == {"auto", "float32"}


def test_sentiment_pads_less_when_xla_is_off():
    """Under XLA every padded length is a compilation, so bert-sentiment's buckets are 16 tokens
    wide; without XLA (bf16 on a bf16 CPU) lengths are free and the buckets are 4 wide."""
    from zoo.training.recipes import bert_sentiment

    assert bert_sentiment.bucket_width({"bucket_width": 0}, jit_compile=True) == 16
    assert bert_sentiment.bucket_width({"bucket_width": 0}, jit_compile=False) == 4
    assert bert_sentiment.bucket_width({"bucket_width": 8}, jit_compile=False) == 8


def test_sentiment_buckets_follow_the_steps_as_a_multi_replica_cpu_run_compiles_them():
    """The runner trains several replicas on CPUs without XLA even when the precision asks
    for it; the recipe's buckets must then be the narrow ones."""
    from zoo.training.recipes import bert_sentiment

    with_xla = precision.choose("float32", True, model=None)
    assert with_xla.jit_compile
    one_device = tf.distribute.get_strategy()
    two_cpus = types.SimpleNamespace(num_replicas_in_sync=2)
    options = {"bucket_width": 0}
    assert bert_sentiment.steps_bucket_width(options, with_xla, one_device) == 16
    expected = 16 if tf.config.list_logical_devices("GPU") else 4
    assert bert_sentiment.steps_bucket_width(options, with_xla, two_cpus) == expected
