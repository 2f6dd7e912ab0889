"""Dense layers as tf2onnx writes them (Reshape -> MatMul -> Reshape, "Tensordot") folded into one 3-D MatMul."""

from onnx import helper


def fold_tensordot(g):
    """Reshape(x, [-1, H]) -> MatMul(W) -> Reshape(back to 3-D)  =>  MatMul(x, W)."""
    count = 0
    for matmul in [n for n in g.graph.node if n.op_type == "MatMul"]:
        first = g.producer.get(matmul.input[0])
        weight = g.constant(matmul.input[1])
        if first is None or first.op_type != "Reshape" or weight is None or weight.ndim != 2:
            continue
        shape = g.constant(first.input[1])
        if shape is None or list(shape) != [-1, weight.shape[0]]:
            continue
        last = g.only(matmul.output[0], "Reshape")
        if last is None or not last.name.endswith("Tensordot"):
            continue
        node = helper.make_node("MatMul", [first.input[0], matmul.input[1]], [g.unique("matmul")], name=g.unique("MatMul"))
        g.replace_output(last.output[0], node)
        count += 1
    return count
