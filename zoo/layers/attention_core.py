"""The attention core: scores -> mask -> softmax -> weighted sum.

Every attention in the zoo (BERT, GPT, the LSTM decoder's Luong attention)
ends in this one function. It exists in two forms that compute the same
numbers:

* the **XLA path**: the core wrapped in ``tf.function(jit_compile=True)`` so
  TensorFlow fuses scores, mask, softmax and weighted sum into one compiled
  cluster when a model runs eagerly or inside a plain ``tf.function``;
* the **export path**: the same ops traced inline. tf2onnx cannot convert a
  nested XLA function (it emits an unsupported ``PartitionedCall``), so
  exporters trace models inside :func:`export_mode`, which switches every
  attention layer to this path for the duration of the trace.

When the model is already being compiled with XLA as a whole
(``jit_compile=True`` in ``compile``, or a decode loop under
``tf.function(jit_compile=True)``) the core is traced inline too: the outer
compilation fuses it anyway, and nesting a second XLA function inside one
measured ~20x slower training steps here (the nested call and its gradient
are recompiled as separate clusters).
"""

import contextlib

import keras
from keras import ops

from zoo.layers.masks import MASKED_LOGIT
from zoo.layers.trace_flags import TraceFlag

_EXPORT_MODE = TraceFlag()

# A large finite negative rather than -inf: a row whose keys are all masked
# (a padded query under left padding) then gets uniform weights instead of NaN.


@contextlib.contextmanager
def export_mode():
    """Trace attention with plain, inline ops (no nested XLA function).

    Use around any trace that will be handed to an exporter::

        with export_mode():
            concrete = tf.function(model).get_concrete_function(spec)
    """
    with _EXPORT_MODE.enabled():
        yield


def in_export_mode():
    """True inside :func:`export_mode`."""
    return _EXPORT_MODE.is_set()


def masked_softmax(scores, mask=None):
    """Softmax over the last axis where ``mask`` is True; computed in float32.

    scores: (..., Tq, Tk); mask: bool, broadcastable to scores, or None.
    Returns weights in the dtype of ``scores`` (so bfloat16 models stay
    bfloat16 outside the softmax).
    """
    dtype = scores.dtype
    scores = ops.cast(scores, "float32")
    if mask is not None:
        scores = ops.where(mask, scores, MASKED_LOGIT)
    return ops.cast(ops.softmax(scores, axis=-1), dtype)


def _single_query_attention(query, key, value, mask, scale, return_weights):
    """The core for one query per row (a decode step), as multiply + reduce.

    The same numbers as the einsum form. Under XLA on CPU the einsum over a
    (B, Tk, H, D) cache becomes a transpose (a copy of every layer's keys and
    values) per step; this form fuses into two loops that read the cache once
    (``benchmarks/decode_attention_experiment.py`` measured it).
    """
    scores = ops.sum(query * key, axis=-1)  # (B, Tk, H)
    scores = ops.transpose(scores, (0, 2, 1))[:, :, None, :] * ops.cast(scale, scores.dtype)  # (B, H, 1, Tk)
    weights = masked_softmax(scores, None if mask is None else ops.expand_dims(mask, axis=1))
    per_key = ops.expand_dims(ops.transpose(weights[:, :, 0, :], (0, 2, 1)), axis=-1)  # (B, Tk, H, 1)
    output = ops.expand_dims(ops.sum(per_key * value, axis=1), axis=1)  # (B, 1, H, D)
    if return_weights:
        return output, weights
    return output


def _dot_product_attention(query, key, value, mask, scale, return_weights):
    # query (B, Tq, H, D); key, value (B, Tk, H, D); mask (B, Tq, Tk) or None
    if query.shape[1] == 1 and not in_export_mode():
        # Exports keep the einsum form: it is the pattern ONNX Runtime fuses.
        return _single_query_attention(query, key, value, mask, scale, return_weights)
    scores = ops.einsum("bqhd,bkhd->bhqk", query, key)  # (B, H, Tq, Tk)
    scores = scores * ops.cast(scale, scores.dtype)
    if mask is not None:
        mask = ops.expand_dims(mask, axis=1)  # (B, 1, Tq, Tk)
    weights = masked_softmax(scores, mask)
    output = ops.einsum("bhqk,bkhd->bqhd", weights, value)  # (B, Tq, H, D)
    if return_weights:
        return output, weights
    return output


def _build_xla_core():
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.function(
        _dot_product_attention, jit_compile=True, reduce_retracing=True
    )


_xla_core = _build_xla_core()


_INLINE_CORE = [_dot_product_attention]  # the core traced inline; replaced only by inline_core_replaced


@contextlib.contextmanager
def inline_core_replaced(make_core):
    """Within the block, attention traced inline uses ``make_core(current_core)``.

    The inline core is what an outer XLA compilation (the decode loop) and
    exports trace; a core is called as ``core(query, key, value, mask, scale,
    return_weights)``. A hook for experiments that compare another core with
    this one on the same model (``benchmarks/decode_attention_experiment.py``);
    the block must cover the trace, not just the call.
    """
    _INLINE_CORE.append(make_core(_INLINE_CORE[-1]))
    try:
        yield
    finally:
        _INLINE_CORE.pop()


def inside_xla_compilation():
    """True while tracing inside a ``tf.function(jit_compile=True)``."""
    if _xla_core is None:
        return False
    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph())


def dot_product_attention(
    query, key, value, mask=None, scale=None, use_xla=True, return_weights=False
):
    """Scaled dot-product attention over heads.

    Args:
        query: (batch, query_length, heads, head_dim).
        key, value: (batch, key_length, heads, head_dim).
        mask: bool (batch, query_length, key_length); True = may attend.
        scale: multiplier on the scores; default ``1 / sqrt(head_dim)``.
        use_xla: run the XLA-compiled core unless tracing for export.
        return_weights: also return the (batch, heads, Tq, Tk) weights.
    """
    if scale is None:
        scale = 1.0 / float(query.shape[-1]) ** 0.5
    if mask is not None:
        mask = ops.cast(mask, "bool")
    if (
        use_xla
        and _xla_core is not None
        and not in_export_mode()
        and not inside_xla_compilation()
    ):
        return _xla_core(query, key, value, mask, float(scale), return_weights)
    return _INLINE_CORE[-1](
        query, key, value, mask, float(scale), return_weights
    )
