"""Do several fine-tuned bert-sentiment runs make different mistakes?

Loads the model folders of finished ``zoo train bert-sentiment`` runs and
reports, on the fixed rt-polarity validation and test splits, the accuracy
of each run, of every probability-averaging ensemble of 2 and 3 runs and of
all of them, and of the uniform "soup" (the average of the runs' weights,
Wortsman et al. 2022; the runs must share an architecture). If ensembles do
not beat their members, the runs' errors are shared: the limit is the model
and data, not the variance of one fine-tuning run.

    python benchmarks/sentiment_ensemble.py runs/sentiment runs/sentiment-seed1 ... \\
        --out benchmarks/results/training/sentiment_ensemble.json
"""

import argparse
import itertools
import json
import os

import numpy as np


def _split_logits(model, tokenizer, split, options):
    """Logits and labels of ``split``, batched with the runs' shared ``options``."""
    from zoo.training.recipes.bert_sentiment import batches

    batch_dataset = batches(split, tokenizer, options)
    logits, labels = [], []
    for inputs, y in batch_dataset:
        logits.append(np.asarray(model.predict_on_batch(inputs)))
        labels.append(y.numpy())
    return np.concatenate(logits), np.concatenate(labels)


def _shared_batching(runs):
    """The runs' common batching options (from their metrics.json): the runs are compared
    sentence by sentence, so every run must see the sentences truncated and ordered alike."""
    found = {}
    for run in runs:
        with open(os.path.join(run, "metrics.json"), encoding="utf-8") as f:
            options = json.load(f)["options"]
        found[run] = {name: options[name] for name in ("max_length", "batch_size", "bucket_width")}
    if len({tuple(sorted(b.items())) for b in found.values()}) != 1:
        raise SystemExit(f"The runs were batched differently; compare runs with equal batching: {found}")
    return found[runs[0]]


def _softmax(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders of finished bert-sentiment runs")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()

    import zoo
    from zoo import data

    splits = data.rt_polarity_splits()
    loaded = {run: zoo.load(os.path.join(run, "model")) for run in args.runs}
    batching = _shared_batching(args.runs)
    names = {run: os.path.basename(os.path.normpath(run)) for run in args.runs}
    probabilities, labels = {}, {}
    for name in ("val", "test"):
        for run, folder in loaded.items():
            logits, run_labels = _split_logits(folder.model, folder.tokenizer, splits[name], batching)
            if name in labels and not np.array_equal(labels[name], run_labels):
                raise RuntimeError("The batches came out in a different order for two runs.")
            labels[name] = run_labels
            probabilities[name, run] = _softmax(logits)

    def accuracy(split, members):
        averaged = sum(probabilities[split, run] for run in members)
        return float((averaged.argmax(-1) == labels[split]).mean())

    rows = []
    sizes = sorted({1, 2, 3, len(args.runs)} & set(range(1, len(args.runs) + 1)))
    for size in sizes:
        for members in itertools.combinations(args.runs, size):
            rows.append({"kind": "single" if size == 1 else f"ensemble of {size}",
                         "runs": [names[run] for run in members],
                         "val_accuracy": accuracy("val", members), "test_accuracy": accuracy("test", members)})

    first = loaded[args.runs[0]]
    weights = [loaded[run].model.get_weights() for run in args.runs]
    if len({tuple(w.shape for w in run_weights) for run_weights in weights}) == 1:
        first.model.set_weights([np.mean(stack, axis=0) for stack in zip(*weights)])
        soup = {}
        for name in ("val", "test"):
            logits, y = _split_logits(first.model, first.tokenizer, splits[name], batching)
            soup[f"{name}_accuracy"] = float((logits.argmax(-1) == y).mean())
        rows.append({"kind": f"soup of {len(args.runs)}", "runs": [names[run] for run in args.runs], **soup})
    else:
        print("No soup: the runs' architectures differ (e.g. mean and cls pooling).")

    print(f"{'kind':<14} {'val':>7} {'test':>7}  runs")
    for row in rows:
        print(f"{row['kind']:<14} {row['val_accuracy']:7.2%} {row['test_accuracy']:7.2%}  {', '.join(row['runs'])}")
    wrong = np.stack([probabilities["test", run].argmax(-1) != labels["test"] for run in args.runs])
    shared = {"all_runs_wrong": float(wrong.all(0).mean()), "some_run_wrong": float(wrong.any(0).mean()),
              "mean_run_wrong": float(wrong.mean())}
    print(f"test errors: {shared['mean_run_wrong']:.2%} per run on average; {shared['all_runs_wrong']:.2%} of "
          f"the sentences every run gets wrong, {shared['some_run_wrong']:.2%} that some run gets wrong")
    singles = [row["test_accuracy"] for row in rows if row["kind"] == "single"]
    combined = [row["test_accuracy"] for row in rows if row["kind"] != "single"]
    print(f"\nbest single run: {max(singles):.2%} test; best ensemble or soup: {max(combined):.2%} test")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"test_examples": int(len(labels["test"])), "test_errors": shared, "rows": rows}, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
