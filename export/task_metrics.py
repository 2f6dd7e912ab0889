"""What int8 quantization costs on the task, not just in logits.

For a model that comes with its tokenizer (a model folder), the quantized
ONNX artifact and the Keras model are scored on real held-out data:

* BERT classifier: accuracy on the rt-polarity test split (``zoo.data``'s
  fixed rng(0) 80/10/10 split), first ``max_examples`` sentences;
* GPT / LSTM LM: perplexity on held-out Tiny Shakespeare (the last 10%,
  nanoGPT's validation split), over non-overlapping windows.

An export scores a sample (fast enough to run on every export); a benchmark
passes ``whole_split=True`` to score every held-out example.

Models without a tokenizer have no text, so only the logit deltas of
``optimize.accuracy_delta`` are recorded for them.
"""

import numpy as np
import tensorflow as tf

from export.savedmodel.text_signatures import bert_ids
from export.specs.base import resolve
from export.validate import onnx_runner


def _batches(rows, size):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def classifier_accuracy(info, path, max_examples=256, batch_size=32, whole_split=False):
    from zoo.data import rt_polarity_splits

    texts, labels = rt_polarity_splits()["test"]
    if not whole_split:
        texts, labels = texts[:max_examples], labels[:max_examples]
    labels = np.asarray(labels)
    pack = tf.function(lambda t: bert_ids(info, t))
    run = onnx_runner(path)
    keras_pred, onnx_pred = [], []
    for chunk in _batches(texts, batch_size):
        ids, segments, mask = (t.numpy() for t in pack(tf.constant(chunk)))
        inputs = {"token_ids": ids, "segment_ids": segments, "padding_mask": mask}
        keras_pred.append(np.argmax(np.asarray(info.model(inputs, training=False)), -1))
        onnx_pred.append(np.argmax(run(inputs)["logits"], -1))
    keras_acc = float(np.mean(np.concatenate(keras_pred) == labels))
    onnx_acc = float(np.mean(np.concatenate(onnx_pred) == labels))
    return {"task": "rt-polarity test accuracy", "examples": int(len(labels)),
            "keras": keras_acc, "artifact": onnx_acc, "delta": onnx_acc - keras_acc}


def log_softmax(logits):
    """Log-probabilities over the last axis of ``logits``, in float64."""
    logits = logits.astype(np.float64)
    logits -= logits.max(-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def targets_negative_log_likelihood(log_probs, targets):
    """(summed negative log-likelihood of ``targets`` under ``log_probs``, count)."""
    picked = np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    return -picked.sum(), picked.size


def negative_log_likelihood(logits, targets):
    """(summed negative log-likelihood of ``targets`` under ``logits``, count), in float64."""
    return targets_negative_log_likelihood(log_softmax(logits), targets)


def held_out_windows(info, max_windows=16, block=64, whole_split=False):
    """Non-overlapping (inputs, next-token targets) windows, each (count, block), of held-out
    Tiny Shakespeare (the last 10 %) in ``info``'s tokenizer; (None, None) if too short."""
    from zoo.corpora import corpus_path

    with open(corpus_path("tinyshakespeare.txt"), encoding="utf-8") as file:
        text = file.read()
    held_out = text[int(len(text) * 0.9):]
    if whole_split:
        max_windows = len(held_out)  # every window; the count below caps it
    else:
        held_out = held_out[: max_windows * block * 8]
    ids = np.asarray(info.tokenizer.tokenize(held_out)).reshape(-1).astype(np.int32)
    limit = info.config.get("max_sequence_length") or block + 1
    block = min(block, limit - 1)
    count = min(max_windows, (len(ids) - 1) // block)
    if count < 1:
        return None, None
    x = ids[: count * block].reshape(count, block)
    y = ids[1: count * block + 1].reshape(count, block)
    return x, y


def lm_perplexity(info, path, max_windows=16, block=64, whole_split=False):
    x, y = held_out_windows(info, max_windows, block, whole_split)
    if x is None:
        return {"task": "held-out perplexity", "examples": 0, "note": "held-out text too short"}
    inputs = {"token_ids": x, "padding_mask": np.ones_like(x)}
    keras_nll, n = negative_log_likelihood(np.asarray(info.model(inputs, training=False)), y)
    onnx_nll, _ = negative_log_likelihood(onnx_runner(path)(inputs)["logits"], y)
    keras_ppl, onnx_ppl = float(np.exp(keras_nll / n)), float(np.exp(onnx_nll / n))
    return {"task": "Tiny Shakespeare held-out perplexity (last 10%)", "examples": int(n),
            "keras": keras_ppl, "artifact": onnx_ppl, "delta": onnx_ppl - keras_ppl}


def task_delta(info, path, whole_split=False):
    """The task metric of ``info``'s spec (``task_metric``) for the artifact at ``path``, or None;
    ``whole_split`` scores every held-out example instead of the export's sample."""
    if info.tokenizer is None or info.spec.task_metric is None:
        return None
    try:
        return resolve(info.spec.task_metric)(info, path, whole_split=whole_split)
    except Exception as error:  # noqa: BLE001 - e.g. the corpus has characters the tokenizer lacks
        return {"task": info.family, "error": f"{type(error).__name__}: {str(error).strip()[:200]}"}
    return None
