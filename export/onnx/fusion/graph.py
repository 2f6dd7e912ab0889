"""The index the fusion rewrites work on: an ONNX graph's producers, consumers and constants,
dead-node elimination that keeps topological order, and tensor ranks from shape inference."""

import collections

import numpy as np
import onnx
from onnx import numpy_helper


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


def tensor_ranks(model):
    """{tensor name: rank} from ONNX shape inference (before any contrib op is inserted)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - ranks are a hint; unknown means "assume 3-D"
        return {}
    values = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
    return {v.name: len(v.type.tensor_type.shape.dim) for v in values if v.type.tensor_type.HasField("shape")}
