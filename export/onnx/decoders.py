"""ONNX decoders with past state, so a runtime decodes one token at a time.

GPT (``<name>_decoder``): each layer's keys and values come in as a past and
go out with the call's new ones appended (``Gpt.call_with_past``), in
Hugging Face's names and layout: ``token_ids``, ``past_key_values.{l}.key``
/ ``.value`` (batch, heads, past_sequence, head_dim), ``key_padding_mask``,
``first_position_id``, ``logits_positions`` -> ``logits`` (of the tokens
asked for: a prompt needs only its last), ``present.{l}.key`` / ``.value``. In
this plain graph the one copy per step is the append; the compiled XLA loop
instead writes into a fixed-size cache in place (``Gpt.call_with_cache``),
which plain ONNX ops cannot do without copying the cache several times per
step (``benchmarks/onnx_gpt_decoder.py`` measured both). The fused decoder
made from it (and the quantized ones made from that) can write in place:
``export.onnx.fusion.past_in_place``.

Seq2seq: ``<name>_encoder`` (source ids + mask -> encoder_outputs and the
initial LSTM states) and ``<name>_decoder`` (one target token, past (h, c)
states per layer, encoder outputs and source mask -> logits, present states),
as in ``Seq2Seq.encode`` / ``Seq2Seq.decode_step``.

Every input and output - dtype, named axes, meaning, how a batch of unequal
prompts is laid out - is declared in ``export.onnx.contract``; the traced
specs and the graph's symbolic dims come from that declaration.

Validation: the runtime greedy loop of ``export.onnx.generate`` over these
graphs must produce exactly the tokens of ``zoo.generate(..., sampler="greedy")``,
and the first step's logits must match Keras within ``atol``.
"""

import numpy as np
import tensorflow as tf
from keras import ops

from export.onnx import contract, generate
from export.onnx.lstm import convert_with_lstm_kernels
from export.onnx.tf_function import convert_function
from export.specs.base import resolve

CHECK_NEW_TOKENS = 8


def _declared(declared):
    """(traced specs, axis names) of a contract's inputs."""
    specs = {t.name: tf.TensorSpec(t.static_shape, t.dtype, name=t.name) for t in declared.inputs}
    return specs, declared.axis_names()


# --- GPT ----------------------------------------------------------------------


def gpt_decoder_function(model):
    names = contract.past_names(model.config.num_layers)

    def step(token_ids, key_padding_mask, first_position_id, logits_positions, **pasts):
        past = [(pasts[key], pasts[value]) for key, value, _, _ in names]
        logits, _, present = model.call_with_past(
            token_ids, past, padding_mask=key_padding_mask, start_index=first_position_id,
            logits_positions=logits_positions)
        outputs = {"logits": tf.cast(logits, tf.float32)}
        for (_, _, key, value), (keys, values) in zip(names, present):
            outputs[key], outputs[value] = keys, values
        return outputs

    return (step, *_declared(contract.gpt_decoder(model.config, model.compute_dtype)))


# --- seq2seq ------------------------------------------------------------------


def _stack_states(states):
    return ops.stack([ops.stack([h, c], axis=1) for h, c in states], axis=1)  # (B, layers, 2, H)


def seq2seq_encoder_function(model):
    def encode(source_ids, source_padding_mask):
        outputs, states = model.encode(source_ids, source_padding_mask, training=False)
        return {"encoder_outputs": outputs, "states": _stack_states(states)}

    return (encode, *_declared(contract.seq2seq_encoder(model.config, model.compute_dtype)))


def seq2seq_decoder_function(model):
    layers = model.config.num_layers

    def step(target_ids, past_states, encoder_outputs, source_padding_mask):
        states = [(past_states[:, i, 0], past_states[:, i, 1]) for i in range(layers)]
        logits, states, _ = model.decode_step(target_ids, states, encoder_outputs, source_padding_mask)
        return {"logits": tf.cast(logits, tf.float32), "present_states": _stack_states(states)}

    return (step, *_declared(contract.seq2seq_decoder(model.config, model.compute_dtype)))


# --- conversion + checks ------------------------------------------------------


def convert(function_factory, model, opset, lstm_kernels=False):
    """Convert one part; ``lstm_kernels`` for parts that run LSTMs over time
    (the seq2seq encoder: ONNX ``LSTM`` ops, see ``export.onnx.lstm``)."""
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
    if info.spec.encoder_decoder:
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


def gpt_parts(info, opset, atol):
    """GPT's ``decoder`` over the key/value cache, checked by :class:`~export.onnx.generate.GptRunner`.

    The graph carries the model's ``max_sequence_length`` in its metadata
    (``generate.CONTEXT_KEY``), so a runtime can refuse a generation its
    position table cannot hold.
    """
    decoder = convert(gpt_decoder_function, info.model, opset)
    entry = decoder.metadata_props.add()
    entry.key, entry.value = generate.CONTEXT_KEY, str(info.model.config.max_sequence_length)
    models = {"decoder": decoder}

    def check(paths):
        return greedy_check(info, generate.GptRunner(paths["decoder"]), atol)

    return models, check


def seq2seq_parts(info, opset, atol):
    """Seq2seq's ``encoder`` (LSTM kernels) and one-step ``decoder``, checked by
    :class:`~export.onnx.generate.Seq2SeqRunner`."""
    models = {
        "encoder": convert(seq2seq_encoder_function, info.model, opset, lstm_kernels=True),
        "decoder": convert(seq2seq_decoder_function, info.model, opset),
    }

    def check(paths):
        return greedy_check(info, generate.Seq2SeqRunner(paths["encoder"], paths["decoder"]), atol)

    return models, check


def export_decoder(info, opset, atol=1e-4):
    """The decoder parts ``info``'s spec declares: ({entry suffix: onnx model}, check(paths) -> validation record)."""
    return resolve(info.spec.decoder.build)(info, opset, atol)
