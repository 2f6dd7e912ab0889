"""Multi-head attention with masks and a key/value cache in two forms.

Self-attention (``value`` omitted) or cross-attention (``value`` given).
Projections are plain ``Dense`` layers (query, key, value, output), each
with a bias, so checkpoints from BERT and GPT-2 map onto them one to one.

* The **cache** is a single tensor of shape (batch, 2, cache_length, heads,
  head_dim) holding keys ([:, 0]) and values ([:, 1]). Decoding writes the
  new step's keys and values *into* it at ``cache_update_index`` instead of
  concatenating, so its shape never changes and a decode loop compiles once
  (XLA updates it in place).
* The **past** is a (keys, values) pair, each (batch, heads, past_length,
  head_dim): the new keys and values are appended, and the pair that comes
  back is one token longer. This is the form of the exported ONNX decoder
  (and of Hugging Face's exports): a runtime that cannot write into its
  inputs then copies each layer's keys and values once per step, where
  writing into a fixed-size cache in plain ONNX ops copies it several times.
"""

import keras
from keras import ops

from zoo.layers.initializers import clone_initializer

from zoo.layers.attention_core import dot_product_attention, in_export_mode


def _write_at(cache, step, index):
    """``slice_update`` along the cache axis, as slices + concat: the same values,
    in ops tf2onnx converts (it has no ``XlaDynamicUpdateSlice``) and that run
    without XLA (the SavedModel's plain ``generate`` loop). Export only."""
    end = index + ops.shape(step)[2]
    written = ops.concatenate([cache[:, :, :index], step, cache[:, :, end:]], axis=2)
    if hasattr(written, "set_shape"):
        # Tensor slice bounds hide the cache length from graph shape inference;
        # a write keeps the cache's shape, which a tf.while_loop carrying it needs.
        written.set_shape(cache.shape)
    return written


@keras.saving.register_keras_serializable(package="zoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention.

    Args:
        num_heads: number of heads.
        head_dim: size of each head's keys/queries/values.
        output_dim: size of the output; defaults to the query's last dim.
        dropout: dropout on the attention weights while training.
        use_xla: run the attention core through XLA (see ``attention_core``).
        kernel_initializer: initializer of the projection kernels.

    Call::

        out = mha(query, value=None, attention_mask=None)
        out, cache = mha(query, attention_mask=m, cache=c, cache_update_index=i)
        out, (keys, values) = mha(query, attention_mask=m, past=(past_keys, past_values))

    ``attention_mask`` is bool (batch, query_length, key_length). With a
    ``cache`` and a ``cache_update_index`` the new keys/values are written at
    that index and attention runs over the whole cache (mask accordingly);
    with a cache and no index the cache is used as precomputed keys/values
    (cross-attention over a fixed encoder output). With a ``past`` the new
    keys/values are appended to it, and attention runs over the past and the
    new tokens (the mask spans both).
    """

    def __init__(
        self,
        num_heads,
        head_dim,
        output_dim=None,
        dropout=0.0,
        use_xla=True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.head_dim = int(head_dim)
        self.output_dim = output_dim
        self.dropout = float(dropout)
        self.use_xla = bool(use_xla)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        width = self.num_heads * self.head_dim
        self.query_dense = self._dense(width, "query")
        self.key_dense = self._dense(width, "key")
        self.value_dense = self._dense(width, "value")
        self.weights_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy
        )

    def _dense(self, units, name):
        return keras.layers.Dense(
            units,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        self.query_dense.build(query_shape)
        self.key_dense.build(value_shape)
        self.value_dense.build(value_shape)
        output_dim = self.output_dim or query_shape[-1]
        self.output_dense = self._dense(output_dim, "output")
        self.output_dense.build(
            tuple(query_shape[:-1]) + (self.num_heads * self.head_dim,)
        )
        self.built = True

    def _split_heads(self, x, source):
        # (B, T, H*D) -> (B, T, H, D). The shape is read from the projection's
        # *input*: tf2onnx rewrites Dense into reshape/MatMul/reshape and then
        # resolves Shape(dense output) to the 2-D MatMul, breaking the graph.
        shape = ops.shape(source)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads, self.head_dim))

    def call(
        self,
        query,
        value=None,
        attention_mask=None,
        cache=None,
        cache_update_index=None,
        past=None,
        return_weights=False,
        training=None,
    ):
        value = query if value is None else value
        q = self._split_heads(self.query_dense(query), query)  # (B, Tq, H, D)
        if cache is not None and cache_update_index is None:
            k, v = cache[:, 0], cache[:, 1]  # precomputed (B, Tk, H, D)
        else:
            k = self._split_heads(self.key_dense(value), value)
            v = self._split_heads(self.value_dense(value), value)
            if cache is not None:
                step = ops.cast(ops.stack([k, v], axis=1), cache.dtype)  # (B, 2, Tq, H, D)
                if in_export_mode():
                    cache = _write_at(cache, step, cache_update_index)
                else:
                    start = [0, 0, cache_update_index, 0, 0]
                    cache = ops.slice_update(cache, start, step)
                k, v = cache[:, 0], cache[:, 1]
            if past is not None:
                k, v = (ops.concatenate([old, ops.cast(ops.transpose(new, (0, 2, 1, 3)), old.dtype)], axis=2)
                        for old, new in zip(past, (k, v)))
                past = (k, v)
                # Back to the core's (B, Tk, H, D): an exporter's transpose optimizer folds
                # this into the core's own transposes, so no copy of the past is added.
                k, v = ops.transpose(k, (0, 2, 1, 3)), ops.transpose(v, (0, 2, 1, 3))

        dropout_active = training and self.dropout > 0
        need_weights = return_weights or dropout_active
        result = dot_product_attention(
            q,
            ops.cast(k, q.dtype),
            ops.cast(v, q.dtype),
            mask=attention_mask,
            use_xla=self.use_xla and not dropout_active,
            return_weights=need_weights,
        )
        if dropout_active:
            # Dropout on the weights needs them outside the fused core.
            _, weights = result
            weights = self.weights_dropout(weights, training=training)
            output = ops.einsum("bhqk,bkhd->bqhd", weights, ops.cast(v, q.dtype))
        elif need_weights:
            output, weights = result
        else:
            output, weights = result, None

        shape = ops.shape(query)
        output = ops.reshape(output, (shape[0], shape[1], self.num_heads * self.head_dim))
        output = self.output_dense(output)

        outputs = (output,)
        if cache is not None:
            outputs += (cache,)
        if past is not None:
            outputs += (past,)
        if return_weights:
            outputs += (weights,)
        return outputs[0] if len(outputs) == 1 else outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            head_dim=self.head_dim,
            output_dim=self.output_dim,
            dropout=self.dropout,
            use_xla=self.use_xla,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
