"""GELU in its ``erf`` form -> ``com.microsoft.Gelu``; tanh GELU -> ``com.microsoft.FastGelu``."""

import numpy as np
from onnx import helper

from export.onnx.fusion.graph import MS_DOMAIN


def _close(value, target, tol=1e-3):
    return value is not None and np.asarray(value).size == 1 and abs(float(np.asarray(value).reshape(-1)[0]) - target) < tol


def fuse_gelu(g):
    """0.5 x (1 + erf(x / sqrt 2)) => Gelu; 0.5 x (1 + tanh(c (x + 0.044715 x^3))) => FastGelu."""
    counts = {"Gelu": 0, "FastGelu": 0}
    for erf in [n for n in g.graph.node if n.op_type in ("Erf", "Tanh")]:
        inner = g.producer.get(erf.input[0])
        if inner is None or inner.op_type != "Mul":
            continue
        arg, c = g.split_const(inner)
        if erf.op_type == "Erf":
            x = arg
            if not _close(c, 1 / np.sqrt(2)):
                continue
            kind = "Gelu"
        else:
            if not _close(c, np.sqrt(2 / np.pi)):
                continue
            cubic = g.producer.get(arg)  # x + 0.044715 x^3
            if cubic is None or cubic.op_type != "Add":
                continue
            x = next((i for i in cubic.input if g.producer.get(i) is None or g.producer[i].op_type != "Mul"), None)
            kind = "FastGelu"
        plus_one = g.only(erf.output[0], "Add")
        if x is None or plus_one is None or not _close(g.split_const(plus_one)[1], 1.0):
            continue
        out = g.only(plus_one.output[0], "Mul")
        if out is None:
            continue
        half = g.producer.get(next(i for i in out.input if i != plus_one.output[0]))
        if half is None or half.op_type != "Mul" or x not in half.input or not _close(g.split_const(half)[1], 0.5):
            continue
        node = helper.make_node(kind, [x], [g.unique(kind.lower())], name=g.unique(kind), domain=MS_DOMAIN)
        g.replace_output(out.output[0], node)
        counts[kind] += 1
    return counts
