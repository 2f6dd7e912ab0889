"""How fast an XLA decode step's matrix-vector products read gpt2's block weights, in three forms.

    python benchmarks/xla_matvec.py [--rounds 5] [--out benchmarks/results]

At batch 1 a decode step multiplies one row by every projection kernel: it
reads the weights once, so its speed is memory bandwidth. Profiling
``zoo.generate`` on gpt2 (TensorFlow's profiler with XLA's
``--xla_cpu_enable_xprof_traceme``) put most of a step in the blocks'
fused dot + bias kernels, reading slower than the LM head (one large
product, split across the cores). This script measures
that in isolation, in one process:

* memory read bandwidth with 1 and 2 threads (``zoo.bench.machine.memory_bandwidth``);
* gpt2's 72 block products (12 x q, k, v, output 768x768, 768x3072,
  3072x768) chained in an XLA ``while`` of 20 steps, one 768-wide row each,
  in three forms: the kernel as Keras' ``Dense`` stores it ([in, out]) with
  its bias (what the zoo runs); the same without the bias (the dot is then
  not fused with it); the kernel transposed ([out, in], a second copy made
  once) with the bias kept out of the dot's fusion by an optimization
  barrier.

Rounds alternate the forms; medians are reported as GB/s of weights read.
Writes ``xla_matvec-<kind>.json`` / ``.md``.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import result_files

SHAPES = [(768, 768)] * 4 + [(768, 3072), (3072, 768)]  # one gpt2 block: q, k, v, output, FFN in, FFN out
LAYERS = 12
STEPS = 20


def chained_products(form):
    """An XLA function running the 72 products STEPS times on one row, in ``form``."""
    import tensorflow as tf
    from tensorflow.compiler.tf2xla.python import xla

    rng = np.random.default_rng(0)
    transposed = form == "transposed, bias outside"
    kernels = [rng.standard_normal(shape, np.float32) * 0.02 for _ in range(LAYERS) for shape in SHAPES]
    biases = [tf.Variable(np.zeros(k.shape[1], np.float32)) for k in kernels]
    kernels = [tf.Variable(k.T.copy() if transposed else k) for k in kernels]

    def project(row, kernel, bias):
        if form == "as Dense: [in, out], bias fused":
            return tf.matmul(row, kernel) + bias
        if not transposed:  # "[in, out], no bias"
            return tf.matmul(row, kernel)
        return xla.optimization_barrier(tf.matmul(row, kernel, transpose_b=True))[0] + bias

    @tf.function(jit_compile=True)
    def run(row):
        def step(i, row):
            hidden = row
            for index, (kernel, bias) in enumerate(zip(kernels, biases)):
                hidden = project(hidden, kernel, bias)
                if index % len(SHAPES) == len(SHAPES) - 1:  # a block's end: back to the residual row
                    hidden = hidden * 0.01 + row
            return i + 1, hidden

        return tf.while_loop(lambda i, _: i < STEPS, step, (0, row))[1]

    weight_bytes = sum(int(np.prod(k.shape)) * 4 for k in kernels)
    return run, weight_bytes


FORMS = ("as Dense: [in, out], bias fused", "[in, out], no bias", "transposed, bias outside")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per form, alternating")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args(argv)
    import tensorflow as tf
    from zoo import cpu
    from zoo.bench import machine

    bandwidth = {threads: machine.memory_bandwidth(threads=threads)["read_gb_per_s"] for threads in (1, 2)}
    print(f"read bandwidth: 1 thread {bandwidth[1]:.1f} GB/s, 2 threads {bandwidth[2]:.1f} GB/s", flush=True)
    row = tf.random.normal([1, 768])
    cases = {}
    for form in FORMS:
        run, weight_bytes = chained_products(form)
        run(row).numpy()  # compile
        cases[form] = {"run": run, "bytes": weight_bytes * STEPS, "times": []}
    for _ in range(args.rounds):
        for case in cases.values():
            start = time.perf_counter()
            case["run"](row).numpy()
            case["times"].append(time.perf_counter() - start)
    rows = []
    for form, case in cases.items():
        median = statistics.median(case["times"])
        rows.append({"form": form, "median_s": median, "gb_per_s": case["bytes"] / median / 1e9,
                     "ms_per_step": median / STEPS * 1e3})
    kind = cpu.cpu_kind()
    result = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), **result_files.machine_facts(),
              "read_bandwidth_gb_per_s": {str(k): v for k, v in bandwidth.items()}, "rows": rows}
    lines = [f"# gpt2's block products under XLA, one row ({result['date_utc']} UTC, "
             f"{result_files.machine_label(result['cpu_kind'], result['core_design'])})", "",
             f"Read bandwidth (numpy): 1 thread {bandwidth[1]:.1f} GB/s, 2 threads {bandwidth[2]:.1f} GB/s.", "",
             f"| form | ms per step (72 products, median of {args.rounds}) | GB/s of weights |", "|---|---|---|"]
    lines += [f"| {r['form']} | {r['ms_per_step']:.2f} | {r['gb_per_s']:.1f} |" for r in rows]
    result_files.write(args.out, "xla_matvec", result, "\n".join(lines), kind)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
