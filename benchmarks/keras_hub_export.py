"""Export cost of a keras-hub model: keras-hub's own ONNX export vs ``zoo.from_keras_hub`` + ``export.export``.

For keras-hub's ``BertBackbone`` at the bert-base config and ``GPT2CausalLM``
at the gpt2 config (random weights, nothing downloaded), in one run, each
step in its own fresh subprocess (``export_bert_base.run_script_child``: wall
time, peak RSS of the child from ``os.wait4``):

* ``keras_hub``: build the model, call it once, ``model.export(path, format="onnx")``
  (Keras' ONNX export);
* ``zoo``: build the same keras-hub model, ``zoo.from_keras_hub(model)``, drop
  the keras-hub object (as converting a preset folder does), then
  ``export.export(..., formats=["onnx"], decoders=False)``: conversion *plus*
  validation against Keras at two shapes and the manifest;
* ``latency``: ONNX Runtime p50 (2 intra-op threads, CPU) of keras-hub's
  artifact and of the zoo's plain, fused (``optimize=True``) and int8
  artifacts, at batch 1 and 8 of 128 tokens, in blocks of consecutive runs;
  the artifacts take turns block by block, so load from elsewhere on the
  machine hits them alike, and each zoo artifact's block is also divided by
  keras-hub's block of the same round (``latency_in_blocks``).

Goal (issue 16): the zoo path <= 0.15x keras-hub's time and <= 0.2x its
memory, and the fused artifact faster than keras-hub's in the same runtime.
Heavy (keras-hub's bert-base export alone peaked at ~18 GB here):

    python benchmarks/keras_hub_export.py [--models bert,gpt2] [--out benchmarks/results]
"""

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_bert_base import ort_feed, ort_session, run_script_child  # noqa: E402

MODELS = {
    "bert": ("BertBackbone", dict(vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768,
                                  intermediate_dim=3072, max_sequence_length=512)),
    "gpt2": ("GPT2CausalLM", dict(vocabulary_size=50257, num_layers=12, num_heads=12, hidden_dim=768,
                                  intermediate_dim=3072, max_sequence_length=1024)),
}
SHAPES = ((1, 128), (8, 128))
ROUNDS = {1: (6, 10), 8: (6, 4)}  # (rounds, runs per block) per batch size: ~50 s and ~2 min for bert-base
KERAS_HUB = "keras_hub_onnx"
TINY = dict(num_layers=2, num_heads=2, hidden_dim=64, intermediate_dim=128)


def build_keras_hub(kind):
    """The keras-hub model with random weights, called once (Keras' export needs a called model)."""
    import keras_hub
    import numpy as np

    _, config = MODELS[kind]
    if os.environ.get("KERAS_HUB_EXPORT_TINY"):  # --tiny: the plumbing only
        config = {**config, **TINY}
    if kind == "bert":
        model = keras_hub.models.BertBackbone(**config)
    else:
        model = keras_hub.models.GPT2CausalLM(keras_hub.models.GPT2Backbone(**config), preprocessor=None)
    model(sample_inputs(kind, np.ones((1, 8), "int32")))
    return model


def sample_inputs(kind, ids):
    import numpy as np

    inputs = {"token_ids": ids, "padding_mask": np.ones_like(ids)}
    if kind == "bert":
        inputs["segment_ids"] = np.zeros_like(ids)
    return inputs


def child_keras_hub(out, kind):
    model = build_keras_hub(kind)
    path = os.path.join(out, "model.onnx")
    start = time.perf_counter()
    model.export(path, format="onnx")
    return {"export_seconds": round(time.perf_counter() - start, 1), "artifact_bytes": os.path.getsize(path),
            "artifact": path, "parameters": int(model.count_params())}


def child_zoo(out, kind):
    import numpy as np

    import zoo
    from export import export
    from zoo import cpu

    source = build_keras_hub(kind)
    ids = np.random.default_rng(0).integers(0, 1000, (2, 16)).astype("int32")
    theirs = source(sample_inputs(kind, ids))
    theirs = np.asarray(theirs["sequence_output"] if kind == "bert" else theirs)
    start = time.perf_counter()
    model, _ = zoo.from_keras_hub(source)
    del source  # the zoo model replaces it
    gc.collect()
    imported = time.perf_counter()
    report = export(model, os.path.join(out, "zoo"), formats=["onnx"], decoders=False)
    end = time.perf_counter()
    ours = model(sample_inputs(kind, ids))
    ours = ours["sequence_output"] if kind == "bert" else ours
    artifact = report["artifacts"]["onnx"]
    return {"export_seconds": round(end - start, 1), "from_keras_hub_seconds": round(imported - start, 1),
            "export_call_seconds": round(end - imported, 1), "artifact_bytes": artifact["size_bytes"],
            "parameters": int(model.count_params()), "passed": report["passed"], "cpu": cpu.describe(),
            "max_abs_diff_vs_keras_hub": float(np.max(np.abs(np.asarray(ours) - theirs))),
            "validation_max_abs_diff": {k: v["max_abs_diff"] for k, v in artifact["validation"]["outputs"].items()}}


def child_latency(out, kind, keras_hub_artifact):
    """p50 of keras-hub's artifact and the zoo's plain / fused / int8 ones in the same runtime."""
    import zoo
    from export import export

    model, _ = zoo.from_keras_hub(build_keras_hub(kind))
    report = export(model, os.path.join(out, "zoo"), formats=["onnx"], decoders=False, optimize=True, quantize="int8")
    paths = {"zoo_" + key: report["artifacts"][key]["path"] for key in ("onnx", "onnx_optimized", "onnx_int8")}
    if keras_hub_artifact and os.path.exists(keras_hub_artifact):
        paths = {KERAS_HUB: keras_hub_artifact, **paths}
    rounds = {1: (2, 3), 8: (2, 2)} if os.environ.get("KERAS_HUB_EXPORT_TINY") else ROUNDS
    p50, paired = latency_in_blocks(paths, rounds)
    return {"p50_ms": p50, "paired_ratio_to_keras_hub": paired, "rounds": rounds, "fused_ops": report["artifacts"]["onnx_optimized"]["fused_ops"]["final_graph"],
            "int8_max_abs_diff": {k: v["max_abs_diff"] for k, v in
                                  report["artifacts"]["onnx_int8"]["quantization"]["outputs"].items()}}


def latency_in_blocks(paths, rounds):
    """ONNX Runtime latency of each artifact, in blocks: each round runs every
    artifact for a block of consecutive runs (after one untimed run), the
    order alternating from round to round. ``rounds``: {batch size: (rounds,
    runs per block)}. -> ``({artifact: {"bBxT": p50 ms over all runs}},
    {artifact: {"bBxT": median over rounds of its block median / keras-hub's}})``.

    Blocks, not single runs in turn: a server runs one model over and over, and
    switching model every run measured the switch (bert-base at batch 1: the
    zoo's fused graph 112.9 ms against keras-hub's 117.3 in blocks, but slower
    than it when the two alternated run by run). Rounds keep the machine's
    drift from favouring either side, and the per-round ratio cancels it."""
    import statistics

    sessions = {name: ort_session(path) for name, path in paths.items()}
    p50, paired = {name: {} for name in paths}, {name: {} for name in paths if name != KERAS_HUB}
    for batch, length in SHAPES:
        shape, (round_count, block) = f"b{batch}x{length}", rounds[batch]
        feeds = {name: ort_feed(session, batch, length) for name, session in sessions.items()}
        times = {name: [] for name in sessions}
        for round_ in range(round_count):
            for name in (list(sessions) if round_ % 2 else list(reversed(sessions))):
                sessions[name].run(None, feeds[name])
                runs = []
                for _ in range(block):
                    start = time.perf_counter()
                    sessions[name].run(None, feeds[name])
                    runs.append((time.perf_counter() - start) * 1000)
                times[name].append(runs)
        for name, blocks in times.items():
            p50[name][shape] = round(statistics.median(t for runs in blocks for t in runs), 2)
            if name in paired and KERAS_HUB in times:
                paired[name][shape] = round(statistics.median(
                    statistics.median(ours) / statistics.median(theirs)
                    for ours, theirs in zip(blocks, times[KERAS_HUB])), 3)
    return p50, paired


def _ratios(keras_row, zoo_row):
    if keras_row.get("exit_code") != 0 or zoo_row.get("exit_code") != 0:
        return None
    return {"wall": round(zoo_row["wall_seconds"] / keras_row["wall_seconds"], 3),
            "export": round(zoo_row["export_seconds"] / keras_row["export_seconds"], 3),
            "peak_rss": round(zoo_row["peak_rss_gb"] / keras_row["peak_rss_gb"], 3)}


def run(kinds, work):
    results = {}
    for kind in kinds:
        folder = {which: os.path.join(work, kind, which) for which in ("keras_hub", "zoo", "latency")}
        for path in folder.values():
            os.makedirs(path)
        keras_row = run_script_child(__file__, "keras_hub", folder["keras_hub"], ["--model", kind])
        zoo_row = run_script_child(__file__, "zoo", folder["zoo"], ["--model", kind])
        latency = run_script_child(__file__, "latency", folder["latency"],
                                   ["--model", kind, "--keras-hub-artifact", keras_row.get("artifact", "")])
        for row in (keras_row, zoo_row, latency):
            print(kind, json.dumps(row), flush=True)
        results[kind] = {"keras_hub": keras_row, "zoo": zoo_row, "latency": latency,
                         "zoo_over_keras_hub": _ratios(keras_row, zoo_row)}
    return results


def markdown(summary):
    machine = summary["machine"]
    lines = [f"keras-hub export vs zoo.from_keras_hub + export.export; CPU kind {machine['cpu_kind']}, "
             f"{machine['cpus']} cores (1-minute load average {machine['load_average_1m_before_after'][0]} before, "
             f"{machine['load_average_1m_before_after'][1]} after); {summary['date_utc']} UTC; "
             "random weights.", ""]
    lines += ["| model | exporter | wall s | export s | peak RSS GB | artifact MB | exit |", "|---|---|---|---|---|---|---|"]
    for kind, result in summary["results"].items():
        for which in ("keras_hub", "zoo"):
            r = result[which]
            lines.append(f"| {MODELS[kind][0]} | {which} | {r['wall_seconds']} | {r.get('export_seconds', '-')} | "
                         f"{r['peak_rss_gb']} | {round(r['artifact_bytes'] / 1e6) if 'artifact_bytes' in r else '-'} | "
                         f"{r['exit_code']} |")
    lines.append("")
    for kind, result in summary["results"].items():
        lines.append(f"{MODELS[kind][0]}: zoo / keras-hub = {result['zoo_over_keras_hub']}; zoo's max abs diff vs "
                     f"keras-hub {result['zoo'].get('max_abs_diff_vs_keras_hub')}, validation "
                     f"{result['zoo'].get('validation_max_abs_diff')}")
    lines += ["", "ONNX Runtime p50 ms (2 threads, CPU):", "",
              *latency_table(summary, "p50_ms")]
    rounds = next((r["latency"]["rounds"] for r in summary["results"].values() if "rounds" in r["latency"]), ROUNDS)
    lines += ["", "Each zoo artifact's time / keras-hub's artifact's time: the median over rounds of the ratio "
              "of their block medians (" + ", ".join(f"{n} rounds of {block} runs at batch {b}" for b, (n, block) in rounds.items())
              + "; below 1 = the zoo's is faster):", "", *latency_table(summary, "paired_ratio_to_keras_hub")]
    return "\n".join(lines) + "\n"


def latency_table(summary, key):
    """Markdown rows: one per model and artifact of ``result["latency"][key]``, one column per shape."""
    rows = ["| model | artifact | " + " | ".join(f"b{b}x{t}" for b, t in SHAPES) + " |", "|---|---|" + "---|" * len(SHAPES)]
    for kind, result in summary["results"].items():
        for name, row in (result["latency"].get(key) or {}).items():
            rows.append(f"| {MODELS[kind][0]} | {name} | " + " | ".join(str(row.get(f"b{b}x{t}", "-")) for b, t in SHAPES) + " |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="bert,gpt2")
    parser.add_argument("--tiny", action="store_true", help="2-layer versions, to check the plumbing; writes no results")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--keras-hub-artifact", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        children = {"keras_hub": lambda: child_keras_hub(args.child_out, args.model),
                    "zoo": lambda: child_zoo(args.child_out, args.model),
                    "latency": lambda: child_latency(args.child_out, args.model, args.keras_hub_artifact)}
        result = children[args.child]()
        with open(os.path.join(args.child_out, "result.json"), "w") as file:
            json.dump(result, file)
        return

    if args.tiny:
        os.environ["KERAS_HUB_EXPORT_TINY"] = "1"
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    load_before = os.getloadavg()  # other work on the machine slows both sides; recorded with the results
    with tempfile.TemporaryDirectory(prefix="keras-hub-export-bench-") as work:
        results = run(kinds, work)
    cpu = next((r["zoo"]["cpu"] for r in results.values() if "cpu" in r["zoo"]), {})  # the parent never loads TF
    summary = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu_kind": cpu.get("kind"),
                           "cpu": cpu, "load_average_1m_before_after": [round(load_before[0], 2),
                                                                         round(os.getloadavg()[0], 2)]},
               "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "results": results}
    if args.tiny:
        print(markdown(summary))
        return
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, "keras_hub_export")
    with open(stem + ".json", "w") as file:
        json.dump(summary, file, indent=2)
    with open(stem + ".md", "w") as file:
        file.write(markdown(summary))
    print(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()
