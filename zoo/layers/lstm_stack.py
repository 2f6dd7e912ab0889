"""Stacked LSTMs: a sequence call for training, a single-step call for decoding.

XLA and cuDNN: Keras' LSTM picks a cuDNN kernel when ``use_cudnn="auto"``
and the cell is cuDNN-compatible, and then marks itself ``supports_jit=False``
(cuDNN ops cannot be XLA-compiled, keras-team/keras#18456) - even on a
machine with no GPU, which turns ``jit_compile="auto"`` off for the whole
model. With ``use_cudnn=False`` the LSTM runs as a ``tf.while_loop`` over
its cell, which XLA compiles on CPU (and GPU). The zoo's LSTM families
therefore default to ``use_cudnn=False``; set ``"auto"`` on a GPU for the
cuDNN kernel (and leave ``jit_compile`` off there).

Padding: masked steps carry the state through unchanged and output zeros
(``zero_output_for_mask=True``; Keras' own default repeats the previous
output, except under ``Bidirectional``, which forces zeros). Zeros are
what an ONNX ``LSTM`` op with ``sequence_lens`` outputs past each row's
length, so the ONNX exporter can trace the stacks without their mask
(:func:`trace_without_mask`) and give the ONNX ops the lengths instead
(``export.onnx.lstm``).
"""

import contextlib

import keras
from keras import ops

from zoo.layers.trace_flags import TraceFlag

CUDNN_CHOICES = ("auto", True, False)

_WITHOUT_MASK = TraceFlag()


@contextlib.contextmanager
def trace_without_mask():
    """Inside, every :class:`LstmStack` call ignores its ``padding_mask``.

    For the ONNX exporter only (``export.onnx.lstm``): tf2onnx turns an
    unmasked Keras LSTM into one ONNX ``LSTM`` op but a masked one into a
    generic ``Loop``, so the exporter traces without the mask and then feeds
    the lengths (the sum of each row of the mask) to the ONNX ops as
    ``sequence_lens``. That reproduces the masked outputs exactly only for
    right-padded rows (the mask a prefix of ones), which is how the zoo
    batches; never leave it on for training or a SavedModel.
    """
    with _WITHOUT_MASK.enabled():
        yield


def tracing_without_mask():
    """True inside :func:`trace_without_mask`."""
    return _WITHOUT_MASK.is_set()


@keras.saving.register_keras_serializable(package="zoo")
class LstmStack(keras.layers.Layer):
    """``num_layers`` LSTMs, each feeding the next, with dropout in between.

    Args:
        units: output width of every layer (with ``bidirectional``, each
            direction has ``units // 2`` so outputs and states stay ``units``).
        num_layers: depth.
        bidirectional: read the sequence both ways (encoders only).
        dropout: between layers, while training.
        use_cudnn: passed to ``keras.layers.LSTM`` (see module docstring).

    Call: ``outputs, states = stack(x, padding_mask=None, initial_states=None)``
    where ``states`` is a list of ``(h, c)`` per layer. Masked steps carry
    the state through unchanged and output zeros (in both directions of a
    bidirectional stack), so each row's final states are those of its last
    real step. The ONNX export assumes right padding (the mask a prefix of
    ones per row): there it computes the same numbers with ONNX ``LSTM``
    ops given each row's length (see the module docstring).
    Step: ``output, states = stack.step(x_t, states)`` for one time step
    (unidirectional stacks only), using the same weights.
    """

    def __init__(
        self,
        units,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        use_cudnn=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if use_cudnn not in CUDNN_CHOICES:
            raise ValueError(f"use_cudnn must be one of {CUDNN_CHOICES}, got {use_cudnn!r}.")
        if bidirectional and units % 2:
            raise ValueError(
                f"A bidirectional LSTM stack needs an even `units` (got {units}): "
                "each direction gets units // 2."
            )
        self.units = int(units)
        self.num_layers = int(num_layers)
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.use_cudnn = use_cudnn
        per_direction = self.units // 2 if self.bidirectional else self.units
        self.lstms = []
        for i in range(self.num_layers):
            lstm = keras.layers.LSTM(
                per_direction,
                return_sequences=True,
                return_state=True,
                use_cudnn=use_cudnn,
                zero_output_for_mask=True,  # as ONNX LSTM's sequence_lens (module docstring)
                dtype=self.dtype_policy,
                name=f"lstm_{i}",
            )
            if self.bidirectional:
                lstm = keras.layers.Bidirectional(
                    lstm, dtype=self.dtype_policy, name=f"bidirectional_{i}"
                )
            self.lstms.append(lstm)
        self.between_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def build(self, inputs_shape):
        shape = tuple(inputs_shape)
        for lstm in self.lstms:
            lstm.build(shape)
            shape = shape[:-1] + (self.units,)
        self.built = True

    def call(self, inputs, padding_mask=None, initial_states=None, training=None):
        if padding_mask is None or tracing_without_mask():
            mask = None
        else:
            mask = ops.cast(padding_mask, "bool")
        x, states = inputs, []
        for i, lstm in enumerate(self.lstms):
            if i > 0:
                x = self.between_dropout(x, training=training)
            initial = None if initial_states is None else list(initial_states[i])
            if self.bidirectional:
                x, h_fw, c_fw, h_bw, c_bw = lstm(
                    x, mask=mask, initial_state=initial, training=training
                )
                h = ops.concatenate([h_fw, h_bw], axis=-1)
                c = ops.concatenate([c_fw, c_bw], axis=-1)
            else:
                x, h, c = lstm(x, mask=mask, initial_state=initial, training=training)
            states.append((h, c))
        return x, states

    def step(self, inputs, states, training=None):
        """One time step: inputs (B, D), states [(h, c)] -> (output (B, units), states)."""
        if self.bidirectional:
            raise ValueError("A bidirectional LSTM stack cannot be stepped one token at a time.")
        x, new_states = inputs, []
        for i, lstm in enumerate(self.lstms):
            if i > 0:
                x = self.between_dropout(x, training=training)
            x, (h, c) = lstm.cell(x, list(states[i]), training=training)
            new_states.append((h, c))
        return x, new_states

    def compute_output_spec(self, inputs, padding_mask=None, initial_states=None, training=None):
        batch, length = inputs.shape[0], inputs.shape[1]
        dtype = self.compute_dtype

        def state():  # a distinct tensor each time: Keras maps outputs by identity
            return keras.KerasTensor((batch, self.units), dtype=dtype)

        return (
            keras.KerasTensor((batch, length, self.units), dtype=dtype),
            [(state(), state()) for _ in range(self.num_layers)],
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            use_cudnn=self.use_cudnn,
        )
        return config
