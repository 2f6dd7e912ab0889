"""What int8 and int4 decoders cost on the task, and what they buy, on trained models.

    python benchmarks/quantized_decoders.py RUN_FOLDER [RUN_FOLDER ...] [--out benchmarks/results]

Each RUN_FOLDER is a trained GPT (``zoo train gpt-shakespeare-char``) or
seq2seq (``zoo train seq2seq-multi30k``) model folder. It is exported with
``optimize=True, quantize="int8,int4"`` - the decoders the zoo ships - and
each quantized decoder is scored by ``export.quality_gate`` over the *whole*
held-out split (every Tiny Shakespeare validation window; all 1,000 Multi30k
test sentences), with greedy-token agreement against the float decoder and, for
GPT, next-token agreement and KL divergence against Keras on the held-out text.

Speed, in the same run: greedy decoding (batch 1, prompt 16 tokens + 64 new or up
to the context;
seq2seq: one test sentence, up to its context) by each decoder in ONNX
Runtime, median of ``--runs`` calls after a warm-up, the decoders' calls
interleaved so background load hits all alike. The CPU kind is in the output.
Writes ``quantized_decoders-<kind>.json`` and ``.md`` into ``--out``.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import result_files
import zoo
from export import export, quality_gate
from export.model_info import describe
from export.onnx.generate import GptRunner, Seq2SeqRunner
from export.onnx.quantize import INT8_SETTINGS
from zoo import cpu

DECODERS = ("onnx_decoder_optimized", "onnx_decoder", "onnx_decoder_int8", "onnx_decoder_int4")


def _runner(info, artifacts, key):
    if info.family == "gpt":
        return GptRunner(artifacts[key]["path"])
    return Seq2SeqRunner(artifacts["onnx_encoder"]["path"], artifacts[key]["path"])


def _timings(info, artifacts, runs):
    keys = [k for k in DECODERS if k in artifacts]
    runners = {k: _runner(info, artifacts, k) for k in keys}
    if info.family == "gpt":
        prompt = [list(range(1, 17))]
        new_tokens = min(64, (info.config.get("max_sequence_length") or 80) - 16)
        options = {}
    else:
        prompt, new_tokens = [[5, 6, 7, 8, 9, 10, 11, 12]], info.config["max_sequence_length"] - 1
        options = {"start_token_id": int(info.generation.get("start_token_id", 1))}
    times = {k: [] for k in keys}
    for k in keys:
        runners[k].generate(prompt, new_tokens, **options)  # warm-up
    for _ in range(runs):
        for k in keys:
            start = time.perf_counter()
            runners[k].generate(prompt, new_tokens, **options)
            times[k].append(time.perf_counter() - start)
    return {k: {"median_seconds": statistics.median(v), "new_tokens": new_tokens,
                "tokens_per_second": new_tokens / statistics.median(v),
                "size_bytes": artifacts[k]["size_bytes"]} for k, v in times.items()}


def measure(folder, runs):
    text_model = zoo.load(folder)
    info = describe(text_model)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        report = export(text_model, os.path.join(scratch, "export"), formats=["onnx"], optimize=True,
                        quantize="int8,int4", quality_limits={"perplexity_increase": 1.0, "bleu_drop": 100.0})
        export_seconds = time.perf_counter() - started
        artifacts = report["artifacts"]
        paths = {"decoder": artifacts["onnx_decoder"]["path"]}
        if "onnx_encoder" in artifacts:
            paths["encoder"] = artifacts["onnx_encoder"]["path"]
        quality = {}
        for mode in ("int8", "int4"):
            quantized = {**paths, "decoder": artifacts[f"onnx_decoder_{mode}"]["path"]}
            print(f"{folder}: scoring the {mode} decoder on the whole held-out split ...", flush=True)
            quality[mode] = quality_gate.decoder_quality(info, paths, quantized, whole_split=True)
        print(f"{folder}: timing greedy decoding ...", flush=True)
        speed = _timings(info, artifacts, runs)
    return {"folder": folder, "family": info.family, "export_seconds": round(export_seconds, 1),
            "int4": artifacts["onnx_decoder_int4"]["quantization"]["weights"],
            "quality_whole_split": quality, "decoding": speed}


def _markdown(result):
    lines = [f"# Quantized decoders on trained models ({result['date']}, "
             f"{result_files.machine_label(result['cpu_kind'], result['cpu'].get('core_design'))})", "",
             f"CPU instruction sets: {result['cpu']['instruction_sets']}. Export: `optimize=True, quantize='int8,int4'` (int8: "
             f"{INT8_SETTINGS['weights']}; int4: symmetric, float32 scale per block, accuracy_level 4, the block per model). "
             "Quality over the whole held-out split; speed: greedy, batch 1, ONNX Runtime, median.", ""]
    for model in result["models"]:
        lines += [f"## {model['folder']} ({model['family']})", "", f"int4: {model['int4']}.", "",
                  "| decoder | metric | float | quantized | change | greedy agreement | next-token agreement (KL) "
                  "| tok/s | size |",
                  "|---|---|---|---|---|---|---|---|---|"]
        fused = model["decoding"].get("onnx_decoder_optimized") or model["decoding"]["onnx_decoder"]
        lines.append(f"| float ({'fused' if 'onnx_decoder_optimized' in model['decoding'] else 'plain'}) | | | | | | | "
                     f"{fused['tokens_per_second']:.1f} | {fused['size_bytes'] / 1e6:.2f} MB |")
        for mode, q in model["quality_whole_split"].items():
            speed = model["decoding"][f"onnx_decoder_{mode}"]
            before = q.get("keras", q.get("float_decoder"))
            change = (f"{q['change']:+.2%}" if "perplexity_increase" in q["limit"] else f"{q['change']:+.2f} BLEU")
            next_token = q.get("next_token_agreement")
            next_token = (f"{next_token['agreement']:.1%} ({next_token['mean_kl_nats']:.4f} nats)" if next_token
                          else "–")
            lines.append(f"| {mode} | {q['task']} ({q['examples']}) | {before:.4f} | {q['artifact']:.4f} | {change} | "
                         f"{q['greedy_agreement']['agreement']:.1%} | {next_token} | {speed['tokens_per_second']:.1f} "
                         f"({speed['tokens_per_second'] / fused['tokens_per_second']:.2f}×) | "
                         f"{speed['size_bytes'] / 1e6:.2f} MB |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    result = {"date": time.strftime("%Y-%m-%d"), "cpu": cpu.describe(), "cpu_kind": cpu.cpu_kind(),
              "models": [measure(folder, args.runs) for folder in args.folders]}
    result_files.write(args.out, "quantized_decoders", result, _markdown(result), result["cpu_kind"])
    print(_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
