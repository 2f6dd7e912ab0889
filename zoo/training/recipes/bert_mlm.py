"""``bert-mlm``: masked-language-model pretraining of a BERT on tiny Shakespeare.

Text: the blank-line-separated speeches of tiny Shakespeare, on nanoGPT's
90 % / 10 % character split. A WordPiece vocabulary is learned from the
training speeches (tensorflow-text's learner via keras-hub). Each speech is
``[CLS] tokens [SEP]`` (truncated to ``sequence_length``), and masking is
keras-hub's ``MaskedLMMaskGenerator`` (BERT's 15 % selection, 80 % [MASK] /
10 % random / 10 % kept), applied afresh to every training batch in the
``tf.data`` pipeline; the validation batches are masked once (cached) so
every evaluation sees the same masks. Reported: masked-token accuracy and
loss on the validation speeches.
"""

import keras
import keras_hub
import tensorflow as tf

import zoo
from zoo import data
from zoo.overrides import parse_overrides
from zoo.tokenizers import train_wordpiece
from zoo.training.batching import split_batches, wrap
from zoo.training.options import Option
from zoo.training.task import Recipe, Task

UNSELECTABLE = ("[PAD]", "[CLS]", "[SEP]")


def _masked_batches(speeches, tokenizer, options, generator, shuffle_seed=None, training=False):
    ids = {t: tokenizer.token_to_id(t) for t in ("[PAD]", "[CLS]", "[SEP]")}
    if ids["[PAD]"] != 0:
        raise ValueError("The WordPiece vocabulary must have [PAD] at id 0 (the padding value).")
    length = options["sequence_length"]
    dataset = tf.data.Dataset.from_tensor_slices(tf.constant(speeches))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(speeches), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.map(lambda text: wrap(tokenizer(text), ids["[CLS]"], ids["[SEP]"], length),
                          num_parallel_calls=tf.data.AUTOTUNE)
    dataset = split_batches(dataset, lambda x: tf.shape(x)[0], length, options["batch_size"],
                            options["bucket_width"], training)

    def mask(token_ids):
        masked = generator(token_ids)
        inputs = {
            "token_ids": masked["token_ids"],
            "padding_mask": tf.cast(token_ids != 0, tf.int32),
            "segment_ids": tf.zeros_like(token_ids),
            "mask_positions": masked["mask_positions"],
        }
        return inputs, masked["mask_ids"], masked["mask_weights"]

    return dataset.map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def _setup(options, initial_epoch):
    speeches = data.shakespeare_paragraphs(options["text_file"] or None)
    train_text, val_text = speeches["train"], speeches["val"]
    if options["max_train_examples"]:
        train_text = train_text[: options["max_train_examples"]]
        val_text = val_text[: max(1, options["max_train_examples"] // 8)]
    tokenizer = train_wordpiece(train_text, options["vocabulary_size"])
    vocabulary = tokenizer.get_vocabulary()

    generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=len(vocabulary),
        mask_selection_rate=options["mask_rate"],
        mask_token_id=tokenizer.token_to_id("[MASK]"),
        mask_selection_length=options["max_predictions"],
        unselectable_token_ids=[tokenizer.token_to_id(t) for t in UNSELECTABLE],
    )
    train = _masked_batches(train_text, tokenizer, options, generator,
                            shuffle_seed=options["seed"] + initial_epoch, training=True).prefetch(tf.data.AUTOTUNE)
    validation = _masked_batches(val_text, tokenizer, options, generator).cache()

    overrides = parse_overrides([p for p in options["model_overrides"].split(",") if p.strip()])
    overrides.update(vocabulary_size=len(vocabulary), max_sequence_length=options["sequence_length"],
                     dropout=options["dropout"])
    backbone = zoo.build(options["model"], **overrides)
    backbone.pooler.trainable = False  # the MLM loss never reaches the [CLS] pooler
    model = zoo.BertMaskedLM(backbone)

    def evaluate(model):
        result = model.evaluate(validation, verbose=0, return_dict=True)
        return {"val_loss": float(result["loss"]), "val_masked_accuracy": float(result["masked_accuracy"]),
                "vocabulary_size": len(vocabulary), "train_speeches": len(train_text),
                "val_speeches": len(val_text)}

    return Task(
        model=model,
        train=train,
        epochs=options["epochs"],
        total_steps=options["epochs"] * int(train.cardinality()),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="masked_accuracy")],
        validation=validation,
        evaluate=evaluate,
        tokenizer=tokenizer,
    )


BERT_MLM = Recipe(
    name="bert-mlm",
    description="BERT masked-LM pretraining on tiny Shakespeare speeches (keras-hub MaskedLMMaskGenerator)",
    options={
        "model": Option("bert-mini", "zoo BERT preset (vocabulary replaced by the learned WordPiece one)"),
        "model_overrides": Option("", "preset config overrides, e.g. 'num_layers=2,hidden_dim=128'"),
        "vocabulary_size": Option(4000, "WordPiece vocabulary size to learn (an upper bound)"),
        "sequence_length": Option(128, "tokens per speech, [CLS] and [SEP] included"),
        "batch_size": Option(32, "speeches per optimizer step"),
        "bucket_width": Option(16, "batches are padded to a multiple of this many tokens"),
        "epochs": Option(20, "passes over the training speeches"),
        "mask_rate": Option(0.15, "fraction of tokens selected for prediction"),
        "max_predictions": Option(20, "predicted positions per speech (mask_selection_length)"),
        "dropout": Option(0.1, "dropout rate"),
        "learning_rate": Option(5e-4, "peak learning rate"),
        "min_learning_rate": Option(5e-5, "final learning rate"),
        "weight_decay": Option(0.01, "AdamW weight decay"),
        "beta_2": Option(0.98, "AdamW beta_2"),
        "max_train_examples": Option(0, "use only this many training speeches (0 = all); for quick runs"),
        "text_file": Option("", "pretrain on this UTF-8 text file (blank-line-separated passages)"),
    },
    setup=_setup,
    goal="report masked-token accuracy",
)
