"""SavedModel signatures that take text: the tokenizer runs inside the graph.

* BERT classifier ``predict_text``: strings (batch,) -> ``labels`` (batch,)
  int32 and ``probabilities`` (batch, classes).
* BERT backbone ``embed_text``: strings -> ``pooled_output`` (batch, hidden),
  ``sequence_output`` (batch, tokens, hidden) and its ``padding_mask``.
* GPT, LSTM LM and seq2seq ``generate``: strings ``prompts`` (batch,) and
  ``max_new_tokens`` () -> ``text`` (batch,) strings, greedy, through the
  zoo's own decode loop (``zoo.generation``) as a plain graph function, stop
  tokens dropped from the text as ``zoo.generate`` does. ``generate_xla``
  (only with ``generate_xla=True``) is the same loop XLA-compiled.

The tokenizers are keras-hub layers, whose ops are TensorFlow / tensorflow-text
ops, so the graph needs no Python: a fresh process loads it with
``import tensorflow_text; tf.saved_model.load(path)``.

Why ``generate`` is not XLA-compiled: stock TF Serving calls
``tensorflow::DisableXlaCompilation()`` unless started with
``--xla_cpu_compilation_enabled=true``, and then every ``jit_compile``
function fails on its first call. ``generate`` is therefore traced like the
other signatures, in ``export_mode`` and with ``jit_compile=False``: no XLA
function anywhere in it (``export.savedmodel.session`` runs it with XLA
disabled to prove it). ``generate_xla`` keeps the compiled loop for servers
started with that flag. Both decode one prompt at a time (``tf.map_fn``) in a
buffer of static shape, so XLA compiles ``generate_xla`` once per load. A
GPT or LSTM LM prompt keeps its last ``generate_length - 1`` tokens (the
model's context, at most 256) and ``max_new_tokens`` is cut so that prompt
and new tokens fit in ``generate_length``; the buffer adds room for the
prompt's left padding (up to a multiple of the prompt chunk, which takes no
positions). A seq2seq source keeps its first ``generate_length`` tokens.
"""

import numpy as np
import tensorflow as tf

from export.savedmodel.tracing import traced
from export.specs.base import resolve
from zoo.layers import export_mode

MAX_GENERATE_LENGTH = 256


def _special_id(tokenizer, token):
    try:
        return int(tokenizer.token_to_id(token))
    except (KeyError, ValueError):
        return None


def bert_ids(info, texts):
    """WordPiece ids packed as ``[CLS] tokens [SEP]``, right-padded: (ids, segments, mask)."""
    tokenizer = info.tokenizer
    cls_id, sep_id = _special_id(tokenizer, "[CLS]"), _special_id(tokenizer, "[SEP]")
    limit = info.config["max_sequence_length"] - (cls_id is not None) - (sep_id is not None)
    pieces = tf.cast(tokenizer.tokenize(texts), tf.int32)[:, :limit]
    batch = tf.shape(texts)[0]
    parts = []
    if cls_id is not None:
        parts.append(tf.RaggedTensor.from_tensor(tf.fill([batch, 1], cls_id)))
    parts.append(pieces)
    if sep_id is not None:
        parts.append(tf.RaggedTensor.from_tensor(tf.fill([batch, 1], sep_id)))
    packed = tf.concat(parts, axis=1)
    ids = packed.to_tensor(0)
    mask = tf.ones_like(packed).to_tensor(0)
    return ids, tf.zeros_like(ids), mask


_TEXTS_SPEC = tf.TensorSpec((None,), tf.string, name="texts")


def classifier_signatures(info, generate_xla=False):
    """``predict_text``: strings -> labels and softmax probabilities (a BERT classifier's spec)."""
    model = info.model

    def predict_text(texts):
        ids, segments, mask = bert_ids(info, texts)
        logits = model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        return {"labels": tf.argmax(probabilities, axis=-1, output_type=tf.int32),
                "probabilities": probabilities}

    with export_mode():
        return {"predict_text": traced(predict_text, _TEXTS_SPEC)}


def embedding_signatures(info, generate_xla=False):
    """``embed_text``: strings -> pooled and per-token states with their mask (the BERT backbone's spec)."""
    model = info.model

    def embed_text(texts):
        ids, segments, mask = bert_ids(info, texts)
        outputs = model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, training=False)
        return {"pooled_output": tf.cast(outputs["pooled_output"], tf.float32),
                "sequence_output": tf.cast(outputs["sequence_output"], tf.float32),
                "padding_mask": mask}

    with export_mode():
        return {"embed_text": traced(embed_text, _TEXTS_SPEC)}


def generate_length(info):
    context = info.config.get("max_sequence_length") or MAX_GENERATE_LENGTH
    return int(min(context, MAX_GENERATE_LENGTH))


def _generate_signature(info, jit_compile):
    """The ``generate`` function: the decode loop XLA-compiled or as a plain graph."""
    from zoo import generation
    from zoo.decoders import decoder_for

    model = info.model
    decoder = decoder_for(model)
    loop = generation.compiled_decode_loop(model, decoder, "greedy", 1, jit_compile=jit_compile)
    length = generate_length(info)
    chunk = decoder.prefill_chunk
    # The left padding up to a multiple of the chunk takes no positions, so prompt + new tokens
    # may fill the whole context: the buffer has room for the padding on top of it.
    buffer = length + chunk - 1
    stops = list(info.generation.get("stop_token_ids") or [])[: generation.MAX_STOP_TOKENS]
    stop_ids = tf.constant(stops + [-1] * (generation.MAX_STOP_TOKENS - len(stops)), tf.int32)
    seq2seq = info.spec.encoder_decoder
    start_id = int(info.generation.get("start_token_id", 0)) if seq2seq else 0
    target_tokenizer = info.target_tokenizer or info.tokenizer
    params = dict(temperature=tf.constant(1.0), top_k=tf.constant(1), top_p=tf.constant(1.0),
                  length_penalty=tf.constant(1.0), seed=tf.constant([0, 0], tf.int32))

    def one(prompt, max_new_tokens):
        tokens = tf.cast(tf.reshape(info.tokenizer.tokenize(prompt), [-1]), tf.int32)
        if seq2seq:
            source = tokens[:length]
            n = tf.shape(source)[0]
            extra = {
                "source_ids": tf.reshape(tf.pad(source, [[0, length - n]]), [1, length]),
                "source_padding_mask": tf.reshape(tf.pad(tf.ones_like(source), [[0, length - n]]), [1, length]),
            }
            ids = tf.reshape(tf.one_hot(0, length, on_value=start_id, off_value=0, dtype=tf.int32), [1, length])
            pad, prompt_end = tf.zeros([1], tf.int32), tf.constant(1)
            max_new = tf.minimum(max_new_tokens, length - 1)
        else:
            extra = {}
            tokens = tokens[-(length - 1):]  # keep room for at least one new token
            n = tf.shape(tokens)[0]
            prompt_end = ((n + chunk - 1) // chunk) * chunk
            pad = prompt_end - n
            row = tf.pad(tokens, [[pad, buffer - prompt_end]])
            ids, pad = tf.reshape(row, [1, buffer]), tf.reshape(pad, [1])
            max_new = tf.minimum(max_new_tokens, length - n)
        out, lengths = loop(ids, pad, prompt_end, tf.maximum(max_new, 1), params["temperature"],
                            params["top_k"], params["top_p"], params["length_penalty"], params["seed"],
                            stop_ids, extra)
        new = out[0, prompt_end: prompt_end + lengths[0]]
        if stops:
            new = tf.boolean_mask(new, tf.reduce_all(new[:, None] != tf.constant(stops)[None, :], axis=-1))
        return tf.reshape(target_tokenizer.detokenize(new[None, :]), [])

    def generate(prompts, max_new_tokens):
        text = tf.map_fn(lambda p: one(p, max_new_tokens), prompts,
                         fn_output_signature=tf.TensorSpec((), tf.string))
        return {"text": text}

    specs = (tf.TensorSpec((None,), tf.string, name="prompts"), tf.TensorSpec((), tf.int32, name="max_new_tokens"))
    return traced(generate, *specs)


def generate_signatures(info, generate_xla=False):
    """``generate`` (plain graph, attention inline: no nested XLA function) and, with
    ``generate_xla``, the same loop as one XLA computation, as ``zoo.generate`` compiles it
    (the spec of every generating family: GPT, LSTM LM, seq2seq)."""
    with export_mode():
        signatures = {"generate": _generate_signature(info, jit_compile=False)}
    if generate_xla:
        signatures["generate_xla"] = _generate_signature(info, jit_compile=True)
    return signatures


def text_signatures(info, generate_xla=False):
    """{signature name: tf.function traced once} that ``info``'s spec offers (needs a tokenizer)."""
    if info.spec.text_signatures is None:
        return {}
    return resolve(info.spec.text_signatures)(info, generate_xla=generate_xla)


SAMPLE_TEXTS = ["a fine idea", "he nailed a deal"]  # short, and in even a tiny test vocabulary


GENERATE_SIGNATURES = ("generate", "generate_xla")
GENERATE_NEW_TOKENS = 5


def text_cases(info, signature_names):
    """What each text signature in ``signature_names`` is checked on, and what it must give.

    -> {signature: {"inputs": {name: numpy}, "expected": {output: numpy or list of str}}}:
    ``predict_text`` -> the Keras softmax probabilities (and their argmax labels),
    ``embed_text`` -> the Keras backbone outputs, ``generate``/``generate_xla`` ->
    ``zoo.generate``'s greedy text, all on :data:`SAMPLE_TEXTS`. Shared by the
    in-process TF2 check and the TF1 session check (``export.savedmodel.serving_check``).
    """
    cases = {}
    texts = np.asarray(SAMPLE_TEXTS, dtype="S")
    bert = [n for n in ("predict_text", "embed_text") if n in signature_names]
    if bert:
        ids, segments, mask = (t.numpy() for t in tf.function(lambda t: bert_ids(info, t))(tf.constant(texts)))
        reference = info.model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, training=False)
        for name in bert:
            if name == "predict_text":
                probabilities = tf.nn.softmax(tf.cast(reference, tf.float32)).numpy()
                expected = {"probabilities": probabilities, "labels": probabilities.argmax(-1).astype("int32")}
            else:
                expected = {k: np.asarray(v, dtype=np.float32) for k, v in reference.items()}
                expected["padding_mask"] = mask
            cases[name] = {"inputs": {"texts": texts}, "expected": expected}
    generating = [n for n in GENERATE_SIGNATURES if n in signature_names]
    if generating:
        from zoo.generation import generate
        from zoo.model_folder import TextModel

        text_model = TextModel(info.model, info.tokenizer, info.target_tokenizer, info.generation)
        expected = generate(text_model, list(SAMPLE_TEXTS), max_new_tokens=GENERATE_NEW_TOKENS, sampler="greedy")
        for name in generating:
            cases[name] = {"inputs": {"prompts": texts, "max_new_tokens": np.asarray(GENERATE_NEW_TOKENS, np.int32)},
                           "expected": {"text": expected}}
    return cases


def compare_text(name, got, expected, atol=1e-4):
    """One text signature's outputs ``got`` vs :func:`text_cases`' ``expected``: the check record.

    Float outputs within ``atol`` (``max_abs_diff``), integer and text outputs identical.
    """
    if name in GENERATE_SIGNATURES:
        text = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in np.asarray(got["text"]).tolist()]
        return {"passed": text == expected["text"], "savedmodel": text, "keras": expected["text"]}
    diffs, same = {}, True
    for key, reference in expected.items():
        value = np.asarray(got[key])
        if value.shape != reference.shape:
            diffs[key] = float("inf")
        elif reference.dtype.kind == "f":
            diffs[key] = float(np.max(np.abs(value.astype(np.float32) - reference))) if reference.size else 0.0
        else:
            same = same and bool(np.array_equal(value, reference))
    diff = max(diffs.values()) if diffs else 0.0
    return {"max_abs_diff": diff, "outputs": diffs, "passed": bool(same and diff <= atol)}


def check_text_signatures(info, path, atol=1e-4, cases=None):
    """Run each text signature of the SavedModel at ``path`` in this process (TF2
    loader) and compare with the Keras model; -> {signature: {"passed", ...}}.
    ``cases``: :func:`text_cases` when the caller already has them."""
    loaded = tf.saved_model.load(path)
    results = {}
    if cases is None:
        cases = text_cases(info, list(loaded.signatures))
    for name, case in cases.items():
        outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in case["inputs"].items()})
        results[name] = compare_text(name, {k: v.numpy() for k, v in outputs.items()}, case["expected"], atol)
    return results
