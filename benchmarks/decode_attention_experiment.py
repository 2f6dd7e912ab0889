"""Experiment: what a decode-specific attention core would buy zoo.generate on gpt2.

    python benchmarks/decode_attention_experiment.py [--runs 5] [--out benchmarks/results]

Not a change to zoo: a measurement for the owner of ``zoo/layers/attention_core.py``.
During one-token decoding the core's ``einsum("bqhd,bkhd->bhqk")`` over the
(B, L, H, D) cache becomes, under XLA on CPU, a per-layer transpose (copy)
of the whole key and value cache plus batched matrix-vector dots that XLA
emits as naive loop kernels when batch > 1 (slow to compile, slow to run).
With a single query (T_q == 1) the same numbers are a broadcast multiply and
a reduction, which XLA fuses into one loop each, with no copies.

This script traces the gpt2 decode loop twice on the same model and weights:
``current`` (the core as it is) and ``proposed`` (the inline core swapped, only while
that loop is traced, for :func:`single_query_attention` whenever T_q == 1),
checks the greedy tokens are identical, and reports first-call time and
tokens/s for batch 1 and 8 (prompt 16 + 64 new tokens).
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo import generation  # noqa: E402
from zoo.layers import attention_core  # noqa: E402

PROMPT_LENGTH, NEW_TOKENS = 16, 64


def single_query_attention(query, key, value, mask, scale, return_weights):
    """The attention core for one query per row, as multiply + reduce.

    query (B, 1, H, D); key, value (B, K, H, D); mask bool (B, 1, K) or None.
    """
    scores = tf.reduce_sum(query * key, axis=-1)  # (B, K, H)
    scores = tf.transpose(scores, [0, 2, 1])[:, :, None, :] * tf.cast(scale, scores.dtype)  # (B, H, 1, K)
    weights = attention_core.masked_softmax(scores, None if mask is None else mask[:, None])
    per_key = tf.transpose(weights[:, :, 0, :], [0, 2, 1])[..., None]  # (B, K, H, 1)
    output = tf.reduce_sum(per_key * value, axis=1)[:, None]  # (B, 1, H, D)
    return (output, weights) if return_weights else output


def proposed_core():
    def make_core(current):
        def core(query, key, value, mask, scale, return_weights):
            if query.shape[1] == 1:
                return single_query_attention(query, key, value, mask, scale, return_weights)
            return current(query, key, value, mask, scale, return_weights)

        return core

    return attention_core.inline_core_replaced(make_core)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    model = zoo.build("gpt2", dropout=0.0)
    rng = np.random.default_rng(0)
    results = []
    for batch in args.batch_sizes:
        prompts = rng.integers(0, model.config.vocabulary_size, (batch, PROMPT_LENGTH)).tolist()
        loops, firsts, outputs = {}, {}, {}
        for name in ("current", "proposed"):
            cache = generation.compiled_loops(model)
            cache.clear()
            context = proposed_core() if name == "proposed" else contextlib.nullcontext()
            start = time.perf_counter()
            with context:  # the swap only matters while the loop is traced
                outputs[name] = generation.generate(model, prompts, max_new_tokens=NEW_TOKENS)
            firsts[name] = time.perf_counter() - start
            loops[name] = dict(cache)
        times = {name: [] for name in loops}
        for _ in range(args.runs):
            for name in loops:
                cache.clear()
                cache.update(loops[name])
                start = time.perf_counter()
                generation.generate(model, prompts, max_new_tokens=NEW_TOKENS)
                times[name].append(time.perf_counter() - start)
        for name in loops:
            median = statistics.median(times[name])
            results.append(dict(variant=name, batch_size=batch, first_call_s=round(firsts[name], 3),
                                median_s=round(median, 4), run_times_s=[round(t, 4) for t in times[name]],
                                tokens_per_s=round(batch * NEW_TOKENS / median, 2),
                                same_tokens_as_current=outputs[name] == outputs["current"]))
            print(json.dumps(results[-1]), flush=True)

    lines = ["# Decode attention experiment: gpt2 greedy, prompt 16 + 64 new tokens", "",
             "`current` = zoo's attention core as committed; `proposed` = multiply + reduce when T_q == 1 "
             "(see benchmarks/decode_attention_experiment.py). Same model, same weights, same process.", "",
             "| batch | variant | tokens/s | first call (s) | same tokens |", "|---:|---|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r['batch_size']} | {r['variant']} | {r['tokens_per_s']:.1f} | "
                     f"{r['first_call_s']:.2f} | {r['same_tokens_as_current']} |")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "decode_attention_experiment.json"), "w") as file:
        json.dump({"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                   "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()], "results": results}, file, indent=2)
    with open(os.path.join(args.out, "decode_attention_experiment.md"), "w") as file:
        file.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
