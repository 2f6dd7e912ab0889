"""Analytic FLOP counts from a model's config (a multiply-add counts as 2 FLOPs).

Counted: every matrix multiply the model does (projections, feed-forward,
LSTM gates, attention scores and weighted sums, the LM head); not counted:
embeddings lookups, softmax, LayerNorm, activations (small next to the
matmuls). Attention is counted dense over the key length, as computed.
These are estimates of the work, used to turn a latency into GFLOP/s and a
percentage of the machine's measured GEMM peak; they are not measured.
"""


def _transformer_per_token(c):
    h, i = c["hidden_dim"], c["intermediate_dim"]
    return c["num_layers"] * (8 * h * h + 4 * h * i)  # q, k, v, out projections + 2 FFN matmuls


def _attention(c, queries, keys):
    return 4 * c["num_layers"] * c["hidden_dim"] * queries * keys  # QK^T and AV


def _lstm_layers(inputs, hidden, layers, directions=1):
    per_direction = hidden // directions
    total, width = 0, inputs
    for _ in range(layers):
        total += directions * 8 * per_direction * (width + per_direction)
        width = hidden
    return total


def _embedding(c):
    return c.get("embedding_dim") or c["hidden_dim"]


def _lm_head(c, vocabulary):
    e, h = _embedding(c), c["hidden_dim"]
    projection = 2 * h * e if (c.get("tie_embeddings", True) and e != h) else 0
    return projection + 2 * (e if c.get("tie_embeddings", True) else h) * vocabulary


def forward_flops(family, c, batch, length):
    """FLOPs of one forward call on (batch, length) ids (seq2seq: source and target of ``length``)."""
    if family == "bert":
        return batch * (length * _transformer_per_token(c) + _attention(c, length, length) + 2 * c["hidden_dim"] ** 2)
    if family == "gpt":
        per_token = _transformer_per_token(c) + 2 * c["hidden_dim"] * c["vocabulary_size"]
        return batch * (length * per_token + _attention(c, length, length))
    if family == "lstm_lm":
        per_token = _lstm_layers(_embedding(c), c["hidden_dim"], c["num_layers"]) + _lm_head(c, c["vocabulary_size"])
        return batch * length * per_token
    if family == "seq2seq":
        return batch * (length * _seq2seq_encoder(c) + length * _seq2seq_decoder_step(c, length))
    raise ValueError(f"No FLOP formula for family {family!r}.")


def _seq2seq_encoder(c):
    directions = 2 if c.get("bidirectional_encoder", True) else 1
    return _lstm_layers(_embedding(c), c["hidden_dim"], c["num_layers"], directions)


def _seq2seq_decoder_step(c, source_length):
    h = c["hidden_dim"]
    attention = 4 * source_length * h + (2 * h * h if c.get("attention") == "general" else 0)
    combine = 2 * (2 * h) * h
    return (_lstm_layers(_embedding(c), h, c["num_layers"]) + attention + combine
            + _lm_head(c, c["target_vocabulary_size"]))


def generate_flops(family, c, batch, prompt, new_tokens):
    """FLOPs of greedy decoding: read the prompt, then one step per new token (KV cache / LSTM state)."""
    if family == "gpt":
        per_token = _transformer_per_token(c) + 2 * c["hidden_dim"] * c["vocabulary_size"]
        total = forward_flops("gpt", c, 1, prompt)
        for step in range(1, new_tokens):
            total += per_token + _attention(c, 1, prompt + step)
        return batch * total
    if family == "lstm_lm":
        return forward_flops("lstm_lm", c, batch, prompt + new_tokens - 1)
    if family == "seq2seq":
        return batch * (prompt * _seq2seq_encoder(c) + new_tokens * _seq2seq_decoder_step(c, prompt))
    raise ValueError(f"No generation FLOP formula for family {family!r}.")


WEIGHT_BYTES = {"int4": 0.5, "int8": 1.0, "bf16": 2.0}  # per parameter, by the runtime's name; float32 otherwise


def decode_bytes_per_step(family, c, runtime, parameters, batch, prompt, new_tokens):
    """Bytes one decoding step must read from memory: every weight once (at the runtime's
    weight width) plus, for GPT, the key/value cache over the mean context
    (prompt + new_tokens / 2) of every row. A lower bound on traffic - what the
    memory-bandwidth limit of a decode rate is computed from."""
    width = next((b for suffix, b in WEIGHT_BYTES.items() if runtime.endswith(suffix)), 4.0)
    total = parameters * width
    if family == "gpt":
        total += 2 * c["num_layers"] * c["hidden_dim"] * 4 * batch * (prompt + new_tokens / 2)
    return total
