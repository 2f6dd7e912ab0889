"""Export cost: Keras' own ONNX export of keras-hub's BertBackbone vs the zoo's ``export.export``.

In one run, each exporter works in its own fresh subprocess (so neither
inherits the other's memory) on a BERT-base configuration with random
weights (nothing is downloaded):

* ``keras_hub``: ``keras_hub.models.BertBackbone(bert-base sizes).export(path, format="onnx")``;
* ``zoo``: ``export.export(zoo.build("bert-base"), out, formats=["onnx"])`` -
  conversion *plus* validation against Keras at two shapes and the manifest.

For each it records the subprocess' wall time (imports, build, export), the
time of the export call alone, peak RSS (``ru_maxrss`` of the child from
``os.wait4``) and the artifact size. Heavy (Keras' path took ~3 minutes and
~15 GB here): run it on a quiet machine.

    python benchmarks/export_bert_base.py [--zoo-preset bert-base] [--only zoo] [--latency] [--out benchmarks/results]

``--zoo-preset gpt2-medium`` checks that a larger model exports within the
machine's memory (the issue's goal; Keras' path cannot).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from zoo.disk import size_on_disk

BERT_BASE = dict(vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768,
                 intermediate_dim=3072, max_sequence_length=512)


def child_keras_hub(out):
    import keras_hub

    import numpy as np

    model = keras_hub.models.BertBackbone(**BERT_BASE)
    ones = np.ones((1, 8), "int32")
    model({"token_ids": ones, "segment_ids": 0 * ones, "padding_mask": ones})  # export needs a called model
    path = os.path.join(out, "model.onnx")
    start = time.perf_counter()
    model.export(path, format="onnx")
    return {"export_seconds": time.perf_counter() - start, "artifact_bytes": size_on_disk(path),
            "parameters": int(model.count_params())}


def child_zoo(out, preset, decoders=False):
    import zoo
    from export import export

    model = zoo.build(preset, dropout=0.0)  # every weight drawn by its own initializer (as keras-hub's)
    start = time.perf_counter()
    report = export(model, os.path.join(out, "zoo"), formats=["onnx"], decoders=decoders)
    artifact = report["artifacts"]["onnx"]
    row = {"export_seconds": time.perf_counter() - start, "artifact_bytes": artifact["size_bytes"],
           "parameters": int(model.count_params()),
           "max_abs_diff": {k: v["max_abs_diff"] for k, v in artifact["validation"]["outputs"].items()},
           "passed": report["passed"]}
    if decoders and "onnx_decoder" in report["artifacts"]:
        decoder = report["artifacts"]["onnx_decoder"]
        row["decoder"] = {"bytes": decoder["size_bytes"], "seconds": decoder["export_seconds"],
                          "greedy_tokens_identical": decoder["validation"].get("greedy_tokens_identical"),
                          "max_abs_diff": {k: v["max_abs_diff"] for k, v in decoder["validation"]["outputs"].items()}}
    return row


def child_latency(out, preset, repeats=20):
    """ONNX Runtime latency of the zoo's plain, fused and int8 artifacts (what fusion buys)."""
    import numpy as np

    import zoo
    from export import export

    model = zoo.build(preset, dropout=0.0)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.02, weight.shape).astype(weight.dtype))
    report = export(model, os.path.join(out, "zoo"), formats=["onnx"], decoders=False, optimize=True, quantize="int8")
    rows = {}
    for key in ("onnx", "onnx_optimized", "onnx_int8"):
        for batch, length in ((1, 128), (8, 128)):
            rows[f"{key} b{batch}x{length} ms"] = ort_median_ms(report["artifacts"][key]["path"], batch, length, repeats)
    rows["fused_ops"] = report["artifacts"]["onnx_optimized"]["fused_ops"]["final_graph"]
    rows["int8_max_abs_diff"] = {k: v["max_abs_diff"] for k, v in
                                 report["artifacts"]["onnx_int8"]["quantization"]["outputs"].items()}
    return rows


def ort_session(path, threads=2):
    """An ONNX Runtime CPU session of the artifact at ``path`` with ``threads`` intra-op threads."""
    from export.onnx.session import ort_session as open_session

    return open_session(path, intra_op_threads=threads)


def ort_feed(session, batch, length, seed=0):
    """A (batch, length) feed for ``session``: random token ids, all-ones padding mask, zero segments."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return {i.name: (rng.integers(0, 1000, (batch, length)) if i.name == "token_ids" else
                     np.ones((batch, length)) if i.name == "padding_mask" else np.zeros((batch, length))).astype(np.int32)
            for i in session.get_inputs()}


def ort_median_ms(path, batch, length, repeats=20, threads=2, seed=0):
    """Median ms of one ONNX Runtime ``session.run`` of the artifact at ``path`` on :func:`ort_feed`."""
    import statistics

    session = ort_session(path, threads)
    feed = ort_feed(session, batch, length, seed)
    session.run(None, feed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def run_script_child(script, which, out, arguments=()):
    """Run ``script --child WHICH --child-out OUT ARGUMENTS`` in a fresh process; -> a row with its
    wall time, peak RSS (``ru_maxrss`` of the child, from ``os.wait4``), exit code, and the
    ``result.json`` the child wrote into ``out``."""
    result_path = os.path.join(out, "result.json")
    command = [sys.executable, os.path.abspath(script), "--child", which, "--child-out", out, *arguments]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    row = {"exporter": which, "wall_seconds": round(wall, 1),
           "peak_rss_gb": round(usage.ru_maxrss / 1024 / 1024, 2), "exit_code": code}
    if code == 0 and os.path.exists(result_path):
        with open(result_path) as file:
            row.update(json.load(file))
    return row


def run_child(which, preset, decoders=False):
    """Run one exporter in a subprocess; -> its result + wall time and peak RSS."""
    with tempfile.TemporaryDirectory(prefix=f"export-bench-{which}-") as out:
        return run_script_child(__file__, which, out, ["--zoo-preset", preset] + (["--decoders"] if decoders else []))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo-preset", default="bert-base")
    parser.add_argument("--only", choices=["keras_hub", "zoo"])
    parser.add_argument("--latency", action="store_true",
                        help="also time the zoo's plain / fused / int8 ONNX artifacts in onnxruntime")
    parser.add_argument("--decoders", action="store_true",
                        help="zoo: also export (and validate) the past-state decoder (GPT presets)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        children = {"keras_hub": lambda: child_keras_hub(args.child_out),
                    "zoo": lambda: child_zoo(args.child_out, args.zoo_preset, args.decoders),
                    "latency": lambda: child_latency(args.child_out, args.zoo_preset)}
        result = children[args.child]()
        with open(os.path.join(args.child_out, "result.json"), "w") as file:
            json.dump(result, file)
        return

    if args.only is None and args.zoo_preset != "bert-base":
        args.only = "zoo"  # keras-hub's side is BERT-base only
    rows = [run_child(which, args.zoo_preset, args.decoders and which == "zoo") for which in ("keras_hub", "zoo") if args.only in (None, which)]
    latency = run_child("latency", args.zoo_preset) if args.latency else None
    for row in rows:
        print(json.dumps(row))
    summary = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
               "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "zoo_preset": args.zoo_preset,
               "rows": rows, "latency": latency}
    if len(rows) == 2 and all(r["exit_code"] == 0 for r in rows):
        keras_row, zoo_row = rows
        summary["zoo_over_keras"] = {
            "wall": round(zoo_row["wall_seconds"] / keras_row["wall_seconds"], 3),
            "export_call": round(zoo_row["export_seconds"] / keras_row["export_seconds"], 3),
            "peak_rss": round(zoo_row["peak_rss_gb"] / keras_row["peak_rss_gb"], 3),
        }
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"export_{args.zoo_preset.replace('-', '_')}{'_decoders' if args.decoders else ''}")
    with open(stem + ".json", "w") as file:
        json.dump(summary, file, indent=2)
    with open(stem + ".md", "w") as file:
        file.write("| exporter | wall s | export call s | peak RSS GB | artifact MB | max abs diff |\n|---|---|---|---|---|---|\n")
        for r in rows:
            diff = max(r.get("max_abs_diff", {}).values(), default=None)
            file.write(f"| {r['exporter']} | {r['wall_seconds']} | {r.get('export_seconds', float('nan')):.1f} | "
                       f"{r['peak_rss_gb']} | {r.get('artifact_bytes', 0) / 1e6:.0f} | {diff if diff is not None else '-'} |\n")
        for r in rows:
            if "decoder" in r:
                file.write(f"\n{r['exporter']} past-state decoder: {r['decoder']}\n")
        if "zoo_over_keras" in summary:
            file.write(f"\nzoo / keras: {summary['zoo_over_keras']}\n")
        if latency:
            file.write("\nonnxruntime latency of the zoo's artifacts (median ms, 2 threads):\n\n")
            for key, value in latency.items():
                file.write(f"- {key}: {value}\n")
    print(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()
