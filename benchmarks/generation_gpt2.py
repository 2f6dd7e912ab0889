"""Greedy decoding speed of the ``gpt2`` preset: zoo.generate vs keras-hub's GPT2CausalLM.generate.

    python benchmarks/generation_gpt2.py [--runs 5] [--batch-sizes 1 8] [--out benchmarks/results]

Both models are GPT-2 small (124M) with the same configuration and random
weights (no downloads; speed does not depend on the weights). Each
generates 64 new tokens after a 16-token prompt, stop tokens disabled, so
both do exactly the same amount of work. Measured per batch size:

* first call: a ``generate`` with nothing compiled yet (trace + compile + one
  run), in seconds; the compiled function is dropped and this repeated
  ``--first-calls`` times, and the median reported;
* tokens/s: ``batch * 64 / median(run time)`` over ``--runs`` further calls.

Libraries: ``zoo`` (``zoo.generate``, one XLA-compiled loop); ``keras_hub``
(``GPT2CausalLM.generate`` as configured by default -- on CPU keras-hub leaves
``jit_compile`` off, so this is a TF graph); ``keras_hub_xla`` (the same model
compiled with ``jit_compile=True``, sharing the backbone's weights).

Runs of the two libraries are interleaved so that background load on a
shared machine hits both alike. Writes ``generation_gpt2.json`` and
``generation_gpt2.md`` into ``--out``.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo import generation  # noqa: E402
from zoo.generation import generate  # noqa: E402

PROMPT_LENGTH = 16
NEW_TOKENS = 64


def build_zoo():
    return zoo.build("gpt2", dropout=0.0)


def build_keras_hub(config, jit_compile=None):
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=config.vocabulary_size,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        hidden_dim=config.hidden_dim,
        intermediate_dim=config.intermediate_dim,
        dropout=0.0,
        max_sequence_length=config.max_sequence_length,
    )
    return compile_causal_lm(backbone, jit_compile)


def compile_causal_lm(backbone, jit_compile=None):
    causal_lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    if jit_compile is None:
        causal_lm.compile(sampler="greedy")  # keras-hub's default
    else:
        causal_lm.compile(sampler="greedy", jit_compile=jit_compile)
    return causal_lm


def zoo_runner(model, prompts):
    def run():
        out = generate(model, prompts, max_new_tokens=NEW_TOKENS, sampler="greedy")
        assert all(len(row) == NEW_TOKENS for row in out)

    def reset():
        generation.compiled_loops(model).clear()  # next call retraces + compiles
    return run, reset


def keras_hub_runner(causal_lm, prompts):
    # Without a preprocessor, keras-hub takes ids padded to the total length;
    # padding_mask marks the prompt, and it generates into the rest.
    batch = prompts.shape[0]
    total = PROMPT_LENGTH + NEW_TOKENS
    token_ids = np.zeros((batch, total), np.int32)
    token_ids[:, :PROMPT_LENGTH] = prompts
    mask = np.zeros((batch, total), bool)
    mask[:, :PROMPT_LENGTH] = True
    inputs = {"token_ids": token_ids, "padding_mask": mask}

    def run():
        out = causal_lm.generate(inputs, stop_token_ids=None)
        assert np.asarray(out["token_ids"]).shape == (batch, total)

    def reset():
        causal_lm.generate_function = None
    return run, reset


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(batch_sizes, runs, first_calls, seed=0):
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    zoo_model = build_zoo()
    hub_model = build_keras_hub(zoo_model.config)
    hub_xla = compile_causal_lm(hub_model.backbone, jit_compile=True)
    results = []
    for batch in batch_sizes:
        prompts = rng.integers(0, zoo_model.config.vocabulary_size, (batch, PROMPT_LENGTH)).astype(np.int32)
        runners = {
            "zoo": zoo_runner(zoo_model, prompts.tolist()),
            "keras_hub": keras_hub_runner(hub_model, prompts),
            "keras_hub_xla": keras_hub_runner(hub_xla, prompts),
        }
        firsts = {name: [] for name in runners}
        for _ in range(first_calls):
            for name, (run, reset) in runners.items():
                reset()
                firsts[name].append(timed(run))
        times = {name: [] for name in runners}
        for _ in range(runs):
            for name, (run, _) in runners.items():
                times[name].append(timed(run))
        for name in runners:
            median = statistics.median(times[name])
            results.append(
                dict(
                    library=name,
                    batch_size=batch,
                    prompt_length=PROMPT_LENGTH,
                    new_tokens=NEW_TOKENS,
                    first_call_s=round(statistics.median(firsts[name]), 3),
                    first_call_times_s=[round(t, 3) for t in firsts[name]],
                    median_s=round(median, 4),
                    run_times_s=[round(t, 4) for t in times[name]],
                    tokens_per_s=round(batch * NEW_TOKENS / median, 2),
                )
            )
            print(json.dumps(results[-1]), flush=True)
    return results


def environment():
    return dict(
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor(),
        cpu_count=os.cpu_count(),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        keras_hub=keras_hub.__version__,
        zoo=zoo.__version__,
        date_utc=time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        load_average_1_5_15=[round(x, 2) for x in os.getloadavg()],  # shared machines: context for the numbers
    )


def markdown(results, env):
    lines = [
        "# Greedy decoding, `gpt2` preset (124M, random weights)",
        "",
        f"Prompt {PROMPT_LENGTH} tokens + {NEW_TOKENS} new tokens; tokens/s = batch x {NEW_TOKENS} / median run time.",
        f"TF {env['tensorflow']}, Keras {env['keras']}, keras-hub {env['keras_hub']}, "
        f"{env['cpu_count']} CPUs, {env['date_utc']} UTC.",
        "",
        "| batch | library | tokens/s | first call (s) | median run (s) |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['batch_size']} | {r['library']} | {r['tokens_per_s']:.1f} | "
            f"{r['first_call_s']:.2f} | {r['median_s']:.3f} |"
        )
    lines += ["", "Ratios (> 1 means zoo is better): tokens/s zoo / peer; first call peer / zoo.", "",
              "| batch | peer | tokens/s ratio | first-call ratio |", "|---:|---|---:|---:|"]
    for batch in sorted({r["batch_size"] for r in results}):
        by = {r["library"]: r for r in results if r["batch_size"] == batch}
        for peer in ("keras_hub", "keras_hub_xla"):
            if "zoo" in by and peer in by:
                speed = by["zoo"]["tokens_per_s"] / by[peer]["tokens_per_s"]
                compile_ratio = by[peer]["first_call_s"] / by["zoo"]["first_call_s"]
                lines.append(f"| {batch} | {peer} | {speed:.2f}x | {compile_ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--first-calls", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)
    env = environment()
    results = bench(args.batch_sizes, args.runs, args.first_calls)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "generation_gpt2.json"), "w") as file:
        json.dump({"environment": env, "results": results}, file, indent=2)
    report = markdown(results, env)
    with open(os.path.join(args.out, "generation_gpt2.md"), "w") as file:
        file.write(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
