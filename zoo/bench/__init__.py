"""``zoo.bench``: benchmark suites across runtimes and peers (the engine behind ``zoo bench``).

    from zoo import bench
    results = bench.run("default", "bench-report")     # a suite name or a JSON path
    results["records"]                                  # one row per model x runtime x shape
    bench.list_suites(), bench.RUNTIMES                 # what can be named in a suite

One concept per module: ``suites`` (loading and validation), ``runtimes``
(the registry and skip reasons), ``artifacts`` (build + export per model),
``zoo_runners`` and ``peers`` (how each runtime runs a call; the LSTM
peers in ``lstm_peers``, ``lstm_keras``, ``lstm_torch``, ``lstm_weights``, checked
against ``reference``), ``measure``
(timing, percentiles, peak RSS), ``flops`` and ``machine`` (GFLOP/s and
the measured GEMM peak), ``worker`` (one case per process), ``runner``
(the orchestration), ``records``, ``report`` and ``plots`` (outputs).

This ``__init__`` stays free of TensorFlow imports: ONNX Runtime and torch
cases import ``zoo.bench`` modules without loading TensorFlow.
"""

from zoo.bench.runtimes import RUNTIMES, TASKS


def run(suite="default", out_dir="bench-report", models=None, runtimes=None, progress=True, keep_artifacts=False):
    """Run a suite and write ``results.json``, ``results.csv``, ``report.md`` and PNGs into ``out_dir``.

    Args:
        suite: a shipped suite name (``smoke``, ``default``, ``full``), the
            path of a suite JSON file, or a suite dict.
        out_dir: where the outputs go (created; worker logs in ``out_dir/work``).
        models, runtimes: optional lists narrowing the suite.
        progress: show a progress bar on stderr.
        keep_artifacts: keep each model's exported artifacts in ``out_dir/work/artifacts``
            (deleted after the model's cases by default; they can be large).
    Returns the results dict (also ``results.json``). Raises ``SuiteError``
    (a ValueError) for an unknown suite, model or runtime, listing the valid ones.
    """
    from zoo.bench.runner import run_suite

    return run_suite(suite, out_dir, models=models, runtimes=runtimes, progress=progress,
                     keep_artifacts=keep_artifacts)


def list_suites():
    """Names of the shipped suites (``zoo/bench/suites/*.json``)."""
    from zoo.bench.suites import list_suites as _list

    return _list()


def load_suite(name_or_path):
    """A validated suite dict (see ``zoo.bench.suites``)."""
    from zoo.bench.suites import load_suite as _load

    return _load(name_or_path)


__all__ = ["RUNTIMES", "TASKS", "list_suites", "load_suite", "run"]
