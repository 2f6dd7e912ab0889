"""int8 dynamic quantization settings, side by side on this CPU: task cost and latency.

    python benchmarks/int8_modes.py RUN_FOLDER [RUN_FOLDER ...] [--runs 30] [--out benchmarks/results]

Each RUN_FOLDER is a trained model folder (``zoo train ...``: a GPT or LSTM
language model, or a BERT classifier) with its tokenizer. Its fused ONNX
graph (the ``optimize=True`` export, or the plain one for LSTMs) is quantized
with each setting below, and each graph is scored:

* the task metric of ``export.task_metrics`` over the whole held-out split
  (Tiny Shakespeare perplexity for language models, rt-polarity test
  accuracy for classifiers) against the float32 Keras model;
* the max abs logit difference and arg-max agreement on the export's
  validation batches;
* ONNX Runtime CPU latency (median of ``--runs`` calls after 3 warm-ups,
  the graphs' calls interleaved so background load hits all alike) at
  batch 1 and 8, length 64, float32 graph included as the baseline.

Settings: ``s8`` (full-range int8 weights, per tensor: the zoo's choice
before), ``s8-pc`` (full-range, per channel: what a VNNI-only choice would
be), ``s8-rr-pc`` (7-bit weights, per channel: the zoo's choice now),
``u8u8-pc`` (uint8 weights, per channel: ONNX Runtime's other advice for
machines without VNNI). The CPU kind (``zoo.cpu``) is in the output, since
the answer differs between AVX2-only and VNNI machines. Writes
``int8_modes-<kind>.json`` and ``.md`` into ``--out``.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

import result_files
import zoo
from export import export, task_metrics, validate
from export.inputs import validation_batches
from export.model_info import describe
from export.onnx.quantize import accuracy_delta
from zoo import cpu

SETTINGS = {
    "s8": dict(weight_type="QInt8", per_channel=False, reduce_range=False),
    "s8-pc": dict(weight_type="QInt8", per_channel=True, reduce_range=False),
    "s8-rr-pc": dict(weight_type="QInt8", per_channel=True, reduce_range=True),
    "u8u8-pc": dict(weight_type="QUInt8", per_channel=True, reduce_range=False),
}


def quantize(source, target, weight_type, per_channel, reduce_range):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(source, target, weight_type=getattr(QuantType, weight_type), per_channel=per_channel,
                     reduce_range=reduce_range, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def latency_inputs(info, batch, length=64):
    rng = np.random.default_rng(0)
    vocabulary = info.config.get("vocabulary_size", 100)
    inputs = {"token_ids": rng.integers(1, vocabulary, (batch, length)).astype(np.int32),
              "padding_mask": np.ones((batch, length), np.int32)}
    if "segment_ids" in info.input_names:
        inputs["segment_ids"] = np.zeros((batch, length), np.int32)
    return {k: v for k, v in inputs.items() if k in info.input_names}


def interleaved_medians(runners, inputs, runs):
    """{name: median ms} over ``runs`` rounds, each round calling every runner once."""
    for run in runners.values():
        for _ in range(3):
            run(inputs)
    times = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            start = time.perf_counter()
            run(inputs)
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: round(statistics.median(t), 3) for name, t in times.items()}


def measure(folder, scratch, runs):
    text_model = zoo.load(folder)
    info = describe(text_model)
    out = os.path.join(scratch, f"model-{len(os.listdir(scratch))}")
    report = export(text_model, out, formats=["onnx"], optimize=True, decoders=False)
    artifact = report["artifacts"].get("onnx_optimized") or report["artifacts"]["onnx"]
    source = artifact["path"]
    batches = validation_batches(info)
    references = [validate.keras_outputs(info, b) for b in batches]
    graphs = {"float32": source}
    rows = {}
    for name, settings in SETTINGS.items():
        path = os.path.join(out, f"{name}.onnx")
        quantize(source, path, **settings)
        graphs[name] = path
        print(f"  {folder}: scoring {name}", file=sys.stderr, flush=True)
        rows[name] = {"settings": settings,
                      "logits": accuracy_delta(references, validate.onnx_runner(path), batches)["outputs"],
                      "task": task_metrics.task_delta(info, path, whole_split=True)}
    runners = {name: validate.onnx_runner(path) for name, path in graphs.items()}
    latency = {f"batch {b}": interleaved_medians(runners, latency_inputs(info, b), runs) for b in (1, 8)}
    return {"folder": folder, "family": info.family, "graph": os.path.basename(os.path.dirname(os.path.dirname(source))),
            "settings": rows, "latency_ms": latency}


def markdown(result):
    machine = result_files.machine_label(result['cpu']['kind'], result['cpu'].get('core_design'))
    lines = [f"# int8 settings on {machine} ({result['date_utc']})", "",
             f"CPU features: {', '.join(result['cpu']['instruction_sets'])}", ""]
    for model in result["models"]:
        lines += [f"## {model['folder']} ({model['family']}, graph {model['graph']})", "",
                  "| setting | task metric (Keras -> int8) | delta | max abs logit diff | arg-max agreement "
                  "| ms b1 | ms b8 |", "|---|---|---|---|---|---|---|"]
        lat = model["latency_ms"]
        lines.append(f"| float32 | | | | | {lat['batch 1']['float32']} | {lat['batch 8']['float32']} |")
        for name, row in model["settings"].items():
            task = row["task"] or {}
            out = next(iter(row["logits"].values()))
            metric = f"{task.get('keras', float('nan')):.4f} -> {task.get('artifact', float('nan')):.4f}"
            lines.append(f"| {name} | {metric} | {task.get('delta', float('nan')):+.4f} | {out['max_abs_diff']:.4f} "
                         f"| {out['argmax_agreement']:.4f} | {lat['batch 1'][name]} | {lat['batch 8'][name]} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    result = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "cpu": cpu.describe(),
              "load_average_at_start": list(os.getloadavg()), "models": []}
    with tempfile.TemporaryDirectory() as scratch:
        for folder in args.folders:
            result["models"].append(measure(folder, scratch, args.runs))
    result["load_average_at_end"] = list(os.getloadavg())
    result_files.write(args.out, "int8_modes", result, markdown(result), result["cpu"]["kind"])
    print(markdown(result))


if __name__ == "__main__":
    main()
