"""The zoo's LSTM models rebuilt from plain Keras layers: the ``keras-lstm`` peer's model.

What a Keras user would write without the zoo: ``keras.layers.Embedding``,
``keras.layers.LSTM`` with its defaults (``use_cudnn="auto"``, which on a
CPU falls back to the generic kernel), ``keras.layers.Bidirectional``,
``keras.layers.Attention`` and ``keras.layers.Dense``, carrying the zoo
model's weights (``zoo.bench.lstm_weights``). No zoo layer is used, so
the peer measures the zoo's layers against Keras' own.

Inputs are full length (the bench's masks are all ones), so no masks: a
Keras LSTM without a mask is what a user runs on unpadded batches.
"""

import keras
import numpy as np
from keras import ops


def _lstm(cell, return_state=False, **kwargs):
    units = cell["recurrent_kernel"].shape[0]
    return keras.layers.LSTM(units, return_sequences=True, return_state=return_state, **kwargs)


def _set_cell(layer, cell):
    layer.set_weights([cell["kernel"], cell["recurrent_kernel"], cell["bias"]])


def _logits(x, embedding, projection, output):
    """Tied output (hidden states times the transposed embedding), after the optional projection."""
    if output is not None:
        return output(x)
    if projection is not None:
        x = projection(x)
    return ops.matmul(x, ops.transpose(embedding.embeddings))


def _dense(weights, **kwargs):
    return None if weights is None else keras.layers.Dense(weights[0].shape[1], **kwargs)


def _set_dense(layer, weights):
    if layer is not None:
        layer.set_weights(list(weights))


class PlainLstmLM(keras.Model):
    """Embedding -> stacked LSTM -> (projection) -> tied logits (B, T, V)."""

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        vocabulary, width = weights["embedding"].shape
        self.embedding = keras.layers.Embedding(vocabulary, width)
        self.lstms = [_lstm(cell) for cell in weights["lstm"]]
        self.projection = _dense(weights["projection"])
        self.output_dense = _dense(weights["output"])
        self(np.zeros((1, 1), np.int32))  # build, then overwrite every weight
        self.embedding.set_weights([weights["embedding"]])
        for layer, cell in zip(self.lstms, weights["lstm"]):
            _set_cell(layer, cell)
        _set_dense(self.projection, weights["projection"])
        _set_dense(self.output_dense, weights["output"])

    def call(self, token_ids):
        x = self.embedding(token_ids)
        for lstm in self.lstms:
            x = lstm(x)
        return _logits(x, self.embedding, self.projection, self.output_dense)


class PlainSeq2Seq(keras.Model):
    """(Bidirectional) LSTM encoder, LSTM decoder started from its final states, Luong attention
    (``keras.layers.Attention``: softmax(q k^T) v, unscaled; ``general`` projects the decoder
    states first), ``tanh(W [context; h])``, tied logits (B, T_target, V)."""

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        self.source_embedding = keras.layers.Embedding(*weights["source_embedding"].shape)
        self.target_embedding = keras.layers.Embedding(*weights["target_embedding"].shape)
        self.bidirectional = isinstance(weights["encoder"][0], dict) and "forward" in weights["encoder"][0]
        if self.bidirectional:
            self.encoder = [keras.layers.Bidirectional(_lstm(layer["forward"], return_state=True))
                            for layer in weights["encoder"]]
        else:
            self.encoder = [_lstm(cell, return_state=True) for cell in weights["encoder"]]
        self.decoder = [_lstm(cell) for cell in weights["decoder"]]
        general = weights["attention"]
        self.query_projection = None if general is None else keras.layers.Dense(general.shape[1], use_bias=False)
        self.attention = keras.layers.Attention(use_scale=False, score_mode="dot")
        self.combine = keras.layers.Dense(weights["combine"][0].shape[1], activation="tanh")
        self.projection = _dense(weights["projection"])
        self.output_dense = _dense(weights["output"])
        ones = np.zeros((1, 2), np.int32)  # two steps: a softmax over one key warns
        self({"source_ids": ones, "target_ids": ones})  # build, then overwrite every weight
        self.source_embedding.set_weights([weights["source_embedding"]])
        self.target_embedding.set_weights([weights["target_embedding"]])
        for layer, cell in zip(self.encoder, weights["encoder"]):
            if self.bidirectional:
                _set_cell(layer.forward_layer, cell["forward"])
                _set_cell(layer.backward_layer, cell["backward"])
            else:
                _set_cell(layer, cell)
        for layer, cell in zip(self.decoder, weights["decoder"]):
            _set_cell(layer, cell)
        if general is not None:
            self.query_projection.set_weights([general])
        _set_dense(self.combine, weights["combine"])
        _set_dense(self.projection, weights["projection"])
        _set_dense(self.output_dense, weights["output"])

    def call(self, inputs):
        keys, states = self.source_embedding(inputs["source_ids"]), []
        for lstm in self.encoder:
            if self.bidirectional:
                keys, h_fw, c_fw, h_bw, c_bw = lstm(keys)
                states.append([ops.concatenate([h_fw, h_bw], -1), ops.concatenate([c_fw, c_bw], -1)])
            else:
                keys, h, c = lstm(keys)
                states.append([h, c])
        x = self.target_embedding(inputs["target_ids"])
        for lstm, state in zip(self.decoder, states):
            x = lstm(x, initial_state=state)
        query = x if self.query_projection is None else self.query_projection(x)
        context = self.attention([query, keys, keys])
        x = self.combine(ops.concatenate([context, x], -1))
        return _logits(x, self.target_embedding, self.projection, self.output_dense)


def build(family, weights, config):
    """The plain Keras model of ``family`` carrying ``weights``."""
    if family == "seq2seq":
        if config.get("attention", "general") not in ("dot", "general"):
            raise NotImplementedError(f"keras-lstm implements dot and general attention, "
                                      f"not {config['attention']!r}.")
        return PlainSeq2Seq(weights)
    return PlainLstmLM(weights)
