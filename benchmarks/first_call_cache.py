"""First generation call of a fresh process: the zoo's XLA loop cold and warm (XLA's
persistent compilation cache, ``ZOO_XLA_CACHE=1``) against keras-hub's first call.

    python benchmarks/first_call_cache.py [--preset gpt2] [--repeats 2] [--out benchmarks/results]

Every measurement is its own Python process (what a user's second process
sees): it builds the model (random weights; not timed) and times one
``generate`` of 64 new tokens after a 16-token prompt, batch 1, greedy.

* ``zoo cold``: ``ZOO_XLA_CACHE=1`` with an empty cache folder (the folder
  is emptied before each cold process);
* ``zoo warm``: the same, after a cold process filled the folder;
* ``keras-hub``: ``GPT2CausalLM.generate`` as keras-hub configures it by
  default (no XLA on CPU), same configuration.

Processes alternate (cold, warm, keras-hub, cold, ...) so background load
hits all alike; medians are reported, with the CPU kind. Writes
``first_call_cache-<kind>.json`` / ``.md``.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import result_files

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
kind, preset = sys.argv[1], sys.argv[2]
import numpy as np
prompt = np.random.default_rng(0).integers(0, 1000, 16).tolist()
if kind == "keras-hub":
    import keras_hub, tensorflow as tf
    import zoo
    c = zoo.build(preset).config
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=c.vocabulary_size, num_layers=c.num_layers,
        num_heads=c.num_heads, hidden_dim=c.hidden_dim, intermediate_dim=c.intermediate_dim,
        max_sequence_length=c.max_sequence_length)
    lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    lm.compile(sampler="greedy")
    inputs = {"token_ids": np.array([prompt + [0] * 64], "int32"),
              "padding_mask": np.array([[True] * 16 + [False] * 64])}
    start = time.perf_counter()
    lm.generate(inputs, stop_token_ids=None)
else:
    import zoo
    model = zoo.build(preset)
    start = time.perf_counter()
    zoo.generate(model, [prompt], max_new_tokens=64)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def _child(kind, preset, environ):
    out = subprocess.run([sys.executable, "-c", CHILD, kind, preset], env=environ, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt2")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="zoo-xla-cache-")
    environ = {**os.environ, "ZOO_XLA_CACHE": "1", "ZOO_XLA_CACHE_DIR": cache}
    times = {"zoo cold": [], "zoo warm": [], "keras-hub": []}
    try:
        for repeat in range(args.repeats):
            shutil.rmtree(cache, ignore_errors=True)
            os.makedirs(cache)
            for kind, label in (("zoo", "zoo cold"), ("zoo", "zoo warm"), ("keras-hub", "keras-hub")):
                seconds = _child(kind, args.preset, environ)
                times[label].append(seconds)
                print(f"[{repeat + 1}/{args.repeats}] {label}: {seconds:.2f} s", flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    result = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), **result_files.machine_facts(),
              "preset": args.preset, "shape": "batch 1, prompt 16, 64 new, greedy", "seconds": times,
              "medians": medians, "warm_over_keras_hub": medians["zoo warm"] / medians["keras-hub"],
              "cold_over_keras_hub": medians["zoo cold"] / medians["keras-hub"]}
    lines = [f"# First generation call of a fresh process, {args.preset} ({result['date_utc']} UTC, "
             f"{result_files.machine_label(result['cpu_kind'], result['core_design'])})",
             "", f"{result['shape']}; median of {args.repeats} processes each.", "",
             "| | first call | / keras-hub |", "|---|---|---|"]
    lines += [f"| {k} | {v:.2f} s | {v / medians['keras-hub']:.2f}× |" for k, v in medians.items()]
    result_files.write(args.out, "first_call_cache", result, "\n".join(lines), result["cpu_kind"])
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
