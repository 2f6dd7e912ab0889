"""GPT-2 import parity (the minGPT test): a random transformers GPT2LMHeadModel,
saved to a temp folder, imported with zoo.from_huggingface; logits agree and
20 greedy tokens are identical."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="GPT-2 parity needs torch (pip install 'zoo[hf]')")
transformers = pytest.importorskip("transformers", reason="GPT-2 parity needs transformers (pip install 'zoo[hf]')")

import zoo  # noqa: E402
from checkpoint_helpers import max_abs_diff, write_tiny_gpt2  # noqa: E402
from zoo.checkpoints import from_huggingface  # noqa: E402

PROMPT = "the cat sat on the mat, and then"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    reference = write_tiny_gpt2(str(folder))
    model, tokenizer = from_huggingface(str(folder))
    return folder, reference, model, tokenizer


def _torch_logits(reference, ids):
    with torch.no_grad():
        return reference(torch.tensor(ids, dtype=torch.long)).logits.numpy()


def test_imports_a_gpt_with_the_config_sizes(imported):
    _, reference, model, _ = imported
    assert isinstance(model, zoo.Gpt)
    c = model.config
    assert (c.vocabulary_size, c.hidden_dim, c.num_layers, c.num_heads, c.intermediate_dim, c.max_sequence_length) == (
        reference.config.vocab_size, 64, 2, 4, 256, 64)
    assert c.activation == "gelu_tanh" and c.layer_norm_epsilon == reference.config.layer_norm_epsilon


def test_token_ids_match_the_reference_tokenizer(imported):
    folder, _, _, tokenizer = imported
    reference = transformers.GPT2Tokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    for text in (PROMPT, "Hello there, world!", "naïve café 東京", "<|endoftext|>the end"):
        assert np.asarray(tokenizer(text)).tolist() == reference(text)["input_ids"], text


def test_logits_match(imported):
    _, reference, model, tokenizer = imported
    rows = [[int(i) for i in np.asarray(tokenizer(text))] for text in (PROMPT, PROMPT[::-1])]
    length = min(map(len, rows))
    ids = np.array([row[:length] for row in rows], "int32")  # a batch of 2, no padding
    diff = max_abs_diff(model(ids), _torch_logits(reference, ids))
    print(f"GPT-2 logits max abs diff: {diff:.2e}")
    assert diff <= 1e-4


def _torch_greedy(reference, ids, steps=20):
    for _ in range(steps):
        ids = ids + [int(np.argmax(_torch_logits(reference, [ids])[0, -1]))]
    return ids


def test_twenty_greedy_tokens_identical(imported):
    _, reference, model, tokenizer = imported
    zoo_ids = torch_ids = [int(i) for i in np.asarray(tokenizer(PROMPT))]
    # zoo runs one fixed width (one XLA compilation): by causality, the logits at
    # position t do not depend on the placeholder ids after it.
    width = len(zoo_ids) + 20
    worst = 0.0
    for _ in range(20):
        padded = np.zeros((1, width), "int32")
        padded[0, : len(zoo_ids)] = zoo_ids
        zoo_logits = np.asarray(model(padded))[0, len(zoo_ids) - 1]
        torch_logits = _torch_logits(reference, [torch_ids])[0, -1]
        worst = max(worst, max_abs_diff(zoo_logits, torch_logits))
        zoo_ids = zoo_ids + [int(np.argmax(zoo_logits))]
        torch_ids = torch_ids + [int(np.argmax(torch_logits))]
    print(f"GPT-2 greedy: 20 tokens {zoo_ids[-20:]}, last-position logits max abs diff {worst:.2e}")
    assert zoo_ids == torch_ids
    assert worst <= 1e-4


def test_bare_gpt2model_checkpoint(imported, tmp_path):
    """A GPT2Model (no ``transformer.`` prefix, no lm_head) imports the same Gpt."""
    folder, reference, model, tokenizer = imported
    reference.transformer.save_pretrained(str(tmp_path), safe_serialization=True)
    bare, _ = from_huggingface(str(tmp_path), tokenizer=False)
    ids = np.array([[int(i) for i in np.asarray(tokenizer(PROMPT))]], "int32")
    assert max_abs_diff(bare(ids), _torch_logits(reference, ids)) <= 1e-4


def test_zoo_generate_with_kv_cache_matches_reference_greedy(imported):
    """The compiled, cached decode loop on imported weights gives the reference's greedy tokens."""
    generation = pytest.importorskip("zoo.generation", reason="zoo.generation not available")
    _, reference, model, tokenizer = imported
    prompt = [int(i) for i in np.asarray(tokenizer(PROMPT))]
    expected = _torch_greedy(reference, prompt)[len(prompt):]
    assert generation.generate(model, prompt, max_new_tokens=20, sampler="greedy") == expected
