"""How the XLA decode loop's prompt chunk size (``zoo.generate(prefill_chunk=...)``) moves
long-prompt decoding: gpt2, greedy, 64 new tokens, batch 1 unless ``--batch``.

    python benchmarks/prefill_chunk.py [--chunks 16 64 256] [--prompts 16 200 400 900] [--batch 1] [--out benchmarks/results]

The loop reads the prompt in chunks of ``prefill_chunk`` tokens, each a
(batch, chunk) pass over the model against the whole cache, and pads the
prompt to a multiple of the chunk. Small chunks waste little padding on short
prompts; large chunks run the prompt as fewer, larger matrix products. Per
(prompt, chunk): the first call (trace + compile + run) and the median of
``--rounds`` further calls, interleaved across the cases, in one process
(random weights); the chunk ``prefill_chunk_for`` picks is marked. Writes
``prefill_chunk-b<batch>-<kind>.json`` / ``.md``.
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
    parser.add_argument("--chunks", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--prompts", type=int, nargs="+", default=[16, 200, 400, 900])
    parser.add_argument("--batch", type=int, default=1, help="prompts per call (each of the same length)")
    parser.add_argument("--rounds", type=int, default=4, help="timed calls per case, interleaved across cases")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)
    import zoo
    from zoo import cpu
    from zoo.generation import prefill_chunk_for

    model = zoo.build("gpt2", dropout=0.0)
    rng = np.random.default_rng(0)
    cases = []
    for prompt_length in args.prompts:
        prompts = rng.integers(0, model.config.vocabulary_size, (args.batch, prompt_length)).tolist()
        for chunk in args.chunks:
            start = time.perf_counter()
            zoo.generate(model, prompts, max_new_tokens=64, prefill_chunk=chunk)
            cases.append({"prompts": prompts, "prompt": prompt_length, "chunk": chunk,
                          "first_call_s": time.perf_counter() - start, "times": []})
            print(f"prompt {prompt_length} chunk {chunk}: first call {cases[-1]['first_call_s']:.1f} s", flush=True)
    for _ in range(args.rounds):  # interleaved, so a slow stretch of the machine hits every case alike
        for case in cases:
            start = time.perf_counter()
            zoo.generate(model, case["prompts"], max_new_tokens=64, prefill_chunk=case["chunk"])
            case["times"].append(time.perf_counter() - start)
    rows = []
    for case in cases:
        median = statistics.median(case["times"])
        rows.append({"batch": args.batch, "prompt": case["prompt"], "chunk": case["chunk"],
                     "chosen": prefill_chunk_for(case["prompt"], args.batch) == case["chunk"],
                     "first_call_s": case["first_call_s"], "median_s": median,
                     "tokens_per_s": 64 * args.batch / median})
    kind = cpu.cpu_kind()
    result = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), **result_files.machine_facts(), "rows": rows}
    lines = [f"# XLA loop prompt chunk, gpt2, batch {args.batch}, 64 new tokens ({result['date_utc']} UTC, "
             f"{result_files.machine_label(result['cpu_kind'], result['core_design'])})", "",
             f"| prompt | chunk | tokens/s (median of {args.rounds}, interleaved) | first call |", "|---|---|---|---|"]
    lines += [f"| {r['prompt']} | {r['chunk']}{' (chosen)' if r['chosen'] else ''} | {r['tokens_per_s']:.1f} "
              f"| {r['first_call_s']:.1f} s |" for r in rows]
    result_files.write(args.out, f"prefill_chunk-b{args.batch}", result, "\n".join(lines), kind)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
