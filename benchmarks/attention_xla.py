"""Micro-benchmark: the attention core on its XLA path vs its inline (export) path.

For BERT-base-like shapes (12 heads x 64) at several batch sizes and lengths,
it times the core called from eager code and from inside a plain
``tf.function`` (the way ``model.predict`` runs it), and reports median
milliseconds and the XLA speed-up. Numbers are machine-specific; run it here:

    python benchmarks/attention_xla.py [--repeats 30] [--out benchmarks/results]
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import tensorflow as tf

from zoo.layers import attention_mask, dot_product_attention

SHAPES = [(1, 128), (8, 128), (1, 512), (8, 512)]
HEADS, HEAD_DIM = 12, 64


def median_ms(fn, repeats):
    fn()  # warm-up (and compilation)
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(fn())
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args()

    rows = []
    for batch, length in SHAPES:
        q, k, v = (tf.random.normal((batch, length, HEADS, HEAD_DIM), seed=i) for i in range(3))
        padding = np.ones((batch, length), "int32")
        padding[:, length * 3 // 4 :] = 0
        mask = attention_mask(length, length, padding_mask=padding)
        row = {"batch": batch, "length": length}
        for use_xla in (True, False):
            label = "xla" if use_xla else "inline"
            eager = lambda: dot_product_attention(q, k, v, mask=mask, use_xla=use_xla)  # noqa: E731
            graph = tf.function(lambda: dot_product_attention(q, k, v, mask=mask, use_xla=use_xla))
            row[f"eager_{label}_ms"] = median_ms(eager, args.repeats)
            row[f"tf_function_{label}_ms"] = median_ms(graph, args.repeats)
        row["eager_speedup"] = row["eager_inline_ms"] / row["eager_xla_ms"]
        row["tf_function_speedup"] = row["tf_function_inline_ms"] / row["tf_function_xla_ms"]
        rows.append(row)
        print(
            f"b={batch} T={length}: eager inline {row['eager_inline_ms']:.2f} ms / xla {row['eager_xla_ms']:.2f} ms "
            f"(x{row['eager_speedup']:.2f}); tf.function inline {row['tf_function_inline_ms']:.2f} / "
            f"xla {row['tf_function_xla_ms']:.2f} ms (x{row['tf_function_speedup']:.2f})",
            flush=True,
        )

    os.makedirs(args.out, exist_ok=True)
    report = {
        "benchmark": "attention core, XLA vs inline",
        "heads": HEADS,
        "head_dim": HEAD_DIM,
        "repeats": args.repeats,
        "statistic": "median",
        "machine": {"processor": platform.processor(), "cpus": os.cpu_count(), "tensorflow": tf.__version__},
        "date": time.strftime("%Y-%m-%d"),
        "rows": rows,
    }
    with open(os.path.join(args.out, "attention_xla.json"), "w") as f:
        json.dump(report, f, indent=2)
    lines = [
        "| batch | length | eager inline ms | eager XLA ms | speed-up | tf.function inline ms | tf.function XLA ms | speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['batch']} | {r['length']} | {r['eager_inline_ms']:.2f} | {r['eager_xla_ms']:.2f} | "
            f"{r['eager_speedup']:.2f}x | {r['tf_function_inline_ms']:.2f} | {r['tf_function_xla_ms']:.2f} | "
            f"{r['tf_function_speedup']:.2f}x |"
        )
    with open(os.path.join(args.out, "attention_xla.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
