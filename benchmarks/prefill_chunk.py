"""How the XLA decode loop's prompt chunk size (``zoo.generate(prefill_chunk=...)``) moves
long-prompt decoding: gpt2, batch 1, greedy, 64 new tokens.

    python benchmarks/prefill_chunk.py [--chunks 16 64 128] [--prompts 16 400 900] [--out benchmarks/results]

The loop reads the prompt in chunks of ``prefill_chunk`` tokens, each a
(batch, chunk) pass over the model against the whole cache, and pads the
prompt to a multiple of the chunk. Small chunks waste little padding on short
prompts; large chunks run the prompt as fewer, larger matrix products. Per
(prompt, chunk): the first call (trace + compile + run) and the median of 3
further calls, in one process (random weights). Writes
``prefill_chunk-<kind>.json`` / ``.md``.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import result_files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[16, 64, 128])
    parser.add_argument("--prompts", type=int, nargs="+", default=[16, 400, 900])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)
    import zoo
    from zoo import cpu

    model = zoo.build("gpt2", dropout=0.0)
    rng = np.random.default_rng(0)
    rows = []
    for prompt_length in args.prompts:
        prompt = rng.integers(0, model.config.vocabulary_size, prompt_length).tolist()
        for chunk in args.chunks:
            start = time.perf_counter()
            zoo.generate(model, [prompt], max_new_tokens=64, prefill_chunk=chunk)
            first = time.perf_counter() - start
            times = []
            for _ in range(3):
                start = time.perf_counter()
                zoo.generate(model, [prompt], max_new_tokens=64, prefill_chunk=chunk)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            rows.append({"prompt": prompt_length, "chunk": chunk, "first_call_s": first,
                         "median_s": median, "tokens_per_s": 64 / median})
            print(f"prompt {prompt_length} chunk {chunk}: first {first:.1f} s, {64 / median:.1f} tok/s", flush=True)
    kind = cpu.cpu_kind()
    result = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "cpu_kind": kind, "rows": rows}
    lines = [f"# XLA loop prompt chunk, gpt2, batch 1, 64 new tokens ({result['date_utc']} UTC, {kind})", "",
             "| prompt | chunk | tokens/s (median of 3) | first call |", "|---|---|---|---|"]
    lines += [f"| {r['prompt']} | {r['chunk']} | {r['tokens_per_s']:.1f} | {r['first_call_s']:.1f} s |" for r in rows]
    result_files.write(args.out, "prefill_chunk", result, "\n".join(lines), kind)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
