"""zoo.generate: the cached, XLA-compiled loop against plain recomputation, the
samplers against greedy, batching against one-by-one, compile-once buckets,
and the errors for bad input. Tiny models; each compiled loop takes ~1 s."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from harness import TINY, tiny_model
from zoo import generation
from zoo.generation import generate, trace_count
from zoo.samplers import nucleus_mask, top_k_mask

NEW = 6
GPT_PROMPTS = [[3, 1, 4, 1, 5], [9, 2]]  # unequal lengths: left padding
SOURCES = [[5, 3, 8, 1], [2, 7, 7, 9, 4, 6, 3]]


@pytest.fixture(scope="module")
def gpt():
    keras.utils.set_random_seed(1)
    # Larger init than the default 0.02, so greedy picks are not near-ties.
    model = tiny_model("gpt")
    for weight in model.weights:
        if "embeddings" in weight.path:
            weight.assign(np.random.default_rng(0).normal(0, 1.0, weight.shape))
    return model


@pytest.fixture(scope="module")
def seq2seq():
    keras.utils.set_random_seed(2)
    return tiny_model("seq2seq")


@pytest.fixture(scope="module")
def lstm_lm():
    keras.utils.set_random_seed(3)
    return tiny_model("lstm_lm")


# --- references: recompute the full sequence at every step, no cache ----------


def uncached_greedy(model, prompt, steps):
    ids = list(prompt)
    for _ in range(steps):
        logits = model(np.array([ids], np.int32))
        ids.append(int(np.argmax(logits[0, -1])))
    return ids[len(prompt):]


def uncached_greedy_seq2seq(model, source, steps, start):
    target = [start]
    for _ in range(steps):
        logits = model({"source_ids": np.array([source], np.int32),
                        "target_ids": np.array([target], np.int32)})
        target.append(int(np.argmax(logits[0, -1])))
    return target[1:]


# --- cached == uncached, batched == one by one -------------------------------


def test_gpt_cached_greedy_matches_uncached_and_batch_matches_alone(gpt):
    batched = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW)
    for prompt, out in zip(GPT_PROMPTS, batched):
        assert out == uncached_greedy(gpt, prompt, NEW)
        assert out == generate(gpt, prompt, max_new_tokens=NEW)


def test_gpt_prompts_spanning_several_prefill_chunks(gpt):
    """A 21-token prompt next to a 3-token one: the short row's first chunk is all
    padding (its queries see no keys), which must not leak into either row."""
    keras.utils.set_random_seed(4)
    model = tiny_model("gpt", max_sequence_length=32)
    prompts = [list(np.random.default_rng(0).integers(0, 23, 21)), [4, 2, 7]]
    batched = generate(model, prompts, max_new_tokens=4, prefill_chunk=8)
    for prompt, out in zip(prompts, batched):
        assert out == uncached_greedy(model, prompt, 4)


def test_long_prompts_are_read_in_larger_chunks():
    """With no prefill_chunk, longer prompts are read in larger chunks (fewer passes over the
    weights), a large batch of them in smaller ones (less padding); every choice decodes exactly."""
    assert [generation.prefill_chunk_for(n) for n in (1, 32, 33, 192, 193, 900)] == [16, 16, 64, 64, 256, 256]
    assert generation.prefill_chunk_for(200, batch_size=4) == 256
    assert generation.prefill_chunk_for(200, batch_size=32) == 16
    keras.utils.set_random_seed(5)
    model = tiny_model("gpt", max_sequence_length=320)
    rng = np.random.default_rng(1)
    prompts = [list(rng.integers(0, 23, 170)), list(rng.integers(0, 23, 5))]
    batched = generate(model, prompts, max_new_tokens=4)
    for prompt, out in zip(prompts, batched):
        assert out == uncached_greedy(model, prompt, 4)
    assert [key[2] for key in generation.compiled_loops(model)] == [64]  # (sampler, beams, chunk, XLA)
    generate(model, prompts[1:], max_new_tokens=4)
    long_prompt = list(rng.integers(0, 23, 240))
    assert generate(model, long_prompt, max_new_tokens=4) == uncached_greedy(model, long_prompt, 4)
    assert sorted(key[2] for key in generation.compiled_loops(model)) == [16, 64, 256]


def test_seq2seq_cached_greedy_matches_uncached_and_batch_matches_alone(seq2seq):
    batched = generate(seq2seq, SOURCES, max_new_tokens=NEW, start_token_id=1)
    for source, out in zip(SOURCES, batched):
        assert out == uncached_greedy_seq2seq(seq2seq, source, NEW, start=1)
        assert out == generate(seq2seq, source, max_new_tokens=NEW, start_token_id=1)


def test_lstm_lm_cached_greedy_matches_uncached_and_batch_matches_alone(lstm_lm):
    batched = generate(lstm_lm, GPT_PROMPTS, max_new_tokens=NEW)
    for prompt, out in zip(GPT_PROMPTS, batched):
        assert out == uncached_greedy(lstm_lm, prompt, NEW)
        assert out == generate(lstm_lm, prompt, max_new_tokens=NEW)


# --- samplers agree with greedy where they must --------------------------------


def test_beam_width_one_is_greedy(gpt, seq2seq):
    assert generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="beam", num_beams=1) == \
        generate(gpt, GPT_PROMPTS, max_new_tokens=NEW)
    assert generate(seq2seq, SOURCES, max_new_tokens=NEW, sampler="beam", num_beams=1, start_token_id=1) == \
        generate(seq2seq, SOURCES, max_new_tokens=NEW, start_token_id=1)


def test_beam_search_as_wide_as_the_vocabulary_finds_the_best_two_tokens(gpt):
    """Two steps with num_beams = vocabulary size is exhaustive search: the result
    must be the most likely 2-token continuation (length_penalty 0 = raw log-prob)."""
    prompt = GPT_PROMPTS[0]
    vocabulary = TINY["gpt"]["vocabulary_size"]
    beam = generate(gpt, prompt, max_new_tokens=2, sampler="beam", num_beams=vocabulary, length_penalty=0.0)

    first = tf.nn.log_softmax(gpt(np.array([prompt], np.int32))[0, -1]).numpy()
    candidates = np.array([prompt + [t] for t in range(vocabulary)], np.int32)
    second = tf.nn.log_softmax(gpt(candidates)[:, -1]).numpy()  # (V, V)
    total = first[:, None] + second
    best = np.unravel_index(np.argmax(total), total.shape)
    assert beam == [int(best[0]), int(best[1])]


def test_top_k_one_is_greedy(gpt):
    assert generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="top_k", top_k=1, seed=7) == \
        generate(gpt, GPT_PROMPTS, max_new_tokens=NEW)


def test_temperature_to_zero_approaches_greedy(gpt):
    greedy = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW)
    assert generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="temperature",
                    temperature=1e-4, seed=3) == greedy


def test_top_p_tiny_nucleus_is_greedy_and_seed_reproduces(gpt):
    greedy = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW)
    assert generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="top_p", top_p=1e-6, seed=0) == greedy
    first = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="top_p", top_p=1.0, seed=11)
    again = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="top_p", top_p=1.0, seed=11)
    others = [generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, sampler="top_p", top_p=1.0, seed=s)
              for s in (12, 13)]
    assert first == again
    assert any(o != first for o in others)  # the seed matters


def test_top_p_keeps_exactly_the_nucleus():
    # probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 (ids 2, 0, 4, 1, 3)
    probs = np.array([[0.25, 0.0625, 0.5, 0.0625, 0.125]])
    logits = tf.constant(np.log(probs), tf.float32)
    expect = {0.4: {2}, 0.5: {2}, 0.6: {0, 2}, 0.75: {0, 2}, 0.8: {0, 2, 4}, 1.0: {0, 1, 2, 3, 4}}
    for p, kept in expect.items():
        mask = nucleus_mask(logits, tf.constant(p)).numpy()[0]
        assert set(np.flatnonzero(mask)) == kept, p


def test_top_k_mask_keeps_the_k_largest():
    logits = tf.constant([[0.1, 3.0, -1.0, 2.0, 0.5]])
    assert set(np.flatnonzero(top_k_mask(logits, tf.constant(2)).numpy()[0])) == {1, 3}
    assert top_k_mask(logits, tf.constant(99)).numpy().all()  # k past the vocabulary keeps all


# --- stop tokens, outputs ----------------------------------------------------


def test_stop_token_ends_its_row_only(gpt):
    greedy = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW)
    stop = greedy[0][1]
    out = generate(gpt, GPT_PROMPTS, max_new_tokens=NEW, stop_token_ids=[stop])
    assert out[0] == greedy[0][: greedy[0].index(stop) + 1]
    cut = greedy[1].index(stop) + 1 if stop in greedy[1] else NEW
    assert out[1] == greedy[1][:cut]


def test_include_prompt_and_array_inputs(gpt):
    out = generate(gpt, np.array([GPT_PROMPTS[0]]), max_new_tokens=NEW, include_prompt=True)
    assert out[0][: len(GPT_PROMPTS[0])] == GPT_PROMPTS[0]
    assert out[0][len(GPT_PROMPTS[0]):] == generate(gpt, GPT_PROMPTS[0], max_new_tokens=NEW)


# --- compile once per (batch size, length bucket) ------------------------------


def test_a_second_prompt_length_in_the_same_bucket_does_not_retrace(gpt):
    prompts_a = [[1, 2, 3]] * 3  # batch 3: a shape no other test uses
    prompts_b = [[4, 5, 6, 7, 8, 9, 10], [2], [3, 3]]
    before = trace_count()
    generate(gpt, prompts_a, max_new_tokens=4)
    assert trace_count() == before + 1
    generate(gpt, prompts_b, max_new_tokens=5)  # other prompt lengths and max_new_tokens, same bucket
    assert trace_count() == before + 1


# --- bad input -----------------------------------------------------------------

CONTEXT = TINY["gpt"]["max_sequence_length"]


@pytest.mark.parametrize(
    "prompts, kwargs, match",
    [
        ([[]], {}, "Prompt 0 is empty"),
        ([[1, 2], []], {}, "Prompt 1 is empty"),
        ([], {}, "No prompts"),
        ([list(range(1, CONTEXT + 2))], {}, "longer than the model's context"),
        ([[1, 2, 3]], {"max_new_tokens": 0}, "max_new_tokens must be an integer >= 1"),
        ([[1, 2, 3]], {"max_new_tokens": CONTEXT}, r"runs past the model's context.*max_new_tokens <= 13"),
        ([[1, 2, 3]], {"sampler": "nucleus"}, "Valid samplers: greedy, temperature, top_k, top_p, beam"),
        ([[1, 2, 3]], {"sampler": "top_p", "top_p": 0.0}, r"top_p must be in \(0, 1\]"),
        ([[1, 2, 3]], {"sampler": "top_p", "top_p": 1.5}, r"top_p must be in \(0, 1\]"),
        ([[1, 2, 3]], {"sampler": "top_k", "top_k": 0}, "top_k must be an integer >= 1"),
        ([[1, 2, 3]], {"sampler": "temperature", "temperature": 0.0}, "temperature must be > 0"),
        ([[1, 2, 3]], {"sampler": "top_k", "temperature": -1.0}, "temperature must be > 0"),
        ([[1, 2, 3]], {"sampler": "beam", "num_beams": 0}, "num_beams must be an integer >= 1"),
        ([[1, 99]], {}, "outside the vocabulary"),
        ([[1, 2]], {"stop_token_ids": [500]}, "stop_token_ids contains id 500"),
        ([[1, 2]], {"prefill_chunk": 0}, "prefill_chunk must be None .* or an integer >= 1"),
        ([[1, 2]], {"bucket_size": 0}, "bucket_size must be an integer >= 1"),
    ],
)
def test_bad_input_is_a_clear_error(gpt, prompts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(gpt, prompts, **{"max_new_tokens": 2, **kwargs})


def test_strings_without_tokenizer_and_seq2seq_without_start_are_clear_errors(gpt, seq2seq):
    with pytest.raises(TypeError, match="String prompts need a tokenizer"):
        generate(gpt, "hello", max_new_tokens=2)
    with pytest.raises(ValueError, match="needs start_token_id"):
        generate(seq2seq, [[1, 2]], max_new_tokens=2)
    with pytest.raises(TypeError, match="Cannot generate with a Bert"):
        generate(tiny_model("bert"), [[1, 2]], max_new_tokens=2)
