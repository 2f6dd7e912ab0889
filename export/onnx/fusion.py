"""Rewrite the zoo's tf2onnx graph into the fused operators ONNX Runtime runs fastest.

ONNX Runtime's transformer optimizer finds attention and LayerNorm by
matching the op patterns of *other* exporters (PyTorch, keras2onnx); on
tf2onnx graphs of Keras 3 models it fuses nothing (measured on keras-hub's
BERT-base: 0 Attention, 0 LayerNorm). The zoo knows what its graph holds -
its own attention core, Keras LayerNormalization, exact or tanh GELU, Dense
layers - so it rewrites those regions itself:

* Dense (tf2onnx's Reshape -> MatMul -> Reshape "Tensordot") -> one 3-D MatMul;
* Keras LayerNormalization (mean, variance, rsqrt, scale, shift) -> ONNX
  ``LayerNormalization`` (opset 17);
* GELU (``erf`` form) -> ``com.microsoft.Gelu``; tanh GELU -> ``com.microsoft.FastGelu``;
* the attention core (split heads, scores, scale, masks, softmax, weighted
  sum, merge heads) -> ``com.microsoft.MultiHeadAttention`` with the padding
  mask as ``key_padding_mask`` and ``unidirectional`` for causal attention.

Then ``onnxruntime.transformers.optimizer`` runs on the rewritten graph and
fuses what its own patterns now recognise (``Add`` + ``LayerNormalization``
-> ``SkipLayerNormalization``, bias + GELU -> ``BiasGelu``, ...).

Each rewrite is matched structurally and skipped if anything is unexpected;
replaced nodes are dropped by dead-code elimination. Parity is *proven*
after the rewrite, not assumed: ``export`` validates the rewritten graph
against Keras like any other artifact.
"""

import collections

import numpy as np
import onnx
from onnx import helper, numpy_helper

from zoo.layers.masks import MASKED_LOGIT

MS_DOMAIN = "com.microsoft"


class Graph:
    """Index over an ONNX graph: producers, consumers, constant values."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.reindex()
        self._counter = 0

    def reindex(self):
        self.producer = {o: n for n in self.graph.node for o in n.output}
        self.consumers = collections.defaultdict(list)
        for node in self.graph.node:
            for name in node.input:
                self.consumers[name].append(node)
        self.initializers = {i.name: i for i in self.graph.initializer}
        self.graph_inputs = {i.name for i in self.graph.input}

    def unique(self, stem):
        self._counter += 1
        return f"zoo_fused/{stem}_{self._counter}"

    def constant(self, name, depth=0):
        """numpy value of ``name`` if it is a constant (initializer, Constant, or
        Reshape/Cast/Identity/Unsqueeze of constants), else None."""
        if name in self.initializers:
            return numpy_helper.to_array(self.initializers[name])
        node = self.producer.get(name)
        if node is None or depth > 4:
            return None
        if node.op_type == "Constant":
            return numpy_helper.to_array(node.attribute[0].t)
        if node.op_type in ("Identity", "Cast", "Reshape", "Unsqueeze", "Squeeze"):
            value = self.constant(node.input[0], depth + 1)
            if value is None:
                return None
            if node.op_type == "Cast":
                to = next(a.i for a in node.attribute if a.name == "to")
                return value.astype(onnx.helper.tensor_dtype_to_np_dtype(to))
            if node.op_type == "Reshape":
                shape = self.constant(node.input[1], depth + 1)
                return None if shape is None else value.reshape(shape)
            if node.op_type in ("Unsqueeze", "Squeeze") and len(node.input) > 1:
                axes = self.constant(node.input[1], depth + 1)
                if axes is None:
                    return None
                return np.expand_dims(value, tuple(axes)) if node.op_type == "Unsqueeze" else np.squeeze(value, tuple(axes))
            return value
        return None

    def only(self, name, op_type):
        """The single consumer of ``name`` if it has type ``op_type``."""
        users = list({id(n): n for n in self.consumers.get(name, [])}.values())
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    def users(self, name, op_type):
        return [n for n in self.consumers.get(name, []) if n.op_type == op_type]

    def split_const(self, node):
        """(non-constant input, constant value) of a binary node, or (None, None)."""
        a, b = node.input[0], node.input[1]
        ca, cb = self.constant(a), self.constant(b)
        if ca is None and cb is not None:
            return a, cb
        if cb is None and ca is not None:
            return b, ca
        return None, None

    def add_initializer(self, array, stem):
        name = self.unique(stem)
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(array), name))
        self.initializers[name] = self.graph.initializer[-1]
        return name

    def replace_output(self, old, new_node):
        """Insert ``new_node`` (producing a fresh tensor) and route every use of ``old`` to it."""
        self.graph.node.append(new_node)
        new_node = self.graph.node[-1]  # append() stored a copy: edit the stored node
        new = new_node.output[0]
        for node in self.graph.node:
            if node is new_node:
                continue
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = new
        for output in self.graph.output:
            if output.name == old:
                # keep the graph's output name: rename the fused node's output instead
                new_node.output[0] = old
                for node in self.graph.node:
                    for i, name in enumerate(node.input):
                        if name == new:
                            node.input[i] = old
                producer = self.producer.get(old)
                if producer is not None and producer is not new_node:
                    producer.output[list(producer.output).index(old)] = self.unique("dead")
        self.reindex()


def eliminate_dead_nodes(model):
    """Drop nodes (and initializers) that no graph output depends on; keep topological order."""
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    needed, stack = set(), [o.name for o in graph.output]
    live = set()
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        node = producer.get(name)
        if node is not None and id(node) not in live:
            live.add(id(node))
            stack.extend(i for i in node.input if i)
    kept = [n for n in graph.node if id(n) in live]
    del graph.node[:]
    graph.node.extend(_topological(kept))
    used = {i for n in graph.node for i in n.input}
    keep_init = [i for i in graph.initializer if i.name in used or i.name in {o.name for o in graph.output}]
    del graph.initializer[:]
    graph.initializer.extend(keep_init)


def _topological(nodes):
    produced_by = {o: i for i, n in enumerate(nodes) for o in n.output}
    order, state = [], {}

    def visit(i):
        stack = [(i, False)]
        while stack:
            j, done = stack.pop()
            if done:
                state[j] = 2
                order.append(nodes[j])
                continue
            if state.get(j):
                continue
            state[j] = 1
            stack.append((j, True))
            for name in nodes[j].input:
                k = produced_by.get(name)
                if k is not None and not state.get(k):
                    stack.append((k, False))

    for i in range(len(nodes)):
        if not state.get(i):
            visit(i)
    return order


# --- rewrites -------------------------------------------------------------------


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


def _heads_source(g, name):
    """Transpose(Reshape(t, (B, T, H, D))) -> (t, that Reshape), else (None, None)."""
    transpose = g.producer.get(name)
    if transpose is None or transpose.op_type != "Transpose":
        return None, None
    reshape = g.producer.get(transpose.input[0])
    if reshape is None or reshape.op_type != "Reshape":
        return None, None
    return reshape.input[0], reshape


def _cache_heads_source(g, name, ranks, hidden, perm):
    """Transpose(t, perm) where ``t`` is already (B, S, H, D) - keys/values read
    from a decoder's cache rather than split from a projection: -> Reshape(t,
    (B, S, H*D)), else None."""
    transpose = g.producer.get(name)
    if transpose is None or transpose.op_type != "Transpose" or ranks.get(transpose.input[0]) != 4:
        return None
    if tuple(next((a.ints for a in transpose.attribute if a.name == "perm"), ())) != perm:
        return None
    shape = g.add_initializer(np.array([0, 0, hidden], np.int64), "merge_heads")
    node = helper.make_node("Reshape", [transpose.input[0], shape], [g.unique("cache_3d")], name=g.unique("Reshape"))
    g.graph.node.append(node)
    return node.output[0]


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
        if value is None:
            value = _cache_heads_source(g, weighted.input[1], ranks, hidden, perm=(0, 2, 1, 3))
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
        if key is None:
            key = _cache_heads_source(g, scores.input[1], ranks, hidden, perm=(0, 2, 3, 1))
        if query is None or key is None:
            continue
        _, inputs = _ancestors(g, softmax.input[0])
        if padding_input in inputs:  # forward graphs: key padding mask + causal flag
            extra, unidirectional = ["", padding_input], causal
        else:  # e.g. a decoder over its cache: the graph's own mask as an additive bias
            bias = _additive_mask(g, softmax.input[0])
            masked = g.producer.get(softmax.input[0]) is not None and g.producer[softmax.input[0]].op_type in ("Add", "Where")
            if bias is None and masked:
                continue  # masked in a way this rewrite does not understand
            extra, unidirectional = (["", "", bias] if bias else []), False
        query = _as_3d(g, query, query_split, ranks, hidden)
        key = _as_3d(g, key, key_split, ranks, hidden) if key_split is not None else key
        value = _as_3d(g, value, value_split, ranks, hidden) if value_split is not None else value
        scale_node = g.only(scores.output[0], "Mul")
        scale = g.split_const(scale_node)[1] if scale_node is not None else None
        node_inputs = [query, key, value, *extra]
        attributes = dict(num_heads=int(num_heads), mask_filter_value=MASKED_LOGIT, unidirectional=int(bool(unidirectional)))
        if scale is not None and np.asarray(scale).size == 1:
            attributes["scale"] = float(np.asarray(scale).reshape(-1)[0])
        node = helper.make_node("MultiHeadAttention", node_inputs, [g.unique("attention")],
                                name=g.unique("MultiHeadAttention"), domain=MS_DOMAIN, **attributes)
        if ranks.get(merge.output[0], 3) == 2:  # the merge went straight to (B*T, hidden)
            g.graph.node.append(node)
            flat = g.add_initializer(np.array([-1, hidden], np.int64), "flat")
            node = helper.make_node("Reshape", [node.output[0], flat], [g.unique("as_2d")], name=g.unique("Reshape"))
        g.replace_output(merge.output[0], node)
        count += 1
    return count


def tensor_ranks(model):
    """{tensor name: rank} from ONNX shape inference (before any contrib op is inserted)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - ranks are a hint; unknown means "assume 3-D"
        return {}
    values = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
    return {v.name: len(v.type.tensor_type.shape.dim) for v in values if v.type.tensor_type.HasField("shape")}


def rewrite(model, num_heads, causal=False, hidden=None):
    """Apply every rewrite to a copy of ``model``; -> (model, counts of zoo rewrites).

    num_heads, hidden: the model's attention heads and width; causal: GPT."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    ranks = tensor_ranks(model)
    g = Graph(model)
    counts = {"MatMul (from Tensordot)": fold_tensordot(g)}
    counts["LayerNormalization"] = fuse_layer_norm(g)
    counts.update(fuse_gelu(g))
    counts["MultiHeadAttention"] = fuse_attention(g, num_heads, causal, hidden, ranks) if num_heads and hidden else 0
    eliminate_dead_nodes(model)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return model, counts
