"""Peers: what users would otherwise run - keras-hub, Hugging Face transformers (torch), plain Keras / torch LSTMs.

Each peer is built from the zoo model's configuration with random weights
(no download; speed does not depend on the weights), so both sides do the
same work:

* BERT: ``keras_hub.models.BertBackbone`` / ``transformers.BertModel``
  (sequence and pooled outputs, like ``zoo.Bert``);
* GPT: ``keras_hub.models.GPT2CausalLM`` / ``transformers.GPT2LMHeadModel``
  (logits over the vocabulary, like ``zoo.Gpt``); generation: keras-hub's
  ``generate`` (greedy sampler) and transformers' ``generate``
  (``do_sample=False``), both forced to emit exactly ``new_tokens`` tokens.

The LSTM families' peers (``keras-lstm``, ``torch-lstm``) carry the zoo
model's own weights and check parity with it: ``zoo.bench.lstm_peers``.

``load(peer, task, facts)`` has the interface of ``zoo.bench.zoo_runners.load``.
"""

import time

import numpy as np

from zoo.bench import inputs as inputs_lib
from zoo.bench import lstm_peers


# --- keras-hub ----------------------------------------------------------------


def _keras_hub_model(facts):
    import keras_hub

    c, family = facts["config"], facts["family"]
    common = dict(vocabulary_size=c["vocabulary_size"], num_layers=c["num_layers"], num_heads=c["num_heads"],
                  hidden_dim=c["hidden_dim"], intermediate_dim=c["intermediate_dim"], dropout=0.0,
                  max_sequence_length=c["max_sequence_length"])
    if family == "bert":
        return keras_hub.models.BertBackbone(num_segments=c.get("num_segments", 2), **common)
    backbone = keras_hub.models.GPT2Backbone(**common)
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)


def _keras_hub_forward(facts, jit_compile):
    import tensorflow as tf

    start = time.perf_counter()
    model = _keras_hub_model(facts)
    build_seconds = time.perf_counter() - start
    function = tf.function(lambda x: model(x, training=False), jit_compile=jit_compile, reduce_retracing=True)

    def make_call(batch, length, _):
        x = inputs_lib.forward_inputs(facts["family"], facts["config"], batch, length)
        x = {k: tf.constant(v) for k, v in x.items()}

        def call():
            out = function(x)
            return {k: np.asarray(v) for k, v in out.items()} if isinstance(out, dict) else np.asarray(out)
        return call

    return make_call, build_seconds


def _keras_hub_generate(facts, jit_compile):
    start = time.perf_counter()
    causal_lm = _keras_hub_model(facts)
    if jit_compile:
        causal_lm.compile(sampler="greedy", jit_compile=True)
    else:
        causal_lm.compile(sampler="greedy")  # keras-hub's default compilation
    build_seconds = time.perf_counter() - start

    def make_call(batch, length, new_tokens):
        # Without a preprocessor keras-hub takes ids padded to the total length and fills the masked part.
        prompts = inputs_lib.prompts("gpt", facts["config"], batch, length)
        token_ids = np.zeros((batch, length + new_tokens), np.int32)
        token_ids[:, :length] = prompts
        mask = np.zeros(token_ids.shape, bool)
        mask[:, :length] = True
        x = {"token_ids": token_ids, "padding_mask": mask}
        return lambda: np.asarray(causal_lm.generate(x, stop_token_ids=None)["token_ids"])

    return make_call, build_seconds


# --- transformers (torch) -------------------------------------------------------


def _transformers_model(facts):
    import transformers

    c, family = facts["config"], facts["family"]
    if family == "bert":
        config = transformers.BertConfig(
            vocab_size=c["vocabulary_size"], hidden_size=c["hidden_dim"], num_hidden_layers=c["num_layers"],
            num_attention_heads=c["num_heads"], intermediate_size=c["intermediate_dim"],
            max_position_embeddings=c["max_sequence_length"], type_vocab_size=c.get("num_segments", 2),
            hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
            layer_norm_eps=c.get("layer_norm_epsilon", 1e-12))
        model = transformers.BertModel(config)
    else:
        config = transformers.GPT2Config(
            vocab_size=c["vocabulary_size"], n_positions=c["max_sequence_length"], n_embd=c["hidden_dim"],
            n_layer=c["num_layers"], n_head=c["num_heads"], n_inner=c["intermediate_dim"],
            activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
            layer_norm_epsilon=c.get("layer_norm_epsilon", 1e-5), bos_token_id=None, eos_token_id=None)
        model = transformers.GPT2LMHeadModel(config)
    return model.eval()


def _torch_inputs(facts, batch, length):
    import torch

    x = inputs_lib.forward_inputs(facts["family"], facts["config"], batch, length)
    feed = {"input_ids": torch.from_numpy(x["token_ids"].astype(np.int64)),
            "attention_mask": torch.from_numpy(x["padding_mask"].astype(np.int64))}
    if facts["family"] == "bert":
        feed["token_type_ids"] = torch.from_numpy(x["segment_ids"].astype(np.int64))
    return feed


def _transformers_forward(facts):
    import torch

    start = time.perf_counter()
    model = _transformers_model(facts)
    build_seconds = time.perf_counter() - start

    def make_call(batch, length, _):
        feed = _torch_inputs(facts, batch, length)

        def call():
            with torch.inference_mode():
                out = model(**feed)
            return out[0].numpy()
        return call

    return make_call, build_seconds


def _transformers_generate(facts):
    import torch

    start = time.perf_counter()
    model = _transformers_model(facts)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    build_seconds = time.perf_counter() - start

    def make_call(batch, length, new_tokens):
        prompts = torch.from_numpy(inputs_lib.prompts("gpt", facts["config"], batch, length).astype(np.int64))
        mask = torch.ones_like(prompts)

        def call():
            with torch.inference_mode():
                out = model.generate(input_ids=prompts, attention_mask=mask, do_sample=False,
                                     max_new_tokens=new_tokens, min_new_tokens=new_tokens)
            if out.shape[1] != length + new_tokens:
                raise RuntimeError(f"transformers generated {out.shape[1] - length} tokens, expected {new_tokens}.")
            return out.numpy()
        return call

    return make_call, build_seconds


def load(peer, task, facts):
    """(make_call, build_seconds, artifact facts) for a peer; artifact facts are empty (built in memory)."""
    if peer in ("keras-hub", "keras-hub-xla"):
        builder = _keras_hub_generate if task == "generate" else _keras_hub_forward
        make_call, seconds = builder(facts, jit_compile=peer == "keras-hub-xla")
    elif peer == "transformers-torch":
        make_call, seconds = (_transformers_generate if task == "generate" else _transformers_forward)(facts)
    elif peer in lstm_peers.PEERS:  # the zoo's own weights in plain Keras / torch, parity-checked
        return lstm_peers.load(peer, task, facts)
    else:
        raise ValueError(f"{peer!r} is not a peer.")
    return make_call, seconds, {"path": None, "size_bytes": None, "max_abs_diff": None}
