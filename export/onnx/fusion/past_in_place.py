"""A decoder's attention over its past -> ``com.microsoft.GroupQueryAttention``, which can
write the call's keys and values into the past's own buffer instead of copying it.

``MultiHeadAttention`` with a past appends: every call reads the whole past
and writes it again, longer by the new tokens, as the present. At gpt2's
12 layers and 900 tokens of context that copy is most of a decoding step's
attention (ONNX Runtime 1.32, AVX-512 machine, batch 1: 6.8 ms for the 12
attentions with the append, 2.4 ms in place; the outputs 9e-8 apart).
``GroupQueryAttention`` (with as many key/value heads as query heads, it is
plain multi-head attention) takes a past that is either exactly the earlier
tokens - then it appends, as before - or a buffer with room for the whole
generation: when the caller binds the present to the same memory as the past
(ONNX Runtime's I/O binding), the kernel writes only the new columns.

So the decoder keeps its inputs and outputs. What changes is that a runner
may pass a buffer (``export.onnx.generate.GptRunner`` does): the graph's
``metadata_props`` say so under ``export.onnx.contract.PAST_IN_PLACE_KEY``. The past
length comes from ``key_padding_mask``'s width (past + new tokens), which is
also the width of the additive mask the rewrite keeps as ``attention_bias``:
causality and the rows' left padding stay exactly what the graph computed.
"""

import numpy as np
from onnx import TensorProto, helper

from export.onnx.contract import PAST_IN_PLACE_KEY
from export.onnx.fusion.graph import MS_DOMAIN

IN_PLACE_OP = "GroupQueryAttention"

# MultiHeadAttention's inputs: query, key, value, bias, key_padding_mask, attention_bias, past_key, past_value
_ATTENTION_BIAS, _PAST_KEY, _PAST_VALUE = 5, 6, 7


class _Nodes(list):
    """New nodes in order; ``add`` returns the new node's output name."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def add(self, op, *inputs, **attributes):
        node = helper.make_node(op, list(inputs), [self.g.unique(op.lower())], name=self.g.unique(op), **attributes)
        self.append(node)
        return node.output[0]


def _lengths(g, nodes, index, mask_input, tokens_input):
    """(seqlens_k (B,) int32 = total - 1 for every row, total_sequence_length () int32,
    past length (1,) int64), computed from the graph's inputs alone. Every row's tokens
    end in the same column, so one total serves the whole batch. ``index[i]``: the int64 [i]."""
    mask_shape = nodes.add("Shape", mask_input)
    total64 = nodes.add("Slice", mask_shape, index[1], index[2])
    batch = nodes.add("Slice", mask_shape, index[0], index[1])
    new = nodes.add("Slice", nodes.add("Shape", tokens_input), index[1], index[2])
    past = nodes.add("Sub", total64, new)
    total = nodes.add("Cast", nodes.add("Squeeze", total64, index[0]), to=TensorProto.INT32)
    last = nodes.add("Sub", total, g.add_initializer(np.array(1, np.int32), "one"))
    return nodes.add("Expand", last, batch), total, past


def _past_shape(nodes, index, past_input, past_length):
    """The shape the graph would see for a past of exactly ``past_length`` columns:
    (B, H, past_length, D) with B, H, D read from ``past_input`` (which may be a longer buffer)."""
    shape = nodes.add("Shape", past_input)
    head = nodes.add("Slice", shape, index[0], index[2])
    tail = nodes.add("Slice", shape, index[3], index[4])
    return nodes.add("Concat", head, past_length, tail, axis=0)


def _head_size(g, past_input):
    """The last dim of a past graph input (its head size); 0 when it is not a fixed number."""
    value = next(i for i in g.graph.input if i.name == past_input)
    dims = value.type.tensor_type.shape.dim
    return dims[-1].dim_value if dims and dims[-1].HasField("dim_value") else 0


def past_in_place(g, mask_input="key_padding_mask", tokens_input="token_ids"):
    """Every ``MultiHeadAttention`` over a past -> ``GroupQueryAttention`` (same heads, scale,
    additive mask and outputs); -> how many were rewritten (0: the graph is left as it was).

    ``mask_input`` / ``tokens_input``: the GPT decoder's key padding mask and token ids
    (``export.onnx.contract``), whose widths give the past's length. All or nothing: a past
    read by anything but its attention and ``Shape`` (whose uses are rerouted to the length
    from those inputs) leaves the graph alone, since a buffer would change what it reads; so
    does a head size that is not a multiple of 8 (ONNX Runtime's kernel refuses it)."""
    if not {mask_input, tokens_input} <= g.graph_inputs:
        return 0
    attentions = [(i, n) for i, n in enumerate(g.graph.node) if n.op_type == "MultiHeadAttention"
                  and n.domain == MS_DOMAIN and len(n.input) > _PAST_VALUE and n.input[_PAST_KEY]]
    pasts = {n.input[k] for _, n in attentions for k in (_PAST_KEY, _PAST_VALUE)}
    for _, node in attentions:
        if not node.input[_ATTENTION_BIAS] or node.input[3] or node.input[4]:
            return 0  # masked by a key padding mask, or with a fused projection bias: not this pattern
    if any(_head_size(g, past) % 8 for past in pasts):
        return 0  # ONNX Runtime's kernel takes heads of 8, 16, ... values; MultiHeadAttention stays
    readers = [n for past in pasts for n in g.consumers.get(past, [])]
    if not attentions or any(n.op_type not in ("Shape", "MultiHeadAttention") or
                             (n.op_type == "Shape" and n.attribute) for n in readers):
        return 0
    nodes = _Nodes(g)
    index = {i: g.add_initializer(np.array([i], np.int64), "index") for i in range(5)}
    seqlens, total, past_length = _lengths(g, nodes, index, mask_input, tokens_input)
    for reader in [n for n in readers if n.op_type == "Shape"]:
        rerouted = _past_shape(nodes, index, reader.input[0], past_length)
        for user in g.consumers.get(reader.output[0], []):
            user.input[:] = [rerouted if name == reader.output[0] else name for name in user.input]
    for index, node in attentions:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        heads = int(attributes["num_heads"])
        kept = {"scale": float(attributes["scale"])} if "scale" in attributes else {}
        inputs = list(node.input)
        g.graph.node[index].CopyFrom(helper.make_node(
            IN_PLACE_OP, [*inputs[:3], inputs[_PAST_KEY], inputs[_PAST_VALUE], seqlens, total, "", "", "",
                          inputs[_ATTENTION_BIAS]],
            list(node.output), name=g.unique(IN_PLACE_OP), domain=MS_DOMAIN,
            num_heads=heads, kv_num_heads=heads, **kept))
    for offset, node in enumerate(nodes):  # they read only graph inputs and initializers
        g.graph.node.insert(offset, node)
    metadata = g.model.metadata_props
    entry = next((p for p in metadata if p.key == PAST_IN_PLACE_KEY), None) or metadata.add()
    entry.key, entry.value = PAST_IN_PLACE_KEY, "1"
    g.reindex()
    return len(attentions)
