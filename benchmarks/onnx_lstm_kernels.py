"""ONNX Runtime latency of the LSTM families: ONNX ``LSTM`` kernels vs the masked ``Loop``.

    python benchmarks/onnx_lstm_kernels.py [--runs 30] [--warmup 3] [--threads 1] [--out benchmarks/results]

For each preset (``lstm-lm-char``, ``seq2seq-lstm-small``; random weights,
nothing downloaded) the forward graph is converted both ways with
``export.onnx.conversion.convert_model``:

* ``loop``: ``lstm_kernels=False`` - the stacks traced with their padding
  mask, which tf2onnx turns into one ONNX ``Loop`` per LSTM layer (the export
  path before ``export.onnx.lstm``);
* ``lstm``: the default - ONNX ``LSTM`` ops with ``sequence_lens`` computed
  from the padding mask (``export.onnx.lstm``).

Each graph runs on ONNX Runtime's CPU provider at batch 1 and 8 (length 128
for the LM; source and target 32 for seq2seq), right-padded rows of unequal
lengths in the batch of 8. Reported: the median of ``--runs`` timed calls
after ``--warmup`` untimed ones (the two graphs' calls interleaved, so
background load on a shared machine hits both alike), and the max abs diff of
each graph's logits vs the Keras model at every position. ``os.getloadavg()``
before and after is recorded: the numbers are only as quiet as the machine.
Writes ``onnx_lstm_kernels.json`` and ``onnx_lstm_kernels.md`` into ``--out``.
"""

import argparse
import collections
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

import zoo  # noqa: E402
from export.onnx import conversion as onnx_export  # noqa: E402
from export.onnx.session import ort_session  # noqa: E402
from export.model_info import describe  # noqa: E402

PRESETS = ("lstm-lm-char", "seq2seq-lstm-small")
BATCHES = (1, 8)
LM_LENGTH = 128
SEQ2SEQ_LENGTH = 32  # source and target
PATHS = {"loop": False, "lstm": True}  # label -> convert_model(lstm_kernels=...)


def randomized(preset):
    """The preset with distinct random weights (the initial ones repeat across
    layers, which tf2onnx would deduplicate)."""
    model = zoo.build(preset, dropout=0.0)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.1, weight.shape).astype(weight.dtype))
    return model


def right_padded(rng, batch, length, vocabulary):
    """ids, mask: row i keeps ``length - i * length // 16`` real tokens (all of them at batch 1)."""
    lengths = np.array([length - i * length // 16 for i in range(batch)])
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    ids = rng.integers(1, vocabulary, (batch, length)).astype("int32") * mask
    return ids, mask


def make_inputs(info, batch, seed=0):
    rng = np.random.default_rng(seed)
    config = info.model.config
    if info.family == "seq2seq":
        source, source_mask = right_padded(rng, batch, SEQ2SEQ_LENGTH, config.source_vocabulary_size)
        target, target_mask = right_padded(rng, batch, SEQ2SEQ_LENGTH, config.target_vocabulary_size)
        return {"source_ids": source, "source_padding_mask": source_mask,
                "target_ids": target, "target_padding_mask": target_mask}
    ids, mask = right_padded(rng, batch, LM_LENGTH, config.vocabulary_size)
    return {"token_ids": ids, "padding_mask": mask}


def convert(info, lstm_kernels, folder, label):
    start = time.perf_counter()
    model, _ = onnx_export.convert_model(info, lstm_kernels=lstm_kernels)
    seconds = time.perf_counter() - start
    path = os.path.join(folder, f"{info.name}_{label}.onnx")
    onnx_export.save_onnx(model, path)
    ops = collections.Counter(node.op_type for node in model.graph.node)
    return path, {"convert_seconds": round(seconds, 2), "bytes": os.path.getsize(path),
                  "nodes": sum(ops.values()), "LSTM": ops.get("LSTM", 0), "Loop": ops.get("Loop", 0)}


def time_interleaved(sessions, feed, runs, warmup):
    """{label: [ms per call]}, the sessions' calls alternating."""
    for run in sessions.values():
        for _ in range(warmup):
            run.run(["logits"], feed)
    times = {label: [] for label in sessions}
    for _ in range(runs):
        for label, run in sessions.items():
            start = time.perf_counter()
            run.run(["logits"], feed)
            times[label].append((time.perf_counter() - start) * 1000)
    return times


def benchmark(preset, args, folder):
    model = randomized(preset)
    info = describe(model, name=preset.replace("-", "_"))
    graphs, paths = {}, {}
    for label, lstm_kernels in PATHS.items():
        paths[label], graphs[label] = convert(info, lstm_kernels, folder, label)
        print(f"{preset}: {label} graph converted in {graphs[label]['convert_seconds']} s "
              f"({graphs[label]['LSTM']} LSTM, {graphs[label]['Loop']} Loop, {graphs[label]['nodes']} nodes)",
              flush=True)
    sessions = {label: ort_session(path, intra_op_threads=args.threads, inter_op_threads=1)
                for label, path in paths.items()}
    rows = []
    for batch in BATCHES:
        feed = make_inputs(info, batch)
        expected = np.asarray(model(feed, training=False), dtype=np.float32)
        row = {"model": preset, "batch": batch, "shape": {k: list(v.shape) for k, v in feed.items()},
               "real_tokens_per_row": [int(n) for n in next(v for k, v in feed.items() if k.endswith("mask")).sum(1)]}
        for label, run in sessions.items():
            row[f"{label}_max_abs_diff"] = float(np.max(np.abs(run.run(["logits"], feed)[0] - expected)))
        times = time_interleaved(sessions, feed, args.runs, args.warmup)
        for label in sessions:
            row[f"{label}_ms"] = round(statistics.median(times[label]), 3)
        row["speedup"] = round(row["loop_ms"] / row["lstm_ms"], 2)
        rows.append(row)
        print(f"{preset} b={batch} {row['shape']}: loop {row['loop_ms']:.2f} ms, lstm {row['lstm_ms']:.2f} ms "
              f"(x{row['speedup']:.2f}); max abs diff vs Keras loop {row['loop_max_abs_diff']:.2e}, "
              f"lstm {row['lstm_max_abs_diff']:.2e}", flush=True)
    return {"model": preset, "graphs": graphs, "rows": rows}


def write_markdown(report, path):
    lines = [
        "| model | batch | inputs | Loop ms | LSTM ms | speed-up | Loop max abs diff | LSTM max abs diff |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in report["results"]:
        for r in result["rows"]:
            shape = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in r["shape"].items() if not k.endswith("mask"))
            lines.append(f"| {r['model']} | {r['batch']} | {shape} | {r['loop_ms']:.2f} | {r['lstm_ms']:.2f} | "
                         f"{r['speedup']:.2f}x | {r['loop_max_abs_diff']:.1e} | {r['lstm_max_abs_diff']:.1e} |")
    lines += ["", "| model | graph | LSTM ops | Loop ops | nodes | size | convert s |", "|---|---|---|---|---|---|---|"]
    for result in report["results"]:
        for label, g in result["graphs"].items():
            lines.append(f"| {result['model']} | {label} | {g['LSTM']} | {g['Loop']} | {g['nodes']} | "
                         f"{g['bytes'] / 2**20:.1f} MB | {g['convert_seconds']} |")
    load = report["load_average_1_5_15"]
    lines += ["", f"Median of {report['runs']} interleaved calls after {report['warmup']} warm-up calls, "
              f"ONNX Runtime {report['machine']['onnxruntime']} CPU, {report['threads']} intra-op thread(s), "
              f"{report['machine']['cpus']} CPUs; {report['date']}. Load average (1/5/15 min) before "
              f"{load['before']}, after {load['after']}."]
    if report.get("note"):
        lines.append(report["note"])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--note", default="", help="free text recorded with the results (e.g. machine load)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args()

    before = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before: {before}", flush=True)
    with tempfile.TemporaryDirectory(prefix="onnx-lstm-bench-") as folder:
        results = [benchmark(preset, args, folder) for preset in args.models]
    after = [round(x, 2) for x in os.getloadavg()]
    report = {
        "benchmark": "ONNX LSTM kernels vs masked Loop (ONNX Runtime CPU)",
        "runs": args.runs,
        "warmup": args.warmup,
        "threads": args.threads,
        "statistic": "median",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "python": sys.version.split()[0], "tensorflow": tf.__version__,
                    "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
        "load_average_1_5_15": {"before": before, "after": after},
        "note": args.note,
        "results": results,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "onnx_lstm_kernels.json"), "w") as f:
        json.dump(report, f, indent=2)
    print("\n".join(write_markdown(report, os.path.join(args.out, "onnx_lstm_kernels.md"))))


if __name__ == "__main__":
    main()
