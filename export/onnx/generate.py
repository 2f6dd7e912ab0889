"""Greedy generation in onnxruntime over the decoders of ``export.onnx.decoders``.

It follows ``zoo.generate``'s conventions exactly, so the tokens match
(tested): prompts are left-padded to a common end, each row's positions
start at 0 at its first real token (``first_position_id = past_length - pad``),
padded keys are masked, a row that
emits a stop token keeps emitting the fill token while others continue, and
each row's output runs up to and including its stop token.

    runner = GptRunner("artifacts/gpt2/onnx/gpt2_decoder/1/model.onnx")  # onnxruntime
    runner.generate([[464, 3290], [15496]], max_new_tokens=20, stop_token_ids=[50256])

The runtime is only "run one step": each runner takes a path (opened with
onnxruntime, as above) or an already open session-like object - anything with
``onnxruntime.InferenceSession``'s ``get_inputs()`` and ``run(output_names,
feed)``, such as ``export.openvino.session.OpenVinoSession`` - and the prompt
layout, cache handling and greedy loop here are the same for every runtime:

    runner = GptRunner(ov_session("artifacts/gpt2/onnx/gpt2_decoder/1/model.onnx"))  # OpenVINO, same tokens

The inputs' meanings are declared in ``export.onnx.contract``; the README has
the same loop written against onnxruntime and numpy alone.
"""

import os

import numpy as np

from export.onnx import contract
from export.onnx.session import ort_session

CONTEXT_KEY = "max_sequence_length"  # the GPT decoder's metadata_props entry: its position table's length


def _session(path_or_session):
    """An onnxruntime session of a path, or the given session-like object as it is."""
    if isinstance(path_or_session, (str, bytes, os.PathLike)):
        return ort_session(path_or_session)
    return path_or_session


def _metadata(session):
    """The graph's ``metadata_props`` as a dict ({} for a session that does not expose them)."""
    metadata = getattr(session, "get_modelmeta", None)
    return dict(metadata().custom_metadata_map) if metadata else {}


def declared_context(session):
    """The ``max_sequence_length`` a decoder graph declares in its metadata, or None (older exports)."""
    value = _metadata(session).get(CONTEXT_KEY)
    return int(value) if value else None


def check_context(needed, limit):
    """Refuse ``needed`` positions beyond a decoder's ``limit``: past its position table ONNX Runtime fails
    with an out-of-range Gather and OpenVINO returns garbage without a word."""
    if limit is not None and needed > limit:
        raise ValueError(
            f"The longest prompt plus max_new_tokens needs {needed} positions, but this decoder's model has "
            f"max_sequence_length {limit}: shorten the prompt or ask for fewer new tokens."
        )


def _stop_array(stop_token_ids):
    if stop_token_ids is None:
        return np.array([], np.int64)
    return np.atleast_1d(np.asarray(stop_token_ids, np.int64))


def _greedy_tail(first_logits, step, batch, max_new_tokens, stop_token_ids):
    """The shared loop: ``step(tokens (B,), i) -> logits (B, V)`` for i >= 1."""
    stop = _stop_array(stop_token_ids)
    fill = int(max(stop[0], 0)) if stop.size else 0
    token = np.argmax(first_logits, axis=-1).astype(np.int32)
    outputs = [[int(t)] for t in token]
    finished = np.isin(token, stop)
    for i in range(1, max_new_tokens):
        if finished.all():
            break
        logits = step(token, i)
        token = np.where(finished, fill, np.argmax(logits, axis=-1)).astype(np.int32)
        for b in range(batch):
            if not finished[b]:
                outputs[b].append(int(token[b]))
        finished = finished | np.isin(token, stop)
    return outputs


OLD_CACHE_INPUT = "past_key_values"  # the single fixed-size cache of decoders exported before the growing past


class GptRunner:
    """Greedy decoding over a GPT ``_decoder`` ONNX graph: a past that grows by each call's
    tokens, or, for decoders that allow it, one buffer per past written in place.

    ``decoder``: the graph's path (onnxruntime) or an open session-like object.
    ``in_place``: keep each layer's past in one buffer the decoder writes its new
    columns into (ONNX Runtime I/O binding), for decoders that declare it
    (``contract.PAST_IN_PLACE_KEY``: the fused and quantized ones); None: whenever
    the decoder and the session allow it; False: let the past grow by copies.
    """

    def __init__(self, decoder, in_place=None):
        self.session = _session(decoder)
        available = (_metadata(self.session).get(contract.PAST_IN_PLACE_KEY) == "1"
                     and hasattr(self.session, "io_binding"))
        if in_place and not available:
            raise ValueError("in_place=True needs a decoder whose metadata_props declare past_in_place = 1 (a fused "
                             "or quantized decoder) opened in onnxruntime; this one appends to its past.")
        self.in_place = available if in_place is None else bool(in_place)
        inputs = {i.name: i for i in self.session.get_inputs()}
        shapes = {name: i.shape for name, i in inputs.items()}
        if OLD_CACHE_INPUT in shapes:
            raise ValueError(
                "This GPT decoder was exported with the older fixed-size cache input 'past_key_values'; "
                "this version of the zoo runs decoders with a past per layer ('past_key_values.0.key', ...). "
                "Export the model again (zoo export <model> --out <folder> --formats onnx)."
            )
        self.layers = sum(1 for name in shapes if name.startswith("past_key_values.") and name.endswith(".key"))
        self.names = contract.past_names(self.layers)
        first = shapes[self.names[0][0]]
        self.heads, self.head_dim = first[1], first[3]
        self.past_dtype = np.float16 if "float16" in inputs[self.names[0][0]].type else np.float32
        self.max_sequence_length = declared_context(self.session)
        self.outputs = ["logits"] + [name for names in self.names for name in names[2:]]

    def _layout(self, prompts, max_new_tokens):
        prompt_end = max(len(p) for p in prompts)
        check_context(prompt_end + max_new_tokens, self.max_sequence_length)
        batch = len(prompts)
        ids = np.zeros((batch, prompt_end), np.int32)
        pad = np.zeros((batch,), np.int32)
        for b, row in enumerate(prompts):
            pad[b] = prompt_end - len(row)
            ids[b, pad[b]:] = row
        key_mask = (np.arange(prompt_end + max_new_tokens)[None, :] >= pad[:, None]).astype(np.int32)
        return ids, pad, key_mask, prompt_end

    def empty_past(self, batch):
        """Zero-length keys and values for every layer: the first call's pasts."""
        empty = np.zeros((batch, self.heads, 0, self.head_dim), self.past_dtype)
        return [(empty, empty) for _ in range(self.layers)]

    def _run(self, tokens, past, key_mask, first_position_id, logits_positions=None):
        """One call: -> (logits of ``logits_positions`` (default: the last token), the presents as the next call's past)."""
        if logits_positions is None:
            logits_positions = np.full((tokens.shape[0], 1), tokens.shape[1] - 1, np.int32)
        feed = {"token_ids": tokens, "key_padding_mask": key_mask,
                "first_position_id": first_position_id.astype(np.int32), "logits_positions": logits_positions}
        for (key_name, value_name, _, _), (keys, values) in zip(self.names, past):
            feed[key_name], feed[value_name] = keys, values
        logits, *presents = self.session.run(self.outputs, feed)
        return logits, list(zip(presents[0::2], presents[1::2]))

    def _growing_calls(self, batch):
        """``call(tokens, key_mask, first_position_id) -> last logits (B, V)`` over a past that grows by copies."""
        state = {"past": self.empty_past(batch)}

        def call(tokens, key_mask, first_position_id):
            logits, state["past"] = self._run(tokens, state["past"], key_mask, first_position_id)
            return logits[:, -1]

        return call

    def _in_place_calls(self, batch, capacity):
        """The same over one buffer per layer's keys and values with room for ``capacity`` columns,
        bound as both past and present: the decoder writes each call's columns into it."""
        from onnxruntime import OrtValue

        shape = (batch, self.heads, capacity, self.head_dim)
        # Kept referenced here: an OrtValue made from numpy borrows the array's memory.
        buffers = [(OrtValue.ortvalue_from_numpy(np.zeros(shape, self.past_dtype)),
                    OrtValue.ortvalue_from_numpy(np.zeros(shape, self.past_dtype))) for _ in range(self.layers)]
        binding = self.session.io_binding()  # the buffers are bound once; each call rebinds its own inputs
        for (key_name, value_name, present_key, present_value), (keys, values) in zip(self.names, buffers):
            binding.bind_ortvalue_input(key_name, keys)
            binding.bind_ortvalue_input(value_name, values)
            binding.bind_ortvalue_output(present_key, keys)
            binding.bind_ortvalue_output(present_value, values)
        binding.bind_output("logits")

        def call(tokens, key_mask, first_position_id):
            feed = {"token_ids": np.ascontiguousarray(tokens, np.int32),  # referenced until the run is over
                    "key_padding_mask": np.ascontiguousarray(key_mask, np.int32),
                    "first_position_id": np.ascontiguousarray(first_position_id, np.int32),
                    "logits_positions": np.full((batch, 1), tokens.shape[1] - 1, np.int32)}
            for name, value in feed.items():
                binding.bind_cpu_input(name, value)
            self.session.run_with_iobinding(binding)
            # The logits (bound last) live in a buffer the next run may reuse: copy them out.
            return binding.get_outputs()[-1].numpy()[:, -1].copy()

        call.buffers = buffers  # alive as long as the binding that points into them
        return call

    def generate(self, prompts, max_new_tokens, stop_token_ids=None, return_first_logits=False):
        ids, pad, key_mask, prompt_end = self._layout(prompts, max_new_tokens)
        batch = len(prompts)
        call = (self._in_place_calls(batch, prompt_end + max_new_tokens) if self.in_place
                else self._growing_calls(batch))
        first = call(ids, key_mask[:, :prompt_end], -pad)

        def step(token, i):
            column = prompt_end + i - 1
            return call(token[:, None], key_mask[:, :column + 1], column - pad)

        out = _greedy_tail(first, step, batch, max_new_tokens, stop_token_ids)
        return (out, first) if return_first_logits else out

    def window_logits(self, token_ids):
        """Logits (B, T, V) of (B, T) windows read with an empty past: the decoder
        as a plain language model, for scoring held-out text."""
        token_ids = np.asarray(token_ids, np.int32)
        batch, length = token_ids.shape
        check_context(length, self.max_sequence_length)
        key_mask = np.ones((batch, length), np.int32)
        every_token = np.tile(np.arange(length, dtype=np.int32), (batch, 1))
        logits, _ = self._run(token_ids, self.empty_past(batch), key_mask, np.zeros((batch,), np.int32), every_token)
        return logits

    def keras_first_logits(self, model, prompts):
        """The same prompt call in Keras (``call_with_past``), for the logits check."""
        ids, pad, key_mask, prompt_end = self._layout(prompts, 0)
        logits, _, _ = model.call_with_past(ids, model.initial_past(len(prompts)), padding_mask=key_mask,
                                            start_index=-pad)
        return np.asarray(logits)[:, -1]


class Seq2SeqRunner:
    """Greedy translation over a seq2seq ``_encoder`` + ``_decoder`` ONNX pair (paths or open sessions)."""

    def __init__(self, encoder, decoder):
        self.encoder = _session(encoder)
        self.decoder = _session(decoder)

    @staticmethod
    def _source(prompts):
        length = max(len(p) for p in prompts)
        source = np.zeros((len(prompts), length), np.int32)
        mask = np.zeros_like(source)
        for b, row in enumerate(prompts):  # right padding, masked (as zoo.generate)
            source[b, : len(row)] = row
            mask[b, : len(row)] = 1
        return source, mask

    def generate(self, prompts, max_new_tokens, stop_token_ids=None, start_token_id=1, return_first_logits=False):
        source, mask = self._source(prompts)
        encoder_outputs, states = self.encoder.run(
            ["encoder_outputs", "states"], {"source_ids": source, "source_padding_mask": mask}
        )
        state = {"states": states}

        def step(token, _):
            logits, state["states"] = self.decoder.run(
                ["logits", "present_states"],
                {"target_ids": token.astype(np.int32), "past_states": state["states"],
                 "encoder_outputs": encoder_outputs, "source_padding_mask": mask},
            )
            return logits

        first = step(np.full((len(prompts),), start_token_id, np.int32), 0)
        out = _greedy_tail(first, step, len(prompts), max_new_tokens, stop_token_ids)
        return (out, first) if return_first_logits else out

    def keras_first_logits(self, model, prompts, start_token_id=1):
        source, mask = self._source(prompts)
        encoder_outputs, states = model.encode(source, mask, training=False)
        start = np.full((len(prompts),), start_token_id, np.int32)
        logits, _, _ = model.decode_step(start, states, encoder_outputs, mask)
        return np.asarray(logits)
