"""SavedModel signatures that take text: the tokenizer runs inside the graph.

* BERT classifier ``predict_text``: strings (batch,) -> ``labels`` (batch,)
  int32 and ``probabilities`` (batch, classes).
* BERT backbone ``embed_text``: strings -> ``pooled_output`` (batch, hidden),
  ``sequence_output`` (batch, tokens, hidden) and its ``padding_mask``.
* GPT, LSTM LM and seq2seq ``generate``: strings ``prompts`` (batch,) and
  ``max_new_tokens`` () -> ``text`` (batch,) strings, greedy, through the
  zoo's own XLA-compiled decode loop (``zoo.generation``), stop tokens
  dropped from the text as ``zoo.generate`` does.

The tokenizers are keras-hub layers, whose ops are TensorFlow / tensorflow-text
ops, so the graph needs no Python: a fresh process loads it with
``import tensorflow_text; tf.saved_model.load(path)``.

The decode loop is saved as the XLA-compiled function ``zoo.generate`` uses
(TensorFlow's CPU/GPU runtimes compile it on first call). It needs static shapes; the ``generate`` signature therefore
decodes one prompt at a time (``tf.map_fn``) in a buffer of
``generate_length`` tokens (default: the model's context, at most 256), so
XLA compiles it once per SavedModel load, whatever the prompts.
"""

import numpy as np
import tensorflow as tf

from zoo.layers import export_mode

MAX_GENERATE_LENGTH = 256


def _special_id(tokenizer, token):
    try:
        return int(tokenizer.token_to_id(token))
    except (KeyError, ValueError):
        return None


def _bert_ids(info, texts):
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


def _bert_signatures(info):
    model = info.model
    texts_spec = tf.TensorSpec((None,), tf.string, name="texts")

    if info.family == "bert_classifier":
        def predict_text(texts):
            ids, segments, mask = _bert_ids(info, texts)
            logits = model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, training=False)
            probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
            return {"labels": tf.argmax(probabilities, axis=-1, output_type=tf.int32),
                    "probabilities": probabilities}

        return {"predict_text": tf.function(predict_text).get_concrete_function(texts_spec)}
    if info.family == "bert":
        def embed_text(texts):
            ids, segments, mask = _bert_ids(info, texts)
            outputs = model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, training=False)
            return {"pooled_output": tf.cast(outputs["pooled_output"], tf.float32),
                    "sequence_output": tf.cast(outputs["sequence_output"], tf.float32),
                    "padding_mask": mask}

        return {"embed_text": tf.function(embed_text).get_concrete_function(texts_spec)}
    return {}


def generate_length(info):
    context = info.config.get("max_sequence_length") or MAX_GENERATE_LENGTH
    return int(min(context, MAX_GENERATE_LENGTH))


def _generate_signature(info):
    from zoo import generation
    from zoo.decoders import decoder_for

    model = info.model
    decoder = decoder_for(model)
    loop = generation.compiled_decode_loop(model, decoder, "greedy", 1)
    length = generate_length(info)
    chunk = decoder.prefill_chunk
    stops = list(info.generation.get("stop_token_ids") or [])[: generation.MAX_STOP_TOKENS]
    stop_ids = tf.constant(stops + [-1] * (generation.MAX_STOP_TOKENS - len(stops)), tf.int32)
    seq2seq = info.family == "seq2seq"
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
            row = tf.pad(tokens, [[pad, length - prompt_end]])
            ids, pad = tf.reshape(row, [1, length]), tf.reshape(pad, [1])
            max_new = tf.minimum(max_new_tokens, length - prompt_end)
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
    return {"generate": tf.function(generate).get_concrete_function(*specs)}


def text_signatures(info):
    """{signature name: concrete function} for ``info``'s family (needs a tokenizer)."""
    if info.family.startswith("bert"):
        with export_mode():
            return _bert_signatures(info)
    if info.family in ("gpt", "lstm_lm", "seq2seq"):
        # Not in export mode: the loop is one XLA computation (attention is traced
        # inline inside it anyway), exactly as zoo.generate compiles it.
        return _generate_signature(info)
    return {}


SAMPLE_TEXTS = ["a fine idea", "he nailed a deal"]  # short, and in even a tiny test vocabulary


def check_text_signatures(info, path):
    """Run each text signature of the SavedModel at ``path`` in this process and
    compare with the Keras model; -> {signature: {"passed", ...}}."""
    from export import validate

    loaded = tf.saved_model.load(path)
    results = {}
    texts = tf.constant(SAMPLE_TEXTS)
    for name in ("predict_text", "embed_text"):
        if name not in loaded.signatures:
            continue
        got = {k: v.numpy() for k, v in loaded.signatures[name](texts=texts).items()}
        ids, segments, mask = (t.numpy() for t in tf.function(lambda t: _bert_ids(info, t))(texts))
        reference = info.model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, training=False)
        if name == "predict_text":
            reference = {"probabilities": tf.nn.softmax(tf.cast(reference, tf.float32)).numpy()}
        else:
            reference = {k: np.asarray(v) for k, v in reference.items()}
        diff = max(float(np.max(np.abs(got[k] - reference[k]))) for k in reference)
        results[name] = {"max_abs_diff": diff, "passed": diff <= 1e-4}
    if "generate" in loaded.signatures:
        from zoo.generation import generate
        from zoo.model_folder import TextModel

        max_new = 5
        got = [t.decode("utf-8") for t in
               loaded.signatures["generate"](prompts=texts, max_new_tokens=tf.constant(max_new))["text"].numpy()]
        text_model = TextModel(info.model, info.tokenizer, info.target_tokenizer, info.generation)
        expected = generate(text_model, list(SAMPLE_TEXTS), max_new_tokens=max_new, sampler="greedy")
        results["generate"] = {"passed": got == expected, "savedmodel": got, "keras": expected}
    return results
