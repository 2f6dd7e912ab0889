"""The zoo's LSTM models rebuilt with ``torch.nn.LSTM``: the ``torch-lstm`` peer's model.

What a PyTorch user would write: ``nn.Embedding``, ``nn.LSTM`` (stacked,
``batch_first``, bidirectional for the encoder), ``nn.Linear``, carrying the
zoo model's weights (``zoo.bench.lstm_weights``, read without TensorFlow).

Weight layout: Keras keeps an LSTM's gates as column blocks i, f, c, o of
(in, 4u) kernels; torch keeps row blocks i, f, g, o of (4u, in) matrices -
the same order (torch's ``g`` is Keras' candidate ``c``), so each matrix is
only transposed. Keras has one bias per cell, torch two (``bias_ih`` +
``bias_hh`` are added): the Keras bias goes into ``bias_ih``, zeros into
``bias_hh``. Dense kernels (in, out) become ``nn.Linear`` weights (out, in).

Inputs are full length (the bench's masks are all ones), so no packing.
"""

import numpy as np
import torch
from torch import nn


def _tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _lstm(cells, bidirectional):
    """One stacked ``nn.LSTM`` with the given cells (per layer: a cell, or {"forward", "backward"})."""
    first = cells[0]["forward"] if bidirectional else cells[0]
    units = first["recurrent_kernel"].shape[0]
    lstm = nn.LSTM(first["kernel"].shape[0], units, num_layers=len(cells), batch_first=True,
                   bidirectional=bidirectional)
    with torch.no_grad():
        for layer, cell in enumerate(cells):
            directions = [("", cell["forward"]), ("_reverse", cell["backward"])] if bidirectional else [("", cell)]
            for suffix, weights in directions:
                getattr(lstm, f"weight_ih_l{layer}{suffix}").copy_(_tensor(weights["kernel"].T))
                getattr(lstm, f"weight_hh_l{layer}{suffix}").copy_(_tensor(weights["recurrent_kernel"].T))
                getattr(lstm, f"bias_ih_l{layer}{suffix}").copy_(_tensor(weights["bias"]))
                getattr(lstm, f"bias_hh_l{layer}{suffix}").zero_()
    return lstm


def _linear(weights, bias=True):
    """``nn.Linear`` from a Keras Dense's (kernel, bias), or None."""
    if weights is None:
        return None
    kernel = weights[0] if bias else weights
    linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias=bias)
    with torch.no_grad():
        linear.weight.copy_(_tensor(kernel.T))
        if bias:
            linear.bias.copy_(_tensor(weights[1]))
    return linear


def _embedding(table):
    return nn.Embedding.from_pretrained(_tensor(table), freeze=True)


class _Head(nn.Module):
    """(projection) -> tied logits against the embedding, or the untied output layer."""

    def __init__(self, weights, embedding):
        super().__init__()
        self.embedding = embedding
        self.projection = _linear(weights["projection"])
        self.output = _linear(weights["output"])

    def forward(self, x):
        if self.output is not None:
            return self.output(x)
        if self.projection is not None:
            x = self.projection(x)
        return x @ self.embedding.weight.T


class TorchLstmLM(nn.Module):
    """Embedding -> stacked nn.LSTM -> (projection) -> tied logits (B, T, V)."""

    def __init__(self, weights):
        super().__init__()
        self.embedding = _embedding(weights["embedding"])
        self.lstm = _lstm(weights["lstm"], bidirectional=False)
        self.head = _Head(weights, self.embedding)

    def forward(self, token_ids):
        x, _ = self.lstm(self.embedding(token_ids))
        return self.head(x)


class TorchSeq2Seq(nn.Module):
    """(Bidirectional) nn.LSTM encoder, nn.LSTM decoder started from its final states (both
    directions' states concatenated per layer), Luong dot/general attention,
    ``tanh(W [context; h])``, tied logits (B, T_target, V)."""

    def __init__(self, weights):
        super().__init__()
        self.bidirectional = "forward" in weights["encoder"][0]
        self.source_embedding = _embedding(weights["source_embedding"])
        self.target_embedding = _embedding(weights["target_embedding"])
        self.encoder = _lstm(weights["encoder"], self.bidirectional)
        self.decoder = _lstm(weights["decoder"], bidirectional=False)
        self.query_projection = None if weights["attention"] is None else _linear(weights["attention"], bias=False)
        self.combine = _linear(weights["combine"])
        self.head = _Head(weights, self.target_embedding)

    def _final_states(self, states):
        if not self.bidirectional:
            return states
        layers, batch, units = states.shape[0] // 2, states.shape[1], states.shape[2]
        # torch orders (layer, direction); the zoo's decoder starts from [forward; backward] per layer.
        return states.view(layers, 2, batch, units).permute(0, 2, 1, 3).reshape(layers, batch, 2 * units)

    def forward(self, source_ids, target_ids):
        keys, (h, c) = self.encoder(self.source_embedding(source_ids))
        x, _ = self.decoder(self.target_embedding(target_ids), (self._final_states(h), self._final_states(c)))
        query = x if self.query_projection is None else self.query_projection(x)
        weights = torch.softmax(query @ keys.transpose(1, 2), dim=-1)
        x = torch.tanh(self.combine(torch.cat([weights @ keys, x], dim=-1)))
        return self.head(x)


def build(family, weights, config):
    """The torch model of ``family`` carrying ``weights``, in eval mode."""
    if family == "seq2seq":
        if config.get("attention", "general") not in ("dot", "general"):
            raise NotImplementedError(f"torch-lstm implements dot and general attention, "
                                      f"not {config['attention']!r}.")
        return TorchSeq2Seq(weights).eval()
    return TorchLstmLM(weights).eval()
