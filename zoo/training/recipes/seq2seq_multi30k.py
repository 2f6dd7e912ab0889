"""``seq2seq-multi30k``: LSTM encoder-decoder with attention, German -> English on Multi30k.

Data: Multi30k's own train / val / test split (29,000 / 1,014 / 1,000
pairs). One WordPiece vocabulary per language is learned from the training
split (lowercased, as most Multi30k results are). Targets are
``[CLS] tokens [SEP]`` ([CLS] starts decoding, [SEP] ends it); the decoder is
teacher-forced on ``target[:-1]`` to predict ``target[1:]``, padding
weighted out of the loss. Pairs are batched in length buckets.

Quality: BLEU on the test set, the hypotheses decoded with beam search by
``zoo.generate`` (one XLA-compiled loop) and scored by keras-hub's ``Bleu``
metric (SacreBLEU's 13a tokenization, corpus-level, 4-grams) against the
lowercased reference sentences. Reported on the 0-100 scale.
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


def _pairs(sources, targets, source_tokenizer, target_tokenizer, options, shuffle_seed=None, training=False):
    start, end = target_tokenizer.token_to_id("[CLS]"), target_tokenizer.token_to_id("[SEP]")
    length = options["max_length"]
    dataset = data.text_pairs(sources, targets, shuffle_seed=shuffle_seed)

    def encode(source, target):
        source_ids = tf.cast(source_tokenizer(source)[:length], tf.int32)
        target_ids = wrap(target_tokenizer(target), start, end, length + 1)
        return source_ids, target_ids[:-1], target_ids[1:]

    dataset = dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = split_batches(dataset, lambda s, t, y: tf.maximum(tf.shape(s)[0], tf.shape(t)[0]),
                            length, options["batch_size"], options["bucket_width"], training)

    def to_inputs(source, target_in, target_out):
        inputs = {
            "source_ids": source,
            "source_padding_mask": tf.cast(source != 0, tf.int32),
            "target_ids": target_in,
            "target_padding_mask": tf.cast(target_in != 0, tf.int32),
        }
        return inputs, target_out, tf.cast(target_out != 0, tf.float32)

    return dataset.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)


def translate(model, source_tokenizer, target_tokenizer, sentences, options):
    """Beam-search translations of ``sentences`` (strings), in chunks of a fixed batch size."""
    start, end = target_tokenizer.token_to_id("[CLS]"), target_tokenizer.token_to_id("[SEP]")
    length = options["max_length"]
    encoded = source_tokenizer(tf.constant(sentences))
    encoded = encoded.to_list() if hasattr(encoded, "to_list") else encoded  # keras-hub may return lists
    rows = [list(ids)[:length] or [source_tokenizer.token_to_id("[UNK]")] for ids in encoded]
    chunk = options["translate_batch_size"]
    outputs = []
    for begin in range(0, len(rows), chunk):
        part = rows[begin: begin + chunk]
        padded = part + [part[-1]] * (chunk - len(part))  # one batch size: one compiled loop
        new = zoo.generate(model, padded, max_new_tokens=length, sampler="beam",
                           num_beams=options["num_beams"], length_penalty=options["length_penalty"],
                           start_token_id=start, stop_token_ids=[end], bucket_size=length)
        outputs.extend(new[: len(part)])
    texts = []
    for ids in outputs:
        ids = [t for t in ids if t != end] or [target_tokenizer.token_to_id("[UNK]")]
        text = target_tokenizer.detokenize(tf.constant([ids]))[0]  # keras-hub: a str or bytes eagerly
        texts.append(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return texts


def corpus_bleu(hypotheses, references):
    """Corpus BLEU (0-100) with keras-hub's ``Bleu`` (SacreBLEU 13a tokenization)."""
    metric = keras_hub.metrics.Bleu()
    metric.update_state(tf.constant([[r] for r in references]), tf.constant(hypotheses))
    return 100.0 * float(metric.result())


def _setup(options, initial_epoch):
    train_de, train_en = data.multi30k_pairs("train")
    val_de, val_en = data.multi30k_pairs("val")
    test_de, test_en = data.multi30k_pairs("test")
    if options["max_train_examples"]:
        count = options["max_train_examples"]
        train_de, train_en = train_de[:count], train_en[:count]
        val_de, val_en = val_de[: max(8, count // 8)], val_en[: max(8, count // 8)]
    if options["bleu_examples"]:
        test_de, test_en = test_de[: options["bleu_examples"]], test_en[: options["bleu_examples"]]
    source_tokenizer = train_wordpiece(train_de, options["source_vocabulary_size"])
    target_tokenizer = train_wordpiece(train_en, options["target_vocabulary_size"])

    overrides = parse_overrides([p for p in options["model_overrides"].split(",") if p.strip()])
    overrides.update(
        source_vocabulary_size=source_tokenizer.vocabulary_size(),
        target_vocabulary_size=target_tokenizer.vocabulary_size(),
        max_sequence_length=options["max_length"] + 1,
        dropout=options["dropout"],
    )
    model = zoo.build(options["model"], **overrides)
    train = _pairs(train_de, train_en, source_tokenizer, target_tokenizer, options,
                   shuffle_seed=options["seed"] + initial_epoch, training=True).prefetch(tf.data.AUTOTUNE)
    validation = _pairs(val_de, val_en, source_tokenizer, target_tokenizer, options).cache()

    def evaluate(model):
        val = model.evaluate(validation, verbose=0, return_dict=True)
        hypotheses = translate(model, source_tokenizer, target_tokenizer, test_de, options)
        references = [line.lower() for line in test_en]
        return {
            "val_loss": float(val["loss"]),
            "test_bleu": corpus_bleu(hypotheses, references),
            "bleu_sentences": len(test_de),
            "num_beams": options["num_beams"],
            "examples": [{"source": s, "reference": r, "hypothesis": h}
                         for s, r, h in list(zip(test_de, references, hypotheses))[:5]],
            "source_vocabulary_size": source_tokenizer.vocabulary_size(),
            "target_vocabulary_size": target_tokenizer.vocabulary_size(),
        }

    return Task(
        model=model,
        train=train,
        epochs=options["epochs"],
        total_steps=options["epochs"] * int(train.cardinality()),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        validation=validation,
        evaluate=evaluate,
        tokenizer=source_tokenizer,
        target_tokenizer=target_tokenizer,
        generation={"start_token_id": int(target_tokenizer.token_to_id("[CLS]")),
                    "stop_token_ids": [int(target_tokenizer.token_to_id("[SEP]"))]},
    )


SEQ2SEQ_MULTI30K = Recipe(
    name="seq2seq-multi30k",
    description="LSTM encoder-decoder with attention, German -> English on Multi30k; test BLEU with beam search",
    options={
        "model": Option("seq2seq-lstm-small", "zoo seq2seq preset (vocabularies replaced by the learned ones)"),
        "model_overrides": Option("", "preset config overrides, e.g. 'hidden_dim=512'"),
        "source_vocabulary_size": Option(8000, "German WordPiece vocabulary size to learn (upper bound)"),
        "target_vocabulary_size": Option(8000, "English WordPiece vocabulary size to learn (upper bound)"),
        "max_length": Option(48, "tokens per sentence (longer ones are truncated)"),
        "batch_size": Option(64, "sentence pairs per optimizer step"),
        "bucket_width": Option(16, "batches are padded to a multiple of this many tokens"),
        "epochs": Option(15, "passes over the training pairs"),
        "dropout": Option(0.3, "dropout rate"),
        "learning_rate": Option(2e-3, "peak learning rate"),
        "min_learning_rate": Option(1e-4, "final learning rate"),
        "warmup_steps": Option(200, "linear warmup steps"),
        "weight_decay": Option(0.0, "AdamW weight decay"),
        "beta_2": Option(0.999, "AdamW beta_2"),
        "num_beams": Option(5, "beam width for the test translations"),
        "length_penalty": Option(1.0, "beam length-normalisation exponent"),
        "translate_batch_size": Option(100, "sentences per beam-search call"),
        "bleu_examples": Option(0, "score only the first N test sentences (0 = all 1,000)"),
        "max_train_examples": Option(0, "use only this many training pairs (0 = all); for quick runs"),
    },
    setup=_setup,
    goal="test BLEU >= 25",
)
