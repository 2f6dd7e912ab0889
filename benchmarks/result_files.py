"""Where a benchmark script's results go: ``<name>-<CPU kind>.json`` and ``.md`` in its ``--out``.

The CPU kind (``zoo.cpu.cpu_kind``) is in every file name because results
from the two kinds of machine differ and are never compared across runs;
the core design (``zoo.cpu.core_design``) is in every heading, because
machines of one kind differ in speed too.
"""

import json
import os

from zoo import cpu


def cpu_kind_slug(kind=None):
    """``AVX-512/VNNI`` -> ``avx-512-vnni``; the kind of this machine by default."""
    if kind is None:
        kind = cpu.cpu_kind()
    return kind.lower().replace("/", "-").replace("+", "-").replace(" ", "-")


def machine_facts():
    """{"cpu_kind", "core_design"} of this machine, for a result's JSON."""
    return {"cpu_kind": cpu.cpu_kind(), "core_design": cpu.core_design()}


def machine_label(kind, core_design):
    """``AVX-512/VNNI, AMD Zen 4``: the CPU kind and core design, for a result's heading.
    Machines of one kind differ in speed by their core design (``zoo.cpu``)."""
    return f"{kind}, {core_design or 'core design not recorded'}"


def stem(out_dir, name, kind=None):
    """``out_dir/<name>-<kind slug>`` (no extension)."""
    return os.path.join(out_dir, f"{name}-{cpu_kind_slug(kind)}")


def write(out_dir, name, result, markdown, kind=None):
    """Write ``result`` as JSON and ``markdown`` (a string) beside it; return the stem."""
    path = stem(out_dir, name, kind)
    os.makedirs(out_dir, exist_ok=True)
    with open(path + ".json", "w", encoding="utf-8") as file:
        json.dump(result, file, indent=2)
    with open(path + ".md", "w", encoding="utf-8") as file:
        file.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return path
