"""PNG plots of a run: latency by runtime, and tokens/s by batch size, one figure per model entry.

* ``latency_<model>.png``: p50 latency of every measured runtime (bars; the
  whisker reaches p90), one group per shape; peers are hatched.
* ``throughput_<model>.png``: tokens/s against batch size, one line per
  runtime (generated tokens for ``generate`` entries, tokens read for
  ``forward``), drawn when the entry has more than one batch size or is a
  generation entry.
"""

import os
import re


def _safe(label):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


def _shape_label(r):
    text = f"b{r['batch_size']}×{r['sequence_length']}"
    return text + (f"+{r['new_tokens']}" if r["new_tokens"] else "")


def write_plots(results, out_dir):
    """Write the PNGs; return their file names (relative to ``out_dir``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    labels = list(dict.fromkeys(r["model"] for r in results["records"]))
    for label in labels:
        rows = [r for r in results["records"] if r["model"] == label and r["status"] == "ok"]
        if not rows:
            continue
        runtimes = list(dict.fromkeys(r["runtime"] for r in rows))
        shapes = list(dict.fromkeys(_shape_label(r) for r in rows))
        width = 0.8 / max(len(shapes), 1)
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(runtimes) + 2), 4))
        for i, shape in enumerate(shapes):
            by = {r["runtime"]: r for r in rows if _shape_label(r) == shape}
            x = np.arange(len(runtimes)) + i * width
            p50 = [by[rt]["p50_ms"] if rt in by else 0 for rt in runtimes]
            p90 = [by[rt]["p90_ms"] - by[rt]["p50_ms"] if rt in by else 0 for rt in runtimes]
            bars = ax.bar(x, p50, width, yerr=[np.zeros(len(p90)), p90], label=shape, capsize=2)
            for bar, rt in zip(bars, runtimes):
                if rt in by and by[rt]["kind"] == "peer":
                    bar.set_hatch("//")
        ax.set_xticks(np.arange(len(runtimes)) + width * (len(shapes) - 1) / 2)
        ax.set_xticklabels(runtimes, rotation=30, ha="right")
        values = [r["p50_ms"] for r in rows]
        if max(values) > 20 * min(values):  # wide ranges (eager vs ORT): a log axis keeps small bars readable
            ax.set_yscale("log")
        ax.set_ylabel("p50 latency, ms (whisker: p90)")
        ax.set_title(f"{label} ({rows[0]['task']}): latency by runtime — peers hatched")
        ax.legend(title="batch×length(+new)", fontsize=8)
        fig.tight_layout()
        name = f"latency_{_safe(label)}.png"
        fig.savefig(os.path.join(out_dir, name), dpi=110)
        plt.close(fig)
        written.append(name)

        batches = sorted({r["batch_size"] for r in rows})
        if len(batches) > 1 or rows[0]["task"] == "generate":
            fig, ax = plt.subplots(figsize=(6, 4))
            for rt in runtimes:
                for other in sorted({(r["sequence_length"], r["new_tokens"]) for r in rows if r["runtime"] == rt}):
                    points = sorted((r["batch_size"], r["tokens_per_s"]) for r in rows
                                    if r["runtime"] == rt and (r["sequence_length"], r["new_tokens"]) == other)
                    suffix = f" len {other[0]}" + (f"+{other[1]}" if other[1] else "")
                    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=rt + suffix,
                            linestyle="--" if any(r["kind"] == "peer" for r in rows if r["runtime"] == rt) else "-")
            ax.set_xlabel("batch size")
            ax.set_xscale("log", base=2)
            ax.set_xticks(batches, [str(b) for b in batches])
            ax.set_ylabel("tokens/s (generated)" if rows[0]["task"] == "generate" else "tokens/s (read)")
            ax.set_title(f"{label}: tokens/s by batch size — peers dashed")
            ax.legend(fontsize=7)
            fig.tight_layout()
            name = f"throughput_{_safe(label)}.png"
            fig.savefig(os.path.join(out_dir, name), dpi=110)
            plt.close(fig)
            written.append(name)
    return written
