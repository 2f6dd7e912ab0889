"""The zoo's attention core (split heads, scores, scale, masks, softmax, weighted sum, merge
heads) -> ``com.microsoft.MultiHeadAttention``, padding mask as ``key_padding_mask``."""

import numpy as np
from onnx import helper

from export.onnx.fusion.graph import MS_DOMAIN
from zoo.layers.masks import MASKED_LOGIT


def _heads_source(g, name):
    """Transpose(Reshape(t, (B, T, H, D))) -> (t, that Reshape), else (None, None)."""
    transpose = g.producer.get(name)
    if transpose is None or transpose.op_type != "Transpose":
        return None, None
    reshape = g.producer.get(transpose.input[0])
    if reshape is None or reshape.op_type != "Reshape":
        return None, None
    return reshape.input[0], reshape


def _appended_past(g, name):
    """Concat(past, Transpose(Reshape(t, (B, T, H, D)))) along the sequence axis - a
    decoder's past with this call's keys or values appended (``MultiHeadAttention``'s
    ``past``) -> (past graph input, t, that Reshape, the Concat), else None."""
    concat = g.producer.get(name)
    if concat is None or concat.op_type != "Concat" or len(concat.input) != 2:
        return None
    if next((a.i for a in concat.attribute if a.name == "axis"), None) != 2 or concat.input[0] not in g.graph_inputs:
        return None
    new, split = _heads_source(g, concat.input[1])
    return None if new is None else (concat.input[0], new, split, concat)


def _transposed_for_scores(g, name):
    """Transpose(t, (0, 1, 3, 2)) -> t, else None."""
    transpose = g.producer.get(name)
    if transpose is None or transpose.op_type != "Transpose":
        return None
    return transpose.input[0] if tuple(next((a.ints for a in transpose.attribute if a.name == "perm"), ())) == (0, 1, 3, 2) else None


def _additive_mask(g, softmax_input):
    """The additive mask term of tf2onnx's lowering of ``where(mask, scores, -big)``:
    ``Add(Mul(Cast(mask), scores), Mul(-big, Cast(Not(mask))))`` -> the second
    term's name (shape (B, 1, Tq, Tk), 0 where attending), else None."""
    add = g.producer.get(softmax_input)
    if add is None or add.op_type != "Add":
        return None
    for name in add.input:
        term = g.producer.get(name)
        if term is None or term.op_type != "Mul":
            continue
        operands = [g.producer.get(i) for i in term.input]
        constants = [g.constant(i) for i in term.input]
        has_big = any(c is not None and np.asarray(c).size == 1 and float(np.asarray(c).reshape(-1)[0]) <= -1e4
                      for c in constants)
        negated = any(n is not None and n.op_type == "Cast" and g.producer.get(n.input[0]) is not None
                      and g.producer[n.input[0]].op_type == "Not" for n in operands)
        if has_big and negated:
            return name
    return None


def _as_3d(g, tensor, split, ranks, hidden):
    """``tensor`` as (B, T, hidden). tf2onnx sometimes leaves a projection 2-D
    (B*T, hidden) and reshapes it straight to heads: rebuild (B, T) from that
    Reshape's 4-D target shape."""
    if ranks.get(tensor, 3) == 3:
        return tensor
    batch_time = helper.make_node(
        "Slice", [split.input[1], g.add_initializer(np.array([0], np.int64), "starts"),
                  g.add_initializer(np.array([2], np.int64), "ends")], [g.unique("batch_time")], name=g.unique("Slice"))
    shape = helper.make_node(
        "Concat", [batch_time.output[0], g.add_initializer(np.array([hidden], np.int64), "hidden")],
        [g.unique("shape3")], name=g.unique("Concat"), axis=0)
    reshaped = helper.make_node("Reshape", [tensor, shape.output[0]], [g.unique("as_3d")], name=g.unique("Reshape"))
    g.graph.node.extend([batch_time, shape, reshaped])
    return reshaped.output[0]


def _ancestors(g, name, limit=200):
    seen, stack, ops, inputs = set(), [name], set(), set()
    while stack and len(seen) < limit:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in g.graph_inputs:
            inputs.add(current)
        node = g.producer.get(current)
        if node is None:
            continue
        ops.add(node.op_type)
        stack.extend(i for i in node.input if i)
    return ops, inputs


def fuse_attention(g, num_heads, causal, hidden, ranks, padding_input="padding_mask"):
    """The zoo's attention core => com.microsoft.MultiHeadAttention.

    ``causal`` comes from the model (GPT: True, BERT: False) - the zoo knows
    which attention it built; the padding mask is used when the scores'
    masking depends on the graph's ``padding_mask`` input."""
    count = 0
    for softmax in [n for n in g.graph.node if n.op_type == "Softmax"]:
        weighted = g.only(softmax.output[0], "MatMul")
        if weighted is None:
            continue
        merge_t = g.only(weighted.output[0], "Transpose")
        merge = merge_t and g.only(merge_t.output[0], "Reshape")
        value, value_split = _heads_source(g, weighted.input[1])
        past_value = None if value is not None else _appended_past(g, weighted.input[1])
        if past_value is not None:
            value, value_split = past_value[1], past_value[2]
        if merge is None or value is None:
            continue
        # walk back from the softmax input to the scores MatMul (through scale and masking)
        scores, frontier, seen = None, [softmax.input[0]], set()
        while frontier and scores is None:
            name = frontier.pop(0)
            node = g.producer.get(name)
            if node is None or name in seen:
                continue
            seen.add(name)
            key_side = g.producer.get(node.input[1]) if node.op_type == "MatMul" else None
            if (node.op_type == "MatMul" and _heads_source(g, node.input[0])[0]
                    and key_side is not None and key_side.op_type == "Transpose"):
                scores = node
            elif node.op_type in ("Mul", "Add", "Where", "Cast", "Div"):
                frontier.extend(node.input)
        if scores is None:
            continue
        (query, query_split), (key, key_split) = _heads_source(g, scores.input[0]), _heads_source(g, scores.input[1])
        present_key = _transposed_for_scores(g, scores.input[1]) if key is None else None
        past_key = None if present_key is None else _appended_past(g, present_key)
        if past_key is not None:
            key, key_split = past_key[1], past_key[2]
        if query is None or key is None or (past_key is None) != (past_value is None):
            continue
        _, inputs = _ancestors(g, softmax.input[0])
        if padding_input in inputs:  # forward graphs: key padding mask + causal flag
            extra, unidirectional = ["", padding_input], causal
        else:  # e.g. a decoder over its past: the graph's own mask as an additive bias
            bias = _additive_mask(g, softmax.input[0])
            masked = g.producer.get(softmax.input[0]) is not None and g.producer[softmax.input[0]].op_type in ("Add", "Where")
            if bias is None and masked:
                continue  # masked in a way this rewrite does not understand
            extra, unidirectional = (["", "", bias] if bias else []), False
        query = _as_3d(g, query, query_split, ranks, hidden)
        key = _as_3d(g, key, key_split, ranks, hidden)
        value = _as_3d(g, value, value_split, ranks, hidden)
        scale_node = g.only(scores.output[0], "Mul")
        scale = g.split_const(scale_node)[1] if scale_node is not None else None
        node_inputs = [query, key, value, *extra]
        node_outputs = [g.unique("attention")]
        if past_key is not None:  # MultiHeadAttention appends to the past itself and writes the presents
            node_inputs = [query, key, value, *(extra + ["", "", ""])[:3], past_key[0], past_value[0]]
            for _, _, _, concat in (past_key, past_value):
                node_outputs.append(concat.output[0])
                concat.output[0] = g.unique("dead")
        attributes = dict(num_heads=int(num_heads), mask_filter_value=MASKED_LOGIT, unidirectional=int(bool(unidirectional)))
        if scale is not None and np.asarray(scale).size == 1:
            attributes["scale"] = float(np.asarray(scale).reshape(-1)[0])
        node = helper.make_node("MultiHeadAttention", node_inputs, node_outputs,
                                name=g.unique("MultiHeadAttention"), domain=MS_DOMAIN, **attributes)
        if ranks.get(merge.output[0], 3) == 2:  # the merge went straight to (B*T, hidden)
            g.graph.node.append(node)
            flat = g.add_initializer(np.array([-1, hidden], np.int64), "flat")
            node = helper.make_node("Reshape", [node.output[0], flat], [g.unique("as_2d")], name=g.unique("Reshape"))
        g.replace_output(merge.output[0], node)
        count += 1
    return count
