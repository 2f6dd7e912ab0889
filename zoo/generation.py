"""``zoo.generate``: one XLA-compiled decode loop for GPT, the LSTM seq2seq and the LSTM LM.

    ids = zoo.generate(gpt, [[1, 2, 3], [4, 5]], max_new_tokens=20)          # ids in, ids out
    text = zoo.generate(zoo.load("runs/shakespeare-char"), "ROMEO:", sampler="top_p", seed=0)

How it is fast
--------------
The whole generation -- reading the prompt into a fixed-size cache, every
decoding step, sampling and stop tokens -- is one ``tf.function(jit_compile=True)``
around ``tf.while_loop``. Its tensors have static shapes that depend only on
the batch size and a *length bucket* (prompt + new tokens rounded up to
``bucket_size``); prompt length, ``max_new_tokens``, temperature, k, p, seed
and stop ids are runtime tensors. So the loop is traced and XLA-compiled once
per (model, sampler, batch size, bucket, GPT prompt chunk), and a prompt of
another length in the same bucket reuses it (``trace_count()`` shows it;
tests check it). GPT reads the prompt in chunks of 16, 64 or 256 tokens,
chosen from the prompt length and the batch (:func:`prefill_chunk_for`), so
the chunk adds at most two more compiled loops.

How batches of unequal prompts stay exact
-----------------------------------------
Prompts are left-padded so they all end at the same column; each row's
position ids start at 0 at its first real token (``start_index = column -
pad``) and the padding is masked out of the key/value cache, so every row
computes what it would compute alone. Rows that hit a stop token keep
emitting it (or pad) while the others continue; the loop ends when all rows
are done or ``max_new_tokens`` is reached. See ``zoo.decoders``.

Beam search (``sampler="beam"``) keeps ``num_beams`` hypotheses per row in the
same loop, reorders the cache with a gather, freezes the score of finished
beams, and picks the best by ``score / length ** length_penalty`` at the end.
"""

import collections
import weakref

import keras
import numpy as np
import tensorflow as tf

from zoo.decoders import decoder_for
from zoo.token_ids import check_token_ids
from zoo.layers.masks import MASKED_LOGIT
from zoo.samplers import SAMPLERS, check_sampler, sample

MAX_STOP_TOKENS = 8  # stop ids are padded to this many, so their number never retraces

# (model name, sampler) -> number of times the decode loop was traced.
TRACE_COUNTS = collections.Counter()
_LOOPS = weakref.WeakKeyDictionary()  # keras model -> {(sampler, beams, chunk): tf.function}


def trace_count():
    """How many times any decode loop has been traced (and so XLA-compiled) in this process."""
    return sum(TRACE_COUNTS.values())


# GPT's prompt chunk when generate() is not given one. Each chunk is one pass over the model, which reads
# every weight again: a fixed cost, about as much as computing CHUNK_COST_ROWS more token rows; and the
# prompt is padded up to a multiple of the chunk, which costs batch * padding rows. prefill_chunk_for picks
# the chunk of PREFILL_CHUNKS with the least of both (three sizes: three compiled loops at most).
# gpt2, tokens/s with 64 new, interleaved medians (benchmarks/prefill_chunk.py, results/prefill_chunk-b*):
# batch 1 after 16 / 200 / 400 / 900 tokens: chunk 16 44.2 / 33.0 / 25.3 / 14.1, 64 42.4 / 34.7 / 28.1 / 19.0,
# 256 38.4 / 37.0 / 29.2 / 20.5; batch 4 after 200: 67.2 / 64.9 / 73.7. The rule picks the best in each.
PREFILL_CHUNKS = (16, 64, 256)
CHUNK_COST_ROWS = 32


def prefill_chunk_for(prompt_length, batch_size=1):
    """The prompt chunk ``generate`` uses by default for ``batch_size`` prompts, the longest
    ``prompt_length`` tokens: the one of ``PREFILL_CHUNKS`` with the least estimated work
    (chunks x ``CHUNK_COST_ROWS`` + rows computed, padding included; the smaller on a tie).
    At batch 1: 16 up to 32 tokens, 64 up to 192, 256 beyond."""

    def cost(chunk):
        chunks = length_bucket(prompt_length, chunk) // chunk
        return chunks * (CHUNK_COST_ROWS + batch_size * chunk)

    return min(PREFILL_CHUNKS, key=cost)


def length_bucket(length, bucket_size):
    """``length`` rounded up to a multiple of ``bucket_size``."""
    return -(-int(length) // int(bucket_size)) * int(bucket_size)


# --- the compiled loop -------------------------------------------------------


def _write(ids, tokens, column):
    """ids (B, L) with column ``column`` set to tokens (B,)."""
    at_column = tf.range(tf.shape(ids)[1])[None, :] == column
    return tf.where(at_column, tokens[:, None], ids)


def _is_stop(tokens, stop_ids):
    return tf.reduce_any(tokens[:, None] == stop_ids[None, :], axis=-1)


def _sampling_loop(decoder, kind, ids, logits, state, prompt_end, max_new, params, seed, stop_ids, fill):
    temperature, top_k, top_p = params

    def pick(logits, i):
        return sample(kind, logits, temperature, top_k, top_p, seed + tf.stack([0, i]))

    token = pick(logits, 0)
    ids = _write(ids, token, prompt_end)
    lengths = tf.ones_like(token)
    finished = _is_stop(token, stop_ids)

    def body(i, ids, token, state, finished, lengths):
        logits, state = decoder.step(token, prompt_end + i - 1, state)
        token = tf.where(finished, fill, pick(logits, i))
        ids = _write(ids, token, prompt_end + i)
        lengths += tf.cast(~finished, lengths.dtype)
        finished = finished | _is_stop(token, stop_ids)
        return i + 1, ids, token, state, finished, lengths

    _, ids, _, _, _, lengths = tf.while_loop(
        lambda i, *rest: (i < max_new) & ~tf.reduce_all(rest[3]),
        body,
        (tf.constant(1), ids, token, state, finished, lengths),
    )
    return ids, lengths


def _beam_loop(decoder, num_beams, ids, logits, state, prompt_end, max_new, length_penalty, stop_ids, fill):
    batch, vocabulary = ids.shape[0], logits.shape[-1]
    k = num_beams

    # First step from the single prompt state: the k best first tokens.
    scores, tokens = tf.math.top_k(tf.nn.log_softmax(logits), k=k)  # (B, k)
    state = tf.nest.map_structure(lambda t: tf.repeat(t, k, axis=0), state)
    ids = tf.repeat(ids, k, axis=0)  # (B*k, L)
    token = tf.reshape(tokens, [-1])
    ids = _write(ids, token, prompt_end)
    lengths = tf.ones_like(token)
    finished = _is_stop(token, stop_ids)
    only_fill = tf.where(tf.range(vocabulary) == fill, 0.0, MASKED_LOGIT)[None, :]  # (1, V)
    row_base = (tf.range(batch) * k)[:, None]  # (B, 1)

    def body(i, ids, token, state, finished, lengths, scores):
        logits, state = decoder.step(token, prompt_end + i - 1, state)
        log_probs = tf.nn.log_softmax(logits)  # (B*k, V)
        # A finished beam continues only with `fill`, at no cost: its score is frozen.
        log_probs = tf.where(finished[:, None], only_fill, log_probs)
        total = tf.reshape(scores, [-1, 1]) + log_probs
        scores, flat = tf.math.top_k(tf.reshape(total, [batch, k * vocabulary]), k=k)
        rows = tf.reshape(row_base + flat // vocabulary, [-1])  # (B*k,) source beam rows
        token = tf.reshape(flat % vocabulary, [-1])
        ids, state, finished, lengths = tf.nest.map_structure(
            lambda t: tf.gather(t, rows), (ids, state, finished, lengths)
        )
        ids = _write(ids, token, prompt_end + i)
        lengths += tf.cast(~finished, lengths.dtype)
        finished = finished | _is_stop(token, stop_ids)
        return i + 1, ids, token, state, finished, lengths, scores

    _, ids, _, _, _, lengths, scores = tf.while_loop(
        lambda i, *rest: (i < max_new) & ~tf.reduce_all(rest[3]),
        body,
        (tf.constant(1), ids, token, state, finished, lengths, scores),
    )
    normalized = scores / tf.pow(tf.cast(tf.reshape(lengths, [batch, k]), tf.float32), length_penalty)
    best = tf.reshape(row_base, [-1]) + tf.argmax(normalized, axis=-1, output_type=tf.int32)
    return tf.gather(ids, best), tf.gather(lengths, best)


def compiled_loops(model):
    """The cache of ``model``'s compiled decode loops: a dict keyed by (sampler, beams, chunk, XLA).

    Each loop is traced and compiled on its first call and reused after. The
    cache is public for benchmarks: clear it to time a first call again, or
    swap its contents to time two variants of the loop side by side.
    """
    return _LOOPS.setdefault(model, {})


def compiled_decode_loop(model, decoder, kind, num_beams, jit_compile=True):
    """The XLA-compiled loop for (model, sampler ``kind``, beam width), built once and cached.

    Call it as ``loop(ids, pad, prompt_end, max_new, temperature, top_k, top_p,
    length_penalty, seed, stop_ids, extra) -> (ids (B, L), lengths (B,))``
    (see ``_run`` for the layout); exporters trace it into a SavedModel.
    ``jit_compile=False`` gives the same loop as a plain graph function, for
    runtimes without XLA (stock TF Serving: ``export.savedmodel.text_signatures``).
    """
    loops = compiled_loops(model)
    key = (kind, num_beams, decoder.prefill_chunk, bool(jit_compile))
    if key in loops:
        return loops[key]

    def loop(ids, pad, prompt_end, max_new, temperature, top_k, top_p, length_penalty, seed, stop_ids, extra):
        TRACE_COUNTS[(model.name, kind)] += 1  # Python side effect: runs once per trace
        fill = tf.maximum(stop_ids[0], 0)
        logits, state = decoder.start(ids, pad, prompt_end, extra)
        if kind == "beam":
            return _beam_loop(decoder, num_beams, ids, logits, state, prompt_end, max_new,
                              length_penalty, stop_ids, fill)
        return _sampling_loop(decoder, kind, ids, logits, state, prompt_end, max_new,
                              (temperature, top_k, top_p), seed, stop_ids, fill)

    # autograph=False: the loop and the models it calls write their control flow as
    # tf.while_loop / Python over static structure, so autograph's source rewriting
    # only costs time on the first call (gpt2: 2.8-3.4 s -> 2.1-2.5 s of tracing, same graph).
    loops[key] = tf.function(loop, jit_compile=bool(jit_compile), autograph=False)
    return loops[key]


# --- inputs ------------------------------------------------------------------


def _as_prompt_list(prompts):
    """-> (list of prompts, single?) where a prompt is a str or a list of ints."""
    if hasattr(prompts, "to_list"):  # tf.RaggedTensor
        prompts = prompts.to_list()
    elif hasattr(prompts, "numpy") or isinstance(prompts, np.ndarray):
        prompts = np.asarray(prompts).tolist()
    if isinstance(prompts, (str, bytes)):
        return [prompts], True
    if isinstance(prompts, (int, np.integer)):
        return [[int(prompts)]], True
    prompts = list(prompts)
    if not prompts:
        raise ValueError("No prompts given: pass a prompt (ids or text) or a non-empty list of them.")
    if all(isinstance(p, (int, np.integer)) for p in prompts):
        return [prompts], True
    rows = []
    for p in prompts:
        if hasattr(p, "tolist"):
            p = p.tolist()
        rows.append(p if isinstance(p, (str, bytes)) else list(p))
    return rows, False


def _check_ids(rows, vocabulary_size, what):
    for i, row in enumerate(rows):
        if not row:
            raise ValueError(
                f"{what} {i} is empty: give at least one token (for text, a non-empty string)."
            )
        if not all(isinstance(t, (int, np.integer)) for t in row):
            raise TypeError(f"{what} {i} must be a list of integer token ids, got {row[:5]!r}...")
        check_token_ids(np.asarray(row), vocabulary_size, name=f"{what.lower()} {i}")


def _check_lengths(rows, max_new_tokens, context, what, decoder_start=None):
    """Raise when a prompt or the generation does not fit the model's context.

    ``decoder_start``: None for decoder-only models (prompt + new tokens must
    fit); 1 for Seq2Seq (start token + new tokens must fit the target side).
    """
    if isinstance(max_new_tokens, bool) or int(max_new_tokens) != max_new_tokens or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an integer >= 1, got {max_new_tokens!r}.")
    if not context:
        return  # e.g. an LSTM LM: no position limit
    longest = max(len(r) for r in rows)
    if longest > context:
        raise ValueError(
            f"{what} of {longest} tokens is longer than the model's context "
            f"(max_sequence_length {context}). Shorten it."
        )
    used, why = (longest, f"the longest prompt has {longest} tokens") if decoder_start is None else (
        decoder_start, "the start token takes 1")
    if used + max_new_tokens > context:
        raise ValueError(
            f"max_new_tokens={max_new_tokens} runs past the model's context of {context} tokens "
            f"({why}); use max_new_tokens <= {context - used}."
        )


def _stop_tensor(stop_token_ids, vocabulary_size):
    stop = [] if stop_token_ids is None else (
        [stop_token_ids] if isinstance(stop_token_ids, (int, np.integer)) else list(stop_token_ids)
    )
    if len(stop) > MAX_STOP_TOKENS:
        raise ValueError(f"At most {MAX_STOP_TOKENS} stop_token_ids are supported, got {len(stop)}.")
    if stop:
        check_token_ids(np.asarray(stop), vocabulary_size, name="stop_token_ids")
    return tf.constant(stop + [-1] * (MAX_STOP_TOKENS - len(stop)), tf.int32)


def _seed_tensor(seed):
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    if isinstance(seed, bool) or int(seed) != seed:
        raise ValueError(f"seed must be an integer or None, got {seed!r}.")
    seed = int(seed)
    return tf.constant([seed % (2**31 - 1), (seed // (2**31 - 1)) % (2**31 - 1)], tf.int32)


# --- the public function -----------------------------------------------------


def generate(
    model,
    prompts,
    max_new_tokens=32,
    sampler="greedy",
    temperature=1.0,
    top_k=50,
    top_p=0.9,
    num_beams=4,
    length_penalty=1.0,
    stop_token_ids=None,
    seed=None,
    start_token_id=None,
    include_prompt=False,
    bucket_size=32,
    prefill_chunk=None,
):
    """Continue ``prompts`` with ``model`` (Gpt, LstmLM; Seq2Seq translates them).

    Args:
        model: a ``Gpt``, ``LstmLM`` or ``Seq2Seq``, or a ``TextModel`` from
            ``zoo.load(folder)`` (then prompts may be strings).
        prompts: one prompt or a list. A prompt is a list/array of token ids,
            or a string when ``model`` has a tokenizer. For Seq2Seq a prompt
            is the source sentence.
        max_new_tokens: tokens to generate per prompt (>= 1; prompt + new
            tokens must fit the model's ``max_sequence_length``).
        sampler: "greedy", "temperature", "top_k", "top_p" or "beam".
        temperature: > 0; divides the logits of the sampling samplers.
        top_k: keep the k most likely tokens (sampler "top_k").
        top_p: keep the nucleus of probability p in (0, 1] (sampler "top_p").
        num_beams, length_penalty: beam search width, and the exponent of the
            length normalisation used to pick the final beam.
        stop_token_ids: an id or a list; a row ends after emitting one (it is
            included in the ids returned; text drops it). A TextModel supplies
            its saved default.
        seed: makes sampling reproducible; None draws a fresh seed.
        start_token_id: Seq2Seq only, the target start-of-sequence id.
        include_prompt: also return the prompt (decoder-only models).
        bucket_size: total lengths are rounded up to a multiple of this; one
            compiled loop serves a whole bucket.
        prefill_chunk: GPT reads the prompt in chunks of this many tokens
            (padded up to a multiple of it); None picks one from the longest
            prompt and the batch (:func:`prefill_chunk_for`; at batch 1: 16 up to
            32 tokens, 64 up to 192, 256 beyond).
            Each chunk size is its own compiled loop.

    Returns the new tokens: a list of ids per prompt (a string per prompt for
    string prompts), or a single one for a single prompt.
    """
    text_model = None if isinstance(model, keras.Model) else model  # a TextModel: .model, .encode, .decode
    keras_model = text_model.model if text_model else model
    decoder_for(keras_model)  # an unsupported model is refused before anything else
    check_sampler(sampler, temperature, top_k, top_p, num_beams, length_penalty)
    if isinstance(bucket_size, bool) or int(bucket_size) < 1:
        raise ValueError(f"bucket_size must be an integer >= 1, got {bucket_size!r}.")
    if prefill_chunk is not None and (isinstance(prefill_chunk, bool) or int(prefill_chunk) < 1):
        raise ValueError(f"prefill_chunk must be None (chosen from the prompt) or an integer >= 1, "
                         f"got {prefill_chunk!r}.")
    if sampler == "beam" and num_beams > _output_vocabulary(keras_model):
        raise ValueError(f"num_beams={num_beams} exceeds the vocabulary size {_output_vocabulary(keras_model)}.")

    rows, single = _as_prompt_list(prompts)
    is_text = [isinstance(r, (str, bytes)) for r in rows]
    if any(is_text):
        if text_model is None:
            raise TypeError(
                "String prompts need a tokenizer: load a model folder saved with one "
                "(zoo.load(folder) -> TextModel), or pass token ids."
            )
        if not all(is_text):
            raise TypeError("Mix of string and token-id prompts: pass one kind.")
        rows = [text_model.encode(r.decode() if isinstance(r, bytes) else r) for r in rows]
    if text_model is not None:
        defaults = text_model.generation
        if stop_token_ids is None:
            stop_token_ids = defaults.get("stop_token_ids")
        if start_token_id is None:
            start_token_id = defaults.get("start_token_id")

    if prefill_chunk is None:
        prefill_chunk = prefill_chunk_for(max(len(r) for r in rows), len(rows))
    decoder = decoder_for(keras_model, prefill_chunk)
    ids, lengths, prompt_end = _run(
        keras_model, decoder, rows, max_new_tokens, sampler, temperature, top_k, top_p,
        num_beams, length_penalty, stop_token_ids, seed, start_token_id, bucket_size,
    )
    outputs = []
    for b, row in enumerate(rows):
        new = ids[b, prompt_end: prompt_end + lengths[b]].tolist()
        outputs.append((list(row) + new) if include_prompt and decoder.family != "seq2seq" else new)

    if any(is_text):
        stops = set(np.atleast_1d(stop_token_ids).tolist()) if stop_token_ids is not None else set()
        outputs = [text_model.decode([t for t in out if t not in stops]) for out in outputs]
    return outputs[0] if single else outputs


def _output_vocabulary(model):
    config = model.config
    return getattr(config, "target_vocabulary_size", None) or config.vocabulary_size


def _run(model, decoder, rows, max_new_tokens, sampler, temperature, top_k, top_p,
         num_beams, length_penalty, stop_token_ids, seed, start_token_id, bucket_size):
    """Validate, lay out the (B, L) buffer, run the compiled loop; -> numpy ids, lengths, prompt_end."""
    config = model.config
    batch = len(rows)
    extra = {}
    if decoder.family == "seq2seq":
        _check_ids(rows, config.source_vocabulary_size, "Source")
        _check_lengths(rows, max_new_tokens, config.max_sequence_length, "Source", decoder_start=1)
        if start_token_id is None:
            raise ValueError(
                "Seq2Seq generation needs start_token_id (the target vocabulary's "
                "start-of-sequence id): pass start_token_id=..., or save it in the model "
                "folder's generation config."
            )
        check_token_ids(np.asarray([start_token_id]), config.target_vocabulary_size, "start_token_id")
        source_length = length_bucket(max(len(r) for r in rows), bucket_size)
        source = np.zeros((batch, source_length), np.int32)
        source_mask = np.zeros((batch, source_length), np.int32)
        for b, row in enumerate(rows):  # right padding, masked: the encoder ignores it
            source[b, : len(row)] = row
            source_mask[b, : len(row)] = 1
        extra = {"source_ids": tf.constant(source), "source_padding_mask": tf.constant(source_mask)}
        prompt_end = 1
        total = length_bucket(1 + max_new_tokens, bucket_size)
        ids = np.zeros((batch, total), np.int32)
        ids[:, 0] = start_token_id
        pad = np.zeros((batch,), np.int32)
        vocabulary = config.target_vocabulary_size
    else:
        vocabulary = config.vocabulary_size
        _check_ids(rows, vocabulary, "Prompt")
        _check_lengths(rows, max_new_tokens, config.max_sequence_length, "Prompt")
        prompt_end = length_bucket(max(len(r) for r in rows), decoder.prefill_chunk)
        total = length_bucket(prompt_end + max_new_tokens, bucket_size)
        ids = np.zeros((batch, total), np.int32)
        pad = np.zeros((batch,), np.int32)
        for b, row in enumerate(rows):  # left padding: every prompt ends at prompt_end - 1
            pad[b] = prompt_end - len(row)
            ids[b, pad[b]: prompt_end] = row
    stop = _stop_tensor(stop_token_ids, vocabulary)

    loop = compiled_decode_loop(model, decoder, sampler, int(num_beams) if sampler == "beam" else 1)
    out_ids, lengths = loop(
        tf.constant(ids),
        tf.constant(pad),
        tf.constant(prompt_end, tf.int32),
        tf.constant(int(max_new_tokens), tf.int32),
        tf.constant(float(temperature or 1.0), tf.float32),
        tf.constant(int(top_k or 1), tf.int32),
        tf.constant(float(top_p or 1.0), tf.float32),
        tf.constant(float(length_penalty), tf.float32),
        _seed_tensor(seed),
        stop,
        extra,
    )
    return out_ids.numpy(), lengths.numpy(), prompt_end


__all__ = ["SAMPLERS", "compiled_decode_loop", "generate", "length_bucket", "prefill_chunk_for", "trace_count"]
