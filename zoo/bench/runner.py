"""Run a suite: probe the machine, prepare each model's artifacts, run every case in its own process.

Order of work (each step is one ``zoo.bench.worker`` process):

1. probe: machine facts, GPUs, the fp32 GEMM peak;
2. per model entry: build it and write the artifacts its runtimes need
   (``zoo.bench.artifacts``);
3. per (model, runtime): load the runtime and time every shape.

A runtime that cannot run here (no GPU, peer not installed, family not
supported) is *skipped* with the reason; one that raises, crashes or times
out is *failed* with its error, and the suite carries on. The progress bar
shows the step in flight; each worker's log is kept in ``DIR/work/logs``.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from zoo import compile_cache
from zoo.bench import records as records_lib
from zoo.bench.runtimes import RUNTIMES, skip_reason
from zoo.bench.suites import load_suite, select
from zoo.bench.zoo_runners import ARTIFACT_OF, GENERATE_ARTIFACT_OF

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
PROBE_TIMEOUT = 300


NOISE = ("I0000", "W0000", "E0000", "WARNING: All log messages")  # TensorFlow/absl start-up chatter


def _last_line(path):
    """The log's last meaningful line (the exception, usually), skipping TensorFlow's start-up chatter."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = [line.strip() for line in file if line.strip() and not line.startswith(NOISE)]
        return lines[-1][:300] if lines else "no error message in the log"
    except OSError:
        return "(no log)"


def _busy_cpu_seconds():
    """CPU seconds the whole machine has spent busy (Linux /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as file:
            fields = [int(v) for v in file.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _wait(process, timeout):
    """os.wait4 with a timeout: (pid, status, rusage of the child)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(process.args, timeout)
        time.sleep(0.05)


def _background_cores(busy_before, start, usage):
    """Average number of cores other processes kept busy while a case ran: the machine's busy CPU
    time minus the case's own, over the wall time. Near 0 on a quiet machine; flags shared runs."""
    busy_after, wall = _busy_cpu_seconds(), time.perf_counter() - start
    if busy_before is None or busy_after is None or wall <= 0:
        return None
    own = usage.ru_utime + usage.ru_stime
    return round(max(0.0, (busy_after - busy_before - own) / wall), 2)


def exit_reason(code):
    """How a worker process ended, in words (a signal by name; SIGKILL hints at the OOM killer)."""
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        hint = " - the kernel's out-of-memory killer, most likely" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exited with code {code}"


def run_worker(request, work_dir, name, timeout):
    """Run one worker process; its result dict (``status`` ok/failed) - never raises for a failing case."""
    for sub in ("requests", "results", "logs"):
        os.makedirs(os.path.join(work_dir, sub), exist_ok=True)
    request_path = os.path.join(work_dir, "requests", f"{name}.json")
    result_path = os.path.join(work_dir, "results", f"{name}.json")
    log_path = os.path.join(work_dir, "logs", f"{name}.log")
    with open(request_path, "w", encoding="utf-8") as file:
        json.dump(request, file, indent=1)
    if os.path.exists(result_path):
        os.remove(result_path)
    # Cold first calls: a worker compiles from scratch, never from XLA's persistent cache.
    env = {**compile_cache.without_cache(os.environ), "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow",
           "PYTHONWARNINGS": "ignore"}
    busy_before, start = _busy_cpu_seconds(), time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, WORKER, request_path, result_path], stdout=log,
                                   stderr=subprocess.STDOUT, env=env)
        try:
            _, status, usage = _wait(process, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return {"status": "failed", "log": log_path,
                    "error": f"timed out after {timeout:g} s (raise timeout_seconds in the suite); log: {log_path}"}
    process.returncode = os.waitstatus_to_exitcode(status)
    background = _background_cores(busy_before, start, usage)
    if not os.path.exists(result_path):
        return {"status": "failed", "log": log_path,
                "error": f"worker {exit_reason(process.returncode)} without a result: {_last_line(log_path)}; "
                         f"log: {log_path}"}
    with open(result_path, encoding="utf-8") as file:
        result = json.load(file)
    if result.pop("partial", False) and process.returncode != 0:  # a prepare step killed mid-export
        died = f"the prepare process {exit_reason(process.returncode)} during this export; log: {log_path}"
        result["errors"] = {key: died for key in result.get("errors", {})}
    result["log"] = log_path
    result["background_cores"] = background
    return result


def _needed_artifact(runtime, task):
    if task == "generate":
        return GENERATE_ARTIFACT_OF.get(runtime, "none")
    if RUNTIMES[runtime].kind == "peer":
        return RUNTIMES[runtime].artifact  # "none" (built in memory) or what the peer reads
    return ARTIFACT_OF[runtime]


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="step", dynamic_ncols=True, file=sys.stderr)


def _probe(work_dir):
    from zoo.bench import machine as machine_lib

    result = run_worker({"action": "probe"}, work_dir, "probe", PROBE_TIMEOUT)
    if result["status"] != "ok":
        facts = machine_lib.describe()
        facts.update(tensorflow_gpus=[], onnxruntime_providers=[], openvino_cpu_capabilities=None, gemm=None,
                     memory_bandwidth=None, probe_error=result["error"])
        return facts
    return result


def preset_facts(entry, family):
    """Facts for the peers when the zoo model could not be prepared: the preset's config + overrides."""
    from zoo.presets import get_preset

    config = {**get_preset(entry["model"]).config, **entry["overrides"]}
    if not all(isinstance(v, (int, float, str, bool)) for v in config.values()):
        return None
    return {"status": "ok", "family": family, "config": config, "parameters": None, "artifacts": {}, "errors": {}}


def run_suite(suite="smoke", out_dir="bench-report", models=None, runtimes=None, progress=True,
              keep_artifacts=False):
    """Run ``suite`` (a name, a JSON path or a dict) and write its report into ``out_dir``.

    ``models`` / ``runtimes`` narrow the suite (lists of names). Each model's
    exported artifacts (``out_dir/work/artifacts``; BERT-base's take ~1.5 GB)
    are deleted once its cases have run, unless ``keep_artifacts``. Returns
    the results dict that is also written as ``results.json``.
    """
    from zoo.bench import report
    from zoo.presets import get_preset

    suite = suite if isinstance(suite, dict) and "source" in suite else load_suite(suite)
    suite = select(suite, models, runtimes)
    out_dir = os.path.abspath(os.fspath(out_dir))
    work_dir = os.path.join(out_dir, "work")
    os.makedirs(work_dir, exist_ok=True)
    started = time.time()
    total = 1 + sum(1 + len(entry["runtimes"]) for entry in suite["models"])
    bar = _progress(total, progress)
    bar.set_description("probe (machine, GEMM peak)")
    machine = _probe(work_dir)
    peak = (machine.get("gemm") or {}).get("peak_gflops")
    bandwidth = (machine.get("memory_bandwidth") or {}).get("read_gb_per_s")
    bar.update(1)
    rows, model_facts = [], {}
    timing = {k: suite[k] for k in ("warmup", "iterations", "max_seconds")}
    for index, entry in enumerate(suite["models"]):
        label, task = entry["label"], entry["task"]
        family = get_preset(entry["model"]).family
        plan = {r: skip_reason(r, family, task, machine) for r in entry["runtimes"]}
        needed = sorted({_needed_artifact(r, task) for r, why in plan.items() if why is None})
        bar.set_description(f"{label}: build + export {', '.join(n for n in needed if n != 'none') or 'model'}")
        artifacts_dir = os.path.join(work_dir, "artifacts", f"{index}-{label}")
        facts = run_worker({"action": "prepare", "preset": entry["model"], "overrides": entry["overrides"],
                            "folder": artifacts_dir, "needed": needed, "shapes": records_lib.shapes(entry),
                            "seed": suite["seed"]}, work_dir, f"{index}-{label}-prepare", suite["timeout_seconds"])
        bar.update(1)
        # Peers need only the configuration: they still run when the zoo's build or export failed.
        fallback = facts if facts["status"] == "ok" else preset_facts(entry, family)
        model_facts[label] = {k: facts.get(k) for k in ("status", "error", "family", "parameters", "config",
                                                        "errors", "export_seconds")}
        for runtime in entry["runtimes"]:
            kind = RUNTIMES[runtime].kind
            bar.set_description(f"{label}: {runtime}")
            artifact = _needed_artifact(runtime, task)
            if plan[runtime]:
                rows += records_lib.not_run(suite["name"], entry, family, runtime, kind, "skipped", plan[runtime], facts)
            elif facts["status"] != "ok" and (kind != "peer" or fallback is None):
                rows += records_lib.not_run(suite["name"], entry, family, runtime, kind, "failed",
                                            f"model build/export failed: {facts['error']}")
            elif artifact in facts.get("errors", {}):
                rows += records_lib.not_run(suite["name"], entry, family, runtime, kind, "failed",
                                            f"export of {artifact} failed: {facts['errors'][artifact]}", facts)
            else:
                case_facts = facts if facts["status"] == "ok" else fallback
                request = {"action": "case", "runtime": runtime, "kind": kind, "task": task, "facts": case_facts,
                           "uses_tensorflow": RUNTIMES[runtime].uses_tensorflow,
                           "shapes": records_lib.shapes(entry), **timing}
                result = run_worker(request, work_dir, f"{index}-{label}-{runtime}", suite["timeout_seconds"])
                if result["status"] == "ok":
                    rows += records_lib.measured(suite["name"], entry, family, runtime, kind, result, case_facts, peak,
                                                 bandwidth)
                else:
                    rows += records_lib.not_run(suite["name"], entry, family, runtime, kind, "failed",
                                                result["error"], facts)
            bar.update(1)
        if not keep_artifacts:
            shutil.rmtree(artifacts_dir, ignore_errors=True)
    bar.set_description("done")
    bar.close()
    records_lib.best_peer_ratio(rows)
    results = {
        "schema_version": 1,
        "suite": {k: suite[k] for k in ("name", "source", "warmup", "iterations", "max_seconds", "timeout_seconds")}
        | {"description": suite.get("description", "")},
        "machine": machine,
        "elapsed_s": round(time.time() - started, 1),
        "models": model_facts,
        "records": rows,
    }
    report.write_all(results, out_dir)
    return results
