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
  mask as ``key_padding_mask`` and ``unidirectional`` for causal attention;
* a decoder's attention over its past -> ``com.microsoft.GroupQueryAttention``,
  which can write the new keys and values into a past buffer in place
  (``past_in_place``; the graph's inputs and outputs stay the same).

Then ``onnxruntime.transformers.optimizer`` runs on the rewritten graph and
fuses what its own patterns now recognise (bias + GELU -> ``BiasGelu``;
``export.onnx.optimize`` says which of its fusions are left out and why).

Each rewrite is matched structurally and skipped if anything is unexpected;
replaced nodes are dropped by dead-code elimination. Parity is *proven*
after the rewrite, not assumed: ``export`` validates the rewritten graph
against Keras like any other artifact.

One module per part: ``graph`` (the index the rewrites share, dead-node
elimination, tensor ranks), ``tensordot``, ``layer_norm``, ``gelu`` and
``attention`` and ``past_in_place`` (one rewrite each); :func:`rewrite` applies them in order.
"""

import onnx
from onnx import helper

from export.onnx.fusion.attention import fuse_attention
from export.onnx.fusion.gelu import fuse_gelu
from export.onnx.fusion.graph import MS_DOMAIN, Graph, eliminate_dead_nodes, tensor_ranks
from export.onnx.fusion.layer_norm import fuse_layer_norm
from export.onnx.fusion.past_in_place import past_in_place
from export.onnx.fusion.tensordot import fold_tensordot


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
    eliminate_dead_nodes(model)  # the appends MultiHeadAttention replaced no longer read the pasts
    g.reindex()
    counts["GroupQueryAttention (past in place)"] = past_in_place(g)
    eliminate_dead_nodes(model)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return model, counts
