"""One benchmark step in its own process: ``python zoo/bench/worker.py request.json result.json``.

Why a process per case: peak RSS is then the case's own (a process's peak
never goes down, so cases sharing one would inherit each other's), a crash
or hang in one runtime cannot take the suite down, and every runtime starts
cold, as a user's process would.

Requests (JSON): ``{"action": "probe"}`` (machine, GPUs, GEMM peak),
``{"action": "prepare", ...}`` (build the model, write its artifacts; see
``zoo.bench.artifacts``) and ``{"action": "case", ...}`` (load one runtime,
time every shape). The result JSON always has ``status`` (``ok`` or
``failed`` with ``error``); a shape that fails is recorded and the next one
still runs.

``ZOO_BENCH_FAIL_RUNTIME=<runtime>`` makes that runtime's case raise after
loading - a deliberate failure used by the tests to check that a suite
reports it and carries on.
"""

import json
import os
import sys
import traceback

FAIL_ENV = "ZOO_BENCH_FAIL_RUNTIME"


def _setup_imports(uses_tensorflow):
    # Run as a file, sys.path[0] is zoo/bench: drop it so its modules are only reachable as zoo.bench.*.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    root = os.path.dirname(os.path.dirname(here))
    if root not in sys.path:
        sys.path.append(root)
    if uses_tensorflow:
        from zoo import startup

        startup.import_tensorflow()
        import zoo.models  # noqa: F401  (registers the zoo's Keras classes)


def probe():
    from zoo.bench import machine

    facts = machine.describe()
    facts.update(machine.devices())
    facts["gemm"] = machine.gemm_peak()
    facts["memory_bandwidth"] = machine.memory_bandwidth()
    return facts


def run_case(request):
    from zoo.bench import measure

    runtime, task, facts = request["runtime"], request["task"], request["facts"]
    if request["kind"] == "peer":
        from zoo.bench import peers as module
    else:
        from zoo.bench import zoo_runners as module
    make_call, load_seconds, artifact = module.load(runtime, task, facts)
    # The LSTM peers fill artifact["max_abs_diff"] as their shapes run (zoo.bench.lstm_peers).
    check = artifact.pop("check", None)  # run after the timing, so the first calls stay cold
    result = {"load_s": load_seconds, "artifact": artifact, "rss_after_load_mb": measure.peak_rss_mb(), "shapes": []}
    if os.environ.get(FAIL_ENV) == runtime:
        raise RuntimeError(f"deliberate failure of {runtime} ({FAIL_ENV}={runtime})")
    for batch, length, new_tokens in request["shapes"]:
        shape = {"batch_size": batch, "sequence_length": length, "new_tokens": new_tokens}
        try:
            call = make_call(batch, length, new_tokens)
            shape.update(measure.time_calls(call, request["warmup"], request["iterations"], request["max_seconds"]))
            shape["status"] = "ok"
        except Exception as error:  # one shape failing must not lose the others
            shape.update(status="failed", error=_one_line(error))
            traceback.print_exc()
        result["shapes"].append(shape)
    if check is not None:
        try:
            artifact.update(check())
        except Exception as error:  # the timings stand; the difference is reported as unknown
            artifact["check_error"] = _one_line(error)
            traceback.print_exc()
    result["peak_rss_mb"] = measure.peak_rss_mb()
    return result


def prepare(request):
    from zoo.bench import artifacts

    def checkpoint(facts):  # a partial result, replaced by the final one unless this process is killed
        _write(request["result_path"], {**facts, "status": "ok", "partial": True})

    return artifacts.prepare(request["preset"], request["overrides"], request["folder"],
                             set(request["needed"]), request.get("seed", 0), checkpoint=checkpoint,
                             shapes=request.get("shapes", ()))


def _write(path, result):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(result, file)
    os.replace(temporary, path)


def _one_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]


ACTIONS = {"probe": lambda request: probe(), "prepare": prepare, "case": run_case}


def main(argv):
    request_path, result_path = argv
    with open(request_path, encoding="utf-8") as file:
        request = json.load(file)
    action = request["action"]
    request["result_path"] = result_path
    _setup_imports(request.get("uses_tensorflow", True))
    try:
        result = ACTIONS[action](request)
        result["status"] = "ok"
        code = 0
    except Exception as error:
        traceback.print_exc()
        result = {"status": "failed", "error": _one_line(error)}
        code = 1
    _write(result_path, result)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
