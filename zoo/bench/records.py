"""Turn worker results into result records: one flat row per (model, runtime, shape).

A row carries everything the report, the CSV and the plots show: status
(``ok``, ``skipped``, ``failed``) and its reason, p50/p90/p99 latency,
throughput, first-call and load time, peak RSS, artifact size, the
artifact's max abs difference from Keras (from export validation; for the
LSTM peers, from their parity check), and the
achieved GFLOP/s as a share of the GEMM peak measured in the same run.
"""

from zoo.bench import flops as flops_lib
from zoo.bench import measure

FIELDS = (
    "suite", "model", "preset", "family", "task", "runtime", "kind", "status", "reason",
    "batch_size", "sequence_length", "new_tokens",
    "p50_ms", "p90_ms", "p99_ms", "mean_ms", "min_ms", "iterations",
    "sequences_per_s", "tokens_per_s", "first_call_s", "load_s", "peak_rss_mb", "artifact_bytes",
    "max_abs_diff_vs_keras", "parameters", "gflop_per_call", "gflops_per_s", "percent_of_peak",
    "bytes_per_step", "percent_of_bandwidth", "background_cores",
)


def shapes(entry):
    """Every (batch, length, new_tokens) of a suite entry, in order."""
    return [(b, t, n) for b in entry["batch_sizes"] for t in entry["sequence_lengths"] for n in entry["new_tokens"]]


def _base(suite_name, entry, family, runtime, kind, shape, facts):
    batch, length, new_tokens = shape
    return {field: None for field in FIELDS} | {
        "suite": suite_name, "model": entry["label"], "preset": entry["model"], "family": family,
        "task": entry["task"], "runtime": runtime, "kind": kind,
        "batch_size": batch, "sequence_length": length, "new_tokens": new_tokens if entry["task"] == "generate" else None,
        "parameters": (facts or {}).get("parameters"),
    }


def not_run(suite_name, entry, family, runtime, kind, status, reason, facts=None):
    """Rows for a case that was skipped or failed as a whole."""
    rows = []
    for shape in shapes(entry):
        row = _base(suite_name, entry, family, runtime, kind, shape, facts)
        row.update(status=status, reason=reason)
        rows.append(row)
    return rows


def _gflop(entry, family, config, batch, length, new_tokens):
    try:
        if entry["task"] == "generate":
            return flops_lib.generate_flops(family, config, batch, length, new_tokens) / 1e9
        return flops_lib.forward_flops(family, config, batch, length) / 1e9
    except (KeyError, ValueError):
        return None


def measured(suite_name, entry, family, runtime, kind, result, facts, peak_gflops, bandwidth_gb_s=None):
    """Rows for a case whose worker returned a result (some shapes may have failed).

    Generation rows also get ``percent_of_bandwidth``: steps per second (the
    prompt step included) times the bytes a step must read
    (``flops.decode_bytes_per_step``), as a share of the memory read bandwidth
    measured in the same run.
    """
    artifact = result.get("artifact") or {}
    rows = []
    by_shape = {(s["batch_size"], s["sequence_length"], s["new_tokens"]): s for s in result.get("shapes", [])}
    for shape in shapes(entry):
        row = _base(suite_name, entry, family, runtime, kind, shape, facts)
        row.update(load_s=result.get("load_s"), peak_rss_mb=result.get("peak_rss_mb"),
                   background_cores=result.get("background_cores"),
                   artifact_bytes=artifact.get("size_bytes"), max_abs_diff_vs_keras=artifact.get("max_abs_diff"))
        measured_shape = by_shape.get(shape)
        if measured_shape is None or measured_shape.get("status") != "ok":
            row.update(status="failed", reason=(measured_shape or {}).get("error", "not measured"))
            rows.append(row)
            continue
        batch, length, new_tokens = shape
        stats = measure.summarize(measured_shape["times_ms"])
        seconds = stats["p50_ms"] / 1000.0
        gflop = _gflop(entry, family, facts["config"], batch, length, new_tokens)
        row.update(stats)
        row.update(
            status="ok",
            first_call_s=measured_shape["first_call_s"],
            sequences_per_s=batch / seconds,
            tokens_per_s=batch * (new_tokens if entry["task"] == "generate" else length) / seconds,
            gflop_per_call=gflop,
            gflops_per_s=gflop / seconds if gflop is not None else None,
        )
        if peak_gflops and row["gflops_per_s"] is not None:
            row["percent_of_peak"] = 100.0 * row["gflops_per_s"] / peak_gflops
        if entry["task"] == "generate" and facts.get("parameters"):
            row["bytes_per_step"] = flops_lib.decode_bytes_per_step(
                family, facts["config"], runtime, facts["parameters"], batch, length, new_tokens)
            if bandwidth_gb_s:
                steps_per_s = new_tokens / seconds
                row["percent_of_bandwidth"] = 100.0 * steps_per_s * row["bytes_per_step"] / (bandwidth_gb_s * 1e9)
        rows.append(row)
    return rows


def best_peer_ratio(rows):
    """Add ``speedup_vs_best_peer`` (fastest ok peer's p50 / this p50) to each ok row, in place."""
    best = {}
    for row in rows:
        if row["kind"] == "peer" and row["status"] == "ok":
            key = (row["model"], row["batch_size"], row["sequence_length"], row["new_tokens"])
            if key not in best or row["p50_ms"] < best[key][1]:
                best[key] = (row["runtime"], row["p50_ms"])
    for row in rows:
        key = (row["model"], row["batch_size"], row["sequence_length"], row["new_tokens"])
        peer = best.get(key)
        row["best_peer"] = peer[0] if peer else None
        row["speedup_vs_best_peer"] = (peer[1] / row["p50_ms"]) if peer and row["status"] == "ok" else None
    return rows
