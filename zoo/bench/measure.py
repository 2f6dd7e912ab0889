"""Timing and memory: first call, warm-up, then timed calls summarised as percentiles.

The first call at a shape is timed on its own: it includes tracing and
compilation (tf.function, XLA) or session warm-up, which is what a user
waits for once. Then ``warmup`` untimed calls, then up to ``iterations``
timed calls, stopping early when ``max_seconds`` is spent (at least three
are always taken so that percentiles mean something).
"""

import resource
import sys
import time

import numpy as np

MIN_ITERATIONS = 3


def timed(function):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def time_calls(function, warmup, iterations, max_seconds):
    """Measure ``function()`` (which must block until its result is ready).

    Returns {"first_call_s", "times_ms": [...]} where times exclude the first
    call and the warm-up calls.
    """
    first, _ = timed(function)
    for _ in range(int(warmup)):
        function()
    times = []
    budget_end = time.perf_counter() + float(max_seconds)
    while len(times) < max(int(iterations), MIN_ITERATIONS):
        seconds, _ = timed(function)
        times.append(seconds * 1000.0)
        if len(times) >= MIN_ITERATIONS and time.perf_counter() > budget_end:
            break
    return {"first_call_s": first, "times_ms": times}


def summarize(times_ms):
    """p50/p90/p99/mean/min (ms) and the number of timed calls."""
    values = np.asarray(times_ms, dtype=np.float64)
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99),
            "mean_ms": float(values.mean()), "min_ms": float(values.min()), "iterations": int(values.size)}


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB.

    Linux: ``VmHWM`` from /proc/self/status, the high-water mark of this
    process's own memory. Not ``ru_maxrss``: Linux carries it over fork and
    exec, so a worker started by a parent that holds TensorFlow would report
    the parent's peak. Elsewhere ``ru_maxrss`` (bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
