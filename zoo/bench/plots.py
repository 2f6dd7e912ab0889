"""PNG plots of a run: latency by runtime, and tokens/s by batch size, one figure per model entry.

* ``latency_<model>.png``: p50 latency of every measured runtime (bars; the
  whisker reaches p90), one group per shape; peers are hatched.
* ``throughput_<model>.png``: tokens/s against batch size (or, with one
  batch size and several lengths, against the sequence / prompt length), one
  line per runtime (generated tokens for ``generate`` entries, tokens read
  for ``forward``), drawn when the entry has more than one shape or is a
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
        lengths = sorted({r["sequence_length"] for r in rows})
        if len(batches) > 1 or len(lengths) > 1 or rows[0]["task"] == "generate":
            written.append(_throughput_plot(plt, label, rows, runtimes, batches, lengths, out_dir))
    return written


def _throughput_plot(plt, label, rows, runtimes, batches, lengths, out_dir):
    """Tokens/s against batch size (several batch sizes) or else against sequence / prompt
    length, one line per runtime and remaining shape; the legend beside the axes."""
    axis = "batch_size" if len(batches) > 1 or len(lengths) == 1 else "sequence_length"
    ticks = batches if axis == "batch_size" else lengths
    generate = rows[0]["task"] == "generate"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for rt in runtimes:
        own = [r for r in rows if r["runtime"] == rt]
        peer = own[0]["kind"] == "peer"
        others = sorted({(r["batch_size"], r["sequence_length"], r["new_tokens"]) for r in own})
        for other in dict.fromkeys((o[0] if axis == "sequence_length" else o[1], o[2]) for o in others):
            points = sorted((r[axis], r["tokens_per_s"]) for r in own
                            if ((r["batch_size"] if axis == "sequence_length" else r["sequence_length"]),
                                r["new_tokens"]) == other)
            fixed = f" b{other[0]}" if axis == "sequence_length" else f" len {other[0]}"
            suffix = fixed + (f" +{other[1]}" if other[1] else "")
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=rt + suffix,
                    linestyle="--" if peer else "-")
    if axis == "batch_size":
        ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("batch size" if axis == "batch_size" else ("prompt length" if generate else "sequence length"))
    ax.set_ylabel("tokens/s (generated, prompt step included)" if generate else "tokens/s (read)")
    ax.set_title(f"{label}: tokens/s by {ax.get_xlabel()} — peers dashed")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    name = f"throughput_{_safe(label)}.png"
    fig.savefig(os.path.join(out_dir, name), dpi=110)
    plt.close(fig)
    return name
