"""Character-level language models on tiny Shakespeare: ``gpt-shakespeare-char`` and
``lstm-shakespeare-char``.

Data and metric are nanoGPT's so numbers compare with it: vocabulary = the
sorted characters of the whole file, first 90 % of the characters train,
last 10 % validate, loss = mean cross-entropy in nats per character (here
over every non-overlapping window of the validation text, see
``zoo.data.char_eval_windows``). One Keras "epoch" is ``eval_interval``
optimizer steps, after which the validation loss is computed and a
checkpoint written (nanoGPT's ``eval_interval``).

nanoGPT's CPU recipe at the same settings::

    zoo train gpt-shakespeare-char --model gpt-nano --block-size 64 --batch-size 12 \
        --iterations 2000 --dropout 0.0 --learning-rate 1e-3 --min-learning-rate 1e-4
"""

import math

import keras

import zoo
from zoo import data
from zoo.overrides import parse_overrides
from zoo.presets import get_preset
from zoo.tokenizers import character_tokenizer
from zoo.training.options import Option, precision_option
from zoo.training.task import Recipe, Task


def _options(model, block_size, batch_size, iterations, learning_rate, min_learning_rate, dropout, overrides=""):
    return {
        "model": Option(model, "zoo preset to train (its vocabulary is replaced by the corpus' characters)"),
        "model_overrides": Option(overrides, "preset config overrides, e.g. 'num_layers=6,hidden_dim=384'"),
        "block_size": Option(block_size, "characters of context per training window"),
        "batch_size": Option(batch_size, "windows per optimizer step"),
        "iterations": Option(iterations, "optimizer steps (rounded up to a multiple of eval_interval)"),
        "eval_interval": Option(250, "optimizer steps between validation evaluations and checkpoints"),
        "eval_batch_size": Option(64, "windows per validation batch"),
        "eval_windows": Option(0, "validation windows evaluated every eval_interval, evenly spaced "
                                  "(0 = all); the final val_loss always uses the whole split"),
        "steps_per_execution": Option(50, "optimizer steps per compiled call (a tiny model's step "
                                          "is shorter than a Python round trip)"),
        "dropout": Option(dropout, "dropout rate of the model"),
        "learning_rate": Option(learning_rate, "peak learning rate (AdamW, after warmup)"),
        "min_learning_rate": Option(min_learning_rate, "learning rate at the end of the cosine decay"),
        "text_file": Option("", "train on this UTF-8 text file instead of tiny Shakespeare"),
        # bf16 measured: gpt-mini's loss after 150 and 500 steps within 0.003 of float32's.
        "precision": precision_option("auto"),
    }


def _setup(options, initial_epoch):
    corpus = data.shakespeare_char(options["text_file"] or None)
    overrides = parse_overrides([p for p in options["model_overrides"].split(",") if p.strip()])
    overrides.update(vocabulary_size=corpus.vocabulary_size, dropout=options["dropout"])
    preset = get_preset(options["model"])
    if preset.family == "gpt":
        overrides["max_sequence_length"] = options["block_size"]
    elif preset.family != "lstm_lm":
        raise ValueError(f"Character LM recipes train a GPT or LSTM LM preset; {options['model']!r} is a {preset.family}.")
    model = zoo.build(options["model"], **overrides)

    interval = options["eval_interval"]
    if interval < 1 or options["iterations"] < 1:
        raise ValueError("iterations and eval_interval must be >= 1.")
    epochs = math.ceil(options["iterations"] / interval)
    # A resumed run draws fresh windows rather than replaying the first epochs' ones.
    train = data.char_windows(corpus.train_ids, options["block_size"], options["batch_size"],
                              seed=options["seed"] + 7919 * initial_epoch)
    validation = data.char_eval_windows(corpus.val_ids, options["block_size"], options["eval_batch_size"])
    periodic = validation if not options["eval_windows"] else data.char_eval_windows(
        corpus.val_ids, options["block_size"], options["eval_batch_size"], max_windows=options["eval_windows"])

    def evaluate(model):
        result = model.evaluate(validation, verbose=0, return_dict=True)
        return {"val_loss": float(result["loss"]), "val_characters": int(
            sum(int(x.shape[0]) * int(x.shape[1]) for x, _ in validation))}

    return Task(
        model=model,
        train=train,
        steps_per_epoch=interval,
        epochs=epochs,
        total_steps=epochs * interval,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        validation=periodic,
        evaluate=evaluate,
        tokenizer=character_tokenizer(corpus.vocabulary),
    )


GPT_SHAKESPEARE_CHAR = Recipe(
    name="gpt-shakespeare-char",
    description="character-level GPT on tiny Shakespeare (nanoGPT's split and metric)",
    # Measured: val loss 1.4908 after 2,750 steps (22 min), 1.4638 after 3,750 (29 min) in float32;
    # in bf16 (auto, on a machine half as fast): 1.4947 (23 min), 1.4641 (32 min).
    options=_options("gpt-mini", block_size=128, batch_size=32, iterations=3750, learning_rate=2e-3,
                     min_learning_rate=2e-4, dropout=0.1),
    setup=_setup,
    goal="validation loss <= 1.50 within 30 minutes; at nanoGPT's CPU settings, 1.886 faster than 87 s",
)

LSTM_SHAKESPEARE_CHAR = Recipe(
    name="lstm-shakespeare-char",
    description="character-level LSTM LM on tiny Shakespeare (same split and metric as the GPT)",
    options=_options("lstm-lm-char", block_size=128, batch_size=32, iterations=3000, learning_rate=2e-3,
                     min_learning_rate=1e-4, dropout=0.1, overrides="hidden_dim=256"),
    setup=_setup,
    goal="report the validation loss beside the GPT's",
)
