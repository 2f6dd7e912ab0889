"""Write a run's outputs: ``results.json``, ``results.csv``, ``report.md`` and the PNG plots.

``report.md`` has a header (date, machine, library versions, measured GEMM
peak) and one table per model entry: every runtime at every shape, with
the speed-up against the fastest peer at the same shape (> 1 means faster
than the best of the peers: keras-hub / transformers, or for the LSTM
families keras-lstm / torch-lstm), then the runtimes that were
skipped or failed, each with its reason.
"""

import csv
import json
import os

from zoo.bench.records import FIELDS

CSV_FIELDS = FIELDS + ("best_peer", "speedup_vs_best_peer")
OUTPUTS = ("results.json", "results.csv", "report.md")


def _fmt(value, digits=1, scale=1.0):
    if value is None:
        return "–"
    value = value * scale
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def header(results):
    m, v = results["machine"], results["machine"].get("versions", {})
    libraries = ", ".join(f"{name} {v[name]}" for name in ("tensorflow", "keras", "keras-hub", "onnxruntime",
                                                           "openvino", "torch", "transformers") if v.get(name))
    gemm = m.get("gemm")
    peak = (f"fp32 GEMM peak measured in this run: **{gemm['peak_gflops']:.0f} GFLOP/s** "
            f"({gemm['size']}² matmul; TensorFlow {gemm['tensorflow']:.0f}, NumPy {gemm['numpy']:.0f})"
            if gemm else f"GEMM probe failed: {m.get('probe_error')}")
    bandwidth = m.get("memory_bandwidth")
    if bandwidth:
        peak += (f"; memory read bandwidth measured in this run: **{bandwidth['read_gb_per_s']:.1f} GB/s** "
                 f"(sum of a {bandwidth['megabytes']} MB array; generation rows' **% bw** = steps/s, prompt "
                 "step included, × the bytes a step must read - every weight at the runtime's width plus "
                 "GPT's key/value cache over the mean context - over it)")
    suite = results["suite"]
    return [
        f"# zoo bench — suite `{suite['name']}`",
        "",
        f"{suite.get('description', '')}".strip(),
        "",
        f"Measured {m['date_utc']} UTC on {m['cpu']} ({m.get('cpu_core_design') or 'core design not recorded'}), "
        f"CPU kind **{m.get('cpu_kind', 'not recorded')}** "
        f"(features: {', '.join(m.get('cpu_features') or []) or 'not recorded'}; "
        f"{m['cpu_count']} CPUs, {m.get('memory_gb')} GB RAM, "
        f"GPUs: {', '.join(m.get('tensorflow_gpus') or []) or 'none'}), {m['platform']}, Python {m['python']}; "
        f"{libraries}.",
        f"{peak}. Load average at start: {m.get('load_average_at_start')}. Whole run: {results['elapsed_s'] / 60:.1f} min.",
        "",
        f"Each case runs in its own process. Per shape: one first call (tracing/compilation included), "
        f"{suite['warmup']} warm-up calls, then up to {suite['iterations']} timed calls (at most "
        f"{suite['max_seconds']} s). Latency p50/p90/p99 in ms; seq/s and tok/s from p50 (tok/s: tokens read "
        "for forward, tokens generated for generate); load = artifact load (peers: build from config; "
        "keras-lstm / torch-lstm: build from the zoo model's weights); "
        "RSS = peak resident memory of the case's process; Δ = max abs difference from Keras found by "
        "export validation (keras-lstm / torch-lstm: their logits vs the zoo model's on the same inputs, "
        "checked on each shape's untimed first call; OpenVINO `ov-*` forward rows: measured by the case itself "
        "on a fixed 2×8 batch at its own precision, after the timing; `ov-*` generation rows: not measured); "
        "GFLOP/s from analytic matmul FLOPs (`zoo.bench.flops`) and % of the fp32 "
        "GEMM peak (int8 graphs count the same FLOPs, so they can pass 100%); "
        "**vs peer** = fastest peer's p50 / this p50 at the same shape (> 1: faster than the best peer); "
        "**bg cores** = CPU cores other processes kept busy during the case (machine busy time minus the "
        "case's own; well above 0 means the case shared the machine and its numbers are pessimistic).",
        "",
    ]


def model_table(results, label):
    rows = [r for r in results["records"] if r["model"] == label]
    first = rows[0]
    generate = first["task"] == "generate"
    facts = results["models"].get(label, {})
    params = f"{facts['parameters']:,} parameters" if facts.get("parameters") else "parameters unknown"
    lines = [f"## {label} — {first['task']} ({first['family']}, preset `{first['preset']}`, {params})", ""]
    columns = ["runtime", "batch", "length"] + (["new"] if generate else []) + [
        "p50 ms", "p90 ms", "p99 ms", "seq/s", "tok/s", "first call s", "load s", "RSS MB", "size MB",
        "Δ vs Keras", "GFLOP/s", "% peak"] + (["% bw"] if generate else []) + ["vs peer", "bg cores"]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    ok = sorted((r for r in rows if r["status"] == "ok"),
                key=lambda r: (r["batch_size"], r["sequence_length"], r["new_tokens"] or 0))
    for r in ok:
        name = f"**{r['runtime']}**" if r["kind"] == "peer" else r["runtime"]
        diff = "–" if r["max_abs_diff_vs_keras"] is None else f"{r['max_abs_diff_vs_keras']:.1e}"
        speedup = "–" if r["speedup_vs_best_peer"] is None else f"{r['speedup_vs_best_peer']:.2f}×"
        cells = [name, str(r["batch_size"]), str(r["sequence_length"])] + (
            [str(r["new_tokens"])] if generate else []) + [
            _fmt(r["p50_ms"], 2), _fmt(r["p90_ms"], 2), _fmt(r["p99_ms"], 2), _fmt(r["sequences_per_s"], 1),
            _fmt(r["tokens_per_s"], 0), _fmt(r["first_call_s"], 2), _fmt(r["load_s"], 2), _fmt(r["peak_rss_mb"], 0),
            _fmt(r["artifact_bytes"], 1, 1 / 2**20), diff, _fmt(r["gflops_per_s"], 1), _fmt(r["percent_of_peak"], 1)] + (
            [_fmt(r["percent_of_bandwidth"], 1)] if generate else []) + [speedup, _fmt(r["background_cores"], 2)]
        lines.append("| " + " | ".join(cells) + " |")
    if not ok:
        lines.append("| (no runtime measured) |" + " |" * (len(columns) - 1))
    not_ok = {}
    for r in rows:
        if r["status"] != "ok":
            not_ok.setdefault((r["runtime"], r["status"], r["reason"]), []).append(
                f"b{r['batch_size']}×{r['sequence_length']}" + (f"+{r['new_tokens']}" if generate else ""))
    if not_ok:
        lines += ["", "Not measured:", ""]
        for (runtime, status, reason), where in not_ok.items():
            lines.append(f"- `{runtime}` **{status}** ({', '.join(where)}): {reason}")
    lines.append("")
    return lines


def markdown(results):
    lines = header(results)
    labels = list(dict.fromkeys(r["model"] for r in results["records"]))
    for label in labels:
        lines += model_table(results, label)
    plots = results.get("plots") or []
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    return "\n".join(lines)


def write_csv(results, path):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in results["records"]:
            writer.writerow(row)


def write_all(results, out_dir):
    """Write plots, results.json, results.csv and report.md into ``out_dir``; returns their paths."""
    from zoo.bench import plots

    os.makedirs(out_dir, exist_ok=True)
    try:
        results["plots"] = plots.write_plots(results, out_dir)
    except Exception as error:  # a plotting problem must not lose the measurements
        results["plots"], results["plot_error"] = [], f"{type(error).__name__}: {error}"
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as file:
        json.dump(results, file, indent=1, default=str)
    write_csv(results, os.path.join(out_dir, "results.csv"))
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as file:
        file.write(markdown(results))
    return [os.path.join(out_dir, name) for name in OUTPUTS + tuple(results["plots"])]
