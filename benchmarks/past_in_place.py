"""What writing the past in place buys the fused and quantized GPT decoders: the same ONNX
graph (attention as ``GroupQueryAttention``, ``export.onnx.fusion.past_in_place``) decoded
with a past that grows by a copy per call (``GptRunner(in_place=False)``, what a client
using ``session.run`` gets) against one buffer per past bound as the present too
(``GptRunner``'s default for these decoders).

    python benchmarks/past_in_place.py --decoders DIR/onnx/gpt2_decoder_optimized/1/model.onnx ... \
        [--shapes 1x16 1x400 1x900 4x200] [--new 64] [--repeats 3] [--out benchmarks/results]

Decoders come from an export (``zoo export gpt2 --out DIR --formats onnx --optimize
--quantize int8,int4``, or ``zoo bench --keep-artifacts``). For each decoder and shape
(batch x prompt tokens, random ids, ``--new`` greedy tokens) the two modes alternate,
``--repeats`` times each after a warm-up, in one process; reported: median seconds per
generation, tokens/s (prompt step included, as ``zoo bench``), the ratio, and whether
both modes produced the same tokens.
"""

import argparse
import os
import statistics
import sys
import time

import result_files


def _time(runner, prompts, new):
    start = time.perf_counter()
    tokens = runner.generate(prompts, new)
    return time.perf_counter() - start, tokens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoders", nargs="+", required=True, help="past_in_place GPT decoders (model.onnx)")
    parser.add_argument("--shapes", nargs="+", default=["1x16", "1x400", "1x900", "4x200"])
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)

    import numpy as np

    from export.onnx.generate import GptRunner
    from export.onnx.session import ort_session

    rows = []
    for path in args.decoders:
        label = os.path.basename(os.path.dirname(os.path.dirname(path)))
        session = ort_session(path)
        in_place, growing = GptRunner(session), GptRunner(session, in_place=False)
        if not in_place.in_place:
            raise SystemExit(f"{path}: the decoder does not declare past_in_place; nothing to compare.")
        for shape in args.shapes:
            batch, length = (int(n) for n in shape.split("x"))
            rng = np.random.default_rng(0)
            prompts = [rng.integers(0, 1000, length).tolist() for _ in range(batch)]
            times = {"growing": [], "in place": []}
            same = growing.generate(prompts, 4) == in_place.generate(prompts, 4)  # warm-up
            for _ in range(args.repeats):
                tokens = {}
                for mode, runner in (("growing", growing), ("in place", in_place)):
                    seconds, tokens[mode] = _time(runner, prompts, args.new)
                    times[mode].append(seconds)
                same = same and tokens["growing"] == tokens["in place"]
            medians = {mode: statistics.median(values) for mode, values in times.items()}
            row = {"decoder": label, "batch": batch, "prompt": length, "new": args.new, "seconds": times,
                   "median_s": medians, "tokens_per_s": {m: batch * args.new / s for m, s in medians.items()},
                   "speedup": medians["growing"] / medians["in place"], "same_tokens": same}
            rows.append(row)
            print(f"{label} {shape}+{args.new}: growing {medians['growing']:.3f} s, in place "
                  f"{medians['in place']:.3f} s ({row['speedup']:.2f}x), same tokens: {same}", flush=True)
    result = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), **result_files.machine_facts(),
              "repeats": args.repeats, "rows": rows}
    lines = [f"# GPT decoders: past grown by copies vs written in place ({result['date_utc']} UTC, "
             f"{result_files.machine_label(result['cpu_kind'], result['core_design'])})", "",
             f"Same graph, same process, modes alternating; median of {args.repeats} generations each; "
             "tokens/s generated, prompt step included.", "",
             "| decoder | batch | prompt + new | growing s | in place s | growing tok/s | in place tok/s | "
             "in place / growing | same tokens |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['decoder']} | {r['batch']} | {r['prompt']} + {r['new']} | {r['median_s']['growing']:.3f} | "
                     f"{r['median_s']['in place']:.3f} | {r['tokens_per_s']['growing']:.1f} | "
                     f"{r['tokens_per_s']['in place']:.1f} | **{r['speedup']:.2f}×** | {r['same_tokens']} |")
    result_files.write(args.out, "past_in_place", result, "\n".join(lines), result["cpu_kind"])
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
