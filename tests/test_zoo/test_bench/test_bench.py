"""zoo bench: suite validation, bad input, and the smoke suite's outputs and schema.

The smoke suite runs once for the module (every case in its own process,
~1-2 min on 2 cores) with one runtime made to fail on purpose
(``ZOO_BENCH_FAIL_RUNTIME``): the report must show it as failed and every
other runtime must still have been measured.
"""

import csv
import importlib.util
import json
import os

import pytest

from zoo import bench, cpu
from zoo.bench import flops, records, report, suites
from zoo.bench.runtimes import RUNTIMES, skip_reason
from zoo.bench.worker import FAIL_ENV
from zoo.cli import main

FAILING = "ort-cpu-int8"
HAS_TORCH_PEER = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-smoke")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(FAIL_ENV, FAILING)
        results = bench.run("smoke", out, progress=False)
    return out, results


def test_shipped_suites_are_valid():
    assert {"smoke", "default", "full"} <= set(bench.list_suites())
    for name in bench.list_suites():
        suite = bench.load_suite(name)
        assert suite["models"] and all(e["runtimes"] for e in suite["models"])


def test_unknown_suite_lists_the_valid_ones():
    with pytest.raises(suites.SuiteError, match="Valid suites: .*default.*smoke"):
        bench.load_suite("no-such-suite")


def test_unknown_model_runtime_and_fields_are_all_named():
    raw = {"models": [{"model": "bert-huge", "runtimes": ["ort-cpu", "tpu"], "batch_sizes": [0]},
                      {"model": "gpt-nano", "task": "train"}], "iterations": -1}
    with pytest.raises(suites.SuiteError) as error:
        suites.validate_suite(raw)
    text = str(error.value)
    assert "unknown model; valid models: " in text and "bert-tiny" in text
    assert "unknown runtime(s) ['tpu']; valid runtimes: " in text and "ort-cpu-int8" in text
    assert "unknown task 'train'" in text and "batch_sizes" in text and "iterations" in text


def test_shapes_beyond_the_model_context_are_refused_before_anything_runs():
    raw = {"models": [{"model": "gpt-mini", "label": "long", "task": "generate", "sequence_lengths": [16, 100],
                       "new_tokens": [64]},
                      {"model": "bert-tiny", "sequence_lengths": [64], "overrides": {"max_sequence_length": 32}},
                      {"model": "gpt-mini", "label": "fits", "task": "generate", "sequence_lengths": [64],
                       "new_tokens": [64]}]}
    with pytest.raises(suites.SuiteError) as error:
        suites.validate_suite(raw)
    text = str(error.value)
    assert "'long': prompt + new tokens up to 164 exceeds the model's context (max_sequence_length 128)" in text
    assert "'bert-tiny': sequence length up to 64 exceeds the model's context (max_sequence_length 32)" in text
    assert "'fits'" not in text


def test_select_rejects_unknown_model_and_runtime():
    suite = bench.load_suite("smoke")
    with pytest.raises(suites.SuiteError, match="its models: "):
        suites.select(suite, models=["gpt2-xl"])
    with pytest.raises(suites.SuiteError, match="valid runtimes: keras-eager"):
        suites.select(suite, runtimes=["ort-tpu"])


def test_cli_reports_a_bad_suite_and_lists_runtimes(tmp_path, capsys):
    assert main(["bench", "--suite", "nope", "--out", str(tmp_path)]) == 2
    assert "Valid suites:" in capsys.readouterr().err
    assert main(["bench", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in RUNTIMES)


def test_gpu_runtimes_are_skipped_with_a_reason_without_gpu():
    machine = {"tensorflow_gpus": [], "onnxruntime_providers": ["CPUExecutionProvider"]}
    assert "no GPU" in skip_reason("tf-gpu", "bert", "forward", machine)
    assert "CUDAExecutionProvider" in skip_reason("ort-cuda", "bert", "forward", machine)
    assert "no model of the lstm_lm family" in skip_reason("keras-hub", "lstm_lm", "forward", machine)
    assert skip_reason("ort-cpu", "bert", "forward", machine) is None


def test_openvino_runtimes_are_skipped_with_a_reason(monkeypatch):
    from zoo.bench import machine as machine_lib
    from zoo.bench import runtimes

    without_bf16 = {"openvino_cpu_capabilities": ["FP32", "INT8"]}
    with_bf16 = {"openvino_cpu_capabilities": ["BF16", "FP32", "INT8"]}
    assert "no decode loop" in skip_reason("ov-cpu-int8", "gpt", "generate", with_bf16)
    if importlib.util.find_spec("openvino"):
        assert "FP32" in machine_lib.openvino_facts()["openvino_cpu_capabilities"]
        assert skip_reason("ov-cpu", "seq2seq", "forward", without_bf16) is None
        assert skip_reason("ov-cpu-bf16", "gpt", "generate", with_bf16) is None
        reason = skip_reason("ov-cpu-bf16", "bert", "forward", without_bf16)
        assert "no bf16" in reason and "FP32, INT8" in reason
    monkeypatch.setattr(runtimes, "_installed", lambda module: module != "openvino")
    for name in runtimes.OPENVINO_RUNTIMES:
        assert skip_reason(name, "bert", "forward", with_bf16) == "not installed: openvino (pip install -e '.[openvino]')"


def test_flops_match_the_published_bert_base_count():
    base = dict(num_layers=12, hidden_dim=768, intermediate_dim=3072, num_heads=12, vocabulary_size=30522)
    gflop = flops.forward_flops("bert", base, 1, 128) / 1e9
    assert 21.0 < gflop < 23.5  # ~2 x 85M encoder parameters x 128 tokens + attention


def test_decode_bytes_count_weights_at_the_runtime_width_and_the_cache():
    gpt2 = dict(num_layers=12, hidden_dim=768)
    weights = 124_439_808
    fp32 = flops.decode_bytes_per_step("gpt", gpt2, "ort-cpu", weights, 1, 16, 64)
    cache = 2 * 12 * 768 * 4 * (16 + 32)
    assert fp32 == weights * 4 + cache
    assert flops.decode_bytes_per_step("gpt", gpt2, "ort-cpu-int4", weights, 1, 16, 64) == weights / 2 + cache
    assert flops.decode_bytes_per_step("gpt", gpt2, "ov-cpu-bf16", weights, 4, 16, 64) == weights * 2 + 4 * cache
    assert flops.decode_bytes_per_step("seq2seq", {}, "ort-cpu-int8", 1000, 1, 16, 64) == 1000


@pytest.mark.slow
def test_smoke_writes_every_output(smoke):
    out, results = smoke
    for name in report.OUTPUTS:
        assert os.path.getsize(os.path.join(out, name)) > 0
    assert results["plots"]
    for name in results["plots"]:
        with open(os.path.join(out, name), "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_smoke_results_schema(smoke):
    out, results = smoke
    with open(os.path.join(out, "results.json"), encoding="utf-8") as file:
        saved = json.load(file)
    assert saved["schema_version"] == 1 and saved["suite"]["name"] == "smoke"
    machine = saved["machine"]
    assert machine["gemm"]["peak_gflops"] > 0 and machine["versions"]["tensorflow"] and machine["cpu_count"]
    assert machine["cpu_kind"] == cpu.cpu_kind() and machine["cpu_features"] == cpu.instruction_sets()
    rows = saved["records"]
    assert rows and all(set(records.FIELDS) <= set(row) for row in rows)
    ok = [r for r in rows if r["status"] == "ok"]
    for row in ok:
        assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"]
        assert row["tokens_per_s"] > 0 and row["first_call_s"] >= 0 and row["peak_rss_mb"] > 0
        assert row["gflops_per_s"] > 0 and row["percent_of_peak"] > 0
    measured = {(r["model"], r["runtime"]) for r in ok}
    peers = ("transformers-torch",) if HAS_TORCH_PEER else ()
    for runtime in ("keras-eager", "tf-function", "tf-function-xla", "savedmodel", "ort-cpu", "ort-cpu-fused") + peers:
        assert ("bert-tiny-smoke", runtime) in measured, runtime
    if not HAS_TORCH_PEER:  # installed without the hf extra: the peer is skipped, saying what to install
        assert all(r["status"] == "skipped" and "hf" in r["reason"] for r in rows if r["runtime"] == "transformers-torch")
    assert {("gpt-nano-smoke", "tf-function-xla"), ("gpt-nano-smoke", "ort-cpu"),
            ("gpt-nano-smoke", "ort-cpu-fused"), ("gpt-nano-smoke", "ort-cpu-int4")} <= measured
    generated = [r for r in ok if r["task"] == "generate"]
    assert generated and all(r["new_tokens"] for r in generated)
    assert machine["memory_bandwidth"]["read_gb_per_s"] > 0
    assert all(r["bytes_per_step"] > 0 and r["percent_of_bandwidth"] > 0 for r in generated)
    int4 = next(r for r in generated if r["runtime"] == "ort-cpu-int4")
    assert int4["bytes_per_step"] < next(r for r in generated if r["runtime"] == "ort-cpu")["bytes_per_step"]
    onnx_rows = [r for r in ok if r["runtime"] == "ort-cpu" and r["task"] == "forward"]
    assert all(r["artifact_bytes"] > 0 and r["max_abs_diff_vs_keras"] < 1e-3 for r in onnx_rows)
    if importlib.util.find_spec("openvino"):  # OpenVINO's own difference, measured in its case
        openvino_rows = [r for r in ok if r["runtime"] == "ov-cpu"]
        assert openvino_rows and all(r["max_abs_diff_vs_keras"] < 1e-4 for r in openvino_rows)
    else:
        assert all(r["status"] == "skipped" and "openvino" in r["reason"] for r in rows if r["runtime"] == "ov-cpu")
    assert any(r["speedup_vs_best_peer"] for r in ok if r["kind"] == "zoo")
    with open(os.path.join(out, "results.csv"), encoding="utf-8") as file:
        table = list(csv.DictReader(file))
    assert tuple(table[0]) == report.CSV_FIELDS and len(table) == len(rows)


@pytest.mark.slow
def test_smoke_reports_the_failed_and_skipped_runtimes_and_runs_the_rest(smoke):
    out, results = smoke
    rows = results["records"]
    failed = [r for r in rows if r["runtime"] == FAILING]
    assert failed and all(r["status"] == "failed" and "deliberate failure" in r["reason"] for r in failed)
    assert all(r["status"] == "skipped" and "no GPU" in r["reason"] for r in rows if r["runtime"] in ("tf-gpu", "ort-cuda"))
    with open(os.path.join(out, "report.md"), encoding="utf-8") as file:
        text = file.read()
    assert "## bert-tiny-smoke — forward" in text and "## gpt-nano-smoke — generate" in text
    assert f"CPU kind **{cpu.cpu_kind()}**" in text
    assert f"`{FAILING}` **failed**" in text and "`tf-gpu` **skipped**" in text
    assert "GEMM peak measured in this run" in text


def test_a_killed_worker_is_named_and_peers_keep_the_preset_config():
    from zoo.bench import runner

    assert "SIGKILL" in runner.exit_reason(-9) and "out-of-memory" in runner.exit_reason(-9)
    assert runner.exit_reason(1) == "exited with code 1"
    entry = {"model": "gpt2", "overrides": {"num_layers": 2}}
    facts = runner.preset_facts(entry, "gpt")
    assert facts["config"]["vocabulary_size"] == 50257 and facts["config"]["num_layers"] == 2
