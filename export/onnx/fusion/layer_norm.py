"""Keras LayerNormalization (mean, variance, rsqrt, scale, shift) -> ONNX ``LayerNormalization`` (opset 17)."""

import numpy as np
from onnx import helper


def fuse_layer_norm(g):
    """Keras' LayerNormalization as tf2onnx lowers it  =>  ONNX LayerNormalization."""
    count = 0
    for mean in [n for n in g.graph.node if n.op_type in ("GlobalAveragePool", "ReduceMean")]:
        x = mean.input[0]
        sub = next((n for n in g.users(mean.output[0], "Sub") if n.input[0] == x), None)
        neg = next(iter(g.users(mean.output[0], "Neg")), None)
        if sub is None or neg is None:
            continue
        square = g.only(sub.output[0], "Mul")
        if square is None or square.input[0] != square.input[1]:
            continue
        variance = g.only(square.output[0], mean.op_type)
        add_eps = variance and g.only(variance.output[0], "Add")
        if add_eps is None:
            continue
        _, eps = g.split_const(add_eps)
        sqrt = g.only(add_eps.output[0], "Sqrt")
        reciprocal = sqrt and g.only(sqrt.output[0], "Reciprocal")
        scale = reciprocal and g.only(reciprocal.output[0], "Mul")
        if eps is None or scale is None:
            continue
        _, gamma = g.split_const(scale)
        scaled_x = next((n for n in g.users(scale.output[0], "Mul") if x in n.input), None)
        scaled_mean = next((n for n in g.users(scale.output[0], "Mul") if neg.output[0] in n.input), None)
        if gamma is None or scaled_x is None or scaled_mean is None:
            continue
        add_beta = g.only(scaled_mean.output[0], "Add")
        if add_beta is None:
            continue
        _, beta = g.split_const(add_beta)
        out = g.only(add_beta.output[0], "Add")
        if beta is None or out is None or scaled_x.output[0] not in out.input:
            continue
        hidden = int(np.asarray(gamma).size)
        node = helper.make_node(
            "LayerNormalization",
            [x, g.add_initializer(np.asarray(gamma, np.float32).reshape(hidden), "gamma"),
             g.add_initializer(np.asarray(beta, np.float32).reshape(hidden), "beta")],
            [g.unique("layer_norm")], name=g.unique("LayerNormalization"),
            axis=-1, epsilon=float(np.asarray(eps).reshape(-1)[0]),
        )
        g.replace_output(out.output[0], node)
        count += 1
    return count
