"""The quality gate of quantized decoders: what int8 / int4 weights cost on the task.

A quantized decoder is scored against the float model on real held-out data,
and the export fails (nothing is written) when the cost is over the limit:

* GPT: perplexity of held-out Tiny Shakespeare (the last 10 %), the decoder
  reading non-overlapping windows from an empty cache, against the Keras
  model's; limit ``perplexity_increase`` (a fraction: 0.02 = 2 %).
* Seq2seq: corpus BLEU (keras-hub ``Bleu``) of greedy translations of the
  Multi30k test set by the float ONNX encoder + quantized decoder, against the
  same with the float decoder (token-identical to ``zoo.generate``, checked by
  the decoder's own validation); limit ``bleu_drop`` (BLEU points).

Both also record greedy-token agreement: the share of generated tokens that
equal the float decoder's, position by position, on real prompts (one
changed token usually changes the rest of its row). GPT records as well the
next-token agreement on the held-out windows, where every position reads the
real text: how often the quantized arg-max equals the Keras model's, and the
mean KL divergence of its next-token distribution from the Keras model's. An
export scores a sample (``EXPORT_SAMPLE``); ``whole_split=True`` scores
everything.

A model without a tokenizer (random weights, no text) cannot be scored: the
record says so and the gate does not apply (the logit deltas are still
recorded by the caller).
"""

import numpy as np
import tensorflow as tf

from export import task_metrics
from export.onnx import generate

DEFAULT_LIMITS = {"perplexity_increase": 0.02, "bleu_drop": 0.5}
EXPORT_SAMPLE = {"windows": 16, "prompts": 8, "sentences": 100}
AGREEMENT_NEW_TOKENS = 32


def _agreement(reference_rows, quantized_rows):
    same = total = identical = 0
    for ref, got in zip(reference_rows, quantized_rows):
        length = max(len(ref), len(got))
        same += sum(a == b for a, b in zip(ref, got))
        total += length
        identical += ref == got
    return {"tokens": total, "agreement": same / max(total, 1),
            "identical_rows": identical, "rows": len(reference_rows)}


def _next_token_agreement(reference_log_probs, quantized_log_probs):
    """(positions whose arg-max agrees, summed KL(reference || quantized)) of (B, T, V) log-probabilities."""
    same = int(np.sum(reference_log_probs.argmax(-1) == quantized_log_probs.argmax(-1)))
    kl = np.sum(np.exp(reference_log_probs) * (reference_log_probs - quantized_log_probs))
    return same, float(kl)


def perplexity_verdict(keras_perplexity, artifact_perplexity, limits):
    """{"change", "limit", "passed"} of a quantized language model against the float one."""
    limit = {**DEFAULT_LIMITS, **(limits or {})}["perplexity_increase"]
    increase = artifact_perplexity / keras_perplexity - 1.0
    return {"change": increase, "limit": {"perplexity_increase": limit}, "passed": bool(increase <= limit)}


def _gpt_quality(info, reference_paths, quantized_paths, limits, whole_split):
    x, y = task_metrics.held_out_windows(info, max_windows=EXPORT_SAMPLE["windows"], whole_split=whole_split)
    if x is None:
        return {"measured": False, "note": "held-out text too short for one window"}
    quantized = generate.GptRunner(quantized_paths["decoder"])
    keras_nll = quantized_nll = kl = 0.0
    count = same = 0
    for start in range(0, len(x), 64):
        inputs = {"token_ids": x[start:start + 64], "padding_mask": np.ones_like(x[start:start + 64])}
        keras_log_probs = task_metrics.log_softmax(np.asarray(info.model(inputs, training=False)))
        quantized_log_probs = task_metrics.log_softmax(quantized.window_logits(x[start:start + 64]))
        nll, n = task_metrics.targets_negative_log_likelihood(keras_log_probs, y[start:start + 64])
        keras_nll += nll
        count += n
        quantized_nll += task_metrics.targets_negative_log_likelihood(quantized_log_probs, y[start:start + 64])[0]
        window_same, window_kl = _next_token_agreement(keras_log_probs, quantized_log_probs)
        same += window_same
        kl += window_kl
    keras_ppl, quantized_ppl = float(np.exp(keras_nll / count)), float(np.exp(quantized_nll / count))

    prompts_count = len(x) if whole_split else EXPORT_SAMPLE["prompts"]
    limit = info.config.get("max_sequence_length") or 10**9
    new_tokens = max(1, min(AGREEMENT_NEW_TOKENS, limit - x.shape[1] // 2))
    prompts = [row[: x.shape[1] // 2].tolist() for row in x[:prompts_count]]
    reference = generate.GptRunner(reference_paths["decoder"]).generate(prompts, new_tokens)
    agreement = _agreement(reference, quantized.generate(prompts, new_tokens))
    return {
        "measured": True,
        "task": "Tiny Shakespeare held-out perplexity (last 10%)",
        "examples": int(count),
        "keras": keras_ppl,
        "artifact": quantized_ppl,
        **perplexity_verdict(keras_ppl, quantized_ppl, limits),
        "greedy_agreement": {**agreement, "prompt_tokens": len(prompts[0]), "new_tokens": new_tokens},
        "next_token_agreement": {"positions": int(count), "agreement": same / count, "mean_kl_nats": kl / count},
    }


def _translate(runner, info, sources, max_new_tokens):
    start = int(info.generation.get("start_token_id", 1))
    stop = info.generation.get("stop_token_ids")
    rows = []
    for begin in range(0, len(sources), 100):
        rows.extend(runner.generate(sources[begin:begin + 100], max_new_tokens,
                                    stop_token_ids=stop, start_token_id=start))
    stops = set(stop or [])
    texts = []
    for ids in rows:
        kept = [t for t in ids if t not in stops] or [0]
        text = info.target_tokenizer.detokenize(tf.constant([kept], tf.int32))[0]
        text = text.numpy() if hasattr(text, "numpy") else text
        texts.append(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return rows, texts


def _seq2seq_quality(info, reference_paths, quantized_paths, limits, whole_split):
    from zoo.data import multi30k_pairs
    from zoo.training.recipes.seq2seq_multi30k import corpus_bleu

    if info.target_tokenizer is None:
        return {"measured": False, "note": "no target tokenizer: translations cannot be scored"}
    sources, targets = multi30k_pairs("test")
    if not whole_split:
        sources, targets = sources[: EXPORT_SAMPLE["sentences"]], targets[: EXPORT_SAMPLE["sentences"]]
    context = info.config["max_sequence_length"]
    encoded = info.tokenizer(tf.constant(sources))
    encoded = encoded.to_list() if hasattr(encoded, "to_list") else encoded
    source_ids = [[int(t) for t in row][: context - 1] or [0] for row in encoded]
    new_tokens = context - 1
    references = [line.lower() for line in targets]
    reference_runner = generate.Seq2SeqRunner(reference_paths["encoder"], reference_paths["decoder"])
    quantized_runner = generate.Seq2SeqRunner(reference_paths["encoder"], quantized_paths["decoder"])
    reference_rows, reference_texts = _translate(reference_runner, info, source_ids, new_tokens)
    quantized_rows, quantized_texts = _translate(quantized_runner, info, source_ids, new_tokens)
    reference_bleu = corpus_bleu(reference_texts, references)
    quantized_bleu = corpus_bleu(quantized_texts, references)
    drop = reference_bleu - quantized_bleu
    return {
        "measured": True,
        "task": "Multi30k test BLEU, greedy (keras-hub Bleu, lowercased references)",
        "examples": len(sources),
        "float_decoder": reference_bleu,
        "artifact": quantized_bleu,
        "change": -drop,
        "limit": {"bleu_drop": limits["bleu_drop"]},
        "passed": bool(drop <= limits["bleu_drop"]),
        "greedy_agreement": _agreement(reference_rows, quantized_rows),
    }


def decoder_quality(info, reference_paths, quantized_paths, limits=None, whole_split=False):
    """The task cost of a quantized decoder: a record with ``measured``, and when measured
    the metric before / after, ``change``, ``limit``, ``passed`` and ``greedy_agreement``.

    ``reference_paths`` / ``quantized_paths``: {"decoder": path[, "encoder": path]}.
    """
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    if info.tokenizer is None:
        return {"measured": False, "note": "no tokenizer: the model has no text to be scored on"}
    scorers = {"gpt": _gpt_quality, "seq2seq": _seq2seq_quality}
    if info.family not in scorers:
        return {"measured": False, "note": f"no decoder task metric for the {info.family} family"}
    try:
        return scorers[info.family](info, reference_paths, quantized_paths, limits, whole_split)
    except Exception as error:  # noqa: BLE001 - e.g. the held-out text has characters the tokenizer lacks
        return {"measured": False, "note": "the held-out text could not be scored with this model's tokenizer",
                "error": f"{type(error).__name__}: {str(error).strip()[:200]}"}


def describe_failure(key, quality):
    """One line: what the gate measured, the limit, and how to raise it."""
    limit_name, limit = next(iter(quality["limit"].items()))
    if limit_name == "perplexity_increase":
        return (f"{key}: held-out perplexity rose {quality['change']:.2%} "
                f"({quality['keras']:.4f} -> {quality['artifact']:.4f}), over the {limit:.2%} limit; "
                "raise it with quality_limits={'perplexity_increase': ...} (--max-perplexity-increase) "
                "or export without this quantization")
    return (f"{key}: greedy BLEU dropped {-quality['change']:.2f} points "
            f"({quality['float_decoder']:.2f} -> {quality['artifact']:.2f}), over the {limit:.2f} limit; "
            "raise it with quality_limits={'bleu_drop': ...} (--max-bleu-drop) "
            "or export without this quantization")
