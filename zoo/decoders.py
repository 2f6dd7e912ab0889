"""Adapters that give every generating family the same two calls for the decode loop.

    logits, state = decoder.start(ids, pad, prompt_end, extra)   # read the prompt
    logits, state = decoder.step(token, column, state)           # one new token

``ids`` is the (B, L) token buffer of the loop: each row's prompt sits
left-padded in columns ``pad[b] .. prompt_end - 1``, new tokens go from
column ``prompt_end`` on. ``state`` is a nest of tensors whose first axis is
the batch row, so beam search can reorder it with one ``tf.gather``. All
shapes are static for a given (B, L), which is what lets the loop compile
once per bucket.

* GPT: a fixed-size key/value cache of length L per layer (XLA updates
  each in place). The prompt is read in
  chunks of ``prefill_chunk`` tokens (``prompt_end`` is a multiple of it);
  position ids come from ``start_index = column - pad`` per row, and the
  padding mask over cache keys hides the left padding.
* Seq2Seq: the encoder reads the source (``extra``); the LSTM decoder state
  and the encoder outputs are the state; column 0 holds the start token.
* LstmLM: the LSTM (h, c) per layer; the prompt is fed one token at a time,
  padding steps leave the state unchanged.
"""

import tensorflow as tf

from zoo.models import Gpt, LstmLM, Seq2Seq


class GptDecoder:
    """Cached decoding for :class:`zoo.models.Gpt`."""

    family = "gpt"

    def __init__(self, model, prefill_chunk=16):
        self.model = model
        self.prefill_chunk = int(prefill_chunk)

    def start(self, ids, pad, prompt_end, extra):
        batch, length = ids.shape[0], ids.shape[1]
        chunk = self.prefill_chunk
        # True where a cache key holds a real token (prompt or generated).
        key_mask = tf.range(length, dtype=tf.int32)[None, :] >= pad[:, None]  # (B, L)
        cache = self.model.initial_layer_caches(batch, length)
        vocabulary = self.model.config.vocabulary_size

        def body(i, cache, logits):
            begin = i * chunk
            tokens = tf.slice(ids, [0, begin], [batch, chunk])
            last_logits, _, cache = self.model.call_with_cache(
                tokens, cache, begin, padding_mask=key_mask, start_index=begin - pad,
                last_logits_only=True,
            )
            return i + 1, cache, last_logits[:, -1]

        _, cache, logits = tf.while_loop(
            lambda i, *_: i * chunk < prompt_end,
            body,
            (tf.constant(0), cache, tf.zeros((batch, vocabulary), tf.float32)),
        )
        return logits, {"cache": cache, "pad": pad, "key_mask": key_mask}

    def step(self, token, column, state):
        logits, _, cache = self.model.call_with_cache(
            token[:, None],
            state["cache"],
            column,
            padding_mask=state["key_mask"],
            start_index=column - state["pad"],
        )
        return logits[:, 0], {**state, "cache": cache}


class Seq2SeqDecoder:
    """Encoder once, then ``decode_step`` per token, for :class:`zoo.models.Seq2Seq`."""

    family = "seq2seq"
    prefill_chunk = 1

    def __init__(self, model):
        self.model = model

    def start(self, ids, pad, prompt_end, extra):
        source_ids, source_mask = extra["source_ids"], extra["source_padding_mask"]
        encoder_outputs, states = self.model.encode(source_ids, source_mask, training=False)
        state = {
            "states": [tuple(s) for s in states],
            "encoder_outputs": encoder_outputs,
            "source_padding_mask": source_mask,
        }
        # Column 0 holds the start token; prompt_end is 1.
        return self.step(ids[:, 0], 0, state)

    def step(self, token, column, state):
        logits, states, _ = self.model.decode_step(
            token, state["states"], state["encoder_outputs"], state["source_padding_mask"]
        )
        return logits, {**state, "states": [tuple(s) for s in states]}


class LstmLMDecoder:
    """Stepwise decoding for :class:`zoo.models.LstmLM`."""

    family = "lstm_lm"
    prefill_chunk = 1

    def __init__(self, model):
        self.model = model

    def start(self, ids, pad, prompt_end, extra):
        batch = ids.shape[0]
        states = [tuple(s) for s in self.model.initial_states(batch)]
        vocabulary = self.model.config.vocabulary_size

        def body(column, states, logits):
            new_logits, new_states = self.model.step(ids[:, column], states)
            real = (column >= pad)[:, None]  # left padding leaves the state as it was
            states = tf.nest.map_structure(lambda new, old: tf.where(real, new, old), new_states, states)
            states = [tuple(s) for s in states]
            return column + 1, states, tf.where(real, new_logits, logits)

        _, states, logits = tf.while_loop(
            lambda column, *_: column < prompt_end,
            body,
            (tf.constant(0), states, tf.zeros((batch, vocabulary), tf.float32)),
        )
        return logits, {"states": states}

    def step(self, token, column, state):
        logits, states = self.model.step(token, state["states"])
        return logits, {"states": [tuple(s) for s in states]}


def decoder_for(model, prefill_chunk=16):
    """The adapter for ``model``, or a TypeError naming the families that generate."""
    if isinstance(model, Gpt):
        return GptDecoder(model, prefill_chunk)
    if isinstance(model, Seq2Seq):
        return Seq2SeqDecoder(model)
    if isinstance(model, LstmLM):
        return LstmLMDecoder(model)
    raise TypeError(
        f"Cannot generate with a {type(model).__name__}: zoo.generate supports Gpt, "
        "Seq2Seq and LstmLM (BERT is not a generative model)."
    )
