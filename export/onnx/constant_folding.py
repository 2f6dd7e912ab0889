"""Fold ONNX nodes whose inputs are all constants into initializers.

The zoo converts graphs with the weights as graph inputs (see
``export.onnx.tf_function.convert_function``), so tf2onnx never sees them as constants and
cannot fold the small ops TensorFlow applied to them (a bias reshape, a
position-embedding slice, a transposed tied embedding). Once the weights are
bound as initializers, this pass evaluates those ops with ONNX's own
reference implementation (``onnx.reference``), so the graph that reaches ONNX
Runtime, the fusion rewrite and quantization is the same shape as a graph
converted with frozen constants.
"""

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

# Ops whose output depends on more than their inputs, or that must stay visible.
_NEVER_FOLD = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
               "Bernoulli", "Loop", "If", "Scan"}
# Folding must not blow a small constant up into a huge one (e.g. Expand to a big shape).
_MAX_GROWTH_BYTES = 16 * 1024 * 1024


def _evaluate(node, values, opset_imports):
    inputs = [name for name in node.input if name]
    graph = onnx.helper.make_graph(
        [node], "fold",
        [onnx.helper.make_tensor_value_info(n, onnx.helper.np_dtype_to_tensor_dtype(values[n].dtype),
                                            values[n].shape) for n in inputs],
        [onnx.helper.make_empty_tensor_value_info(n) for n in node.output if n],
    )
    model = onnx.helper.make_model(graph, opset_imports=opset_imports)
    return ReferenceEvaluator(model).run(None, {n: values[n] for n in inputs})


def fold_constants(model):
    """Replace every foldable node of ``model`` (in place) by initializers; return the count.

    Initializers are decoded to arrays only when a foldable node reads them,
    so the weights of a large model are not copied.
    """
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    values = {}
    outputs = {o.name for o in graph.output}
    opsets = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]

    def add(name, array):
        values[name] = np.asarray(array)
        graph.initializer.append(numpy_helper.from_array(values[name], name))
        initializers[name] = graph.initializer[-1]

    kept, folded = [], 0
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute[0].name == "value" and node.output[0] not in outputs:
            add(node.output[0], numpy_helper.to_array(node.attribute[0].t))
            folded += 1
            continue
        foldable = (node.domain in ("", "ai.onnx") and node.op_type not in _NEVER_FOLD
                    and all(not n or n in initializers for n in node.input) and not (set(node.output) & outputs))
        if foldable:
            for name in node.input:
                if name and name not in values:
                    values[name] = numpy_helper.to_array(initializers[name])
            size_in = sum(values[n].nbytes for n in node.input if n)
            results = _evaluate(node, values, opsets)
            if sum(np.asarray(r).nbytes for r in results) <= max(size_in, _MAX_GROWTH_BYTES):
                for name, result in zip(node.output, results):
                    add(name, result)
                folded += 1
                continue
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    _drop_unused_initializers(graph)
    return folded


def _drop_unused_initializers(graph):
    # Deleted in place: re-adding the kept ones would copy every weight once more
    # (and protobuf's arena does not give the replaced copies back).
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    for index in reversed(range(len(graph.initializer))):
        if graph.initializer[index].name not in used:
            del graph.initializer[index]
