"""Every family: shapes, causality, padding, cached decoding, fit (mixed
precision runs in the harness, ``test_models_harness``)."""

import keras
import numpy as np
import pytest

import zoo
from harness import FAMILIES, TINY, max_abs_diff, tiny_inputs, tiny_model


def logits_of(family, outputs):
    return outputs["sequence_output"] if family == "bert" else outputs


def test_output_shapes(family):
    model = tiny_model(family)
    inputs = tiny_inputs(family, batch=3, length=7)
    outputs = model(inputs)
    if family == "bert":
        assert outputs["sequence_output"].shape == (3, 7, 8)
        assert outputs["pooled_output"].shape == (3, 8)
    elif family == "seq2seq":
        assert outputs.shape == (3, 6, TINY["seq2seq"]["target_vocabulary_size"])
        assert outputs.dtype == "float32"
    else:
        assert outputs.shape == (3, 7, TINY[family]["vocabulary_size"])


@pytest.mark.parametrize("family", ["gpt", "bert", "lstm_lm"])  # seq2seq needs source and target
def test_bare_tensor_input_fills_default_masks(family):
    model = tiny_model(family)
    inputs = tiny_inputs(family)
    assert max_abs_diff(model(inputs["token_ids"]), model(inputs)) == 0.0


def test_gpt_is_causal():
    model = tiny_model("gpt")
    ids = tiny_inputs("gpt", length=8)["token_ids"]
    base = np.asarray(model(ids))
    for t in range(8):
        changed = ids.copy()
        changed[:, t] = (changed[:, t] + 1) % TINY["gpt"]["vocabulary_size"]
        out = np.asarray(model(changed))
        if t:
            assert np.max(np.abs(out[:, :t] - base[:, :t])) == 0.0
        assert np.max(np.abs(out[:, t:] - base[:, t:])) > 0.0


PADDING_CASES = [  # BERT inputs are right-padded only ([CLS] comes first)
    (family, side) for family in FAMILIES for side in ("left", "right") if (family, side) != ("bert", "left")
]


@pytest.mark.parametrize("family, side", PADDING_CASES)
def test_padding_never_changes_real_positions(family, side):
    model = tiny_model(family)
    length, pad = 8, 3
    mask = np.ones((2, length), "int32")
    padded = slice(0, pad) if side == "left" else slice(length - pad, length)
    real = slice(pad, length) if side == "left" else slice(0, length - pad)
    mask[1, padded] = 0
    inputs = tiny_inputs(family, length=length)
    if family == "seq2seq":
        inputs["source_padding_mask"] = mask
        other = dict(inputs, source_ids=inputs["source_ids"].copy())
        other["source_ids"][1, padded] = (other["source_ids"][1, padded] + 5) % 17
        # every target position is real; none may see the padded source tokens
        assert max_abs_diff(model(inputs), model(other)) <= 1e-6
        return
    inputs["padding_mask"] = mask
    other = dict(inputs, token_ids=inputs["token_ids"].copy())
    other["token_ids"][1, padded] = (other["token_ids"][1, padded] + 5) % 7
    a, b = logits_of(family, model(inputs)), logits_of(family, model(other))
    assert np.max(np.abs(np.asarray(a)[1, real] - np.asarray(b)[1, real])) <= 1e-6


def test_gpt_cached_decoding_equals_full_pass():
    model = tiny_model("gpt")
    ids = tiny_inputs("gpt", length=9)["token_ids"]
    full = np.asarray(model(ids))
    cache = model.initial_layer_caches(2)
    logits, _, cache = model.call_with_cache(ids[:, :4], cache, 0)  # prompt in one call
    steps = [np.asarray(logits)]
    for t in range(4, 9):
        logits, _, cache = model.call_with_cache(ids[:, t : t + 1], cache, t)
        steps.append(np.asarray(logits))
    length = TINY["gpt"]["max_sequence_length"]
    assert len(cache) == TINY["gpt"]["num_layers"] and all(c.shape[2] == length for c in cache)
    assert np.max(np.abs(np.concatenate(steps, axis=1) - full)) <= 1e-5


def test_gpt_decoding_with_a_growing_past_equals_full_pass():
    model = tiny_model("gpt")
    ids = tiny_inputs("gpt", length=9)["token_ids"]
    full = np.asarray(model(ids))
    past = model.initial_past(2)
    logits, _, past = model.call_with_past(ids[:, :4], past)  # prompt in one call
    steps = [np.asarray(logits)]
    for t in range(4, 9):
        logits, _, past = model.call_with_past(ids[:, t : t + 1], past)
        steps.append(np.asarray(logits))
    assert all(tuple(keys.shape) == tuple(values.shape) == (2, 2, 9, 4) for keys, values in past)
    assert np.max(np.abs(np.concatenate(steps, axis=1) - full)) <= 1e-5

    rows_pick = np.array([[3], [1]], np.int32)  # each row its own token: logits of those only
    picked, _, _ = model.call_with_past(ids[:, :4], model.initial_past(2), logits_positions=rows_pick)
    assert np.max(np.abs(np.asarray(picked)[:, 0] - full[[0, 1], [3, 1]])) <= 1e-5


def test_seq2seq_decoder_step_equals_teacher_forcing():
    model = tiny_model("seq2seq")
    inputs = tiny_inputs("seq2seq", length=7)
    inputs["source_padding_mask"][1, 5:] = 0
    full = np.asarray(model(inputs))
    encoded, states = model.encode(inputs["source_ids"], inputs["source_padding_mask"])
    steps = []
    for t in range(inputs["target_ids"].shape[1]):
        logits, states, weights = model.decode_step(
            inputs["target_ids"][:, t], states, encoded, inputs["source_padding_mask"]
        )
        steps.append(np.asarray(logits))
    assert np.max(np.abs(np.stack(steps, axis=1) - full)) <= 1e-5


def test_lstm_lm_step_equals_sequence_call():
    model = tiny_model("lstm_lm")
    ids = tiny_inputs("lstm_lm", length=6)["token_ids"]
    full = np.asarray(model(ids))
    states = model.initial_states(2)
    steps = []
    for t in range(6):
        logits, states = model.step(ids[:, t], states)
        steps.append(np.asarray(logits))
    assert np.max(np.abs(np.stack(steps, axis=1) - full)) <= 1e-5


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_seq2seq_attention_sums_to_one_over_real_source(score):
    model = tiny_model("seq2seq", attention=score)
    inputs = tiny_inputs("seq2seq", length=6)
    inputs["source_padding_mask"][0, 4:] = 0
    encoded, states = model.encode(inputs["source_ids"], inputs["source_padding_mask"])
    _, weights = model.decode(inputs["target_ids"], encoded, states, inputs["source_padding_mask"])
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(weights[0, :, 4:] == 0.0)


def _loss_and_labels(family, inputs):
    if family == "bert":
        return "classifier", np.array([0, 1] * (len(inputs["token_ids"]) // 2))
    if family == "seq2seq":
        return None, inputs["target_ids"]
    return None, inputs["token_ids"]


def test_fit_reduces_loss_with_xla(family):
    keras.utils.set_random_seed(0)
    model = tiny_model(family)
    inputs = tiny_inputs(family, batch=8, length=6)
    task, labels = _loss_and_labels(family, inputs)
    if task == "classifier":
        model = zoo.BertClassifier(model, num_classes=2, dropout=0.0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    assert model.jit_compile  # every family compiles with XLA (LSTMs use use_cudnn=False)
    history = model.fit(inputs, labels, batch_size=8, epochs=15, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] - 0.1  # nats


def test_bert_heads():
    backbone = tiny_model("bert")
    inputs = tiny_inputs("bert", batch=2, length=6)
    mlm = zoo.BertMaskedLM(backbone)
    logits = mlm({**inputs, "mask_positions": np.array([[1, 2], [0, 5]])})
    assert logits.shape == (2, 2, TINY["bert"]["vocabulary_size"])
    # tied: the head's output projection is the token embedding matrix
    assert mlm.masked_lm_head.token_embedding is backbone.token_embedding
    assert zoo.BertClassifier(backbone, num_classes=3)(inputs).shape == (2, 3)
    assert zoo.BertTokenClassifier(backbone, num_classes=4)(inputs).shape == (2, 6, 4)


@pytest.mark.parametrize("family", ["gpt", "bert"])
def test_every_weight_starts_different(family):
    """One shared Keras initializer instance returns the same values each call;
    each weight must get its own, or q/k/v start identical and never diverge."""
    model = tiny_model(family)
    attention = model.blocks[0].self_attention
    kernels = [d.kernel.numpy() for d in (attention.query_dense, attention.key_dense, attention.value_dense)]
    assert not np.allclose(kernels[0], kernels[1]) and not np.allclose(kernels[1], kernels[2])
    other = model.blocks[1].self_attention.query_dense.kernel.numpy()
    assert not np.allclose(kernels[0], other)
    ffn = model.blocks[0].feed_forward
    assert not np.allclose(ffn.intermediate_dense.kernel.numpy()[:8, :8], ffn.output_dense.kernel.numpy()[:8, :8])
