"""zoo -> Hugging Face: zoo.to_huggingface writes config.json + model.safetensors (+ tokenizer
files) that transformers' Auto classes load offline; outputs agree with transformers on torch
on real sentences (<= 1e-4), greedy tokens and tokenizer ids are identical, and
zoo.from_huggingface reads the folder back to the very same weights."""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local
torch = pytest.importorskip("torch", reason="comparing with transformers needs torch (pip install 'zoo[hf]')")
transformers = pytest.importorskip("transformers", reason="loading the folders needs transformers (pip install 'zoo[hf]')")

import zoo  # noqa: E402
from interop_helpers import (  # noqa: E402
    TINY_BERT, TINY_GPT2, bert_vocabulary, gpt2_vocabulary, id_batches, max_abs_diff, seeded, sentences, spread,
    with_segments)
from zoo.cli import main  # noqa: E402

ATOL = 1e-4
AUTO = {
    "Bert": "AutoModel",
    "BertMaskedLM": "AutoModelForMaskedLM",
    "BertClassifier": "AutoModelForSequenceClassification",
    "BertTokenClassifier": "AutoModelForTokenClassification",
    "Gpt": "AutoModelForCausalLM",
}


@pytest.fixture(scope="module")
def bert_tokenizer():
    return zoo.tokenizers.wordpiece_tokenizer(bert_vocabulary(), normalization="bert")


@pytest.fixture(scope="module")
def gpt():
    vocabulary, merges = gpt2_vocabulary()
    seeded(0)
    model = spread(zoo.Gpt(vocabulary_size=len(vocabulary), **TINY_GPT2), scale=0.3)
    return model, zoo.tokenizers.byte_pair_tokenizer(vocabulary, merges)


def _bert_model(kind, vocabulary_size):
    seeded(0)
    backbone = zoo.Bert(vocabulary_size=vocabulary_size, **TINY_BERT)
    model = backbone if kind == "Bert" else (
        zoo.BertMaskedLM(backbone) if kind == "BertMaskedLM" else getattr(zoo, kind)(backbone, num_classes=3))
    return spread(model)


def _bert_batches(tokenizer):
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    return [with_segments(b) for b in id_batches(tokenizer, "rt-polarity.pos", start=cls, end=sep)]


def _torch_outputs(reference, batch):
    with torch.no_grad():
        return reference(input_ids=torch.tensor(batch["token_ids"], dtype=torch.long),
                         attention_mask=torch.tensor(batch["padding_mask"], dtype=torch.long),
                         **({"token_type_ids": torch.tensor(batch["segment_ids"], dtype=torch.long)}
                            if "segment_ids" in batch else {}))


def _load(folder, kind):
    reference, info = getattr(transformers, AUTO[kind]).from_pretrained(str(folder), output_loading_info=True)
    assert not any(info.values()), info  # no missing, unexpected or mismatched weights
    return reference.eval()


def _same_weights(a, b, skip_pooler=False):
    """Bit-identical weights; ``skip_pooler`` for heads whose transformers class has no pooler."""
    assert type(a) is type(b) and len(a.weights) == len(b.weights)
    for x, y in zip(a.weights, b.weights):
        if not (skip_pooler and "pooler" in x.path):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=x.path)


@pytest.mark.parametrize("kind", ["Bert", "BertMaskedLM", "BertClassifier", "BertTokenClassifier"])
def test_bert_folders_load_in_transformers_and_match(kind, bert_tokenizer, tmp_path):
    model = _bert_model(kind, bert_tokenizer.vocabulary_size())
    folder = zoo.to_huggingface(model, tmp_path / "hf", tokenizer=bert_tokenizer)
    reference = _load(folder, kind)
    worst = 0.0
    for batch in _bert_batches(bert_tokenizer):
        real = batch["padding_mask"]
        if kind == "Bert":
            ours, theirs = model(batch), _torch_outputs(reference, batch)
            worst = max(max_abs_diff(ours["sequence_output"], theirs.last_hidden_state.numpy(), real),
                        max_abs_diff(ours["pooled_output"], theirs.pooler_output.numpy()), worst)
        elif kind == "BertMaskedLM":
            positions = np.tile(np.array([[1, 2, 4]], "int32"), (len(real), 1))
            logits = np.take_along_axis(_torch_outputs(reference, batch).logits.numpy(), positions[..., None], axis=1)
            worst = max(worst, max_abs_diff(model({**batch, "mask_positions": positions}), logits))
        else:
            expected = _torch_outputs(reference, batch).logits.numpy()
            worst = max(worst, max_abs_diff(model(batch), expected, real if kind == "BertTokenClassifier" else None))
    print(f"zoo {kind} -> transformers {type(reference).__name__}: max abs diff {worst:.2e}")
    assert worst <= ATOL

    back, tokenizer = zoo.from_huggingface(folder)
    _same_weights(back, model, skip_pooler=kind in ("BertMaskedLM", "BertTokenClassifier"))
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    for text in sentences("rt-polarity.pos", 10) + ["Café NAÏVE résumé\u200b [SEP]"]:
        ours = [int(i) for i in np.asarray(bert_tokenizer(text))]
        assert hf_tokenizer(text, add_special_tokens=False)["input_ids"] == ours, text
        assert np.asarray(tokenizer(text)).tolist() == ours


def test_gpt2_folder_matches_transformers_with_identical_greedy_tokens(gpt, tmp_path):
    model, tokenizer = gpt
    folder = zoo.to_huggingface(model, tmp_path / "hf", tokenizer=tokenizer)
    reference = _load(folder, "Gpt")
    assert reference.config.eos_token_id == tokenizer.token_to_id("<|endoftext|>")
    worst = 0.0
    for batch in id_batches(tokenizer, "tinyshakespeare.txt"):
        worst = max(worst, max_abs_diff(model(batch), _torch_outputs(reference, batch).logits.numpy(),
                                        batch["padding_mask"]))
    print(f"zoo Gpt -> transformers GPT2LMHeadModel: logits max abs diff {worst:.2e}")
    assert worst <= ATOL

    # greedy: zoo at one fixed width (by causality later placeholders do not matter) vs torch
    ours = theirs = [int(i) for i in np.asarray(tokenizer(sentences("tinyshakespeare.txt", 1, offset=3)[0]))][:8]
    width = len(ours) + 20
    for _ in range(20):
        padded = np.zeros((1, width), "int32")
        padded[0, : len(ours)] = ours
        ours = ours + [int(np.argmax(np.asarray(model(padded))[0, len(ours) - 1]))]
        with torch.no_grad():
            theirs = theirs + [int(reference(torch.tensor([theirs])).logits[0, -1].argmax())]
    print(f"greedy, 20 tokens: {ours[-20:]}")
    assert ours == theirs and len(set(ours[-20:])) > 3

    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    for text in sentences("tinyshakespeare.txt", 10) + ["naïve café<|endoftext|>東京"]:
        assert hf_tokenizer(text)["input_ids"] == np.asarray(tokenizer(text)).tolist(), text
    back, _ = zoo.from_huggingface(folder)
    _same_weights(back, model)


def test_zoo_export_formats_huggingface(gpt, tmp_path, capsys):
    model, tokenizer = gpt
    zoo.save_model_folder(tmp_path / "zoo-gpt", model, tokenizer)
    out = tmp_path / "export"
    assert main(["export", str(tmp_path / "zoo-gpt"), "--formats", "huggingface", "--out", str(out)]) == 0
    assert "huggingface" in capsys.readouterr().out
    folder = out / "huggingface" / model.name
    reference = _load(folder, "Gpt")
    batch = id_batches(tokenizer, "tinyshakespeare.txt")[0]
    assert max_abs_diff(model(batch), _torch_outputs(reference, batch).logits.numpy(), batch["padding_mask"]) <= ATOL
    assert (out / "manifest.json").is_file()
