"""ONNX ``LSTM`` kernels for the zoo's LSTM stacks (``LstmLM``, ``Seq2Seq``).

Converted as they run in Keras, the stacks become one ONNX ``Loop`` per LSTM
layer: a graph of small ops executed once per time step. tf2onnx rewrites a
Keras LSTM's ``while`` loop into a single ``LSTM`` op
(``tf2onnx/rewriter/lstm_tf2_rewriter.py``) only when

* the loop body matches its LSTM-cell pattern - the per-step
  ``where(mask, new, previous)`` that a Keras padding mask adds to outputs
  and states breaks the match, and
* the kernel, recurrent kernel and bias are graph constants - it skips a
  loop whose weights are anything else, such as the graph inputs
  ``export.onnx.tf_function.convert_function`` traces the weights as.

So :func:`convert_with_lstm_kernels` traces the model with every
``LstmStack`` ignoring its padding mask
(``zoo.layers.lstm_stack.trace_without_mask``), the LSTM weights frozen as
constants and all other weights traced as inputs as usual; tf2onnx then emits
``LSTM`` ops (a bidirectional layer becomes one ``direction="bidirectional"``
op). :func:`add_sequence_lens` puts the mask back as each op's
``sequence_lens``: the row sums of the padding mask of the ids the op's input
was embedded from, computed in the graph.

Why that is exact for right-padded rows (the mask a prefix of ones, which is
how the zoo batches: ``export.inputs``, ``zoo.generate``'s seq2seq sources):
an ONNX ``LSTM`` with ``sequence_lens`` outputs ``Y = 0`` past each row's
length and ``Y_h``/``Y_c`` = the state after its last real step; its reverse
direction starts at the row's last real step. ``LstmStack`` outputs zeros at
masked steps and carries the state through them; its backward direction
walks the padding first with the state unchanged. The same numbers, at every
position. Left padding or a mask with holes would not agree (the ONNX op only
knows a length).

If tf2onnx does not produce ``LSTM`` ops for every layer (an activation its
pattern does not know, cuDNN), the unmasked trace would be wrong, so the
conversion falls back to the masked ``Loop`` graph with a warning.
"""

import warnings

import keras
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from export.onnx.tf_function import convert_function
from zoo.layers.lstm_stack import LstmStack, trace_without_mask

SEQUENCE_LENS_INPUT = 4  # position of sequence_lens among an ONNX LSTM's inputs
_LOOP_OPS = ("Loop", "Scan")


def lstm_stacks(model):
    """Every ``LstmStack`` inside ``model``."""
    return [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, LstmStack)]


def has_lstm_stacks(model):
    return bool(lstm_stacks(model))


def lstm_variables(model):
    """The kernels, recurrent kernels and biases of the stacks' LSTMs (to freeze)."""
    return [v for stack in lstm_stacks(model) for layer in stack._flatten_layers()
            if isinstance(layer, keras.layers.LSTM) for v in layer.weights]


def masks_of_ids(model, graph_inputs):
    """{ids input: its padding-mask input} among ``graph_inputs``, from the model's
    ``mask_inputs`` ({mask: ids}, as ``zoo.models.base.ZooModel`` declares them)."""
    declared = getattr(model, "mask_inputs", None) or {}
    return {ids: mask for mask, ids in declared.items() if ids in graph_inputs and mask in graph_inputs}


def _source_ids(graph, node, candidates):
    """The graph inputs among ``candidates`` that an LSTM node's X is computed from.

    Walks back from X through every producer, except that through an earlier
    LSTM only its own X is followed (its initial states may come from another
    sequence: the decoder starts from the encoder's states).
    """
    producers = {name: n for n in graph.node for name in n.output}
    found, seen, pending = set(), set(), [node.input[0]]
    while pending:
        name = pending.pop()
        if name in seen or not name:
            continue
        seen.add(name)
        if name in candidates:
            found.add(name)
        producer = producers.get(name)
        if producer is not None:
            pending.extend(producer.input[:1] if producer.op_type == "LSTM" else producer.input)
    return found


def add_sequence_lens(onnx_model, masks):
    """Give every ``LSTM`` node of ``onnx_model`` (in place) a ``sequence_lens`` input.

    ``masks``: {ids input: padding-mask input}. Each node gets the row sums of
    the mask of the ids its X comes from (one ``ReduceSum`` per mask, shared).
    Returns the number of nodes given lengths; raises ValueError for a node
    whose ids cannot be told (none or several) or that already has lengths.
    """
    graph = onnx_model.graph
    opset = next((o.version for o in onnx_model.opset_import if o.domain in ("", "ai.onnx")), 13)
    input_types = {value.name: value.type.tensor_type.elem_type for value in graph.input}
    lengths, new_nodes, count = {}, [], 0
    for node in graph.node:
        if node.op_type != "LSTM":
            continue
        if len(node.input) > SEQUENCE_LENS_INPUT and node.input[SEQUENCE_LENS_INPUT]:
            raise ValueError(f"LSTM node {node.name!r} already has sequence_lens.")
        sources = _source_ids(graph, node, masks)
        if len(sources) != 1:
            raise ValueError(f"Cannot tell which padding mask belongs to LSTM node {node.name!r}: "
                             f"its input comes from {sorted(sources) or 'no ids input'}.")
        mask = masks[sources.pop()]
        if mask not in lengths:
            lengths[mask] = _row_sums(mask, input_types.get(mask), opset, graph, new_nodes)
        while len(node.input) <= SEQUENCE_LENS_INPUT:
            node.input.append("")
        node.input[SEQUENCE_LENS_INPUT] = lengths[mask]
        count += 1
    for i, new in enumerate(new_nodes):  # they read graph inputs only: first keeps the order topological
        graph.node.insert(i, new)
    return count


def _row_sums(mask, elem_type, opset, graph, new_nodes):
    """Nodes computing int32 ``sum(mask, axis=1)``; returns the output name."""
    stem = f"{mask}_sequence_lens"
    source = mask
    if elem_type != TensorProto.INT32:
        new_nodes.append(helper.make_node("Cast", [mask], [f"{stem}_int32"], to=TensorProto.INT32,
                                          name=f"{stem}_cast"))
        source = f"{stem}_int32"
    if opset >= 13:  # axes became an input in opset 13
        axes = f"{stem}_axes"
        graph.initializer.append(numpy_helper.from_array(np.array([1], "int64"), axes))
        new_nodes.append(helper.make_node("ReduceSum", [source, axes], [stem], keepdims=0, name=stem))
    else:
        new_nodes.append(helper.make_node("ReduceSum", [source], [stem], axes=[1], keepdims=0, name=stem))
    return stem


def op_types(onnx_model):
    """The op types of a graph's top level."""
    return {node.op_type for node in onnx_model.graph.node}


def convert_with_lstm_kernels(function, specs, opset, axis_names, model):
    """Like ``convert_function(function, specs, opset, axis_names, model.weights)``
    but with ONNX ``LSTM`` ops for ``model``'s LSTM stacks (module docstring).

    Falls back to the masked conversion (``Loop`` ops) with a warning when
    tf2onnx leaves a loop or an LSTM node cannot be matched to its mask.
    """
    frozen = {id(v) for v in lstm_variables(model)}
    traced_as_inputs = [v for v in model.weights if id(v) not in frozen]
    with trace_without_mask():
        onnx_model = convert_function(function, specs, opset, axis_names, variables=traced_as_inputs)
    problem = None
    if op_types(onnx_model) & set(_LOOP_OPS) or "LSTM" not in op_types(onnx_model):
        problem = "tf2onnx did not rewrite every LSTM into an ONNX LSTM op"
    else:
        try:
            add_sequence_lens(onnx_model, masks_of_ids(model, [value.name for value in onnx_model.graph.input]))
        except ValueError as error:
            problem = str(error)
    if problem is None:
        return onnx_model
    warnings.warn(f"ONNX LSTM kernels not used ({problem}); exporting the masked loop instead.", stacklevel=2)
    return convert_function(function, specs, opset, axis_names, variables=model.weights)
