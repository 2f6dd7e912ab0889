"""ONNX decoders with past state, so a runtime decodes one token at a time.

GPT (``<name>_decoder``): the zoo's fixed-size key/value cache goes in and
comes out updated - new keys/values are written at ``cache_index``, never
concatenated, so every step has the same shapes (as in ``Gpt.call_with_cache``):

    token_ids          (batch, new_tokens)            int32
    past_key_values    (batch, layers, 2, cache, heads, head_dim)  float32
    cache_index        ()                             int32  where the new tokens go
    key_padding_mask   (batch, cache)                 int32  1 = a real key
    position_offset    (batch,)                       int32  position id of the first new token
 -> logits (batch, new_tokens, vocabulary), present_key_values (as past)

Seq2seq: ``<name>_encoder`` (source ids + mask -> encoder_outputs and the
initial LSTM states) and ``<name>_decoder`` (one target token, past (h, c)
states per layer, encoder outputs and source mask -> logits, present states),
as in ``Seq2Seq.encode`` / ``Seq2Seq.decode_step``. States are one tensor
(batch, layers, 2, hidden): [:, i, 0] is h and [:, i, 1] is c of layer i.

Validation: the runtime greedy loop of ``export.onnx_generate`` over these
graphs must produce exactly the tokens of ``zoo.generate(..., sampler="greedy")``,
and the first step's logits must match Keras within ``atol``.
"""

import numpy as np
import tensorflow as tf
from keras import ops

from export.onnx import convert_function
from export.onnx_lstm import convert_with_lstm_kernels

SUPPORTED = ("gpt", "seq2seq")
CHECK_NEW_TOKENS = 8


def supports(info):
    return info.family in SUPPORTED


# --- GPT ----------------------------------------------------------------------


def gpt_decoder_function(model):
    def step(token_ids, past_key_values, cache_index, key_padding_mask, position_offset):
        logits, _, cache = model.call_with_cache(
            token_ids, past_key_values, cache_index,
            padding_mask=key_padding_mask, start_index=position_offset,
        )
        return {"logits": tf.cast(logits, tf.float32), "present_key_values": cache}

    c = model.config
    cache_shape = (None, c.num_layers, 2, None, c.num_heads, c.hidden_dim // c.num_heads)
    specs = {
        "token_ids": tf.TensorSpec((None, None), tf.int32, name="token_ids"),
        "past_key_values": tf.TensorSpec(cache_shape, model.compute_dtype, name="past_key_values"),
        "cache_index": tf.TensorSpec((), tf.int32, name="cache_index"),
        "key_padding_mask": tf.TensorSpec((None, None), tf.int32, name="key_padding_mask"),
        "position_offset": tf.TensorSpec((None,), tf.int32, name="position_offset"),
    }
    cache_axes = ["batch", None, None, "cache_sequence", None, None]
    axes = {
        "token_ids": ["batch", "new_tokens"],
        "past_key_values": cache_axes,
        "key_padding_mask": ["batch", "cache_sequence"],
        "position_offset": ["batch"],
        "logits": ["batch", "new_tokens", None],
        "present_key_values": cache_axes,
    }
    return step, specs, axes


# --- seq2seq ------------------------------------------------------------------


def _stack_states(states):
    return ops.stack([ops.stack([h, c], axis=1) for h, c in states], axis=1)  # (B, layers, 2, H)


def seq2seq_encoder_function(model):
    def encode(source_ids, source_padding_mask):
        outputs, states = model.encode(source_ids, source_padding_mask, training=False)
        return {"encoder_outputs": outputs, "states": _stack_states(states)}

    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in ("source_ids", "source_padding_mask")}
    axes = {
        "source_ids": ["batch", "source_sequence"],
        "source_padding_mask": ["batch", "source_sequence"],
        "encoder_outputs": ["batch", "source_sequence", None],
        "states": ["batch", None, None, None],
    }
    return encode, specs, axes


def seq2seq_decoder_function(model):
    layers = model.config.num_layers

    def step(target_ids, past_states, encoder_outputs, source_padding_mask):
        states = [(past_states[:, i, 0], past_states[:, i, 1]) for i in range(layers)]
        logits, states, _ = model.decode_step(target_ids, states, encoder_outputs, source_padding_mask)
        return {"logits": tf.cast(logits, tf.float32), "present_states": _stack_states(states)}

    hidden = model.config.hidden_dim
    specs = {
        "target_ids": tf.TensorSpec((None,), tf.int32, name="target_ids"),
        "past_states": tf.TensorSpec((None, layers, 2, hidden), model.compute_dtype, name="past_states"),
        "encoder_outputs": tf.TensorSpec((None, None, hidden), model.compute_dtype, name="encoder_outputs"),
        "source_padding_mask": tf.TensorSpec((None, None), tf.int32, name="source_padding_mask"),
    }
    axes = {
        "target_ids": ["batch"],
        "past_states": ["batch", None, None, None],
        "encoder_outputs": ["batch", "source_sequence", None],
        "source_padding_mask": ["batch", "source_sequence"],
        "logits": ["batch", None],
        "present_states": ["batch", None, None, None],
    }
    return step, specs, axes


# --- conversion + checks ------------------------------------------------------


def convert(function_factory, model, opset, lstm_kernels=False):
    """Convert one part; ``lstm_kernels`` for parts that run LSTMs over time
    (the seq2seq encoder: ONNX ``LSTM`` ops, see ``export.onnx_lstm``)."""
    function, specs, axes = function_factory(model)
    if lstm_kernels:
        return convert_with_lstm_kernels(function, specs, opset, axes, model)
    return convert_function(function, specs, opset, axes, variables=model.weights)


def check_prompts(info, count=3):
    """Prompts of different lengths for the greedy check (ids, in range)."""
    rng = np.random.default_rng(1)
    config = info.model.config
    vocabulary = getattr(config, "source_vocabulary_size", None) or config.vocabulary_size
    longest = max(2, min(7, config.max_sequence_length - CHECK_NEW_TOKENS - 1))
    lengths = [longest, max(1, longest - 3), max(1, longest - 1)][:count]
    return [rng.integers(0, vocabulary, n).tolist() for n in lengths]


def greedy_check(info, runner, atol):
    """Compare the runtime greedy loop with ``zoo.generate``; return a validation record."""
    import zoo.generation

    prompts = check_prompts(info)
    kwargs = {}
    if info.family == "seq2seq":
        kwargs["start_token_id"] = int(info.generation.get("start_token_id", 1))
    stop = info.generation.get("stop_token_ids")
    expected = zoo.generation.generate(info.model, prompts, max_new_tokens=CHECK_NEW_TOKENS,
                                       sampler="greedy", stop_token_ids=stop, **kwargs)
    got, first_logits = runner.generate(prompts, CHECK_NEW_TOKENS, stop_token_ids=stop, return_first_logits=True, **kwargs)
    reference_logits = runner.keras_first_logits(info.model, prompts, **kwargs)
    diff = float(np.max(np.abs(first_logits - reference_logits)))
    identical = got == expected
    return {
        "atol": float(atol),
        "passed": bool(identical and diff <= atol),
        "outputs": {"logits": {"max_abs_diff": diff, "passed": bool(diff <= atol)}},
        "greedy_tokens_identical": bool(identical),
        "greedy_check": {"prompts": len(prompts), "new_tokens": CHECK_NEW_TOKENS,
                         "keras": expected, "onnxruntime": got},
    }


def export_decoder(info, opset, atol=1e-4):
    """-> ({entry suffix: onnx model}, check(paths) -> validation record)."""
    from export import onnx_generate

    if info.family == "gpt":
        models = {"decoder": convert(gpt_decoder_function, info.model, opset)}

        def check(paths):
            return greedy_check(info, onnx_generate.GptRunner(paths["decoder"]), atol)
    else:
        models = {
            "encoder": convert(seq2seq_encoder_function, info.model, opset, lstm_kernels=True),
            "decoder": convert(seq2seq_decoder_function, info.model, opset),
        }

        def check(paths):
            return greedy_check(info, onnx_generate.Seq2SeqRunner(paths["encoder"], paths["decoder"]), atol)

    return models, check
