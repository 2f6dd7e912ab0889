"""What fusing the GPT past-state decoder buys: ONNX Runtime greedy decoding over
``<name>_decoder`` (plain tf2onnx graph) vs ``<name>_decoder_optimized``
(attention over each layer's past fused into ``GroupQueryAttention``, or ``MultiHeadAttention`` for heads
whose size is not a multiple of 8; LayerNorm and GELU fused), both from one
``export.export(..., optimize=True)`` of a zoo GPT, both decoded as ``GptRunner`` decodes them
(the fused one writing its past in place; ``benchmarks/past_in_place.py`` measures that alone).

For each decoder and batch size it times ``export.onnx.generate.GptRunner.generate``
(prompt of ``--prompt`` tokens, ``--new`` greedy tokens, no stop token) and
reports the median wall time, tokens/s and the fused/plain ratio, plus
whether both decoders produced the same tokens. Random (non-default) weights;
nothing is downloaded.

    python benchmarks/onnx_gpt_decoder.py [--preset gpt2] [--batches 1 4] [--repeats 5]
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt2")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--prompt", type=int, default=16)
    parser.add_argument("--new", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import numpy as np
    import onnxruntime as ort

    import zoo
    from export import export
    from export.onnx.generate import GptRunner

    load_before = os.getloadavg()
    model = zoo.build(args.preset, dropout=0.0)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.02, weight.shape).astype(weight.dtype))
    with tempfile.TemporaryDirectory(prefix="gpt-decoder-bench-") as folder:
        print(f"exporting {args.preset} with decoders, optimized ...", flush=True)
        report = export(model, os.path.join(folder, "gpt"), formats=["onnx"], optimize=True)
        artifacts = report["artifacts"]
        runners = {kind: GptRunner(artifacts[key]["path"])
                   for kind, key in (("plain", "onnx_decoder"), ("fused", "onnx_decoder_optimized"))}
        fused_ops = artifacts["onnx_decoder_optimized"]["fused_ops"]["final_graph"]
        rows = []
        for batch in args.batches:
            prompts = rng.integers(0, model.config.vocabulary_size, (batch, args.prompt)).tolist()
            tokens, times = {}, {kind: [] for kind in runners}
            for kind, runner in runners.items():
                tokens[kind] = runner.generate(prompts, args.new)  # warm-up
            for repeat in range(args.repeats):  # interleaved, so both see the same machine
                for kind, runner in runners.items():
                    start = time.perf_counter()
                    runner.generate(prompts, args.new)
                    times[kind].append(time.perf_counter() - start)
            for kind in runners:
                median = statistics.median(times[kind])
                rows.append({"decoder": kind, "batch": batch, "median_s": round(median, 3),
                             "tokens_per_s": round(batch * args.new / median, 1)})
            rows[-1]["fused_over_plain_speed"] = round(
                statistics.median(times["plain"]) / statistics.median(times["fused"]), 2)
            rows[-1]["same_tokens"] = tokens["plain"] == tokens["fused"]
            print(json.dumps(rows[-2]), json.dumps(rows[-1]), flush=True)
    summary = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "preset": args.preset,
        "prompt_tokens": args.prompt, "new_tokens": args.new, "repeats": args.repeats,
        "onnxruntime": ort.__version__, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "fused_ops": fused_ops, "rows": rows,
        "validation": {k: artifacts[k]["validation"]["outputs"]["logits"]["max_abs_diff"]
                       for k in ("onnx_decoder", "onnx_decoder_optimized")},
    }
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"onnx_decoder_{args.preset.replace('-', '_')}")
    with open(stem + ".json", "w") as file:
        json.dump(summary, file, indent=2)
    with open(stem + ".md", "w") as file:
        file.write(f"ONNX Runtime greedy decoding, {args.preset}, prompt {args.prompt} + {args.new} new tokens, "
                   f"median of {args.repeats} interleaved runs ({summary['date_utc']} UTC, "
                   f"load average {summary['load_average_before']} -> {summary['load_average_after']}).\n\n")
        file.write("| decoder | batch | median s | tokens/s | fused / plain speed | same tokens |\n|---|---|---|---|---|---|\n")
        for r in rows:
            file.write(f"| {r['decoder']} | {r['batch']} | {r['median_s']} | {r['tokens_per_s']} | "
                       f"{r.get('fused_over_plain_speed', '')} | {r.get('same_tokens', '')} |\n")
        file.write(f"\nFused ops in the optimized decoder: {fused_ops}. Max abs diff of the first "
                   f"logits vs Keras: {summary['validation']}.\n")
    print(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()
