"""What a run leaves behind for people: the loss-curve PNG and ``metrics.json``."""

import csv
import json
import os
import platform

import keras
import tensorflow as tf


def read_history(path):
    """Rows of ``history.csv`` (written by ``keras.callbacks.CSVLogger``) as dicts of floats."""
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8", newline="") as file:
        rows = []
        for row in csv.DictReader(file):
            parsed = {}
            for key, value in row.items():
                try:
                    parsed[key] = float(value)
                except (TypeError, ValueError):
                    continue
            rows.append(parsed)
    return rows


def plot_loss_curve(history, path, title):
    """Training and validation loss against optimizer steps (or epochs), saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5), dpi=100)
    x_key = "step" if history and all("step" in row for row in history) else "epoch"
    for key, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        points = [(row[x_key], row[key]) for row in history if key in row]
        if points:
            xs, ys = zip(*points)
            axis.plot(xs, ys, marker="o", markersize=3, label=label)
    axis.set_xlabel("optimizer step" if x_key == "step" else "epoch")
    axis.set_ylabel("loss (nats)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    if axis.lines:
        axis.legend()
    else:
        axis.text(0.5, 0.5, "no completed epoch", ha="center", va="center", transform=axis.transAxes)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def environment():
    """Versions and machine facts recorded next to every measured number."""
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


def write_metrics(path, metrics):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(metrics, file, indent=2, sort_keys=True, default=float)
    return path
