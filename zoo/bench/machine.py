"""The machine a run was measured on: CPU and its kind, memory, library versions, GPUs, and its fp32 GEMM peak.

The peak is *measured in the same run* (not a data-sheet number): the best
GFLOP/s of large float32 matrix multiplies through TensorFlow and NumPy.
Each case's achieved GFLOP/s is reported as a percentage of it, which says
how much of the machine a runtime actually uses.
"""

import importlib.metadata
import os
import platform
import time

from zoo import cpu

LIBRARIES = ("tensorflow", "keras", "keras-hub", "tf2onnx", "onnx", "onnxruntime", "onnxruntime-gpu",
             "openvino", "torch", "transformers", "numpy", "zoo")


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb():
    try:
        with open("/proc/meminfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def versions():
    """Installed versions of the libraries that matter here (None when not installed)."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def describe():
    """Machine and library facts that need no heavy import."""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpu": _cpu_model(),
        "cpu_kind": cpu.cpu_kind(),
        "cpu_core_design": cpu.core_design(),
        "cpu_features": cpu.instruction_sets(),
        "cpu_count": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "versions": versions(),
    }


def _best_gflops(matmul, size, repeats):
    flops = 2.0 * size ** 3
    matmul()  # warm-up: thread pools, kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul()
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def gemm_peak(size=2048, repeats=8):
    """Measured fp32 GEMM GFLOP/s: {"tensorflow": .., "numpy": .., "peak_gflops": max}."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    ta, tb = tf.constant(a), tf.constant(b)
    results = {
        "size": size,
        "tensorflow": _best_gflops(lambda: tf.linalg.matmul(ta, tb).numpy(), size, repeats),
        "numpy": _best_gflops(lambda: a @ b, size, repeats),
    }
    results["peak_gflops"] = max(results["tensorflow"], results["numpy"])
    return results


def memory_bandwidth(megabytes=512, repeats=7, threads=1):
    """Measured memory read bandwidth, GB/s: the median time of summing a float64 array far
    larger than any cache (what decoding one token at batch 1 is bound by: reading every weight).

    ``threads`` > 1 splits the sum over that many threads (numpy releases the GIL while it
    sums): one core's bandwidth against several cores'."""
    import threading

    import numpy as np

    values = np.ones(megabytes * 2**20 // 8)
    parts = np.array_split(values, threads)

    def read():
        if threads == 1:
            values.sum()
            return
        workers = [threading.Thread(target=part.sum) for part in parts]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    read()  # warm-up: page faults
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    times.sort()
    return {"megabytes": megabytes, "read_gb_per_s": values.nbytes / times[len(times) // 2] / 1e9}


def openvino_facts():
    """OpenVINO's CPU plugin capabilities (``BF16`` decides ``ov-cpu-bf16``); None when OpenVINO is not installed."""
    import importlib.util

    if importlib.util.find_spec("openvino") is None:
        return {"openvino_cpu_capabilities": None}
    from export.openvino.session import cpu_capabilities

    try:
        return {"openvino_cpu_capabilities": cpu_capabilities()}
    except Exception as error:  # a broken install: recorded, and the OpenVINO runtimes then fail with it
        return {"openvino_cpu_capabilities": None, "openvino_probe_error": f"{type(error).__name__}: {error}"[:300]}


def devices():
    """GPUs TensorFlow sees, onnxruntime's execution providers and OpenVINO's CPU capabilities (for skip reasons)."""
    import onnxruntime
    import tensorflow as tf

    return {
        "tensorflow_gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "onnxruntime_providers": list(onnxruntime.get_available_providers()),
        **openvino_facts(),
    }
